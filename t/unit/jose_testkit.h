/*
 * Shared fixtures for the JOSE unit tests: fresh keys, JWKS documents
 * built from them, tokens signed from raw header/payload text, and a
 * policy shaped like the platform's (Entra v1 and v2 issuers).
 * Header-only; include after tap.h.
 */

#ifndef CC_JOSE_TESTKIT_H
#define CC_JOSE_TESTKIT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "cc_base64.h"
#include "cc_jose.h"
#include "cc_jwk.h"
#include "cc_jwks.h"
#include "cc_jwt.h"
#include "cc_jwt_sign.h"

#define KIT_TID       "72f988bf-86f1-41af-91ab-2d7cd011db47"
#define KIT_OTHER_TID "0b2e4c9a-1d3f-4e5a-9b8c-7d6e5f4a3b2c"
#define KIT_MSA_TID   "9188040d-6c67-4c5b-b112-36a304b66dad"
#define KIT_AUD       "6e74172b-be56-4843-9ff4-e66a39bb12e3"
#define KIT_ISS_V2    "https://login.microsoftonline.com/{tenantid}/v2.0"
#define KIT_ISS_V1    "https://sts.windows.net/{tenantid}/"
#define KIT_NOW       1795000000LL

static const char *const  kit_issuers[] = { KIT_ISS_V2, KIT_ISS_V1 };
static const char *const  kit_audiences[] = { KIT_AUD, "api://" KIT_AUD };


static inline EVP_PKEY *
kit_keygen(const char *type)
{
    EVP_PKEY  *pkey;

    if (strcmp(type, "RSA") == 0) {
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 2048);
    } else if (strcmp(type, "RSA1024") == 0) {
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 1024);
    } else if (strcmp(type, "EC") == 0) {
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    } else if (strcmp(type, "EC384") == 0) {
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    } else {
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, type);
    }
    if (pkey == NULL) {
        fprintf(stderr, "keygen %s failed\n", type);
        exit(2);
    }
    return pkey;
}


static inline cc_jwt_policy_t
kit_policy(void)
{
    cc_jwt_policy_t  p;

    memset(&p, 0, sizeof(p));
    p.leeway = 60;
    p.issuers = kit_issuers;
    p.n_issuers = 2;
    p.audiences = kit_audiences;
    p.n_audiences = 2;
    return p;
}


/* The public JWK of pkey as a JSON object, with extra members merged in
 * from extra_json (may be NULL). */
static inline json_t *
kit_jwk(EVP_PKEY *pkey, const char *kid, const char *extra_json)
{
    json_t  *jwk, *extra;

    if (cc_jwk_export(pkey, kid, CC_JOSE_ALG_UNKNOWN, &jwk) != CC_JOSE_OK) {
        fprintf(stderr, "cc_jwk_export failed\n");
        exit(2);
    }
    if (extra_json != NULL) {
        extra = json_loads(extra_json, 0, NULL);
        if (extra == NULL) {
            fprintf(stderr, "bad extra json: %s\n", extra_json);
            exit(2);
        }
        json_object_update(jwk, extra);
        json_decref(extra);
    }
    return jwk;
}


/* A JWKS document (malloc'ed text) holding the given JWKs (consumed). */
static inline char *
kit_jwks_doc(json_t **jwks, size_t n)
{
    json_t  *root, *keys;
    char    *doc;
    size_t   i;

    root = json_object();
    keys = json_array();
    for (i = 0; i < n; i++) {
        json_array_append_new(keys, jwks[i]);
    }
    json_object_set_new(root, "keys", keys);
    doc = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    return doc;
}


static inline cc_jwks_t *
kit_jwks(json_t **jwks, size_t n)
{
    cc_jwks_t  *set;
    char       *doc;

    doc = kit_jwks_doc(jwks, n);
    if (cc_jwks_parse(doc, strlen(doc), NULL, &set, NULL) != CC_JOSE_OK) {
        fprintf(stderr, "kit_jwks: parse failed\n");
        exit(2);
    }
    free(doc);
    return set;
}


/* Signs raw header and payload text; exits on failure (a broken fixture
 * must not look like a passing rejection). */
static inline char *
kit_sign(EVP_PKEY *pkey, cc_jose_alg_t alg, const char *header,
    const char *payload)
{
    char  *token;

    if (cc_jws_sign_raw(pkey, alg, header, strlen(header), payload,
                        strlen(payload), &token) != CC_JOSE_OK)
    {
        fprintf(stderr, "kit_sign failed for %s\n", header);
        exit(2);
    }
    return token;
}


/* A typical Entra v2 payload for KIT_TID valid at KIT_NOW, with extra
 * members appended verbatim (extra may be ""; it starts with ","). */
static inline char *
kit_payload(const char *extra)
{
    char  *p;
    int    n;

    n = snprintf(NULL, 0, "x%s", extra) + 512;
    p = malloc((size_t) n);
    snprintf(p, (size_t) n,
             "{\"aud\":\"" KIT_AUD "\","
             "\"iss\":\"https://login.microsoftonline.com/" KIT_TID "/v2.0\","
             "\"iat\":%lld,\"nbf\":%lld,\"exp\":%lld,"
             "\"tid\":\"" KIT_TID "\","
             "\"oid\":\"00000000-0000-0000-66f3-3332eca7ea81\","
             "\"sub\":\"AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ\","
             "\"ver\":\"2.0\"%s}",
             KIT_NOW - 300, KIT_NOW - 300, KIT_NOW + 3600, extra);
    return p;
}


/* Replaces segment i (0..2) of token with the base64url of raw bytes. */
static inline char *
kit_replace_segment(const char *token, int i, const char *raw, size_t rawlen)
{
    const char  *dot1, *dot2;
    char        *out, *enc;
    size_t       n;

    dot1 = strchr(token, '.');
    dot2 = strchr(dot1 + 1, '.');
    enc = malloc(cc_base64url_encoded_len(rawlen) + 1);
    cc_base64url_encode((const unsigned char *) raw, rawlen, enc);

    n = strlen(token) + strlen(enc) + 3;
    out = malloc(n);
    if (i == 0) {
        snprintf(out, n, "%s%s", enc, dot1);
    } else if (i == 1) {
        snprintf(out, n, "%.*s.%s%s", (int) (dot1 - token), token, enc, dot2);
    } else {
        snprintf(out, n, "%.*s.%s", (int) (dot2 - token), token, enc);
    }
    free(enc);
    return out;
}

#endif /* CC_JOSE_TESTKIT_H */
