#!/usr/bin/perl

# The full resync: at start cc-worker sends nginx's registry everything the
# database says (tenants with plan, region and limits, blocks in force,
# revoked sessions whose cookies are still valid) and the simulator's
# signing keys; after nginx restarts with an empty zone it does so again
# within seconds.  Without CC_NGINX_CONTROL_SOCKET the sync is off.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib", $FindBin::Bin;
use Test::More;
use Time::HiRes qw(time);

use CC::Test;
use SyncKit qw(start_sim start_registry_nginx start_sync_worker registry tenant_status
               metric wait_synced);

my $t = CC::Test->new;
$t->start_pg;
my $sim = start_sim($t);

my $active    = 'a0000000-0000-4000-8000-000000000001';
my $suspended = 'a0000000-0000-4000-8000-000000000002';
my $gone      = 'a0000000-0000-4000-8000-000000000003';
my $unknown   = 'a0000000-0000-4000-8000-0000000000ff';
my $user      = 'b0000000-0000-4000-8000-000000000001';
my $dev_ever  = 'd0000000-0000-4000-8000-000000000001';
my $dev_later = 'd0000000-0000-4000-8000-000000000002';
my $dev_past  = 'd0000000-0000-4000-8000-000000000003';
my $sid_revoked = '0123456789abcdef0123456789abcdef';
my $sid_live    = '1123456789abcdef0123456789abcdef';
my $sid_expired = '2123456789abcdef0123456789abcdef';

$t->sql(<<"SQL");
INSERT INTO tenants (id, name, status, plan, region, limits) VALUES
  ('$active', 'Active', 'active', 'gold', 'eu-west',
   '{"agent_per_min": 100, "api_per_min": 600}'),
  ('$suspended', 'Suspended', 'suspended', 'standard', 'default', '{}'),
  ('$gone', 'Gone', 'offboarded', 'standard', 'default', '{}');
INSERT INTO users (id, tenant_id, oid) VALUES ('$user', '$active', gen_random_uuid());
INSERT INTO device_blocks (tenant_id, device_id, until, reason) VALUES
  ('$active', '$dev_ever', NULL, 'lost'),
  ('$active', '$dev_later', now() + interval '1 hour', 'stolen'),
  ('$active', '$dev_past', now() - interval '1 hour', 'expired');
INSERT INTO sessions (id, tenant_id, user_id, created_at, expires_at, revoked_at) VALUES
  ('\\x$sid_revoked', '$active', '$user', now(), now() + interval '1 hour', now()),
  ('\\x$sid_live', '$active', '$user', now(), now() + interval '1 hour', NULL),
  ('\\x$sid_expired', '$active', '$user', now() - interval '2 hours',
   now() - interval '1 hour', now() - interval '90 minutes');
SQL

start_registry_nginx($t);
my ($status, $reg) = registry($t, GET => '/registry');
is($reg->{sync}{tag}, undef, 'a fresh nginx has never been synced');

start_sync_worker($t, $sim);
ok(wait_synced($t), 'cc-worker resyncs the registry at start');

# --- tenants ---------------------------------------------------------------------

($status, $reg) = registry($t, GET => '/registry');
is($reg->{tenants}, 3, 'every tenant of the database is in nginx');
is(tenant_status($t, $active), 'active', 'an active tenant is active in nginx');
is(tenant_status($t, $suspended), 'suspended',
   'a suspended tenant is suspended in nginx');
is(tenant_status($t, $gone), 'offboarded', 'an offboarded tenant is offboarded');
is(tenant_status($t, $unknown), 'unknown', 'a tenant not in the database is unknown');

my ($st, $entry) = registry($t, GET => "/registry/tenants/$active");
is($entry->{plan}, 'gold', "the tenant's plan is sent");
is($entry->{region}, 'eu-west', "so is its region");
is_deeply($entry->{limits}, { agent_per_min => 100, api_per_min => 600 },
          'and its limits');

# --- blocks and sessions ---------------------------------------------------------

($st, $entry) = registry($t, GET => "/registry/devices/$active/$dev_ever");
is($st, 200, 'an indefinite block is in nginx');
is($entry->{until}, 0, 'with until 0');
is($entry->{reason}, 'lost', 'and its reason');
($st, $entry) = registry($t, GET => "/registry/devices/$active/$dev_later");
my $hour = $t->sql("SELECT ceil(extract(epoch FROM until))::bigint FROM device_blocks "
                 . "WHERE device_id = '$dev_later'");
is($entry->{until}, $hour, 'a block with an end carries it in Unix seconds');
($st) = registry($t, GET => "/registry/devices/$active/$dev_past");
is($st, 404, 'a block that has ended is not sent');

