/*
 * One JSON Web Key (RFC 7517) turned into an OpenSSL public key we can
 * verify JWS signatures with: RSA (n/e or x5c[0]), EC P-256 and Ed25519.
 */

#ifndef CC_JWK_H
#define CC_JWK_H

#include <stddef.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "cc_jose.h"
#include "cc_sig.h"

#define CC_JWK_KID_MAX     256      /* bytes; longer kids are refused */
#define CC_JWK_ISSUER_MAX  1024
#define CC_JWK_X5C_MAX     16384    /* characters of x5c[0] */

/*
 * A usable verification key.  Every pointer is owned by the struct and
 * released by cc_jwk_clear(); after parsing nothing in it changes, so one
 * key may be used from several threads at once.
 */
typedef struct {
    char               *kid;        /* never NULL in a parsed key */
    char               *issuer;     /* NULL, or an issuer that may hold the
                                       template "{tenantid}" (Entra) */
    cc_jose_alg_t       alg;        /* the JWK's "alg", or UNKNOWN if none
                                       (Entra v1 keys carry none) */
    cc_sig_key_kind_t   kind;
    EVP_PKEY           *pkey;
} cc_jwk_t;

/*
 * Parses one member of a JWKS "keys" array.  On CC_JOSE_OK *jwk holds the
 * key (call cc_jwk_clear); on any error *jwk is left empty.  Refusals:
 * BAD_KEY (malformed: missing or mistyped members, non-canonical base64url,
 * a point not on the curve, a kid missing or over CC_JWK_KID_MAX),
 * UNSUPPORTED_KEY (kty/crv/alg we do not verify with, RSA over 8192 bits),
 * WEAK_KEY (RSA under 2048 bits), KEY_NOT_FOR_SIGNING ("use" other than
 * "sig", or "key_ops" without "verify"), ALG_KEY_MISMATCH ("alg" does not
 * fit the key type), X5C_MISMATCH (x5c[0] holds a different public key).
 * x5c[0] is only a carrier for the key: its validity dates and chain are
 * not checked, the JWKS is trusted because of where it was fetched from.
 */
cc_jose_err_t cc_jwk_parse(const json_t *obj, cc_jwk_t *jwk);

/*
 * The public JWK for pkey (RSA, P-256 or Ed25519; a private key is fine,
 * only public members are written), with kid and, when alg is not UNKNOWN,
 * "alg"; "use" is "sig".  For tests, ccctl and the simulator.  Other key
 * types give UNSUPPORTED_KEY.  On CC_JOSE_OK the caller owns *out
 * (json_decref).
 */
cc_jose_err_t cc_jwk_export(EVP_PKEY *pkey, const char *kid,
    cc_jose_alg_t alg, json_t **out);

/* Releases what cc_jwk_parse allocated and empties *jwk; idempotent. */
void cc_jwk_clear(cc_jwk_t *jwk);

#endif /* CC_JWK_H */
