#!/usr/bin/perl

# nginx -t refuses a configuration the auth module cannot work with, and
# says which directive and value are wrong: bad values, key and keyring
# files that do not parse, and methods without what they need.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib", $FindBin::Bin;
use MIME::Base64 qw(encode_base64url);
use Test::More;

use CC::Test;
use AuthKit qw(new_key write_jwks);

my $t = CC::Test->new;
my $dir = $t->dir;

my $rsa = new_key($dir, 'rsa', 'rsa-1');
write_jwks("$dir/jwks.json", $rsa);
write_file('bad.json', '{"keys":[');
write_file('empty-keys.json', '{"keys":[]}');
write_file('dup-kid.json', JSON::PP->new->encode({ keys => [ $rsa->{jwk}, $rsa->{jwk} ] }));
write_file('one-odd.json', JSON::PP->new->encode(
    { keys => [ $rsa->{jwk}, { kty => 'oct', kid => 'hmac', k => 'AAAA' } ] }));
write_file('session.keys', 'k1 ' . encode_base64url('K' x 32) . " active\n");
write_file('short.keys', 'k1 ' . encode_base64url('K' x 8) . "\n");
write_file('empty.keys', "# no keys yet\n");

sub write_file {
    my ($name, $text) = @_;
    open my $fh, '>', "$dir/$name" or die;
    print $fh $text;
    close $fh;
}

my $issuer = 'cc_auth_issuer "https://login.microsoftonline.com/{tenantid}/v2.0";';
my $bearer = "cc_auth_jwks_file $dir/jwks.json; $issuer cc_auth_audience api://x;";
my $cookie = "cc_auth_session_keys $dir/session.keys; cc_auth_origin https://app.example;";

# nginx_t(HTTP_TEXT, LOCATION_TEXT): nginx -t's exit status and output.
sub nginx_t {
    my ($http, $location) = @_;
    my $conf = $t->expand(<<"EOF");
load_module %%MODULE%%;
error_log $dir/logs/config-test.log;
pid $dir/run/config-test.pid;
events { worker_connections 16; }
http {
    $http
    server {
        listen 127.0.0.1:1;
        location / { $location }
    }
}
EOF
    open my $fh, '>', "$dir/test.conf" or die;
    print $fh $conf;
    close $fh;
    my $out = qx{nginx -t -p $dir/ -c $dir/test.conf -e $dir/logs/config-test.log 2>&1};
    return ($? >> 8, $out);
}

sub accepted {
    my ($http, $location, $name) = @_;
    my ($status, $out) = nginx_t($http, $location);
    is($status, 0, "$name: accepted") or diag $out;
    return $out;
}

sub refused {
    my ($http, $location, $re, $name) = @_;
    my ($status, $out) = nginx_t($http, $location);
    isnt($status, 0, "$name: nginx -t fails");
    like($out, $re, "$name: says why");
}

accepted('', "cc_auth bearer; $bearer", 'bearer with keys, issuer and audience');
accepted('', "cc_auth cookie; $cookie", 'cookie with keyring and origin');
accepted('', 'cc_auth device;', 'device');
accepted('', 'cc_auth device; cc_auth_tenant_check off;', 'tenant check off');
accepted('', "cc_auth bearer_or_cookie; $bearer $cookie", 'bearer_or_cookie');
accepted('', "cc_auth bearer; $issuer cc_auth_audience api://x;",
         'bearer with registry keys only (no key file)');
accepted('cc_auth_cache zone=tokens:1m max_ttl=10m;', "cc_auth bearer; $bearer",
         'cache with max_ttl');
accepted('', "cc_auth bearer; $bearer cc_auth_leeway 300s; cc_auth_max_token_size 1m;",
         'largest leeway and token size');
accepted('', 'cc_auth off; cc_auth_cookie_name __Host-cc;', 'a __Host- cookie name');
my $out = accepted('', "cc_auth bearer; cc_auth_jwks_file $dir/one-odd.json; "
                       . "$issuer cc_auth_audience api://x;", 'key file with one unusable key');
like($out, qr/1 key\(s\) skipped, the first \(keys\[1\]\) for: unsupported_key/,
     'the unusable key is named in a warning');

refused('', 'cc_auth bearer; cc_auth off;', qr/"cc_auth" directive is duplicate/,
        'two methods in one place');
refused('', 'cc_auth_tenant_check maybe;', qr/invalid value "maybe" in "cc_auth_tenant_check" directive/,
        'tenant check neither on nor off');
refused('', 'cc_auth maybe;', qr/cc_auth "maybe": off, bearer, cookie, device or bearer_or_cookie expected/,
        'unknown method');
accepted('', "cc_auth bearer; $bearer cc_auth_platform_tenant 11111111-1111-4111-8111-111111111111;",
         'a platform tenant given as a GUID');
accepted('', "cc_auth bearer; $bearer cc_auth_platform_tenant off;", 'no platform tenant');
refused('', "cc_auth bearer; $bearer cc_auth_platform_tenant contoso;",
        qr/"contoso" is not a tenant id \(a GUID\) or "off"/, 'a platform tenant that is not a GUID');
