#!/usr/bin/perl

# cc_require_role: a location open to some roles only; anyone else gets a
# JSON 403 role_required.  Roles are exact names; Global Admin is not
# implied, it is listed where it is meant.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use Mojo::UserAgent;
use Test::More;

use CC::Test;

my $t = CC::Test->new;

mkdir $t->dir . '/html';
for my $f (qw(admin platform any)) {
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

    server {
        listen 127.0.0.1:%%PORT_HTTP%%;
        root %%DIR%%/html;

        cc_tenant_roles $http_x_test_roles;

        location /admin {
            cc_require_role tenant_admin operator;
        }

        location /platform {
            cc_require_role global_admin;
        }

        location /any {
        }
    }
}
EOF

my $ua = Mojo::UserAgent->new(max_redirects => 0, inactivity_timeout => 10);
my $base = 'http://127.0.0.1:' . $t->port('http');

sub code {
    my ($path, $roles) = @_;
    return $ua->get("$base$path" =>
                    (defined $roles ? { 'X-Test-Roles' => $roles } : {}))
        ->res->code;
}

is(code('/admin', 'tenant_admin'), 200, 'tenant_admin may');
is(code('/admin', 'operator'), 200, 'operator may');
is(code('/admin', 'user,operator'), 200, 'one of several roles is enough');

my $r = $ua->get("$base/admin" => { 'X-Test-Roles' => 'user' })->res;
is($r->code, 403, 'user may not');
is($r->headers->content_type, 'application/json', 'the refusal is JSON');
is($r->json->{error}{code}, 'role_required', 'with the code role_required');

is(code('/admin'), 403, 'no roles at all may not');
is(code('/admin', 'global_admin'), 403, 'global_admin is not implied');
is(code('/admin', 'admin'), 403, 'an unknown role name may not');
is(code('/admin', 'operator,'), 403, 'a malformed list may not');
is(code('/platform', 'global_admin'), 200, 'global_admin where listed');
is(code('/platform', 'tenant_admin'), 403, 'and only there');
is(code('/any'), 200, 'a location without cc_require_role is open');

# --- nginx -t ----------------------------------------------------------------

my $file = $t->dir . '/bad.conf';
for my $case (['cc_require_role admin;', qr/unknown role "admin"/],
              ['cc_require_role operator,user;', qr/unknown role/],
              ['cc_require_role user; cc_require_role operator;',
               qr/"cc_require_role" directive is duplicate/]) {
    my ($directive, $re) = @$case;
    open my $fh, '>', $file or die $!;
    print $fh $t->expand(<<"EOF");
load_module %%MODULE%%;
pid %%DIR%%/run/check.pid;
events { worker_connections 64; }
http { server { listen 127.0.0.1:%%PORT_HTTP%%; location / { $directive } } }
EOF
    close $fh;
    my ($dir, $log) = ($t->dir, $t->log('check'));
    my $out = qx{nginx -t -p '$dir/' -c '$file' -e '$log' 2>&1};
    isnt($? >> 8, 0, "nginx -t refuses: $directive");
    like($out, $re, "and says why: $directive");
}

$t->done_testing;
