/*
 * The signature primitive under every JWS we verify: one function that
 * checks an RS256, PS256, ES256 or EdDSA signature with an OpenSSL public
 * key, after checking that the algorithm fits the key.  The Wycheproof
 * tests drive this same function.
 */

#ifndef CC_SIG_H
#define CC_SIG_H

#include <stddef.h>

#include <openssl/evp.h>

#include "cc_jose.h"

#define CC_SIG_RSA_MIN_BITS  2048
#define CC_SIG_RSA_MAX_BITS  8192   /* bounds the cost of one verification */
#define CC_SIG_MAX_LEN       (CC_SIG_RSA_MAX_BITS / 8)

typedef enum {
    CC_SIG_KEY_UNSUPPORTED = 0,
    CC_SIG_KEY_RSA,
    CC_SIG_KEY_EC_P256,
    CC_SIG_KEY_ED25519
} cc_sig_key_kind_t;

/* What kind of key pkey is, as far as JWS is concerned. */
cc_sig_key_kind_t cc_sig_key_kind(const EVP_PKEY *pkey);

/* CC_JOSE_OK if an RSA key's size is one we verify with (2048..8192 bits). */
cc_jose_err_t cc_sig_check_rsa_bits(const EVP_PKEY *pkey);

/* CC_JOSE_OK if alg is one of ours and fits pkey's kind (RSA: RS256 or
 * PS256; P-256: ES256; Ed25519: EdDSA), else ALG_NOT_ALLOWED or
 * ALG_KEY_MISMATCH; an RSA key outside 2048..8192 bits gives WEAK_KEY or
 * UNSUPPORTED_KEY. */
cc_jose_err_t cc_sig_check_alg(cc_jose_alg_t alg, const EVP_PKEY *pkey);

/*
 * Verifies sig over msg.  sig is in JWS form: for ES256 exactly 64 bytes
 * r||s (IEEE P1363), for RSA exactly the modulus size, for EdDSA 64 bytes.
 * PS256 means MGF1-SHA256 with a 32-byte salt, exactly.  Returns
 * CC_JOSE_OK, BAD_SIGNATURE, one of cc_sig_check_alg's errors, or
 * INTERNAL.  Reentrant; pkey is only read.  Clears OpenSSL's error queue
 * on failure so a rejected token leaves nothing behind for the caller's
 * next SSL call to trip over.
 */
cc_jose_err_t cc_sig_verify(EVP_PKEY *pkey, cc_jose_alg_t alg,
    const unsigned char *msg, size_t msglen,
    const unsigned char *sig, size_t siglen);

/*
 * Signs msg with a private key, for tests, ccctl and the simulator.  sig
 * must hold CC_SIG_MAX_LEN bytes; *siglen gets the JWS-form length.
 */
cc_jose_err_t cc_sig_sign(EVP_PKEY *pkey, cc_jose_alg_t alg,
    const unsigned char *msg, size_t msglen,
    unsigned char *sig, size_t *siglen);

#endif /* CC_SIG_H */
