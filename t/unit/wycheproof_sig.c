/*
 * Wycheproof vectors through lib/'s own primitives: every RS256, PS256,
 * ES256 (P1363) and EdDSA case goes through cc_jwk_parse (the group's JWK)
 * and cc_sig_verify, the calls cc_jwt_verify makes; every
 * HMAC-SHA256 case through cc_hmac_sha256_verify, the session MAC.
 *
 * Every "valid" case must verify and every "invalid" one must be refused.
 * "acceptable" cases (here: one PKCS#1 signature whose DigestInfo lacks
 * the NULL parameter) must be refused too: JOSE signers, Entra included,
 * always encode the NULL, so accepting the legacy form buys nothing.
 *
 * The vectors live beside the project, in CC_WYCHEPROOF_DIR (default
 * ../shared/testvectors/wycheproof, relative to the repository root where
 * prove runs).  A missing file is a TAP skip, never a pass.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tap.h"
#include "cc_base64.h"
#include "cc_jwk.h"
#include "cc_mac.h"
#include "cc_sig.h"


typedef enum {
    KIND_SIG,
    KIND_MAC
} kind_t;

typedef struct {
    const char     *file;
    kind_t          kind;
    cc_jose_alg_t   alg;
    const char     *jwk_member;     /* where the group keeps its JWK */
} suite_t;

typedef struct {
    size_t  valid, valid_ok;
    size_t  invalid, invalid_ok;
    size_t  acceptable, acceptable_refused;
    size_t  reported;
} tally_t;


static const suite_t  suites[] = {
    { "rsa_signature_2048_sha256_test.json", KIND_SIG, CC_JOSE_ALG_RS256,
      "keyJwk" },
    { "rsa_pss_2048_sha256_mgf1_32_test.json", KIND_SIG, CC_JOSE_ALG_PS256,
      "publicKeyJwk" },
    { "ecdsa_secp256r1_sha256_p1363_test.json", KIND_SIG, CC_JOSE_ALG_ES256,
      "publicKeyJwk" },
    { "ed25519_test.json", KIND_SIG, CC_JOSE_ALG_EDDSA, "publicKeyJwk" },
    { "hmac_sha256_test.json", KIND_MAC, CC_JOSE_ALG_UNKNOWN, NULL },
};


/* Hex to bytes; the caller frees *out.  -1 on odd length or bad digit. */
static int
unhex(const char *hex, unsigned char **out, size_t *len)
{
    size_t         n, i;
    unsigned int   byte;

    n = strlen(hex);
    if (n % 2 != 0) {
        return -1;
    }
    *out = malloc(n / 2 + 1);
    for (i = 0; i < n / 2; i++) {
        if (sscanf(hex + 2 * i, "%2x", &byte) != 1) {
            free(*out);
            return -1;
        }
        (*out)[i] = (unsigned char) byte;
    }
    *len = n / 2;
    return 0;
}


/* Returns 1 if the case was accepted. */
static int
run_sig_case(EVP_PKEY *pkey, cc_jose_alg_t alg, const json_t *t)
{
    unsigned char  *msg, *sig;
    size_t          msglen, siglen;
    int             accepted;

    if (unhex(json_string_value(json_object_get(t, "msg")), &msg, &msglen)
        != 0)
    {
        return -1;
    }
    if (unhex(json_string_value(json_object_get(t, "sig")), &sig, &siglen)
        != 0)
    {
        free(msg);
        return -1;
    }

    accepted = pkey != NULL
               && cc_sig_verify(pkey, alg, msg, msglen, sig, siglen)
                  == CC_JOSE_OK;
    free(msg);
    free(sig);
    return accepted;
}


static int
run_mac_case(const json_t *group, const json_t *t)
{
    unsigned char  *key, *msg, *tag;
    size_t          keylen, msglen, taglen, tag_size;
    int             accepted;

    tag_size = (size_t) json_integer_value(json_object_get(group, "tagSize"))
               / 8;
    if (unhex(json_string_value(json_object_get(t, "key")), &key, &keylen)
        != 0)
    {
        return -1;
    }
    if (unhex(json_string_value(json_object_get(t, "msg")), &msg, &msglen)
        != 0)
    {
        free(key);
        return -1;
    }
    if (unhex(json_string_value(json_object_get(t, "tag")), &tag, &taglen)
        != 0)
    {
        free(key);
        free(msg);
        return -1;
    }

    accepted = cc_hmac_sha256_verify(key, keylen, msg, msglen, tag, taglen,
                                     tag_size) == 0;
    free(key);
    free(msg);
    free(tag);
    return accepted;
}


static void
count(tally_t *tally, const char *file, const json_t *t, int accepted)
{
    const char  *result;
    long long    id;
    int          good;

    result = json_string_value(json_object_get(t, "result"));
    id = json_integer_value(json_object_get(t, "tcId"));

    if (strcmp(result, "valid") == 0) {
        tally->valid++;
        good = accepted == 1;
        tally->valid_ok += good;
    } else if (strcmp(result, "invalid") == 0) {
        tally->invalid++;
        good = accepted == 0;
        tally->invalid_ok += good;
    } else {
        tally->acceptable++;
        good = accepted == 0;
        tally->acceptable_refused += good;
    }

    if (!good && tally->reported++ < 20) {
        diag("%s tcId %lld (%s): %s", file, id, result,
             accepted < 0 ? "unreadable vector"
                          : accepted ? "accepted" : "refused");
    }
}