($st, $entry) = registry($t, GET => "/registry/sessions/$sid_revoked");
is($st, 200, 'a revoked session is in nginx');
is($entry->{until}, $t->sql("SELECT ceil(extract(epoch FROM expires_at))::bigint "
                          . "FROM sessions WHERE id = '\\x$sid_revoked'"),
   'until its cookie expires');
($st) = registry($t, GET => "/registry/sessions/$sid_live");
is($st, 404, 'a session that was not revoked is not sent');
($st) = registry($t, GET => "/registry/sessions/$sid_expired");
is($st, 404, 'nor one whose cookie has expired anyway');

# --- keys ---------------------------------------------------------------------------

my @kids = @{ $sim->admin(GET => '/admin/keys')->{kids} };
ok($t->eventually(sub {
    my (undef, $keys) = registry($t, GET => '/registry/keys');
    return @{ $keys->{keys} // [] } == @kids;
}, 10), "the simulator's signing keys reach nginx");
($st, $entry) = registry($t, GET => "/registry/keys/$kids[0]");
is($entry->{issuer}, '',
   'a key in the v1 and v2 sets is bound to no issuer of its own');
is($entry->{jwk}{kid}, $kids[0], 'the JWK is stored as published');
ok($entry->{jwk}{n} && $entry->{jwk}{e}, 'with its public key');
is($entry->{revoked}, JSON::PP::false, 'and is not revoked');

# --- metrics ------------------------------------------------------------------------

is(metric($t, 'cc_registry_sync_enabled'), 1, 'metrics say the sync is on');
cmp_ok(metric($t, 'cc_registry_syncs_total{outcome="ok"}'), '>=', 1,
       'metrics count the full sync');
cmp_ok(metric($t, 'cc_registry_entries_pushed_total{how="full"}'), '>=', 6,
       'and the entries it carried (3 tenants, 2 blocks, 1 session)');
cmp_ok(metric($t, 'cc_jwks_fetches_total{outcome="ok"}'), '>=', 2,
       'and the JWKS fetches (v2 and v1)');
cmp_ok(abs(metric($t, 'cc_registry_last_sync_timestamp_seconds') - time), '<', 60,
       'and when the last sync was');

# --- nginx restarts: a fresh zone is resynced -----------------------------------------

$t->stop('nginx');
start_registry_nginx($t);
my $t0 = time;
ok(wait_synced($t, 10), 'after an nginx restart the registry is resynced');
cmp_ok(time - $t0, '<', 5, 'within seconds');
($status, $reg) = registry($t, GET => '/registry');
is($reg->{tenants}, 3, 'the tenants are back');
is($reg->{devices}, 2, 'the blocks are back');
is($reg->{sessions}, 1, 'the revocation is back');
is($reg->{keys}, scalar @kids, 'the keys are back, without a JWKS fetch');
is(tenant_status($t, $suspended), 'suspended', 'a suspension holds again');
ok(scalar $t->grep_log('cc-worker', qr/registry is empty \(nginx restarted\)/),
   'the worker says why it resynced');

# --- a resync that has to wait for the database ----------------------------------------

# CPU ticks (user + system) the worker has used so far.
sub cpu_ticks {
    open my $fh, '<', '/proc/' . $t->pid('cc-worker') . '/stat' or return 0;
    my @f = split ' ', (<$fh> =~ s/^.*\) //r);
    return $f[11] + $f[12];
}

my @noticed = $t->grep_log('cc-worker', qr/registry is empty/);
$t->stop_pg;
$t->stop('nginx');
start_registry_nginx($t);
ok($t->eventually(sub {
    $t->grep_log('cc-worker', qr/registry is empty/) > @noticed
}, 10), 'with the database down, the sync still notices an empty registry');
my $ticks = cpu_ticks();
sleep 2;
cmp_ok(cpu_ticks() - $ticks, '<', 50,
       'and waits for the database instead of spinning');
$t->start_pg;
ok(wait_synced($t, 40), 'once the database is back the registry is resynced');
is(tenant_status($t, $suspended), 'suspended', 'with its tenants');

# --- off without a control socket ------------------------------------------------------

is($t->stop('cc-worker'), 0, 'cc-worker with the sync on shuts down cleanly');
$t->start_worker('worker');
is(metric($t, 'cc_registry_sync_enabled'), 0,
   'without CC_NGINX_CONTROL_SOCKET the sync is off');
ok(scalar $t->grep_log('cc-worker', qr/registry sync off/), 'and says so at start');

$t->done_testing;
