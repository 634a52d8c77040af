#!/usr/bin/perl

# Offboarding a tenant through the staff API: every row the tenant owns is
# gone (checked over every table with a tenant_id, so a table added later
# is covered too), other tenants keep theirs, an audit record stays, the
# registry sync drops the tenant from nginx, and what nginx then answers
# the tenant's users and devices.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;

use CC::Test;
use CC::MonitorKit qw(start_monitor_stack registry_summary user_bearer);

my $t = CC::Test->new;
my $contoso = '11111111-1111-4111-8111-111111111111';     # the platform's own
my $northwind = 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d';
my $stack = start_monitor_stack($t, demo => 1, platform => $contoso,
    tenants => [$contoso => 'Contoso', $northwind => 'Northwind'],
    workers => [['ingest'], ['api', env => { CC_PLATFORM_TENANT => $contoso }]]);
my ($sim, $control) = @$stack{qw(sim control)};

sub registry_has {
    my ($tid) = @_;
    my ($status) = eval { CC::Stack::unix_request($control, 'GET', "/registry/tenants/$tid") };
    return ($status // 0) == 200;
}
ok($t->eventually(sub {
    return (registry_summary($control)->{keys} // 0) > 0
        && registry_has($northwind) && registry_has($contoso);
}, 20), 'both tenants and the issuer keys reached nginx');

# --- seed both tenants with the same kinds of rows ----------------------

my $admin_oid = '0a0b0c0d-0000-4000-8000-000000000003';
for my $tid ($contoso, $northwind) {
    my $n = $tid eq $contoso ? 1 : 2;
    my $dev = "d${n}000000-0000-4000-8000-000000000001";
    my $ses = "5e55${n}000-0000-4000-8000-000000000001";
    $t->sql(<<"SQL");
INSERT INTO devices (tenant_id, device_id, serial_number) VALUES ('$tid', '$dev', 'SERIAL-$n');
INSERT INTO enrollment_sessions (tenant_id, session_id, device_id) VALUES ('$tid', '$ses', '$dev');
INSERT INTO events (tenant_id, session_id, sequence, event_time, event_type)
  SELECT '$tid', '$ses', g, now(), 'esp_progress' FROM generate_series(1, 3) g;
INSERT INTO session_trace (tenant_id, session_id, kind, ordinal, payload)
  VALUES ('$tid', '$ses', 'Signal', 0, '{}');
INSERT INTO monitor_settings (tenant_id, retention_days) VALUES ('$tid', 30);
INSERT INTO hardware_allowlist (tenant_id, manufacturer, model) VALUES ('$tid', 'A*', 'B*');
INSERT INTO device_blocks (tenant_id, device_id, reason) VALUES ('$tid', '$dev', 'stolen');
WITH u AS (INSERT INTO users (tenant_id, oid, email) VALUES ('$tid', '$admin_oid', 'admin$n\@example.com')
           RETURNING id)
INSERT INTO memberships (tenant_id, user_id, role) SELECT '$tid', id, 'tenant_admin' FROM u;
INSERT INTO sessions (id, tenant_id, expires_at) VALUES (decode(md5('$tid'), 'hex'), '$tid', now() + interval '1 hour');
INSERT INTO jobs (tenant_id, kind) VALUES ('$tid', 'noop');
INSERT INTO agent_errors (tenant_id, device_id, session_id, error_type) VALUES ('$tid', '$dev', '$ses', 0);
INSERT INTO distress_reports (tenant_id, error_type, serial_number, reported_at)
  VALUES ('$tid', 1, 'SERIAL-$n', now());
INSERT INTO tenant_pattern_overrides (tenant_id, pattern_id, pattern) VALUES ('$tid', 'p1', NULL);
INSERT INTO tenant_pattern_revisions (tenant_id, revision) VALUES ('$tid', 1);
INSERT INTO audit_log (tenant_id, actor, action) VALUES ('$tid', 'user:$admin_oid', 'earlier.thing');
SQL
}

# Every table with a tenant_id column but the audit log, with its count of
# tid's rows: "table=n,table=n" in name order.
my $tables = $t->sql("SELECT string_agg(table_name, ' ' ORDER BY table_name) "
                     . "FROM information_schema.columns WHERE table_schema = 'public' "
                     . "AND column_name = 'tenant_id' AND table_name <> 'audit_log' "
                     . "AND table_name NOT LIKE 'events\\_%'");
sub rows_of {
    my ($tid) = @_;
    return join ',', map { "$_=" . $t->sql("SELECT count(*) FROM $_ WHERE tenant_id = '$tid'") }
                     split ' ', $tables;
}
my $contoso_rows = rows_of($contoso);
my $northwind_rows = rows_of($northwind);
is($northwind_rows, $contoso_rows, 'both tenants were seeded alike');
is(scalar(() = $northwind_rows =~ /=[1-9]/g), 15,
   '... with rows in the 15 tenant tables of sql/002-013');

sub bearer {
    my ($tid, $role) = @_;
    return user_bearer($sim, $tid, $admin_oid, $role);
}
my $nw_admin = bearer($northwind, 'tenant_admin');

# --- refusals ------------------------------------------------------------

my $r = $t->https(POST => "/api/tenants/$northwind/offboard", headers => $nw_admin,
                  json => { confirm => $contoso });
is("$r->{status} $r->{json}{error}{code}", '400 confirm_mismatch',
   'an offboarding confirmed with another tenant id is refused');
$r = $t->https(POST => "/api/tenants/$northwind/offboard", headers => $nw_admin, json => {});
is("$r->{status} $r->{json}{error}{code}", '400 confirm_mismatch', '... and one without confirm');
$r = $t->https(POST => "/api/tenants/$northwind/offboard", headers => $nw_admin);
is($r->{status}, 422, '... and one without a body');
$r = $t->https(POST => "/api/tenants/$northwind/offboard", headers => bearer($northwind, 'operator'),
               json => { confirm => $northwind });
is("$r->{status} $r->{json}{error}{code}", '403 role_required', '... and an Operator\'s');
$r = $t->https(POST => "/api/tenants/$contoso/offboard", headers => bearer($contoso, 'tenant_admin'),
               json => { confirm => $contoso });
is("$r->{status} $r->{json}{error}{code}", '409 platform_tenant',
   'the platform tenant cannot be offboarded');
is(rows_of($northwind), $northwind_rows, 'refused offboardings deleted nothing');

# --- offboard --------------------------------------------------------------

$r = $t->https(POST => "/api/tenants/$northwind/offboard", headers => $nw_admin,
               json => { confirm => uc $northwind });
is($r->{status}, 200, 'a Tenant Admin offboards the tenant (confirm in any case)');
is_deeply($r->{json}{deleted}, { devices => 1, sessions => 1, events => 3, users => 1 },
          '... and is told what went');
is($t->sql("SELECT count(*) FROM tenants WHERE id = '$northwind'"), 0, 'the tenant row is gone');
is(rows_of($northwind), join(',', map { "$_=0" } split ' ', $tables),
   'no table holds a row of the tenant any more');
is(rows_of($contoso), $contoso_rows, "the other tenant's rows are all there");
is($t->sql("SELECT actor || ' ' || target || ' ' || (detail->>'events') FROM audit_log "
           . "WHERE tenant_id = '$northwind' AND action = 'tenant.offboarded'"),
   "user:$admin_oid tenant:$northwind 3", 'an audit record of the offboarding stays');
is($t->sql("SELECT count(*) FROM audit_log WHERE tenant_id = '$northwind' AND action = 'earlier.thing'"),
   1, '... with the tenant\'s earlier audit records');
unlike($t->sql("SELECT string_agg(detail::text || actor, ' ') FROM audit_log"), qr/example\.com|SERIAL/,
       '... naming no e-mail address or serial number');

ok($t->eventually(sub { !registry_has($northwind) }, 5),
   "the registry sync removes the tenant from nginx's registry");
ok(registry_has($contoso), '... and keeps the other');

# What nginx answers afterwards: the tenant is unknown (DESIGN.md rule 5).
$r = $t->https(GET => "/api/tenants/$northwind/sessions", headers => $nw_admin);
is("$r->{status} $r->{json}{error}{code}", '403 tenant_unknown',
   "the offboarded tenant's users are answered 403 tenant_unknown");
my $device = '5d7c1b2a-3e4f-4a5b-8c6d-7e8f9a0b1c2d';
$r = $t->https(POST => '/api/agent/register-session', port => 'agent',
               cert => [ $t->device_cert($device, $northwind) ],
               json => { Registration => { SessionId => '3c4d5e6f-7081-4293-a4b5-c6d7e8f90a1b',
                                           TenantId => $northwind } });
is($r->{status}, 403, "the offboarded tenant's devices are answered 403");
is($r->{json}{success}, JSON::PP::false(), '... in the JSON the agent reads');
$r = $t->https(POST => "/api/tenants/$northwind/offboard", headers => $nw_admin,
               json => { confirm => $northwind });
is($r->{status}, 403, 'offboarding it again is refused by nginx, the tenant being unknown');

$t->done_testing;
