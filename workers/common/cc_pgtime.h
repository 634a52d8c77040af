/*
 * ISO-8601 timestamps (the agent's "o" format) as PostgreSQL's binary
 * timestamptz: microseconds since 2000-01-01 00:00:00 UTC, rounded from
 * the fraction exactly as timestamptz_in rounds it.
 */

#ifndef CC_PGTIME_H
#define CC_PGTIME_H

#include <stdint.h>

/*
 * Reads s, of the shape YYYY-MM-DDTHH:MM:SS[.f...][Z|+hh:mm|-hh:mm]
 * (ingest_is_timestamp's), into *usecs; a string without an offset is
 * read as UTC and *has_offset says which it was.  0, or -1 when s is not
 * of that shape or its fields are out of range.
 */
int cc_pgtime_from_iso(const char *s, int64_t *usecs, int *has_offset);

#endif /* CC_PGTIME_H */
