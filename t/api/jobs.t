#!/usr/bin/perl

# The jobs resource of cc-api, on its unix socket: enqueueing in the
# caller's tenant, idempotency keys, and reading back under RLS.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;

use CC::Test;

my $t = CC::Test->new;
$t->start_pg;
$t->start_worker('api');

my $a = '0a0a0a0a-0000-4000-8000-00000000000a';
my $b = '0b0b0b0b-0000-4000-8000-00000000000b';
$t->sql("INSERT INTO tenants (id, name) VALUES ('$a', 'A'), ('$b', 'B')");

sub post {
    my ($tenant, $body, %h) = @_;
    $h{'Content-Type'} = 'application/json';
    $h{'X-CC-Tenant'} = $tenant if defined $tenant;
    return $t->worker_request('cc-api', POST => '/api/jobs', \%h,
                              ref $body ? CC::Test::json_encode($body) : $body);
}

sub get {
    my ($tenant, $id) = @_;
    return $t->worker_request('cc-api', GET => "/api/jobs/$id",
                              defined $tenant ? { 'X-CC-Tenant' => $tenant } : {});
}

# --- enqueue ------------------------------------------------------------------------

my $r = post($a, { kind => 'noop', payload => { sleep_ms => 5 } });
is($r->{status}, 202, 'a noop job is accepted');
my $job = $r->{json};
like($job->{id} // '', qr/^\d+$/, 'the job has a numeric id');
is($r->{headers}{location}, "/api/jobs/$job->{id}", 'Location names the job');
is(join(',', sort keys %$job),
   'attempts,created_at,finished_at,id,kind,last_error,max_attempts,result,'
 . 'state,updated_at', 'the job JSON has exactly the documented members');
is($job->{state}, 'queued', 'a new job is queued');
is($job->{attempts}, 0, 'with no attempt yet');
like($job->{created_at}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/,
     'timestamps are ISO 8601 UTC');
is($t->sql("SELECT tenant_id FROM jobs WHERE id = $job->{id}"), $a,
   "the job belongs to the caller's tenant");
is($t->sql("SELECT payload->>'sleep_ms' FROM jobs WHERE id = $job->{id}"), 5,
   'the payload is stored');

# --- idempotency ---------------------------------------------------------------------

my $first = post($a, { kind => 'noop', idempotency_key => 'k-1' });
is($first->{status}, 202, 'a keyed job is accepted');
$r = post($a, { kind => 'noop', idempotency_key => 'k-1' });
is($r->{status}, 200, 'the same key again answers 200');
is($r->{json}{id}, $first->{json}{id}, 'with the same job');
is($r->{headers}{location}, "/api/jobs/$first->{json}{id}",
   'and its Location');
$r = post($a, { kind => 'noop' }, 'Idempotency-Key' => 'k-1');
is($r->{json}{id}, $first->{json}{id}, 'the Idempotency-Key header is the same key');
$r = post($b, { kind => 'noop', idempotency_key => 'k-1' });
is($r->{status}, 202, "another tenant's identical key makes a new job");
isnt($r->{json}{id}, $first->{json}{id}, 'with its own id');
$r = post($a, { kind => 'noop', idempotency_key => 'k-1' },
          'Idempotency-Key' => 'k-2');
is($r->{status}, 422, 'a header and body key that differ are refused');
$r = post($a, { kind => 'noop', idempotency_key => 'x' x 201 });
is($r->{status}, 422, 'a key over 200 characters is refused');
$r = post($a, { kind => 'noop', idempotency_key => '' });
is($r->{status}, 422, 'an empty key is refused');

# --- tenants ----------------------------------------------------------------------------

$r = post(undef, { kind => 'noop' });
is($r->{status}, 202, 'without a tenant the job is the platform\'s');
is($t->sql("SELECT tenant_id IS NULL FROM jobs WHERE id = $r->{json}{id}"), 't',
   'stored without a tenant');
my $platform = $r->{json}{id};

$r = post('0c0c0c0c-0000-4000-8000-00000000000c', { kind => 'noop' });
is($r->{status}, 422, 'a tenant unknown to the database is refused');

# --- read back --------------------------------------------------------------------------

$r = get($a, $job->{id});
is($r->{status}, 200, 'the owner reads its job');
is($r->{json}{id}, $job->{id}, 'the same job');
is($r->{json}{kind}, 'noop', 'with its kind');

$r = get($b, $job->{id});
is($r->{status}, 404, "another tenant's job is not found");
is($r->{json}{error}{code}, 'not_found', 'with the not_found code');
is(get(undef, $job->{id})->{status}, 404,
   "the platform context does not see a tenant's job");
is(get($a, $platform)->{status}, 404, "a tenant does not see platform jobs");
is(get(undef, $platform)->{status}, 200, 'the platform sees its own job');

is(get($a, 'abc')->{status}, 404, 'a non-numeric id is not found');
is(get($a, '0')->{status}, 404, 'id 0 is not found');
is(get($a, '-1')->{status}, 404, 'a negative id is not found');
is(get($a, '99999999999999999999')->{status}, 404, 'a huge id is not found');
is(get($a, '999999')->{status}, 404, 'a missing job is not found');

# --- a worker runs it ----------------------------------------------------------------

$t->start_worker('worker');
ok($t->eventually(sub { get($a, $job->{id})->{json}{state} eq 'succeeded' }, 15),
   'cc-worker ran the job');
$r = get($a, $job->{id});
is($r->{json}{attempts}, 1, 'once');
is($r->{json}{result}{ok}, JSON::PP::true(), 'its result is readable');
ok(defined $r->{json}{finished_at}, 'and its finish time');

$t->done_testing;
