#!/usr/bin/perl

# tools/agent-sim against the real stack (nginx with the shipped
# configuration and device certificates, cc-ingest, PostgreSQL): one device
# per scenario (success, app failure, stall), every delivered batch sent a
# second time as after a lost acknowledgement, and what PostgreSQL holds
# afterwards checked against what the simulator says it sent.  Then the
# agent's reaction to 413 (halve the batch), and short load runs (live,
# with sessions rendered ahead of time, open loop) whose acknowledged
# events must all be stored.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;

use CC::Test;
use CC::MonitorKit qw(start_monitor_stack registry_reached);

my $t = CC::Test->new;
my $sim_bin = $t->build . '/agent-sim';
plan skip_all => "no $sim_bin (make BUILD=... agent-sim)" unless -x $sim_bin;

my $tenant = '11111111-1111-4111-8111-111111111111';
my $stack = start_monitor_stack($t, sim_dir => 'azure',
                                tenants => [$tenant => 'Contoso']);
my $control = $stack->{control};

ok(registry_reached($t, $control, tenants => 1), 'the tenant reached nginx');

# Runs the simulator; returns (exit status, report, output).
sub agent_sim {
    my ($name, @args) = @_;
    my $report = $t->dir . "/$name.json";
    my @cmd = ($sim_bin, '--url', 'https://localhost:' . $t->port('agent'),
               '--ca', $t->certs . '/ca.pem', '--certs', $t->certs,
               '--dev-certs', $t->top . '/tools/dev-certs',
               '--tenant', $tenant, '--retry-scale', '0.01',
               '--report', $report, @args);
    my $out = qx{@{[ join ' ', map { CC::Stack::_shq($_) } @cmd ]} 2>&1};
    my $status = $? >> 8;
    open my $r, '<', $report or return ($status, undef, $out);
    my $json = CC::Test::json_decode(do { local $/; <$r> });
    return ($status, $json, $out);
}

# --- one device per scenario, every batch resent ----------------------------

my ($status, $report, $out) = agent_sim('scenarios', '--devices', 3,
    '--scenarios', 'success,failure,stall', '--apps', 2, '--batch', 20,
    '--seed', 7, '--resend');
is($status, 0, 'agent-sim enrolls one device per scenario and exits 0')
    or diag($out);
