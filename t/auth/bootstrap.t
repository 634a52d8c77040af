#!/usr/bin/perl

# Bootstrap tokens in the auth module (agent-protocol.md 2, 3 step 3):
# where a location says "cc_auth device bootstrap;", a request with
# X-Bootstrap-Token is judged by the token the registry holds (by its
# SHA-256): unknown, malformed or expired -> 401; feature off or another
# tenant named -> 403; no serial number -> 401; then the device id is
# derived from the tenant and serial number, and $cc_bootstrap_id keys a
# per-token limit.  Without the header the certificate rules apply.
# nginx -t refuses "bootstrap" anywhere but after "device".

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib", $FindBin::Bin;
use Digest::SHA qw(sha256 sha256_hex);
use Test::More;

use CC::Test;
use AuthKit qw(start_echo nginx_conf registry);

my $t = CC::Test->new;
my $dir = $t->dir;

my $tenant = $AuthKit::TENANT;
my $other = $AuthKit::TENANT2;
my $device = 'b0075a4a-0001-4b1e-9f00-000000000001';
my @cert = $t->device_cert($device, $tenant);

my %token = (
    good     => '6f1c2d3e-4a5b-4c6d-8e7f-901a2b3c4d5e',
    disabled => '7a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d',
    expired  => '8b3c4d5e-6f70-4b8c-9dae-1f2a3b4c5d6e',
    other    => '9c4d5e6f-7081-4c9d-aebf-2a3b4c5d6e7f',
    limited  => 'ad5e6f70-8192-4dae-bfc0-3b4c5d6e7f80',
    unknown  => 'be6f7081-92a3-4ebf-c0d1-4c5d6e7f8091',
);
my $serial = 'PF3XK9ZQ';

start_echo($t);
$t->start_nginx(nginx_conf(<<'EOF'), wait_ports => [$t->port('https'), $t->port('echo')]);
    cc_limit_zone tokens size=1m window=60s;

    server {
        listen 127.0.0.1:%%PORT_HTTPS%% ssl;
        server_name localhost;

        ssl_certificate         %%CERTS%%/server.pem;
        ssl_certificate_key     %%CERTS%%/server.key;
        ssl_client_certificate  %%CERTS%%/intune-bundle.pem;
        ssl_verify_client       optional;
        ssl_verify_depth        2;

        location /api/agent/ {
            cc_auth device bootstrap;
            add_header X-Auth-Error $cc_auth_error always;
            add_header X-Auth-Method $cc_auth_method always;
            add_header X-Bootstrap-Id $cc_bootstrap_id always;
            proxy_set_header X-CC-Tenant $cc_tenant_id;
            proxy_set_header X-CC-Device $cc_device_id;
            proxy_pass http://echo;
        }

        location /limited/ {
            cc_auth device bootstrap;
            cc_limit zone=tokens key=$cc_bootstrap_id rate=3 empty_key=pass;
            cc_limit_response agent;
            proxy_pass http://echo;
        }

        location /certificate-only/ {
            cc_auth device;
            add_header X-Auth-Error $cc_auth_error always;
            proxy_pass http://echo;
        }
    }
EOF

