#!/usr/bin/perl

# nginx -t refuses a limit configuration that cannot work, and says which
# directive and value are wrong.

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
    HTTP
    server {
        listen 127.0.0.1:%%PORT_HTTP%%;
        location / {
            LOCATION
        }
    }
}
EOF

my $n = 0;

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

my $zone = 'cc_limit_zone z size=64k window=60s;';

my ($rc, $out) = check($zone, 'cc_limit zone=z key=$remote_addr rate=10;');
is($rc, 0, 'a zone and a limit pass nginx -t') or diag $out;

($rc, $out) = check('cc_limit_zone z window=1m size=1m;
                     cc_limit_zone y size=1m window=2s;',
                    'cc_limit rate=5 key=$remote_addr$uri zone=z
                              override=$http_x_limit empty_key=pass;
                     cc_limit zone=y key=$remote_addr rate=0;
                     cc_limit_dry_run on; cc_limit_log_level notice;
                     cc_limit_status_code 503; cc_limit_response agent;
                     cc_limit_headers on;');
is($rc, 0, 'every parameter and directive, in any order') or diag $out;

($rc, $out) = check($zone, 'cc_limit_status;');
is($rc, 0, 'a status location') or diag $out;

my @bad = (
    [ 'a zone without a window', 'cc_limit_zone z size=64k;', '',
      qr/"cc_limit_zone" must have "size" and "window" parameters/ ],
    [ 'a zone smaller than 8 pages', 'cc_limit_zone z size=16k window=60s;',
      '', qr/zone "size=16k" is too small/ ],
    [ 'a window under a second', 'cc_limit_zone z size=64k window=500ms;',
      '', qr/invalid window "window=500ms": a whole number of seconds/ ],
    [ 'a window in fractions of a second',
      'cc_limit_zone z size=64k window=1500ms;', '',
      qr/invalid window "window=1500ms"/ ],
    [ 'a zone name with a quote', 'cc_limit_zone a"b size=64k window=60s;',
      '', qr/invalid zone name/ ],
    [ 'a zone declared twice', "$zone $zone", '', qr/duplicate zone "z"/ ],
    [ 'an unknown zone parameter', 'cc_limit_zone z size=64k window=6s x=1;',
      '', qr/invalid parameter "x=1"/ ],
    [ 'a limit without a rate', $zone, 'cc_limit zone=z key=$remote_addr;',
      qr/"cc_limit" must have "zone", "key" and "rate" parameters/ ],
    [ 'a limit without a key', $zone, 'cc_limit zone=z rate=5;',
      qr/must have "zone", "key" and "rate"/ ],
    [ 'a rate that is not a number', $zone,
      'cc_limit zone=z key=$remote_addr rate=5r/s;',
      qr{invalid rate "rate=5r/s"} ],
    [ 'an empty key', $zone, 'cc_limit zone=z key= rate=5;',
      qr/empty "key="/ ],
    [ 'an unknown empty_key choice', $zone,
      'cc_limit zone=z key=$remote_addr rate=5 empty_key=maybe;',
      qr/invalid parameter "empty_key=maybe"/ ],
    [ 'an unknown variable in the key', $zone,
      'cc_limit zone=z key=$no_such_thing rate=5;',
      qr/unknown "no_such_thing" variable/ ],
    [ 'one zone twice in a location', $zone,
      'cc_limit zone=z key=$remote_addr rate=5;
       cc_limit zone=z key=$uri rate=5;',
      qr/zone "z" is used twice in one location/ ],
    [ 'a zone that is never declared', '',
      'cc_limit zone=nowhere key=$remote_addr rate=5;',
      qr/zero size shared memory zone "nowhere"/ ],
    [ 'a status code under 400', $zone, 'cc_limit_status_code 302;',
      qr/value must be between 400 and 599/ ],
    [ 'an unknown response shape', $zone, 'cc_limit_response html;',
      qr/invalid value "html"/ ],
    [ 'an unknown log level', $zone, 'cc_limit_log_level debug;',
      qr/invalid value "debug"/ ],
);

for my $case (@bad) {
    my ($why, $http, $location, $re) = @$case;
    ($rc, $out) = check($http, $location);
    isnt($rc, 0, "nginx -t refuses $why");
    like($out, $re, "and says what is wrong ($why)");
}

$t->done_testing;
