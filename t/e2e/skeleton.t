#!/usr/bin/perl

# The walking skeleton end to end, through the shipped nginx configuration:
# client -> nginx (TLS, our module) -> cc-api -> PostgreSQL, a job executed
# by cc-worker, JSON errors from every layer, and the operators' listener.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;

use CC::Test;

my $t = CC::Test->new;
$t->start_pg;
$t->start_worker('worker', env => { CC_JOB_POLL_MS => 60000 });
$t->start_worker('ingest');
$t->start_worker('api');

open my $fh, '<', $t->top . '/conf/nginx.conf.in' or die $!;
$t->start_nginx(do { local $/; <$fh> });

my $tenant = '6f1c2a4e-0d4b-4c7e-9a51-1f2e3d4c5b6a';
$t->sql("INSERT INTO tenants (id, name) VALUES ('$tenant', 'Contoso')");

# --- health ------------------------------------------------------------------

my $r = $t->https(GET => '/api/health');
is($r->{status}, 200, 'health answers 200 through nginx and TLS');
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
               headers => { 'X-CC-Tenant' => $tenant });
is($r->{status}, 202, 'noop job accepted');
my $id = $r->{json}{id};
like($id // '', qr/^\d+$/, 'job id returned');
is($r->{headers}{location}, "/api/jobs/$id", 'Location names the job');

my $job;
ok($t->eventually(sub {
    $job = $t->https(GET => "/api/jobs/$id")->{json};
    return $job && $job->{state} eq 'succeeded';
}, 15), 'cc-worker executed the job');
is($job->{attempts}, 1, 'job ran once');
is($job->{result}{ok}, JSON::PP::true(), 'job result readable through the API');

is($t->sql("SELECT coalesce(tenant_id::text, 'platform') FROM jobs WHERE id = $id"),
   'platform', 'a client-sent X-CC-Tenant did not reach cc-api');

$r = $t->https(POST => '/api/jobs', json => { kind => 'noop', idempotency_key => 'once' });
my $first = $r->{json}{id};
$r = $t->https(POST => '/api/jobs', json => { kind => 'noop', idempotency_key => 'once' });
is($r->{status}, 200, 'repeated idempotency key answers 200');
is($r->{json}{id}, $first, 'repeated idempotency key returns the same job');

# --- errors from each layer --------------------------------------------------------

$r = $t->https(POST => '/api/jobs', body => '{"kind": "noop",',
               headers => { 'Content-Type' => 'application/json' });
is($r->{status}, 400, 'malformed JSON refused with 400');
is($r->{json}{error}{code}, 'malformed_json', 'malformed JSON has a stable code');

$r = $t->https(POST => '/api/jobs', body => 'x' x (2 * 1024 * 1024),
               headers => { 'Content-Type' => 'application/json' });
is($r->{status}, 413, 'oversized body refused with 413 by nginx');
is($r->{json}{error}{code}, 'body_too_large', 'oversized body has a stable code');

$r = $t->https(GET => '/api/no-such-thing');
is($r->{status}, 404, 'unknown API route is 404');
is($r->{json}{error}{code}, 'not_found', 'unknown API route has a stable code');

$r = $t->https(POST => '/api/jobs', json => { kind => 'deploy.vm' });
is($r->{status}, 422, 'a job kind the API may not enqueue is refused');

$r = $t->https(GET => '/api/jobs/999999');
is($r->{status}, 404, 'a job that does not exist is 404');

# --- the SPA -------------------------------------------------------------------------

$r = $t->https(GET => '/');
is($r->{status}, 200, 'SPA served');
like($r->{body}, qr/<title>Concierge<\/title>/, 'SPA index is the Concierge page');
$r = $t->https(GET => '/tenants/contoso/sessions');
like($r->{body}, qr/<title>Concierge<\/title>/, 'deep links fall back to the SPA');

# --- operators' listener -------------------------------------------------------------

my $ops = $t->port('ops');
for my $w (qw(cc-api cc-ingest cc-worker)) {
    my ($status) = http_get($ops, "/workers/$w/healthz");
    is($status, 200, "$w /healthz reachable on the operators' listener");
    my ($mstatus, $body) = http_get($ops, "/workers/$w/metrics");
    like($body, qr/^# (HELP|TYPE) /m, "$w /metrics is Prometheus text");
}

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