my $hour = 3600;
registry($t, PUT => "/registry/tenants/$tenant", { status => 'active' });
registry($t, PUT => "/registry/tenants/$other", { status => 'active' });
sub put_token {
    my ($token, $tid, %o) = @_;
    return (registry($t, PUT => '/registry/bootstrap/' . sha256_hex(lc $token),
                     { tenant => $tid, until => $o{until} // time + $hour,
                       enabled => $o{enabled} // JSON::PP::true() }))[0];
}
is(put_token($token{good}, $tenant), 201, 'a token is put into the registry by its hash');
put_token($token{disabled}, $tenant, enabled => JSON::PP::false());
put_token($token{expired}, $tenant, until => time - 5);
put_token($token{other}, $other);
put_token($token{limited}, $tenant);

sub agent {
    my ($path, %headers) = @_;
    my $cert = delete $headers{cert};
    return $t->https(GET => $path, headers => \%headers, $cert ? (cert => $cert) : ());
}

sub with_token {
    my ($token, %headers) = @_;
    return agent('/api/agent/config', 'X-Bootstrap-Token' => $token,
                 'X-Device-SerialNumber' => $serial, %headers);
}

sub refused {
    my ($r, $status, $reason, $name) = @_;
    is($r->{status}, $status, "$name: $status");
    is($r->{headers}{'x-auth-error'}, $reason, "$name: reason $reason");
    is($r->{json} && $r->{json}{success}, JSON::PP::false(),
       "$name: agent-style JSON body (success false)");
    unlike($r->{body}, qr/^X-CC-/m, "$name: nothing reached the upstream");
}

# --- accepted --------------------------------------------------------------

# The device id, computed here independently of lib/cc_bootstrap.c.
(my $hex = $tenant) =~ s/-//g;
my @d = unpack 'C16', sha256(pack('H32', $hex) . 'serial:' . uc $serial);
$d[6] = ($d[6] & 0x0f) | 0x80;
$d[8] = ($d[8] & 0x3f) | 0x80;
my $derived = join '-', map { unpack 'H*', pack 'C*', @d[@$_] }
              [0 .. 3], [4, 5], [6, 7], [8, 9], [10 .. 15];

my $r = with_token($token{good});
is($r->{status}, 200, 'a live token of an enabled tenant, no certificate: 200');
like($r->{body}, qr/^X-CC-Tenant: $tenant\r$/m, 'the token\'s tenant is passed upstream');
like($r->{body}, qr/^X-CC-Device: $derived\r$/m,
     'the device id is the name-based UUID of tenant and serial number');
is($r->{headers}{'x-auth-method'}, 'bootstrap', '$cc_auth_method is bootstrap');
is($r->{headers}{'x-bootstrap-id'}, substr(sha256_hex(lc $token{good}), 0, 16),
   '$cc_bootstrap_id is the first 16 hex digits of the token\'s hash');

$r = with_token(uc $token{good}, 'X-Device-SerialNumber' => ' ' . lc($serial) . ' ');
is($r->{status}, 200, 'the token in upper case is the same token');
like($r->{body}, qr/^X-CC-Device: $derived\r$/m,
     'the serial number\'s case and surrounding spaces do not change the device id');

$r = with_token($token{good}, 'X-Device-SerialNumber' => 'OTHER-SERIAL');
unlike($r->{body}, qr/^X-CC-Device: $derived\r$/m, 'another serial number is another device');

is(with_token($token{good}, 'X-Tenant-Id' => uc $tenant)->{status}, 200,
   'X-Tenant-Id naming the token\'s tenant: 200');
is(agent("/api/agent/config?tenantId=$tenant", 'X-Bootstrap-Token' => $token{good},
         'X-Device-SerialNumber' => $serial)->{status}, 200,
   '?tenantId= naming the token\'s tenant: 200');

$r = with_token($token{good}, cert => \@cert);
is($r->{headers}{'x-auth-method'}, 'bootstrap',
   'with a certificate and a token, the token decides');

# --- refused ---------------------------------------------------------------

$r = with_token($token{unknown});
refused($r, 401, 'unknown_token', 'a token the registry does not hold');
is($r->{json}{error}{code}, 'invalid_bootstrap_token', 'unknown token: error code');
refused(with_token('not-a-guid'), 401, 'malformed_token', 'a token that is no GUID');
refused(with_token(''), 401, 'malformed_token', 'an empty token');
refused(with_token($token{expired}), 401, 'unknown_token', 'an expired token');
refused(with_token($token{disabled}), 403, 'bootstrap_disabled',
        'a token of a tenant with bootstrap switched off');
refused(with_token($token{good}, 'X-Tenant-Id' => $other), 403, 'tenant_mismatch',
        'X-Tenant-Id of another tenant');
refused(agent("/api/agent/config?tenantId=$other", 'X-Bootstrap-Token' => $token{good},
              'X-Device-SerialNumber' => $serial),
        403, 'tenant_mismatch', '?tenantId= of another tenant');
refused(with_token($token{other}, 'X-Tenant-Id' => $tenant), 403, 'tenant_mismatch',
        'a token of tenant B with X-Tenant-Id of tenant A');
refused(agent('/api/agent/config', 'X-Bootstrap-Token' => $token{good}), 401,
        'no_serial_number', 'no serial number to derive the device id from');

$r = agent('/certificate-only/x', 'X-Bootstrap-Token' => $token{good},
           'X-Device-SerialNumber' => $serial);
is($r->{status}, 401, 'where only certificates are accepted, a token is not');
is($r->{headers}{'x-auth-error'}, 'no_certificate', '... and the certificate is asked for');

refused(agent('/api/agent/config'), 401, 'no_certificate',
        'without the header, the certificate rules apply');
is(agent('/api/agent/config', cert => \@cert)->{headers}{'x-auth-method'}, 'device',
   'a certificate without a token still authenticates as device');

# --- changes in the registry take effect on the next request ---------------

put_token($token{good}, $tenant, enabled => JSON::PP::false());
is(with_token($token{good})->{status}, 403, 'the feature switched off: 403 at once');
put_token($token{good}, $tenant);
is(with_token($token{good})->{status}, 200, 'switched on again: 200');
registry($t, DELETE => '/registry/bootstrap/' . sha256_hex($token{good}));
is(with_token($token{good})->{status}, 401, 'a token removed (revoked): 401 at once');

my $device_id = $derived;
registry($t, PUT => "/registry/devices/$tenant/$device_id", { until => 0, reason => 'admin' });
$r = with_token($token{limited});
is($r->{json}{deviceBlocked}, JSON::PP::true(), 'a blocked device is blocked with a token too');

# --- the per-token limit ---------------------------------------------------

my @status = map {
    agent('/limited/x', 'X-Bootstrap-Token' => $token{limited},
          'X-Device-SerialNumber' => "LIMIT-$_")->{status}
} 1 .. 4;
is_deeply([ @status[0 .. 2] ], [200, 200, 200], 'three requests with one token pass');
is($status[3], 429, 'the fourth with the same token, from another device, is limited');
is(agent('/limited/x', 'X-Bootstrap-Token' => $token{other},
         'X-Device-SerialNumber' => 'LIMIT-1')->{status}, 200,
   'another token has its own window');

# --- the control API ---------------------------------------------------------

my ($status, $entry) = registry($t, GET => '/registry/bootstrap/' . sha256_hex($token{other}));
is_deeply($entry, { hash => sha256_hex($token{other}), tenant => $other,
                    until => $entry->{until}, enabled => JSON::PP::true(),
                    generation => $entry->{generation} },
          'an entry reads back as hash, tenant, until, enabled');
($status) = registry($t, PUT => '/registry/bootstrap/' . sha256_hex($token{other}),
                     { tenant => $other, until => 0, enabled => JSON::PP::true() });
is($status, 422, 'a token that never expires is refused');
($status) = registry($t, PUT => '/registry/bootstrap/' . sha256_hex($token{other}),
                     { tenant => 'x', until => time + 60, enabled => JSON::PP::true() });
is($status, 422, 'a token without a tenant GUID is refused');
($status) = registry($t, PUT => '/registry/bootstrap/abc',
                     { tenant => $other, until => time + 60, enabled => JSON::PP::true() });
is($status, 422, 'a key that is not 64 hex digits is refused');
($status, $entry) = registry($t, POST => '/registry/sync',
    { tenants => [{ id => $tenant, status => 'active' }], devices => [], sessions => [],
      keys => [] });
is($status, 200, 'a sync without a "bootstrap" list is accepted (older sync jobs)');
is(with_token($token{other}, 'X-Tenant-Id' => $other)->{status}, 401,
   '... and leaves no token behind: a token of a tenant not synced is unknown');
is(with_token($token{limited})->{status}, 401, '... and so is a token of a kept tenant');
($status, $entry) = registry($t, GET => '/registry');
is($entry->{bootstrap}, 0, 'GET /registry counts bootstrap tokens');

# --- nothing secret in the logs ------------------------------------------------

my @leaks = map { $t->grep_log('nginx-error', qr/\Q$_\E/i) }
            values %token, map { sha256_hex($_) } values %token;
is(scalar @leaks, 0, 'neither tokens nor their hashes are logged');

# --- nginx -t --------------------------------------------------------------------

sub nginx_t {
    my ($location) = @_;
    my $conf = $t->expand(<<"EOF");
load_module %%MODULE%%;
error_log $dir/logs/config-test.log;
pid $dir/run/config-test.pid;
events { worker_connections 16; }
http {
    server {
        listen 127.0.0.1:1;
        location / { $location }
    }
}
EOF
    open my $fh, '>', "$dir/test.conf" or die;
    print $fh $conf;
    close $fh;
    my $out = qx{nginx -t -p $dir/ -c $dir/test.conf -e $dir/logs/config-test.log 2>&1};
    return ($? >> 8, $out);
}

my ($rc, $out) = nginx_t('cc_auth device bootstrap;');
is($rc, 0, 'nginx -t accepts "cc_auth device bootstrap"') or diag $out;
($rc, $out) = nginx_t('cc_auth bearer bootstrap;');
isnt($rc, 0, 'nginx -t refuses "cc_auth bearer bootstrap"');
like($out, qr/cc_auth "bearer bootstrap": bootstrap tokens are accepted only with "device"/,
     '... saying bootstrap goes with device only');
($rc, $out) = nginx_t('cc_auth device tokens;');
isnt($rc, 0, 'nginx -t refuses another word after the method');
like($out, qr/cc_auth "tokens": only "bootstrap" may follow the method/, '... saying which');
($rc, $out) = nginx_t('cc_auth bootstrap;');
isnt($rc, 0, 'nginx -t refuses "bootstrap" as a method of its own');
($rc, $out) = nginx_t('cc_auth device bootstrap extra;');
isnt($rc, 0, 'nginx -t refuses three words');

$t->done_testing;
