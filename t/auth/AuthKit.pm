package AuthKit;

# What the tests of the auth module (t/auth/*.t) share: signing keys made
# by openssl, JWKS files, tokens minted by Crypt::JWT (an implementation
# independent of lib/), an upstream that echoes the request headers it got,
# the boilerplate around each test's nginx configuration, and requests over
# plain HTTP and to the registry's control socket.

use strict;
use warnings;

use Crypt::JWT qw(encode_jwt);
use Crypt::PK::ECC;
use Crypt::PK::Ed25519;
use Crypt::PK::RSA;
use Exporter qw(import);
use HTTP::Tiny;
use JSON::PP ();
use MIME::Base64 qw(encode_base64url);

use CC::Stack;

our @EXPORT_OK = qw(new_key write_jwks claims token sign_raw b64j
                    start_echo nginx_conf http registry);

our $TENANT   = 'cb9743bb-9168-4dc6-b17f-766487518a6a';
our $TENANT2  = '0f9d1c2e-3b4a-4c5d-8e6f-7a8b9c0d1e2f';
our $AUDIENCE = 'api://concierge';
our $USER     = '5e7b2c1a-9d8e-4f3a-b2c1-0a9b8c7d6e5f';

my $json = JSON::PP->new->utf8->canonical;

# new_key(DIR, 'rsa'|'ec'|'ed25519', KID): a key pair made by openssl,
# loaded into CryptX; {kid, alg, pk, jwk (public), file}.
sub new_key {
    my ($dir, $type, $kid) = @_;
    my %how = (
        rsa     => ['RSA', '-pkeyopt', 'rsa_keygen_bits:2048'],
        ec      => ['EC', '-pkeyopt', 'ec_paramgen_curve:P-256'],
        ed25519 => ['ED25519'],
    );
    my %alg = (rsa => 'RS256', ec => 'ES256', ed25519 => 'EdDSA');
    my %class = (rsa => 'Crypt::PK::RSA', ec => 'Crypt::PK::ECC',
                 ed25519 => 'Crypt::PK::Ed25519');
    (my $name = $kid) =~ s/[^A-Za-z0-9_-]/_/g;
    my $file = "$dir/key-$name.pem";
    my ($algorithm, @opts) = @{ $how{$type} };
    CC::Stack::_run('openssl', 'genpkey', '-algorithm', $algorithm, @opts,
                    '-out', $file);
    my $pk = $class{$type}->new($file);
    my $jwk = $pk->export_key_jwk('public', 1);
    $jwk->{kid} = $kid;
    $jwk->{use} = 'sig';
    return { kid => $kid, alg => $alg{$type}, pk => $pk, jwk => $jwk,
             file => $file, type => $type };
}

sub write_jwks {
    my ($path, @keys) = @_;
    open my $fh, '>', $path or die "$path: $!\n";
    print $fh $json->encode({ keys => [ map { $_->{jwk} } @keys ] });
    close $fh;
    return $path;
}

