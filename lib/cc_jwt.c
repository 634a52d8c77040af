/*
 * Compact JWS verification: everything about a token up to and including
 * its signature.  The order is deliberate: cheap structural checks first,
 * then the header (which decides the key and algorithm), then the
 * signature, and only then is the payload parsed as JSON.
 */

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cc_base64.h"
#include "cc_jwt.h"
#include "cc_jwt_claims.h"
#include "cc_sig.h"


#define CC_JWT_MAX_NOW  (1LL << 62)


typedef struct {
    const char  *at;
    size_t       len;
} cc_jwt_segment_t;

typedef struct {
    unsigned char  *data;
    size_t          len;
} cc_jwt_decoded_t;


static cc_jose_err_t cc_jwt_check_policy(const cc_jwt_policy_t *policy,
    long long now);
static cc_jose_err_t cc_jwt_split(const char *token, size_t len,
    cc_jwt_segment_t seg[3]);
static cc_jose_err_t cc_jwt_decode_all(const cc_jwt_segment_t seg[3],
    unsigned char *buf, cc_jwt_decoded_t part[3]);
static cc_jose_err_t cc_jwt_parse_object(const unsigned char *json,
    size_t len, json_t **obj);
static cc_jose_err_t cc_jwt_check_header(const json_t *header,
    cc_jose_alg_t *alg, const char **kid, size_t *kidlen);
static cc_jose_err_t cc_jwt_check_content_headers(const json_t *header);
static cc_jose_err_t cc_jwt_select_key(const cc_jwks_t *keys,
    cc_jose_alg_t alg, const char *kid, size_t kidlen,
    const cc_jwk_t **key);
static int cc_jwt_string_is_one_of(const json_t *v, const char *const *names);
static int cc_jwt_ascii_caseeq(const char *a, const char *b);


cc_jose_err_t
cc_jwt_verify(const char *token, size_t len, const cc_jwks_t *keys,
    const cc_jwt_policy_t *policy, long long now, cc_jwt_claims_t *claims)
{
    cc_jwt_segment_t   seg[3];
    cc_jose_err_t      err;
    cc_jwt_decoded_t   part[3];
    unsigned char     *buf;
    size_t             max;
    json_t            *header, *payload;
    cc_jose_alg_t      alg;
    const char        *kid;
    size_t             kidlen;
    const cc_jwk_t    *key;

    memset(claims, 0, sizeof(*claims));

    err = cc_jwt_check_policy(policy, now);
    if (err != CC_JOSE_OK) {
        return err;
    }

    /* The size limit comes before any decoding or allocation. */
    max = policy->max_len ? policy->max_len : CC_JWT_DEFAULT_MAX_LEN;
    if (len > max) {
        return CC_JOSE_ERR_TOKEN_TOO_LARGE;
    }

    err = cc_jwt_split(token, len, seg);
    if (err != CC_JOSE_OK) {
        return err;
    }

    /* One buffer for the three decoded segments: together they are
     * shorter than the token. */
    buf = malloc(len + 9);
    if (buf == NULL) {
        return CC_JOSE_ERR_INTERNAL;
    }
    err = cc_jwt_decode_all(seg, buf, part);
    if (err != CC_JOSE_OK) {
        free(buf);
        return err;
    }

    header = NULL;
    payload = NULL;

    err = cc_jwt_parse_object(part[0].data, part[0].len, &header);
    if (err == CC_JOSE_OK) {
        err = cc_jwt_check_header(header, &alg, &kid, &kidlen);
    }
    if (err == CC_JOSE_OK && policy->algs != 0
        && (policy->algs & CC_JOSE_ALG_BIT(alg)) == 0)
    {
        err = CC_JOSE_ERR_ALG_NOT_ALLOWED;
    }
    if (err == CC_JOSE_OK) {
        err = cc_jwt_select_key(keys, alg, kid, kidlen, &key);
    }

    /* The signing input is the first two segments exactly as sent. */
    if (err == CC_JOSE_OK) {
        err = cc_sig_verify(key->pkey, alg, (const unsigned char *) token,
                            seg[0].len + 1 + seg[1].len,
                            part[2].data, part[2].len);
    }

    if (err == CC_JOSE_OK) {
        err = cc_jwt_parse_object(part[1].data, part[1].len, &payload);
    }
    if (err == CC_JOSE_OK) {
        err = cc_jwt_check_claims(payload, key, policy, now, claims);
    }
    if (err == CC_JOSE_OK) {
        claims->alg = alg;
        memcpy(claims->kid, kid, kidlen);
        claims->kid[kidlen] = '\0';
    }

    json_decref(payload);
    json_decref(header);
    free(buf);
    return err;
}


