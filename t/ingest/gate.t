#!/usr/bin/perl

# The device checks of agent admission after nginx's (agent-protocol.md 3
# steps 7-8): the tenant's hardware allow-list, then the device's Windows
# Autopilot registration, asked of the simulated Microsoft Graph with the
# platform app's client-credentials token.  Through the shipped nginx with
# device certificates, so the statuses are the ones the agent sees.

use strict;
use warnings;

use FindBin;
use Time::HiRes qw(time);
use lib "$FindBin::Bin/../lib";
use Test::More;
use POSIX ();

use CC::Test;
use CC::AzureSim;
use CC::MonitorKit qw(add_tenants start_registry_sync start_shipped_nginx
                      registry_reached);

my $t = CC::Test->new;
my $sim = CC::AzureSim->start(dir => $t->dir . '/sim', certs => $t->certs, demo => 1);

# The demo world: Contoso owns the platform app and Autopilot devices
# CT000001..CT000006; Fabrikam consented to the app (FB000001..); the
# simulator has never heard of Northwind.
my $contoso = '11111111-1111-4111-8111-111111111111';
my $fabrikam = '22222222-2222-4222-8222-222222222222';
my $northwind = 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d';
my $app_id = '33333333-3333-4333-8333-333333333333';
my $secret = 'demo-platform~secret.0001';

$t->start_pg;
add_tenants($t, $contoso => 'Contoso', $fabrikam => 'Fabrikam', $northwind => 'Northwind');

my $secret_file = $t->dir . '/client-secret';
open my $sf, '>', $secret_file or die $!;
print $sf "$secret\n";
close $sf;

my $control = start_registry_sync($t, $sim);
$t->start_worker('ingest', env => {
    CC_AUTOPILOT_CHECK    => 'on',
    CC_LOGIN_URL          => $sim->url,
    CC_GRAPH_URL          => $sim->url,
    CC_CA_FILE            => $t->certs . '/ca.pem',
    CC_CLIENT_ID          => $app_id,
    CC_CLIENT_SECRET_FILE => $secret_file,
    CC_GRAPH_TIMEOUT_MS   => 1000,
    # Settings are cached for this long (CC_SETTINGS_CACHE_MS, 2000 by
    # default); each change below waits for it to reach the gate.
    CC_SETTINGS_CACHE_MS  => 500,
});

start_shipped_nginx($t);
ok(registry_reached($t, $control, tenants => 3), 'the three tenants reached nginx');

my %cert = (
    $contoso   => [ $t->device_cert('9a0b1c2d-3e4f-4051-9627-38495a6b7c8d', $contoso) ],
    $fabrikam  => [ $t->device_cert('ab1c2d3e-4f50-4162-8738-495a6b7c8d9e', $fabrikam) ],
    $northwind => [ $t->device_cert('bc2d3e4f-5061-4273-9849-5a6b7c8d9eaf', $northwind) ],
);
my %session = ($contoso   => '3c4d5e6f-7081-4293-a4b5-c6d7e8f90a1b',
               $fabrikam  => '4d5e6f70-8192-43a4-b5c6-d7e8f90a1b2c',
               $northwind => '5e6f7081-92a3-44b5-86d7-e8f90a1b2c3d');

