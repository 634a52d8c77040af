/*
 * A strict, allocation-free JSON scanner: validates a whole text against
 * RFC 8259 (plus valid UTF-8 and no "\u0000") in one pass and records its
 * values as tokens in the caller's array.
 */

#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "cc_jscan.h"


typedef struct {
    const unsigned char  *p;
    size_t                len;
    size_t                pos;
    cc_jscan_tok_t       *toks;
    size_t                cap;
    size_t                n;            /* tokens seen, stored or not */
    uint32_t              open[CC_JSCAN_MAX_DEPTH];
    unsigned char         is_object[CC_JSCAN_MAX_DEPTH];
    unsigned              depth;
} cc_jscan_state_t;


/* The bytes a string holds as they are: printable ASCII but quote and
 * backslash (control characters, escapes and UTF-8 need a closer look). */
static const unsigned char  cc_jscan_plain[256] = {
#define CC_JSCAN_PLAIN16  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1
    /* 0x00 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    /* 0x10 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    /* 0x20 */ 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    /* 0x30 */ CC_JSCAN_PLAIN16, CC_JSCAN_PLAIN16,
    /* 0x50 */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
    /* 0x60 */ CC_JSCAN_PLAIN16, CC_JSCAN_PLAIN16
#undef CC_JSCAN_PLAIN16
    /* 0x80..0xff: 0 */
};


static void cc_jscan_skip_space(cc_jscan_state_t *st);
static size_t cc_jscan_token(cc_jscan_state_t *st, cc_jscan_type_t type,
    size_t start);
static void cc_jscan_finish(cc_jscan_state_t *st, size_t idx, size_t end,
    unsigned char flags);
static void cc_jscan_count_in_parent(cc_jscan_state_t *st);
static int cc_jscan_scalar(cc_jscan_state_t *st);
static int cc_jscan_key(cc_jscan_state_t *st);
static int cc_jscan_string(cc_jscan_state_t *st, unsigned char *flags);
static size_t cc_jscan_escape(const unsigned char *p, size_t i, size_t end,
    uint32_t *cp);
static size_t cc_jscan_utf8(const unsigned char *s, size_t n);
static int cc_jscan_number(cc_jscan_state_t *st, unsigned char *flags);
static int cc_jscan_literal(cc_jscan_state_t *st, const char *word,
    size_t n);
static size_t cc_jscan_next_unit(const unsigned char *p, size_t i,
    size_t end, unsigned char out[4], size_t *outlen);


cc_jscan_result_t
cc_jscan_parse(const char *text, size_t len, unsigned max_depth,
    cc_jscan_tok_t *toks, size_t cap, size_t *ntoks)
{
    cc_jscan_state_t  st;
    unsigned char     c, close;
    size_t            idx;

    *ntoks = 0;
    if (len >= UINT32_MAX) {
        return CC_JSCAN_TOO_LONG;
    }
    if (max_depth > CC_JSCAN_MAX_DEPTH) {
        max_depth = CC_JSCAN_MAX_DEPTH;
    }
    st.p = (const unsigned char *) text;
    st.len = len;
    st.pos = 0;
    st.toks = toks;
    st.cap = toks != NULL ? cap : 0;
    st.n = 0;
    st.depth = 0;

    cc_jscan_skip_space(&st);
    for ( ;; ) {
        /* A value starts at st.pos. */
        if (st.pos >= st.len) {
            return CC_JSCAN_INVALID;
        }
        c = st.p[st.pos];
        if (c == '{' || c == '[') {
            if (st.depth == max_depth) {
                return CC_JSCAN_TOO_DEEP;
            }
            cc_jscan_count_in_parent(&st);
            idx = cc_jscan_token(&st, c == '{' ? CC_JSCAN_OBJECT
                                               : CC_JSCAN_ARRAY, st.pos);
            st.open[st.depth] = (uint32_t) idx;
            st.is_object[st.depth] = (c == '{');
            st.depth++;
            st.pos++;
            cc_jscan_skip_space(&st);
            close = c == '{' ? '}' : ']';
            if (st.pos >= st.len || st.p[st.pos] != close) {
                if (c == '{' && cc_jscan_key(&st) != 0) {
                    return CC_JSCAN_INVALID;
                }
                continue;
            }
            /* An empty container: closed below. */
        } else {
            cc_jscan_count_in_parent(&st);
            if (cc_jscan_scalar(&st) != 0) {
                return CC_JSCAN_INVALID;
            }
        }

        /* After a value: close containers, or move to the next member. */
        for ( ;; ) {
            cc_jscan_skip_space(&st);
            if (st.depth == 0) {
                if (st.pos != st.len) {
                    return CC_JSCAN_INVALID;
                }
                *ntoks = st.n;
                return st.n <= st.cap ? CC_JSCAN_OK : CC_JSCAN_NO_ROOM;
            }
            if (st.pos >= st.len) {
                return CC_JSCAN_INVALID;
            }
            c = st.p[st.pos];
            close = st.is_object[st.depth - 1] ? '}' : ']';
            if (c == close) {
                st.pos++;
                st.depth--;
                cc_jscan_finish(&st, st.open[st.depth], st.pos, 0);
                continue;
            }
            if (c != ',') {
                return CC_JSCAN_INVALID;
            }
            st.pos++;
            cc_jscan_skip_space(&st);
            if (st.is_object[st.depth - 1] && cc_jscan_key(&st) != 0) {
                return CC_JSCAN_INVALID;
            }
            break;
        }
    }
}


