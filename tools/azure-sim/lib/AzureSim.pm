# The Azure simulator as one Mojolicious application: Entra ID, Azure
# Resource Manager, Key Vault and Microsoft Graph on one origin, told apart by
# path (see README.md), plus the admin API tests use to seed and break it.
package AzureSim;
use Mojo::Base 'Mojolicious', -signatures;

use AzureSim::ARM;
use AzureSim::Admin;
use AzureSim::Entra;
use AzureSim::Faults;
use AzureSim::Graph;
use AzureSim::KeyVault;
use AzureSim::Keys;
use AzureSim::State;
use AzureSim::Util qw(new_uuid now_s);
use Mojo::IOLoop;

has state      => sub { AzureSim::State->new };
has signing    => sub { AzureSim::Keys->new->init };
has faults     => sub { AzureSim::Faults->new };
has public_url => 'https://127.0.0.1';
has requests   => sub { [] };

our %DEFAULT_SETTINGS = (
    token_lifetime     => 3599,   # seconds; Entra's expires_in
    code_lifetime      => 300,    # seconds an authorization code lives
    deployment_seconds => 3,      # Running -> Succeeded/Failed after this
    rg_delete_seconds  => 2,      # resource group deletion takes this long
    retry_after        => 1,      # Retry-After on ARM's 201/202 (Azure: ~15)
    clock_skew         => 300,    # leeway the resource servers allow on exp/nbf
    graph_page_size    => 100,
    v1_issuer_base     => 'https://sts.windows.net',
    v2_issuer_base     => undef,  # undef: the public URL
    default_vault      => undef,  # vault served at the origin's root
);

sub setting ($self, $name) {
    my $s = $self->state->settings;
    return exists $s->{$name} ? $s->{$name} : $DEFAULT_SETTINGS{$name};
}

