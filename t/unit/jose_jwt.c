/*
 * cc_jwt_verify on well-formed tokens: each algorithm verifies with its
 * key type, the claims come out as nginx needs them, and the claim rules
 * (lifetime with leeway, audience, tenant, issuer templates, the key's own
 * issuer) hold at their boundaries.
 */

#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "jose_testkit.h"
#include "cc_hash.h"


#define HDR(alg, kid)                                                   \
    "{\"alg\":\"" alg "\",\"typ\":\"JWT\",\"kid\":\"" kid "\"}"


static EVP_PKEY   *rsa, *ec, *ed, *msa;
static cc_jwks_t  *keys;


static cc_jose_err_t
verify_at(const char *token, long long now, cc_jwt_claims_t *claims)
{
    cc_jwt_policy_t  policy = kit_policy();

    return cc_jwt_verify(token, strlen(token), keys, &policy, now, claims);
}


/* Signs header/payload with pkey and checks the outcome; frees all. */
static void
expect(EVP_PKEY *pkey, cc_jose_alg_t alg, const char *header, char *payload,
    long long now, cc_jose_err_t want, const char *why)
{
    cc_jwt_claims_t   claims;
    cc_jose_err_t     got;
    char             *token;

    token = kit_sign(pkey, alg, header, payload);
    got = verify_at(token, now, &claims);
    is_str(cc_jose_strerror(got), cc_jose_strerror(want), "%s", why);
    if (got != CC_JOSE_OK) {
        ok(claims.payload == NULL && claims.roles == NULL
           && claims.tid[0] == '\0', "%s: claims left empty", why);
    }
    cc_jwt_claims_free(&claims);
    free(token);
    free(payload);
}


static void
test_algorithms(void)
{
    expect(rsa, CC_JOSE_ALG_RS256, HDR("RS256", "rsa-1"), kit_payload(""),
           KIT_NOW, CC_JOSE_OK, "RS256 with an RSA key verifies");
    expect(rsa, CC_JOSE_ALG_PS256, HDR("PS256", "rsa-1"), kit_payload(""),
           KIT_NOW, CC_JOSE_OK, "PS256 with an RSA key verifies");
    expect(ec, CC_JOSE_ALG_ES256, HDR("ES256", "ec-1"), kit_payload(""),
           KIT_NOW, CC_JOSE_OK, "ES256 with a P-256 key verifies");
    expect(ed, CC_JOSE_ALG_EDDSA, HDR("EdDSA", "ed-1"), kit_payload(""),
           KIT_NOW, CC_JOSE_OK, "EdDSA with an Ed25519 key verifies");
    expect(rsa, CC_JOSE_ALG_RS256,
           "{\"typ\":\"JWT\",\"alg\":\"RS256\",\"kid\":\"rsa-1\","
           "\"x5t\":\"rsa-1\"}",
           kit_payload(""), KIT_NOW, CC_JOSE_OK,
           "Entra v1 header (x5t beside kid) verifies");
    expect(rsa, CC_JOSE_ALG_RS256,
           "{\"alg\":\"RS256\",\"kid\":\"rsa-1\",\"typ\":\"at+jwt\"}",
           kit_payload(""), KIT_NOW, CC_JOSE_OK, "typ at+jwt is accepted");
    expect(rsa, CC_JOSE_ALG_RS256, "{\"alg\":\"RS256\",\"kid\":\"rsa-1\"}",
           kit_payload(""), KIT_NOW, CC_JOSE_OK, "typ may be absent");
    expect(rsa, CC_JOSE_ALG_RS256,
           "{\"alg\":\"RS256\",\"kid\":\"rsa-1\",\"typ\":\"JOSE\"}",
           kit_payload(""), KIT_NOW, CC_JOSE_ERR_UNSUPPORTED_HEADER,
           "typ other than JWT is refused");
}


