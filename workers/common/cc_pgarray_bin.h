/*
 * One-dimensional PostgreSQL arrays in the binary wire format (what
 * array_recv reads), for passing a column of many rows as one binary
 * parameter: int8, int4, text, timestamptz and jsonb elements, and NULLs.
 */

#ifndef CC_PGARRAY_BIN_H
#define CC_PGARRAY_BIN_H

#include <stddef.h>
#include <stdint.h>

/* Element type OIDs (pg_type.dat), fixed since PostgreSQL 7.x / 9.4. */
#define CC_PG_INT8_OID         20
#define CC_PG_INT4_OID         23
#define CC_PG_TEXT_OID         25
#define CC_PG_TIMESTAMPTZ_OID  1184
#define CC_PG_JSONB_OID        3802

typedef struct cc_pgarray_bin {
    unsigned char  *buf;
    size_t          len;
    size_t          cap;
    size_t          count;      /* elements added */
    uint32_t        elemtype;
    int             has_null;
    int             failed;     /* out of memory or too big: finish fails */
} cc_pgarray_bin_t;

/* An empty array of elemtype with room for about size_hint bytes. */
void cc_pgarray_bin_init(cc_pgarray_bin_t *a, uint32_t elemtype,
                         size_t size_hint);

void cc_pgarray_bin_add_int8(cc_pgarray_bin_t *a, int64_t v);

void cc_pgarray_bin_add_int4(cc_pgarray_bin_t *a, int32_t v);

/* Appends s as text, or NULL when s is NULL. */
void cc_pgarray_bin_add_text(cc_pgarray_bin_t *a, const char *s);

/* Appends the JSON text s as jsonb, or NULL when s is NULL. */
void cc_pgarray_bin_add_jsonb(cc_pgarray_bin_t *a, const char *s);

/* Appends microseconds since 2000-01-01 00:00:00 UTC as timestamptz. */
void cc_pgarray_bin_add_timestamptz(cc_pgarray_bin_t *a, int64_t usecs);

void cc_pgarray_bin_add_null(cc_pgarray_bin_t *a);

/*
 * The array's bytes (*len of them); they stay owned by a.  NULL when
 * memory ran out on the way or the array outgrew a parameter's int length.
 */
const char *cc_pgarray_bin_finish(cc_pgarray_bin_t *a, int *len);

void cc_pgarray_bin_free(cc_pgarray_bin_t *a);

#endif /* CC_PGARRAY_BIN_H */
