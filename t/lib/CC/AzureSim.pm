# Starts and stops tools/azure-sim for a test:
#
#   my $sim = CC::AzureSim->start(dir => $tmpdir, certs => $certdir, demo => 1);
#       (also: state => FILE or { seed }, public_url => URL, v2_issuer_base => URL)
#   $sim->url;                                    # https://127.0.0.1:PORT
#   $sim->admin(POST => '/admin/faults', {...});  # decoded JSON answer
#   $sim->stop;                                   # also on DESTROY and END
#
# The simulator listens on a port it picks itself and reports it in its
# readiness line, so parallel tests never race for a port.  If the test fails,
# the simulator's log is kept (t/tmp/) and its tail shown.
package CC::AzureSim;
use strict;
use warnings;

use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Copy qw(copy);
use File::Path qw(make_path);
use File::Temp qw(tempdir);
use Mojo::JSON qw(decode_json encode_json);
use Mojo::UserAgent;
use POSIX ();
use Test::More ();
use Time::HiRes qw(sleep time);

my $ROOT = abs_path(dirname(__FILE__) . '/../../..');
my %LIVE;

sub root { $ROOT }

sub start {
    my ($class, %args) = @_;
    my $dir = $args{dir} // tempdir(CLEANUP => 1);
    make_path($dir);
    my $certs = $args{certs} // _shared_certs() // "$dir/certs";
    unless (-f "$certs/server.pem") {
        system("$ROOT/tools/dev-certs", 'init', $certs) == 0
            or die "CC::AzureSim: tools/dev-certs init $certs failed\n";
    }
    my @cmd = ($^X, "$ROOT/tools/azure-sim/azure-sim", '--listen', 'https://127.0.0.1:0',
        '--cert', "$certs/server.pem", '--key', "$certs/server.key");
    push @cmd, '--demo' if $args{demo};
    if (my $state = $args{state}) {
        if (ref $state) {
            open my $fh, '>', "$dir/azure-sim-state.json" or die "CC::AzureSim: $!\n";
            print $fh encode_json($state);
            close $fh;
            $state = "$dir/azure-sim-state.json";
        }
        push @cmd, '--state', $state;
    }
    push @cmd, '--public-url', $args{public_url} if $args{public_url};
    push @cmd, '--v2-issuer-base', $args{v2_issuer_base} if $args{v2_issuer_base};
    my $log = "$dir/azure-sim.log";
    my $pid = fork // die "CC::AzureSim: fork: $!\n";
    if (!$pid) {
        open STDOUT, '>', $log or POSIX::_exit(127);
        open STDERR, '>&', \*STDOUT or POSIX::_exit(127);
        exec @cmd or POSIX::_exit(127);
    }
    my $self = bless { pid => $pid, dir => $dir, certs => $certs, log => $log }, $class;
    $LIVE{$pid} = $self;
    $self->_wait_ready($args{timeout} // 20);
    return $self;
}

# The certificates tools/run-tests.sh and CC::Stack make once per build, when
# they exist (CC_CERTS, else $CC_BUILD/certs); never created here, so
# parallel tests cannot race to write them.
sub _shared_certs {
    my $dir = $ENV{CC_CERTS};
    if (!defined $dir && defined $ENV{CC_BUILD}) {
        $dir = $ENV{CC_BUILD} =~ m{^/} ? "$ENV{CC_BUILD}/certs" : "$ROOT/$ENV{CC_BUILD}/certs";
    }
    return defined $dir && -f "$dir/server.pem" && -f "$dir/ca.pem" ? $dir : undef;
}

sub _wait_ready {
    my ($self, $timeout) = @_;
    my $deadline = time + $timeout;
    while (time < $deadline) {
        if (open my $fh, '<', $self->{log}) {
            while (my $line = <$fh>) {
                if ($line =~ /^azure-sim: ready (\S+)/) {
                    $self->{url} = $1;
                    return if eval { $self->admin(GET => '/admin/health')->{status} eq 'ok' };
                }
            }
        }
        if (waitpid($self->{pid}, POSIX::WNOHANG()) == $self->{pid}) {
            delete $LIVE{ $self->{pid} };
            $self->{pid} = undef;
            die "CC::AzureSim: the simulator exited at start-up:\n" . $self->log_text;
        }
        sleep 0.05;
    }
    $self->stop;
    die "CC::AzureSim: the simulator was not ready within ${timeout}s:\n" . $self->log_text;
}

sub url   { $_[0]{url} }
sub ca    { "$_[0]{certs}/ca.pem" }
sub certs { $_[0]{certs} }
sub pid   { $_[0]{pid} }
sub log_file { $_[0]{log} }

sub log_text {
    my $self = shift;
    open my $fh, '<', $self->{log} or return '';
    local $/;
    return <$fh>;
}

# A user agent that trusts the development CA; no redirects followed.
sub ua {
    my $self = shift;
    return $self->{ua} //= do {
        my $ua = Mojo::UserAgent->new(ca => $self->ca, inactivity_timeout => 30,
            request_timeout => 60, max_redirects => 0);
        $ua->proxy->not(['127.0.0.1', 'localhost']);
        $ua;
    };
}

# $sim->admin(METHOD, PATH, [BODY]): the decoded JSON answer; dies unless 2xx.
# In list context: (status, decoded body).
sub admin {
    my ($self, $method, $path, $body) = @_;
    my $tx = $self->ua->build_tx($method => $self->url . $path,
        { 'Content-Type' => 'application/json' }, defined $body ? encode_json($body) : ());
    $tx = $self->ua->start($tx);
    my $res = $tx->result;
    my $json = length $res->body ? eval { decode_json($res->body) } : undef;
    return ($res->code, $json) if wantarray;
    die "CC::AzureSim: $method $path answered " . $res->code . ': ' . $res->body . "\n"
        unless $res->is_success;
    return $json;
}

# A client-credentials access token (dies on failure).
sub token {
    my ($self, %a) = @_;
    my $res = $self->ua->post($self->url . "/$a{tenant}/oauth2/v2.0/token" => form => {
        client_id => $a{client}, client_secret => $a{secret}, grant_type => 'client_credentials',
        scope => $a{scope} // 'https://management.azure.com/.default',
    })->result;
    die 'CC::AzureSim: token request failed: ' . $res->body . "\n" unless $res->is_success;
    return $res->json->{access_token};
}

sub stop {
    my $self = shift;
    my $pid = $self->{pid} or return;
    $self->{pid} = undef;
    delete $LIVE{$pid};
    kill 'TERM', $pid;
    my $deadline = time + 5;
    while (time < $deadline) {
        my $r = waitpid($pid, POSIX::WNOHANG());
        # -1: reaped already, e.g. by a supervisor that adopted the process.
        return $self->_keep_log_on_failure if $r == $pid || $r == -1;
        sleep 0.05;
    }
    kill 'KILL', $pid;
    waitpid $pid, 0;
    $self->_keep_log_on_failure;
}

sub _keep_log_on_failure {
    my $self = shift;
    my $builder = Test::More->builder;
    return if $builder->is_passing;
    my $keep = "$ROOT/t/tmp";
    make_path($keep);
    my $copy = "$keep/azure-sim.$$." . int(time) . '.log';
    copy($self->{log}, $copy);
    my @tail = (split /\n/, $self->log_text)[-20 .. -1];
    $builder->diag("azure-sim log kept in $copy; its end:\n" . join "\n", grep { defined } @tail);
}

sub DESTROY {
    my $self = shift;
    local ($., $@, $!, $^E, $?);
    $self->stop if $self->{pid};
}

END {
    local $?;
    $_->stop for values %LIVE;
}

1;
