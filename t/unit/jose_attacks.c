/*
 * The attack table: tokens an attacker can build (or tamper with) against
 * cc_jwt_verify, each refused with the precise reason.  Every row starts
 * from a token that would otherwise verify, so a row can only pass if the
 * rule it names does the refusing.
 */

#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/pem.h>

#include "tap.h"
#include "jose_testkit.h"
#include "cc_mac.h"


typedef enum {
    SIGN_RSA,           /* the RSA key published as kid rsa-1 */
    SIGN_EC,            /* the P-256 key, kid ec-1 */
    SIGN_ED,            /* the Ed25519 key, kid ed-1 */
    SIGN_ROGUE,         /* an RSA key the attacker made up */
    SIGN_HMAC_PEM,      /* HS256 keyed with the RSA public key PEM */
    SIGN_HMAC_JWK,      /* HS256 keyed with the RSA public JWK text */
    SIGN_EMPTY,         /* empty signature segment */
    SIGN_JUNK           /* 64 zero bytes as signature */
} sign_t;

typedef enum {
    MUT_NONE,
    MUT_STRIP_SIGNATURE,        /* "h.p." */
    MUT_TWO_SEGMENTS,           /* "h.p" */
    MUT_FOUR_SEGMENTS,          /* "h.p.s.s" */
    MUT_EMPTY_HEADER,           /* ".p.s" */
    MUT_EMPTY_PAYLOAD,          /* "h..s" */
    MUT_ALTER_PAYLOAD,          /* payload of another user, same signature */
    MUT_ALTER_HEADER,           /* header re-encoded with an extra member */
    MUT_TRUNCATE_1,             /* last character gone: impossible length */
    MUT_TRUNCATE_2,             /* two gone: a short signature */
    MUT_PAD_PAYLOAD,            /* "=" padding after the payload */
    MUT_PLUS_IN_HEADER,         /* standard-alphabet character */
    MUT_LEADING_SPACE,
    MUT_NUL_IN_SIGNATURE,
    MUT_NONCANONICAL_SIG,       /* unused bits set in the final character */
    MUT_ES256_AS_DER            /* ECDSA signature re-encoded as DER */
} mutation_t;

typedef struct {
    const char     *name;
    const char     *header;
    const char     *payload;   /* NULL: the standard valid payload */
    sign_t          sign;
    mutation_t      mutation;
    cc_jose_err_t   want;
} attack_t;


#define STD(alg, kid)                                                   \
    "{\"alg\":\"" alg "\",\"typ\":\"JWT\",\"kid\":\"" kid "\"}"
#define RSA_HDR        STD("RS256", "rsa-1")
#define PAYLOAD(body)  "{\"aud\":\"" KIT_AUD "\",\"tid\":\"" KIT_TID "\"," \
                       "\"exp\":1795003600," body "}"
#define ISS_V2(tid)    "\"iss\":\"https://login.microsoftonline.com/" tid \
                       "/v2.0\""


