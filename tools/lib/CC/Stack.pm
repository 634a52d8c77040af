package CC::Stack;

# Starts and stops Concierge's processes in one directory: a private
# PostgreSQL cluster, the workers on unix sockets, nginx with our module,
# the Azure simulator and Azurite.  The run command (tools/cc-run) and the
# test harness (t/lib/CC/Test.pm) both drive the platform through this file,
# so the demo and the tests start it the same way.

use strict;
use warnings;

use Cwd qw(abs_path);
use Errno qw(EINTR);
use File::Basename qw(dirname);
use Fcntl qw(:flock);
use File::Copy qw(copy);
use File::Path qw(make_path);
use IO::Socket::INET;
use IO::Socket::UNIX;
use POSIX qw(:sys_wait_h);
use Time::HiRes qw(sleep time);

our $TOP = abs_path(dirname(__FILE__) . '/../../..');
our $PG_BIN = '/usr/lib/postgresql/15/bin';

# The demo world's platform app (tools/azure-sim --demo): the audience of
# the tokens the simulator issues for our API.
our $DEMO_CLIENT_ID = '33333333-3333-4333-8333-333333333333';

# new(dir => DIR, build => DIR, log_pii => 0)
sub new {
    my ($class, %opt) = @_;
    my $self = bless {
        dir     => $opt{dir} // die("dir is required\n"),
        build   => $opt{build} // ($ENV{CC_BUILD} // "$TOP/build"),
        procs   => {},
        order   => [],
        vars    => {},
        quiet   => $opt{quiet} // 1,
    }, $class;

    $self->{build} = "$TOP/$self->{build}" unless $self->{build} =~ m{^/};
    make_path("$self->{dir}/logs", "$self->{dir}/run", "$self->{dir}/tmp");
    # nginx workers run as nobody when we are root: they must reach the
    # sockets and temp files in here.
    chmod 0755, $self->{dir}, "$self->{dir}/run";
    chmod 0777, "$self->{dir}/tmp";
    chmod 0755, "$self->{dir}/logs";
    return $self;
}

sub dir   { $_[0]{dir} }
sub top   { $TOP }
sub build { $_[0]{build} }
sub log   { "$_[0]{dir}/logs/$_[1].log" }
sub socket_path { "$_[0]{dir}/run/$_[1].sock" }

# --- ports -----------------------------------------------------------------

# A port the kernel says is free now, and that this process has not handed
# out before.  Ports are handed out by the kernel, so two stacks on one
# machine do not collide; but a port is only reserved while its probe
# socket is open, and the kernel may offer the same one again to the next
# probe, before whoever got it first listens on it (a test once gave its
# echo server and nginx the same port, and nginx could not start).
my %handed_out;

sub free_port {
    for (1 .. 100) {
        my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1',
                                      LocalPort => 0, ReuseAddr => 1)
            or die "free_port: $!\n";
        my $port = $s->sockport;
        close $s;
        return $port unless $handed_out{$port}++;
    }
    die "free_port: the kernel kept offering ports already handed out\n";
}

sub set_port { $_[0]{ports}{$_[1]} = $_[2] }

sub port {
    my ($self, $name) = @_;
    return $self->{ports}{$name} //= free_port();
}

# --- certificates ----------------------------------------------------------

# Development certificates live in one directory shared by every stack of a
# build (generating RSA keys is the slow part of a start).
sub certs {
    my ($self) = @_;
    my $dir = $ENV{CC_CERTS} // "$self->{build}/certs";
    unless (-f "$dir/intune-bundle.pem" && -f "$dir/server.pem") {
        _run("$TOP/tools/dev-certs", 'init', $dir);
    }
    return $dir;
}