# The claims of a good v2 token for $TENANT, with overrides; a value of
# undef removes the claim.
sub claims {
    my (%o) = @_;
    my $tid = exists $o{tid} ? $o{tid} : $TENANT;
    my $now = time;
    my %c = (
        ver => '2.0',
        tid => $tid,
        iss => 'https://login.microsoftonline.com/' . ($tid // '') . '/v2.0',
        aud => $AUDIENCE,
        iat => $now - 10,
        nbf => $now - 10,
        exp => $now + 600,
        oid => $USER,
        sub => 'pairwise-subject',
        preferred_username => 'ann@contoso.example',
        name => 'Ann Example',
        roles => ['tenant_admin', 'operator'],
    );
    for my $k (keys %o) {
        if (defined $o{$k}) { $c{$k} = $o{$k} } else { delete $c{$k} }
    }
    return \%c;
}

# token(KEY, CLAIMS, HEADER...): a compact JWS by Crypt::JWT, kid from KEY
# unless the header overrides it.
sub token {
    my ($key, $claims, %header) = @_;
    my $alg = delete $header{alg} // $key->{alg};
    return encode_jwt(payload => $json->encode($claims), alg => $alg,
                      key => $key->{pk},
                      extra_headers => { kid => $key->{kid}, %header });
}

sub b64j { encode_base64url(ref $_[0] ? $json->encode($_[0]) : $_[0]) }

# sign_raw(KEY, HEADER_TEXT, PAYLOAD_TEXT): a token over exactly these
# JSON texts (for duplicate members and other shapes no library writes).
sub sign_raw {
    my ($key, $header, $payload) = @_;
    my $input = encode_base64url($header) . '.' . encode_base64url($payload);
    my $sig;
    if ($key->{type} eq 'rsa') {
        $sig = $key->{pk}->sign_message($input, 'SHA256', 'v1.5');
    }
    elsif ($key->{type} eq 'ec') {
        $sig = $key->{pk}->sign_message_rfc7518($input, 'SHA256');
    }
    else {
        $sig = $key->{pk}->sign_message($input);
    }
    return "$input." . encode_base64url($sig);
}

# An upstream that answers with the request headers it got, so what a test
# reads is exactly what nginx sent.
sub start_echo {
    my ($t) = @_;
    my $port = $t->port('echo');
    $t->spawn('echo', [$^X, '-MIO::Socket::INET', '-e', <<'PERL', $port]);
my $l = IO::Socket::INET->new(LocalAddr => "127.0.0.1:$ARGV[0]",
                              Listen => 64, ReuseAddr => 1) or die $!;
while (my $c = $l->accept) {
    my $head = '';
    while (my $line = <$c>) { last if $line eq "\r\n"; $head .= $line; }
    print $c "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n$head";
    close $c;
}
PERL
    return $port;
}

# The configuration around a test's own http-level text: the module, logs
# at info (debug when asked), temp paths, the echo upstream, and the
# registry with its control API on run/registry.sock (unless registry => 0).
sub nginx_conf {
    my ($http, %opt) = @_;
    my $level = $opt{debug} ? 'debug' : 'info';
    my $registry = ($opt{registry} // 1) ? <<'EOF' : '';
    cc_registry_zone name=registry size=1m;

    server {
        listen unix:%%RUN%%/registry.sock;
        location /registry { cc_registry_api; }
    }
EOF
    return <<"EOF";
%%USER%%
load_module %%MODULE%%;
error_log %%DIR%%/logs/nginx-error.log $level;
pid %%DIR%%/run/nginx.pid;
worker_processes 1;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path %%DIR%%/tmp;
    proxy_temp_path %%DIR%%/tmp;
    large_client_header_buffers 4 64k;

    upstream echo { server 127.0.0.1:%%PORT_ECHO%%; }

$registry
$http
}
EOF
}

# http(T, METHOD, PATH, HEADERS, BODY): plain HTTP to the 'http' port;
# {status, headers (lower-case names), body, json, error}.
sub http {
    my ($t, $method, $path, $headers, $body) = @_;
    my $port = $t->port('http');
    my $res = HTTP::Tiny->new(timeout => 10, max_redirect => 0)->request(
        $method, "http://127.0.0.1:$port$path",
        { headers => $headers // {}, defined $body ? (content => $body) : () });
    my $decoded = eval { $json->decode($res->{content}) };
    return { status => $res->{status}, headers => $res->{headers},
             body => $res->{content}, json => $decoded };
}

# registry(T, METHOD, PATH, BODY_REF): the registry's control API on its
# unix socket; (status, decoded body).
sub registry {
    my ($t, $method, $path, $body) = @_;
    my ($status, undef, $content) = CC::Stack::unix_request(
        $t->dir . '/run/registry.sock', $method, $path,
        { 'Content-Type' => 'application/json' },
        defined $body ? $json->encode($body) : undef);
    my $decoded = eval { $json->decode($content) };
    return ($status, $decoded);
}

1;
