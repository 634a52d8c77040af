#!/usr/bin/perl

# nginx -t refuses a registry configuration that cannot work, naming the
# directive and what is wrong with it.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;

use CC::Test;

my $t = CC::Test->new;

my $template = <<'EOF';
load_module %%MODULE%%;
pid %%DIR%%/run/nginx.pid;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path %%DIR%%/tmp;
    HTTP
    server {
        listen unix:%%RUN%%/registry.sock;
        location /registry {
            LOCATION
        }
    }
}
EOF

my $n = 0;

# nginx -t on the configuration; returns (exit status, output)
sub check {
    my ($http, $location) = @_;
    (my $conf = $template) =~ s/HTTP/$http/;
    $conf =~ s/LOCATION/$location/;
    my $file = $t->dir . '/check-' . ++$n . '.conf';
    open my $fh, '>', $file or die $!;
    print $fh $t->expand($conf);
    close $fh;
    my ($dir, $log) = ($t->dir, $t->log('check'));
    my $out = qx{nginx -t -p '$dir/' -c '$file' -e '$log' 2>&1};
    return ($? >> 8, $out);
}

my ($rc, $out) = check('cc_registry_zone name=registry size=64k;',
                       'cc_registry_api;');
is($rc, 0, 'a zone of 64k and an API location pass nginx -t') or diag $out;

($rc, $out) = check('cc_registry_zone size=1m name=registry;
                     cc_registry_tenant $http_x_tenant;', 'cc_registry_api;');
is($rc, 0, 'parameters in any order, and cc_registry_tenant at http level')
    or diag $out;

my @bad = (
    [ 'a zone smaller than 64k',
      'cc_registry_zone name=registry size=32k;', 'cc_registry_api;',
      qr/"cc_registry_zone" size "32k" is too small: .* at least 64k/ ],
    [ 'a zone without a size',
      'cc_registry_zone name=registry;', 'cc_registry_api;',
      qr/"cc_registry_zone" must have "size" parameter/ ],
    [ 'a zone without a name',
      'cc_registry_zone size=1m;', 'cc_registry_api;',
      qr/"cc_registry_zone" must have "name" parameter/ ],
    [ 'a zone size that is not a size',
      'cc_registry_zone name=registry size=big;', 'cc_registry_api;',
      qr/invalid zone size "size=big"/ ],
    [ 'an unknown zone parameter',
      'cc_registry_zone name=registry size=1m max=3;', 'cc_registry_api;',
      qr/invalid parameter "max=3"/ ],
    [ 'two zones in one http block',
      'cc_registry_zone name=a size=1m; cc_registry_zone name=b size=1m;',
      'cc_registry_api;',
      qr/"cc_registry_zone" directive is duplicate/ ],
    [ 'cc_registry_api used twice in a location',
      'cc_registry_zone name=registry size=1m;',
      'cc_registry_api; cc_registry_api;',
      qr/"cc_registry_api" directive is duplicate/ ],
    [ 'cc_registry_api without a zone',
      '', 'cc_registry_api;',
      qr/"cc_registry_api" needs a "cc_registry_zone" in the http block/ ],
    [ 'cc_registry_api with an argument',
      'cc_registry_zone name=registry size=1m;', 'cc_registry_api on;',
      qr/invalid number of arguments in "cc_registry_api"/ ],
    [ 'cc_registry_tenant without a value',
      'cc_registry_zone name=registry size=1m;',
      'cc_registry_api; cc_registry_tenant;',
      qr/invalid number of arguments in "cc_registry_tenant"/ ],
);

for my $case (@bad) {
    my ($name, $http, $location, $message) = @$case;
    ($rc, $out) = check($http, $location);
    subtest "nginx -t refuses $name" => sub {
        isnt($rc, 0, 'nginx -t fails');
        like($out, $message, 'and says why');
        like($out, qr/\[emerg\]/, 'as an emergency');
    };
}

$t->done_testing;
