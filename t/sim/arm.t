# The simulated Azure Resource Manager: authentication, api-version,
# subscriptions, resource groups (async delete), template deployments with
# Azure-AsyncOperation polling, the checks real ARM makes on VM templates,
# marketplace terms, the CIS image catalogue and throttling headers.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";

use CC::AzureSim;
use Crypt::PK::RSA;
use MIME::Base64 qw(encode_base64url);
use Mojo::JSON qw(encode_json);
use Test::More;
use Time::HiRes qw(sleep);

my $CONTOSO  = '11111111-1111-4111-8111-111111111111';
my $FABRIKAM = '22222222-2222-4222-8222-222222222222';
my $SUB      = '77777777-7777-4777-8777-777777777777';
my $CIS      = 'center-for-internet-security-inc';
my $API      = 'api-version=2021-04-01';

my $sim = CC::AzureSim->start(demo => 1);
$sim->admin(PUT => '/admin/settings', { deployment_seconds => 0.5, rg_delete_seconds => 0.5 });
my $ua  = $sim->ua;
my $url = $sim->url;
my $token = $sim->token(tenant => $FABRIKAM, client => '55555555-5555-4555-8555-555555555555',
    secret => 'demo-fabrikam~deploy.0001');
my $auth = { Authorization => "Bearer $token" };