void
cc_jwt_claims_free(cc_jwt_claims_t *claims)
{
    free(claims->roles);
    json_decref(claims->payload);
    memset(claims, 0, sizeof(*claims));
}


static cc_jose_err_t
cc_jwt_check_policy(const cc_jwt_policy_t *policy, long long now)
{
    size_t  i;

    if (policy == NULL || policy->n_issuers == 0 || policy->issuers == NULL
        || policy->n_audiences == 0 || policy->audiences == NULL
        || policy->leeway < 0 || policy->leeway > CC_JWT_MAX_LEEWAY
        || now < 0 || now >= CC_JWT_MAX_NOW)
    {
        return CC_JOSE_ERR_INVALID_ARGUMENT;
    }
    for (i = 0; i < policy->n_issuers; i++) {
        if (policy->issuers[i] == NULL || policy->issuers[i][0] == '\0') {
            return CC_JOSE_ERR_INVALID_ARGUMENT;
        }
    }
    for (i = 0; i < policy->n_audiences; i++) {
        if (policy->audiences[i] == NULL || policy->audiences[i][0] == '\0') {
            return CC_JOSE_ERR_INVALID_ARGUMENT;
        }
    }
    return CC_JOSE_OK;
}


/*
 * Exactly three dot-separated segments; header and payload non-empty.  An
 * empty signature is let through so that "alg":"none" tokens are refused
 * for their algorithm (the more useful answer) and any other algorithm
 * fails on the signature.
 */
static cc_jose_err_t
cc_jwt_split(const char *token, size_t len, cc_jwt_segment_t seg[3])
{
    size_t  i, n, start;

    n = 0;
    start = 0;
    for (i = 0; i <= len; i++) {
        if (i < len && token[i] != '.') {
            continue;
        }
        if (n == 3) {
            return CC_JOSE_ERR_MALFORMED;
        }
        seg[n].at = token + start;
        seg[n].len = i - start;
        n++;
        start = i + 1;
    }

    if (n != 3 || seg[0].len == 0 || seg[1].len == 0) {
        return CC_JOSE_ERR_MALFORMED;
    }
    return CC_JOSE_OK;
}


/* Decodes the segments one after another into buf. */
static cc_jose_err_t
cc_jwt_decode_all(const cc_jwt_segment_t seg[3], unsigned char *buf,
    cc_jwt_decoded_t part[3])
{
    size_t  i;

    for (i = 0; i < 3; i++) {
        part[i].data = buf;
        if (cc_base64url_decode(seg[i].at, seg[i].len, part[i].data,
                                &part[i].len) != 0)
        {
            return CC_JOSE_ERR_BAD_BASE64;
        }
        buf += part[i].len;
    }
    return CC_JOSE_OK;
}


static cc_jose_err_t
cc_jwt_parse_object(const unsigned char *json, size_t len, json_t **obj)
{
    json_error_t  error;

    *obj = json_loadb((const char *) json, len, JSON_REJECT_DUPLICATES,
                      &error);
    if (*obj == NULL) {
        return json_error_code(&error) == json_error_duplicate_key
               ? CC_JOSE_ERR_DUPLICATE_KEY : CC_JOSE_ERR_BAD_JSON;
    }
    if (!json_is_object(*obj)) {
        json_decref(*obj);
        *obj = NULL;
        return CC_JOSE_ERR_BAD_JSON;
    }
    return CC_JOSE_OK;
}


