#!/usr/bin/perl

# GET /api/agent/config through the shipped nginx configuration with device
# certificates: every top-level field of an AgentConfigResponse with the
# right type (agent-protocol.md 5), the tenant's diagnostics mode, the IME
# log patterns with the tenant's overrides merged in (sql/007), and the
# bootstrap clean-up probe's 400 (14).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;

use CC::Test;
use CC::MonitorKit qw(start_monitor_stack registry_reached device_headers
                      agent_request);

my $t = CC::Test->new;
my $contoso = '11111111-1111-4111-8111-111111111111';
my $northwind = 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d';
my $stack = start_monitor_stack($t,
    tenants => [$contoso => 'Contoso', $northwind => 'Northwind'],
    # No Autopilot lookup in this test: admission is not what it is about.
    sql => ["INSERT INTO monitor_settings (tenant_id, autopilot_check) VALUES "
          . "('$contoso', false), ('$northwind', false)"],
    workers => [['ingest'], ['api']]);

ok(registry_reached($t, $stack->{control}, tenants => 2), 'both tenants reached nginx');

my $device = '5d7c1b2a-3e4f-4a5b-8c6d-7e8f9a0b1c2d';
my @cert = $t->device_cert($device, $contoso);
my $serial = 'SERIAL-CFG-8N3K1';
my %device_headers = device_headers(serial => $serial, version => '2.0.1412+abc');

