#!/usr/bin/perl

# Diagnostics upload URLs (agent-protocol.md 11) through the shipped nginx
# with device certificates, signed by cc-ingest and checked by Azurite: the
# URL lets the device create exactly its one blob for a few minutes and
# nothing else, only the session's own device gets one, and the signature
# (a bearer secret) reaches no log.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Digest::SHA qw(hmac_sha256_base64);
use MIME::Base64 qw(decode_base64);
use Mojo::URL;
use Mojo::UserAgent;
use Mojo::Util qw(url_escape);
use POSIX qw(strftime);

use CC::Test;
use CC::AzureSim;
use CC::MonitorKit qw(add_tenants start_registry_sync start_shipped_nginx
                      registry_reached device_headers agent_request);

# Azurite's well-known development account (public, not a secret).
my $account = 'devstoreaccount1';
my $account_key = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
my $container = 'diagnostics';

my $t = CC::Test->new;
my $sim = CC::AzureSim->start(dir => $t->dir . '/sim', certs => $t->certs);
$t->set_var(LOGIN_URL => $sim->url);
my $blob_url = $t->start_azurite;

my $contoso = '11111111-1111-4111-8111-111111111111';
my $northwind = 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d';
$t->start_pg;
add_tenants($t, $contoso => 'Contoso', $northwind => 'Northwind');

my $ua = Mojo::UserAgent->new(inactivity_timeout => 20);

