#!/usr/bin/perl

# cc_tenant_check: the tenant's state in the registry decides, on every
# request: active passes; unknown is 403 with an onboarding hint; suspended
# is 403; offboarding and offboarded are 410; no tenant at all is 401.  On
# agent endpoints every refusal is a JSON 401 or 403 in the agent's shape,
# never 410, which would stall an agent's upload queue.  A registry change
# is what the very next request sees, and a refused tenant uses none of
# its rate limit.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use Mojo::UserAgent;
use Test::More;

use CC::Test;

my $t = CC::Test->new;

mkdir $t->dir . '/html';
for my $f (qw(api agent limited)) {
    open my $fh, '>', $t->dir . "/html/$f" or die $!;
    print $fh "welcome\n";
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

    cc_registry_zone name=registry size=1m;
    cc_limit_zone tenants size=64k window=60s;

    server {
        listen unix:%%RUN%%/registry.sock;

        location /registry {
            cc_registry_api;
        }
    }

    server {
        listen 127.0.0.1:%%PORT_HTTP%%;
        root %%DIR%%/html;

        cc_tenant_id $http_x_test_tenant;
        cc_tenant_check on;
        cc_tenant_onboarding_url https://concierge.example/onboarding;

        location /api {
        }

        location /agent {
            cc_tenant_response agent;
        }

        location /limited {
            cc_limit zone=tenants key=$http_x_test_tenant rate=1;
        }

        location /open {
            cc_tenant_check off;
            alias %%DIR%%/html/api;
        }
    }
}
EOF

my $sock = $t->dir . '/run/registry.sock';

sub registry {
    my ($method, $path, $body) = @_;
    my ($status) = CC::Stack::unix_request($sock, $method, $path, {},
        ref $body ? CC::Test::json_encode($body) : $body);
    return $status;
}

sub set_status {
    my ($tid, $status) = @_;
    my $code = registry(PUT => "/registry/tenants/$tid",
                        { status => $status, plan => 'standard' });
    return $code == 200 || $code == 201;
}

my $ua = Mojo::UserAgent->new(max_redirects => 0, inactivity_timeout => 10);
my $base = 'http://127.0.0.1:' . $t->port('http');

sub get {
    my ($path, $tenant) = @_;
    return $ua->get("$base$path" =>
                    (defined $tenant ? { 'X-Test-Tenant' => $tenant } : {}))
        ->res;
}

my $tid = '7c9e6679-7425-40de-944b-e07fc1f90ae7';

# --- every state, for people and API clients --------------------------------

my $r = get('/api', $tid);
is($r->code, 403, 'unknown tenant: 403');
is($r->headers->content_type, 'application/json', 'unknown tenant: JSON');
is($r->json->{error}{code}, 'tenant_unknown', 'unknown tenant: its code');
is($r->json->{error}{onboarding}, 'https://concierge.example/onboarding',
   'unknown tenant: where onboarding starts');

ok(set_status($tid, 'active'), 'tenant made active');
$r = get('/api', $tid);
is($r->code, 200, 'active tenant: the very next request passes');
is($r->body, "welcome\n", 'active tenant: the content');
is(get('/api', uc $tid)->code, 200, 'the tenant id in upper case is the same');

my %want = (suspended => [403, 'tenant_suspended'],
            offboarding => [410, 'tenant_offboarding'],
            offboarded => [410, 'tenant_offboarded']);

for my $state (qw(suspended offboarding offboarded)) {
    ok(set_status($tid, $state), "tenant made $state");
    $r = get('/api', $tid);
    is($r->code, $want{$state}[0], "$state tenant: $want{$state}[0]");
    is($r->json->{error}{code}, $want{$state}[1], "$state tenant: its code");
    ok(!exists $r->json->{error}{onboarding},
       "$state tenant: no onboarding hint");
}

ok(set_status($tid, 'active'), 'tenant active again');
is(get('/api', $tid)->code, 200, 'active again: passes');
is(registry(DELETE => "/registry/tenants/$tid"), 204, 'tenant deleted');
is(get('/api', $tid)->json->{error}{code}, 'tenant_unknown',
   'a deleted tenant is unknown on the next request');

$r = get('/api');
is($r->code, 401, 'no tenant at all: 401');
is($r->json->{error}{code}, 'no_tenant', 'no tenant at all: its code');
is(get('/api', 'not-a-guid')->json->{error}{code}, 'tenant_unknown',
   'a tenant id that is not a GUID is unknown');

is(get('/open', $tid)->code, 200, 'cc_tenant_check off lets anything through');

# --- the same states on an agent endpoint -----------------------------------

my %agent = (unknown => 403, suspended => 403, offboarding => 403,
             offboarded => 403);

for my $state (qw(unknown suspended offboarding offboarded)) {
    if ($state eq 'unknown') {
        registry(DELETE => "/registry/tenants/$tid");
    } else {
        set_status($tid, $state);
    }
    $r = get('/agent', $tid);
    is($r->code, $agent{$state}, "agent, $state tenant: $agent{$state}");
    is($r->headers->content_type, 'application/json',
       "agent, $state tenant: JSON, which agents read as a verdict");
    is(($r->json // {})->{success}, Mojo::JSON->false,
       "agent, $state tenant: success false");
    like(($r->json // {})->{message} // '', qr/organisation/,
         "agent, $state tenant: a message");
}

$r = get('/agent');
is($r->code, 401, 'agent, no tenant: 401');
is(($r->json // {})->{success}, Mojo::JSON->false, 'agent, no tenant: JSON');

set_status($tid, 'active');
is(get('/agent', $tid)->code, 200, 'agent, active tenant: passes');

# --- a refused tenant uses none of its rate limit ---------------------------

set_status($tid, 'suspended');
is(get('/limited', $tid)->code, 403, 'suspended: refused before the limit')
    for 1 .. 3;
set_status($tid, 'active');
is(get('/limited', $tid)->code, 200,
   'active again: its limit of 1 is still whole');
is(get('/limited', $tid)->code, 429, 'and then used up');

ok(scalar $t->grep_log('nginx-error',
       qr/cc tenant: refused: tenant_suspended, tenant $tid/),
   'refusals are logged with the reason and the tenant id');

$t->done_testing;