refused('', "cc_auth bearer; $bearer cc_auth_leeway 301s;",
        qr/"cc_auth_leeway" directive must not exceed 300s/, 'leeway over 300s');
refused('', "cc_auth bearer; $bearer cc_auth_leeway soon;",
        qr/"cc_auth_leeway" directive invalid value/, 'leeway not a time');
refused('', "cc_auth bearer; $bearer cc_auth_max_token_size 100;",
        qr/"cc_auth_max_token_size" directive must be between 1k and 1m/, 'token size too small');
refused('', "cc_auth bearer; $bearer cc_auth_max_token_size 2m;",
        qr/must be between 1k and 1m/, 'token size too large');
refused('', "cc_auth_jwks_file $dir/missing.json;", qr/missing\.json" failed/,
        'key file missing');
refused('', "cc_auth_jwks_file $dir/bad.json;", qr/cc_auth_jwks_file ".*bad\.json" refused: bad_json/,
        'key file not JSON');
refused('', "cc_auth_jwks_file $dir/empty-keys.json;", qr/refused: no_usable_keys/,
        'key file without keys');
refused('', "cc_auth_jwks_file $dir/dup-kid.json;", qr/refused: duplicate_kid/,
        'key file with one kid twice');
refused('', "cc_auth_jwks_file $dir/jwks.json; cc_auth_jwks_file $dir/jwks.json;",
        qr/"cc_auth_jwks_file" directive is duplicate/, 'two key files in one place');
refused('', 'cc_auth bearer; cc_auth_audience api://x;',
        qr/cc_auth accepts bearer tokens but cc_auth_issuer or cc_auth_audience is missing/,
        'bearer without an issuer');
refused('', "cc_auth bearer; $issuer",
        qr/cc_auth_issuer or cc_auth_audience is missing/, 'bearer without an audience');
refused('', "$issuer $issuer", qr/cc_auth_issuer "https:\/\/login\.microsoftonline\.com\/\{tenantid\}\/v2\.0" is given twice/, 'one issuer twice');
refused('', 'cc_auth_audience "api://x y";', qr/cc_auth_audience "api:\/\/x y": spaces and control characters are not allowed/,
        'audience with a space');
refused('', 'cc_auth cookie; cc_auth_origin https://app.example;',
        qr/cc_auth_session_keys or cc_auth_origin is missing/, 'cookie without keys');
refused('', "cc_auth cookie; cc_auth_session_keys $dir/session.keys;",
        qr/cc_auth_session_keys or cc_auth_origin is missing/, 'cookie without an origin');
refused('', "cc_auth bearer_or_cookie; $bearer",
        qr/cc_auth_session_keys or cc_auth_origin is missing/, 'bearer_or_cookie without cookie setup');
refused('', "cc_auth_session_keys $dir/short.keys;",
        qr/cc_auth_session_keys ".*short\.keys" refused: keyring_bad_key/, 'keyring with a short key');
refused('', "cc_auth_session_keys $dir/empty.keys;",
        qr/cc_auth_session_keys ".*empty\.keys" refused: keyring_no_active_key/, 'keyring without keys');
refused('', 'cc_auth_origin https://App.example;', qr/cc_auth_origin "https:\/\/App\.example": scheme:\/\/host\[:port\] in lower case expected/,
        'origin with upper case');
refused('', 'cc_auth_origin https://app.example/;', qr/cc_auth_origin "https:\/\/app\.example\/"/, 'origin with a path');
refused('', 'cc_auth_origin app.example;', qr/cc_auth_origin "app\.example"/, 'origin without a scheme');
refused('', 'cc_auth_cookie_name "a;b";', qr/cc_auth_cookie_name "a;b" is not a cookie name/, 'cookie name with a separator');
refused('cc_auth_cache max_ttl=1m;', '', qr/"cc_auth_cache" directive needs the "zone" parameter/,
        'cache without a zone');
refused('cc_auth_cache zone=tokens;', '', qr/cc_auth_cache "zone=tokens": zone=NAME:SIZE expected/, 'cache zone without a size');
refused('cc_auth_cache zone=tokens:1k;', '', qr/cc_auth_cache "zone=tokens:1k": the zone is too small/,
        'cache zone too small');
refused('cc_auth_cache zone=tokens:1m max_ttl=later;', '', qr/cc_auth_cache "max_ttl=later": a time of 1s or more expected/,
        'cache max_ttl not a time');
refused('cc_auth_cache zone=tokens:1m size=2;', '', qr/cc_auth_cache "size=2": unknown parameter/,
        'cache with an unknown parameter');
refused('cc_auth_cache zone=tokens:1m; cc_auth_cache zone=other:1m;', '',
        qr/"cc_auth_cache" directive is duplicate/, 'two caches');
refused('', 'cc_auth_cache zone=tokens:1m;', qr/"cc_auth_cache" directive is not allowed here/,
        'cache inside a location');

$t->done_testing;