# Blob storage requests with the account key (Shared Key), for what the
# test itself does: looking at the container and reading the uploaded blob.
sub shared_key {
    my ($method, $path, $query) = @_;
    my $date = strftime('%a, %d %b %Y %H:%M:%S GMT', gmtime);
    my $canonical_query = join '', map { "\n$_:$query->{$_}" } sort keys %{ $query // {} };
    my $string_to_sign = join("\n", $method, ('') x 11) . "\n"
        . "x-ms-date:$date\nx-ms-version:2020-12-06\n"
        . "/$account/$account$path$canonical_query";
    my $sig = hmac_sha256_base64($string_to_sign, decode_base64($account_key));
    $sig .= '=' while length($sig) % 4;
    my $url = Mojo::URL->new("$blob_url$path");
    $url->query(%$query) if $query;
    return $ua->build_tx($method => $url => {
        'x-ms-date' => $date, 'x-ms-version' => '2020-12-06',
        Authorization => "SharedKey $account:$sig" });
}

my $tx = $ua->start(shared_key(GET => "/$container", { restype => 'container' }));
is($tx->res->code, 404, 'Azurite starts without the diagnostics container');

my $control = start_registry_sync($t, $sim);
# The harness gives workers Azurite's endpoint, account and key file.
$t->start_worker('ingest', env => { CC_DIAG_URL_MINUTES => 5 });

$tx = $ua->start(shared_key(GET => "/$container", { restype => 'container' }));
is($tx->res->code, 200, 'cc-ingest created the container at start-up');
is(scalar $t->grep_log('cc-ingest', qr/"diagnostics container created"/), 1, '... and says so');

start_shipped_nginx($t);
ok(registry_reached($t, $control, tenants => 2), 'both tenants reached nginx');

my $device = '5d7c1b2a-3e4f-4a5b-8c6d-7e8f9a0b1c2d';
my $other_device = '6e8d2c3b-4f50-4b6c-9d7e-8f9a0b1c2d3e';
my $northwind_device = '7f9e3d4c-5061-4c7d-8e8f-9a0b1c2d3e4f';
my @cert = $t->device_cert($device, $contoso);
my @other_cert = $t->device_cert($other_device, $contoso);
my @northwind_cert = $t->device_cert($northwind_device, $northwind);
my $session = '3c4d5e6f-7081-4293-a4b5-c6d7e8f90a1b';
my $unknown_session = '9a8b7c6d-5e4f-4321-8765-0fedcba98765';

sub agent {
    my ($path, $json, $cert) = @_;
    return agent_request($t, $path, cert => $cert // \@cert,
                         headers => { device_headers() }, json => $json);
}

my $r = agent('/api/agent/register-session', { Registration => {
    SessionId => $session, TenantId => $contoso,
    StartedAt => '2026-11-23T08:00:00.0000000Z' } });
is($r->{status}, 200, 'the device registers its session');

my $file = "AgentDiagnostics-$session-20261123221500.zip";
sub upload_url {
    my (%over) = @_;
    my $cert = delete $over{cert};
    return agent('/api/agent/upload-url',
                 { TenantId => $contoso, SessionId => $session, FileName => $file, %over },
                 $cert);
}

# --- a URL is issued and works -----------------------------------------

my @sigs;
my $before = time;
$r = upload_url();
is($r->{status}, 200, 'the session\'s device gets an upload URL');
is($r->{json}{success}, JSON::PP::true(), '... with success:true');
is($r->{json}{destination}, 'Hosted', '... for the hosted destination (the agent PUTs to it as given)');
is($r->{json}{blobName}, "$contoso/$session/$file", '... naming the blob {tenant}/{session}/{FileName}');
my $url = $r->{json}{uploadUrl} // '';
like($url, qr{^\Q$blob_url/$container/$contoso/$session/$file?\E}, '... at that blob in the container');
my $q = Mojo::URL->new($url)->query;
push @sigs, $q->param('sig') // 'missing';
is($q->param('sp'), 'cw', '... allowing create and write only');
is($q->param('sr'), 'b', '... of one blob');
is($q->param('sv'), '2020-12-06', '... signed as version 2020-12-06');
is($q->param('spr'), 'https,http', '... over http too, since the configured endpoint is http');

sub epoch { my ($s) = @_; return 0 unless ($s // '') =~ /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)Z$/;
            return POSIX::mktime($6, $5, $4, $3, $2 - 1, $1 - 1900) - POSIX::mktime(gmtime(0)) }
my $se = epoch($q->param('se'));
ok($se >= $before + 5 * 60 - 2 && $se <= time + 5 * 60, '... expiring after CC_DIAG_URL_MINUTES (5)');
ok(epoch($q->param('st')) <= $before - 60, '... valid from a few minutes back (clock skew)');
is($r->{json}{expiresAt}, $q->param('se'), '... and expiresAt says when it expires');

# The same signature computed here, independently, from the URL's values.
sub sign {
    my (%p) = @_;
    my $string_to_sign = join "\n", $p{sp}, $p{st} // '', $p{se},
        "/blob/$account/$container/$p{blob}", '', '', $p{spr}, '2020-12-06', 'b',
        '', '', '', '', '', '', '';
    my $sig = hmac_sha256_base64($string_to_sign, decode_base64($account_key));
    $sig .= '=' while length($sig) % 4;
    return $sig;
}
is($q->param('sig'), sign(sp => 'cw', st => $q->param('st'), se => $q->param('se'),
                          spr => 'https,http', blob => "$contoso/$session/$file"),
   'the signature is the documented HMAC-SHA256 of the documented string to sign');

my $zip = "PK\x03\x04 diagnostics package";
$tx = $ua->put($url => { 'x-ms-blob-type' => 'BlockBlob', 'Content-Type' => 'application/zip' } => $zip);
is($tx->res->code, 201, 'Azurite accepts a PUT of the package through the URL');
$tx = $ua->start(shared_key(GET => "/$container/$contoso/$session/$file"));
is($tx->res->code, 200, 'the blob exists');
is($tx->res->body, $zip, '... with the uploaded bytes');

# --- what the URL does not allow -------------------------------------------

my $elsewhere = $url =~ s{/\Q$file\E\?}{/AgentDiagnostics-$session-20261123221501.zip?}r;
$tx = $ua->put($elsewhere => { 'x-ms-blob-type' => 'BlockBlob' } => $zip);
is($tx->res->code, 403, 'the same signature used for another blob is refused');
$tx = $ua->put(($url =~ s{/\Q$contoso\E/}{/$northwind/}r)
               => { 'x-ms-blob-type' => 'BlockBlob' } => $zip);
is($tx->res->code, 403, '... and for the same file name under another tenant');
$tx = $ua->get($url);
is($tx->res->code, 403, 'reading the blob with it is refused');
$tx = $ua->delete($url);
is($tx->res->code, 403, 'deleting the blob with it is refused');
$tx = $ua->put(($url =~ s{sp=cw}{sp=rcw}r)
               => { 'x-ms-blob-type' => 'BlockBlob' } => $zip);
is($tx->res->code, 403, 'widening its permissions breaks the signature');

my %past = (sp => 'cw', spr => 'https,http', blob => "$contoso/$session/$file",
            st => strftime('%Y-%m-%dT%H:%M:%SZ', gmtime(time - 1200)),
            se => strftime('%Y-%m-%dT%H:%M:%SZ', gmtime(time - 600)));
my $expired = Mojo::URL->new("$blob_url/$container/$contoso/$session/$file")->query(
    sv => '2020-12-06', sr => 'b', sp => 'cw', st => $past{st}, se => $past{se},
    spr => 'https,http', sig => sign(%past));
$tx = $ua->put($expired => { 'x-ms-blob-type' => 'BlockBlob' } => $zip);
is($tx->res->code, 403, 'a URL signed the same way but expired is refused');
%past = (%past, se => strftime('%Y-%m-%dT%H:%M:%SZ', gmtime(time + 600)));
$expired->query->merge(se => $past{se}, sig => sign(%past));
$tx = $ua->put($expired => { 'x-ms-blob-type' => 'BlockBlob' } => $zip);
is($tx->res->code, 201, '... while the same URL still valid is accepted (the refusal was the expiry)');

# --- who gets a URL ------------------------------------------------------

$r = upload_url(FileName => "AgentDiagnostics-$session-20261123221500-preprov.zip");
is($r->{status}, 200, 'a file name with the agent\'s suffix gets a URL');
push @sigs, Mojo::URL->new($r->{json}{uploadUrl} // '')->query->param('sig') // 'missing';
$r = upload_url(SessionId => uc $session,
                FileName => "AgentDiagnostics-\U$session\E-20261123221500-server-requested.zip");
is($r->{status}, 200, 'a session id in upper case gets a URL too');
like($r->{json}{blobName} // '', qr{^\Q$contoso/$session/\E}, '... in the folder of the session as stored');
push @sigs, Mojo::URL->new($r->{json}{uploadUrl} // '')->query->param('sig') // 'missing';

$r = upload_url(SessionId => $unknown_session,
                FileName => "AgentDiagnostics-$unknown_session-20261123221500.zip");
is($r->{status}, 404, 'an unknown session gets no URL (404)');
is($r->{json}{success}, JSON::PP::false(), '... with success:false in JSON');
ok(!exists $r->{json}{uploadUrl}, '... and no uploadUrl');

$r = upload_url(cert => \@other_cert);
is($r->{status}, 403, 'another device of the same tenant gets no URL for the session (403)');
is($r->{json}{success}, JSON::PP::false(), '... with success:false in JSON');
ok(!exists $r->{json}{uploadUrl}, '... and no uploadUrl');

$r = upload_url(cert => \@northwind_cert);
is($r->{status}, 403, 'a device of another tenant naming this tenant is refused (403)');
$r = upload_url(cert => \@northwind_cert, TenantId => $northwind);
is($r->{status}, 404, 'in its own tenant, another tenant\'s session does not exist for it (404)');
$r = upload_url(TenantId => $northwind);
is($r->{status}, 403, 'a body naming another tenant than the certificate\'s is refused (403)');
$r = upload_url(TenantId => undef);
is($r->{status}, 200, 'a body without TenantId means the certificate\'s tenant');
push @sigs, Mojo::URL->new($r->{json}{uploadUrl} // '')->query->param('sig') // 'missing';

$r = upload_url(SessionId => 'not-a-guid');
is($r->{status}, 400, 'a SessionId that is not a GUID is refused (400)');
for my $bad (
    [ "../AgentDiagnostics-$session-20261123221500.zip", 'a path before the name' ],
    [ "AgentDiagnostics-$session-20261123221500-a/b.zip", 'a slash in the suffix' ],
    [ "AgentDiagnostics-$session-20261123221500-..\\x.zip", 'a backslash and dots in the suffix' ],
    [ "AgentDiagnostics-$unknown_session-20261123221500.zip", 'another session\'s id in the name' ],
    [ "AgentDiagnostics-$session-20261323221500.zip", 'month 13 in the stamp' ],
    [ "AgentDiagnostics-$session-2026112322150.zip", 'a short stamp' ],
    [ "AgentDiagnostics-$session-20261123221500.zip.exe", 'another extension after .zip' ],
    [ "AgentDiagnostics-$session-20261123221500.txt", 'another extension' ],
    [ "Diagnostics-$session-20261123221500.zip", 'another prefix' ],
    [ "AgentDiagnostics-$session-20261123221500-.zip", 'an empty suffix' ],
    [ "AgentDiagnostics-$session-20261123221500-" . ('x' x 65) . '.zip', 'a suffix of 65 characters' ],
    [ "AgentDiagnostics-$session-20261123221500-a b.zip", 'a blank in the suffix' ],
    [ "AgentDiagnostics-$session-20261123221500-a%2Fb.zip", 'an encoded slash in the suffix' ],
) {
    $r = upload_url(FileName => $bad->[0]);
    is($r->{status}, 400, "a file name with $bad->[1] is refused (400)");
}
$r = upload_url(FileName => undef);
is($r->{status}, 400, 'a request without FileName is refused (400)');
is($r->{json}{success}, JSON::PP::false(), '... with success:false in JSON');

$r = agent('/api/agent/upload-url', [ $session ]);
is($r->{status}, 400, 'a body that is not an object is refused (400)');

# --- the tenant's setting ------------------------------------------------

$t->sql("INSERT INTO monitor_settings (tenant_id, diagnostics_mode) VALUES ('$contoso', 'Off')");
$r = upload_url();
is($r->{status}, 200, 'with diagnostics Off the answer is still 2xx');
is($r->{json}{success}, JSON::PP::false(), '... with success:false, so the agent skips the upload');
ok(!exists $r->{json}{uploadUrl}, '... and no uploadUrl');
$t->sql("UPDATE monitor_settings SET diagnostics_mode = 'OnFailure' WHERE tenant_id = '$contoso'");
$r = upload_url();
is($r->{status}, 200, 'with diagnostics OnFailure the agent gets a URL (it decides what failed)');
push @sigs, Mojo::URL->new($r->{json}{uploadUrl} // '')->query->param('sig') // 'missing';

# --- configuration ---------------------------------------------------------

# A cc-ingest without blob storage answers 503, so the agent skips the
# upload (it never retries upload-url).
$t->start_worker('ingest', name => 'cc-ingest-noblob', env => { CC_BLOB_URL => '' });
$r = $t->worker_request('cc-ingest-noblob', POST => '/api/agent/upload-url',
    { 'X-CC-Tenant' => $contoso, 'X-CC-Device' => $device,
      'Content-Type' => 'application/json' },
    CC::Test::json_encode({ TenantId => $contoso, SessionId => $session, FileName => $file }));
is($r->{status}, 503, 'without CC_BLOB_URL upload-url answers 503');
is($r->{json}{success}, JSON::PP::false(), '... with success:false in JSON');

# A second cc-ingest finds the container there; one with another account
# key is refused by the storage service, says so, and still starts (the
# agent skips uploads that fail).
$t->start_worker('ingest', name => 'cc-ingest-again');
is(scalar $t->grep_log('cc-ingest-again', qr/"diagnostics container exists"/), 1,
   'a cc-ingest started later finds the container there');
open my $kf, '>', $t->dir . '/other.key' or die $!;
print $kf "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n";
close $kf;
$t->start_worker('ingest', name => 'cc-ingest-otherkey', env => {
    CC_BLOB_KEY_FILE => $t->dir . '/other.key', CC_BLOB_CONTAINER => 'other' });
is(scalar $t->grep_log('cc-ingest-otherkey', qr/"blob storage refused to create the diagnostics container".*"status":403/), 1,
   'a cc-ingest with a wrong account key is refused by the storage service (403) and says so');
$tx = $ua->start(shared_key(GET => '/other', { restype => 'container' }));
is($tx->res->code, 404, '... and creates nothing');

# What cc-ingest says and does when the blob settings are wrong: it stops
# before it listens, naming the key and never the key file's content.
open $kf, '>', $t->dir . '/bad.key' or die $!;
print $kf "not-a-key-SECRETISH\n";
close $kf;
sub start_status {
    my (%env) = @_;
    local %ENV = (%ENV, CC_SOCKET => $t->dir . '/run/bad.sock',
                  CC_DATABASE_URL => $t->db_url('cc_app'), CC_BLOB_URL => $blob_url,
                  CC_BLOB_ACCOUNT => $account, CC_BLOB_KEY_FILE => $t->dir . '/azurite.key',
                  %env);
    delete $ENV{$_} for grep { !defined $ENV{$_} } keys %ENV;
    my $out = qx{timeout 10 @{[ $t->build ]}/cc-ingest 2>&1};
    return ($? >> 8, $out);
}
my ($status, $out) = start_status(CC_BLOB_URL => 'ftp://127.0.0.1/x');
is($status, 1, 'a blob URL that is not http(s) stops cc-ingest');
like($out, qr/CC_BLOB_URL must start with https/, '... saying which key is wrong');
($status, $out) = start_status(CC_BLOB_ACCOUNT => undef);
ok($status == 1 && $out =~ /needs CC_BLOB_ACCOUNT/, 'a blob URL without an account stops cc-ingest, saying so');
($status, $out) = start_status(CC_BLOB_KEY_FILE => $t->dir . '/missing.key');
ok($status == 1 && $out =~ /cannot read CC_BLOB_KEY_FILE/, 'a missing key file stops cc-ingest, saying so');
($status, $out) = start_status(CC_BLOB_KEY_FILE => $t->dir . '/bad.key');
ok($status == 1 && $out =~ /does not hold a base64 account key/, 'a key file without a base64 key stops cc-ingest, saying so');
unlike($out, qr/SECRETISH/, '... without quoting the file');
($status, $out) = start_status(CC_BLOB_CONTAINER => 'Diag_Uploads');
ok($status == 1 && $out =~ /CC_BLOB_CONTAINER is not a container name/, 'an invalid container name stops cc-ingest, saying so');
($status, $out) = start_status(CC_DIAG_URL_MINUTES => 16);
ok($status == 2 && $out =~ /CC_DIAG_URL_MINUTES/, 'an upload URL lifetime over 15 minutes is a configuration error naming the key');
ok(!-e $t->dir . '/run/bad.sock', 'none of them started listening');

# --- nothing secret in the logs ------------------------------------------

is($t->grep_log('cc-ingest', qr/"diagnostics upload URL issued".*"session":"\Q$session\E"/), 5,
   'each of the five URLs issued is recorded in the log with its session');
is(scalar $t->grep_log('cc-ingest', qr/\Q$file\E/), 0,
   "... but not the file name, whose suffix is the agent's free text");
my @leaks;
for my $log (glob($t->dir . '/logs/*.log')) {
    open my $lf, '<', $log or next;
    my $text = do { local $/; <$lf> };
    for my $sig (@sigs) {
        push @leaks, $log if index($text, $sig) >= 0 || index($text, url_escape($sig)) >= 0;
    }
}
is(scalar(@sigs), 5, 'five signatures were issued');
is_deeply(\@leaks, [], 'no signature appears in any log');
ok(!$t->grep_log('cc-ingest', qr/sig=/), 'no log line of cc-ingest holds a query string with sig=');

$t->done_testing;
