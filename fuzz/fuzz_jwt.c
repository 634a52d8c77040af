/*
 * libFuzzer target for cc_jwt_verify (whole tokens against a fixed JWKS)
 * and cc_jwt_check_claims (payloads, when the input starts with 'C'), with
 * invariants a verified token must satisfy.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cc_jwks.h"
#include "cc_jwt.h"
#include "cc_jwt_claims.h"
#include "fuzz_keys.h"


#define FUZZ_NOW     1795000000LL
#define FUZZ_LEEWAY  60

static const char *const  fuzz_issuers[] = {
    "https://login.microsoftonline.com/{tenantid}/v2.0",
    "https://sts.windows.net/{tenantid}/",
};
static const char *const  fuzz_audiences[] = { "app", "api://app" };

static cc_jwks_t        *fuzz_keys;
static cc_jwt_policy_t   fuzz_policy;


int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    if (cc_jwks_parse(FUZZ_JWKS, strlen(FUZZ_JWKS), NULL, &fuzz_keys, NULL)
        != CC_JOSE_OK)
    {
        abort();
    }
    fuzz_policy.leeway = FUZZ_LEEWAY;
    fuzz_policy.issuers = fuzz_issuers;
    fuzz_policy.n_issuers = 2;
    fuzz_policy.audiences = fuzz_audiences;
    fuzz_policy.n_audiences = 2;
    return 0;
}


/* What any accepted token must look like, whatever path accepted it. */
static void
check_verified(const cc_jwt_claims_t *c)
{
    if (strlen(c->tid) != 36 || c->iss == NULL || c->aud == NULL
        || c->roles == NULL || c->payload == NULL
        || c->exp <= FUZZ_NOW - FUZZ_LEEWAY
        || (c->oid[0] != '\0' && strlen(c->oid) != 36)
        || strstr(c->roles, ",,") != NULL || c->roles[0] == ','
        || strchr(c->roles, ' ') != NULL)
    {
        abort();
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cc_jwt_claims_t   claims;
    json_t           *payload;

    if (size > 0 && data[0] == 'C') {
        payload = json_loadb((const char *) data + 1, size - 1,
                             JSON_REJECT_DUPLICATES, NULL);
        if (payload != NULL) {
            if (cc_jwt_check_claims(payload, cc_jwks_get(fuzz_keys, 0),
                                    &fuzz_policy, FUZZ_NOW, &claims)
                == CC_JOSE_OK)
            {
                check_verified(&claims);
            }
            cc_jwt_claims_free(&claims);
            json_decref(payload);
        }
        return 0;
    }

    if (cc_jwt_verify((const char *) data, size, fuzz_keys, &fuzz_policy,
                      FUZZ_NOW, &claims) == CC_JOSE_OK)
    {
        check_verified(&claims);
    }
    cc_jwt_claims_free(&claims);
    return 0;
}
