
/*
 * Concierge: the auth module's view of the registry (tenants, blocked
 * devices, revoked sessions, signing keys), behind a handful of functions
 * so that the rest of the module reads as policy.  A location without a
 * registry (no cc_registry_zone) knows no tenant, no key, no block and no
 * revocation: every authenticated request there is refused with 403.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_cc_auth.h"


static const char *ngx_http_cc_auth_tenant_refusal(ngx_uint_t status);


ngx_http_cc_registry_t *
ngx_http_cc_auth_registry(ngx_http_request_t *r)
{
    return ngx_http_cc_registry_from_request(r);
}


/*
 * Only tenants and keys matter to a verified token: a device blocked or a
 * session revoked must not send every cached token back to revalidation.
 * Without a registry both are 0.
 */

void
ngx_http_cc_auth_generations(ngx_http_cc_registry_t *reg, uint64_t *tenants,
    uint64_t *keys)
{
    ngx_http_cc_registry_generations_t  g;

    ngx_http_cc_registry_generations(reg, &g);

    *tenants = g.tenants;
    *keys = g.keys;
}


/*
 * After authentication, by whatever method: the tenant must be onboarded
 * and active; every other state is refused, naming it.  With
 * cc_auth_tenant_check off the tenant module (cc_tenant_check) decides
 * instead, later in the request.
 */

ngx_int_t
ngx_http_cc_auth_check_tenant(ngx_http_request_t *r,
    ngx_http_cc_registry_t *reg, ngx_http_cc_auth_ctx_t *ctx)
{
    ngx_uint_t                    status;
    ngx_http_cc_tenant_t          tenant;
    ngx_http_cc_auth_loc_conf_t  *alcf;

    alcf = ngx_http_get_module_loc_conf(r, ngx_http_cc_auth_module);

    if (!alcf->tenant_check) {
        return NGX_OK;
    }

    status = NGX_HTTP_CC_TENANT_UNKNOWN;

    if (ngx_http_cc_registry_tenant(reg, &ctx->tenant_id, &tenant) == NGX_OK) {
        status = tenant.status;
    }

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


/*
 * The registry's C API answers NGX_DECLINED for a NULL registry; these
 * wrappers only reshape its answers into what the auth module needs.
 */


/* NGX_OK: blocked now; *until is 0 for "until further notice". */

ngx_int_t
ngx_http_cc_auth_device_blocked(ngx_http_cc_registry_t *reg,
    ngx_str_t *tenant_id, ngx_str_t *device_id, time_t *until)
{
    ngx_int_t                   rc;
    ngx_http_cc_device_block_t  block;

    rc = ngx_http_cc_registry_device_blocked(reg, tenant_id, device_id,
                                             &block);
    if (rc == NGX_OK) {
        *until = block.until;
    }

    return rc;
}


ngx_int_t
ngx_http_cc_auth_session_revoked(ngx_http_cc_registry_t *reg,
    ngx_str_t *session_id)
{
    return ngx_http_cc_registry_session_revoked(reg, session_id, NULL);
}


ngx_int_t
ngx_http_cc_auth_key_version(ngx_http_cc_registry_t *reg, ngx_str_t *kid,
    uint64_t *generation, ngx_uint_t *revoked)
{
    return ngx_http_cc_registry_key_version(reg, kid, generation, revoked);
}


ngx_int_t
ngx_http_cc_auth_key(ngx_http_cc_registry_t *reg, ngx_str_t *kid,
    ngx_pool_t *pool, ngx_str_t *jwk, ngx_str_t *issuer)
{
    ngx_int_t          rc;
    ngx_http_cc_key_t  key;

    rc = ngx_http_cc_registry_key(reg, kid, pool, &key);
    if (rc == NGX_OK) {
        *jwk = key.jwk;
        *issuer = key.issuer;
    }

    return rc;
}


void
ngx_http_cc_auth_note_unknown_kid(ngx_http_cc_registry_t *reg, ngx_str_t *kid)
{
    ngx_http_cc_registry_note_unknown_kid(reg, kid);
}
