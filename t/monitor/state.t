#!/usr/bin/perl

# The session state machine (agent-protocol.md 9) as agents drive it:
# telemetry batches posted to cc-ingest's socket (identity headers as nginx
# sets them), read into a summary by ingest_state.c and applied by
# sql/009_session_state.sql's cc_session_apply_batch() under the tenant's
# row-level security: the per-batch rules, stalled and healed, phases and
# their times, terminal statuses kept, the timeout classification.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;

use CC::Test;
use CC::MonitorKit qw(telemetry_item);

my $t = CC::Test->new;
$t->start_pg;

my $tenant = '11111111-1111-4111-8111-111111111111';
my $other = '22222222-2222-4222-8222-222222222222';
my $device = '5d7c1b2a-3e4f-4a5b-8c6d-7e8f9a0b1c2d';
$t->sql("INSERT INTO tenants (id, name) VALUES ('$tenant', 'A'), ('$other', 'B')");
$t->sql("INSERT INTO devices (tenant_id, device_id) VALUES ('$tenant', '$device')");
$t->start_worker('ingest');

my $n = 0;

# A new session of the tenant; returns its id.
sub new_session {
    my $id = sprintf('00000000-0000-4000-8000-%012d', ++$n);
    $t->sql("INSERT INTO enrollment_sessions (tenant_id, session_id, device_id)"
            . " VALUES ('$tenant', '$id', '$device')");
    return $id;
}

my $seq = 0;

# An event row as ingest_batch.c makes it.
sub ev {
    my ($type, %over) = @_;
    $seq++;
    return { sequence => $seq, item_id => $seq, event_type => $type,
             event_time => sprintf('2026-11-23T10:%02d:%02dZ', int($seq / 60) % 60, $seq % 60),
             phase => -1, message => "event $seq", %over };
}

# Posts the rows as one telemetry batch of the session, as an agent's
# Events; dies unless cc-ingest acknowledges it.
sub apply {
    my ($session, @rows) = @_;
    my @items = map {
        telemetry_item($tenant, $session, RowKey => "r$_->{sequence}",
            TelemetryItemId => $_->{item_id}, PayloadJson => {
                SessionId => $session, TenantId => $tenant, Sequence => $_->{sequence},
                EventType => $_->{event_type}, Timestamp => $_->{event_time},
                Phase => $_->{phase}, Message => $_->{message}, Data => $_->{data} })
    } @rows;
    my $r = $t->worker_request('cc-ingest', 'POST', '/api/agent/telemetry',
        { 'X-CC-Tenant' => $tenant, 'X-CC-Device' => $device,
          'Content-Type' => 'application/json' }, CC::Test::json_encode(\@items));
    die "batch refused: $r->{status} $r->{body}\n" unless $r->{status} == 200;
    return $r;
}

sub field {
    my ($session, $col) = @_;
    return $t->sql("SELECT $col FROM enrollment_sessions WHERE session_id = '$session'");
}

# --- rule 1 and terminal statuses -------------------------------------------

my $s = new_session();
apply($s, ev('agent_started'), ev('app_install_started'));
is(field($s, q{status || ' ' || phase || ' ' || last_item_id}), "InProgress -1 $seq",
   'ordinary events leave the session InProgress, and move the replay watermark');
apply($s, ev('enrollment_complete', event_time => '2026-11-23T11:00:00Z',
             data => { completionSource => 'esp' }));
is(field($s, 'status'), 'Succeeded', 'enrollment_complete makes the session Succeeded');
is(field($s, q{to_char(completed_at AT TIME ZONE 'UTC', 'HH24:MI:SS')}), '11:00:00',
   '... completed at the event\'s Timestamp');
is(field($s, 'status_reason'), 'Enrollment completed', '... with a reason people can read');
apply($s, ev('app_tracking_summary'), ev('agent_shutting_down', data => { reason => 'max_lifetime' }));
is(field($s, 'status'), 'Succeeded', 'late events after the terminal one leave it Succeeded');
apply($s, ev('enrollment_failed', data => { errorCode => '0x1' }));
is(field($s, 'status'), 'Succeeded', 'even a late enrollment_failed does not overwrite Succeeded');

# --- rule order within a batch ---------------------------------------------

$s = new_session();
apply($s, ev('esp_failure', message => 'ESP failed'), ev('enrollment_complete'));
is(field($s, 'status'), 'Succeeded',
   'enrollment_complete wins over an earlier esp_failure in the same batch (rule 1 first)');

$s = new_session();
apply($s, ev('esp_failure', message => 'ESP timed out'),
      ev('enrollment_failed', message => 'App install failed',
         data => { errorCode => '0x87D1041C' }));
is(field($s, 'status'), 'Failed', 'enrollment_failed makes the session Failed');
is(field($s, 'status_reason'), 'App install failed (0x87D1041C)',
   '... the reason is the message and the error code (rule 2 before rule 3)');

$s = new_session();
apply($s, ev('esp_failure', message => 'Device setup failed'));
is(field($s, 'status'), 'Failed', 'esp_failure alone makes the session Failed');
is(field($s, 'status_reason'), 'Device setup failed', '... without an error code, just the message');

$s = new_session();
apply($s, ev('gather_rules_collection_completed'));
is(field($s, 'status'), 'Succeeded', 'gather_rules_collection_completed makes it Succeeded (rule 4)');

# --- pre-provisioning --------------------------------------------------------

$s = new_session();
apply($s, ev('whiteglove_complete'));
is(field($s, 'status'), 'Pending', 'whiteglove_complete makes the session Pending');
apply($s, ev('whiteglove_resumed'));
is(field($s, 'status'), 'InProgress', 'whiteglove_resumed on a Pending session resumes it');
my $s2 = new_session();
apply($s2, ev('session_stalled'));
apply($s2, ev('whiteglove_resumed'));
is(field($s2, 'status'), 'InProgress',
   'whiteglove_resumed is an ordinary event for a session that is not Pending (it heals)');