/* RFC 8259 whitespace: space, tab, line feed, carriage return. */
static void
cc_jscan_skip_space(cc_jscan_state_t *st)
{
    while (st->pos < st->len) {
        switch (st->p[st->pos]) {
        case ' ': case '\t': case '\n': case '\r':
            st->pos++;
            continue;
        }
        return;
    }
}


/* Starts a token; past the caller's array it is only counted. */
static size_t
cc_jscan_token(cc_jscan_state_t *st, cc_jscan_type_t type, size_t start)
{
    cc_jscan_tok_t  *t;

    if (st->n < st->cap) {
        t = &st->toks[st->n];
        t->start = (uint32_t) start;
        t->end = (uint32_t) start;
        t->next = (uint32_t) st->n + 1;
        t->size = 0;
        t->type = (unsigned char) type;
        t->flags = 0;
    }
    return st->n++;
}


static void
cc_jscan_finish(cc_jscan_state_t *st, size_t idx, size_t end,
    unsigned char flags)
{
    if (idx < st->cap) {
        st->toks[idx].end = (uint32_t) end;
        st->toks[idx].next = (uint32_t) st->n;
        st->toks[idx].flags = flags;
    }
}


/* An array counts its elements as they start; an object its keys. */
static void
cc_jscan_count_in_parent(cc_jscan_state_t *st)
{
    uint32_t  parent;

    if (st->depth > 0 && !st->is_object[st->depth - 1]) {
        parent = st->open[st->depth - 1];
        if (parent < st->cap) {
            st->toks[parent].size++;
        }
    }
}


/* A string, number or literal at st->pos. */
static int
cc_jscan_scalar(cc_jscan_state_t *st)
{
    unsigned char  c, flags = 0;
    size_t         start, idx;
    int            rc;

    start = st->pos;
    c = st->p[start];
    if (c == '"') {
        idx = cc_jscan_token(st, CC_JSCAN_STRING, start);
        rc = cc_jscan_string(st, &flags);
    } else if (c == '-' || (c >= '0' && c <= '9')) {
        idx = cc_jscan_token(st, CC_JSCAN_NUMBER, start);
        rc = cc_jscan_number(st, &flags);
    } else if (c == 't') {
        idx = cc_jscan_token(st, CC_JSCAN_TRUE, start);
        rc = cc_jscan_literal(st, "true", 4);
    } else if (c == 'f') {
        idx = cc_jscan_token(st, CC_JSCAN_FALSE, start);
        rc = cc_jscan_literal(st, "false", 5);
    } else if (c == 'n') {
        idx = cc_jscan_token(st, CC_JSCAN_NULL, start);
        rc = cc_jscan_literal(st, "null", 4);
    } else {
        return -1;
    }
    if (rc == 0) {
        cc_jscan_finish(st, idx, st->pos, flags);
    }
    return rc;
}


/* An object member's key, its colon, and the space before its value. */
static int
cc_jscan_key(cc_jscan_state_t *st)
{
    uint32_t       obj;
    unsigned char  flags = 0;
    size_t         idx;

    if (st->pos >= st->len || st->p[st->pos] != '"') {
        return -1;
    }
    obj = st->open[st->depth - 1];
    if (obj < st->cap) {
        st->toks[obj].size++;
    }
    idx = cc_jscan_token(st, CC_JSCAN_STRING, st->pos);
    if (cc_jscan_string(st, &flags) != 0) {
        return -1;
    }
    cc_jscan_finish(st, idx, st->pos, flags);
    cc_jscan_skip_space(st);
    if (st->pos >= st->len || st->p[st->pos] != ':') {
        return -1;
    }
    st->pos++;
    cc_jscan_skip_space(st);
    return 0;
}


