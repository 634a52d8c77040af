/*
 * JWS signature verification and signing over OpenSSL 3's EVP interface,
 * including the conversion between JOSE's fixed-size r||s ECDSA form and
 * the DER form OpenSSL speaks.
 */

#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "cc_sig.h"


#define CC_SIG_ES256_HALF  32
#define CC_SIG_ES256_LEN   64
#define CC_SIG_ED25519_LEN 64
#define CC_SIG_PSS_SALT    32       /* RFC 7518 3.5: salt as long as hash */


static int cc_sig_is_p256(const EVP_PKEY *pkey);
static EVP_MD_CTX *cc_sig_init(EVP_PKEY *pkey, cc_jose_alg_t alg, int sign);
static unsigned char *cc_sig_p1363_to_der(const unsigned char *sig,
    size_t *derlen);
static int cc_sig_der_to_p1363(const unsigned char *der, size_t derlen,
    unsigned char out[CC_SIG_ES256_LEN]);
static cc_jose_err_t cc_sig_fail(cc_jose_err_t err);


cc_sig_key_kind_t
cc_sig_key_kind(const EVP_PKEY *pkey)
{
    if (pkey == NULL) {
        return CC_SIG_KEY_UNSUPPORTED;
    }
    if (EVP_PKEY_is_a(pkey, "RSA")) {
        return CC_SIG_KEY_RSA;
    }
    if (EVP_PKEY_is_a(pkey, "EC") && cc_sig_is_p256(pkey)) {
        return CC_SIG_KEY_EC_P256;
    }
    if (EVP_PKEY_is_a(pkey, "ED25519")) {
        return CC_SIG_KEY_ED25519;
    }
    return CC_SIG_KEY_UNSUPPORTED;
}



cc_jose_err_t
cc_sig_check_rsa_bits(const EVP_PKEY *pkey)
{
    int  bits;

    bits = EVP_PKEY_get_bits(pkey);
    if (bits < CC_SIG_RSA_MIN_BITS) {
        return CC_JOSE_ERR_WEAK_KEY;
    }
    if (bits > CC_SIG_RSA_MAX_BITS) {
        return CC_JOSE_ERR_UNSUPPORTED_KEY;
    }
    return CC_JOSE_OK;
}

cc_jose_err_t
cc_sig_check_alg(cc_jose_alg_t alg, const EVP_PKEY *pkey)
{
    cc_sig_key_kind_t  kind;

    kind = cc_sig_key_kind(pkey);

    switch (alg) {
    case CC_JOSE_ALG_RS256:
    case CC_JOSE_ALG_PS256:
        if (kind != CC_SIG_KEY_RSA) {
            return CC_JOSE_ERR_ALG_KEY_MISMATCH;
        }
        return cc_sig_check_rsa_bits(pkey);

    case CC_JOSE_ALG_ES256:
        return kind == CC_SIG_KEY_EC_P256 ? CC_JOSE_OK
                                          : CC_JOSE_ERR_ALG_KEY_MISMATCH;

    case CC_JOSE_ALG_EDDSA:
        return kind == CC_SIG_KEY_ED25519 ? CC_JOSE_OK
                                          : CC_JOSE_ERR_ALG_KEY_MISMATCH;

    default:
        return CC_JOSE_ERR_ALG_NOT_ALLOWED;
    }
}


cc_jose_err_t
cc_sig_verify(EVP_PKEY *pkey, cc_jose_alg_t alg,
    const unsigned char *msg, size_t msglen,
    const unsigned char *sig, size_t siglen)
{
    cc_jose_err_t   err;
    EVP_MD_CTX     *ctx;
    unsigned char  *der;
    size_t          derlen;
    int             rc;

    err = cc_sig_check_alg(alg, pkey);
    if (err != CC_JOSE_OK) {
        return err;
    }

    /* Exact lengths first: JWS signatures have one size per key, and a
     * short or padded one is a different signature, not the same one. */
    switch (alg) {
    case CC_JOSE_ALG_ES256:
        if (siglen != CC_SIG_ES256_LEN) {
            return CC_JOSE_ERR_BAD_SIGNATURE;
        }
        break;
    case CC_JOSE_ALG_EDDSA:
        if (siglen != CC_SIG_ED25519_LEN) {
            return CC_JOSE_ERR_BAD_SIGNATURE;
        }
        break;
    default:
        if (siglen != (size_t) EVP_PKEY_get_size(pkey)) {
            return CC_JOSE_ERR_BAD_SIGNATURE;
        }
        break;
    }

    der = NULL;
    if (alg == CC_JOSE_ALG_ES256) {
        der = cc_sig_p1363_to_der(sig, &derlen);
        if (der == NULL) {
            return cc_sig_fail(CC_JOSE_ERR_INTERNAL);
        }
        sig = der;
        siglen = derlen;
    }

    ctx = cc_sig_init(pkey, alg, 0);
    if (ctx == NULL) {
        OPENSSL_free(der);
        return cc_sig_fail(CC_JOSE_ERR_INTERNAL);
    }

    rc = EVP_DigestVerify(ctx, sig, siglen, msg, msglen);

    EVP_MD_CTX_free(ctx);
    OPENSSL_free(der);

    return rc == 1 ? CC_JOSE_OK : cc_sig_fail(CC_JOSE_ERR_BAD_SIGNATURE);
}


