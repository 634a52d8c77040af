#!/usr/bin/perl

# cc_limit_response agent: on agent endpoints a refusal takes the shape the
# agent protocol gives for a rate limit (agent-protocol.md section 3, step
# 6): 429, Retry-After and {success:false, message, rateLimitExceeded,
# rateLimitInfo{...}}.  The agent retries 429 as transient and keeps its
# batch (section 7); any other 4xx would stall its upload queue, so nginx -t
# refuses an agent response with such a status.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use Mojo::UserAgent;
use Test::More;

use CC::Test;

my $t = CC::Test->new;

mkdir $t->dir . '/html';
mkdir $t->dir . '/html/api';
mkdir $t->dir . '/html/api/agent';
for my $f (qw(telemetry config)) {
    open my $fh, '>', $t->dir . "/html/api/agent/$f" or die $!;
    print $fh "{}\n";
    close $fh;
}

my $template = <<'EOF';
%%USER%%
load_module %%MODULE%%;
error_log %%DIR%%/logs/nginx-error.log info;
pid %%DIR%%/run/nginx.pid;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path %%DIR%%/tmp;

    cc_limit_zone agent size=64k window=60s;
    cc_limit_zone config size=64k window=60s;

    server {
        listen 127.0.0.1:%%PORT_HTTP%%;
        root %%DIR%%/html;

        location /api/agent/ {
            cc_limit_response agent;
            cc_limit zone=agent key=$http_x_device rate=2;

            location /api/agent/config {
                cc_limit_status_code 503;
                cc_limit zone=config key=$http_x_device rate=1;
            }
        }
    }
}
EOF

$t->start_nginx($template, wait_ports => [$t->port('http')]);

my $ua = Mojo::UserAgent->new(max_redirects => 0, inactivity_timeout => 10);
my $base = 'http://127.0.0.1:' . $t->port('http');

sub get {
    my ($path, $device) = @_;
    return $ua->get("$base$path" =>
                    (defined $device ? { 'X-Device' => $device } : {}))->res;
}

is(get('/api/agent/telemetry', 'dev-1')->code, 200, 'first upload admitted');
is(get('/api/agent/telemetry', 'dev-1')->code, 200, 'second upload admitted');

my $r = get('/api/agent/telemetry', 'dev-1');
is($r->code, 429, 'the third is refused with 429, which agents retry');
is($r->headers->content_type, 'application/json', 'as JSON');

my $b = $r->json // {};
is($b->{success}, Mojo::JSON->false, 'success is false');
is($b->{rateLimitExceeded}, Mojo::JSON->true, 'rateLimitExceeded is true');
ok(length($b->{message} // ''), 'there is a message');
is($b->{rateLimitInfo}{maxRequests}, 2, 'rateLimitInfo.maxRequests');
is($b->{rateLimitInfo}{requestsInWindow}, 2, 'rateLimitInfo.requestsInWindow');
is($b->{rateLimitInfo}{windowDurationSeconds}, 60,
   'rateLimitInfo.windowDurationSeconds');
ok($b->{rateLimitInfo}{retryAfterSeconds} >= 58,
   'rateLimitInfo.retryAfterSeconds');
is($b->{rateLimitInfo}{retryAfterSeconds}, $r->headers->header('Retry-After'),
   'the same as the Retry-After header');
is($r->headers->header('RateLimit-Policy'), '"agent";q=2;w=60',
   'RateLimit-Policy is there too');
ok(!exists $b->{error}, 'no "error" member in the agent shape');

$r = get('/api/agent/telemetry');
is($r->code, 429, 'an agent request without a key: 429, transient to agents');
is(($r->json // {})->{rateLimitExceeded}, Mojo::JSON->true,
   'in the agent shape');

is(get('/api/agent/config', 'dev-2')->code, 200, 'config: first admitted');
$r = get('/api/agent/config', 'dev-2');
is($r->code, 503, 'config: cc_limit_status_code 503 is allowed for agents');
ok($r->headers->header('Retry-After') >= 58, 'with Retry-After, which the '
   . 'config fetch honours on 503');

# --- nginx -t ----------------------------------------------------------------

my $n = 0;

sub check {
    my ($status) = @_;
    (my $conf = $template) =~ s/cc_limit_status_code 503;/$status/;
    my $file = $t->dir . '/check-' . ++$n . '.conf';
    open my $fh, '>', $file or die $!;
    print $fh $t->expand($conf);
    close $fh;
    my ($dir, $log) = ($t->dir, $t->log('check'));
    my $out = qx{nginx -t -p '$dir/' -c '$file' -e '$log' 2>&1};
    return ($? >> 8, $out);
}

for my $code (403, 410, 400) {
    my ($rc, $out) = check("cc_limit_status_code $code;");
    isnt($rc, 0, "nginx -t refuses an agent response with status $code");
    my $needs = qr/"cc_limit_response agent" needs "cc_limit_status_code"/;
    like($out, qr/$needs 429 or 5xx, not $code/,
         "and says why ($code)");
}

my ($rc, $out) = check('cc_limit_status_code 429;');
is($rc, 0, 'nginx -t accepts 429 for agents') or diag $out;

$t->done_testing;