static const attack_t  attacks[] = {
    { "control: the unaltered token verifies", RSA_HDR, NULL,
      SIGN_RSA, MUT_NONE, CC_JOSE_OK },

    /* alg none, in every spelling, signed or not */
    { "alg none, empty signature", STD("none", "rsa-1"), NULL,
      SIGN_EMPTY, MUT_NONE, CC_JOSE_ERR_ALG_NOT_ALLOWED },
    { "alg None, empty signature", STD("None", "rsa-1"), NULL,
      SIGN_EMPTY, MUT_NONE, CC_JOSE_ERR_ALG_NOT_ALLOWED },
    { "alg NONE, empty signature", STD("NONE", "rsa-1"), NULL,
      SIGN_EMPTY, MUT_NONE, CC_JOSE_ERR_ALG_NOT_ALLOWED },
    { "alg nOnE, junk signature", STD("nOnE", "rsa-1"), NULL,
      SIGN_JUNK, MUT_NONE, CC_JOSE_ERR_ALG_NOT_ALLOWED },
    { "alg none without kid", "{\"alg\":\"none\"}", NULL,
      SIGN_EMPTY, MUT_NONE, CC_JOSE_ERR_ALG_NOT_ALLOWED },
    { "alg missing", "{\"typ\":\"JWT\",\"kid\":\"rsa-1\"}", NULL,
      SIGN_RSA, MUT_NONE, CC_JOSE_ERR_ALG_NOT_ALLOWED },
    { "alg null", "{\"alg\":null,\"kid\":\"rsa-1\"}", NULL,
      SIGN_RSA, MUT_NONE, CC_JOSE_ERR_ALG_NOT_ALLOWED },
    { "alg as an array", "{\"alg\":[\"RS256\"],\"kid\":\"rsa-1\"}", NULL,
      SIGN_RSA, MUT_NONE, CC_JOSE_ERR_ALG_NOT_ALLOWED },
    { "alg in lower case", STD("rs256", "rsa-1"), NULL,
      SIGN_RSA, MUT_NONE, CC_JOSE_ERR_ALG_NOT_ALLOWED },
    { "alg RS384", STD("RS384", "rsa-1"), NULL,
      SIGN_RSA, MUT_NONE, CC_JOSE_ERR_ALG_NOT_ALLOWED },

    /* key confusion: HMAC keyed with public material */
    { "HS256 keyed with the RSA public key PEM", STD("HS256", "rsa-1"), NULL,
      SIGN_HMAC_PEM, MUT_NONE, CC_JOSE_ERR_ALG_NOT_ALLOWED },
    { "HS256 keyed with the RSA public JWK", STD("HS256", "rsa-1"), NULL,
      SIGN_HMAC_JWK, MUT_NONE, CC_JOSE_ERR_ALG_NOT_ALLOWED },
    { "HS512 keyed with the RSA public key PEM", STD("HS512", "rsa-1"), NULL,
      SIGN_HMAC_PEM, MUT_NONE, CC_JOSE_ERR_ALG_NOT_ALLOWED },

    /* algorithm / key type confusion */
    { "ES256 header on the RSA key", STD("ES256", "rsa-1"), NULL,
      SIGN_EC, MUT_NONE, CC_JOSE_ERR_ALG_KEY_MISMATCH },
    { "RS256 header on the EC key", STD("RS256", "ec-1"), NULL,
      SIGN_RSA, MUT_NONE, CC_JOSE_ERR_ALG_KEY_MISMATCH },
    { "EdDSA header on the RSA key", STD("EdDSA", "rsa-1"), NULL,
      SIGN_ED, MUT_NONE, CC_JOSE_ERR_ALG_KEY_MISMATCH },
    { "PS256 header on a key pinned to RS256", STD("PS256", "rs-only"), NULL,
      SIGN_RSA, MUT_NONE, CC_JOSE_ERR_ALG_KEY_MISMATCH },

    /* kid games */
    { "unknown kid", STD("RS256", "no-such-key"), NULL,
      SIGN_RSA, MUT_NONE, CC_JOSE_ERR_UNKNOWN_KID },
    { "path-like kid", STD("RS256", "../../etc/passwd"), NULL,
      SIGN_RSA, MUT_NONE, CC_JOSE_ERR_UNKNOWN_KID },
    { "SQL-like kid", STD("RS256", "x' OR '1'='1' --"), NULL,
      SIGN_RSA, MUT_NONE, CC_JOSE_ERR_UNKNOWN_KID },
    { "kid with a NUL escape", STD("RS256", "rsa-1\\u0000x"), NULL,
      SIGN_RSA, MUT_NONE, CC_JOSE_ERR_BAD_JSON },
    { "kid differing only in case", STD("RS256", "RSA-1"), NULL,
      SIGN_RSA, MUT_NONE, CC_JOSE_ERR_UNKNOWN_KID },
    { "empty kid", STD("RS256", ""), NULL,
      SIGN_RSA, MUT_NONE, CC_JOSE_ERR_UNKNOWN_KID },
    { "missing kid", "{\"alg\":\"RS256\",\"typ\":\"JWT\"}", NULL,
      SIGN_RSA, MUT_NONE, CC_JOSE_ERR_MISSING_KID },
    { "numeric kid", "{\"alg\":\"RS256\",\"kid\":1}", NULL,
      SIGN_RSA, MUT_NONE, CC_JOSE_ERR_UNSUPPORTED_HEADER },
    { "right kid, attacker's key", RSA_HDR, NULL,
      SIGN_ROGUE, MUT_NONE, CC_JOSE_ERR_BAD_SIGNATURE },

    /* embedded keys and extensions */
    { "jwk embedded in the header",
      "{\"alg\":\"RS256\",\"kid\":\"rsa-1\",\"jwk\":{\"kty\":\"RSA\"}}", NULL,
      SIGN_ROGUE, MUT_NONE, CC_JOSE_ERR_EMBEDDED_KEY },
    { "jku in the header",
      "{\"alg\":\"RS256\",\"kid\":\"rsa-1\",\"jku\":\"https://evil/\"}", NULL,
      SIGN_RSA, MUT_NONE, CC_JOSE_ERR_EMBEDDED_KEY },
    { "x5u in the header",
      "{\"alg\":\"RS256\",\"kid\":\"rsa-1\",\"x5u\":\"https://evil/\"}", NULL,
      SIGN_RSA, MUT_NONE, CC_JOSE_ERR_EMBEDDED_KEY },
    { "x5c in the header",
      "{\"alg\":\"RS256\",\"kid\":\"rsa-1\",\"x5c\":[\"MII=\"]}", NULL,
      SIGN_RSA, MUT_NONE, CC_JOSE_ERR_EMBEDDED_KEY },
    { "crit present",
      "{\"alg\":\"RS256\",\"kid\":\"rsa-1\",\"crit\":[\"exp\"],\"exp\":1}",
      NULL, SIGN_RSA, MUT_NONE, CC_JOSE_ERR_CRIT },
    { "b64 false (unencoded payload)",
      "{\"alg\":\"RS256\",\"kid\":\"rsa-1\",\"b64\":false}", NULL,
      SIGN_RSA, MUT_NONE, CC_JOSE_ERR_UNSUPPORTED_HEADER },
    { "zip in a JWS", "{\"alg\":\"RS256\",\"kid\":\"rsa-1\",\"zip\":\"DEF\"}",
      NULL, SIGN_RSA, MUT_NONE, CC_JOSE_ERR_UNSUPPORTED_HEADER },
    { "nested JWT (cty JWT)",
      "{\"alg\":\"RS256\",\"kid\":\"rsa-1\",\"cty\":\"JWT\"}", NULL,
      SIGN_RSA, MUT_NONE, CC_JOSE_ERR_NESTED_JWT },
    { "nested JWT (cty jwt, any case)",
      "{\"alg\":\"RS256\",\"kid\":\"rsa-1\",\"cty\":\"jwt\"}", NULL,
      SIGN_RSA, MUT_NONE, CC_JOSE_ERR_NESTED_JWT },
    { "other cty", "{\"alg\":\"RS256\",\"kid\":\"rsa-1\",\"cty\":\"json\"}",
      NULL, SIGN_RSA, MUT_NONE, CC_JOSE_ERR_UNSUPPORTED_HEADER },

    /* tampering */
    { "stripped signature", RSA_HDR, NULL,
      SIGN_RSA, MUT_STRIP_SIGNATURE, CC_JOSE_ERR_BAD_SIGNATURE },
    { "altered payload", RSA_HDR, NULL,
      SIGN_RSA, MUT_ALTER_PAYLOAD, CC_JOSE_ERR_BAD_SIGNATURE },
    { "altered header", RSA_HDR, NULL,
      SIGN_RSA, MUT_ALTER_HEADER, CC_JOSE_ERR_BAD_SIGNATURE },
    { "signature truncated by one character", RSA_HDR, NULL,
      SIGN_RSA, MUT_TRUNCATE_1, CC_JOSE_ERR_BAD_BASE64 },
    { "signature truncated by two characters", RSA_HDR, NULL,
      SIGN_RSA, MUT_TRUNCATE_2, CC_JOSE_ERR_BAD_SIGNATURE },
    { "ES256 signature in DER form", STD("ES256", "ec-1"), NULL,
      SIGN_EC, MUT_ES256_AS_DER, CC_JOSE_ERR_BAD_SIGNATURE },
    { "ES256 truncated by two characters", STD("ES256", "ec-1"), NULL,
      SIGN_EC, MUT_TRUNCATE_2, CC_JOSE_ERR_BAD_SIGNATURE },
    { "EdDSA truncated by two characters", STD("EdDSA", "ed-1"), NULL,
      SIGN_ED, MUT_TRUNCATE_2, CC_JOSE_ERR_BAD_SIGNATURE },
    { "junk signature", RSA_HDR, NULL,
      SIGN_JUNK, MUT_NONE, CC_JOSE_ERR_BAD_SIGNATURE },

    /* shape */
    { "two segments", RSA_HDR, NULL,
      SIGN_RSA, MUT_TWO_SEGMENTS, CC_JOSE_ERR_MALFORMED },
    { "four segments", RSA_HDR, NULL,
      SIGN_RSA, MUT_FOUR_SEGMENTS, CC_JOSE_ERR_MALFORMED },
    { "empty header segment", RSA_HDR, NULL,
      SIGN_RSA, MUT_EMPTY_HEADER, CC_JOSE_ERR_MALFORMED },
    { "empty payload segment", RSA_HDR, NULL,
      SIGN_RSA, MUT_EMPTY_PAYLOAD, CC_JOSE_ERR_MALFORMED },
    { "padded payload segment", RSA_HDR, NULL,
      SIGN_RSA, MUT_PAD_PAYLOAD, CC_JOSE_ERR_BAD_BASE64 },
    { "standard-alphabet + in header", RSA_HDR, NULL,
      SIGN_RSA, MUT_PLUS_IN_HEADER, CC_JOSE_ERR_BAD_BASE64 },
    { "leading space", RSA_HDR, NULL,
      SIGN_RSA, MUT_LEADING_SPACE, CC_JOSE_ERR_BAD_BASE64 },
    { "NUL byte inside the signature", RSA_HDR, NULL,
      SIGN_RSA, MUT_NUL_IN_SIGNATURE, CC_JOSE_ERR_BAD_BASE64 },
    { "non-canonical final signature character", RSA_HDR, NULL,
      SIGN_RSA, MUT_NONCANONICAL_SIG, CC_JOSE_ERR_BAD_BASE64 },
    { "header is not JSON", "{alg:RS256}", NULL,
      SIGN_RSA, MUT_NONE, CC_JOSE_ERR_BAD_JSON },
    { "header is an array", "[\"RS256\"]", NULL,
      SIGN_RSA, MUT_NONE, CC_JOSE_ERR_BAD_JSON },
    { "header with trailing garbage", RSA_HDR "x", NULL,
      SIGN_RSA, MUT_NONE, CC_JOSE_ERR_BAD_JSON },
    { "payload is not an object", RSA_HDR, "[1,2,3]",
      SIGN_RSA, MUT_NONE, CC_JOSE_ERR_BAD_JSON },
    { "duplicate alg in header",
      "{\"alg\":\"RS256\",\"kid\":\"rsa-1\",\"alg\":\"none\"}", NULL,
      SIGN_RSA, MUT_NONE, CC_JOSE_ERR_DUPLICATE_KEY },
    { "duplicate kid in header",
      "{\"alg\":\"RS256\",\"kid\":\"rsa-1\",\"kid\":\"ec-1\"}", NULL,
      SIGN_RSA, MUT_NONE, CC_JOSE_ERR_DUPLICATE_KEY },
    { "duplicate aud in signed payload", RSA_HDR,
      PAYLOAD(ISS_V2(KIT_TID) ",\"aud\":\"other\""),
      SIGN_RSA, MUT_NONE, CC_JOSE_ERR_DUPLICATE_KEY },
    { "duplicate tid in signed payload", RSA_HDR,
      PAYLOAD(ISS_V2(KIT_TID) ",\"tid\":\"" KIT_OTHER_TID "\""),
      SIGN_RSA, MUT_NONE, CC_JOSE_ERR_DUPLICATE_KEY },

    /* claims */
    { "exp in the past", RSA_HDR,
      "{\"aud\":\"" KIT_AUD "\",\"tid\":\"" KIT_TID "\",\"exp\":1700000000,"
      ISS_V2(KIT_TID) "}",
      SIGN_RSA, MUT_NONE, CC_JOSE_ERR_EXPIRED },
    { "nbf in the future", RSA_HDR,
      PAYLOAD(ISS_V2(KIT_TID) ",\"nbf\":1795001000"),
      SIGN_RSA, MUT_NONE, CC_JOSE_ERR_NOT_YET_VALID },
    { "wrong aud", RSA_HDR,
      "{\"aud\":\"00000003-0000-0000-c000-000000000000\",\"tid\":\""
      KIT_TID "\",\"exp\":1795003600," ISS_V2(KIT_TID) "}",
      SIGN_RSA, MUT_NONE, CC_JOSE_ERR_BAD_AUDIENCE },
    { "aud array without ours", RSA_HDR,
      "{\"aud\":[\"a\",\"b\"],\"tid\":\"" KIT_TID "\",\"exp\":1795003600,"
      ISS_V2(KIT_TID) "}",
      SIGN_RSA, MUT_NONE, CC_JOSE_ERR_BAD_AUDIENCE },
    { "aud missing", RSA_HDR,
      "{\"tid\":\"" KIT_TID "\",\"exp\":1795003600," ISS_V2(KIT_TID) "}",
      SIGN_RSA, MUT_NONE, CC_JOSE_ERR_BAD_AUDIENCE },
    { "aud that only starts like ours", RSA_HDR,
      "{\"aud\":\"" KIT_AUD "x\",\"tid\":\"" KIT_TID "\","
      "\"exp\":1795003600," ISS_V2(KIT_TID) "}",
      SIGN_RSA, MUT_NONE, CC_JOSE_ERR_BAD_AUDIENCE },
    { "wrong iss", RSA_HDR,
      PAYLOAD("\"iss\":\"https://evil.example/" KIT_TID "/v2.0\""),
      SIGN_RSA, MUT_NONE, CC_JOSE_ERR_BAD_ISSUER },
    { "iss names another tenant than tid", RSA_HDR,
      PAYLOAD(ISS_V2(KIT_OTHER_TID)),
      SIGN_RSA, MUT_NONE, CC_JOSE_ERR_BAD_ISSUER },
    { "iss with the literal template", RSA_HDR,
      PAYLOAD("\"iss\":\"" KIT_ISS_V2 "\""),
      SIGN_RSA, MUT_NONE, CC_JOSE_ERR_BAD_ISSUER },
    { "iss with a trailing slash added", RSA_HDR,
      PAYLOAD("\"iss\":\"https://login.microsoftonline.com/" KIT_TID
              "/v2.0/\""),
      SIGN_RSA, MUT_NONE, CC_JOSE_ERR_BAD_ISSUER },
    { "iss missing", RSA_HDR, PAYLOAD("\"ver\":\"2.0\""),
      SIGN_RSA, MUT_NONE, CC_JOSE_ERR_BAD_ISSUER },
    { "tid missing", RSA_HDR,
      "{\"aud\":\"" KIT_AUD "\",\"exp\":1795003600,"
      "\"iss\":\"https://login.microsoftonline.com//v2.0\"}",
      SIGN_RSA, MUT_NONE, CC_JOSE_ERR_BAD_TID },
    { "tid not a GUID", RSA_HDR,
      "{\"aud\":\"" KIT_AUD "\",\"exp\":1795003600,\"tid\":\"common\","
      "\"iss\":\"https://login.microsoftonline.com/common/v2.0\"}",
      SIGN_RSA, MUT_NONE, CC_JOSE_ERR_BAD_TID },
    { "tid with a path in it", RSA_HDR,
      "{\"aud\":\"" KIT_AUD "\",\"exp\":1795003600,"
      "\"tid\":\"" KIT_TID "/../x\","
      "\"iss\":\"https://login.microsoftonline.com/" KIT_TID "/../x/v2.0\"}",
      SIGN_RSA, MUT_NONE, CC_JOSE_ERR_BAD_TID },
};


