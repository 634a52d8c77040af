# Simulated Microsoft Entra ID: OIDC discovery (v1 and v2, per tenant and
# tenant-independent), JWKS, the authorize endpoint with a sign-in page for
# the seeded users, and the token endpoint (authorization_code with PKCE,
# client_credentials, refresh_token) with Entra's AADSTS error bodies.
package AzureSim::Entra;
use Mojo::Base -strict, -signatures;

use AzureSim::Util qw(new_uuid uuid_from is_guid now_s entra_time b64url random_token);
use Digest::SHA qw(sha256);
use Mojo::Util qw(b64_decode url_unescape secure_compare xml_escape);
use Mojo::JSON qw(true false);
use Mojo::URL;

# First-party resources: every form a token may be asked for, and the forms
# the resource server accepts as aud.
our %RESOURCES = (
    arm => {
        ids => ['https://management.azure.com', 'https://management.core.windows.net',
                '797f4846-ba00-4fd7-ba43-dac1f8f63013'],
    },
    keyvault => {
        ids => ['https://vault.azure.net', 'cfa8b339-82a2-471a-a3c9-0fc0be7a4093'],
    },
    graph => {
        ids => ['https://graph.microsoft.com', '00000003-0000-0000-c000-000000000000'],
    },
);

sub audiences ($service) {
    return map { ($_, m{^https://} ? "$_/" : ()) } @{ $RESOURCES{$service}{ids} };
}

my %OIDC_SCOPES = map { $_ => 1 } qw(openid profile email offline_access);

sub routes ($app, $r) {
    my $t = $r->under('/#tenant' => { tenant => '' } => sub ($c) { 1 });
    $t->get('/v2.0/.well-known/openid-configuration' => sub ($c) { discovery($c, 2) });
    $t->get('/.well-known/openid-configuration'      => sub ($c) { discovery($c, 1) });
    $t->get('/discovery/v2.0/keys' => sub ($c) { keys_doc($c, 2) });
    $t->get('/discovery/keys'      => sub ($c) { keys_doc($c, 1) });
    $t->get('/discovery/instance'  => \&instance_discovery);
    $t->any(['GET', 'POST'] => '/oauth2/v2.0/authorize' => \&authorize);
    $t->post('/oauth2/v2.0/token' => sub ($c) { token($c, 2) });
    $t->post('/oauth2/token'      => sub ($c) { token($c, 1) });
    $t->get('/oauth2/v2.0/logout' => \&logout);
}

sub pub ($c) { $c->app->public_url }

sub correlation_id ($c) {
    my $id = $c->req->headers->header('client-request-id') // $c->param('client-request-id');
    return is_guid($id) ? lc $id : new_uuid();
}

# Entra's error body: error, "AADSTSnnn: ...\r\nTrace ID..." and the rest.
sub aad_error ($c, $status, $error, $code, $text) {
    my ($trace, $corr, $ts) = (new_uuid(), correlation_id($c), entra_time());
    return $c->render(status => $status, json => {
        error             => $error,
        error_description => "AADSTS$code: $text\r\nTrace ID: $trace\r\n"
            . "Correlation ID: $corr\r\nTimestamp: $ts",
        error_codes    => [0 + $code],
        timestamp      => $ts,
        trace_id       => $trace,
        correlation_id => $corr,
        error_uri      => pub($c) . "/error?code=$code",
    });
}

sub tenant_not_found ($c, $tenant, $error = 'invalid_request') {
    return aad_error($c, 400, $error, 90002, "Tenant '$tenant' not found. Check to make "
        . 'sure you have the correct tenant ID and are signing into the correct cloud. '
        . 'Check with your subscription administrator, this may happen if there are no '
        . 'active subscriptions for the tenant.');
}

sub is_independent ($name) { $name =~ /\A(?:common|organizations|consumers)\z/i }

# ---- discovery -----------------------------------------------------------

sub discovery ($c, $ver) {
    my $name = $c->stash('tenant');
    my ($tid, $tpl);
    if (is_independent($name)) {
        $tpl = '{tenantid}';
    } else {
        my $t = $c->app->state->tenant_by_name($name)
            or return tenant_not_found($c, $name, 'invalid_tenant');
        $tid = $t->{id};
    }
    my $issuer_tid = $tid // $tpl;
    my $base = pub($c) . "/$name";
    my %doc = (
        token_endpoint_auth_methods_supported => ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
        response_modes_supported => ['query', 'fragment', 'form_post'],
        subject_types_supported  => ['pairwise'],
        id_token_signing_alg_values_supported => ['RS256'],
        response_types_supported => ['code', 'id_token', 'code id_token', 'id_token token'],
        scopes_supported         => ['openid', 'profile', 'email', 'offline_access'],
        request_uri_parameter_supported => false,
        frontchannel_logout_supported   => true,
        http_logout_supported           => true,
        claims_supported => [qw(sub iss cloud_instance_name cloud_instance_host_name
            cloud_graph_host_name msgraph_host aud exp iat auth_time acr nonce
            preferred_username name tid ver at_hash c_hash email)],
        tenant_region_scope  => $tid ? 'EU' : undef,
        cloud_instance_name  => 'microsoftonline.com',
        cloud_graph_host_name => 'graph.windows.net',
        msgraph_host         => 'graph.microsoft.com',
        rbac_url             => 'https://pas.windows.net',
    );
    if ($ver == 2) {
        %doc = (%doc,
            issuer                 => $c->app->v2_issuer_base . "/$issuer_tid/v2.0",
            authorization_endpoint => "$base/oauth2/v2.0/authorize",
            token_endpoint         => "$base/oauth2/v2.0/token",
            device_authorization_endpoint => "$base/oauth2/v2.0/devicecode",
            end_session_endpoint   => "$base/oauth2/v2.0/logout",
            jwks_uri               => "$base/discovery/v2.0/keys",
            userinfo_endpoint      => 'https://graph.microsoft.com/oidc/userinfo',
            kerberos_endpoint      => "$base/kerberos",
        );
    } else {
        %doc = (%doc,
            issuer                 => $c->app->setting('v1_issuer_base') . "/$issuer_tid/",
            authorization_endpoint => "$base/oauth2/authorize",
            token_endpoint         => "$base/oauth2/token",
            device_authorization_endpoint => "$base/oauth2/devicecode",
            end_session_endpoint   => "$base/oauth2/logout",
            jwks_uri               => pub($c) . '/common/discovery/keys',
            userinfo_endpoint      => "$base/openid/userinfo",
            check_session_iframe   => "$base/oauth2/checksession",
            microsoft_multi_refresh_token => true,
        );
    }
    return $c->render(json => \%doc);
}

sub keys_doc ($c, $ver) {
    my $name = $c->stash('tenant');
    my $issuer;
    if ($ver == 2) {
        my $t = is_independent($name) ? undef : $c->app->state->tenant_by_name($name);
        return tenant_not_found($c, $name, 'invalid_tenant') unless $t || is_independent($name);
        $issuer = $c->app->v2_issuer_base . '/' . ($t ? $t->{id} : '{tenantid}') . '/v2.0';
    }
    return $c->render(json => $c->app->signing->jwks($issuer));
}

sub instance_discovery ($c) {
    my $host = Mojo::URL->new(pub($c))->host_port;
    return $c->render(json => {
        tenant_discovery_endpoint => pub($c) . '/' . $c->stash('tenant')
            . '/v2.0/.well-known/openid-configuration',
        'api-version' => '1.1',
        metadata => [{ preferred_network => $host, preferred_cache => $host,
                       aliases => [$host] }],
    });
}

# ---- authorize -------------------------------------------------------------

sub page ($c, $status, $title, $body) {
    return $c->render(status => $status, format => 'html', data =>
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>$title</title>"
        . '<style>body{font-family:sans-serif;max-width:40em;margin:3em auto}'
        . 'button{display:block;width:100%;margin:.4em 0;padding:.6em;text-align:left}'
        . '</style></head><body>' . $body . '</body></html>');
}

sub error_page ($c, $code, $text) {
    my $trace = new_uuid();
    return page($c, 400, 'Sign in error',
        '<h1>Sorry, but we are having trouble signing you in.</h1>'
        . '<p id="error">AADSTS' . $code . ': ' . xml_escape($text) . '</p>'
        . "<p>Trace ID: $trace</p>");
}

sub redirect_error ($c, $p, $error, $code, $text) {
    my $url = Mojo::URL->new($p->{redirect_uri});
    my %q = (error => $error, error_description => "AADSTS$code: $text",
             defined $p->{state} ? (state => $p->{state}) : ());
    return deliver($c, $p, $url, \%q);
}

# query (default for code), fragment, or form_post.
sub deliver ($c, $p, $url, $params) {
    my $mode = $p->{response_mode} // 'query';
    if ($mode eq 'form_post') {
        my $inputs = join '', map {
            '<input type="hidden" name="' . xml_escape($_) . '" value="'
                . xml_escape($params->{$_}) . '">'
        } sort keys %$params;
        return page($c, 200, 'Working...', '<form method="post" action="'
            . xml_escape($url->to_string) . '">' . $inputs
            . '<noscript><button>Continue</button></noscript></form>'
            . '<script>document.forms[0].submit()</script>');
    }
    if ($mode eq 'fragment') {
        $url->fragment(Mojo::Parameters->new(%$params)->to_string);
    } else {
        $url->query->merge(%$params);
    }
    return $c->redirect_to($url);
}

# Exact match, except that Entra ignores the port of loopback redirect URIs
# (the demo's nginx listens on a port chosen at start-up).
sub redirect_registered ($app, $uri) {
    my $want = Mojo::URL->new($uri);
    for my $reg (@{ $app->{redirectUris} }) {
        return 1 if $reg eq $uri;
        my $have = Mojo::URL->new($reg);
        next unless ($have->host // '') =~ /\A(?:localhost|127\.0\.0\.1|\[::1\])\z/;
        return 1 if $have->scheme eq ($want->scheme // '') && $have->host eq ($want->host // '')
            && $have->path->to_string eq $want->path->to_string
            && ($have->query->to_string eq $want->query->to_string);
    }
    return 0;
}

my @AUTHZ_PARAMS = qw(client_id response_type redirect_uri scope state nonce
    code_challenge code_challenge_method response_mode prompt login_hint domain_hint);

sub authorize ($c) {
    my $state = $c->app->state;
    my $name  = $c->stash('tenant');
    my %p = map { ($_ => $c->param($_)) } grep { defined $c->param($_) } @AUTHZ_PARAMS;
    my $tenant;
    unless (is_independent($name)) {
        $tenant = $state->tenant_by_name($name)
            or return error_page($c, 90002, "Tenant '$name' not found.");
    }
    my $client = $p{client_id} // '';
    return error_page($c, 900144, "The request body must contain the following parameter: 'client_id'.")
        unless length $client;
    my $app = $state->apps->{lc $client};
    return error_page($c, 700016, "Application with identifier '$client' was not found "
        . "in the directory '" . ($tenant ? $tenant->{domains}[0] : $name) . "'.")
        unless $app && (!$tenant || $state->service_principal($app, $tenant) || $app->{multiTenant});
    my $redirect = $p{redirect_uri} // $app->{redirectUris}[0] // '';
    return error_page($c, 50011, "The redirect URI '$redirect' specified in the request "
        . "does not match the redirect URIs configured for the application '$app->{appId}'. "
        . 'Make sure the redirect URI sent in the request matches one added to your '
        . 'application in the Azure portal.')
        unless redirect_registered($app, $redirect);
    $p{redirect_uri} = $redirect;
    return redirect_error($c, \%p, 'unsupported_response_type', 700054,
        "response_type '" . ($p{response_type} // '') . "' is not enabled for the application.")
        unless ($p{response_type} // '') eq 'code';
    return redirect_error($c, \%p, 'invalid_request', 50149,
        'Invalid Code_Challenge_method parameter.')
        if defined $p{code_challenge} && ($p{code_challenge_method} // 'plain') ne 'S256';
    return redirect_error($c, \%p, 'invalid_request', 501491,
        'Invalid size of Code_Challenge parameter.')
        if defined $p{code_challenge} && $p{code_challenge} !~ /\A[A-Za-z0-9_-]{43,128}\z/;
    return redirect_error($c, \%p, 'invalid_request', 900144,
        "The request body must contain the following parameter: 'scope'.")
        unless length($p{scope} // '');

    my @users = grep { $app->{tenant} eq $_->{tenant} || $app->{multiTenant} }
        map { values %{ $_->{users} } }
        ($tenant ? ($tenant) : values %{ $state->tenants });
    @users = sort { $a->{userPrincipalName} cmp $b->{userPrincipalName} } @users;

    # The sign-in page posts the chosen user back here; sim_login lets a test
    # or script skip the page (GET with sim_login=UPN or oid).
    my $chosen = $c->param('login_user') // $c->param('sim_login');
    if (defined $chosen) {
        my ($user) = grep { $_->{oid} eq lc $chosen || lc($_->{userPrincipalName}) eq lc $chosen } @users;
        return error_page($c, 50034, 'The user account does not exist in the directory. '
            . 'To sign into this application, the account must be added to the directory.')
            unless $user;
        return issue_code($c, \%p, $app, $user);
    }
    my $hidden = join '', map {
        '<input type="hidden" name="' . $_ . '" value="' . xml_escape($p{$_}) . '">'
    } sort keys %p;
    my $buttons = join '', map {
        '<button name="login_user" value="' . $_->{oid} . '">'
            . xml_escape("$_->{displayName} ($_->{userPrincipalName})")
            . ' <small>' . xml_escape(join(', ', @{ $_->{roles} }) || 'no roles') . '</small></button>'
    } @users;
    $buttons ||= '<p>No user of this directory may sign in to this application.</p>';
    return page($c, 200, 'Sign in to your account',
        '<h1>Sign in</h1><p>Azure simulator: pick a test user for <b>'
        . xml_escape($app->{displayName}) . '</b>.</p><form method="post" action="'
        . xml_escape($c->req->url->path->to_string) . "\">$hidden$buttons</form>");
}

sub codes ($c) { $c->app->{codes} //= {} }

sub issue_code ($c, $p, $app, $user) {
    # Signing in to a multi-tenant app consents to it in the user's tenant,
    # as user consent does in Entra; the code can then be redeemed there.
    $c->app->state->tenants->{ $user->{tenant} }{consented}{ $app->{appId} } = 1
        if $app->{multiTenant};
    my $codes = codes($c);
    my $now = now_s();
    delete $codes->{$_} for grep { $codes->{$_}{expires} < $now - 3600 } keys %$codes;
    my $code = '1.' . random_token(48);
    $codes->{$code} = {
        %$p, app => $app->{appId}, user => $user->{oid}, tenant => $user->{tenant},
        expires => $now + $c->app->setting('code_lifetime'), used => 0,
    };
    my %q = (code => $code, session_state => new_uuid(),
             defined $p->{state} ? (state => $p->{state}) : ());
    return deliver($c, $p, Mojo::URL->new($p->{redirect_uri}), \%q);
}

sub logout ($c) {
    my $to = $c->param('post_logout_redirect_uri');
    return $c->redirect_to($to) if defined $to;
    return page($c, 200, 'Signed out', '<h1>You have signed out of your account.</h1>');
}

# ---- token -------------------------------------------------------------------

# client_id and client_secret from the form or from HTTP Basic.
sub client_credentials_of ($c) {
    my ($id, $secret) = ($c->param('client_id'), $c->param('client_secret'));
    my $auth = $c->req->headers->authorization // '';
    if ($auth =~ /^Basic\s+(\S+)/i) {
        my ($bid, $bsecret) = split /:/, b64_decode($1) // '', 2;
        $id     //= url_unescape($bid // '');
        $secret //= url_unescape($bsecret // '');
    }
    return ($id, $secret);
}

sub missing_param ($c, $name) {
    return aad_error($c, 400, 'invalid_request', 900144,
        "The request body must contain the following parameter: '$name'.");
}

sub token ($c, $ver) {
    my $state = $c->app->state;
    my $name  = $c->stash('tenant');
    my $grant = $c->param('grant_type') // return missing_param($c, 'grant_type');
    my ($client, $secret) = client_credentials_of($c);
    return missing_param($c, 'client_id') unless length($client // '');

    my $tenant;
    unless (is_independent($name)) {
        $tenant = $state->tenant_by_name($name) or return tenant_not_found($c, $name);
    }
    my $app = $state->apps->{lc $client};
    # Tenant-independent client credentials land in the app's home tenant.
    $tenant = $state->tenants->{ $app->{tenant} }
        if $app && !$tenant && $grant eq 'client_credentials';
    return app_not_found($c, $client, $tenant ? $tenant->{domains}[0] : $name)
        unless $app && (!$tenant || $state->service_principal($app, $tenant));

    # v1 endpoint: resource= instead of scope=.
    if ($ver == 1 && !defined $c->param('scope') && defined $c->param('resource')) {
        $c->param(scope => $c->param('resource') . '/.default');
    }
    return client_credentials($c, $app, $tenant, $secret) if $grant eq 'client_credentials';
    return authorization_code($c, $app, $tenant, $secret) if $grant eq 'authorization_code';
    return refresh_token($c, $app, $tenant, $secret)      if $grant eq 'refresh_token';
    return aad_error($c, 400, 'unsupported_grant_type', 70003,
        "The app requested an unsupported grant type '$grant'.");
}

sub app_not_found ($c, $client, $dir) {
    return aad_error($c, 400, 'unauthorized_client', 700016, "Application with identifier "
        . "'$client' was not found in the directory '$dir'. This can happen if the "
        . 'application has not been installed by the administrator of the tenant or '
        . 'consented to by any user in the tenant. You may have sent your authentication '
        . 'request to the wrong tenant.');
}

# 7000218 (no secret), 7000215 (wrong, or the secret's ID), 7000222 (expired).
sub check_secret ($c, $app, $secret) {
    return undef if $app->{publicClient} && !defined $secret;
    return aad_error($c, 401, 'invalid_client', 7000218, 'The request body must contain '
        . "the following parameter: 'client_assertion' or 'client_secret'.")
        unless length($secret // '');
    my ($match) = grep { secure_compare($_->{value}, $secret) } @{ $app->{passwordCredentials} };
    return aad_error($c, 401, 'invalid_client', 7000215, 'Invalid client secret provided. '
        . 'Ensure the secret being sent in the request is the client secret value, not the '
        . "client secret ID, for a secret added to app '$app->{appId}'.") unless $match;
    my $now = now_s();
    return aad_error($c, 401, 'invalid_client', 7000222, "The provided client secret keys "
        . "for app '$app->{appId}' are expired. Visit the Azure portal to create new keys "
        . 'for your app: https://aka.ms/NewClientSecret, or consider using certificate '
        . 'credentials for added security: https://aka.ms/certCreds.')
        if _epoch($match->{endDateTime}) <= $now;
    return undef;
}

sub _epoch ($iso) {
    return 0 unless ($iso // '') =~ /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)/;
    require Time::Local;
    return Time::Local::timegm($6, $5, $4, $3, $2 - 1, $1);
}

# Resolves one scope's resource: { kind => arm|keyvault|graph|app, aud, app }.
sub resource_of ($c, $resource) {
    my $state = $c->app->state;
    (my $bare = $resource) =~ s{/+\z}{};
    for my $kind (sort keys %RESOURCES) {
        return { kind => $kind, aud => $resource }
            if grep { lc($_) eq lc($bare) } @{ $RESOURCES{$kind}{ids} };
    }
    for my $app (values %{ $state->apps }) {
        return { kind => 'app', app => $app, aud => $resource }
            if lc($bare) eq $app->{appId} || grep { lc($_) eq lc($bare) } @{ $app->{identifierUris} };
    }
    return undef;
}

sub bad_scope ($c, $scope) {
    return aad_error($c, 400, 'invalid_scope', 70011, 'The provided value for the input '
        . "parameter 'scope' is not valid. The scope $scope is not valid.");
}

sub client_credentials ($c, $app, $tenant, $secret) {
    my $scope = $c->param('scope') // return missing_param($c, 'scope');
    if (my $err = check_secret($c, $app, $secret)) { return $err }
    my @scopes = split ' ', $scope;
    return bad_scope($c, $scope) unless @scopes == 1 && $scopes[0] =~ m{\A(.+)/\.default\z};
    my $res = resource_of($c, $1) or return aad_error($c, 400, 'invalid_resource', 500011,
        "The resource principal named $1 was not found in the tenant named "
        . "$tenant->{displayName}. This can happen if the application has not been "
        . 'installed by the administrator of the tenant or consented to by any user in '
        . 'the tenant. You might have sent your authentication request to the wrong tenant.');
    my $sp = $c->app->state->service_principal($app, $tenant);
    my $token = access_token($c, $res, $tenant->{id}, {
        oid => $sp->{id}, sub => $sp->{id}, idtyp => 'app',
        roles => app_roles($app, $res),
    }, $app);
    my $life = $c->app->setting('token_lifetime');
    return $c->render(json => { token_type => 'Bearer', expires_in => $life,
        ext_expires_in => $life, access_token => $token });
}

# Roles an app-only token carries: Graph application permissions (all of the
# simulated ones unless the seed lists appRoles), or the app's own roles.
our @GRAPH_APP_ROLES = qw(DeviceManagementServiceConfig.Read.All
    DeviceManagementManagedDevices.Read.All Application.Read.All
    DeviceManagementConfiguration.Read.All CloudPC.Read.All);

sub app_roles ($app, $res) {
    return $app->{appRoles} // [@GRAPH_APP_ROLES] if $res->{kind} eq 'graph';
    return $app->{appRoles} // [] if $res->{kind} eq 'app';
    return undef;
}

# An access token as Entra mints it: v1 for first-party resources, the
# resource app's accessTokenVersion for our own APIs.
sub access_token ($c, $res, $tid, $extra, $client_app) {
    my $now  = now_s();
    my $ver  = $res->{kind} eq 'app' && $res->{app}{accessTokenVersion} == 2 ? '2.0' : '1.0';
    my %claims = (
        aud => $ver eq '2.0' ? $res->{app}{appId} : $res->{aud},
        iss => $c->app->issuer_for($tid, $ver),
        iat => $now, nbf => $now, exp => $now + $c->app->setting('token_lifetime'),
        aio => random_token(24), rh => '0.' . random_token(30) . '.',
        tid => $tid, uti => random_token(16), ver => $ver,
        xms_tcdt => 1600000000,
    );
    if ($ver eq '1.0') {
        %claims = (%claims, appid => $client_app->{appId}, appidacr => '1',
            idp => $c->app->setting('v1_issuer_base') . "/$tid/");
    } else {
        %claims = (%claims, azp => $client_app->{appId}, azpacr => '1');
    }
    for my $k (keys %$extra) { $claims{$k} = $extra->{$k} if defined $extra->{$k} }
    delete $claims{roles} if ref $claims{roles} && !@{ $claims{roles} };
    return $c->app->signing->mint(\%claims);
}

sub pairwise_sub ($oid, $appid) { b64url(sha256("$oid:$appid")) }

sub authorization_code ($c, $app, $tenant, $secret) {
    my $code = $c->param('code') // return missing_param($c, 'code');
    my $grant = codes($c)->{$code};
    return aad_error($c, 400, 'invalid_grant', 9002313,
        'Invalid request. Request is malformed or invalid.')
        unless $grant && $grant->{app} eq $app->{appId};
    if (my $err = check_secret($c, $app, $secret)) { return $err }
    return aad_error($c, 400, 'invalid_grant', 54005, 'OAuth2 Authorization code was '
        . 'already redeemed, please retry with a new valid code or use an existing refresh token.')
        if $grant->{used}++;
    return aad_error($c, 400, 'invalid_grant', 70008, 'The provided authorization code or '
        . 'refresh token has expired due to inactivity. Send a new interactive authorization '
        . 'request for this user and resource.')
        if $grant->{expires} < now_s();
    my $redirect = $c->param('redirect_uri') // '';
    return aad_error($c, 400, 'invalid_grant', 500112, "The reply address '$redirect' does "
        . "not match the reply address '$grant->{redirect_uri}' provided when requesting "
        . 'Authorization code.')
        unless $redirect eq $grant->{redirect_uri};
    if (defined $grant->{code_challenge}) {
        my $verifier = $c->param('code_verifier') // '';
        return aad_error($c, 400, 'invalid_grant', 501481, 'The Code_Verifier does not match '
            . 'the code_challenge supplied in the authorization request.')
            unless secure_compare(b64url(sha256($verifier)), $grant->{code_challenge});
    }
    my $user_tenant = $c->app->state->tenants->{ $grant->{tenant} };
    return user_tokens($c, $app, $user_tenant->{users}{ $grant->{user} }, $grant->{scope},
        $grant->{nonce});
}

sub refresh_token ($c, $app, $tenant, $secret) {
    my $rt = $c->param('refresh_token') // return missing_param($c, 'refresh_token');
    my $grant = ($c->app->{refresh} //= {})->{$rt};
    return aad_error($c, 400, 'invalid_grant', 9002313,
        'Invalid request. Request is malformed or invalid.')
        unless $grant && $grant->{app} eq $app->{appId};
    if (my $err = check_secret($c, $app, $secret)) { return $err }
    my $user = $c->app->state->tenants->{ $grant->{tenant} }{users}{ $grant->{user} }
        or return aad_error($c, 400, 'invalid_grant', 50034, 'The user account does not exist in the directory.');
    return user_tokens($c, $app, $user, $c->param('scope') // $grant->{scope}, undef);
}

# ID token, access token (for the one resource the scopes name, Graph when
# they name none) and a refresh token when offline_access was asked for.
sub user_tokens ($c, $app, $user, $scope, $nonce) {
    my @scopes = split ' ', $scope // '';
    my (%by_resource, @granted);
    for my $s (@scopes) {
        next if $OIDC_SCOPES{$s};
        return bad_scope($c, $scope) unless $s =~ m{\A(.+)/([^/]+)\z};
        my $res = resource_of($c, $1) or return bad_scope($c, $scope);
        $by_resource{ $res->{kind} eq 'app' ? $res->{app}{appId} : $res->{kind} } = $res;
        push @granted, $s;
    }
    return bad_scope($c, $scope) if keys %by_resource > 1;
    my ($res) = values %by_resource;
    unless ($res) {
        $res = { kind => 'graph', aud => '00000003-0000-0000-c000-000000000000' };
        @granted = ('User.Read');
    }
    my $tid = $user->{tenant};
    my $now = now_s();
    my @perms = map { m{([^/]+)\z} ? $1 : $_ } @granted;
    my $scp = join ' ', map { $_ eq '.default' ? () : $_ } @perms;
    my $access = access_token($c, $res, $tid, {
        oid => $user->{oid}, sub => pairwise_sub($user->{oid}, $res->{aud}),
        name => $user->{displayName}, idtyp => 'user',
        ($res->{kind} eq 'app' && $res->{app}{accessTokenVersion} == 2
            ? (preferred_username => $user->{userPrincipalName})
            : (upn => $user->{userPrincipalName}, unique_name => $user->{userPrincipalName})),
        scp => length $scp ? $scp : undef,
        roles => $res->{kind} eq 'app' ? $user->{roles} : undef,
    }, $app);
    my $life = $c->app->setting('token_lifetime');
    my %out = (token_type => 'Bearer', scope => join(' ', @granted, grep { $OIDC_SCOPES{$_} } @scopes),
        expires_in => $life, ext_expires_in => $life, access_token => $access);
    if (grep { $_ eq 'openid' } @scopes) {
        my %id = (
            aud => $app->{appId}, iss => $c->app->issuer_for($tid, '2.0'),
            iat => $now, nbf => $now, exp => $now + 3600,
            oid => $user->{oid}, sub => pairwise_sub($user->{oid}, $app->{appId}),
            tid => $tid, ver => '2.0', rh => '0.' . random_token(30) . '.',
            uti => random_token(16), aio => random_token(24),
            (grep { $_ eq 'profile' } @scopes) ? (name => $user->{displayName},
                preferred_username => $user->{userPrincipalName}) : (),
            (grep { $_ eq 'email' } @scopes) ? (email => $user->{userPrincipalName}) : (),
            @{ $user->{roles} } ? (roles => $user->{roles}) : (),
            defined $nonce ? (nonce => $nonce) : (),
        );
        $out{id_token} = $c->app->signing->mint(\%id);
    }
    if (grep { $_ eq 'offline_access' } @scopes) {
        my $rt = '1.' . random_token(64);
        ($c->app->{refresh} //= {})->{$rt} = { app => $app->{appId}, user => $user->{oid},
            tenant => $tid, scope => $scope };
        $out{refresh_token} = $rt;
    }
    return $c->render(json => \%out);
}

1;
