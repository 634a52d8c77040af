/*
 * ccctl jwt: verify an Entra ID token with lib/'s cc_jwt_verify and print
 * what it proved, or sign test claims with cc_jwt_sign.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "ccctl.h"
#include "cc_jwks.h"
#include "cc_jwt.h"
#include "cc_jwt_sign.h"
#include "cc_sig.h"


#define CCCTL_MAX_LIST        16
#define CCCTL_TOKEN_READ_MAX  (1024 * 1024)

static const char *const  ccctl_entra_issuers[] = {
    "https://login.microsoftonline.com/{tenantid}/v2.0",
    "https://sts.windows.net/{tenantid}/",
};


static int ccctl_jwt_verify(int argc, char **argv);
static int ccctl_jwt_sign(int argc, char **argv);
static cc_jwks_t *ccctl_load_jwks(const char *source);
static json_t *ccctl_claims_json(const cc_jwt_claims_t *claims);
static json_t *ccctl_string_or_null(const char *s);
static EVP_PKEY *ccctl_read_private_key(const char *path);


int
ccctl_jwt(int argc, char **argv)
{
    if (argc >= 1 && strcmp(argv[0], "verify") == 0) {
        return ccctl_jwt_verify(argc - 1, argv + 1);
    }
    if (argc >= 1 && strcmp(argv[0], "sign") == 0) {
        return ccctl_jwt_sign(argc - 1, argv + 1);
    }
    fprintf(stderr, "ccctl: jwt needs verify or sign (try ccctl --help)\n");
    return CCCTL_ERROR;
}


static int
ccctl_jwt_verify(int argc, char **argv)
{
    static const char *const  known[] = {
        "jwks", "issuer", "audience", "alg", "leeway", "now", "max-len",
        NULL
    };
    ccctl_cmdline_t   cmd;
    cc_jwt_policy_t   policy;
    cc_jwt_claims_t   claims;
    const char       *issuers[CCCTL_MAX_LIST], *audiences[CCCTL_MAX_LIST];
    const char       *algs[CCCTL_MAX_LIST];
    long long         leeway, now, max_len;
    cc_jose_alg_t     alg;
    size_t            i, n_algs;
    cc_jwks_t        *keys;
    cc_jose_err_t     err;
    char             *token;
    size_t            len;
    json_t           *out;

    if (ccctl_parse(argc, argv, known, &cmd) != 0
        || ccctl_opt_ll(&cmd, "leeway", 60, 0, CC_JWT_MAX_LEEWAY, &leeway)
        || ccctl_opt_ll(&cmd, "now", (long long) time(NULL), 0,
                        (1LL << 62) - 1, &now)
        || ccctl_opt_ll(&cmd, "max-len", CC_JWT_DEFAULT_MAX_LEN, 1,
                        CCCTL_TOKEN_READ_MAX, &max_len))
    {
        return CCCTL_ERROR;
    }
    if (ccctl_opt(&cmd, "jwks") == NULL || ccctl_opt(&cmd, "audience") == NULL
        || cmd.n_args != 1)
    {
        fprintf(stderr, "usage: ccctl jwt verify --jwks FILE|URL "
                "--audience AUD [--issuer ISS]... [--leeway S] [--now UNIX] "
                "TOKEN|-\n");
        return CCCTL_ERROR;
    }

    memset(&policy, 0, sizeof(policy));
    policy.max_len = (size_t) max_len;
    policy.leeway = leeway;
    policy.audiences = audiences;
    policy.n_audiences = ccctl_opt_all(&cmd, "audience", audiences,
                                       CCCTL_MAX_LIST);
    policy.issuers = issuers;
    policy.n_issuers = ccctl_opt_all(&cmd, "issuer", issuers, CCCTL_MAX_LIST);
    if (policy.n_issuers == 0) {
        policy.issuers = ccctl_entra_issuers;
        policy.n_issuers = 2;
    }

    n_algs = ccctl_opt_all(&cmd, "alg", algs, CCCTL_MAX_LIST);
    for (i = 0; i < n_algs; i++) {
        alg = cc_jose_alg_from_name(algs[i], strlen(algs[i]));
        if (alg == CC_JOSE_ALG_UNKNOWN) {
            fprintf(stderr, "ccctl: --alg takes RS256, PS256, ES256 or "
                    "EdDSA\n");
            return CCCTL_ERROR;
        }
        policy.algs |= CC_JOSE_ALG_BIT(alg);
    }

    keys = ccctl_load_jwks(ccctl_opt(&cmd, "jwks"));
    if (keys == NULL) {
        return CCCTL_ERROR;
    }
    token = ccctl_read_token(cmd.args[0], CCCTL_TOKEN_READ_MAX, &len);
    if (token == NULL) {
        cc_jwks_free(keys);
        return CCCTL_ERROR;
    }

    err = cc_jwt_verify(token, len, keys, &policy, now, &claims);
    free(token);
    cc_jwks_free(keys);

    if (err != CC_JOSE_OK) {
        ccctl_print_json(json_pack("{s:s,s:s}", "result", "rejected",
                                   "error", cc_jose_strerror(err)));
        return err == CC_JOSE_ERR_INVALID_ARGUMENT ? CCCTL_ERROR
                                                   : CCCTL_REJECTED;
    }

    out = ccctl_claims_json(&claims);
    cc_jwt_claims_free(&claims);
    ccctl_print_json(out);
    return CCCTL_OK;
}


static int
ccctl_jwt_sign(int argc, char **argv)
{
    static const char *const  known[] = { "key", "alg", "kid", NULL };
    ccctl_cmdline_t   cmd;
    cc_jose_alg_t     alg;
    EVP_PKEY         *pkey;
    json_t           *claims;
    json_error_t      error;
    cc_jose_err_t     err;
    const char       *name;
    char             *text, *token;
    size_t            len;

    if (ccctl_parse(argc, argv, known, &cmd) != 0) {
        return CCCTL_ERROR;
    }
    if (ccctl_opt(&cmd, "key") == NULL || cmd.n_args != 1) {
        fprintf(stderr, "usage: ccctl jwt sign --key PEM [--alg ALG] "
                "[--kid KID] CLAIMS_JSON|-\n");
        return CCCTL_ERROR;
    }

    pkey = ccctl_read_private_key(ccctl_opt(&cmd, "key"));
    if (pkey == NULL) {
        return CCCTL_ERROR;
    }

    name = ccctl_opt(&cmd, "alg");
    if (name != NULL) {
        alg = cc_jose_alg_from_name(name, strlen(name));
    } else {
        switch (cc_sig_key_kind(pkey)) {
        case CC_SIG_KEY_RSA:     alg = CC_JOSE_ALG_RS256; break;
        case CC_SIG_KEY_EC_P256: alg = CC_JOSE_ALG_ES256; break;
        case CC_SIG_KEY_ED25519: alg = CC_JOSE_ALG_EDDSA; break;
        default:                 alg = CC_JOSE_ALG_UNKNOWN; break;
        }
    }

    text = strcmp(cmd.args[0], "-") == 0
           ? ccctl_read_source("-", CCCTL_TOKEN_READ_MAX, &len)
           : NULL;
    claims = json_loads(text ? text : cmd.args[0], JSON_REJECT_DUPLICATES,
                        &error);
    free(text);
    if (!json_is_object(claims)) {
        fprintf(stderr, "ccctl: claims must be a JSON object (line %d: %s)\n",
                error.line, error.text);
        json_decref(claims);
        EVP_PKEY_free(pkey);
        return CCCTL_ERROR;
    }

    err = cc_jwt_sign(pkey, alg, ccctl_opt(&cmd, "kid"), claims, &token);
    json_decref(claims);
    EVP_PKEY_free(pkey);
    if (err != CC_JOSE_OK) {
        fprintf(stderr, "ccctl: cannot sign: %s\n", cc_jose_strerror(err));
        return CCCTL_ERROR;
    }

    printf("%s\n", token);
    free(token);
    return CCCTL_OK;
}


static cc_jwks_t *
ccctl_load_jwks(const char *source)
{
    cc_jwks_report_t   report;
    cc_jose_err_t      err;
    cc_jwks_t         *keys;
    char              *doc;
    size_t             len;

    doc = ccctl_read_source(source, CC_JWKS_DEFAULT_MAX_DOC, &len);
    if (doc == NULL) {
        return NULL;
    }
    err = cc_jwks_parse(doc, len, NULL, &keys, &report);
    free(doc);
    if (err != CC_JOSE_OK) {
        fprintf(stderr, "ccctl: %s: JWKS refused: %s\n", source,
                cc_jose_strerror(err));
        return NULL;
    }
    return keys;
}


static json_t *
ccctl_claims_json(const cc_jwt_claims_t *claims)
{
    json_t  *identity;

    identity = json_pack("{s:s,s:o,s:o,s:o,s:o,s:s,s:o,s:o,s:o,s:I,s:o}",
        "tid", claims->tid,
        "oid", ccctl_string_or_null(claims->oid[0] ? claims->oid : NULL),
        "sub", ccctl_string_or_null(claims->sub),
        "username", ccctl_string_or_null(claims->username),
        "name", ccctl_string_or_null(claims->name),
        "roles", claims->roles ? claims->roles : "",
        "ver", ccctl_string_or_null(claims->ver),
        "aud", ccctl_string_or_null(claims->aud),
        "iss", ccctl_string_or_null(claims->iss),
        "exp", (json_int_t) claims->exp,
        "iat", claims->iat ? json_integer(claims->iat) : json_null());

    return json_pack("{s:s,s:s,s:s,s:o,s:O}",
                     "result", "verified",
                     "alg", cc_jose_alg_name(claims->alg),
                     "kid", claims->kid,
                     "identity", identity,
                     "claims", claims->payload);
}


static json_t *
ccctl_string_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}


static EVP_PKEY *
ccctl_read_private_key(const char *path)
{
    FILE      *f;
    EVP_PKEY  *pkey;

    f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "ccctl: cannot open key file %s\n", path);
        return NULL;
    }
    pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    ERR_clear_error();
    if (pkey == NULL) {
        fprintf(stderr, "ccctl: %s holds no PEM private key\n", path);
    }
    return pkey;
}
