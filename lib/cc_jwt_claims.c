/*
 * The claim rules of an Entra token once its signature is good: lifetime,
 * audience, tenant and issuer (multi-tenant template rule), and the
 * extraction of the claims nginx passes upstream.
 */

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cc_jwt.h"
#include "cc_jwt_claims.h"
#include "cc_uuid.h"


#define CC_JWT_TEMPLATE_LEN  (sizeof(CC_JWT_TENANT_TEMPLATE) - 1)


static cc_jose_err_t cc_jwt_check_times(const json_t *payload,
    long long leeway, long long now, cc_jwt_claims_t *claims);
static cc_jose_err_t cc_jwt_get_time(const json_t *payload, const char *name,
    long long *value);
static cc_jose_err_t cc_jwt_check_audience(const json_t *payload,
    const cc_jwt_policy_t *policy, cc_jwt_claims_t *claims);
static const char *cc_jwt_accepted_audience(const json_t *aud,
    const cc_jwt_policy_t *policy);
static cc_jose_err_t cc_jwt_check_tenant(const json_t *payload,
    cc_jwt_claims_t *claims);
static cc_jose_err_t cc_jwt_check_issuer(const json_t *payload,
    const cc_jwk_t *key, const cc_jwt_policy_t *policy,
    cc_jwt_claims_t *claims);
static int cc_jwt_issuer_matches(const char *pattern, const char *tid,
    const char *iss, size_t isslen);
static cc_jose_err_t cc_jwt_extract(const json_t *payload,
    cc_jwt_claims_t *claims);
static cc_jose_err_t cc_jwt_get_claim(const json_t *payload, const char *name,
    const char **value);
static cc_jose_err_t cc_jwt_join_roles(const json_t *payload,
    cc_jwt_claims_t *claims);
static int cc_jwt_is_safe_text(const char *s, size_t len);
static int cc_jwt_is_safe_role(const char *s, size_t len);


cc_jose_err_t
cc_jwt_check_claims(json_t *payload, const cc_jwk_t *key,
    const cc_jwt_policy_t *policy, long long now, cc_jwt_claims_t *claims)
{
    cc_jose_err_t  err;

    memset(claims, 0, sizeof(*claims));

    if (!json_is_object(payload)) {
        return CC_JOSE_ERR_BAD_JSON;
    }

    err = cc_jwt_check_times(payload, policy->leeway, now, claims);
    if (err == CC_JOSE_OK) {
        err = cc_jwt_check_audience(payload, policy, claims);
    }
    if (err == CC_JOSE_OK) {
        err = cc_jwt_check_tenant(payload, claims);
    }
    if (err == CC_JOSE_OK) {
        err = cc_jwt_check_issuer(payload, key, policy, claims);
    }
    if (err == CC_JOSE_OK) {
        err = cc_jwt_extract(payload, claims);
    }

    if (err != CC_JOSE_OK) {
        cc_jwt_claims_free(claims);
        return err;
    }

    claims->payload = json_incref(payload);
    return CC_JOSE_OK;
}


/*
 * RFC 7519 4.1.4/4.1.5 with the skew Entra recommends: valid while
 * nbf <= now + leeway and now - leeway < exp.  exp is required (a token
 * that never expires is not one we accept); iat is type-checked only.
 * The caller bounds now and leeway, so neither sum can overflow.
 */
static cc_jose_err_t
cc_jwt_check_times(const json_t *payload, long long leeway, long long now,
    cc_jwt_claims_t *claims)
{
    cc_jose_err_t  err;

    if (json_object_get(payload, "exp") == NULL) {
        return CC_JOSE_ERR_MISSING_EXP;
    }
    if ((err = cc_jwt_get_time(payload, "exp", &claims->exp)) != CC_JOSE_OK
        || (err = cc_jwt_get_time(payload, "nbf", &claims->nbf)) != CC_JOSE_OK
        || (err = cc_jwt_get_time(payload, "iat", &claims->iat)) != CC_JOSE_OK)
    {
        return err;
    }

    if (claims->exp <= now - leeway) {
        return CC_JOSE_ERR_EXPIRED;
    }
    if (json_object_get(payload, "nbf") != NULL
        && claims->nbf > now + leeway)
    {
        return CC_JOSE_ERR_NOT_YET_VALID;
    }
    return CC_JOSE_OK;
}


/* NumericDate as an integer: Entra never sends fractions, and accepting
 * reals would bring rounding into a security decision. */
static cc_jose_err_t
cc_jwt_get_time(const json_t *payload, const char *name, long long *value)
{
    const json_t  *v;

    *value = 0;
    v = json_object_get(payload, name);
    if (v == NULL) {
        return CC_JOSE_OK;
    }
    if (!json_is_integer(v)) {
        return CC_JOSE_ERR_BAD_CLAIM;
    }
    *value = (long long) json_integer_value(v);
    return CC_JOSE_OK;
}


