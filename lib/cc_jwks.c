/*
 * JWKS parsing: bound the document, parse it with jansson refusing
 * duplicate member names, keep the keys we can verify with.
 */

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cc_jwks.h"


struct cc_jwks_s {
    size_t     count;
    cc_jwk_t  *keys;
};


static cc_jose_err_t cc_jwks_load_json(const char *doc, size_t len,
    json_t **root);
static cc_jose_err_t cc_jwks_add_keys(cc_jwks_t *set, const json_t *keys,
    cc_jwks_report_t *report);
static int cc_jwks_has_kid(const cc_jwks_t *set, const char *kid);


cc_jose_err_t
cc_jwks_parse(const char *doc, size_t len, const cc_jwks_limits_t *limits,
    cc_jwks_t **set, cc_jwks_report_t *report)
{
    cc_jwks_report_t   dummy;
    cc_jose_err_t      err;
    json_t            *root;
    const json_t      *keys;
    size_t             max_doc, max_keys;
    cc_jwks_t         *s;

    *set = NULL;
    if (report == NULL) {
        report = &dummy;
    }
    memset(report, 0, sizeof(*report));

    max_doc = limits && limits->max_doc_len ? limits->max_doc_len
                                            : CC_JWKS_DEFAULT_MAX_DOC;
    max_keys = limits && limits->max_keys ? limits->max_keys
                                          : CC_JWKS_DEFAULT_MAX_KEYS;

    if (len > max_doc) {
        return CC_JOSE_ERR_JWKS_TOO_LARGE;
    }

    err = cc_jwks_load_json(doc, len, &root);
    if (err != CC_JOSE_OK) {
        return err;
    }

    keys = json_object_get(root, "keys");
    if (!json_is_array(keys)) {
        json_decref(root);
        return CC_JOSE_ERR_BAD_JSON;
    }
    if (json_array_size(keys) > max_keys) {
        json_decref(root);
        return CC_JOSE_ERR_TOO_MANY_KEYS;
    }

    s = calloc(1, sizeof(*s));
    if (s != NULL && json_array_size(keys) > 0) {
        s->keys = calloc(json_array_size(keys), sizeof(cc_jwk_t));
        if (s->keys == NULL) {
            free(s);
            s = NULL;
        }
    }
    if (s == NULL) {
        json_decref(root);
        return CC_JOSE_ERR_INTERNAL;
    }

    err = cc_jwks_add_keys(s, keys, report);
    json_decref(root);

    if (err == CC_JOSE_OK && s->count == 0) {
        err = CC_JOSE_ERR_NO_USABLE_KEYS;
    }
    if (err != CC_JOSE_OK) {
        cc_jwks_free(s);
        return err;
    }

    *set = s;
    return CC_JOSE_OK;
}


const cc_jwk_t *
cc_jwks_find(const cc_jwks_t *set, const char *kid, size_t len)
{
    size_t  i;

    if (set == NULL) {
        return NULL;
    }
    for (i = 0; i < set->count; i++) {
        if (strlen(set->keys[i].kid) == len
            && memcmp(set->keys[i].kid, kid, len) == 0)
        {
            return &set->keys[i];
        }
    }
    return NULL;
}


size_t
cc_jwks_count(const cc_jwks_t *set)
{
    return set ? set->count : 0;
}


const cc_jwk_t *
cc_jwks_get(const cc_jwks_t *set, size_t i)
{
    return set && i < set->count ? &set->keys[i] : NULL;
}


void
cc_jwks_free(cc_jwks_t *set)
{
    size_t  i;

    if (set == NULL) {
        return;
    }
    for (i = 0; i < set->count; i++) {
        cc_jwk_clear(&set->keys[i]);
    }
    free(set->keys);
    free(set);
}


static cc_jose_err_t
cc_jwks_load_json(const char *doc, size_t len, json_t **root)
{
    json_error_t  error;

    *root = json_loadb(doc, len, JSON_REJECT_DUPLICATES, &error);
    if (*root == NULL) {
        return json_error_code(&error) == json_error_duplicate_key
               ? CC_JOSE_ERR_DUPLICATE_KEY : CC_JOSE_ERR_BAD_JSON;
    }
    if (!json_is_object(*root)) {
        json_decref(*root);
        *root = NULL;
        return CC_JOSE_ERR_BAD_JSON;
    }
    return CC_JOSE_OK;
}


static cc_jose_err_t
cc_jwks_add_keys(cc_jwks_t *set, const json_t *keys, cc_jwks_report_t *report)
{
    cc_jose_err_t  err;
    cc_jwk_t       jwk;
    size_t         i;

    for (i = 0; i < json_array_size(keys); i++) {
        err = cc_jwk_parse(json_array_get(keys, i), &jwk);

        if (err == CC_JOSE_ERR_INTERNAL) {
            return err;
        }
        if (err != CC_JOSE_OK) {
            if (report->skipped++ == 0) {
                report->first_skip = err;
                report->first_skip_index = i;
            }
            continue;
        }

        if (cc_jwks_has_kid(set, jwk.kid)) {
            cc_jwk_clear(&jwk);
            return CC_JOSE_ERR_DUPLICATE_KID;
        }

        set->keys[set->count++] = jwk;
        report->loaded++;
    }
    return CC_JOSE_OK;
}


static int
cc_jwks_has_kid(const cc_jwks_t *set, const char *kid)
{
    return cc_jwks_find(set, kid, strlen(kid)) != NULL;
}
