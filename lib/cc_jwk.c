/*
 * JWK parsing: strict member checks, then the key built with OpenSSL 3's
 * EVP_PKEY_fromdata (RSA, EC) or raw public key import (Ed25519).
 */

#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

#include "cc_base64.h"
#include "cc_jwk.h"


#define CC_JWK_RSA_MAX_N   (CC_SIG_RSA_MAX_BITS / 8)
#define CC_JWK_RSA_MAX_E   8
#define CC_JWK_EC_COORD    32
#define CC_JWK_ED25519_LEN 32


static cc_jose_err_t cc_jwk_parse_meta(const json_t *obj, cc_jwk_t *jwk);
static cc_jose_err_t cc_jwk_check_use(const json_t *obj);
static cc_jose_err_t cc_jwk_parse_rsa(const json_t *obj, EVP_PKEY **pkey);
static cc_jose_err_t cc_jwk_parse_ec(const json_t *obj, EVP_PKEY **pkey);
static cc_jose_err_t cc_jwk_parse_okp(const json_t *obj, EVP_PKEY **pkey);
static cc_jose_err_t cc_jwk_parse_x5c(const json_t *obj, EVP_PKEY **pkey);
static int cc_jwk_get_string(const json_t *obj, const char *name,
    const char **value, size_t *len);
static int cc_jwk_decode_member(const json_t *obj, const char *name,
    unsigned char *out, size_t max, size_t *outlen);
static int cc_jwk_is_printable(const char *s, size_t len);
static char *cc_jwk_copy(const char *s, size_t len);
static int cc_jwk_set_b64(json_t *obj, const char *name,
    const unsigned char *data, size_t len);
static int cc_jwk_set_bn(json_t *obj, const char *name, const BIGNUM *bn,
    int width);


cc_jose_err_t
cc_jwk_parse(const json_t *obj, cc_jwk_t *jwk)
{
    cc_jose_err_t   err;
    const char     *kty;
    size_t          len;
    EVP_PKEY       *from_x5c;

    memset(jwk, 0, sizeof(*jwk));

    if (!json_is_object(obj)) {
        return CC_JOSE_ERR_BAD_KEY;
    }

    err = cc_jwk_check_use(obj);
    if (err != CC_JOSE_OK) {
        return err;
    }

    if (cc_jwk_get_string(obj, "kty", &kty, &len) != 1) {
        return CC_JOSE_ERR_BAD_KEY;
    }

    from_x5c = NULL;
    err = cc_jwk_parse_x5c(obj, &from_x5c);
    if (err != CC_JOSE_OK) {
        return err;
    }

    if (strcmp(kty, "RSA") == 0) {
        if (json_object_get(obj, "n") == NULL
            && json_object_get(obj, "e") == NULL && from_x5c != NULL)
        {
            jwk->pkey = from_x5c;
            from_x5c = NULL;
            err = EVP_PKEY_is_a(jwk->pkey, "RSA") ? CC_JOSE_OK
                                                  : CC_JOSE_ERR_X5C_MISMATCH;
        } else {
            err = cc_jwk_parse_rsa(obj, &jwk->pkey);
        }
        if (err == CC_JOSE_OK) {
            err = cc_sig_check_rsa_bits(jwk->pkey);
        }

    } else if (strcmp(kty, "EC") == 0) {
        err = cc_jwk_parse_ec(obj, &jwk->pkey);

    } else if (strcmp(kty, "OKP") == 0) {
        err = cc_jwk_parse_okp(obj, &jwk->pkey);

    } else {
        err = CC_JOSE_ERR_UNSUPPORTED_KEY;
    }

    if (err == CC_JOSE_OK && from_x5c != NULL
        && EVP_PKEY_eq(jwk->pkey, from_x5c) != 1)
    {
        err = CC_JOSE_ERR_X5C_MISMATCH;
    }
    EVP_PKEY_free(from_x5c);

    if (err == CC_JOSE_OK) {
        jwk->kind = cc_sig_key_kind(jwk->pkey);
        err = cc_jwk_parse_meta(obj, jwk);
    }

    if (err != CC_JOSE_OK) {
        ERR_clear_error();
        cc_jwk_clear(jwk);
    }
    return err;
}