static void
test_claims_extracted(void)
{
    cc_jwt_claims_t   claims;
    cc_jose_err_t     err;
    char             *token, *payload;
    const char       *extra;

    extra = ",\"preferred_username\":\"ada@contoso.example\","
            "\"upn\":\"other@contoso.example\",\"name\":\"Ada L\","
            "\"roles\":[\"Tenant.Admin\",\"bad role\",\"a,b\",\"Operator\","
            "\"\"]";
    payload = kit_payload(extra);
    token = kit_sign(rsa, CC_JOSE_ALG_RS256, HDR("RS256", "rsa-1"), payload);
    err = verify_at(token, KIT_NOW, &claims);

    is_str(cc_jose_strerror(err), "ok", "full Entra v2 token verifies");
    is_int(claims.alg, CC_JOSE_ALG_RS256, "alg reported");
    is_str(claims.kid, "rsa-1", "kid reported");
    is_str(claims.tid, KIT_TID, "tid reported");
    is_str(claims.oid, "00000000-0000-0000-66f3-3332eca7ea81", "oid reported");
    is_str(claims.sub, "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ",
           "sub reported");
    is_str(claims.username, "ada@contoso.example",
           "preferred_username wins over upn");
    is_str(claims.name, "Ada L", "name reported");
    is_str(claims.ver, "2.0", "ver reported");
    is_str(claims.aud, KIT_AUD, "accepted audience reported");
    is_str(claims.iss, "https://login.microsoftonline.com/" KIT_TID "/v2.0",
           "iss reported");
    is_str(claims.roles, "Tenant.Admin,Operator",
           "roles joined; roles with space, comma or empty dropped");
    is_int(claims.n_roles, 2, "two roles kept");
    is_int(claims.exp, KIT_NOW + 3600, "exp reported");
    is_int(claims.iat, KIT_NOW - 300, "iat reported");
    ok(json_is_object(claims.payload)
       && json_object_get(claims.payload, "upn") != NULL,
       "raw payload kept for ccctl");
    cc_jwt_claims_free(&claims);
    ok(claims.payload == NULL && claims.roles == NULL,
       "claims_free empties the struct");
    cc_jwt_claims_free(&claims);
    ok(1, "claims_free twice is harmless");
    free(token);
    free(payload);

    /* v1: upn, then unique_name; upper-case tid and oid normalised. */
    payload = strdup("{\"aud\":\"api://" KIT_AUD "\","
                     "\"iss\":\"https://sts.windows.net/" KIT_TID "/\","
                     "\"exp\":1795003600,"
                     "\"tid\":\"72F988BF-86F1-41AF-91AB-2D7CD011DB47\","
                     "\"oid\":\"ABCDEF01-0000-0000-0000-000000000000\","
                     "\"unique_name\":\"u@x.example\",\"ver\":\"1.0\"}");
    token = kit_sign(rsa, CC_JOSE_ALG_RS256, HDR("RS256", "rsa-1"), payload);
    err = verify_at(token, KIT_NOW, &claims);
    is_str(cc_jose_strerror(err), "ok",
           "v1 token (sts.windows.net, api:// audience) verifies");
    is_str(claims.tid, KIT_TID, "upper-case tid is normalised");
    is_str(claims.oid, "abcdef01-0000-0000-0000-000000000000",
           "upper-case oid is normalised");
    is_str(claims.username, "u@x.example", "unique_name used as last resort");
    is_str(claims.roles, "", "no roles is an empty list");
    ok(claims.sub == NULL && claims.name == NULL, "absent claims are NULL");
    cc_jwt_claims_free(&claims);
    free(token);
    free(payload);
}


