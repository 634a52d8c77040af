#!/usr/bin/perl

# cc-api's answers to requests it cannot serve, straight on its unix socket:
# every error is JSON of one shape with a stable code and the right status.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use IO::Socket::UNIX;
use Test::More;

use CC::Test;

my $t = CC::Test->new;
$t->start_pg;
$t->start_worker('api', env => { CC_MAX_BODY => 4096 });

my $json = { 'Content-Type' => 'application/json' };

sub api { $t->worker_request('cc-api', @_) }

sub error_is {
    my ($r, $status, $code, $name) = @_;
    subtest $name => sub {
        is($r->{status}, $status, "status $status");
        is($r->{json}{error}{code}, $code, "code $code");
        ok(defined $r->{json}{error}{message} && !ref $r->{json}{error}{message},
           'a message');
        is(scalar keys %{ $r->{json} // {} }, 1, 'nothing beside error');
        is(scalar keys %{ $r->{json}{error} // {} }, 2,
           'only code and message in error');
        is($r->{headers}{'content-type'}, 'application/json; charset=utf-8',
           'JSON content type');
    };
}

error_is(api(GET => '/api/no-such-thing'), 404, 'not_found', 'unknown route');
error_is(api(GET => '/'), 404, 'not_found', 'the root is not a route');

my $r = api(PUT => '/api/jobs/1', $json, '{}');
error_is($r, 405, 'method_not_allowed', 'wrong method on a known path');
is($r->{headers}{allow}, 'GET', '405 names the allowed methods');
$r = api(DELETE => '/api/jobs');
is($r->{headers}{allow}, 'POST', 'Allow follows the route table');
error_is(api(POST => '/healthz', $json, '{}'), 405, 'method_not_allowed',
         '/healthz answers GET only');

error_is(api(POST => '/api/jobs', $json, '{"kind": "noop",'), 400,
         'malformed_json', 'truncated JSON');
error_is(api(POST => '/api/jobs', $json, '{"kind": "noop"} x'), 400,
         'malformed_json', 'trailing garbage after JSON');
error_is(api(POST => '/api/jobs', $json, '{"kind":"noop","kind":"noop"}'),
         400, 'malformed_json', 'duplicate members');
error_is(api(POST => '/api/jobs', { 'Content-Type' => 'text/plain' },
             '{"kind": "noop"}'), 415, 'unsupported_media_type',
         'a body that is not declared JSON');
error_is(api(POST => '/api/jobs', {}, '{"kind": "noop"}'), 415,
         'unsupported_media_type', 'a body without Content-Type');
error_is(api(POST => '/api/jobs', $json, 'x' x 5000), 413, 'body_too_large',
         'a body over CC_MAX_BODY');
error_is(api(POST => '/api/jobs', $json, ' ' x 4096 . '{}'), 413,
         'body_too_large', 'one byte over the limit');

$r = raw(join '', "POST /api/jobs HTTP/1.1\r\nHost: x\r\n",
         "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n",
         "Connection: close\r\n\r\n",
         map({ sprintf("%x\r\n%s\r\n", 1000, ' ' x 1000) } 1 .. 6), "0\r\n\r\n");
like($r, qr{^HTTP/1\.1 413 }, 'a chunked body over the limit is 413 too');
like($r, qr/"code":"body_too_large"/, 'with the stable code');

error_is(api(POST => '/api/jobs', $json, '[1, 2]'), 422, 'invalid_request',
         'a body that is not an object');
error_is(api(POST => '/api/jobs', $json), 422, 'invalid_request',
         'an empty body');
error_is(api(POST => '/api/jobs', $json, '{"payload": {}}'), 422,
         'invalid_request', 'a job without a kind');
error_is(api(POST => '/api/jobs', $json, '{"kind": "deploy.vm"}'), 422,
         'invalid_request', 'a kind the API may not enqueue');
error_is(api(POST => '/api/jobs', $json, '{"kind": "noop", "payload": [1]}'),
         422, 'invalid_request', 'a payload that is not an object');
error_is(api(POST => '/api/jobs', $json, '{"kind": "noop", "priority": 1}'),
         422, 'invalid_request', 'an unknown member');
error_is(api(GET => '/api/jobs/1', { 'X-CC-Tenant' => 'contoso' }), 400,
         'invalid_identity', 'a tenant identity that is not a UUID');

# --- keepalive, as nginx's upstream connections use it --------------------

$r = raw("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
       . "GET /api/nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
my @statuses = $r =~ m{HTTP/1\.1 (\d{3}) }g;
is("@statuses", '200 404', 'two requests answered on one connection');

# --- what the logs and metrics say ------------------------------------------

api(GET => '/api/jobs/1?access_token=secret-token-value');
ok(scalar $t->grep_log('cc-api', qr{"path":"/api/jobs/1"}),
   'requests are logged with their path');
ok(!scalar $t->grep_log('cc-api', qr/secret-token-value/),
   'the query string never reaches the log');
ok(!scalar $t->grep_log('cc-api', qr/"kind": ?"deploy\.vm"/),
   'request bodies never reach the log');

$r = api(GET => '/metrics');
is($r->{headers}{'content-type'}, 'text/plain; version=0.0.4; charset=utf-8',
   'metrics are Prometheus text');
like($r->{body}, qr/^cc_http_requests_total\{svc="cc-api",class="4xx"\} [1-9]\d*$/m,
     'client errors are counted');
like($r->{body}, qr/^cc_db_pool_connections\{state="size"\} 4$/m,
     'the pool size is reported');

$t->done_testing;

# Sends bytes as they are and returns everything read until close.
sub raw {
    my ($bytes) = @_;
    my $s = IO::Socket::UNIX->new(Peer => $t->socket_path('cc-api'))
        or die "connect: $!";
    print $s $bytes;
    local $/;
    my $resp = <$s> // '';
    close $s;
    return $resp;
}
