#!/usr/bin/perl

# GET /api/health on cc-api's socket: every component's state, 503 when a
# required part is down, and each worker's own /healthz and /metrics.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Time::HiRes qw(time);

use CC::Test;

my $t = CC::Test->new;
$t->start_pg;
$t->start_worker('worker');
$t->start_worker('ingest');
$t->start_worker('api');

sub health {
    my (%h) = @_;
    return $t->worker_request('cc-api', GET => '/api/health', \%h);
}

my $r = health('X-CC-Edge-TLS' => 'TLSv1.3');
is($r->{status}, 200, 'health answers 200 when everything is up');
my $h = $r->{json};
is($h->{status}, 'ok', 'overall status ok');
is(join(',', sort keys %{ $h->{components} }), 'api,database,edge,ingest,worker',
   'every component is reported');
is($h->{components}{api}{status}, 'ok', 'api ok');
like($h->{components}{api}{version}, qr/^\d+\.\d+\.\d+$/, 'api reports its version');
is($h->{components}{database}{status}, 'ok', 'database ok');
like($h->{components}{database}{latency_ms}, qr/^\d+(\.\d+)?$/,
     'database latency in ms');
is($h->{components}{database}{schema_version},
   $t->sql("SELECT max(version) FROM schema_migrations"),
   'database reports the last migration applied');
is($h->{components}{worker}{status}, 'ok', 'cc-worker ok');
is($h->{components}{ingest}{status}, 'ok', 'cc-ingest ok');
is($h->{components}{edge}{tls}, 'TLSv1.3', 'edge reports the TLS protocol');
is(health()->{json}{components}{edge}{tls}, 'unknown',
   'without the edge header the protocol is unknown');

# --- every worker's own endpoints --------------------------------------------

for my $w (qw(cc-api cc-ingest cc-worker)) {
    my $hz = $t->worker_request($w, GET => '/healthz');
    is($hz->{status}, 200, "$w /healthz is 200");
    is($hz->{json}{status}, 'ok', "$w /healthz says ok");
    my $m = $t->worker_request($w, GET => '/metrics');
    like($m->{body}, qr/^# TYPE cc_http_requests_total counter$/m,
         "$w /metrics counts requests");
    like($m->{body}, qr/^cc_http_request_duration_seconds_count\{svc="$w"\} \d+$/m,
         "$w /metrics has the duration histogram");
    like($m->{body}, qr/^cc_db_pool_connections\{state="in_use"\} \d+$/m,
         "$w /metrics has the pool gauge");
}
my $m = $t->worker_request('cc-worker', GET => '/metrics')->{body};
like($m, qr/^cc_jobs_processed_total \d+$/m, 'cc-worker counts processed jobs');
like($m, qr/^cc_jobs_failed_total\{outcome="retry"\} \d+$/m,
     'cc-worker counts failed jobs');

# --- parts going down ---------------------------------------------------------------

is($t->stop('cc-worker'), 0, 'cc-worker stops cleanly');
$r = health();
is($r->{status}, 503, 'health is 503 with cc-worker down');
is($r->{json}{status}, 'degraded', 'overall status degraded');
is($r->{json}{components}{worker}{status}, 'down', 'the worker is named down');
is($r->{json}{components}{ingest}{status}, 'ok', 'the others stay ok');

$t->stop_pg;
my $t0 = time;
$r = health();
cmp_ok(time - $t0, '<', 8, 'health answers while the database is down');
is($r->{status}, 503, 'health is 503 with the database down');
is($r->{json}{components}{database}{status}, 'down', 'the database is named down');

$r = $t->worker_request('cc-api', POST => '/api/jobs',
                        { 'Content-Type' => 'application/json' }, '{"kind":"noop"}');
is($r->{status}, 503, 'a job cannot be enqueued without the database');
is($r->{json}{error}{code}, 'unavailable', 'with the unavailable code');

# The pool's connections died with the server; they are replaced.
$t->start_pg;
$r = health();
is($r->{json}{components}{database}{status}, 'ok',
   'the database is ok again once it is back');
$r = $t->worker_request('cc-api', POST => '/api/jobs',
                        { 'Content-Type' => 'application/json' }, '{"kind":"noop"}');
is($r->{status}, 202, 'jobs are accepted again without restarting cc-api');

$t->done_testing;
