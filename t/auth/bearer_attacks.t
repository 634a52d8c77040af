#!/usr/bin/perl

# Forged, damaged and misdirected bearer tokens, through nginx: each is
# refused with 401, an RFC 6750 challenge naming lib's stable reason, and a
# JSON body; nothing reaches the upstream.  Tokens are minted by Crypt::JWT
# or written by hand, with keys that openssl made for this test.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib", $FindBin::Bin;
use MIME::Base64 qw(encode_base64url);
use Test::More;

use CC::Test;
use AuthKit qw(new_key write_jwks claims token sign_raw b64j start_echo
               nginx_conf http registry);

my $t = CC::Test->new;
my $dir = $t->dir;

my $rsa = new_key($dir, 'rsa', 'rsa-1');
my $ec = new_key($dir, 'ec', 'ec-1');
my $ed = new_key($dir, 'ed25519', 'ed-1');
my $pinned = new_key($dir, 'rsa', 'rsa-pinned');
$pinned->{jwk}{alg} = 'RS256';
write_jwks("$dir/jwks.json", $rsa, $ec, $ed, $pinned);

start_echo($t);
$t->start_nginx(nginx_conf(<<'EOF'), wait_ports => [$t->port('http'), $t->port('echo')]);
    server {
        listen 127.0.0.1:%%PORT_HTTP%%;

        cc_auth_jwks_file  %%DIR%%/jwks.json;
        cc_auth_issuer     "https://login.microsoftonline.com/{tenantid}/v2.0";
        cc_auth_issuer     "https://sts.windows.net/{tenantid}/";
        cc_auth_audience   api://concierge;

        location / {
            cc_auth bearer;
            add_header X-Auth-Error $cc_auth_error always;
            proxy_pass http://echo;
        }

        # the tenant module's cc_tenant_check would decide here instead
        location /unchecked/ {
            cc_auth bearer;
            cc_auth_tenant_check off;
            add_header X-Auth-Error $cc_auth_error always;
            proxy_set_header X-CC-Tenant $cc_tenant_id;
            proxy_pass http://echo;
        }
    }
EOF

my $suspended = 'c0ffee00-0000-4000-8000-000000000001';
my $offboarded = 'c0ffee00-0000-4000-8000-000000000002';
my $offboarding = 'c0ffee00-0000-4000-8000-000000000004';
my $unknown = 'c0ffee00-0000-4000-8000-000000000003';
registry($t, PUT => "/registry/tenants/$AuthKit::TENANT", { status => 'active' });
registry($t, PUT => "/registry/tenants/$suspended", { status => 'suspended' });
registry($t, PUT => "/registry/tenants/$offboarded", { status => 'offboarded' });
registry($t, PUT => "/registry/tenants/$offboarding", { status => 'offboarding' });

my $now = time;
my $good = claims();
my ($h, $p, $s) = split /\./, token($rsa, $good);
my $other_tenant = '0f9d1c2e-3b4a-4c5d-8e6f-7a8b9c0d1e2f';
my $rsa_public_pem = $rsa->{pk}->export_key_pem('public');
my $header_json = sub { '{"alg":"RS256","kid":"rsa-1","typ":"JWT"' . $_[0] . '}' };