my %by = map { $_->{scenario} => $_ } @{ $report->{devices} // [] };
is_deeply([ sort keys %by ], [qw(failure stall success)],
          '... with one device of each scenario in its report');
ok($report->{resends} > 0, '... which sent delivered batches a second time');
is($report->{items_delivered},
   (eval { my $n = 0; $n += $_->{sessions}[0]{items} for values %by; $n } // -1),
   '... and every item it made was acknowledged');

for my $scenario (qw(success failure stall)) {
    my $dev = $by{$scenario} or next;
    my $s = $dev->{sessions}[0];
    my $sid = $s->{session_id};
    is($s->{register_status}, 200, "$scenario: the session was registered");
    is($t->sql("SELECT device_id FROM enrollment_sessions WHERE session_id = '$sid'"),
       $dev->{device_id}, "$scenario: ... to the device of its certificate");
    is($t->sql("SELECT serial_number FROM devices WHERE device_id = '$dev->{device_id}'"),
       $dev->{serial}, "$scenario: the device record has the serial number it sent");
    is($t->sql("SELECT count(*) FROM events WHERE session_id = '$sid'"), $s->{events},
       "$scenario: every event sent is stored ($s->{events})");
    is($t->sql("SELECT count(DISTINCT sequence) FROM events WHERE session_id = '$sid'"),
       $s->{events}, "$scenario: ... once, though every batch arrived twice");
    is($t->sql("SELECT min(sequence) || '-' || max(sequence) FROM events WHERE session_id = '$sid'"),
       "1-$s->{events}", "$scenario: ... numbered 1 to $s->{events} without gaps");
    is($t->sql("SELECT count(*) FROM session_trace WHERE session_id = '$sid'"),
       $s->{items} - $s->{events}, "$scenario: every Signal and DecisionTransition is stored once");
    is($t->sql("SELECT last_item_id FROM enrollment_sessions WHERE session_id = '$sid'"),
       $s->{items} - 1, "$scenario: the replay watermark is the last TelemetryItemId");
}

my %sid = map { $_ => $by{$_}{sessions}[0]{session_id} } keys %by;
is($t->sql("SELECT status || ' ' || phase || ' ' || outcome FROM enrollment_sessions WHERE session_id = '$sid{success}'"),
   'Succeeded 5 Succeeded', 'success: the session succeeded in Apps (User)');
is($t->sql("SELECT string_agg(phase::text, ',' ORDER BY sequence) FROM events WHERE session_id = '$sid{success}' AND event_type = 'esp_phase_changed'"),
   '1,2,3,4,5', 'success: ... after the five ESP phases in order');
is($t->sql("SELECT count(*) FROM events WHERE session_id = '$sid{success}' AND event_type = 'app_install_completed'"),
   4, 'success: ... and its four app installs');
is($t->sql("SELECT status FROM enrollment_sessions WHERE session_id = '$sid{failure}'"),
   'Failed', 'failure: the session failed');
like($t->sql("SELECT outcome FROM enrollment_sessions WHERE session_id = '$sid{failure}'"),
     qr/\(0x80070643\)$/, "failure: ... with the app's error code in the reason");
is($t->sql("SELECT count(*) FROM events WHERE session_id = '$sid{failure}' AND event_type IN ('app_install_failed', 'enrollment_failed')"),
   2, 'failure: ... after app_install_failed and enrollment_failed');
is($t->sql("SELECT event_type FROM events WHERE session_id = '$sid{stall}' ORDER BY sequence DESC LIMIT 1"),
   'session_stalled', 'stall: the last event stored is session_stalled');
is($t->sql("SELECT count(*) FROM events WHERE session_id = '$sid{stall}' AND event_type IN ('enrollment_complete', 'enrollment_failed')"),
   0, 'stall: ... and no terminal event');
is($t->sql("SELECT status FROM enrollment_sessions WHERE session_id = '$sid{stall}'"),
   'Stalled', 'stall: the session is Stalled');

# --- 413: the batch is halved --------------------------------------------

# 100 KB of filler in each app event's Data: a batch of 100 inflates past
# cc-ingest's 5 MiB, so the agent halves it until batches fit.
($status, $report, $out) = agent_sim('halving', '--devices', 1, '--apps', 3,
    '--batch', 100, '--pad', 100_000, '--seed', 8);
is($status, 0, 'a device whose batches are too large finishes') or diag($out);
ok(($report->{telemetry_statuses}{413} // 0) >= 1, '... after a 413');
ok($report->{halvings} >= 1, '... on which it halved its batch');
is($report->{dropped}, 0, '... dropping nothing');
my $hs = $report->{devices}[0]{sessions}[0] // {};
is($t->sql("SELECT count(*) FROM events WHERE session_id = '" . ($hs->{session_id} // '') . "'"),
   $hs->{events}, '... and every one of its events is stored');

# --- 5xx: retried -------------------------------------------------------------

# cc-ingest goes away in the middle of a session (nginx answers 503) and
# comes back; the device retries until its batches are stored, once each.
my $report_file = $t->dir . '/outage.json';
my $stored = $t->sql("SELECT count(*) FROM events");
my $pid = fork // die "fork: $!";
if ($pid == 0) {
    my @cmd = ($sim_bin, '--url', 'https://localhost:' . $t->port('agent'),
               '--ca', $t->certs . '/ca.pem', '--certs', $t->certs,
               '--dev-certs', $t->top . '/tools/dev-certs', '--tenant', $tenant,
               '--apps', 2, '--batch', 5, '--interval', '0.25s', '--seed', 10,
               '--retry-scale', '0.01', '--report', $report_file);
    open STDOUT, '>', $t->dir . '/outage.out';
    open STDERR, '>&', \*STDOUT;
    exec @cmd or exit 99;
}
ok($t->eventually(sub { $t->sql("SELECT count(*) FROM events") > $stored }, 10),
   'a device sends its first batches');
$t->stop('cc-ingest');
select(undef, undef, undef, 1.0);
$t->start_worker('ingest');
waitpid($pid, 0);
is($? >> 8, 0, 'a device whose ingest went away for a second finishes');
open my $of, '<', $report_file or die "$report_file: $!";
$report = CC::Test::json_decode(do { local $/; <$of> }) // {};
ok(($report->{telemetry_statuses}{503} // 0) >= 1, '... after answers of 503');
ok($report->{retries} >= 1, '... which it retried');
my $os = $report->{devices}[0]{sessions}[0] // {};
is($t->sql("SELECT count(*) || ' ' || count(DISTINCT sequence) FROM events WHERE session_id = '"
           . ($os->{session_id} // '') . "'"),
   "$os->{events} $os->{events}", '... and every event of its session is stored once');

# --- 403: the agent stops ---------------------------------------------------------

($status, $report, $out) = agent_sim('unknown', '--tenant', '99999999-9999-4999-8999-999999999999',
                                     '--seed', 12);
is($status, 1, 'a device of an unknown tenant stops with an error');
is($report->{devices}[0]{outcome}, 'registration_refused',
   '... because its registration was refused (401/403 stop the agent)');
is($report->{items_delivered}, 0, '... having delivered nothing');

# --- load mode ---------------------------------------------------------------

# A device may make 100 requests a minute; a load run enrolls each device
# many times over, so the tenant's limit is raised, as bench/ingest does.
$t->sql(qq{UPDATE tenants SET limits = '{"agent_per_min": 1000000}' WHERE id = '$tenant'});
ok($t->eventually(sub {
    my (undef, undef, $body) = eval {
        CC::Stack::unix_request($control, 'GET', "/registry/tenants/$tenant") };
    return ((CC::Test::json_decode($body) // {})->{limits}{agent_per_min} // 0) == 1000000;
}, 10), "the tenant's raised agent limit reached nginx");

my $before = $t->sql("SELECT count(*) FROM events");
# (the agent's waits after a failed config fetch, 10 + 30 + 60 s while the
# endpoint is missing, shrink to 0.1 s)
($status, $report, $out) = agent_sim('load', '--devices', 4, '--duration', '2s',
    '--scenarios', 'success,failure', '--batch', 50, '--seed', 9,
    '--retry-scale', '0.001');
is($status, 0, 'a two-second load run ends by itself') or diag($out);
ok($report->{events_delivered} > 0, '... having delivered events');
like($out, qr/^events\/s: \d+$/m, '... and reports events per second');
like($out, qr/^batch latency: p50 [\d.]+ ms, p99 [\d.]+ ms/m, '... and batch latency percentiles');
is($t->sql("SELECT count(*) FROM events") - $before, $report->{events_delivered},
   '... and every event acknowledged is stored');

# Stored whole: every complete session of a report has its events once,
# numbered 1 to its last.
sub complete_sessions_stored {
    my ($r) = @_;
    my @done = grep { $_->{complete} } map { @{ $_->{sessions} } } @{ $r->{devices} // [] };
    return 0 unless @done;
    for my $s (@done) {
        return 0 unless $t->sql("SELECT count(*) || ' ' || count(DISTINCT sequence) || ' '"
                                . " || min(sequence) || ' ' || max(sequence) FROM events"
                                . " WHERE session_id = '$s->{session_id}'")
                        eq "$s->{events} $s->{events} 1 $s->{events}";
    }
    return 1;
}

# --- load mode with sessions rendered ahead of time -------------------------

$before = $t->sql("SELECT count(*) FROM events");
($status, $report, $out) = agent_sim('prepared', '--devices', 2, '--duration', '2s',
    '--scenarios', 'success,failure', '--batch', 50, '--seed', 13,
    '--retry-scale', '0.001', '--gzip-level', 1, '--prepare-rate', 2000);
is($status, 0, 'a load run with its sessions prepared ahead of time ends by itself')
    or diag($out);
ok($report->{sessions_prepared} > 0, '... having prepared sessions');
is(scalar(grep { !$_->{sessions}[0]{prepared} } @{ $report->{devices} // [] }), 0,
   '... which each device sent first');
like($out, qr/^agent-sim CPU: [\d.]+ s while sending \([\d.]+ ms per batch\)/m,
     '... and says what sending cost it');
is($t->sql("SELECT count(*) FROM events") - $before, $report->{events_delivered},
   '... every event acknowledged is stored');
ok(complete_sessions_stored($report),
   '... and every session it finished is stored whole, numbered 1 to its last event');

# A prepared session is packed in batches of 100; its batches are refused
# (413), so it is unpacked and sent in halves, as a live one would be.
($status, $report, $out) = agent_sim('prepared-halving', '--devices', 1, '--apps', 3,
    '--batch', 100, '--pad', 100_000, '--seed', 14, '--duration', '3s',
    '--prepare-rate', 1);
is($status, 0, 'a load run whose prepared batches are too large ends by itself')
    or diag($out);
ok($report->{sessions_prepared} >= 1 && $report->{halvings} >= 1,
   '... after halving the batches of a prepared session');
ok(complete_sessions_stored($report), '... whose events are all stored once');

($status, undef, $out) = agent_sim('too-much', '--devices', 1, '--duration', '60s',
    '--seed', 13, '--prepare-rate', 100_000, '--prepare-mb', 1);
is($status, 2, 'a run whose prepared sessions would not fit in --prepare-mb does not start');
like($out, qr/more prepared batches than --prepare-mb 1 allows/, '... and says so');

# --- app installs drawn from a range ----------------------------------------

# With --apps MIN-MAX each session draws its own count, so a fleet's
# sessions differ in length (bench/ingest: identical sessions ended in step).
($status, $report, $out) = agent_sim('apps-range', '--devices', 8,
    '--apps', '2-9', '--batch', 50, '--seed', 16);
is($status, 0, 'a run with --apps 2-9 completes') or diag($out);
my @planned = split /,/, $t->sql(
    "SELECT string_agg(DISTINCT data ->> 'appsPlanned', ',') FROM events"
  . " WHERE event_type = 'autopilot_profile' AND session_id IN ("
  . join(',', map { "'$_->{sessions}[0]{session_id}'" } @{ $report->{devices} // [] })
  . ")");
ok(@planned >= 3, '... and its sessions plan different numbers of apps ('
   . join(' ', sort { $a <=> $b } @planned) . ')');
is(scalar(grep { $_ < 2 || $_ > 9 } @planned), 0, '... all within 2 to 9');

($status, undef, $out) = agent_sim('apps-usage', '--apps', '9-2');
is($status, 2, '--apps with its bounds reversed is a usage error');
like($out, qr/bad value: 9-2/, '... which names the value');

# --- open loop ------------------------------------------------------------

$before = $t->sql("SELECT count(*) FROM events");
($status, $report, $out) = agent_sim('open', '--devices', 4, '--duration', '2s',
    '--rate', 1000, '--scenarios', 'success,failure', '--batch', 50, '--seed', 15,
    '--retry-scale', '0.001');
is($status, 0, 'an open-loop run ends by itself') or diag($out);
is($report->{mode}, 'open', '... in the open loop');
ok($report->{events_delivered} >= 0.8 * 1000 * 2,
   '... delivering about the rate it offered (1000 events/s for 2 s)');
ok($report->{events_delivered} <= 1000 * 2 + 4 * 50,
   '... and never more: no device sends ahead of its schedule');
like($out, qr/^open loop: 1000 events\/s offered, \d+ batches sent more than 10 ms late/m,
     '... and says how many batches started late');
is($t->sql("SELECT count(*) FROM events") - $before, $report->{events_delivered},
   '... every event acknowledged is stored');

($status, undef, $out) = agent_sim('rate-usage', '--rate', 1000);
is($status, 2, '--rate without --duration is a usage error');

$t->done_testing;
