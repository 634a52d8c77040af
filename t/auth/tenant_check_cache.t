#!/usr/bin/perl

# A token verified where the tenant is not checked (cc_auth_tenant_check
# off) is never a cache hit where it is: the setting is part of the cache
# key, so a suspended tenant's token cannot be laundered through another
# location.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib", $FindBin::Bin;
use Test::More;
use CC::Test;
use AuthKit qw(new_key write_jwks claims token start_echo nginx_conf http registry);
my $t = CC::Test->new;
my $dir = $t->dir;
my $rsa = new_key($dir, 'rsa', 'rsa-1');
write_jwks("$dir/jwks.json", $rsa);
start_echo($t);
$t->start_nginx(nginx_conf(<<'EOF2'), wait_ports => [$t->port('http'), $t->port('echo')]);
    cc_auth_cache zone=tokens:1m;
    server {
        listen 127.0.0.1:%%PORT_HTTP%%;
        cc_auth_jwks_file  %%DIR%%/jwks.json;
        cc_auth_issuer     "https://login.microsoftonline.com/{tenantid}/v2.0";
        cc_auth_audience   api://concierge;
        location / {
            cc_auth bearer;
            add_header X-Auth-Error $cc_auth_error always;
            add_header X-Auth-Cache $cc_auth_cache always;
            proxy_pass http://echo;
        }
        location /unchecked/ {
            cc_auth bearer;
            cc_auth_tenant_check off;
            proxy_pass http://echo;
        }
    }
EOF2
my $suspended = 'c0ffee00-0000-4000-8000-000000000001';
registry($t, PUT => "/registry/tenants/$AuthKit::TENANT", { status => 'active' });
registry($t, PUT => "/registry/tenants/$suspended", { status => 'suspended' });
my $tok = token($rsa, claims(tid => $suspended));
my $r = http($t, GET => '/', { Authorization => "Bearer $tok" });
is($r->{status}, 403, "a suspended tenant's token is refused where the tenant is checked");
my $tok2 = token($rsa, claims(tid => $suspended, oid => '11111111-2222-4333-8444-555555555555'));
$r = http($t, GET => '/unchecked/', { Authorization => "Bearer $tok2" });
is($r->{status}, 200, '... and let in where it is not');
$r = http($t, GET => '/', { Authorization => "Bearer $tok2" });
is($r->{status}, 403, 'a token first accepted where the tenant is not checked is still refused where it is');
isnt($r->{headers}{'x-auth-cache'} // '', 'hit', '... without a cache hit across the two settings');
$t->done_testing;
