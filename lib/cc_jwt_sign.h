/*
 * Minting compact JWS tokens, for tests, ccctl and the Azure simulator.
 * Production code only ever verifies Entra's tokens; nothing in nginx or
 * the workers calls these.
 */

#ifndef CC_JWT_SIGN_H
#define CC_JWT_SIGN_H

#include <stddef.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "cc_jose.h"

/*
 * Signs header[0..hlen) and payload[0..plen) taken verbatim (not checked,
 * not re-serialised: tests use this to build hostile tokens) with pkey
 * under alg.  On CC_JOSE_OK *token is a NUL-terminated compact JWS the
 * caller frees with free().
 */
cc_jose_err_t cc_jws_sign_raw(EVP_PKEY *pkey, cc_jose_alg_t alg,
    const char *header, size_t hlen, const char *payload, size_t plen,
    char **token);

/*
 * The ordinary case: header {"alg":..,"typ":"JWT","kid":kid} (kid may be
 * NULL to leave it out) and claims serialised compactly.
 */
cc_jose_err_t cc_jwt_sign(EVP_PKEY *pkey, cc_jose_alg_t alg, const char *kid,
    const json_t *claims, char **token);

#endif /* CC_JWT_SIGN_H */
