#!/usr/bin/perl

# The $cc_tenant_* variables read the tenant that cc_registry_tenant names,
# and a change written through the control API is what the very next
# request sees.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use IO::Socket::INET;
use Test::More;

use CC::Test;

my $t = CC::Test->new;

$t->start_nginx(<<'EOF');
%%USER%%
load_module %%MODULE%%;
error_log %%DIR%%/logs/nginx-error.log info;
pid %%DIR%%/run/nginx.pid;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path %%DIR%%/tmp;

    cc_registry_zone name=registry size=1m;

    server {
        listen unix:%%RUN%%/registry.sock;

        location /registry {
            cc_registry_api;
        }
    }

    server {
        listen 127.0.0.1:%%PORT_HTTP%%;

        cc_registry_tenant $http_x_test_tenant;

        location /t {
            return 200 "$cc_tenant_status $cc_tenant_plan $cc_tenant_limit_agent_per_min";
        }

        location /region {
            return 200 "[$cc_tenant_region]";
        }

        location /limits {
            return 200 "[$cc_tenant_limit_api_per_min][$cc_tenant_limit_none]";
        }

        # a tenant id set after a variable was first read
        location /later {
            set $first "$cc_tenant_status";
            cc_registry_tenant $later_tenant;
            set $later_tenant $http_x_test_tenant;
            return 200 "$first $cc_tenant_status";
        }

        location /none {
            cc_registry_tenant "";
            return 200 "$cc_tenant_status [$cc_tenant_plan]";
        }
    }

    server {
        listen 127.0.0.1:%%PORT_PLAIN%%;

        # no cc_registry_tenant here
        location / {
            return 200 "$cc_tenant_status [$cc_tenant_plan]";
        }
    }
}
EOF

my $sock = $t->dir . '/run/registry.sock';

sub api {
    my ($method, $path, $body) = @_;
    $body = CC::Test::json_encode($body) if ref $body;
    my ($status) = CC::Stack::unix_request($sock, $method, $path, {}, $body);
    return $status;
}

sub get {
    my ($path, $tenant, $port) = @_;
    my $s = IO::Socket::INET->new('127.0.0.1:' . $t->port($port // 'http'))
        or die "connect: $!";
    print $s "GET $path HTTP/1.0\r\nHost: x\r\n",
        (defined $tenant ? "X-Test-Tenant: $tenant\r\n" : ''), "\r\n";
    local $/;
    my $resp = <$s> // '';
    my (undef, $body) = split /\r\n\r\n/, $resp, 2;
    return $body;
}

my $tid = '8a6d2f6e-5b1c-4c3e-9f1e-2b9c1d7e4a10';
my $other = '0b6c1c4e-0000-4000-8000-00000000000a';

is(get('/t', $tid), 'unknown  ', 'a tenant the registry lacks is unknown');
is(get('/t'), 'unknown  ', 'no tenant id: unknown');
is(get('/t', 'not-a-guid'), 'unknown  ', 'a malformed tenant id: unknown');
is(get('/', $tid, 'plain'), 'unknown []',
   'without cc_registry_tenant every tenant is unknown');

is(api(PUT => "/registry/tenants/$tid",
       { status => 'active', plan => 'standard', region => 'westeurope',
         limits => { agent_per_min => 100, api_per_min => -1 } }), 201,
   'tenant written');

is(get('/t', $tid), 'active standard 100',
   'the next request sees the tenant\'s status, plan and limit');
is(get('/t', uc $tid), 'active standard 100',
   'the tenant id is matched in any case');
is(get('/region', $tid), '[westeurope]', '$cc_tenant_region is the region');
is(get('/limits', $tid), '[-1][]',
   'a limit reads as written; a limit the tenant lacks is empty');
is(get('/t', $other), 'unknown  ', 'another tenant is still unknown');

is(api(PUT => "/registry/tenants/$tid",
       { status => 'suspended', plan => 'standard',
         limits => { agent_per_min => 100 } }), 200, 'tenant suspended');
is(get('/t', $tid), 'suspended standard 100',
   'a suspension is seen by the very next request');

api(PUT => "/registry/tenants/$tid",
    { status => 'offboarding', plan => 'free' });
is(get('/t', $tid), 'offboarding free ', 'offboarding, with the new plan');

api(PUT => "/registry/tenants/$tid", { status => 'offboarded' });
is(get('/t', $tid), 'offboarded  ', 'offboarded');

is(get('/later', $tid), 'unknown offboarded',
   'a variable follows the tenant id when it changes within a request');
is(get('/none', $tid), 'unknown []', 'an empty tenant id is unknown');

is(api(DELETE => "/registry/tenants/$tid"), 204, 'tenant deleted');
is(get('/t', $tid), 'unknown  ', 'a deleted tenant is unknown at once');

is(api(POST => '/registry/sync',
       { tenants => [ { id => $other, status => 'active', plan => 'gold',
                        limits => { agent_per_min => 7 } } ],
         devices => [], sessions => [], keys => [] }), 200, 'sync');
is(get('/t', $other), 'active gold 7', 'a synced tenant is seen at once');

$t->done_testing;
