#!/usr/bin/perl

# The live view through the shipped nginx configuration (DESIGN.md rule
# 10): staff of two tenants subscribe to /api/live (WebSocket and
# EventSource) with Entra tokens; agents of both tenants register sessions
# and upload batches; cc-ingest publishes after COMMIT through the
# internal publisher location; each subscriber hears its own tenant and
# nothing of the other, whatever channel the client asks for.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Time::HiRes qw(time);

use Mojo::IOLoop;
use Mojo::UserAgent;

use CC::Test;
use CC::MonitorKit qw(start_monitor_stack registry_reached user_token
                      agent_request telemetry_item);

my $t = CC::Test->new;
my $contoso = '11111111-1111-4111-8111-111111111111';
my $northwind = 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d';
my $control = $t->socket_path('nginx-control');
my $stack = start_monitor_stack($t,
    tenants => [$contoso => 'Contoso', $northwind => 'Northwind'],
    workers => [
        ['ingest', env => { CC_NGINX_CONTROL_SOCKET => $control }],
        # cc-api for the development sign-in: the SPA subscribes with its
        # cookie.
        ['api', env => { CC_DEV_SIGN_IN => 'on',
                         CC_SESSION_KEYS => $t->session_keys }],
        # A second cc-ingest whose publisher socket does not exist: ingest
        # must not notice.
        ['ingest', name => 'cc-ingest-nolive',
         env => { CC_NGINX_CONTROL_SOCKET => $t->dir . '/run/absent.sock' }]]);

ok(registry_reached($t, $control, tenants => 2, keys => 1),
   'tenants and issuer keys reached nginx');

my $port = $t->port('https');
my $ua = Mojo::UserAgent->new(ca => $t->certs . '/ca.pem', inactivity_timeout => 30);

# --- subscribers -----------------------------------------------------------------

# Every frame is a JSON array of messages, oldest first; its messages
# collect in $got{NAME}, and a frame that is not an array as a message of
# type "not-an-array", which no expected list of types contains.
my (%got, %status, %open, %refusal);
sub took {
    my ($name, $frame) = @_;
    my $messages = CC::Test::json_decode($frame);
    push @{ $got{$name} },
        ref $messages eq 'ARRAY' ? @$messages : { type => 'not-an-array' };
}

# subscribe(NAME, headers, query): a WebSocket to /api/live whose messages
# collect in $got{NAME}; $status{NAME} is the handshake's answer.
sub subscribe {
    my ($name, $headers, $query) = @_;
    $got{$name} = [];
    $ua->websocket("wss://localhost:$port/api/live" . ($query // '') => $headers => sub {
        my ($ua, $tx) = @_;
        $status{$name} = $tx->res->code // 0;
        $refusal{$name} = CC::Test::json_decode($tx->res->body);
        return unless $tx->is_websocket;
        $open{$name} = $tx;
        $tx->on(message => sub { took($name, $_[1]) });
    });
}

# An EventSource subscriber, spoken on a raw TLS stream: nchan keeps the
# response open without a length, which Mojo::UserAgent reads as empty.
my $es_buf = '';
$got{es} = [];
sub subscribe_eventsource {
    my ($token) = @_;
    Mojo::IOLoop->client(address => '127.0.0.1', port => $port, tls => 1,
                         tls_options => { SSL_ca_file => $t->certs . '/ca.pem',
                                          SSL_verifycn_name => 'localhost',
                                          SSL_hostname => 'localhost',
                                          SSL_alpn_protocols => ['http/1.1'] } => sub {
        my ($loop, $err, $stream) = @_;
        if ($err) { $status{es} = 0; diag("EventSource: $err"); return }
        $stream->on(read => sub {
            my (undef, $bytes) = @_;
            $es_buf .= $bytes;
            $status{es} //= $1 if $es_buf =~ m{^HTTP/1\.1 (\d{3})};
            while ($es_buf =~ s/^data: ?([^\n]*)\n//m) {
                took('es', $1);
            }
        });
        $stream->write("GET /api/live HTTP/1.1\r\nHost: localhost\r\n"
                       . "Accept: text/event-stream\r\n"
                       . "Authorization: Bearer $token\r\n\r\n");
    });
}

