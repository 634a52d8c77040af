#!/usr/bin/perl

# The platform end to end, through the shipped nginx configuration:
# client -> nginx (TLS, our module: identity from a real Entra-shaped token
# whose keys cc-worker synced from the simulator) -> cc-api -> PostgreSQL,
# a job executed by cc-worker, JSON errors from every layer, device agents'
# mTLS, and the operators' listener.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;

use CC::Test;

use CC::AzureSim;

my $t = CC::Test->new;
my $sim = CC::AzureSim->start(dir => $t->dir . '/sim', certs => $t->certs,
                              demo => 1);
$t->set_var(LOGIN_URL => $sim->url);

# Contoso is onboarded; Fabrikam exists in Entra but not here.
my $tenant = '11111111-1111-4111-8111-111111111111';
my $stranger = '22222222-2222-4222-8222-222222222222';
$t->start_pg;
$t->sql("INSERT INTO tenants (id, name) VALUES ('$tenant', 'Contoso')");
$t->set_var(PLATFORM_TENANT => $tenant);     # Contoso runs the platform
my $northwind = 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d';
$t->sql("INSERT INTO tenants (id, name) VALUES ('$northwind', 'Northwind')");

my $control = $t->socket_path('nginx-control');
$t->start_worker('worker', env => {
    CC_JOB_POLL_MS          => 60000,
    CC_NGINX_CONTROL_SOCKET => $control,
    CC_LOGIN_URL            => $sim->url,
    CC_CA_FILE              => $t->certs . '/ca.pem',
    CC_REGISTRY_POLL_MS     => 200,
});
$t->start_worker('ingest');
$t->start_worker('api', env => { CC_DEV_SIGN_IN => 'on',
                                 CC_SESSION_KEYS => $t->session_keys,
                                 CC_PLATFORM_TENANT => $tenant });

open my $fh, '<', $t->top . '/conf/nginx.conf.in' or die $!;
$t->start_nginx(do { local $/; <$fh> });

