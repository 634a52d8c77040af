#!/usr/bin/perl

# cc-api's agent configuration and agent reports, on its unix socket with
# the identity headers nginx would send: IME pattern overrides (list, read,
# replace, add, disable, back to default), their validation with stable
# error codes, each role's denial, a Global Admin's audited access to
# another tenant, every write audited, and the agent-report listing
# (newest first, paginated, Users denied).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;

use CC::Test;
use CC::MonitorKit qw(staff_request);

my $platform = '00000000-0000-4000-8000-0000000000aa';
my $a = '0a0a0a0a-0000-4000-8000-00000000000a';
my $b = '0b0b0b0b-0000-4000-8000-00000000000b';

my $t = CC::Test->new;
$t->start_pg;
$t->sql("INSERT INTO tenants (id, name) VALUES ('$platform', 'Platform'), ('$a', 'A'), ('$b', 'B')");
$t->start_worker('api', env => { CC_PLATFORM_TENANT => $platform });

my $admin_user = '1d1d1d1d-0000-4000-8000-000000000001';

# A Tenant Admin of A unless told otherwise.
sub call {
    my ($method, $path, %opt) = @_;
    return staff_request($t, $method, $path, tenant => $a, user => $admin_user,
                         roles => 'tenant_admin', %opt);
}

my $base = "/api/tenants/$a/agent-config/patterns";
my $default_version = $t->sql("SELECT max(version) FROM agent_pattern_sets");
my $default_count = $t->sql("SELECT jsonb_array_length(patterns) FROM agent_pattern_sets "
                          . "WHERE version = $default_version");

sub audits { $t->sql("SELECT count(*) FROM audit_log WHERE tenant_id = '$_[0]' AND action = '$_[1]'") }

# --- reading -----------------------------------------------------------------

my $r = call(GET => $base, roles => 'user');
is($r->{status}, 200, 'a User may read the patterns');
is($r->{json}{setVersion}, $default_version, '... which name the default set version');
is($r->{json}{configVersion}, $default_version, '... and the configVersion agents get');
is(scalar @{ $r->{json}{patterns} }, $default_count, '... and list the patterns agents get');
is_deeply($r->{json}{overrides}, [], '... with no override yet');
is(call(GET => $base, roles => 'operator')->{status}, 200, 'an Operator may read them');

$r = call(GET => "$base/CC-ESP-PHASE", roles => 'user');
is($r->{status}, 200, 'one pattern can be read');
is($r->{json}{effective}{action}, 'espPhaseDetected', '... with what agents get');
is($r->{json}{default}{patternId}, 'CC-ESP-PHASE', '... and the default');
ok(!defined $r->{json}{override}, '... and no override');
is(call(GET => "$base/NO-SUCH-PATTERN")->{status}, 404, 'an unknown pattern is 404');

# --- writing -----------------------------------------------------------------

my %mine = (category => 'always', pattern => 'EspPhase=(?<espPhase>\w+)',
            action => 'espPhaseDetected', description => 'tenant variant',
            parameters => { phase => 'AccountSetup' });

$r = call(PUT => "$base/CC-ESP-PHASE", json => \%mine);
is($r->{status}, 200, 'a Tenant Admin replaces a default pattern');
is($r->{json}{pattern}{pattern}, $mine{pattern}, '... and gets it back');
is($r->{json}{pattern}{isBuiltIn}, JSON::PP::false(), '... marked as not built in');
is($r->{json}{pattern}{enabled}, JSON::PP::true(), '... enabled by default');
is(audits($a, 'agent_pattern_override_put'), 1, '... and the write is audited');
is($t->sql("SELECT actor FROM audit_log WHERE action = 'agent_pattern_override_put'"),
   "user:$admin_user", '... by the user id');

$r = call(GET => $base);
my ($esp) = grep { $_->{patternId} eq 'CC-ESP-PHASE' } @{ $r->{json}{patterns} };
is($esp->{pattern}, $mine{pattern}, 'the listing serves the override');
is($r->{json}{configVersion}, $default_version + 1, '... and configVersion went up by one');
is($r->{json}{overrides}[0]{patternId}, 'CC-ESP-PHASE', '... and lists the override');

$r = call(PUT => "$base/TENANT-EXTRA", json => { %mine, action => 'imeStarted', pattern => 'Started' });
is($r->{status}, 200, "a Tenant Admin adds a pattern of the tenant's own");
$r = call(PUT => "$base/CC-SCRIPT-EXIT", json => { disabled => JSON::PP::true() });
is($r->{status}, 200, 'a Tenant Admin disables a default pattern');
is($r->{json}{disabled}, JSON::PP::true(), '... and is told so');

