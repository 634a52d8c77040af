# Simulated Azure Resource Manager: subscriptions, resource groups (with
# asynchronous deletion), template deployments with Azure-AsyncOperation
# polling and operation lists, marketplace agreements and the VM image
# catalogue, behind ARM's authentication, api-version and throttling headers.
package AzureSim::ARM;
use Mojo::Base -strict, -signatures;

use AzureSim::Entra;
use AzureSim::Template;
use AzureSim::Util qw(new_uuid uuid_from now_s iso_time b64url b64url_decode hex_id);
use Digest::SHA qw(sha256_hex);
use Mojo::JSON qw(encode_json decode_json true false);
use Time::HiRes ();

my $SUB  = qr{/subscriptions/([^/]+)}i;
my $RG   = qr{$SUB/resourcegroups/([^/]+)}i;
# ARM serves deployments with and without the provider segment.
my $DEP  = qr{$RG(?:/providers/Microsoft\.Resources)?/deployments/([^/]+)}i;
my $MKT  = qr{$SUB/providers/Microsoft\.MarketplaceOrdering/offerTypes/virtualmachine/publishers/([^/]+)/offers/([^/]+)/plans/([^/]+)/agreements/current}i;
my $IMG  = qr{$SUB/providers/Microsoft\.Compute/locations/([^/]+)/publishers/([^/]+)/artifacttypes/vmimage/offers}i;

# method, path regex, handler; the first match wins.
my @ROUTES = (
    [GET    => qr{\A/subscriptions/?\z}i,                 \&list_subscriptions],
    [GET    => qr{\A$SUB/?\z},                            \&get_subscription],
    [GET    => qr{\A$SUB/resourcegroups/?\z}i,            \&list_resource_groups],
    [PUT    => qr{\A$RG/?\z},                             \&put_resource_group],
    [GET    => qr{\A$RG/?\z},                             \&get_resource_group],
    [HEAD   => qr{\A$RG/?\z},                             \&head_resource_group],
    [DELETE => qr{\A$RG/?\z},                             \&delete_resource_group],
    [GET    => qr{\A$SUB/operationresults/([^/]+)/?\z}i,  \&rg_operation_result],
    [GET    => qr{\A$RG(?:/providers/Microsoft\.Resources)?/deployments/?\z}i, \&list_deployments],
    [PUT    => qr{\A$DEP/?\z},                            \&put_deployment],
    [GET    => qr{\A$DEP/?\z},                            \&get_deployment],
    [GET    => qr{\A$DEP/operationStatuses/([^/]+)/?\z}i, \&deployment_status],
    [GET    => qr{\A$DEP/operations/?\z}i,                \&deployment_operations],
    [GET    => qr{\A$MKT/?\z},                            \&get_agreement],
    [PUT    => qr{\A$MKT/?\z},                            \&put_agreement],
    [GET    => qr{\A$IMG/?\z},                            \&list_offers],
    [GET    => qr{\A$IMG/([^/]+)/skus/?\z}i,              \&list_skus],
    [GET    => qr{\A$IMG/([^/]+)/skus/([^/]+)/versions/?\z}i, \&list_versions],
    [GET    => qr{\A$IMG/([^/]+)/skus/([^/]+)/versions/([^/]+)/?\z}i, \&get_version],
);

sub routes ($app, $r) {
    $r->any('/subscriptions' => \&dispatch);
    $r->any('/subscriptions/*rest' => \&dispatch);
    $r->any('/providers/*rest' => \&dispatch);
}

sub pub ($c) { $c->app->public_url }

sub arm_error ($c, $status, $code, $message, %more) {
    return $c->render(status => $status, json => { error => { code => $code,
        message => $message, %more } });
}

