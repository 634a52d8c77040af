#!/usr/bin/perl

# The SPA's session cookie: a token in lib/cc_session.h's format, minted
# here by an implementation of our own in Perl, checked for MAC, key id,
# lifetime and revocation, and, for methods that change things, sent with
# the application's Origin.  Also: bearer_or_cookie picks the token when a
# request carries both.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib", $FindBin::Bin;
use Digest::SHA qw(hmac_sha256);
use MIME::Base64 qw(encode_base64url);
use Test::More;

use CC::Test;
use AuthKit qw(new_key write_jwks claims token start_echo nginx_conf http
               registry);

my $t = CC::Test->new;
my $dir = $t->dir;

my %keys = (k1 => 'A' x 32, k2 => join('', map { chr(40 + $_) } 1 .. 48));
open my $fh, '>', "$dir/session.keys" or die;
print $fh "# session keys of this test\n",
    "k1 " . encode_base64url($keys{k1}) . " active\n",
    "k2 " . encode_base64url($keys{k2}) . "\n";
close $fh;

my $rsa = new_key($dir, 'rsa', 'rsa-1');
write_jwks("$dir/jwks.json", $rsa);

start_echo($t);
$t->start_nginx(nginx_conf(<<'EOF'), wait_ports => [$t->port('http'), $t->port('echo')]);
    server {
        listen 127.0.0.1:%%PORT_HTTP%%;

        cc_auth_session_keys  %%DIR%%/session.keys;
        cc_auth_origin        https://app.example;
        cc_auth_jwks_file     %%DIR%%/jwks.json;
        cc_auth_issuer        "https://login.microsoftonline.com/{tenantid}/v2.0";
        cc_auth_audience      api://concierge;

        add_header X-Auth-Error $cc_auth_error always;
        add_header X-Auth-Method $cc_auth_method always;
        proxy_set_header X-CC-Tenant $cc_tenant_id;
        proxy_set_header X-CC-User $cc_user_id;
        proxy_set_header X-CC-Roles $cc_roles;

        location / {
            cc_auth cookie;
            proxy_pass http://echo;
        }

        location /renamed/ {
            cc_auth cookie;
            cc_auth_cookie_name sid;
            proxy_pass http://echo;
        }

        location /either/ {
            cc_auth bearer_or_cookie;
            proxy_pass http://echo;
        }
    }
EOF

my $tenant = $AuthKit::TENANT;
my $user = $AuthKit::USER;
my $sid = pack 'H*', '00112233445566778899aabbccddeeff';

