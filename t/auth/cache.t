#!/usr/bin/perl

# The verified-token cache: a token is verified once and then served from
# shared memory ($cc_auth_cache says which), yet suspending its tenant or
# revoking its key in the registry refuses it on the very next request;
# entries are per verifying policy, expire at exp, and the least recently
# used make room when the zone is full.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib", $FindBin::Bin;
use HTTP::Tiny;
use Test::More;
use Time::HiRes qw(sleep);

use CC::Test;
use AuthKit qw(new_key write_jwks claims token start_echo nginx_conf http
               registry);

my $t = CC::Test->new;
my $dir = $t->dir;

my $static = new_key($dir, 'rsa', 'static-1');
my $pushed = new_key($dir, 'rsa', 'pushed-1');
write_jwks("$dir/jwks.json", $static);

start_echo($t);
$t->start_nginx(nginx_conf(<<'EOF', debug => 1), wait_ports => [$t->port('http'), $t->port('echo')]);
    cc_auth_cache zone=tokens:32k;

    server {
        listen 127.0.0.1:%%PORT_HTTP%%;

        cc_auth bearer;
        cc_auth_jwks_file  %%DIR%%/jwks.json;
        cc_auth_issuer     "https://login.microsoftonline.com/{tenantid}/v2.0";
        cc_auth_audience   api://concierge;

        add_header X-Auth-Error $cc_auth_error always;
        add_header X-Auth-Cache $cc_auth_cache always;
        add_header X-Connection $connection always;
        proxy_set_header X-CC-Tenant $cc_tenant_id;
        proxy_set_header X-CC-User $cc_user_id;
        proxy_set_header X-CC-Roles $cc_roles;
        proxy_set_header X-CC-Name $cc_user_name;

        location / {
            proxy_pass http://echo;
        }

        location /other-audience/ {
            cc_auth_audience api://another-app;
            proxy_pass http://echo;
        }
    }
EOF

my $tenant = $AuthKit::TENANT;
my $tenant2 = $AuthKit::TENANT2;
registry($t, PUT => "/registry/tenants/$tenant", { status => 'active' });
registry($t, PUT => "/registry/tenants/$tenant2", { status => 'active' });
push_key($pushed, 0);

sub push_key {
    my ($key, $revoked) = @_;
    my ($status) = registry($t, PUT => "/registry/keys/$key->{kid}",
        { jwk => $key->{jwk}, revoked => $revoked ? JSON::PP::true() : JSON::PP::false(),
          issuer => 'https://login.microsoftonline.com/{tenantid}/v2.0' });
    die "registry refused key $key->{kid}: $status\n" unless $status =~ /^20[01]$/;
}

