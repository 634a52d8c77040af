
/*
 * Concierge: the registry's C API for the other modules (declared in
 * ngx_http_cc_registry.h): lookups that copy their answer out under the
 * zone's lock, the unknown-kid note, and the generation counters.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_cc_registry.h"
#include "ngx_http_cc_registry_store.h"


static ngx_str_t  ngx_http_cc_tenant_status_names[] = {
    ngx_string("unknown"),
    ngx_string("active"),
    ngx_string("suspended"),
    ngx_string("offboarding"),
    ngx_string("offboarded")
};


ngx_int_t
ngx_http_cc_registry_tenant(ngx_http_cc_registry_t *reg,
    ngx_str_t *tenant_id, ngx_http_cc_tenant_t *tenant)
{
    u_char                        key[NGX_HTTP_CC_GUID_LEN];
    ngx_http_cc_registry_node_t  *node;

    if (reg == NULL
        || ngx_http_cc_registry_tenant_key(tenant_id, key) != NGX_OK)
    {
        return NGX_DECLINED;
    }

    ngx_shmtx_lock(&reg->shpool->mutex);

    node = ngx_http_cc_registry_find_locked(reg, NGX_HTTP_CC_REGISTRY_TENANTS,
                                            key, NGX_HTTP_CC_GUID_LEN);
    if (node == NULL) {
        ngx_shmtx_unlock(&reg->shpool->mutex);
        return NGX_DECLINED;
    }

    tenant->generation = node->generation;
    ngx_http_cc_registry_decode_tenant(node->data + node->key_len,
                                       node->value_len, tenant);

    ngx_shmtx_unlock(&reg->shpool->mutex);

    return NGX_OK;
}


ngx_int_t
ngx_http_cc_registry_device_blocked(ngx_http_cc_registry_t *reg,
    ngx_str_t *tenant_id, ngx_str_t *device_id,
    ngx_http_cc_device_block_t *block)
{
    u_char                        key[NGX_HTTP_CC_DEVICE_KEY_LEN];
    ngx_http_cc_registry_node_t  *node;

    if (reg == NULL
        || ngx_http_cc_registry_device_key(tenant_id, device_id, key)
           != NGX_OK)
    {
        return NGX_DECLINED;
    }

    ngx_shmtx_lock(&reg->shpool->mutex);

    node = ngx_http_cc_registry_find_locked(reg, NGX_HTTP_CC_REGISTRY_DEVICES,
                                            key, NGX_HTTP_CC_DEVICE_KEY_LEN);

    if (node == NULL || !ngx_http_cc_registry_node_live(node, ngx_time())) {
        ngx_shmtx_unlock(&reg->shpool->mutex);
        return NGX_DECLINED;
    }

    if (block) {
        block->generation = node->generation;
        block->until = node->until;
        ngx_http_cc_registry_decode_device(node->data + node->key_len,
                                           node->value_len, block);
    }

    ngx_shmtx_unlock(&reg->shpool->mutex);

    return NGX_OK;
}


ngx_int_t
ngx_http_cc_registry_session_revoked(ngx_http_cc_registry_t *reg,
    ngx_str_t *session_id, time_t *until)
{
    u_char                        key[NGX_HTTP_CC_SESSION_ID_LEN];
    ngx_http_cc_registry_node_t  *node;

    if (reg == NULL
        || ngx_http_cc_registry_session_key(session_id, key) != NGX_OK)
    {
        return NGX_DECLINED;
    }

    ngx_shmtx_lock(&reg->shpool->mutex);

    node = ngx_http_cc_registry_find_locked(reg,
                                            NGX_HTTP_CC_REGISTRY_SESSIONS,
                                            key, NGX_HTTP_CC_SESSION_ID_LEN);

    if (node == NULL || !ngx_http_cc_registry_node_live(node, ngx_time())) {
        ngx_shmtx_unlock(&reg->shpool->mutex);
        return NGX_DECLINED;
    }

    if (until) {
        *until = node->until;
    }

    ngx_shmtx_unlock(&reg->shpool->mutex);

    return NGX_OK;
}


ngx_int_t
ngx_http_cc_registry_bootstrap_token(ngx_http_cc_registry_t *reg,
    ngx_str_t *hash, ngx_http_cc_bootstrap_t *token)
{
    u_char                        key[NGX_HTTP_CC_BOOTSTRAP_KEY_LEN];
    ngx_http_cc_registry_node_t  *node;

    if (reg == NULL
        || ngx_http_cc_registry_bootstrap_key(hash, key) != NGX_OK)
    {
        return NGX_DECLINED;
    }

    ngx_shmtx_lock(&reg->shpool->mutex);

    node = ngx_http_cc_registry_find_locked(reg,
                                            NGX_HTTP_CC_REGISTRY_BOOTSTRAP,
                                            key,
                                            NGX_HTTP_CC_BOOTSTRAP_KEY_LEN);

    if (node == NULL || !ngx_http_cc_registry_node_live(node, ngx_time())) {
        ngx_shmtx_unlock(&reg->shpool->mutex);
        return NGX_DECLINED;
    }

    ngx_http_cc_registry_decode_bootstrap(node->data + node->key_len,
                                          node->value_len, token);
    token->generation = node->generation;
    token->until = node->until;

    ngx_shmtx_unlock(&reg->shpool->mutex);

    return NGX_OK;
}


ngx_int_t
ngx_http_cc_registry_key_version(ngx_http_cc_registry_t *reg, ngx_str_t *kid,
    uint64_t *generation, ngx_uint_t *revoked)
{
    ngx_http_cc_registry_node_t  *node;

    if (reg == NULL || ngx_http_cc_registry_kid_valid(kid) != NGX_OK) {
        return NGX_DECLINED;
    }

    ngx_shmtx_lock(&reg->shpool->mutex);

    node = ngx_http_cc_registry_find_locked(reg, NGX_HTTP_CC_REGISTRY_KEYS,
                                            kid->data, kid->len);
    if (node == NULL) {
        ngx_shmtx_unlock(&reg->shpool->mutex);
        return NGX_DECLINED;
    }

    *generation = node->generation;

    /* the revoked flag is a key value's first byte */
    *revoked = (node->value_len > 0 && node->data[node->key_len] != 0);

    ngx_shmtx_unlock(&reg->shpool->mutex);

    return NGX_OK;
}


