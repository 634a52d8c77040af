# Small helpers every service of the simulator shares: identifiers, clocks,
# base64url and the time formats Azure writes.
package AzureSim::Util;
use Mojo::Base -strict, -signatures;

use Crypt::PRNG qw(random_bytes);
use Digest::SHA qw(sha256);
use Exporter 'import';
use MIME::Base64 qw(encode_base64 decode_base64);
use POSIX qw(strftime);
use Time::HiRes ();

our @EXPORT_OK = qw(new_uuid uuid_from is_guid now_s now_ms b64url b64url_decode
    iso_time entra_time http_time hex_id random_token);

# Time is read through one function so that a test could move it; the
# simulator itself never sleeps.
sub now_ms () { int(Time::HiRes::time() * 1000) }
sub now_s  () { int(Time::HiRes::time()) }

sub _format_uuid ($bytes) {
    my @b = unpack 'C16', $bytes;
    $b[6] = ($b[6] & 0x0f) | 0x40;
    $b[8] = ($b[8] & 0x3f) | 0x80;
    my $h = join '', map { sprintf '%02x', $_ } @b;
    return join '-', substr($h, 0, 8), substr($h, 8, 4), substr($h, 12, 4),
        substr($h, 16, 4), substr($h, 20, 12);
}

sub new_uuid () { _format_uuid(random_bytes(16)) }

# A stable GUID derived from a name, so that the demo seed and objects created
# without an id keep the same identifiers from run to run.
sub uuid_from ($name) { _format_uuid(substr(sha256("azure-sim:$name"), 0, 16)) }

sub is_guid ($s) {
    return defined $s
        && $s =~ /\A[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\z/i;
}

sub hex_id ($bytes = 16) { unpack 'H*', random_bytes($bytes) }

sub random_token ($bytes = 32) { b64url(random_bytes($bytes)) }

sub b64url ($bytes) {
    my $s = encode_base64($bytes, '');
    $s =~ tr{+/}{-_};
    $s =~ s/=+\z//;
    return $s;
}

sub b64url_decode ($s) {
    $s =~ tr{-_}{+/};
    $s .= '=' x ((4 - length($s) % 4) % 4);
    return decode_base64($s);
}

# 2024-06-01T10:00:00.1234567Z, the form ARM and Graph write.
sub iso_time ($t = undef) {
    $t //= Time::HiRes::time();
    my $frac = sprintf '%07d', ($t - int $t) * 1e7;
    return strftime('%Y-%m-%dT%H:%M:%S', gmtime int $t) . ".${frac}Z";
}

# 2023-01-09 14:06:14Z, the form of Entra's error timestamps.
sub entra_time ($t = undef) { strftime('%Y-%m-%d %H:%M:%SZ', gmtime($t // time)) }

sub http_time ($t = undef) { strftime('%a, %d %b %Y %H:%M:%S GMT', gmtime($t // time)) }

1;
