/*
 * libFuzzer target for the JSON scanner (lib/cc_jscan.c).  Input: any
 * bytes.  Beyond not crashing: whatever jansson accepts the scanner
 * accepts too (jansson refuses more: numbers beyond a double or a long
 * long); a too-small token array gives NO_ROOM with a count that then
 * fits; tokens nest properly; and every string unescapes, within its raw
 * length, to UTF-8 that jansson accepts.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cc_jscan.h"


static void
check_tokens(const char *text, size_t len, const cc_jscan_tok_t *toks,
             size_t n)
{
    char    *out;
    json_t  *s;
    size_t   i, raw, got;

    for (i = 0; i < n; i++) {
        if (toks[i].start >= toks[i].end || toks[i].end > len
            || toks[i].next <= i || toks[i].next > n
            || (toks[i].next > i + 1
                && toks[toks[i].next - 1].end > toks[i].end))
        {
            abort();
        }
        if (toks[i].type != CC_JSCAN_STRING) {
            continue;
        }
        raw = toks[i].end - toks[i].start;
        out = malloc(raw - 1);
        if (out == NULL) {
            return;
        }
        got = cc_jscan_unescape(text, &toks[i], out);
        if (got + 1 > raw - 1 || memchr(out, '\0', got) != NULL
            || !cc_jscan_string_is(text, &toks[i], out, got))
        {
            abort();
        }
        s = json_stringn(out, got);     /* NULL when not valid UTF-8 */
        if (s == NULL) {
            abort();
        }
        json_decref(s);
        free(out);
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cc_jscan_tok_t     *toks;
    cc_jscan_result_t   rc;
    json_t             *j;
    size_t              n, m;
    const char         *text = (const char *) data;

    rc = cc_jscan_parse(text, size, CC_JSCAN_MAX_DEPTH, NULL, 0, &n);
    /* jansson takes a NUL byte for the end of its input; the scanner
     * refuses it, so only texts without one are compared. */
    if (memchr(text, '\0', size) == NULL) {
        j = json_loadb(text, size, JSON_DECODE_ANY, NULL);
        if (j != NULL && rc != CC_JSCAN_NO_ROOM && rc != CC_JSCAN_TOO_DEEP) {
            abort();
        }
        json_decref(j);
    }
    if (rc != CC_JSCAN_NO_ROOM) {
        return 0;
    }
    toks = malloc(n * sizeof(*toks));
    if (toks == NULL) {
        return 0;
    }
    if (n > 1 && cc_jscan_parse(text, size, CC_JSCAN_MAX_DEPTH, toks, n - 1,
                                &m) != CC_JSCAN_NO_ROOM)
    {
        abort();
    }
    if (cc_jscan_parse(text, size, CC_JSCAN_MAX_DEPTH, toks, n, &m)
        != CC_JSCAN_OK || m != n)
    {
        abort();
    }
    check_tokens(text, size, toks, n);
    free(toks);
    return 0;
}
