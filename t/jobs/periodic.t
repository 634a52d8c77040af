#!/usr/bin/perl

# Periodic jobs (workers/cc-worker/worker_periodic.c and sql/011_retention.sql
# cc_periodic_enqueue): one platform job per kind and time bucket however
# many workers ask, a bucket per interval, and none at all when a worker
# has them off.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;

use CC::Test;

my $t = CC::Test->new;
$t->start_pg;

my $a = '0a0a0a0a-0000-4000-8000-00000000000a';
$t->sql("INSERT INTO tenants (id, name) VALUES ('$a', 'A')");

# --- the SQL side -------------------------------------------------------------

# An interval of 10^9 s: no bucket boundary falls between two asks here.
my $first = $t->sql_as_app(undef,
    "SELECT job_id || '|' || created || '|' || bucket || '|'"
    . " || (bucket = floor(extract(epoch FROM now()) / 1e9))"
    . " FROM cc_periodic_enqueue('noop', 1000000000)");
my ($id, $created, $bucket, $epoch) = split /\|/, $first;
is($created, 'true', 'the first ask of a bucket creates its job');
is($epoch, 'true', 'the bucket is the number of intervals since the epoch');
my $second = $t->sql_as_app(undef,
    "SELECT job_id || '|' || created FROM cc_periodic_enqueue('noop', 1000000000)");
is($second, "$id|false", 'a second ask in the same bucket returns that job, not a new one');
is($t->sql("SELECT idempotency_key || ' ' || payload::text || ' ' || (tenant_id IS NULL)"
         . " FROM jobs WHERE id = $id"),
   "periodic:noop:$bucket {\"bucket\": $bucket} true",
   'it is a platform job keyed by kind and bucket, the bucket in its payload');
isnt($t->sql_as_app(undef, "SELECT job_id FROM cc_periodic_enqueue('noop', 60)"), $id,
     'another interval makes other buckets');
ok(!eval { $t->sql_as_app($a, "SELECT * FROM cc_periodic_enqueue('noop', 3600)"); 1 },
   'a tenant cannot enqueue periodic jobs');
$t->sql("DELETE FROM jobs");

# --- workers ------------------------------------------------------------------

# The harness's default: periodic jobs off.
$t->start_worker('worker', name => 'cc-worker-off');
ok($t->grep_log('cc-worker-off', qr/periodic jobs are off/),
   'a worker with CC_PERIODIC_JOBS off says so');

my %on = (CC_PERIODIC_JOBS => 'on', CC_RETENTION_INTERVAL_SECONDS => 2,
          CC_PARTITION_INTERVAL_SECONDS => 0, CC_SWEEP_INTERVAL_SECONDS => 0);
$t->start_worker('worker', name => 'cc-worker-1', env => \%on);
$t->start_worker('worker', name => 'cc-worker-2', env => \%on);

ok($t->eventually(sub {
    $t->sql("SELECT count(*) FROM jobs WHERE kind = 'retention.purge'"
          . " AND state = 'succeeded'") >= 3
}, 20), 'two workers with 2 s buckets made purge jobs that ran');

for my $name ('cc-worker-1', 'cc-worker-2') {
    is($t->stop($name), 0, "$name shut down cleanly on SIGTERM");
}

my $jobs = $t->sql("SELECT count(*) FROM jobs WHERE kind = 'retention.purge'");
my $buckets = $t->sql("SELECT max((payload->>'bucket')::bigint)"
                    . " - min((payload->>'bucket')::bigint) + 1"
                    . " FROM jobs WHERE kind = 'retention.purge'");
is($jobs, $buckets, 'one job per bucket: as many jobs as buckets, none missed or doubled');
is($t->sql("SELECT count(*) FROM jobs WHERE kind = 'retention.partitions'"), 0,
   'an interval of 0 turns that periodic job off');
is($t->sql("SELECT count(*) FROM jobs WHERE kind = 'retention.purge'"
         . " AND (tenant_id IS NOT NULL OR attempts <> 1)"), 0,
   'each ran once, as a platform job');

my @made = map { $t->grep_log($_, qr/"periodic job enqueued"/) } 'cc-worker-1', 'cc-worker-2';
my @found = map { $t->grep_log($_, qr/"periodic job already enqueued"/) } 'cc-worker-1', 'cc-worker-2';
is(scalar @made, $jobs, 'the workers created exactly the jobs there are');
cmp_ok(scalar @found, '>=', 1, 'and found buckets the other worker had enqueued');
for my $name ('cc-worker-1', 'cc-worker-2') {
    cmp_ok(scalar($t->grep_log($name, qr/"periodic job (already )?enqueued"/)), '>=', $jobs - 2,
           "$name asked for every bucket while it ran (it may start a bucket late)");
}
like($t->worker_request('cc-worker-off', 'GET', '/metrics')->{body},
     qr/^cc_periodic_enqueued_total 0$/m, 'the worker with periodic jobs off enqueued none');

$t->done_testing;