$r = call(GET => $base);
my %ids = map { $_->{patternId} => 1 } @{ $r->{json}{patterns} };
ok(!$ids{'CC-SCRIPT-EXIT'}, 'a disabled pattern is absent from what agents get');
ok($ids{'TENANT-EXTRA'}, "the tenant's own pattern is there");
is(scalar @{ $r->{json}{patterns} }, $default_count, '... so the count is the default one minus one plus one');
is($r->{json}{configVersion}, $default_version + 3, 'each write raised configVersion');
is(call(GET => "$base/CC-SCRIPT-EXIT")->{json}{override}{disabled}, JSON::PP::true(),
   'reading the disabled pattern shows the override');

$r = call(DELETE => "$base/CC-SCRIPT-EXIT");
is($r->{status}, 200, 'a Tenant Admin removes an override');
ok((grep { $_->{patternId} eq 'CC-SCRIPT-EXIT' } @{ call(GET => $base)->{json}{patterns} }),
   '... and the default pattern is back');
is(call(GET => $base)->{json}{configVersion}, $default_version + 4,
   '... with a configVersion that still went up (never back)');
is(audits($a, 'agent_pattern_override_delete'), 1, '... and the removal is audited');
is(call(DELETE => "$base/CC-SCRIPT-EXIT")->{status}, 404, 'removing an override that is not there is 404');

is($t->sql_as_app($b, "SELECT count(*) FROM tenant_pattern_overrides"), 0,
   "another tenant sees none of A's overrides (RLS)");

# --- validation --------------------------------------------------------------

for my $bad ([{ %mine, pattern => '(?<id>[0-9' }, 'invalid_regex', 'a regex that does not compile'],
             [{ %mine, pattern => '' }, 'invalid_regex', 'an empty regex'],
             [{ %mine, pattern => 'x' x 2001 }, 'invalid_regex', 'a regex over 2000 characters'],
             [{ %mine, category => 'sometimes' }, 'invalid_category', 'an unknown category'],
             [{ %mine, action => 'formatDisk' }, 'invalid_action', 'an unknown action'],
             [{ %mine, parameters => { n => 1 } }, 'invalid_parameters', 'a parameter that is not a string'],
             [{ %mine, patternId => 'OTHER' }, 'invalid_pattern_id', 'a body patternId other than the path'],
             [{ %mine, enabled => 'yes' }, 'invalid_request', 'enabled that is not a boolean'],
             [[1], 'invalid_request', 'a body that is not an object']) {
    my $before = $t->sql("SELECT count(*) FROM tenant_pattern_overrides");
    $r = call(PUT => "$base/CC-APP-CURRENT", json => $bad->[0]);
    is($r->{status}, 400, "$bad->[2] is refused with 400");
    is($r->{json}{error}{code}, $bad->[1], "... code $bad->[1]");
    is($t->sql("SELECT count(*) FROM tenant_pattern_overrides"), $before, '... and nothing is stored');
}
$t->sql("INSERT INTO tenant_pattern_overrides (tenant_id, pattern_id, pattern) "
      . "SELECT '$a', 'FILL-' || i, '{}' FROM generate_series(1, 100 - "
      . "(SELECT count(*) FROM tenant_pattern_overrides WHERE tenant_id = '$a')) i");
$r = call(PUT => "$base/ONE-TOO-MANY", json => \%mine);
is($r->{status}, 409, 'a tenant with 100 overrides may not add another');
is($r->{json}{error}{code}, 'too_many_overrides', '... code too_many_overrides');
is(call(PUT => "$base/CC-ESP-PHASE", json => \%mine)->{status}, 200,
   '... but may still change one it has');
$t->sql("DELETE FROM tenant_pattern_overrides WHERE pattern_id LIKE 'FILL-%'");

$r = call(PUT => "$base/-bad-id", json => \%mine);
is($r->{status}, 400, 'a malformed patternId in the path is refused with 400');
is($r->{json}{error}{code}, 'invalid_pattern_id', '... code invalid_pattern_id');

# --- roles -------------------------------------------------------------------

for my $role ('operator', 'user', '') {
    my $who = $role || 'a caller without a role';
    $r = call(PUT => "$base/CC-APP-CURRENT", roles => $role, json => \%mine);
    is($r->{status}, 403, "$who may not write a pattern");
    is($r->{json}{error}{code}, 'role_required', '... code role_required');
    $r = call(DELETE => "$base/CC-ESP-PHASE", roles => $role);
    is($r->{status}, 403, "$who may not remove an override");
}
is(call(GET => $base, roles => '')->{status}, 403, 'a caller without a role may not read patterns');

$r = call(GET => "/api/tenants/$b/agent-config/patterns");
is($r->{status}, 403, "a Tenant Admin may not read another tenant's patterns");
is($r->{json}{error}{code}, 'other_tenant', '... code other_tenant');
$r = call(PUT => "/api/tenants/$b/agent-config/patterns/CC-APP-CURRENT", json => \%mine,
          roles => 'global_admin', cross => 1);
