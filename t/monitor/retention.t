#!/usr/bin/perl

# Retention (sql/011_retention.sql, cc-worker's retention.purge and
# retention.partitions jobs): sessions past their tenant's retention go
# with every row they own, newer ones and other tenants' stay, a large
# purge runs in several batches, partitions are created ahead and old ones
# dropped whole, and neither a purge batch nor ingest waits for the other.
# Rows are backdated with SQL instead of waiting.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Time::HiRes qw(time);

use CC::Test;

my $t = CC::Test->new;
$t->start_pg;
# A retried job waits a minute: the lock-timeout case below reads it queued.
$t->start_worker('worker', env => { CC_RETENTION_BATCH_SIZE => 50,
                                   CC_JOB_BACKOFF_BASE_MS => 60000 });

my $a = 'a0a0a0a0-0000-4000-8000-0000000000a0';     # keeps 7 days
my $b = 'b0b0b0b0-0000-4000-8000-0000000000b0';     # the default, 90
my $c = 'c0c0c0c0-0000-4000-8000-0000000000c0';     # nothing expired
my $device = 'dddddddd-0000-4000-8000-00000000000d';
my $serial = 'SERIAL-RETENTION-4711';

$t->sql("INSERT INTO tenants (id, name) VALUES ('$a', 'A'), ('$b', 'B'), ('$c', 'C')");
$t->sql("INSERT INTO monitor_settings (tenant_id, retention_days) VALUES ('$a', 7)");
for my $tenant ($a, $b, $c) {
    $t->sql("INSERT INTO devices (tenant_id, device_id, serial_number)"
          . " VALUES ('$tenant', '$device', '$serial')");
}

# $n sessions of $tenant whose last activity was $age days ago, each with
# 4 events and 2 trace rows; $tag names them.
sub sessions {
    my ($tenant, $tag, $n, $age, %opt) = @_;
    my $ids = "SELECT md5('$tag' || g)::uuid AS id FROM generate_series(1, $n) g";
    my $done = $opt{completed} ? "now() - interval '$opt{completed} days'" : 'NULL';
    $t->sql(<<"SQL");
INSERT INTO enrollment_sessions (tenant_id, session_id, device_id, started_at,
                                 updated_at, completed_at)
SELECT '$tenant', id, '$device', now() - interval '$age days' - interval '1 hour',
       now() - interval '$age days', $done FROM ($ids) s;
INSERT INTO events (tenant_id, session_id, sequence, event_time, event_type, received_at)
SELECT '$tenant', id, q, now() - interval '$age days', 'agent_started',
       now() - interval '$age days' FROM ($ids) s, generate_series(1, 4) q;
INSERT INTO session_trace (tenant_id, session_id, kind, ordinal, payload)
SELECT '$tenant', id, 'Signal', q, '{}' FROM ($ids) s, generate_series(1, 2) q;
SQL
}

# Rows of every table for sessions whose tag is $tag.
sub rows_of {
    my ($tag, $n) = @_;
    my $in = "(SELECT md5('$tag' || g)::uuid FROM generate_series(1, $n) g)";
    return $t->sql("SELECT concat_ws('/',"
        . " (SELECT count(*) FROM enrollment_sessions WHERE session_id IN $in),"
        . " (SELECT count(*) FROM events WHERE session_id IN $in),"
        . " (SELECT count(*) FROM session_trace WHERE session_id IN $in))");
}