sub v2_issuer_base ($self) { $self->setting('v2_issuer_base') // $self->public_url }

sub startup ($self) {
    $self->mode('production');   # never the debug page: it shows headers
    $self->secrets(['azure-sim']);
    $self->hook(before_render => \&_json_errors);
    $self->log->level($ENV{AZURE_SIM_LOG} // 'info');
    $self->renderer->default_format('json');
    $self->max_request_size(64 * 1024 * 1024);
    $self->plugins->namespaces([]);   # nothing to load by name

    $self->hook(around_dispatch => \&_with_faults);
    my $r = $self->routes;
    AzureSim::Admin::routes($self, $r);
    AzureSim::Graph::routes($self, $r);
    AzureSim::KeyVault::routes($self, $r);
    AzureSim::ARM::routes($self, $r);
    AzureSim::Entra::routes($self, $r);
    $r->any('/*whatever' => { whatever => '' } => sub ($c) {
        $c->render(status => 404, json => { error => { code => 'NotFound',
            message => 'The simulator does not serve this path.' } });
    });
}

# Exceptions and unrouted requests answer JSON, never HTML templates.
sub _json_errors ($c, $args) {
    my $template = $args->{template} // '';
    if ($template eq 'exception') {
        $c->app->log->error('internal error: ' . ($args->{exception} // 'unknown') =~ s/\n.*//sr);
        %$args = (status => 500, json => { error => { code => 'InternalServerError',
            message => 'The simulator failed on this request; see its log.' } });
    } elsif ($template eq 'not_found') {
        %$args = (status => 404, json => { error => { code => 'NotFound',
            message => 'The simulator does not serve this path.' } });
    }
}

# Which simulated service a request is for: decides the fault scope and the
# error format of injected faults.
sub service_of ($path, $host) {
    return 'admin'    if $path =~ m{^/admin(?:/|$)};
    return 'graph'    if $path =~ m{^/(?:v1\.0|beta)(?:/|$)};
    return 'keyvault' if $path =~ m{^/(?:vault/[^/]+/)?(?:secrets|deletedsecrets)(?:/|$)}i
        || ($host // '') =~ /^[a-z0-9-]+\.vault\./i;
    return 'arm'      if $path =~ m{^/(?:subscriptions|providers)(?:/|$)}i;
    return 'entra';
}

sub _log_request ($app, $c, $service) {
    my $req = $c->req;
    my $entry = { method => $req->method, path => $req->url->path->to_string,
        query => $req->url->query->to_string, service => $service, at => now_s() };
    my $log = $app->requests;
    push @$log, $entry;
    shift @$log while @$log > 2000;
    $c->tx->on(finish => sub ($tx) {
        $entry->{status} = $tx->res->code // 0;
        $app->log->info(sprintf '%s %s %s %s', $service, $entry->{method},
            $entry->{path}, $entry->{status});
    });
}

sub _with_faults ($next, $c) {
    my $app  = $c->app;
    my $req  = $c->req;
    my $path = $req->url->path->to_string;
    my $service = service_of($path, $req->url->base->host // $req->headers->host);
    $c->stash(service => $service);
    return $next->() if $service eq 'admin';
    _log_request($app, $c, $service);

    my $fault = $app->faults->take($service, $req->method, $path);
    return $next->() unless $fault;
    $c->res->headers->header('x-ms-sim-fault' => $fault->{id});
    my $act = sub {
        if ($fault->{drop}) {
            my $stream = Mojo::IOLoop->stream($c->tx->connection);
            return $stream ? $stream->close : undef;
        }
        return _render_fault($c, $service, $fault) if defined $fault->{status};
        delete $c->stash->{'mojo.rendered'};
        return $next->();
    };
    return $act->() unless $fault->{delay_ms};
    $c->render_later;
    my $tx = $c->tx;
    Mojo::IOLoop->timer($fault->{delay_ms} / 1000 => sub { $act->() if $tx; });
}

# An injected error, in the shape the service would use.
sub _render_fault ($c, $service, $fault) {
    my $status = $fault->{status};
    my $h = $c->res->headers;
    $h->header('Retry-After' => $fault->{retry_after}) if defined $fault->{retry_after};
    my $throttled = $status == 429;
    my $code = $throttled ? 'TooManyRequests' : $status == 503 ? 'ServiceUnavailable'
        : $status >= 500 ? 'InternalServerError' : 'BadRequest';
    my $message = $throttled ? 'The request is being throttled as the limit has been reached for operation type.'
        : "The simulator injected this $status fault.";
    if ($service eq 'graph') {
        return $c->render(status => $status, json => { error => { code => $throttled ? 'TooManyRequests' : $code,
            message => $message, innerError => AzureSim::Graph::inner_error($c) } });
    }
    if ($service eq 'keyvault') {
        return $c->render(status => $status, json => { error => {
            code => $throttled ? 'Throttled' : $code, message => $message } });
    }
    if ($service eq 'entra') {
        return AzureSim::Entra::aad_error($c, $status,
            $throttled ? 'temporarily_unavailable' : 'server_error', 90033,
            'A transient error has occurred. Please try again.');
    }
    return $c->render(status => $status, json => { error => { code => $code, message => $message } });
}

# Verifies a bearer token the simulated resource servers receive.  Returns
# { claims => ... } or { error => missing|invalid|expired|audience|issuer,
# claims => ... when they could be read }.
sub check_bearer ($self, $c, @audiences) {
    my $auth = $c->req->headers->authorization // '';
    return { error => 'missing' } unless $auth =~ /^Bearer\s+(\S+)\s*$/i;
    my ($claims, $why) = $self->signing->verify($1);
    return { error => 'invalid', detail => $why } unless $claims;
    my $now  = now_s();
    my $skew = $self->setting('clock_skew');
    return { error => 'expired', claims => $claims }
        if !defined $claims->{exp} || $claims->{exp} + $skew < $now;
    return { error => 'invalid', detail => 'nbf', claims => $claims }
        if defined $claims->{nbf} && $claims->{nbf} - $skew > $now;
    my $tid = $claims->{tid} // '';
    return { error => 'invalid', detail => 'tid', claims => $claims }
        unless $self->state->tenants->{$tid};
    return { error => 'issuer', claims => $claims }
        unless ($claims->{iss} // '') eq $self->issuer_for($tid, $claims->{ver} // '');
    my %ok = map { lc($_) => 1 } @audiences;
    return { error => 'audience', claims => $claims } unless $ok{ lc($claims->{aud} // '') };
    return { claims => $claims };
}

sub issuer_for ($self, $tid, $ver) {
    return $ver eq '1.0' ? $self->setting('v1_issuer_base') . "/$tid/"
        : $self->v2_issuer_base . "/$tid/v2.0";
}

1;