my @attacks = (
    # name, token, expected error_description
    ['alg none', b64j({ alg => 'none', kid => 'rsa-1' }) . ".$p.", 'alg_not_allowed'],
    ['alg None', b64j({ alg => 'None', kid => 'rsa-1' }) . ".$p.", 'alg_not_allowed'],
    ['alg NONE', b64j({ alg => 'NONE', kid => 'rsa-1' }) . ".$p.", 'alg_not_allowed'],
    ['alg none with a signature', b64j({ alg => 'none', kid => 'rsa-1' }) . ".$p.$s",
     'alg_not_allowed'],
    ['HS256 keyed with the RSA public key',
     token({ %$rsa, pk => $rsa_public_pem }, $good, alg => 'HS256'), 'alg_not_allowed'],
    ['signed by another RSA key', token({ %$rsa, pk => $pinned->{pk} }, $good),
     'bad_signature'],
    ['ES256 header naming an RSA key',
     b64j({ alg => 'ES256', kid => 'rsa-1' }) . ".$p.$s", 'alg_key_mismatch'],
    ['PS256 against a key pinned to RS256',
     token({ %$pinned }, $good, alg => 'PS256'), 'alg_key_mismatch'],
    ['unknown kid', token({ %$rsa, kid => 'no-such-key' }, $good), 'unknown_kid'],
    ['path-like kid', token({ %$rsa, kid => '../../../../etc/passwd' }, $good),
     'unknown_kid'],
    ['SQL-like kid', token({ %$rsa, kid => "x' OR '1'='1'; --" }, $good), 'unknown_kid'],
    ['kid that is a number', b64j('{"alg":"RS256","kid":7}') . ".$p.$s",
     'unsupported_header'],
    ['no kid', b64j({ alg => 'RS256' }) . ".$p.$s", 'missing_kid'],
    ['stripped signature', "$h.$p.", 'bad_signature'],
    ['signature of another token', "$h.$p." . (split /\./, token($rsa, claims(oid => $other_tenant)))[2],
     'bad_signature'],
    ['altered payload', "$h." . b64j({ %$good, roles => ['global_admin'] }) . ".$s",
     'bad_signature'],
    ['expired', token($rsa, claims(exp => $now - 3600)), 'expired'],
    ['expired beyond the leeway', token($rsa, claims(exp => $now - 90)), 'expired'],
    ['not yet valid', token($rsa, claims(nbf => $now + 3600)), 'not_yet_valid'],
    ['no exp', token($rsa, claims(exp => undef)), 'missing_exp'],
    ['wrong audience', token($rsa, claims(aud => 'api://someone-else')), 'bad_audience'],
    ['wrong issuer', token($rsa, claims(iss => "https://evil.example/$AuthKit::TENANT/v2.0")),
     'bad_issuer'],
    ['iss names another tenant than tid',
     token($rsa, claims(iss => "https://login.microsoftonline.com/$other_tenant/v2.0")),
     'bad_issuer'],
    ['tid not a GUID', token($rsa, claims(tid => 'contoso', iss => undef)), 'bad_tid'],
    ['two segments', "$h.$p", 'malformed'],
    ['one segment', $h, 'malformed'],
    ['four segments', "$h.$p.$s.$s", 'malformed'],
    ['empty payload', "$h..$s", 'malformed'],
    ['invalid base64url (+ and /)', "$h.$p.+/" . $s, 'bad_base64'],
    ['base64url with padding', "$h=.$p.$s", 'bad_base64'],
    ['header not JSON', encode_base64url('not json') . ".$p.$s", 'bad_json'],
    ['duplicate header member',
     sign_raw($rsa, $header_json->(',"alg":"none"'), JSON::PP->new->encode($good)),
     'duplicate_key'],
    ['duplicate payload member',
     sign_raw($rsa, $header_json->(''),
              substr(JSON::PP->new->canonical->encode($good), 0, -1)
              . qq{,"tid":"$other_tenant"\}}),
     'duplicate_key'],
    ['nested JWT', token($rsa, $good, cty => 'JWT'), 'nested_jwt'],
    ['embedded jwk', token($rsa, $good, jwk => $rsa->{jwk}), 'embedded_key'],
    ['jku', token($rsa, $good, jku => 'https://evil.example/keys'), 'embedded_key'],
    ['crit', token($rsa, $good, crit => ['exp']), 'crit_not_supported'],
    ['oversized header (over cc_auth_max_token_size)',
     token($rsa, $good, pad => 'x' x 17000), 'token_too_large'],
    ['only dots', '..', 'malformed'],
);

for my $a (@attacks) {
    my ($name, $token, $reason) = @$a;
    my $r = http($t, GET => '/', { Authorization => "Bearer $token" });
    is($r->{status}, 401, "$name: 401");
    is($r->{headers}{'www-authenticate'},
       qq{Bearer error="invalid_token", error_description="$reason"},
       "$name: challenge names $reason");
    is($r->{json} && $r->{json}{error}{code}, 'invalid_token',
       "$name: JSON body says invalid_token");
}

