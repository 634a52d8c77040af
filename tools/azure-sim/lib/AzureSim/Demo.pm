# The --demo world: two tenants with users of every platform role, the
# platform's multi-tenant app, a deployment service principal and a
# subscription per tenant, Autopilot and managed devices, and the platform's
# key vault.  Identifiers are fixed so the demo configuration can name them;
# README.md lists them.  These secrets protect nothing but the simulator.
package AzureSim::Demo;
use Mojo::Base -strict, -signatures;

use AzureSim::Util qw(iso_time now_s uuid_from);

our $CONTOSO  = '11111111-1111-4111-8111-111111111111';
our $FABRIKAM = '22222222-2222-4222-8222-222222222222';
our $PLATFORM_APP        = '33333333-3333-4333-8333-333333333333';
our $CONTOSO_DEPLOY_APP  = '44444444-4444-4444-8444-444444444444';
our $FABRIKAM_DEPLOY_APP = '55555555-5555-4555-8555-555555555555';
our $CONTOSO_SUB  = '66666666-6666-4666-8666-666666666666';
our $FABRIKAM_SUB = '77777777-7777-4777-8777-777777777777';

our $PLATFORM_SECRET        = 'demo-platform~secret.0001';
our $CONTOSO_DEPLOY_SECRET  = 'demo-contoso~deploy.0001';
our $FABRIKAM_DEPLOY_SECRET = 'demo-fabrikam~deploy.0001';

sub users ($domain, @people) {
    return [map { my ($login, $name, @roles) = @$_;
        +{ userPrincipalName => "$login\@$domain", displayName => $name, roles => \@roles } } @people];
}

sub devices ($tid, $prefix, $make, $model, $count, $enrolled) {
    my (@autopilot, @managed);
    for my $i (1 .. $count) {
        my $serial = sprintf '%s%06d', $prefix, $i;
        my $managed = $i <= $enrolled ? uuid_from("managed:$tid:$serial") : '00000000-0000-0000-0000-000000000000';
        my $aad = uuid_from("aad:$tid:$serial");
        push @autopilot, { serialNumber => $serial, manufacturer => $make, model => $model,
            enrollmentState => $i <= $enrolled ? 'enrolled' : 'notContacted',
            azureActiveDirectoryDeviceId => $aad, managedDeviceId => $managed,
            groupTag => $i % 2 ? 'Sales' : 'Engineering', displayName => "PC-$serial" };
        push @managed, { id => $managed, serialNumber => $serial, manufacturer => $make,
            model => $model, azureADDeviceId => $aad, deviceName => "PC-$serial" }
            if $i <= $enrolled;
    }
    return (\@autopilot, \@managed);
}

sub seed ($state) {
    my $soon = iso_time(now_s() + 10 * 86400);
    my ($c_auto, $c_managed) = devices($CONTOSO, 'CT', 'Dell Inc.', 'Latitude 7440', 6, 4);
    my ($f_auto, $f_managed) = devices($FABRIKAM, 'FB', 'LENOVO', '21HD0001US', 4, 2);
    $state->load_seed({ tenants => [
        {
            id => $CONTOSO, domain => 'contoso.onmicrosoft.com', displayName => 'Contoso',
            users => users('contoso.onmicrosoft.com',
                ['gina.admin',   'Gina Global',    'global_admin'],
                ['glen.admin',   'Glen Global',    'global_admin'],
                ['tessa.tenant', 'Tessa Tenant',   'tenant_admin'],
                ['omar.ops',     'Omar Operator',  'operator'],
                ['olga.ops',     'Olga Operator',  'operator'],
                ['uma.user',     'Uma User',       'user'],
                ['ulf.user',     'Ulf User',       'user']),
            applications => [
                { appId => $PLATFORM_APP, displayName => 'Concierge', multiTenant => 1,
                  redirectUris => ['https://localhost/auth/callback', 'https://127.0.0.1/auth/callback',
                                   'http://localhost/auth/callback'],
                  identifierUris => ["api://$PLATFORM_APP"],
                  secrets => [{ displayName => 'demo', value => $PLATFORM_SECRET }] },
                { appId => $CONTOSO_DEPLOY_APP, displayName => 'contoso-deploy',
                  secrets => [{ displayName => 'concierge', value => $CONTOSO_DEPLOY_SECRET }] },
            ],
            subscriptions => [{ subscriptionId => $CONTOSO_SUB, displayName => 'Contoso Production' }],
            autopilotDevices => $c_auto, managedDevices => $c_managed,
            vaults => [{ name => 'concierge-kv' }],
        },
        {
            id => $FABRIKAM, domain => 'fabrikam.onmicrosoft.com', displayName => 'Fabrikam',
            users => users('fabrikam.onmicrosoft.com',
                ['tom.tenant',  'Tom Tenant',     'tenant_admin'],
                ['tina.tenant', 'Tina Tenant',    'tenant_admin'],
                ['otto.ops',    'Otto Operator',  'operator'],
                ['ulla.user',   'Ulla User',      'user'],
                ['uwe.user',    'Uwe User',       'user']),
            applications => [
                { appId => $FABRIKAM_DEPLOY_APP, displayName => 'fabrikam-deploy',
                  secrets => [
                      { displayName => 'concierge', value => $FABRIKAM_DEPLOY_SECRET },
                      { displayName => 'old', value => 'demo-fabrikam~expiring.0001', endDateTime => $soon },
                  ] },
            ],
            consentedApps => [$PLATFORM_APP],
            subscriptions => [{ subscriptionId => $FABRIKAM_SUB, displayName => 'Fabrikam Engineering' }],
            autopilotDevices => $f_auto, managedDevices => $f_managed,
            importedDeviceIdentities => [
                { importedDeviceIdentifier => 'LENOVO,21HD0001US,FBCORP0001' },
                { importedDeviceIdentifier => 'LENOVO,21HD0001US,FBCORP0002' },
            ],
        },
    ], settings => { default_vault => 'concierge-kv' } });
    return $state;
}

1;
