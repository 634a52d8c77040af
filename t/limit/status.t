#!/usr/bin/perl

# cc_limit_status answers every zone's counters in JSON: what was passed,
# rejected, rejected in dry run, refused for an empty key, how many keys the
# zone holds and in how many bytes.  The counters survive a reload that
# keeps the zone.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use Mojo::UserAgent;
use Test::More;

use CC::Test;

my $t = CC::Test->new;

mkdir $t->dir . '/html';
for my $f (qw(a b)) {
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

    cc_limit_zone za size=64k window=60s;
    cc_limit_zone zb size=128k window=10s;

    server {
        listen 127.0.0.1:%%PORT_HTTP%%;
        root %%DIR%%/html;

        location /a {
            cc_limit zone=za key=$http_x_key rate=2;
        }

        location /b {
            cc_limit_dry_run on;
            cc_limit zone=zb key=$http_x_key rate=1;
        }

        location = /status {
            cc_limit_status;
        }
    }
}
EOF

my $ua = Mojo::UserAgent->new(max_redirects => 0, inactivity_timeout => 10);
my $base = 'http://127.0.0.1:' . $t->port('http');

sub get {
    my ($path, $key) = @_;
    return $ua->get("$base$path" => (defined $key ? { 'X-Key' => $key } : {}))
        ->res;
}

my $s = get('/status');
is($s->code, 200, 'status answers 200');
is($s->headers->content_type, 'application/json', 'in JSON');

my $za = $s->json->{zones}{za};
is_deeply([ map { $za->{$_} } qw(passed rejected rejected_dry_run empty_key
                                   keys evicted expired untracked) ],
          [0, 0, 0, 0, 0, 0, 0, 0], 'a new zone counts nothing');
is($za->{window}, 60, 'the window in seconds');
is($za->{size}, 65536, 'the size');
ok($za->{bytes_used} > 0 && $za->{bytes_used} <= 65536, 'the bytes used');
is($s->json->{zones}{zb}{window}, 10, 'every zone is there');

get('/a', 'k1') for 1 .. 3;        # 2 passed, 1 rejected
get('/a', 'k2');                    # 1 passed
get('/a');                          # empty key
get('/b', 'k3') for 1 .. 3;        # 1 passed, 2 rejected in dry run

$s = get('/status')->json->{zones};
is($s->{za}{passed}, 3, 'passed counted');
is($s->{za}{rejected}, 1, 'rejected counted');
is($s->{za}{empty_key}, 1, 'an empty key counted');
is($s->{za}{keys}, 2, 'two keys held');
is($s->{za}{bytes_per_key}, int($s->{za}{bytes_used} / 2),
   'bytes per key is bytes used over keys');
is($s->{zb}{passed}, 1, 'dry run: passed counts what the limit admitted');
is($s->{zb}{rejected_dry_run}, 2, 'dry run: what would be rejected counted');
is($s->{zb}{rejected}, 0, 'dry run: nothing rejected');

is($ua->post("$base/status")->res->code, 405, 'status is read-only');

$t->reload_nginx;
ok($t->eventually(sub {
       scalar $t->grep_log('nginx-error', qr/gracefully shutting down/) }),
   'reloaded');
is(get('/status')->json->{zones}{za}{passed}, 3,
   'counters survive a reload that keeps the zone');
is(get('/a', 'k1')->code, 429, 'and so do the windows');

$t->done_testing;
