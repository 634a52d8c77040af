#!/usr/bin/perl

# Intune device certificates (mTLS): nginx checks the chain against the
# Intune bundle; the module requires the MDM Device CA as issuer, a GUID
# subject CN (the device id), the Entra tenant from extension
# 1.2.840.113556.5.14, an X-Tenant-Id (when sent) naming that tenant, an
# active tenant and a device that is not blocked.  Refusals are JSON an
# agent understands, including the "deviceBlocked" answer.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib", $FindBin::Bin;
use Test::More;

use CC::Test;
use AuthKit qw(start_echo nginx_conf registry);

my $t = CC::Test->new;
my $dir = $t->dir;
my $certs = $t->certs;

my $tenant = $AuthKit::TENANT;
my $tenant_hex = windows_hex($tenant);

# Device ids are unique to this file: the certificate directory is shared.
my %dev = (
    good      => 'a1d0c6e8-0001-4b1e-9f00-000000000001',
    expired   => 'a1d0c6e8-0001-4b1e-9f00-000000000002',
    future    => 'a1d0c6e8-0001-4b1e-9f00-000000000003',
    blocked   => 'a1d0c6e8-0001-4b1e-9f00-000000000004',
    until     => 'a1d0c6e8-0001-4b1e-9f00-000000000005',
);

my @good = $t->device_cert($dev{good}, $tenant);
my @blocked = $t->device_cert($dev{blocked}, $tenant);
my @until = $t->device_cert($dev{until}, $tenant);
my @expired = $t->device_cert($dev{expired}, $tenant, 30, '20200101000000Z');
my @future = $t->device_cert($dev{future}, $tenant, 30, '20990101000000Z');

# Certificates tools/dev-certs does not make: issued by the Intune root
# itself, without the tenant extension, with a CN that is no GUID, and a
# look-alike chain from a CA of our own that nginx does not trust.
my $ext_ok = "1.2.840.113556.5.14=DER:0410$tenant_hex";
my @by_root = leaf('by-root', $dev{good}, "$certs/intune-root", $ext_ok);
my @no_ext = leaf('no-ext', $dev{good}, "$certs/intune-ca");
my @not_guid = leaf('not-guid', 'laptop-42', "$certs/intune-ca", $ext_ok);
my @short_ext = leaf('short-ext', $dev{good}, "$certs/intune-ca",
                     '1.2.840.113556.5.14=DER:0408bb4397cb6891c64d');
fake_ca("$dir/fake-root", 'Microsoft Intune Root Certification Authority');
fake_ca("$dir/fake-ca", 'Microsoft Intune MDM Device CA', "$dir/fake-root");
my @forged = leaf('forged', $dev{good}, "$dir/fake-ca", $ext_ok);

start_echo($t);
$t->start_nginx(nginx_conf(<<'EOF'), wait_ports => [$t->port('https'), $t->port('echo')]);
    server {
        listen 127.0.0.1:%%PORT_HTTPS%% ssl;
        server_name localhost;

        ssl_certificate         %%CERTS%%/server.pem;
        ssl_certificate_key     %%CERTS%%/server.key;
        ssl_client_certificate  %%CERTS%%/intune-bundle.pem;
        ssl_verify_client       optional;
        ssl_verify_depth        2;

        # nginx answers a failed chain with 495 before any phase runs; the
        # module answers it in JSON instead.
        error_page 495 496 = @device;

        location /api/agent/ {
            cc_auth device;
            add_header X-Auth-Error $cc_auth_error always;
            add_header X-Auth-Method $cc_auth_method always;
            proxy_set_header X-CC-Tenant $cc_tenant_id;
            proxy_set_header X-CC-Device $cc_device_id;
            proxy_pass http://echo;
        }

        location @device {
            cc_auth device;
            add_header X-Auth-Error $cc_auth_error always;
            proxy_pass http://echo;
        }
    }
EOF

sub get {
    my ($cert, %headers) = @_;
    return $t->https(GET => '/api/agent/config', headers => \%headers,
                     $cert ? (cert => $cert) : ());
}

sub refused {
    my ($r, $status, $reason, $name) = @_;
    is($r->{status}, $status, "$name: $status");
    is($r->{headers}{'x-auth-error'}, $reason, "$name: reason $reason");
    is($r->{json} && $r->{json}{success}, JSON::PP::false(),
       "$name: agent-style JSON body (success false)");
}

my $r = get(undef);
refused($r, 401, 'no_certificate', 'no certificate');
is($r->{json}{error}{code}, 'invalid_certificate', 'no certificate: error code');
is($r->{headers}{'www-authenticate'}, undef, 'no bearer challenge for devices');

refused(get(\@expired), 401, 'certificate_expired', 'expired certificate');
refused(get(\@future), 401, 'certificate_not_yet_valid', 'not yet valid certificate');
refused(get(\@forged), 401, 'certificate_untrusted', 'look-alike chain from another CA');
refused(get(\@by_root), 401, 'wrong_issuer', 'issued by the root, not the MDM Device CA');
refused(get(\@no_ext), 401, 'no_tenant_extension', 'no tenant extension');
refused(get(\@short_ext), 401, 'no_tenant_extension', 'tenant extension of the wrong length');
refused(get(\@not_guid), 401, 'bad_device_id', 'subject CN not a GUID');

refused(get(\@good, 'X-Tenant-Id' => $AuthKit::TENANT2), 403, 'tenant_mismatch',
        'X-Tenant-Id of another tenant');
