#!/usr/bin/perl

# Real Entra-shaped tokens from the Azure simulator (tools/azure-sim):
# a client-credentials token for the platform app and minted v1/v2
# tokens, verified against the simulator's JWKS document, first as a
# static file, then as keys pushed into the registry the way cc-worker's
# sync job does; and a key rotation, seen from both.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib", $FindBin::Bin;
use JSON::PP ();
use Test::More;

use CC::AzureSim;
use CC::Test;
use AuthKit qw(start_echo nginx_conf http registry);

my $t = CC::Test->new;
my $dir = $t->dir;

my $contoso = '11111111-1111-4111-8111-111111111111';
my $fabrikam = '22222222-2222-4222-8222-222222222222';
my $app = '33333333-3333-4333-8333-333333333333';

my $sim = CC::AzureSim->start(dir => "$dir/sim", certs => $t->certs, demo => 1,
                              v2_issuer_base => 'https://login.microsoftonline.com');

sub jwks_doc {
    my ($v1) = @_;
    my $path = $v1 ? '/common/discovery/keys' : '/common/discovery/v2.0/keys';
    my $res = $sim->ua->get($sim->url . $path)->result;
    die 'JWKS: ' . $res->code . "\n" unless $res->is_success;
    return $res->json;
}

# What cc-worker's sync job does with each key of the issuers' JWKS: a kid
# that both the v1 and the v2 document list goes without an issuer of its
# own (then the configured issuers alone decide).
sub push_keys {
    my %v1 = map { $_->{kid} => 1 } @{ jwks_doc(1)->{keys} };
    for my $jwk (@{ jwks_doc()->{keys} }) {
        my $issuer = delete $jwk->{issuer};
        $issuer = '' if $v1{ $jwk->{kid} };
        registry($t, PUT => "/registry/keys/$jwk->{kid}",
                 { jwk => $jwk, issuer => $issuer, revoked => JSON::PP::false() });
    }
}

# Entra's v2 document gives each key the v2 issuer template, and lib holds
# a token's iss to its key's issuer; v1 tokens verify against the v1
# document, whose keys name no issuer.
for my $v (['jwks.json', 0], ['jwks-v1.json', 1]) {
    open my $fh, '>', "$dir/$v->[0]" or die;
    print $fh JSON::PP->new->encode(jwks_doc($v->[1]));
    close $fh;
}

start_echo($t);
$t->start_nginx(nginx_conf(<<"EOF"), wait_ports => [$t->port('http'), $t->port('echo')]);
    server {
        listen 127.0.0.1:%%PORT_HTTP%%;

        cc_auth bearer;
        cc_auth_issuer     "https://login.microsoftonline.com/{tenantid}/v2.0";
        cc_auth_issuer     "https://sts.windows.net/{tenantid}/";
        cc_auth_audience   $app;
        cc_auth_audience   api://$app;

        add_header X-Auth-Error \$cc_auth_error always;
        proxy_set_header X-CC-Tenant \$cc_tenant_id;
        proxy_set_header X-CC-User \$cc_user_id;

        location /file/ {
            cc_auth_jwks_file  %%DIR%%/jwks.json;
            proxy_pass http://echo;
        }

        location /file-v1/ {
            cc_auth_jwks_file  %%DIR%%/jwks-v1.json;
            proxy_pass http://echo;
        }

        location /registry-keys/ {
            proxy_pass http://echo;
        }
    }
EOF

registry($t, PUT => "/registry/tenants/$contoso", { status => 'active' });
push_keys();

sub get {
    my ($path, $token) = @_;
    return http($t, GET => $path, { Authorization => "Bearer $token" });
}

sub minted {
    my (%in) = @_;
    return $sim->admin(POST => '/admin/tokens', \%in)->{token};
}

my $cc = $sim->token(tenant => $contoso, client => $app,
                     secret => 'demo-platform~secret.0001', scope => "api://$app/.default");
my $v1 = minted(tid => $contoso, ver => '1.0', claims => { aud => "api://$app" });
my $v2 = minted(tid => $contoso, claims => { aud => $app, oid => '0a0b0c0d-0000-4000-8000-000000000001' });
my $other = minted(tid => $fabrikam, claims => { aud => $app });
my $foreign = minted(tid => $contoso, claims => { aud => 'https://graph.microsoft.com' });

for my $path ('/file/', '/registry-keys/') {
    my $r = get($path, $cc);
    is($r->{status}, 200, "$path: client-credentials token for the platform app");
    like($r->{body}, qr/^X-CC-Tenant: $contoso\r$/m, "$path: its tenant passed upstream");
    if ($path eq '/file/') {
        is(get($path, $v1)->{headers}{'x-auth-error'}, 'key_issuer_mismatch',
           "$path: v1 token under a key the v2 document binds to the v2 issuer");
    } else {
        is(get($path, $v1)->{status}, 200,
           "$path: v1 token under a key both documents list");
    }
    $r = get($path, $v2);
    is($r->{status}, 200, "$path: v2 token");
    like($r->{body}, qr/^X-CC-User: 0a0b0c0d-0000-4000-8000-000000000001\r$/m,
         "$path: oid passed upstream");
    is(get($path, $other)->{headers}{'x-auth-error'}, 'tenant_unknown',
       "$path: token of a tenant not onboarded");
    is(get($path, $foreign)->{headers}{'x-auth-error'}, 'bad_audience',
       "$path: token for another resource (Graph)");
}

is(get('/file-v1/', $v1)->{status}, 200, 'v1 token against the v1 key document');
is(get('/file-v1/', $v2)->{status}, 200, 'v2 token against the v1 key document');

# Entra rotates its keys: the new key signs at once, the old one is gone.
$sim->admin(POST => '/admin/keys/rotate', { drop_old => JSON::PP::true() });
my $rotated = minted(tid => $contoso, claims => { aud => $app });

is(get('/file/', $rotated)->{headers}{'x-auth-error'}, 'unknown_kid',
   'after rotation: the static file does not know the new key');
is(get('/registry-keys/', $rotated)->{headers}{'x-auth-error'}, 'unknown_kid',
   'after rotation: neither does the registry, yet');
my (undef, $status) = registry($t, GET => '/registry');
my ($kid) = map { $_->{kid} } @{ jwks_doc()->{keys} };
is($status->{unknown_kid}{kid}, $kid, 'the new kid is noted for the sync job');

push_keys();
is(get('/registry-keys/', $rotated)->{status}, 200,
   'once the sync job pushed the new key: accepted');

$sim->stop;
$t->done_testing;
