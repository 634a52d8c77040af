#!/usr/bin/perl

# SIGTERM to cc-api with a request in flight: it stops accepting at once,
# answers the request it has, and exits 0.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use IO::Socket::UNIX;
use POSIX ();
use Test::More;
use Time::HiRes qw(sleep time);

use CC::Test;

my $t = CC::Test->new;
$t->start_pg;

# A "worker" that accepts connections and never answers: the health probe
# of it waits out its whole timeout, which keeps a request in flight.
my $mute_path = $t->dir . '/run/mute.sock';
my $mute = IO::Socket::UNIX->new(Local => $mute_path, Listen => 16)
    or die "listen: $!";
chmod 0666, $mute_path;

$t->start_worker('api', env => { CC_WORKER_SOCKET => $mute_path });
my $sock = $t->socket_path('cc-api');

my $out = $t->dir . '/tmp/inflight.out';
# The client is a child process; it leaves with _exit so that the
# harness's END block (which tears the stack down) runs only here.
my $client = fork // die;
if ($client == 0) {
    my $resp = '';
    if (my $s = IO::Socket::UNIX->new(Peer => $sock)) {
        print $s "GET /api/health HTTP/1.1\r\nHost: x\r\n"
               . "Connection: close\r\n\r\n";
        local $/;
        $resp = <$s> // '';
    }
    if (open my $fh, '>', $out) {
        print $fh $resp;
        close $fh;
    }
    POSIX::_exit(0);
}

# The probe of the mute worker takes a full second; stop cc-api meanwhile.
my @held;
$mute->blocking(0);
ok($t->eventually(sub { my $c = $mute->accept; push @held, $c if $c; $c }, 5),
   'the health request is in flight');

my $t0 = time;
kill 'TERM', $t->pid('cc-api');
ok($t->eventually(sub { !-e $sock }, 2), 'the socket goes away at once');
ok(!IO::Socket::UNIX->new(Peer => $sock), 'new connections are refused');

waitpid($client, 0);
open my $fh, '<', $out or die "$out: $!";
my $resp = do { local $/; <$fh> };
like($resp, qr{^HTTP/1\.1 503 }, 'the request in flight got its answer');
like($resp, qr/"worker":\{"status":"down"\}/, 'a complete one');

is($t->stop('cc-api'), 0, 'cc-api exited 0 after answering');
cmp_ok(time - $t0, '<', 5, 'without waiting for the drain timeout');

done_testing();
