/*
 * ccctl jwks: show a key set the way the verifier sees it, or build one
 * from PEM keys for tests.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "ccctl.h"
#include "cc_jwk.h"
#include "cc_jwks.h"


static int ccctl_jwks_show(int argc, char **argv);
static int ccctl_jwks_from_pem(int argc, char **argv);
static const char *ccctl_kind_name(cc_sig_key_kind_t kind);
static EVP_PKEY *ccctl_read_any_key(const char *path);


int
ccctl_jwks(int argc, char **argv)
{
    if (argc >= 1 && strcmp(argv[0], "show") == 0) {
        return ccctl_jwks_show(argc - 1, argv + 1);
    }
    if (argc >= 1 && strcmp(argv[0], "from-pem") == 0) {
        return ccctl_jwks_from_pem(argc - 1, argv + 1);
    }
    fprintf(stderr, "ccctl: jwks needs show or from-pem (try ccctl --help)\n");
    return CCCTL_ERROR;
}


static int
ccctl_jwks_show(int argc, char **argv)
{
    static const char *const  known[] = { "jwks", NULL };
    ccctl_cmdline_t    cmd;
    cc_jwks_report_t   report;
    cc_jwks_t         *keys;
    const cc_jwk_t    *k;
    cc_jose_err_t      err;
    json_t            *list, *out;
    char              *doc;
    size_t             len, i;

    if (ccctl_parse(argc, argv, known, &cmd) != 0) {
        return CCCTL_ERROR;
    }
    if (ccctl_opt(&cmd, "jwks") == NULL || cmd.n_args != 0) {
        fprintf(stderr, "usage: ccctl jwks show --jwks FILE|URL\n");
        return CCCTL_ERROR;
    }

    doc = ccctl_read_source(ccctl_opt(&cmd, "jwks"), CC_JWKS_DEFAULT_MAX_DOC,
                            &len);
    if (doc == NULL) {
        return CCCTL_ERROR;
    }
    err = cc_jwks_parse(doc, len, NULL, &keys, &report);
    free(doc);
    if (err != CC_JOSE_OK) {
        ccctl_print_json(json_pack("{s:s,s:s}", "result", "rejected",
                                   "error", cc_jose_strerror(err)));
        return CCCTL_REJECTED;
    }

    list = json_array();
    for (i = 0; i < cc_jwks_count(keys); i++) {
        k = cc_jwks_get(keys, i);
        json_array_append_new(list, json_pack("{s:s,s:s,s:i,s:s,s:s?}",
            "kid", k->kid,
            "type", ccctl_kind_name(k->kind),
            "bits", EVP_PKEY_get_bits(k->pkey),
            "alg", k->alg != CC_JOSE_ALG_UNKNOWN ? cc_jose_alg_name(k->alg)
                                                 : "by key type",
            "issuer", k->issuer));
    }

    out = json_pack("{s:s,s:o,s:I,s:I}", "result", "ok", "keys", list,
                    "loaded", (json_int_t) report.loaded,
                    "skipped", (json_int_t) report.skipped);
    if (report.skipped > 0) {
        json_object_set_new(out, "first_skipped",
            json_pack("{s:I,s:s}", "index",
                      (json_int_t) report.first_skip_index,
                      "error", cc_jose_strerror(report.first_skip)));
    }
    ccctl_print_json(out);
    cc_jwks_free(keys);
    return CCCTL_OK;
}


/* KID=PEM arguments; the same --alg and --issuer for every key. */
static int
ccctl_jwks_from_pem(int argc, char **argv)
{
    static const char *const  known[] = { "alg", "issuer", NULL };
    ccctl_cmdline_t   cmd;
    cc_jose_alg_t     alg;
    const char       *name, *eq, *issuer;
    char              kid[CC_JWK_KID_MAX + 1];
    EVP_PKEY         *pkey;
    json_t           *keys, *jwk;
    size_t            i;

    if (ccctl_parse(argc, argv, known, &cmd) != 0) {
        return CCCTL_ERROR;
    }
    if (cmd.n_args == 0) {
        fprintf(stderr, "usage: ccctl jwks from-pem [--alg ALG] "
                "[--issuer ISS] KID=PEM...\n");
        return CCCTL_ERROR;
    }

    alg = CC_JOSE_ALG_UNKNOWN;
    name = ccctl_opt(&cmd, "alg");
    if (name != NULL) {
        alg = cc_jose_alg_from_name(name, strlen(name));
        if (alg == CC_JOSE_ALG_UNKNOWN) {
            fprintf(stderr, "ccctl: --alg must be RS256, PS256, ES256 or "
                    "EdDSA\n");
            return CCCTL_ERROR;
        }
    }
    issuer = ccctl_opt(&cmd, "issuer");

    keys = json_array();
    for (i = 0; i < cmd.n_args; i++) {
        eq = strchr(cmd.args[i], '=');
        if (eq == NULL || eq == cmd.args[i]
            || (size_t) (eq - cmd.args[i]) > CC_JWK_KID_MAX)
        {
            fprintf(stderr, "ccctl: '%s' is not KID=PEM\n", cmd.args[i]);
            json_decref(keys);
            return CCCTL_ERROR;
        }
        memcpy(kid, cmd.args[i], (size_t) (eq - cmd.args[i]));
        kid[eq - cmd.args[i]] = '\0';

        pkey = ccctl_read_any_key(eq + 1);
        if (pkey == NULL || cc_jwk_export(pkey, kid, alg, &jwk) != CC_JOSE_OK) {
            fprintf(stderr, "ccctl: %s: not an RSA, P-256 or Ed25519 key\n",
                    eq + 1);
            EVP_PKEY_free(pkey);
            json_decref(keys);
            return CCCTL_ERROR;
        }
        EVP_PKEY_free(pkey);
        if (issuer != NULL) {
            json_object_set_new(jwk, "issuer", json_string(issuer));
        }
        json_array_append_new(keys, jwk);
    }

    ccctl_print_json(json_pack("{s:o}", "keys", keys));
    return CCCTL_OK;
}


static const char *
ccctl_kind_name(cc_sig_key_kind_t kind)
{
    switch (kind) {
    case CC_SIG_KEY_RSA:     return "RSA";
    case CC_SIG_KEY_EC_P256: return "EC P-256";
    case CC_SIG_KEY_ED25519: return "Ed25519";
    default:                 return "unsupported";
    }
}


/* A private or public PEM key. */
static EVP_PKEY *
ccctl_read_any_key(const char *path)
{
    FILE      *f;
    EVP_PKEY  *pkey;

    f = fopen(path, "r");
    if (f == NULL) {
        return NULL;
    }
    pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    if (pkey == NULL) {
        rewind(f);
        pkey = PEM_read_PUBKEY(f, NULL, NULL, NULL);
    }
    fclose(f);
    ERR_clear_error();
    return pkey;
}
