#!/usr/bin/perl

# What the registry's control API refuses, and how: malformed JSON (400
# malformed_json), bad ids and fields (422 invalid_request), bodies over
# 4 MiB (413 body_too_large), chunked bodies (411), and any request that did
# not come over a unix socket (403 forbidden).  A refused request changes
# nothing.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use IO::Socket::INET;
use IO::Socket::UNIX;
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
    client_body_buffer_size 16k;

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

# A raw request, for what unix_request cannot send.
sub raw {
    my ($s, $request) = @_;
    print $s $request;
    local $/;
    my $resp = <$s> // '';
    my ($status) = $resp =~ m{^HTTP/1\.1 (\d+)};
    my (undef, $body) = split /\r\n\r\n/, $resp, 2;
    return { status => $status // 0, json => CC::Test::json_decode($body) };
}

sub refused {
    my ($r, $status, $code, $name) = @_;
    subtest $name => sub {
        is($r->{status}, $status, "status $status");
        is($r->{json}{error}{code}, $code, "code $code");
        ok(length($r->{json}{error}{message} // ''), 'with a message');
    };
}

my $tid = '8a6d2f6e-5b1c-4c3e-9f1e-2b9c1d7e4a10';
my $dev = '11111111-2222-4333-8444-555555555555';
my $jwk = { kty => 'RSA', n => 'AQAB', e => 'AQAB' };
my $iss = "https://login.microsoftonline.com/$tid/v2.0";

is(api(PUT => "/registry/tenants/$tid", { status => 'active' })->{status}, 201,
   'a valid tenant is stored');
my $g = api(GET => '/registry')->{json}{generation};

# --- the transport ------------------------------------------------------------

my $tcp = IO::Socket::INET->new('127.0.0.1:' . $t->port('http'))
    or die "connect: $!";
refused(raw($tcp, "GET /registry HTTP/1.0\r\nHost: x\r\n\r\n"),
        403, 'forbidden', 'the API over TCP is forbidden');

$tcp = IO::Socket::INET->new('127.0.0.1:' . $t->port('http')) or die;
refused(raw($tcp, "PUT /registry/tenants/$tid HTTP/1.0\r\nHost: x\r\n"
             . "Content-Length: 22\r\n\r\n{\"status\":\"suspended\"}"),
        403, 'forbidden', 'a write over TCP is forbidden');

my $unix = IO::Socket::UNIX->new(Peer => $sock) or die "connect: $!";
refused(raw($unix, "POST /registry/sync HTTP/1.1\r\nHost: x\r\n"
             . "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
             . "2\r\n{}\r\n0\r\n\r\n"),
        411, 'length_required', 'a chunked body is refused');

# --- bodies -------------------------------------------------------------------

refused(api(PUT => "/registry/tenants/$tid", '{"status": "active"'),
        400, 'malformed_json', 'truncated JSON');
refused(api(PUT => "/registry/tenants/$tid", ''),
        400, 'malformed_json', 'an empty body');
refused(api(PUT => "/registry/tenants/$tid",
            '{"status":"active","status":"suspended"}'),
        400, 'malformed_json', 'an object with a duplicate member');
unlike(api(PUT => "/registry/tenants/$tid", '{"status": secret-value}')
           ->{json}{error}{message} // '',
       qr/secret/, 'a parse error does not echo the body');
refused(api(PUT => "/registry/tenants/$tid", '["active"]'),
        422, 'invalid_request', 'a body that is not an object');

my $big = '{"status":"active","pad":"' . ('x' x (4 * 1024 * 1024)) . '"}';
refused(api(PUT => "/registry/tenants/$tid", $big),
        413, 'body_too_large', 'a body over 4 MiB');

# --- ids ----------------------------------------------------------------------

refused(api(PUT => '/registry/tenants/not-a-guid', { status => 'active' }),
        422, 'invalid_request', 'a tenant id that is not a GUID');
refused(api(PUT => "/registry/tenants/{$tid}", { status => 'active' }),
        422, 'invalid_request', 'a GUID in braces');
refused(api(PUT => "/registry/devices/$tid/42", {}),
        422, 'invalid_request', 'a device id that is not a GUID');
refused(api(GET => "/registry/tenants/${tid}0"),
        422, 'invalid_request', 'a GET with a bad id');
refused(api(PUT => '/registry/sessions/' . ('g' x 32), {}),
        422, 'invalid_request', 'a session id with a non-hex digit');
refused(api(PUT => '/registry/keys/' . ('k' x 129),
            { jwk => $jwk, issuer => $iss }),
        422, 'invalid_request', 'a kid longer than 128 characters');

# --- tenant fields ------------------------------------------------------------

my %bad_tenant = (
    'a missing status'        => { plan => 'standard' },
    'an unknown status'       => { status => 'gone' },
    'the status "unknown"'    => { status => 'unknown' },
    'a status in upper case'  => { status => 'ACTIVE' },
    'a plan with a space'     => { status => 'active', plan => 'gold plan' },
    'a plan of 33 characters' => { status => 'active', plan => 'p' x 33 },
    'a region that is a number' => { status => 'active', region => 7 },
    'limits that are a list'  => { status => 'active', limits => [1] },
    'a limit that is a string' =>
        { status => 'active', limits => { a => '1' } },
    'a limit that is a fraction' =>
        { status => 'active', limits => { a => 1.5 } },
    'a limit name in upper case' =>
        { status => 'active', limits => { A => 1 } },
    'a limit name of 33 characters' =>
        { status => 'active', limits => { ('n' x 33) => 1 } },
    'nine limits' =>
        { status => 'active', limits => { map { ("l$_" => $_) } 1 .. 9 } },
);

for my $name (sort keys %bad_tenant) {
    refused(api(PUT => "/registry/tenants/$tid", $bad_tenant{$name}),
            422, 'invalid_request', "tenant with $name");
}

like(api(PUT => "/registry/tenants/$tid", { status => 'gone' })
         ->{json}{error}{message}, qr/"status"/, 'the message names the field');

# --- device, session and key fields -------------------------------------------

refused(api(PUT => "/registry/devices/$tid/$dev", { until => -1 }),
        422, 'invalid_request', 'a negative until');
refused(api(PUT => "/registry/devices/$tid/$dev", { until => '1700000000' }),
        422, 'invalid_request', 'an until that is a string');
refused(api(PUT => "/registry/devices/$tid/$dev", { reason => 'lost device' }),
        422, 'invalid_request', 'a reason with a space');
refused(api(PUT => "/registry/sessions/" . ('a' x 32), { until => 1.5 }),
        422, 'invalid_request', 'a session until that is a fraction');
refused(api(PUT => '/registry/keys/k1', { issuer => $iss }),
        422, 'invalid_request', 'a key without a JWK');

refused(api(PUT => '/registry/keys/k1', { jwk => 'text', issuer => $iss }),
        422, 'invalid_request', 'a JWK that is not an object');
refused(api(PUT => '/registry/keys/k1', { jwk => $jwk }),
        422, 'invalid_request', 'a key without an issuer');
refused(api(PUT => '/registry/keys/k1', { jwk => $jwk, issuer => 'a b' }),
        422, 'invalid_request', 'an issuer with a space');
refused(api(PUT => '/registry/keys/k1',
            { jwk => $jwk, issuer => $iss, revoked => 'no' }),
        422, 'invalid_request', 'revoked that is not a boolean');
refused(api(PUT => '/registry/keys/k1',
            { jwk => { %$jwk, n => 'x' x 8200 }, issuer => $iss }),
        422, 'invalid_request', 'a JWK over 8192 bytes');

# --- sync ---------------------------------------------------------------------

my %empty = (tenants => [], devices => [], sessions => [], keys => []);

refused(api(POST => '/registry/sync', { %empty, keys => undef }),
        422, 'invalid_request', 'a sync without one of the four lists');
refused(api(POST => '/registry/sync', { %empty, tag => 't' x 65 }),
        422, 'invalid_request', 'a sync tag over 64 bytes');
refused(api(POST => '/registry/sync',
            { %empty, tenants => [ { id => 'x', status => 'active' } ] }),
        422, 'invalid_request', 'a sync tenant with a bad id');
my $r = api(POST => '/registry/sync',
            { %empty, devices => [ { tenant => $tid, device => $dev },
                                   { tenant => $tid, until => 1 } ] });
refused($r, 422, 'invalid_request', 'a sync device without a device id');
like($r->{json}{error}{message}, qr/^devices\[1\]: "device"/,
     'the message names the entry and the field');
refused(api(POST => '/registry/sync',
            { %empty, sessions => [ 'abc' ] }),
        422, 'invalid_request', 'a sync session that is not an object');

# --- nothing changed ----------------------------------------------------------

$r = api(GET => '/registry');
is($r->{json}{generation}, $g, 'no refused request changed the generation');
is_deeply([ @{ $r->{json} }{qw(tenants devices sessions keys)} ], [1, 0, 0, 0],
          'no refused request stored anything');
is(api(GET => "/registry/tenants/$tid")->{json}{status}, 'active',
   'the tenant is as it was');
is($r->{json}{sync}{tag}, undef, 'no refused sync counts as a sync');

# --- a body large enough to be kept in a temporary file -----------------------

my @tenants = map { { id => sprintf('%08x-0000-4000-8000-%012x', $_, $_),
                      status => 'active', plan => 'standard',
                      region => 'westeurope',
                      limits => { agent_per_min => $_ } } }
              1 .. 1500;
my $body = CC::Test::json_encode({ %empty, tenants => \@tenants,
                                   tag => 'file' });
ok(length $body > 64 * 1024, 'the sync body is larger than the body buffer');
$r = api(POST => '/registry/sync', $body);
is($r->{status}, 200, 'a sync read from a temporary file is accepted');
is(api(GET => '/registry')->{json}{tenants}, 1500,
   'and every tenant is stored');
$r = api(GET => '/registry/tenants/' . $tenants[-1]{id});
is($r->{json}{limits}{agent_per_min},
   1500, 'including the last one');

is(api(PUT => '/registry/keys/k-any', { jwk => $jwk, issuer => '' })->{status}, 201,
   'a key with an empty issuer is taken: it is bound to no issuer of its own');

$t->done_testing;
