#!/usr/bin/perl

# One zone, several worker processes: the windows are in shared memory, so
# a key's requests count together whichever worker serves them.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use IO::Socket::INET;
use Test::More;

use CC::Test;

my $t = CC::Test->new;

mkdir $t->dir . '/html';
open my $fh, '>', $t->dir . '/html/api' or die $!;
print $fh "ok\n";
close $fh;

# reuseport: the kernel spreads connections over the four workers
$t->start_nginx(<<'EOF', wait_ports => [$t->port('http')]);
%%USER%%
load_module %%MODULE%%;
error_log %%DIR%%/logs/nginx-error.log notice;
pid %%DIR%%/run/nginx.pid;
worker_processes 4;
events { worker_connections 64; }
http {
    access_log off;

    cc_limit_zone shared size=64k window=60s;

    server {
        listen 127.0.0.1:%%PORT_HTTP%% reuseport;
        root %%DIR%%/html;

        location /api {
            cc_limit_log_level info;
            cc_limit zone=shared key=$http_x_key rate=10;
            add_header X-Worker $pid always;
        }
    }
}
EOF

# 40 connections, opened first so that they spread over the workers, then
# one request on each.
my @socks = map {
    IO::Socket::INET->new('127.0.0.1:' . $t->port('http')) or die "connect: $!"
} 1 .. 40;

print $_ "GET /api HTTP/1.0\r\nHost: x\r\nX-Key: one-key\r\n\r\n" for @socks;

my (%codes, %workers);
for my $s (@socks) {
    local $/;
    my $resp = <$s> // '';
    my ($code) = $resp =~ m{^HTTP/1\.[01] (\d{3})};
    my ($pid) = $resp =~ /^X-Worker: (\d+)\r$/m;
    $codes{ $code // 'none' }++;
    $workers{$pid}++ if $pid;
}

ok(keys %workers > 1, sprintf 'the requests were served by %d workers',
   scalar keys %workers);
is($codes{200}, 10, 'exactly the limit admitted across the workers');
is($codes{429}, 30, 'the rest refused');

$t->done_testing;
