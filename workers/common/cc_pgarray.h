/*
 * PostgreSQL array literals ("{...}") built from C values, for passing a
 * column of many rows as one text parameter (unnest() on the other side):
 * text elements quoted and escaped, integers, NULLs.
 */

#ifndef CC_PGARRAY_H
#define CC_PGARRAY_H

#include <stddef.h>

typedef struct cc_pgarray {
    char    *buf;
    size_t   len;
    size_t   cap;
    size_t   count;         /* elements added */
    int      failed;        /* out of memory: finish returns NULL */
} cc_pgarray_t;

/* An empty array with room for about size_hint bytes. */
void cc_pgarray_init(cc_pgarray_t *a, size_t size_hint);

/* Appends s, or NULL when s is NULL. */
void cc_pgarray_add_text(cc_pgarray_t *a, const char *s);

void cc_pgarray_add_int(cc_pgarray_t *a, long long v);

void cc_pgarray_add_null(cc_pgarray_t *a);

/*
 * The literal, NUL-terminated ("{}" when empty); it stays owned by a.
 * NULL when memory ran out on the way.
 */
const char *cc_pgarray_finish(cc_pgarray_t *a);

void cc_pgarray_free(cc_pgarray_t *a);

#endif /* CC_PGARRAY_H */