static EVP_PKEY   *rsa, *ec, *ed, *rogue;
static cc_jwks_t  *keys;


static char *
public_pem(EVP_PKEY *pkey)
{
    BIO   *bio;
    char  *data, *pem;
    long   len;

    bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(bio, pkey);
    len = BIO_get_mem_data(bio, &data);
    pem = malloc((size_t) len + 1);
    memcpy(pem, data, (size_t) len);
    pem[len] = '\0';
    BIO_free(bio);
    return pem;
}


/* header.payload signed with HMAC-SHA256 under secret: what a verifier
 * that trusted the header's alg would accept with the public key. */
static char *
sign_hmac(const char *header, const char *payload, const char *secret)
{
    unsigned char   mac[CC_HMAC_SHA256_LEN];
    char           *t;
    size_t          n, cap;

    cap = 2 * (strlen(header) + strlen(payload)) + 64;
    t = malloc(cap);
    n = cc_base64url_encode((const unsigned char *) header, strlen(header), t);
    t[n++] = '.';
    n += cc_base64url_encode((const unsigned char *) payload, strlen(payload),
                             t + n);
    cc_hmac_sha256((const unsigned char *) secret, strlen(secret),
                   (const unsigned char *) t, n, mac);
    t[n++] = '.';
    cc_base64url_encode(mac, sizeof(mac), t + n);
    return t;
}


