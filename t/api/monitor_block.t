#!/usr/bin/perl

# Blocking a device through the staff API takes effect at nginx: the
# shipped configuration, cc-worker's registry sync, and an agent with a
# real device certificate that is refused right after the block and
# accepted again right after the unblock.  Also the block's own rules:
# duration range, reason codes, unknown devices, the audit trail.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Time::HiRes qw(time);

use CC::Test;
use CC::MonitorKit qw(start_monitor_stack registry_reached user_bearer
                      device_headers agent_request telemetry_item);

my $t = CC::Test->new;
my $contoso = '11111111-1111-4111-8111-111111111111';
my $stack = start_monitor_stack($t, demo => 1, platform => $contoso,
    tenants => [$contoso => 'Contoso'],
    workers => [['ingest'], ['api', env => { CC_PLATFORM_TENANT => $contoso }]]);

ok(registry_reached($t, $stack->{control}, tenants => 1, keys => 1),
   'the tenant and issuer keys reached nginx');

my $operator = '0a0b0c0d-0000-4000-8000-000000000002';
my $auth = user_bearer($stack->{sim}, $contoso, $operator, 'operator');

# --- an agent, accepted before any block ---------------------------------

my $device = '5d7c1b2a-3e4f-4a5b-8c6d-7e8f9a0b1c2d';
my @cert = $t->device_cert($device, $contoso);
my $session = '3c4d5e6f-7081-4293-a4b5-c6d7e8f90a1b';
my $serial = 'SERIAL-BLOCK-7Q2X';
my $seq = 0;

sub register {
    return agent_request($t, '/api/agent/register-session', cert => \@cert,
        headers => { device_headers(serial => $serial) },
        json => { Registration => {
            SessionId => $session, TenantId => $contoso, SerialNumber => $serial,
            Manufacturer => 'Contoso Hardware', Model => 'Laptop 7',
            StartedAt => '2026-11-23T08:00:00.0000000Z', AgentVersion => '2.0.1' } });
}

# One telemetry batch of one event, with a sequence number of its own.
sub telemetry {
    $seq++;
    my $payload = CC::Test::json_encode({
        EventId => "ev-$seq", SessionId => $session, TenantId => $contoso,
        Timestamp => '2026-11-23T10:00:00.0000000Z', EventType => 'agent_started',
        Severity => 1, Source => 'Agent', Phase => -1, Message => "event $seq",
        Sequence => $seq });
    return agent_request($t, '/api/agent/telemetry', cert => \@cert,
        headers => { 'Content-Type' => 'application/json' },
        body => CC::Test::json_encode([ telemetry_item($contoso, $session,
            RowKey => "x_$seq", TelemetryItemId => $seq, PayloadJson => $payload) ]));
}

sub stored { $t->sql("SELECT count(*) FROM events WHERE session_id = '$session'") }

my $r = register();
is($r->{status}, 200, 'the agent registers its session before any block');
$r = telemetry();
is($r->{json}{success}, JSON::PP::true(), '... and its telemetry is accepted');
is(stored(), 1, '... and stored');

# --- block ------------------------------------------------------------------

my $api = "/api/tenants/$contoso/devices/$device/block";
$r = $t->https(PUT => $api, headers => $auth, json => { reason => 'lost_device' });
is($r->{status}, 200, 'an Operator blocks the device');
is($r->{json}{until}, undef, '... with no end when no duration is given');
is($r->{json}{reason}, 'lost_device', '... for the reason code given');
my $blocked_at = time;

