/*
 * cc_jwk / cc_jwks: which keys become verification keys, which are left
 * out of a set and why, and which documents are refused whole.
 */

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "tap.h"
#include "jose_testkit.h"


static EVP_PKEY  *rsa, *rsa_other, *rsa1024, *ec, *ec384, *ed, *x25519;


/* x5c[0] for pkey: a throwaway self-signed certificate, standard base64. */
static char *
cert_b64(EVP_PKEY *pkey)
{
    X509           *cert;
    unsigned char  *der;
    char           *b64;
    int             len;

    cert = X509_new();
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), 0);
    X509_gmtime_adj(X509_getm_notAfter(cert), 86400);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(cert), "CN",
                               MBSTRING_ASC, (const unsigned char *) "t",
                               -1, -1, 0);
    X509_set_issuer_name(cert, X509_get_subject_name(cert));
    X509_set_pubkey(cert, pkey);
    X509_sign(cert, pkey, EVP_sha256());

    der = NULL;
    len = i2d_X509(cert, &der);
    b64 = malloc((size_t) len * 2 + 4);
    EVP_EncodeBlock((unsigned char *) b64, der, len);
    OPENSSL_free(der);
    X509_free(cert);
    return b64;
}


/* The JWK of pkey with members removed (comma-separated names) and extra
 * members merged in. */
static json_t *
jwk_edit(EVP_PKEY *pkey, const char *kid, const char *drop, const char *extra)
{
    json_t  *jwk;
    char     names[128], *name, *save;

    jwk = kit_jwk(pkey, kid, extra);
    if (drop != NULL) {
        snprintf(names, sizeof(names), "%s", drop);
        for (name = strtok_r(names, ",", &save); name != NULL;
             name = strtok_r(NULL, ",", &save))
        {
            json_object_del(jwk, name);
        }
    }
    return jwk;
}


static void
expect_jwk(json_t *obj, cc_jose_err_t want, const char *why)
{
    cc_jwk_t       jwk;
    cc_jose_err_t  got;

    got = cc_jwk_parse(obj, &jwk);
    is_str(cc_jose_strerror(got), cc_jose_strerror(want), "jwk: %s", why);
    if (got == CC_JOSE_OK) {
        ok(jwk.pkey != NULL && jwk.kid != NULL, "jwk: %s: has key and kid",
           why);
    } else {
        ok(jwk.pkey == NULL && jwk.kid == NULL && jwk.issuer == NULL,
           "jwk: %s: refused key is left empty", why);
    }
    cc_jwk_clear(&jwk);
    json_decref(obj);
}


