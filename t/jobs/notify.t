#!/usr/bin/perl

# An idle cc-worker sleeps on LISTEN cc_jobs: a new job wakes it at once,
# long before its poll interval; a job due later wakes it when it is due.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Time::HiRes qw(sleep time);

use CC::Test;

my $t = CC::Test->new;
$t->start_pg;
$t->start_worker('worker', env => { CC_JOB_POLL_MS => 60000 });

ok($t->eventually(sub {
    scalar $t->grep_log('cc-worker', qr/listening for job notifications/)
}, 10), 'the worker listens for notifications');
sleep 0.5;      # let it go idle in its 60 s wait

my $t0 = time;
my $id = $t->sql_as_app(undef, "SELECT id FROM cc_job_enqueue('noop', '{}')");
ok($t->eventually(sub {
    $t->sql("SELECT state FROM jobs WHERE id = $id") eq 'succeeded'
}, 10), 'the job ran');
cmp_ok(time - $t0, '<', 3, 'within seconds of a 60 s poll interval');

# A job due in 1.5 s: no notification comes when it becomes due, so the
# worker must have slept until cc_job_next_ready(), not for 60 s.
$id = $t->sql_as_app(undef, "SELECT id FROM cc_job_enqueue('noop', '{}', NULL, 5, "
                          . "now() + interval '1500 milliseconds')");
$t0 = time;
ok($t->eventually(sub {
    $t->sql("SELECT state FROM jobs WHERE id = $id") eq 'succeeded'
}, 10), 'the delayed job ran');
my $took = time - $t0;
cmp_ok($took, '>', 1.2, 'not before it was due');
cmp_ok($took, '<', 4, 'soon after it was due');

$t->done_testing;
