# Conformance: Microsoft's own SDK clients (@azure/identity,
# @azure/keyvault-secrets, @azure/arm-resources) and plain HTTP to Graph,
# pointed at the simulator by base URL only, as the reference's section 9
# describes.  If they work here, our wire formats are the ones they expect.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";

use CC::AzureSim;
use Mojo::JSON qw(decode_json);
use MIME::Base64 qw(decode_base64url);
use Test::More;

my $DIR = CC::AzureSim->root . '/tools/azure-sim/conformance';
plan skip_all => "conformance clients not installed: run 'npm ci' in tools/azure-sim/conformance"
    unless -d "$DIR/node_modules/\@azure/identity" && -d "$DIR/node_modules/\@azure/keyvault-secrets"
        && -d "$DIR/node_modules/\@azure/arm-resources";
plan skip_all => 'node is not installed' unless `node --version 2>/dev/null` =~ /^v\d+/;

my $CONTOSO  = '11111111-1111-4111-8111-111111111111';
my $FABRIKAM = '22222222-2222-4222-8222-222222222222';
my $PLATFORM = '33333333-3333-4333-8333-333333333333';
my $PLATFORM_SECRET = 'demo-platform~secret.0001';
my $FAB_APP  = '55555555-5555-4555-8555-555555555555';
my $FAB_SECRET = 'demo-fabrikam~deploy.0001';
my $FAB_SUB  = '77777777-7777-4777-8777-777777777777';

my $sim = CC::AzureSim->start(demo => 1);
$sim->admin(PUT => '/admin/settings', { deployment_seconds => 0.3, rg_delete_seconds => 0.3, retry_after => 0 });
$ENV{NODE_EXTRA_CA_CERTS} = $sim->ca;

sub node {
    my ($script, @args) = @_;
    open my $fh, '-|', 'node', "$DIR/$script", $sim->url, @args or die "node: $!";
    my $out = do { local $/; <$fh> };
    close $fh;
    my $json = eval { decode_json($out) };
    diag "$script printed: $out" unless $json && $json->{ok};
    return $json // {};
}
sub claims_of { decode_json(decode_base64url((split /\./, shift)[1])) }

# ---- @azure/identity ---------------------------------------------------------------

my $r = node('identity.mjs', $FABRIKAM, $FAB_APP, $FAB_SECRET);
ok $r->{ok}, 'ClientSecretCredential gets a token from the simulator';
is claims_of($r->{token})->{tid}, $FABRIKAM, '... for the tenant asked for';
cmp_ok $r->{expiresOnTimestamp} / 1000 - time, '>', 3000, '... and reads expires_in';

$r = node('identity.mjs', $FABRIKAM, $FAB_APP, 'wrong-secret');
ok !$r->{ok}, 'a wrong secret fails in the SDK';
like $r->{error}{message}, qr/invalid_client.*7000215/s, 'the SDK parses invalid_client and AADSTS7000215';

$r = node('identity.mjs', '00000000-0000-4000-8000-00000000dead', $FAB_APP, $FAB_SECRET);
ok !$r->{ok}, 'an unknown tenant fails in the SDK';
like $r->{error}{message}, qr/endpoints_resolution_error/,
    'at discovery, which answers 400 for an unknown tenant as Entra does';

$r = node('identity.mjs', $FABRIKAM, $FAB_APP, $FAB_SECRET,
    'https://management.azure.com/.default https://vault.azure.net/.default');
ok !$r->{ok}, 'two resources in one request fail';
like $r->{error}{message}, qr/invalid_scope.*70011/s, '... with invalid_scope and AADSTS70011';

# ---- @azure/keyvault-secrets ---------------------------------------------------------

$r = node('keyvault.mjs', $CONTOSO, $PLATFORM, $PLATFORM_SECRET);
ok $r->{ok}, 'SecretClient completes its run (challenge, then calls with a token)';
is $r->{set}{value}, 'value-1', 'setSecret';
like $r->{set}{version}, qr/^[0-9a-f]{32}$/, 'the SDK parses the version out of the id';
is $r->{set}{expiresOn}, '2030-01-01T00:00:00.000Z', 'expiresOn round-trips as Unix seconds';
is $r->{latest}, 'value-2', 'getSecret (latest)';
is $r->{byVersion}, 'value-1', 'getSecret (version)';
is $r->{versions}, 2, 'listPropertiesOfSecretVersions';
is_deeply $r->{listed}, [qw(conf-page-0 conf-page-1 conf-page-2 conf-page-3 conf-secret)],
    'listPropertiesOfSecrets across pages';
cmp_ok $r->{pages}, '>=', 3, 'the SDK followed nextLink';
is_deeply $r->{missing}, { statusCode => 404, code => 'SecretNotFound' }, 'SecretNotFound as a RestError';
is $r->{deleted}{name}, 'conf-secret', 'beginDeleteSecret polls to completion';
like $r->{deleted}{recoveryId}, qr{/deletedsecrets/conf-secret$}, 'recoveryId';
ok $r->{deleted}{scheduledPurgeDate}, 'scheduledPurgeDate';
is_deeply $r->{conflict}, { statusCode => 409, code => 'Conflict' }, 'setSecret on a soft-deleted name: 409 Conflict';
is $r->{recovered}, 'value-2', 'beginRecoverDeletedSecret';
ok $r->{purged}, 'purgeDeletedSecret';
my $challenged = grep { $_->{service} eq 'keyvault' && $_->{status} == 401 } @{ $sim->admin(GET => '/admin/requests') };
ok $challenged, 'the SDK met the 401 challenge first';

# ---- @azure/arm-resources ----------------------------------------------------------------

$r = node('arm.mjs', $FABRIKAM, $FAB_APP, $FAB_SECRET, $FAB_SUB);
ok $r->{ok}, 'ResourceManagementClient completes its run';
is_deeply $r->{rg}, { name => 'rg-conformance', location => 'westeurope', state => 'Succeeded' },
    'resourceGroups.createOrUpdate';
is $r->{deployment}{state}, 'Succeeded', 'deployments.beginCreateOrUpdateAndWait polls Azure-AsyncOperation to Succeeded';
like $r->{deployment}{vmId}, qr/^[0-9a-f-]{36}$/, 'outputs come through';
like $r->{failed}{message}, qr/DeploymentFailed/, 'a failing deployment surfaces DeploymentFailed';
is_deeply $r->{operations}, [{ state => 'Succeeded' }, { state => 'Failed', code => 'InvalidParameter' }],
    'deploymentOperations.list shows the failed operation and its error code';
ok defined $r->{exists} && !$r->{exists}, 'resourceGroups.beginDeleteAndWait polls Location until the group is gone';

# ---- Graph over plain HTTP ---------------------------------------------------------------

$r = node('graph.mjs', $FABRIKAM, $PLATFORM, $PLATFORM_SECRET, 'FB000003');
ok $r->{ok}, 'Graph: token from the SDK, then plain HTTP';
is_deeply $r->{serials}, [qw(FB000001 FB000002 FB000003 FB000004)], 'Autopilot devices across pages';
is $r->{pages}, 2, 'two pages of $top=2';
is_deeply $r->{found}, ['FB000003'], 'contains(serialNumber,...)';
is $r->{missingStatus}, 404, 'an unknown managed device: 404';
is $r->{missingCode}, 'ResourceNotFound', '... ResourceNotFound';

done_testing;
