#!/usr/bin/perl

# Changes in the database reach nginx at once through LISTEN cc_registry:
# with the poll of GET /registry set to a minute, only a notification can
# explain a change that shows up within a second.  Tenants (status, plan,
# creation, deletion), blocks (new, changed, lifted, already ended) and
# session revocations (including a user's deletion) each travel as one
# PUT or DELETE; changes nginx does not care about travel not at all.  A
# lost notification connection is followed by a full resync.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib", $FindBin::Bin;
use Test::More;
use Time::HiRes qw(sleep time);

use CC::Test;
use SyncKit qw(start_sim start_registry_nginx start_sync_worker registry tenant_status
               metric wait_synced);

my $t = CC::Test->new;
$t->start_pg;
my $sim = start_sim($t);

my $tid   = 'a1000000-0000-4000-8000-000000000001';
my $other = 'a1000000-0000-4000-8000-000000000002';
my $user  = 'b1000000-0000-4000-8000-000000000001';
my $user2 = 'b1000000-0000-4000-8000-000000000002';
my $dev   = 'd1000000-0000-4000-8000-000000000001';
my $dev2  = 'd1000000-0000-4000-8000-000000000002';
my $sid   = '0a23456789abcdef0123456789abcdef';
my $sid2  = '0b23456789abcdef0123456789abcdef';

$t->sql("INSERT INTO tenants (id, name) VALUES ('$tid', 'T')");
$t->sql("INSERT INTO users (id, tenant_id, oid) VALUES "
      . "('$user', '$tid', gen_random_uuid()), ('$user2', '$tid', gen_random_uuid())");

start_registry_nginx($t);
start_sync_worker($t, $sim, CC_REGISTRY_POLL_MS => 60000);
ok(wait_synced($t), 'the first full sync landed');
ok($t->eventually(sub { (registry($t, GET => '/registry'))[1]{keys} > 0 }, 10),
   'and the keys (pushed after it), so that nothing else is on its way');