# The same refusals, seen from the outside, carry nothing of the token.
my $r = http($t, GET => '/', { Authorization => "Bearer " . token($rsa, claims(exp => $now - 3600)) });
is($r->{headers}{'content-type'}, 'application/json', 'refusal is JSON');
is($r->{headers}{'cache-control'}, 'no-store', 'refusal is not cacheable');
unlike($r->{body}, qr/ann\@contoso|Ann Example|\Q$AuthKit::USER\E/,
       'refusal body carries no claim');

# No token at all: a bare challenge (RFC 6750 section 3.1).
$r = http($t, GET => '/');
is($r->{status}, 401, 'no Authorization header: 401');
is($r->{headers}{'www-authenticate'}, 'Bearer', 'no token: challenge without error');
is($r->{headers}{'x-auth-error'}, 'missing_token', 'no token: $cc_auth_error');

$r = http($t, GET => '/', { Authorization => 'Bearer ' });
is($r->{headers}{'www-authenticate'}, 'Bearer',
   'the scheme without a token counts as no token');

$r = http($t, GET => '/', { Authorization => 'Basic YWxhZGRpbjpvcGVuc2VzYW1l' });
is($r->{status}, 401, 'another scheme: 401');
is($r->{headers}{'www-authenticate'}, 'Bearer', 'another scheme: bare challenge');

# Good tokens, in all their shapes, reach the upstream; within the leeway
# (60 s by default) a token is still good.
for my $case (['RSA', $rsa, $good],
              ['EC P-256', $ec, $good],
              ['Ed25519', $ed, $good],
              ['key pinned to RS256', $pinned, $good],
              ['v1 issuer', $rsa, claims(ver => '1.0',
                  iss => "https://sts.windows.net/$AuthKit::TENANT/")],
              ['tid in upper case', $rsa, claims(tid => uc $AuthKit::TENANT,
                  iss => "https://login.microsoftonline.com/$AuthKit::TENANT/v2.0")],
              ['exp 30 s ago', $rsa, claims(exp => $now - 30)],
              ['nbf 30 s ahead', $rsa, claims(nbf => $now + 30)]) {
    my ($name, $key, $claims) = @$case;
    $r = http($t, GET => '/', { Authorization => 'Bearer ' . token($key, $claims) });
    is($r->{status}, 200, "$name: accepted");
}

# A good token of a tenant that may not pass: 403 (410 for a tenant that is
# leaving or has left), JSON, no challenge.
for my $case (['tenant not onboarded', $unknown, 'tenant_unknown', 403],
              ['suspended tenant', $suspended, 'tenant_suspended', 403],
              ['offboarding tenant', $offboarding, 'tenant_offboarding', 410],
              ['offboarded tenant', $offboarded, 'tenant_offboarded', 410]) {
    my ($name, $tid, $reason, $status) = @$case;
    $r = http($t, GET => '/', { Authorization => 'Bearer ' . token($rsa, claims(tid => $tid)) });
    is($r->{status}, $status, "$name: $status");
    is($r->{headers}{'x-auth-error'}, $reason, "$name: reason $reason");
    is($r->{json} && $r->{json}{error}{code}, $reason, "$name: JSON error code");
    is($r->{headers}{'www-authenticate'}, undef, "$name: no challenge");
}

# cc_auth_tenant_check off: the credential is checked, the tenant's state not.
$r = http($t, GET => '/unchecked/', { Authorization => 'Bearer ' . token($rsa, claims(tid => $suspended)) });
is($r->{status}, 200, 'cc_auth_tenant_check off: a suspended tenant passes authentication');
like($r->{body}, qr/^X-CC-Tenant: $suspended\r$/m, 'cc_auth_tenant_check off: its tenant is set');
$r = http($t, GET => '/unchecked/', { Authorization => 'Bearer ' . token($rsa, claims(exp => $now - 3600)) });
is($r->{headers}{'x-auth-error'}, 'expired', 'cc_auth_tenant_check off: tokens are still checked');

ok(!scalar $t->grep_log('nginx-error', qr/ann\@contoso|Ann Example|eyJ/),
   'no token, user name or e-mail in the error log');
ok(scalar $t->grep_log('nginx-error', qr/cc auth: refused: bad_signature/),
   'refusal reason logged');

$t->done_testing;
