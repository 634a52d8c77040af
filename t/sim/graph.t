# The simulated Microsoft Graph: Autopilot identities filtered by serial with
# @odata.nextLink paging, managed devices 200/404, applications and service
# principals with password credentials, and tenant isolation by the token.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";

use CC::AzureSim;
use Test::More;

my $CONTOSO  = '11111111-1111-4111-8111-111111111111';
my $FABRIKAM = '22222222-2222-4222-8222-222222222222';
my $PLATFORM = '33333333-3333-4333-8333-333333333333';
my $FAB_APP  = '55555555-5555-4555-8555-555555555555';
my $SECRET   = 'demo-platform~secret.0001';

my $sim = CC::AzureSim->start(demo => 1);
my $ua  = $sim->ua;
my $url = $sim->url;
my %tok = map { ($_ => $sim->token(tenant => $_, client => $PLATFORM, secret => $SECRET,
    scope => 'https://graph.microsoft.com/.default')) } $CONTOSO, $FABRIKAM;

sub graph {
    my ($tenant, $path, %q) = @_;
    my $u = Mojo::URL->new("$url$path");
    $u->query(%q) if %q;
    return $ua->get($u => { $tenant ? (Authorization => "Bearer $tok{$tenant}") : () })->result;
}
my $AP = '/v1.0/deviceManagement/windowsAutopilotDeviceIdentities';

# ---- authentication -------------------------------------------------------------------

my $res = graph(undef, $AP);
is $res->code, 401, 'no token: 401';
is $res->json->{error}{code}, 'InvalidAuthenticationToken', 'InvalidAuthenticationToken';
like $res->json->{error}{innerError}{'request-id'}, qr/^[0-9a-f-]{36}$/, 'innerError request-id';
like $res->json->{error}{innerError}{date}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/, 'innerError date';
my $arm = $sim->token(tenant => $CONTOSO, client => $PLATFORM, secret => $SECRET);
is $ua->get("$url$AP" => { Authorization => "Bearer $arm" })->result->code, 401, 'an ARM token is refused';
my $noroles = $sim->admin(POST => '/admin/tokens', { tid => $CONTOSO, ver => '1.0',
    claims => { aud => 'https://graph.microsoft.com', roles => ['User.Read.All'] } })->{token};
$res = $ua->get("$url$AP" => { Authorization => "Bearer $noroles" })->result;
is $res->code, 403, 'a token without the Intune permission: 403';

# ---- Autopilot -------------------------------------------------------------------------

$res = graph($CONTOSO, $AP);
is $res->code, 200, 'Autopilot list';
is scalar @{ $res->json->{value} }, 6, 'all of the tenant\'s devices';
is $res->json->{'@odata.context'}, "$url/v1.0/\$metadata#deviceManagement/windowsAutopilotDeviceIdentities", '@odata.context';
my $d = $res->json->{value}[0];
is $d->{'@odata.type'}, '#microsoft.graph.windowsAutopilotDeviceIdentity', '@odata.type';
for my $f (qw(id serialNumber manufacturer model enrollmentState azureActiveDirectoryDeviceId managedDeviceId groupTag lastContactedDateTime)) {
    ok exists $d->{$f}, "device has $f";
}

$res = graph($CONTOSO, $AP, '$filter' => "contains(serialNumber,'CT000003')");
is_deeply [map { $_->{serialNumber} } @{ $res->json->{value} }], ['CT000003'], 'contains(serialNumber,...) finds the device';
$res = graph($CONTOSO, $AP, '$filter' => "contains(serialNumber,'ct00000')");
is scalar @{ $res->json->{value} }, 6, 'contains is a case-insensitive substring match';
$res = graph($FABRIKAM, $AP, '$filter' => "contains(serialNumber,'CT000003')");
is_deeply $res->json->{value}, [], 'a device of tenant A is invisible to tenant B';
$res = graph($CONTOSO, '/beta/deviceManagement/windowsAutopilotDeviceIdentities', '$filter' => "contains(serialNumber,'CT000001')");
is scalar @{ $res->json->{value} }, 1, 'beta answers the same';
$res = graph($CONTOSO, $AP, '$filter' => "serialNumber eq 'CT000001'");
is $res->code, 400, 'an unsupported filter: 400';
is $res->json->{error}{code}, 'BadRequest', '... BadRequest';