/* A P-256 coordinate from Wycheproof hex (which may carry a leading 00
 * or be short) as the 32-byte base64url a JWK holds. */
static json_t *
coordinate(const char *hex)
{
    unsigned char  *raw, fixed[32];
    size_t          len;
    char            b64[64];

    if (unhex(hex, &raw, &len) != 0) {
        return NULL;
    }
    memset(fixed, 0, sizeof(fixed));
    if (len > 32) {
        memcpy(fixed, raw + len - 32, 32);
    } else {
        memcpy(fixed + 32 - len, raw, len);
    }
    free(raw);
    cc_base64url_encode(fixed, 32, b64);
    return json_string(b64);
}


/* The group's key through the JWK parser, as a JWKS key would go.  A few
 * ECDSA groups give the key only as coordinates: it is written as the
 * JWK it would be. */
static EVP_PKEY *
group_key(const suite_t *suite, const json_t *group, cc_jwk_t *jwk)
{
    cc_jose_err_t   err;
    const json_t   *pub;
    json_t         *made;

    made = NULL;
    pub = json_object_get(group, suite->jwk_member);
    if (pub == NULL && suite->alg == CC_JOSE_ALG_ES256) {
        pub = json_object_get(group, "publicKey");
        made = json_pack("{s:s,s:s,s:s,s:o*,s:o*}", "kty", "EC", "crv",
                         "P-256", "kid", "none",
                         "x", coordinate(json_string_value(
                                  json_object_get(pub, "wx"))),
                         "y", coordinate(json_string_value(
                                  json_object_get(pub, "wy"))));
        pub = made;
    }

    err = cc_jwk_parse(pub, jwk);
    json_decref(made);
    if (err != CC_JOSE_OK) {
        diag("%s: group key refused: %s", suite->file, cc_jose_strerror(err));
        return NULL;
    }
    return jwk->pkey;
}


static void
run_suite(const char *dir, const suite_t *suite)
{
    char           path[4096];
    FILE          *f;
    json_t        *root, *groups, *group, *tests;
    json_error_t   error;
    tally_t        tally;
    cc_jwk_t       jwk;
    EVP_PKEY      *pkey;
    size_t         g, i;
    int            accepted;

    snprintf(path, sizeof(path), "%s/%s", dir, suite->file);
    f = fopen(path, "r");
    if (f == NULL) {
        printf("ok %d # SKIP %s not found (set CC_WYCHEPROOF_DIR)\n",
               ++tap_run, path);
        return;
    }
    root = json_loadf(f, 0, &error);
    fclose(f);
    if (!ok(root != NULL, "%s: parses as JSON", suite->file)) {
        return;
    }

    memset(&tally, 0, sizeof(tally));
    groups = json_object_get(root, "testGroups");

    for (g = 0; g < json_array_size(groups); g++) {
        group = json_array_get(groups, g);
        tests = json_object_get(group, "tests");
        pkey = NULL;
        memset(&jwk, 0, sizeof(jwk));
        if (suite->kind == KIND_SIG) {
            pkey = group_key(suite, group, &jwk);
        }

        for (i = 0; i < json_array_size(tests); i++) {
            accepted = suite->kind == KIND_SIG
                       ? run_sig_case(pkey, suite->alg,
                                      json_array_get(tests, i))
                       : run_mac_case(group, json_array_get(tests, i));
            count(&tally, suite->file, json_array_get(tests, i), accepted);
        }
        cc_jwk_clear(&jwk);
    }

    diag("%s: %zu groups, valid %zu/%zu verified, invalid %zu/%zu refused, "
         "acceptable %zu/%zu refused", suite->file, json_array_size(groups),
         tally.valid_ok, tally.valid, tally.invalid_ok, tally.invalid,
         tally.acceptable_refused, tally.acceptable);

    ok(tally.valid + tally.invalid > 0, "%s: has test cases", suite->file);
    ok(tally.valid_ok == tally.valid, "%s: every valid case verifies",
       suite->file);
    ok(tally.invalid_ok == tally.invalid, "%s: every invalid case is refused",
       suite->file);
    ok(tally.acceptable_refused == tally.acceptable,
       "%s: acceptable cases are refused (strict)", suite->file);

    json_decref(root);
}


int
main(void)
{
    const char  *dir;
    size_t       i;

    dir = getenv("CC_WYCHEPROOF_DIR");
    if (dir == NULL || dir[0] == '\0') {
        dir = "../shared/testvectors/wycheproof";
    }

    for (i = 0; i < sizeof(suites) / sizeof(suites[0]); i++) {
        run_suite(dir, &suites[i]);
    }
    return done_testing();
}
