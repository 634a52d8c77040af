#!/usr/bin/perl

# cc-worker survives a database restart: its /healthz says so while the
# database is away, and it listens and runs jobs again once it is back.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;

use CC::Test;

my $t = CC::Test->new;
$t->start_pg;
$t->start_worker('worker', env => { CC_JOB_POLL_MS => 60000 });

$t->stop_pg;
ok($t->eventually(sub {
    $t->worker_request('cc-worker', GET => '/healthz')->{status} == 503
}, 15), '/healthz is 503 while the database is away');

$t->start_pg;
ok($t->eventually(sub {
    $t->worker_request('cc-worker', GET => '/healthz')->{status} == 200
}, 15), '/healthz is 200 again once it is back');

my $id = $t->sql_as_app(undef, "SELECT id FROM cc_job_enqueue('noop', '{}')");
ok($t->eventually(sub {
    $t->sql("SELECT state FROM jobs WHERE id = $id") eq 'succeeded'
}, 10), 'a new job is picked up by notification');

$t->done_testing;
