#!/usr/bin/perl

# The registry's control API: create, read, replace, list and delete each
# kind of entry, with the status codes and JSON shapes cc-worker's sync job
# relies on, and the generation counters that caches of registry data trust.

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
    return { status => $status, headers => $h, body => $content,
             json => CC::Test::json_decode($content) };
}

sub generation { api(GET => '/registry')->{json}{generation} }

my $tid  = '8a6d2f6e-5b1c-4c3e-9f1e-2b9c1d7e4a10';
my $tid2 = '0b6c1c4e-0000-4000-8000-00000000000a';
my $dev  = '11111111-2222-4333-8444-555555555555';
my $sid  = '0123456789abcdef0123456789abcdef';

# --- the status document before anything is written ------------------------

my $r = api(GET => '/registry');
is($r->{status}, 200, 'GET /registry answers 200');
like($r->{headers}{'content-type'}, qr{^application/json}, 'answers are JSON');
is_deeply([ @{ $r->{json} }{qw(tenants devices sessions keys)} ], [0, 0, 0, 0],
          'a new zone holds no entries');
is_deeply($r->{json}{sync}, { tag => undef, at => undef },
          'a new zone has never been synced');
is($r->{json}{unknown_kid}, undef, 'no unknown kid noted yet');
ok($r->{json}{bytes_free} > 0 && $r->{json}{bytes_used} > 0,
   'the zone reports bytes used and free');

my $g0 = $r->{json}{generation};
my $now = time;
ok($g0 >= ($now - 60) * 2**20 && $g0 <= ($now + 1) * 2**20,
   'generations start at the creation time times 2^20');

# --- tenants ----------------------------------------------------------------

my $tenant = { status => 'active', plan => 'standard', region => 'default',
               limits => { agent_per_min => 100, api_per_min => 600 } };

$r = api(PUT => "/registry/tenants/$tid", $tenant);
is($r->{status}, 201, 'PUT of a new tenant answers 201');
is($r->{json}{id}, $tid, 'the answer names the tenant');
is($r->{json}{generation}, $g0 + 1, 'the entry carries the new generation');
is(generation(), $g0 + 1, 'a change increments the generation by one');

$r = api(GET => "/registry/tenants/$tid");
is($r->{status}, 200, 'GET of the tenant answers 200');
is_deeply({ map { $_ => $r->{json}{$_} } qw(status plan region limits) },
          $tenant, 'the tenant reads back as written');

$r = api(PUT => "/registry/tenants/$tid", $tenant);
is($r->{status}, 200, 'PUT of an existing tenant answers 200');
is($r->{json}{generation}, $g0 + 1,
   'writing the same tenant again keeps its generation');
is(generation(), $g0 + 1, 'writing the same tenant again changes nothing');

$r = api(PUT => "/registry/tenants/$tid", { %$tenant, status => 'suspended' });
is($r->{status}, 200, 'PUT replacing a tenant answers 200');
is($r->{json}{generation}, $g0 + 2, 'a replaced tenant gets a new generation');
is(api(GET => "/registry/tenants/$tid")->{json}{status}, 'suspended',
   'the replaced tenant reads back with its new status');

$r = api(PUT => '/registry/tenants/' . uc $tid2, { status => 'offboarding' });
is($r->{status}, 201, 'a tenant id in upper case is accepted');
is($r->{json}{id}, $tid2, 'ids are stored in lower case');
is_deeply([ @{ $r->{json} }{qw(plan region)} ], ['', ''],
          'plan and region default to empty');
is_deeply($r->{json}{limits}, {}, 'limits default to none');
is(api(GET => '/registry/tenants/' . uc $tid2)->{status}, 200,
   'a tenant is found by its id in any case');

$r = api(GET => '/registry/tenants');
is($r->{status}, 200, 'the tenant list answers 200');
is_deeply([ map { $_->{id} } @{ $r->{json}{tenants} } ], [ sort $tid, $tid2 ],
          'the list holds every tenant, sorted by id');

# --- devices ------------------------------------------------------------------

$r = api(PUT => "/registry/devices/$tid/$dev",
         { until => 0, reason => 'lost_device' });
is($r->{status}, 201, 'PUT of a device block answers 201');
is_deeply([ @{ $r->{json} }{qw(tenant device until reason)} ],
          [ $tid, $dev, 0, 'lost_device' ], 'the block reads back as written');
is(api(GET => "/registry/devices/$tid/" . uc $dev)->{status}, 200,
   'a device is found by its id in any case');
is(api(GET => "/registry/devices/$tid2/$dev")->{status}, 404,
   'a block belongs to one tenant');
is(scalar @{ api(GET => '/registry/devices')->{json}{devices} }, 1,
   'the device list holds the block');

my $past = time - 10;
$r = api(PUT => "/registry/devices/$tid2/$dev", { until => $past });
ok($r->{status} == 201 || $r->{status} == 200,
   'a block already over is accepted');
