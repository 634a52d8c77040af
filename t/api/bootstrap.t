#!/usr/bin/perl

# cc-api's bootstrap tokens, on its unix socket with the identity headers
# nginx would send: a Tenant Admin creates (the token shown once, only its
# SHA-256 stored), lists (no token values) and revokes; Operators, Users
# and other tenants are refused; a platform Global Admin's access to
# another tenant is audited there; every create and revoke is audited,
# never with the token; each change notifies the registry channel.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use Digest::SHA qw(sha256_hex);
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
my $base = "/api/tenants/$a/bootstrap-tokens";

# A Tenant Admin of A unless told otherwise.
sub call {
    my ($method, $path, %opt) = @_;
    return staff_request($t, $method, $path, tenant => $a, user => $admin_user,
                         roles => 'tenant_admin', %opt);
}

sub audits { $t->sql("SELECT count(*) FROM audit_log WHERE tenant_id = '$_[0]' AND action = '$_[1]'") }

# --- creating -------------------------------------------------------------------

my $r = call(POST => $base, json => { label => 'Lab batch', validHours => 720 });
is($r->{status}, 201, 'a Tenant Admin creates a token: 201');
my $token = $r->{json}{token} // '';
like($token, qr/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
     '... shown as a random (version 4) GUID');
my $id = $r->{json}{id};
is_deeply([ sort keys %{ $r->{json} } ],
          [qw(createdAt expiresAt id label state token)], '... with its record');
is($t->sql("SELECT encode(token_hash, 'hex') FROM bootstrap_tokens WHERE id = '$id'"),
   sha256_hex($token), 'only the token\'s SHA-256 is stored');
is($t->sql("SELECT count(*) FROM bootstrap_tokens WHERE tenant_id = '$a'"), 1,
   '... in the path\'s tenant');
is($t->sql("SELECT round(extract(epoch FROM expires_at - created_at) / 3600) FROM bootstrap_tokens "
           . "WHERE id = '$id'"), 720, 'validHours 720 is the longest allowed');
is(audits($a, 'bootstrap_token_create'), 1, 'the creation is audited');
is($t->sql("SELECT count(*) FROM audit_log WHERE detail::text LIKE '%$token%' "
           . "OR target LIKE '%$token%'"), 0, '... without the token');
isnt(call(POST => $base, json => {})->{json}{token}, $token, 'every token is a new one');

for my $bad ({ validHours => 0 }, { validHours => 721 }, { validHours => '24' },
             { validHours => 1.5 }, { label => 42 }, { label => 'x' x 129 }) {
    my $text = CC::Test::json_encode($bad);
    $r = call(POST => $base, json => $bad);
    is($r->{status}, 400, "refused: $text");
}
is(call(POST => $base, json => [])->{status}, 400, 'a body that is no object: 400');

# --- who may ------------------------------------------------------------------------

$r = call(POST => $base, roles => 'operator', json => {});
is($r->{status}, 403, 'an Operator may not create: 403');
is($r->{json}{error}{code}, 'role_required', '... role_required');
is(call(GET => $base, roles => 'user')->{status}, 403, 'a User may not list: 403');
is(call(DELETE => "$base/$id", roles => 'operator')->{status}, 403, 'an Operator may not revoke: 403');
$r = call(GET => $base, tenant => $b);
is($r->{status}, 403, 'a Tenant Admin of another tenant: 403');
is($r->{json}{error}{code}, 'other_tenant', '... other_tenant');
is(call(GET => $base, tenant => $b, cross => 1)->{status}, 403,
   'X-CC-Cross-Tenant without the Global Admin role: 403');
is(call(GET => $base, tenant => $b, cross => 1, roles => 'global_admin')->{status}, 403,
   'a global_admin of a tenant that is not the platform\'s: 403');
$r = call(GET => $base, tenant => $platform, cross => 1, roles => 'global_admin');
is($r->{status}, 200, 'a platform Global Admin lists another tenant\'s tokens');
is(audits($a, 'cross_tenant_access'), 1, '... audited in that tenant');
is(call(GET => '/api/tenants/not-a-guid/bootstrap-tokens')->{status}, 404,
   'a path tenant that is no GUID: 404');

# --- listing ----------------------------------------------------------------------------

$r = call(GET => $base);
is($r->{status}, 200, 'the Tenant Admin lists the tokens');
is(scalar @{ $r->{json}{tokens} }, 2, '... both');
ok(!grep({ exists $_->{token} } @{ $r->{json}{tokens} }), '... with no token member');
unlike($r->{body}, qr/\Q$token\E/i, '... and the token nowhere in the answer');
is(join(',', map { $_->{state} } @{ $r->{json}{tokens} }), 'active,active', '... both active');
is(scalar @{ call(GET => "/api/tenants/$b/bootstrap-tokens", tenant => $b)->{json}{tokens} }, 0,
   'another tenant sees none of them (row-level security)');

# --- revoking --------------------------------------------------------------------------------

$r = call(DELETE => "$base/$id");
is($r->{status}, 200, 'the Tenant Admin revokes a token');
is($r->{json}{state}, 'revoked', '... now revoked');
ok($r->{json}{revokedAt}, '... with the time');
my $at = $r->{json}{revokedAt};
$r = call(DELETE => "$base/$id");
is($r->{json}{revokedAt}, $at, 'revoking again keeps the first time');
is(audits($a, 'bootstrap_token_revoke'), 1, '... and is audited once');
is(call(DELETE => "$base/9f8e7d6c-5b4a-4321-8fed-cba987654321")->{status}, 404,
   'an unknown token id: 404');
is(call(DELETE => "$base/nope")->{status}, 404, 'a token id that is no GUID: 404');
is(call(DELETE => "/api/tenants/$b/bootstrap-tokens/$id", tenant => $b)->{status}, 404,
   'another tenant cannot revoke it: 404 (it does not see it)');

# --- the registry hears of it ----------------------------------------------------------------

is($t->sql("SELECT string_agg(status, ',') FROM cc_registry_snapshot() WHERE kind = 'bootstrap'"),
   'disabled', 'the snapshot holds the live token, disabled while the tenant has bootstrap off');
$t->sql("INSERT INTO monitor_settings (tenant_id, bootstrap_enabled) VALUES ('$a', true)");
is($t->sql("SELECT status || ' ' || tenant_id FROM cc_registry_snapshot() WHERE kind = 'bootstrap'"),
   "enabled $a", '... enabled once the tenant switches bootstrap on');
is($t->sql("SELECT count(*) FROM cc_registry_entry('bootstrap', NULL, '" . sha256_hex($token) . "')"),
   0, 'the revoked token has no registry entry');

$t->done_testing;
