#!/usr/bin/perl

# Jobs that cannot succeed: attempts exhausted end in the dead-letter state,
# a permanent error ends the job at once, and an unknown kind is not retried.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;

use CC::Test;

my $t = CC::Test->new;
$t->start_pg;
$t->start_worker('worker', env => {
    CC_JOB_BACKOFF_BASE_MS => 50,
    CC_JOB_BACKOFF_MAX_MS  => 100,
});

sub job { my ($id) = @_;
    my @f = split /\|/, $t->sql("SELECT state, attempts, "
        . "coalesce(last_error, ''), finished_at IS NOT NULL FROM jobs WHERE id = $id");
    return { state => $f[0], attempts => $f[1], error => $f[2], finished => $f[3] };
}

sub settled { my ($id) = @_;
    my $state;
    $t->eventually(sub {
        $state = job($id)->{state};
        return $state =~ /^(succeeded|failed|dead)$/;
    }, 20);
    return job($id);
}

# --- dead letter ------------------------------------------------------------------

my $dead = $t->sql_as_app(undef, q{SELECT id FROM cc_job_enqueue('noop',
    '{"fail_attempts": 100}', NULL, 3)});
my $j = settled($dead);
is($j->{state}, 'dead', 'a job failing every attempt ends dead');
is($j->{attempts}, 3, 'after exactly max_attempts attempts');
like($j->{error}, qr/attempt 3 fails/, 'the last error is kept');
is($j->{finished}, 't', 'a dead job is finished');

# --- permanent error ----------------------------------------------------------------

my $perm = $t->sql_as_app(undef, q{SELECT id FROM cc_job_enqueue('noop',
    '{"fail_attempts": 1, "fail": "permanent"}')});
$j = settled($perm);
is($j->{state}, 'failed', 'a permanent error fails the job');
is($j->{attempts}, 1, 'without a retry');
like($j->{error}, qr/permanent/, 'the error is recorded');

# --- bad payload and unknown kind ---------------------------------------------------

my $bad = $t->sql_as_app(undef, q{SELECT id FROM cc_job_enqueue('noop',
    '{"sleep_ms": "long"}')});
$j = settled($bad);
is($j->{state}, 'failed', 'an invalid payload fails the job');
is($j->{attempts}, 1, 'an invalid payload is not retried');

my $unknown = $t->sql_as_app(undef,
    q{SELECT id FROM cc_job_enqueue('no_such_kind', '{}')});
$j = settled($unknown);
is($j->{state}, 'failed', 'a kind without a handler fails');
is($j->{attempts}, 1, 'a kind without a handler is not retried');

# Nothing ran again afterwards.
sleep 1;
is(job($perm)->{attempts}, 1, 'the failed job stays at one attempt');
is($t->sql("SELECT count(*) FROM audit_log"), 0,
   'no failed run left an audit row');

my ($metrics) = $t->worker_request('cc-worker', 'GET', '/metrics')->{body};
like($metrics, qr/^cc_jobs_failed_total\{outcome="final"\} 4$/m,
     'metrics count the final failures');
like($metrics, qr/^cc_jobs_failed_total\{outcome="retry"\} 2$/m,
     'metrics count the failures that were retried');

$t->done_testing;