/*
 * True when none of the 8 bytes at p needs a closer look: each is
 * printable ASCII other than quote and backslash.  Bytes are tested eight
 * at a time (the word tricks of "Bit Twiddling Hacks": a byte below n, a
 * byte equal to c), which are exact for "none"; a block that fails is read
 * byte by byte.
 */
static int
cc_jscan_plain8(const unsigned char *p)
{
    const uint64_t  ones = 0x0101010101010101ULL;
    const uint64_t  highs = 0x8080808080808080ULL;
    uint64_t        x, control, quote, backslash;

    memcpy(&x, p, sizeof(x));
    control = (x - ones * 0x20) & ~x & highs;
    quote = x ^ (ones * '"');
    quote = (quote - ones) & ~quote & highs;
    backslash = x ^ (ones * '\\');
    backslash = (backslash - ones) & ~backslash & highs;
    return ((x & highs) | control | quote | backslash) == 0;
}


/* A string from its opening quote at st->pos to past its closing one. */
static int
cc_jscan_string(cc_jscan_state_t *st, unsigned char *flags)
{
    const unsigned char  *p = st->p;
    size_t                i, n, len = st->len;
    uint32_t              cp;

    for (i = st->pos + 1; ; i += n) {
        /* The common case first: printable ASCII that needs no care,
         * eight bytes at a time while they last. */
        while (i + 8 <= len && cc_jscan_plain8(p + i)) {
            i += 8;
        }
        while (i < len && cc_jscan_plain[p[i]]) {
            i++;
        }
        if (i >= len) {
            return -1;
        }
        if (p[i] == '"') {
            st->pos = i + 1;
            return 0;
        }
        if (p[i] == '\\') {
            *flags |= CC_JSCAN_ESCAPED;
            n = cc_jscan_escape(p, i, len, &cp);
        } else if (p[i] < 0x20) {
            return -1;      /* a raw control character */
        } else {
            n = cc_jscan_utf8(p + i, len - i);
        }
        if (n == 0) {
            return -1;
        }
    }
}


/* The value of four hex digits at p, or -1. */
static long
cc_jscan_hex4(const unsigned char *p)
{
    long  v = 0;
    int   i, d;

    for (i = 0; i < 4; i++) {
        if (p[i] >= '0' && p[i] <= '9') {
            d = p[i] - '0';
        } else if (p[i] >= 'a' && p[i] <= 'f') {
            d = p[i] - 'a' + 10;
        } else if (p[i] >= 'A' && p[i] <= 'F') {
            d = p[i] - 'A' + 10;
        } else {
            return -1;
        }
        v = v * 16 + d;
    }
    return v;
}


/*
 * The escape at p[i] (a backslash) before end: sets *cp to the code point
 * and returns the escape's length, or 0 when it is not one JSON allows,
 * names U+0000, or is half of a surrogate pair.
 */
static size_t
cc_jscan_escape(const unsigned char *p, size_t i, size_t end, uint32_t *cp)
{
    long  hi, lo;

    if (i + 1 >= end) {
        return 0;
    }
    switch (p[i + 1]) {
    case '"':  *cp = '"';  return 2;
    case '\\': *cp = '\\'; return 2;
    case '/':  *cp = '/';  return 2;
    case 'b':  *cp = '\b'; return 2;
    case 'f':  *cp = '\f'; return 2;
    case 'n':  *cp = '\n'; return 2;
    case 'r':  *cp = '\r'; return 2;
    case 't':  *cp = '\t'; return 2;
    case 'u':  break;
    default:   return 0;
    }
    if (i + 6 > end || (hi = cc_jscan_hex4(p + i + 2)) < 0 || hi == 0
        || (hi >= 0xdc00 && hi <= 0xdfff))
    {
        return 0;
    }
    if (hi < 0xd800 || hi > 0xdbff) {
        *cp = (uint32_t) hi;
        return 6;
    }
    if (i + 12 > end || p[i + 6] != '\\' || p[i + 7] != 'u'
        || (lo = cc_jscan_hex4(p + i + 8)) < 0xdc00 || lo > 0xdfff)
    {
        return 0;
    }
    *cp = 0x10000 + (((uint32_t) hi - 0xd800) << 10) + ((uint32_t) lo - 0xdc00);
    return 12;
}


