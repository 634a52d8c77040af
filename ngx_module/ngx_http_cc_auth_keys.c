
/*
 * Concierge: the keys a token may be verified with.  Static keys come
 * from a JWKS file parsed at configuration time; registry keys (pushed by
 * cc-worker from the issuers' JWKS) are parsed into OpenSSL keys once per
 * worker process and per registry generation of the key, in a small
 * per-process cache, so no request ever parses a key.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "cc_base64.h"
#include "cc_jwk.h"

#include "ngx_http_cc_auth.h"


#define NGX_HTTP_CC_AUTH_KEY_SLOTS       64
#define NGX_HTTP_CC_AUTH_MAX_HEADER      2048    /* base64url characters */


/*
 * One parsed registry key.  A key that could not be parsed is remembered
 * too (set NULL), so a bad entry costs one parse per generation, not one
 * per request.
 */
typedef struct {
    size_t                        kid_len;
    u_char                        kid[NGX_HTTP_CC_KID_MAX];
    uint64_t                      generation;
    cc_jwks_t                    *set;
    ngx_uint_t                    used;             /* 0: free slot */
} ngx_http_cc_auth_key_slot_t;


static void ngx_http_cc_auth_free_jwks(void *data);
static ngx_int_t ngx_http_cc_auth_token_kid(ngx_str_t *token, u_char *buf,
    ngx_str_t *kid);
static const cc_jwks_t *ngx_http_cc_auth_registry_set(ngx_http_request_t *r,
    ngx_http_cc_registry_t *reg, ngx_str_t *kid, uint64_t generation);
static ngx_http_cc_auth_key_slot_t *ngx_http_cc_auth_key_slot(ngx_str_t *kid);
static cc_jwks_t *ngx_http_cc_auth_parse_registry_key(ngx_http_request_t *r,
    ngx_http_cc_registry_t *reg, ngx_str_t *kid);
static cc_jwks_t *ngx_http_cc_auth_single_key_set(json_t *jwk,
    cc_jose_err_t *err);
static ngx_int_t ngx_http_cc_auth_fallback(ngx_http_cc_auth_loc_conf_t *alcf,
    ngx_http_cc_auth_key_choice_t *choice);
static cc_jwks_t *ngx_http_cc_auth_placeholder_set(void);


static ngx_http_cc_auth_key_slot_t  ngx_http_cc_auth_key_slots[
                                        NGX_HTTP_CC_AUTH_KEY_SLOTS];
static ngx_uint_t                   ngx_http_cc_auth_key_clock;
static cc_jwks_t                   *ngx_http_cc_auth_placeholder;


char *
ngx_http_cc_auth_load_jwks(ngx_conf_t *cf, ngx_str_t *path,
    ngx_http_cc_auth_jwks_t **jwks)
{
    ngx_str_t                  text;
    cc_jose_err_t              err;
    cc_jwks_report_t           report;
    ngx_pool_cleanup_t        *cln;
    ngx_http_cc_auth_jwks_t   *k;

    k = ngx_pcalloc(cf->pool, sizeof(ngx_http_cc_auth_jwks_t));
    if (k == NULL) {
        return NGX_CONF_ERROR;
    }

    k->path = *path;

    if (ngx_conf_full_name(cf->cycle, &k->path, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_cc_auth_read_file(cf, &k->path, CC_JWKS_DEFAULT_MAX_DOC,
                                   &text)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    err = cc_jwks_parse((const char *) text.data, text.len, NULL, &k->set,
                        &report);
    if (err != CC_JOSE_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "cc_auth_jwks_file \"%V\" refused: %s",
                           &k->path, cc_jose_strerror(err));
        return NGX_CONF_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        cc_jwks_free(k->set);
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_http_cc_auth_free_jwks;
    cln->data = k->set;

    if (report.skipped) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "cc_auth_jwks_file \"%V\": %uz key(s) skipped, "
                           "the first (keys[%uz]) for: %s",
                           &k->path, report.skipped, report.first_skip_index,
                           cc_jose_strerror(report.first_skip));
    }

    if (cc_sha256(text.data, text.len, k->digest) != 0) {
        return NGX_CONF_ERROR;
    }

    *jwks = k;

    return NGX_CONF_OK;
}


static void
ngx_http_cc_auth_free_jwks(void *data)
{
    cc_jwks_free(data);
}


/*
 * Picks the set to hand to cc_jwt_verify: the static set when it holds
 * the token's kid, else the registry's key of that kid.  When neither
 * does (or the header cannot even be read), a set without that kid is
 * chosen on purpose, so that lib applies its header rules in its own
 * order and the answer is the same whatever the key source: "alg none"
 * stays alg_not_allowed, an unknown kid unknown_kid.
 */

