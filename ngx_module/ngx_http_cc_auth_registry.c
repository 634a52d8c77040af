
/*
 * Concierge: the auth module's view of the registry (tenants, blocked
 * devices, revoked sessions, signing keys), behind a handful of functions
 * so that the rest of the module reads as policy, and so that the module
 * still builds and loads where the registry's implementation is absent:
 * with NGX_HTTP_CC_AUTH_HAVE_REGISTRY 0 there is no registry, which means
 * no tenant is known and every authenticated request is refused with 403.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_cc_auth.h"


#ifndef NGX_HTTP_CC_AUTH_HAVE_REGISTRY
#define NGX_HTTP_CC_AUTH_HAVE_REGISTRY  0
#endif


static const char *ngx_http_cc_auth_tenant_refusal(ngx_uint_t status);


ngx_http_cc_registry_t *
ngx_http_cc_auth_registry(ngx_http_request_t *r)
{
#if (NGX_HTTP_CC_AUTH_HAVE_REGISTRY)
    return ngx_http_cc_registry_from_request(r);
#else
    return NULL;
#endif
}


/*
 * Only tenants and keys matter to a verified token: a device blocked or a
 * session revoked must not send every cached token back to revalidation.
 */

void
ngx_http_cc_auth_generations(ngx_http_cc_registry_t *reg, uint64_t *tenants,
    uint64_t *keys)
{
#if (NGX_HTTP_CC_AUTH_HAVE_REGISTRY)
    ngx_http_cc_registry_generations_t  g;

    if (reg != NULL) {
        ngx_http_cc_registry_generations(reg, &g);
        *tenants = g.tenants;
        *keys = g.keys;
        return;
    }
#endif

    *tenants = 0;
    *keys = 0;
}


/*
 * After authentication, by whatever method: the tenant must be onboarded
 * and active.  Everything else is a 403 naming the tenant's state.
 */

ngx_int_t
ngx_http_cc_auth_check_tenant(ngx_http_request_t *r,
    ngx_http_cc_registry_t *reg, ngx_http_cc_auth_ctx_t *ctx)
{
    ngx_uint_t             status;
#if (NGX_HTTP_CC_AUTH_HAVE_REGISTRY)
    ngx_http_cc_tenant_t   tenant;
#endif

    status = NGX_HTTP_CC_TENANT_UNKNOWN;

#if (NGX_HTTP_CC_AUTH_HAVE_REGISTRY)
    if (reg != NULL
        && ngx_http_cc_registry_tenant(reg, &ctx->tenant_id, &tenant)
           == NGX_OK)
    {
        status = tenant.status;
    }
#endif

    if (status == NGX_HTTP_CC_TENANT_ACTIVE) {
        return NGX_OK;
    }

    ngx_http_cc_auth_refuse(ctx, NGX_HTTP_CC_AUTH_FORBIDDEN,
                            ngx_http_cc_auth_tenant_refusal(status));

    return NGX_DECLINED;
}


static const char *
ngx_http_cc_auth_tenant_refusal(ngx_uint_t status)
{
    switch (status) {

    case NGX_HTTP_CC_TENANT_SUSPENDED:
        return "tenant_suspended";

    case NGX_HTTP_CC_TENANT_OFFBOARDING:
        return "tenant_offboarding";

    case NGX_HTTP_CC_TENANT_OFFBOARDED:
        return "tenant_offboarded";

    default:
        return "tenant_unknown";
    }
}


/* NGX_OK: blocked now; *until is 0 for "until further notice". */

ngx_int_t
ngx_http_cc_auth_device_blocked(ngx_http_cc_registry_t *reg,
    ngx_str_t *tenant_id, ngx_str_t *device_id, time_t *until)
{
#if (NGX_HTTP_CC_AUTH_HAVE_REGISTRY)
    ngx_int_t                   rc;
    ngx_http_cc_device_block_t  block;

    if (reg != NULL) {
        rc = ngx_http_cc_registry_device_blocked(reg, tenant_id, device_id,
                                                 &block);
        if (rc == NGX_OK) {
            *until = block.until;
        }

        return rc;
    }
#endif

    return NGX_DECLINED;
}


ngx_int_t
ngx_http_cc_auth_session_revoked(ngx_http_cc_registry_t *reg,
    ngx_str_t *session_id)
{
#if (NGX_HTTP_CC_AUTH_HAVE_REGISTRY)
    if (reg != NULL) {
        return ngx_http_cc_registry_session_revoked(reg, session_id, NULL);
    }
#endif

    return NGX_DECLINED;
}


ngx_int_t
ngx_http_cc_auth_key_version(ngx_http_cc_registry_t *reg, ngx_str_t *kid,
    uint64_t *generation, ngx_uint_t *revoked)
{
#if (NGX_HTTP_CC_AUTH_HAVE_REGISTRY)
    if (reg != NULL) {
        return ngx_http_cc_registry_key_version(reg, kid, generation,
                                                revoked);
    }
#endif

    return NGX_DECLINED;
}


ngx_int_t
ngx_http_cc_auth_key(ngx_http_cc_registry_t *reg, ngx_str_t *kid,
    ngx_pool_t *pool, ngx_str_t *jwk, ngx_str_t *issuer)
{
#if (NGX_HTTP_CC_AUTH_HAVE_REGISTRY)
    ngx_int_t          rc;
    ngx_http_cc_key_t  key;

    if (reg != NULL) {
        rc = ngx_http_cc_registry_key(reg, kid, pool, &key);
        if (rc == NGX_OK) {
            *jwk = key.jwk;
            *issuer = key.issuer;
        }

        return rc;
    }
#endif

    return NGX_DECLINED;
}


void
ngx_http_cc_auth_note_unknown_kid(ngx_http_cc_registry_t *reg, ngx_str_t *kid)
{
#if (NGX_HTTP_CC_AUTH_HAVE_REGISTRY)
    if (reg != NULL) {
        ngx_http_cc_registry_note_unknown_kid(reg, kid);
    }
#endif
}
