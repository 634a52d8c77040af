# Faults on demand: 429 with Retry-After, 5xx, delays and dropped
# connections, scoped by service, method and path, for N requests or until
# cleared, each in the error shape of the service it hits.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";

use CC::AzureSim;
use Test::More;
use Time::HiRes qw(time);

my $CONTOSO = '11111111-1111-4111-8111-111111111111';
my $APP     = '33333333-3333-4333-8333-333333333333';
my $SECRET  = 'demo-platform~secret.0001';
my $SUB     = '66666666-6666-4666-8666-666666666666';

my $sim = CC::AzureSim->start(demo => 1);
my $ua  = $sim->ua;
my $url = $sim->url;
my $arm = $sim->token(tenant => $CONTOSO, client => $APP, secret => $SECRET);
my $graph = $sim->token(tenant => $CONTOSO, client => $APP, secret => $SECRET,
    scope => 'https://graph.microsoft.com/.default');
my $kv = $sim->token(tenant => $CONTOSO, client => $APP, secret => $SECRET,
    scope => 'https://vault.azure.net/.default');

sub get_arm { $ua->get("$url/subscriptions/$SUB?api-version=2021-04-01" => { Authorization => "Bearer $arm" })->result }
sub get_graph { $ua->get("$url/v1.0/deviceManagement/windowsAutopilotDeviceIdentities" => { Authorization => "Bearer $graph" })->result }
sub get_kv { $ua->get("$url/secrets?api-version=7.4" => { Authorization => "Bearer $kv" })->result }
sub fault { scalar $sim->admin(POST => '/admin/faults', {@_}) }

# ---- 429 for N requests -------------------------------------------------------------

my $f = fault(service => 'arm', path => '^/subscriptions/', status => 429, retry_after => 7, count => 2);
like $f->{id}, qr/^\d+$/, 'a fault gets an id';
my $res = get_arm();
is $res->code, 429, 'first request: 429';
is $res->headers->header('Retry-After'), 7, 'with Retry-After';
is $res->json->{error}{code}, 'TooManyRequests', 'in ARM\'s error shape';
is get_arm()->code, 429, 'second request: 429';
is get_arm()->code, 200, 'the third passes: the count is used up';
is_deeply scalar($sim->admin(GET => '/admin/faults')), [], 'a used-up fault disappears';

# ---- scoping --------------------------------------------------------------------------

fault(service => 'graph', status => 503, count => 1);
is get_arm()->code, 200, 'a Graph fault leaves ARM alone';
$res = get_graph();
is $res->code, 503, 'Graph: 503';
is $res->json->{error}{code}, 'ServiceUnavailable', 'in Graph\'s shape';
ok $res->json->{error}{innerError}, '... with innerError';

fault(service => 'arm', path => '/subscriptions/' . $SUB, match => 'prefix', method => 'PUT', status => 500);
is get_arm()->code, 200, 'a PUT-only fault leaves GET alone';
$res = $ua->put("$url/subscriptions/$SUB/resourcegroups/rg-f?api-version=2021-04-01"
    => { Authorization => "Bearer $arm" } => json => { location => 'eastus' })->result;
is $res->code, 500, 'the PUT gets 500';
is $ua->put("$url/subscriptions/$SUB/resourcegroups/rg-f?api-version=2021-04-01"
    => { Authorization => "Bearer $arm" } => json => { location => 'eastus' })->result->code, 500,
    'without a count, the fault stays';
$sim->admin(DELETE => '/admin/faults');
is_deeply scalar($sim->admin(GET => '/admin/faults')), [], 'DELETE /admin/faults clears all';

fault(service => 'keyvault', status => 429, retry_after => 1, count => 1);
$res = get_kv();
is $res->code, 429, 'Key Vault: 429';
is $res->json->{error}{code}, 'Throttled', 'in Key Vault\'s shape';

fault(service => 'entra', path => '/oauth2/v2.0/token$', status => 503, count => 1);
$res = $ua->post("$url/$CONTOSO/oauth2/v2.0/token" => form => { client_id => $APP,
    client_secret => $SECRET, grant_type => 'client_credentials',
    scope => 'https://management.azure.com/.default' })->result;
is $res->code, 503, 'Entra: 503';
like $res->json->{error_description}, qr/^AADSTS\d+: /, 'in Entra\'s shape';

# ---- delays and dropped connections ------------------------------------------------------

fault(service => 'arm', delay_ms => 600, count => 1);
my $t0 = time;
$res = get_arm();
my $took = time - $t0;
is $res->code, 200, 'a delayed request still succeeds';
cmp_ok $took, '>=', 0.55, 'after the delay';
$t0 = time;
get_arm();
cmp_ok time - $t0, '<', 0.5, 'the next request is not delayed';

fault(service => 'graph', delay_ms => 300, status => 504, count => 1);
$t0 = time;
$res = get_graph();
is $res->code, 504, 'a delay can precede an error';
cmp_ok time - $t0, '>=', 0.25, '... after the delay';

fault(service => 'arm', drop => 1, count => 1);
my $tx = $ua->get("$url/subscriptions/$SUB?api-version=2021-04-01" => { Authorization => "Bearer $arm" });
ok $tx->error && !$tx->res->code, 'a dropped connection gives no response at all';
is get_arm()->code, 200, 'the next request is answered';

my $id = fault(service => 'any', path => '^/v1\.0/', status => 500)->{id};
is get_graph()->code, 500, 'service "any" with a path regex';
$sim->admin(DELETE => "/admin/faults/$id");
is get_graph()->code, 200, 'DELETE /admin/faults/ID removes one fault';

# ---- validation of fault requests ---------------------------------------------------------

my ($code) = $sim->admin(POST => '/admin/faults', { service => 'nope', status => 500 });
is $code, 400, 'an unknown service is refused';
($code) = $sim->admin(POST => '/admin/faults', { service => 'arm' });
is $code, 400, 'a fault that does nothing is refused';
($code) = $sim->admin(POST => '/admin/faults', { service => 'arm', path => '([', status => 500 });
is $code, 400, 'an invalid regex is refused';
($code) = $sim->admin(POST => '/admin/faults', { service => 'arm', status => 200 });
is $code, 400, 'a non-error status is refused';
is get_arm()->code, 200, 'admin requests are never faulted, and refused faults are not installed';

# ---- the request log ------------------------------------------------------------------------

$sim->admin(DELETE => '/admin/requests');
get_arm();
my $log = $sim->admin(GET => '/admin/requests');
is scalar @$log, 1, 'the request log records requests';
is $log->[0]{service}, 'arm', 'with the service';
is $log->[0]{status}, 200, 'and the status';
ok !grep({ /Bearer|eyJ/ } map { values %$_ } @$log), 'never the token';

done_testing;
