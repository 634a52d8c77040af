#!/usr/bin/perl

# POST /registry/sync replaces the whole registry at once: what the sync
# names is there afterwards, nothing else is, and the generations say what
# changed (an identical resync changes nothing a cache depends on).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;

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

sub status { api(GET => '/registry')->{json} }

sub ids {
    my ($kind, $field) = @_;
    my $list = api(GET => "/registry/$kind")->{json}{$kind};
    return [ map { $_->{$field} } @$list ];
}

my @t = map { sprintf '%08x-0000-4000-8000-%012x', $_, $_ } 1 .. 4;
my $dev = '11111111-2222-4333-8444-555555555555';
my $sid = 'ab' x 16;
my $iss = "https://login.microsoftonline.com/$t[0]/v2.0";
my $jwk = { kty => 'RSA', n => 'sXch', e => 'AQAB' };

# what was there before the sync
api(PUT => "/registry/tenants/$t[0]", { status => 'active', plan => 'old' });
api(PUT => "/registry/tenants/$t[3]", { status => 'active' });
api(PUT => "/registry/devices/$t[3]/$dev", { reason => 'old' });
api(PUT => "/registry/sessions/" . ('cd' x 16), { until => 0 });
api(PUT => '/registry/keys/old', { jwk => $jwk, issuer => $iss });

my $before = status();
is($before->{sync}{tag}, undef, 'not synced yet');

my $sync = {
    tag => 'boot-1',
    tenants => [
        { id => $t[0], status => 'active', plan => 'standard',
          limits => { agent_per_min => 100 } },
        { id => uc $t[1], status => 'suspended' },
        { id => $t[2], status => 'active', plan => 'first' },
        { id => $t[2], status => 'offboarding', plan => 'second' },
    ],
    devices => [
        { tenant => $t[0], device => $dev, until => 0, reason => 'lost' },
        { tenant => $t[1], device => $dev, until => time - 5 },
    ],
    sessions => [ { sid => uc $sid, until => time + 3600 } ],
    keys => [ { kid => 'k1', jwk => $jwk, issuer => $iss },
              { kid => 'k2', jwk => $jwk, issuer => $iss,
                revoked => JSON::PP::true } ],
};

my $r = api(POST => '/registry/sync', $sync);
is($r->{status}, 200, 'the sync answers 200');
is($r->{json}{generation}, $before->{generation} + 1,
   'a sync is one change: the generation goes up by one');

my $after = status();
is($after->{generation}, $r->{json}{generation},
   'the status has the same generation');
is($after->{sync}{tag}, 'boot-1', 'the status names the sync');
ok(abs($after->{sync}{at} - time) <= 2, 'and says when it happened');

is_deeply(ids(tenants => 'id'), [ @t[0 .. 2] ],
          'exactly the synced tenants are there, ids in lower case');
is(api(GET => "/registry/tenants/$t[0]")->{json}{plan}, 'standard',
   'a tenant that was there before now reads as synced');
is(api(GET => "/registry/tenants/$t[2]")->{json}{plan}, 'second',
   'of two entries with the same id the last one wins');
is_deeply(ids(devices => 'tenant'), [ $t[0] ],
          'exactly the synced device blocks that are still in force are there');
is_deeply(ids(sessions => 'sid'), [ $sid ],
          'exactly the synced sessions are there');
is_deeply(ids(keys => 'kid'), [ 'k1', 'k2' ],
          'exactly the synced keys are there');
is(api(GET => '/registry/keys/k2')->{json}{revoked}, JSON::PP::true,
   'a synced key keeps its revoked flag');
is(api(GET => '/registry/keys/old')->{status}, 404, 'a key not synced is gone');
is_deeply([ @{$after}{qw(tenants devices sessions keys)} ], [3, 1, 1, 2],
          'the status counts the synced entries');

my $k1 = api(GET => '/registry/keys/k1')->{json}{generation};
my $t0 = api(GET => "/registry/tenants/$t[0]")->{json}{generation};

# --- the same sync again -----------------------------------------------------

$sync->{tag} = 'boot-2';
$r = api(POST => '/registry/sync', $sync);
is($r->{status}, 200, 'an identical resync answers 200');
is($r->{json}{generation}, $after->{generation},
   'an identical resync leaves the generation as it was');
is(status()->{sync}{tag}, 'boot-2', 'but it counts as the latest sync');
is(api(GET => "/registry/tenants/$t[0]")->{json}{generation}, $t0,
   'and every entry keeps its generation');

# --- a sync that changes only tenants ----------------------------------------

$sync->{tenants}[0]{plan} = 'premium';
$r = api(POST => '/registry/sync', $sync);
is($r->{json}{generation}, $after->{generation} + 1,
   'a resync with one change is one change');
is(api(GET => "/registry/tenants/$t[0]")->{json}{generation},
   $r->{json}{generation}, 'the changed tenant has the new generation');
is(api(GET => "/registry/tenants/$t[1]")->{json}{generation},
   api(GET => "/registry/tenants/$t[2]")->{json}{generation},
   'unchanged tenants keep theirs');
is(api(GET => '/registry/keys/k1')->{json}{generation}, $k1,
   'keys that did not change keep their generation');

# --- a sync that removes one entry -------------------------------------------

pop @{ $sync->{keys} };
my $g = status()->{generation};
$r = api(POST => '/registry/sync', $sync);
is($r->{json}{generation}, $g + 1,
   'a resync that removes an entry is a change');
is_deeply(ids(keys => 'kid'), [ 'k1' ], 'the removed key is gone');

# --- an empty sync ------------------------------------------------------------

$r = api(POST => '/registry/sync',
         { tenants => [], devices => [], sessions => [], keys => [] });
is($r->{status}, 200, 'an empty sync answers 200');
is_deeply([ @{ status() }{qw(tenants devices sessions keys)} ], [0, 0, 0, 0],
          'an empty sync empties the registry');
is(status()->{sync}{tag}, '', 'a sync without a tag leaves an empty tag');

$t->done_testing;
