# The simulated Entra ID: discovery documents, JWKS and key rotation, the
# client-credentials and authorization-code flows, and AADSTS error bodies.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";

use CC::AzureSim;
use Digest::SHA qw(sha256);
use MIME::Base64 qw(encode_base64url decode_base64url);
use Mojo::DOM;
use Mojo::JSON qw(decode_json);
use Mojo::URL;
use Test::More;

my $CONTOSO  = '11111111-1111-4111-8111-111111111111';
my $FABRIKAM = '22222222-2222-4222-8222-222222222222';
my $PLATFORM = '33333333-3333-4333-8333-333333333333';
my $FAB_APP  = '55555555-5555-4555-8555-555555555555';
my $FAB_SECRET = 'demo-fabrikam~deploy.0001';
my $PLATFORM_SECRET = 'demo-platform~secret.0001';
my $REDIRECT = 'https://localhost/auth/callback';

my $sim = CC::AzureSim->start(demo => 1);
my $ua  = $sim->ua;
my $url = $sim->url;

sub get_json { my $res = $ua->get($url . shift)->result; ($res, $res->json) }
sub token_req { $ua->post("$url/$_[0]/oauth2/v2.0/token" => form => $_[1])->result }
sub claims_of { decode_json(decode_base64url((split /\./, shift)[1])) }
sub header_of { decode_json(decode_base64url((split /\./, shift)[0])) }

sub is_aad_error {
    my ($res, $status, $error, $code, $name) = @_;
    my $j = $res->json // {};
    is $res->code, $status, "$name: HTTP $status";
    is $j->{error}, $error, "$name: error $error";
    is_deeply $j->{error_codes}, [$code], "$name: error_codes [$code]";
    like $j->{error_description} // '', qr/\AAADSTS$code: .+\r\nTrace ID: [0-9a-f-]{36}\r\nCorrelation ID: [0-9a-f-]{36}\r\nTimestamp: \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ\z/s,
        "$name: error_description in Entra's shape";
}

# ---- discovery ----------------------------------------------------------------

my ($res, $doc) = get_json('/common/v2.0/.well-known/openid-configuration');
is $res->code, 200, 'common v2 discovery answers';
is $doc->{issuer}, "$url/{tenantid}/v2.0", 'common v2 issuer keeps the literal {tenantid} template';
is $doc->{jwks_uri}, "$url/common/discovery/v2.0/keys", 'common v2 jwks_uri';
is $doc->{token_endpoint}, "$url/common/oauth2/v2.0/token", 'common v2 token endpoint';
is_deeply $doc->{id_token_signing_alg_values_supported}, ['RS256'], 'RS256 only';

(undef, $doc) = get_json('/organizations/v2.0/.well-known/openid-configuration');
is $doc->{issuer}, "$url/{tenantid}/v2.0", 'organizations v2 issuer is the template too';

(undef, $doc) = get_json("/$CONTOSO/v2.0/.well-known/openid-configuration");
is $doc->{issuer}, "$url/$CONTOSO/v2.0", 'tenant v2 issuer is literal';
is $doc->{authorization_endpoint}, "$url/$CONTOSO/oauth2/v2.0/authorize", 'tenant authorize endpoint';

(undef, $doc) = get_json('/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration');
is $doc->{issuer}, "$url/$CONTOSO/v2.0", 'a tenant named by its domain resolves to its GUID';

(undef, $doc) = get_json('/common/.well-known/openid-configuration');
is $doc->{issuer}, 'https://sts.windows.net/{tenantid}/', 'common v1 issuer template (trailing slash)';
is $doc->{jwks_uri}, "$url/common/discovery/keys", 'v1 jwks_uri';
(undef, $doc) = get_json("/$FABRIKAM/.well-known/openid-configuration");
is $doc->{issuer}, "https://sts.windows.net/$FABRIKAM/", 'tenant v1 issuer is literal';

($res, $doc) = get_json('/00000000-0000-4000-8000-000000000009/v2.0/.well-known/openid-configuration');
is_aad_error($res, 400, 'invalid_tenant', 90002, 'discovery for an unknown tenant');

# ---- JWKS ---------------------------------------------------------------------

