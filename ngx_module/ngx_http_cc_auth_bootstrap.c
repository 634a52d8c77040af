
/*
 * Concierge: authentication by a bootstrap token (agent-protocol.md 2 and
 * 3 step 3), for devices that have no Intune certificate yet.  Where a
 * location says "cc_auth device bootstrap;", a request that carries
 * X-Bootstrap-Token is judged by the token instead of a certificate:
 *
 *   - the token must be a GUID whose SHA-256 the registry holds as a live
 *     (unexpired, unrevoked) token: else 401;
 *   - its tenant must accept bootstrap tokens, and any tenant the request
 *     names (X-Tenant-Id, ?tenantId=) must be the token's: else 403;
 *   - the device needs a serial number (X-Device-SerialNumber), from which
 *     its stable device id is derived (lib/cc_bootstrap.h): else 401;
 *   - a blocked device is answered as a certificate's would be.
 *
 * The certificate checks are skipped, as the protocol says; the tenant's
 * state is checked as for certificates (cc_auth_tenant_check or the tenant
 * module).  $cc_bootstrap_id, a short digest of the token, keys the
 * per-token rate limit.  The token itself is never copied, kept or logged.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "cc_bootstrap.h"

#include "ngx_http_cc_auth.h"


static ngx_int_t ngx_http_cc_auth_bootstrap_header(ngx_http_request_t *r,
    char *name, size_t len, ngx_str_t *value);
static ngx_int_t ngx_http_cc_auth_named_tenant_matches(ngx_http_request_t *r,
    ngx_str_t *tenant_id);
static ngx_int_t ngx_http_cc_auth_bootstrap_device(ngx_http_request_t *r,
    ngx_http_cc_auth_ctx_t *ctx);


/* NGX_OK when the request carries X-Bootstrap-Token (even empty). */

ngx_int_t
ngx_http_cc_auth_bootstrap_token(ngx_http_request_t *r, ngx_str_t *token)
{
    return ngx_http_cc_auth_bootstrap_header(r, "x-bootstrap-token",
                                             sizeof("x-bootstrap-token") - 1,
                                             token);
}


