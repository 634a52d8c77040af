#!/usr/bin/perl

# What upstreams get: the identity the module verified, in the X-CC-*
# headers the configuration sets from $cc_* variables, and never what a
# client sent under those names.  The variables are empty unless the
# request was authenticated, readable in the log phase, and the module's
# own log lines carry reasons and tenant ids only.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib", $FindBin::Bin;
use Test::More;

use CC::Test;
use AuthKit qw(new_key write_jwks claims token start_echo nginx_conf http
               registry);

my $t = CC::Test->new;
my $dir = $t->dir;

my $rsa = new_key($dir, 'rsa', 'rsa-1');
write_jwks("$dir/jwks.json", $rsa);

start_echo($t);
$t->start_nginx(nginx_conf(<<'EOF'), wait_ports => [$t->port('http'), $t->port('echo')]);
    cc_auth_cache zone=tokens:1m;

    log_format identity 'method=$cc_auth_method tenant=$cc_tenant_id '
                        'user=$cc_user_id roles=$cc_roles error=$cc_auth_error '
                        'cache=$cc_auth_cache status=$status';

    server {
        listen 127.0.0.1:%%PORT_HTTP%%;
        access_log %%DIR%%/logs/identity.log identity;

        cc_auth_jwks_file  %%DIR%%/jwks.json;
        cc_auth_issuer     "https://login.microsoftonline.com/{tenantid}/v2.0";
        cc_auth_audience   api://concierge;

        proxy_set_header X-CC-Tenant $cc_tenant_id;
        proxy_set_header X-CC-User $cc_user_id;
        proxy_set_header X-CC-User-Name $cc_user_name;
        proxy_set_header X-CC-Roles $cc_roles;
        proxy_set_header X-CC-Device $cc_device_id;
        proxy_set_header X-CC-Auth-Method $cc_auth_method;

        location /api/ {
            cc_auth bearer;
            add_header X-Tenant $cc_tenant_id always;
            add_header X-User $cc_user_id always;
            proxy_pass http://echo;
        }

        location /public/ {
            proxy_pass http://echo;
        }

        # the identity is established before try_files moves the request
        location /spa/ {
            cc_auth bearer;
            try_files /nonexistent @spa;
        }

        location @spa {
            proxy_pass http://echo;
        }
    }
EOF

my $tenant = $AuthKit::TENANT;
my $user = $AuthKit::USER;
registry($t, PUT => "/registry/tenants/$tenant", { status => 'active' });

my %forged = ('X-CC-Tenant' => $AuthKit::TENANT2, 'X-CC-User' => 'mallory',
              'x-cc-roles' => 'global_admin', 'X-Cc-Device' => 'forged-device',
              'X-CC-User-Name' => 'root', 'X-CC-Auth-Method' => 'device');
my $token = token($rsa, claims());

my $r = http($t, GET => '/api/', { Authorization => "Bearer $token", %forged });
is($r->{status}, 200, 'authenticated request with forged identity headers: 200');
like($r->{body}, qr/^X-CC-Tenant: $tenant\r$/m, 'verified tenant passed upstream');
like($r->{body}, qr/^X-CC-User: $user\r$/m, 'verified user (oid) passed upstream');
like($r->{body}, qr/^X-CC-Roles: tenant_admin,operator\r$/m, 'verified roles passed upstream');
like($r->{body}, qr/^X-CC-User-Name: ann\@contoso.example\r$/m,
     'user name passed upstream where configured');
like($r->{body}, qr/^X-CC-Auth-Method: bearer\r$/m, 'method passed upstream');
is(() = $r->{body} =~ /^X-CC-/mig, 5, 'exactly the five headers nginx set, no forged ones');
unlike($r->{body}, qr/mallory|global_admin|forged-device|root|\Q$AuthKit::TENANT2\E/,
       'no forged value reaches the upstream');
unlike($r->{body}, qr/^X-CC-Device:/mi, 'no device header for a bearer token');

$r = http($t, GET => '/api/', { Authorization => "Bearer $token", %forged });
like($r->{body}, qr/^X-CC-Tenant: $tenant\r$/m, 'from the cache: the same verified tenant');
unlike($r->{body}, qr/mallory|global_admin|forged-device/, 'from the cache: no forged value');

# Roles that are not plain names are dropped by lib, never passed on.
$r = http($t, GET => '/api/', { Authorization => 'Bearer '
    . token($rsa, claims(roles => ['operator', "admin\r\nX-CC-Tenant: evil", 'a b', 'x,y'])) });
like($r->{body}, qr/^X-CC-Roles: operator\r$/m, 'odd roles dropped, not passed upstream');
unlike($r->{body}, qr/evil/, 'no header injection through a role');

$r = http($t, GET => '/public/', \%forged);
is($r->{status}, 200, 'location without cc_auth: 200');
unlike($r->{body}, qr/^X-CC-(?!Auth-Method)/mi, 'no identity, and no forged one, upstream');
like($r->{body}, qr/^X-CC-Auth-Method: none\r$/m, '$cc_auth_method is none');

$r = http($t, GET => '/spa/', { Authorization => "Bearer $token" });
like($r->{body}, qr/^X-CC-Tenant: $tenant\r$/m, 'identity survives try_files to a named location');
is(http($t, GET => '/spa/')->{status}, 401, 'and try_files does not skip authentication');

# A refused request names nobody.
$r = http($t, GET => '/api/', { Authorization => 'Bearer '
    . token($rsa, claims(tid => 'c0ffee00-0000-4000-8000-000000000009')) });
is($r->{status}, 403, 'token of an unknown tenant: 403');
is($r->{headers}{'x-tenant'}, undef, 'refused: $cc_tenant_id empty');
is($r->{headers}{'x-user'}, undef, 'refused: $cc_user_id empty');

$t->stop('nginx');    # flush the access log

open my $fh, '<', "$dir/logs/identity.log" or die;
my @log = <$fh>;
close $fh;
like($log[0], qr/^method=bearer tenant=$tenant user=$user roles=tenant_admin,operator error= cache=miss status=200$/,
     'variables readable in the log phase');
like($log[1], qr/cache=hit status=200$/, 'log shows the cache hit');
like($log[-1], qr/^method=none tenant= user= roles= error=tenant_unknown cache=miss status=403$/,
     'refusal logged with its reason and no identity');

ok(!scalar $t->grep_log('nginx-error', qr/ann\@contoso|Ann Example|\Q$user\E|eyJ/),
   'the error log has no token, user id, user name or e-mail');

$t->done_testing;