# The keyring that signs session cookies (lib/cc_session.h's format),
# made once beside the development certificates.
sub session_keys {
    my ($self) = @_;
    my $file = ($self->{vars}{CERTS} // $self->certs) . '/session-keys';
    unless (-s $file) {
        my $line = _run("$self->{build}/ccctl", 'session', 'keygen', '--kid', 'dev1');
        open my $fh, '>', $file or die "$file: $!\n";
        chmod 0600, $file;
        print $fh $line;
        close $fh;
    }
    return $file;
}

# The certificates are shared by every test of a build, so each is kept
# under a name made of everything it was made from: two tests that use the
# same device id with another tenant or other dates get certificates of
# their own.  dev-certs writes devices/DEVICE.pem, so making one is done
# under a lock and copied to its own name at once.
sub device_cert {
    my ($self, $device, $tenant, @rest) = @_;
    my $certs = $self->certs;
    my $name = join '-', $device, $tenant, @rest;
    $name =~ s/[^A-Za-z0-9_.-]/_/g;
    my ($pem, $key) = map { "$certs/devices/$name.$_" } qw(pem key);
    return ($pem, $key) if -f $pem && -f $key;

    make_path("$certs/devices");
    open my $lock, '>', "$certs/devices/.lock" or die "device cert lock: $!\n";
    flock $lock, LOCK_EX or die "device cert lock: $!\n";
    unless (-f $pem && -f $key) {
        _run("$TOP/tools/dev-certs", 'device', $certs, $device, $tenant, @rest);
        for my $ext (qw(key pem)) {
            copy("$certs/devices/$device.$ext", "$certs/devices/$name.$ext.tmp")
                or die "copy device cert: $!\n";
            rename "$certs/devices/$name.$ext.tmp", "$certs/devices/$name.$ext"
                or die "rename device cert: $!\n";
        }
    }
    close $lock;
    return ($pem, $key);
}

# --- processes -------------------------------------------------------------

# spawn(NAME, [argv], env => {...}, user => 'postgres')
sub spawn {
    my ($self, $name, $argv, %opt) = @_;
    my $log = $self->log($name);

    my $pid = fork // die "fork: $!\n";
    if ($pid == 0) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', $log or die "open $log: $!\n";
        open STDERR, '>&', \*STDOUT;
        setpgrp(0, 0);
        $ENV{$_} = $opt{env}{$_} for keys %{ $opt{env} // {} };
        my @cmd = @$argv;
        @cmd = ('runuser', '-u', $opt{user}, '--', @cmd)
            if $opt{user} && $> == 0;
        exec @cmd or die "exec $cmd[0]: $!\n";
    }
    $self->{procs}{$name} = { pid => $pid, argv => $argv, %opt };
    push @{ $self->{order} }, $name;
    return $pid;
}

# adopt(NAME, PID, STOP): supervise a child started elsewhere (e.g. by
# CC::AzureSim); STOP is called instead of a signal when the stack stops.
sub adopt {
    my ($self, $name, $pid, $stop) = @_;
    $self->{procs}{$name} = { pid => $pid, stop => $stop };
    push @{ $self->{order} }, $name;
}

sub pid { $_[0]{procs}{$_[1]} && $_[0]{procs}{$_[1]}{pid} }

sub alive {
    my ($self, $name) = @_;
    my $p = $self->{procs}{$name} or return 0;
    return 0 if $p->{reaped};
    my $r = waitpid($p->{pid}, WNOHANG);
    if ($r == $p->{pid} || $r == -1) {     # -1: reaped by whoever adopted it
        $p->{reaped} = 1;
        $p->{status} = $?;
        return 0;
    }
    return 1;
}

# stop(NAME, SIGNAL = 'TERM', GRACE = 10): signal, wait, then KILL.
sub stop {
    my ($self, $name, $signal, $grace) = @_;
    my $p = $self->{procs}{$name} or return;
    $signal //= 'TERM';
    $grace //= 10;

    if ($p->{stop}) {
        $p->{stop}->();
    }
    elsif ($self->alive($name)) {
        kill $signal, $p->{pid};
    }
    my $deadline = time + $grace;
    while ($self->alive($name) && time < $deadline) {
        sleep 0.05;
    }
    if ($self->alive($name)) {
        kill 'KILL', -$p->{pid}, $p->{pid};
        waitpid($p->{pid}, 0);
        $p->{reaped} = 1;
        $p->{status} = $?;
    }
    delete $self->{procs}{$name};
    @{ $self->{order} } = grep { $_ ne $name } @{ $self->{order} };
    return $p->{status};
}

sub stop_all {
    my ($self) = @_;
    $self->stop($_) for reverse @{ $self->{order} };
    $self->stop_pg;
}

sub wait_until {
    my ($what, $timeout, $cond) = @_;
    my $deadline = time + $timeout;
    while (time < $deadline) {
        return 1 if $cond->();
        sleep 0.05;
    }
    die "timed out after ${timeout}s waiting for $what\n";
}

sub _run {
    my @cmd = @_;
    my $out = qx{@{[ join ' ', map { _shq($_) } @cmd ]} 2>&1};
    die "command failed: @cmd\n$out" if $?;
    return $out;
}

sub _shq { my $s = shift; $s =~ s/'/'\\''/g; return "'$s'" }

# --- PostgreSQL --------------------------------------------------------------

# A private cluster under DIR/pg listening on a unix socket only.  When we
# are root the cluster belongs to the 'postgres' user (PostgreSQL refuses
# to run as root).  An existing cluster is reused, so the demo keeps its data.
sub start_pg {
    my ($self, %opt) = @_;
    my $pgdir = "$self->{dir}/pg";
    my $data = "$pgdir/data";
    my $user = $> == 0 ? 'postgres' : undef;

    make_path($pgdir);
    if ($user) {
        # The server writes its log itself, as that user.
        my (undef, undef, $uid, $gid) = getpwnam($user);
        open my $log, '>>', $self->log('postgres') or die "postgres log: $!\n";
        close $log;
        chown $uid, $gid, $pgdir, $self->log('postgres');
    }
    chmod 0755, $pgdir;

    unless (-f "$data/PG_VERSION") {
        $self->_pg_cmd($user, "$PG_BIN/initdb", '-D', $data, '-A', 'trust',
                       '-U', 'postgres', '-E', 'UTF8', '--no-sync',
                       '--locale=C.UTF-8');
    }
    my @conf = ('-c', "unix_socket_directories=$pgdir",
                '-c', "listen_addresses=",
                '-c', 'fsync=' . ($opt{durable} ? 'on' : 'off'),
                '-c', 'max_connections=200',
                '-c', 'log_min_messages=warning');
    $self->_pg_cmd($user, "$PG_BIN/pg_ctl", '-D', $data, '-w', '-t', '60',
                   '-l', $self->log('postgres'), '-o', join(' ', @conf), 'start');
    $self->{pg} = { dir => $pgdir, data => $data, user => $user };

    my $db = $opt{database} // 'concierge';
    my $exists = $self->psql_admin('postgres',
        "SELECT 1 FROM pg_database WHERE datname = '$db'");
    $self->psql_admin('postgres', "CREATE DATABASE $db") unless $exists =~ /1/;
    $self->{pg}{database} = $db;

    _run("$TOP/tools/cc-migrate", $self->db_url('postgres'));
    return $self;
}

sub _pg_cmd {
    my ($self, $user, @cmd) = @_;
    @cmd = ('runuser', '-u', $user, '--', @cmd) if $user;
    _run(@cmd);
}

sub stop_pg {
    my ($self) = @_;
    my $pg = delete $self->{pg} or return;
    eval {
        $self->_pg_cmd($pg->{user}, "$PG_BIN/pg_ctl", '-D', $pg->{data},
                       '-m', 'fast', '-w', 'stop');
    };
}

# libpq URL for a role: 'postgres' (owner of the schema) or 'cc_app' (what
# the workers use, subject to row-level security).
sub db_url {
    my ($self, $role) = @_;
    $role //= 'cc_app';
    return "postgresql:///$self->{pg}{database}?host=$self->{pg}{dir}&user=$role";
}

sub psql_admin {
    my ($self, $db, $sql) = @_;
    return _run('psql', "postgresql:///$db?host=$self->{pg}{dir}&user=postgres",
                '-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-c', $sql);
}

# --- workers ------------------------------------------------------------------

# start_worker('api'|'ingest'|'worker', env => {...}): builds its environment
# (database, socket, log level) and waits until /healthz answers.
sub start_worker {
    my ($self, $kind, %opt) = @_;
    my $name = $opt{name} // "cc-$kind";
    my $socket = $self->socket_path($name);
    unlink $socket;

    my %env = (
        CC_DATABASE_URL  => $self->db_url('cc_app'),
        CC_SOCKET        => $socket,
        CC_LOG_LEVEL     => 'debug',
        CC_WORKER_ID     => $name,
        CC_WORKER_SOCKET => $self->socket_path('cc-worker'),
        CC_INGEST_SOCKET => $self->socket_path('cc-ingest'),
        # Periodic jobs would add rows to the queue that tests count;
        # the tests of periodic jobs turn them on.
        CC_PERIODIC_JOBS => 'off',
        # Without a Graph to ask, every agent request would get 503; the
        # tests of the Autopilot check (t/ingest/gate.t) turn it on.
        CC_AUTOPILOT_CHECK => 'off',
        %{ $self->{worker_env} // {} },
        %{ $opt{env} // {} },
    );
    my @argv = ($opt{wrapper} ? @{ $opt{wrapper} } : (),
                "$self->{build}/cc-$kind");
    $self->spawn($name, \@argv, env => \%env);

    wait_until("$name /healthz", $opt{timeout} // 20, sub {
        die "$name exited early, see " . $self->log($name) . "\n"
            unless $self->alive($name);
        my ($status) = eval { unix_request($socket, 'GET', '/healthz') };
        return defined $status && $status == 200;
    });
    return $socket;
}

# A minimal HTTP/1.1 client over a unix socket:
# unix_request(SOCKET, METHOD, PATH, {headers}, BODY) -> (status, {headers}, body)
sub unix_request {
    my ($path, $method, $uri, $headers, $body) = @_;
    my $s = IO::Socket::UNIX->new(Type => SOCK_STREAM(), Peer => $path)
        or die "connect $path: $!\n";
    $body //= '';
    my $req = "$method $uri HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n";
    $req .= "$_: $headers->{$_}\r\n" for sort keys %{ $headers // {} };
    $req .= "Content-Length: " . length($body) . "\r\n"
        if length $body || $method =~ /^(POST|PUT|PATCH)$/;
    $req .= "\r\n$body";
    print $s $req;
    local $/;
    my $resp = <$s>;
    my $read_error = defined $resp ? '' : " ($!)";
    $resp //= '';
    close $s;
    my ($head, $content) = split /\r\n\r\n/, $resp, 2;
    my ($status) = ($head // '') =~ m{^HTTP/1\.[01] (\d{3})}
        or die "bad response from $path to $method $uri: "
               . (length $resp ? 'no HTTP status line' : "empty$read_error") . "\n";
    my %h;
    for (split /\r\n/, $head) {
        $h{lc $1} = $2 if /^([^:]+):\s*(.*)$/;
    }
    if (($h{'transfer-encoding'} // '') =~ /chunked/i) {
        my $out = '';
        while ($content =~ s/^([0-9a-fA-F]+)\r\n//) {
            my $n = hex $1;
            last if $n == 0;
            $out .= substr($content, 0, $n, '');
            $content =~ s/^\r\n//;
        }
        $content = $out;
    }
    return ($status, \%h, $content // '');
}

# --- nginx ------------------------------------------------------------------

# Variables a configuration template may use as %%NAME%%.
sub conf_vars {
    my ($self) = @_;
    my $certs = $self->{vars}{CERTS} // $self->certs;
    return {
        DIR         => $self->{dir},
        TOP         => $TOP,
        MODULE      => "$self->{build}/ngx_http_concierge_module.so",
        NCHAN       => '/usr/lib/nginx/modules/ngx_nchan_module.so',
        USER        => ($> == 0 ? 'user nobody nogroup;' : ''),
        CERTS       => $certs,
        RUN         => "$self->{dir}/run",
        API_SOCK    => $self->socket_path('cc-api'),
        INGEST_SOCK => $self->socket_path('cc-ingest'),
        WORKER_SOCK => $self->socket_path('cc-worker'),
        WEB         => "$TOP/web",
        BIND        => '127.0.0.1',
        OPS_BIND    => '127.0.0.1',
        CONTROL_SOCK => $self->socket_path('nginx-control'),
        LOGIN_URL   => 'https://login.microsoftonline.com',
        CLIENT_ID   => $DEMO_CLIENT_ID,
        PLATFORM_TENANT => 'off',
        # computed only when a template uses them
        ORIGIN      => sub { 'https://localhost:' . $self->port('https') },
        SESSION_KEYS => sub { $self->session_keys },
        %{ $self->{vars} },
    };
}

sub set_var { $_[0]{vars}{$_[1]} = $_[2] }

sub expand {
    my ($self, $text) = @_;
    my $vars = $self->conf_vars;
    $text =~ s{%%(PORT_(\w+))%%}{$self->port(lc $2)}ge;
    $text =~ s{%%(\w+)%%}{
        exists $vars->{$1} ? _value($vars->{$1}) : die "unknown template variable %%$1%%\n"
    }ge;
    return $text;
}

# start_nginx(CONF_TEXT): expands the template, checks it with nginx -t and
# starts nginx in the foreground under our supervision.
sub _value { ref $_[0] eq 'CODE' ? $_[0]->() : $_[0] }

# The TCP ports a configuration listens on.
sub _listen_ports {
    my ($text) = @_;
    return $text =~ /^\s*listen\s+(?:[\w.*-]+:|\[[^\]]*\]:)?(\d+)\b/mg;
}

sub start_nginx {
    my ($self, $conf, %opt) = @_;
    my $file = "$self->{dir}/nginx.conf";
    my $text = $self->expand($conf);
    open my $fh, '>', $file or die "$file: $!\n";
    print $fh $text;
    close $fh;

    my @argv = ('nginx', '-p', "$self->{dir}/", '-c', $file,
                '-e', $self->log('nginx-error'));
    my $check = qx{@{[ join ' ', map { _shq($_) } @argv, '-t' ]} 2>&1};
    die "nginx -t failed:\n$check" if $?;
    $self->spawn('nginx', [@argv, '-g', 'daemon off; master_process on;']);

    my @ports = @{ $opt{wait_ports} // [ _listen_ports($text) ] };
    for my $port (@ports) {
        wait_until("nginx on port $port", 10, sub {
            die "nginx exited early, see " . $self->log('nginx-error') . "\n"
                unless $self->alive('nginx');
            my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", Timeout => 1);
            return $s ? (close($s), 1) : 0;
        });
    }
    return $self;
}

sub reload_nginx {
    my ($self) = @_;
    kill 'HUP', $self->pid('nginx');
}

# --- Azurite (Blob storage) -------------------------------------------------

# Azurite's well-known development account (public, not a secret).
our $AZURITE_ACCOUNT = 'devstoreaccount1';
our $AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

# Starts Azurite and returns its blob endpoint.  Workers started afterwards
# get it as their blob storage (CC_BLOB_URL, CC_BLOB_ACCOUNT and a
# CC_BLOB_KEY_FILE written here), so cc-ingest signs diagnostics upload
# URLs that Azurite checks.
sub start_azurite {
    my ($self) = @_;
    my $bin = "$TOP/tools/node_modules/.bin/azurite-blob";
    die "Azurite is not installed: run 'make deps'\n" unless -x $bin;
    my $port = $self->port('azurite');
    make_path("$self->{dir}/azurite");
    $self->spawn('azurite', [$bin, '--blobHost', '127.0.0.1', '--blobPort', $port,
                             '--location', "$self->{dir}/azurite", '--silent',
                             '--skipApiVersionCheck', '--loose']);
    wait_until('azurite', 30, sub {
        die "azurite exited early, see " . $self->log('azurite') . "\n"
            unless $self->alive('azurite');
        my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", Timeout => 1);
        return $s ? (close($s), 1) : 0;
    });
    my $url = "http://127.0.0.1:$port/$AZURITE_ACCOUNT";
    my $key_file = "$self->{dir}/azurite.key";
    open my $fh, '>', $key_file or die "$key_file: $!\n";
    print $fh "$AZURITE_KEY\n";
    close $fh;
    $self->{worker_env}{CC_BLOB_URL} = $url;
    $self->{worker_env}{CC_BLOB_ACCOUNT} = $AZURITE_ACCOUNT;
    $self->{worker_env}{CC_BLOB_KEY_FILE} = $key_file;
    return $url;
}

1;