ok($t->eventually(sub {
    my ($status, undef, $body) = eval { CC::Stack::unix_request($control, 'GET', '/registry') };
    my $summary = CC::Test::json_decode($body) // {};
    return ($summary->{keys} // 0) > 0 && ($summary->{tenants} // 0) >= 1;
}, 20), 'cc-worker synced tenants and the issuer keys into nginx');

sub user_token {
    my ($tid, %claims) = @_;
    my $res = $sim->admin(POST => '/admin/tokens', {
        tid => $tid, ver => '2.0',
        claims => { aud => $CC::Stack::DEMO_CLIENT_ID,
                    oid => '0a0b0c0d-0000-4000-8000-000000000001',
                    roles => ['operator'], %claims },
    });
    return $res->{token} // die "no token minted\n";
}

my $auth = { Authorization => 'Bearer ' . user_token($tenant) };

# --- identity ------------------------------------------------------------------

my $r = $t->https(POST => '/api/jobs', json => { kind => 'noop' });
is($r->{status}, 401, 'the API refuses a request without a token');
like($r->{headers}{'www-authenticate'} // '', qr/^Bearer/, 'and says how to authenticate');

$r = $t->https(POST => '/api/jobs', json => { kind => 'noop' },
               headers => { Authorization => 'Bearer ' . user_token($stranger) });
is($r->{status}, 403, 'a valid token of a tenant not onboarded is refused');
is($r->{json}{error}{code}, 'tenant_unknown', '... as unknown to the platform');
like($r->{json}{error}{onboarding} // '', qr{/onboarding$}, '... with where to onboard');

$r = $t->https(POST => '/api/jobs', json => { kind => 'noop' },
               headers => { Authorization => 'Bearer ' . user_token($tenant, aud => 'api://someone-else') });
is($r->{status}, 401, 'a token for another audience is refused');

# Entra's v1 tokens (iss https://sts.windows.net/{tid}/) are signed with the
# same keys as v2 ones.
my $v1 = $sim->admin(POST => '/admin/tokens', {
    tid => $tenant, ver => '1.0',
    claims => { aud => "api://$CC::Stack::DEMO_CLIENT_ID", roles => ['operator'],
                oid => '0a0b0c0d-0000-4000-8000-000000000003' },
})->{token};
$r = $t->https(GET => '/api/jobs/1', headers => { Authorization => "Bearer $v1" });
isnt($r->{status}, 401, 'a v1 token signed with a key of both sets is accepted');

# --- health ------------------------------------------------------------------

$r = $t->https(GET => '/api/health');
is($r->{status}, 200, 'health answers 200 through nginx and TLS, without a token');
is($r->{json}{status}, 'ok', 'every part reports ok');
is($r->{json}{components}{database}{status}, 'ok', 'database reached through cc-api');
is($r->{json}{components}{database}{schema_version}, $t->latest_migration,
   'database reports the last migration applied');
is($r->{json}{components}{worker}{status}, 'ok', 'cc-worker reported alive');
is($r->{json}{components}{ingest}{status}, 'ok', 'cc-ingest reported alive');
like($r->{json}{components}{edge}{tls} // '', qr/^TLSv1\.[23]$/,
     'edge reports the TLS protocol nginx negotiated');
like($r->{headers}{'content-type'}, qr{^application/json}, 'health is JSON');

# --- a job through the API -----------------------------------------------------

$r = $t->https(POST => '/api/jobs',
               json => { kind => 'noop', payload => { sleep_ms => 10 } },
               headers => { %$auth, 'X-CC-Tenant' => $stranger });
is($r->{status}, 202, 'noop job accepted with a valid token');
my $id = $r->{json}{id};
like($id // '', qr/^\d+$/, 'job id returned');
is($r->{headers}{location}, "/api/jobs/$id", 'Location names the job');

my $job;
ok($t->eventually(sub {
    $job = $t->https(GET => "/api/jobs/$id", headers => $auth)->{json};
    return $job && $job->{state} eq 'succeeded';
}, 15), 'cc-worker executed the job');
is($job->{attempts}, 1, 'job ran once');
is($job->{result}{ok}, JSON::PP::true(), 'job result readable through the API');

is($t->sql("SELECT coalesce(tenant_id::text, 'platform') FROM jobs WHERE id = $id"),
   $tenant, "the job belongs to the token's tenant, not the client's X-CC-Tenant");

$r = $t->https(GET => "/api/jobs/$id", headers => { Authorization => 'Bearer ' . user_token($tenant, oid => '0a0b0c0d-0000-4000-8000-000000000002') });
is($r->{status}, 200, "another user of the tenant sees the tenant's job");

$r = $t->https(POST => '/api/jobs', headers => $auth,
               json => { kind => 'noop', idempotency_key => 'once' });
my $first = $r->{json}{id};
$r = $t->https(POST => '/api/jobs', headers => $auth,
               json => { kind => 'noop', idempotency_key => 'once' });
is($r->{status}, 200, 'repeated idempotency key answers 200');
is($r->{json}{id}, $first, 'repeated idempotency key returns the same job');

# --- the session cookie (development sign-in) --------------------------------------

$r = $t->https(POST => '/api/dev/sign-in', json => {
    tenant => $tenant, user => '0a0b0c0d-0000-4000-8000-000000000009',
    roles => ['tenant_admin'] });
is($r->{status}, 201, 'cc-api issues a session');
like($r->{headers}{'set-cookie'} // '',
     qr/^cc_session=[^;]+; HttpOnly; Secure; SameSite=Lax; Path=\/; Max-Age=3600$/,
     'as a cookie that is HttpOnly, Secure, SameSite=Lax, for the whole site');
my ($cookie) = ($r->{headers}{'set-cookie'} // '') =~ /^(cc_session=[^;]+)/;
my $sid = $r->{json}{session_id};

$r = $t->https(GET => "/api/jobs/$id", headers => { Cookie => $cookie });
is($r->{status}, 200, 'the cookie authenticates a read');
$r = $t->https(POST => '/api/jobs', json => { kind => 'noop' },
               headers => { Cookie => $cookie });
is($r->{status}, 403, 'a write with the cookie and no Origin is refused');
$r = $t->https(POST => '/api/jobs', json => { kind => 'noop' },
               headers => { Cookie => $cookie, Origin => 'https://evil.example' });
is($r->{status}, 403, 'a write with the cookie from another origin is refused');
$r = $t->https(POST => '/api/jobs', json => { kind => 'noop' },
               headers => { Cookie => $cookie,
                            Origin => 'https://localhost:' . $t->port('https') });
is($r->{status}, 202, 'a write with the cookie from our origin is accepted');

$t->sql("UPDATE sessions SET revoked_at = now() WHERE id = decode('$sid', 'hex')");
ok($t->eventually(sub {
    $t->https(GET => "/api/jobs/$id", headers => { Cookie => $cookie })->{status} == 401
}, 10), 'a revoked session is refused on a following request');

$r = $t->https(POST => '/api/dev/sign-in', json => { tenant => $tenant, user => 'x' });
is($r->{status}, 422, 'a malformed sign-in is refused with 422');

# --- tenant paths ------------------------------------------------------------------

$r = $t->https(GET => "/api/tenants/$tenant", headers => $auth);
is($r->{status}, 200, "a caller reads its own tenant's record");
is($r->{json}{name}, 'Contoso', '... which is its own');

$r = $t->https(GET => "/api/tenants/$northwind", headers => $auth);
is($r->{json}{error}{code}, 'tenant_mismatch', "an operator may not read another tenant's record");

my $admin = { Authorization => 'Bearer ' . user_token($tenant, roles => ['global_admin'],
                                                     oid => '0a0b0c0d-0000-4000-8000-0000000000aa') };
$r = $t->https(GET => "/api/tenants/$northwind", headers => $admin);
is($r->{status}, 200, "a Global Admin reads another tenant's record");
is($r->{json}{name}, 'Northwind', '... the one the path names');
is($t->sql("SELECT count(*) FROM audit_log WHERE tenant_id = '$northwind' "
           . "AND action = 'cross_tenant_access' "
           . "AND actor = 'user:0a0b0c0d-0000-4000-8000-0000000000aa'"),
   1, "and cc-api recorded it in that tenant's audit log");

# App roles of a multi-tenant app can be assigned by any customer's own
# administrators: global_admin counts only in the platform tenant.
my $forged = { Authorization => 'Bearer ' . user_token($northwind, roles => ['global_admin'],
                                                      oid => '0a0b0c0d-0000-4000-8000-0000000000bb') };
$r = $t->https(GET => "/api/tenants/$tenant", headers => $forged);
is($r->{json}{error}{code}, 'tenant_mismatch',
   "global_admin from a customer's tenant opens no other tenant");
$r = $t->https(GET => "/api/tenants/$northwind", headers => $forged);
is($r->{status}, 200, '... while its own tenant still works');
ok(scalar $t->grep_log('nginx-error', qr/global_admin ignored for tenant $northwind/),
   '... and nginx logged why the role was ignored');

$r = $t->https(POST => '/api/dev/sign-in', json => {
    tenant => $northwind, user => '0a0b0c0d-0000-4000-8000-0000000000bb',
    roles => ['global_admin'] });
is($r->{status}, 422, 'the development sign-in mints global_admin only in the platform tenant');

$r = $t->worker_request('cc-api', 'GET', "/api/tenants/$northwind",
                        { 'X-CC-Tenant' => $tenant, 'X-CC-Roles' => 'global_admin' });
is($r->{status}, 403, 'cc-api itself refuses another tenant without the cross-tenant mark');

$r = $t->https(GET => "/api/tenants/$stranger/sessions", headers => $auth);
is($r->{status}, 403, "a path naming another tenant is refused");
is($r->{json}{error}{code}, 'tenant_mismatch', '... as a tenant mismatch');
$r = $t->https(GET => "/api/tenants/$tenant/no-such-thing", headers => $auth);
is($r->{json}{error}{code}, 'not_found', "a path naming the caller's tenant reaches cc-api");

# --- errors from each layer --------------------------------------------------------

$r = $t->https(POST => '/api/jobs', body => '{"kind": "noop",',
               headers => { %$auth, 'Content-Type' => 'application/json' });
is($r->{status}, 400, 'malformed JSON refused with 400');
is($r->{json}{error}{code}, 'malformed_json', 'malformed JSON has a stable code');

$r = $t->https(POST => '/api/jobs', body => 'x' x (2 * 1024 * 1024),
               headers => { %$auth, 'Content-Type' => 'application/json' });
is($r->{status}, 413, 'oversized body refused with 413 by nginx');
is($r->{json}{error}{code}, 'body_too_large', 'oversized body has a stable code');

$r = $t->https(POST => '/api/jobs', body => "\x1f\x8b\x08 not for cc-api",
               headers => { %$auth, 'Content-Type' => 'application/json',
                            'Content-Encoding' => 'gzip' });
is($r->{status}, 415, 'an encoded body is refused where no handler decodes one');
is($r->{json}{error}{code}, 'unsupported_media_type', '... with a stable code');

$r = $t->https(GET => '/api/no-such-thing', headers => $auth);
is($r->{status}, 404, 'unknown API route is 404');
is($r->{json}{error}{code}, 'not_found', 'unknown API route has a stable code');

$r = $t->https(POST => '/api/jobs', json => { kind => 'deploy.vm' }, headers => $auth);
is($r->{status}, 422, 'a job kind the API may not enqueue is refused');

$r = $t->https(GET => '/api/jobs/999999', headers => $auth);
is($r->{status}, 404, 'a job that does not exist is 404');

# --- the SPA -------------------------------------------------------------------------

$r = $t->https(GET => '/');
is($r->{status}, 200, 'SPA served');
like($r->{body}, qr/<title>Concierge<\/title>/, 'SPA index is the Concierge page');
$r = $t->https(GET => '/tenants/contoso/sessions');
like($r->{body}, qr/<title>Concierge<\/title>/, 'deep links fall back to the SPA');

# --- device agents (mutual TLS) -----------------------------------------------

my $device = '5d7c1b2a-3e4f-4a5b-8c6d-7e8f9a0b1c2d';
my @cert = $t->device_cert($device, $tenant);
$r = $t->https(GET => '/api/agent/config', port => 'agent');
is($r->{status}, 401, 'agent path refuses a request without a device certificate (agent protocol 3.5)');
like($r->{headers}{'content-type'} // '', qr{^application/json}, '... with JSON, which the agent reads as a verdict');
$r = $t->https(GET => '/api/agent/no-such-thing', port => 'agent', cert => \@cert);
isnt($r->{status}, 403, 'agent path lets a valid Intune device certificate through');
is($r->{json}{error}{code}, 'not_found', '... to cc-ingest, which says it has no such route');

my @expired = $t->device_cert('7f9e3d4c-5061-4c7d-8e8f-9a0b1c2d3e4f', $tenant,
                              1, '20200101000000Z');
$r = $t->https(GET => '/api/agent/config', port => 'agent', cert => \@expired);
is($r->{status}, 401, 'an expired device certificate is refused with 401');
like($r->{headers}{'content-type'} // '', qr{^application/json},
     "... in JSON, not nginx's HTML 495 that would stall the agent");

$r = $t->https(POST => '/api/agent/distress', port => 'agent',
               json => { message => 'no certificate yet' });
isnt($r->{status}, 401, 'the distress path does not demand a certificate');

my @stranger_cert = $t->device_cert('6e8d2c3b-4f50-4b6c-9d7e-8f9a0b1c2d3e', $stranger);
$r = $t->https(GET => '/api/agent/config', port => 'agent', cert => \@stranger_cert);
is($r->{status}, 403, "a device of a tenant not onboarded is refused with 403, not 410");
is($r->{json}{success}, JSON::PP::false(), '... in the agent protocol\'s error shape');

# --- operators' listener -------------------------------------------------------------

my $ops = $t->port('ops');
my (undef, $hz) = http_get($ops, '/workers/cc-worker/healthz');
is(CC::Test::json_decode($hz)->{registry_sync}{state}, 'ok',
   "cc-worker's /healthz reports the registry sync as ok");
for my $w (qw(cc-api cc-ingest cc-worker)) {
    my ($status) = http_get($ops, "/workers/$w/healthz");
    is($status, 200, "$w /healthz reachable on the operators' listener");
    my ($mstatus, $body) = http_get($ops, "/workers/$w/metrics");
    like($body, qr/^# (HELP|TYPE) /m, "$w /metrics is Prometheus text");
}

my (undef, $limits) = http_get($ops, '/nginx/limits');
ok(CC::Test::json_decode($limits), "rate-limit counters on the operators' listener");
like($limits, qr/cc_api/, '... for the API zone');

# --- logs carry no query strings ---------------------------------------------------

$t->https(GET => '/api/health?code=secret-code-value');
ok(!scalar $t->grep_log('access', qr/secret-code-value/),
   'query strings never reach the access log');

# --- a part going down ----------------------------------------------------------------

is($t->stop('cc-worker'), 0, 'cc-worker shuts down cleanly on SIGTERM');
$r = $t->https(GET => '/api/health');
is($r->{status}, 503, 'health is 503 when cc-worker is down');
is($r->{json}{components}{worker}{status}, 'down', 'health names the part that is down');

is($t->stop('cc-api'), 0, 'cc-api shuts down cleanly on SIGTERM');
$r = $t->https(GET => '/api/health');
is($r->{status}, 503, 'nginx answers 503 when cc-api is down');
is($r->{json}{error}{code}, 'unavailable', 'cc-api down gives a JSON error with a code');
ok($r->{headers}{'retry-after'}, 'cc-api down gives Retry-After');

$t->done_testing;

sub http_get {
    my ($port, $path) = @_;
    my $s = IO::Socket::INET->new("127.0.0.1:$port") or return (0, '');
    print $s "GET $path HTTP/1.0\r\nHost: localhost\r\n\r\n";
    local $/;
    my $resp = <$s> // '';
    my ($status) = $resp =~ m{^HTTP/1\.[01] (\d+)};
    my (undef, $body) = split /\r\n\r\n/, $resp, 2;
    return ($status // 0, $body // '');
}