static int
cc_jscan_is_continuation(unsigned char c)
{
    return (c & 0xc0) == 0x80;
}


/*
 * The length of the UTF-8 sequence of a non-ASCII character at s (n bytes
 * left), or 0 when it is not the shortest form of a scalar value: no
 * overlong forms, no surrogates, nothing above U+10FFFF.
 */
static size_t
cc_jscan_utf8(const unsigned char *s, size_t n)
{
    unsigned char  lo = 0x80, hi = 0xbf;

    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        return n >= 2 && cc_jscan_is_continuation(s[1]) ? 2 : 0;
    }
    if (s[0] >= 0xe0 && s[0] <= 0xef) {
        if (s[0] == 0xe0) {
            lo = 0xa0;                  /* overlong below U+0800 */
        } else if (s[0] == 0xed) {
            hi = 0x9f;                  /* U+D800..U+DFFF */
        }
        return n >= 3 && s[1] >= lo && s[1] <= hi
               && cc_jscan_is_continuation(s[2]) ? 3 : 0;
    }
    if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        if (s[0] == 0xf0) {
            lo = 0x90;                  /* overlong below U+10000 */
        } else if (s[0] == 0xf4) {
            hi = 0x8f;                  /* above U+10FFFF */
        }
        return n >= 4 && s[1] >= lo && s[1] <= hi
               && cc_jscan_is_continuation(s[2])
               && cc_jscan_is_continuation(s[3]) ? 4 : 0;
    }
    return 0;
}


static int
cc_jscan_is_digit(cc_jscan_state_t *st, size_t i)
{
    return i < st->len && st->p[i] >= '0' && st->p[i] <= '9';
}


/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int
cc_jscan_number(cc_jscan_state_t *st, unsigned char *flags)
{
    size_t  i = st->pos;

    *flags = CC_JSCAN_INTEGER;
    if (st->p[i] == '-') {
        i++;
    }
    if (!cc_jscan_is_digit(st, i)) {
        return -1;
    }
    if (st->p[i++] != '0') {
        while (cc_jscan_is_digit(st, i)) {
            i++;
        }
    }
    if (i < st->len && st->p[i] == '.') {
        *flags = 0;
        if (!cc_jscan_is_digit(st, ++i)) {
            return -1;
        }
        while (cc_jscan_is_digit(st, i)) {
            i++;
        }
    }
    if (i < st->len && (st->p[i] == 'e' || st->p[i] == 'E')) {
        *flags = 0;
        i++;
        if (i < st->len && (st->p[i] == '+' || st->p[i] == '-')) {
            i++;
        }
        if (!cc_jscan_is_digit(st, i)) {
            return -1;
        }
        while (cc_jscan_is_digit(st, i)) {
            i++;
        }
    }
    st->pos = i;
    return 0;
}


static int
cc_jscan_literal(cc_jscan_state_t *st, const char *word, size_t n)
{
    if (st->len - st->pos < n || memcmp(st->p + st->pos, word, n) != 0) {
        return -1;
    }
    st->pos += n;
    return 0;
}


long
cc_jscan_member(const char *text, const cc_jscan_tok_t *toks, size_t obj,
    const char *name)
{
    const cc_jscan_tok_t  *k;
    size_t                 key, m, n;
    long                   found = -1;

    if (toks[obj].type != CC_JSCAN_OBJECT) {
        return -1;
    }
    n = strlen(name);
    key = obj + 1;
    for (m = 0; m < toks[obj].size; m++) {
        k = &toks[key];
        /* Most keys hold no escape: compare their bytes where they lie. */
        if ((k->flags & CC_JSCAN_ESCAPED)
            ? cc_jscan_string_is(text, k, name, n)
            : k->end - k->start - 2 == n
              && memcmp(text + k->start + 1, name, n) == 0)
        {
            found = (long) key + 1;     /* and go on: the last one wins */
        }
        key = toks[key + 1].next;
    }
    return found;
}


/*
 * The character or escape at p[i] of a scanned string's contents (before
 * end), as the bytes it stands for in out; returns its raw length.
 */