static void
test_lifetime(void)
{
    /* kit_payload: nbf = NOW-300, exp = NOW+3600; leeway 60. */
    const long long  exp = KIT_NOW + 3600, nbf = KIT_NOW - 300;

    expect(rsa, CC_JOSE_ALG_RS256, HDR("RS256", "rsa-1"), kit_payload(""),
           exp + 59, CC_JOSE_OK, "valid until exp + leeway - 1");
    expect(rsa, CC_JOSE_ALG_RS256, HDR("RS256", "rsa-1"), kit_payload(""),
           exp + 60, CC_JOSE_ERR_EXPIRED, "expired at exp + leeway");
    expect(rsa, CC_JOSE_ALG_RS256, HDR("RS256", "rsa-1"), kit_payload(""),
           nbf - 60, CC_JOSE_OK, "valid from nbf - leeway");
    expect(rsa, CC_JOSE_ALG_RS256, HDR("RS256", "rsa-1"), kit_payload(""),
           nbf - 61, CC_JOSE_ERR_NOT_YET_VALID, "not valid before that");

    expect(rsa, CC_JOSE_ALG_RS256, HDR("RS256", "rsa-1"),
           strdup("{\"aud\":\"" KIT_AUD "\",\"tid\":\"" KIT_TID "\","
                  "\"iss\":\"https://sts.windows.net/" KIT_TID "/\"}"),
           KIT_NOW, CC_JOSE_ERR_MISSING_EXP, "a token without exp is refused");
    expect(rsa, CC_JOSE_ALG_RS256, HDR("RS256", "rsa-1"),
           strdup("{\"exp\":\"1795003600\"}"), KIT_NOW,
           CC_JOSE_ERR_BAD_CLAIM, "exp as a string is refused");
    expect(rsa, CC_JOSE_ALG_RS256, HDR("RS256", "rsa-1"),
           strdup("{\"exp\":1795003600.5}"), KIT_NOW,
           CC_JOSE_ERR_BAD_CLAIM, "fractional exp is refused");
    expect(rsa, CC_JOSE_ALG_RS256, HDR("RS256", "rsa-1"),
           strdup("{\"exp\":1795003600,\"nbf\":null}"), KIT_NOW,
           CC_JOSE_ERR_BAD_CLAIM, "nbf null is refused");
    expect(rsa, CC_JOSE_ALG_RS256, HDR("RS256", "rsa-1"),
           strdup("{\"exp\":-1}"), KIT_NOW, CC_JOSE_ERR_EXPIRED,
           "negative exp is expired");
    expect(rsa, CC_JOSE_ALG_RS256, HDR("RS256", "rsa-1"),
           strdup("{\"exp\":9223372036854775807,\"nbf\":9223372036854775807,"
                  "\"aud\":\"" KIT_AUD "\"}"), KIT_NOW,
           CC_JOSE_ERR_NOT_YET_VALID, "extreme nbf does not overflow");
}


static void
test_audience_and_issuer(void)
{
    char  buf[1024];

    snprintf(buf, sizeof(buf),
             "{\"aud\":[\"other\",\"" KIT_AUD "\"],\"exp\":%lld,"
             "\"tid\":\"" KIT_TID "\","
             "\"iss\":\"https://login.microsoftonline.com/" KIT_TID "/v2.0\"}",
             KIT_NOW + 60);
    expect(rsa, CC_JOSE_ALG_RS256, HDR("RS256", "rsa-1"), strdup(buf),
           KIT_NOW, CC_JOSE_OK, "aud array containing ours verifies");

    snprintf(buf, sizeof(buf),
             "{\"aud\":[],\"exp\":%lld,\"tid\":\"" KIT_TID "\","
             "\"iss\":\"https://login.microsoftonline.com/" KIT_TID "/v2.0\"}",
             KIT_NOW + 60);
    expect(rsa, CC_JOSE_ALG_RS256, HDR("RS256", "rsa-1"), strdup(buf),
           KIT_NOW, CC_JOSE_ERR_BAD_AUDIENCE, "empty aud array is refused");

    snprintf(buf, sizeof(buf),
             "{\"aud\":[\"" KIT_AUD "\",7],\"exp\":%lld,"
             "\"tid\":\"" KIT_TID "\","
             "\"iss\":\"https://login.microsoftonline.com/" KIT_TID "/v2.0\"}",
             KIT_NOW + 60);
    expect(rsa, CC_JOSE_ALG_RS256, HDR("RS256", "rsa-1"), strdup(buf),
           KIT_NOW, CC_JOSE_ERR_BAD_AUDIENCE,
           "aud array with a non-string is refused");

    /* The MSA key carries a fixed issuer: it signs only for that tenant. */
    snprintf(buf, sizeof(buf),
             "{\"aud\":\"" KIT_AUD "\",\"exp\":%lld,"
             "\"tid\":\"" KIT_MSA_TID "\","
             "\"iss\":\"https://login.microsoftonline.com/" KIT_MSA_TID
             "/v2.0\"}", KIT_NOW + 60);
    expect(msa, CC_JOSE_ALG_RS256, HDR("RS256", "msa-1"), strdup(buf),
           KIT_NOW, CC_JOSE_OK, "fixed-issuer key signs for its tenant");
    expect(msa, CC_JOSE_ALG_RS256, HDR("RS256", "msa-1"), kit_payload(""),
           KIT_NOW, CC_JOSE_ERR_KEY_ISSUER_MISMATCH,
           "fixed-issuer key cannot sign for another tenant");

    /* The template key refuses a v1 issuer: its template is v2. */
    snprintf(buf, sizeof(buf),
             "{\"aud\":\"" KIT_AUD "\",\"exp\":%lld,\"tid\":\"" KIT_TID "\","
             "\"iss\":\"https://sts.windows.net/" KIT_TID "/\"}",
             KIT_NOW + 60);
    expect(rsa, CC_JOSE_ALG_RS256, HDR("RS256", "rsa-1"), strdup(buf),
           KIT_NOW, CC_JOSE_OK, "key without issuer accepts v1 issuer");
    expect(ec, CC_JOSE_ALG_ES256, HDR("ES256", "ec-1"), strdup(buf),
           KIT_NOW, CC_JOSE_ERR_KEY_ISSUER_MISMATCH,
           "key with a v2 issuer template refuses a v1 issuer");

    snprintf(buf, sizeof(buf),
             "{\"aud\":\"" KIT_AUD "\",\"exp\":%lld,\"tid\":\"" KIT_TID "\","
             "\"iss\":\"https://sts.windows.net/" KIT_TID "/\","
             "\"oid\":\"not-a-guid\"}", KIT_NOW + 60);
    expect(rsa, CC_JOSE_ALG_RS256, HDR("RS256", "rsa-1"), strdup(buf),
           KIT_NOW, CC_JOSE_ERR_BAD_CLAIM, "oid that is not a GUID");

    expect(rsa, CC_JOSE_ALG_RS256, HDR("RS256", "rsa-1"),
           kit_payload(",\"name\":\"Ada\\r\\nX-CC-Tenant: evil\""), KIT_NOW,
           CC_JOSE_ERR_BAD_CLAIM, "name with CR/LF (header injection)");
    expect(rsa, CC_JOSE_ALG_RS256, HDR("RS256", "rsa-1"),
           kit_payload(",\"upn\":42"), KIT_NOW, CC_JOSE_ERR_BAD_CLAIM,
           "upn that is not a string");
    expect(rsa, CC_JOSE_ALG_RS256, HDR("RS256", "rsa-1"),
           kit_payload(",\"roles\":\"admin\""), KIT_NOW,
           CC_JOSE_ERR_BAD_CLAIM, "roles that is not an array");
    expect(rsa, CC_JOSE_ALG_RS256, HDR("RS256", "rsa-1"),
           kit_payload(",\"roles\":[\"a\",1]"), KIT_NOW,
           CC_JOSE_ERR_BAD_CLAIM, "roles with a non-string member");
}