sub arm {
    my ($method, $path, $body, $headers) = @_;
    my $tx = $ua->build_tx($method => $url . $path, { %$auth, %{ $headers // {} } },
        defined $body ? (json => $body) : ());
    return $ua->start($tx)->result;
}
sub code_of { ($_[0]->json // {})->{error}{code} // '' }

# ---- authentication ------------------------------------------------------------

my $res = $ua->get("$url/subscriptions?$API")->result;
is $res->code, 401, 'no token: 401';
is code_of($res), 'AuthenticationFailed', 'no token: AuthenticationFailed';
like $res->headers->www_authenticate, qr/^Bearer authorization_uri="\Q$url\E\/", error="invalid_token"/,
    'no token: WWW-Authenticate names the login base URL';

my $kv_token = $sim->token(tenant => $FABRIKAM, client => '55555555-5555-4555-8555-555555555555',
    secret => 'demo-fabrikam~deploy.0001', scope => 'https://vault.azure.net/.default');
$res = arm(GET => "/subscriptions?$API", undef, { Authorization => "Bearer $kv_token" });
is $res->code, 401, 'a Key Vault token is refused';
is code_of($res), 'InvalidAuthenticationToken', '... as InvalidAuthenticationToken';
like $res->json->{error}{message}, qr/wrong audience or resource 'https:\/\/vault.azure.net'/, '... naming the audience';

my $expired = $sim->admin(POST => '/admin/tokens', { tid => $FABRIKAM, ver => '1.0', expires_in => -3600,
    claims => { aud => 'https://management.azure.com/', appid => 'x' } })->{token};
$res = arm(GET => "/subscriptions?$API", undef, { Authorization => "Bearer $expired" });
is code_of($res), 'ExpiredAuthenticationToken', 'an expired token: ExpiredAuthenticationToken';
my $slash = $sim->admin(POST => '/admin/tokens', { tid => $FABRIKAM, ver => '1.0',
    claims => { aud => 'https://management.azure.com/' } })->{token};
is arm(GET => "/subscriptions?$API", undef, { Authorization => "Bearer $slash" })->code, 200,
    'aud with a trailing slash is accepted';

my $foreign = Crypt::PK::RSA->new;
$foreign->generate_key(256);
my $input = encode_base64url(encode_json({ alg => 'RS256', typ => 'JWT', kid => 'foreign' })) . '.'
    . encode_base64url(encode_json({ aud => 'https://management.azure.com', tid => $FABRIKAM,
        iss => "https://sts.windows.net/$FABRIKAM/", exp => time + 600, ver => '1.0' }));
my $forged = "$input." . encode_base64url($foreign->sign_message($input, 'SHA256', 'v1.5'));
is code_of(arm(GET => "/subscriptions?$API", undef, { Authorization => "Bearer $forged" })),
    'InvalidAuthenticationToken', 'a token signed by another key is refused';
is code_of(arm(GET => "/subscriptions?$API", undef, { Authorization => 'Bearer abc.def.ghi' })),
    'InvalidAuthenticationToken', 'garbage is refused';

my $contoso_token = $sim->token(tenant => $CONTOSO, client => '44444444-4444-4444-8444-444444444444',
    secret => 'demo-contoso~deploy.0001');
$res = arm(GET => "/subscriptions/$SUB?$API", undef, { Authorization => "Bearer $contoso_token" });
is $res->code, 401, 'a token of another tenant: 401';
is code_of($res), 'InvalidAuthenticationTokenTenant', '... InvalidAuthenticationTokenTenant';
like $res->headers->www_authenticate, qr/authorization_uri="\Q$url\E\/$FABRIKAM"/,
    '... pointing at the subscription\'s tenant';

# ---- api-version, subscriptions, throttling headers ------------------------------

$res = arm(GET => '/subscriptions');
is $res->code, 400, 'no api-version: 400';
is code_of($res), 'MissingApiVersionParameter', 'no api-version: MissingApiVersionParameter';

$res = arm(GET => "/subscriptions?$API");
is $res->code, 200, 'subscriptions list';
is_deeply [map { $_->{subscriptionId} } @{ $res->json->{value} }], [$SUB], 'only the token tenant\'s subscriptions';
is $res->json->{value}[0]{tenantId}, $FABRIKAM, 'tenantId';
is $res->json->{value}[0]{state}, 'Enabled', 'state';
$res = arm(GET => "/subscriptions/$SUB?$API");
is $res->json->{id}, "/subscriptions/$SUB", 'subscription get';
my $r1 = $res->headers->header('x-ms-ratelimit-remaining-subscription-reads');
like $r1, qr/^\d+$/, 'reads budget header';
is arm(GET => "/subscriptions/$SUB?$API")->headers->header('x-ms-ratelimit-remaining-subscription-reads'),
    $r1 - 1, 'the reads budget goes down by one per read';
$res = arm(GET => "/subscriptions/00000000-0000-4000-8000-00000000beef?$API");
is $res->code, 404, 'unknown subscription: 404';
is code_of($res), 'SubscriptionNotFound', 'SubscriptionNotFound';

# ---- resource groups ------------------------------------------------------------------

my $rg = "/subscriptions/$SUB/resourcegroups/rg-demo";
$res = arm(PUT => "$rg?$API", { location => 'westeurope', tags => { owner => 'x' } });
is $res->code, 201, 'a new resource group: 201';
is $res->json->{id}, "/subscriptions/$SUB/resourceGroups/rg-demo", 'its id';
is $res->json->{properties}{provisioningState}, 'Succeeded', 'provisioningState Succeeded';
like $res->headers->header('x-ms-ratelimit-remaining-subscription-writes'), qr/^\d+$/, 'writes budget header';
is arm(PUT => "$rg?$API", { location => 'westeurope' })->code, 200, 'an existing resource group: 200';
is arm(GET => "/subscriptions/$SUB/resourceGroups/RG-DEMO?$API")->json->{name}, 'rg-demo',
    'paths and names are case-insensitive';
$res = arm(PUT => "/subscriptions/$SUB/resourcegroups/rg-moon?$API", { location => 'moonbase' });
is code_of($res), 'LocationNotAvailableForResourceGroup', 'an unknown region is refused';
is code_of(arm(PUT => "/subscriptions/$SUB/resourcegroups/rg-none?$API", {})), 'LocationRequired',
    'a missing location is refused';
is code_of(arm(PUT => "/subscriptions/$SUB/resourcegroups/bad%2Aname?$API", { location => 'eastus' })),
    'InvalidResourceGroupName', 'an invalid name is refused';
$res = arm(GET => "/subscriptions/$SUB/resourcegroups/rg-missing?$API");
is $res->code, 404, 'a missing resource group: 404';
is code_of($res), 'ResourceGroupNotFound', 'ResourceGroupNotFound';
is arm(HEAD => "$rg?$API")->code, 204, 'HEAD on an existing group: 204';
is arm(HEAD => "/subscriptions/$SUB/resourcegroups/rg-missing?$API")->code, 404, 'HEAD on a missing group: 404';

# ---- deployments ------------------------------------------------------------------------

sub template {
    my (%o) = @_;
    my $image = $o{image} // { publisher => $CIS, offer => 'cis-ubuntu-linux-2204-l1',
        sku => 'cis-ubuntu-linux-2204-l1', version => 'latest' };
    my %vm = (type => 'Microsoft.Compute/virtualMachines', apiVersion => '2021-11-01',
        name => "[parameters('vmName')]", location => "[parameters('location')]",
        dependsOn => ["[resourceId('Microsoft.Network/networkInterfaces', variables('nic'))]"],
        properties => {
            hardwareProfile => { vmSize => "[parameters('vmSize')]" },
            storageProfile => { imageReference => $image,
                osDisk => { createOption => 'FromImage', managedDisk => { storageAccountType => 'Standard_LRS' } } },
            osProfile => { computerName => "[parameters('vmName')]", adminUsername => "[parameters('adminUsername')]",
                ($o{windows} ? (windowsConfiguration => {}) : (linuxConfiguration => {
                    disablePasswordAuthentication => \1,
                    ssh => { publicKeys => [{ path => "[format('/home/{0}/.ssh/authorized_keys', parameters('adminUsername'))]",
                        keyData => "[parameters('sshPublicKey')]" }] } })) },
            networkProfile => { networkInterfaces => [{ id => "[resourceId('Microsoft.Network/networkInterfaces', variables('nic'))]" }] },
        });
    $vm{plan} = { name => $image->{sku}, product => $image->{offer}, publisher => $image->{publisher} }
        unless $o{no_plan} || $image->{publisher} ne $CIS;
    return {
        '$schema' => 'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#',
        contentVersion => '1.0.0.0',
        parameters => {
            vmName => { type => 'string' }, adminUsername => { type => 'string' },
            sshPublicKey => { type => 'securestring' },
            vmSize => { type => 'string', defaultValue => 'Standard_D2s_v3' },
            location => { type => 'string', defaultValue => '[resourceGroup().location]' },
        },
        variables => { nic => "[concat(parameters('vmName'), '-nic')]", pip => "[concat(parameters('vmName'), '-pip')]" },
        resources => [
            { type => 'Microsoft.Network/publicIPAddresses', apiVersion => '2021-05-01', name => "[variables('pip')]",
              location => "[parameters('location')]", sku => { name => 'Standard' },
              properties => { publicIPAllocationMethod => 'Static' } },
            { type => 'Microsoft.Network/networkInterfaces', apiVersion => '2021-05-01', name => "[variables('nic')]",
              location => "[parameters('location')]",
              dependsOn => [$o{bad_depends} ? "[resourceId('Microsoft.Network/virtualNetworks', 'nowhere')]"
                  : "[resourceId('Microsoft.Network/publicIPAddresses', variables('pip'))]"],
              properties => { ipConfigurations => [{ name => 'ipconfig1', properties => {
                  privateIPAllocationMethod => 'Dynamic',
                  publicIPAddress => { id => "[resourceId('Microsoft.Network/publicIPAddresses', variables('pip'))]" } } }] } },
            \%vm,
        ],
        outputs => {
            publicIp => { type => 'string',
                value => "[reference(resourceId('Microsoft.Network/publicIPAddresses', variables('pip'))).ipAddress]" },
            ($o{bad_function} ? (oops => { type => 'string', value => "[nosuchfunction('x')]" }) : ()),
        },
    };
}

sub deploy {
    my ($name, %o) = @_;
    my %params = (vmName => { value => $o{vm} // 'vm-demo-01' }, adminUsername => { value => 'azureuser' },
        sshPublicKey => { value => 'ssh-ed25519 AAAAC3Nza sim' }, %{ $o{params} // {} });
    delete $params{$_} for @{ $o{drop} // [] };
    return arm(PUT => "$rg/providers/Microsoft.Resources/deployments/$name?$API",
        { properties => { mode => 'Incremental', template => template(%o), parameters => \%params } });
}

sub wait_terminal {
    my ($name) = @_;
    for (1 .. 60) {
        my $s = arm(GET => "$rg/providers/Microsoft.Resources/deployments/$name?$API")->json->{properties}{provisioningState};
        return $s if $s =~ /^(Succeeded|Failed|Canceled)$/;
        sleep 0.1;
    }
    return 'timeout';
}

my $agreement = "/subscriptions/$SUB/providers/Microsoft.MarketplaceOrdering/offerTypes/virtualmachine/"
    . "publishers/$CIS/offers/cis-ubuntu-linux-2204-l1/plans/cis-ubuntu-linux-2204-l1/agreements/current";

$res = deploy('dep-terms');
is $res->code, 400, 'terms not accepted: the deployment is refused';
is code_of($res), 'MarketplacePurchaseEligibilityFailed', 'MarketplacePurchaseEligibilityFailed';
like $res->json->{error}{details}[0]{message}, qr/not accepted the legal terms/, 'the inner error explains';

$res = arm(GET => "$agreement?api-version=2021-01-01");
is $res->code, 200, 'agreement GET';
ok !$res->json->{properties}{accepted}, 'not accepted yet';
is $res->json->{properties}{publisher}, $CIS, 'publisher';
is $res->json->{properties}{product}, 'cis-ubuntu-linux-2204-l1', 'product is the offer';
my $terms = $res->json;
$terms->{properties}{accepted} = \1;
$res = arm(PUT => "$agreement?api-version=2021-01-01", $terms);
is $res->code, 200, 'agreement PUT';
ok $res->json->{properties}{accepted}, 'accepted';
ok arm(GET => "$agreement?api-version=2021-01-01")->json->{properties}{accepted}, 'stays accepted';
is arm(GET => "/subscriptions/$SUB/providers/Microsoft.MarketplaceOrdering/offerTypes/virtualmachine/publishers/$CIS/offers/nope/plans/nope/agreements/current?api-version=2021-01-01")->code,
    404, 'an unknown plan has no agreement';

$res = deploy('dep-ok');
is $res->code, 201, 'a valid deployment: 201';
is $res->json->{properties}{provisioningState}, 'Accepted', 'provisioningState Accepted';
my $async = $res->headers->header('Azure-AsyncOperation');
like $async, qr{^\Q$url\E/subscriptions/$SUB/resourceGroups/rg-demo/providers/Microsoft.Resources/deployments/dep-ok/operationStatuses/\w+\?api-version=2021-04-01$},
    'Azure-AsyncOperation points at the simulator';
is $res->headers->header('Retry-After'), 1, 'Retry-After';
$res = $ua->get($async => $auth)->result;
is $res->json->{status}, 'Running', 'the operation is Running';
is code_of(deploy('dep-ok')), 'DeploymentActive', 'replacing an active deployment is refused';
is wait_terminal('dep-ok'), 'Succeeded', 'the deployment succeeds';
is $ua->get($async => $auth)->result->json->{status}, 'Succeeded', 'the operation reports Succeeded';
$res = arm(GET => "$rg/providers/Microsoft.Resources/deployments/dep-ok?$API");
my $p = $res->json->{properties};
like $p->{outputs}{publicIp}{value}, qr/^20\.\d+\.\d+\.\d+$/, 'outputs carry the public IP';
is $p->{outputs}{publicIp}{type}, 'String', 'output type';
is $p->{parameters}{adminUsername}{value}, 'azureuser', 'parameters are echoed';
ok !exists $p->{parameters}{sshPublicKey}{value}, 'secure parameters are not';
is $p->{parameters}{vmSize}{value}, 'Standard_D2s_v3', 'defaults are applied';
is scalar @{ $p->{outputResources} }, 3, 'outputResources';
like $p->{correlationId}, qr/^[0-9a-f-]{36}$/, 'correlationId';
$res = arm(GET => "$rg/providers/Microsoft.Resources/deployments/dep-ok/operations?$API");
is scalar @{ $res->json->{value} }, 3, 'one operation per resource';
ok !(grep { $_->{properties}{provisioningState} ne 'Succeeded' } @{ $res->json->{value} }), 'all Succeeded';
is $res->json->{value}[2]{properties}{targetResource}{resourceType}, 'Microsoft.Compute/virtualMachines', 'targetResource';
$res = arm(GET => "$rg/providers/Microsoft.Resources/deployments/dep-ok/operations?$API&\$top=2");
is scalar @{ $res->json->{value} }, 2, 'operations page by $top';
my $next = $res->json->{nextLink};
like $next, qr/^\Q$url\E/, 'with a nextLink';
$res = $ua->get($next => $auth)->result;
is scalar @{ $res->json->{value} }, 1, 'the next page has the rest';
ok !exists $res->json->{nextLink}, 'and no nextLink';
is arm(GET => "$rg/providers/Microsoft.Resources/deployments?$API")->json->{value}[0]{name}, 'dep-ok', 'deployments list';

sub failed_op {
    my ($name) = @_;
    my $ops = arm(GET => "$rg/providers/Microsoft.Resources/deployments/$name/operations?$API")->json->{value};
    my ($f) = grep { $_->{properties}{provisioningState} eq 'Failed' } @$ops;
    return $f ? $f->{properties} : {};
}

is deploy('dep-noplan', no_plan => 1)->code, 201, 'a marketplace image without a plan is accepted at first';
is wait_terminal('dep-noplan'), 'Failed', '... and then fails';
$res = arm(GET => "$rg/providers/Microsoft.Resources/deployments/dep-noplan?$API");
is $res->json->{properties}{error}{code}, 'DeploymentFailed', 'DeploymentFailed';
is $res->json->{properties}{error}{details}[0]{details}[0]{code}, 'VMMarketplaceInvalidInput',
    'the cause is VMMarketplaceInvalidInput';
my $op = failed_op('dep-noplan');
is $op->{statusMessage}{error}{details}[0]{code}, 'VMMarketplaceInvalidInput', 'the failed operation says so too';
is $op->{targetResource}{resourceName}, 'vm-demo-01', 'the failed operation names the VM';
my $st = $ua->get(arm(GET => "$rg/providers/Microsoft.Resources/deployments/dep-noplan?$API")->json->{id} =~ s{^}{$url}r
    . "?$API" => $auth)->result;
is $st->json->{properties}{provisioningState}, 'Failed', 'GET by id agrees';

is deploy('dep-badname', vm => 'bad_name!')->code, 201, 'an invalid Linux name is accepted at first';
is wait_terminal('dep-badname'), 'Failed', '... and fails';
$op = failed_op('dep-badname');
is $op->{statusCode}, 'BadRequest', 'statusCode BadRequest';
is $op->{statusMessage}{error}{code}, 'InvalidParameter', 'InvalidParameter';
is $op->{statusMessage}{error}{target}, 'computerName', 'target computerName';
like $op->{statusMessage}{error}{message}, qr/^Linux host name cannot exceed 64 characters/, 'Linux rule text';
deploy('dep-long', vm => 'l' x 65);
is wait_terminal('dep-long'), 'Failed', 'a 65-character Linux name fails';
deploy('dep-numeric', vm => '12345');
is wait_terminal('dep-numeric'), 'Failed', 'an all-numeric name fails';
deploy('dep-winlong', vm => 'win-name-too-long', windows => 1,
    image => { publisher => 'MicrosoftWindowsServer', offer => 'WindowsServer',
               sku => '2022-datacenter-azure-edition', version => 'latest' });
is wait_terminal('dep-winlong'), 'Failed', 'a 17-character Windows name fails';
like failed_op('dep-winlong')->{statusMessage}{error}{message}, qr/^Windows computer name cannot be more than 15/,
    'Windows rule text';
deploy('dep-winok', vm => 'win-ok-01', windows => 1,
    image => { publisher => 'MicrosoftWindowsServer', offer => 'WindowsServer',
               sku => '2022-datacenter-azure-edition', version => 'latest' });
is wait_terminal('dep-winok'), 'Succeeded', 'a valid Windows name on a platform image succeeds without a plan';
deploy('dep-size', params => { vmSize => { value => 'Standard_Imaginary_v9' } });
is wait_terminal('dep-size'), 'Failed', 'an unknown VM size fails';
is failed_op('dep-size')->{statusMessage}{error}{target}, 'vmSize', 'target vmSize';
deploy('dep-image', image => { publisher => $CIS, offer => 'cis-ubuntu-linux-2204-l1', sku => 'no-such-sku', version => 'latest' }, no_plan => 1);
is wait_terminal('dep-image'), 'Failed', 'an unknown image fails';
is failed_op('dep-image')->{statusMessage}{error}{code}, 'PlatformImageNotFound', 'PlatformImageNotFound';

$res = deploy('dep-region', params => { location => { value => 'moonbase' } });
is $res->code, 400, 'an unknown region is refused at once';
is code_of($res), 'LocationNotAvailableForResourceType', 'LocationNotAvailableForResourceType';
$res = deploy('dep-missing', drop => ['adminUsername']);
is code_of($res), 'InvalidTemplate', 'a missing parameter: InvalidTemplate';
like $res->json->{error}{message}, qr/adminUsername/, '... naming it';
$res = deploy('dep-extra', params => { color => { value => 'blue' } });
is code_of($res), 'InvalidTemplate', 'an unknown parameter: InvalidTemplate';
is code_of(deploy('dep-fn', bad_function => 1)), 'InvalidTemplate', 'an unknown template function: InvalidTemplate';
is code_of(deploy('dep-dep', bad_depends => 1)), 'InvalidTemplate', 'dependsOn on an undefined resource: InvalidTemplate';
$res = arm(PUT => "/subscriptions/$SUB/resourcegroups/rg-missing/providers/Microsoft.Resources/deployments/x?$API",
    { properties => { mode => 'Incremental', template => template() } });
is code_of($res), 'ResourceGroupNotFound', 'a deployment into a missing resource group';
$res = arm(PUT => "$rg/providers/Microsoft.Resources/deployments/x?$API",
    { properties => { mode => 'Sometimes', template => template() } });
is $res->code, 400, 'an invalid mode is refused';
is code_of(arm(GET => "$rg/providers/Microsoft.Resources/deployments/nope?$API")), 'DeploymentNotFound',
    'an unknown deployment: DeploymentNotFound';

# ---- the CIS image catalogue ----------------------------------------------------------

my $images = "/subscriptions/$SUB/providers/Microsoft.Compute/locations/westeurope/publishers/$CIS/artifacttypes/vmimage/offers";
$res = arm(GET => "$images?api-version=2023-03-01");
ok scalar(grep { $_->{name} eq 'cis-rhel9-l1' } @{ $res->json }), 'CIS offers are listed';
$res = arm(GET => "$images/cis-ubuntu-linux-2204-l1/skus?api-version=2023-03-01");
is_deeply [sort map { $_->{name} } @{ $res->json }], ['cis-ubuntu-linux-2204-l1', 'cis-ubuntu-linux-2204-l1-gen2'],
    'the SKUs of an offer';
like $res->json->[0]{id}, qr{^/Subscriptions/$SUB/Providers/Microsoft.Compute/Locations/westeurope/Publishers/$CIS/ArtifactTypes/VMImage/Offers/},
    'SKU ids as ARM writes them';
$res = arm(GET => "$images/cis-ubuntu-linux-2204-l1/skus/cis-ubuntu-linux-2204-l1-gen2/versions?api-version=2023-03-01");
ok scalar @{ $res->json }, 'versions are listed';
my $ver = $res->json->[-1]{name};
$res = arm(GET => "$images/cis-ubuntu-linux-2204-l1/skus/cis-ubuntu-linux-2204-l1-gen2/versions/$ver?api-version=2023-03-01");
is_deeply $res->json->{properties}{purchasePlan}, { name => 'cis-ubuntu-linux-2204-l1-gen2', publisher => $CIS,
    product => 'cis-ubuntu-linux-2204-l1' }, 'a version names its purchase plan';
is $res->json->{properties}{hyperVGeneration}, 'V2', 'gen2';
is arm(GET => "/subscriptions/$SUB/providers/Microsoft.Compute/locations/westeurope/publishers/nobody/artifacttypes/vmimage/offers?api-version=2023-03-01")->code,
    404, 'an unknown publisher: 404';

# ---- resource group deletion --------------------------------------------------------------

$res = arm(DELETE => "$rg?$API");
is $res->code, 202, 'delete: 202';
my $location = $res->headers->location;
like $location, qr{^\Q$url\E/subscriptions/$SUB/operationresults/[\w-]+\?api-version=2021-04-01$}, 'delete: Location';
is $res->headers->header('Retry-After'), 1, 'delete: Retry-After';
like $res->headers->header('x-ms-ratelimit-remaining-subscription-deletes'), qr/^\d+$/, 'deletes budget header';
is $ua->get($location => $auth)->result->code, 202, 'polling while deleting: 202';
is arm(GET => "$rg?$API")->json->{properties}{provisioningState}, 'Deleting', 'the group shows Deleting';
my $code;
for (1 .. 40) { $code = $ua->get($location => $auth)->result->code; last if $code != 202; sleep 0.1 }
is $code, 200, 'polling after deletion: 200';
is arm(GET => "$rg?$API")->code, 404, 'the group is gone';
is arm(GET => "$rg/providers/Microsoft.Resources/deployments/dep-ok?$API")->code, 404, 'with its deployments';
is code_of(arm(DELETE => "$rg?$API")), 'ResourceGroupNotFound', 'deleting again: ResourceGroupNotFound';

done_testing;