static size_t
cc_jscan_next_unit(const unsigned char *p, size_t i, size_t end,
    unsigned char out[4], size_t *outlen)
{
    uint32_t  cp;
    size_t    n;

    if (p[i] != '\\' || (n = cc_jscan_escape(p, i, end, &cp)) == 0) {
        out[0] = p[i];
        *outlen = 1;
        return 1;
    }
    if (cp < 0x80) {
        out[0] = (unsigned char) cp;
        *outlen = 1;
    } else if (cp < 0x800) {
        out[0] = (unsigned char) (0xc0 | (cp >> 6));
        out[1] = (unsigned char) (0x80 | (cp & 0x3f));
        *outlen = 2;
    } else if (cp < 0x10000) {
        out[0] = (unsigned char) (0xe0 | (cp >> 12));
        out[1] = (unsigned char) (0x80 | ((cp >> 6) & 0x3f));
        out[2] = (unsigned char) (0x80 | (cp & 0x3f));
        *outlen = 3;
    } else {
        out[0] = (unsigned char) (0xf0 | (cp >> 18));
        out[1] = (unsigned char) (0x80 | ((cp >> 12) & 0x3f));
        out[2] = (unsigned char) (0x80 | ((cp >> 6) & 0x3f));
        out[3] = (unsigned char) (0x80 | (cp & 0x3f));
        *outlen = 4;
    }
    return n;
}


int
cc_jscan_string_is(const char *text, const cc_jscan_tok_t *tok,
    const char *s, size_t n)
{
    const unsigned char  *p = (const unsigned char *) text;
    unsigned char         unit[4];
    size_t                i, end, got, ulen;

    if (tok->type != CC_JSCAN_STRING) {
        return 0;
    }
    i = tok->start + 1;
    end = tok->end - 1;
    if (!(tok->flags & CC_JSCAN_ESCAPED)) {
        return end - i == n && memcmp(p + i, s, n) == 0;
    }
    for (got = 0; i < end; got += ulen) {
        i += cc_jscan_next_unit(p, i, end, unit, &ulen);
        if (got + ulen > n || memcmp(s + got, unit, ulen) != 0) {
            return 0;
        }
    }
    return got == n;
}


int
cc_jscan_integer(const char *text, const cc_jscan_tok_t *tok, long long *out)
{
    const char          *p, *end;
    unsigned long long   v = 0, limit;
    unsigned             d;
    int                  negative;

    if (tok->type != CC_JSCAN_NUMBER || !(tok->flags & CC_JSCAN_INTEGER)) {
        return -1;
    }
    p = text + tok->start;
    end = text + tok->end;
    negative = (*p == '-');
    if (negative) {
        p++;
    }
    limit = negative ? (unsigned long long) LLONG_MAX + 1 : LLONG_MAX;
    for ( ; p < end; p++) {
        d = (unsigned) (*p - '0');
        if (v > (limit - d) / 10) {
            return -1;
        }
        v = v * 10 + d;
    }
    if (!negative) {
        *out = (long long) v;
    } else if (v == (unsigned long long) LLONG_MAX + 1) {
        *out = LLONG_MIN;
    } else {
        *out = -(long long) v;
    }
    return 0;
}


size_t
cc_jscan_unescape(const char *text, const cc_jscan_tok_t *tok, char *out)
{
    const unsigned char  *p = (const unsigned char *) text, *run;
    size_t                i, end, n = 0, ulen, len;

    i = tok->start + 1;
    end = tok->end - 1;
    if (!(tok->flags & CC_JSCAN_ESCAPED)) {
        memcpy(out, p + i, end - i);
        out[end - i] = '\0';
        return end - i;
    }
    while (i < end) {
        /* Copy the run up to the next escape in one go. */
        run = memchr(p + i, '\\', end - i);
        len = run != NULL ? (size_t) (run - (p + i)) : end - i;
        memcpy(out + n, p + i, len);
        n += len;
        i += len;
        if (i < end) {
            i += cc_jscan_next_unit(p, i, end, (unsigned char *) out + n,
                                    &ulen);
            n += ulen;
        }
    }
    out[n] = '\0';
    return n;
}


int
cc_jscan_is_text(const char *s, size_t n)
{
    const unsigned char  *p = (const unsigned char *) s;
    size_t                i, len;

    for (i = 0; i < n; i += len) {
        if (p[i] == '\0') {
            return 0;
        }
        len = p[i] < 0x80 ? 1 : cc_jscan_utf8(p + i, n - i);
        if (len == 0) {
            return 0;
        }
    }
    return 1;
}
