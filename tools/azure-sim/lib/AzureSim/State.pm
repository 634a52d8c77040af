# The simulated world: tenants, their users, app registrations and service
# principals, subscriptions, devices and key vaults, plus what ARM and Key Vault
# create at run time.  Seeding (a JSON file or the admin API) goes through the
# add_* functions here, which fill in what Azure would fill in.
package AzureSim::State;
use Mojo::Base -base, -signatures;

use AzureSim::Util qw(new_uuid uuid_from is_guid iso_time now_s);
use Mojo::File qw(path);
use Mojo::JSON qw(decode_json true false);

has tenants       => sub { {} };   # tid => tenant
has apps          => sub { {} };   # appId => application registration
has subscriptions => sub { {} };   # subscription id => subscription
has vaults        => sub { {} };   # lower-case vault name => vault
has settings      => sub { {} };

# ARM's run-time objects, keyed by lower-case "sub/rg[/name]".
has resource_groups => sub { {} };
has deployments     => sub { {} };
has rg_deletions    => sub { {} };   # operation token => deletion
has agreements      => sub { {} };   # "sub/publisher/offer/plan" => agreement

sub die_bad ($msg) { die { status => 400, message => $msg } }

sub tenant_by_name ($self, $name) {
    return undef unless defined $name;
    my $t = $self->tenants->{lc $name};
    return $t if $t;
    for my $tenant (values %{ $self->tenants }) {
        return $tenant if grep { lc($_) eq lc($name) } @{ $tenant->{domains} };
    }
    return undef;
}

