/*
 * The JOSE vocabulary shared by cc_sig, cc_jwk, cc_jwks and cc_jwt: the
 * signature algorithms we accept and the precise reasons we reject.
 */

#ifndef CC_JOSE_H
#define CC_JOSE_H

#include <stddef.h>

/*
 * The only JWS algorithms we ever verify.  HS*, "none" and everything else
 * map to CC_JOSE_ALG_UNKNOWN and are rejected.
 */
typedef enum {
    CC_JOSE_ALG_UNKNOWN = 0,
    CC_JOSE_ALG_RS256,
    CC_JOSE_ALG_PS256,
    CC_JOSE_ALG_ES256,
    CC_JOSE_ALG_EDDSA
} cc_jose_alg_t;

/* A set of algorithms as a bit mask, e.g. for a policy that accepts only
 * what Entra signs with: CC_JOSE_ALG_BIT(CC_JOSE_ALG_RS256). */
#define CC_JOSE_ALG_BIT(alg)  (1u << (unsigned) (alg))

/*
 * Why a token, key or key set was refused.  Each has a stable short string
 * (cc_jose_strerror) that goes into WWW-Authenticate error_description,
 * logs and ccctl output: the strings name the rule that failed and never
 * include any part of the token, the key or a claim.  Append new codes at
 * the end: the numbers may be stored.
 */
typedef enum {
    CC_JOSE_OK = 0,
    CC_JOSE_ERR_INTERNAL,               /* out of memory, OpenSSL failure */
    CC_JOSE_ERR_INVALID_ARGUMENT,       /* caller passed a bad policy etc. */

    /* token shape */
    CC_JOSE_ERR_TOKEN_TOO_LARGE,
    CC_JOSE_ERR_MALFORMED,              /* not three non-empty segments */
    CC_JOSE_ERR_BAD_BASE64,
    CC_JOSE_ERR_BAD_JSON,               /* not JSON, or not an object */
    CC_JOSE_ERR_DUPLICATE_KEY,          /* a JSON member name repeated */

    /* header */
    CC_JOSE_ERR_ALG_NOT_ALLOWED,        /* none, HS*, missing, unknown */
    CC_JOSE_ERR_ALG_KEY_MISMATCH,       /* alg does not fit the key */
    CC_JOSE_ERR_CRIT,                   /* "crit" present */
    CC_JOSE_ERR_EMBEDDED_KEY,           /* jku, x5u, jwk, x5c in header */
    CC_JOSE_ERR_NESTED_JWT,             /* cty JWT */
    CC_JOSE_ERR_UNSUPPORTED_HEADER,     /* zip, enc, b64, bad typ/kid type */
    CC_JOSE_ERR_MISSING_KID,
    CC_JOSE_ERR_UNKNOWN_KID,

    /* signature */
    CC_JOSE_ERR_BAD_SIGNATURE,

    /* claims */
    CC_JOSE_ERR_MISSING_EXP,
    CC_JOSE_ERR_EXPIRED,
    CC_JOSE_ERR_NOT_YET_VALID,
    CC_JOSE_ERR_BAD_AUDIENCE,
    CC_JOSE_ERR_BAD_ISSUER,
    CC_JOSE_ERR_KEY_ISSUER_MISMATCH,    /* iss differs from the key's issuer */
    CC_JOSE_ERR_BAD_TID,                /* tid missing or not a GUID */
    CC_JOSE_ERR_BAD_CLAIM,              /* a known claim has a bad type/value */

    /* keys and key sets */
    CC_JOSE_ERR_JWKS_TOO_LARGE,
    CC_JOSE_ERR_TOO_MANY_KEYS,
    CC_JOSE_ERR_NO_USABLE_KEYS,
    CC_JOSE_ERR_DUPLICATE_KID,
    CC_JOSE_ERR_BAD_KEY,                /* malformed key material */
    CC_JOSE_ERR_WEAK_KEY,               /* RSA below 2048 bits */
    CC_JOSE_ERR_UNSUPPORTED_KEY,        /* kty/crv we do not verify with */
    CC_JOSE_ERR_X5C_MISMATCH,           /* x5c[0] is not the n/e key */
    CC_JOSE_ERR_KEY_NOT_FOR_SIGNING,    /* use other than "sig" */

    CC_JOSE_ERR_LAST                    /* not an error: the count */
} cc_jose_err_t;

/* A stable lower_snake_case string for err ("unknown_error" if out of
 * range); static storage, never NULL. */
const char *cc_jose_strerror(cc_jose_err_t err);

/* Maps an exact, case-sensitive JWS "alg" value to the enum; anything we
 * do not verify (none, None, HS256, RS384...) gives CC_JOSE_ALG_UNKNOWN. */
cc_jose_alg_t cc_jose_alg_from_name(const char *name, size_t len);

/* "RS256", "PS256", "ES256", "EdDSA", or "unknown"; static storage. */
const char *cc_jose_alg_name(cc_jose_alg_t alg);

#endif /* CC_JOSE_H */
