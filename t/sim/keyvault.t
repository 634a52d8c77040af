# The simulated Key Vault (secrets): the 401 challenge, tokens checked for
# audience and tenant, set/get/versions/list with paging, update, soft delete,
# recover, purge, and Key Vault's error bodies.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";

use CC::AzureSim;
use Test::More;

my $CONTOSO  = '11111111-1111-4111-8111-111111111111';
my $FABRIKAM = '22222222-2222-4222-8222-222222222222';
my $APP      = '33333333-3333-4333-8333-333333333333';
my $SECRET   = 'demo-platform~secret.0001';

my $sim = CC::AzureSim->start(demo => 1);
my $ua  = $sim->ua;
my $url = $sim->url;
my $kv  = "$url/vault/concierge-kv";
my $token = $sim->token(tenant => $CONTOSO, client => $APP, secret => $SECRET,
    scope => 'https://vault.azure.net/.default');
my %auth = (Authorization => "Bearer $token");

sub kv {
    my ($method, $path, $body, %o) = @_;
    my $api = exists $o{api} ? $o{api} : '7.4';
    my $u = Mojo::URL->new(($o{base} // $kv) . $path);
    $u->query->merge('api-version' => $api) if defined $api;
    $u->query->merge(%{ $o{query} }) if $o{query};
    my $tx = $ua->build_tx($method => $u, { %{ $o{headers} // \%auth } }, defined $body ? (json => $body) : ());
    return $ua->start($tx)->result;
}
sub err { ($_[0]->json // {})->{error} // {} }

# ---- the challenge and token checks ---------------------------------------------

my $res = kv(GET => '/secrets/x/', undef, headers => {}, api => '2025-07-01');
is $res->code, 401, 'no token: 401';
is $res->headers->www_authenticate,
    qq{Bearer authorization="$url/$CONTOSO", resource="https://vault.azure.net"},
    'the challenge names the vault tenant at the simulator\'s login URL and the resource';
is err($res)->{code}, 'Unauthorized', 'code Unauthorized';
like err($res)->{message}, qr/^AKV10000: Request is missing a Bearer or PoP token\./, 'AKV10000';

my $arm = $sim->token(tenant => $CONTOSO, client => $APP, secret => $SECRET);
$res = kv(GET => '/secrets', undef, headers => { Authorization => "Bearer $arm" });
is $res->code, 401, 'an ARM token is refused';
like err($res)->{message}, qr/^AKV10022: Invalid audience/, 'AKV10022';
my $fab = $sim->token(tenant => $FABRIKAM, client => $APP, secret => $SECRET,
    scope => 'https://vault.azure.net/.default');
$res = kv(GET => '/secrets', undef, headers => { Authorization => "Bearer $fab" });
is $res->code, 401, 'a token of another tenant is refused';
like err($res)->{message}, qr/^AKV10032: Invalid issuer/, 'AKV10032';
ok $res->headers->www_authenticate, '... with a challenge';
my $expired = $sim->admin(POST => '/admin/tokens', { tid => $CONTOSO, ver => '1.0', expires_in => -3600,
    claims => { aud => 'https://vault.azure.net' } })->{token};
is kv(GET => '/secrets', undef, headers => { Authorization => "Bearer $expired" })->code, 401,
    'an expired token is refused';
my $appid_aud = $sim->admin(POST => '/admin/tokens', { tid => $CONTOSO, ver => '1.0',
    claims => { aud => 'cfa8b339-82a2-471a-a3c9-0fc0be7a4093' } })->{token};
is kv(GET => '/secrets', undef, headers => { Authorization => "Bearer $appid_aud" })->code, 200,
    'the Key Vault app id is accepted as audience';

is kv(GET => '/secrets', undef, api => undef)->code, 400, 'no api-version: 400';
is err(kv(GET => '/secrets', undef, api => '1.0'))->{code}, 'BadParameter', 'an ancient api-version: BadParameter';
is kv(GET => '/secrets', undef, api => '2025-07-01')->code, 200, 'a current api-version is accepted';
is kv(GET => '/secrets', undef, api => '7.6-preview.2')->code, 200, 'a preview api-version is accepted';
is err(kv(GET => '/secrets', undef, base => "$url/vault/nosuchvault"))->{code}, 'VaultNotFound', 'an unknown vault';

# ---- set, get, versions ---------------------------------------------------------------

$res = kv(PUT => '/secrets/sp-fabrikam', { value => 's3cr3t~1', contentType => 'text/plain',
    tags => { tenant => 'fabrikam' }, attributes => { exp => 1900000000, nbf => 1700000000 } });
is $res->code, 200, 'set: 200';
my $b = $res->json;
is $b->{value}, 's3cr3t~1', 'set returns the value';
like $b->{id}, qr{^\Q$kv\E/secrets/sp-fabrikam/[0-9a-f]{32}$}, 'id carries a 32-hex version';
is $b->{contentType}, 'text/plain', 'contentType';
is_deeply $b->{tags}, { tenant => 'fabrikam' }, 'tags';
is $b->{attributes}{exp}, 1900000000, 'exp';
is $b->{attributes}{nbf}, 1700000000, 'nbf';
ok $b->{attributes}{enabled}, 'enabled by default';
like $b->{attributes}{created}, qr/^\d{10}$/, 'created is Unix seconds';
is $b->{attributes}{updated}, $b->{attributes}{created}, 'updated';
is $b->{attributes}{recoveryLevel}, 'Recoverable+Purgeable', 'recoveryLevel';
is $b->{attributes}{recoverableDays}, 90, 'recoverableDays';
my ($v1) = $b->{id} =~ m{/([0-9a-f]{32})$};

my $v2 = (kv(PUT => '/secrets/sp-fabrikam', { value => 's3cr3t~2' })->json->{id} =~ m{/([0-9a-f]{32})$})[0];
isnt $v2, $v1, 'a second set makes a new version';
is kv(GET => '/secrets/sp-fabrikam')->json->{value}, 's3cr3t~2', 'get returns the latest';
is kv(GET => '/secrets/sp-fabrikam/')->json->{value}, 's3cr3t~2', 'get with an empty version (trailing slash) too';
is kv(GET => "/secrets/sp-fabrikam/$v1")->json->{value}, 's3cr3t~1', 'get by version';
$res = kv(GET => '/secrets/missing');
is $res->code, 404, 'a missing secret: 404';
is err($res)->{code}, 'SecretNotFound', 'SecretNotFound';
like err($res)->{message}, qr/^A secret with \(name\/id\) missing was not found in this key vault/, 'its message';
is err(kv(GET => '/secrets/sp-fabrikam/0123456789abcdef0123456789abcdef'))->{code}, 'SecretNotFound',
    'a missing version: SecretNotFound';
is err(kv(PUT => '/secrets/bad_name', { value => 'x' }))->{code}, 'BadParameter', 'an invalid name: BadParameter';
is err(kv(PUT => '/secrets/novalue', { contentType => 'x' }))->{code}, 'BadParameter', 'no value: BadParameter';

$res = kv(GET => '/secrets/sp-fabrikam/versions');
is scalar @{ $res->json->{value} }, 2, 'two versions listed';
ok !exists $res->json->{value}[0]{value}, 'lists carry no values';
like $res->json->{value}[0]{id}, qr{/secrets/sp-fabrikam/[0-9a-f]{32}$}, 'version items carry the version';

$res = kv(PATCH => "/secrets/sp-fabrikam/$v2", { attributes => { enabled => \0 }, tags => { a => 'b' } });
is $res->code, 200, 'update: 200';
ok !exists $res->json->{value}, 'update returns no value';
ok !$res->json->{attributes}{enabled}, 'disabled';
$res = kv(GET => '/secrets/sp-fabrikam');
is $res->code, 403, 'a disabled secret cannot be read';
is err($res)->{innererror}{code}, 'SecretDisabled', 'innererror SecretDisabled';
kv(PATCH => "/secrets/sp-fabrikam/$v2", { attributes => { enabled => \1 } });
is kv(GET => '/secrets/sp-fabrikam')->code, 200, 're-enabled';

# ---- paging -----------------------------------------------------------------------------

kv(PUT => "/secrets/page-$_", { value => "v$_" }) for 1 .. 5;
$res = kv(GET => '/secrets', undef, query => { maxresults => 2 });
is scalar @{ $res->json->{value} }, 2, 'maxresults bounds a page';
my @names;
my $next = $res->json->{nextLink};
push @names, map { $_->{id} =~ m{/secrets/([^/]+)$} } @{ $res->json->{value} };
like $next, qr/\$skiptoken=.+&maxresults=2/, 'nextLink carries $skiptoken and maxresults';
while ($next) {
    $res = $ua->get($next => \%auth)->result;
    push @names, map { $_->{id} =~ m{/secrets/([^/]+)$} } @{ $res->json->{value} };
    $next = $res->json->{nextLink};
}
is_deeply [sort @names], [sort('sp-fabrikam', map { "page-$_" } 1 .. 5)], 'following nextLink lists every secret once';
ok exists $res->json->{nextLink} && !defined $res->json->{nextLink}, 'the last page has nextLink null';
is err(kv(GET => '/secrets', undef, query => { maxresults => 26 }))->{code}, 'BadParameter', 'maxresults above 25 is refused';

# ---- soft delete, recover, purge ------------------------------------------------------

$res = kv(DELETE => '/secrets/sp-fabrikam');
is $res->code, 200, 'delete: 200';
$b = $res->json;
is $b->{recoveryId}, "$kv/deletedsecrets/sp-fabrikam", 'DeletedSecretBundle recoveryId';
like $b->{deletedDate}, qr/^\d{10}$/, 'deletedDate';
is $b->{scheduledPurgeDate}, $b->{deletedDate} + 90 * 86400, 'scheduledPurgeDate 90 days later';
ok !exists $b->{value}, 'no value in the deleted bundle';
is err(kv(GET => '/secrets/sp-fabrikam'))->{code}, 'SecretNotFound', 'a deleted secret is not found';
$res = kv(PUT => '/secrets/sp-fabrikam', { value => 'again' });
is $res->code, 409, 'setting a soft-deleted name: 409';
is err($res)->{code}, 'Conflict', 'Conflict';
is err($res)->{innererror}{code}, 'ObjectIsDeletedButRecoverable', 'ObjectIsDeletedButRecoverable';
$res = kv(GET => '/deletedsecrets/sp-fabrikam');
is $res->code, 200, 'get deleted';
is $res->json->{recoveryId}, "$kv/deletedsecrets/sp-fabrikam", '... its recoveryId';
is scalar @{ kv(GET => '/deletedsecrets')->json->{value} }, 1, 'deleted secrets are listed';
$res = kv(POST => '/deletedsecrets/sp-fabrikam/recover');
is $res->code, 200, 'recover: 200';
like $res->json->{id}, qr{/secrets/sp-fabrikam/$v2$}, 'recover returns the latest version';
is kv(GET => '/secrets/sp-fabrikam')->json->{value}, 's3cr3t~2', 'the recovered secret reads again';
is err(kv(POST => '/deletedsecrets/sp-fabrikam/recover'))->{code}, 'SecretNotFound', 'recovering twice: SecretNotFound';

kv(DELETE => '/secrets/sp-fabrikam');
$res = kv(DELETE => '/deletedsecrets/sp-fabrikam');
is $res->code, 204, 'purge: 204';
is kv(GET => '/deletedsecrets/sp-fabrikam')->code, 404, 'purged: gone from deleted secrets';
is kv(PUT => '/secrets/sp-fabrikam', { value => 'fresh' })->code, 200, 'the name is free again after purge';
is err(kv(DELETE => '/secrets/never'))->{code}, 'SecretNotFound', 'deleting a missing secret: SecretNotFound';

# ---- the default vault at the root ---------------------------------------------------

$res = kv(GET => '/secrets/sp-fabrikam', undef, base => $url);
is $res->json->{value}, 'fresh', 'the default vault answers at the origin\'s root';
like $res->json->{id}, qr{^https://127\.0\.0\.1:\d+/secrets/sp-fabrikam/[0-9a-f]{32}$},
    'ids at the root have the SDK-parsable form https://host/secrets/name/version';
is $sim->admin(GET => '/admin/vaults/concierge-kv/secrets')->{secrets}{'sp-fabrikam'}{value}, 'fresh',
    'the admin API can peek at a vault';

done_testing;