sub config {
    my (%opt) = @_;
    my $query = exists $opt{query} ? $opt{query} : "?tenantId=$contoso";
    return agent_request($t, "/api/agent/config$query", method => 'GET',
                         cert => exists $opt{cert} ? $opt{cert} : \@cert,
                         headers => { %device_headers, %{ $opt{headers} // {} } });
}

sub pattern_ids { [ map { $_->{patternId} } @{ $_[0]{imeLogPatterns} // [] } ] }

# --- the response --------------------------------------------------------

my $r = config();
is($r->{status}, 200, 'a device gets its configuration');
like($r->{headers}{'content-type'} // '', qr{^application/json}, '... as JSON');
my $c = $r->{json} // {};

my %integers = (configVersion => undef, uploadIntervalSeconds => 10,
                maxBatchSize => 100, rebootDelaySeconds => 10,
                enrollmentSummaryTimeoutSeconds => 60,
                enrollmentSummaryLaunchRetrySeconds => 120,
                maxAuthFailures => 5, authFailureTimeoutMinutes => 0);
my %booleans = (selfDestructOnComplete => 1, keepLogFile => 0,
                rebootOnComplete => 0, showEnrollmentSummary => 0,
                enableGeoLocation => 1, enableImeMatchLog => 0,
                enableGatherRuleDebugLog => 0,
                enableEspContinueAnywayObservation => 0,
                enableTimezoneAutoSet => 0, enableDoGroupIdAutoSet => 0,
                sendTraceEvents => 1, unrestrictedMode => 0,
                diagnosticsUploadEnabled => 1, allowAgentDowngrade => 0,
                deviceBlocked => 0, deviceKillSignal => 0);
my %strings = (logLevel => 'Info', ntpServer => 'time.windows.com',
               diagnosticsUploadMode => 'OnFailure');
my @arrays = qw(diagnosticsLogPaths gatherRules imeLogPatterns
                whiteGloveSealingPatternIds);
my @objects = qw(collectors analyzers);
my @nulls = qw(latestAgentSha256 latestAgentExeSha256);

for my $k (sort keys %integers) {
    my $v = $c->{$k};
    ok(defined $v && !ref $v && $v =~ /^\d+$/, "$k is an integer");
    is($v, $integers{$k}, "... $integers{$k}, the protocol's default")
        if defined $integers{$k};
}
for my $k (sort keys %booleans) {
    ok(JSON::PP::is_bool($c->{$k}), "$k is a boolean");
    is(!!$c->{$k}, !!$booleans{$k}, "... " . ($booleans{$k} ? 'true' : 'false'));
}
for my $k (sort keys %strings) {
    is($c->{$k}, $strings{$k}, "$k is \"$strings{$k}\"");
}
is(ref $c->{$_}, 'ARRAY', "$_ is an array") for @arrays;
is(ref $c->{$_}, 'HASH', "$_ is an object") for @objects;
for my $k (@nulls) {
    ok(exists $c->{$k} && !defined $c->{$k}, "$k is JSON null (no self-update)");
}
ok(!exists $c->{$_}, "$_ is left out (null)")
    for qw(unblockAt migrateToApiBaseUrl enrollmentSummaryBrandingImageUrl);
my %known = map { $_ => 1 } keys %integers, keys %booleans, keys %strings,
                            @arrays, @objects, @nulls;
is(join(',', grep { !$known{$_} } sort keys %$c), '', 'and there is no other member');

is($c->{collectors}{agentMaxLifetimeMinutes}, 360, 'collectors: agentMaxLifetimeMinutes 360');
is($c->{collectors}{sessionStalledAfterProbeIndex}, 4, 'collectors: sessionStalledAfterProbeIndex 4');
is_deeply($c->{analyzers}, {
    enableLocalAdminAnalyzer => JSON::PP::true(), localAdminAllowedAccounts => [],
    enableSoftwareInventoryAnalyzer => JSON::PP::false(),
    enableIntegrityBypassAnalyzer => JSON::PP::true(),
    enableRealmJoinWatcher => JSON::PP::false(),
    keepAwakeDuringUserEsp => JSON::PP::false(),
    enableConsoleBypassDetection => JSON::PP::true() }, 'analyzers: the protocol defaults');

my $default_version = $t->sql("SELECT max(version) FROM agent_pattern_sets");
is($c->{configVersion}, $default_version, 'configVersion is the default pattern set version');
my $default_count = $t->sql("SELECT jsonb_array_length(patterns) FROM agent_pattern_sets "
                          . "WHERE version = $default_version");
is(scalar @{ $c->{imeLogPatterns} }, $default_count, 'every default pattern is served');
my ($esp) = grep { $_->{patternId} eq 'CC-ESP-PHASE' } @{ $c->{imeLogPatterns} };
ok($esp, 'the ESP phase pattern is among them');
is(join(',', sort keys %{ $esp // {} }),
   'action,category,description,enabled,isBuiltIn,pattern,patternId',
   '... with the members the agent reads, camelCase');
is($esp->{action}, 'espPhaseDetected', '... and its action');
like($esp->{pattern}, qr/\(\?<espPhase>/, '... capturing the group the action reads');
my %actions = map { $_->{action} => 1 } @{ $c->{imeLogPatterns} };
ok($actions{$_}, "a default pattern has the action $_")
    for qw(espPhaseDetected setCurrentApp updateStateDownloading updateStateInstalling
           updateStateInstalled updateStateError scriptStarted scriptCompleted
           enrollmentCompleted imeAgentVersion);

# --- the tenant's settings and overrides -----------------------------------

$t->sql("UPDATE monitor_settings SET diagnostics_mode = 'Off' WHERE tenant_id = '$contoso'");
$c = config()->{json} // {};
is($c->{diagnosticsUploadMode}, 'Off', "the tenant's diagnostics mode is served");
is($c->{diagnosticsUploadEnabled}, JSON::PP::false(), '... and Off means uploads are disabled');
$t->sql("UPDATE monitor_settings SET diagnostics_mode = 'Always' WHERE tenant_id = '$contoso'");
$c = config()->{json} // {};
is($c->{diagnosticsUploadMode}, 'Always', 'Always is served as Always');
is($c->{diagnosticsUploadEnabled}, JSON::PP::true(), '... with uploads enabled');

my $replaced = CC::Test::json_encode({ patternId => 'CC-ESP-PHASE', category => 'always',
    pattern => 'EspPhase=(?<espPhase>\w+)', action => 'espPhaseDetected',
    enabled => JSON::PP::true(), isBuiltIn => JSON::PP::false(),
    description => 'our own' });
my $own = CC::Test::json_encode({ patternId => 'TENANT-ONE', category => 'always',
    pattern => 'Hello (?<id>\d+)', action => 'imeStarted',
    enabled => JSON::PP::true(), isBuiltIn => JSON::PP::false(), description => 'x' });
$t->sql("INSERT INTO tenant_pattern_overrides (tenant_id, pattern_id, pattern) VALUES "
      . "('$contoso', 'CC-ESP-PHASE', '$replaced'), ('$contoso', 'CC-SCRIPT-EXIT', NULL), "
      . "('$contoso', 'TENANT-ONE', '$own')");
$t->sql("INSERT INTO tenant_pattern_revisions VALUES ('$contoso', 3)");

$c = config()->{json} // {};
($esp) = grep { $_->{patternId} eq 'CC-ESP-PHASE' } @{ $c->{imeLogPatterns} };
is($esp->{pattern}, 'EspPhase=(?<espPhase>\w+)', "a tenant's override replaces the default pattern");
ok(!grep({ $_ eq 'CC-SCRIPT-EXIT' } @{ pattern_ids($c) }), 'a disabled pattern is absent');
is(pattern_ids($c)->[-1], 'TENANT-ONE', "the tenant's own pattern is served after the defaults");
is(scalar @{ $c->{imeLogPatterns} }, $default_count, '... so the count is the default one minus one plus one');
is($c->{configVersion}, $default_version + 3, 'configVersion adds the tenant\'s override revision');

my $ids = pattern_ids($c);
my @defaults_order = @{ CC::Test::json_decode($t->sql(
    "SELECT patterns FROM agent_pattern_sets WHERE version = $default_version")) };
is(join(',', @$ids[0 .. 1]), join(',', map { $_->{patternId} } @defaults_order[0 .. 1]),
   'the defaults keep their order');

my $nw_device = '6e8d2c3b-4f50-4b6c-9d7e-8f9a0b1c2d3f';
my @nw_cert = $t->device_cert($nw_device, $northwind);
$r = config(cert => \@nw_cert, query => "?tenantId=$northwind");
is($r->{status}, 200, 'a device of another tenant gets its configuration');
is(scalar @{ $r->{json}{imeLogPatterns} }, $default_count, '... with the default set, untouched by Contoso\'s overrides');
is($r->{json}{configVersion}, $default_version, '... and the default version');
is($r->{json}{diagnosticsUploadMode}, 'OnFailure', '... and the default diagnostics mode');

$t->sql("INSERT INTO agent_pattern_sets (version, patterns) "
      . "SELECT version + 1, patterns FROM agent_pattern_sets WHERE version = $default_version");
is(config()->{json}{configVersion}, $default_version + 1 + 3,
   'a new default set raises every tenant\'s configVersion');

# --- an override through cc-api reaches the agent ------------------------

my $before = config()->{json}{configVersion};
$r = $t->worker_request('cc-api', PUT => "/api/tenants/$contoso/agent-config/patterns/CC-APP-CURRENT",
    { 'X-CC-Tenant' => $contoso, 'X-CC-User' => '1d1d1d1d-0000-4000-8000-000000000001',
      'X-CC-Roles' => 'tenant_admin', 'Content-Type' => 'application/json' },
    CC::Test::json_encode({ category => 'currentPhase', action => 'setCurrentApp',
                            pattern => 'app id=(?<id>[0-9a-f-]{36})' }));
is($r->{status}, 200, 'a Tenant Admin overrides a pattern through cc-api');
$c = config()->{json} // {};
my ($app) = grep { $_->{patternId} eq 'CC-APP-CURRENT' } @{ $c->{imeLogPatterns} };
is($app->{pattern}, 'app id=(?<id>[0-9a-f-]{36})', '... and the next configuration serves it');
is($c->{configVersion}, $before + 1, '... under a configVersion one higher');

# --- refusals and the bootstrap probe ------------------------------------

$r = config(query => '');
is($r->{status}, 200, 'without ?tenantId the tenant comes from the certificate');
$r = config(query => "?tenantId=$northwind");
is($r->{status}, 403, '?tenantId naming another tenant than the certificate is refused with 403');
is($r->{json}{success}, JSON::PP::false(), '... in JSON the agent reads as a verdict');

$r = config(cert => undef, query => '', headers => { 'X-Tenant-Id' => $contoso });
is($r->{status}, 400, 'the bootstrap clean-up probe (X-Tenant-Id, no query, no certificate) gets 400');
is($r->{json}{success}, JSON::PP::false(), '... in JSON');
$r = config(cert => undef, query => "?tenantId=$contoso", headers => { 'X-Tenant-Id' => $contoso });
is($r->{status}, 401, 'without a certificate but with ?tenantId the device check answers 401');
$r = config(query => '', headers => { 'X-Tenant-Id' => $contoso });
is($r->{status}, 200, 'with a certificate, X-Tenant-Id and no query the configuration is served');

# --- logs ----------------------------------------------------------------

my @logs = glob($t->dir . '/logs/*.log');
ok(scalar @logs >= 2, 'the logs of nginx and the workers are there to read');
my @leaks = map { my $f = $_; open my $l, '<', $f or die $!; grep { /\Q$serial\E/ } <$l> } @logs;
is(scalar @leaks, 0, 'no serial number in any log');
ok(scalar $t->grep_log('cc-ingest', qr/configuration served/),
   '... which the grep would find (configurations are logged)');

$t->done_testing;