static void
test_policy(void)
{
    cc_jwt_policy_t   policy;
    cc_jwt_claims_t   claims;
    char             *token, *payload;
    cc_jose_err_t     err;

    payload = kit_payload("");
    token = kit_sign(rsa, CC_JOSE_ALG_RS256, HDR("RS256", "rsa-1"), payload);

    policy = kit_policy();
    policy.n_audiences = 0;
    err = cc_jwt_verify(token, strlen(token), keys, &policy, KIT_NOW, &claims);
    is_str(cc_jose_strerror(err), "invalid_argument",
           "no accepted audience fails closed");

    policy = kit_policy();
    policy.n_issuers = 0;
    err = cc_jwt_verify(token, strlen(token), keys, &policy, KIT_NOW, &claims);
    is_str(cc_jose_strerror(err), "invalid_argument",
           "no accepted issuer fails closed");

    policy = kit_policy();
    policy.leeway = 301;
    err = cc_jwt_verify(token, strlen(token), keys, &policy, KIT_NOW, &claims);
    is_str(cc_jose_strerror(err), "invalid_argument",
           "leeway over 300 s is refused");

    policy = kit_policy();
    err = cc_jwt_verify(token, strlen(token), keys, &policy, -1, &claims);
    is_str(cc_jose_strerror(err), "invalid_argument",
           "negative clock is refused");

    policy = kit_policy();
    policy.max_len = strlen(token) - 1;
    err = cc_jwt_verify(token, strlen(token), keys, &policy, KIT_NOW, &claims);
    is_str(cc_jose_strerror(err), "token_too_large",
           "configurable size limit applies");
    policy.max_len = strlen(token);
    err = cc_jwt_verify(token, strlen(token), keys, &policy, KIT_NOW, &claims);
    is_str(cc_jose_strerror(err), "ok", "a token exactly at the limit passes");
    cc_jwt_claims_free(&claims);

    policy = kit_policy();
    policy.issuers = (const char *const[]) {
        "https://login.microsoftonline.com/" KIT_TID "/v2.0"
    };
    policy.n_issuers = 1;
    err = cc_jwt_verify(token, strlen(token), keys, &policy, KIT_NOW, &claims);
    is_str(cc_jose_strerror(err), "ok", "single-tenant literal issuer works");
    cc_jwt_claims_free(&claims);

    policy.issuers = (const char *const[]) {
        "https://login.microsoftonline.com/" KIT_OTHER_TID "/v2.0"
    };
    err = cc_jwt_verify(token, strlen(token), keys, &policy, KIT_NOW, &claims);
    is_str(cc_jose_strerror(err), "bad_issuer",
           "single-tenant policy refuses other tenants");

    free(token);
    free(payload);
}