cc_jose_err_t
cc_sig_sign(EVP_PKEY *pkey, cc_jose_alg_t alg,
    const unsigned char *msg, size_t msglen,
    unsigned char *sig, size_t *siglen)
{
    cc_jose_err_t   err;
    EVP_MD_CTX     *ctx;
    unsigned char   der[CC_SIG_MAX_LEN];
    size_t          len;
    int             rc;

    err = cc_sig_check_alg(alg, pkey);
    if (err != CC_JOSE_OK) {
        return err;
    }

    ctx = cc_sig_init(pkey, alg, 1);
    if (ctx == NULL) {
        return cc_sig_fail(CC_JOSE_ERR_INTERNAL);
    }

    len = sizeof(der);
    rc = EVP_DigestSign(ctx, der, &len, msg, msglen);
    EVP_MD_CTX_free(ctx);
    if (rc != 1) {
        return cc_sig_fail(CC_JOSE_ERR_INTERNAL);
    }

    if (alg == CC_JOSE_ALG_ES256) {
        if (cc_sig_der_to_p1363(der, len, sig) != 0) {
            return cc_sig_fail(CC_JOSE_ERR_INTERNAL);
        }
        *siglen = CC_SIG_ES256_LEN;
        return CC_JOSE_OK;
    }

    memcpy(sig, der, len);
    *siglen = len;
    return CC_JOSE_OK;
}


static int
cc_sig_is_p256(const EVP_PKEY *pkey)
{
    char    name[64];
    size_t  len;

    if (EVP_PKEY_get_group_name(pkey, name, sizeof(name), &len) != 1) {
        ERR_clear_error();
        return 0;
    }
    return strcmp(name, "prime256v1") == 0 || strcmp(name, "P-256") == 0;
}


/*
 * A digest-sign or digest-verify context for alg.  EdDSA hashes inside the
 * algorithm (no digest name); PS256 pins MGF1-SHA256 and the salt length so
 * a signature made with any other salt is refused.
 */
static EVP_MD_CTX *
cc_sig_init(EVP_PKEY *pkey, cc_jose_alg_t alg, int sign)
{
    EVP_MD_CTX    *ctx;
    EVP_PKEY_CTX  *pctx;
    const char    *md;
    int            rc;

    ctx = EVP_MD_CTX_new();
    if (ctx == NULL) {
        return NULL;
    }

    md = alg == CC_JOSE_ALG_EDDSA ? NULL : "SHA256";
    pctx = NULL;

    if (sign) {
        rc = EVP_DigestSignInit_ex(ctx, &pctx, md, NULL, NULL, pkey, NULL);
    } else {
        rc = EVP_DigestVerifyInit_ex(ctx, &pctx, md, NULL, NULL, pkey, NULL);
    }

    if (rc == 1 && alg == CC_JOSE_ALG_RS256) {
        rc = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING);
    }

    if (rc == 1 && alg == CC_JOSE_ALG_PS256) {
        rc = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
        if (rc == 1) {
            rc = EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, "SHA256", NULL);
        }
        if (rc == 1) {
            rc = EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, CC_SIG_PSS_SALT);
        }
    }

    if (rc != 1) {
        EVP_MD_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}


/* r||s, 32 bytes each, to a DER ECDSA-Sig-Value; OPENSSL_free the result. */
static unsigned char *
cc_sig_p1363_to_der(const unsigned char *sig, size_t *derlen)
{
    ECDSA_SIG      *es;
    BIGNUM         *r, *s;
    unsigned char  *der;
    int             len;

    es = ECDSA_SIG_new();
    r = BN_bin2bn(sig, CC_SIG_ES256_HALF, NULL);
    s = BN_bin2bn(sig + CC_SIG_ES256_HALF, CC_SIG_ES256_HALF, NULL);

    if (es == NULL || r == NULL || s == NULL || ECDSA_SIG_set0(es, r, s) != 1) {
        ECDSA_SIG_free(es);
        BN_free(r);
        BN_free(s);
        return NULL;
    }

    der = NULL;
    len = i2d_ECDSA_SIG(es, &der);
    ECDSA_SIG_free(es);
    if (len <= 0) {
        return NULL;
    }

    *derlen = (size_t) len;
    return der;
}


static int
cc_sig_der_to_p1363(const unsigned char *der, size_t derlen,
    unsigned char out[CC_SIG_ES256_LEN])
{
    const unsigned char  *p;
    const BIGNUM         *r, *s;
    ECDSA_SIG            *es;
    int                   rc;

    p = der;
    es = d2i_ECDSA_SIG(NULL, &p, (long) derlen);
    if (es == NULL) {
        return -1;
    }

    ECDSA_SIG_get0(es, &r, &s);
    rc = BN_bn2binpad(r, out, CC_SIG_ES256_HALF) == CC_SIG_ES256_HALF
         && BN_bn2binpad(s, out + CC_SIG_ES256_HALF, CC_SIG_ES256_HALF)
            == CC_SIG_ES256_HALF;

    ECDSA_SIG_free(es);
    return rc ? 0 : -1;
}


static cc_jose_err_t
cc_sig_fail(cc_jose_err_t err)
{
    ERR_clear_error();
    return err;
}