void
cc_jwk_clear(cc_jwk_t *jwk)
{
    free(jwk->kid);
    free(jwk->issuer);
    EVP_PKEY_free(jwk->pkey);
    memset(jwk, 0, sizeof(*jwk));
}


/* kid (required: we select keys by kid only), alg and issuer. */
static cc_jose_err_t
cc_jwk_parse_meta(const json_t *obj, cc_jwk_t *jwk)
{
    cc_jose_err_t   err;
    const char     *s;
    size_t          len;
    int             rc;

    rc = cc_jwk_get_string(obj, "kid", &s, &len);
    if (rc != 1 || len == 0 || len > CC_JWK_KID_MAX
        || !cc_jwk_is_printable(s, len))
    {
        return CC_JOSE_ERR_BAD_KEY;
    }
    jwk->kid = cc_jwk_copy(s, len);
    if (jwk->kid == NULL) {
        return CC_JOSE_ERR_INTERNAL;
    }

    rc = cc_jwk_get_string(obj, "alg", &s, &len);
    if (rc < 0) {
        return CC_JOSE_ERR_BAD_KEY;
    }
    if (rc == 1) {
        jwk->alg = cc_jose_alg_from_name(s, len);
        if (jwk->alg == CC_JOSE_ALG_UNKNOWN) {
            return CC_JOSE_ERR_UNSUPPORTED_KEY;
        }
        err = cc_sig_check_alg(jwk->alg, jwk->pkey);
        if (err != CC_JOSE_OK) {
            return err;
        }
    }

    rc = cc_jwk_get_string(obj, "issuer", &s, &len);
    if (rc < 0 || (rc == 1 && (len == 0 || len > CC_JWK_ISSUER_MAX
                               || !cc_jwk_is_printable(s, len))))
    {
        return CC_JOSE_ERR_BAD_KEY;
    }
    if (rc == 1) {
        jwk->issuer = cc_jwk_copy(s, len);
        if (jwk->issuer == NULL) {
            return CC_JOSE_ERR_INTERNAL;
        }
    }

    return CC_JOSE_OK;
}


static cc_jose_err_t
cc_jwk_check_use(const json_t *obj)
{
    const json_t  *ops, *op;
    const char    *use;
    size_t         len, i;
    int            rc;

    rc = cc_jwk_get_string(obj, "use", &use, &len);
    if (rc < 0) {
        return CC_JOSE_ERR_BAD_KEY;
    }
    if (rc == 1 && strcmp(use, "sig") != 0) {
        return CC_JOSE_ERR_KEY_NOT_FOR_SIGNING;
    }

    ops = json_object_get(obj, "key_ops");
    if (ops == NULL) {
        return CC_JOSE_OK;
    }
    if (!json_is_array(ops)) {
        return CC_JOSE_ERR_BAD_KEY;
    }
    for (i = 0; i < json_array_size(ops); i++) {
        op = json_array_get(ops, i);
        if (!json_is_string(op)) {
            return CC_JOSE_ERR_BAD_KEY;
        }
        if (strcmp(json_string_value(op), "verify") == 0) {
            return CC_JOSE_OK;
        }
    }
    return CC_JOSE_ERR_KEY_NOT_FOR_SIGNING;
}


