#!/usr/bin/perl

# The tenant staff API for Monitor through the shipped nginx configuration,
# with Entra-shaped bearer tokens from the Azure simulator: sessions (list,
# filters, pages, detail with its timeline, delete), devices, settings with
# their ranges, the hardware allow-list, the audit log, and the role matrix
# of docs/monitor-api.md with each denial and the other-tenant denial.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;

use CC::Test;
use CC::MonitorKit qw(start_monitor_stack registry_reached user_token);

my $t = CC::Test->new;
my $contoso = '11111111-1111-4111-8111-111111111111';     # the platform's own
my $northwind = 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d';
my $stack = start_monitor_stack($t, demo => 1, platform => $contoso,
    tenants => [$contoso => 'Contoso', $northwind => 'Northwind'],
    workers => [['ingest'],
                ['api', env => { CC_PLATFORM_TENANT => $contoso, CC_DEV_SIGN_IN => 'on',
                                 CC_SESSION_KEYS => $t->session_keys }]]);
my $sim = $stack->{sim};

ok(registry_reached($t, $stack->{control}, tenants => 2, keys => 1),
   'tenants and issuer keys reached nginx');

# --- seed: two devices and three sessions in Contoso, one of each in Northwind

my ($d1, $d2) = ('d1000000-0000-4000-8000-000000000001', 'd2000000-0000-4000-8000-000000000002');
my ($s1, $s2, $s3) = ('5e551000-0000-4000-8000-000000000001', '5e551000-0000-4000-8000-000000000002',
                   '5e551000-0000-4000-8000-000000000003');
my ($nd, $ns) = ('de000000-0000-4000-8000-0000000000ee', '5e55e000-0000-4000-8000-0000000000ee');
$t->sql(<<"SQL");
INSERT INTO devices (tenant_id, device_id, manufacturer, model, serial_number, last_seen) VALUES
  ('$contoso', '$d1', 'Contoso Hardware', 'Laptop 7', 'SERIAL-D1', '2026-11-23T09:00:00Z'),
  ('$contoso', '$d2', 'Fabrikam', 'Tower 2', 'SERIAL-D2', '2026-11-23T10:00:00Z'),
  ('$northwind', '$nd', 'Northwind', 'Box', 'SERIAL-NW', '2026-11-23T10:00:00Z');
INSERT INTO enrollment_sessions (tenant_id, session_id, device_id, status, phase, started_at,
                                 completed_at, status_reason, phase_times) VALUES
  ('$contoso', '$s1', '$d1', 'Succeeded', 2, '2026-11-23T08:00:00Z', '2026-11-23T08:30:00Z', NULL,
   '{"1": "2026-11-23T08:00:00Z", "2": "2026-11-23T08:10:00Z"}'),
  ('$contoso', '$s2', '$d1', 'Failed', 1, '2026-11-23T09:00:00Z', '2026-11-23T09:20:00Z',
   'app install failed (0x87D1041C)', '{}'),
  ('$contoso', '$s3', '$d2', 'InProgress', -1, '2026-11-23T10:00:00Z', NULL, NULL, '{}'),
  ('$northwind', '$ns', '$nd', 'InProgress', -1, '2026-11-23T10:00:00Z', NULL, NULL, '{}');
INSERT INTO events (tenant_id, session_id, sequence, event_time, event_type, message)
  SELECT '$contoso', '$s1', g, '2026-11-23T08:00:00Z'::timestamptz + g * interval '1 minute',
         'esp_progress', 'step ' || g FROM generate_series(1, 5) g;
INSERT INTO events (tenant_id, session_id, sequence, event_time, event_type)
  SELECT '$contoso', '$s2', g, now(), 'esp_progress' FROM generate_series(1, 5) g;
INSERT INTO session_trace (tenant_id, session_id, kind, ordinal, payload)
  VALUES ('$contoso', '$s2', 'Signal', 0, '{}');
SQL

# --- callers -------------------------------------------------------------