is($r->{status}, 403, 'a global_admin role outside the platform tenant counts for nothing');
$r = call(PUT => "/api/tenants/$b/agent-config/patterns/CC-APP-CURRENT", json => \%mine,
          tenant => $platform, roles => 'global_admin');
is($r->{status}, 403, 'a Global Admin without nginx\'s cross-tenant mark is refused');

$r = call(PUT => "/api/tenants/$b/agent-config/patterns/CC-APP-CURRENT",
          json => { %mine, action => 'setCurrentApp' },
          tenant => $platform, roles => 'global_admin', cross => 1);
is($r->{status}, 200, 'a Global Admin writes a pattern in another tenant');
is(audits($b, 'agent_pattern_override_put'), 1, "... audited in that tenant's log");
$r = call(GET => "/api/tenants/$b/agent-config/patterns", tenant => $platform,
          roles => 'global_admin', cross => 1);
is($r->{status}, 200, "a Global Admin reads another tenant's patterns");
is(audits($b, 'cross_tenant_access'), 1, '... and the read is audited there');
is($t->sql("SELECT count(*) FROM tenant_pattern_overrides WHERE tenant_id = '$b'"), 1,
   "the write went to that tenant's overrides");

# --- agent reports -----------------------------------------------------------

my $device = '5d7c1b2a-3e4f-4a5b-8c6d-7e8f9a0b1c2d';
my $session = '3c4d5e6f-7081-4293-a4b5-c6d7e8f90a1b';
$t->sql("INSERT INTO agent_errors (tenant_id, device_id, session_id, error_type, message, reported_at) "
      . "SELECT '$a', '$device', '$session', i % 5, 'error ' || i, now() FROM generate_series(1, 5) i");
$t->sql("INSERT INTO agent_errors (tenant_id, device_id, session_id, error_type, message) "
      . "VALUES ('$b', '$device', '$session', 1, 'b error')");
$t->sql("INSERT INTO distress_reports (tenant_id, error_type, serial_number, message, reported_at) "
      . "VALUES ('$a', 2, 'SERIAL-API-1', 'rejected', now())");

my $reports = "/api/tenants/$a/agent-reports";
$r = call(GET => "$reports?kind=error&limit=2", roles => 'operator');
is($r->{status}, 200, 'an Operator lists error reports');
is(join(',', map { $_->{message} } @{ $r->{json}{items} }), 'error 5,error 4', '... newest first, a page at a time');
is($r->{json}{items}[0]{errorTypeName}, 'IngestFailed', '... with the error type by name');
ok(defined $r->{json}{nextCursor}, '... and a cursor to the next page');
$r = call(GET => "$reports?kind=error&limit=2&cursor=$r->{json}{nextCursor}", roles => 'operator');
is(join(',', map { $_->{message} } @{ $r->{json}{items} }), 'error 3,error 2', 'the next page follows on');
$r = call(GET => "$reports?kind=error&limit=10");
is(scalar @{ $r->{json}{items} }, 5, "a Tenant Admin sees only the tenant's own reports");
ok(!exists $r->{json}{nextCursor}, '... and a page that is not full has no next cursor');

$r = call(GET => "$reports?kind=distress");
is($r->{json}{items}[0]{serialNumber}, 'SERIAL-API-1', 'distress reports are listed, with the serial for staff');
is($r->{json}{items}[0]{errorTypeName}, 'AuthCertificateRejected', '... and the error type by name');

$r = call(GET => "$reports?kind=error", roles => 'user');
is($r->{status}, 403, 'a User may not list agent reports');
is($r->{json}{error}{code}, 'role_required', '... code role_required');
for my $bad (['kind=bogus', 'invalid_kind'], ['', 'invalid_kind'], ['kind=error&limit=0', 'invalid_limit'],
             ['kind=error&limit=201', 'invalid_limit'], ['kind=error&cursor=abc', 'invalid_cursor']) {
    $r = call(GET => "$reports?$bad->[0]");
    is($r->{status}, 400, "?$bad->[0] is refused with 400");
    is($r->{json}{error}{code}, $bad->[1], "... code $bad->[1]");
}
$r = call(GET => "/api/tenants/$b/agent-reports?kind=error");
is($r->{status}, 403, "a Tenant Admin may not list another tenant's reports");

# --- logs ----------------------------------------------------------------------

my @leaks = $t->grep_log('cc-api', qr/SERIAL-API-1/);
is(scalar @leaks, 0, 'no serial number in the log');
ok(scalar $t->grep_log('cc-api', qr/agent pattern override stored/),
   '... which the grep would find (writes are logged)');

$t->done_testing;
