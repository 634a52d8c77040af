#!/usr/bin/perl

# cc-ingest passes a telemetry batch's columns to cc_ingest_batch as binary
# arrays (workers/cc-ingest/ingest_store.c), converting every timestamp
# itself.  What it stores must be exactly what PostgreSQL's own text input
# would have stored: for each timestamp shape the agent may send (every one
# ingest_is_timestamp() accepts), event_time and a signal's occurred_at
# equal '<input>'::timestamptz, including fractions rounded to the
# microsecond with their carries, offsets, leap days and the ends of the
# 4-digit years; a timestamp without an offset follows the connection's
# TimeZone, as text did; and strings and JSON arrive intact.
# Through the shipped nginx configuration with a real device certificate.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Digest::MD5 ();
use Encode ();

use CC::Test;
use CC::MonitorKit qw(start_monitor_stack registry_reached device_headers
                      agent_request telemetry_item);

my $t = CC::Test->new;
my $contoso = '11111111-1111-4111-8111-111111111111';
my $stack = start_monitor_stack($t, tenants => [$contoso => 'Contoso']);
ok(registry_reached($t, $stack->{control}, tenants => 1), 'the tenant reached nginx');

my $device = '6b2a1c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4e';
my @cert = $t->device_cert($device, $contoso);
my $n = 0;

sub new_session { return sprintf('b1a2b3c4-0000-4000-8000-%012d', ++$n) }

sub send_batch {
    my (@items) = @_;
    return agent_request($t, '/api/agent/telemetry', cert => \@cert,
                         headers => { device_headers(),
                                      'Content-Type' => 'application/json' },
                         body => CC::Test::json_encode(\@items));
}

# Event $seq (TelemetryItemId $seq - 1) at $time.
sub event_item {
    my ($session, $seq, $time, %over) = @_;
    return telemetry_item($contoso, $session, RowKey => "r_$seq",
        TelemetryItemId => $seq - 1,
        PayloadJson => {
            SessionId => $session, TenantId => $contoso, Sequence => $seq,
            Timestamp => $time, EventType => 'app_install_started',
            Phase => -1, Message => "event $seq", %over });
}

# Signal $ordinal (TelemetryItemId $item) at $time.
sub signal_item {
    my ($session, $item, $ordinal, $time) = @_;
    return telemetry_item($contoso, $session, Kind => 'Signal',
        RowKey => sprintf('%019d', $ordinal), TelemetryItemId => $item,
        PayloadJson => { SessionSignalOrdinal => $ordinal,
                         Kind => 'EspPhaseChanged', OccurredAtUtc => $time });
}

# "n|true" for each of @times (numbered from 1) whose stored value equals
# '<input>'::timestamptz in TimeZone $zone: from events (Sequence n) or
# from the session's signals (ordinal n).
sub compared {
    my ($session, $table, $zone, @times) = @_;
    my ($key, $column) = $table eq 'events' ? ('sequence', 'event_time')
                                            : ('ordinal', 'occurred_at');
    my $values = join ', ', map { "($_, '$times[$_ - 1]')" } 1 .. @times;
    my %got = map { split /\|/ } split /\n/, $t->sql(
        "SET TimeZone = '$zone'; "
      . "SELECT v.n || '|' || (x.$column = v.input::timestamptz)"
      . "  FROM (VALUES $values) v(n, input)"
      . "  JOIN $table x ON x.session_id = '$session' AND x.$key = v.n");
    return \%got;
}

