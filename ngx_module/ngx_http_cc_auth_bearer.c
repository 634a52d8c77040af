
/*
 * Concierge: authentication by an Entra ID bearer token.  A token already
 * in the verified-token cache is accepted without RSA while the registry's
 * tenants and keys are unchanged since it was checked; after a change the
 * entry's key and tenant are looked up again (cheap) before it is trusted,
 * so revoking a key or suspending a tenant takes effect on the next
 * request.  Any other token is verified by lib (cc_jwt_verify) against the
 * static and registry keys, and its tenant checked, then cached.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_cc_auth.h"


/*
 * The generation stored with a token whose tenant was refused: no
 * registry ever reaches it, so every hit on such an entry re-checks the
 * tenant (a lookup), and the token is never verified again (RSA).
 */
#define NGX_HTTP_CC_AUTH_UNCHECKED  ((uint64_t) -1)


typedef struct {
    ngx_http_cc_registry_t       *registry;
    uint64_t                      tenants_generation;
    uint64_t                      keys_generation;
    ngx_shm_zone_t               *zone;
    time_t                        max_ttl;
    u_char                        key[NGX_HTTP_CC_AUTH_CACHE_KEY_LEN];
} ngx_http_cc_auth_bearer_t;


static ngx_int_t ngx_http_cc_auth_cache_key(ngx_http_request_t *r,
    ngx_http_cc_auth_loc_conf_t *alcf, ngx_str_t *token, u_char *key);
static ngx_int_t ngx_http_cc_auth_from_cache(ngx_http_request_t *r,
    ngx_http_cc_auth_bearer_t *b, ngx_http_cc_auth_cached_t *entry,
    ngx_http_cc_auth_ctx_t *ctx);
static ngx_int_t ngx_http_cc_auth_verify(ngx_http_request_t *r,
    ngx_http_cc_auth_loc_conf_t *alcf, ngx_http_cc_auth_bearer_t *b,
    ngx_str_t *token, ngx_http_cc_auth_ctx_t *ctx);
static ngx_int_t ngx_http_cc_auth_identity_from_claims(ngx_http_request_t *r,
    cc_jwt_claims_t *claims, ngx_http_cc_auth_ctx_t *ctx);
static void ngx_http_cc_auth_identity_from_entry(
    ngx_http_cc_auth_cached_t *entry, ngx_http_cc_auth_ctx_t *ctx);
static void ngx_http_cc_auth_remember(ngx_http_request_t *r,
    ngx_http_cc_auth_bearer_t *b, cc_jwt_claims_t *claims,
    ngx_http_cc_auth_key_choice_t *choice, ngx_http_cc_auth_ctx_t *ctx,
    ngx_uint_t tenant_allowed);


/*
 * "Authorization: Bearer TOKEN", the scheme in any case.  NGX_DECLINED
 * when no bearer credentials were sent at all (RFC 6750: a bare
 * challenge); an empty token is a malformed one.
 */

ngx_int_t
ngx_http_cc_auth_bearer_token(ngx_http_request_t *r, ngx_str_t *token)
{
    u_char           *p, *end;
    ngx_table_elt_t  *h;

    h = r->headers_in.authorization;

    if (h == NULL
        || h->value.len < sizeof("Bearer ") - 1
        || ngx_strncasecmp(h->value.data, (u_char *) "Bearer ",
                           sizeof("Bearer ") - 1)
           != 0)
    {
        return NGX_DECLINED;
    }

    p = h->value.data + sizeof("Bearer ") - 1;
    end = h->value.data + h->value.len;

    while (p < end && *p == ' ') {
        p++;
    }

    while (end > p && end[-1] == ' ') {
        end--;
    }

    token->data = p;
    token->len = end - p;

    return NGX_OK;
}


