#!/usr/bin/perl

# The container's path, without a Docker engine: the Dockerfile copies only
# files that exist, and tools/container-start (its entrypoint) applies the
# migrations, renders the nginx configuration, serves the API over TLS and
# stops everything when told to.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;

use CC::Test;

my $t = CC::Test->new;
my $top = $t->top;

# --- the Dockerfile names real files ------------------------------------------

open my $df, '<', "$top/Dockerfile" or die $!;
my @copies;
while (my $line = <$df>) {
    $line .= <$df> while $line =~ s/\\\n$/ / && !eof $df;
    next unless $line =~ /^COPY\s+(?!--from)(.*)$/;
    my @words = split ' ', $1;
    pop @words;
    push @copies, @words;
}
ok(@copies > 3, 'Dockerfile copies files from the repository');
ok(-e "$top/$_", "Dockerfile source '$_' exists") for @copies;

my @built = map { s{^/src/}{}r } (`cat $top/Dockerfile` =~ m{(/src/build/\S+)}g);
ok(@built >= 4, 'Dockerfile takes the built binaries and the module');
ok(-e $t->build . '/' . (s{^build/}{}r), "build step produces $_") for @built;

# --- the entrypoint -------------------------------------------------------------

$t->start_pg;
my $dir = $t->dir . '/instance';
my $https = $t->port('https');
my $ops = $t->port('ops');

my %env = (
    CC_DATABASE_URL         => $t->db_url('cc_app'),
    CC_MIGRATE_DATABASE_URL => $t->db_url('postgres'),
    CC_DIR                  => $dir,
    CC_CERTS                => $t->certs,
    CC_HTTPS_PORT           => $https,
    CC_OPS_PORT             => $ops,
    CC_BIND                 => '127.0.0.1',
    CC_MODULE               => $t->build . '/ngx_http_concierge_module.so',
    CC_AGENT_PORT           => $t->port('agent'),
    CC_CLIENT_ID            => $CC::Stack::DEMO_CLIENT_ID,
    CC_ORIGIN               => 'https://localhost:' . $https,
    CC_SESSION_KEYS         => $t->session_keys,
    PATH                    => $ENV{PATH},
);
# The entrypoint runs build/cc-*; point it at this build's binaries.
my $entry = "$top/tools/container-start";
$env{CC_BIN} = $t->build;

$t->spawn('container', [$entry], env => \%env);

ok($t->eventually(sub {
    my $r = $t->https(GET => '/api/health');
    return $r->{status} == 200;
}, 20), 'the entrypoint serves /api/health over TLS');

my $r = $t->https(GET => '/api/health');
is($r->{json}{components}{database}{schema_version}, $t->latest_migration,
   'the entrypoint applied the migrations');
ok(-s "$dir/nginx.conf", 'the entrypoint rendered nginx.conf into CC_DIR');

$r = $t->https(POST => '/api/dev/sign-in', json => {
    tenant => '11111111-1111-4111-8111-111111111111',
    user => '0a0b0c0d-0000-4000-8000-000000000009', roles => ['global_admin'] });
is($r->{status}, 404, 'the development sign-in does not exist unless turned on');

my $status = $t->stop('container', 'TERM', 15);
is($status >> 8, 0, 'the entrypoint stops cleanly on SIGTERM');
ok(!-e "$dir/run/nginx.pid", 'nginx stopped with it');

$t->done_testing;
