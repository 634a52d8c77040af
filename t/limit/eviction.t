#!/usr/bin/perl

# A full zone is never an error: the least recently used keys are evicted
# to make room, so every request is answered as if the zone had room, a
# key in use keeps its count and an evicted key starts afresh.  Memory per
# key is measured: every key takes one 128-byte slot, whatever its length
# (short keys as they are, GUIDs as 16 bytes, long keys as their SHA-256).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use Mojo::UserAgent;
use Test::More;

use CC::Test;

my $t = CC::Test->new;

mkdir $t->dir . '/html';
for my $f (qw(small big)) {
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

    cc_limit_zone small size=32k window=60s;
    cc_limit_zone big size=4m window=60s;

    server {
        listen 127.0.0.1:%%PORT_HTTP%%;
        root %%DIR%%/html;

        location /small {
            cc_limit zone=small key=$http_x_key rate=1;
        }

        location /big {
            cc_limit zone=big key=$http_x_key rate=1;
        }

        location = /status {
            cc_limit_status;
        }
    }
}
EOF

my $ua = Mojo::UserAgent->new(max_redirects => 0, inactivity_timeout => 10);
my $base = 'http://127.0.0.1:' . $t->port('http');

sub code {
    my ($path, $key) = @_;
    return $ua->get("$base$path" => { 'X-Key' => $key })->res->code;
}

sub zone { $ua->get("$base/status")->res->json->{zones}{$_[0]} }

# --- a full zone -----------------------------------------------------------

is(code('/small', 'first'), 200, 'key "first" admitted');
is(code('/small', 'first'), 429, 'and then refused: the zone remembers it');
is(code('/small', 'hot'), 200, 'key "hot" admitted');

my %seen;
for my $i (1 .. 1500) {
    $seen{ code('/small', "k$i") }++;
    # "hot" stays recently used: refused each time, never evicted
    $seen{ 'hot ' . code('/small', 'hot') }++ if $i % 20 == 0;
}

is_deeply([sort keys %seen], ['200', 'hot 429'],
          '1500 new keys in a zone that holds a few hundred: all admitted, '
          . 'no error; the key in use stays refused')
    or diag explain \%seen;

my $z = zone('small');
ok($z->{evicted} > 1000, "keys were evicted to make room ($z->{evicted})");
ok($z->{keys} < 300, "the zone holds what fits ($z->{keys} keys)");
is($z->{untracked}, 0, 'every key found room');
is(code('/small', 'first'), 200,
   'the least recently used key was evicted: it starts afresh');
is(code('/small', 'hot'), 429, 'the recently used one was not');
ok(!scalar $t->grep_log('nginx-error',
       qr/\[(alert|crit|emerg)\]|ngx_slab_alloc|could not allocate/),
   'a full zone logs no allocation failure');

# --- memory per key ---------------------------------------------------------

my $n = 3000;
my @keys = (
    [ 'short keys (8 bytes)', sub { sprintf 'dev%05d', $_[0] } ],
    [ 'GUIDs (36 bytes)',
      sub { sprintf '6f1c2d4e-0000-4000-8000-%012d', $_[0] } ],
    [ 'long keys (100 bytes)', sub { sprintf('long-%05d', $_[0]) . 'x' x 90 } ],
);

my $before = 0;
for my $k (@keys) {
    my ($what, $make) = @$k;
    my $ok = grep { code('/big', $make->($_)) == 200 } 1 .. $n;
    $z = zone('big');
    my $added = $z->{keys} - $before;
    $before = $z->{keys};
    is($added, $n, "$what: $n keys stored") or next;
    my $per = $z->{bytes_used} / $z->{keys};
    diag(sprintf "%s: %d keys, %d bytes used, %.1f bytes per key",
         $what, $z->{keys}, $z->{bytes_used}, $per);
    ok($per <= 136, sprintf "%s: %.1f bytes per key, zone overhead included",
       $what, $per);
}

is(code('/big', sprintf('6F1C2D4E-0000-4000-8000-%012d', 7)), 429,
   'a GUID in upper case is the same key as in lower case');
is(code('/big', 'long-00007' . 'x' x 90), 429,
   'a long key is found again by its digest');
is(code('/big', 'long-00007' . 'x' x 89 . 'y'), 200,
   'a long key differing in its last byte is another key');

$t->done_testing;
