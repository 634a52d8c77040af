/*
 * The agent's ISO-8601 timestamps as binary timestamptz values
 * (microseconds since 2000-01-01 UTC): offsets, leap days, the ends of
 * the 4-digit years, and the fraction rounded as timestamptz_in rounds it
 * (to the nearest microsecond, ties to even, carrying into the next
 * second, day and year).  t/ingest/binary_params.t checks the same inputs
 * against PostgreSQL itself.
 */

#include <stdint.h>

#include "tap.h"
#include "cc_pgtime.h"

#define SEC   INT64_C(1000000)
#define DAY   (INT64_C(86400) * SEC)


/* The value of s, or INT64_MIN when it is refused. */
static int64_t
value_of(const char *s)
{
    int64_t  v;
    int      has_offset;

    return cc_pgtime_from_iso(s, &v, &has_offset) == 0 ? v : INT64_MIN;
}


static void
test_epoch_and_offsets(void)
{
    int64_t  v;
    int      has_offset = -1;

    is_int(value_of("2000-01-01T00:00:00Z"), 0, "PostgreSQL's epoch is 0");
    is_int(value_of("2000-01-01T00:00:00.000001Z"), 1,
           "one microsecond after it is 1");
    is_int(value_of("1999-12-31T23:59:59Z"), -SEC,
           "a second before it is negative");
    is_int(value_of("2026-03-17T08:02:11.298741Z"), INT64_C(827049731298741),
           "the protocol's example timestamp");
    is_int(value_of("2000-01-01T05:30:00+05:30"), 0,
           "+05:30 is subtracted to reach UTC");
    is_int(value_of("2000-01-01T00:00:00-00:30"), 1800 * SEC,
           "-00:30 is added");
    is_int(value_of("2000-01-01T00:00:00+15:59"), -(15 * 3600 + 59 * 60) * SEC,
           "the largest offset PostgreSQL takes");
    is_int(value_of("2000-01-01T00:00:00-00:00"), 0, "-00:00 is UTC");

    ok(cc_pgtime_from_iso("2000-01-01T00:00:00", &v, &has_offset) == 0
       && v == 0 && has_offset == 0,
       "a time without an offset is read as UTC and said to have none");
    ok(cc_pgtime_from_iso("2000-01-01T00:00:00Z", &v, &has_offset) == 0
       && has_offset == 1, "Z is an offset");
}


static void
test_dates(void)
{
    is_int(value_of("2024-02-29T12:00:00Z"), INT64_C(762523200000000),
           "a leap day");
    is_int(value_of("2000-02-29T00:00:00Z"), 59 * DAY,
           "2000 (divisible by 400) has a leap day");
    is_int(value_of("1900-03-01T00:00:00Z"), INT64_C(-3150576000000000),
           "1900 (divisible by 100) has none");
    is_int(value_of("0001-01-01T00:00:00Z"), INT64_C(-63082281600000000),
           "year 1");
    is_int(value_of("0999-12-31T23:59:59Z") + SEC,
           value_of("1000-01-01T00:00:00Z"), "a year below 1000");
    is_int(value_of("9999-12-31T23:59:59.999999Z"),
           INT64_C(252455615999999999), "the last microsecond of 9999");
    is_int(value_of("0001-01-01T00:00:00+01:00"),
           INT64_C(-63082281600000000) - 3600 * SEC,
           "an offset reaching back before year 1 (1 BC)");
}


static void
test_fraction_rounding(void)
{
    is_int(value_of("2000-01-01T00:00:00.1234567Z"), 123457,
           "7 fractional digits round to the nearest microsecond");
    is_int(value_of("2000-01-01T00:00:00.1234564Z"), 123456,
           "... down when below the half");
    is_int(value_of("2000-01-01T00:00:00.1234565Z"), 123456,
           "... a tie to the even microsecond (rint), not up");
    is_int(value_of("2000-01-01T00:00:00.0000015Z"), 2,
           "... an odd one up to even");
    is_int(value_of("2000-01-01T00:00:00.0000005Z"), 0,
           "... half a microsecond to 0");
    is_int(value_of("2000-01-01T00:00:00.5Z"), 500000, "one digit");
    is_int(value_of("2000-01-01T00:00:00.123456789012Z"), 123457,
           "many digits");
    is_int(value_of("2000-01-01T00:00:59.9999995Z"), 60 * SEC,
           "a fraction rounding to a whole second carries into the minute");
    is_int(value_of("1999-12-31T23:59:59.9999999Z"), 0,
           "... and into the next day and year");
    is_int(value_of("2024-02-28T23:59:59.9999996Z"),
           value_of("2024-02-29T00:00:00Z"), "... and onto a leap day");
}


static void
test_refused(void)
{
    static const char  *bad[] = {
        "", "2000-01-01", "2000-01-01 00:00:00Z", "2000-01-01T00:00Z",
        "2000-13-01T00:00:00Z", "2000-00-01T00:00:00Z",
        "2001-02-29T00:00:00Z", "2000-04-31T00:00:00Z",
        "0000-01-01T00:00:00Z", "2000-01-01T24:00:00Z",
        "2000-01-01T00:60:00Z", "2000-01-01T00:00:60Z",
        "2000-01-01T00:00:00.Z", "2000-01-01T00:00:00+16:00",
        "2000-01-01T00:00:00+05:60", "2000-01-01T00:00:00+0530",
        "2000-01-01T00:00:00Zx", "2000-01-01T00:00:00z",
        "2000-01-01T00:00:00.5e3Z", "2000-01-01T00:00:00.5e30Z",
        "2000-01-01T00:00:00.1E400", "2000-01-01T00:00:00.1 Z",
        "+2000-01-01T00:00:00Z", "2000-01-01T0a:00:00Z", NULL
    };
    int64_t             v;
    int                 i, has_offset, refused = 1;

    for (i = 0; bad[i] != NULL; i++) {
        if (cc_pgtime_from_iso(bad[i], &v, &has_offset) == 0) {
            diag("accepted: '%s'", bad[i]);
            refused = 0;
        }
    }
    ok(refused, "shapes and fields outside ingest_is_timestamp's are "
       "refused (%d of them)", i);
    ok(cc_pgtime_from_iso(NULL, &v, &has_offset) != 0, "NULL is refused");
}


int
main(void)
{
    test_epoch_and_offsets();
    test_dates();
    test_fraction_rounding();
    test_refused();
    return done_testing();
}
