/*
 * Verifying a compact JWS carrying an Entra ID token: shape, header rules,
 * key choice by kid, signature, then the claims (cc_jwt_claims.h), and
 * handing the caller the claims nginx turns into identity headers.
 */

#ifndef CC_JWT_H
#define CC_JWT_H

#include <stddef.h>

#include <jansson.h>

#include "cc_jose.h"
#include "cc_jwk.h"
#include "cc_jwks.h"
#include "cc_uuid.h"

#define CC_JWT_DEFAULT_MAX_LEN  16384   /* bytes of compact token */
#define CC_JWT_MAX_LEEWAY       300     /* seconds; Entra advises <= 5 min */
#define CC_JWT_MAX_AUDIENCES    16      /* members of an "aud" array */
#define CC_JWT_MAX_ROLES        64
#define CC_JWT_MAX_CLAIM_LEN    1024    /* bytes of any string we expose */
#define CC_JWT_TENANT_TEMPLATE  "{tenantid}"

/*
 * What the caller accepts.  Nothing is optional: with no issuer or no
 * audience every token fails (INVALID_ARGUMENT), so a configuration slip
 * cannot turn checks off.  Issuers may contain CC_JWT_TENANT_TEMPLATE,
 * replaced by the token's tid (lower case) before an exact comparison,
 * e.g. "https://login.microsoftonline.com/{tenantid}/v2.0" and
 * "https://sts.windows.net/{tenantid}/".  algs narrows the algorithms
 * (Entra signs with RS256 only, so CC_JOSE_ALG_BIT(CC_JOSE_ALG_RS256) is
 * the tightest useful setting); 0 allows all four.  The strings are only
 * read during the call.
 */
typedef struct {
    size_t              max_len;        /* 0 means CC_JWT_DEFAULT_MAX_LEN */
    long long           leeway;         /* 0..CC_JWT_MAX_LEEWAY seconds */
    unsigned            algs;           /* CC_JOSE_ALG_BIT()s; 0: any */
    const char *const  *issuers;
    size_t              n_issuers;
    const char *const  *audiences;
    size_t              n_audiences;
} cc_jwt_policy_t;

/*
 * The verified claims.  The const char * members point into payload and
 * live until cc_jwt_claims_free; NULL means the claim was absent.  Every
 * exposed string is at most CC_JWT_MAX_CLAIM_LEN bytes without control
 * characters, so it can go into a header as is.  username and name are
 * personal data: never log them unless log_pii is on.
 */
typedef struct {
    cc_jose_alg_t   alg;
    char            kid[CC_JWK_KID_MAX + 1];
    char            tid[CC_UUID_STR_LEN + 1];   /* lower case, always set */
    char            oid[CC_UUID_STR_LEN + 1];   /* lower case, "" if absent */
    const char     *sub;
    const char     *username;   /* preferred_username, else upn, else
                                   unique_name */
    const char     *name;
    const char     *ver;
    const char     *iss;
    const char     *aud;        /* the token's audience that we accepted */
    char           *roles;      /* "a,b": the roles made only of printable
                                   ASCII other than space and comma (others
                                   are dropped, never granted); "" if none;
                                   owned */
    size_t          n_roles;
    long long       exp;
    long long       iat;        /* 0 if absent */
    long long       nbf;        /* 0 if absent */
    json_t         *payload;    /* the whole verified payload, owned */
} cc_jwt_claims_t;

/*
 * Verifies token[0..len) at time now (Unix seconds, 0 <= now < 2^62; the
 * caller passes the clock so tests can move it).  On CC_JOSE_OK *claims is
 * filled and must be released with cc_jwt_claims_free; on any error it is
 * left empty (freeing it anyway is harmless).
 *
 * The kid is required: a token without one is refused (MISSING_KID) even
 * when the set holds a single key, so that adding a key to the set never
 * changes which tokens verify.  An UNKNOWN_KID answer is the caller's cue
 * to refresh the JWKS (rate-limited) and try once more.
 *
 * Reentrant: no global state; keys is only read.
 */
cc_jose_err_t cc_jwt_verify(const char *token, size_t len,
    const cc_jwks_t *keys, const cc_jwt_policy_t *policy, long long now,
    cc_jwt_claims_t *claims);

/* Releases what a successful verification handed out; idempotent. */
void cc_jwt_claims_free(cc_jwt_claims_t *claims);

#endif /* CC_JWT_H */
