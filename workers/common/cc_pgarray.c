/*
 * Array literals in PostgreSQL's text input form.  Every text element is
 * double-quoted, so only '"' and '\' need a backslash; braces, commas,
 * spaces and newlines inside quotes are taken as they are, and an unquoted
 * NULL is the null element.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cc_pgarray.h"


/* Makes room for n more bytes and the closing "}\0". */
static int
reserve(cc_pgarray_t *a, size_t n)
{
    size_t   need, cap;
    char    *buf;

    if (a->failed) {
        return -1;
    }
    need = a->len + n + 2;
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


/* The separator before an element: "{" for the first, "," after. */
static void
start_element(cc_pgarray_t *a)
{
    a->buf[a->len++] = a->count++ == 0 ? '{' : ',';
}


void
cc_pgarray_init(cc_pgarray_t *a, size_t size_hint)
{
    memset(a, 0, sizeof(*a));
    reserve(a, size_hint);
}


void
cc_pgarray_add_text(cc_pgarray_t *a, const char *s)
{
    size_t       n;
    const char  *p;
    char        *out;

    if (s == NULL) {
        cc_pgarray_add_null(a);
        return;
    }
    /* Worst case: every byte escaped, two quotes, a separator. */
    n = strlen(s);
    if (reserve(a, 2 * n + 3) != 0) {
        return;
    }
    start_element(a);
    out = a->buf + a->len;
    *out++ = '"';
    for (p = s; *p != '\0'; p++) {
        if (*p == '"' || *p == '\\') {
            *out++ = '\\';
        }
        *out++ = *p;
    }
    *out++ = '"';
    a->len = (size_t) (out - a->buf);
}


void
cc_pgarray_add_int(cc_pgarray_t *a, long long v)
{
    if (reserve(a, 24) != 0) {
        return;
    }
    start_element(a);
    a->len += (size_t) snprintf(a->buf + a->len, 22, "%lld", v);
}


void
cc_pgarray_add_null(cc_pgarray_t *a)
{
    if (reserve(a, 5) != 0) {
        return;
    }
    start_element(a);
    memcpy(a->buf + a->len, "NULL", 4);
    a->len += 4;
}


const char *
cc_pgarray_finish(cc_pgarray_t *a)
{
    if (reserve(a, 1) != 0) {
        return NULL;
    }
    if (a->count == 0) {
        a->buf[a->len++] = '{';
    }
    a->buf[a->len++] = '}';
    a->buf[a->len] = '\0';
    return a->buf;
}


void
cc_pgarray_free(cc_pgarray_t *a)
{
    free(a->buf);
    memset(a, 0, sizeof(*a));
}