ngx_int_t
ngx_http_cc_auth_bearer(ngx_http_request_t *r,
    ngx_http_cc_auth_loc_conf_t *alcf, ngx_http_cc_auth_ctx_t *ctx)
{
    ngx_int_t                      rc;
    ngx_str_t                      token;
    ngx_http_cc_auth_bearer_t      b;
    ngx_http_cc_auth_cached_t      entry;
    ngx_http_cc_auth_main_conf_t  *amcf;

    if (ngx_http_cc_auth_bearer_token(r, &token) != NGX_OK) {
        ngx_http_cc_auth_refuse(ctx, NGX_HTTP_CC_AUTH_NO_CREDENTIALS,
                                "missing_token");
        return NGX_DECLINED;
    }

    /* before hashing or decoding anything */
    if (token.len > alcf->max_token_size) {
        ngx_http_cc_auth_refuse(ctx, NGX_HTTP_CC_AUTH_BAD_TOKEN,
                                cc_jose_strerror(CC_JOSE_ERR_TOKEN_TOO_LARGE));
        return NGX_DECLINED;
    }

    amcf = ngx_http_get_module_main_conf(r, ngx_http_cc_auth_module);

    b.registry = ngx_http_cc_auth_registry(r);
    b.zone = amcf->cache;
    b.max_ttl = amcf->cache_max_ttl;

    /* read before any lookup: a change made meanwhile is seen next time */
    ngx_http_cc_auth_generations(b.registry, &b.tenants_generation,
                                 &b.keys_generation);

    if (b.zone == NULL) {
        ctx->cache = NGX_HTTP_CC_AUTH_CACHE_OFF;
        return ngx_http_cc_auth_verify(r, alcf, &b, &token, ctx);
    }

    if (ngx_http_cc_auth_cache_key(r, alcf, &token, b.key) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_cc_auth_cache_lookup(b.zone, b.key, r->pool, &entry)
        == NGX_OK)
    {
        rc = ngx_http_cc_auth_from_cache(r, &b, &entry, ctx);
        if (rc != NGX_AGAIN) {
            return rc;
        }
    }

    ctx->cache = NGX_HTTP_CC_AUTH_CACHE_MISS;

    return ngx_http_cc_auth_verify(r, alcf, &b, &token, ctx);
}


/* The token's digest, then the policy's tag. */

static ngx_int_t
ngx_http_cc_auth_cache_key(ngx_http_request_t *r,
    ngx_http_cc_auth_loc_conf_t *alcf, ngx_str_t *token, u_char *key)
{
    if (ngx_http_cc_auth_token_digest(r, token, key) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_memcpy(key + CC_SHA256_LEN, alcf->tag, NGX_HTTP_CC_AUTH_TAG_LEN);

    return NGX_OK;
}


/*
 * NGX_OK: accepted from the cache; NGX_DECLINED: refused; NGX_AGAIN: the
 * entry's key has changed since, so the token must be verified afresh.
 */

static ngx_int_t
ngx_http_cc_auth_from_cache(ngx_http_request_t *r,
    ngx_http_cc_auth_bearer_t *b, ngx_http_cc_auth_cached_t *entry,
    ngx_http_cc_auth_ctx_t *ctx)
{
    uint64_t    generation;
    ngx_uint_t  revoked;

    ngx_http_cc_auth_identity_from_entry(entry, ctx);

    if (entry->tenants_generation == b->tenants_generation
        && entry->keys_generation == b->keys_generation)
    {
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "cc auth: cache hit");
        ctx->cache = NGX_HTTP_CC_AUTH_CACHE_HIT;
        return NGX_OK;
    }

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "cc auth: cache hit, registry changed since: revalidating");

    ctx->cache = NGX_HTTP_CC_AUTH_CACHE_REVALIDATED;

    if (entry->key_generation != 0) {

        if (ngx_http_cc_auth_key_version(b->registry, &entry->kid,
                                         &generation, &revoked)
            != NGX_OK)
        {
            ngx_http_cc_auth_refuse(ctx, NGX_HTTP_CC_AUTH_BAD_TOKEN,
                                cc_jose_strerror(CC_JOSE_ERR_UNKNOWN_KID));
            return NGX_DECLINED;
        }

        if (revoked) {
            ngx_http_cc_auth_refuse(ctx, NGX_HTTP_CC_AUTH_BAD_TOKEN,
                                    "key_revoked");
            return NGX_DECLINED;
        }

        if (generation != entry->key_generation) {
            ngx_http_cc_auth_cache_remove(b->zone, b->key);
            return NGX_AGAIN;
        }
    }

    if (ngx_http_cc_auth_check_tenant(r, b->registry, ctx) != NGX_OK) {
        return NGX_DECLINED;
    }

    ngx_http_cc_auth_cache_refresh(b->zone, b->key, b->tenants_generation,
                                   b->keys_generation);

    return NGX_OK;
}