refused(get(\@good, 'X-Tenant-Id' => 'contoso'), 403, 'tenant_mismatch',
        'X-Tenant-Id that is no GUID');

# The tenant is not onboarded yet: a good certificate is refused on it.
$r = get(\@good);
refused($r, 403, 'tenant_unknown', 'good certificate, tenant not onboarded');

{
    registry($t, PUT => "/registry/tenants/$tenant", { status => 'active' });

    $r = get(\@good);
    is($r->{status}, 200, 'good certificate, active tenant: 200');
    like($r->{body}, qr/^X-CC-Device: $dev{good}\r$/m, 'device id passed upstream');
    like($r->{body}, qr/^X-CC-Tenant: $tenant\r$/m,
         'tenant from the certificate extension passed upstream');
    is($r->{headers}{'x-auth-method'}, 'device', '$cc_auth_method is device');

    $r = get(\@good, 'X-Tenant-Id' => uc $tenant);
    is($r->{status}, 200, 'X-Tenant-Id naming the tenant, in upper case: 200');

    registry($t, PUT => "/registry/devices/$tenant/$dev{blocked}",
             { until => 0, reason => 'admin' });
    $r = get(\@blocked);
    is($r->{status}, 200, 'blocked device: 200, as the agent protocol wants');
    is_deeply($r->{json}, { success => JSON::PP::false(), deviceBlocked => JSON::PP::true(),
                            deviceKillSignal => JSON::PP::false(),
                            message => 'This device is blocked.' },
              'blocked indefinitely: deviceBlocked without unblockAt');
    unlike($r->{body}, qr/^X-CC-/m, 'blocked device: nothing reached the upstream');

    my $until = time + 3600;
    registry($t, PUT => "/registry/devices/$tenant/$dev{until}",
             { until => $until, reason => 'admin' });
    $r = get(\@until);
    my @tm = gmtime $until;
    is($r->{json}{unblockAt}, sprintf('%04d-%02d-%02dT%02d:%02d:%02dZ', $tm[5] + 1900,
                                      $tm[4] + 1, @tm[3, 2, 1, 0]),
       'blocked until a time: unblockAt in ISO-8601 UTC');

    registry($t, DELETE => "/registry/devices/$tenant/$dev{until}");
    is(get(\@until)->{status}, 200, 'unblocked device passes at once');
    is(get(\@good)->{status}, 200, 'other devices unaffected');

    registry($t, PUT => "/registry/tenants/$tenant", { status => 'suspended' });
    $r = get(\@good);
    is($r->{status}, 403, 'suspended tenant: 403');
    is($r->{headers}{'x-auth-error'}, 'tenant_suspended', 'suspended tenant: reason');
    is($r->{json}{success}, JSON::PP::false(), 'suspended tenant: agent-style body');

    registry($t, PUT => "/registry/tenants/$tenant", { status => 'offboarded' });
    $r = get(\@good);
    is($r->{status}, 403, 'offboarded tenant: 403 for agents, never 410');
    is($r->{headers}{'x-auth-error'}, 'tenant_offboarded', 'offboarded tenant: reason');
}

ok(!scalar $t->grep_log('nginx-error', qr/$dev{good}/),
   'device ids are not logged');

$t->done_testing;


# "cb9743bb-9168-..." -> the 16 bytes in Windows order, in hex
sub windows_hex {
    (my $g = shift) =~ s/-//g;
    my @b = $g =~ /(..)/g;
    return join '', @b[3, 2, 1, 0, 5, 4, 7, 6, 8 .. 15];
}

sub openssl { CC::Stack::_run('openssl', @_) }

sub fake_ca {
    my ($base, $cn, $issuer) = @_;
    openssl('genrsa', '-out', "$base.key", '2048');
    open my $fh, '>', "$base.ext" or die;
    print $fh "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n";
    close $fh;
    if (!$issuer) {
        openssl('req', '-x509', '-new', '-key', "$base.key", '-subj', "/CN=$cn",
                '-days', '30', '-out', "$base.pem", '-addext',
                'basicConstraints=critical,CA:TRUE');
        return;
    }
    openssl('req', '-new', '-key', "$base.key", '-subj', "/CN=$cn", '-out', "$base.csr");
    openssl('x509', '-req', '-in', "$base.csr", '-CA', "$issuer.pem", '-CAkey', "$issuer.key",
            '-CAcreateserial', '-days', '30', '-extfile', "$base.ext", '-out', "$base.pem");
}

# leaf(NAME, CN, CA_BASE, EXTENSION_LINES...): a client certificate; the
# client sends its issuer along so chain building sees the whole path.
sub leaf {
    my ($name, $cn, $ca, @ext) = @_;
    my $base = "$dir/$name";
    openssl('genrsa', '-out', "$base.key", '2048');
    open my $fh, '>', "$base.ext" or die;
    print $fh join "\n", 'basicConstraints=CA:FALSE', 'extendedKeyUsage=clientAuth', @ext, '';
    close $fh;
    openssl('req', '-new', '-key', "$base.key", '-subj', "/CN=$cn", '-out', "$base.csr");
    openssl('x509', '-req', '-in', "$base.csr", '-CA', "$ca.pem", '-CAkey', "$ca.key",
            '-CAcreateserial', '-days', '30', '-extfile', "$base.ext", '-out', "$base.crt");
    open my $out, '>', "$base.pem" or die;
    for my $f ("$base.crt", "$ca.pem") {
        open my $in, '<', $f or die;
        local $/;
        print {$out} <$in>;
    }
    close $out;
    return ("$base.pem", "$base.key");
}