ngx_int_t
ngx_http_cc_registry_key(ngx_http_cc_registry_t *reg, ngx_str_t *kid,
    ngx_pool_t *pool, ngx_http_cc_key_t *key)
{
    u_char                       *p;
    ngx_str_t                     issuer, jwk;
    ngx_http_cc_registry_node_t  *node;

    if (reg == NULL || ngx_http_cc_registry_kid_valid(kid) != NGX_OK) {
        return NGX_DECLINED;
    }

    ngx_shmtx_lock(&reg->shpool->mutex);

    node = ngx_http_cc_registry_find_locked(reg, NGX_HTTP_CC_REGISTRY_KEYS,
                                            kid->data, kid->len);
    if (node == NULL) {
        ngx_shmtx_unlock(&reg->shpool->mutex);
        return NGX_DECLINED;
    }

    ngx_http_cc_registry_decode_key(node->data + node->key_len,
                                    node->value_len, &key->revoked,
                                    &issuer, &jwk);

    /* one allocation, both strings NUL-terminated for JSON parsers */
    p = ngx_pnalloc(pool, issuer.len + 1 + jwk.len + 1);
    if (p == NULL) {
        ngx_shmtx_unlock(&reg->shpool->mutex);
        return NGX_ERROR;
    }

    key->generation = node->generation;

    key->issuer.data = p;
    key->issuer.len = issuer.len;
    p = ngx_cpymem(p, issuer.data, issuer.len);
    *p++ = '\0';

    key->jwk.data = p;
    key->jwk.len = jwk.len;
    p = ngx_cpymem(p, jwk.data, jwk.len);
    *p = '\0';

    ngx_shmtx_unlock(&reg->shpool->mutex);

    return NGX_OK;
}


/*
 * Called on the request path whenever a token names a kid the registry
 * lacks: the latest such kid replaces the one noted before (the sync job
 * refetches every issuer's keys anyway), and a malformed one is not worth
 * reporting.
 */

void
ngx_http_cc_registry_note_unknown_kid(ngx_http_cc_registry_t *reg,
    ngx_str_t *kid)
{
    ngx_http_cc_registry_sh_t  *sh;

    if (reg == NULL || ngx_http_cc_registry_kid_valid(kid) != NGX_OK) {
        return;
    }

    sh = reg->sh;

    ngx_shmtx_lock(&reg->shpool->mutex);

    sh->unknown_kid_at = ngx_time();
    sh->unknown_kid_len = kid->len;
    ngx_memcpy(sh->unknown_kid, kid->data, kid->len);

    ngx_shmtx_unlock(&reg->shpool->mutex);
}


uint64_t
ngx_http_cc_registry_generation(ngx_http_cc_registry_t *reg)
{
    uint64_t  generation;

    if (reg == NULL) {
        return 0;
    }

    ngx_shmtx_lock(&reg->shpool->mutex);
    generation = reg->sh->generation;
    ngx_shmtx_unlock(&reg->shpool->mutex);

    return generation;
}


void
ngx_http_cc_registry_generations(ngx_http_cc_registry_t *reg,
    ngx_http_cc_registry_generations_t *generations)
{
    ngx_http_cc_registry_sh_t  *sh;

    if (reg == NULL) {
        ngx_memzero(generations, sizeof(ngx_http_cc_registry_generations_t));
        return;
    }

    sh = reg->sh;

    ngx_shmtx_lock(&reg->shpool->mutex);

    generations->all = sh->generation;
    generations->tenants = sh->kind_generation[NGX_HTTP_CC_REGISTRY_TENANTS];
    generations->devices = sh->kind_generation[NGX_HTTP_CC_REGISTRY_DEVICES];
    generations->sessions =
                        sh->kind_generation[NGX_HTTP_CC_REGISTRY_SESSIONS];
    generations->keys = sh->kind_generation[NGX_HTTP_CC_REGISTRY_KEYS];

    ngx_shmtx_unlock(&reg->shpool->mutex);
}


ngx_str_t *
ngx_http_cc_tenant_status_name(ngx_uint_t status)
{
    if (status > NGX_HTTP_CC_TENANT_OFFBOARDED) {
        status = NGX_HTTP_CC_TENANT_UNKNOWN;
    }

    return &ngx_http_cc_tenant_status_names[status];
}