static void
test_single_keys(void)
{
    char    *cert, *other_cert, extra[12000];
    json_t  *j;

    expect_jwk(kit_jwk(rsa, "r", NULL), CC_JOSE_OK, "RSA 2048 from n/e");
    expect_jwk(kit_jwk(ec, "e", NULL), CC_JOSE_OK, "EC P-256 from x/y");
    expect_jwk(kit_jwk(ed, "d", NULL), CC_JOSE_OK, "Ed25519 from x");
    expect_jwk(kit_jwk(rsa, "r", "{\"alg\":\"PS256\"}"), CC_JOSE_OK,
               "RSA with alg PS256");
    expect_jwk(kit_jwk(rsa, "r",
                       "{\"issuer\":\"" KIT_ISS_V2 "\",\"x5t\":\"abc\"}"),
               CC_JOSE_OK, "Entra-style key with issuer template");

    cert = cert_b64(rsa);
    other_cert = cert_b64(rsa_other);

    snprintf(extra, sizeof(extra), "{\"x5c\":[\"%s\"]}", cert);
    expect_jwk(jwk_edit(rsa, "r", "n,e", extra), CC_JOSE_OK,
               "RSA from x5c[0] alone");
    expect_jwk(kit_jwk(rsa, "r", extra), CC_JOSE_OK,
               "RSA with n/e and a matching x5c");

    snprintf(extra, sizeof(extra), "{\"x5c\":[\"%s\"]}", other_cert);
    expect_jwk(kit_jwk(rsa, "r", extra), CC_JOSE_ERR_X5C_MISMATCH,
               "x5c[0] holding another key");

    snprintf(extra, sizeof(extra), "{\"x5c\":[\"%.*s\"]}",
             (int) strlen(cert) - 4, cert);
    expect_jwk(kit_jwk(rsa, "r", extra), CC_JOSE_ERR_BAD_KEY,
               "truncated x5c[0]");
    expect_jwk(kit_jwk(rsa, "r", "{\"x5c\":[\"not base64!\"]}"),
               CC_JOSE_ERR_BAD_KEY, "x5c[0] not base64");
    expect_jwk(kit_jwk(rsa, "r", "{\"x5c\":[]}"), CC_JOSE_ERR_BAD_KEY,
               "empty x5c");
    expect_jwk(kit_jwk(rsa, "r", "{\"x5c\":\"abc\"}"), CC_JOSE_ERR_BAD_KEY,
               "x5c not an array");
    free(cert);
    free(other_cert);

    expect_jwk(kit_jwk(rsa1024, "r", NULL), CC_JOSE_ERR_WEAK_KEY,
               "RSA 1024 is too weak");
    expect_jwk(kit_jwk(ec, "e", "{\"crv\":\"P-384\"}"),
               CC_JOSE_ERR_UNSUPPORTED_KEY, "EC P-384 is not supported");
    is_int(cc_jwk_export(ec384, "e", CC_JOSE_ALG_UNKNOWN, &j),
           CC_JOSE_ERR_UNSUPPORTED_KEY, "P-384 is not exported as a JWK");
    expect_jwk(kit_jwk(ec, "e", "{\"crv\":\"secp256k1\"}"),
               CC_JOSE_ERR_UNSUPPORTED_KEY, "secp256k1 is not supported");
    is_int(cc_jwk_export(x25519, "x", CC_JOSE_ALG_UNKNOWN, &j),
           CC_JOSE_ERR_UNSUPPORTED_KEY, "X25519 is not exported as a JWK");

    j = json_pack("{s:s,s:s,s:s,s:s}", "kty", "OKP", "crv", "X25519",
                  "x", "hSDwCYkwp1R0i33ctD73Wg2_Og0mOBr066SpjqqbTmo",
                  "kid", "x");
    expect_jwk(j, CC_JOSE_ERR_UNSUPPORTED_KEY, "OKP X25519 is not supported");
    j = json_pack("{s:s,s:s,s:s}", "kty", "oct", "k", "c2VjcmV0", "kid", "h");
    expect_jwk(j, CC_JOSE_ERR_UNSUPPORTED_KEY,
               "symmetric (oct) keys are never verification keys");

    expect_jwk(kit_jwk(rsa, "r", "{\"use\":\"enc\"}"),
               CC_JOSE_ERR_KEY_NOT_FOR_SIGNING, "use enc");
    expect_jwk(kit_jwk(rsa, "r", "{\"key_ops\":[\"encrypt\"]}"),
               CC_JOSE_ERR_KEY_NOT_FOR_SIGNING, "key_ops without verify");
    expect_jwk(kit_jwk(rsa, "r", "{\"key_ops\":[\"sign\",\"verify\"]}"),
               CC_JOSE_OK, "key_ops with verify");
    expect_jwk(kit_jwk(rsa, "r", "{\"use\":1}"), CC_JOSE_ERR_BAD_KEY,
               "use not a string");

    expect_jwk(kit_jwk(ec, "e", "{\"alg\":\"RS256\"}"),
               CC_JOSE_ERR_ALG_KEY_MISMATCH, "EC key claiming RS256");
    expect_jwk(kit_jwk(rsa, "r", "{\"alg\":\"ES256\"}"),
               CC_JOSE_ERR_ALG_KEY_MISMATCH, "RSA key claiming ES256");
    expect_jwk(kit_jwk(rsa, "r", "{\"alg\":\"HS256\"}"),
               CC_JOSE_ERR_UNSUPPORTED_KEY, "RSA key claiming HS256");
    expect_jwk(kit_jwk(rsa, "r", "{\"alg\":\"RS512\"}"),
               CC_JOSE_ERR_UNSUPPORTED_KEY, "RSA key claiming RS512");

    expect_jwk(jwk_edit(rsa, "r", "kid", NULL), CC_JOSE_ERR_BAD_KEY,
               "no kid (keys are chosen by kid only)");
    expect_jwk(kit_jwk(rsa, "r", "{\"kid\":42}"), CC_JOSE_ERR_BAD_KEY,
               "numeric kid");
    expect_jwk(kit_jwk(rsa, "r", "{\"kid\":\"\"}"), CC_JOSE_ERR_BAD_KEY,
               "empty kid");
    expect_jwk(kit_jwk(rsa, "r", "{\"kid\":\"a\\nb\"}"), CC_JOSE_ERR_BAD_KEY,
               "kid with a control character");
    expect_jwk(jwk_edit(rsa, "r", "kty", NULL), CC_JOSE_ERR_BAD_KEY,
               "no kty");
    expect_jwk(jwk_edit(rsa, "r", "e", NULL), CC_JOSE_ERR_BAD_KEY, "no e");
    expect_jwk(jwk_edit(ec, "e", "y", NULL), CC_JOSE_ERR_BAD_KEY, "EC no y");
    expect_jwk(jwk_edit(ec, "e", "crv", NULL), CC_JOSE_ERR_BAD_KEY,
               "EC no crv");
    expect_jwk(kit_jwk(rsa, "r", "{\"issuer\":7}"), CC_JOSE_ERR_BAD_KEY,
               "issuer not a string");
    expect_jwk(json_string("RSA"), CC_JOSE_ERR_BAD_KEY, "not an object");
}