static char *
sign_unsigned(const char *header, const char *payload, int junk)
{
    static const unsigned char  zeros[64];
    char                       *t;
    size_t                      n;

    t = malloc(2 * (strlen(header) + strlen(payload)) + 128);
    n = cc_base64url_encode((const unsigned char *) header, strlen(header), t);
    t[n++] = '.';
    n += cc_base64url_encode((const unsigned char *) payload, strlen(payload),
                             t + n);
    t[n++] = '.';
    t[n] = '\0';
    if (junk) {
        cc_base64url_encode(zeros, sizeof(zeros), t + n);
    }
    return t;
}


static char *
build(const attack_t *a, const char *payload)
{
    char    *pem, *jwk_text, *token;
    json_t  *jwk;

    switch (a->sign) {
    case SIGN_RSA:
        return kit_sign(rsa, CC_JOSE_ALG_RS256, a->header, payload);
    case SIGN_EC:
        return kit_sign(ec, CC_JOSE_ALG_ES256, a->header, payload);
    case SIGN_ED:
        return kit_sign(ed, CC_JOSE_ALG_EDDSA, a->header, payload);
    case SIGN_ROGUE:
        return kit_sign(rogue, CC_JOSE_ALG_RS256, a->header, payload);
    case SIGN_HMAC_PEM:
        pem = public_pem(rsa);
        token = sign_hmac(a->header, payload, pem);
        free(pem);
        return token;
    case SIGN_HMAC_JWK:
        jwk = kit_jwk(rsa, "rsa-1", NULL);
        jwk_text = json_dumps(jwk, JSON_COMPACT);
        token = sign_hmac(a->header, payload, jwk_text);
        free(jwk_text);
        json_decref(jwk);
        return token;
    case SIGN_EMPTY:
        return sign_unsigned(a->header, payload, 0);
    case SIGN_JUNK:
        return sign_unsigned(a->header, payload, 1);
    }
    return NULL;
}


