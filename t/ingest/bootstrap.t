#!/usr/bin/perl

# Bootstrap mode end to end, through the shipped nginx configuration: a
# Tenant Admin creates a token over the API (shown once), cc-worker's sync
# pushes its hash to nginx, and a device without a certificate uses it on
# the five paths of bootstrap mode (agent-protocol.md 4): config,
# register-session, error under /api/bootstrap/, telemetry and upload-url
# under /api/agent/.  Then what ends a token ends it at nginx: revocation
# through the API, expiry, the tenant's setting; a token never opens
# another tenant; a token has its own rate limit; and no token reaches a
# log.  The feature switch is set in SQL here (the settings API is the
# staff API's).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use Digest::SHA qw(sha256_hex);
use IO::Compress::Gzip qw(gzip $GzipError);
use Test::More;

use CC::Test;
use CC::MonitorKit qw(start_monitor_stack registry_summary registry_reached
                      user_bearer device_headers agent_request);

my $t = CC::Test->new;
my $contoso = '11111111-1111-4111-8111-111111111111';
my $northwind = 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d';
my $stack = start_monitor_stack($t, azurite => 1,
    tenants => [$contoso => 'Contoso', $northwind => 'Northwind'],
    sql => ["INSERT INTO monitor_settings (tenant_id, bootstrap_enabled) VALUES "
            . "('$contoso', true), ('$northwind', true)",
            qq{UPDATE tenants SET limits = '{"bootstrap_per_min": 3}' WHERE id = '$northwind'}],
    workers => [['ingest'], ['api']]);
my ($sim, $control, $conf) = @$stack{qw(sim control conf)};

ok(registry_reached($t, $control, tenants => 2, keys => 1),
   'tenants and issuer keys reached nginx');

# --- the API: creating, listing, who may --------------------------------------

my $admin_oid = '2a3b4c5d-6e7f-4081-9293-a4b5c6d7e8f9';
sub bearer {
    my ($tid, @roles) = @_;
    return user_bearer($sim, $tid, $admin_oid, @roles);
}
my $admin = bearer($contoso, 'tenant_admin');
my $tokens_path = "/api/tenants/$contoso/bootstrap-tokens";

sub api {
    my ($method, $path, $who, $json) = @_;
    return $t->https($method => $path, headers => $who, defined $json ? (json => $json) : ());
}

my $r = api(POST => $tokens_path, $admin, { label => 'Batch 7', validHours => 2 });
is($r->{status}, 201, 'a Tenant Admin creates a bootstrap token: 201');
my $token = $r->{json}{token} // '';
like($token, qr/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
     '... and sees the token once, a random GUID');
is($r->{json}{state}, 'active', '... active');
is($r->{json}{label}, 'Batch 7', '... with its label');
my $token_id = $r->{json}{id};
is($t->sql("SELECT round(extract(epoch FROM expires_at - created_at) / 3600) "
           . "FROM bootstrap_tokens WHERE id = '$token_id'"), 2, '... valid for the hours asked');
is($t->sql("SELECT encode(token_hash, 'hex') FROM bootstrap_tokens WHERE id = '$token_id'"),
   sha256_hex($token), 'the database keeps only the SHA-256 of the token');

$r = api(POST => $tokens_path, $admin, {});
is($r->{status}, 201, 'a token without label or hours is created');
is($t->sql("SELECT round(extract(epoch FROM expires_at - created_at) / 3600) FROM bootstrap_tokens "
           . "WHERE id = '$r->{json}{id}'"), 24, '... valid for 24 hours by default');
is(api(POST => $tokens_path, $admin, { validHours => 0 })->{status}, 400, 'validHours 0: 400');
is(api(POST => $tokens_path, $admin, { validHours => 721 })->{status}, 400, 'validHours 721: 400');
is(api(POST => $tokens_path, $admin, { label => 'x' x 129 })->{status}, 400,
   'a label over 128 bytes: 400');
is(api(POST => $tokens_path, bearer($contoso, 'operator'), {})->{status}, 403,
   'an Operator may not create tokens: 403');
is(api(GET => $tokens_path, bearer($contoso, 'user'))->{status}, 403,
   'a User may not list them: 403');
