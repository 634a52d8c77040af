#!/usr/bin/perl

# Signing keys: the simulator's JWKS reach nginx with their issuer, a key
# rotation is followed on the refresh schedule (new kid PUT, retired kid
# DELETEd), a failing JWKS (500, 429 with Retry-After) leaves the keys in
# nginx alone and is retried (not before Retry-After), and the discovery
# documents read are the configured ones.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib", $FindBin::Bin;
use Test::More;
use Time::HiRes qw(sleep time);

use CC::Test;
use SyncKit qw(start_sim start_registry_nginx start_sync_worker registry metric
               wait_synced);

my $t = CC::Test->new;
$t->start_pg;
my $sim = start_sim($t);
start_registry_nginx($t);
start_sync_worker($t, $sim, CC_JWKS_REFRESH_SECONDS => 1);
ok(wait_synced($t), 'the registry is synced');

my $KEYS = qr{^/common/discovery/(v2\.0/)?keys$};
my $V2_KEYS = '^/common/discovery/v2\.0/keys$';

sub nginx_kids {
    my (undef, $r) = registry($t, GET => '/registry/keys');
    return join ',', sort map { $_->{kid} } @{ $r->{keys} // [] };
}

sub sim_kids { join ',', sort @{ $sim->admin(GET => '/admin/keys')->{kids} } }

sub issuer_of {
    my (undef, $e) = registry($t, GET => "/registry/keys/$_[0]");
    return $e->{issuer} // '';
}

sub rotate { $sim->admin(POST => '/admin/keys/rotate', { drop_old => JSON::PP::true })
                 ->{signing} }

# Requests the simulator answered on its JWKS paths: [path, status].
sub key_requests {
    return map { [ $_->{path}, $_->{status} // 0 ] }
           grep { $_->{path} =~ $KEYS } @{ $sim->admin(GET => '/admin/requests') };
}

# --- the simulator's keys, and a rotation -------------------------------------------

my $k1 = sim_kids();
ok($t->eventually(sub { nginx_kids() eq $k1 }, 10),
   "nginx holds the simulator's key");
# Like Entra, the simulator lists its key in the v1 set (no issuer) and the
# v2 set (the v2 template): nginx gets it bound to no issuer of its own, so
# that v1 and v2 tokens both verify (the configured issuers still apply).
is(issuer_of($k1), '', 'bound to no issuer of its own, being in the v1 and v2 sets');

my $k2 = rotate();
ok($t->eventually(sub { nginx_kids() eq $k2 }, 6),
   'after a rotation the new kid is pushed and the retired one deleted');
ok(scalar $t->grep_log('cc-worker', qr/"kid":"\Q$k1\E","method":"DELETE"/),
   'the retired kid was DELETEd');

# --- a JWKS answering 500 ---------------------------------------------------------

$sim->admin(DELETE => '/admin/requests');
my $fault = $sim->admin(POST => '/admin/faults', { service => 'entra',
    path => '/discovery/(v2\.0/)?keys$', status => 500 });
my $failed0 = metric($t, 'cc_jwks_fetches_total{outcome="failed"}');
my $k3 = rotate();
ok($t->eventually(sub { (grep { $_->[1] == 500 } key_requests()) >= 4 }, 10),
   'a JWKS answering 500 is retried');
is(nginx_kids(), $k2, 'meanwhile nginx keeps the keys it had');
cmp_ok(metric($t, 'cc_jwks_fetches_total{outcome="failed"}'), '>', $failed0,
       'the failed fetches are counted');
$sim->admin(DELETE => "/admin/faults/$fault->{id}");
ok($t->eventually(sub { nginx_kids() eq $k3 }, 6),
   'once the JWKS answers again the new key replaces the old');

# --- 429 with Retry-After ------------------------------------------------------------

$sim->admin(DELETE => '/admin/requests');
$sim->admin(POST => '/admin/faults', { service => 'entra', path => $V2_KEYS,
    status => 429, retry_after => 3, count => 1 });
my $k4 = rotate();
my ($t429, $tnext);
$t->eventually(sub {
    my @v2 = grep { $_->[0] =~ /v2\.0/ } key_requests();
    $t429 //= time if grep { $_->[1] == 429 } @v2;
    $tnext //= time if $t429 && @v2 >= 2 && $v2[-1][1] == 200;
    return defined $tnext;
}, 10);
ok(defined $t429, 'the v2 JWKS answered 429 with Retry-After: 3');
ok(defined $tnext, 'and was asked again');
cmp_ok(($tnext // 0) - ($t429 // 0), '>=', 2.5,
       'not before Retry-After, though the refresh interval is 1 s');
ok($t->eventually(sub {
    nginx_kids() eq $k4 && issuer_of($k4) eq ''
}, 6),
   'after the retry the new key is in nginx, for v1 and v2 tokens');
ok(scalar $t->grep_log('cc-worker', qr/"status":429,"retry_after_ms":3000/),
   'the worker logged the 429 and its Retry-After');
ok(!$t->grep_log('cc-worker', qr/\?|client_secret|demo-.*secret/),
   'and no query string or secret ever');

# --- the configured discovery documents ----------------------------------------------

is($t->stop('cc-worker'), 0, 'cc-worker stops cleanly');
start_sync_worker($t, $sim, CC_JWKS_REFRESH_SECONDS => 1,
    CC_OIDC_DISCOVERY_URLS =>
        ' ' . $sim->url . '/common/.well-known/openid-configuration ');
ok($t->eventually(sub { issuer_of($k4) eq $SyncKit::V1_ISSUER }, 10),
   'with only the v1 document configured, keys carry the v1 issuer');
is(nginx_kids(), $k4, 'the same kid');

my $worker = $t->build . '/cc-worker';
my $base = 'CC_DATABASE_URL=x CC_SOCKET=/tmp/none.sock';
my $out = qx{$base CC_OIDC_DISCOVERY_URLS=http://x/y $worker 2>&1};
is($? >> 8, 2, 'an http:// discovery URL stops cc-worker at start (exit 2)');
like($out, qr/CC_OIDC_DISCOVERY_URLS/, 'naming the key');
$out = qx{$base CC_LOGIN_URL=http://login.example $worker 2>&1};
is($? >> 8, 2, 'so does an http:// login URL');
like($out, qr/CC_LOGIN_URL/, 'naming the key');

$t->done_testing;