# Every shape ingest_is_timestamp accepts, and the awkward values of each.
my @times = (
    '2026-11-24T01:02:03Z',                 # no fraction
    '2026-11-24T01:02:03.1Z',               # 1 to 7 fractional digits
    '2026-11-24T01:02:03.12Z',
    '2026-11-24T01:02:03.123Z',
    '2026-11-24T01:02:03.1234Z',
    '2026-11-24T01:02:03.12345Z',
    '2026-11-24T01:02:03.123456Z',
    '2026-11-24T01:02:03.1234567Z',
    '2026-11-24T01:02:03.123456789012Z',    # more than 7
    '2026-11-24T01:02:03.0000000Z',
    '2026-11-24T01:02:03.1234564Z',         # rounding down
    '2026-11-24T01:02:03.1234565Z',         # a tie: to even
    '2026-11-24T01:02:03.1234575Z',
    '2026-11-24T01:02:03.0000005Z',
    '2026-11-24T01:02:03.0000015Z',
    '2026-11-24T01:02:03.9999994Z',
    '2026-11-24T01:02:59.9999995Z',         # carries into the minute
    '2026-11-24T23:59:59.9999996Z',         # ... the day
    '2026-12-31T23:59:59.9999999Z',         # ... the year
    '2024-02-28T23:59:59.9999995Z',         # ... onto a leap day
    '2024-02-29T12:00:00Z',                 # leap days
    '2000-02-29T00:00:00Z',
    '1900-03-01T00:00:00Z',
    '0001-01-01T00:00:00Z',                 # the ends of the years
    '0012-03-04T05:06:07Z',                 # ... 4 digits, never 2-digit years
    '0099-12-31T12:00:00.25Z',
    '0001-01-01T00:00:00+01:00',            # ... reaching 1 BC
    '0999-12-31T23:59:59.5Z',
    '9999-12-31T23:59:59.999999Z',
    '9999-12-31T23:59:59.9999999Z',         # ... carrying into 10000
    '2026-11-24T01:02:03+05:30',            # offsets
    '2026-11-24T01:02:03.1234567-08:00',
    '2026-11-24T01:02:03+15:59',
    '2026-11-24T01:02:03-15:59',
    '2026-11-24T01:02:03-00:00',
    '2026-11-24T01:02:03+00:00',
    '2026-11-24T23:30:00-01:00',            # into the next day by its offset
    '2026-11-24T01:02:03',                  # no offset
    '2026-11-24T01:02:03.9999995',
);

# --- events and signals in a UTC session -------------------------------------

my $s = new_session();
my @events = map { event_item($s, $_, $times[$_ - 1]) } 1 .. @times;
my @signals = map { signal_item($s, @times + $_ - 1, $_, $times[$_ - 1]) } 1 .. @times;
is(send_batch(@events, @signals)->{status}, 200,
   'a batch of events and signals at every timestamp shape is acknowledged');

my $ev = compared($s, 'events', 'UTC', @times);
is(scalar keys %$ev, scalar @times, '... and every event is stored');
is($ev->{$_}, 'true', "event_time of $times[$_ - 1] is '$times[$_ - 1]'::timestamptz")
    for 1 .. @times;

my $tr = compared($s, 'session_trace', 'UTC', @times);
is(scalar keys %$tr, scalar @times, 'every signal is stored');
is($tr->{$_}, 'true', "occurred_at of $times[$_ - 1] is '$times[$_ - 1]'::timestamptz")
    for 1 .. @times;

is($t->sql("SELECT count(*) FROM session_trace WHERE session_id = '$s' AND occurred_at IS NULL"),
   0, 'no signal lost its time');

# The comparison itself can fail: a value one microsecond off is caught.
is($t->sql("SELECT event_time = '2026-11-24T01:02:03.123457Z'::timestamptz"
         . "  FROM events WHERE session_id = '$s' AND sequence = 12"),
   'f', 'a tie rounded up instead of to even would not pass');

# --- a signal without a time -------------------------------------------------

my $u = new_session();
is(send_batch(event_item($u, 1, $times[0]),
              telemetry_item($contoso, $u, Kind => 'Signal', RowKey => 'x',
                             TelemetryItemId => 1,
                             PayloadJson => { SessionSignalOrdinal => 0 }))->{status},
   200, 'a signal without OccurredAtUtc is acknowledged');
