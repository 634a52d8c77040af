#!/usr/bin/perl

# Device blocks and session revocations with an "until" stop counting once
# that time has passed: they disappear from lookups, lists and counts, and
# their place can be taken again.  Blocks without an end stay.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Time::HiRes qw(sleep);

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
        listen 127.0.0.1:%%PORT_HTTP%%;

        location /registry {
            cc_registry_api;
        }
    }
}
EOF

my $sock = $t->dir . '/run/registry.sock';

sub api {
    my ($method, $path, $body) = @_;
    $body = CC::Test::json_encode($body) if ref $body;
    my ($status, $h, $content) =
        CC::Stack::unix_request($sock, $method, $path, {}, $body);
    return { status => $status, json => CC::Test::json_decode($content) };
}

my $tid = '8a6d2f6e-5b1c-4c3e-9f1e-2b9c1d7e4a10';
my $dev = '11111111-2222-4333-8444-555555555555';
my $kept = '11111111-2222-4333-8444-666666666666';
my $sid = 'ab' x 16;

my $until = time + 2;

is(api(PUT => "/registry/devices/$tid/$dev", { until => $until })->{status},
   201, 'a block ending in two seconds is stored');
is(api(PUT => "/registry/devices/$tid/$kept", { until => 0 })->{status},
   201, 'a block without an end is stored');
is(api(PUT => "/registry/sessions/$sid", { until => $until })->{status},
   201, 'a revocation ending in two seconds is stored');

is(api(GET => "/registry/devices/$tid/$dev")->{status}, 200,
   'the block is in force before its end');
is(api(GET => "/registry/sessions/$sid")->{status}, 200,
   'the revocation is in force before its end');
is(api(GET => '/registry')->{json}{devices}, 2, 'both blocks are counted');

# nginx compares with its own clock, to the second: wait a second past
# the end to be clear of rounding.
sleep 0.1 while time < $until + 1;

is(api(GET => "/registry/devices/$tid/$dev")->{status}, 404,
   'the block is over after its end');
is(api(GET => "/registry/sessions/$sid")->{status}, 404,
   'the revocation is over after its end');
is_deeply([ map { $_->{device} }
            @{ api(GET => '/registry/devices')->{json}{devices} } ],
          [ $kept ], 'only the block without an end is listed');
is(scalar @{ api(GET => '/registry/sessions')->{json}{sessions} }, 0,
   'the revocation is not listed');

my $r = api(GET => '/registry')->{json};
is_deeply([ @{$r}{qw(devices sessions)} ], [1, 0],
          'the status counts what is in force');

my $g = $r->{generation};
is(api(DELETE => "/registry/devices/$tid/$dev")->{status}, 404,
   'deleting a block that is over answers 404');
is(api(GET => '/registry')->{json}{generation}, $g,
   'an entry running out is not a change');

is(api(PUT => "/registry/sessions/$sid", { until => time + 60 })->{status}, 201,
   'a revocation written again after its end counts as new');
is(api(GET => "/registry/devices/$tid/$kept")->{status}, 200,
   'the block without an end is still in force');

$t->done_testing;