# register-session as the agent sends it: SERIAL goes in X-Device-
# SerialNumber; headers given as undef are left out.
sub register {
    my ($serial, %opt) = @_;
    my $tenant = $opt{tenant} // $contoso;
    my %h = ('X-Device-Manufacturer' => 'Dell Inc.', 'X-Device-Model' => 'Latitude 7440',
             'X-Device-SerialNumber' => $serial, %{ $opt{headers} // {} });
    delete @h{ grep { !defined $h{$_} } keys %h };
    return $t->https(POST => $opt{path} // '/api/agent/register-session', port => 'agent',
                     cert => $cert{$tenant}, headers => \%h,
                     json => { Registration => {
                         SessionId => $session{$tenant}, TenantId => $tenant,
                         Manufacturer => 'Dell Inc.', Model => 'Latitude 7440',
                         StartedAt => '2026-11-23T08:00:00.0000000Z',
                         AgentVersion => '2.0.1412+abc', ValidatedBy => 0 } });
}

# How many Autopilot queries (and token requests) the simulator has seen.
sub graph_lookups {
    my $log = $sim->admin(GET => '/admin/requests');
    return scalar grep { ($_->{path} // '') =~ /windowsAutopilotDeviceIdentities/ } @$log;
}
sub token_requests {
    my ($tenant) = @_;
    my $log = $sim->admin(GET => '/admin/requests');
    my $prefix = defined $tenant ? "/$tenant/" : '/';
    return scalar grep { my $p = $_->{path} // '';
                         index($p, $prefix) == 0 && $p =~ m{/oauth2/v2\.0/token$} } @$log;
}

sub fault { $sim->admin(POST => '/admin/faults', { service => 'graph', path => '^/v1.0/deviceManagement/', @_ }) }

# --- Autopilot: registered, not registered -------------------------------

my $r = register('CT000001');
is($r->{status}, 200, 'a registered Autopilot device is admitted');
is($r->{json}{validatedBy}, 1, '... and its session is validated by AutopilotV1');
is(token_requests(), 1, '... with one app-only token fetched for the tenant');
is(graph_lookups(), 1, '... and one Graph lookup');

$r = register('CT000001');
is($r->{status}, 200, 'the same device again is admitted');
is(graph_lookups(), 1, '... from the cache, without asking Graph again');

fault(status => 500);
$r = register('CT000001');
is($r->{status}, 200, 'a cached device is admitted even while Graph fails');
$sim->admin(DELETE => '/admin/faults');

$r = register('ct000002');
is($r->{status}, 200, 'the serial matches without regard to case');
is(token_requests(), 1, 'the tenant\'s token is reused for the next lookup');

$r = register('NOPE0001');
is($r->{status}, 403, 'an unregistered device is refused with 403');
is($r->{json}{success}, JSON::PP::false(), '... in JSON the agent reads as a verdict');
is($r->{json}{error}{code}, 'device_not_registered', '... with a stable code');
unlike($r->{body}, qr/NOPE0001/, '... that does not quote the serial number');

my $before = graph_lookups();
$sim->admin(POST => "/admin/tenants/$contoso/autopilot-devices",
            { serialNumber => 'NOPE0001', manufacturer => 'Dell Inc.', model => 'Latitude 7440' });
$r = register('NOPE0001');
is($r->{status}, 403, 'a refusal is cached: registering the device in Intune changes nothing at once');
is(graph_lookups(), $before, '... since Graph is not asked again within 5 minutes');

$r = register('CT00000');
is($r->{status}, 403, 'a serial that contains() finds only inside longer serials is refused');

$r = register('CT000003', headers => { 'X-Device-SerialNumber' => undef });
is($r->{status}, 403, 'a request without X-Device-SerialNumber is refused with 403');
is($r->{json}{error}{code}, 'device_serial_missing', '... saying what is missing');

$r = register('NOPE0002', path => '/api/agent/telemetry');
is($r->{status}, 403, 'telemetry of an unregistered device is refused too');

# --- transient failures: 503, Retry-After 30, never cached -----------------

for my $case ([ 'a Graph 500', status => 500 ],
              [ 'a Graph 429', status => 429, retry_after => 2 ],
              [ 'a Graph timeout', delay_ms => 2500 ]) {
    my ($what, @fault) = @$case;
    my $serial = { 'a Graph 500' => 'CT000003', 'a Graph 429' => 'CT000004',
                   'a Graph timeout' => 'CT000005' }->{$what};
    fault(@fault, count => 1);
    $r = register($serial);
    is($r->{status}, 503, "$what gives 503");
    is($r->{headers}{'retry-after'}, '30', '... with Retry-After: 30');
    is($r->{json}{error}{code}, 'device_lookup_unavailable', '... and a JSON body');
    $r = register($serial);
    is($r->{status}, 200, '... and is not cached: the next request passes');
}

# A token endpoint failure in a tenant without a cached token.
$sim->admin(POST => '/admin/faults', { service => 'entra', path => '/oauth2/v2.0/token$',
                                       status => 503, count => 1 });
$r = register('FB000001', tenant => $fabrikam);
is($r->{status}, 503, 'a token endpoint 503 gives 503');
is($r->{headers}{'retry-after'}, '30', '... with Retry-After: 30');
$r = register('FB000001', tenant => $fabrikam);
is($r->{status}, 200, '... and the next request, with a token, passes');

# --- a credential or consent problem: 503, logged once, in /healthz --------

$r = register('NW000001', tenant => $northwind);
is($r->{status}, 503, 'a tenant where the app gets no token answers 503 (the agent retries)');
$r = register('NW000001', tenant => $northwind);
is($r->{status}, 503, '... every time');
is(token_requests($northwind), 1, '... while the refusal is remembered, not asked again');
my @refusals = $t->grep_log('cc-ingest', qr/autopilot lookup refused/);
is(scalar @refusals, 1, '... logged once at error level');
like($refusals[0] // '', qr/"level":"error".*"aadsts":90002|"aadsts":90002.*"level":"error"/,
     '... with the AADSTS code');
unlike($refusals[0] // '', qr/\Q$secret\E/, '... and without the secret');
my $health = $t->worker_request('cc-ingest', 'GET', '/healthz');
is($health->{json}{autopilot}{lastFailure}{aadsts}, 90002, '/healthz shows the last Graph failure');
is($health->{json}{autopilot}{lastFailure}{tenant}, $northwind, '... and its tenant');
ok($health->{json}{autopilot}{lastSuccessAt}, '... besides the last success');

# --- paging ---------------------------------------------------------------

$sim->admin(PUT => '/admin/settings', { graph_page_size => 1 });
for my $s ('PAGE-10', 'PAGE-100', 'PAGE-1') {
    $sim->admin(POST => "/admin/tenants/$contoso/autopilot-devices", { serialNumber => $s });
}
$before = graph_lookups();
$r = register('PAGE-1');
is($r->{status}, 200, 'an exact match on the third page of near matches is found');
is(graph_lookups() - $before, 3, '... by following @odata.nextLink');
$sim->admin(PUT => '/admin/settings', { graph_page_size => 100 });

# True once probe holds, tried until the settings cache (500 ms here) has
# certainly let a change through.
sub settings_reached {
    my ($probe) = @_;
    my $t0 = time;
    my $ok = $t->eventually($probe, 3);
    diag(sprintf 'a settings change took %.2f s to reach the gate', time - $t0) unless $ok;
    return $ok && time - $t0 < 2;
}

# --- hardware allow-list ---------------------------------------------------

$r = register('CT000001', headers => { 'X-Device-Manufacturer' => 'HP', 'X-Device-Model' => 'EliteBook' });
is($r->{status}, 200, 'with the allow-list off any hardware is admitted');

$t->sql("INSERT INTO monitor_settings (tenant_id, hardware_check) VALUES ('$contoso', true)");
$t->sql("INSERT INTO hardware_allowlist (tenant_id, manufacturer, model) VALUES "
      . "('$contoso', 'dell*', 'Latitude ?4?0'), ('$contoso', 'Microsoft Corporation', 'Surface*')");
ok(settings_reached(sub { register('CT000001', headers => { 'X-Device-Manufacturer' => 'HP',
                                                           'X-Device-Model' => 'EliteBook' })
                          ->{status} == 403 }),
   'switching the allow-list on reaches the gate in under two seconds (a 500 ms cache)');

$r = register('CT000001', headers => { 'X-Device-Manufacturer' => 'DELL INC.' });
is($r->{status}, 200, 'with the allow-list on, matching hardware is admitted (wildcards, any case)');
$r = register('CT000001', headers => { 'X-Device-Manufacturer' => 'Microsoft Corporation',
                                       'X-Device-Model' => 'Surface Laptop 5' });
is($r->{status}, 200, '... by any row of the list');
$r = register('CT000001', headers => { 'X-Device-Model' => 'Latitude 7440 2-in-1' });
is($r->{status}, 403, 'hardware not on the list is refused with 403');
is($r->{json}{error}{code}, 'hardware_not_allowed', '... with a stable code');
$r = register('CT000001', headers => { 'X-Device-Manufacturer' => 'Microsoft Corporation' });
is($r->{status}, 403, 'manufacturer and model must match the same row');
$r = register('CT000001', headers => { 'X-Device-Model' => undef });
is($r->{status}, 403, 'a request without X-Device-Model is refused');
is($r->{json}{error}{code}, 'hardware_unidentified', '... saying what is missing');
$r = register('CT000001', headers => { 'X-Device-Manufacturer' => undef });
is($r->{status}, 403, 'a request without X-Device-Manufacturer is refused');
$r = register('NOPE0003', headers => { 'X-Device-Model' => 'Precision 5680' });
is($r->{json}{error}{code}, 'hardware_not_allowed',
   'the allow-list is checked before the Autopilot registration');

# --- autopilot_check off ---------------------------------------------------

$t->sql("UPDATE monitor_settings SET hardware_check = false, autopilot_check = false "
      . "WHERE tenant_id = '$contoso'");
ok(settings_reached(sub { register('CT000001', headers => { 'X-Device-Model' => 'Latitude 7440 2-in-1' })
                          ->{status} == 200 }),
   'switching the checks off reaches the gate too');
$before = graph_lookups();
$r = register('NOPE0004');
is($r->{status}, 200, 'with autopilot_check off an unregistered device is admitted');
is($r->{json}{validatedBy}, 0, '... and its session is not validated by Autopilot');
is(graph_lookups(), $before, '... without asking Graph');

# --- without Graph credentials ----------------------------------------------

# A cc-ingest with a client id but no secret (CC_CLIENT_ID also names the
# app whose tokens nginx accepts), asked directly with the identity nginx
# would send: the tenant wants the check, so the device must wait (503).
$t->sql("UPDATE monitor_settings SET autopilot_check = true WHERE tenant_id = '$contoso'");
$t->start_worker('ingest', name => 'cc-ingest-bare',
                 env => { CC_AUTOPILOT_CHECK => 'on', CC_CLIENT_ID => $app_id });
$r = $t->worker_request('cc-ingest-bare', 'POST', '/api/agent/register-session',
    { 'X-CC-Tenant' => $contoso, 'X-CC-Device' => '9a0b1c2d-3e4f-4051-9627-38495a6b7c8d',
      'X-Device-SerialNumber' => 'CT000001', 'Content-Type' => 'application/json' },
    CC::Test::json_encode({ Registration => { SessionId => $session{$contoso} } }));
is($r->{status}, 503, 'without a Graph client configured, a tenant that wants the check gets 503');
is($r->{headers}{'retry-after'}, '30', '... with Retry-After: 30');
my $bare = $t->worker_request('cc-ingest-bare', 'GET', '/healthz');
is($bare->{json}{autopilot}{configured}, JSON::PP::false(), '... and /healthz says no client is configured');
ok(scalar $t->grep_log('cc-ingest-bare', qr/"level":"warn".*no Graph client/),
   '... as its start-up log does');
like($bare->{json}{autopilot}{lastFailure}{what} // '', qr/CC_CLIENT_ID/, '... and what is missing');

# A client id whose secret cannot be read is a configuration error.
my %env = (%ENV, CC_SOCKET => $t->socket_path('cc-ingest-nosecret'), CC_CLIENT_ID => $app_id,
           CC_CLIENT_SECRET_FILE => $t->dir . '/no-such-secret', CC_DATABASE_URL => '');
my $pid = fork // die "fork: $!";
if (!$pid) {
    %ENV = %env;
    open STDOUT, '>', $t->dir . '/nosecret.log';
    open STDERR, '>&', \*STDOUT;
    exec $t->build . '/cc-ingest' or POSIX::_exit(127);
}
my $status;
my $exited = $t->eventually(sub {
    return 0 unless waitpid($pid, POSIX::WNOHANG()) == $pid;
    $status = $? >> 8;
    return 1;
}, 10);
kill 'KILL', $pid unless $exited;
ok($exited && $status == 1, 'cc-ingest refuses to start when CC_CLIENT_SECRET_FILE cannot be read');

# --- privacy ---------------------------------------------------------------

my @leaks = map { my $f = $_; open my $l, '<', $f or die $!; grep { /CT00000|NOPE000|FB000001|NW000001|PAGE-1/ } <$l> }
            glob($t->dir . '/logs/*.log');
is(scalar @leaks, 0, 'no serial number in any log');
unlike($health->{body}, qr/NW000001/, 'nor in /healthz');

$t->done_testing;
