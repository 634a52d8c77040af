#!/usr/bin/perl

# Agent error reports (agent-protocol.md 12) and certificate-less distress
# reports (13) through the shipped nginx configuration: always 200, stored
# under the tenant's RLS when valid, capped, SessionAgeEmergencyBreak ends
# the session at once, each distress drop rule drops, and no serial number
# reaches a log.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use POSIX qw(strftime);

use CC::Test;
use CC::MonitorKit qw(start_monitor_stack registry_reached device_headers
                      agent_request);

my $t = CC::Test->new;
my $contoso = '11111111-1111-4111-8111-111111111111';
my $northwind = 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d';
my $unknown = 'deadbeef-0000-4000-8000-00000000beef';
my $stack = start_monitor_stack($t,
    tenants => [$contoso => 'Contoso', $northwind => 'Northwind'],
    sql => ["INSERT INTO monitor_settings (tenant_id, autopilot_check) VALUES "
          . "('$contoso', false), ('$northwind', false)"]);

ok(registry_reached($t, $stack->{control}, tenants => 2), 'both tenants reached nginx');

my $device = '5d7c1b2a-3e4f-4a5b-8c6d-7e8f9a0b1c2d';
my @cert = $t->device_cert($device, $contoso);
my $session = '3c4d5e6f-7081-4293-a4b5-c6d7e8f90a1b';
my $serial = 'SERIAL-RPT-5V7W2';
my $distress_serial = 'SERIAL-DST-9Q4Z6';
my %device_headers = device_headers(serial => $serial, version => '2.0.1412+abc');
my $json_type = { 'Content-Type' => 'application/json; charset=utf-8' };