$sim->admin(POST => "/admin/tenants/$CONTOSO/autopilot-devices", { serialNumber => "O'NEIL-1" });
$res = graph($CONTOSO, $AP, '$filter' => "contains(serialNumber,'O''NEIL')");
is $res->json->{value}[0]{serialNumber}, "O'NEIL-1", 'quotes are escaped by doubling';

$res = graph($CONTOSO, $AP, '$top' => 3);
is scalar @{ $res->json->{value} }, 3, '$top bounds the page';
my $next = $res->json->{'@odata.nextLink'};
like $next, qr/^\Q$url\E\/v1\.0\/deviceManagement\/windowsAutopilotDeviceIdentities\?.*\$skiptoken=/, 'nextLink is a full URL';
my @serials = map { $_->{serialNumber} } @{ $res->json->{value} };
while ($next) {
    $res = $ua->get($next => { Authorization => "Bearer $tok{$CONTOSO}" })->result;
    push @serials, map { $_->{serialNumber} } @{ $res->json->{value} };
    $next = $res->json->{'@odata.nextLink'};
}
is scalar(@serials), 7, 'following nextLink verbatim lists all devices';
my %seen; $seen{$_}++ for @serials;
ok !(grep { $_ > 1 } values %seen), 'each exactly once';
$res = graph($CONTOSO, $AP, '$top' => 1, '$filter' => "contains(serialNumber,'CT')");
like $res->json->{'@odata.nextLink'}, qr/filter=contains/, 'nextLink keeps the filter';

my $aad = $d->{azureActiveDirectoryDeviceId};
$res = graph($CONTOSO, $AP, '$filter' => "azureActiveDirectoryDeviceId eq '$aad'");
is $res->json->{value}[0]{id}, $d->{id}, 'filter by azureActiveDirectoryDeviceId';

# ---- managed devices -----------------------------------------------------------------

my ($enrolled) = grep { $_->{enrollmentState} eq 'enrolled' } @{ graph($CONTOSO, $AP)->json->{value} };
my $md = $enrolled->{managedDeviceId};
$res = graph($CONTOSO, "/v1.0/deviceManagement/managedDevices/$md");
is $res->code, 200, 'managed device by id: 200';
is $res->json->{id}, $md, 'its id';
is $res->json->{serialNumber}, $enrolled->{serialNumber}, 'its serial';
is $res->json->{complianceState}, 'compliant', 'complianceState';
is $res->json->{azureADDeviceId}, $enrolled->{azureActiveDirectoryDeviceId}, 'azureADDeviceId matches Autopilot';
$res = graph($FABRIKAM, "/v1.0/deviceManagement/managedDevices/$md");
is $res->code, 404, 'another tenant\'s managed device: 404';
$res = graph($CONTOSO, '/v1.0/deviceManagement/managedDevices/00000000-0000-4000-8000-00000000abcd');
is $res->code, 404, 'an unknown managed device: 404';
is $res->json->{error}{code}, 'ResourceNotFound', 'ResourceNotFound';
like $res->json->{error}{message}, qr/"_version": 3/, 'the message embeds Intune\'s JSON, as Graph does';
$res = graph($CONTOSO, '/v1.0/deviceManagement/managedDevices', '$filter' => "serialNumber eq '$enrolled->{serialNumber}'");
is $res->json->{value}[0]{id}, $md, 'managed devices filter by serialNumber';
$sim->admin(DELETE => "/admin/tenants/$CONTOSO/managed-devices/$md");
is graph($CONTOSO, "/v1.0/deviceManagement/managedDevices/$md")->code, 404, 'a deleted managed device: 404';

$sim->admin(POST => "/admin/tenants/$FABRIKAM/cloud-pcs", { managedDeviceId => 'aaaaaaaa-0000-4000-8000-000000000001',
    displayName => 'CPC-1' });
