# Simulated Microsoft Graph (v1.0 and beta): Autopilot device identities,
# Intune managed devices, Cloud PCs, applications and service principals with
# their password credentials.  The tenant is the token's tid: one tenant never
# sees another's objects.
package AzureSim::Graph;
use Mojo::Base -strict, -signatures;

use AzureSim::Entra;
use AzureSim::Util qw(new_uuid is_guid b64url b64url_decode);
use Mojo::JSON qw(encode_json true false);
use POSIX qw(strftime);

my $GUID = qr/[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}/;

my @ROUTES = (
    [qr{\A/deviceManagement/windowsAutopilotDeviceIdentities/?\z}i, \&list_autopilot,
        'DeviceManagementServiceConfig'],
    [qr{\A/deviceManagement/windowsAutopilotDeviceIdentities/([^/]+)/?\z}i, \&get_autopilot,
        'DeviceManagementServiceConfig'],
    [qr{\A/deviceManagement/managedDevices/?\z}i, \&list_managed, 'DeviceManagementManagedDevices'],
    [qr{\A/deviceManagement/managedDevices/([^/]+)/?\z}i, \&get_managed, 'DeviceManagementManagedDevices'],
    [qr{\A/deviceManagement/virtualEndpoint/cloudPCs/?\z}i, \&list_cloudpcs, 'CloudPC'],
    [qr{\A/deviceManagement/importedDeviceIdentities/?\z}i, \&list_imported,
        'DeviceManagementServiceConfig'],
    [qr{\A/deviceManagement/importedDeviceIdentities/searchExistingIdentities/?\z}i,
        \&search_imported, 'DeviceManagementServiceConfig', 'POST'],
    [qr{\A/applications/?\z}i, \&list_applications, 'Application'],
    [qr{\A/applications\(appId='([^']+)'\)/?\z}i, \&get_application_by_appid, 'Application'],
    [qr{\A/applications/([^/]+)/?\z}i, \&get_application, 'Application'],
    [qr{\A/servicePrincipals/?\z}i, \&list_service_principals, 'Application'],
    [qr{\A/servicePrincipals\(appId='([^']+)'\)/?\z}i, \&get_sp_by_appid, 'Application'],
    [qr{\A/servicePrincipals/([^/]+)/?\z}i, \&get_service_principal, 'Application'],
);

sub routes ($app, $r) {
    $r->any('/:ver/*gpath' => [ver => ['v1.0', 'beta']] => \&dispatch);
}

sub inner_error ($c) {
    return { date => strftime('%Y-%m-%dT%H:%M:%S', gmtime),
        'request-id' => $c->stash('graph_request_id') // new_uuid(),
        'client-request-id' => $c->req->headers->header('client-request-id') // new_uuid() };
}

sub graph_error ($c, $status, $code, $message) {
    return $c->render(status => $status, json => { error => { code => $code,
        message => $message, innerError => inner_error($c) } });
}

# Intune answers with a JSON document folded into the message string.
sub intune_not_found ($c) {
    my $op = new_uuid();
    my $msg = "{\r\n  \"_version\": 3,\r\n  \"Message\": \"An error has occurred - Operation ID "
        . "(for customer support): 00000000-0000-0000-0000-000000000000 - Activity ID: $op - "
        . 'Url: https://fef.msub01.manage.microsoft.com/DeviceFE/StatelessDeviceFEService/'
        . "deviceManagement/managedDevices?api-version=2024-01-01\",\r\n  \"CustomApiErrorPhrase\": \"\",\r\n"
        . "  \"RetryAfter\": null,\r\n  \"ErrorSourceService\": \"\",\r\n  \"HttpHeaders\": \"{}\"\r\n}";
    return graph_error($c, 404, 'ResourceNotFound', $msg);
}

sub dispatch ($c) {
    my $rid = new_uuid();
    $c->stash(graph_request_id => $rid);
    my $h = $c->res->headers;
    $h->header('request-id' => $rid);
    $h->header('client-request-id' => $c->req->headers->header('client-request-id') // $rid);
    $h->header('x-ms-ags-diagnostic' => '{"ServerInfo":{"DataCenter":"West Europe","Slice":"E","Ring":"5","ScaleUnit":"000","RoleInstance":"AM1PEPF0000SIM"}}');

    my $r = $c->app->check_bearer($c, AzureSim::Entra::audiences('graph'));
    if ($r->{error}) {
        $h->www_authenticate(qq{Bearer realm="", authorization_uri="} . $c->app->public_url
            . qq{/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"});
        my $msg = { missing => 'Access token is empty.',
            expired => 'Lifetime validation failed, the token is expired.',
            audience => 'Access token validation failure. Invalid audience.' }->{ $r->{error} }
            // 'Access token validation failure.';
        return graph_error($c, 401, 'InvalidAuthenticationToken', $msg);
    }
    my $claims = $r->{claims};
    my $tenant = $c->app->state->tenants->{ $claims->{tid} };
    my $path = '/' . $c->stash('gpath');
    for my $route (@ROUTES) {
        my ($re, $handler, $perm, $method) = @$route;
        next unless $path =~ $re;
        my @cap = @{^CAPTURE};
        return graph_error($c, 405, 'Request_BadRequest', 'Specified HTTP method is not allowed for the request target.')
            unless $c->req->method eq ($method // 'GET');
        return forbidden($c, $perm) unless permitted($claims, $perm);
        return $handler->($c, $tenant, @cap);
    }
    return graph_error($c, 400, 'BadRequest', "Resource not found for the segment '"
        . ((split m{/}, $path)[1] // '') . "'.");
}

# App-only tokens need an application permission in roles; user tokens a
# delegated one in scp.
sub permitted ($claims, $family) {
    my @have = (@{ $claims->{roles} // [] }, split(' ', $claims->{scp} // ''));
    return scalar grep { /\A\Q$family\E\./ } @have;
}

sub forbidden ($c, $family) {
    return graph_error($c, 403, 'Authorization_RequestDenied',
        'Insufficient privileges to complete the operation.') if $family eq 'Application';
    return graph_error($c, 403, 'Forbidden', 'Application is not authorized to perform this '
        . "operation. Application must have one of the following scopes: $family.Read.All, "
        . "$family.ReadWrite.All - Operation ID (for customer support): 00000000-0000-0000-0000-000000000000");
}

sub context_url ($c, $what) {
    return $c->app->public_url . '/' . $c->stash('ver') . '/$metadata#' . $what;
}

# $filter: only the forms the platform uses.  Returns a predicate, or undef
# after answering 400.
sub filter_of ($c, %fields) {
    my $f = $c->param('$filter');
    return sub { 1 } unless defined $f && length $f;
    my $str = q{'((?:[^']|'')*)'};
    if ($f =~ /\A\s*contains\(\s*(\w+)\s*,\s*$str\s*\)\s*\z/ && $fields{"contains:$1"}) {
        my ($field, $needle) = ($1, $2);
        $needle =~ s/''/'/g;
        return sub ($o) { index(lc($o->{$field} // ''), lc $needle) >= 0 };
    }
    if ($f =~ /\A\s*(\w+)\s+eq\s+$str\s*\z/ && $fields{"eq:$1"}) {
        my ($field, $value) = ($1, $2);
        $value =~ s/''/'/g;
        return sub ($o) { lc($o->{$field} // '') eq lc $value };
    }
    graph_error($c, 400, 'BadRequest', "Invalid filter clause: the filter '$f' is not supported.");
    return undef;
}

# @odata.nextLink paging: $top (1..999), opaque $skiptoken, other params kept.
sub collection ($c, $what, $items, %opt) {
    my $top = $c->param('$top') // $c->app->setting('graph_page_size');
    return graph_error($c, 400, 'BadRequest', "Invalid value '$top' for \$top.")
        unless $top =~ /\A[1-9]\d{0,2}\z/;
    my $skip = 0;
    if (defined(my $tok = $c->param('$skiptoken'))) {
        ($skip) = (b64url_decode($tok) // '') =~ /\Askip:(\d+)\z/;
        return graph_error($c, 400, 'BadRequest', 'The $skiptoken is not valid.') unless defined $skip;
    }
    my @page = grep { defined } @$items[$skip .. $skip + $top - 1];
    @page = map { select_props($c, $_) } @page;
    my %out = ('@odata.context' => context_url($c, $what), value => \@page);
    if ($skip + $top < @$items) {
        my $url = Mojo::URL->new($c->app->public_url . $c->req->url->path->to_string);
        my $q = $c->req->url->query->clone;
        $q->remove('$skiptoken');
        $q->append('$skiptoken' => b64url('skip:' . ($skip + $top)));
        # Graph writes $top and $skiptoken with a literal "$".
        $out{'@odata.nextLink'} = $url->to_string . '?' . ($q->to_string =~ s/%24/\$/gr);
    }
    $out{'@odata.count'} = scalar @$items if ($c->param('$count') // '') eq 'true';
    return $c->render(json => \%out);
}

sub select_props ($c, $obj) {
    my $sel = $c->param('$select');
    return $obj unless defined $sel && length $sel;
    my %want = map { lc($_) => 1 } split /\s*,\s*/, $sel;
    return { map { ($_ => $obj->{$_}) } grep { $want{ lc $_ } || $_ eq '@odata.type' } keys %$obj };
}

sub single ($c, $what, $obj) {
    return $c->render(json => { '@odata.context' => context_url($c, "$what/\$entity"),
        %{ select_props($c, $obj) } });
}

# ---- device management -------------------------------------------------------

sub autopilot_json ($d) {
    return { '@odata.type' => '#microsoft.graph.windowsAutopilotDeviceIdentity', %$d };
}

sub list_autopilot ($c, $t) {
    my $pred = filter_of($c, 'contains:serialNumber' => 1, 'eq:azureActiveDirectoryDeviceId' => 1,
        'eq:managedDeviceId' => 1) // return;
    return collection($c, 'deviceManagement/windowsAutopilotDeviceIdentities',
        [map { autopilot_json($_) } grep { $pred->($_) } @{ $t->{autopilot} }]);
}

sub get_autopilot ($c, $t, $id) {
    my ($d) = grep { $_->{id} eq lc $id } @{ $t->{autopilot} };
    return intune_not_found($c) unless $d;
    return single($c, 'deviceManagement/windowsAutopilotDeviceIdentities', autopilot_json($d));
}

sub managed_json ($d) { return { '@odata.type' => '#microsoft.graph.managedDevice', %$d } }

sub list_managed ($c, $t) {
    my $pred = filter_of($c, 'eq:serialNumber' => 1, 'eq:azureADDeviceId' => 1,
        'eq:deviceName' => 1) // return;
    return collection($c, 'deviceManagement/managedDevices',
        [map { managed_json($_) } grep { $pred->($_) } sort { $a->{id} cmp $b->{id} }
         values %{ $t->{managed} }]);
}

sub get_managed ($c, $t, $id) {
    my $d = $t->{managed}{ lc $id } or return intune_not_found($c);
    return single($c, 'deviceManagement/managedDevices', managed_json($d));
}

sub list_cloudpcs ($c, $t) {
    my $pred = filter_of($c, 'eq:managedDeviceId' => 1, 'eq:aadDeviceId' => 1) // return;
    return collection($c, 'deviceManagement/virtualEndpoint/cloudPCs',
        [map { +{ '@odata.type' => '#microsoft.graph.cloudPC', %$_ } }
         grep { $pred->($_) } @{ $t->{cloudpcs} }]);
}

# Windows corporate identifiers ("manufacturer,model,serial"), a beta API.
sub imported_json ($d) {
    return { '@odata.type' => '#microsoft.graph.importedDeviceIdentity', %$d };
}

sub list_imported ($c, $t) {
    my $pred = filter_of($c, 'eq:importedDeviceIdentifier' => 1,
        'contains:importedDeviceIdentifier' => 1) // return;
    return collection($c, 'deviceManagement/importedDeviceIdentities',
        [map { imported_json($_) } grep { $pred->($_) } @{ $t->{imported} }]);
}

sub search_imported ($c, $t) {
    my $body = $c->req->json;
    my $wanted = ref $body eq 'HASH' ? $body->{importedDeviceIdentities} : undef;
    return graph_error($c, 400, 'BadRequest', 'importedDeviceIdentities is required.')
        unless ref $wanted eq 'ARRAY';
    my %keys = map { (lc($_->{importedDeviceIdentifier} // '') => 1) } grep { ref $_ eq 'HASH' } @$wanted;
    return $c->render(json => { '@odata.context' => context_url($c, 'Collection(microsoft.graph.importedDeviceIdentity)'),
        value => [map { imported_json($_) } grep { $keys{ lc $_->{importedDeviceIdentifier} } } @{ $t->{imported} }] });
}

# ---- applications and service principals ------------------------------------

sub application_json ($app) {
    return {
        id => $app->{id}, appId => $app->{appId}, displayName => $app->{displayName},
        createdDateTime => $app->{created},
        signInAudience => $app->{multiTenant} ? 'AzureADMultipleOrgs' : 'AzureADMyOrg',
        identifierUris => $app->{identifierUris},
        web => { redirectUris => $app->{redirectUris} },
        keyCredentials => [],
        passwordCredentials => [map { +{ customKeyIdentifier => undef,
            displayName => $_->{displayName}, endDateTime => $_->{endDateTime},
            hint => $_->{hint}, keyId => $_->{keyId}, secretText => undef,
            startDateTime => $_->{startDateTime} } } @{ $app->{passwordCredentials} }],
    };
}

sub tenant_apps ($c, $t) {
    return sort { $a->{appId} cmp $b->{appId} } grep { $_->{tenant} eq $t->{id} }
        values %{ $c->app->state->apps };
}

sub list_applications ($c, $t) {
    my $pred = filter_of($c, 'eq:appId' => 1, 'eq:displayName' => 1) // return;
    return collection($c, 'applications', [grep { $pred->($_) } map { application_json($_) } tenant_apps($c, $t)]);
}

sub no_object ($c, $id) {
    return graph_error($c, 404, 'Request_ResourceNotFound',
        "Resource '$id' does not exist or one of its queried reference-property objects are not present.");
}

sub get_application ($c, $t, $id) {
    my ($app) = grep { $_->{id} eq lc $id } tenant_apps($c, $t);
    return no_object($c, $id) unless $app;
    return single($c, 'applications', application_json($app));
}

sub get_application_by_appid ($c, $t, $appid) {
    my ($app) = grep { $_->{appId} eq lc $appid } tenant_apps($c, $t);
    return no_object($c, $appid) unless $app;
    return single($c, 'applications', application_json($app));
}

sub service_principals ($c, $t) {
    my $state = $c->app->state;
    return map { my $sp = $state->service_principal($_, $t);
        +{ id => $sp->{id}, appId => $sp->{appId}, displayName => $sp->{displayName},
           appOwnerOrganizationId => $sp->{appOwnerOrganizationId},
           servicePrincipalType => 'Application', accountEnabled => true,
           keyCredentials => [], passwordCredentials => [] } }
        grep { $state->service_principal($_, $t) }
        sort { $a->{appId} cmp $b->{appId} } values %{ $state->apps };
}

sub list_service_principals ($c, $t) {
    my $pred = filter_of($c, 'eq:appId' => 1, 'eq:displayName' => 1) // return;
    return collection($c, 'servicePrincipals', [grep { $pred->($_) } service_principals($c, $t)]);
}

sub get_service_principal ($c, $t, $id) {
    my ($sp) = grep { $_->{id} eq lc $id } service_principals($c, $t);
    return no_object($c, $id) unless $sp;
    return single($c, 'servicePrincipals', $sp);
}

sub get_sp_by_appid ($c, $t, $appid) {
    my ($sp) = grep { $_->{appId} eq lc $appid } service_principals($c, $t);
    return no_object($c, $appid) unless $sp;
    return single($c, 'servicePrincipals', $sp);
}

1;