my ($r2, $v2) = get_json('/common/discovery/v2.0/keys');
my ($r1, $v1) = get_json('/common/discovery/keys');
is $r2->code, 200, 'v2 JWKS answers';
is scalar @{ $v2->{keys} }, 1, 'one key at start-up';
my $k = $v2->{keys}[0];
is $k->{kty}, 'RSA', 'RSA key';
is $k->{use}, 'sig', 'signing key';
is $k->{e}, 'AQAB', 'exponent 65537';
cmp_ok length(decode_base64url($k->{n})), '==', 256, 'RSA-2048 modulus';
is $k->{x5t}, $k->{kid}, 'kid equals x5t, as Entra publishes';
is $k->{x5t}, encode_base64url(Digest::SHA::sha1(MIME::Base64::decode_base64($k->{x5c}[0]))),
    'x5t is the SHA-1 thumbprint of x5c[0]';
is $k->{issuer}, "$url/{tenantid}/v2.0", 'v2 keys carry the issuer template';
ok !exists $v1->{keys}[0]{issuer}, 'v1 keys carry no issuer';
(undef, $doc) = get_json("/$CONTOSO/discovery/v2.0/keys");
is $doc->{keys}[0]{issuer}, "$url/$CONTOSO/v2.0", 'tenant JWKS carries the literal issuer';

# ---- client credentials ----------------------------------------------------------

my %cc = (client_id => $FAB_APP, client_secret => $FAB_SECRET, grant_type => 'client_credentials',
          scope => 'https://management.azure.com/.default');
$res = token_req($FABRIKAM, \%cc);
is $res->code, 200, 'client credentials succeed';
my $j = $res->json;
is $j->{token_type}, 'Bearer', 'token_type Bearer';
is $j->{expires_in}, 3599, 'expires_in 3599';
is $j->{ext_expires_in}, 3599, 'ext_expires_in 3599';
ok !exists $j->{refresh_token}, 'no refresh token in client credentials';
my $arm_token = $j->{access_token};
my $c = claims_of($arm_token);
is $c->{aud}, 'https://management.azure.com', 'aud is the resource';
is $c->{iss}, "https://sts.windows.net/$FABRIKAM/", 'v1 issuer for a first-party resource';
is $c->{ver}, '1.0', 'ver 1.0';
is $c->{tid}, $FABRIKAM, 'tid';
is $c->{appid}, $FAB_APP, 'appid is the client';
is $c->{idtyp}, 'app', 'app-only token';
like $c->{oid}, qr/\A[0-9a-f-]{36}\z/, 'oid is the service principal';
is $c->{sub}, $c->{oid}, 'sub equals oid for app tokens';
ok $c->{exp} - $c->{iat} == 3599 && $c->{nbf} == $c->{iat}, 'iat, nbf, exp consistent';
my $h = header_of($arm_token);
is $h->{alg}, 'RS256', 'RS256';
is $h->{kid}, $k->{kid}, 'signed with the published key';

$res = $ua->post("$url/$FABRIKAM/oauth2/v2.0/token" => { Authorization => 'Basic '
    . MIME::Base64::encode_base64("$FAB_APP:" . Mojo::Util::url_escape($FAB_SECRET), '') }
    => form => { grant_type => 'client_credentials', scope => 'https://vault.azure.net/.default' })->result;
is $res->code, 200, 'HTTP Basic client authentication works';
is claims_of($res->json->{access_token})->{aud}, 'https://vault.azure.net', 'Key Vault audience';

$res = token_req($FABRIKAM, { %cc, scope => 'https://graph.microsoft.com/.default' });
ok grep({ $_ eq 'DeviceManagementServiceConfig.Read.All' } @{ claims_of($res->json->{access_token})->{roles} }),
    'Graph app token carries application permissions in roles';

$res = token_req($FABRIKAM, { %cc, client_secret => 'not-it' });
is_aad_error($res, 401, 'invalid_client', 7000215, 'wrong secret');
$j = $res->json;
like $j->{timestamp}, qr/\A\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ\z/, 'timestamp format';
like $j->{trace_id}, qr/\A[0-9a-f-]{36}\z/, 'trace_id';
like $j->{correlation_id}, qr/\A[0-9a-f-]{36}\z/, 'correlation_id';
is $j->{error_uri}, "$url/error?code=7000215", 'error_uri';

