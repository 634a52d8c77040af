/*
 * Arrays in PostgreSQL's binary form, as array_recv reads them: a header
 * (ndim, has_null flag, element type OID), per dimension its size and
 * lower bound, then every element as a big-endian int32 length (-1 for
 * NULL) and its bytes in the element type's own binary form.  The header
 * is written last, when the element count and the null flag are known;
 * an array without elements has no dimensions at all (ndim 0).
 */

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cc_pgarray_bin.h"

/* ndim, has_null, elemtype, then one dimension's size and lower bound. */
#define HEADER_LEN      20
#define EMPTY_HEADER    12

/* jsonb_recv takes a version byte, then the JSON text. */
#define JSONB_VERSION   1


/* Makes room for n more bytes. */
static int
reserve(cc_pgarray_bin_t *a, size_t n)
{
    size_t          need, cap;
    unsigned char  *buf;

    if (a->failed) {
        return -1;
    }
    if (n > (size_t) INT_MAX || a->len + n > (size_t) INT_MAX) {
        a->failed = 1;
        return -1;
    }
    need = a->len + n;
    if (need <= a->cap) {
        return 0;
    }
    cap = a->cap > 0 ? a->cap : 64;
    while (cap < need) {
        cap *= 2;
    }
    buf = realloc(a->buf, cap);
    if (buf == NULL) {
        a->failed = 1;
        return -1;
    }
    a->buf = buf;
    a->cap = cap;
    return 0;
}


static void
put_uint32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char) (v >> 24);
    p[1] = (unsigned char) (v >> 16);
    p[2] = (unsigned char) (v >> 8);
    p[3] = (unsigned char) v;
}


static void
put_uint64(unsigned char *p, uint64_t v)
{
    put_uint32(p, (uint32_t) (v >> 32));
    put_uint32(p + 4, (uint32_t) v);
}


/* Starts an element of n bytes: its length, then room for the bytes. */
static unsigned char *
start_element(cc_pgarray_bin_t *a, size_t n)
{
    unsigned char  *p;

    if (reserve(a, 4 + n) != 0) {
        return NULL;
    }
    p = a->buf + a->len;
    put_uint32(p, (uint32_t) n);
    a->len += 4 + n;
    a->count++;
    return p + 4;
}


void
cc_pgarray_bin_init(cc_pgarray_bin_t *a, uint32_t elemtype, size_t size_hint)
{
    memset(a, 0, sizeof(*a));
    a->elemtype = elemtype;
    if (reserve(a, HEADER_LEN + size_hint) == 0) {
        a->len = HEADER_LEN;
    }
}


void
cc_pgarray_bin_add_int8(cc_pgarray_bin_t *a, int64_t v)
{
    unsigned char  *p;

    p = start_element(a, 8);
    if (p != NULL) {
        put_uint64(p, (uint64_t) v);
    }
}


void
cc_pgarray_bin_add_int4(cc_pgarray_bin_t *a, int32_t v)
{
    unsigned char  *p;

    p = start_element(a, 4);
    if (p != NULL) {
        put_uint32(p, (uint32_t) v);
    }
}


void
cc_pgarray_bin_add_text(cc_pgarray_bin_t *a, const char *s)
{
    unsigned char  *p;
    size_t          n;

    if (s == NULL) {
        cc_pgarray_bin_add_null(a);
        return;
    }
    n = strlen(s);
    p = start_element(a, n);
    if (p != NULL) {
        memcpy(p, s, n);
    }
}


void
cc_pgarray_bin_add_jsonb(cc_pgarray_bin_t *a, const char *s)
{
    unsigned char  *p;
    size_t          n;

    if (s == NULL) {
        cc_pgarray_bin_add_null(a);
        return;
    }
    n = strlen(s);
    p = start_element(a, 1 + n);
    if (p != NULL) {
        p[0] = JSONB_VERSION;
        memcpy(p + 1, s, n);
    }
}


void
cc_pgarray_bin_add_timestamptz(cc_pgarray_bin_t *a, int64_t usecs)
{
    cc_pgarray_bin_add_int8(a, usecs);
}


void
cc_pgarray_bin_add_null(cc_pgarray_bin_t *a)
{
    if (reserve(a, 4) != 0) {
        return;
    }
    put_uint32(a->buf + a->len, UINT32_MAX);    /* length -1 */
    a->len += 4;
    a->count++;
    a->has_null = 1;
}


const char *
cc_pgarray_bin_finish(cc_pgarray_bin_t *a, int *len)
{
    if (a->failed || a->buf == NULL || a->count > (size_t) INT_MAX) {
        return NULL;
    }
    if (a->count == 0) {
        put_uint32(a->buf, 0);
        put_uint32(a->buf + 4, 0);
        put_uint32(a->buf + 8, a->elemtype);
        *len = EMPTY_HEADER;
        return (const char *) a->buf;
    }
    put_uint32(a->buf, 1);
    put_uint32(a->buf + 4, a->has_null ? 1 : 0);
    put_uint32(a->buf + 8, a->elemtype);
    put_uint32(a->buf + 12, (uint32_t) a->count);
    put_uint32(a->buf + 16, 1);                 /* lower bound */
    *len = (int) a->len;
    return (const char *) a->buf;
}


void
cc_pgarray_bin_free(cc_pgarray_bin_t *a)
{
    free(a->buf);
    memset(a, 0, sizeof(*a));
}