ngx_int_t
ngx_http_cc_auth_bootstrap(ngx_http_request_t *r,
    ngx_http_cc_auth_loc_conf_t *alcf, ngx_http_cc_auth_ctx_t *ctx)
{
    char                      hash[CC_SHA256_HEX_LEN + 1];
    time_t                    until;
    ngx_str_t                 token, key;
    ngx_http_cc_registry_t   *reg;
    ngx_http_cc_bootstrap_t   entry;

    if (ngx_http_cc_auth_bootstrap_token(r, &token) != NGX_OK
        || cc_bootstrap_token_hash((char *) token.data, token.len, hash)
           != 0)
    {
        ngx_http_cc_auth_refuse(ctx, NGX_HTTP_CC_AUTH_BAD_BOOTSTRAP,
                                "malformed_token");
        return NGX_DECLINED;
    }

    key.data = (u_char *) hash;
    key.len = CC_SHA256_HEX_LEN;

    reg = ngx_http_cc_auth_registry(r);

    if (ngx_http_cc_registry_bootstrap_token(reg, &key, &entry) != NGX_OK) {
        ngx_http_cc_auth_refuse(ctx, NGX_HTTP_CC_AUTH_BAD_BOOTSTRAP,
                                "unknown_token");
        return NGX_DECLINED;
    }

    if (ngx_http_cc_auth_copy(r->pool, &ctx->tenant_id,
                              (char *) entry.tenant_id, NGX_HTTP_CC_GUID_LEN)
           != NGX_OK
        || ngx_http_cc_auth_copy(r->pool, &ctx->bootstrap_id, hash,
                                 NGX_HTTP_CC_AUTH_BOOTSTRAP_ID_LEN)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (!entry.enabled) {
        ngx_http_cc_auth_refuse(ctx, NGX_HTTP_CC_AUTH_FORBIDDEN,
                                "bootstrap_disabled");
        return NGX_DECLINED;
    }

    if (ngx_http_cc_auth_named_tenant_matches(r, &ctx->tenant_id) != NGX_OK) {
        ngx_http_cc_auth_refuse(ctx, NGX_HTTP_CC_AUTH_FORBIDDEN,
                                "tenant_mismatch");
        return NGX_DECLINED;
    }

    if (ngx_http_cc_auth_check_tenant(r, reg, ctx) != NGX_OK) {
        return NGX_DECLINED;
    }

    switch (ngx_http_cc_auth_bootstrap_device(r, ctx)) {

    case NGX_OK:
        break;

    case NGX_DECLINED:
        ngx_http_cc_auth_refuse(ctx, NGX_HTTP_CC_AUTH_BAD_BOOTSTRAP,
                                "no_serial_number");
        return NGX_DECLINED;

    default:
        return NGX_ERROR;
    }

    if (ngx_http_cc_auth_device_blocked(reg, &ctx->tenant_id, &ctx->device_id,
                                        &until)
        == NGX_OK)
    {
        ctx->unblock_at = until;
        ngx_http_cc_auth_refuse(ctx, NGX_HTTP_CC_AUTH_DEVICE_BLOCKED,
                                "device_blocked");
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/*
 * Every X-Tenant-Id sent and a ?tenantId= argument, in any letter case,
 * must name the token's tenant.  A request that names none (register and
 * upload-url carry the tenant in their body) gets the token's tenant, and
 * cc-ingest holds the body to it.
 */

static ngx_int_t
ngx_http_cc_auth_named_tenant_matches(ngx_http_request_t *r,
    ngx_str_t *tenant_id)
{
    char              value[CC_UUID_STR_LEN + 1];
    ngx_str_t         arg;
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    for (part = &r->headers_in.headers.part; part; part = part->next) {
        h = part->elts;

        for (i = 0; i < part->nelts; i++) {

            if (h[i].key.len != sizeof("x-tenant-id") - 1
                || ngx_strncmp(h[i].lowcase_key, "x-tenant-id",
                               sizeof("x-tenant-id") - 1)
                   != 0)
            {
                continue;
            }

            if (cc_uuid_normalise((const char *) h[i].value.data,
                                  h[i].value.len, value)
                   != 0
                || ngx_strncmp(value, tenant_id->data, CC_UUID_STR_LEN) != 0)
            {
                return NGX_DECLINED;
            }
        }
    }

    if (ngx_http_arg(r, (u_char *) "tenantId", sizeof("tenantId") - 1, &arg)
        == NGX_OK)
    {
        if (cc_uuid_normalise((const char *) arg.data, arg.len, value) != 0
            || ngx_strncmp(value, tenant_id->data, CC_UUID_STR_LEN) != 0)
        {
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


/* NGX_DECLINED: no usable serial number to derive the device id from. */

static ngx_int_t
ngx_http_cc_auth_bootstrap_device(ngx_http_request_t *r,
    ngx_http_cc_auth_ctx_t *ctx)
{
    char       device[CC_UUID_STR_LEN + 1];
    ngx_str_t  serial;

    if (ngx_http_cc_auth_bootstrap_header(r, "x-device-serialnumber",
                                          sizeof("x-device-serialnumber") - 1,
                                          &serial)
           != NGX_OK
        || cc_bootstrap_device_id((char *) ctx->tenant_id.data,
                                  ctx->tenant_id.len, (char *) serial.data,
                                  serial.len, device)
           != 0)
    {
        return NGX_DECLINED;
    }

    return ngx_http_cc_auth_copy(r->pool, &ctx->device_id, device,
                                 CC_UUID_STR_LEN);
}


/* The one header named so; two of them are as good as none. */

static ngx_int_t
ngx_http_cc_auth_bootstrap_header(ngx_http_request_t *r, char *name,
    size_t len, ngx_str_t *value)
{
    ngx_uint_t        i, found;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    found = 0;

    for (part = &r->headers_in.headers.part; part; part = part->next) {
        h = part->elts;

        for (i = 0; i < part->nelts; i++) {
            if (h[i].key.len == len
                && ngx_strncmp(h[i].lowcase_key, name, len) == 0)
            {
                *value = h[i].value;
                found++;
            }
        }
    }

    if (found == 0) {
        return NGX_DECLINED;
    }

    if (found > 1) {
        ngx_str_null(value);
    }

    return NGX_OK;
}
