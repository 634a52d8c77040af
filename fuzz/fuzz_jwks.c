/*
 * libFuzzer target for cc_jwks_parse (and through it cc_jwk_parse, the
 * x5c decoder and OpenSSL key import): no crash, no leak, and a parsed
 * set only ever holds complete, signing-capable keys.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cc_jwks.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cc_jwks_t         *set;
    cc_jwks_report_t   report;
    const cc_jwk_t    *k;
    size_t             i;

    if (cc_jwks_parse((const char *) data, size, NULL, &set, &report)
        != CC_JOSE_OK)
    {
        if (set != NULL) {
            abort();
        }
        return 0;
    }

    if (cc_jwks_count(set) == 0
        || cc_jwks_count(set) > CC_JWKS_DEFAULT_MAX_KEYS
        || report.loaded != cc_jwks_count(set))
    {
        abort();
    }
    for (i = 0; i < cc_jwks_count(set); i++) {
        k = cc_jwks_get(set, i);
        if (k->pkey == NULL || k->kid == NULL || k->kid[0] == '\0'
            || k->kind == CC_SIG_KEY_UNSUPPORTED
            || cc_jwks_find(set, k->kid, strlen(k->kid)) != k)
        {
            abort();
        }
    }
    cc_jwks_free(set);
    return 0;
}
