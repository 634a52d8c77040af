#!/usr/bin/perl

# Row-level security as the workers' role: with tenant A set, a query with
# no WHERE clause sees none of tenant B's rows, and cannot write them.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;

use CC::Test;

my $t = CC::Test->new;
$t->start_pg;

my $a = '0a0a0a0a-0000-4000-8000-00000000000a';
my $b = '0b0b0b0b-0000-4000-8000-00000000000b';
$t->sql("INSERT INTO tenants (id, name) VALUES ('$a', 'A'), ('$b', 'B')");
$t->sql("INSERT INTO users (tenant_id, oid) VALUES "
      . "('$a', gen_random_uuid()), ('$b', gen_random_uuid()), "
      . "('$b', gen_random_uuid())");
$t->sql("INSERT INTO jobs (tenant_id, kind) VALUES ('$a', 'noop'), "
      . "('$b', 'noop'), ('$b', 'noop'), (NULL, 'noop')");

is($t->sql("SELECT count(*) FROM users"), 3, 'the owner sees every user');

is($t->sql_as_app($a, "SELECT count(*) FROM users"), 1,
   'tenant A sees only its own user');
is($t->sql_as_app($a, "SELECT count(*) FROM users WHERE tenant_id <> '$a'"), 0,
   "tenant A sees none of tenant B's users");
is($t->sql_as_app($a, "SELECT string_agg(DISTINCT tenant_id::text, ',') FROM jobs"),
   $a, 'tenant A sees only its own jobs');
is($t->sql_as_app($b, "SELECT count(*) FROM jobs"), 2,
   'tenant B sees its two jobs');
is($t->sql_as_app($a, "SELECT count(*) FROM tenants"), 1,
   'tenant A sees only its own tenant row');
is($t->sql_as_app(undef, "SELECT count(*) FROM users"), 0,
   'the platform context sees no tenant users');
is($t->sql_as_app(undef, "SELECT count(*) FROM jobs"), 1,
   'the platform context sees only platform jobs');

my $err = eval {
    $t->sql_as_app($a, "INSERT INTO jobs (tenant_id, kind) VALUES ('$b', 'noop')");
    1;
} ? '' : $@;
like($err, qr/row-level security/, "tenant A cannot insert a job for tenant B");
$err = eval {
    $t->sql_as_app($a, "UPDATE users SET email = 'x' WHERE tenant_id = '$b' "
                     . "RETURNING 1") eq '' or die "updated\n";
    1;
} ? '' : $@;
is($err, '', "tenant A's update of tenant B's users touches no row");
is($t->sql("SELECT count(*) FROM users WHERE email IS NOT NULL"), 0,
   'no user was changed');

$t->done_testing;
