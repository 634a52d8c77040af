#!/usr/bin/perl

# nginx -t refuses a tenant configuration that cannot work, and says which
# directive and value are wrong.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;

use CC::Test;

my $t = CC::Test->new;

my $n = 0;

sub check {
    my ($location) = @_;
    my $file = $t->dir . '/check-' . ++$n . '.conf';
    open my $fh, '>', $file or die $!;
    print $fh $t->expand(<<"EOF");
load_module %%MODULE%%;
pid %%DIR%%/run/nginx.pid;
events { worker_connections 64; }
http {
    access_log off;
    cc_registry_zone name=registry size=1m;
    upstream pool_eu { server 127.0.0.1:1; }
    server {
        listen 127.0.0.1:%%PORT_HTTP%%;
        location / {
            $location
        }
    }
}
EOF
    close $fh;
    my ($dir, $log) = ($t->dir, $t->log('check'));
    my $out = qx{nginx -t -p '$dir/' -c '$file' -e '$log' 2>&1};
    return ($? >> 8, $out);
}

my ($rc, $out) = check(<<'EOF');
cc_tenant_check on;
cc_tenant_response agent;
cc_tenant_onboarding_url https://concierge.example/onboarding?from=nginx;
cc_tenant_id $http_x_tenant;
cc_tenant_roles $http_x_roles;
cc_tenant_match $arg_tenant;
cc_tenant_route westeurope pool_eu;
cc_tenant_route region=northeurope pool_eu;
cc_tenant_route plan=enterprise pool_eu;
cc_tenant_route default pool_eu;
cc_require_role tenant_admin operator global_admin user;
proxy_pass http://$cc_tenant_upstream;
EOF
is($rc, 0, 'every tenant directive passes nginx -t') or diag $out;

($rc, $out) = check('return 200 "$cc_tenant_upstream $cc_cross_tenant";');
is($rc, 0, 'the variables exist') or diag $out;

my @bad = (
    [ 'an onboarding URL with a quote',
      'cc_tenant_onboarding_url "https://x/a\"b";', qr/invalid URL/ ],
    [ 'an onboarding URL with a space',
      'cc_tenant_onboarding_url "https://x/a b";', qr/invalid URL/ ],
    [ 'two onboarding URLs',
      'cc_tenant_onboarding_url /a; cc_tenant_onboarding_url /b;',
      qr/"cc_tenant_onboarding_url" directive is duplicate/ ],
    [ 'an empty plan in a route', 'cc_tenant_route plan= pool_eu;',
      qr/empty region or plan in "plan="/ ],
    [ 'a route without an upstream', 'cc_tenant_route westeurope;',
      qr/invalid number of arguments in "cc_tenant_route"/ ],
    [ 'an unknown response shape', 'cc_tenant_response html;',
      qr/invalid value "html"/ ],
    [ 'cc_tenant_check with a value other than on or off',
      'cc_tenant_check yes;', qr/invalid value "yes"/ ],
    [ 'two cc_tenant_match', 'cc_tenant_match $arg_a; cc_tenant_match $arg_b;',
      qr/"cc_tenant_match" directive is duplicate/ ],
    [ 'an unknown variable as the tenant id', 'cc_tenant_id $no_such;',
      qr/unknown "no_such" variable/ ],
);

for my $case (@bad) {
    my ($why, $location, $re) = @$case;
    ($rc, $out) = check($location);
    isnt($rc, 0, "nginx -t refuses $why");
    like($out, $re, "and says what is wrong ($why)");
}

$t->done_testing;