sub iso { strftime('%Y-%m-%dT%H:%M:%S.0000000Z', gmtime(time + ($_[0] // 0))) }

sub agent {
    my ($path, %opt) = @_;
    return agent_request($t, $path, cert => $opt{cert} // \@cert,
                         headers => { %device_headers, %$json_type, %{ $opt{headers} // {} } },
                         exists $opt{json} ? (json => $opt{json}) : (body => $opt{body}));
}

sub error_report {
    my (%over) = @_;
    return { SessionId => $session, TenantId => $contoso, ErrorType => 0,
             Message => 'upload failed: 503', HttpStatusCode => 503,
             SequenceNumber => 17, AgentVersion => '2.0.1412+abc',
             Timestamp => iso(), %over };
}

sub errors { $t->sql("SELECT count(*) FROM agent_errors") }

sub received_ok {
    my ($r, $what) = @_;
    is($r->{status}, 200, "$what: 200");
    is($r->{json}{success}, JSON::PP::true(), "... with the same JSON body as an accepted report");
}

# --- error reports ---------------------------------------------------------

my $r = agent('/api/agent/register-session', json => { Registration => {
    SessionId => $session, TenantId => $contoso, SerialNumber => $serial,
    StartedAt => iso(-3600), AgentVersion => '2.0.1412+abc' } });
is($r->{status}, 200, 'the session is registered');

$r = agent('/api/agent/error', json => error_report());
received_ok($r, 'an error report is answered');
is($t->sql("SELECT tenant_id || ' ' || device_id || ' ' || session_id || ' ' || error_type"
         . " || ' ' || http_status || ' ' || sequence_number || ' ' || message FROM agent_errors"),
   "$contoso $device $session 0 503 17 upload failed: 503",
   '... and stored under the certificate\'s tenant and device');
ok($t->sql("SELECT reported_at IS NOT NULL AND received_at IS NOT NULL FROM agent_errors") eq 't',
   '... with when it was reported and received');
is($t->sql_as_app($northwind, "SELECT count(*) FROM agent_errors"), 0,
   "another tenant does not see it (RLS)");
is($t->sql_as_app($contoso, "SELECT count(*) FROM agent_errors"), 1, 'its own tenant does');

$r = agent('/api/agent/error', json => error_report(Message => 'x' x 5000));
received_ok($r, 'a long message');
is($t->sql("SELECT max(length(message)) FROM agent_errors"), 1000, '... is stored truncated');

for my $bad (['{"SessionId":', 'malformed JSON'],
             ['[]', 'a JSON array'],
             [CC::Test::json_encode(error_report(SessionId => 'nope')), 'a session id that is not a GUID'],
             [CC::Test::json_encode(error_report(ErrorType => 'four')), 'an ErrorType that is not a number'],
             [CC::Test::json_encode(error_report(TenantId => $northwind)), 'another tenant in the body']) {
    my $before = errors();
    $r = agent('/api/agent/error', body => $bad->[0]);
    received_ok($r, "an error report with $bad->[1]");
    is(errors(), $before, '... stores nothing');
}
my $before = errors();
$r = agent('/api/agent/error', headers => { 'Content-Type' => 'text/plain' }, body => 'hello');
received_ok($r, 'an error report that is not JSON at all');
is(errors(), $before, '... stores nothing');

$r = agent('/api/agent/error', json => error_report(ErrorType => 4,
           Message => 'session older than its maximum age'));
received_ok($r, 'a SessionAgeEmergencyBreak report');
is($t->sql("SELECT status || ' ' || outcome || ' ' || (completed_at IS NOT NULL) "
         . "FROM enrollment_sessions WHERE session_id = '$session'"),
   'Failed SessionAgeEmergencyBreak true', '... ends the session at once as Failed');

my $other_session = '4d5e6f70-8192-43a4-b5c6-d7e8f90a1b2c';
my $nw_device = '6e8d2c3b-4f50-4b6c-9d7e-8f9a0b1c2d3f';
my @nw_cert = $t->device_cert($nw_device, $northwind);
$r = agent('/api/agent/register-session', cert => \@nw_cert, json => { Registration => {
    SessionId => $other_session, TenantId => $northwind, StartedAt => iso(-60) } });
is($r->{status}, 200, "another tenant's device registers a session");
$t->sql("UPDATE enrollment_sessions SET status = 'Succeeded', outcome = 'Succeeded' "
      . "WHERE session_id = '$session'");
$r = agent('/api/agent/error', json => error_report(ErrorType => 4, SessionId => $other_session));
received_ok($r, "an emergency break naming another tenant's session");
is($t->sql("SELECT status FROM enrollment_sessions WHERE session_id = '$other_session'"),
   'InProgress', '... does not touch it');
$r = agent('/api/agent/error', json => error_report(ErrorType => 4));
is($t->sql("SELECT status || ' ' || outcome FROM enrollment_sessions WHERE session_id = '$session'"),
   'Succeeded Succeeded', 'an emergency break leaves a session that already ended alone');

$t->sql("DELETE FROM agent_errors");
agent('/api/agent/error', json => error_report(SequenceNumber => $_)) for 1 .. 22;
is(errors(), 20, 'a session keeps at most 20 error reports');
$r = agent('/api/agent/error', json => error_report());
is($r->{status}, 200, '... and the report over the cap is still answered 200');

$r = $t->https(POST => '/api/agent/error', port => 'agent', headers => $json_type,
               json => error_report());
is($r->{status}, 401, 'an error report without a device certificate is refused by the device check');

# --- distress reports ------------------------------------------------------

sub distress_report {
    my (%over) = @_;
    return { TenantId => $contoso, ErrorType => 2, Manufacturer => 'Contoso Hardware',
             Model => 'Laptop 7', SerialNumber => $distress_serial,
             AgentVersion => '2.0.1412+abc', HttpStatusCode => 403,
             Message => 'certificate rejected', Timestamp => iso(),
             IsCloudPc => JSON::PP::false(), CertSourceState => 2,
             CertThumbprint => 'A1B2C3', CertSubject => 'CN=x', CertIssuer => 'CN=y',
             CertNotBefore => iso(-86400), CertNotAfter => iso(86400 * 300), %over };
}

# nginx limits distress reports per address (10 a minute), so each one
# here comes from an address of its own on the loopback network.
my $address = 1;
sub distress {
    my ($body, %h) = @_;
    require Mojo::UserAgent;
    $address++;
    my $ua = Mojo::UserAgent->new(ca => $t->certs . '/ca.pem', inactivity_timeout => 20,
                                  socket_options => { LocalAddr => "127.0.0.$address" });
    my $tx = $ua->build_tx(POST => 'https://127.0.0.1:' . $t->port('agent') . '/api/agent/distress',
                           { 'X-Tenant-Id' => $contoso,
                             'User-Agent' => 'AutopilotMonitor.Agent/2.0.1412',
                             %$json_type, %h },
                           ref $body ? (json => $body) : ($body));
    $tx = $ua->start($tx);
    return { status => $tx->res->code // 0, body => $tx->res->body,
             json => CC::Test::json_decode($tx->res->body) };
}

sub distresses { $t->sql("SELECT count(*) FROM distress_reports") }

$r = distress(distress_report());
received_ok($r, 'a distress report without a certificate is answered');
is($t->sql("SELECT tenant_id || ' ' || error_type || ' ' || serial_number || ' ' || http_status"
         . " || ' ' || cert_source_state || ' ' || is_cloud_pc FROM distress_reports"),
   "$contoso 2 $distress_serial 403 2 false", '... and stored with what it says');
is($t->sql_as_app($northwind, "SELECT count(*) FROM distress_reports"), 0,
   'another tenant does not see it (RLS)');

my $pad = 'p' x 1600;
my @drops = (
    [ distress_report(Message => $pad), {}, 'over 1536 bytes' ],
    [ distress_report(Message => 'p' x 20000), {}, 'over nginx\'s 16k body limit' ],
    [ distress_report(TenantId => 'contoso'), { 'X-Tenant-Id' => 'contoso' }, 'a tenant that is not a GUID' ],
    [ distress_report(TenantId => $unknown), { 'X-Tenant-Id' => $unknown }, 'an unknown tenant' ],
    [ distress_report(TenantId => $northwind), {}, 'a body tenant other than X-Tenant-Id' ],
    [ distress_report(ErrorType => 9), {}, 'ErrorType 9 (undefined)' ],
    [ distress_report(ErrorType => -1), {}, 'ErrorType -1' ],
    [ distress_report(ErrorType => '2'), {}, 'ErrorType as a string' ],
    [ distress_report(Timestamp => iso(-25 * 3600)), {}, 'a Timestamp 25 h old' ],
    [ distress_report(Timestamp => iso(10 * 60)), {}, 'a Timestamp 10 min ahead' ],
    [ distress_report(Timestamp => 'yesterday'), {}, 'a Timestamp that is not one' ],
    [ '{"TenantId":', {}, 'malformed JSON' ],
);
for my $d (@drops) {
    my $n = distresses();
    $r = distress($d->[0], %{ $d->[1] });
    received_ok($r, "a distress report with $d->[2]");
    is(distresses(), $n, '... is dropped');
}
my $n = distresses();
$r = distress(distress_report(Timestamp => iso(-23 * 3600)));
is(distresses(), $n + 1, 'a Timestamp 23 h old is still within the window');
$r = distress(distress_report(TenantId => undef));
is(distresses(), $n + 2, 'the tenant may come from X-Tenant-Id alone');

$t->sql("INSERT INTO distress_reports (tenant_id, error_type, reported_at) "
      . "SELECT '$contoso', 0, now() FROM generate_series(1, 30 - " . distresses() . ")");
$n = distresses();
$r = distress(distress_report());
received_ok($r, 'a distress report over the tenant\'s hourly cap');
is(distresses(), $n, '... is dropped');
$t->sql("UPDATE distress_reports SET received_at = now() - interval '2 hours'");
distress(distress_report());
is(distresses(), $n + 1, 'an hour later the tenant may store again');

# --- logs ------------------------------------------------------------------

my @logs = glob($t->dir . '/logs/*.log');
ok(scalar @logs >= 2, 'the logs of nginx and the workers are there to read');
my @leaks = map { my $f = $_; open my $l, '<', $f or die $!;
                  grep { /\Q$serial\E|\Q$distress_serial\E|certificate rejected/ } <$l> } @logs;
is(scalar @leaks, 0, 'no serial number or report text in any log');
ok(scalar $t->grep_log('cc-ingest', qr/distress report stored/),
   '... which the grep would find (stored reports are logged)');

$t->done_testing;