is(api(POST => $tokens_path, bearer($northwind, 'tenant_admin'), {})->{status}, 403,
   'a Tenant Admin of another tenant: 403');

$r = api(GET => $tokens_path, $admin);
is($r->{status}, 200, 'the Tenant Admin lists the tokens');
is(scalar @{ $r->{json}{tokens} // [] }, 2, '... both of them');
ok(!grep({ exists $_->{token} } @{ $r->{json}{tokens} }), '... without token values');
unlike($r->{body}, qr/\Q$token\E/, '... the token appears nowhere in the list');

ok($t->eventually(sub { (registry_summary($control)->{bootstrap} // 0) == 2 }, 10),
   'both tokens reached nginx through the sync');

sub refused {
    my ($r, $status, $name) = @_;
    is($r->{status}, $status, "$name: $status");
    is($r->{json} && $r->{json}{success}, JSON::PP::false(), "$name: JSON the agent reads");
}

# --- the five paths ------------------------------------------------------------

my $serial = 'BOOT-7Q2X9ZK4';
my $session = '4d5e6f70-8192-43a4-b5c6-d7e8f90a1b2c';
my %device_headers = device_headers(serial => $serial);

sub device {
    my ($method, $path, %opt) = @_;
    return agent_request($t, $path, method => $method,
                         headers => { %device_headers,
                                      'X-Bootstrap-Token' => $opt{token} // $token,
                                      %{ $opt{headers} // {} } },
                         map { exists $opt{$_} ? ($_ => $opt{$_}) : () } qw(json body));
}

$r = device(GET => "/api/bootstrap/config?tenantId=$contoso");
is($r->{status}, 200, 'GET /api/bootstrap/config with the token: 200');
ok(exists $r->{json}{collectors}, '... answered by the agent config handler');

my $registration = { Registration => {
    SessionId => $session, TenantId => $contoso, SerialNumber => $serial,
    Manufacturer => 'Contoso Hardware', Model => 'Laptop 7',
    StartedAt => '2026-11-23T08:00:00.0000000Z', AgentVersion => '2.0.1412+abc',
    ValidatedBy => 4 } };
$r = device(POST => '/api/bootstrap/register-session', json => $registration);
is($r->{status}, 200, 'POST /api/bootstrap/register-session: 200');
is($r->{json}{validatedBy}, 4, '... validatedBy 4 (Bootstrap)');
my $device_id = $t->sql("SELECT device_id FROM enrollment_sessions WHERE session_id = '$session'");
is($t->sql("SELECT tenant_id FROM enrollment_sessions WHERE session_id = '$session'"), $contoso,
   'the session is stored under the token\'s tenant');
like($device_id, qr/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
     '... for a device id derived from tenant and serial number (UUID version 8)');
device(POST => '/api/bootstrap/register-session', json => $registration);
is($t->sql("SELECT count(DISTINCT device_id) FROM enrollment_sessions"), 1,
   'registering again gives the same device id');

$r = device(POST => '/api/bootstrap/register-session',
            json => { Registration => { %{ $registration->{Registration} }, TenantId => $northwind } });
is($r->{status}, 403, 'a registration naming another tenant than the token\'s: 403');

my $pk = "${contoso}_$session";
my $payload = CC::Test::json_encode({
    EventId => 'ev-1', SessionId => $session, TenantId => $contoso,
    Timestamp => '2026-11-23T10:00:01.1234567Z', EventType => 'agent_started',
    Severity => 1, Source => 'Agent', Phase => -1, Message => 'event 1', Sequence => 1 });
my $batch = CC::Test::json_encode([{ Kind => 'Event', PartitionKey => $pk, RowKey => 'x_1',
                                     TelemetryItemId => 0, SessionTraceOrdinal => 0,
                                     PayloadJson => $payload, RetryCount => 0 }]);
my $gz;
gzip(\$batch => \$gz) or die $GzipError;
$r = device(POST => '/api/agent/telemetry', body => $gz,
            headers => { 'X-Tenant-Id' => $contoso, 'Content-Type' => 'application/json',
                         'Content-Encoding' => 'gzip' });
is($r->{status}, 200, 'POST /api/agent/telemetry with the token: 200');
is($t->sql("SELECT count(*) FROM events WHERE tenant_id = '$contoso' AND session_id = '$session'"),
   1, '... and its event is stored under the token\'s tenant');

$r = device(POST => '/api/agent/upload-url',
            json => { TenantId => $contoso, SessionId => $session,
                      FileName => "AgentDiagnostics-$session-20261123221500.zip" });
is($r->{status}, 200, 'POST /api/agent/upload-url with the token: 200');
like($r->{json}{uploadUrl} // '', qr{/\Q$contoso/$session/\E}, '... a URL for the tenant\'s session');

$r = device(POST => '/api/bootstrap/error', headers => { 'X-Tenant-Id' => $contoso },
            json => { SessionId => $session, TenantId => $contoso, ErrorType => 3,
                      Message => 'upload failed', AgentVersion => '2.0.1412+abc' });
is($r->{status}, 200, 'POST /api/bootstrap/error with the token: 200');
$r = device(POST => '/api/bootstrap/error', headers => { 'X-Tenant-Id' => $contoso,
                                                      'Content-Type' => 'application/json' },
            body => '{"SessionId":');
is($r->{status}, 200, 'an error report that cannot be read is still answered 200, as on /api/agent/error');
refused(device(POST => '/api/bootstrap/error', token => 'e7f8a9b0-c1d2-4e3f-8a4b-5c6d7e8f9a0b',
               headers => { 'X-Tenant-Id' => $contoso },
               json => { SessionId => $session, ErrorType => 3 }),
        401, 'an error report with an unknown token');
ok($t->eventually(sub {
    $t->sql("SELECT count(*) FROM agent_errors WHERE tenant_id = '$contoso' "
            . "AND session_id = '$session' AND device_id = '$device_id'") == 1 }, 5),
   '... and the report is stored under the tenant and the derived device');

# --- refusals --------------------------------------------------------------------

refused(device(GET => "/api/bootstrap/config?tenantId=$contoso",
               token => 'e7f8a9b0-c1d2-4e3f-8a4b-5c6d7e8f9a0b'), 401, 'an unknown token');
refused(device(GET => "/api/bootstrap/config?tenantId=$contoso", token => 'nope'), 401,
        'a token that is no GUID');
refused(device(GET => "/api/bootstrap/config?tenantId=$northwind"), 403,
        'a Contoso token asking for Northwind\'s config');
refused(device(POST => '/api/agent/telemetry', body => $gz,
               headers => { 'X-Tenant-Id' => $northwind, 'Content-Encoding' => 'gzip',
                            'Content-Type' => 'application/json' }),
        403, 'a Contoso token with X-Tenant-Id of Northwind');
refused($t->https(GET => "/api/bootstrap/config?tenantId=$contoso", port => 'agent',
                  headers => { %device_headers }), 401,
        'a bootstrap path with neither token nor certificate');

# A token that expires in a few seconds works until then, then nginx
# refuses it by itself: no notification is needed for an expiry.
my $short = '0a1b2c3d-4e5f-4a6b-8c7d-8e9f0a1b2c3d';
$t->sql("INSERT INTO bootstrap_tokens (tenant_id, token_hash, expires_at) VALUES "
        . "('$contoso', decode('" . sha256_hex($short) . "', 'hex'), now() + interval '3 seconds')");
ok($t->eventually(sub {
    device(GET => "/api/bootstrap/config?tenantId=$contoso", token => $short)->{status} == 200 }, 3),
   'a token about to expire is accepted');
sleep 4;
refused(device(GET => "/api/bootstrap/config?tenantId=$contoso", token => $short), 401,
        'the same token once expired');

# The tenant switches the feature off: 403, not 401; on again: 200.
$t->sql("UPDATE monitor_settings SET bootstrap_enabled = false WHERE tenant_id = '$contoso'");
ok($t->eventually(sub {
    device(GET => "/api/bootstrap/config?tenantId=$contoso")->{status} == 403 }, 5),
   'the tenant switches bootstrap off: 403');
$t->sql("UPDATE monitor_settings SET bootstrap_enabled = true WHERE tenant_id = '$contoso'");
ok($t->eventually(sub {
    device(GET => "/api/bootstrap/config?tenantId=$contoso")->{status} == 200 }, 5),
   '... and on again: 200');

# --- the per-token limit (Northwind's bootstrap_per_min is 3) ---------------------

$r = api(POST => "/api/tenants/$northwind/bootstrap-tokens", bearer($northwind, 'tenant_admin'), {});
my $limited = $r->{json}{token} // '';
ok($t->eventually(sub { (registry_summary($control)->{bootstrap} // 0) >= 3 }, 10),
   'a Northwind token reached nginx');
my @status = map {
    device(GET => "/api/bootstrap/config?tenantId=$northwind", token => $limited,
           headers => { 'X-Device-SerialNumber' => "NW-$_" })->{status}
} 1 .. 4;
is_deeply([ @status[0 .. 2] ], [200, 200, 200], 'three devices share a token within its limit');
$r = device(GET => "/api/bootstrap/config?tenantId=$northwind", token => $limited,
            headers => { 'X-Device-SerialNumber' => 'NW-5' });
is($r->{status}, 429, 'the token\'s next request, from yet another device: 429');
is($r->{json}{rateLimitExceeded}, JSON::PP::true(), '... in the agent protocol\'s shape');

# --- a restarted nginx gets the tokens back by the full resync ----------------------

$t->stop('nginx');
$t->start_nginx($conf);
ok($t->eventually(sub { my $s = registry_summary($control);
                        ($s->{bootstrap} // 0) == 3 && ($s->{tenants} // 0) >= 2 }, 20),
   'after an nginx restart the resync brings back the three live tokens');
is(device(GET => "/api/bootstrap/config?tenantId=$contoso")->{status}, 200,
   '... and the token works again');

# --- revocation through the API -----------------------------------------------------

$r = api(DELETE => "$tokens_path/$token_id", $admin);
is($r->{status}, 200, 'the Tenant Admin revokes the token');
is($r->{json}{state}, 'revoked', '... which is now revoked');
ok($t->eventually(sub {
    device(GET => "/api/bootstrap/config?tenantId=$contoso")->{status} == 401 }, 5),
   'the revoked token is refused with 401');
is(api(DELETE => "$tokens_path/$token_id", $admin)->{status}, 200, 'revoking twice is harmless');
is(api(DELETE => "$tokens_path/9f8e7d6c-5b4a-4321-8fed-cba987654321", $admin)->{status}, 404,
   'revoking a token that does not exist: 404');
is(api(DELETE => "$tokens_path/$token_id", bearer($contoso, 'operator'))->{status}, 403,
   'an Operator may not revoke: 403');

is($t->sql("SELECT string_agg(action, ',' ORDER BY at, action) FROM audit_log "
           . "WHERE tenant_id = '$contoso' AND action LIKE 'bootstrap_token_%' "
           . "AND target = 'bootstrap_token:$token_id'"),
   'bootstrap_token_create,bootstrap_token_revoke', 'creation and revocation are audited once each');

# --- no token in any log --------------------------------------------------------------

my @logs = glob($t->dir . '/logs/*.log');
ok(scalar @logs >= 4, 'the logs of nginx and the workers are there to read');
sub logs_holding {
    my (@secrets) = @_;
    return [ grep {
        my $file = $_;
        open my $in, '<', $file or die "$file: $!";
        my $text = do { local $/; <$in> };
        grep { index(lc $text, lc $_) >= 0 } @secrets;
    } @logs ];
}
is_deeply(logs_holding($token, $limited, $short), [], 'no log holds a token');
# The control listener's access log names the registry paths the sync
# PUTs, hashes included (as it names revoked session ids); no other log
# holds a hash.
is_deeply([ grep { !m{/access\.log$} } @{ logs_holding(map { sha256_hex($_) } $token, $limited, $short) } ],
          [], 'no worker log and no nginx error log holds a token\'s hash');
is($t->sql("SELECT count(*) FROM audit_log WHERE detail::text LIKE '%$token%'"), 0,
   'the audit log does not hold the token');

$t->done_testing;