static cc_jose_err_t
cc_jwt_check_audience(const json_t *payload, const cc_jwt_policy_t *policy,
    cc_jwt_claims_t *claims)
{
    const json_t  *aud;
    size_t         i;

    aud = json_object_get(payload, "aud");

    if (json_is_string(aud)) {
        claims->aud = cc_jwt_accepted_audience(aud, policy);
        return claims->aud ? CC_JOSE_OK : CC_JOSE_ERR_BAD_AUDIENCE;
    }

    if (!json_is_array(aud) || json_array_size(aud) == 0
        || json_array_size(aud) > CC_JWT_MAX_AUDIENCES)
    {
        return CC_JOSE_ERR_BAD_AUDIENCE;
    }

    /* RFC 7519 4.1.3: we must be one of the audiences; a malformed member
     * spoils the whole claim. */
    for (i = 0; i < json_array_size(aud); i++) {
        if (!json_is_string(json_array_get(aud, i))) {
            return CC_JOSE_ERR_BAD_AUDIENCE;
        }
    }
    for (i = 0; i < json_array_size(aud); i++) {
        claims->aud = cc_jwt_accepted_audience(json_array_get(aud, i), policy);
        if (claims->aud != NULL) {
            return CC_JOSE_OK;
        }
    }
    return CC_JOSE_ERR_BAD_AUDIENCE;
}


/* The token's own string if it equals an accepted audience, else NULL. */
static const char *
cc_jwt_accepted_audience(const json_t *aud, const cc_jwt_policy_t *policy)
{
    const char  *s;
    size_t       len, i;

    s = json_string_value(aud);
    len = json_string_length(aud);
    if (len > CC_JWT_MAX_CLAIM_LEN || !cc_jwt_is_safe_text(s, len)) {
        return NULL;
    }

    for (i = 0; i < policy->n_audiences; i++) {
        if (strlen(policy->audiences[i]) == len
            && memcmp(policy->audiences[i], s, len) == 0)
        {
            return s;
        }
    }
    return NULL;
}


static cc_jose_err_t
cc_jwt_check_tenant(const json_t *payload, cc_jwt_claims_t *claims)
{
    const json_t  *tid;

    tid = json_object_get(payload, "tid");
    if (!json_is_string(tid)
        || cc_uuid_normalise(json_string_value(tid), json_string_length(tid),
                             claims->tid) != 0)
    {
        return CC_JOSE_ERR_BAD_TID;
    }
    return CC_JOSE_OK;
}


/*
 * iss must equal one accepted issuer once "{tenantid}" is replaced by the
 * token's tid, which ties the issuer to the tenant the token claims to
 * come from.  A key that carries its own issuer (Entra's common JWKS does)
 * may only sign for that issuer, so a key published for one tenant or for
 * personal accounts cannot vouch for another.
 */
static cc_jose_err_t
cc_jwt_check_issuer(const json_t *payload, const cc_jwk_t *key,
    const cc_jwt_policy_t *policy, cc_jwt_claims_t *claims)
{
    const json_t  *iss;
    const char    *s;
    size_t         len, i;

    iss = json_object_get(payload, "iss");
    if (!json_is_string(iss)) {
        return CC_JOSE_ERR_BAD_ISSUER;
    }
    s = json_string_value(iss);
    len = json_string_length(iss);
    if (len > CC_JWT_MAX_CLAIM_LEN || !cc_jwt_is_safe_text(s, len)) {
        return CC_JOSE_ERR_BAD_ISSUER;
    }

    for (i = 0; i < policy->n_issuers; i++) {
        if (cc_jwt_issuer_matches(policy->issuers[i], claims->tid, s, len)) {
            break;
        }
    }
    if (i == policy->n_issuers) {
        return CC_JOSE_ERR_BAD_ISSUER;
    }

    if (key != NULL && key->issuer != NULL
        && !cc_jwt_issuer_matches(key->issuer, claims->tid, s, len))
    {
        return CC_JOSE_ERR_KEY_ISSUER_MISMATCH;
    }

    claims->iss = s;
    return CC_JOSE_OK;
}


/* Compares iss with pattern, reading each "{tenantid}" in the pattern as
 * tid, without building the expected string. */