static cc_jose_err_t
cc_jwt_check_header(const json_t *header, cc_jose_alg_t *alg,
    const char **kid, size_t *kidlen)
{
    static const char *const  embedded_keys[] = {
        "jku", "x5u", "jwk", "x5c", NULL
    };
    const json_t             *v;
    const char *const        *name;
    cc_jose_err_t             err;

    v = json_object_get(header, "alg");
    if (!json_is_string(v)) {
        return CC_JOSE_ERR_ALG_NOT_ALLOWED;
    }
    *alg = cc_jose_alg_from_name(json_string_value(v), json_string_length(v));
    if (*alg == CC_JOSE_ALG_UNKNOWN) {
        return CC_JOSE_ERR_ALG_NOT_ALLOWED;
    }

    /* We understand no extension, so RFC 7515 4.1.11 says refuse. */
    if (json_object_get(header, "crit") != NULL) {
        return CC_JOSE_ERR_CRIT;
    }

    /* Keys named by the token itself would let the token vouch for
     * itself; only the configured JWKS counts. */
    for (name = embedded_keys; *name != NULL; name++) {
        if (json_object_get(header, *name) != NULL) {
            return CC_JOSE_ERR_EMBEDDED_KEY;
        }
    }

    err = cc_jwt_check_content_headers(header);
    if (err != CC_JOSE_OK) {
        return err;
    }

    v = json_object_get(header, "kid");
    if (v == NULL) {
        return CC_JOSE_ERR_MISSING_KID;
    }
    if (!json_is_string(v)) {
        return CC_JOSE_ERR_UNSUPPORTED_HEADER;
    }
    *kid = json_string_value(v);
    *kidlen = json_string_length(v);
    return CC_JOSE_OK;
}


/* typ, cty and the members that only make sense for encrypted or
 * unencoded payloads. */
static cc_jose_err_t
cc_jwt_check_content_headers(const json_t *header)
{
    static const char *const  typs[] = {
        "JWT", "application/jwt", "at+jwt", "application/at+jwt", NULL
    };
    static const char *const  nested[] = {
        "JWT", "application/jwt", NULL
    };
    static const char *const  unsupported[] = {
        "zip", "enc", "b64", NULL
    };
    const char *const        *name;
    const json_t             *v;

    for (name = unsupported; *name != NULL; name++) {
        if (json_object_get(header, *name) != NULL) {
            return CC_JOSE_ERR_UNSUPPORTED_HEADER;
        }
    }

    v = json_object_get(header, "cty");
    if (v != NULL) {
        return cc_jwt_string_is_one_of(v, nested)
               ? CC_JOSE_ERR_NESTED_JWT : CC_JOSE_ERR_UNSUPPORTED_HEADER;
    }

    v = json_object_get(header, "typ");
    if (v != NULL && !cc_jwt_string_is_one_of(v, typs)) {
        return CC_JOSE_ERR_UNSUPPORTED_HEADER;
    }
    return CC_JOSE_OK;
}


static cc_jose_err_t
cc_jwt_select_key(const cc_jwks_t *keys, cc_jose_alg_t alg, const char *kid,
    size_t kidlen, const cc_jwk_t **key)
{
    if (kidlen > CC_JWK_KID_MAX) {
        return CC_JOSE_ERR_UNKNOWN_KID;
    }

    *key = cc_jwks_find(keys, kid, kidlen);
    if (*key == NULL) {
        return CC_JOSE_ERR_UNKNOWN_KID;
    }

    /* A JWK that names its algorithm is pinned to it (RFC 7517 4.4);
     * otherwise the key type decides, in cc_sig_verify. */
    if ((*key)->alg != CC_JOSE_ALG_UNKNOWN && (*key)->alg != alg) {
        return CC_JOSE_ERR_ALG_KEY_MISMATCH;
    }
    return CC_JOSE_OK;
}


/* Media type names compare without regard to case (RFC 7515 4.1.9). */
static int
cc_jwt_string_is_one_of(const json_t *v, const char *const *names)
{
    const char  *s;

    if (!json_is_string(v)) {
        return 0;
    }
    s = json_string_value(v);
    if (strlen(s) != json_string_length(v)) {
        return 0;
    }
    for (; *names != NULL; names++) {
        if (cc_jwt_ascii_caseeq(s, *names)) {
            return 1;
        }
    }
    return 0;
}


static int
cc_jwt_ascii_caseeq(const char *a, const char *b)
{
    unsigned char  ca, cb;

    for (;; a++, b++) {
        ca = (unsigned char) *a;
        cb = (unsigned char) *b;
        if (ca >= 'A' && ca <= 'Z') {
            ca = (unsigned char) (ca - 'A' + 'a');
        }
        if (cb >= 'A' && cb <= 'Z') {
            cb = (unsigned char) (cb - 'A' + 'a');
        }
        if (ca != cb) {
            return 0;
        }
        if (ca == '\0') {
            return 1;
        }
    }
}
