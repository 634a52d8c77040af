/*
 * SHA-256 digests, for keys that stand in for secret or bulky values
 * (the verified-token cache is keyed by the hash of the token, never by
 * the token itself).
 */

#ifndef CC_HASH_H
#define CC_HASH_H

#include <stddef.h>

#define CC_SHA256_LEN      32
#define CC_SHA256_HEX_LEN  64            /* without the NUL */

/* Both return 0, or -1 if OpenSSL fails (out is then zeroed). */
int cc_sha256(const void *data, size_t len, unsigned char out[CC_SHA256_LEN]);
int cc_sha256_hex(const void *data, size_t len,
    char out[CC_SHA256_HEX_LEN + 1]);

#endif /* CC_HASH_H */
