package CC::MonitorKit;

# What the Monitor tests (t/ingest, t/api, t/monitor) share: the stack they
# start (the Azure simulator, PostgreSQL with tenants, cc-worker's registry
# sync, cc-ingest and cc-api, nginx with the shipped conf/nginx.conf.in),
# the wait for the registry to reach nginx, staff tokens minted by the
# simulator, and the requests and telemetry items an agent sends.

use strict;
use warnings;

use Exporter qw(import);
use JSON::PP ();

use CC::AzureSim;
use CC::Test;

our @EXPORT_OK = qw(start_monitor_stack add_tenants start_registry_sync
                    start_shipped_nginx registry_summary registry_reached
                    user_token user_bearer device_headers agent_request
                    telemetry_item staff_request);

# start_monitor_stack(T, %opt): the Azure simulator (sim_dir => 'sim',
# demo => 0), PLATFORM_TENANT (platform => TID), Azurite (azurite => 1),
# PostgreSQL with the tenants (tenants => [TID, NAME, ...]) and then the
# statements of sql => [...], cc-worker's registry sync, the workers of
# workers => [[KIND, %start_worker_opt], ...] (cc-ingest alone unless
# given), and nginx with the shipped configuration.  Returns
# {sim, control (nginx's control socket), conf (its text), blob_url}.
sub start_monitor_stack {
    my ($t, %opt) = @_;
    my %stack;
    $stack{sim} = CC::AzureSim->start(
        dir => $t->dir . '/' . ($opt{sim_dir} // 'sim'), certs => $t->certs,
        $opt{demo} ? (demo => 1) : ());
    $t->set_var(LOGIN_URL => $stack{sim}->url);
    $t->set_var(PLATFORM_TENANT => $opt{platform}) if defined $opt{platform};
    $stack{blob_url} = $t->start_azurite if $opt{azurite};

    $t->start_pg;
    add_tenants($t, @{ $opt{tenants} // [] });
    $t->sql($_) for @{ $opt{sql} // [] };

    $stack{control} = start_registry_sync($t, $stack{sim});
    $t->start_worker(@$_) for @{ $opt{workers} // [['ingest']] };
    $stack{conf} = start_shipped_nginx($t);
    return \%stack;
}

# add_tenants(T, TID, NAME, ...): rows in tenants, in the order given.
sub add_tenants {
    my ($t, @pairs) = @_;
    my @rows;
    while (my ($tid, $name) = splice @pairs, 0, 2) {
        push @rows, "('$tid', '$name')";
    }
    $t->sql('INSERT INTO tenants (id, name) VALUES ' . join(', ', @rows)) if @rows;
}

# cc-worker with only the registry sync to do (jobs polled once a minute),
# pushing to nginx's control socket every 200 ms; returns that socket.
sub start_registry_sync {
    my ($t, $sim) = @_;
    my $control = $t->socket_path('nginx-control');
    $t->start_worker('worker', env => {
        CC_JOB_POLL_MS          => 60000,
        CC_NGINX_CONTROL_SOCKET => $control,
        CC_LOGIN_URL            => $sim->url,
        CC_CA_FILE              => $t->certs . '/ca.pem',
        CC_REGISTRY_POLL_MS     => 200,
    });
    return $control;
}

# nginx with conf/nginx.conf.in as shipped; returns the configuration text.
sub start_shipped_nginx {
    my ($t) = @_;
    open my $fh, '<', $t->top . '/conf/nginx.conf.in' or die "nginx.conf.in: $!\n";
    my $conf = do { local $/; <$fh> };
    $t->start_nginx($conf);
    return $conf;
}

# What nginx's registry holds (GET /registry on the control socket), or {}.
sub registry_summary {
    my ($control) = @_;
    my (undef, undef, $body) =
        eval { CC::Stack::unix_request($control, 'GET', '/registry') };
    return CC::Test::json_decode($body) // {};
}

# registry_reached(T, CONTROL, tenants => N, keys => 1): true once nginx
# holds at least N tenants (and issuer keys, if asked) within 20 seconds.
sub registry_reached {
    my ($t, $control, %want) = @_;
    return $t->eventually(sub {
        my $summary = registry_summary($control);
        return 0 if $want{keys} && !(($summary->{keys} // 0) > 0);
        return ($summary->{tenants} // 0) >= ($want{tenants} // 1);
    }, 20);
}

# user_token(SIM, TID, OID, ROLES...): an Entra v2 access token for the
# platform app, minted by the simulator.
sub user_token {
    my ($sim, $tid, $oid, @roles) = @_;
    my $res = $sim->admin(POST => '/admin/tokens', {
        tid => $tid, ver => '2.0',
        claims => { aud => $CC::Stack::DEMO_CLIENT_ID, oid => $oid,
                    roles => \@roles } });
    return $res->{token} // die "no token minted\n";
}

# The same token as an Authorization header.
sub user_bearer {
    return { Authorization => 'Bearer ' . user_token(@_) };
}

# The hardware headers an agent sends (agent-protocol.md 3), with the
# serial number and agent version when given.
sub device_headers {
    my (%opt) = @_;
    return ('X-Device-Manufacturer' => 'Contoso Hardware',
            'X-Device-Model'        => 'Laptop 7',
            defined $opt{serial}
                ? ('X-Device-SerialNumber' => $opt{serial}) : (),
            defined $opt{version}
                ? ('X-Agent-Version' => $opt{version}) : ());
}

# agent_request(T, PATH, method => 'POST', cert => [PEM, KEY],
# headers => {...}, json => REF | body => STRING): a request on nginx's
# agent port, as a device sends it.
sub agent_request {
    my ($t, $path, %opt) = @_;
    return $t->https($opt{method} // 'POST' => $path, port => 'agent',
                     $opt{cert} ? (cert => $opt{cert}) : (),
                     headers => $opt{headers} // {},
                     exists $opt{json} ? (json => $opt{json})
                     : exists $opt{body} ? (body => $opt{body}) : ());
}

# telemetry_item(TENANT, SESSION, MEMBERS...): one item of a telemetry
# batch as the agent's uploader sends it (Kind 'Event' unless given); a
# PayloadJson given as a reference is encoded.
sub telemetry_item {
    my ($tenant, $session, %item) = @_;
    # A string of characters, as the agent's PayloadJson is: the batch it
    # goes into is encoded to UTF-8 once, as a whole.
    $item{PayloadJson} = JSON::PP->new->canonical->encode($item{PayloadJson})
        if ref $item{PayloadJson};
    return { Kind => 'Event', PartitionKey => "${tenant}_$session",
             RequiresImmediateFlush => JSON::PP::false(), RetryCount => 0,
             %item };
}

# staff_request(T, METHOD, PATH, tenant =>, user =>, roles =>, cross => 1,
# json => REF): cc-api on its unix socket with the identity headers nginx
# would send.
sub staff_request {
    my ($t, $method, $path, %opt) = @_;
    my %h = ('X-CC-Tenant' => $opt{tenant},
             'X-CC-User'   => $opt{user},
             'X-CC-Roles'  => $opt{roles});
    $h{'X-CC-Cross-Tenant'} = '1' if $opt{cross};
    my $body;
    if (exists $opt{json}) {
        $h{'Content-Type'} = 'application/json';
        $body = CC::Test::json_encode($opt{json});
    }
    return $t->worker_request('cc-api', $method => $path, \%h, $body);
}

1;