is(api(GET => "/registry/devices/$tid2/$dev")->{status}, 404,
   'a block whose until has passed is not found');
is(scalar @{ api(GET => '/registry/devices')->{json}{devices} }, 1,
   'a block whose until has passed is not listed');
is(api(GET => '/registry')->{json}{devices}, 1,
   'a block whose until has passed is not counted');

# --- sessions -----------------------------------------------------------------

$r = api(PUT => '/registry/sessions/' . uc $sid, { until => time + 3600 });
is($r->{status}, 201, 'PUT of a revoked session answers 201');
is($r->{json}{sid}, $sid, 'session ids are stored in lower case');
is(api(GET => "/registry/sessions/$sid")->{status}, 200,
   'the revoked session is found');
is(api(GET => '/registry/sessions/0123')->{status}, 422,
   'a session id that is not 32 hex digits is refused');
is(scalar @{ api(GET => '/registry/sessions')->{json}{sessions} }, 1,
   'the session list holds the revocation');

# --- keys ---------------------------------------------------------------------

my $jwk = { kty => 'RSA', kid => 'k1', n => 'sXch' x 10, e => 'AQAB' };
my $issuer = "https://login.microsoftonline.com/$tid/v2.0";

# the JWK is kept as compact JSON text, its members in the order given
my $jwk_text = '{"kty":"RSA","kid":"k1","n":"' . ('sXch' x 10)
             . '","e":"AQAB"}';
(my $spaced = $jwk_text) =~ s/([:,{])/$1 /g;

$r = api(PUT => '/registry/keys/k1',
         qq({"jwk":$jwk_text,"issuer":"$issuer"}));
is($r->{status}, 201, 'PUT of a key answers 201');
is_deeply($r->{json}{jwk}, $jwk, 'the JWK reads back as the same object');
is($r->{json}{issuer}, $issuer, 'the issuer reads back');
is($r->{json}{revoked}, JSON::PP::false, 'a key is not revoked by default');
my $kg = $r->{json}{generation};

$r = api(PUT => '/registry/keys/k1',
         qq({ "issuer" : "$issuer", "jwk" : $spaced }));
is($r->{json}{generation}, $kg,
   'the same JWK with other whitespace keeps its generation');

$r = api(PUT => '/registry/keys/k1',
         { jwk => $jwk, issuer => $issuer, revoked => JSON::PP::true });
is($r->{status}, 200, 'revoking a key answers 200');
is($r->{json}{revoked}, JSON::PP::true, 'the key reads back revoked');
ok($r->{json}{generation} > $kg, 'revoking a key changes its generation');

is(api(GET => '/registry/keys')->{json}{keys}[0]{kid}, 'k1',
   'the key list holds the key');

# --- deletes ------------------------------------------------------------------

my $g = generation();
is(api(DELETE => "/registry/tenants/$tid2")->{status}, 204,
   'DELETE of a tenant answers 204');
is(generation(), $g + 1, 'a delete increments the generation');
is(api(GET => "/registry/tenants/$tid2")->{status}, 404,
   'a deleted tenant is gone');
is(api(DELETE => "/registry/tenants/$tid2")->{status}, 404,
   'DELETE of a missing tenant answers 404');
is(generation(), $g + 1, 'deleting nothing changes nothing');
is(api(DELETE => "/registry/devices/$tid/$dev")->{status}, 204,
   'DELETE of a device block answers 204');
is(api(DELETE => "/registry/sessions/$sid")->{status}, 204,
   'DELETE of a session answers 204');
is(api(DELETE => '/registry/keys/k1')->{status}, 204,
   'DELETE of a key answers 204');

$r = api(GET => '/registry');
is_deeply([ @{ $r->{json} }{qw(tenants devices sessions keys)} ], [1, 0, 0, 0],
          'the status counts what is left');

# --- routing ------------------------------------------------------------------

$r = api(GET => '/registry/widgets');
is($r->{status}, 404, 'an unknown kind answers 404');
is($r->{json}{error}{code}, 'not_found', 'with the code not_found');
is(api(GET => "/registry/tenants/$tid/extra")->{status}, 404,
   'a path with too many parts answers 404');
is(api(GET => "/registry/devices/$tid")->{status}, 404,
   'a device path needs the tenant and the device');

$r = api(POST => "/registry/tenants/$tid", $tenant);
is($r->{status}, 405, 'POST to an entry answers 405');
is($r->{json}{error}{code}, 'method_not_allowed',
   'with the code method_not_allowed');
is($r->{headers}{allow}, 'GET, HEAD, PUT, DELETE',
   'and says which methods are allowed');
is(api(GET => '/registry/sync')->{status}, 405,
   'GET of /registry/sync answers 405');
is(api(DELETE => '/registry/tenants')->{status}, 405,
   'DELETE of a list answers 405');

$t->done_testing;
