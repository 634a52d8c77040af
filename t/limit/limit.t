#!/usr/bin/perl

# cc_limit: up to the limit and not one more, per key; the refusal is a
# JSON 429 with Retry-After and the RateLimit-Policy / RateLimit fields; an
# empty key is refused (or passed, when asked) and the log says why; dry
# run passes what it would refuse; several limits in one location count a
# request only when all of them admit it; $cc_limit_status says what
# happened; key values never reach the log.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use Mojo::UserAgent;
use Test::More;

use CC::Test;

my $t = CC::Test->new;

mkdir $t->dir . '/html';
for my $f (qw(one pass dry status503 multi headers post)) {
    open my $fh, '>', $t->dir . "/html/$f" or die $!;
    print $fh "content of $f\n";
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

    cc_limit_zone one size=64k window=60s;
    cc_limit_zone pass size=64k window=60s;
    cc_limit_zone dry size=64k window=60s;
    cc_limit_zone s503 size=64k window=60s;
    cc_limit_zone m1 size=64k window=60s;
    cc_limit_zone m2 size=64k window=60s;
    cc_limit_zone hdr size=64k window=60s;
    cc_limit_zone post size=64k window=60s;

    server {
        listen 127.0.0.1:%%PORT_HTTP%%;
        root %%DIR%%/html;

        add_header X-Limit-Status "[$cc_limit_status]" always;

        location /one {
            cc_limit zone=one key=$http_x_key rate=3;
        }

        location /pass {
            cc_limit zone=pass key=$http_x_key rate=2 empty_key=pass;
        }

        location /dry {
            cc_limit_dry_run on;
            cc_limit zone=dry key=$http_x_key rate=1;
        }

        location /status503 {
            cc_limit_status_code 503;
            cc_limit_log_level warn;
            cc_limit zone=s503 key=$http_x_key rate=1;
        }

        location /multi {
            cc_limit zone=m1 key=$http_x_key rate=5;
            cc_limit zone=m2 key=$http_x_user rate=2;
        }

        location /headers {
            cc_limit_headers on;
            cc_limit zone=hdr key=$http_x_key rate=5;
        }

        location /post {
            cc_limit zone=post key=$http_x_key rate=1;
        }

        location /unlimited {
            alias %%DIR%%/html/one;
        }
    }
}
EOF

my $ua = Mojo::UserAgent->new(max_redirects => 0, inactivity_timeout => 10);
my $base = 'http://127.0.0.1:' . $t->port('http');

sub req {
    my ($method, $path, $headers, $body) = @_;
    my $tx = $ua->build_tx($method => "$base$path" => $headers // {},
                           defined $body ? ($body) : ());
    return $ua->start($tx)->res;
}

sub get { req(GET => @_) }

# --- up to the limit, per key -----------------------------------------------

my @codes = map { get('/one', { 'X-Key' => 'secret-key-a' })->code } 1 .. 3;
is_deeply(\@codes, [200, 200, 200], 'three requests within a limit of 3');

my $r = get('/one', { 'X-Key' => 'secret-key-a' });
is($r->code, 429, 'the fourth is refused with 429');
is($r->headers->content_type, 'application/json', 'the refusal is JSON');
is($r->json->{error}{code}, 'rate_limited', 'its code is rate_limited');
is($r->json->{error}{limit}, 3, 'it names the limit');
is($r->json->{error}{window}, 60, 'and the window in seconds');
is($r->json->{error}{policy}, 'one', 'and the policy (the zone)');