my %oid = (user => '0a0b0c0d-0000-4000-8000-000000000001',
           operator => '0a0b0c0d-0000-4000-8000-000000000002',
           tenant_admin => '0a0b0c0d-0000-4000-8000-000000000003',
           global_admin => '0a0b0c0d-0000-4000-8000-0000000000aa',
           none => '0a0b0c0d-0000-4000-8000-000000000009');
my %token;
sub bearer {
    my ($role, $tid) = @_;
    $tid //= $contoso;
    $token{"$role $tid"} //= user_token($sim, $tid, $oid{$role},
                                        $role eq 'none' ? () : $role);
    return { Authorization => "Bearer $token{\"$role $tid\"}" };
}

sub call {
    my ($role, $method, $path, $json, $tid) = @_;
    return $t->https($method => $path, headers => bearer($role, $tid),
                     defined $json ? (json => $json) : ());
}

my $api = "/api/tenants/$contoso";
sub ids { [ map { $_->{sessionId} // $_->{deviceId} // $_->{sequence} // $_->{id} }
            @{ $_[0]{json}{items} // $_[0]{json}{timeline}{items} // [] } ] }

# --- sessions: list, filters, pages ------------------------------------

my $r = call(user => GET => "$api/sessions");
is($r->{status}, 200, 'a User lists the sessions of its tenant');
is_deeply(ids($r), [$s3, $s2, $s1], '... newest first, and only its own tenant\'s');
is($r->{json}{items}[1]{statusReason}, 'app install failed (0x87D1041C)',
   '... with the reason for a status');
is($r->{json}{nextCursor}, undef, '... and no next page when all fit');

is_deeply(ids(call(user => GET => "$api/sessions?status=Failed")), [$s2],
          'status= filters by status');
is_deeply(ids(call(user => GET => "$api/sessions?device=$d2")), [$s3],
          'device= filters by device');
is_deeply(ids(call(user => GET => "$api/sessions?since=2026-11-23T08:30:00Z")), [$s3, $s2],
          'since= keeps sessions started at or after it');
is_deeply(ids(call(user => GET => "$api/sessions?until=2026-11-23T08:30:00Z")), [$s1],
          'until= keeps sessions started before it');

$r = call(user => GET => "$api/sessions?limit=2");
is_deeply(ids($r), [$s3, $s2], 'limit=2 answers the two newest');
ok(defined $r->{json}{nextCursor}, '... with a cursor for the next page');
$r = call(user => GET => "$api/sessions?limit=2&cursor=$r->{json}{nextCursor}");
is_deeply(ids($r), [$s1], 'the cursor answers the rest');
is($r->{json}{nextCursor}, undef, '... and the last page has no cursor');

for my $case (['status=Bogus', 'status_invalid'], ['limit=0', 'limit_invalid'],
              ['limit=501', 'limit_invalid'], ['limit=ten', 'limit_invalid'],
              ['cursor=xyz', 'cursor_invalid'], ['device=not-a-guid', 'device_invalid'],
              ['since=yesterday-ish', 'parameter_invalid'],
              ['until=2026-02-30T00:00:00Z', 'parameter_invalid']) {
    $r = call(user => GET => "$api/sessions?$case->[0]");
    is("$r->{status} " . ($r->{json}{error}{code} // ''), "400 $case->[1]",
       "$case->[0] is refused with 400 $case->[1]");
}

# --- one session with its timeline -------------------------------------

$r = call(user => GET => "$api/sessions/$s1?limit=2");
is($r->{status}, 200, 'a User reads one session');
is($r->{json}{session}{status}, 'Succeeded', '... with its status');
is_deeply($r->{json}{phaseDurations}, { 1 => 600, 2 => 1200 },
          '... each phase lasting until the next one started or the session completed');
is($r->{json}{device}{serialNumber}, 'SERIAL-D1', '... its device with the serial number staff need');
is_deeply(ids($r), [1, 2], '... and the first page of its timeline in sequence order');
is($r->{json}{timeline}{nextCursor}, '2', '... with a cursor after the last sequence');
$r = call(user => GET => "$api/sessions/$s1?limit=2&cursor=2");
is_deeply(ids($r), [3, 4], 'the timeline cursor answers the next events');
$r = call(user => GET => "$api/sessions/$s1?cursor=4");
is_deeply(ids($r), [5], '... and the last page');
is($r->{json}{timeline}{nextCursor}, undef, '... without a cursor');

$r = call(user => GET => "$api/sessions/$ns");
is("$r->{status} $r->{json}{error}{code}", '404 session_not_found',
   "another tenant's session is not found under this tenant");
$r = call(user => GET => "$api/sessions/not-a-session");
is($r->{status}, 404, 'a session id that is no GUID is not found');

# --- devices -----------------------------------------------------------

$r = call(user => GET => "$api/devices");
is_deeply(ids($r), [$d2, $d1], 'a User lists the devices, most recently seen first');
is($r->{json}{items}[1]{serialNumber}, 'SERIAL-D1', '... with serial numbers');
is($r->{json}{items}[1]{blocked}, JSON::PP::false(), '... and whether each is blocked');
is_deeply(ids(call(user => GET => "$api/devices?blocked=true")), [],
          'blocked=true lists none while none is blocked');
$t->sql("INSERT INTO device_blocks (tenant_id, device_id, until) "
        . "VALUES ('$contoso', '$d2', now() - interval '1 minute')");
is_deeply(ids(call(user => GET => "$api/devices?blocked=true")), [],
          '... nor a device whose block has ended');
$t->sql("UPDATE device_blocks SET until = NULL");
is_deeply(ids(call(user => GET => "$api/devices?blocked=true")), [$d2],
          '... and lists a device blocked until further notice');
is_deeply(ids(call(user => GET => "$api/devices?blocked=false")), [$d1],
          'blocked=false lists the others');
$t->sql("DELETE FROM device_blocks");
$r = call(user => GET => "$api/devices?limit=1");
$r = call(user => GET => "$api/devices?limit=1&cursor=$r->{json}{nextCursor}");
is_deeply(ids($r), [$d1], 'devices page with a cursor');
$r = call(user => GET => "$api/devices?blocked=maybe");
is("$r->{status} $r->{json}{error}{code}", '400 blocked_invalid', 'blocked=maybe is refused');

$r = call(user => GET => "$api/devices/$d1");
is($r->{json}{device}{model}, 'Laptop 7', 'a User reads one device');
is_deeply([ map { $_->{sessionId} } @{ $r->{json}{sessions} } ], [$s2, $s1],
          '... with its sessions, newest first');
$r = call(user => GET => "$api/devices/$nd");
is("$r->{status} $r->{json}{error}{code}", '404 device_not_found',
   "another tenant's device is not found under this tenant");

# --- delete a session --------------------------------------------------

$t->sql("INSERT INTO agent_errors (tenant_id, device_id, session_id, error_type)"
      . " SELECT tenant_id, device_id, session_id, 1 FROM enrollment_sessions"
      . " WHERE session_id IN ('$s1', '$s2')");
$r = call(operator => DELETE => "$api/sessions/$s2");
is($r->{status}, 204, 'an Operator deletes a session');
is($t->sql("SELECT count(*) FROM enrollment_sessions WHERE session_id = '$s2'"), 0, '... its row is gone');
is($t->sql("SELECT count(*) FROM events WHERE session_id = '$s2'"), 0, '... its events are gone');
is($t->sql("SELECT count(*) FROM session_trace WHERE session_id = '$s2'"), 0, '... its trace is gone');
is($t->sql("SELECT count(*) FROM agent_errors WHERE session_id = '$s2'"), 0,
   "... the agent's error reports about it are gone");
is($t->sql("SELECT count(*) FROM agent_errors WHERE session_id = '$s1'"), 1,
   "... another session's are kept");
is($t->sql("SELECT count(*) FROM events WHERE session_id = '$s1'"), 5, '... other sessions keep theirs');
is($t->sql("SELECT actor || ' ' || target || ' ' || (detail->>'events') FROM audit_log "
           . "WHERE action = 'session.deleted' AND tenant_id = '$contoso'"),
   "user:$oid{operator} session:$s2 5", '... and the deletion is audited with the user id as actor');
$r = call(operator => DELETE => "$api/sessions/$s2");
is("$r->{status} $r->{json}{error}{code}", '404 session_not_found', 'deleting it again: 404');
$r = call(operator => DELETE => "$api/sessions/$ns");
is($r->{status}, 404, "another tenant's session cannot be deleted from here");
is($t->sql("SELECT count(*) FROM enrollment_sessions WHERE session_id = '$ns'"), 1, '... and stays');

# --- settings ----------------------------------------------------------

$r = call(tenant_admin => GET => "$api/monitor/settings");
is($r->{status}, 200, 'a Tenant Admin reads the Monitor settings');
is_deeply([ @{ $r->{json} }{qw(retentionDays stallAfterMinutes sessionTimeoutHours diagnosticsMode)} ],
          [90, 120, 5, 'OnFailure'], '... the defaults while none is stored');

$r = call(tenant_admin => PUT => "$api/monitor/settings",
          { retentionDays => 30, hardwareCheck => JSON::PP::true() });
is($r->{status}, 200, 'a Tenant Admin changes settings');
is($r->{json}{retentionDays}, 30, '... the retention it named');
is($r->{json}{hardwareCheck}, JSON::PP::true(), '... and the hardware check');
is($r->{json}{stallAfterMinutes}, 120, '... keeping what it did not name');
is($t->sql("SELECT retention_days FROM cc_monitor_settings('$contoso')"), 30, '... stored');
$r = call(tenant_admin => PUT => "$api/monitor/settings", { diagnosticsMode => 'Always' });
is($t->sql("SELECT retention_days || ' ' || diagnostics_mode FROM monitor_settings"), '30 Always',
   'a second change keeps the first');

for my $case ([retentionDays => 6, 'retention_days_out_of_range'],
              [retentionDays => 366, 'retention_days_out_of_range'],
              [retentionDays => '30', 'retention_days_out_of_range'],
              [stallAfterMinutes => 4, 'stall_after_minutes_out_of_range'],
              [sessionTimeoutHours => 169, 'session_timeout_hours_out_of_range'],
              [hardwareCheck => 'yes', 'hardware_check_invalid'],
              [autopilotCheck => 1, 'autopilot_check_invalid'],
              [bootstrapEnabled => undef, 'bootstrap_enabled_invalid'],
              [diagnosticsMode => 'Sometimes', 'diagnostics_mode_invalid'],
              [retention => 30, 'setting_unknown']) {
    $r = call(tenant_admin => PUT => "$api/monitor/settings", { $case->[0] => $case->[1] });
    is("$r->{status} " . ($r->{json}{error}{code} // ''), "400 $case->[2]",
       "$case->[0] = " . ($case->[1] // 'null') . " is refused with 400 $case->[2]");
}
is($t->sql("SELECT retention_days FROM monitor_settings"), 30, 'refused changes change nothing');

# --- hardware allow-list -----------------------------------------------

$r = call(tenant_admin => POST => "$api/monitor/hardware-allowlist",
          { manufacturer => 'Contoso*', model => 'Laptop ?' });
is($r->{status}, 201, 'a Tenant Admin adds an allow-list entry');
my $entry = $r->{json}{id};
$r = call(tenant_admin => POST => "$api/monitor/hardware-allowlist",
          { manufacturer => 'Contoso*', model => 'Laptop ?' });
is("$r->{status} $r->{json}{error}{code}", '409 allowlist_entry_exists', 'the same entry twice: 409');
$r = call(tenant_admin => POST => "$api/monitor/hardware-allowlist", { manufacturer => '', model => 'x' });
is("$r->{status} $r->{json}{error}{code}", '400 manufacturer_invalid', 'an empty manufacturer: 400');
$r = call(tenant_admin => POST => "$api/monitor/hardware-allowlist",
          { manufacturer => 'x', model => 'y' x 129 });
is("$r->{status} $r->{json}{error}{code}", '400 model_invalid', 'a model of 129 characters: 400');
$r = call(tenant_admin => GET => "$api/monitor/hardware-allowlist");
is_deeply([ map { "$_->{manufacturer}/$_->{model}" } @{ $r->{json}{items} } ],
          ['Contoso*/Laptop ?'], 'the allow-list lists the entry');
$r = call(tenant_admin => DELETE => "$api/monitor/hardware-allowlist/$entry");
is($r->{status}, 204, 'a Tenant Admin removes it');
$r = call(tenant_admin => DELETE => "$api/monitor/hardware-allowlist/$entry");
is("$r->{status} $r->{json}{error}{code}", '404 allowlist_entry_not_found', 'removing it again: 404');

# --- audit log ---------------------------------------------------------

$r = call(tenant_admin => GET => "$api/audit");
is($r->{status}, 200, 'a Tenant Admin reads the audit log');
is_deeply([ map { $_->{action} } @{ $r->{json}{items} } ],
          ['hardware_allowlist.removed', 'hardware_allowlist.added', 'monitor_settings.updated',
           'monitor_settings.updated', 'session.deleted'],
          '... every write, newest first');
unlike($r->{body}, qr/SERIAL-|Contoso Hardware/, '... naming no serial number or device detail');
$r = call(tenant_admin => GET => "$api/audit?action=monitor_settings.updated&limit=1");
is(scalar @{ $r->{json}{items} }, 1, 'action= and limit= select one entry');
is($r->{json}{items}[0]{detail}{diagnosticsMode}, 'Always', '... the newest, with its detail');
$r = call(tenant_admin => GET => "$api/audit?action=monitor_settings.updated&cursor=$r->{json}{nextCursor}");
is($r->{json}{items}[0]{detail}{retentionDays}, 30, '... and the cursor the older one');
is($r->{json}{nextCursor}, undef, '... which is the last');

# --- the role matrix: each denial --------------------------------------

my @endpoints = (
    [GET    => '/sessions',                         undef,    'user'],
    [GET    => "/sessions/$s1",                     undef,    'user'],
    [GET    => '/devices',                          undef,    'user'],
    [GET    => "/devices/$d1",                      undef,    'user'],
    [DELETE => "/sessions/$s1",                     undef,    'operator'],
    [PUT    => "/devices/$d1/block",                {},       'operator'],
    [DELETE => "/devices/$d1/block",                undef,    'operator'],
    [GET    => '/monitor/settings',                 undef,    'tenant_admin'],
    [PUT    => '/monitor/settings',                 {},       'tenant_admin'],
    [GET    => '/monitor/hardware-allowlist',       undef,    'tenant_admin'],
    [POST   => '/monitor/hardware-allowlist',       { manufacturer => 'a', model => 'b' }, 'tenant_admin'],
    [DELETE => '/monitor/hardware-allowlist/1',     undef,    'tenant_admin'],
    [POST   => '/offboard',                         { confirm => $contoso }, 'tenant_admin'],
    [GET    => '/audit',                            undef,    'tenant_admin'],
);
my %rank = (none => 0, user => 1, operator => 2, tenant_admin => 3);
for my $e (@endpoints) {
    my ($method, $path, $json, $needs) = @$e;
    for my $role (grep { $rank{$_} < $rank{$needs} } qw(none user operator)) {
        $r = call($role => $method => "$api$path", $json);
        is("$r->{status} " . ($r->{json}{error}{code} // ''), '403 role_required',
           "$method $path is refused to " . ($role eq 'none' ? 'a caller without a role' : "a \u$role"));
    }
    $r = call(tenant_admin => $method => "/api/tenants/$northwind$path", $json);
    is("$r->{status} " . ($r->{json}{error}{code} // ''), '403 tenant_mismatch',
       "$method $path of another tenant is refused to a Tenant Admin");
}
is($t->sql("SELECT count(*) FROM enrollment_sessions WHERE session_id = '$s1'"), 1,
   'no refused request deleted anything');
is($t->sql("SELECT count(*) FROM tenants"), 2, '... nor offboarded anyone');

$r = $t->worker_request('cc-api', 'GET', "/api/tenants/$northwind/sessions",
                        { 'X-CC-Tenant' => $contoso, 'X-CC-User' => $oid{global_admin},
                          'X-CC-Roles' => 'global_admin' });
is($r->{status}, 403, 'cc-api itself refuses another tenant without nginx\'s cross-tenant mark');

# A customer can assign app roles in its own directory: global_admin
# counts only in the platform tenant.
$r = call(global_admin => GET => "/api/tenants/$northwind/monitor/settings", undef, $northwind);
is("$r->{status} " . ($r->{json}{error}{code} // ''), '403 role_required',
   "global_admin from a customer's own directory is no role in cc-api");

# --- a Global Admin in another tenant ----------------------------------

$r = call(global_admin => GET => "/api/tenants/$northwind/sessions");
is($r->{status}, 200, "a Global Admin lists another tenant's sessions");
is_deeply(ids($r), [$ns], '... that tenant\'s, the one the path names');
is($t->sql("SELECT count(*) FROM audit_log WHERE tenant_id = '$northwind' "
           . "AND action = 'cross_tenant_access' AND actor = 'user:$oid{global_admin}'"),
   1, "... and the access is in that tenant's audit log");
$r = call(global_admin => PUT => "/api/tenants/$northwind/monitor/settings", { retentionDays => 7 });
is($r->{json}{retentionDays}, 7, "a Global Admin changes another tenant's settings");
is($t->sql("SELECT retention_days FROM monitor_settings WHERE tenant_id = '$northwind'"), 7,
   '... in that tenant');
is($t->sql("SELECT count(*) FROM audit_log WHERE tenant_id = '$northwind' "
           . "AND action = 'monitor_settings.updated'"), 1, '... audited there');

# --- the SPA's session cookie ------------------------------------------

$r = $t->https(POST => '/api/dev/sign-in', json => {
    tenant => $contoso, user => $oid{operator}, roles => ['operator'] });
my ($cookie) = ($r->{headers}{'set-cookie'} // '') =~ /^(cc_session=[^;]+)/;
ok($cookie, 'an Operator signs in with a session cookie');
$r = $t->https(GET => "$api/sessions", headers => { Cookie => $cookie });
is_deeply(ids($r), [$s3, $s1], 'the cookie lists the sessions');
$r = $t->https(PUT => "$api/devices/$d1/block", headers => { Cookie => $cookie }, json => {});
is($r->{status}, 403, 'a block with the cookie and no Origin is refused by nginx');
is($t->sql("SELECT count(*) FROM device_blocks"), 0, '... and blocks nothing');
my $origin = 'https://localhost:' . $t->port('https');
$r = $t->https(PUT => "$api/devices/$d1/block", json => {},
               headers => { Cookie => $cookie, Origin => $origin });
is($r->{status}, 200, 'a block with the cookie from our origin is done');
$r = $t->https(DELETE => "$api/devices/$d1/block", headers => { Cookie => $cookie, Origin => $origin });
is($r->{status}, 204, '... and so is the unblock');
$r = $t->https(GET => "$api/audit", headers => { Cookie => $cookie });
is("$r->{status} $r->{json}{error}{code}", '403 role_required',
   'the cookie carries its roles: an Operator may not read the audit log');

ok(!$t->grep_log('cc-api', qr/SERIAL-/), 'no serial number reached the cc-api log');
ok(!$t->grep_log('nginx-error', qr/SERIAL-/), '... nor nginx\'s error log');

$t->done_testing;
