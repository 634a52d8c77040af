#!/usr/bin/perl

# A run whose lease was taken over before it finished commits nothing: its
# work shares the transaction with cc_job_complete(), which refuses a lease
# token that is no longer the job's, and the runner then rolls back.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;

use CC::Test;

my $t = CC::Test->new;
$t->start_pg;
$t->start_worker('worker');

my $id = $t->sql_as_app(undef,
    q{SELECT id FROM cc_job_enqueue('noop', '{"sleep_ms": 1500}')});
ok($t->eventually(sub {
    $t->sql("SELECT state FROM jobs WHERE id = $id") eq 'running'
}, 10), 'the worker is running the job');

# What another worker's claim after an expired lease would do.
$t->sql("UPDATE jobs SET lease_token = gen_random_uuid(), locked_by = 'thief' "
      . "WHERE id = $id");

ok($t->eventually(sub {
    scalar $t->grep_log('cc-worker', qr/"msg":"job lease lost.*"job_id":$id\b/)
}, 10), 'the worker notices the lost lease');
is($t->sql("SELECT count(*) FROM audit_log WHERE target = 'job:$id'"), 0,
   "the run's audit row was rolled back");
is($t->sql("SELECT state || '/' || locked_by FROM jobs WHERE id = $id"),
   'running/thief', 'the job stays with the lease holder');
like($t->worker_request('cc-worker', GET => '/metrics')->{body},
     qr/^cc_jobs_lease_lost_total 1$/m, 'the lost lease is counted');

$t->done_testing;