/* Hand-edited key material. */
static void
test_key_material(void)
{
    json_t       *j;
    const char   *n, *x;
    char         *s;
    size_t        len;

    /* A leading zero octet on n: same number, non-minimal encoding. */
    j = kit_jwk(rsa, "r", NULL);
    n = json_string_value(json_object_get(j, "n"));
    len = strlen(n);
    {
        unsigned char  *raw = malloc(len), *raw0 = malloc(len + 1);
        size_t          rawlen;
        char           *enc = malloc(len + 8);

        cc_base64url_decode(n, len, raw, &rawlen);
        raw0[0] = 0;
        memcpy(raw0 + 1, raw, rawlen);
        cc_base64url_encode(raw0, rawlen + 1, enc);
        json_object_set_new(j, "n", json_string(enc));
        free(raw);
        free(raw0);
        free(enc);
    }
    expect_jwk(j, CC_JOSE_ERR_BAD_KEY, "n with a leading zero octet");

    j = kit_jwk(rsa, "r", "{\"e\":\"AQAA\"}");
    expect_jwk(j, CC_JOSE_ERR_BAD_KEY, "even exponent");
    j = kit_jwk(rsa, "r", "{\"e\":\"AQ\"}");
    expect_jwk(j, CC_JOSE_ERR_BAD_KEY, "exponent 1");
    j = kit_jwk(rsa, "r", "{\"e\":\"AAEAAQ\"}");
    expect_jwk(j, CC_JOSE_ERR_BAD_KEY, "exponent with a leading zero");
    j = kit_jwk(rsa, "r", "{\"e\":\"AQAB=\"}");
    expect_jwk(j, CC_JOSE_ERR_BAD_KEY, "padded exponent");
    j = kit_jwk(rsa, "r", "{\"e\":\"Aw\"}");
    expect_jwk(j, CC_JOSE_OK, "exponent 3 is an RSA key");

    /* n with a non-canonical final character: flip the unused bits. */
    j = kit_jwk(rsa, "r", NULL);
    s = strdup(json_string_value(json_object_get(j, "n")));
    len = strlen(s);
    if (len % 4 == 2 || len % 4 == 3) {
        s[len - 1] = s[len - 1] == 'A' ? 'B' : (char) (s[len - 1] + 1);
        json_object_set_new(j, "n", json_string(s));
        expect_jwk(j, CC_JOSE_ERR_BAD_KEY, "n with non-zero unused bits");
    } else {
        json_object_set_new(j, "n", json_string("AQAB+A"));
        expect_jwk(j, CC_JOSE_ERR_BAD_KEY, "n with a + character");
    }
    free(s);

    /* A point off the curve: change y. */
    j = kit_jwk(ec, "e", NULL);
    x = json_string_value(json_object_get(j, "x"));
    json_object_set_new(j, "y", json_string(x));
    expect_jwk(j, CC_JOSE_ERR_BAD_KEY, "EC point not on the curve");

    j = kit_jwk(ec, "e", "{\"x\":\"AQAB\"}");
    expect_jwk(j, CC_JOSE_ERR_BAD_KEY, "EC x too short");
    j = kit_jwk(ed, "d", "{\"x\":\"AQAB\"}");
    expect_jwk(j, CC_JOSE_ERR_BAD_KEY, "Ed25519 x too short");
}