my $retry = $r->headers->header('Retry-After');
ok(defined $retry && $retry >= 58 && $retry <= 61,
   'Retry-After is when the first requests leave the window')
    or diag "Retry-After: " . ($retry // 'none');
is($r->json->{error}{retry_after}, $retry, 'the body says the same');
is($r->headers->header('RateLimit-Policy'), '"one";q=3;w=60',
   'RateLimit-Policy names the policy, quota and window');
is($r->headers->header('RateLimit'), "\"one\";r=0;t=$retry",
   'RateLimit: nothing remains, more in Retry-After seconds');
is($r->headers->header('X-Limit-Status'), '[REJECTED]',
   '$cc_limit_status is REJECTED');

is(get('/one', { 'X-Key' => 'secret-key-b' })->code, 200,
   'another key has its own window');
is(get('/one', { 'X-Key' => 'secret-key-b' })->headers
       ->header('X-Limit-Status'), '[PASSED]', '$cc_limit_status is PASSED');
is(get('/unlimited')->headers->header('X-Limit-Status'), '[]',
   '$cc_limit_status is empty where no limit applies');

$r = req(HEAD => '/one', { 'X-Key' => 'secret-key-a' });
is($r->code, 429, 'HEAD over the limit is refused too');
is($r->body, '', 'without a body');

# --- a refused request with a body leaves the connection usable -------------

is(req(POST => '/post', { 'X-Key' => 'k' }, 'x' x 1000)->code, 405,
   'a POST within the limit reaches the static handler (405)');
$r = req(POST => '/post', { 'X-Key' => 'k' }, 'x' x 5000);
is($r->code, 429, 'a POST over the limit is refused');
is(get('/one', { 'X-Key' => 'secret-key-c' })->code, 200,
   'the next request on the connection is answered');

# --- an empty key -----------------------------------------------------------

$r = get('/one');
is($r->code, 429, 'an empty key is refused with the limit\'s status');
is($r->json->{error}{code}, 'rate_limit_key_missing',
   'its code says the key is missing');
is($r->headers->header('Retry-After'), 60, 'Retry-After is the window');
is($r->headers->header('X-Limit-Status'), '[EMPTY_KEY]',
   '$cc_limit_status is EMPTY_KEY');
ok(scalar $t->grep_log('nginx-error',
       qr/\[error\].*cc limit: the key of zone "one" is empty, refusing/),
   'the log says why, at the default level (error)');

is(get('/pass')->code, 200, 'empty_key=pass lets an empty key through');
is(get('/pass')->headers->header('X-Limit-Status'), '[PASSED]',
   'and says PASSED');
is(get('/pass', { 'X-Key' => 'p' })->code, 200, 'a key there is limited: 1');
is(get('/pass', { 'X-Key' => 'p' })->code, 200, 'a key there is limited: 2');
is(get('/pass', { 'X-Key' => 'p' })->code, 429, 'a key there is limited: 3');

# --- dry run ----------------------------------------------------------------

is(get('/dry', { 'X-Key' => 'd' })->code, 200, 'dry run: first request');
$r = get('/dry', { 'X-Key' => 'd' });
is($r->code, 200, 'dry run: the request over the limit passes');
is($r->headers->header('X-Limit-Status'), '[REJECTED_DRY_RUN]',
   'dry run: $cc_limit_status is REJECTED_DRY_RUN');
ok(!defined $r->headers->header('Retry-After'),
   'dry run: no Retry-After on a passed request');
ok(scalar $t->grep_log('nginx-error',
       qr/cc limit: would limit requests by zone "dry", 1 used of 1 \(dry/),
   'dry run: the log says what would have happened');
$r = get('/dry');
is($r->code, 200, 'dry run: an empty key passes');
is($r->headers->header('X-Limit-Status'), '[EMPTY_KEY_DRY_RUN]',
   'dry run: $cc_limit_status is EMPTY_KEY_DRY_RUN');

# --- status code and log level ----------------------------------------------

is(get('/status503', { 'X-Key' => 's' })->code, 200, 'status 503: first');
$r = get('/status503', { 'X-Key' => 's' });
is($r->code, 503, 'cc_limit_status_code 503 refuses with 503');
ok(defined $r->headers->header('Retry-After'), 'with Retry-After');
ok(scalar $t->grep_log('nginx-error',
       qr/\[warn\].*cc limit: limiting requests by zone "s503"/),
   'cc_limit_log_level warn logs refusals at warn');

# --- several limits ---------------------------------------------------------

sub multi { get('/multi', { 'X-Key' => 'mk', 'X-User' => $_[0] }) }

is(multi('u1')->code, 200, 'two limits: 1st request of user 1');
is(multi('u1')->code, 200, 'two limits: 2nd request of user 1');
$r = multi('u1');
is($r->code, 429, 'user 1 refused by its own limit of 2');
is($r->json->{error}{policy}, 'm2', 'the refusal names the limit that said no');
is(multi('u2')->code, 200, 'user 2, 1st (key: 3rd counted)');
is(multi('u2')->code, 200, 'user 2, 2nd (key: 4th counted)');
is(multi('u3')->code, 200,
   'user 3, 1st: the refused request was not counted against the key');
$r = multi('u3');
is($r->code, 429, 'the key\'s limit of 5 is reached at the 6th admitted');
is($r->json->{error}{policy}, 'm1', 'and the refusal names it');

# --- RateLimit fields on admitted requests ----------------------------------

$r = get('/headers', { 'X-Key' => 'h' });
is($r->code, 200, 'cc_limit_headers on: admitted');
is($r->headers->header('RateLimit-Policy'), '"hdr";q=5;w=60',
   'an admitted response carries RateLimit-Policy');
# t is rounded up: the request leaves the window 60 s (and a fraction of
# a millisecond) after it came
like($r->headers->header('RateLimit'), qr/^"hdr";r=4;t=6[01]$/,
   'and RateLimit: 4 remain, more when this request leaves the window');
like(get('/headers', { 'X-Key' => 'h' })->headers->header('RateLimit'),
   qr/^"hdr";r=3;t=6[01]$/, 'the next one sees 3 remain');
ok(!defined get('/one', { 'X-Key' => 'secret-key-d' })
       ->headers->header('RateLimit'),
   'without cc_limit_headers an admitted response carries no RateLimit');

# --- nothing of a key in the log --------------------------------------------

ok(!scalar $t->grep_log('nginx-error', qr/secret-key/),
   'key values never reach the log');

$t->done_testing;
