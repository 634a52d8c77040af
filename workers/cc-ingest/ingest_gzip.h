/*
 * Inflating the gzip bodies agents send (agent-protocol.md 1, 7), with a
 * hard limit on the inflated size so that a small body cannot expand into
 * unbounded memory.
 */

#ifndef INGEST_GZIP_H
#define INGEST_GZIP_H

#include <stddef.h>

typedef enum {
    INGEST_GZIP_OK = 0,
    INGEST_GZIP_BAD,            /* not gzip, corrupt or truncated */
    INGEST_GZIP_TOO_LARGE,      /* would inflate past the limit */
    INGEST_GZIP_NO_MEMORY
} ingest_gzip_result_t;

/*
 * Inflates the gzip stream in[0..len) into a NUL-terminated buffer of at
 * most limit bytes (the caller frees *out).  Trailing bytes after the
 * stream make it BAD: they are not what the agent sends.
 */
ingest_gzip_result_t ingest_gunzip(const void *in, size_t len, size_t limit,
                                   char **out, size_t *out_len);

#endif /* INGEST_GZIP_H */