static cc_jose_err_t
cc_jwk_parse_rsa(const json_t *obj, EVP_PKEY **pkey)
{
    unsigned char    n[CC_JWK_RSA_MAX_N], e[CC_JWK_RSA_MAX_E];
    size_t           nlen, elen;
    BIGNUM          *bn_n, *bn_e;
    OSSL_PARAM_BLD  *bld;
    OSSL_PARAM      *params;
    EVP_PKEY_CTX    *ctx;
    cc_jose_err_t    err;
    int              rc;

    rc = cc_jwk_decode_member(obj, "n", n, sizeof(n), &nlen);
    if (rc == -2) {
        return CC_JOSE_ERR_UNSUPPORTED_KEY;       /* over 8192 bits */
    }
    if (rc != 0 || cc_jwk_decode_member(obj, "e", e, sizeof(e), &elen) != 0) {
        return CC_JOSE_ERR_BAD_KEY;
    }

    /* RFC 7518 6.3.1: minimal big-endian octets.  The exponent must be
     * odd and at least 3 for the key to be an RSA key at all. */
    if (nlen == 0 || n[0] == 0 || elen == 0 || e[0] == 0
        || (e[elen - 1] & 1) == 0 || (elen == 1 && e[0] < 3)
        || (n[nlen - 1] & 1) == 0)
    {
        return CC_JOSE_ERR_BAD_KEY;
    }

    bn_n = BN_bin2bn(n, (int) nlen, NULL);
    bn_e = BN_bin2bn(e, (int) elen, NULL);
    bld = OSSL_PARAM_BLD_new();
    params = NULL;
    ctx = NULL;
    err = CC_JOSE_ERR_INTERNAL;

    if (bn_n == NULL || bn_e == NULL || bld == NULL
        || OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) != 1
        || OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) != 1
        || (params = OSSL_PARAM_BLD_to_param(bld)) == NULL
        || (ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) == NULL
        || EVP_PKEY_fromdata_init(ctx) != 1)
    {
        goto done;
    }

    err = EVP_PKEY_fromdata(ctx, pkey, EVP_PKEY_PUBLIC_KEY, params) == 1
          ? CC_JOSE_OK : CC_JOSE_ERR_BAD_KEY;

done:
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn_n);
    BN_free(bn_e);
    return err;
}


static cc_jose_err_t
cc_jwk_parse_ec(const json_t *obj, EVP_PKEY **pkey)
{
    unsigned char   point[1 + 2 * CC_JWK_EC_COORD];
    size_t          xlen, ylen;
    const char     *crv;
    size_t          len;
    OSSL_PARAM      params[3];
    EVP_PKEY_CTX   *ctx, *check;
    cc_jose_err_t   err;

    if (cc_jwk_get_string(obj, "crv", &crv, &len) != 1) {
        return CC_JOSE_ERR_BAD_KEY;
    }
    if (strcmp(crv, "P-256") != 0) {
        return CC_JOSE_ERR_UNSUPPORTED_KEY;
    }

    /* RFC 7518 6.2.1.2: each coordinate is exactly the field size. */
    point[0] = 0x04;
    if (cc_jwk_decode_member(obj, "x", point + 1, CC_JWK_EC_COORD, &xlen) != 0
        || cc_jwk_decode_member(obj, "y", point + 1 + CC_JWK_EC_COORD,
                                CC_JWK_EC_COORD, &ylen) != 0
        || xlen != CC_JWK_EC_COORD || ylen != CC_JWK_EC_COORD)
    {
        return CC_JOSE_ERR_BAD_KEY;
    }

    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
                                                 (char *) "prime256v1", 0);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY,
                                                  point, sizeof(point));
    params[2] = OSSL_PARAM_construct_end();

    ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1) {
        EVP_PKEY_CTX_free(ctx);
        return CC_JOSE_ERR_INTERNAL;
    }
    err = EVP_PKEY_fromdata(ctx, pkey, EVP_PKEY_PUBLIC_KEY, params) == 1
          ? CC_JOSE_OK : CC_JOSE_ERR_BAD_KEY;
    EVP_PKEY_CTX_free(ctx);

    if (err != CC_JOSE_OK) {
        return err;
    }

    /* Import decodes the point; the explicit check is what guarantees
     * it lies on the curve (invalid-curve attacks). */
    check = EVP_PKEY_CTX_new_from_pkey(NULL, *pkey, NULL);
    if (check == NULL || EVP_PKEY_public_check(check) != 1) {
        err = check == NULL ? CC_JOSE_ERR_INTERNAL : CC_JOSE_ERR_BAD_KEY;
        EVP_PKEY_free(*pkey);
        *pkey = NULL;
    }
    EVP_PKEY_CTX_free(check);
    return err;
}