static void
expect_set(const char *doc, const cc_jwks_limits_t *limits,
    cc_jose_err_t want, size_t want_count, const char *why)
{
    cc_jwks_t      *set;
    cc_jose_err_t   got;

    got = cc_jwks_parse(doc, strlen(doc), limits, &set, NULL);
    is_str(cc_jose_strerror(got), cc_jose_strerror(want), "jwks: %s", why);
    if (got == CC_JOSE_OK) {
        is_int(cc_jwks_count(set), want_count, "jwks: %s: key count", why);
    } else {
        ok(set == NULL, "jwks: %s: no set on error", why);
    }
    cc_jwks_free(set);
}


static void
test_documents(void)
{
    json_t            *k[4];
    char              *doc;
    cc_jwks_t         *set;
    cc_jwks_report_t   report;
    cc_jwks_limits_t   limits;
    const cc_jwk_t    *key;
    cc_jose_err_t      err;

    k[0] = kit_jwk(rsa, "rsa-1", "{\"issuer\":\"" KIT_ISS_V2 "\"}");
    k[1] = kit_jwk(ec, "ec-1", "{\"alg\":\"ES256\"}");
    k[2] = kit_jwk(ed, "ed-1", NULL);
    k[3] = kit_jwk(rsa1024, "weak-1", NULL);
    doc = kit_jwks_doc(k, 4);

    err = cc_jwks_parse(doc, strlen(doc), NULL, &set, &report);
    is_str(cc_jose_strerror(err), "ok", "mixed set parses");
    is_int(cc_jwks_count(set), 3, "three usable keys kept");
    is_int(report.loaded, 3, "report: three loaded");
    is_int(report.skipped, 1, "report: one skipped");
    is_int(report.first_skip_index, 3, "report: the fourth was skipped");
    is_str(cc_jose_strerror(report.first_skip), "weak_key",
           "report: skipped as weak_key");

    key = cc_jwks_find(set, "rsa-1", 5);
    ok(key != NULL && key->kind == CC_SIG_KEY_RSA
       && key->alg == CC_JOSE_ALG_UNKNOWN && key->issuer != NULL
       && strcmp(key->issuer, KIT_ISS_V2) == 0,
       "RSA key found by kid, no alg, issuer template kept");
    key = cc_jwks_find(set, "ec-1", 4);
    ok(key != NULL && key->kind == CC_SIG_KEY_EC_P256
       && key->alg == CC_JOSE_ALG_ES256, "EC key found with its alg");
    ok(cc_jwks_find(set, "ed-1", 4) != NULL, "Ed25519 key found");
    ok(cc_jwks_find(set, "weak-1", 6) == NULL, "weak key is not in the set");
    ok(cc_jwks_find(set, "rsa-", 4) == NULL, "kid prefix does not match");
    ok(cc_jwks_find(set, "rsa-1x", 6) == NULL, "kid extension does not match");
    ok(cc_jwks_get(set, 0) == cc_jwks_find(set, "rsa-1", 5)
       && cc_jwks_get(set, 3) == NULL, "keys kept in document order");
    cc_jwks_free(set);

    memset(&limits, 0, sizeof(limits));
    limits.max_doc_len = strlen(doc) - 1;
    expect_set(doc, &limits, CC_JOSE_ERR_JWKS_TOO_LARGE, 0,
               "document over the size limit");
    limits.max_doc_len = 0;
    limits.max_keys = 3;
    expect_set(doc, &limits, CC_JOSE_ERR_TOO_MANY_KEYS, 0,
               "more keys than the limit (usable or not)");
    free(doc);

    k[0] = kit_jwk(rsa, "same", NULL);
    k[1] = kit_jwk(rsa_other, "same", NULL);
    doc = kit_jwks_doc(k, 2);
    expect_set(doc, NULL, CC_JOSE_ERR_DUPLICATE_KID, 0,
               "two usable keys with one kid");
    free(doc);

    k[0] = kit_jwk(rsa1024, "a", NULL);
    k[1] = kit_jwk(rsa, "b", "{\"use\":\"enc\"}");
    doc = kit_jwks_doc(k, 2);
    expect_set(doc, NULL, CC_JOSE_ERR_NO_USABLE_KEYS, 0, "no usable key");
    free(doc);

    expect_set("{\"keys\":[]}", NULL, CC_JOSE_ERR_NO_USABLE_KEYS, 0,
               "empty keys array");
    expect_set("{\"keys\":{}}", NULL, CC_JOSE_ERR_BAD_JSON, 0,
               "keys not an array");
    expect_set("{}", NULL, CC_JOSE_ERR_BAD_JSON, 0, "no keys member");
    expect_set("[]", NULL, CC_JOSE_ERR_BAD_JSON, 0, "top level not object");
    expect_set("{\"keys\":[]", NULL, CC_JOSE_ERR_BAD_JSON, 0,
               "truncated JSON");
    expect_set("{\"keys\":[]} x", NULL, CC_JOSE_ERR_BAD_JSON, 0,
               "trailing garbage");
    expect_set("", NULL, CC_JOSE_ERR_BAD_JSON, 0, "empty document");
    expect_set("{\"keys\":[],\"keys\":[]}", NULL, CC_JOSE_ERR_DUPLICATE_KEY,
               0, "duplicate member name");
    expect_set("{\"keys\":[{\"kty\":\"RSA\",\"kty\":\"EC\"}]}", NULL,
               CC_JOSE_ERR_DUPLICATE_KEY, 0,
               "duplicate member name inside a key");
}


int
main(void)
{
    rsa = kit_keygen("RSA");
    rsa_other = kit_keygen("RSA");
    rsa1024 = kit_keygen("RSA1024");
    ec = kit_keygen("EC");
    ec384 = kit_keygen("EC384");
    ed = kit_keygen("ED25519");
    x25519 = kit_keygen("X25519");

    test_single_keys();
    test_key_material();
    test_documents();

    EVP_PKEY_free(rsa);
    EVP_PKEY_free(rsa_other);
    EVP_PKEY_free(rsa1024);
    EVP_PKEY_free(ec);
    EVP_PKEY_free(ec384);
    EVP_PKEY_free(ed);
    EVP_PKEY_free(x25519);
    return done_testing();
}
