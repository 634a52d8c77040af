#!/usr/bin/perl

# The identity module removes every client-sent X-CC-* request header
# before anything else sees the request: upstreams and $http_x_cc_*
# variables only ever see what nginx itself sets.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use IO::Socket::INET;
use Test::More;

use CC::Test;

my $t = CC::Test->new;

# The upstream is a plain process that echoes the request headers it got, so
# what it reports is exactly what nginx sent.
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

    upstream echo { server 127.0.0.1:%%PORT_ECHO%%; }

    server {
        listen 127.0.0.1:%%PORT_HTTP%%;

        location /proxied {
            proxy_set_header X-CC-Tenant "set-by-nginx";
            proxy_set_header Host $host;
            proxy_pass http://echo;
        }

        location /variable {
            return 200 "tenant=[$http_x_cc_tenant] other=[$http_x_other]\n";
        }
    }
}
EOF

sub get {
    my ($path, @headers) = @_;
    my $port = $t->port('http');
    my $s = IO::Socket::INET->new("127.0.0.1:$port") or die "connect: $!";
    print $s "GET $path HTTP/1.0\r\nHost: localhost\r\n",
        (map { "$_\r\n" } @headers), "\r\n";
    local $/;
    return scalar <$s>;
}

my $r = get('/proxied', 'X-CC-Tenant: evil', 'X-CC-User: mallory',
            'x-cc-roles: global_admin', 'X-Cc-Anything: 1', 'X-Other: kept');

like($r, qr/^X-CC-Tenant: set-by-nginx\r$/m,
     'client X-CC-Tenant replaced by the value nginx sets');
is(() = $r =~ /^X-CC-Tenant:/mig, 1, 'only one X-CC-Tenant reaches upstream');
unlike($r, qr/^X-CC-User:/mi, 'client X-CC-User not passed upstream');
unlike($r, qr/^x-cc-roles:/mi, 'lower-case x-cc-roles not passed upstream');
unlike($r, qr/^X-Cc-Anything:/mi, 'unknown X-CC-* header not passed upstream');
like($r, qr/^X-Other: kept\r$/m, 'other headers still passed upstream');
like($r, qr/^Host: localhost\r$/m,
     'Host header still intact after the list is rebuilt');

$r = get('/variable', 'X-CC-Tenant: evil', 'X-Other: kept');
like($r, qr/tenant=\[\]/, 'client X-CC-Tenant invisible to $http_ variables');
like($r, qr/other=\[kept\]/, 'other headers visible to $http_ variables');

$r = get('/variable', (map { "X-Filler-$_: $_" } 1 .. 40), 'X-CC-Tenant: evil');
like($r, qr/tenant=\[\]/, 'identity header removed beyond the first list part');

ok(scalar $t->grep_log('nginx-error', qr/removed client header "X-CC-Tenant"/),
   'removal logged with the header name');
ok(!scalar $t->grep_log('nginx-error', qr/evil|mallory/),
   'header values never logged');

$t->done_testing;