/* Re-encodes an ES256 r||s signature as DER. */
static char *
es256_as_der(const char *token)
{
    const char     *sig64;
    unsigned char   sig[72];
    size_t          siglen;
    ECDSA_SIG      *es;
    unsigned char  *der;
    int             derlen;
    char           *out;

    sig64 = strrchr(token, '.') + 1;
    cc_base64url_decode(sig64, strlen(sig64), sig, &siglen);
    es = ECDSA_SIG_new();
    ECDSA_SIG_set0(es, BN_bin2bn(sig, 32, NULL), BN_bin2bn(sig + 32, 32, NULL));
    der = NULL;
    derlen = i2d_ECDSA_SIG(es, &der);
    out = kit_replace_segment(token, 2, (const char *) der, (size_t) derlen);
    OPENSSL_free(der);
    ECDSA_SIG_free(es);
    return out;
}


/* Applies a mutation; returns a new token and its length (which may hide
 * a NUL). */
static char *
mutate(char *token, mutation_t m, size_t *len)
{
    char         *out, *p, *other;
    const char   *hdr;
    size_t        n;

    n = strlen(token);
    out = malloc(n + 16);
    memcpy(out, token, n + 1);

    switch (m) {
    case MUT_NONE:
        break;
    case MUT_STRIP_SIGNATURE:
        strrchr(out, '.')[1] = '\0';
        break;
    case MUT_TWO_SEGMENTS:
        *strrchr(out, '.') = '\0';
        break;
    case MUT_FOUR_SEGMENTS:
        strcat(out, ".AAAA");
        break;
    case MUT_EMPTY_HEADER:
        memmove(out, strchr(token, '.'), strlen(strchr(token, '.')) + 1);
        break;
    case MUT_EMPTY_PAYLOAD:
        p = strchr(out, '.') + 1;
        memmove(p, strrchr(token, '.'), strlen(strrchr(token, '.')) + 1);
        break;
    case MUT_ALTER_PAYLOAD:
        other = kit_payload(",\"name\":\"mallory\"");
        free(out);
        out = kit_replace_segment(token, 1, other, strlen(other));
        free(other);
        break;
    case MUT_ALTER_HEADER:
        hdr = "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"rsa-1\",\"x\":1}";
        free(out);
        out = kit_replace_segment(token, 0, hdr, strlen(hdr));
        break;
    case MUT_TRUNCATE_1:
        out[n - 1] = '\0';
        break;
    case MUT_TRUNCATE_2:
        out[n - 2] = '\0';
        break;
    case MUT_PAD_PAYLOAD:
        p = strrchr(out, '.');
        memmove(p + 1, p, strlen(p) + 1);
        *p = '=';
        break;
    case MUT_PLUS_IN_HEADER:
        out[1] = '+';
        break;
    case MUT_LEADING_SPACE:
        memmove(out + 1, out, n + 1);
        out[0] = ' ';
        break;
    case MUT_NUL_IN_SIGNATURE:
        out[n - 5] = '\0';
        *len = n;
        return out;
    case MUT_NONCANONICAL_SIG:
        /* A 256-byte RSA signature is 342 characters; the last one
         * carries 4 unused bits, which 'B' (value 1) sets. */
        out[n - 1] = 'B';
        break;
    case MUT_ES256_AS_DER:
        free(out);
        out = es256_as_der(token);
        break;
    }

    *len = strlen(out);
    return out;
}


