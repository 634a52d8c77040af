/*
 * HMAC-SHA256 with OpenSSL's one-shot HMAC(), which is reentrant, and the
 * constant-time tag check that goes with it.
 */

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "cc_mac.h"


int
cc_hmac_sha256(const unsigned char *key, size_t keylen,
    const unsigned char *msg, size_t msglen,
    unsigned char out[CC_HMAC_SHA256_LEN])
{
    static const unsigned char  empty[1] = { 0 };
    unsigned int                n;

    if (keylen > (size_t) 0x7fffffff) {
        return -1;
    }

    /* HMAC() treats a NULL key as "reuse the previous one"; an empty key
     * must still be an empty key. */
    n = 0;
    if (HMAC(EVP_sha256(), key ? (const void *) key : empty, (int) keylen,
             msg ? msg : empty, msglen, out, &n) == NULL
        || n != CC_HMAC_SHA256_LEN)
    {
        ERR_clear_error();
        OPENSSL_cleanse(out, CC_HMAC_SHA256_LEN);
        return -1;
    }
    return 0;
}


int
cc_hmac_sha256_verify(const unsigned char *key, size_t keylen,
    const unsigned char *msg, size_t msglen,
    const unsigned char *tag, size_t taglen, size_t tag_size)
{
    unsigned char  mac[CC_HMAC_SHA256_LEN];
    int            equal;

    if (tag_size < 16 || tag_size > CC_HMAC_SHA256_LEN || taglen != tag_size) {
        return -1;
    }
    if (cc_hmac_sha256(key, keylen, msg, msglen, mac) != 0) {
        return -1;
    }

    equal = cc_ct_equal(mac, tag, tag_size);
    OPENSSL_cleanse(mac, sizeof(mac));
    return equal ? 0 : -1;
}


int
cc_ct_equal(const void *a, const void *b, size_t len)
{
    return CRYPTO_memcmp(a, b, len) == 0;
}
