/*
 * HMAC-SHA256 and constant-time comparison, the MAC under our own session
 * tokens.
 */

#ifndef CC_MAC_H
#define CC_MAC_H

#include <stddef.h>

#define CC_HMAC_SHA256_LEN  32

/* Returns 0 and fills out[32], or -1 if OpenSSL fails. */
int cc_hmac_sha256(const unsigned char *key, size_t keylen,
    const unsigned char *msg, size_t msglen,
    unsigned char out[CC_HMAC_SHA256_LEN]);

/*
 * Returns 0 when tag is the HMAC-SHA256 of msg under key truncated to
 * tag_size bytes, -1 otherwise.  tag_size is the caller's policy (sessions
 * use the full 32 bytes; it must be 16..32): a tag of any other length is
 * rejected, so an attacker cannot shorten the tag to shorten the search.
 * The comparison takes the same time wherever the first difference is.
 */
int cc_hmac_sha256_verify(const unsigned char *key, size_t keylen,
    const unsigned char *msg, size_t msglen,
    const unsigned char *tag, size_t taglen, size_t tag_size);

/* Returns 1 when a[0..len) equals b[0..len), in time that depends only on
 * len. */
int cc_ct_equal(const void *a, const void *b, size_t len);

#endif /* CC_MAC_H */
