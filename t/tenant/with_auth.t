#!/usr/bin/perl

# With the real auth module in front: cc_auth sets $cc_tenant_id,
# $cc_user_id and $cc_roles in PREACCESS, and the tenant and limit modules,
# in PRECONTENT, see them without any cc_tenant_id / cc_tenant_roles of
# their own: the tenant a path names, the roles a location requires, a
# limit keyed by the user with the tenant's own limit from the registry.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib", "$FindBin::Bin/../auth";
use Test::More;

use CC::Test;
use AuthKit qw(new_key write_jwks claims token start_echo nginx_conf http
               registry);

my $t = CC::Test->new;
my $dir = $t->dir;

my $rsa = new_key($dir, 'rsa', 'rsa-1');
write_jwks("$dir/jwks.json", $rsa);

start_echo($t);
$t->start_nginx(nginx_conf(<<'EOF'),
    cc_limit_zone users size=64k window=60s;

    server {
        listen 127.0.0.1:%%PORT_HTTP%%;

        cc_auth_jwks_file  %%DIR%%/jwks.json;
        cc_auth_issuer     "https://login.microsoftonline.com/{tenantid}/v2.0";
        cc_auth_audience   api://concierge;
        cc_registry_tenant $cc_tenant_id;

        location ~ ^/api/tenants/(?<path_tenant>[^/]+)/ {
            cc_auth bearer;
            cc_tenant_match $path_tenant;
            cc_require_role tenant_admin;
            cc_limit zone=users key=$cc_user_id rate=2
                     override=$cc_tenant_limit_api_per_min;
            add_header X-Limit-Status "[$cc_limit_status]" always;
            proxy_set_header X-CC-Cross-Tenant $cc_cross_tenant;
            proxy_pass http://echo;
        }
    }
EOF
    wait_ports => [$t->port('http'), $t->port('echo')]);

my $tenant = $AuthKit::TENANT;
my $other = $AuthKit::TENANT2;
registry($t, PUT => "/registry/tenants/$tenant", { status => 'active' });

sub get {
    my ($path, $claims) = @_;
    my $token = token($rsa, $claims // claims());
    return http($t, GET => $path, { Authorization => "Bearer $token" });
}

my $r = get("/api/tenants/$tenant/sessions");
is($r->{status}, 200, 'the caller\'s own tenant in the path passes');
is($r->{headers}{'x-limit-status'}, '[PASSED]',
   'the limit counted the request, keyed by the user cc_auth found');
is(get("/api/tenants/$tenant/sessions")->{status}, 200, 'second request');
$r = get("/api/tenants/$tenant/sessions");
is($r->{status}, 429, 'the third is over the default limit of 2');
is($r->{json}{error}{code}, 'rate_limited', 'as JSON');

$r = get("/api/tenants/$other/sessions");
is($r->{status}, 403, 'another tenant in the path: 403');
is($r->{json}{error}{code}, 'tenant_mismatch', 'tenant_mismatch, from the '
   . 'tenant cc_auth found');

$r = get("/api/tenants/$tenant/sessions", claims(roles => ['user']));
is($r->{status}, 403, 'a user without tenant_admin: 403');
is($r->{json}{error}{code}, 'role_required', 'role_required, from the roles '
   . 'cc_auth found');

registry($t, PUT => "/registry/tenants/$tenant",
         { status => 'active', limits => { api_per_min => 4 } });
is(get("/api/tenants/$tenant/sessions")->{status}, 200,
   'the tenant\'s own limit of 4 applies from the next request: 3rd');
is(get("/api/tenants/$tenant/sessions")->{status}, 200, '4th');
is(get("/api/tenants/$tenant/sessions")->{status}, 429, '5th refused');

$r = http($t, GET => "/api/tenants/$tenant/sessions");
is($r->{status}, 401, 'no token: cc_auth answers first');
is($r->{headers}{'x-limit-status'} // '[]', '[]',
   'and no limit is consulted');

$t->done_testing;
