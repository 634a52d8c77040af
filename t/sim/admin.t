# The process and the admin API: start-up with a --state seed file, seeding
# tenants, users, apps, secrets, subscriptions and devices at run time, key
# rotation as the resource servers see it, minted test tokens, settings and
# reset.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";

use CC::AzureSim;
use File::Temp qw(tempdir);
use MIME::Base64 qw(decode_base64url);
use Mojo::JSON qw(decode_json);
use Test::More;

my $T1 = 'aaaaaaaa-0000-4000-8000-000000000001';
my $T2 = 'aaaaaaaa-0000-4000-8000-000000000002';
my $APP = 'bbbbbbbb-0000-4000-8000-000000000001';
my $SUB = 'cccccccc-0000-4000-8000-000000000001';

my $dir = tempdir(CLEANUP => 1);
my $sim = CC::AzureSim->start(dir => $dir, state => { tenants => [
    { id => $T1, domain => 'one.example', users => [{ userPrincipalName => 'ann@one.example', roles => ['operator'] }],
      applications => [{ appId => $APP, displayName => 'seeded', secrets => [{ value => 'seeded~secret' }] }],
      subscriptions => [{ subscriptionId => $SUB, displayName => 'Seeded' }],
      autopilotDevices => [{ serialNumber => 'SEED-1' }] },
] });
my $ua  = $sim->ua;
my $url = $sim->url;