static ngx_int_t
ngx_http_cc_auth_verify(ngx_http_request_t *r,
    ngx_http_cc_auth_loc_conf_t *alcf, ngx_http_cc_auth_bearer_t *b,
    ngx_str_t *token, ngx_http_cc_auth_ctx_t *ctx)
{
    ngx_int_t                      rc;
    const char                    *error;
    cc_jose_err_t                  err;
    cc_jwt_claims_t                claims;
    ngx_http_cc_auth_key_choice_t  choice;

    if (ngx_http_cc_auth_choose_keys(r, alcf, b->registry, token, &choice)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    err = cc_jwt_verify((const char *) token->data, token->len, choice.set,
                        &alcf->policy, ngx_time(), &claims);

    if (err == CC_JOSE_ERR_INTERNAL || err == CC_JOSE_ERR_INVALID_ARGUMENT) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "cc auth: token verification failed: %s",
                      cc_jose_strerror(err));
        return NGX_ERROR;
    }

    if (err != CC_JOSE_OK) {
        error = cc_jose_strerror(err);

        if (err == CC_JOSE_ERR_UNKNOWN_KID
            && choice.found == NGX_HTTP_CC_AUTH_KID_REVOKED)
        {
            error = "key_revoked";
        }

        ngx_http_cc_auth_refuse(ctx, NGX_HTTP_CC_AUTH_BAD_TOKEN, error);
        return NGX_DECLINED;
    }

    if (ngx_http_cc_auth_identity_from_claims(r, &claims, ctx) != NGX_OK) {
        cc_jwt_claims_free(&claims);
        return NGX_ERROR;
    }

    rc = ngx_http_cc_auth_check_tenant(r, b->registry, ctx);

    ngx_http_cc_auth_remember(r, b, &claims, &choice, ctx, rc == NGX_OK);

    cc_jwt_claims_free(&claims);

    return rc;
}


static ngx_int_t
ngx_http_cc_auth_identity_from_claims(ngx_http_request_t *r,
    cc_jwt_claims_t *claims, ngx_http_cc_auth_ctx_t *ctx)
{
    const char  *name;

    name = claims->username ? claims->username : "";

    if (ngx_http_cc_auth_copy(r->pool, &ctx->tenant_id, claims->tid,
                              ngx_strlen(claims->tid))
           != NGX_OK
        || ngx_http_cc_auth_copy(r->pool, &ctx->user_id, claims->oid,
                                 ngx_strlen(claims->oid))
           != NGX_OK
        || ngx_http_cc_auth_copy(r->pool, &ctx->user_name, name,
                                 ngx_strlen(name))
           != NGX_OK
        || ngx_http_cc_auth_copy(r->pool, &ctx->roles, claims->roles,
                                 ngx_strlen(claims->roles))
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_cc_auth_identity_from_entry(ngx_http_cc_auth_cached_t *entry,
    ngx_http_cc_auth_ctx_t *ctx)
{
    ctx->tenant_id = entry->tenant_id;
    ctx->user_id = entry->user_id;
    ctx->user_name = entry->user_name;
    ctx->roles = entry->roles;
}


/*
 * Caches a verified token until its exp (or max_ttl).  A token whose
 * tenant was refused is cached too, marked unchecked, so that hammering
 * with it costs lookups rather than RSA verifications.
 */

static void
ngx_http_cc_auth_remember(ngx_http_request_t *r,
    ngx_http_cc_auth_bearer_t *b, cc_jwt_claims_t *claims,
    ngx_http_cc_auth_key_choice_t *choice, ngx_http_cc_auth_ctx_t *ctx,
    ngx_uint_t tenant_allowed)
{
    time_t                     now;
    ngx_http_cc_auth_cached_t  entry;

    if (b->zone == NULL) {
        return;
    }

    now = ngx_time();

    entry.expires = (time_t) claims->exp;

    if (b->max_ttl && entry.expires - now > b->max_ttl) {
        entry.expires = now + b->max_ttl;
    }

    if (entry.expires <= now) {
        return;
    }

    entry.tenants_generation = tenant_allowed ? b->tenants_generation
                                              : NGX_HTTP_CC_AUTH_UNCHECKED;
    entry.keys_generation = b->keys_generation;
    entry.key_generation = choice->generation;

    entry.kid.data = (u_char *) claims->kid;
    entry.kid.len = ngx_strlen(claims->kid);
    entry.tenant_id = ctx->tenant_id;
    entry.user_id = ctx->user_id;
    entry.user_name = ctx->user_name;
    entry.roles = ctx->roles;

    ngx_http_cc_auth_cache_store(b->zone, b->key, &entry, r->connection->log);
}
