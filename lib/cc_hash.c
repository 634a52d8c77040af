/*
 * SHA-256 through OpenSSL's one-shot EVP_Digest, which keeps no state
 * between calls and is safe from any thread.
 */

#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "cc_hash.h"


int
cc_sha256(const void *data, size_t len, unsigned char out[CC_SHA256_LEN])
{
    unsigned int  n;

    if (EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) != 1
        || n != CC_SHA256_LEN)
    {
        ERR_clear_error();
        memset(out, 0, CC_SHA256_LEN);
        return -1;
    }
    return 0;
}


int
cc_sha256_hex(const void *data, size_t len, char out[CC_SHA256_HEX_LEN + 1])
{
    static const char  hex[] = "0123456789abcdef";
    unsigned char      md[CC_SHA256_LEN];
    size_t             i;
    int                rc;

    rc = cc_sha256(data, len, md);
    for (i = 0; i < CC_SHA256_LEN; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 0x0f];
    }
    out[CC_SHA256_HEX_LEN] = '\0';
    return rc;
}
