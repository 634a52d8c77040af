#!/usr/bin/perl

# Leases: a worker killed mid-job loses the job to another worker once its
# lease runs out, and the job's effects happen exactly once; a job running
# longer than its lease keeps it through the heartbeat.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Time::HiRes qw(sleep time);

use CC::Test;

my $t = CC::Test->new;
$t->start_pg;

my %fast = (CC_JOB_LEASE_SECONDS => 3, CC_JOB_POLL_MS => 60000);

sub job { my ($id) = @_;
    my @f = split /\|/, $t->sql("SELECT state, attempts, coalesce(locked_by, '') "
                              . "FROM jobs WHERE id = $id");
    return { state => $f[0], attempts => $f[1], locked_by => $f[2] };
}

sub audit_rows { my ($id) = @_;
    return $t->sql("SELECT count(*) FROM audit_log WHERE action = 'job.noop' "
                 . "AND target = 'job:$id'");
}

# --- kill -9 mid-job ----------------------------------------------------------------

$t->start_worker('worker', name => 'cc-worker-a', env => { %fast });
my $id = $t->sql_as_app(undef,
    q{SELECT id FROM cc_job_enqueue('noop', '{"sleep_ms": 2000}')});
ok($t->eventually(sub { job($id)->{state} eq 'running' }, 10),
   'worker a started the job');
is(job($id)->{locked_by}, 'cc-worker-a', 'worker a holds the lease');

$t->stop('cc-worker-a', 'KILL');
my $killed = time;
is(job($id)->{state}, 'running', 'the killed worker left the job running');
is(audit_rows($id), 0, 'the killed run left no effect');

$t->start_worker('worker', name => 'cc-worker-b', env => { %fast });
ok($t->eventually(sub { job($id)->{state} eq 'succeeded' }, 15),
   'worker b completed the job');
cmp_ok(time - $killed, '>', 2, 'only after the lease ran out');
is(job($id)->{attempts}, 2, 'the second attempt completed it');
is(audit_rows($id), 1, 'its effect happened exactly once');
is($t->sql("SELECT result->>'worker' FROM jobs WHERE id = $id"), 'cc-worker-b',
   'the result comes from worker b');

# --- the heartbeat keeps a long job's lease ------------------------------------------

# 4.5 s of work under a 3 s lease, with a second worker waiting to steal it.
$t->start_worker('worker', name => 'cc-worker-c', env => { %fast });
$id = $t->sql_as_app(undef,
    q{SELECT id FROM cc_job_enqueue('noop', '{"sleep_ms": 4500}')});
ok($t->eventually(sub { job($id)->{state} eq 'succeeded' }, 20),
   'the long job completed');
is(job($id)->{attempts}, 1, 'in one attempt: the lease never ran out');
is(audit_rows($id), 1, 'its effect happened once');

my $extensions = 0;
for my $w ('cc-worker-b', 'cc-worker-c') {
    my $m = $t->worker_request($w, 'GET', '/metrics')->{body};
    $extensions += $1 if $m =~ /^cc_job_lease_extensions_total (\d+)$/m;
}
cmp_ok($extensions, '>=', 3, 'the heartbeat extended the lease every lease/3');

$t->done_testing;