static int
cc_jwt_issuer_matches(const char *pattern, const char *tid, const char *iss,
    size_t isslen)
{
    size_t  i, tidlen;

    tidlen = strlen(tid);
    i = 0;
    while (*pattern != '\0') {
        if (strncmp(pattern, CC_JWT_TENANT_TEMPLATE, CC_JWT_TEMPLATE_LEN)
            == 0)
        {
            if (isslen - i < tidlen || memcmp(iss + i, tid, tidlen) != 0) {
                return 0;
            }
            i += tidlen;
            pattern += CC_JWT_TEMPLATE_LEN;
            continue;
        }
        if (i == isslen || iss[i] != *pattern) {
            return 0;
        }
        i++;
        pattern++;
    }
    return i == isslen;
}


static cc_jose_err_t
cc_jwt_extract(const json_t *payload, cc_jwt_claims_t *claims)
{
    static const char *const  usernames[] = {
        "preferred_username", "upn", "unique_name", NULL
    };
    const char *const        *name;
    const char               *s;
    cc_jose_err_t             err;

    if ((err = cc_jwt_get_claim(payload, "oid", &s)) != CC_JOSE_OK) {
        return err;
    }
    if (s != NULL && cc_uuid_normalise(s, strlen(s), claims->oid) != 0) {
        return CC_JOSE_ERR_BAD_CLAIM;
    }

    if ((err = cc_jwt_get_claim(payload, "sub", &claims->sub)) != CC_JOSE_OK
        || (err = cc_jwt_get_claim(payload, "name", &claims->name))
           != CC_JOSE_OK
        || (err = cc_jwt_get_claim(payload, "ver", &claims->ver))
           != CC_JOSE_OK)
    {
        return err;
    }

    /* Every candidate is checked, the first present one is used. */
    for (name = usernames; *name != NULL; name++) {
        if ((err = cc_jwt_get_claim(payload, *name, &s)) != CC_JOSE_OK) {
            return err;
        }
        if (claims->username == NULL) {
            claims->username = s;
        }
    }

    return cc_jwt_join_roles(payload, claims);
}


/* An optional string claim: absent gives NULL, anything but a short
 * string of printable characters is BAD_CLAIM. */
static cc_jose_err_t
cc_jwt_get_claim(const json_t *payload, const char *name, const char **value)
{
    const json_t  *v;
    size_t         len;

    *value = NULL;
    v = json_object_get(payload, name);
    if (v == NULL) {
        return CC_JOSE_OK;
    }
    if (!json_is_string(v)) {
        return CC_JOSE_ERR_BAD_CLAIM;
    }
    len = json_string_length(v);
    if (len > CC_JWT_MAX_CLAIM_LEN
        || !cc_jwt_is_safe_text(json_string_value(v), len))
    {
        return CC_JOSE_ERR_BAD_CLAIM;
    }
    *value = json_string_value(v);
    return CC_JOSE_OK;
}


static cc_jose_err_t
cc_jwt_join_roles(const json_t *payload, cc_jwt_claims_t *claims)
{
    const json_t  *roles, *role;
    size_t         i, len, total;
    char          *p;

    roles = json_object_get(payload, "roles");
    if (roles != NULL
        && (!json_is_array(roles)
            || json_array_size(roles) > CC_JWT_MAX_ROLES))
    {
        return CC_JOSE_ERR_BAD_CLAIM;
    }

    total = 1;
    for (i = 0; i < json_array_size(roles); i++) {
        role = json_array_get(roles, i);
        if (!json_is_string(role)
            || json_string_length(role) > CC_JWT_MAX_CLAIM_LEN)
        {
            return CC_JOSE_ERR_BAD_CLAIM;
        }
        total += json_string_length(role) + 1;
    }

    claims->roles = malloc(total);
    if (claims->roles == NULL) {
        return CC_JOSE_ERR_INTERNAL;
    }

    p = claims->roles;
    for (i = 0; i < json_array_size(roles); i++) {
        role = json_array_get(roles, i);
        len = json_string_length(role);
        if (!cc_jwt_is_safe_role(json_string_value(role), len)) {
            continue;
        }
        if (p != claims->roles) {
            *p++ = ',';
        }
        memcpy(p, json_string_value(role), len);
        p += len;
        claims->n_roles++;
    }
    *p = '\0';
    return CC_JOSE_OK;
}


/* No NUL and no control characters: safe in a header and a log line. */
static int
cc_jwt_is_safe_text(const char *s, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if ((unsigned char) s[i] < 0x20 || s[i] == 0x7f) {
            return 0;
        }
    }
    return 1;
}


/* A role must survive a comma-separated header intact. */
static int
cc_jwt_is_safe_role(const char *s, size_t len)
{
    size_t  i;

    if (len == 0) {
        return 0;
    }
    for (i = 0; i < len; i++) {
        if ((unsigned char) s[i] <= 0x20 || (unsigned char) s[i] >= 0x7f
            || s[i] == ',')
        {
            return 0;
        }
    }
    return 1;
}