my $s3 = new_session();
apply($s3, ev('esp_provisioning_status', message => "ESP provisioning status: DeviceSetup \x{2014} 2 of 2 subcategories completed"),
      ev('whiteglove_resumed'), ev('agent_shutting_down', data => { reason => 'max_lifetime' }));
is(field($s3, 'status'), 'AwaitingUser',
   'whiteglove_resumed on a session that is not Pending does not hide a later rule (7)');

# --- stalled and healed --------------------------------------------------------

$s = new_session();
apply($s, ev('session_stalled', message => 'No ESP progress for 60 minutes'));
is(field($s, 'status'), 'Stalled', 'session_stalled makes the session Stalled');
is(field($s, 'status_reason'), 'No ESP progress for 60 minutes', '... with the agent\'s message as the reason');
apply($s, ev('performance_snapshot'), ev('stall_probe_result'), ev('power_state_changed'));
is(field($s, 'status'), 'Stalled', 'periodic events do not heal a Stalled session');
apply($s, ev('app_install_completed'));
is(field($s, 'status'), 'InProgress', 'a non-periodic event heals it back to InProgress');
is(field($s, q{coalesce(status_reason, '-')}), '-', '... and clears the stall reason');
apply($s, ev('app_install_completed'), ev('session_stalled'));
is(field($s, 'status'), 'Stalled', 'the last word of a batch decides: session_stalled after progress stalls');
apply($s, ev('session_stalled'), ev('desktop_arrived'));
is(field($s, 'status'), 'InProgress', '... and progress after session_stalled heals');

# --- phases --------------------------------------------------------------------

$s = new_session();
apply($s, ev('esp_phase_changed', phase => 2, event_time => '2026-11-23T10:00:00Z'),
      ev('app_install_started', phase => -1));
is(field($s, 'phase'), 2, 'esp_phase_changed moves the session\'s phase');
apply($s, ev('phase_transition', phase => 3, event_time => '2026-11-23T10:07:30Z'),
      ev('esp_phase_changed', phase => 4, event_time => '2026-11-23T10:20:00Z'));
is(field($s, 'phase'), 4, 'the last declaration of a batch is the phase');
is(field($s, q{phase_times ->> '2'}), '2026-11-23T10:00:00.000000Z', 'each phase keeps when it began');
is(field($s, q{to_char((phase_times ->> '4')::timestamptz - (phase_times ->> '3')::timestamptz, 'MI:SS')}),
   '12:30', '... so a phase\'s duration is the next start minus its own');
apply($s, ev('esp_phase_changed', phase => 2, event_time => '2026-11-23T12:00:00Z'));
is(field($s, q{phase_times ->> '2'}), '2026-11-23T10:00:00.000000Z',
   'a phase declared again keeps its first start');
apply($s, ev('esp_phase_changed', phase => -1));
is(field($s, 'phase'), 2, 'a declaration of phase Unknown (-1) does not move the phase');

# --- the timeout classification --------------------------------------------

sub esp { ev('esp_provisioning_status', message => "ESP provisioning status: $_[0] \x{2014} $_[1] of $_[2] subcategories completed") }

$s = new_session();
apply($s, esp('DeviceSetup', 3, 3), ev('agent_shutting_down', data => { reason => 'max_lifetime' }));
is(field($s, 'status'), 'AwaitingUser', 'max lifetime after a finished DeviceSetup: AwaitingUser (rule 7)');
like(field($s, 'status_reason'), qr/^The agent reached its maximum lifetime: ESP DeviceSetup, 3 of 3/,
     '... and the reason says how it was classified');

$s = new_session();
apply($s, esp('AccountSetup', 2, 4), esp('AccountSetup', 4, 4),
      ev('enrollment_failed', data => { failureType => 'agent_timeout' }));
is(field($s, 'status'), 'Succeeded',
   'enrollment_failed with agent_timeout is classified: a finished AccountSetup is Succeeded (rule 2)');

$s = new_session();
apply($s, esp('DeviceSetup', 1, 5), ev('agent_shutting_down', data => { reason => 'max_lifetime' }));
is(field($s, 'status'), 'Failed', 'an ESP stopped part way is classified Failed');

$s = new_session();
apply($s, ev('agent_shutting_down', data => { reason => 'max_lifetime' }));
is(field($s, 'status'), 'Incomplete', 'without any ESP status the classification is Incomplete');
$s = new_session();
apply($s, ev('agent_shutting_down', data => { reason => 'user_logoff' }));
is(field($s, 'status'), 'InProgress', 'agent_shutting_down for another reason changes nothing');

# --- idempotency, row-level security --------------------------------------------

$s = new_session();
my @batch = (ev('esp_phase_changed', phase => 3), ev('enrollment_failed', message => 'x'));
apply($s, @batch);
my $before = field($s, q{concat_ws('|', status, status_reason, phase, phase_times, completed_at)});
apply($s, @batch);
is(field($s, q{concat_ws('|', status, status_reason, phase, phase_times, completed_at)}), $before,
   'a retried batch sets the same state again');

$s = new_session();
my $json = CC::Test::json_encode({ count => 1, ruleRank => 1,
    rule => { event_type => 'enrollment_complete', event_time => '2026-11-23T11:00:00Z' } });
is($t->sql_as_app($other, "SELECT count(*) FROM cc_session_apply_batch('$s', '$json'::jsonb, 1)"
                         . " WHERE status IS NOT NULL"), 0,
   'another tenant cannot move the session (row-level security)');
is(field($s, 'status'), 'InProgress', '... it is unchanged');

$t->done_testing;
