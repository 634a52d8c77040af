#!/usr/bin/perl

# With CC_LOG_PII off (the default), no serial number, device name, UPN or
# e-mail address that devices send reaches any log (nginx, workers,
# PostgreSQL, Azurite): a full run of
# tools/agent-sim (distress, config, registration, telemetry with every
# batch resent, upload-url, error reports) and the refusals a device can
# provoke (another tenant, malformed bodies, no certificate, junk in the
# query string), then every log of the test directory is searched for
# every value the devices sent.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use IO::Compress::Gzip qw(gzip $GzipError);

use CC::Test;
use CC::MonitorKit qw(start_monitor_stack registry_reached);

my $t = CC::Test->new;
my $sim_bin = $t->build . '/agent-sim';
plan skip_all => "no $sim_bin (make BUILD=... agent-sim)" unless -x $sim_bin;
delete $ENV{CC_LOG_PII};

my $tenant = '11111111-1111-4111-8111-111111111111';
my $other = '22222222-2222-4222-8222-222222222222';
my $stack = start_monitor_stack($t, sim_dir => 'azure',
    # Blob storage, so that upload-url answers with a URL (the harness
    # hands Azurite's endpoint and key to the workers).
    azurite => 1,
    tenants => [$tenant => 'Contoso', $other => 'Fabrikam'],
    # debug: the most a worker ever writes
    workers => [['ingest', env => { CC_LOG_LEVEL => 'debug' }]]);
my $conf = $stack->{conf};

ok(registry_reached($t, $stack->{control}, tenants => 2), 'the tenants reached nginx');

# --- the shipped access_log format ------------------------------------------