sub dispatch ($c) {
    my $req  = $c->req;
    my $path = $req->url->path->to_string;
    my $h    = $c->res->headers;
    my $corr = $req->headers->header('x-ms-correlation-request-id') // new_uuid();
    $h->header('x-ms-request-id' => new_uuid());
    $h->header('x-ms-correlation-request-id' => $corr);
    $h->header('x-ms-routing-request-id' => 'EASTUS:' . iso_time() =~ s/[-:]|\.\d+//gr . ":$corr");
    $c->stash(correlation => $corr);

    my $auth = check_auth($c) // return;
    $c->stash(claims => $auth);
    my $api = $c->param('api-version');
    return arm_error($c, 400, 'MissingApiVersionParameter',
        'The api-version query parameter (?api-version=) is required for all requests.')
        unless defined $api && length $api;
    return arm_error($c, 400, 'InvalidApiVersionParameter', "The api-version '$api' is invalid. "
        . "The supported versions are '2024-03-01,2023-07-01,2022-09-01,2021-04-01,2020-10-01'.")
        unless $api =~ /\A\d{4}-\d{2}-\d{2}(?:-preview)?\z/;

    my $method = $req->method;
    my $path_matched = 0;
    for my $route (@ROUTES) {
        my ($m, $re, $handler) = @$route;
        next unless $path =~ $re;
        my @captures = @{^CAPTURE};
        $path_matched = 1;
        next unless $m eq $method;
        if ($path =~ m{\A$SUB}i) {
            my $sub = subscription_for($c, $1) // return;
            ratelimit_headers($c, $sub);
        }
        return $handler->($c, @captures);
    }
    return arm_error($c, 405, 'MethodNotAllowed',
        "The requested resource does not support http method '$method'.") if $path_matched;
    return arm_error($c, 404, 'InvalidResourceType',
        'The resource type could not be found in the namespace for api version.');
}

# ---- authentication and authorization --------------------------------------

sub unauthorized ($c, $code, $message, $authority, $desc) {
    $c->res->headers->www_authenticate(qq{Bearer authorization_uri="$authority", }
        . qq{error="invalid_token", error_description="$desc"});
    return arm_error($c, 401, $code, $message);
}

sub check_auth ($c) {
    my $r = $c->app->check_bearer($c, AzureSim::Entra::audiences('arm'));
    return $r->{claims} unless $r->{error};
    my $base = pub($c) . '/';
    if ($r->{error} eq 'missing') {
        unauthorized($c, 'AuthenticationFailed', "Authentication failed. The 'Authorization' header is missing.",
            $base, "The authentication failed because of missing 'Authorization' header.");
    } elsif ($r->{error} eq 'expired') {
        unauthorized($c, 'ExpiredAuthenticationToken', "The access token expiry UTC time '"
            . iso_time($r->{claims}{exp}) . "' is earlier than current UTC time '" . iso_time() . "'.",
            $base, 'The access token is expired.');
    } elsif ($r->{error} eq 'audience') {
        unauthorized($c, 'InvalidAuthenticationToken', 'The access token has been obtained for '
            . "wrong audience or resource '" . ($r->{claims}{aud} // '') . "'. It should exactly "
            . 'match with one of the allowed audiences '
            . join(',', map {"'$_'"} AzureSim::Entra::audiences('arm')) . '.',
            $base, 'The access token has been obtained for wrong audience or resource.');
    } else {
        unauthorized($c, 'InvalidAuthenticationToken', 'The access token is invalid.', $base,
            'The access token is invalid.');
    }
    return undef;
}

sub subscription_for ($c, $id) {
    my $sub = $c->app->state->subscriptions->{ lc $id };
    my $claims = $c->stash('claims');
    unless ($sub) {
        arm_error($c, 404, 'SubscriptionNotFound', "The subscription '$id' could not be found.");
        return undef;
    }
    if ($sub->{tenant} ne $claims->{tid}) {
        my $iss = $c->app->issuer_for($claims->{tid}, $claims->{ver} // '1.0');
        my $want = $c->app->issuer_for($sub->{tenant}, $claims->{ver} // '1.0');
        unauthorized($c, 'InvalidAuthenticationTokenTenant', "The access token is from the wrong "
            . "issuer '$iss'. It must match the tenant '$want' associated with this subscription. "
            . 'Please use the authority (URL) \'' . pub($c) . "/$sub->{tenant}' to get the token. "
            . 'Note, if the subscription is transferred to another tenant there is no impact to '
            . 'the services, but information about new tenant could take time to propagate (up '
            . 'to an hour). If you just transferred your subscription and see this error message, '
            . 'please try back later.', pub($c) . "/$sub->{tenant}",
            'The access token is from the wrong issuer. It must match the tenant associated '
            . 'with this subscription. Please use correct authority to get the token.');
        return undef;
    }
    if (ref $sub->{principals} eq 'ARRAY') {
        my %ok = map { lc($_) => 1 } @{ $sub->{principals} };
        unless ($ok{ lc($claims->{oid} // '') } || $ok{ lc($claims->{appid} // $claims->{azp} // '') }) {
            my $action = $c->req->method eq 'GET' ? 'read' : $c->req->method eq 'DELETE' ? 'delete' : 'write';
            arm_error($c, 403, 'AuthorizationFailed', "The client '"
                . ($claims->{appid} // $claims->{azp} // '') . "' with object id '"
                . ($claims->{oid} // '') . "' does not have authorization to perform action "
                . "'Microsoft.Resources/subscriptions/resourcegroups/$action' over scope '"
                . $c->req->url->path . "' or the scope is invalid. If access was recently "
                . 'granted, please refresh your credentials.');
            return undef;
        }
    }
    return $sub;
}

# Hourly budgets per subscription, as the x-ms-ratelimit-remaining-* headers
# report them.
sub ratelimit_headers ($c, $sub) {
    my $hour = int(now_s() / 3600);
    my $b = $sub->{budget};
    $b = $sub->{budget} = { hour => $hour, reads => 12000, writes => 1200, deletes => 15000 }
        unless $b && $b->{hour} == $hour;
    my $kind = { GET => 'reads', HEAD => 'reads', DELETE => 'deletes' }->{ $c->req->method } // 'writes';
    $b->{$kind}-- if $b->{$kind} > 0;
    my $h = $c->res->headers;
    $h->header("x-ms-ratelimit-remaining-subscription-$kind" => $b->{$kind});
    $h->header('x-ms-ratelimit-remaining-subscription-global-reads' => $b->{reads} * 2)
        if $kind eq 'reads';
    $h->header('x-ms-ratelimit-remaining-tenant-reads' => $b->{reads}) if $kind eq 'reads';
}

# ---- subscriptions -----------------------------------------------------------

sub subscription_json ($sub) {
    return {
        id => "/subscriptions/$sub->{subscriptionId}", authorizationSource => 'RoleBased',
        managedByTenants => [], subscriptionId => $sub->{subscriptionId},
        tenantId => $sub->{tenant}, displayName => $sub->{displayName}, state => $sub->{state},
        subscriptionPolicies => { locationPlacementId => 'Public_2014-09-01',
            quotaId => 'PayAsYouGo_2014-09-01', spendingLimit => 'Off' },
    };
}

sub list_subscriptions ($c) {
    my $tid = $c->stash('claims')->{tid};
    my @subs = map { subscription_json($_) } sort { $a->{subscriptionId} cmp $b->{subscriptionId} }
        grep { $_->{tenant} eq $tid } values %{ $c->app->state->subscriptions };
    return $c->render(json => { value => \@subs, count => { type => 'Total', value => scalar @subs } });
}

sub get_subscription ($c, $id) {
    return $c->render(json => subscription_json($c->app->state->subscriptions->{ lc $id }));
}

# ---- resource groups -----------------------------------------------------------

sub rg_key ($sub, $rg) { lc "$sub/$rg" }

sub rg_json ($rg) {
    return { id => "/subscriptions/$rg->{sub}/resourceGroups/$rg->{name}", name => $rg->{name},
        type => 'Microsoft.Resources/resourceGroups', location => $rg->{location},
        ($rg->{tags} ? (tags => $rg->{tags}) : ()),
        properties => { provisioningState => $rg->{deleting} ? 'Deleting' : 'Succeeded' } };
}

# A resource group whose deletion has finished is gone.
sub find_rg ($c, $sub, $name) {
    my $state = $c->app->state;
    my $key = rg_key($sub, $name);
    my $rg = $state->resource_groups->{$key} or return undef;
    if ($rg->{deleting} && $rg->{deleting}{done_at} <= Time::HiRes::time()) {
        delete $state->resource_groups->{$key};
        delete $state->deployments->{$_} for grep { index($_, "$key/") == 0 } keys %{ $state->deployments };
        return undef;
    }
    return $rg;
}

sub rg_not_found ($c, $name) {
    return arm_error($c, 404, 'ResourceGroupNotFound', "Resource group '$name' could not be found.");
}

sub json_body ($c) {
    my $body = eval { decode_json($c->req->body) };
    return $body if ref $body eq 'HASH';
    arm_error($c, 400, 'InvalidRequestContent', 'The request content was invalid and could not be deserialized.');
    return undef;
}

sub put_resource_group ($c, $sub, $name) {
    my $body = json_body($c) // return;
    return arm_error($c, 400, 'InvalidResourceGroupName',
        "Resource group name '$name' is invalid. It can contain only alphanumeric characters, "
        . "periods, underscores, hyphens and parenthesis and cannot end in a period.")
        unless $name =~ /\A[-\w.()]{1,90}\z/ && $name !~ /\.\z/;
    my $loc = lc($body->{location} // '');
    $loc =~ s/\s+//g;
    return arm_error($c, 400, 'LocationRequired', 'The location property is required for this definition.')
        unless length $loc;
    return arm_error($c, 400, 'LocationNotAvailableForResourceGroup', "The provided location "
        . "'$body->{location}' is not available for resource group. List of available regions is '"
        . join(',', @AzureSim::Template::REGIONS) . "'.") unless $AzureSim::Template::REGION{$loc};
    my $existing = find_rg($c, $sub, $name);
    if ($existing && $existing->{deleting}) {
        return arm_error($c, 409, 'ResourceGroupBeingDeleted',
            "The resource group '$existing->{name}' is in deprovisioning state and cannot perform this operation.");
    }
    if ($existing && $existing->{location} ne $loc) {
        return arm_error($c, 409, 'InvalidResourceGroupLocation', "Invalid resource group location "
            . "'$loc'. The Resource group already exists in location '$existing->{location}'.");
    }
    my $rg = $existing // { sub => lc $sub, name => $name, location => $loc };
    $rg->{tags} = $body->{tags} if exists $body->{tags};
    $c->app->state->resource_groups->{ rg_key($sub, $name) } = $rg;
    return $c->render(status => $existing ? 200 : 201, json => rg_json($rg));
}

sub get_resource_group ($c, $sub, $name) {
    my $rg = find_rg($c, $sub, $name) // return rg_not_found($c, $name);
    return $c->render(json => rg_json($rg));
}

sub head_resource_group ($c, $sub, $name) {
    return $c->rendered(find_rg($c, $sub, $name) ? 204 : 404);
}

sub list_resource_groups ($c, $sub) {
    my @rgs = grep { $_ && $_->{sub} eq lc $sub }
        map { find_rg($c, $_->{sub}, $_->{name}) } values %{ $c->app->state->resource_groups };
    return $c->render(json => { value => [map { rg_json($_) } sort { $a->{name} cmp $b->{name} } @rgs] });
}

sub delete_resource_group ($c, $sub, $name) {
    my $rg = find_rg($c, $sub, $name) // return rg_not_found($c, $name);
    my $now = Time::HiRes::time();
    unless ($rg->{deleting}) {
        my $token = b64url(encode_json({ jobId => 'RESOURCEGROUPDELETIONJOB-'
            . uc($name =~ s/[^A-Za-z0-9]//gr) . '-' . uc(hex_id(4)), jobLocation => $rg->{location} }));
        $rg->{deleting} = { token => $token, done_at => $now + $c->app->setting('rg_delete_seconds') };
        $c->app->state->rg_deletions->{$token} = $rg->{deleting};
    }
    return accepted_location($c, $sub, $rg->{deleting}{token});
}

sub accepted_location ($c, $sub, $token) {
    my $h = $c->res->headers;
    $h->location(pub($c) . "/subscriptions/$sub/operationresults/$token?api-version="
        . $c->param('api-version'));
    $h->header('Retry-After' => $c->app->setting('retry_after'));
    return $c->rendered(202);
}

sub rg_operation_result ($c, $sub, $token) {
    my $job = $c->app->state->rg_deletions->{$token}
        // return arm_error($c, 404, 'NotFound', 'The operation result could not be found.');
    return accepted_location($c, $sub, $token) if $job->{done_at} > Time::HiRes::time();
    return $c->rendered(200);
}

# ---- deployments -----------------------------------------------------------------

sub dep_key ($sub, $rg, $name) { lc "$sub/$rg/$name" }

sub dep_id ($d) {
    return "/subscriptions/$d->{sub}/resourceGroups/$d->{rg}/providers/Microsoft.Resources/deployments/$d->{name}";
}

# A deployment's state follows the clock: Accepted on creation, Running
# until its duration has passed, then Succeeded or Failed.
sub dep_state ($d) {
    my $elapsed = Time::HiRes::time() - $d->{created};
    return 'Running' if $elapsed < $d->{duration};
    return $d->{failure} ? 'Failed' : 'Succeeded';
}

sub iso_duration ($secs) { sprintf 'PT%.7fS', $secs }

sub deployment_error ($d) {
    my $f = $d->{failure} or return undef;
    my $inner = { code => $f->{code}, message => $f->{message},
        (defined $f->{target} ? (target => $f->{target}) : ()) };
    my $detail = $f->{provisioning}
        ? { code => 'ResourceDeploymentFailure', target => $f->{resource}{id},
            message => 'The resource write operation failed to complete successfully, because '
                . "it reached terminal provisioning state 'Failed'.", details => [$inner] }
        : $inner;
    return { code => 'DeploymentFailed', target => dep_id($d),
        message => 'At least one resource deployment operation failed. Please list deployment '
            . 'operations for details. Please see https://aka.ms/arm-deployment-operations for '
            . 'usage details.', details => [$detail] };
}

sub dep_json ($c, $d, $state = dep_state($d)) {
    my $elapsed = Time::HiRes::time() - $d->{created};
    $elapsed = $d->{duration} if $elapsed > $d->{duration};
    my %params = map {
        my $type = ($d->{template}{parameters}{$_}{type} // 'string');
        ($_ => lc $type eq 'securestring' || lc $type eq 'secureobject'
            ? { type => $type =~ s/^secure/Secure/ir }
            : { type => ucfirst(lc $type), value => $d->{params}{$_} })
    } keys %{ $d->{params} };
    my %providers;
    push @{ $providers{ (split m{/}, $_->{type})[0] } }, (split m{/}, $_->{type}, 2)[1]
        for @{ $d->{resources} };
    my $props = {
        templateHash => $d->{hash}, parameters => \%params, mode => $d->{mode},
        provisioningState => $state, timestamp => iso_time($d->{created} + $elapsed),
        duration => iso_duration($elapsed), correlationId => $d->{correlation},
        providers => [map { { namespace => $_, resourceTypes => [map { { resourceType => $_,
            locations => [$d->{location}] } } @{ $providers{$_} }] } } sort keys %providers],
        dependencies => [],
    };
    if ($state eq 'Succeeded') {
        $props->{outputs} = $d->{outputs} if %{ $d->{outputs} };
        $props->{outputResources} = [map { { id => $_->{id} } } @{ $d->{resources} }];
    }
    $props->{error} = deployment_error($d) if $state eq 'Failed';
    return { id => dep_id($d), name => $d->{name}, type => 'Microsoft.Resources/deployments',
        properties => $props };
}

sub find_deployment ($c, $sub, $rg, $name) {
    find_rg($c, $sub, $rg) // return undef;
    return $c->app->state->deployments->{ dep_key($sub, $rg, $name) };
}

sub deployment_not_found ($c, $name) {
    return arm_error($c, 404, 'DeploymentNotFound', "Deployment '$name' could not be found.");
}

sub terms_checker ($c, $sub) {
    my $agreements = $c->app->state->agreements;
    return sub ($publisher, $offer, $plan) {
        my $a = $agreements->{ lc join '/', $sub, $publisher, $offer, $plan };
        return $a && $a->{accepted};
    };
}

sub put_deployment ($c, $sub, $rg_name, $name) {
    my $state = $c->app->state;
    my $rg = find_rg($c, $sub, $rg_name) // return rg_not_found($c, $rg_name);
    return arm_error($c, 400, 'InvalidDeploymentName', "The deployment name '$name' is invalid. "
        . 'It can only contain alphanumeric characters, periods, underscores, hyphens and '
        . 'parenthesis, and cannot be longer than 64 characters.')
        unless $name =~ /\A[-\w.()]{1,64}\z/;
    my $body  = json_body($c) // return;
    my $props = $body->{properties};
    return arm_error($c, 400, 'InvalidRequestContent', "The request content was invalid and "
        . "could not be deserialized: 'Required property 'properties' not found in JSON.'.")
        unless ref $props eq 'HASH';
    return arm_error($c, 400, 'InvalidRequestContent', 'The simulator does not fetch templateLink '
        . 'or parametersLink; send the template inline.')
        if $props->{templateLink} || $props->{parametersLink};
    return arm_error($c, 400, 'InvalidRequestContent', "The request content was invalid and could "
        . "not be deserialized: 'Required property 'template' not found in JSON.'.")
        unless ref $props->{template} eq 'HASH';
    my $mode = $props->{mode} // '';
    return arm_error($c, 400, 'InvalidRequestContent',
        "The deployment mode '$mode' is not valid. Expected 'Incremental' or 'Complete'.")
        unless $mode =~ /\A(?:Incremental|Complete)\z/;

    my $key = dep_key($sub, $rg_name, $name);
    my $old = $state->deployments->{$key};
    return arm_error($c, 409, 'DeploymentActive', "The deployment '$name' cannot be saved, because "
        . 'this would overwrite an existing deployment which is still active.')
        if $old && dep_state($old) eq 'Running';

    my $template = $props->{template};
    my $sub_obj  = $state->subscriptions->{ lc $sub };
    my $ctx = AzureSim::Template::new_context(sub => lc $sub, rg => $rg, tenant => $sub_obj->{tenant},
        sub_name => $sub_obj->{displayName}, deployment => $name,
        variables => $template->{variables} // {});
    my $error = AzureSim::Template::resolve_parameters($ctx, $template, $props->{parameters} // {});
    return arm_error($c, 400, $error->{code}, $error->{message}) if $error;
    my ($resources, $rerr) = AzureSim::Template::expand_resources($ctx, $template);
    return arm_error($c, 400, $rerr->{code}, $rerr->{message}) unless $resources;
    if (my $pf = AzureSim::Template::preflight($ctx, $resources, terms_checker($c, $sub))) {
        return arm_error($c, 400, $pf->{code}, $pf->{message},
            ($pf->{details} ? (details => $pf->{details}) : ()));
    }
    my ($outputs, $oerr) = AzureSim::Template::outputs($ctx, $template);
    return arm_error($c, 400, $oerr->{code}, $oerr->{message}) unless $outputs;

    my $failure;
    for my $r (@$resources) {
        next unless lc $r->{type} eq 'microsoft.compute/virtualmachines';
        $failure = AzureSim::Template::vm_failure($ctx, $r) or next;
        $failure->{resource} = $r;
        last;
    }
    my $d = $state->deployments->{$key} = {
        sub => lc $sub, rg => $rg->{name}, name => $name, mode => $mode,
        created => Time::HiRes::time(), duration => $c->app->setting('deployment_seconds'),
        template => $template, params => $ctx->{params}, resources => $resources,
        outputs => $outputs, failure => $failure, location => $rg->{location},
        hash => substr(sha256_hex(encode_json($template)) =~ tr/a-f/012345/r, 0, 20),
        correlation => $c->stash('correlation'), op => new_uuid() =~ tr/-//dr,
        ops => { map { ($_->{id} => uc hex_id(8)) } @$resources },
    };
    my $h = $c->res->headers;
    $h->header('Azure-AsyncOperation' => pub($c) . dep_id($d)
        . "/operationStatuses/$d->{op}?api-version=" . $c->param('api-version'));
    $h->header('Retry-After' => $c->app->setting('retry_after'));
    return $c->render(status => $old ? 200 : 201, json => dep_json($c, $d, 'Accepted'));
}

sub get_deployment ($c, $sub, $rg, $name) {
    my $d = find_deployment($c, $sub, $rg, $name) // return deployment_not_found($c, $name);
    return $c->render(json => dep_json($c, $d));
}

sub list_deployments ($c, $sub, $rg) {
    find_rg($c, $sub, $rg) // return rg_not_found($c, $rg);
    my $prefix = lc "$sub/$rg/";
    my @deps = map { dep_json($c, $_) } sort { $a->{created} <=> $b->{created} }
        map { $c->app->state->deployments->{$_} }
        grep { index($_, $prefix) == 0 } keys %{ $c->app->state->deployments };
    return $c->render(json => { value => \@deps });
}

sub deployment_status ($c, $sub, $rg, $name, $op) {
    my $d = find_deployment($c, $sub, $rg, $name);
    return arm_error($c, 404, 'OperationNotFound',
        "The operation '$op' could not be found.") unless $d && $d->{op} eq $op;
    my $state = dep_state($d);
    $c->res->headers->header('Retry-After' => $c->app->setting('retry_after')) if $state eq 'Running';
    return $c->render(json => { status => $state,
        ($state eq 'Failed' ? (error => deployment_error($d)) : ()) });
}

sub operation_json ($d, $r, $state) {
    my $f = $d->{failure};
    my $failed = $state eq 'Failed' && $f && $f->{resource} == $r;
    my $pstate = $failed ? 'Failed' : $state eq 'Running' && $f && $f->{resource} == $r ? 'Running'
        : $state eq 'Running' && lc $r->{type} eq 'microsoft.compute/virtualmachines' ? 'Running'
        : 'Succeeded';
    my $opid = $d->{ops}{ $r->{id} };
    my %props = (
        provisioningOperation => 'Create', provisioningState => $pstate,
        timestamp => iso_time($d->{created} + $d->{duration}),
        duration => iso_duration($d->{duration} / 2), trackingId => uuid_from("track:$opid"),
        serviceRequestId => uuid_from("svc:$opid"),
        targetResource => { id => $r->{id}, resourceType => $r->{type}, resourceName => $r->{name} },
    );
    if ($failed) {
        $props{statusCode} = $f->{status};
        $props{statusMessage} = $f->{provisioning}
            ? { status => 'Failed', error => { code => 'ResourceDeploymentFailure', message =>
                "The resource operation completed with terminal provisioning state 'Failed'.",
                details => [{ code => $f->{code}, message => $f->{message} }] } }
            : { error => { code => $f->{code}, message => $f->{message},
                (defined $f->{target} ? (target => $f->{target}) : ()) } };
    } elsif ($pstate eq 'Succeeded') {
        $props{statusCode} = 'OK';
        $props{statusMessage} = { status => 'Succeeded' };
    }
    return { id => dep_id($d) . "/operations/$opid", operationId => $opid, properties => \%props };
}

sub deployment_operations ($c, $sub, $rg, $name) {
    my $d = find_deployment($c, $sub, $rg, $name) // return deployment_not_found($c, $name);
    my $state = dep_state($d);
    my @ops;
    for my $r (@{ $d->{resources} }) {
        push @ops, operation_json($d, $r, $state);
        last if $d->{failure} && $d->{failure}{resource} == $r;
    }
    # Pages of $top (default 10) with nextLink, as ARM pages long lists.
    my $top  = $c->param('$top') // 10;
    $top = 10 unless $top =~ /\A[1-9]\d*\z/;
    my $skip = $c->param('$skiptoken') // 0;
    $skip = 0 unless $skip =~ /\A\d+\z/;
    my @page = grep { defined } @ops[$skip .. $skip + $top - 1];
    my %out = (value => \@page);
    if ($skip + $top < @ops) {
        $out{nextLink} = pub($c) . dep_id($d) . '/operations?api-version=' . $c->param('api-version')
            . '&$top=' . $top . '&$skiptoken=' . ($skip + $top);
    }
    return $c->render(json => \%out);
}

# ---- marketplace -----------------------------------------------------------------

sub agreement_json ($c, $sub, $image, $accepted, $at) {
    return {
        id => "/subscriptions/$sub/providers/Microsoft.MarketplaceOrdering/offerTypes/VirtualMachine/"
            . "publishers/$image->{publisher}/offers/$image->{offer}/plans/$image->{sku}/agreements/current",
        name => $image->{sku}, type => 'Microsoft.MarketplaceOrdering/offertypes',
        properties => {
            publisher => $image->{publisher}, product => $image->{offer}, plan => $image->{sku},
            licenseTextLink => "https://mpcprodsa.blob.core.windows.net/legalterms/3E5ED_legalterms_$image->{publisher}%253a24$image->{offer}%253a24$image->{sku}.txt",
            privacyPolicyLink => 'https://www.cisecurity.org/privacy-policy/',
            marketplaceTermsLink => 'https://mpcprodsa.blob.core.windows.net/marketplaceterms/3EDEF_marketplaceterms_VIRTUALMACHINE%253a24AAK2OAIZEAWW5H4MSP5KSTVB6NDKKRTUBAU23BRFTWN4YC2MQLJUB5ZEYUOUJBVF3YK34CIVPZL2HWYASPGDUY5O2FWEGRBYOXWZE5Y.txt',
            retrieveDatetime => $at // iso_time(),
            signature => uc substr(sha256_hex("$sub/$image->{publisher}/$image->{offer}/$image->{sku}"), 0, 52),
            accepted => $accepted ? true : false,
        },
    };
}

sub marketplace_image ($c, $publisher, $offer, $plan) {
    my $image = AzureSim::Template::find_image($publisher, $offer, $plan);
    return $image if $image && $image->{marketplace};
    arm_error($c, 404, 'NotFound', "Offer with PublisherId: '$publisher', "
        . "OfferId: '$offer', PlanId: '$plan' was not found in the marketplace.");
    return undef;
}

sub get_agreement ($c, $sub, $publisher, $offer, $plan) {
    my $image = marketplace_image($c, $publisher, $offer, $plan) // return;
    my $a = $c->app->state->agreements->{ lc join '/', $sub, @$image{qw(publisher offer sku)} };
    return $c->render(json => agreement_json($c, $sub, $image, $a && $a->{accepted}, $a && $a->{at}));
}

sub put_agreement ($c, $sub, $publisher, $offer, $plan) {
    my $image = marketplace_image($c, $publisher, $offer, $plan) // return;
    my $body = json_body($c) // return;
    my $accepted = $body->{properties}{accepted} ? 1 : 0;
    my $at = iso_time();
    $c->app->state->agreements->{ lc join '/', $sub, @$image{qw(publisher offer sku)} }
        = { accepted => $accepted, at => $at };
    return $c->render(json => agreement_json($c, $sub, $image, $accepted, $at));
}

# ---- VM image catalogue ------------------------------------------------------------

sub image_location ($c, $loc) {
    return 1 if $AzureSim::Template::REGION{ lc $loc };
    arm_error($c, 404, 'LocationNotFound',
        "The location '$loc' could not be found.");
    return 0;
}

sub publisher_of ($c, $name) {
    my ($p) = grep { lc $_ eq lc $name } keys %AzureSim::Template::IMAGES;
    arm_error($c, 404, 'NotFound', 'Artifact: VMImage was not found.') unless $p;
    return $p;
}

sub image_entry ($sub, $loc, @parts) {
    my @names = qw(Publishers ArtifactTypes Offers Skus Versions);
    my $path = "/Subscriptions/$sub/Providers/Microsoft.Compute/Locations/$loc/Publishers/$parts[0]/ArtifactTypes/VMImage";
    $path .= "/Offers/$parts[1]" if @parts > 1;
    $path .= "/Skus/$parts[2]" if @parts > 2;
    $path .= "/Versions/$parts[3]" if @parts > 3;
    return { location => lc $loc, name => $parts[-1], id => $path };
}

sub list_offers ($c, $sub, $loc, $pub) {
    image_location($c, $loc) or return;
    my $p = publisher_of($c, $pub) // return;
    return $c->render(json => [map { image_entry($sub, $loc, $p, $_) }
        sort keys %{ $AzureSim::Template::IMAGES{$p} }]);
}

sub list_skus ($c, $sub, $loc, $pub, $offer) {
    image_location($c, $loc) or return;
    my $p = publisher_of($c, $pub) // return;
    my ($o) = grep { lc $_ eq lc $offer } keys %{ $AzureSim::Template::IMAGES{$p} };
    return arm_error($c, 404, 'NotFound', 'Artifact: VMImage was not found.') unless $o;
    return $c->render(json => [map { image_entry($sub, $loc, $p, $o, $_) }
        sort keys %{ $AzureSim::Template::IMAGES{$p}{$o} }]);
}

sub list_versions ($c, $sub, $loc, $pub, $offer, $sku) {
    image_location($c, $loc) or return;
    my $image = AzureSim::Template::find_image($pub, $offer, $sku)
        // return arm_error($c, 404, 'NotFound', 'Artifact: VMImage was not found.');
    return $c->render(json => [map { image_entry($sub, $loc, @$image{qw(publisher offer sku)}, $_) }
        @AzureSim::Template::IMAGE_VERSIONS]);
}

sub get_version ($c, $sub, $loc, $pub, $offer, $sku, $version) {
    image_location($c, $loc) or return;
    my $image = AzureSim::Template::find_image($pub, $offer, $sku);
    return arm_error($c, 404, 'NotFound', 'Artifact: VMImage was not found.')
        unless $image && grep { $_ eq $version } @AzureSim::Template::IMAGE_VERSIONS;
    my $entry = image_entry($sub, $loc, @$image{qw(publisher offer sku)}, $version);
    $entry->{properties} = {
        hyperVGeneration => $image->{gen}, architecture => 'x64',
        osDiskImage => { operatingSystem => $image->{os}, sizeInGb => 30 },
        dataDiskImages => [],
        ($image->{marketplace} ? (purchasePlan => { name => $image->{sku},
            publisher => $image->{publisher}, product => $image->{offer} }) : ()),
    };
    return $c->render(json => $entry);
}

1;