sub guid_bytes { (my $g = shift) =~ s/-//g; return pack 'H*', $g }

# session(%opt): "v1.KID.BODY.TAG" as lib/cc_session.h describes it.
sub session {
    my (%o) = @_;
    my $now = time;
    my $kid = $o{kid} // 'k1';
    my $body = pack('a16 a16 a16 N Q> Q>', $o{sid} // $sid,
                    guid_bytes($o{tenant} // $tenant), guid_bytes($user),
                    $o{roles} // 0x06, $o{iat} // $now - 60, $o{exp} // $now + 3600);
    my $input = "v1.$kid." . encode_base64url($body);
    my $key = $o{key} // $keys{$kid} // 'z' x 32;
    return "$input." . encode_base64url(hmac_sha256($input, $key));
}

sub with_cookie {
    my ($method, $path, $value, %headers) = @_;
    return http($t, $method, $path, { Cookie => "theme=dark; cc_session=$value; x=1",
                                      %headers }, $method eq 'POST' ? '{}' : undef);
}

sub refused {
    my ($r, $status, $reason, $name) = @_;
    is($r->{status}, $status, "$name: $status");
    is($r->{headers}{'x-auth-error'}, $reason, "$name: reason $reason");
}

# Without a registry no tenant is known: a cookie that is good in every
# other way is refused on its tenant (and only then).
my $ok_reason = 'tenant_unknown';

my $r = http($t, GET => '/');
refused($r, 401, 'missing_session', 'no cookie');
is($r->{json}{error}{code}, 'invalid_session', 'no cookie: JSON error code');
is($r->{headers}{'www-authenticate'}, undef, 'cookie-only location sends no bearer challenge');

refused(with_cookie(GET => '/', session()), 403, $ok_reason, 'good cookie passes the session checks');
refused(with_cookie(GET => '/', session(kid => 'k2')), 403, $ok_reason,
        'cookie under the second key of the ring');
refused(with_cookie(GET => '/', session(exp => time - 10, iat => time - 3600)), 401,
        'session_expired', 'expired cookie');
refused(with_cookie(GET => '/', session(iat => time + 3600, exp => time + 7200)), 401,
        'session_not_yet_valid', 'cookie issued in the future');
refused(with_cookie(GET => '/', session(key => 'B' x 32)), 401, 'session_bad_mac',
        'cookie with a bad MAC');
refused(with_cookie(GET => '/', session(kid => 'k9')), 401, 'session_unknown_key',
        'cookie under a key id not in the ring');
(my $tampered = session()) =~ s/^(v1\.k1\.)(.)/$1 . ($2 eq 'A' ? 'B' : 'A')/e;
refused(with_cookie(GET => '/', $tampered), 401, 'session_bad_mac', 'tampered cookie body');
refused(with_cookie(GET => '/', 'v2.k1.AAAA.BBBB'), 401, 'session_bad_version',
        'cookie of another version');
refused(with_cookie(GET => '/', 'garbage'), 401, 'session_bad_version', 'garbage cookie');
refused(with_cookie(GET => '/', 'v1.k1.AAAA'), 401, 'session_malformed',
        'cookie missing its tag');
refused(with_cookie(GET => '/', session() . ('x' x 300)), 401, 'session_too_large',
        'oversized cookie');

refused(with_cookie(POST => '/', session()), 403, 'bad_origin', 'POST without Origin');
refused(with_cookie(POST => '/', session(), Origin => 'https://evil.example'), 403,
        'bad_origin', 'POST from another origin');
refused(with_cookie(POST => '/', session(), Origin => 'https://app.example.evil.example'), 403,
        'bad_origin', 'POST from an origin that starts like ours');
refused(with_cookie(DELETE => '/', session(), Origin => 'null'), 403, 'bad_origin',
        'DELETE from an opaque origin');
refused(with_cookie(POST => '/', session(), Origin => 'https://app.example'), 403,
        $ok_reason, 'POST from our origin passes the origin check');
refused(with_cookie(HEAD => '/', session()), 403, $ok_reason, 'HEAD needs no Origin');
refused(with_cookie(OPTIONS => '/', session()), 403, $ok_reason, 'OPTIONS needs no Origin');
$r = with_cookie(POST => '/', session(), Origin => 'https://evil.example');
is($r->{json}{error}{code}, 'bad_origin', 'bad origin: JSON error code');

$r = http($t, GET => '/renamed/', { Cookie => 'cc_session=' . session() });
refused($r, 401, 'missing_session', 'cc_auth_cookie_name: the default name is not read');
$r = http($t, GET => '/renamed/', { Cookie => 'sid=' . session() });
refused($r, 403, $ok_reason, 'cc_auth_cookie_name: the configured name is read');

$r = http($t, GET => '/either/');
refused($r, 401, 'missing_token', 'bearer_or_cookie, nothing sent');
is($r->{headers}{'www-authenticate'}, 'Bearer', 'bearer_or_cookie challenges for a token');
$r = with_cookie(GET => '/either/', session(exp => time - 10, iat => time - 3600));
refused($r, 401, 'session_expired', 'bearer_or_cookie: the cookie is checked');
is($r->{headers}{'www-authenticate'}, 'Bearer', 'bearer_or_cookie: a bad cookie still gets the challenge');
$r = with_cookie(GET => '/either/', session(),
                 Authorization => 'Bearer ' . token($rsa, claims(exp => time - 3600)));
refused($r, 401, 'expired', 'bearer_or_cookie: a token, when sent, is what counts');

{
    registry($t, PUT => "/registry/tenants/$tenant", { status => 'active' });

    $r = with_cookie(GET => '/', session(roles => 0x06));
    is($r->{status}, 200, 'good cookie, active tenant: 200');
    like($r->{body}, qr/^X-CC-Tenant: $tenant\r$/m, 'tenant from the session passed upstream');
    like($r->{body}, qr/^X-CC-User: $user\r$/m, 'user from the session passed upstream');
    like($r->{body}, qr/^X-CC-Roles: tenant_admin,operator\r$/m, 'roles named from the mask');
    is($r->{headers}{'x-auth-method'}, 'cookie', '$cc_auth_method is cookie');

    registry($t, PUT => '/registry/sessions/00112233445566778899aabbccddeeff',
             { until => time + 3600 });
    refused(with_cookie(GET => '/', session()), 401, 'session_revoked', 'revoked session');
    is(with_cookie(GET => '/', session(sid => pack 'H*', 'ff' x 16))->{status}, 200,
       'another session of the same user still passes');

    $r = with_cookie(GET => '/either/', session(sid => pack 'H*', 'ee' x 16));
    is($r->{headers}{'x-auth-method'}, 'cookie', 'bearer_or_cookie: cookie used without a token');
}

ok(!scalar $t->grep_log('nginx-error', qr/v1\.k1\.|00112233445566778899aabbccddeeff/),
   'no cookie value or session id in the error log');

$t->done_testing;