# How long until $cond holds (undef if not within $limit seconds).
sub seconds_until {
    my ($cond, $limit) = @_;
    my $t0 = time;
    return $t->eventually($cond, $limit // 5) ? time - $t0 : undef;
}

sub entry_status {
    my ($path) = @_;
    my ($status) = registry($t, GET => $path);
    return $status;
}

sub generation { (registry($t, GET => '/registry'))[1]{generation} }

# --- tenants --------------------------------------------------------------------------

is(tenant_status($t, $tid), 'active', 'the tenant starts active');
$t->sql("UPDATE tenants SET status = 'suspended' WHERE id = '$tid'");
my $took = seconds_until(sub { tenant_status($t, $tid) eq 'suspended' });
ok(defined $took, 'a tenant suspended in the database is suspended in nginx');
cmp_ok($took // 99, '<', 1.5, 'within about a second (the poll is a minute)');

$t->sql("UPDATE tenants SET status = 'active', plan = 'gold', "
      . "limits = '{\"api_per_min\": 5}' WHERE id = '$tid'");
ok(defined seconds_until(sub {
    my (undef, $e) = registry($t, GET => "/registry/tenants/$tid");
    return ($e->{plan} // '') eq 'gold' && ($e->{limits}{api_per_min} // 0) == 5;
}), 'a new plan and limits follow');
is(tenant_status($t, $tid), 'active', 'as does the status');

my $g = generation();
$t->sql("UPDATE tenants SET name = 'Renamed', updated_at = now() WHERE id = '$tid'");
sleep 0.8;
is(generation(), $g, "a change nginx does not hold (the name) pushes nothing");

$t->sql("INSERT INTO tenants (id, name, status) VALUES ('$other', 'O', 'offboarding')");
ok(defined seconds_until(sub { tenant_status($t, $other) eq 'offboarding' }),
   'a new tenant appears');
$t->sql("DELETE FROM tenants WHERE id = '$other'");
ok(defined seconds_until(sub { entry_status("/registry/tenants/$other") == 404 }),
   'a deleted tenant disappears');
is(tenant_status($t, $other), 'unknown', 'and is unknown to nginx');

# --- blocks ---------------------------------------------------------------------------

$t->sql("INSERT INTO device_blocks (tenant_id, device_id, reason) "
      . "VALUES ('$tid', '$dev', 'lost')");
ok(defined seconds_until(sub { entry_status("/registry/devices/$tid/$dev") == 200 }),
   'a block reaches GET /registry/devices');
my (undef, $list) = registry($t, GET => '/registry/devices');
is_deeply([ map { "$_->{tenant}/$_->{device}" } @{ $list->{devices} } ],
          [ "$tid/$dev" ], 'the list names the blocked device');

$t->sql("UPDATE device_blocks SET until = now() + interval '1 day', reason = 'stolen' "
      . "WHERE device_id = '$dev'");
ok(defined seconds_until(sub {
    my (undef, $e) = registry($t, GET => "/registry/devices/$tid/$dev");
    return ($e->{reason} // '') eq 'stolen' && ($e->{until} // 0) > time;
}), "a block's new end and reason follow");

$t->sql("DELETE FROM device_blocks WHERE device_id = '$dev'");
ok(defined seconds_until(sub { entry_status("/registry/devices/$tid/$dev") == 404 }),
   'a lifted block disappears');

$g = generation();
$t->sql("INSERT INTO device_blocks (tenant_id, device_id, until) "
      . "VALUES ('$tid', '$dev2', now() - interval '1 minute')");
sleep 0.8;
is(entry_status("/registry/devices/$tid/$dev2"), 404,
   'a block that has already ended is not sent');

# --- sessions -------------------------------------------------------------------------

$t->sql("INSERT INTO sessions (id, tenant_id, user_id, expires_at) VALUES "
      . "('\\x$sid', '$tid', '$user', now() + interval '1 hour'), "
      . "('\\x$sid2', '$tid', '$user2', now() + interval '1 hour')");
sleep 0.8;
is(entry_status("/registry/sessions/$sid"), 404,
   'a new session is none of nginx\'s business');

$t->sql("UPDATE sessions SET revoked_at = now() WHERE id = '\\x$sid'");
$took = seconds_until(sub { entry_status("/registry/sessions/$sid") == 200 });
ok(defined $took, 'a session revocation reaches GET /registry/sessions');
cmp_ok($took // 99, '<', 1.5, 'within about a second');
my (undef, $e) = registry($t, GET => "/registry/sessions/$sid");
is($e->{until}, $t->sql("SELECT ceil(extract(epoch FROM expires_at))::bigint "
                      . "FROM sessions WHERE id = '\\x$sid'"),
   'held until the cookie expires');

$t->sql("DELETE FROM users WHERE id = '$user2'");
ok(defined seconds_until(sub { entry_status("/registry/sessions/$sid2") == 200 }),
   "deleting a user revokes the user's sessions in nginx");

$t->sql("UPDATE sessions SET revoked_at = NULL WHERE id = '\\x$sid'");
ok(defined seconds_until(sub { entry_status("/registry/sessions/$sid") == 404 }),
   'a revocation withdrawn disappears');

my $err = eval { $t->sql("DELETE FROM sessions WHERE id = '\\x$sid2'"); 1 } ? '' : $@;
like($err, qr/revoke it instead/, 'a session whose cookie is valid cannot be deleted');

# --- a tenant's deletion takes its entries along ---------------------------------------

$t->sql("INSERT INTO device_blocks (tenant_id, device_id) VALUES ('$tid', '$dev')");
ok(defined seconds_until(sub { entry_status("/registry/devices/$tid/$dev") == 200 }),
   'a block is in place');
$t->sql("DELETE FROM tenants WHERE id = '$tid'");
ok(defined seconds_until(sub {
    my (undef, $r) = registry($t, GET => '/registry');
    return $r->{tenants} == 0 && $r->{devices} == 0 && $r->{sessions} == 0;
}), "deleting a tenant removes it, its blocks and its revocations from nginx");

cmp_ok(metric($t, 'cc_registry_entries_pushed_total{how="single"}'), '>=', 10,
       'metrics count the single pushes');
is(metric($t, 'cc_registry_push_failures_total'), 0, 'none failed');

# --- a lost notification connection means a full resync -------------------------------

my $syncs = metric($t, 'cc_registry_syncs_total{outcome="ok"}');
$t->sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
      . "WHERE application_name = 'cc-worker registry sync'");
$t->sql("INSERT INTO tenants (id, name, status) VALUES ('$other', 'O', 'suspended')");
ok(defined seconds_until(sub {
    metric($t, 'cc_registry_syncs_total{outcome="ok"}') > $syncs
}), 'after its database connection is cut the sync resyncs in full');
ok(defined seconds_until(sub { tenant_status($t, $other) eq 'suspended' }),
   'and a change made meanwhile is in nginx');
ok(scalar $t->grep_log('cc-worker', qr/"why":"database connection \(re\)made"/),
   'the worker says why');

$t->done_testing;