ngx_int_t
ngx_http_cc_auth_choose_keys(ngx_http_request_t *r,
    ngx_http_cc_auth_loc_conf_t *alcf, ngx_http_cc_registry_t *reg,
    ngx_str_t *token, ngx_http_cc_auth_key_choice_t *choice)
{
    u_char            buf[CC_JWK_KID_MAX];
    uint64_t          generation;
    ngx_str_t         kid;
    ngx_uint_t        revoked;
    const cc_jwks_t  *set;

    choice->found = NGX_HTTP_CC_AUTH_KID_UNKNOWN;
    choice->generation = 0;

    if (ngx_http_cc_auth_token_kid(token, buf, &kid) != NGX_OK) {
        return ngx_http_cc_auth_fallback(alcf, choice);
    }

    if (alcf->jwks
        && cc_jwks_find(alcf->jwks->set, (const char *) kid.data, kid.len))
    {
        choice->set = alcf->jwks->set;
        choice->found = NGX_HTTP_CC_AUTH_KID_STATIC;
        return NGX_OK;
    }

    if (kid.len == 0 || kid.len > NGX_HTTP_CC_KID_MAX) {
        return ngx_http_cc_auth_fallback(alcf, choice);
    }

    if (ngx_http_cc_auth_key_version(reg, &kid, &generation, &revoked)
        != NGX_OK)
    {
        ngx_http_cc_auth_note_unknown_kid(reg, &kid);
        return ngx_http_cc_auth_fallback(alcf, choice);
    }

    if (revoked) {
        choice->found = NGX_HTTP_CC_AUTH_KID_REVOKED;
        return ngx_http_cc_auth_fallback(alcf, choice);
    }

    set = ngx_http_cc_auth_registry_set(r, reg, &kid, generation);
    if (set == NULL) {
        choice->found = NGX_HTTP_CC_AUTH_KID_UNUSABLE;
        return ngx_http_cc_auth_fallback(alcf, choice);
    }

    choice->set = set;
    choice->found = NGX_HTTP_CC_AUTH_KID_REGISTRY;
    choice->generation = generation;

    return NGX_OK;
}


/*
 * The kid of the token's JOSE header, copied into buf[CC_JWK_KID_MAX].
 * NGX_DECLINED when there is none to read: lib gives the precise reason.
 */

static ngx_int_t
ngx_http_cc_auth_token_kid(ngx_str_t *token, u_char *buf, ngx_str_t *kid)
{
    u_char         *dot;
    size_t          len;
    json_t         *header, *v;
    json_error_t    error;
    unsigned char   decoded[NGX_HTTP_CC_AUTH_MAX_HEADER];

    dot = ngx_strlchr(token->data, token->data + token->len, '.');
    if (dot == NULL || dot - token->data > NGX_HTTP_CC_AUTH_MAX_HEADER) {
        return NGX_DECLINED;
    }

    if (cc_base64url_decode((const char *) token->data, dot - token->data,
                            decoded, &len)
        != 0)
    {
        return NGX_DECLINED;
    }

    header = json_loadb((const char *) decoded, len, JSON_REJECT_DUPLICATES,
                        &error);
    if (header == NULL) {
        return NGX_DECLINED;
    }

    v = json_object_get(header, "kid");

    if (!json_is_string(v) || json_string_length(v) > CC_JWK_KID_MAX) {
        json_decref(header);
        return NGX_DECLINED;
    }

    kid->len = json_string_length(v);
    kid->data = buf;
    ngx_memcpy(buf, json_string_value(v), kid->len);

    json_decref(header);

    return NGX_OK;
}


static const cc_jwks_t *
ngx_http_cc_auth_registry_set(ngx_http_request_t *r,
    ngx_http_cc_registry_t *reg, ngx_str_t *kid, uint64_t generation)
{
    ngx_http_cc_auth_key_slot_t  *slot;

    slot = ngx_http_cc_auth_key_slot(kid);

    if (slot->used && slot->generation == generation) {
        slot->used = ++ngx_http_cc_auth_key_clock;
        return slot->set;
    }

    cc_jwks_free(slot->set);

    slot->kid_len = kid->len;
    ngx_memcpy(slot->kid, kid->data, kid->len);
    slot->generation = generation;
    slot->set = ngx_http_cc_auth_parse_registry_key(r, reg, kid);
    slot->used = ++ngx_http_cc_auth_key_clock;

    return slot->set;
}


/* The slot holding kid, else a free one, else the least recently used. */

static ngx_http_cc_auth_key_slot_t *
ngx_http_cc_auth_key_slot(ngx_str_t *kid)
{
    ngx_uint_t                    i;
    ngx_http_cc_auth_key_slot_t  *slot, *victim;

    victim = &ngx_http_cc_auth_key_slots[0];

    for (i = 0; i < NGX_HTTP_CC_AUTH_KEY_SLOTS; i++) {
        slot = &ngx_http_cc_auth_key_slots[i];

        if (slot->used
            && slot->kid_len == kid->len
            && ngx_memcmp(slot->kid, kid->data, kid->len) == 0)
        {
            return slot;
        }

        if (slot->used < victim->used) {
            victim = slot;
        }
    }

    victim->used = 0;

    return victim;
}


/*
 * The registry keeps the issuer beside the JWK; it goes into the key so
 * that lib holds the token's iss to it (Entra's "{tenantid}" template).
 */

