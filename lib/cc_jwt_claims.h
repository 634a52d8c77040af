/*
 * The claim rules of an Entra token, applied once its signature is good:
 * lifetime, audience, tenant, issuer, and what nginx passes upstream.
 */

#ifndef CC_JWT_CLAIMS_H
#define CC_JWT_CLAIMS_H

#include <jansson.h>

#include "cc_jose.h"
#include "cc_jwk.h"
#include "cc_jwt.h"

/*
 * The claim rules alone, on an already verified payload signed by key
 * (NULL: no key issuer to honour): exp (required) and nbf with leeway,
 * aud, tid, iss against the policy and against the key's own issuer, then
 * extraction into *claims.  cc_jwt_verify calls it; the fuzzer and tests
 * call it directly.  The policy is not re-validated here.  On CC_JOSE_OK
 * *claims holds its own reference to payload (cc_jwt_claims_free).
 */
cc_jose_err_t cc_jwt_check_claims(json_t *payload, const cc_jwk_t *key,
    const cc_jwt_policy_t *policy, long long now, cc_jwt_claims_t *claims);

#endif /* CC_JWT_CLAIMS_H */
