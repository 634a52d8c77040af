#!/usr/bin/perl

# SIGTERM to a busy cc-worker: it finishes the job in hand, then exits 0.

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
my $next = $t->sql_as_app(undef,
    q{SELECT id FROM cc_job_enqueue('noop', '{}', NULL, 5, now() + interval '1 hour')});
ok($t->eventually(sub {
    $t->sql("SELECT state FROM jobs WHERE id = $id") eq 'running'
}, 10), 'the job is running');

is($t->stop('cc-worker', 'TERM', 10), 0, 'the worker exits 0 on SIGTERM');
is($t->sql("SELECT state || '/' || attempts FROM jobs WHERE id = $id"),
   'succeeded/1', 'the job in hand was finished first');
is($t->sql("SELECT state FROM jobs WHERE id = $next"), 'queued',
   'no new job was started');
ok(!-e $t->socket_path('cc-worker'), 'the socket was removed');
ok(scalar $t->grep_log('cc-worker', qr/"msg":"stopped"/), 'the stop is logged');

$t->done_testing;