static void
run_attacks(void)
{
    cc_jwt_policy_t   policy = kit_policy();
    cc_jwt_claims_t   claims;
    cc_jose_err_t     got;
    char             *payload, *token, *mutated;
    size_t            i, len;

    for (i = 0; i < sizeof(attacks) / sizeof(attacks[0]); i++) {
        payload = attacks[i].payload ? strdup(attacks[i].payload)
                                     : kit_payload("");
        token = build(&attacks[i], payload);
        mutated = mutate(token, attacks[i].mutation, &len);

        got = cc_jwt_verify(mutated, len, keys, &policy, KIT_NOW, &claims);
        is_str(cc_jose_strerror(got), cc_jose_strerror(attacks[i].want),
               "%s", attacks[i].name);
        cc_jwt_claims_free(&claims);

        free(mutated);
        free(token);
        free(payload);
    }
}


/* A header padded past 16 KiB is refused before anything is decoded; the
 * same header under a raised limit fails only on what it is. */
static void
test_oversized(void)
{
    cc_jwt_policy_t   policy = kit_policy();
    cc_jwt_claims_t   claims;
    cc_jose_err_t     got;
    char             *filler, *header, *payload, *token;
    size_t            n;

    n = 13000;
    filler = malloc(n + 1);
    memset(filler, 'a', n);
    filler[n] = '\0';
    header = malloc(n + 64);
    snprintf(header, n + 64, "{\"alg\":\"RS256\",\"kid\":\"rsa-1\","
             "\"x\":\"%s\"}", filler);
    payload = kit_payload("");
    token = kit_sign(rsa, CC_JOSE_ALG_RS256, header, payload);

    ok(strlen(token) > CC_JWT_DEFAULT_MAX_LEN, "fixture: token over 16 KiB");
    got = cc_jwt_verify(token, strlen(token), keys, &policy, KIT_NOW, &claims);
    is_str(cc_jose_strerror(got), "token_too_large",
           "oversized header refused at the default limit");

    policy.max_len = 64 * 1024;
    got = cc_jwt_verify(token, strlen(token), keys, &policy, KIT_NOW, &claims);
    is_str(cc_jose_strerror(got), "ok",
           "the same token passes under a 64 KiB limit: the size refused it");
    cc_jwt_claims_free(&claims);

    /* The length is checked before a single byte is read (ASan would
     * notice a read past the real buffer). */
    policy.max_len = 0;
    got = cc_jwt_verify("x", 100 * 1024 * 1024, keys, &policy, KIT_NOW,
                        &claims);
    is_str(cc_jose_strerror(got), "token_too_large",
           "a huge length is refused without reading the token");

    free(token);
    free(payload);
    free(header);
    free(filler);
}


int
main(void)
{
    json_t  *k[4];

    rsa = kit_keygen("RSA");
    ec = kit_keygen("EC");
    ed = kit_keygen("ED25519");
    rogue = kit_keygen("RSA");

    k[0] = kit_jwk(rsa, "rsa-1", NULL);
    k[1] = kit_jwk(ec, "ec-1", NULL);
    k[2] = kit_jwk(ed, "ed-1", NULL);
    k[3] = kit_jwk(rsa, "rs-only", "{\"alg\":\"RS256\"}");
    keys = kit_jwks(k, 4);

    run_attacks();
    test_oversized();

    cc_jwks_free(keys);
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(ec);
    EVP_PKEY_free(ed);
    EVP_PKEY_free(rogue);
    return done_testing();
}