my $keyid = $sim->admin(POST => "/admin/applications/$FAB_APP/secrets",
    { value => 'expired-secret~0001', endDateTime => '2020-01-01T00:00:00Z' })->{keyId};
$res = token_req($FABRIKAM, { %cc, client_secret => 'expired-secret~0001' });
is_aad_error($res, 401, 'invalid_client', 7000222, 'expired secret');
like $res->json->{error_description}, qr/client secret keys for app '$FAB_APP' are expired/,
    'expired secret names the app';
$res = token_req($FABRIKAM, { %cc, client_secret => $keyid });
is_aad_error($res, 401, 'invalid_client', 7000215, 'the secret ID instead of its value');

$res = token_req('00000000-0000-4000-8000-00000000dead', \%cc);
is_aad_error($res, 400, 'invalid_request', 90002, 'unknown tenant');
$res = token_req($FABRIKAM, { %cc, client_id => '00000000-0000-4000-8000-0000000000aa' });
is_aad_error($res, 400, 'unauthorized_client', 700016, 'unknown app');
$res = token_req($CONTOSO, \%cc);
is_aad_error($res, 400, 'unauthorized_client', 700016, 'app of another tenant without consent');
$res = token_req($FABRIKAM, { %cc, scope => 'https://management.azure.com/.default https://vault.azure.net/.default' });
is_aad_error($res, 400, 'invalid_scope', 70011, 'two resources in one request');
$res = token_req($FABRIKAM, { %cc, scope => 'https://management.azure.com/user_impersonation' });
is_aad_error($res, 400, 'invalid_scope', 70011, 'a scope without /.default');
$res = token_req($FABRIKAM, { %cc, scope => 'https://example.invalid/.default' });
is_aad_error($res, 400, 'invalid_resource', 500011, 'an unknown resource');
$res = token_req($FABRIKAM, { %cc, client_secret => undef });
is_aad_error($res, 401, 'invalid_client', 7000218, 'no secret at all');
$res = token_req($FABRIKAM, { %cc, grant_type => undef });
is_aad_error($res, 400, 'invalid_request', 900144, 'no grant_type');
$res = $ua->post("$url/$FABRIKAM/oauth2/v2.0/token" => { 'client-request-id' => '0a0b0c0d-0000-4000-8000-000000000001' }
    => form => { %cc, client_secret => 'x' })->result;
is $res->json->{correlation_id}, '0a0b0c0d-0000-4000-8000-000000000001', 'client-request-id becomes the correlation id';

$res = token_req($FABRIKAM, { %cc, client_id => $PLATFORM, client_secret => $PLATFORM_SECRET,
    scope => 'https://graph.microsoft.com/.default' });
is $res->code, 200, 'the multi-tenant platform app gets tokens in a consenting tenant';
is claims_of($res->json->{access_token})->{tid}, $FABRIKAM, '... for that tenant';

$res = $ua->post("$url/$FABRIKAM/oauth2/token" => form => { client_id => $FAB_APP, client_secret => $FAB_SECRET,
    grant_type => 'client_credentials', resource => 'https://management.azure.com/' })->result;
is $res->code, 200, 'the v1 token endpoint takes resource=';
is claims_of($res->json->{access_token})->{aud}, 'https://management.azure.com/', '... and keeps its form in aud';

# ---- authorization code + PKCE -----------------------------------------------------

my $verifier  = 'v' x 50;
my $challenge = encode_base64url(sha256($verifier));
my %authz = (client_id => $PLATFORM, response_type => 'code', redirect_uri => $REDIRECT,
    scope => 'openid profile email offline_access', state => 'st-1', nonce => 'n-1',
    code_challenge => $challenge, code_challenge_method => 'S256');
my $authorize = Mojo::URL->new("$url/$CONTOSO/oauth2/v2.0/authorize");

$res = $ua->get($authorize->clone->query(%authz))->result;
is $res->code, 200, 'authorize shows the sign-in page';
like $res->headers->content_type, qr{text/html}, 'as HTML';
my $dom = Mojo::DOM->new($res->body);
my @buttons = $dom->find('button[name=login_user]')->each;
ok scalar(grep { $_->text =~ /Gina Global/ } @buttons), 'the page lists Contoso users';
ok !grep({ $_->text =~ /Tom Tenant/ } @buttons), 'and not users of another tenant';
like $res->body, qr/global_admin/, 'roles are shown';
my ($gina) = grep { $_->text =~ /Gina Global/ } @buttons;
my %form = map { ($_->attr('name') => $_->attr('value')) } $dom->find('input[type=hidden]')->each;
is $form{nonce}, 'n-1', 'the form carries the request through';