my ($format) = $conf =~ /log_format\s+concierge\s+escape=json\s+(.*?);/s;
ok($format, 'the shipped configuration has its own access log format');
my @vars = ($format // '') =~ /\$(\w+)/g;
is_deeply([ grep { /^(request|request_uri|args|arg_\w+|query_string|http_\w+|remote_user|remote_addr|ssl_client_\w+|request_body)$/ } @vars ],
          [], '... which writes no query string, header, address, certificate or body');
like($conf, qr/access_log\s+\S+\s+concierge;/, '... and is the one access_log uses');

# --- a full run of simulated devices -----------------------------------------

my $report_file = $t->dir . '/sim.json';
my @cmd = ($sim_bin, '--url', 'https://localhost:' . $t->port('agent'),
           '--ca', $t->certs . '/ca.pem', '--certs', $t->certs,
           '--dev-certs', $t->top . '/tools/dev-certs', '--tenant', $tenant,
           '--devices', 3, '--scenarios', 'success,failure,stall', '--apps', 2,
           '--batch', 25, '--seed', 11, '--resend', '--distress',
           '--diagnostics', '--error-report', '--retry-scale', '0.01',
           '--report', $report_file);
my $out = qx{@{[ join ' ', map { CC::Stack::_shq($_) } @cmd ]} 2>&1};
is($? >> 8, 0, 'agent-sim enrolls three devices') or diag($out);
open my $rf, '<', $report_file or die "$report_file: $!";
my $report = CC::Test::json_decode(do { local $/; <$rf> }) // {};
my @devices = @{ $report->{devices} // [] };
is(scalar @devices, 3, '... and reports what each sent');
my @sessions = map { @{ $_->{sessions} } } @devices;
is(scalar(grep { $_->{register_status} == 200 && $_->{complete} } @sessions), 3,
   '... which registered their sessions and delivered all their telemetry');
is(scalar(grep { $_->{upload_url_status} == 200 } @sessions), 3,
   '... then were given diagnostics upload URLs');
is(scalar(grep { $_->{error_status} == 200 } @sessions), 3,
   '... and sent error reports');
is(scalar(grep { $_->{distress_status} == 200 } @devices), 3,
   '... after a distress report each');

# --- refusals a device can provoke --------------------------------------------

my $d = $devices[0];
my @cert = ($t->certs . "/devices/$d->{device_id}.pem",
            $t->certs . "/devices/$d->{device_id}.key");
my %headers = ('X-Device-Manufacturer' => $d->{manufacturer},
               'X-Device-Model' => $d->{model},
               'X-Device-SerialNumber' => $d->{serial});
my $registration = { Registration => {
    SessionId => '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d', TenantId => $other,
    SerialNumber => $d->{serial}, DeviceName => $d->{device_name},
    Manufacturer => $d->{manufacturer}, Model => $d->{model} } };

my $r = $t->https(POST => '/api/agent/register-session', port => 'agent',
                  cert => \@cert, headers => \%headers, json => $registration);
is($r->{status}, 403, 'a registration naming another tenant is refused');
$r = $t->https(POST => '/api/agent/register-session', port => 'agent',
               cert => \@cert, headers => \%headers,
               json => { Registration => { %{ $registration->{Registration} },
                                           TenantId => $tenant, SessionId => $d->{upn} } });
is($r->{status}, 400, 'a registration whose session id is a UPN is refused');
$r = $t->https(POST => '/api/agent/telemetry', port => 'agent', cert => \@cert,
               headers => { %headers, 'Content-Type' => 'application/json' },
               body => qq{[{"Kind":"Event","PartitionKey":"$d->{email}","PayloadJson":"$d->{device_name}"}]});
is($r->{status}, 400, 'a batch with an e-mail address for a PartitionKey is refused');
$r = $t->https(POST => '/api/agent/telemetry', port => 'agent', cert => \@cert,
               headers => { %headers, 'Content-Type' => 'application/json' },
               body => qq|[{"Kind":"Event","PayloadJson":"$d->{serial} $d->{upn}"|);
is($r->{status}, 400, 'malformed JSON holding a serial number and a UPN is refused');
my $gz;
gzip(\"not json $d->{device_name} $d->{email}" => \$gz) or die $GzipError;
$r = $t->https(POST => '/api/agent/telemetry', port => 'agent', cert => \@cert,
               headers => { %headers, 'Content-Type' => 'application/json',
                            'Content-Encoding' => 'gzip' }, body => $gz);
is($r->{status}, 400, 'gzip that does not hold JSON is refused');
$r = $t->https(POST => '/api/agent/telemetry', port => 'agent',
               headers => { %headers, 'Content-Type' => 'application/json' },
               body => '[]');
is($r->{status}, 401, 'a batch without a certificate is refused');
$r = $t->https(GET => "/api/agent/config?tenantId=$tenant&upn=$d->{upn}&serial=$d->{serial}",
               port => 'agent', cert => \@cert, headers => \%headers);
ok($r->{status} > 0, 'a configuration request with personal data in its query string is answered');

# Not what an agent sends (its query strings carry only tenantId), but what
# anyone holding a device certificate could: a query string on a request
# whose body nginx buffers to a file.
my $probe = 'query.probe@contoso-sim.example';
$r = $t->https(POST => "/api/agent/telemetry?upn=$probe", port => 'agent',
               cert => \@cert,
               headers => { %headers, 'Content-Type' => 'application/json' },
               body => '[' . ('{"Kind":"Padding"},' x 4000) . '{}]');
ok($r->{status} > 0, 'a large batch with a UPN in its query string is answered');

# --- the logs ------------------------------------------------------------------

# Stopping flushes what nginx and the workers buffered.
$t->stop($_) for qw(nginx cc-ingest cc-worker);

my @logs = grep { -f } glob($t->dir . '/logs/*');
ok(scalar @logs >= 4, 'nginx, the workers and PostgreSQL left logs to read ('
                      . scalar(@logs) . ')');

sub where_found {
    my (@values) = @_;
    my @hits;
    for my $log (@logs) {
        open my $l, '<', $log or next;
        while (my $line = <$l>) {
            for my $v (@values) {
                push @hits, ($log =~ s{.*/}{}r) . ":$." if index($line, $v) >= 0;
            }
        }
    }
    return @hits;
}

for my $kind (qw(serial device_name upn email)) {
    my @values = map { $_->{$kind} } @devices;
    is_deeply([ where_found(@values) ], [], "no $kind of any device in any log");
}
is_deeply([ where_found(map { "$_->{upn}" =~ s/@.*//r } @devices) ], [],
          '... nor the user part of a UPN');

# nginx's error log quotes the request line, query string included, in its
# own messages, e.g. "a client request body is buffered to a temporary
# file".  The agents' server keeps bodies in memory (client_body_buffer_size
# in conf/nginx.conf.in), so that warning is never written.
is_deeply([ where_found($probe) ], [], 'no query string reaches a log');

# The searches above can find what they look for: the devices' ids are
# logged (they are not personal data), and their personal data reached the
# database, so it was sent.
is(scalar(grep { my $id = $_->{device_id}; where_found($id) } @devices), 3,
   "the logs do name every device by its id (what the search would find)");
is($t->sql("SELECT count(*) FROM devices WHERE serial_number IN ("
           . join(',', map { "'$_->{serial}'" } @devices) . ")"), 3,
   'every serial number was received and stored');
is($t->sql("SELECT count(DISTINCT data ->> 'userPrincipalName') FROM events "
           . "WHERE data ->> 'userPrincipalName' IN ("
           . join(',', map { "'$_->{upn}'" } @devices) . ")"), 3,
   'every UPN was received and stored');

$t->done_testing;
