#!/usr/bin/perl

# A key rotation between two scheduled JWKS refreshes: nginx's auth module
# meets a token whose kid the registry does not hold and notes it; the
# sync sees the note in GET /registry and fetches the JWKS at once (the
# scheduled refresh is a day away), so the token is accepted seconds
# later.  Notes come faster than CC_JWKS_MIN_REFRESH_SECONDS allows
# fetches only at that pace, however many made-up kids arrive.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib", $FindBin::Bin;
use HTTP::Tiny;
use Test::More;
use Time::HiRes qw(sleep time);

use CC::Test;
use SyncKit qw(start_sim start_registry_nginx start_sync_worker registry wait_synced);

my $CONTOSO = '11111111-1111-4111-8111-111111111111';
my $MIN_REFRESH = 3;

my $t = CC::Test->new;
$t->start_pg;
my $sim = start_sim($t);
$t->sql("INSERT INTO tenants (id, name) VALUES ('$CONTOSO', 'Contoso')");

# A static file: served in the content phase, after the auth module's
# access phase has decided (a "return" would answer before it).
open my $fh, '>', $t->dir . '/ok.txt' or die $!;
print $fh "ok\n";
close $fh;

start_registry_nginx($t, <<'EOF');
        cc_auth_issuer    "https://login.microsoftonline.com/{tenantid}/v2.0";
        cc_auth_audience  api://concierge;

        location /api {
            cc_auth bearer;
            add_header X-Auth-Error $cc_auth_error always;
            add_header X-Tenant $cc_tenant_id always;
            root %%DIR%%;
            try_files /ok.txt =404;
        }
EOF
start_sync_worker($t, $sim, CC_REGISTRY_POLL_MS => 200,
                  CC_JWKS_REFRESH_SECONDS => 86400,
                  CC_JWKS_MIN_REFRESH_SECONDS => $MIN_REFRESH);
ok(wait_synced($t), 'the registry is synced');

sub signing_kid { $sim->admin(GET => '/admin/keys')->{signing} }

sub mint {
    my (%header) = @_;
    return $sim->admin(POST => '/admin/tokens', { tid => $CONTOSO, ver => '2.0',
        claims => { aud => 'api://concierge' }, %header ? (header => \%header) : () })
        ->{token};
}

sub call {
    my ($token) = @_;
    return HTTP::Tiny->new(timeout => 5)->get(
        'http://127.0.0.1:' . $t->port('http') . '/api',
        { headers => { Authorization => "Bearer $token" } });
}

sub key_fetches {
    return scalar grep { $_->{path} eq '/common/discovery/v2.0/keys' }
                  @{ $sim->admin(GET => '/admin/requests') };
}

my $k1 = signing_kid();
ok($t->eventually(sub { (registry($t, GET => "/registry/keys/$k1"))[0] == 200 }, 10),
   'the first key is in nginx');
my $r = call(mint());
is($r->{status}, 200, 'a token signed with it is accepted');
is($r->{headers}{'x-tenant'}, $CONTOSO, "for the tenant the sync put in nginx");

# --- a rotation between refreshes ----------------------------------------------------

sleep $MIN_REFRESH;     # the start-up fetch is old enough now
$sim->admin(POST => '/admin/keys/rotate', { drop_old => JSON::PP::false });
my $token = mint();
$r = call($token);
is($r->{status}, 401, 'a token signed with a key published since is refused');
is($r->{headers}{'x-auth-error'}, 'unknown_kid', 'as an unknown kid');
my $t0 = time;
ok($t->eventually(sub { call($token)->{status} == 200 }, 5),
   'then accepted, once the sync fetched the JWKS on the note');
my $took = time - $t0;
cmp_ok($took, '<', 3, 'within seconds, though the next refresh is a day away');
ok(scalar $t->grep_log('cc-worker', qr/nginx met an unknown kid/),
   'the worker says why it fetched');

# --- fetches on notes are rate-limited ---------------------------------------------

$sim->admin(DELETE => '/admin/requests');
my $t1 = time;
while (time - $t1 < $MIN_REFRESH - 1) {
    call(mint(kid => 'made-up-' . int(rand 1e9)));
    sleep 0.1;
}
is(key_fetches(), 0, "notes within $MIN_REFRESH s of the last fetch fetch nothing");
ok($t->eventually(sub { key_fetches() >= 1 }, 5),
   'the next note after that interval does');
my $fetches = key_fetches();
sleep 1;
call(mint(kid => 'made-up-again'));
sleep 1;
is(key_fetches(), $fetches, 'and another right after it does not');

$t->done_testing;