sub get {
    my ($token, $path) = @_;
    return http($t, GET => $path // '/', { Authorization => "Bearer $token" });
}

sub seen {
    my ($r, $status, $cache, $name) = @_;
    is($r->{status}, $status, "$name: $status");
    is($r->{headers}{'x-auth-cache'}, $cache, "$name: cache $cache");
}

# --- hits -------------------------------------------------------------------

my $token = token($static, claims());
my $r = get($token);
seen($r, 200, 'miss', 'first use of a token');
$r = get($token);
seen($r, 200, 'hit', 'second use of the same token');
like($r->{body}, qr/^X-CC-Tenant: $tenant\r$/m, 'hit: tenant from the cache');
like($r->{body}, qr/^X-CC-User: $AuthKit::USER\r$/m, 'hit: user from the cache');
like($r->{body}, qr/^X-CC-Roles: tenant_admin,operator\r$/m, 'hit: roles from the cache');
like($r->{body}, qr/^X-CC-Name: ann\@contoso.example\r$/m, 'hit: user name from the cache');
ok(scalar $t->grep_log('nginx-error', qr/cc auth: cache hit$/),
   'the hit is in the debug log');
seen(get(token($static, claims(oid => $AuthKit::TENANT2))), 200, 'miss',
     'another token of the same user is another entry');

# A token verified for one audience is not a hit where another is required.
seen(get($token, '/other-audience/'), 401, 'miss', 'cached token, location with another audience');
is(get($token, '/other-audience/')->{headers}{'x-auth-error'}, 'bad_audience',
   'another audience: verified afresh and refused');
seen(get($token), 200, 'hit', 'still a hit where its audience is accepted');

# --- a keep-alive connection remembers the digest of its last token -------

my $ua = HTTP::Tiny->new(keep_alive => 1, timeout => 10);
my $url = 'http://127.0.0.1:' . $t->port('http') . '/';
my $alice = token($static, claims(oid => '0a0a0a0a-0000-4000-8000-00000000000a'));
my $bob = token($static, claims(oid => '0b0b0b0b-0000-4000-8000-00000000000b'));
(my $forged = $alice) =~ s/^([^.]+\.)(.)/$1 . ($2 eq 'e' ? 'f' : 'e')/e;

sub keepalive {
    my ($token) = @_;
    my $r = $ua->get($url, { headers => { Authorization => "Bearer $token" } });
    return { status => $r->{status}, headers => $r->{headers}, body => $r->{content} };
}

$r = keepalive($alice);
my $connection = $r->{headers}{'x-connection'};
seen($r, 200, 'miss', 'keep-alive: first token');
seen(keepalive($alice), 200, 'hit', 'keep-alive: the same token again');
$r = keepalive($bob);
seen($r, 200, 'miss', 'keep-alive: another token on the same connection');
like($r->{body}, qr/^X-CC-User: 0b0b0b0b-0000-4000-8000-00000000000b\r$/m,
     'keep-alive: the other token is who it says, not the first');
$r = keepalive($forged);
is($r->{status}, 401, 'keep-alive: the first token with one byte changed is refused');
is($r->{headers}{'x-auth-error'}, 'bad_signature', 'keep-alive: refused for its signature');
$r = keepalive($alice);
seen($r, 200, 'hit', 'keep-alive: the first token again');
like($r->{body}, qr/^X-CC-User: 0a0a0a0a-0000-4000-8000-00000000000a\r$/m,
     'keep-alive: the first token is who it says');
is($r->{headers}{'x-connection'}, $connection, 'all of it on one connection');

# --- the registry changes: tenants --------------------------------------------

my $t2 = token($static, claims(tid => $tenant2));
seen(get($t2), 200, 'miss', 'token of the second tenant');
seen(get($t2), 200, 'hit', 'token of the second tenant, cached');

registry($t, PUT => "/registry/tenants/$tenant2", { status => 'suspended' });
$r = get($t2);
seen($r, 403, 'revalidated', 'cached token, tenant suspended since');
is($r->{headers}{'x-auth-error'}, 'tenant_suspended', 'suspension takes effect at once');
seen(get($t2), 403, 'revalidated', 'and on every request after');
seen(get($token), 200, 'revalidated', 'the other tenant is revalidated once');
seen(get($token), 200, 'hit', 'then served from the cache again');

registry($t, PUT => "/registry/tenants/$tenant2", { status => 'active' });
seen(get($t2), 200, 'revalidated', 'tenant active again: accepted without RSA');
seen(get($t2), 200, 'hit', 'and cached again');

# A token whose tenant was refused is kept, so that it costs a lookup, not RSA.
my $t3 = token($static, claims(tid => 'c0ffee00-0000-4000-8000-0000000000aa'));
seen(get($t3), 403, 'miss', 'token of a tenant not onboarded');
seen(get($t3), 403, 'revalidated', 'its tenant is checked again, its signature not');
registry($t, PUT => '/registry/tenants/c0ffee00-0000-4000-8000-0000000000aa',
         { status => 'active' });
seen(get($t3), 200, 'revalidated', 'tenant onboarded: the cached token passes');

registry($t, DELETE => "/registry/tenants/$tenant2");
is(get($t2)->{headers}{'x-auth-error'}, 'tenant_unknown',
   'tenant removed from the registry: refused at once');
registry($t, PUT => "/registry/tenants/$tenant2", { status => 'active' });

# Other registry changes do not send tokens back to revalidation.
seen(get($token), 200, 'revalidated', 'after tenant changes: revalidated');
registry($t, PUT => "/registry/devices/$tenant/a1d0c6e8-0000-4000-8000-000000000001",
         { until => 0, reason => 'test' });
registry($t, PUT => '/registry/sessions/' . ('ab' x 16), { until => time + 600 });
seen(get($token), 200, 'hit', 'a device block or session revocation changes nothing');

# --- the registry changes: keys -----------------------------------------------

my $tp = token($pushed, claims());
seen(get($tp), 200, 'miss', 'token signed by a registry key');
seen(get($tp), 200, 'hit', 'token signed by a registry key, cached');

push_key($pushed, 1);
$r = get($tp);
seen($r, 401, 'revalidated', 'cached token, key revoked since');
is($r->{headers}{'x-auth-error'}, 'key_revoked', 'revocation takes effect at once');
is($r->{headers}{'www-authenticate'},
   'Bearer error="invalid_token", error_description="key_revoked"',
   'revoked key: challenge names key_revoked');
is(get(token($pushed, claims(oid => $tenant2)))->{headers}{'x-auth-error'}, 'key_revoked',
   'a new token under the revoked key is refused too');
seen(get($token), 200, 'revalidated', 'tokens under static keys still pass');

push_key($pushed, 0);
seen(get($tp), 200, 'miss', 'key restored: the token is verified afresh');
seen(get($tp), 200, 'hit', 'and cached again');

registry($t, DELETE => "/registry/keys/$pushed->{kid}");
is(get($tp)->{headers}{'x-auth-error'}, 'unknown_kid',
   'key deleted from the registry: cached token refused');

# --- expiry -----------------------------------------------------------------

my $short = token($static, claims(exp => time + 2));
seen(get($short), 200, 'miss', 'token close to its exp');
seen(get($short), 200, 'hit', 'token close to its exp, cached');
sleep 3.2;
seen(get($short), 200, 'miss', 'after exp the entry is gone (accepted within the leeway)');
seen(get($short), 200, 'miss', 'a token past its exp is not cached again');

# --- a full zone ------------------------------------------------------------

my @many = map { token($static, claims(sub => "subject-$_")) } 1 .. 300;
get($_) for @many;
seen(get($many[-1]), 200, 'hit', 'after 300 tokens: the latest is cached');
seen(get($many[0]), 200, 'miss', 'after 300 tokens: the oldest made room');
ok(!scalar $t->grep_log('nginx-error', qr/token not cached/),
   'eviction made room every time');

# (nginx's own debug lines show request headers; ours never do)
ok(!scalar $t->grep_log('nginx-error', qr/cc auth:.*(?:eyJ|ann\@contoso)/),
   'no token or user name in what the module logs, even at debug');

$t->done_testing;
