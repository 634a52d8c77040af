#!/usr/bin/perl

# cc_tenant_route: a tenant's region (or plan) picks an upstream pool, as
# $cc_tenant_upstream in proxy_pass.  Two tenants in two regions reach two
# pools; a plan rule comes before a region rule when listed first; a
# tenant matching nothing goes to the default pool; moving a tenant in the
# registry moves its next request.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use Mojo::UserAgent;
use Test::More;

use CC::Test;

my $t = CC::Test->new;

# Three upstreams that answer with their own name.
for my $pool (qw(eu us shared)) {
    my $port = $t->port("pool_$pool");
    $t->spawn("pool_$pool", [$^X, '-MIO::Socket::INET', '-e', <<'PERL',
my $l = IO::Socket::INET->new(LocalAddr => "127.0.0.1:$ARGV[0]",
                              Listen => 16, ReuseAddr => 1) or die $!;
while (my $c = $l->accept) {
    while (my $line = <$c>) { last if $line eq "\r\n"; }
    print $c "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n$ARGV[1]";
    close $c;
}
PERL
        $port, $pool]);
}

my @ports = map { $t->port($_) } qw(http pool_eu pool_us pool_shared);

$t->start_nginx(<<'EOF', wait_ports => \@ports);
%%USER%%
load_module %%MODULE%%;
error_log %%DIR%%/logs/nginx-error.log info;
pid %%DIR%%/run/nginx.pid;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path %%DIR%%/tmp;
    proxy_temp_path %%DIR%%/tmp;

    cc_registry_zone name=registry size=1m;

    upstream pool_eu { server 127.0.0.1:%%PORT_POOL_EU%%; }
    upstream pool_us { server 127.0.0.1:%%PORT_POOL_US%%; }
    upstream pool_shared { server 127.0.0.1:%%PORT_POOL_SHARED%%; }

    server {
        listen unix:%%RUN%%/registry.sock;

        location /registry {
            cc_registry_api;
        }
    }

    server {
        listen 127.0.0.1:%%PORT_HTTP%%;

        cc_tenant_id $http_x_test_tenant;

        location /api/ {
            cc_tenant_route plan=dedicated-us pool_us;
            cc_tenant_route westeurope pool_eu;
            cc_tenant_route region=eastus pool_us;
            cc_tenant_route default pool_shared;

            proxy_pass http://$cc_tenant_upstream;
        }

        location /nodefault/ {
            cc_tenant_route westeurope pool_eu;
            return 200 "[$cc_tenant_upstream]";
        }
    }
}
EOF

my $sock = $t->dir . '/run/registry.sock';

sub tenant {
    my ($tid, %entry) = @_;
    my ($status) = CC::Stack::unix_request($sock,
        PUT => "/registry/tenants/$tid", {},
        CC::Test::json_encode({ status => 'active', %entry }));
    return $status == 200 || $status == 201;
}

my $ua = Mojo::UserAgent->new(max_redirects => 0, inactivity_timeout => 10);
my $base = 'http://127.0.0.1:' . $t->port('http');

sub pool {
    my ($tid, $path) = @_;
    my $res = $ua->get("$base" . ($path // '/api/x') =>
                       (defined $tid ? { 'X-Test-Tenant' => $tid } : {}))
        ->res;
    return $res->code == 200 ? $res->body : 'status ' . $res->code;
}

my $a = 'a1a1a1a1-0000-4000-8000-000000000001';
my $b = 'b2b2b2b2-0000-4000-8000-000000000002';
my $c = 'c3c3c3c3-0000-4000-8000-000000000003';
my $d = 'd4d4d4d4-0000-4000-8000-000000000004';

ok(tenant($a, region => 'westeurope', plan => 'standard'), 'tenant A in EU');
ok(tenant($b, region => 'eastus', plan => 'standard'), 'tenant B in US');
ok(tenant($c, region => 'westeurope', plan => 'dedicated-us'),
   'tenant C in EU on the dedicated-us plan');
ok(tenant($d, region => 'brazilsouth', plan => 'standard'),
   'tenant D in a region without a pool');

is(pool($a), 'eu', 'tenant A reaches the EU pool');
is(pool($b), 'us', 'tenant B reaches the US pool');
is(pool($c), 'us', 'a plan rule listed first wins over the region');
is(pool($d), 'shared', 'a region without a rule: the default pool');
is(pool('e5e5e5e5-0000-4000-8000-000000000005'), 'shared',
   'an unknown tenant: the default pool');
is(pool(undef), 'shared', 'no tenant: the default pool');

ok(tenant($a, region => 'eastus', plan => 'standard'), 'tenant A moved to US');
is(pool($a), 'us', 'its very next request reaches the US pool');

is(pool($b, '/nodefault/x'), '[]',
   'no default and no match: $cc_tenant_upstream is empty');
ok(tenant($b, region => 'westeurope'), 'tenant B moved to EU');
is(pool($b, '/nodefault/x'), '[pool_eu]',
   '$cc_tenant_upstream names the pool');

$t->done_testing;
