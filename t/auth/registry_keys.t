#!/usr/bin/perl

# Signing keys pushed into the registry (as cc-worker does from the
# issuers' JWKS): tokens verify against them with the issuer the registry
# holds for each key; a revoked, replaced, deleted or unusable key takes
# effect on the next request; an unknown kid is noted for the sync job.
# No static key file here, and no token cache: every token is verified.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib", $FindBin::Bin;
use Test::More;

use CC::Test;
use AuthKit qw(new_key claims token b64j start_echo nginx_conf http registry);

my $t = CC::Test->new;
my $dir = $t->dir;

my $v2 = 'https://login.microsoftonline.com/{tenantid}/v2.0';
my $v1 = 'https://sts.windows.net/{tenantid}/';
my $tenant = $AuthKit::TENANT;
my $tenant2 = $AuthKit::TENANT2;

start_echo($t);
$t->start_nginx(nginx_conf(<<'EOF'), wait_ports => [$t->port('http'), $t->port('echo')]);
    server {
        listen 127.0.0.1:%%PORT_HTTP%%;

        cc_auth bearer;
        cc_auth_issuer     "https://login.microsoftonline.com/{tenantid}/v2.0";
        cc_auth_issuer     "https://sts.windows.net/{tenantid}/";
        cc_auth_audience   api://concierge;

        location / {
            add_header X-Auth-Error $cc_auth_error always;
            proxy_pass http://echo;
        }
    }
EOF

registry($t, PUT => "/registry/tenants/$_", { status => 'active' }) for $tenant, $tenant2;

sub push_key {
    my ($kid, $jwk, $issuer, $revoked) = @_;
    my ($status) = registry($t, PUT => "/registry/keys/$kid",
        { jwk => $jwk, issuer => $issuer,
          revoked => $revoked ? JSON::PP::true() : JSON::PP::false() });
    die "registry refused key $kid: $status\n" unless $status =~ /^20[01]$/;
}

sub verdict {
    my ($token) = @_;
    my $r = http($t, GET => '/', { Authorization => "Bearer $token" });
    return $r->{status} == 200 ? 'ok' : $r->{headers}{'x-auth-error'};
}

my $a = new_key($dir, 'rsa', 'key-a');
my $b = new_key($dir, 'ec', 'key-b');
my $c = new_key($dir, 'rsa', 'key-c');
push_key('key-a', $a->{jwk}, $v2);
push_key('key-b', $b->{jwk}, $v1);
push_key('key-c', $c->{jwk}, "https://login.microsoftonline.com/$tenant/v2.0");

my $v1_claims = claims(ver => '1.0', iss => "https://sts.windows.net/$tenant/");

is(verdict(token($a, claims())), 'ok', 'v2 token under a registry key with the v2 issuer');
is(verdict(token($a, $v1_claims)), 'key_issuer_mismatch',
   'v1 token under a key published for v2 issuers');
is(verdict(token($b, $v1_claims)), 'ok', 'v1 token under a registry key with the v1 issuer');
is(verdict(token($c, claims())), 'ok', 'token of the tenant a fixed-issuer key belongs to');
is(verdict(token($c, claims(tid => $tenant2))), 'key_issuer_mismatch',
   "another tenant's token under a fixed-issuer key");

# Unknown kids: refused, and noted where the sync job looks.
is(verdict(token({ %$a, kid => 'not-yet-published' }, claims())), 'unknown_kid',
   'kid the registry does not hold');
my (undef, $status) = registry($t, GET => '/registry');
is($status->{unknown_kid}{kid}, 'not-yet-published', 'unknown kid noted for the sync job');
is(verdict(b64j({ alg => 'none', kid => 'not-yet-published' }) . '.' . b64j(claims()) . '.'),
   'alg_not_allowed', 'alg none under an unknown kid: the algorithm is what is refused');
is(verdict(b64j({ alg => 'RS256' }) . '.' . b64j(claims()) . '.AAAA'), 'missing_kid',
   'no kid, no static keys: missing_kid');

# Revocation and replacement take effect on the next request.
my $old = token($a, claims());
push_key('key-a', $a->{jwk}, $v2, 1);
is(verdict($old), 'key_revoked', 'revoked key: refused at once');
push_key('key-a', $a->{jwk}, $v2, 0);
is(verdict($old), 'ok', 'revocation lifted: accepted again');

my $a2 = new_key($dir, 'rsa', 'key-a');
push_key('key-a', $a2->{jwk}, $v2);
is(verdict($old), 'bad_signature', 'key material replaced under the same kid: old token refused');
is(verdict(token($a2, claims())), 'ok', 'token under the new material accepted');

registry($t, DELETE => '/registry/keys/key-a');
is(verdict(token($a2, claims())), 'unknown_kid', 'deleted key: refused at once');

# Keys lib will not use are left out, with a warning naming why.
CC::Stack::_run('openssl', 'genpkey', '-algorithm', 'RSA', '-pkeyopt',
                'rsa_keygen_bits:1024', '-out', "$dir/weak.pem");
my $weak = { %$a, kid => 'weak', pk => Crypt::PK::RSA->new("$dir/weak.pem") };
push_key('weak', { %{ $weak->{pk}->export_key_jwk('public', 1) }, kid => 'weak' }, $v2);
is(verdict(token($weak, claims())), 'unknown_kid', 'RSA-1024 registry key: not used');
ok(scalar $t->grep_log('nginx-error', qr/registry key "weak" is unusable: weak_key/),
   'unusable registry key logged with its reason');
is(verdict(token($weak, claims())), 'unknown_kid', 'unusable key: still not used');
is(scalar(() = $t->grep_log('nginx-error', qr/registry key "weak" is unusable/)), 1,
   'an unusable key is parsed (and logged) once, not per request');

push_key('mislabelled', $b->{jwk}, $v2);
is(verdict(token({ %$b, kid => 'mislabelled' }, claims())), 'unknown_kid',
   'registry entry whose JWK carries another kid: not used');

push_key('not-a-key', { kty => 'RSA', kid => 'not-a-key', n => 'AQAB', e => 'AQAB' }, $v2);
is(verdict(token({ %$a2, kid => 'not-a-key' }, claims())), 'unknown_kid',
   'malformed registry key: not used');
ok(scalar $t->grep_log('nginx-error', qr/registry key "not-a-key" is unusable: (?:bad|weak)_key/),
   'malformed registry key logged with its reason');

# More keys than the per-process cache has slots: they take turns.
my @keys = map { new_key($dir, 'ec', "many-$_") } 1 .. 70;
push_key($_->{kid}, $_->{jwk}, $v2) for @keys;
my @tokens = map { token($_, claims()) } @keys;
my $passed = grep { verdict($_) eq 'ok' } @tokens, @tokens;
is($passed, 140, '70 registry keys, each used twice: all tokens accepted');

$t->done_testing;
