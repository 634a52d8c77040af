/*
 * Growable byte buffers for the simulator: JSON text written piece by
 * piece, strings escaped for JSON, and gzip as the agent sends telemetry.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "sim_buf.h"


void
sim_buf_reset(sim_buf_t *b)
{
    b->len = 0;
    b->failed = 0;
    if (b->data != NULL) {
        b->data[0] = '\0';
    }
}


void
sim_buf_free(sim_buf_t *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->failed = 0;
}


int
sim_buf_reserve(sim_buf_t *b, size_t n)
{
    size_t   cap;
    char    *p;

    if (b->failed) {
        return -1;
    }
    if (b->len + n + 1 <= b->cap) {
        return 0;
    }
    cap = b->cap ? b->cap : 256;
    while (cap < b->len + n + 1) {
        cap *= 2;
    }
    p = realloc(b->data, cap);
    if (p == NULL) {
        b->failed = 1;
        return -1;
    }
    b->data = p;
    b->cap = cap;
    return 0;
}


void
sim_buf_add(sim_buf_t *b, const char *s, size_t n)
{
    if (sim_buf_reserve(b, n) != 0) {
        return;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}


void
sim_buf_str(sim_buf_t *b, const char *s)
{
    sim_buf_add(b, s, strlen(s));
}


void
sim_buf_printf(sim_buf_t *b, const char *fmt, ...)
{
    va_list  ap;
    int      n;

    /* most of the time the text fits in the room there is: one pass */
    if (b->failed || sim_buf_reserve(b, 0) != 0) {
        return;
    }
    va_start(ap, fmt);
    n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t) n < b->cap - b->len) {
        b->len += (size_t) n;
        return;
    }
    if (n < 0 || sim_buf_reserve(b, (size_t) n) != 0) {
        b->data[b->len] = '\0';        /* what the first pass cut */
        return;
    }
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t) n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t) n;
}


void
sim_buf_json_string(sim_buf_t *b, const char *s)
{
    const char  *run;
    char         esc[8];

    sim_buf_add(b, "\"", 1);
    run = s;
    for (; *s != '\0'; s++) {
        unsigned char  c = (unsigned char) *s;

        if (c >= 0x20 && c != '"' && c != '\\') {
            continue;
        }
        sim_buf_add(b, run, (size_t) (s - run));
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char) c;
            sim_buf_add(b, esc, 2);
        } else {
            snprintf(esc, sizeof(esc), "\\u%04x", c);
            sim_buf_add(b, esc, 6);
        }
        run = s + 1;
    }
    sim_buf_add(b, run, (size_t) (s - run));
    sim_buf_add(b, "\"", 1);
}


int
sim_buf_gzip(sim_buf_t *out, const char *in, size_t len, int level)
{
    z_stream  z;
    uLong     bound;
    int       rc;

    memset(&z, 0, sizeof(z));
    /* 15 + 16: a gzip wrapper, as .NET's GZipStream writes. */
    if (deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY)
        != Z_OK)
    {
        return -1;
    }
    bound = deflateBound(&z, (uLong) len);
    sim_buf_reset(out);
    if (sim_buf_reserve(out, bound) != 0) {
        deflateEnd(&z);
        return -1;
    }
    z.next_in = (Bytef *) in;
    z.avail_in = (uInt) len;
    z.next_out = (Bytef *) out->data;
    z.avail_out = (uInt) bound;
    rc = deflate(&z, Z_FINISH);
    out->len = z.total_out;
    deflateEnd(&z);
    return rc == Z_STREAM_END ? 0 : -1;
}