# Enqueues a job of $kind (for $tenant, or the platform) and waits until its first attempt is
# over (succeeded, failed, or queued again for a retry); returns the row.
sub run_job {
    my ($kind, $tenant) = @_;
    my $id = $t->sql_as_app($tenant, "SELECT id FROM cc_job_enqueue('$kind', '{}')");
    my $row;
    $t->eventually(sub {
        $row = $t->sql("SELECT state || '|' || coalesce(result::text, last_error, '')"
                     . " FROM jobs WHERE id = $id AND attempts >= 1"
                     . " AND state <> 'running'");
        return $row ne '';
    }, 30);
    my ($state, $rest) = split /\|/, $row // '', 2;
    return { id => $id, state => $state // 'unfinished',
             result => CC::Test::json_decode($rest) // $rest };
}

# --- the purge ----------------------------------------------------------------

sessions($a, 'a-old', 3, 10);               # past A's 7 days
sessions($a, 'a-new', 2, 3);
sessions($a, 'a-done', 1, 10, completed => 1);   # completed later than its activity
sessions($b, 'b-old', 120, 100);            # past B's 90 days: 3 batches of 50
sessions($b, 'b-new', 2, 10);               # A would drop these; B keeps them
sessions($c, 'c-new', 2, 30);

# The agents' reports (sql/007): errors of an expired session, of a kept
# one, and of no registered session; distress reports of several ages.
my $unknown = '0f0f0f0f-0000-4000-8000-00000000000f';
$t->sql("INSERT INTO agent_errors (tenant_id, device_id, session_id, error_type, received_at)"
      . " VALUES ('$a', '$device', md5('a-old' || 1)::uuid, 1, now() - interval '10 days'),"
      . " ('$a', '$device', md5('a-new' || 1)::uuid, 1, now() - interval '3 days'),"
      . " ('$a', '$device', '$unknown', 1, now() - interval '10 days'),"
      . " ('$b', '$device', '$unknown', 1, now() - interval '10 days');"
      . " INSERT INTO distress_reports (tenant_id, error_type, serial_number, reported_at, received_at)"
      . " VALUES ('$a', 1, '$serial', now(), now() - interval '8 days'),"
      . " ('$b', 1, '$serial', now(), now() - interval '100 days'),"
      . " ('$b', 1, '$serial', now(), now() - interval '10 days')");

# Finished jobs in the queue: periodic ones a bucket each, and another.
$t->sql("INSERT INTO jobs (kind, idempotency_key, state, finished_at) VALUES"
      . " ('noop', 'periodic:noop:1', 'succeeded', now() - interval '40 days'),"
      . " ('noop', 'periodic:noop:2', 'succeeded', now() - interval '1 day'),"
      . " ('noop', 'order-1', 'succeeded', now() - interval '40 days')");

# Devices last seen 20 days ago without any session: past A's retention
# (gone, unless blocked), within B's (kept).
my ($gone, $blocked) = ('e0e0e0e0-0000-4000-8000-0000000000e1',
                        'e0e0e0e0-0000-4000-8000-0000000000e2');
$t->sql("INSERT INTO devices (tenant_id, device_id, serial_number, last_seen)"
      . " VALUES ('$a', '$gone', 'SERIAL-GONE', now() - interval '20 days'),"
      . " ('$a', '$blocked', 'SERIAL-BLOCKED', now() - interval '20 days'),"
      . " ('$b', '$gone', 'SERIAL-KEPT', now() - interval '20 days');"
      . " INSERT INTO device_blocks (tenant_id, device_id) VALUES ('$a', '$blocked')");

is($t->sql_as_app(undef, "SELECT string_agg(tenant_id || ':' || retention_days, ',')"
                       . " FROM cc_retention_due_tenants()"),
   "$a:7,$b:90", 'the due tenants are those with expired sessions, with their retention');

my $job = run_job('retention.purge');
is($job->{state}, 'succeeded', 'the purge job succeeded')
    or diag explain $job;
my $r = ref $job->{result} ? $job->{result} : {};
is($r->{tenants}, 2, 'it purged two tenants');
is($r->{sessions}, 123, 'the result counts every expired session');
is($r->{events}, 123 * 4, '... their events');
is($r->{trace}, 123 * 2, '... and their trace rows');
my %per = map { $_->{tenant} => $_ } @{ $r->{per_tenant} // [] };
is($per{$b}{batches}, 3, 'tenant B took three batches of at most 50 sessions');
is($per{$b}{sessions}, 120, '... for its 120 expired sessions');
is($per{$a}{batches}, 1, 'tenant A took one batch');
is($per{$a}{devices}, 1, "A's device past retention without a session is purged");
is($t->sql("SELECT string_agg(tenant_id || ':' || serial_number, ',' ORDER BY tenant_id, serial_number)"
         . " FROM devices WHERE device_id IN ('$gone', '$blocked')"),
   "$a:SERIAL-BLOCKED,$b:SERIAL-KEPT",
   "... while a blocked one, and B's within its retention, keep their rows");
is($t->sql("SELECT count(*) FROM devices WHERE device_id = '$device'"), 3,
   'a device seen recently stays in every tenant');
is($per{$a}{retention_days}, 7, "the result names each tenant's retention");

is($per{$a}{errors}, 1, "the agent errors of A's purged sessions go with them");
is($r->{reports}, 3, "reports received before their tenant's retention go by age");
is($t->sql("SELECT string_agg(tenant_id || ':' || (session_id = md5('a-new' || 1)::uuid),"
         . " ',' ORDER BY tenant_id) FROM agent_errors"), "$a:true,$b:false",
   "a kept session's error and B's 10-day-old error stay");
is($t->sql("SELECT string_agg(tenant_id || ':' || extract(day FROM now() - received_at), ',')"
         . " FROM distress_reports"), "$b:10", "only B's 10-day-old distress report stays");

is($r->{periodic_jobs}, 1, 'a finished periodic job older than 30 days is purged');
is($t->sql("SELECT string_agg(idempotency_key, ',' ORDER BY idempotency_key) FROM jobs"
         . " WHERE kind = 'noop'"), 'order-1,periodic:noop:2',
   '... a recent one and jobs someone asked for stay');

is(rows_of('a-old', 3), '0/0/0', "A's sessions older than 7 days are gone with all their rows");
is(rows_of('a-new', 2), '2/8/4', "A's sessions newer than 7 days are kept whole");
is(rows_of('a-done', 1), '1/4/2', 'a session completed within the retention is kept');
is(rows_of('b-old', 120), '0/0/0', "B's sessions older than 90 days are gone with all their rows");
is(rows_of('b-new', 2), '2/8/4', "B's 10-day-old sessions are kept under the default 90 days");
is(rows_of('c-new', 2), '2/8/4', 'a tenant with nothing expired is untouched');
is($t->sql("SELECT count(*) FROM devices"), 5,
   'devices that still have sessions, or were seen within retention, stay');

is($t->sql("SELECT string_agg(tenant_id || ':' || (detail->>'sessions'), ',' ORDER BY tenant_id)"
         . " FROM audit_log WHERE action = 'retention.purge'"),
   "$a:3,$b:120", 'one audit row per tenant purge, with its counts');
is($t->sql_as_app($a, "SELECT count(*) FROM audit_log WHERE action = 'retention.purge'"), 1,
   "tenant A sees its own purge in its audit log");
is($t->sql("SELECT detail->>'events' FROM audit_log"
         . " WHERE action = 'retention.purge' AND tenant_id = '$b'"), 480,
   'the audit row counts the events too');

my $metrics = $t->worker_request('cc-worker', 'GET', '/metrics');
like($metrics->{body}, qr/^cc_retention_purged_total\{what="sessions"\} 123$/m,
     '/metrics reports the sessions purged');
like($metrics->{body}, qr/^cc_retention_batches_total 4$/m,
     '/metrics reports the batches');

ok(!$t->grep_log('cc-worker', qr/\Q$serial\E/), 'no serial number in the worker log');
ok($t->grep_log('cc-worker', qr/retention purge of a tenant.*"sessions":120/),
   'the purge of each tenant is logged with its counts');
ok($t->grep_log('cc-worker', qr/retention purge done.*"sessions":123/),
   'the run is logged with its totals');

my $again = run_job('retention.purge');
is($again->{state}, 'succeeded', 'a second purge succeeds');
is($again->{result}{sessions}, 0, '... and finds nothing left to purge');
is($again->{result}{tenants}, 0, '... in no tenant');

# --- row-level security ---------------------------------------------------------

sessions($a, 'a-rls', 2, 10);
sessions($b, 'b-rls', 2, 100);
is($t->sql_as_app($a, "SELECT sessions FROM cc_retention_purge_batch(50)"), 2,
   "a batch in tenant A's transaction purges A's expired sessions");
is(rows_of('b-rls', 2), '2/8/4', "... and not B's");
ok(!eval { $t->sql_as_app(undef, "SELECT * FROM cc_retention_purge_batch(50)"); 1 },
   'a batch without a tenant is refused');

sessions($a, 'a-job', 2, 10);
my $own = run_job('retention.purge', $a);
is($own->{state}, 'succeeded', "a purge job of tenant A's own succeeds");
is_deeply([ @{ $own->{result} }{qw(tenants sessions)} ], [ 1, 2 ],
          '... purging A alone');
is(rows_of('a-job', 2), '0/0/0', "... A's expired sessions");
is(rows_of('b-rls', 2), '2/8/4', "... and not B's");

# --- purge and ingest do not wait for each other --------------------------------

# Runs $sql as the workers' role in tenant B in a child that holds its
# transaction open for 4 s; returns the child's pid once it sleeps.
sub hold {
    my ($name, $sql) = @_;
    my $pid = fork // die;
    if ($pid == 0) {
        exec('psql', $t->db_url('cc_app'), '-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1',
             '-o', $t->dir . "/tmp/$name.out",
             '-c', "BEGIN; SET LOCAL cc.tenant_id = '$b'; $sql; SELECT pg_sleep(4); COMMIT;")
            or die;
    }
    $t->eventually(sub {
        $t->sql("SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(4)%'"
              . " AND state = 'active' AND pid <> pg_backend_pid()") > 0
    }, 10);
    return $pid;
}

# Ingest holds one expired session (its batch updates the row) ...
my $held = "SELECT md5('b-rls' || 1)::uuid";
my $ingest = hold('ingest', "UPDATE enrollment_sessions SET last_item_id = 7"
                          . " WHERE session_id = ($held)");
my $t0 = time;
my $batch = $t->sql_as_app($b, "SELECT sessions || '/' || more FROM cc_retention_purge_batch(50)");
my $took = time - $t0;
is($batch, '1/false', 'a purge batch skips the session ingest holds and takes the rest');
cmp_ok($took, '<', 2, '... without waiting for the ingest transaction');
waitpid($ingest, 0);
is($?, 0, "the ingest transaction committed");
is($t->sql_as_app($b, "SELECT sessions FROM cc_retention_purge_batch(50)"), 1,
   'the next batch takes the session ingest had held');

# ... and a purge batch in progress does not hold up ingest.
sessions($b, 'b-busy', 60, 100);
my $purge = hold('purge', "SELECT * FROM cc_retention_purge_batch(50)");
my $new = '0e0e0e0e-0000-4000-8000-00000000000e';
my $kept = "SELECT md5('b-new' || 1)::uuid";
$t0 = time;
$t->sql_as_app($b, "BEGIN;"
    . " INSERT INTO enrollment_sessions (tenant_id, session_id, device_id)"
    . "   VALUES ('$b', '$new', '$device');"
    . " INSERT INTO events (tenant_id, session_id, sequence, event_time, event_type)"
    . "   VALUES ('$b', '$new', 1, now(), 'agent_started');"
    . " UPDATE enrollment_sessions SET updated_at = now() WHERE session_id = ($kept);"
    . " COMMIT;");
$took = time - $t0;
cmp_ok($took, '<', 2, 'ingest inserts and updates while a purge batch is open');
is($t->sql("SELECT count(*) FROM events WHERE session_id = '$new'"), 1,
   '... and its event is stored');
waitpid($purge, 0);
is($?, 0, 'the purge batch committed too');
is(rows_of('b-busy', 60) =~ s{/.*}{}r, 10, 'that batch purged 50 of the 60 sessions');

# --- partitions -----------------------------------------------------------------

sub month_name {
    my ($offset) = @_;
    return $t->sql("SELECT 'events_' || to_char(date_trunc('month', now())"
                 . " + interval '$offset months', 'YYYYMM')");
}
my $next2 = month_name(2);
my $old = $t->sql("SELECT cc_events_create_partition((now() - interval '400 days')::date)");
my $recent = $t->sql("SELECT cc_events_create_partition((now() - interval '60 days')::date)");
$t->sql("INSERT INTO events (tenant_id, session_id, sequence, event_time, event_type, received_at)"
      . " VALUES ('$c', '$new', 1, now(), 'old', now() - interval '400 days'),"
      . "        ('$c', '$new', 2, now(), 'early', date_trunc('month', now()) + interval '2 months 1 day')");
is($t->sql("SELECT count(*) FROM events_default WHERE event_type = 'early'"), 1,
   'an event beyond the existing partitions sits in events_default');

my $p = run_job('retention.partitions');
is($p->{state}, 'succeeded', 'the partition job succeeded')
    or diag explain $p;
is_deeply($p->{result}{created}, [$next2],
          'the partition two months ahead is created (this and next month existed)');
is($t->sql("SELECT count(*) FROM $next2 WHERE event_type = 'early'"), 1,
   '... and the event from events_default moved into it');
is($t->sql("SELECT count(*) FROM events_default WHERE event_type = 'early'"), 0,
   '... leaving none behind');
is_deeply($p->{result}{dropped}, [$old], 'the partition older than every retention is dropped');
is($t->sql("SELECT to_regclass('$old') IS NULL"), 't', '... it no longer exists');
is($t->sql("SELECT count(*) FROM events WHERE event_type = 'old'"), 0, '... nor its events');
is($t->sql("SELECT to_regclass('$recent') IS NOT NULL"), 't',
   'a 60-day-old partition is kept: tenants B and C keep 90 days');
is($p->{result}{keep_days}, 90, 'the longest retention of any tenant decides');

$t->sql("INSERT INTO monitor_settings (tenant_id, retention_days) VALUES ('$c', 365)");
my $older = $t->sql("SELECT cc_events_create_partition((now() - interval '200 days')::date)");
my $p2 = run_job('retention.partitions');
is_deeply([ $p2->{result}{created}, $p2->{result}{dropped} ], [ [], [] ],
          'with a tenant keeping 365 days a 200-day-old partition stays; nothing to create');
is($p2->{result}{keep_days}, 365, '... since that tenant keeps the longest');

# Ingest holding events makes the partition work give up quickly.
$t->sql("UPDATE monitor_settings SET retention_days = 90 WHERE tenant_id = '$c'");
my $locker = hold('locker', "LOCK TABLE events IN ROW EXCLUSIVE MODE");
$t0 = time;
my $p3 = run_job('retention.partitions');
$took = time - $t0;
is($p3->{state}, 'queued',
   'a partition drop that would wait for ingest gives up and is retried later');
like($p3->{result}, qr/lock timeout/, '... saying events was busy');
cmp_ok($took, '<', 3.5, '... after the lock timeout, not after ingest finished');
waitpid($locker, 0);

like($t->worker_request('cc-worker', 'GET', '/metrics')->{body},
     qr/^cc_retention_partitions_total\{change="dropped"\} 1$/m,
     '/metrics counts the dropped partition');

$t->done_testing;
