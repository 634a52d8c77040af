#!/usr/bin/perl

# Device agents' session registration and telemetry through the shipped
# nginx configuration: mutual TLS with real device certificates, nginx's
# X-CC-Tenant / X-CC-Device, cc-ingest, PostgreSQL under row-level security.
# Statuses are the ones agent-protocol.md 6 and 7 say the agent handles.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Digest::MD5 ();
use Encode ();
use IO::Compress::Gzip qw(gzip $GzipError);

use CC::Test;
use CC::MonitorKit qw(start_monitor_stack registry_reached device_headers
                      agent_request telemetry_item);

my $t = CC::Test->new;
my $contoso = '11111111-1111-4111-8111-111111111111';
my $northwind = 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d';
my $stack = start_monitor_stack($t,
    tenants => [$contoso => 'Contoso', $northwind => 'Northwind']);

ok(registry_reached($t, $stack->{control}, tenants => 2), 'both tenants reached nginx');

my $device = '5d7c1b2a-3e4f-4a5b-8c6d-7e8f9a0b1c2d';
my @cert = $t->device_cert($device, $contoso);
my $session = '3c4d5e6f-7081-4293-a4b5-c6d7e8f90a1b';
my $serial = 'SERIAL-7Q2X9ZK4';
my %device_headers = device_headers(serial => $serial);