static void
test_algorithm_policy(void)
{
    cc_jwt_policy_t   policy;
    cc_jwt_claims_t   claims;
    char             *payload, *rs, *ps;
    cc_jose_err_t     err;

    payload = kit_payload("");
    rs = kit_sign(rsa, CC_JOSE_ALG_RS256, HDR("RS256", "rsa-1"), payload);
    ps = kit_sign(rsa, CC_JOSE_ALG_PS256, HDR("PS256", "rsa-1"), payload);

    policy = kit_policy();
    policy.algs = CC_JOSE_ALG_BIT(CC_JOSE_ALG_RS256);
    err = cc_jwt_verify(rs, strlen(rs), keys, &policy, KIT_NOW, &claims);
    is_str(cc_jose_strerror(err), "ok", "RS256-only policy accepts RS256");
    cc_jwt_claims_free(&claims);
    err = cc_jwt_verify(ps, strlen(ps), keys, &policy, KIT_NOW, &claims);
    is_str(cc_jose_strerror(err), "alg_not_allowed",
           "RS256-only policy refuses PS256 with the same key");

    policy.algs = CC_JOSE_ALG_BIT(CC_JOSE_ALG_PS256)
                  | CC_JOSE_ALG_BIT(CC_JOSE_ALG_ES256);
    err = cc_jwt_verify(ps, strlen(ps), keys, &policy, KIT_NOW, &claims);
    is_str(cc_jose_strerror(err), "ok", "a policy of two algorithms works");
    cc_jwt_claims_free(&claims);

    free(rs);
    free(ps);
    free(payload);
}


static void
test_cache_key(void)
{
    char   *payload, *t1, *t2;
    char    h1[CC_SHA256_HEX_LEN + 1], h2[CC_SHA256_HEX_LEN + 1];

    payload = kit_payload("");
    t1 = kit_sign(rsa, CC_JOSE_ALG_RS256, HDR("RS256", "rsa-1"), payload);
    t2 = kit_sign(rsa, CC_JOSE_ALG_PS256, HDR("PS256", "rsa-1"), payload);
    cc_sha256_hex(t1, strlen(t1), h1);
    cc_sha256_hex(t2, strlen(t2), h2);
    ok(strlen(h1) == 64 && strcmp(h1, h2) != 0,
       "different tokens with the same claims hash differently");
    cc_sha256_hex(t1, strlen(t1), h2);
    is_str(h1, h2, "the same token hashes the same");
    free(t1);
    free(t2);
    free(payload);
}


int
main(void)
{
    json_t  *k[4];

    rsa = kit_keygen("RSA");
    ec = kit_keygen("EC");
    ed = kit_keygen("ED25519");
    msa = kit_keygen("RSA");

    k[0] = kit_jwk(rsa, "rsa-1", NULL);
    k[1] = kit_jwk(ec, "ec-1", "{\"alg\":\"ES256\",\"issuer\":\""
                   KIT_ISS_V2 "\"}");
    k[2] = kit_jwk(ed, "ed-1", NULL);
    k[3] = kit_jwk(msa, "msa-1", "{\"issuer\":"
                   "\"https://login.microsoftonline.com/" KIT_MSA_TID
                   "/v2.0\"}");
    keys = kit_jwks(k, 4);

    test_algorithms();
    test_claims_extracted();
    test_lifetime();
    test_audience_and_issuer();
    test_policy();
    test_algorithm_policy();
    test_cache_key();

    cc_jwks_free(keys);
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(ec);
    EVP_PKEY_free(ed);
    EVP_PKEY_free(msa);
    return done_testing();
}
