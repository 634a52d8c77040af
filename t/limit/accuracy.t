#!/usr/bin/perl

# The accuracy the unit tests prove on a simulated clock (t/unit/
# window_accuracy.c), checked once in real time through nginx, with a short
# window: a client at twice its limit gets its limit in its first window
# and in the next, a client at 0.9 times its limit beside it is never
# refused.  Six seconds of traffic.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use Mojo::UserAgent;
use Test::More;
use Time::HiRes qw(sleep time);

use CC::Test;

my $t = CC::Test->new;

mkdir $t->dir . '/html';
open my $fh, '>', $t->dir . '/html/api' or die $!;
print $fh "ok\n";
close $fh;

$t->start_nginx(<<'EOF', wait_ports => [$t->port('http')]);
%%USER%%
load_module %%MODULE%%;
error_log %%DIR%%/logs/nginx-error.log notice;
pid %%DIR%%/run/nginx.pid;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path %%DIR%%/tmp;

    cc_limit_zone api size=64k window=3s;

    server {
        listen 127.0.0.1:%%PORT_HTTP%%;
        root %%DIR%%/html;

        location /api {
            cc_limit_log_level info;
            cc_limit zone=api key=$http_x_key rate=60;
        }
    }
}
EOF

my $base = 'http://127.0.0.1:' . $t->port('http');
my $window = 3;
my $limit = 60;

# Two clients on their own connections, on one timeline: "fast" at twice
# the limit (40 requests a second), "steady" at 0.9 times (18 a second).
my %ua = map { $_ => Mojo::UserAgent->new(inactivity_timeout => 10) }
         qw(fast steady);
my @plan;
for my $client ([fast => 2.0], [steady => 0.9]) {
    my ($name, $times) = @$client;
    my $gap = $window / ($limit * $times);
    push @plan, map { [$_ * $gap, $name] } 0 .. int(2 * $window / $gap) - 1;
}
@plan = sort { $a->[0] <=> $b->[0] } @plan;

$ua{$_}->get("$base/") for keys %ua;        # connect before the clock starts

my $start = time;
my %log = (fast => [], steady => []);
for my $step (@plan) {
    my ($at, $name) = @$step;
    my $wait = $start + $at - time;
    sleep $wait if $wait > 0;
    my $sent = time - $start;
    my $code = $ua{$name}->get("$base/api" => { 'X-Key' => $name })->res->code;
    push @{ $log{$name} }, [$sent, $code];
}
my $late = (time - $start) - 2 * $window;

sub admitted {
    my ($name, $from, $to) = @_;
    return scalar grep { $_->[0] >= $from && $_->[0] < $to && $_->[1] == 200 }
                  @{ $log{$name} };
}

diag(sprintf "the run ended %.0f ms late", 1000 * $late) if $late > 0.1;

# A boundary request may be counted on either side of a window's end, so
# each window is read up to 50 ms before it ends.
is(admitted('fast', 0, $window - 0.05), $limit,
   'twice the limit: exactly the limit in the first window');
my $second = admitted('fast', $window, 2 * $window - 0.05);
ok(abs($second - $limit) <= 1,
   "twice the limit: the limit in the second window, within 1 ($second)");
is(scalar(grep { $_->[1] != 200 && $_->[1] != 429 } @{ $log{fast} }), 0,
   'every refusal is a 429');
is(scalar(grep { $_->[1] != 200 } @{ $log{steady} }), 0,
   sprintf '0.9 times the limit: never refused (%d requests)',
   scalar @{ $log{steady} });

$t->done_testing;