static cc_jose_err_t
cc_jwk_parse_okp(const json_t *obj, EVP_PKEY **pkey)
{
    unsigned char   x[CC_JWK_ED25519_LEN];
    size_t          xlen;
    const char     *crv;
    size_t          len;

    if (cc_jwk_get_string(obj, "crv", &crv, &len) != 1) {
        return CC_JOSE_ERR_BAD_KEY;
    }
    if (strcmp(crv, "Ed25519") != 0) {
        return CC_JOSE_ERR_UNSUPPORTED_KEY;
    }
    if (cc_jwk_decode_member(obj, "x", x, sizeof(x), &xlen) != 0
        || xlen != CC_JWK_ED25519_LEN)
    {
        return CC_JOSE_ERR_BAD_KEY;
    }

    *pkey = EVP_PKEY_new_raw_public_key_ex(NULL, "ED25519", NULL, x, xlen);
    return *pkey != NULL ? CC_JOSE_OK : CC_JOSE_ERR_BAD_KEY;
}


/* The public key of the certificate in x5c[0], if there is an x5c. */
static cc_jose_err_t
cc_jwk_parse_x5c(const json_t *obj, EVP_PKEY **pkey)
{
    const json_t         *x5c, *first;
    const unsigned char  *p;
    unsigned char        *der;
    size_t                len, derlen;
    X509                 *cert;

    x5c = json_object_get(obj, "x5c");
    if (x5c == NULL) {
        return CC_JOSE_OK;
    }
    if (!json_is_array(x5c) || json_array_size(x5c) == 0) {
        return CC_JOSE_ERR_BAD_KEY;
    }

    first = json_array_get(x5c, 0);
    if (!json_is_string(first)) {
        return CC_JOSE_ERR_BAD_KEY;
    }
    len = json_string_length(first);
    if (len == 0 || len > CC_JWK_X5C_MAX) {
        return CC_JOSE_ERR_BAD_KEY;
    }

    der = malloc(cc_base64_decoded_max(len));
    if (der == NULL) {
        return CC_JOSE_ERR_INTERNAL;
    }
    if (cc_base64_decode(json_string_value(first), len, der, &derlen) != 0) {
        free(der);
        return CC_JOSE_ERR_BAD_KEY;
    }

    /* d2i must consume the whole DER: trailing bytes would mean two
     * different x5c strings name the same key. */
    p = der;
    cert = d2i_X509(NULL, &p, (long) derlen);
    if (cert == NULL || p != der + derlen) {
        X509_free(cert);
        free(der);
        return CC_JOSE_ERR_BAD_KEY;
    }

    *pkey = X509_get_pubkey(cert);
    X509_free(cert);
    free(der);
    return *pkey != NULL ? CC_JOSE_OK : CC_JOSE_ERR_BAD_KEY;
}



/* 1 and the value if name is a string member, 0 if absent, -1 if it is
 * there with another type or holds a NUL. */
static int
cc_jwk_get_string(const json_t *obj, const char *name, const char **value,
    size_t *len)
{
    const json_t  *v;

    v = json_object_get(obj, name);
    if (v == NULL) {
        return 0;
    }
    if (!json_is_string(v)) {
        return -1;
    }
    *value = json_string_value(v);
    *len = json_string_length(v);

    /* A string with an embedded NUL would compare as its prefix. */
    return strlen(*value) == *len ? 1 : -1;
}


/* 0 with the decoded bytes, -1 if missing or malformed, -2 if longer than
 * max. */
static int
cc_jwk_decode_member(const json_t *obj, const char *name, unsigned char *out,
    size_t max, size_t *outlen)
{
    const char     *s;
    size_t          len, n;
    unsigned char  *buf;

    if (cc_jwk_get_string(obj, name, &s, &len) != 1) {
        return -1;
    }
    if (cc_base64url_decoded_max(len) > max + 3) {
        return -2;
    }

    buf = malloc(cc_base64url_decoded_max(len));
    if (buf == NULL) {
        return -1;
    }
    if (cc_base64url_decode(s, len, buf, &n) != 0) {
        free(buf);
        return -1;
    }
    if (n > max) {
        free(buf);
        return -2;
    }

    memcpy(out, buf, n);
    *outlen = n;
    free(buf);
    return 0;
}


