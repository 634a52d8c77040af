#!/usr/bin/perl

# The sessions sweep (cc-worker's 'sessions.sweep' job, sql/009's
# cc_sessions_sweep): silent sessions become Stalled after their tenant's
# stall_after_minutes, open sessions past session_timeout_hours are
# classified from their last ESP status; finished and pre-provisioned
# (Pending) sessions are left alone; a second run changes nothing; a
# tenant's own job sweeps only that tenant.  Time is moved by back-dating
# rows, not by waiting.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;

use CC::Test;

my $t = CC::Test->new;
$t->start_pg;

my $a = '0a0a0a0a-0000-4000-8000-00000000000a';
my $b = '0b0b0b0b-0000-4000-8000-00000000000b';
my $device = '5d7c1b2a-3e4f-4a5b-8c6d-7e8f9a0b1c2d';
$t->sql("INSERT INTO tenants (id, name) VALUES ('$a', 'A'), ('$b', 'B')");
$t->sql("INSERT INTO devices (tenant_id, device_id) VALUES ('$a', '$device'), ('$b', '$device')");
# A keeps the defaults (120 minutes, 5 hours); B is stricter.
$t->sql("INSERT INTO monitor_settings (tenant_id, stall_after_minutes, session_timeout_hours)"
        . " VALUES ('$b', 10, 2)");

$t->start_worker('worker', env => { CC_JOB_POLL_MS => 200 });

my $n = 0;

# session(TENANT, status => ..., silent => '3 hours', age => '6 hours',
#         esp => [category, done, total]) -> id
sub session {
    my ($tenant, %o) = @_;
    my $id = sprintf('00000000-0000-4000-8000-%012d', ++$n);
    my ($cat, $done, $total) = @{ $o{esp} // [] };
    $t->sql(sprintf(
        "INSERT INTO enrollment_sessions (tenant_id, session_id, device_id, status,"
        . " started_at, last_progress_at, esp_category, esp_done, esp_total)"
        . " VALUES ('%s', '%s', '%s', '%s', now() - interval '%s', now() - interval '%s', %s, %s, %s)",
        $tenant, $id, $device, $o{status} // 'InProgress', $o{age} // '10 minutes',
        $o{silent} // '1 minute', defined $cat ? "'$cat'" : 'NULL', $done // 'NULL',
        $total // 'NULL'));
    return $id;
}

sub state_of {
    my ($id) = @_;
    return $t->sql("SELECT status FROM enrollment_sessions WHERE session_id = '$id'");
}

sub reason_of {
    my ($id) = @_;
    return $t->sql("SELECT coalesce(status_reason, '-') FROM enrollment_sessions WHERE session_id = '$id'");
}

# Enqueues a sweep as TENANT (undef: the platform) and waits for its end;
# returns "state|result".
sub sweep {
    my ($tenant) = @_;
    my $id = $t->sql_as_app($tenant, "SELECT id FROM cc_job_enqueue('sessions.sweep', '{}')");
    my $out = '';
    $t->eventually(sub {
        $out = $t->sql("SELECT state || '|' || coalesce(result::text, last_error, '')"
                       . " FROM jobs WHERE id = $id");
        return $out =~ /^(succeeded|failed|dead)\|/;
    }, 15);
    return $out;
}

my $a_silent   = session($a, silent => '3 hours', age => '3 hours');
my $a_busy     = session($a, silent => '30 minutes', age => '3 hours');
my $a_waiting  = session($a, age => '6 hours', esp => ['DeviceSetup', 3, 3]);
my $a_stuck    = session($a, status => 'Stalled', age => '6 hours', silent => '5 hours');
my $a_done     = session($a, status => 'Succeeded', age => '10 hours', silent => '10 hours');
my $a_sealed   = session($a, status => 'Pending', age => '10 hours', silent => '10 hours');
my $a_stalled  = session($a, status => 'Stalled', age => '3 hours', silent => '3 hours');
$t->sql("UPDATE enrollment_sessions SET status_reason = 'agent said so' WHERE session_id = '$a_stalled'");
my $b_silent   = session($b, silent => '15 minutes', age => '30 minutes');
my $b_partway  = session($b, age => '3 hours', esp => ['AccountSetup', 2, 4]);
my $b_finished = session($b, age => '3 hours', esp => ['AccountSetup', 4, 4]);

my $run = sweep(undef);
like($run, qr/^succeeded\|/, 'the platform\'s sessions.sweep job succeeds');
my ($result) = $run =~ /^\w+\|(.*)$/;
is_deeply(CC::Test::json_decode($result), { stalled => 2, classified => 4 },
          '... and reports what it changed');

is(state_of($a_silent), 'Stalled', 'a session silent past the default 120 minutes is Stalled');
is(reason_of($a_silent), 'No progress reported for 120 minutes', '... with the reason');
is(state_of($a_busy), 'InProgress', 'a session silent for less is not');
is(state_of($b_silent), 'Stalled', "a tenant's own stall_after_minutes applies (10 minutes)");
is(reason_of($b_silent), 'No progress reported for 10 minutes', '... and its reason says so');

is(state_of($a_waiting), 'AwaitingUser',
   'past the 5 h timeout, a finished DeviceSetup is classified AwaitingUser');
is(reason_of($a_waiting), 'Timed out after 5 h: ESP DeviceSetup, 3 of 3 subcategories completed',
   '... with the reading that led there');
is($t->sql("SELECT completed_at IS NOT NULL FROM enrollment_sessions WHERE session_id = '$a_waiting'"),
   't', '... and a completion time');
is(state_of($a_stuck), 'Incomplete', 'a Stalled session past the timeout, with no ESP status, is Incomplete');
is(state_of($b_partway), 'Failed', "past the tenant's 2 h timeout, an ESP stopped part way is Failed");
is(state_of($b_finished), 'Succeeded', '... and a finished AccountSetup is Succeeded');

is(state_of($a_done), 'Succeeded', 'a Succeeded session is left alone');
is(state_of($a_sealed), 'Pending', 'a Pending (pre-provisioned, sealed) session is left alone');
is(state_of($a_stalled), 'Stalled', 'a Stalled session within its timeout stays Stalled');
is(reason_of($a_stalled), 'agent said so', '... keeping the reason it had');

$run = sweep(undef);
is_deeply(CC::Test::json_decode(($run =~ /^\w+\|(.*)$/)[0]), { stalled => 0, classified => 0 },
          'a second sweep right after changes nothing');

# A tenant's job sweeps that tenant only.
my $a_later = session($a, silent => '4 hours', age => '4 hours');
my $b_later = session($b, silent => '1 hour', age => '1 hour');
$run = sweep($a);
like($run, qr/^succeeded\|/, "a tenant's sweep job succeeds");
is(state_of($a_later), 'Stalled', "... and sweeps the tenant's sessions");
is(state_of($b_later), 'InProgress', "... but not another tenant's");

$t->done_testing;
