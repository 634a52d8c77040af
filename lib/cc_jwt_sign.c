/*
 * JWS signing: base64url the header and payload, sign "header.payload"
 * with cc_sig_sign, append the signature.
 */

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cc_base64.h"
#include "cc_jwt_sign.h"
#include "cc_sig.h"


cc_jose_err_t
cc_jws_sign_raw(EVP_PKEY *pkey, cc_jose_alg_t alg, const char *header,
    size_t hlen, const char *payload, size_t plen, char **token)
{
    unsigned char   sig[CC_SIG_MAX_LEN];
    size_t          siglen, len, n;
    cc_jose_err_t   err;
    char           *t;

    *token = NULL;

    len = cc_base64url_encoded_len(hlen) + 1 + cc_base64url_encoded_len(plen)
          + 1 + cc_base64url_encoded_len(sizeof(sig)) + 1;
    t = malloc(len);
    if (t == NULL) {
        return CC_JOSE_ERR_INTERNAL;
    }

    n = cc_base64url_encode((const unsigned char *) header, hlen, t);
    t[n++] = '.';
    n += cc_base64url_encode((const unsigned char *) payload, plen, t + n);

    err = cc_sig_sign(pkey, alg, (const unsigned char *) t, n, sig, &siglen);
    if (err != CC_JOSE_OK) {
        free(t);
        return err;
    }

    t[n++] = '.';
    cc_base64url_encode(sig, siglen, t + n);
    *token = t;
    return CC_JOSE_OK;
}


cc_jose_err_t
cc_jwt_sign(EVP_PKEY *pkey, cc_jose_alg_t alg, const char *kid,
    const json_t *claims, char **token)
{
    json_t         *header;
    char           *h, *p;
    cc_jose_err_t   err;

    *token = NULL;

    header = json_object();
    if (header == NULL
        || json_object_set_new(header, "alg",
                               json_string(cc_jose_alg_name(alg))) != 0
        || json_object_set_new(header, "typ", json_string("JWT")) != 0
        || (kid != NULL
            && json_object_set_new(header, "kid", json_string(kid)) != 0))
    {
        json_decref(header);
        return CC_JOSE_ERR_INTERNAL;
    }

    h = json_dumps(header, JSON_COMPACT | JSON_PRESERVE_ORDER);
    p = json_dumps(claims, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(header);

    if (h == NULL || p == NULL) {
        err = CC_JOSE_ERR_INTERNAL;
    } else {
        err = cc_jws_sign_raw(pkey, alg, h, strlen(h), p, strlen(p), token);
    }

    free(h);
    free(p);
    return err;
}