sub agent {
    my ($path, %opt) = @_;
    return agent_request($t, $path, cert => $opt{cert} // \@cert,
                         headers => { %device_headers, %{ $opt{headers} // {} } },
                         exists $opt{json} ? (json => $opt{json})
                                           : (body => $opt{body}));
}

sub registration {
    my (%over) = @_;
    return { Registration => {
        SessionId => $session, TenantId => $contoso, SerialNumber => $serial,
        Manufacturer => 'Contoso Hardware', Model => 'Laptop 7',
        DeviceName => 'DESKTOP-PRIVATE', OsName => 'Windows 11 Pro',
        OsBuild => '26100.2454', OsDisplayVersion => '25H2',
        IsUserDriven => JSON::PP::true(), IsPreProvisioned => JSON::PP::false(),
        StartedAt => '2026-11-23T08:00:00.0000000Z',
        AgentVersion => '2.0.1412+abc', EnrollmentType => 'v1',
        ValidatedBy => 0, %over } };
}

# --- register-session ----------------------------------------------------

my $r = agent('/api/agent/register-session', json => registration());
is($r->{status}, 200, 'a registration is accepted');
is($r->{json}{success}, JSON::PP::true(), '... with success:true, which the agent requires');
is($r->{json}{sessionId}, $session, '... naming the session');
is($r->{json}{registeredAt}, '2026-11-23T08:00:00.000000Z', '... registered when it started');

$r = agent('/api/agent/register-session',
           json => registration(StartedAt => '2026-11-23T09:30:00.0000000Z'));
is($r->{status}, 200, 'the registration repeated after a restart is accepted');
is($r->{json}{registeredAt}, '2026-11-23T08:00:00.000000Z', '... and keeps the first StartedAt');
is($t->sql("SELECT count(*) FROM enrollment_sessions WHERE session_id = '$session'"), 1,
   'registering twice leaves one session row');
is($t->sql("SELECT tenant_id || ' ' || device_id FROM enrollment_sessions WHERE session_id = '$session'"),
   "$contoso $device", 'the session belongs to the certificate\'s tenant and device');
is($t->sql("SELECT serial_number FROM devices WHERE device_id = '$device'"), $serial,
   'the device record keeps its serial number');

$r = agent('/api/agent/register-session', json => registration(TenantId => $northwind));
is($r->{status}, 403, 'a registration naming another tenant is refused with 403');
is($r->{json}{success}, JSON::PP::false(), '... in JSON the agent reads as a verdict');

$r = agent('/api/agent/register-session', json => { Registration => { SessionId => 'nope' } });
is($r->{status}, 400, 'a registration without a GUID session id is refused with 400');

# --- telemetry -----------------------------------------------------------

my $pk = "${contoso}_$session";

sub event_item {
    my ($item_id, $seq, $type, %over) = @_;
    return telemetry_item($contoso, $session, RowKey => "x_$seq",
        TelemetryItemId => $item_id, SessionTraceOrdinal => $item_id,
        EnqueuedAtUtc => '2026-11-23T10:00:00Z', PayloadJson => {
            EventId => "ev-$seq", SessionId => $session, TenantId => $contoso,
            Timestamp => sprintf('2026-11-23T10:00:%02d.1234567Z', $seq),
            EventType => $type // 'agent_started',
            Severity => 1, Source => 'Agent', Phase => -1, Message => "event $seq",
            Data => { k => 'v' }, Sequence => $seq, %over });
}

sub signal_item {
    my ($item_id) = @_;
    return telemetry_item($contoso, $session, Kind => 'Signal',
                          RowKey => sprintf('%019d', 0), TelemetryItemId => $item_id,
                          PayloadJson => '{"SessionSignalOrdinal":0}');
}

sub gz { my ($text) = @_; my $out; gzip(\$text => \$out) or die $GzipError; return $out }

my $batch = [ event_item(0, 1), signal_item(1), event_item(2, 2), event_item(3, 3) ];
my $gz_headers = { 'Content-Type' => 'application/json', 'Content-Encoding' => 'gzip' };

$r = agent('/api/agent/telemetry', headers => $gz_headers,
           body => gz(CC::Test::json_encode($batch)));
is($r->{status}, 200, 'a gzip batch as the agent sends it is acknowledged');
$r = agent('/api/agent/telemetry', headers => $gz_headers,
           body => gz('[' . (('{"Kind":"Padding","PartitionKey":"' . $pk . '"},') x 60000) . '{}]'));
is($r->{status}, 413, 'a batch that inflates past 5 MiB is refused with 413 (the agent halves it)');
$t->sql("DELETE FROM events");
$t->sql("DELETE FROM session_trace");

$r = agent('/api/agent/telemetry', headers => { 'Content-Type' => 'application/json' },
           body => CC::Test::json_encode($batch));
is($r->{status}, 200, 'a batch is acknowledged');
is($r->{json}{success}, JSON::PP::true(), '... with success:true');
is($r->{json}{eventsReceived}, 4, '... counting every item received');
is($r->{json}{eventsProcessed}, 4, '... and every item processed');
like($r->{json}{processedAt} // '', qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z$/, '... with when');
my %first = %{ $r->{json} };
is($t->sql("SELECT string_agg(sequence::text, ',' ORDER BY sequence) FROM events WHERE session_id = '$session'"),
   '1,2,3', 'its three events are stored');
is($t->sql("SELECT kind || ' ' || ordinal FROM session_trace WHERE session_id = '$session'"),
   'Signal 0', 'its signal is kept by its ordinal');
is($t->sql("SELECT last_item_id FROM enrollment_sessions WHERE session_id = '$session'"), 3,
   'the session records the highest telemetry item id');

$r = agent('/api/agent/telemetry', headers => { 'Content-Type' => 'application/json' },
           body => CC::Test::json_encode($batch));
is($r->{status}, 200, 'the same batch retried is acknowledged');
delete $first{processedAt};
my %again = %{ $r->{json} // {} };
delete $again{processedAt};
is_deeply(\%again, \%first, '... with the same acknowledgement');
is($t->sql("SELECT count(*) FROM events WHERE session_id = '$session'"), 3,
   '... and stores no duplicate event');
is($t->sql("SELECT count(*) FROM session_trace WHERE session_id = '$session'"), 1,
   '... nor a duplicate signal');

$r = agent('/api/agent/telemetry', headers => { 'Content-Type' => 'application/json' },
           body => CC::Test::json_encode([ event_item(7, 5), event_item(9, 8) ]));
is($r->{status}, 200, 'a batch with a sequence gap is acknowledged');
is($t->sql("SELECT string_agg(sequence::text, ',' ORDER BY sequence) FROM events WHERE session_id = '$session'"),
   '1,2,3,5,8', '... and its events are stored around the gap');

# Every character an agent may send reaches the database as it was sent:
# the batch's columns travel as PostgreSQL array parameters.
my $awkward = qq{say "hi" \\ C:\\Temp\\ {a,b} NULL, tab\t new\nline \x{e9}t\x{e9} \x{1F600}};
$r = agent('/api/agent/telemetry', headers => { 'Content-Type' => 'application/json' },
           body => CC::Test::json_encode([ event_item(8, 9, 'script_completed',
               Message => $awkward, Source => 'NULL', EventId => '',
               Data => { text => $awkward, nested => { list => [1, 'two', undef] } }) ]));
is($r->{status}, 200, 'an event with quotes, backslashes, braces, NULL and unicode is acknowledged');
is($t->sql("SELECT md5(message) FROM events WHERE session_id = '$session' AND sequence = 9"),
   Digest::MD5::md5_hex(Encode::encode('UTF-8', $awkward)), '... and its message is stored exactly');
is($t->sql("SELECT (data ->> 'text') = message FROM events WHERE session_id = '$session' AND sequence = 9"),
   't', '... and so is its Data');
is($t->sql("SELECT data -> 'nested' FROM events WHERE session_id = '$session' AND sequence = 9"),
   '{"list": [1, "two", null]}', '... nested as it was sent');
is($t->sql("SELECT source || '|' || (event_id = '')::text FROM events WHERE session_id = '$session' AND sequence = 9"),
   'NULL|true', '... and the string "NULL" and an empty string stay strings');

# What PostgreSQL would refuse is skipped or ignored, never stored: a
# refused statement would fail the batch, and the agent resend it forever.
$r = agent('/api/agent/telemetry', headers => { 'Content-Type' => 'application/json' },
           body => CC::Test::json_encode([
               event_item(30, 30, 'esp_phase_changed', Phase => 2,
                          Timestamp => '2026-11-23T10:00:10.' . ('1' x 140) . 'Z') ]));
is($r->{status}, 200, 'an event whose Timestamp has a 140-digit fraction is acknowledged');
is($r->{json}{eventsProcessed}, 0, '... as an item that could not be read');
$r = agent('/api/agent/telemetry',
           headers => { 'Content-Type' => 'application/json',
                        'X-Device-Model' => "Laptop \xff\xfe 7" },
           body => CC::Test::json_encode([ event_item(31, 31, 'agent_started') ]));
is($r->{status}, 200, 'a batch whose X-Device-Model is not UTF-8 is acknowledged');
is($t->sql("SELECT model FROM devices WHERE device_id = '$device'"), 'Laptop 7',
   '... and the model it names is not stored');

is($t->sql("SELECT status || ' ' || phase FROM enrollment_sessions WHERE session_id = '$session'"),
   'InProgress -1', 'a session without phase or terminal events is in progress');
$r = agent('/api/agent/telemetry', headers => { 'Content-Type' => 'application/json' },
           body => CC::Test::json_encode([
               event_item(10, 10, 'esp_phase_changed', Phase => 2),
               event_item(11, 11, 'enrollment_complete') ]));
is($r->{status}, 200, 'a batch with a phase change and enrollment_complete is acknowledged');
is($t->sql("SELECT status || ' ' || phase || ' ' || outcome FROM enrollment_sessions WHERE session_id = '$session'"),
   'Succeeded 2 Succeeded', '... and the session has succeeded in the declared phase');
is($t->sql("SELECT to_char(completed_at AT TIME ZONE 'UTC', 'HH24:MI:SS') FROM enrollment_sessions WHERE session_id = '$session'"),
   '10:00:11', '... completed at the time of enrollment_complete');

$r = agent('/api/agent/telemetry', headers => { 'Content-Type' => 'application/json' },
           body => '[{"Kind":');
is($r->{status}, 400, 'malformed JSON is refused with 400');
ok($r->{json}, '... with a JSON body');

$r = agent('/api/agent/telemetry', headers => $gz_headers, body => "\x1f\x8b\x08not gzip at all");
is($r->{status}, 400, 'a body that is not valid gzip is refused with 400');
ok($r->{json}, '... with a JSON body');

$r = agent('/api/agent/telemetry', headers => { 'Content-Type' => 'application/json' },
           body => '[]');
is($r->{status}, 400, 'an empty batch is refused with 400');
is($r->{json}{success}, JSON::PP::false(), '... with success:false');

$r = agent('/api/agent/telemetry', headers => { 'Content-Type' => 'application/json' },
           body => CC::Test::json_encode([ { %{ event_item(10, 9) }, PartitionKey => 'junk' } ]));
is($r->{status}, 400, 'an unparsable PartitionKey is refused with 400');

# --- tenants -------------------------------------------------------------

my $nw_device = '6e8d2c3b-4f50-4b6c-9d7e-8f9a0b1c2d3f';
my @nw_cert = $t->device_cert($nw_device, $northwind);
$r = agent('/api/agent/telemetry', cert => \@nw_cert,
           headers => { 'Content-Type' => 'application/json' },
           body => CC::Test::json_encode($batch));
is($r->{status}, 403, "a batch naming another tenant's session is refused with 403");
is($r->{json}{success}, JSON::PP::false(), '... in JSON');

$r = agent('/api/agent/register-session', cert => \@nw_cert,
           json => registration(TenantId => $northwind));
is($r->{status}, 200, 'another tenant may register the same session id');
is($t->sql("SELECT count(*) FROM enrollment_sessions WHERE session_id = '$session'"), 2,
   '... as its own session row');
is($t->sql_as_app($contoso, "SELECT count(*) FROM enrollment_sessions"), 1,
   "a tenant sees only its own session (RLS)");
is($t->sql_as_app($northwind, "SELECT count(*) FROM events"), 0,
   "a tenant sees none of another tenant's events (RLS)");
is($t->sql_as_app($northwind, "SELECT count(*) FROM devices WHERE device_id = '$device'"), 0,
   "nor its devices (RLS)");

my $other_device = '7f9e3d4c-5061-4c7d-8e8f-9a0b1c2d3e40';
my @other_cert = $t->device_cert($other_device, $contoso);
$r = agent('/api/agent/register-session', cert => \@other_cert, json => registration());
is($r->{status}, 403, "a device cannot take over another device's session");

# --- logs ----------------------------------------------------------------

my @logs = glob($t->dir . '/logs/*.log');
ok(scalar @logs >= 2, 'the logs of nginx and the workers are there to read');
my @leaks = map { my $f = $_; open my $l, '<', $f or die $!;
                  grep { /\Q$serial\E|DESKTOP-PRIVATE/ } <$l> } @logs;
is(scalar @leaks, 0, 'no serial number or device name in any log');
ok(scalar $t->grep_log('cc-ingest', qr/session registered/), '... which the grep would find (registrations are logged)');

$t->done_testing;
