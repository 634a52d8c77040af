#!/usr/bin/perl

# cc-worker retries a transiently failing job after an exponential backoff
# (base * 2^(attempt-1), capped), visible in the job's run_at, and the run
# that finally succeeds is recorded once.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;

use CC::Test;

my $t = CC::Test->new;
$t->start_pg;
$t->start_worker('worker', env => {
    CC_JOB_BACKOFF_BASE_MS => 400,
    CC_JOB_BACKOFF_MAX_MS  => 700,
    CC_JOB_POLL_MS         => 10000,
});

my $tenant = '0c0c0c0c-0000-4000-8000-00000000000c';
$t->sql("INSERT INTO tenants (id, name) VALUES ('$tenant', 'C')");

my $id = $t->sql_as_app($tenant,
    q{SELECT id FROM cc_job_enqueue('noop', '{"fail_attempts": 2}')});

# run_at and updated_at are set by the same UPDATE in cc_job_fail, so their
# difference is exactly the delay the worker asked for.
my %delay;
ok($t->eventually(sub {
    my ($state, $attempts, $delay) = split /\|/, $t->sql(
        "SELECT state, attempts, round(extract(epoch FROM run_at - updated_at)"
      . " * 1000) FROM jobs WHERE id = $id");
    $delay{$attempts} //= $delay if $state eq 'queued' && $attempts > 0;
    return $state eq 'succeeded';
}, 20), 'the job succeeds in the end');

is($delay{1}, 400, 'first retry waits the base delay');
is($delay{2}, 700, 'second retry doubles, capped at CC_JOB_BACKOFF_MAX_MS');

my ($attempts, $error, $result) = split /\|/, $t->sql(
    "SELECT attempts, coalesce(last_error, 'none'), result->>'attempt' "
  . "FROM jobs WHERE id = $id");
is($attempts, 3, 'two failed attempts, then a third that succeeded');
is($error, 'none', 'success clears the last error');
is($result, 3, 'the result comes from the third attempt');
is($t->sql("SELECT count(*) FROM audit_log WHERE target = 'job:$id'"), 1,
   'only the successful attempt left its audit row');
is($t->sql("SELECT detail->>'attempt' FROM audit_log WHERE target = 'job:$id'"),
   3, 'the audit row names the attempt');
is($t->sql("SELECT tenant_id FROM audit_log WHERE target = 'job:$id'"), $tenant,
   "the audit row belongs to the job's tenant");

my @failed = $t->grep_log('cc-worker', qr/"msg":"job failed".*"job_id":$id\b/);
is(scalar @failed, 2, 'each failed attempt is logged');
like($failed[0] // '', qr/"state":"queued"/, 'the log says the job was requeued');

$t->done_testing;
