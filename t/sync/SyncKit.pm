package SyncKit;

# What the registry sync's tests (t/sync/*.t) share: the Azure simulator
# with real-looking issuers, nginx with the registry (its control API on a
# unix socket, $cc_tenant_status on a TCP port, optionally a bearer-token
# location), cc-worker pointed at both, and small readers of the registry
# and the worker's metrics.

use strict;
use warnings;

use Exporter qw(import);
use HTTP::Tiny;
use JSON::PP ();

use CC::AzureSim;
use CC::Stack;

our @EXPORT_OK = qw(start_sim nginx_conf start_registry_nginx
                    start_sync_worker registry tenant_status metric
                    wait_synced);

our $V2_ISSUER = 'https://login.microsoftonline.com/{tenantid}/v2.0';
our $V1_ISSUER = 'https://sts.windows.net/{tenantid}/';

my $json = JSON::PP->new->utf8->canonical;

# The simulator with the demo world; its v2 issuers start with Entra's
# real base, so the issuers the sync pushes look like production's.
sub start_sim {
    my ($t) = @_;
    return CC::AzureSim->start(dir => $t->dir . '/sim', certs => $t->certs,
                               demo => 1,
                               v2_issuer_base => 'https://login.microsoftonline.com');
}

# nginx with the registry: the control API on run/registry.sock, and on
# the 'http' port /status answering the status of the tenant named by the
# X-Test-Tenant header.  $extra goes into the TCP server (e.g. an auth
# location).
sub nginx_conf {
    my ($extra) = @_;
    $extra //= '';
    return <<"EOF";
%%USER%%
load_module %%MODULE%%;
error_log %%DIR%%/logs/nginx-error.log info;
pid %%DIR%%/run/nginx.pid;
worker_processes 1;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path %%DIR%%/tmp;

    cc_registry_zone name=registry size=4m;

    server {
        listen unix:%%RUN%%/registry.sock;
        location /registry { cc_registry_api; }
    }

    server {
        listen 127.0.0.1:%%PORT_HTTP%%;

        location /status {
            cc_registry_tenant \$http_x_test_tenant;
            return 200 "\$cc_tenant_status";
        }
$extra
    }
}
EOF
}

# Starts (or restarts) nginx with nginx_conf($extra), waiting for the one
# TCP port it listens on (the harness may have handed out others).
sub start_registry_nginx {
    my ($t, $extra) = @_;
    return $t->start_nginx(nginx_conf($extra),
                           wait_ports => [ $t->port('http') ]);
}

# cc-worker with the sync on, talking to the simulator; %env overrides.
sub start_sync_worker {
    my ($t, $sim, %env) = @_;
    return $t->start_worker('worker', env => {
        CC_NGINX_CONTROL_SOCKET => $t->dir . '/run/registry.sock',
        CC_LOGIN_URL            => $sim->url,
        CC_CA_FILE              => $t->certs . '/ca.pem',
        CC_REGISTRY_POLL_MS     => 300,
        %env,
    });
}

# registry(T, METHOD, PATH): the control API; (status, decoded body).
sub registry {
    my ($t, $method, $path) = @_;
    my ($status, undef, $content) = eval {
        CC::Stack::unix_request($t->dir . '/run/registry.sock', $method, $path)
    };
    return (0, undef) unless defined $status;
    my $decoded = eval { $json->decode($content) };
    return ($status, $decoded);
}

# What nginx's $cc_tenant_status says of a tenant.
sub tenant_status {
    my ($t, $tid) = @_;
    my $res = HTTP::Tiny->new(timeout => 5)->get(
        'http://127.0.0.1:' . $t->port('http') . '/status',
        { headers => { 'X-Test-Tenant' => $tid } });
    return $res->{status} == 200 ? $res->{content} : "HTTP $res->{status}";
}

# One sample of cc-worker's /metrics (series name with labels, exactly).
sub metric {
    my ($t, $series) = @_;
    my $body = $t->worker_request('cc-worker', GET => '/metrics')->{body};
    for my $line (split /\n/, $body) {
        my ($name, $value) = $line =~ /^(\S+) (\S+)$/ or next;
        return $value if $name eq $series;
    }
    return undef;
}

# Waits until nginx's registry carries a sync tag (a full sync landed).
sub wait_synced {
    my ($t, $timeout) = @_;
    return $t->eventually(sub {
        my ($status, $reg) = registry($t, GET => '/registry');
        return $status == 200 && defined $reg->{sync}{tag};
    }, $timeout // 10);
}

1;
