#!/usr/bin/perl

# A retried telemetry batch never stores an event twice (agent-protocol.md 7,
# Idempotency), now that the session's TelemetryItemId watermark decides
# (sql/013_ingest_batch.sql): batches above it are stored as they are, and
# a batch reaching below it stores only the events whose Sequence is new.
# Through the shipped nginx configuration with a real device certificate.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use POSIX ();

use CC::Test;
use CC::MonitorKit qw(start_monitor_stack registry_reached device_headers
                      agent_request telemetry_item);

my $t = CC::Test->new;
my $contoso = '11111111-1111-4111-8111-111111111111';
my $stack = start_monitor_stack($t, tenants => [$contoso => 'Contoso']);
ok(registry_reached($t, $stack->{control}, tenants => 1), 'the tenant reached nginx');

my $device = '7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
my @cert = $t->device_cert($device, $contoso);
my $n = 0;

sub new_session { return sprintf('5e5510e0-0000-4000-8000-%012d', ++$n) }

# An Event item; TelemetryItemId is left out when $item_id is undef.
sub event_item {
    my ($session, $item_id, $seq, %over) = @_;
    return telemetry_item($contoso, $session, RowKey => "r_$seq",
        defined $item_id ? (TelemetryItemId => $item_id) : (),
        PayloadJson => {
            SessionId => $session, TenantId => $contoso, Sequence => $seq,
            Timestamp => sprintf('2026-11-24T01:00:%02dZ', $seq % 60),
            EventType => 'app_install_started', Phase => -1,
            Message => "event $seq", %over });
}

# Events with TelemetryItemId = Sequence - 1, as the agent numbers a
# session without signals.
sub events { my ($session, @seqs) = @_; return map { event_item($session, $_ - 1, $_) } @seqs }

sub send_batch {
    my (@items) = @_;
    return agent_request($t, '/api/agent/telemetry', cert => \@cert,
                         headers => { device_headers(),
                                      'Content-Type' => 'application/json' },
                         body => CC::Test::json_encode(\@items));
}

sub stored {
    my ($session) = @_;
    return $t->sql("SELECT coalesce(string_agg(sequence::text, ',' ORDER BY sequence), '')"
                 . " FROM events WHERE session_id = '$session'");
}

sub watermark {
    my ($session) = @_;
    return $t->sql("SELECT last_item_id FROM enrollment_sessions WHERE session_id = '$session'");
}

# --- the watermark ---------------------------------------------------------

my $s = new_session();
is(send_batch(events($s, 1 .. 4))->{status}, 200, 'a first batch is acknowledged');
is(stored($s), '1,2,3,4', '... and its events are stored');
is(watermark($s), 3, '... and the watermark is its highest item id');

my $r = send_batch(events($s, 3 .. 6));
is($r->{status}, 200, 'a batch overlapping the stored items is acknowledged');
is($r->{json}{eventsProcessed}, 4, '... counting every item it read');
is(stored($s), '1,2,3,4,5,6', '... and only its new events are stored');
is(watermark($s), 5, '... and the watermark moves to its highest item id');

is(send_batch(events($s, 1 .. 4))->{status}, 200, 'an old batch resent is acknowledged');
is(stored($s), '1,2,3,4,5,6', '... and stores nothing');
is(watermark($s), 5, '... and the watermark does not move back');

is(send_batch(events($s, 7 .. 8))->{status}, 200, 'the next batch above the watermark is acknowledged');
is(stored($s), '1,2,3,4,5,6,7,8', '... and stored whole');

# --- items without an id ---------------------------------------------------

my $u = new_session();
my @unnumbered = map { event_item($u, undef, $_) } 1 .. 3;
is(send_batch(@unnumbered)->{status}, 200, 'a batch of items without TelemetryItemId is acknowledged');
is(stored($u), '1,2,3', '... and stored');
is(send_batch(@unnumbered, event_item($u, undef, 4))->{status}, 200,
   'the same items resent with one more are acknowledged');
is(stored($u), '1,2,3,4', '... and only the new Sequence is stored');
is(send_batch(event_item($u, undef, 5), event_item($u, undef, 5))->{status}, 200,
   'a batch carrying one Sequence twice is acknowledged');
is(stored($u), '1,2,3,4,5', '... and stores it once');

# --- a Sequence repeated -------------------------------------------------

# An agent that breaks the numbering (items new by their ids, a Sequence
# seen before) still stores each Sequence once.
my $d = new_session();
is(send_batch(event_item($d, 0, 1), event_item($d, 1, 1))->{status}, 200,
   'a new batch carrying one Sequence twice under two item ids is acknowledged');
is(stored($d), '1', '... and stores it once');
is(send_batch(event_item($d, 2, 1), event_item($d, 3, 2))->{status}, 200,
   'a batch above the item watermark repeating a stored Sequence is acknowledged');
is(stored($d), '1,2', '... and stores only the new Sequence');
is(send_batch(event_item($d, 4, 4), event_item($d, 5, 3))->{status}, 200,
   'a batch whose Sequences descend is acknowledged');
is(stored($d), '1,2,3,4', '... and stores both, once');

# --- two copies at once ----------------------------------------------------

# The agent resends a batch whose acknowledgement it did not get while the
# first copy may still be in flight; the session row lock orders them.
my $c = new_session();
is(send_batch(events($c, 1))->{status}, 200, 'a session is started');
my @copies = events($c, 2 .. 41);
my @pids;
for my $copy (1 .. 4) {
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        my $status = eval { send_batch(@copies)->{status} } // 0;
        POSIX::_exit($status == 200 ? 0 : 1);
    }
    push @pids, $pid;
}
my $acknowledged = grep { waitpid($_, 0) == $_ && $? == 0 } @pids;
is($acknowledged, 4, 'four copies of one batch sent at once are all acknowledged');
is($t->sql("SELECT count(*) || '/' || count(DISTINCT sequence) FROM events WHERE session_id = '$c'"),
   '41/41', '... and every event is stored exactly once');
is(watermark($c), 40, '... with the watermark at the batch\'s highest item id');

# --- trace items -----------------------------------------------------------

my $tr = new_session();
my @trace = (
    telemetry_item($contoso, $tr, Kind => 'Signal', TelemetryItemId => 0,
                   RowKey => sprintf('%019d', 0),
                   PayloadJson => { SessionSignalOrdinal => 0, Kind => 'EspPhaseChanged',
                                    OccurredAtUtc => '2026-11-24T01:00:00Z' }),
    telemetry_item($contoso, $tr, Kind => 'DecisionTransition', TelemetryItemId => 1,
                   RowKey => sprintf('%010d', 1),
                   PayloadJson => { StepIndex => 1, Trigger => 'EspPhaseChanged' }),
    event_item($tr, 2, 1));
is(send_batch(@trace)->{status}, 200, 'a batch of a signal, its transition and an event is acknowledged');
is(send_batch(@trace)->{status}, 200, '... and acknowledged again when resent');
is($t->sql("SELECT string_agg(kind || ':' || ordinal || ':' || coalesce(occurred_at::text, '-'), ' '"
         . " ORDER BY kind) FROM session_trace WHERE session_id = '$tr'"),
   'DecisionTransition:1:- Signal:0:2026-11-24 01:00:00+00',
   '... with each trace row stored once, with its time when it has one');
is(stored($tr), '1', '... and its event once');

done_testing;