sub run_loop_until {
    my ($cond, $timeout) = @_;
    my $deadline = time + $timeout;
    until ($cond->() || time >= $deadline) {
        my $tick = Mojo::IOLoop->timer(0.05 => sub {});
        Mojo::IOLoop->one_tick;
        Mojo::IOLoop->remove($tick);
    }
    return $cond->();
}

my $oid_a = '0a0b0c0d-0000-4000-8000-0000000000a1';
my $oid_b = '0a0b0c0d-0000-4000-8000-0000000000b1';
my $token_a = user_token($stack->{sim}, $contoso, $oid_a, 'operator');
my $token_b = user_token($stack->{sim}, $northwind, $oid_b, 'operator');

my $signed = $t->https(POST => '/api/dev/sign-in', json => {
    tenant => $northwind, user => '0a0b0c0d-0000-4000-8000-0000000000b2', roles => ['user'] });
my ($cookie) = ($signed->{headers}{'set-cookie'} // '') =~ /^(cc_session=[^;]+)/;
ok($cookie, "a Northwind user signs in and has the session cookie");

subscribe('a', { Authorization => "Bearer $token_a" });
subscribe('b_cookie', { Cookie => $cookie // '', Origin => "https://localhost:$port" });
subscribe('b_elsewhere', { Cookie => $cookie // '', Origin => 'https://evil.example' });
subscribe('b', { Authorization => "Bearer $token_b" });
# Contoso's user asks for Northwind's channel every way a client could.
subscribe('a_tricks', { Authorization => "Bearer $token_a",
                        'X-CC-Tenant' => $northwind,
                        'X-Channel-Id' => "tenant-$northwind",
                        'X-Accel-Channel-Id' => "tenant-$northwind" },
          "?channel_id=tenant-$northwind&id=tenant-$northwind&tenant=$northwind");
subscribe('path', { Authorization => "Bearer $token_a" }, "/tenant-$northwind");
subscribe('anonymous', {});
subscribe('forged', { Authorization => 'Bearer not.a.token' });
subscribe_eventsource($token_b);

ok(run_loop_until(sub { keys %status >= 9 }, 15), 'every subscription got an answer');
is($status{a}, 101, "Contoso's user subscribes over WebSocket");
is($status{b}, 101, "Northwind's user subscribes over WebSocket");
is($status{a_tricks}, 101, 'a subscription naming another channel in query and headers still opens');
is($status{anonymous}, 401, 'a subscriber without credentials is refused with 401');
is($status{forged}, 401, 'a subscriber with a forged token is refused with 401');
is($status{es}, 200, "Northwind's user subscribes over EventSource too");
is($status{b_cookie}, 101, "a Northwind user subscribes with the SPA's session cookie from our origin");
is($status{b_elsewhere}, 403, '... but a page of another site riding on the cookie is refused with 403');
is($refusal{b_elsewhere}{error}{code}, 'origin_refused', '... in JSON that says why');

isnt($status{path}, 101, 'a channel named in the path is not a subscription');
my $r;

# --- agents of both tenants ------------------------------------------------------

my %device = ($contoso => '5d7c1b2a-3e4f-4a5b-8c6d-7e8f9a0b1c2d',
              $northwind => '6e8d2c3b-4f50-4b6c-9d7e-8f9a0b1c2d3f');
my %session = ($contoso => '3c4d5e6f-7081-4293-a4b5-c6d7e8f90a1b',
               $northwind => '4d5e6f70-8192-43a4-b5c6-d7e8f90a1b2c');
my $serial = 'SERIAL-LIVE-9Z';

sub agent {
    my ($tenant, $path, $json) = @_;
    return agent_request($t, $path, cert => [ $t->device_cert($device{$tenant}, $tenant) ],
                         headers => { 'X-Device-SerialNumber' => $serial }, json => $json);
}

sub event_item {
    my ($tenant, $seq, $type, %over) = @_;
    return telemetry_item($tenant, $session{$tenant}, RowKey => "x_$seq",
        TelemetryItemId => $seq, PayloadJson => {
            SessionId => $session{$tenant}, TenantId => $tenant,
            Timestamp => sprintf('2026-11-23T10:00:%02d.0000000Z', $seq),
            EventType => $type, Severity => 1, Source => 'Agent', Phase => -1,
            Message => "event $seq", Data => { serial => $serial }, Sequence => $seq,
            %over });
}

my %name = ($contoso => 'Contoso', $northwind => 'Northwind');
for my $tenant ($contoso, $northwind) {
    $r = agent($tenant, '/api/agent/register-session', { Registration => {
        SessionId => $session{$tenant}, TenantId => $tenant, SerialNumber => $serial,
        StartedAt => '2026-11-23T09:00:00.0000000Z' } });
    is($r->{status}, 200, "a $name{$tenant} session is registered");
}
$r = agent($contoso, '/api/agent/telemetry', [
    event_item($contoso, 1, 'agent_started'),
    event_item($contoso, 2, 'esp_phase_changed', Phase => 2),
    event_item($contoso, 3, 'enrollment_complete') ]);
is($r->{status}, 200, "Contoso's batch is acknowledged");
$r = agent($northwind, '/api/agent/telemetry', [
    event_item($northwind, 1, 'agent_started'),
    event_item($northwind, 2, 'esp_failure', Message => 'ESP failed', Data => { errorCode => '0x1' }) ]);
is($r->{status}, 200, "Northwind's batch is acknowledged");
$r = agent($contoso, '/api/agent/register-session', { Registration => {
    SessionId => $session{$contoso}, TenantId => $contoso } });
is($r->{status}, 200, 'a repeated registration is acknowledged');

# Contoso: registered, events, status.  Northwind: the same three.
ok(run_loop_until(sub { @{ $got{a} } >= 3 && @{ $got{b} } >= 3 && @{ $got{es} } >= 3
                        && @{ $got{a_tricks} } >= 3 && @{ $got{b_cookie} } >= 3 }, 10),
   'every subscriber received its messages');
run_loop_until(sub { 0 }, 0.5);     # anything more that was coming

sub types { join ',', map { $_->{type} // '?' } @{ $_[0] } }
sub sessions { my %s = map { ($_->{sessionId} // '?') => 1 } @{ $_[0] }; join ',', sort keys %s }

is(types($got{a}), 'session.registered,session.events,session.status',
   "Contoso's subscriber hears a new session, a batch and a status change, in order");
is(sessions($got{a}), $session{$contoso}, "... all of them about Contoso's session only");
is(types($got{b}), 'session.registered,session.events,session.status',
   "Northwind's subscriber hears its own three");
is(sessions($got{b}), $session{$northwind}, "... and nothing of Contoso's");
is(sessions($got{es}), $session{$northwind}, "the EventSource subscriber hears only Northwind's");
is(types($got{b_cookie}) . ' ' . sessions($got{b_cookie}),
   "session.registered,session.events,session.status $session{$northwind}",
   "the cookie subscriber hears Northwind's three, and only those");
is(sessions($got{a_tricks}), $session{$contoso},
   'the subscriber that asked for Northwind\'s channel hears only Contoso\'s');

my ($events) = grep { $_->{type} eq 'session.events' } @{ $got{a} };
is_deeply([ @{$events}{qw(count lastEventType phase status)} ], [ 3, 'enrollment_complete', 2, 'Succeeded' ],
          'the batch summary gives the count, the last event type, the phase and the status');
my ($change) = grep { $_->{type} eq 'session.status' } @{ $got{b} };
is_deeply([ @{$change}{qw(from to reason)} ], [ 'InProgress', 'Failed', 'ESP failed (0x1)' ],
          'the status change says from, to and why');
my $all = join '', map { CC::Test::json_encode($_) } map { @$_ } values %got;
unlike($all, qr/\Q$serial\E/, 'no serial number travels on the live channel');

# A subscriber arriving now hears news from now on, not the history.
subscribe('late', { Authorization => "Bearer $token_a" });
run_loop_until(sub { defined $status{late} }, 10);
run_loop_until(sub { @{ $got{late} } > 0 }, 1);
is(scalar @{ $got{late} }, 0, 'a late subscriber is not sent the messages published before it came');

# --- the sweep's changes ------------------------------------------------------------

# A Contoso session silent for three hours: cc-worker's sweep marks it
# Stalled, and tells Contoso's channel once its job has committed.
my $silent = '5e6f7081-92a3-44b5-86c7-e8f90a1b2c3d';
$t->sql("INSERT INTO enrollment_sessions (tenant_id, session_id, device_id, started_at,"
      . " updated_at, last_progress_at) VALUES ('$contoso', '$silent', '$device{$contoso}',"
      . " now() - interval '3 hours', now() - interval '3 hours', now() - interval '3 hours')");
$_ = [] for values %got;
$t->sql_as_app(undef, "SELECT cc_job_enqueue('sessions.sweep', '{}')");
ok(run_loop_until(sub { @{ $got{a} } >= 1 }, 10), "Contoso's subscriber hears from the sweep");
run_loop_until(sub { 0 }, 0.5);
is_deeply([ map { [ @{$_}{qw(type sessionId from to)} ] } @{ $got{a} } ],
          [ [ 'session.status', $silent, 'InProgress', 'Stalled' ] ],
          '... that the silent session is Stalled now');
like($got{a}[0]{reason} // '', qr/^No progress reported for 120 minutes$/, '... and why');
is(scalar @{ $got{b} }, 0, "Northwind's subscriber hears nothing of it");

# --- a retried batch ---------------------------------------------------------------

# The agent resends a batch whose acknowledgement it lost: nothing new is
# stored, so nothing new is told.
$_ = [] for values %got;
$r = agent($contoso, '/api/agent/telemetry', [
    event_item($contoso, 1, 'agent_started'),
    event_item($contoso, 2, 'esp_phase_changed', Phase => 2),
    event_item($contoso, 3, 'enrollment_complete') ]);
is($r->{status}, 200, 'a retried batch is acknowledged');
run_loop_until(sub { 0 }, 1);
is(types($got{a}), '', '... and its subscribers hear nothing of it, since it stored nothing new');

# --- publishing never fails ingest ------------------------------------------------

my $batch = CC::Test::json_encode([ event_item($contoso, 4, 'app_tracking_summary') ]);
$r = $t->worker_request('cc-ingest-nolive', 'POST', '/api/agent/telemetry',
                        { 'X-CC-Tenant' => $contoso, 'X-CC-Device' => $device{$contoso},
                          'Content-Type' => 'application/json' }, $batch);
is($r->{status}, 200, 'a batch is acknowledged when nginx cannot be reached to publish');
# Messages are queued and sent by the publisher's own thread, so their
# counts are read once it has had its turn.
sub live_metrics {
    my ($worker, $re) = @_;
    my $body = '';
    $t->eventually(sub {
        $body = $t->worker_request($worker, 'GET', '/metrics')->{body} // '';
        $body =~ $re });
    return $body;
}
like(live_metrics('cc-ingest-nolive', qr/result="failed"\} [1-9]/),
     qr/^cc_live_messages_total\{result="failed"\} 1$/m,
     '... and the lost message is counted in /metrics');
$r = { body => live_metrics('cc-ingest', qr/result="published"\} 6$/m) };
like($r->{body}, qr/^cc_live_messages_total\{result="published"\} 6$/m,
     'the connected cc-ingest counts the six messages it published');
like($r->{body}, qr/^cc_live_messages_total\{result="failed"\} 0$/m, '... and no failure');

$_->finish for values %open;
$t->done_testing;
