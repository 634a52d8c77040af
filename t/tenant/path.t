#!/usr/bin/perl

# cc_tenant_match: a path that names a tenant (/api/tenants/{tid}/...) must
# name the caller's own tenant; a Global Admin may name another, and the
# request then reaches the upstream with X-CC-Cross-Tenant: 1 so cc-api
# can audit it.  A client cannot send that header itself.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use Mojo::UserAgent;
use Test::More;

use CC::Test;

my $t = CC::Test->new;

# An upstream that echoes the request line and headers it got.
my $echo_port = $t->port('echo');
$t->spawn('echo', [$^X, '-MIO::Socket::INET', '-e', <<'PERL', $echo_port]);
my $l = IO::Socket::INET->new(LocalAddr => "127.0.0.1:$ARGV[0]",
                              Listen => 16, ReuseAddr => 1) or die $!;
while (my $c = $l->accept) {
    my $head = '';
    while (my $line = <$c>) { last if $line eq "\r\n"; $head .= $line; }
    print $c "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n$head";
    close $c;
}
PERL

$t->start_nginx(<<'EOF', wait_ports => [$t->port('http'), $echo_port]);
%%USER%%
load_module %%MODULE%%;
error_log %%DIR%%/logs/nginx-error.log info;
pid %%DIR%%/run/nginx.pid;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path %%DIR%%/tmp;
    proxy_temp_path %%DIR%%/tmp;

    upstream cc_api { server 127.0.0.1:%%PORT_ECHO%%; }

    server {
        listen 127.0.0.1:%%PORT_HTTP%%;

        cc_tenant_id $http_x_test_tenant;
        cc_tenant_roles $http_x_test_roles;

        location ~ ^/api/tenants/(?<path_tenant>[^/]+)/ {
            cc_tenant_match $path_tenant;
            proxy_set_header X-CC-Cross-Tenant $cc_cross_tenant;
            proxy_pass http://cc_api;
        }
    }
}
EOF

my $ua = Mojo::UserAgent->new(max_redirects => 0, inactivity_timeout => 10);
my $base = 'http://127.0.0.1:' . $t->port('http');

sub get {
    my ($path, $tenant, $roles, %more) = @_;
    my %h = %more;
    $h{'X-Test-Tenant'} = $tenant if defined $tenant;
    $h{'X-Test-Roles'} = $roles if defined $roles;
    return $ua->get("$base$path" => \%h)->res;
}

my $mine = '2d1f1a0e-1111-4111-8111-111111111111';
my $other = '9b0c5e2a-2222-4222-8222-222222222222';

my $r = get("/api/tenants/$mine/sessions", $mine, 'tenant_admin');
is($r->code, 200, 'the caller\'s own tenant in the path: passes');
unlike($r->body, qr/^X-CC-Cross-Tenant:/mi, 'no cross-tenant mark');

is(get("/api/tenants/" . uc($mine) . "/sessions", $mine, 'user')->code, 200,
   'the path\'s tenant id in upper case is the same tenant');

$r = get("/api/tenants/$other/sessions", $mine, 'tenant_admin');
is($r->code, 403, 'another tenant in the path: 403');
is($r->headers->content_type, 'application/json', 'as JSON');
is($r->json->{error}{code}, 'tenant_mismatch', 'with the code tenant_mismatch');

is(get("/api/tenants/not-a-tenant/x", $mine, 'user')->code, 403,
   'a path tenant that is not a GUID: 403');
is(get("/api/tenants/$other/x", undef, 'global_admin')->code, 200,
   'a Global Admin without a tenant of its own may still name one');

$r = get("/api/tenants/$other/sessions", $mine, 'global_admin');
is($r->code, 200, 'a Global Admin may name another tenant');
like($r->body, qr/^X-CC-Cross-Tenant: 1\r$/mi,
     'and the upstream is told: X-CC-Cross-Tenant: 1');
ok(scalar $t->grep_log('nginx-error',
       qr/global admin of tenant "$mine" reaches another tenant's path/),
   'the cross-tenant access is logged');

$r = get("/api/tenants/$other/sessions", $mine, 'operator,global_admin,user');
is($r->code, 200, 'global_admin among other roles counts');

$r = get("/api/tenants/$mine/sessions", $mine, 'global_admin');
unlike($r->body, qr/^X-CC-Cross-Tenant:/mi,
       'a Global Admin on its own tenant is not marked');

is(get("/api/tenants/$other/x", $mine, 'global_admin,bogus')->code, 403,
   'a malformed role list counts as no roles');
is(get("/api/tenants/$other/x", $mine, 'Global_Admin')->code, 403,
   'role names are exact');

$r = get("/api/tenants/$mine/x", $mine, 'user', 'X-CC-Cross-Tenant' => '1');
is($r->code, 200, 'a client sending the mark itself passes as usual');
unlike($r->body, qr/^X-CC-Cross-Tenant:/mi,
       'but the mark it sent never reaches the upstream');

$t->done_testing;