is($t->sql("SELECT occurred_at IS NULL FROM session_trace WHERE session_id = '$u'"),
   't', '... and stored with a NULL time');

# --- strings and JSON --------------------------------------------------------

my $awkward = qq{say "hi" \\ C:\\Temp\\ {a,b} NULL, tab\t new\nline \x{e9}t\x{e9} \x{1F600}};
my $escaped = '{"s":"\\u00e9\\ud83d\\ude00 \\"q\\" \\\\ \\/ \\t","n":null,"e":"",'
            . '"k":[1.50,-0,1e2,true],"NULL":"NULL"}';
my $w = new_session();
my $payload = CC::Test::json()->canonical->encode({
    SessionId => $w, TenantId => $contoso, Sequence => 1,
    Timestamp => $times[0], EventType => 'script_completed', Phase => -1,
    Message => $awkward, Source => 'NULL', EventId => '' });
$payload =~ s/\}$/,"Data":$escaped}/;
is(send_batch(telemetry_item($contoso, $w, RowKey => 'r_1', TelemetryItemId => 0,
                             PayloadJson => Encode::decode('UTF-8', $payload)),
              event_item($w, 2, $times[0], Message => '', Source => undef))->{status},
   200, 'events with awkward strings and JSON are acknowledged');
is($t->sql("SELECT md5(message) FROM events WHERE session_id = '$w' AND sequence = 1"),
   Digest::MD5::md5_hex(Encode::encode('UTF-8', $awkward)),
   '... quotes, backslashes, braces, NULL and unicode in a message arrive exactly');
is($t->sql("SELECT source || '|' || (event_id = '')::text FROM events WHERE session_id = '$w' AND sequence = 1"),
   'NULL|true', '... the string "NULL" and an empty string stay strings');
is($t->sql("SELECT data = \$j\$$escaped\$j\$::jsonb FROM events WHERE session_id = '$w' AND sequence = 1"),
   't', '... escaped JSON (\\u escapes, a surrogate pair, quotes) is the jsonb its text is');
is($t->sql("SELECT data ->> 's' FROM events WHERE session_id = '$w' AND sequence = 1"),
   qq{\x{c3}\x{a9}\x{f0}\x{9f}\x{98}\x{80} "q" \\ / \t}, '... unescaped to UTF-8 as jsonb does');
is($t->sql("SELECT (message = '')::text || '|' || (source IS NULL)::text"
         . "  FROM events WHERE session_id = '$w' AND sequence = 2"),
   'true|true', 'an empty message stays empty and a missing source is NULL');

# --- a connection whose TimeZone is not UTC --------------------------------

# A timestamp without an offset is local time to PostgreSQL: cc-ingest
# must store what the text input would have stored in its session's zone.
# St. John's is 3:30 behind UTC in November (a half-hour zone).
$t->stop('cc-ingest');
$t->start_worker('ingest', env => { PGTZ => 'America/St_Johns' });
my $z = new_session();
my @zoned = ('2026-11-24T01:02:03', '2026-11-24T01:02:03.9999995',
             '2026-07-01T12:00:00', '2026-11-24T01:02:03Z',
             '2026-11-24T01:02:03+05:30');
is(send_batch(map { event_item($z, $_, $zoned[$_ - 1]) } 1 .. @zoned)->{status},
   200, 'a batch through a connection in America/St_Johns is acknowledged');
my $zv = compared($z, 'events', 'America/St_Johns', @zoned);
is($zv->{$_}, 'true', "$zoned[$_ - 1] is stored as '$zoned[$_ - 1]'::timestamptz in St. John's")
    for 1 .. @zoned;
is($t->sql("SELECT event_time = '2026-11-24T04:32:03Z'::timestamptz FROM events"
         . " WHERE session_id = '$z' AND sequence = 1"),
   't', '... which is 3:30 later in UTC for a time without an offset');

done_testing();
