#!/usr/bin/perl

# The registry's content lives as long as its zone: a reload that keeps the
# zone's name and size keeps everything, while a resized zone or a restart
# starts empty, with "sync" null so that the sync job knows to resync, and
# with generations that never go back.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use IO::Socket::INET;
use Test::More;
use Time::HiRes qw(sleep);

use CC::Test;

my $t = CC::Test->new;

# VERSION tells which configuration the workers run; SIZE is the zone's.
my $conf = <<'EOF';
%%USER%%
load_module %%MODULE%%;
error_log %%DIR%%/logs/nginx-error.log info;
pid %%DIR%%/run/nginx.pid;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path %%DIR%%/tmp;

    cc_registry_zone name=registry size=SIZE;

    server {
        listen unix:%%RUN%%/registry.sock;
        listen 127.0.0.1:%%PORT_HTTP%%;

        location /registry {
            cc_registry_api;
        }

        location /t {
            cc_registry_tenant $http_x_test_tenant;
            return 200 "VERSION $cc_tenant_status";
        }
    }
}
EOF

sub conf {
    my ($version, $size) = @_;
    (my $c = $conf) =~ s/VERSION/$version/;
    $c =~ s/SIZE/$size/;
    return $c;
}

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

sub get_t {
    my $s = IO::Socket::INET->new('127.0.0.1:' . $t->port('http')) or return '';
    print $s "GET /t HTTP/1.0\r\nHost: x\r\nX-Test-Tenant: $tid\r\n\r\n";
    local $/;
    my (undef, $body) = split /\r\n\r\n/, (<$s> // ''), 2;
    return $body // '';
}

# The master's children: its worker processes.
sub workers {
    my $master = $t->pid('nginx');
    my @pids;
    for my $stat (glob '/proc/[0-9]*/stat') {
        open my $fh, '<', $stat or next;
        my @f = split ' ', (<$fh> // '');
        push @pids, $f[0] if @f > 3 && $f[3] == $master;
    }
    return @pids;
}

# Rewrites the configuration and reloads; returns once the old workers
# are gone (until then they keep accepting requests) and a new one
# answers with the new version.
sub reload {
    my ($version, $size) = @_;
    my @old = workers();
    open my $fh, '>', $t->dir . '/nginx.conf' or die $!;
    print $fh $t->expand(conf($version, $size));
    close $fh;
    $t->reload_nginx;
    return $t->eventually(sub { !grep { kill 0, $_ } @old }, 10)
        && get_t() =~ /^$version /;
}

# A zone created in a later second than the previous one, so that the
# generations can be compared.
sub next_second { my $s = time; sleep 0.05 while time == $s }

$t->start_nginx(conf('v1', '1m'));

api(PUT => "/registry/tenants/$tid", { status => 'suspended' });
api(POST => '/registry/sync',
    { tenants => [ { id => $tid, status => 'active', plan => 'p' } ],
      devices => [], sessions => [], keys => [], tag => 'boot' });
api(PUT => "/registry/sessions/" . ('ab' x 16), { until => 0 });

my $before = status();
is(get_t(), 'v1 active', 'the tenant is active before the reload');

# --- reload with the same zone ------------------------------------------------

ok(reload('v2', '1m'), 'reloaded with the same zone');
my $after = status();
is($after->{generation}, $before->{generation},
   'the generation survives the reload');
is($after->{sync}{tag}, 'boot', 'the last sync survives the reload');
is_deeply([ @{$after}{qw(tenants sessions)} ], [1, 1],
          'the entries survive the reload');
is(get_t(), 'v2 active', 'the new workers see the tenant');

api(PUT => "/registry/tenants/$tid", { status => 'suspended' });
is(get_t(), 'v2 suspended', 'and a write after the reload');
is(status()->{generation}, $before->{generation} + 1,
   'the generation goes on from where it was');

# --- reload with a resized zone -----------------------------------------------

my $g = status()->{generation};
next_second();
ok(reload('v3', '2m'), 'reloaded with a larger zone');
$after = status();
is_deeply($after->{sync}, { tag => undef, at => undef },
          'a resized zone has not been synced');
is($after->{tenants}, 0, 'a resized zone starts empty');
is(get_t(), 'v3 unknown', 'and its tenants are unknown');
ok($after->{generation} > $g, 'its generations start above the old ones');

# --- restart ------------------------------------------------------------------

api(POST => '/registry/sync',
    { tenants => [ { id => $tid, status => 'active' } ],
      devices => [], sessions => [], keys => [], tag => 'second' });
$g = status()->{generation};
is(status()->{sync}{tag}, 'second', 'synced again');

next_second();
$t->stop('nginx');
$t->start_nginx(conf('v4', '2m'));

$after = status();
is_deeply($after->{sync}, { tag => undef, at => undef },
          'after a restart GET /registry shows sync null');
is_deeply([ @{$after}{qw(tenants devices sessions keys)} ], [0, 0, 0, 0],
          'after a restart the registry is empty');
ok($after->{generation} > $g,
   'after a restart generations start above the old ones');

$t->done_testing;