$res = graph($FABRIKAM, '/v1.0/deviceManagement/virtualEndpoint/cloudPCs', '$filter' => "managedDeviceId eq 'aaaaaaaa-0000-4000-8000-000000000001'");
is $res->json->{value}[0]{displayName}, 'CPC-1', 'Cloud PCs filter by managedDeviceId';

$res = $ua->post("$url/beta/deviceManagement/importedDeviceIdentities/searchExistingIdentities"
    => { Authorization => "Bearer $tok{$FABRIKAM}" } => json => { importedDeviceIdentities => [
        { importedDeviceIdentifier => 'lenovo,21HD0001US,FBCORP0002', importedDeviceIdentityType => 'manufacturerModelSerial' },
        { importedDeviceIdentifier => 'LENOVO,21HD0001US,NOPE', importedDeviceIdentityType => 'manufacturerModelSerial' } ] })->result;
is $res->code, 200, 'searchExistingIdentities (corporate identifiers)';
is_deeply [map { $_->{importedDeviceIdentifier} } @{ $res->json->{value} }], ['LENOVO,21HD0001US,FBCORP0002'],
    '... finds the registered identifier only, case-insensitively';
$res = $ua->post("$url/beta/deviceManagement/importedDeviceIdentities/searchExistingIdentities"
    => { Authorization => "Bearer $tok{$CONTOSO}" } => json => { importedDeviceIdentities => [
        { importedDeviceIdentifier => 'LENOVO,21HD0001US,FBCORP0002' } ] })->result;
is_deeply $res->json->{value}, [], '... and not in another tenant';
$res = graph($FABRIKAM, '/beta/deviceManagement/importedDeviceIdentities',
    '$filter' => "importedDeviceIdentifier eq 'LENOVO,21HD0001US,FBCORP0001'");
is scalar @{ $res->json->{value} }, 1, 'importedDeviceIdentities filter by identifier';
is $ua->get("$url/beta/deviceManagement/importedDeviceIdentities/searchExistingIdentities"
    => { Authorization => "Bearer $tok{$FABRIKAM}" })->result->code, 405, 'searchExistingIdentities is POST only';

# ---- applications and service principals ------------------------------------------

my $fab_tok = $sim->token(tenant => $FABRIKAM, client => $FAB_APP, secret => 'demo-fabrikam~deploy.0001',
    scope => 'https://graph.microsoft.com/.default');
$res = $ua->get("$url/v1.0/applications(appId='$FAB_APP')" => { Authorization => "Bearer $fab_tok" })->result;
is $res->code, 200, 'an application by appId';
my $pc = $res->json->{passwordCredentials};
is scalar @$pc, 2, 'both password credentials';
my ($old) = grep { $_->{displayName} eq 'old' } @$pc;
like $old->{endDateTime}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z$/, 'endDateTime';
ok !defined $old->{secretText}, 'never the secret text';
is $old->{hint}, 'dem', 'the hint is the first three characters';
my $objid = $res->json->{id};
$res = $ua->get("$url/v1.0/applications/$objid?\$select=passwordCredentials" => { Authorization => "Bearer $fab_tok" })->result;
is $res->code, 200, 'an application by object id with $select';
is_deeply [sort grep { !/^\@odata/ } keys %{ $res->json }], ['passwordCredentials'], '$select returns only what was asked';
$res = $ua->get("$url/v1.0/applications/$objid" => { Authorization => "Bearer $tok{$CONTOSO}" })->result;
is $res->code, 404, 'another tenant\'s application: 404';
is $res->json->{error}{code}, 'Request_ResourceNotFound', 'Request_ResourceNotFound';
$res = $ua->get("$url/v1.0/servicePrincipals?\$filter=appId eq '$PLATFORM'" => { Authorization => "Bearer $fab_tok" })->result;
is $res->json->{value}[0]{appOwnerOrganizationId}, $CONTOSO, 'a consented app has a service principal in the customer tenant';
$res = $ua->get("$url/v1.0/servicePrincipals(appId='$FAB_APP')" => { Authorization => "Bearer $fab_tok" })->result;
is $res->json->{appId}, $FAB_APP, 'a service principal by appId';
is_deeply $res->json->{passwordCredentials}, [], 'its own password credentials';

done_testing;