sub add_tenant ($self, $in) {
    my $id = lc($in->{id} // uuid_from("tenant:" . ($in->{domain} // new_uuid())));
    die_bad("tenant id '$id' is not a GUID") unless is_guid($id);
    my $domain = $in->{domain} // "tenant-" . substr($id, 0, 8) . ".onmicrosoft.com";
    my $t = $self->tenants->{$id} //= {
        id => $id, users => {}, consented => {}, autopilot => [],
        managed => {}, cloudpcs => [], imported => [],
    };
    $t->{displayName} = $in->{displayName} // $t->{displayName} // $domain;
    $t->{domains}     = [$domain, @{ $in->{domains} // [] }];
    $self->add_user($id, $_) for @{ $in->{users} // [] };
    $self->add_app($id, $_) for @{ $in->{applications} // [] };
    $t->{consented}{$_} = 1 for @{ $in->{consentedApps} // [] };
    $self->add_subscription($id, $_) for @{ $in->{subscriptions} // [] };
    $self->add_autopilot_device($id, $_) for @{ $in->{autopilotDevices} // [] };
    $self->add_managed_device($id, $_) for @{ $in->{managedDevices} // [] };
    $self->add_cloud_pc($id, $_) for @{ $in->{cloudPCs} // [] };
    $self->add_imported_identity($id, $_) for @{ $in->{importedDeviceIdentities} // [] };
    $self->add_vault($id, $_) for @{ $in->{vaults} // [] };
    return $t;
}

sub need_tenant ($self, $tid) {
    my $t = $self->tenant_by_name($tid);
    die { status => 404, message => "no tenant '$tid'" } unless $t;
    return $t;
}

sub add_user ($self, $tid, $in) {
    my $t    = $self->need_tenant($tid);
    my $upn  = $in->{userPrincipalName} // die_bad('a user needs userPrincipalName');
    my $oid  = lc($in->{oid} // $in->{id} // uuid_from("user:$t->{id}:$upn"));
    die_bad("user oid '$oid' is not a GUID") unless is_guid($oid);
    return $t->{users}{$oid} = {
        oid               => $oid,
        userPrincipalName => $upn,
        displayName       => $in->{displayName} // $upn,
        roles             => [@{ $in->{roles} // [] }],
        tenant            => $t->{id},
    };
}

# Graph's passwordCredential: the value is kept for the token endpoint, the
# hint (first three characters) is what Graph shows.
sub _secret ($self, $app, $in) {
    my $value = $in->{value} // die_bad('a secret needs a value');
    my $start = $in->{startDateTime} // iso_time(now_s() - 86400);
    my $end   = $in->{endDateTime}   // iso_time(now_s() + 365 * 86400);
    return {
        keyId         => lc($in->{keyId} // uuid_from("secret:$app->{appId}:$value")),
        displayName   => $in->{displayName},
        hint          => substr($value, 0, 3),
        value         => $value,
        startDateTime => $start,
        endDateTime   => $end,
    };
}

sub add_app ($self, $tid, $in) {
    my $t     = $self->need_tenant($tid);
    my $name  = $in->{displayName} // 'app';
    my $appid = lc($in->{appId} // uuid_from("app:$t->{id}:$name"));
    die_bad("appId '$appid' is not a GUID") unless is_guid($appid);
    my $app = $self->apps->{$appid} = {
        appId               => $appid,
        id                  => lc($in->{objectId} // uuid_from("appobj:$appid")),
        displayName         => $name,
        tenant              => $t->{id},
        multiTenant         => $in->{multiTenant} ? 1 : 0,
        publicClient        => $in->{publicClient} ? 1 : 0,
        redirectUris        => [@{ $in->{redirectUris} // [] }],
        identifierUris      => [@{ $in->{identifierUris} // ["api://$appid"] }],
        accessTokenVersion  => $in->{accessTokenVersion} // 2,
        appRoles            => $in->{appRoles},   # roles granted to the app itself
        passwordCredentials => [],
        created             => iso_time(),
    };
    push @{ $app->{passwordCredentials} }, $self->_secret($app, $_)
        for @{ $in->{secrets} // [] };
    return $app;
}

sub add_app_secret ($self, $appid, $in) {
    my $app = $self->apps->{lc $appid}
        // die { status => 404, message => "no application '$appid'" };
    my $s = $self->_secret($app, $in);
    @{ $app->{passwordCredentials} } =
        grep { $_->{keyId} ne $s->{keyId} } @{ $app->{passwordCredentials} };
    push @{ $app->{passwordCredentials} }, $s;
    return $s;
}

# The service principal of an app in a tenant: its home tenant always has
# one, other tenants only after consent.
sub service_principal ($self, $app, $tenant) {
    return undef unless $app->{tenant} eq $tenant->{id}
        || ($app->{multiTenant} && $tenant->{consented}{ $app->{appId} });
    return {
        id          => uuid_from("sp:$tenant->{id}:$app->{appId}"),
        appId       => $app->{appId},
        displayName => $app->{displayName},
        appOwnerOrganizationId => $app->{tenant},
        tenant      => $tenant->{id},
    };
}

sub add_subscription ($self, $tid, $in) {
    my $t   = $self->need_tenant($tid);
    my $name = $in->{displayName} // 'Simulated subscription';
    my $id  = lc($in->{subscriptionId} // uuid_from("sub:$t->{id}:$name"));
    die_bad("subscriptionId '$id' is not a GUID") unless is_guid($id);
    my $sub = $self->subscriptions->{$id} = {
        subscriptionId => $id,
        displayName    => $name,
        state          => $in->{state} // 'Enabled',
        tenant         => $t->{id},
        principals     => $in->{principals},   # undef: everyone in the tenant
    };
    for my $terms (@{ $in->{acceptedTerms} // [] }) {
        $self->agreements->{ lc join '/', $id, @$terms{qw(publisher offer plan)} }
            = { accepted => 1, at => iso_time() };
    }
    return $sub;
}

my %AUTOPILOT_DEFAULTS = (
    groupTag => '', purchaseOrderIdentifier => '', productKey => '',
    manufacturer => 'Contoso Devices', model => 'Surface Laptop 5',
    enrollmentState => 'notContacted', addressableUserName => '',
    userPrincipalName => '', resourceName => '', skuNumber => '',
    systemFamily => '', displayName => '',
    azureActiveDirectoryDeviceId => '00000000-0000-0000-0000-000000000000',
    managedDeviceId => '00000000-0000-0000-0000-000000000000',
);

sub add_autopilot_device ($self, $tid, $in) {
    my $t = $self->need_tenant($tid);
    my $serial = $in->{serialNumber} // die_bad('an Autopilot device needs serialNumber');
    my $d = {
        %AUTOPILOT_DEFAULTS, %$in,
        id => lc($in->{id} // uuid_from("autopilot:$t->{id}:$serial")),
        lastContactedDateTime => $in->{lastContactedDateTime} // '0001-01-01T00:00:00Z',
    };
    @{ $t->{autopilot} } = ((grep { $_->{id} ne $d->{id} } @{ $t->{autopilot} }), $d);
    return $d;
}

sub add_managed_device ($self, $tid, $in) {
    my $t  = $self->need_tenant($tid);
    my $id = lc($in->{id} // new_uuid());
    die_bad("managed device id '$id' is not a GUID") unless is_guid($id);
    return $t->{managed}{$id} = {
        userId => '', deviceName => 'DESKTOP-' . uc(substr($id, 0, 7)),
        managedDeviceOwnerType => 'company', enrolledDateTime => iso_time(),
        lastSyncDateTime => iso_time(), operatingSystem => 'Windows',
        osVersion => '10.0.22631.4460', complianceState => 'compliant',
        managementAgent => 'mdm', azureADDeviceId => uuid_from("aad:$id"),
        azureADRegistered => true, deviceEnrollmentType => 'windowsAzureADJoin',
        userPrincipalName => '', model => 'Surface Laptop 5',
        manufacturer => 'Microsoft Corporation', serialNumber => '',
        isEncrypted => true,
        %$in, id => $id,
    };
}

sub add_cloud_pc ($self, $tid, $in) {
    my $t = $self->need_tenant($tid);
    my $d = { status => 'provisioned', %$in, id => lc($in->{id} // new_uuid()) };
    push @{ $t->{cloudpcs} }, $d;
    return $d;
}

# A corporate identifier; for manufacturerModelSerial the identifier is
# "manufacturer,model,serial".
sub add_imported_identity ($self, $tid, $in) {
    my $t = $self->need_tenant($tid);
    my $ident = $in->{importedDeviceIdentifier} // die_bad('importedDeviceIdentifier is required');
    my $d = {
        importedDeviceIdentityType => 'manufacturerModelSerial', description => '',
        enrollmentState => 'notContacted', platform => 'windows',
        createdDateTime => iso_time(), lastModifiedDateTime => iso_time(),
        lastContactedDateTime => '0001-01-01T00:00:00Z',
        %$in, id => lc($in->{id} // uuid_from("imported:$t->{id}:$ident")),
    };
    @{ $t->{imported} } = ((grep { $_->{id} ne $d->{id} } @{ $t->{imported} }), $d);
    return $d;
}

sub add_vault ($self, $tid, $in) {
    my $t = $self->need_tenant($tid);
    my $name = lc($in->{name} // die_bad('a vault needs a name'));
    die_bad("vault name '$name' is not valid")
        unless $name =~ /\A[a-z][a-z0-9-]{1,22}[a-z0-9]\z/;
    my $v = $self->vaults->{$name} //= { name => $name, secrets => {}, deleted => {} };
    $v->{tenant} = $t->{id};
    return $v;
}

sub load_seed ($self, $seed) {
    die_bad('the seed must be a JSON object') unless ref $seed eq 'HASH';
    $self->add_tenant($_) for @{ $seed->{tenants} // [] };
    # Consent and cross-tenant references may name tenants seeded later.
    for my $in (@{ $seed->{tenants} // [] }) {
        my $t = $self->tenant_by_name($in->{id} // $in->{domain}) or next;
        $t->{consented}{ lc $_ } = 1 for @{ $in->{consentedApps} // [] };
    }
    %{ $self->settings } = (%{ $self->settings }, %{ $seed->{settings} // {} });
    return $self;
}

sub load_file ($self, $file) { $self->load_seed(decode_json(path($file)->slurp)) }

# What the admin API's GET /admin/state shows: the seedable part.
sub dump ($self) {
    my @tenants;
    for my $t (sort { $a->{id} cmp $b->{id} } values %{ $self->tenants }) {
        my $tid = $t->{id};
        push @tenants, {
            id => $tid, domain => $t->{domains}[0], displayName => $t->{displayName},
            users => [sort { $a->{userPrincipalName} cmp $b->{userPrincipalName} }
                      values %{ $t->{users} }],
            applications => [map { +{ %$_ } } grep { $_->{tenant} eq $tid }
                             sort { $a->{appId} cmp $b->{appId} } values %{ $self->apps }],
            consentedApps => [sort keys %{ $t->{consented} }],
            subscriptions => [grep { $_->{tenant} eq $tid } values %{ $self->subscriptions }],
            autopilotDevices => $t->{autopilot},
            managedDevices => [values %{ $t->{managed} }],
            cloudPCs => $t->{cloudpcs},
            importedDeviceIdentities => $t->{imported},
            vaults => [map { +{ name => $_->{name} } } grep { $_->{tenant} eq $tid }
                       values %{ $self->vaults }],
        };
    }
    return { tenants => \@tenants, settings => $self->settings };
}

1;
