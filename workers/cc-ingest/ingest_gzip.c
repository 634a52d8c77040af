/*
 * Inflates an agent's gzip request body with zlib, never holding more than
 * the limit plus one chunk of output.
 */

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "ingest_gzip.h"

#define INGEST_GZIP_CHUNK  65536
#define INGEST_GZIP_WBITS  (16 + MAX_WBITS)     /* gzip wrapper only */


/* Grows buf so that it can take one more chunk past used bytes. */
static int
reserve_chunk(char **buf, size_t *cap, size_t used, size_t limit)
{
    size_t   want;
    char    *grown;

    if (*cap - used >= INGEST_GZIP_CHUNK) {
        return 0;
    }
    want = used + INGEST_GZIP_CHUNK;
    if (want > limit + 1) {
        want = limit + 1;     /* one byte past the limit proves overflow */
    }
    if (want <= used) {
        return 0;
    }
    grown = realloc(*buf, want + 1);
    if (grown == NULL) {
        return -1;
    }
    *buf = grown;
    *cap = want;
    return 0;
}


ingest_gzip_result_t
ingest_gunzip(const void *in, size_t len, size_t limit, char **out,
              size_t *out_len)
{
    z_stream              zs;
    char                 *buf;
    size_t                cap, used;
    int                   zrc;
    ingest_gzip_result_t  result;

    *out = NULL;
    *out_len = 0;
    if (in == NULL || len == 0) {
        return INGEST_GZIP_BAD;
    }
    memset(&zs, 0, sizeof(zs));
    if (inflateInit2(&zs, INGEST_GZIP_WBITS) != Z_OK) {
        return INGEST_GZIP_NO_MEMORY;
    }
    zs.next_in = (Bytef *) in;
    zs.avail_in = (uInt) len;

    buf = NULL;
    cap = 0;
    used = 0;
    result = INGEST_GZIP_BAD;
    for ( ;; ) {
        if (reserve_chunk(&buf, &cap, used, limit) != 0) {
            result = INGEST_GZIP_NO_MEMORY;
            break;
        }
        if (used > limit) {
            result = INGEST_GZIP_TOO_LARGE;
            break;
        }
        zs.next_out = (Bytef *) buf + used;
        zs.avail_out = (uInt) (cap - used);
        zrc = inflate(&zs, Z_NO_FLUSH);
        used = cap - zs.avail_out;
        if (used > limit) {
            result = INGEST_GZIP_TOO_LARGE;
            break;
        }
        if (zrc == Z_STREAM_END) {
            result = zs.avail_in == 0 ? INGEST_GZIP_OK : INGEST_GZIP_BAD;
            break;
        }
        if (zrc != Z_OK) {
            /* Z_BUF_ERROR here means the input ended mid-stream. */
            result = zrc == Z_MEM_ERROR ? INGEST_GZIP_NO_MEMORY
                                        : INGEST_GZIP_BAD;
            break;
        }
    }
    inflateEnd(&zs);

    if (result != INGEST_GZIP_OK) {
        free(buf);
        return result;
    }
    buf[used] = '\0';
    *out = buf;
    *out_len = used;
    return INGEST_GZIP_OK;
}