like $url, qr{^https://127\.0\.0\.1:\d+$}, 'the simulator reports its URL';
ok -s $sim->log_file, 'it writes a log';
like $sim->log_text, qr/^azure-sim: ready \Q$url\E$/m, 'with the readiness line';
is $sim->admin(GET => '/admin/health')->{status}, 'ok', 'GET /admin/health';

my $state = $sim->admin(GET => '/admin/state');
is scalar @{ $state->{tenants} }, 1, 'the --state file seeded one tenant';
is $state->{tenants}[0]{users}[0]{userPrincipalName}, 'ann@one.example', 'with its user';
like $state->{tenants}[0]{users}[0]{oid}, qr/^[0-9a-f-]{36}$/, 'users get an oid';

my $arm = $sim->token(tenant => $T1, client => $APP, secret => 'seeded~secret');
my $res = $ua->get("$url/subscriptions?api-version=2021-04-01" => { Authorization => "Bearer $arm" })->result;
is $res->json->{value}[0]{subscriptionId}, $SUB, 'a seeded app reaches its seeded subscription';

# ---- seeding at run time ---------------------------------------------------------------

my ($code, $j) = $sim->admin(POST => '/admin/tenants', { id => $T2, domain => 'two.example' });
is $code, 201, 'POST /admin/tenants';
is $j->{id}, $T2, '... returns the id';
($code) = $sim->admin(POST => '/admin/tenants', { id => 'not-a-guid' });
is $code, 400, 'a tenant id must be a GUID';
my $u = $sim->admin(POST => "/admin/tenants/$T2/users", { userPrincipalName => 'bob@two.example', roles => ['tenant_admin'] });
like $u->{oid}, qr/^[0-9a-f-]{36}$/, 'POST users';
($code) = $sim->admin(POST => '/admin/tenants/aaaaaaaa-0000-4000-8000-0000000000ff/users', { userPrincipalName => 'x@y' });
is $code, 404, 'users of an unknown tenant: 404';
my $app2 = $sim->admin(POST => "/admin/tenants/$T2/applications", { displayName => 'two-app',
    secrets => [{ value => 'two~secret', endDateTime => '2099-01-01T00:00:00Z' }] })->{appId};
like $app2, qr/^[0-9a-f-]{36}$/, 'POST applications';
$res = $ua->post("$url/$T2/oauth2/v2.0/token" => form => { client_id => $app2, client_secret => 'two~secret',
    grant_type => 'client_credentials', scope => 'https://graph.microsoft.com/.default' })->result;
is $res->code, 200, 'a new app gets tokens at once';
$sim->admin(POST => "/admin/applications/$app2/secrets", { value => 'two~rotated' });
$res = $ua->post("$url/$T2/oauth2/v2.0/token" => form => { client_id => $app2, client_secret => 'two~rotated',
    grant_type => 'client_credentials', scope => 'https://graph.microsoft.com/.default' })->result;
is $res->code, 200, 'an added secret works';
$sim->admin(POST => "/admin/tenants/$T2/autopilot-devices", { serialNumber => 'TWO-1', enrollmentState => 'enrolled' });
my $md = $sim->admin(POST => "/admin/tenants/$T2/managed-devices", { serialNumber => 'TWO-1' })->{id};
my $g = decode_json($res->body)->{access_token};
$res = $ua->get("$url/v1.0/deviceManagement/managedDevices/$md" => { Authorization => "Bearer $g" })->result;
is $res->json->{serialNumber}, 'TWO-1', 'a seeded managed device is served';
$res = $ua->get("$url/v1.0/deviceManagement/windowsAutopilotDeviceIdentities" => { Authorization => "Bearer $g" })->result;
is_deeply [map { $_->{serialNumber} } @{ $res->json->{value} }], ['TWO-1'], 'tenant 2 sees only its device';
$sim->admin(POST => "/admin/tenants/$T2/subscriptions", { subscriptionId => 'cccccccc-0000-4000-8000-000000000002',
    principals => ['dddddddd-0000-4000-8000-000000000000'] });
my $arm2 = $sim->token(tenant => $T2, client => $app2, secret => 'two~secret');
$res = $ua->get("$url/subscriptions/cccccccc-0000-4000-8000-000000000002/resourcegroups?api-version=2021-04-01"
    => { Authorization => "Bearer $arm2" })->result;
is $res->code, 403, 'a subscription with principals refuses others';
is $res->json->{error}{code}, 'AuthorizationFailed', 'AuthorizationFailed';
($code) = $sim->admin(POST => '/admin/seed', { tenants => [{ id => $T1, vaults => [{ name => 'seeded-kv' }] }] });
is $code, 201, 'POST /admin/seed merges a seed document';
ok scalar(grep { $_->{name} eq 'seeded-kv' } map { @{ $_->{vaults} } } @{ $sim->admin(GET => '/admin/state')->{tenants} }),
    'the vault exists';

# ---- key rotation -------------------------------------------------------------------------

my $old_kid = $sim->admin(GET => '/admin/keys')->{signing};
my $rot = $sim->admin(POST => '/admin/keys/rotate', {});
isnt $rot->{signing}, $old_kid, 'rotation makes a new signing key';
is scalar @{ $rot->{kids} }, 2, 'the old key is still published';
my $jwks = $ua->get("$url/common/discovery/v2.0/keys")->result->json;
is_deeply [map { $_->{kid} } @{ $jwks->{keys} }], $rot->{kids}, 'the JWKS shows both';
my $new = $sim->token(tenant => $T1, client => $APP, secret => 'seeded~secret');
is decode_json(decode_base64url((split /\./, $new)[0]))->{kid}, $rot->{signing}, 'new tokens use the new key';
is $ua->get("$url/subscriptions?api-version=2021-04-01" => { Authorization => "Bearer $arm" })->result->code, 200,
    'a token signed by the old key still verifies while the key is published';
$rot = $sim->admin(POST => '/admin/keys/rotate', { drop_old => 1 });
is scalar @{ $rot->{kids} }, 1, 'drop_old leaves only the new key';
is scalar @{ $ua->get("$url/common/discovery/keys")->result->json->{keys} }, 1, 'the v1 JWKS too';
$res = $ua->get("$url/subscriptions?api-version=2021-04-01" => { Authorization => "Bearer $arm" })->result;
is $res->code, 401, 'a token signed by a dropped key is refused';
is $res->json->{error}{code}, 'InvalidAuthenticationToken', '... InvalidAuthenticationToken';

my $staged = $sim->admin(POST => '/admin/keys');
isnt $staged->{signing}, $staged->{kid}, 'POST /admin/keys publishes a key without signing with it';
is scalar @{ $staged->{kids} }, 2, '... alongside the signing key';
my $before = $sim->token(tenant => $T1, client => $APP, secret => 'seeded~secret');
is decode_json(decode_base64url((split /\./, $before)[0]))->{kid}, $staged->{signing}, 'tokens still use the old key';
is $sim->admin(POST => "/admin/keys/$staged->{kid}/sign")->{signing}, $staged->{kid}, 'promoting makes it the signing key';
my $after = $sim->token(tenant => $T1, client => $APP, secret => 'seeded~secret');
is decode_json(decode_base64url((split /\./, $after)[0]))->{kid}, $staged->{kid}, 'new tokens use it';
is_deeply $sim->admin(POST => '/admin/keys/drop-old')->{kids}, [$staged->{kid}], 'drop-old retires the others';
is $ua->get("$url/subscriptions?api-version=2021-04-01" => { Authorization => "Bearer $before" })->result->code, 401,
    'tokens of a retired key are refused';
is $ua->get("$url/subscriptions?api-version=2021-04-01" => { Authorization => "Bearer $after" })->result->code, 200,
    'tokens of the signing key are accepted';
($code) = $sim->admin(POST => '/admin/keys/nope/sign');
is $code, 404, 'promoting an unknown key: 404';

# ---- minted tokens ------------------------------------------------------------------------

my $m = $sim->admin(POST => '/admin/tokens', { tid => $T1, ver => '1.0', expires_in => -10,
    claims => { aud => 'https://management.azure.com', oid => 'x' } });
is $m->{claims}{iss}, "https://sts.windows.net/$T1/", 'minted tokens get the issuer for their version';
cmp_ok $m->{claims}{exp}, '<', time, 'expires_in sets exp relative to now';
$m = $sim->admin(POST => '/admin/tokens', { tid => $T1, claims => { aud => 'x' }, header => { alg => 'RS256', kid => 'nope' } });
is decode_json(decode_base64url((split /\./, $m->{token})[0]))->{kid}, 'nope', 'the header can be overridden';
($code) = $sim->admin(POST => '/admin/tokens', { claims => {} });
is $code, 400, 'a token needs a tenant';

# ---- settings, unknown admin paths, reset ----------------------------------------------------

is $sim->admin(PUT => '/admin/settings', { token_lifetime => 600 })->{token_lifetime}, 600, 'settings change';
$res = $ua->post("$url/$T1/oauth2/v2.0/token" => form => { client_id => $APP, client_secret => 'seeded~secret',
    grant_type => 'client_credentials', scope => 'https://management.azure.com/.default' })->result;
is $res->json->{expires_in}, 600, 'token_lifetime applies';
($code) = $sim->admin(PUT => '/admin/settings', { no_such_setting => 1 });
is $code, 400, 'an unknown setting is refused';
($code) = $sim->admin(GET => '/admin/nothing-here');
is $code, 404, 'an unknown admin path: 404';
is $ua->get("$url/no/such/path")->result->code, 404, 'an unknown path: 404';
like $ua->get("$url/no/such/path")->result->headers->content_type, qr{application/json}, '... in JSON';

$sim->admin(POST => '/admin/reset', { demo => 1 });
$state = $sim->admin(GET => '/admin/state');
is_deeply [sort map { $_->{domain} } @{ $state->{tenants} }], ['contoso.onmicrosoft.com', 'fabrikam.onmicrosoft.com'],
    'reset with demo: the demo world only';
my @roles = map { @{ $_->{roles} } } map { @{ $_->{users} } } @{ $state->{tenants} };
for my $role (qw(global_admin tenant_admin operator user)) {
    cmp_ok scalar(grep { $_ eq $role } @roles), '>=', 2, "the demo has several users with role $role";
}

# ---- process options ----------------------------------------------------------------------

my $real = CC::AzureSim->start(dir => "$dir/real", demo => 1, public_url => 'https://localhost:1',
    v2_issuer_base => 'https://login.microsoftonline.com');
my $doc = $real->ua->get($real->url . '/common/v2.0/.well-known/openid-configuration')->result->json;
is $doc->{issuer}, 'https://login.microsoftonline.com/{tenantid}/v2.0', '--v2-issuer-base sets the v2 issuer';
is $doc->{token_endpoint}, 'https://localhost:1/common/oauth2/v2.0/token', '--public-url sets the endpoints';
$real->stop;

# ---- process handling -----------------------------------------------------------------------

my $pid = $sim->pid;
$sim->stop;
ok !kill(0, $pid), 'stop ends the process';
my $bad = eval { CC::AzureSim->start(dir => "$dir/bad", state => { tenants => [{ id => 'nope' }] }); 1 };
ok !$bad, 'a bad seed stops the start-up';
like $@, qr/cannot load the seed/, '... with the simulator\'s reason';

done_testing;