static cc_jwks_t *
ngx_http_cc_auth_parse_registry_key(ngx_http_request_t *r,
    ngx_http_cc_registry_t *reg, ngx_str_t *kid)
{
    json_t         *jwk;
    ngx_str_t       text, issuer;
    cc_jwks_t      *set;
    json_error_t    error;
    cc_jose_err_t   err;

    if (ngx_http_cc_auth_key(reg, kid, r->pool, &text, &issuer) != NGX_OK) {
        return NULL;
    }

    jwk = json_loadb((const char *) text.data, text.len,
                     JSON_REJECT_DUPLICATES, &error);

    if (!json_is_object(jwk)) {
        json_decref(jwk);
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "cc auth: registry key \"%V\" is not a JSON object",
                      kid);
        return NULL;
    }

    if (issuer.len
        && json_object_set_new(jwk, "issuer",
                               json_stringn((const char *) issuer.data,
                                            issuer.len))
           != 0)
    {
        json_decref(jwk);
        return NULL;
    }

    set = ngx_http_cc_auth_single_key_set(jwk, &err);

    if (set != NULL && cc_jwks_find(set, (const char *) kid->data, kid->len)
                       == NULL)
    {
        cc_jwks_free(set);
        set = NULL;
        err = CC_JOSE_ERR_BAD_KEY;
    }

    if (set == NULL) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "cc auth: registry key \"%V\" is unusable: %s",
                      kid, cc_jose_strerror(err));
    }

    return set;
}


/*
 * Takes jwk's reference; lib builds sets from documents only.  A key lib
 * leaves out makes the set fail with the reason it was left out for.
 */

static cc_jwks_t *
ngx_http_cc_auth_single_key_set(json_t *jwk, cc_jose_err_t *err)
{
    char              *doc;
    json_t            *keys;
    cc_jwks_t         *set;
    cc_jwks_report_t   report;

    keys = json_pack("{s:[o]}", "keys", jwk);
    if (keys == NULL) {
        *err = CC_JOSE_ERR_INTERNAL;
        return NULL;
    }

    doc = json_dumps(keys, JSON_COMPACT);
    json_decref(keys);

    if (doc == NULL) {
        *err = CC_JOSE_ERR_INTERNAL;
        return NULL;
    }

    set = NULL;
    *err = cc_jwks_parse(doc, ngx_strlen(doc), NULL, &set, &report);

    free(doc);

    if (*err == CC_JOSE_ERR_NO_USABLE_KEYS && report.skipped) {
        *err = report.first_skip;
    }

    return set;
}


static ngx_int_t
ngx_http_cc_auth_fallback(ngx_http_cc_auth_loc_conf_t *alcf,
    ngx_http_cc_auth_key_choice_t *choice)
{
    if (alcf->jwks) {
        choice->set = alcf->jwks->set;
        return NGX_OK;
    }

    choice->set = ngx_http_cc_auth_placeholder_set();

    return choice->set ? NGX_OK : NGX_ERROR;
}


/*
 * lib cannot build a set with no key, so where no static keys are
 * configured the fallback set holds one Ed25519 key made up in this
 * process: its kid is 128 random bits no token can name, and its private
 * half is thrown away, so it verifies nothing.
 */

static cc_jwks_t *
ngx_http_cc_auth_placeholder_set(void)
{
    char            kid[sizeof("cc-auth-placeholder-") + 32];
    u_char          rnd[16], *p;
    json_t         *jwk;
    EVP_PKEY       *pkey;
    cc_jose_err_t   err;

    if (ngx_http_cc_auth_placeholder) {
        return ngx_http_cc_auth_placeholder;
    }

    if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
        return NULL;
    }

    p = ngx_cpymem(kid, "cc-auth-placeholder-",
                   sizeof("cc-auth-placeholder-") - 1);
    p = ngx_hex_dump(p, rnd, sizeof(rnd));
    *p = '\0';

    pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    if (pkey == NULL) {
        return NULL;
    }

    jwk = NULL;
    err = cc_jwk_export(pkey, kid, CC_JOSE_ALG_EDDSA, &jwk);

    EVP_PKEY_free(pkey);

    if (err != CC_JOSE_OK) {
        return NULL;
    }

    ngx_http_cc_auth_placeholder = ngx_http_cc_auth_single_key_set(jwk, &err);

    return ngx_http_cc_auth_placeholder;
}


/* At worker exit: what this process parsed, so leak checkers stay quiet. */

void
ngx_http_cc_auth_free_process_keys(void)
{
    ngx_uint_t  i;

    for (i = 0; i < NGX_HTTP_CC_AUTH_KEY_SLOTS; i++) {
        cc_jwks_free(ngx_http_cc_auth_key_slots[i].set);
        ngx_memzero(&ngx_http_cc_auth_key_slots[i],
                    sizeof(ngx_http_cc_auth_key_slot_t));
    }

    cc_jwks_free(ngx_http_cc_auth_placeholder);
    ngx_http_cc_auth_placeholder = NULL;
}
