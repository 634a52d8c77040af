package CC::Test;

# The integration-test harness: one stack (tools/lib/CC/Stack.pm) per test
# file, in its own temporary directory, torn down when the test ends even if
# it dies.  The directory and its logs are kept when a test failed, and the
# tail of each log is printed, so a failure can be read from CI output alone.
#
#   use CC::Test;
#   my $t = CC::Test->new;
#   $t->start_pg->start_worker('api');
#   $t->start_nginx(<<'EOF');
#   ... nginx configuration with %%VARS%% ...
#   EOF
#   my $res = $t->https(GET => '/api/health');

use strict;
use warnings;

use Cwd ();
use File::Basename ();
use lib Cwd::abs_path(File::Basename::dirname(__FILE__) . '/../../../tools/lib');

use File::Temp qw(tempdir);
use JSON::PP ();
use Test::More ();

use CC::Stack;
our @ISA = ('CC::Stack');

our @EXPORT_OK = qw(json_decode json_encode);

my @live;
my $last_death;

# The message of a die outside any eval, for the failure report.
$SIG{__DIE__} = sub { $last_death = $_[0] unless $^S };

sub new {
    my ($class, %opt) = @_;
    my $base = $ENV{CC_TEST_TMP} // '/tmp';
    my $name = $0;
    $name =~ s{.*/}{};
    $name =~ s{\.t$}{};
    my $dir = tempdir("cc-$name-XXXXXX", DIR => $base, CLEANUP => 0);
    my $self = CC::Stack::new($class, dir => $dir, %opt);
    push @live, $self;
    return $self;
}

sub json { JSON::PP->new->utf8->canonical }
sub json_decode { my $d = eval { json()->decode($_[0] // '') }; return $d }
sub json_encode { json()->encode($_[0]) }

# https(METHOD, PATH, headers => {...}, body => STRING|json => REF,
#       port => NAME, cert => [PEM, KEY])
# Returns a Mojo::Message::Response-like hash: {status, headers, body, json}.
sub https {
    my ($self, $method, $path, %opt) = @_;
    require Mojo::UserAgent;
    my $ua = Mojo::UserAgent->new(ca => $self->certs . '/ca.pem',
                                  inactivity_timeout => 20,
                                  max_redirects => 0);
    if ($opt{cert}) {
        $ua->cert($opt{cert}[0])->key($opt{cert}[1]);
    }
    my $port = $self->port($opt{port} // 'https');
    my $url = "https://localhost:$port$path";
    my %h = %{ $opt{headers} // {} };
    my @body;
    if (exists $opt{json}) {
        @body = (json => $opt{json});
    }
    elsif (exists $opt{body}) {
        @body = ($opt{body});
    }
    my $tx = $ua->build_tx($method => $url => \%h => @body);
    $tx = $ua->start($tx);
    my $res = $tx->res;
    if (my $err = $tx->error) {
        return { status => 0, error => $err->{message}, headers => {}, body => '' }
            unless $err->{code};
    }
    my %headers;
    for my $name (@{ $res->headers->names }) {
        $headers{lc $name} = $res->headers->header($name);
    }
    return {
        status  => $res->code,
        headers => \%headers,
        body    => $res->body,
        json    => json_decode($res->body),
    };
}

# Requests straight to a worker's unix socket, bypassing nginx.
sub worker_request {
    my ($self, $name, $method, $path, $headers, $body) = @_;
    my ($status, $h, $content) = CC::Stack::unix_request(
        $self->socket_path($name), $method, $path, $headers, $body);
    return { status => $status, headers => $h, body => $content,
             json => json_decode($content) };
}

# SQL as the schema owner (postgres), or as the workers' role with a tenant.
sub sql {
    my ($self, $sql) = @_;
    my $out = CC::Stack::_run('psql', $self->db_url('postgres'), '-X', '-q', '-At',
                              '-v', 'ON_ERROR_STOP=1', '-c', $sql);
    chomp $out;
    return $out;
}

sub sql_as_app {
    my ($self, $tenant, $sql) = @_;
    my $set = defined $tenant ? "SET cc.tenant_id = '$tenant';" : '';
    my $out = CC::Stack::_run('psql', $self->db_url('cc_app'), '-X', '-q', '-At',
                              '-v', 'ON_ERROR_STOP=1', '-c', "$set $sql");
    chomp $out;
    return $out;
}

# The name of the newest file in sql/ (what a migrated database reports).
sub latest_migration {
    my ($self) = @_;
    my @files = sort glob($self->top . '/sql/[0-9][0-9][0-9]_*.sql');
    return $files[-1] =~ s{.*/}{}r =~ s{\.sql$}{}r;
}

# Wait for a condition with a deadline; returns true if it became true.
sub eventually {
    my ($self, $cond, $timeout) = @_;
    return eval { CC::Stack::wait_until('condition', $timeout // 10, $cond); 1 };
}

sub grep_log {
    my ($self, $name, $re) = @_;
    open my $fh, '<', $self->log($name) or return ();
    return grep { /$re/ } <$fh>;
}

# Ends a test file: stops every process, proves that each worker shut down
# cleanly on SIGTERM (exit 0: no crash, and under LeakSanitizer no leak),
# then closes the plan.  Tests call $t->done_testing instead of done_testing().
sub done_testing {
    my ($self) = @_;
    for my $name (reverse @{ $self->{order} }) {
        my $status = $self->stop($name);
        next unless $name =~ /^cc-/;
        Test::More::is($status, 0, "$name shut down cleanly on SIGTERM");
    }
    Test::More::done_testing();
}

sub teardown {
    my ($self) = @_;
    return if $self->{torn_down}++;
    $self->stop_all;
    # A test that died before its first assertion still "passes" for
    # Test::More; its exit status says otherwise.
    my $passing = Test::More->builder->is_passing && !$self->{died};
    if ($passing && !$ENV{CC_KEEP}) {
        system('rm', '-rf', $self->dir);
        return;
    }
    my @report = ("kept test directory: " . $self->dir);
    push @report, "died: $last_death" if defined $last_death;
    my @details = Test::More->builder->details;
    for my $n (grep { !$details[$_]{ok} } 0 .. $#details) {
        push @report, sprintf('not ok %d - %s', $n + 1, $details[$n]{name} // '');
    }
    for my $log (sort glob($self->dir . '/logs/*.log')) {
        open my $fh, '<', $log or next;
        my @lines = <$fh>;
        next unless @lines;
        my @tail = @lines > 25 ? @lines[-25 .. -1] : @lines;
        push @report, "--- tail of $log", map { chomp; $_ } @tail;
    }
    Test::More::diag($_) for @report;
    write_report(@report);
}

# With CC_TEST_REPORT set (tools/run-tests.sh sets it), a failing test also
# leaves its diagnostics there, so the runner can print every failure again
# after prove's summary, where a CI log's tail shows them.
sub write_report {
    my (@lines) = @_;
    my $dir = $ENV{CC_TEST_REPORT} or return;
    my $name = $0;
    $name =~ s{[^A-Za-z0-9_.-]+}{_}g;
    open my $fh, '>>', "$dir/$name.txt" or return;
    print $fh "=== $0\n", map { "$_\n" } @lines;
    close $fh;
}

sub DESTROY { $_[0]->teardown }

END {
    my $status = $?;
    $_->{died} = $status != 0 for @live;
    $_->teardown for @live;
    @live = ();
    $? = $status;
}

$SIG{INT} = $SIG{TERM} = sub { $_->teardown for @live; exit 1 };

1;
