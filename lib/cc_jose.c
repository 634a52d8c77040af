/*
 * Names for JOSE algorithms and rejection codes, kept in two tables so the
 * strings can be reviewed (and never drift) in one place.
 */

#include <string.h>

#include "cc_jose.h"


static const char  *cc_jose_errors[CC_JOSE_ERR_LAST] = {
    "ok",
    "internal_error",
    "invalid_argument",

    "token_too_large",
    "malformed",
    "bad_base64",
    "bad_json",
    "duplicate_key",

    "alg_not_allowed",
    "alg_key_mismatch",
    "crit_not_supported",
    "embedded_key",
    "nested_jwt",
    "unsupported_header",
    "missing_kid",
    "unknown_kid",

    "bad_signature",

    "missing_exp",
    "expired",
    "not_yet_valid",
    "bad_audience",
    "bad_issuer",
    "key_issuer_mismatch",
    "bad_tid",
    "bad_claim",

    "jwks_too_large",
    "too_many_keys",
    "no_usable_keys",
    "duplicate_kid",
    "bad_key",
    "weak_key",
    "unsupported_key",
    "x5c_mismatch",
    "key_not_for_signing",
};


static const struct {
    const char     *name;
    cc_jose_alg_t   alg;
} cc_jose_algs[] = {
    { "RS256", CC_JOSE_ALG_RS256 },
    { "PS256", CC_JOSE_ALG_PS256 },
    { "ES256", CC_JOSE_ALG_ES256 },
    { "EdDSA", CC_JOSE_ALG_EDDSA },
};


const char *
cc_jose_strerror(cc_jose_err_t err)
{
    if ((int) err < 0 || err >= CC_JOSE_ERR_LAST
        || cc_jose_errors[err] == NULL)
    {
        return "unknown_error";
    }
    return cc_jose_errors[err];
}


cc_jose_alg_t
cc_jose_alg_from_name(const char *name, size_t len)
{
    size_t  i;

    for (i = 0; i < sizeof(cc_jose_algs) / sizeof(cc_jose_algs[0]); i++) {
        if (strlen(cc_jose_algs[i].name) == len
            && memcmp(cc_jose_algs[i].name, name, len) == 0)
        {
            return cc_jose_algs[i].alg;
        }
    }
    return CC_JOSE_ALG_UNKNOWN;
}


const char *
cc_jose_alg_name(cc_jose_alg_t alg)
{
    size_t  i;

    for (i = 0; i < sizeof(cc_jose_algs) / sizeof(cc_jose_algs[0]); i++) {
        if (cc_jose_algs[i].alg == alg) {
            return cc_jose_algs[i].name;
        }
    }
    return "unknown";
}
