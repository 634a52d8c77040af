# The signing keys of the simulated Entra ID: the JWKS it publishes, the
# tokens it mints, and the verification the simulated resource servers
# (ARM, Key Vault, Graph) apply to the tokens they receive.
package AzureSim::Keys;
use Mojo::Base -base, -signatures;

use AzureSim::Util qw(b64url b64url_decode);
use Crypt::PK::RSA;
use Digest::SHA qw(sha1);
use File::Temp qw(tempdir);
use MIME::Base64 qw(decode_base64);
use Mojo::File qw(path);
use Mojo::JSON qw(encode_json decode_json);

has keys => sub { [] };   # newest first; keys->[0] signs

# RSA-2048 with a self-signed certificate, as Entra publishes (x5c).  openssl
# makes the certificate: CryptX cannot, and it is in every Debian install.
sub _generate ($self) {
    my $dir = tempdir(CLEANUP => 1);
    system('openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256',
        '-keyout', "$dir/key.pem", '-out', "$dir/cert.pem", '-days', '1825',
        '-subj', '/CN=accounts.accesscontrol.windows.net') == 0
        or die "azure-sim: openssl could not make a signing key\n";
    my $pem = path("$dir/cert.pem")->slurp;
    my ($b64) = $pem =~ /-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----/s;
    $b64 =~ s/\s+//g;
    my $pk  = Crypt::PK::RSA->new("$dir/key.pem");
    my $jwk = $pk->export_key_jwk('public', 1);
    my $kid = b64url(sha1(decode_base64($b64)));
    return { kid => $kid, pk => $pk, n => $jwk->{n}, e => $jwk->{e}, x5c => $b64 };
}

sub init ($self) {
    @{ $self->keys } = ($self->_generate) unless @{ $self->keys };
    return $self;
}

# Rotation as Entra does it, compressed: a new key is published and signs at
# once; drop_old removes every other key (tokens they signed stop verifying).
sub rotate ($self, $drop_old = 0) {
    my $new = $self->_generate;
    @{ $self->keys } = $drop_old ? ($new) : ($new, @{ $self->keys });
    return $new->{kid};
}

# The same in steps, as Entra really rolls keys: publish a key first...
sub add ($self) {
    my $new = $self->_generate;
    push @{ $self->keys }, $new;
    return $new->{kid};
}

# ...let it sign once relying parties have fetched it...
sub promote ($self, $kid) {
    my ($key) = grep { $_->{kid} eq $kid } @{ $self->keys } or return 0;
    @{ $self->keys } = ($key, grep { $_ != $key } @{ $self->keys });
    return 1;
}

# ...and retire the others.
sub drop_old ($self) { splice @{ $self->keys }, 1 }

sub signing_kid ($self) { $self->keys->[0]{kid} }

# v1 keys lack "issuer"; v2 keys carry the issuer template.
sub jwks ($self, $v2_issuer = undef) {
    my @keys;
    for my $k (@{ $self->keys }) {
        push @keys, {
            kty => 'RSA', use => 'sig', kid => $k->{kid}, x5t => $k->{kid},
            n => $k->{n}, e => $k->{e}, x5c => [$k->{x5c}],
            (defined $v2_issuer ? (issuer => $v2_issuer) : ()),
        };
    }
    return { keys => \@keys };
}

sub mint ($self, $claims, %opt) {
    my $k = $self->keys->[0];
    my %header = (typ => 'JWT', alg => 'RS256', kid => $k->{kid});
    $header{x5t} = $k->{kid} if ($claims->{ver} // '') eq '1.0';
    %header = (%header, %{ $opt{header} }) if $opt{header};
    my $input = b64url(encode_json(\%header)) . '.' . b64url(encode_json($claims));
    my $key   = $opt{key} // $k->{pk};
    return $input . '.' . b64url($key->sign_message($input, 'SHA256', 'v1.5'));
}

# Returns (claims) or (undef, reason).  Only the signature and the token's
# shape are checked here; time, audience and tenant belong to the caller.
sub verify ($self, $token) {
    my ($h, $p, $s) = split /\./, $token // '', -1;
    return (undef, 'malformed') unless defined $s && length $h && length $p;
    my ($header, $claims) = eval { (decode_json(b64url_decode($h)), decode_json(b64url_decode($p))) };
    return (undef, 'malformed') unless ref $header eq 'HASH' && ref $claims eq 'HASH';
    return (undef, 'alg') unless ($header->{alg} // '') eq 'RS256';
    my ($key) = grep { $_->{kid} eq ($header->{kid} // '') } @{ $self->keys };
    return (undef, 'kid') unless $key;
    my $ok = eval { $key->{pk}->verify_message(b64url_decode($s), "$h.$p", 'SHA256', 'v1.5') };
    return (undef, 'signature') unless $ok;
    return ($claims);
}

1;