static int
cc_jwk_is_printable(const char *s, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if ((unsigned char) s[i] < 0x20 || s[i] == 0x7f) {
            return 0;
        }
    }
    return 1;
}


static char *
cc_jwk_copy(const char *s, size_t len)
{
    char  *p;

    p = malloc(len + 1);
    if (p != NULL) {
        memcpy(p, s, len);
        p[len] = '\0';
    }
    return p;
}



cc_jose_err_t
cc_jwk_export(EVP_PKEY *pkey, const char *kid, cc_jose_alg_t alg,
    json_t **out)
{
    json_t         *obj;
    BIGNUM         *a, *b;
    unsigned char   raw[CC_JWK_ED25519_LEN];
    size_t          rawlen;
    int             rc;

    *out = NULL;
    obj = json_object();
    if (obj == NULL) {
        return CC_JOSE_ERR_INTERNAL;
    }

    a = NULL;
    b = NULL;
    rc = -1;

    switch (cc_sig_key_kind(pkey)) {
    case CC_SIG_KEY_RSA:
        if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &a) == 1
            && EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &b) == 1)
        {
            rc = json_object_set_new(obj, "kty", json_string("RSA"))
                 | cc_jwk_set_bn(obj, "n", a, 0)
                 | cc_jwk_set_bn(obj, "e", b, 0);
        }
        break;

    case CC_SIG_KEY_EC_P256:
        if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X, &a) == 1
            && EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &b) == 1)
        {
            rc = json_object_set_new(obj, "kty", json_string("EC"))
                 | json_object_set_new(obj, "crv", json_string("P-256"))
                 | cc_jwk_set_bn(obj, "x", a, CC_JWK_EC_COORD)
                 | cc_jwk_set_bn(obj, "y", b, CC_JWK_EC_COORD);
        }
        break;

    case CC_SIG_KEY_ED25519:
        rawlen = sizeof(raw);
        if (EVP_PKEY_get_raw_public_key(pkey, raw, &rawlen) == 1) {
            rc = json_object_set_new(obj, "kty", json_string("OKP"))
                 | json_object_set_new(obj, "crv", json_string("Ed25519"))
                 | cc_jwk_set_b64(obj, "x", raw, rawlen);
        }
        break;

    default:
        json_decref(obj);
        return CC_JOSE_ERR_UNSUPPORTED_KEY;
    }

    BN_free(a);
    BN_free(b);

    if (rc == 0) {
        rc = json_object_set_new(obj, "use", json_string("sig"))
             | (kid ? json_object_set_new(obj, "kid", json_string(kid)) : 0)
             | (alg != CC_JOSE_ALG_UNKNOWN
                ? json_object_set_new(obj, "alg",
                                      json_string(cc_jose_alg_name(alg)))
                : 0);
    }

    ERR_clear_error();
    if (rc != 0) {
        json_decref(obj);
        return CC_JOSE_ERR_INTERNAL;
    }
    *out = obj;
    return CC_JOSE_OK;
}


static int
cc_jwk_set_b64(json_t *obj, const char *name, const unsigned char *data,
    size_t len)
{
    char  *s;
    int    rc;

    s = malloc(cc_base64url_encoded_len(len) + 1);
    if (s == NULL) {
        return -1;
    }
    cc_base64url_encode(data, len, s);
    rc = json_object_set_new(obj, name, json_string(s));
    free(s);
    return rc;
}


/* A big number as minimal octets (width 0) or left-padded to width. */
static int
cc_jwk_set_bn(json_t *obj, const char *name, const BIGNUM *bn, int width)
{
    unsigned char  *buf;
    int             len, rc;

    len = width ? width : BN_num_bytes(bn);
    if (len <= 0) {
        return -1;
    }
    buf = malloc((size_t) len);
    if (buf == NULL || BN_bn2binpad(bn, buf, len) != len) {
        free(buf);
        return -1;
    }
    rc = cc_jwk_set_b64(obj, name, buf, (size_t) len);
    free(buf);
    return rc;
}