sub sign_in {
    my (%p) = @_;
    my $who = delete $p{login_user};
    my $res = $ua->post("$url/$CONTOSO/oauth2/v2.0/authorize" => form => { %p, login_user => $who })->result;
    return ($res, Mojo::URL->new($res->headers->location // ''));
}
my ($sres, $loc) = sign_in(%form, login_user => $gina->attr('value'));
is $sres->code, 302, 'signing in redirects';
is $loc->clone->query(Mojo::Parameters->new)->to_string, $REDIRECT, 'to the registered redirect URI';
is $loc->query->param('state'), 'st-1', 'state comes back';
my $code = $loc->query->param('code');
ok length $code, 'with a code';

my %redeem = (grant_type => 'authorization_code', client_id => $PLATFORM, client_secret => $PLATFORM_SECRET,
    code => $code, redirect_uri => $REDIRECT, code_verifier => $verifier);
$res = token_req($CONTOSO, \%redeem);
is $res->code, 200, 'the code is redeemed';
$j = $res->json;
my $id = claims_of($j->{id_token});
is $id->{aud}, $PLATFORM, 'ID token aud is the client';
is $id->{iss}, "$url/$CONTOSO/v2.0", 'ID token issuer (v2, literal tenant)';
is $id->{ver}, '2.0', 'ID token ver 2.0';
is $id->{tid}, $CONTOSO, 'ID token tid';
is $id->{nonce}, 'n-1', 'ID token nonce';
is $id->{preferred_username}, 'gina.admin@contoso.onmicrosoft.com', 'preferred_username';
is $id->{name}, 'Gina Global', 'name';
is_deeply $id->{roles}, ['global_admin'], 'roles';
like $id->{oid}, qr/\A[0-9a-f-]{36}\z/, 'oid';
isnt $id->{sub}, $id->{oid}, 'sub is pairwise, not the oid';
is header_of($j->{id_token})->{kid}, $k->{kid}, 'ID token signed with the published key';
ok length $j->{refresh_token}, 'offline_access gives a refresh token';
is claims_of($j->{access_token})->{aud}, '00000003-0000-0000-c000-000000000000',
    'without an API scope the access token is for Graph';

$res = token_req($CONTOSO, \%redeem);
is_aad_error($res, 400, 'invalid_grant', 54005, 'a code is single-use');

$res = token_req($CONTOSO, { grant_type => 'refresh_token', client_id => $PLATFORM,
    client_secret => $PLATFORM_SECRET, refresh_token => $j->{refresh_token}, scope => 'openid' });
is $res->code, 200, 'the refresh token works';

sub fresh_code {
    my (%extra) = @_;
    my (undef, $loc) = sign_in(%authz, login_user => 'omar.ops@contoso.onmicrosoft.com', %extra);
    return $loc->query->param('code');
}
$res = token_req($CONTOSO, { %redeem, code => fresh_code(), code_verifier => 'w' x 50 });
is_aad_error($res, 400, 'invalid_grant', 501481, 'a wrong code_verifier');
$res = token_req($CONTOSO, { %redeem, code => fresh_code(), code_verifier => undef });
is_aad_error($res, 400, 'invalid_grant', 501481, 'a missing code_verifier');
$res = token_req($CONTOSO, { %redeem, code => fresh_code(), redirect_uri => 'https://localhost/other' });
is_aad_error($res, 400, 'invalid_grant', 500112, 'a different redirect_uri');
$res = token_req($CONTOSO, { %redeem, code => fresh_code(), client_secret => 'nope' });
is_aad_error($res, 401, 'invalid_client', 7000215, 'a wrong secret on redemption');
$res = token_req($CONTOSO, { %redeem, code => 'garbage' });
is_aad_error($res, 400, 'invalid_grant', 9002313, 'an unknown code');

$sim->admin(PUT => '/admin/settings', { code_lifetime => -1 });
$res = token_req($CONTOSO, { %redeem, code => fresh_code() });
is_aad_error($res, 400, 'invalid_grant', 70008, 'an expired code');
$sim->admin(PUT => '/admin/settings', { code_lifetime => 300 });

my $api_code = fresh_code(scope => "openid api://$PLATFORM/access_as_user");
$res = token_req($CONTOSO, { %redeem, code => $api_code });
my $at = claims_of($res->json->{access_token});
is $at->{aud}, $PLATFORM, 'an API scope gives a token for the app (v2 aud = client id)';
is $at->{ver}, '2.0', 'in the app\'s accessTokenVersion';
is $at->{iss}, "$url/$CONTOSO/v2.0", 'with the v2 issuer';
is $at->{scp}, 'access_as_user', 'scp carries the delegated scope';
is_deeply $at->{roles}, ['operator'], 'roles carry the user\'s app roles';
is $at->{azp}, $PLATFORM, 'azp is the client';

$res = $ua->get($authorize->clone->query(%authz, redirect_uri => 'https://evil.example/cb'))->result;
is $res->code, 400, 'an unregistered redirect URI is refused';
like $res->body, qr/AADSTS50011/, 'with AADSTS50011 on the page';
ok !$res->headers->location, 'and no redirect';
$res = $ua->get($authorize->clone->query(%authz, client_id => '00000000-0000-4000-8000-0000000000bb'))->result;
like $res->body, qr/AADSTS700016/, 'an unknown client is refused with AADSTS700016';
$res = $ua->get($authorize->clone->query(%authz, redirect_uri => 'http://localhost:5599/auth/callback',
    sim_login => 'uma.user@contoso.onmicrosoft.com'))->result;
is $res->code, 302, 'a loopback redirect URI matches whatever its port';
like $res->headers->location, qr{\Ahttp://localhost:5599/auth/callback\?}, '... and is used as given';
$res = $ua->get($authorize->clone->query(%authz, code_challenge_method => 'plain',
    sim_login => 'uma.user@contoso.onmicrosoft.com'))->result;
my $err = Mojo::URL->new($res->headers->location)->query;
is $err->param('error'), 'invalid_request', 'a non-S256 challenge method is an error at the redirect URI';
is $err->param('state'), 'st-1', '... with the state';
$res = $ua->get($authorize->clone->query(%authz, response_mode => 'form_post',
    sim_login => 'uma.user@contoso.onmicrosoft.com'))->result;
$dom = Mojo::DOM->new($res->body);
is $dom->at('form')->attr('action'), $REDIRECT, 'form_post posts to the redirect URI';
ok $dom->at('input[name=code]'), '... a code';
$res = $ua->get($authorize->clone->query(%authz, sim_login => 'tom.tenant@fabrikam.onmicrosoft.com'))->result;
like $res->body, qr/AADSTS50034/, 'a user of another tenant cannot sign in at this tenant';

$res = $ua->get(Mojo::URL->new("$url/organizations/oauth2/v2.0/authorize")->query(%authz,
    sim_login => 'tom.tenant@fabrikam.onmicrosoft.com'))->result;
my $fab_code = Mojo::URL->new($res->headers->location)->query->param('code');
$res = token_req('organizations', { %redeem, code => $fab_code });
is claims_of($res->json->{id_token})->{tid}, $FABRIKAM,
    'through organizations, a user of another tenant signs in to the multi-tenant app';
is claims_of($res->json->{id_token})->{iss}, "$url/$FABRIKAM/v2.0", '... with that tenant\'s issuer';

my $T3 = 'aaaaaaaa-0000-4000-8000-000000000003';
$sim->admin(POST => '/admin/tenants', { id => $T3, domain => 'three.example',
    users => [{ userPrincipalName => 'zoe@three.example', roles => ['tenant_admin'] }] });
$res = $ua->get(Mojo::URL->new("$url/$T3/oauth2/v2.0/authorize")->query(%authz,
    sim_login => 'zoe@three.example'))->result;
my $t3_code = Mojo::URL->new($res->headers->location)->query->param('code');
ok $t3_code, 'a user of a new tenant signs in to the multi-tenant app at that tenant';
$res = token_req($T3, { %redeem, code => $t3_code });
is $res->code, 200, '... and the code redeems there (signing in consented)';
is claims_of($res->json->{id_token})->{tid}, $T3, '... for that tenant';

done_testing;
