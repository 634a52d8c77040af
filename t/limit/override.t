#!/usr/bin/perl

# override=: a tenant's own limit, from the registry through
# $cc_tenant_limit_<name>, beats the zone's default rate; a tenant without
# one gets the default; a change written to the registry is what the very
# next request is limited by.  An override that is not a number is ignored
# (and logged); one beyond 2^32 - 1 means 2^32 - 1.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use Mojo::UserAgent;
use Test::More;

use CC::Test;

my $t = CC::Test->new;

mkdir $t->dir . '/html';
for my $f (qw(agent header)) {
    open my $fh, '>', $t->dir . "/html/$f" or die $!;
    print $fh "ok\n";
    close $fh;
}

$t->start_nginx(<<'EOF', wait_ports => [$t->port('http')]);
%%USER%%
load_module %%MODULE%%;
error_log %%DIR%%/logs/nginx-error.log info;
pid %%DIR%%/run/nginx.pid;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path %%DIR%%/tmp;

    cc_registry_zone name=registry size=1m;
    cc_limit_zone agent size=64k window=60s;
    cc_limit_zone header size=64k window=60s;

    server {
        listen unix:%%RUN%%/registry.sock;

        location /registry {
            cc_registry_api;
        }
    }

    server {
        listen 127.0.0.1:%%PORT_HTTP%%;
        root %%DIR%%/html;

        cc_registry_tenant $http_x_test_tenant;

        location /agent {
            cc_limit zone=agent key=$http_x_device rate=2
                     override=$cc_tenant_limit_agent_per_min;
        }

        location /header {
            cc_limit_headers on;
            cc_limit zone=header key=$http_x_device rate=2
                     override=$http_x_limit;
        }
    }
}
EOF

my $sock = $t->dir . '/run/registry.sock';

sub registry {
    my ($method, $path, $body) = @_;
    my ($status) = CC::Stack::unix_request($sock, $method, $path, {},
        ref $body ? CC::Test::json_encode($body) : $body);
    return $status;
}

my $ua = Mojo::UserAgent->new(max_redirects => 0, inactivity_timeout => 10);
my $base = 'http://127.0.0.1:' . $t->port('http');

sub get {
    my ($path, %h) = @_;
    return $ua->get("$base$path" => { %h })->res;
}

sub agent {
    my ($tenant, $device) = @_;
    return get('/agent', 'X-Device' => $device,
               defined $tenant ? ('X-Test-Tenant' => $tenant) : ());
}

# how many of n requests are admitted
sub admitted {
    my ($n, $tenant, $device) = @_;
    return scalar grep { agent($tenant, $device)->code == 200 } 1 .. $n;
}

my $a = '3f1c2d4e-0000-4000-8000-0000000000a1';
my $b = '3f1c2d4e-0000-4000-8000-0000000000b2';
my $c = '3f1c2d4e-0000-4000-8000-0000000000c3';
my $unknown = '3f1c2d4e-0000-4000-8000-0000000000ff';

is(registry(PUT => "/registry/tenants/$a",
            { status => 'active', plan => 'pro',
              limits => { agent_per_min => 4 } }), 201, 'tenant A: 4/min');
is(registry(PUT => "/registry/tenants/$b",
            { status => 'active', plan => 'standard',
              limits => { api_per_min => 50 } }), 201,
   'tenant B: no agent limit of its own');
is(registry(PUT => "/registry/tenants/$c",
            { status => 'active', limits => { agent_per_min => 0 } }), 201,
   'tenant C: agent limit 0');

is(admitted(6, $a, 'a-dev-1'), 4, 'tenant A\'s device gets its tenant\'s 4');
my $r = agent($a, 'a-dev-1');
is($r->json->{error}{limit}, 4, 'the refusal names the tenant\'s limit');
is($r->headers->header('RateLimit-Policy'), '"agent";q=4;w=60',
   'and so does RateLimit-Policy');

is(admitted(4, $b, 'b-dev-1'), 2,
   'a tenant without the limit gets the zone\'s default of 2');
is(admitted(4, $unknown, 'u-dev-1'), 2,
   'a tenant the registry does not know gets the default');
is(admitted(4, undef, 'n-dev-1'), 2, 'no tenant at all: the default');
is(admitted(2, $c, 'c-dev-1'), 0, 'a limit of 0 admits nothing');

# --- a registry change takes effect on the next request ---------------------

is(admitted(5, $a, 'a-dev-2'), 4, 'before the change: 4 of 5');
is(registry(PUT => "/registry/tenants/$a",
            { status => 'active', plan => 'pro',
              limits => { agent_per_min => 7 } }), 200,
   'tenant A raised to 7/min');
is(agent($a, 'a-dev-2')->code, 200,
   'the very next request is admitted under the new limit');
is(admitted(3, $a, 'a-dev-2'), 2, 'up to 7 in all, not one more');

is(registry(PUT => "/registry/tenants/$a",
            { status => 'active', plan => 'pro',
              limits => { agent_per_min => 1 } }), 200,
   'tenant A lowered to 1/min');
is(agent($a, 'a-dev-3')->code, 200, 'a new device gets its 1');
is(agent($a, 'a-dev-3')->code, 429, 'and the next request is refused');

is(registry(PUT => "/registry/tenants/$a",
            { status => 'active', plan => 'pro', limits => {} }), 200,
   'tenant A\'s own limit removed');
is(agent($a, 'a-dev-4')->code, 200, 'default again: 1');
is(agent($a, 'a-dev-4')->code, 200, 'default again: 2');
is(agent($a, 'a-dev-4')->code, 429, 'default again: the third is refused');

# --- overrides that are not limits ------------------------------------------

sub header {
    my ($device, $limit) = @_;
    return get('/header', 'X-Device' => $device,
               defined $limit ? ('X-Limit' => $limit) : ());
}

is(scalar(grep { header('h1', 'many')->code == 200 } 1 .. 3), 2,
   'an override that is not a number: the default');
ok(scalar $t->grep_log('nginx-error',
       qr/override of zone "header" is not a number of requests, using 2/),
   'and the log says so');
is(scalar(grep { header('h2', '-5')->code == 200 } 1 .. 3), 2,
   'a negative override: the default');
my $big = header('h4', '99999999999999');
is($big->code, 200, 'an override beyond 2^32 - 1 admits');
is($big->headers->header('RateLimit-Policy'), '"header";q=4294967295;w=60',
   'as a limit of 2^32 - 1');
is(scalar(grep { header('h5', '3')->code == 200 } 1 .. 5), 3,
   'a numeric override from any variable works the same');

$t->done_testing;
