#!/usr/bin/perl

# A full registry zone answers 507 zone_full and leaves everything it held
# as it was, for a single write as for a sync; entries that ran out make
# room again.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Time::HiRes qw(sleep);

use CC::Test;

my $t = CC::Test->new;

# the smallest zone the registry accepts
$t->start_nginx(<<'EOF');
%%USER%%
load_module %%MODULE%%;
error_log %%DIR%%/logs/nginx-error.log info;
pid %%DIR%%/run/nginx.pid;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path %%DIR%%/tmp;

    cc_registry_zone name=small size=64k;

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

sub status { api(GET => '/registry')->{json} }

my $tid = '8a6d2f6e-5b1c-4c3e-9f1e-2b9c1d7e4a10';
my $iss = "https://login.microsoftonline.com/$tid/v2.0";

# a key of about 6 KB: two pages of the zone each
sub key { { jwk => { kty => 'RSA', n => ($_[0] x 6000), e => 'AQAB' },
            issuer => $iss } }

is(api(PUT => "/registry/tenants/$tid", { status => 'active' })->{status}, 201,
   'a tenant is stored in the small zone');

my ($n, $r) = (0);
while ($n < 100) {
    $r = api(PUT => "/registry/keys/k$n", key('a'));
    last if $r->{status} != 201;
    $n++;
}

ok($n >= 3 && $n < 100, "the zone filled up after $n keys");
is($r->{status}, 507, 'the write that does not fit answers 507');
is($r->{json}{error}{code}, 'zone_full', 'with the code zone_full');

my $full = status();
is($full->{keys}, $n, 'the refused key was not stored');
is(api(GET => "/registry/keys/k$n")->{status}, 404,
   'nor is any part of it visible');
is(scalar(grep { api(GET => "/registry/keys/k$_")->{status} == 200 }
          0 .. $n - 1),
   $n, 'every key stored before is intact');
is(api(GET => "/registry/tenants/$tid")->{json}{status}, 'active',
   'the tenant stored before is intact');
ok(scalar $t->grep_log('nginx-error', qr/zone "small" is full/),
   'the full zone is logged');

$r = api(PUT => '/registry/keys/k0', key('b'));
ok($r->{status} == 200 || $r->{status} == 507,
   'replacing an entry in a full zone either works or answers 507');
is(api(GET => '/registry/keys/k0')->{json}{jwk}{n},
   ($r->{status} == 200 ? 'b' : 'a') x 6000,
   'and the entry is either the new one or the old one, whole');

is(api(DELETE => "/registry/keys/k1")->{status}, 204, 'a key is deleted');
is(api(PUT => "/registry/keys/k$n", key('c'))->{status}, 201,
   'its space takes another key');

# --- a sync that does not fit ------------------------------------------------

my $before = status();
my @keys = map { { kid => "s$_", %{ key('d') } } } 1 .. $n + 2;
$r = api(POST => '/registry/sync',
         { tenants => [], devices => [], sessions => [], keys => \@keys,
           tag => 'too-big' });
is($r->{status}, 507, 'a sync that does not fit answers 507');
is($r->{json}{error}{code}, 'zone_full', 'with the code zone_full');

my $after = status();
is($after->{generation}, $before->{generation}, 'the generation is unchanged');
is($after->{sync}{tag}, undef, 'the refused sync does not count as a sync');
is_deeply([ @{$after}{qw(tenants keys)} ], [ @{$before}{qw(tenants keys)} ],
          'the registry holds what it held before');
is(api(GET => "/registry/tenants/$tid")->{status}, 200,
   'the tenant is still there');
is(api(GET => '/registry/keys/s1')->{status}, 404,
   'no key of the sync is there');
is($after->{bytes_free}, $before->{bytes_free},
   'the refused sync left no allocation behind');

# --- a sync that fits beside the old content ---------------------------------

# a sync needs room for the new content beside the old one
for my $k (0 .. $n) {
    api(DELETE => "/registry/keys/k$k") if $k != 2;
}
is(status()->{keys}, 1, 'all keys but one are deleted');

$r = api(POST => '/registry/sync',
         { tenants => [ { id => $tid, status => 'suspended' } ],
           devices => [], sessions => [],
           keys => [ { kid => 'only', %{ key('e') } } ],
           tag => 'small' });
is($r->{status}, 200, 'a sync that fits beside the old content is accepted');
is_deeply([ @{ status() }{qw(tenants keys)} ], [1, 1], 'and replaces it');

# --- expired entries make room ------------------------------------------------

my $dev = 0;
my $until = time + 2;
while ($dev < 2000) {
    my $path = sprintf '/registry/devices/%s/11111111-2222-4333-8444-%012d',
                       $tid, $dev;
    last if api(PUT => $path, { until => $until })->{status} != 201;
    $dev++;
}
ok($dev > 10 && $dev < 2000, "the zone filled up with $dev device blocks");
is(api(PUT => '/registry/keys/late', key('f'))->{status}, 507,
   'a key does not fit while the blocks are in force');

sleep 0.1 while time < $until + 1;

is(api(PUT => '/registry/keys/late', key('f'))->{status}, 201,
   'once the blocks are over, their space takes a key');
is(status()->{devices}, 0, 'the blocks that were over are gone');

$t->done_testing;
