#!/usr/bin/perl

# The job queue at the SQL level, as the workers' role uses it: enqueueing
# with idempotency keys per tenant, and claims that skip rows another
# transaction holds instead of waiting for them or taking them twice.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Time::HiRes qw(time);

use CC::Test;

my $t = CC::Test->new;
$t->start_pg;

my $a = '0a0a0a0a-0000-4000-8000-00000000000a';
my $b = '0b0b0b0b-0000-4000-8000-00000000000b';
$t->sql("INSERT INTO tenants (id, name) VALUES ('$a', 'A'), ('$b', 'B')");

sub enqueue {
    my ($tenant, $key) = @_;
    my $k = defined $key ? "'$key'" : 'NULL';
    return $t->sql_as_app($tenant,
        "SELECT id FROM cc_job_enqueue('noop', '{}', $k)");
}

# --- idempotency -------------------------------------------------------------

my $first = enqueue($a, 'order-1');
like($first, qr/^\d+$/, 'a job is enqueued with a key');
is(enqueue($a, 'order-1'), $first, 'the same key returns the same job');
isnt(enqueue($a, 'order-2'), $first, 'another key makes another job');
isnt(enqueue($b, 'order-1'), $first,
     'the same key in another tenant is another job');
my $platform = enqueue(undef, 'order-1');
isnt($platform, $first, 'the platform has its own keys');
is(enqueue(undef, 'order-1'), $platform, 'platform keys are idempotent too');
isnt(enqueue($a, undef), enqueue($a, undef), 'jobs without a key never merge');
is($t->sql("SELECT count(*) FROM jobs WHERE idempotency_key = 'order-1'"), 3,
   'one row per tenant and key');

$t->sql("UPDATE jobs SET state = 'succeeded' WHERE id = $first");
is(enqueue($a, 'order-1'), $first,
   'a finished job still answers its key (no second run)');

# --- claims skip locked rows ------------------------------------------------

$t->sql("DELETE FROM jobs");
my $j1 = enqueue($a, undef);
my $j2 = enqueue($a, undef);

# A claim held open in another session: its row stays locked for 4 s.
my $out = $t->dir . '/tmp/claim-a.out';
my $holder = fork // die;
if ($holder == 0) {
    exec('psql', $t->db_url('cc_app'), '-X', '-q', '-At', '-o', $out,
         '-c', "BEGIN; SELECT id FROM cc_job_claim('holder', 30, NULL, 1); "
             . "SELECT pg_sleep(4); COMMIT;") or die;
}
ok($t->eventually(sub {
    $t->sql("SELECT count(*) FROM pg_stat_activity "
          . "WHERE query LIKE '%pg_sleep(4)%' AND state = 'active' "
          . "AND pid <> pg_backend_pid()") > 0
}, 10), 'the first claimer holds its transaction open');

my $t0 = time;
my $second = $t->sql_as_app(undef, "SELECT id FROM cc_job_claim('other', 30, NULL, 1)");
my $took = time - $t0;
is($second, $j2, 'a second claimer gets the next job');
cmp_ok($took, '<', 2, 'without waiting for the locked row');
is($t->sql_as_app(undef, "SELECT count(*) FROM cc_job_claim('third', 30, NULL, 1)"),
   0, 'a third claimer finds nothing: the locked row is not handed out');

waitpid($holder, 0);
is($?, 0, 'the first claim committed');
open my $fh, '<', $out or die "$out: $!";
my ($held) = grep { /^\d+$/ } map { chomp; $_ } <$fh>;
is($held, $j1, 'the first claimer got the first job');
is($t->sql("SELECT string_agg(locked_by, ',' ORDER BY id) FROM jobs"),
   'holder,other', 'each job was claimed by exactly one claimer');
is($t->sql("SELECT sum(attempts) FROM jobs"), 2, 'and counted once each');

$t->done_testing;