my $refused;
ok($t->eventually(sub { $refused = telemetry(); ($refused->{json}{deviceBlocked} // 0) }, 5),
   'the agent is refused right after the block');
cmp_ok(time - $blocked_at, '<', 5, '... within seconds (the registry sync follows the NOTIFY)');
is($refused->{json}{success}, JSON::PP::false(), '... with success:false');
ok(!exists $refused->{json}{unblockAt}, '... and no unblockAt for a block without an end');
my $count = stored();
is(telemetry()->{json}{deviceBlocked}, JSON::PP::true(), 'the next batch is refused too');
is(stored(), $count, '... and not stored');
$r = register();
is($r->{json}{deviceBlocked}, JSON::PP::true(),
   'a blocked device is told so when it registers a session too');

$r = $t->https(GET => "/api/tenants/$contoso/devices?blocked=true", headers => $auth);
is_deeply([ map { $_->{deviceId} } @{ $r->{json}{items} } ], [$device],
          'the device lists as blocked');

# A block with a duration replaces the open-ended one.
$r = $t->https(PUT => $api, headers => $auth, json => { durationMinutes => 90 });
is($r->{status}, 200, 'blocking again with a duration answers 200');
is($r->{json}{reason}, 'blocked', '... with the default reason');
is($t->sql("SELECT round(extract(epoch FROM until - now()) / 60) FROM device_blocks"), 90,
   '... and an end 90 minutes ahead');
ok($t->eventually(sub { (telemetry()->{json}{unblockAt} // '') =~ /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/ }, 5),
   '... which the agent is told as unblockAt');

# --- unblock ---------------------------------------------------------------

$r = $t->https(DELETE => $api, headers => $auth);
is($r->{status}, 204, 'an Operator lifts the block');
my $before = stored();
my $lifted_at = time;
ok($t->eventually(sub { (telemetry()->{json}{success} // 0) }, 5),
   'the agent is accepted right after the unblock');
cmp_ok(time - $lifted_at, '<', 5, '... within seconds');
is(stored(), $before + 1, '... and its telemetry is stored again');
is(register()->{status}, 200, '... and it registers again');

$r = $t->https(DELETE => $api, headers => $auth);
is("$r->{status} $r->{json}{error}{code}", '404 block_not_found', 'lifting it again: 404');

# --- the block's rules -----------------------------------------------------

for my $case ([{ durationMinutes => 0 }, 'duration_minutes_out_of_range'],
              [{ durationMinutes => 525601 }, 'duration_minutes_out_of_range'],
              [{ durationMinutes => 1.5 }, 'duration_minutes_out_of_range'],
              [{ durationMinutes => '60' }, 'duration_minutes_out_of_range'],
              [{ reason => 'Lost Device' }, 'reason_invalid'],
              [{ reason => 'x' x 33 }, 'reason_invalid'],
              [{ reason => 7 }, 'reason_invalid']) {
    $r = $t->https(PUT => $api, headers => $auth, json => $case->[0]);
    is("$r->{status} " . ($r->{json}{error}{code} // ''), "400 $case->[1]",
       CC::Test::json_encode($case->[0]) . " is refused with 400 $case->[1]");
}
$r = $t->https(PUT => $api, headers => $auth, json => { durationMinutes => 525600 });
is($r->{status}, 200, 'a block of a year (525600 minutes) is accepted');
$t->sql('DELETE FROM device_blocks');
is($t->sql('SELECT count(*) FROM device_blocks'), 0, 'refused blocks stored nothing');

my $stranger = '99999999-9999-4999-8999-999999999999';
$r = $t->https(PUT => "/api/tenants/$contoso/devices/$stranger/block", headers => $auth, json => {});
is("$r->{status} $r->{json}{error}{code}", '404 device_not_found',
   'a device the tenant has never seen cannot be blocked');

# --- audit -------------------------------------------------------------------

is($t->sql("SELECT string_agg(action || ' ' || actor || ' ' || target, ', ' ORDER BY id) "
           . "FROM audit_log WHERE action LIKE 'device.%'"),
   join(', ', map { "$_ user:$operator device:$device" }
                  qw(device.blocked device.blocked device.unblocked device.blocked)),
   'each block and unblock is audited, with the user id as actor');
ok(!$t->grep_log('cc-api', qr/SERIAL-/), 'no serial number reached the cc-api log');
ok(!$t->grep_log('nginx-error', qr/SERIAL-/), '... nor nginx\'s error log');

$t->done_testing;
