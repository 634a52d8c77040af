#!/usr/bin/perl

# Start-up configuration of the workers: invalid values stop the process
# with exit 2 and a message naming the key; --config overrides the
# environment.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;

use CC::Test;

my $t = CC::Test->new;
my $bin = $t->build;
my $sock = $t->socket_path('cc-ingest');

# Runs a worker binary with env and args; returns (exit code, stderr).
sub run {
    my ($name, $env, @args) = @_;
    my $err = $t->dir . '/tmp/stderr';
    my $pid = fork // die;
    if ($pid == 0) {
        delete $ENV{$_} for grep { /^CC_/ } keys %ENV;
        $ENV{$_} = $env->{$_} for keys %$env;
        open STDERR, '>', $err or die;
        open STDOUT, '>', '/dev/null' or die;
        exec("$bin/$name", @args) or exit 127;
    }
    waitpid($pid, 0);
    open my $fh, '<', $err or die;
    local $/;
    return ($? >> 8, <$fh> // '');
}

my ($code, $err) = run('cc-ingest', { CC_SOCKET => $sock, CC_MAX_BODY => '1MB' });
is($code, 2, 'an invalid number exits 2');
like($err, qr/CC_MAX_BODY/, 'the message names the key');

($code, $err) = run('cc-ingest', { CC_SOCKET => $sock, CC_LOG_LEVEL => 'loud' });
is($code, 2, 'an invalid log level exits 2');
like($err, qr/CC_LOG_LEVEL/, 'the message names the log level key');

($code, $err) = run('cc-ingest', {});
is($code, 2, 'a missing socket exits 2');
like($err, qr/CC_SOCKET/, 'the message names CC_SOCKET');

($code, $err) = run('cc-api', { CC_SOCKET => $sock });
is($code, 2, 'cc-api without a database exits 2');
like($err, qr/CC_DATABASE_URL/, 'the message names CC_DATABASE_URL');

($code, $err) = run('cc-worker', { CC_SOCKET => $sock });
is($code, 2, 'cc-worker without a database exits 2');

($code, $err) = run('cc-ingest', { CC_SOCKET => $sock }, '--verbose');
is($code, 2, 'an unknown argument exits 2');

my $conf = $t->dir . '/tmp/ingest.conf';
open my $fh, '>', $conf or die;
print $fh "# overrides\nCC_MAX_BODY = nope\n";
close $fh;
($code, $err) = run('cc-ingest', { CC_SOCKET => $sock, CC_MAX_BODY => 100 },
                    '--config', $conf);
is($code, 2, 'a bad value in --config exits 2, even with a good env value');
like($err, qr/ingest\.conf:2: CC_MAX_BODY/, 'the message names file and line');

# A good file wins over the environment.
open $fh, '>', $conf or die;
print $fh "CC_MAX_BODY = 10\n";
close $fh;
$t->spawn('cc-ingest', [ "$bin/cc-ingest", '--config', $conf ],
          env => { CC_SOCKET => $sock, CC_MAX_BODY => 100000 });
ok($t->eventually(sub { -S $sock }, 10), 'cc-ingest started with --config');
my $r = $t->worker_request('cc-ingest', POST => '/anything',
                           { 'Content-Type' => 'application/json' }, '{"a": "12345"}');
is($r->{status}, 413, 'CC_MAX_BODY from the file applies');

$t->done_testing;
