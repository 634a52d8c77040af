#!/usr/bin/perl

# Two workers on one queue share the work and never run a job twice.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;

use CC::Test;

my $t = CC::Test->new;
$t->start_pg;
$t->start_worker('worker', name => 'cc-worker-1');
$t->start_worker('worker', name => 'cc-worker-2');

my $n = 12;
# In the target list the function runs once per row (in FROM it would
# run once and be reused).
$t->sql_as_app(undef, q{SELECT count((cc_job_enqueue('noop', '{"sleep_ms": 150}')).id) }
                    . "FROM generate_series(1, $n)");
is($t->sql("SELECT count(*) FROM jobs"), $n, "$n jobs enqueued");

ok($t->eventually(sub {
    $t->sql("SELECT count(*) FROM jobs WHERE state = 'succeeded'") == $n
}, 30), "all $n jobs succeeded");
is($t->sql("SELECT count(*) FROM jobs WHERE attempts <> 1"), 0,
   'every job was claimed exactly once');
is($t->sql("SELECT count(*) FROM audit_log WHERE action = 'job.noop'"), $n,
   'one audit row per job');
is($t->sql("SELECT count(DISTINCT target) FROM audit_log"), $n,
   'no job left two audit rows');
is($t->sql("SELECT count(DISTINCT result->>'worker') FROM jobs"), 2,
   'both workers took jobs');

$t->done_testing;
