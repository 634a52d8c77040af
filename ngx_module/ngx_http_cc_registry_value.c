
/*
 * Concierge: registry keys and values, encoded for shared memory and
 * decoded back into the C API's structures (see the header for the shape).
 *
 *   tenant   status(1) plan_len(1) plan region_len(1) region
 *            nlimits(1) { name_len(1) name value(8) }...
 *   device   reason_len(1) reason            (until lives in the node)
 *   session  nothing                         (until lives in the node)
 *   key      revoked(1) issuer_len(2) issuer jwk
 *   bootstrap tenant(36) enabled(1)          (until lives in the node)
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "cc_uuid.h"
#include "ngx_http_cc_registry_value.h"


static ngx_str_t  ngx_http_cc_registry_kind_names[] = {
    ngx_string("tenants"),
    ngx_string("devices"),
    ngx_string("sessions"),
    ngx_string("keys"),
    ngx_string("bootstrap")
};


ngx_str_t *
ngx_http_cc_registry_kind_name(ngx_uint_t kind)
{
    return &ngx_http_cc_registry_kind_names[kind];
}


ngx_int_t
ngx_http_cc_registry_tenant_key(ngx_str_t *id, u_char *out)
{
    char  buf[CC_UUID_STR_LEN + 1];

    if (cc_uuid_normalise((char *) id->data, id->len, buf) != 0) {
        return NGX_DECLINED;
    }

    ngx_memcpy(out, buf, NGX_HTTP_CC_GUID_LEN);

    return NGX_OK;
}


ngx_int_t
ngx_http_cc_registry_device_key(ngx_str_t *tenant_id, ngx_str_t *device_id,
    u_char *out)
{
    if (ngx_http_cc_registry_tenant_key(tenant_id, out) != NGX_OK) {
        return NGX_DECLINED;
    }

    out[NGX_HTTP_CC_GUID_LEN] = '/';

    return ngx_http_cc_registry_tenant_key(device_id,
                                           out + NGX_HTTP_CC_GUID_LEN + 1);
}


void
ngx_http_cc_registry_device_ids(ngx_str_t *key, ngx_str_t *tenant_id,
    ngx_str_t *device_id)
{
    tenant_id->data = key->data;
    tenant_id->len = NGX_HTTP_CC_GUID_LEN;

    device_id->data = key->data + NGX_HTTP_CC_GUID_LEN + 1;
    device_id->len = key->len - NGX_HTTP_CC_GUID_LEN - 1;
}


/* Session ids are 128 bits in hex; either case in, lower case stored. */

ngx_int_t
ngx_http_cc_registry_session_key(ngx_str_t *sid, u_char *out)
{
    u_char      c;
    ngx_uint_t  i;

    if (sid->len != NGX_HTTP_CC_SESSION_ID_LEN) {
        return NGX_DECLINED;
    }

    for (i = 0; i < sid->len; i++) {
        c = ngx_tolower(sid->data[i]);

        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return NGX_DECLINED;
        }

        out[i] = c;
    }

    return NGX_OK;
}


/* A bootstrap token's key: its SHA-256 in hex, either case in. */

ngx_int_t
ngx_http_cc_registry_bootstrap_key(ngx_str_t *hash, u_char *out)
{
    u_char      c;
    ngx_uint_t  i;

    if (hash->len != NGX_HTTP_CC_BOOTSTRAP_KEY_LEN) {
        return NGX_DECLINED;
    }

    for (i = 0; i < hash->len; i++) {
        c = ngx_tolower(hash->data[i]);

        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return NGX_DECLINED;
        }

        out[i] = c;
    }

    return NGX_OK;
}


/*
 * Issuers choose their kids; any visible ASCII is allowed except "/",
 * which could not travel in the control API's path.
 */

ngx_int_t
ngx_http_cc_registry_kid_valid(ngx_str_t *kid)
{
    ngx_uint_t  i;

    if (kid->len == 0 || kid->len > NGX_HTTP_CC_KID_MAX) {
        return NGX_DECLINED;
    }

    for (i = 0; i < kid->len; i++) {
        if (kid->data[i] <= 0x20 || kid->data[i] >= 0x7f
            || kid->data[i] == '/')
        {
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


/*
 * Plans, regions and reasons end up in variables, upstream names and log
 * lines, so they are kept to characters that need no escaping anywhere.
 */

ngx_int_t
ngx_http_cc_registry_name_valid(u_char *p, size_t len, size_t max)
{
    size_t  i;

    if (len > max) {
        return NGX_DECLINED;
    }

    for (i = 0; i < len; i++) {
        if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z')
              || (p[i] >= '0' && p[i] <= '9')
              || p[i] == '.' || p[i] == '_' || p[i] == '-'))
        {
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


/* Limit names become part of variable names, which nginx lower-cases. */

ngx_int_t
ngx_http_cc_registry_limit_name_valid(u_char *p, size_t len)
{
    size_t  i;

    if (len == 0 || len > NGX_HTTP_CC_LIMIT_NAME_MAX) {
        return NGX_DECLINED;
    }

    for (i = 0; i < len; i++) {
        if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9')
              || p[i] == '_'))
        {
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_cc_registry_encode_tenant(ngx_pool_t *pool,
    ngx_http_cc_tenant_t *tenant, ngx_str_t *value)
{
    u_char               *p;
    ngx_uint_t            i;
    ngx_http_cc_limit_t  *limit;

    p = ngx_pnalloc(pool, NGX_HTTP_CC_TENANT_VALUE_MAX);
    if (p == NULL) {
        return NGX_ERROR;
    }

    value->data = p;

    *p++ = (u_char) tenant->status;

    *p++ = (u_char) tenant->plan_len;
    p = ngx_cpymem(p, tenant->plan, tenant->plan_len);

    *p++ = (u_char) tenant->region_len;
    p = ngx_cpymem(p, tenant->region, tenant->region_len);

    *p++ = (u_char) tenant->nlimits;

    for (i = 0; i < tenant->nlimits; i++) {
        limit = &tenant->limits[i];

        *p++ = (u_char) limit->name_len;
        p = ngx_cpymem(p, limit->name, limit->name_len);
        p = ngx_cpymem(p, &limit->value, sizeof(int64_t));
    }

    value->len = p - value->data;

    return NGX_OK;
}


/*
 * Values are written only by the encoders above, but a decoder still never
 * reads past the value or overflows the structure it fills: a short read
 * leaves the remaining fields empty.
 */

void
ngx_http_cc_registry_decode_tenant(u_char *p, size_t len,
    ngx_http_cc_tenant_t *tenant)
{
    size_t                n;
    ngx_uint_t            i, nlimits;
    ngx_http_cc_limit_t  *limit;

    tenant->status = NGX_HTTP_CC_TENANT_UNKNOWN;
    tenant->plan_len = 0;
    tenant->region_len = 0;
    tenant->nlimits = 0;

    if (len < 2 || (n = p[1]) > NGX_HTTP_CC_PLAN_MAX || len < 2 + n) {
        return;
    }

    tenant->status = p[0];
    tenant->plan_len = n;
    ngx_memcpy(tenant->plan, p + 2, n);
    p += 2 + n;
    len -= 2 + n;

    if (len < 1 || (n = p[0]) > NGX_HTTP_CC_REGION_MAX || len < 1 + n) {
        return;
    }

    tenant->region_len = n;
    ngx_memcpy(tenant->region, p + 1, n);
    p += 1 + n;
    len -= 1 + n;

    if (len < 1) {
        return;
    }

    nlimits = ngx_min(p[0], NGX_HTTP_CC_LIMITS_MAX);
    p++;
    len--;

    for (i = 0; i < nlimits; i++) {
        if (len < 1 || (n = p[0]) > NGX_HTTP_CC_LIMIT_NAME_MAX
            || len < 1 + n + sizeof(int64_t))
        {
            return;
        }

        limit = &tenant->limits[i];
        limit->name_len = n;
        ngx_memcpy(limit->name, p + 1, n);
        ngx_memcpy(&limit->value, p + 1 + n, sizeof(int64_t));
        p += 1 + n + sizeof(int64_t);
        len -= 1 + n + sizeof(int64_t);

        tenant->nlimits = i + 1;
    }
}


ngx_int_t
ngx_http_cc_registry_encode_device(ngx_pool_t *pool, ngx_str_t *reason,
    ngx_str_t *value)
{
    u_char  *p;

    p = ngx_pnalloc(pool, 1 + reason->len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    p[0] = (u_char) reason->len;
    ngx_memcpy(p + 1, reason->data, reason->len);

    value->data = p;
    value->len = 1 + reason->len;

    return NGX_OK;
}


void
ngx_http_cc_registry_decode_device(u_char *p, size_t len,
    ngx_http_cc_device_block_t *block)
{
    size_t  n;

    block->reason_len = 0;

    if (len < 1) {
        return;
    }

    n = ngx_min(p[0], NGX_HTTP_CC_REASON_MAX);
    n = ngx_min(n, len - 1);

    block->reason_len = n;
    ngx_memcpy(block->reason, p + 1, n);
}


ngx_int_t
ngx_http_cc_registry_encode_key(ngx_pool_t *pool, ngx_uint_t revoked,
    ngx_str_t *issuer, ngx_str_t *jwk, ngx_str_t *value)
{
    u_char    *p;
    uint16_t   n;

    p = ngx_pnalloc(pool, 3 + issuer->len + jwk->len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    value->data = p;

    *p++ = revoked ? 1 : 0;

    n = (uint16_t) issuer->len;
    p = ngx_cpymem(p, &n, sizeof(uint16_t));
    p = ngx_cpymem(p, issuer->data, issuer->len);
    p = ngx_cpymem(p, jwk->data, jwk->len);

    value->len = p - value->data;

    return NGX_OK;
}


/* issuer and jwk point into p: the caller copies what it keeps. */

void
ngx_http_cc_registry_decode_key(u_char *p, size_t len, ngx_uint_t *revoked,
    ngx_str_t *issuer, ngx_str_t *jwk)
{
    uint16_t  n;

    *revoked = 0;
    ngx_str_null(issuer);
    ngx_str_null(jwk);

    if (len < 3) {
        return;
    }

    *revoked = p[0];
    ngx_memcpy(&n, p + 1, sizeof(uint16_t));

    if (n > len - 3) {
        return;
    }

    issuer->data = p + 3;
    issuer->len = n;

    jwk->data = p + 3 + n;
    jwk->len = len - 3 - n;
}


ngx_int_t
ngx_http_cc_registry_encode_bootstrap(ngx_pool_t *pool, ngx_str_t *tenant_id,
    ngx_uint_t enabled, ngx_str_t *value)
{
    u_char  *p;

    p = ngx_pnalloc(pool, NGX_HTTP_CC_GUID_LEN + 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(p, tenant_id->data, NGX_HTTP_CC_GUID_LEN);
    p[NGX_HTTP_CC_GUID_LEN] = enabled ? 1 : 0;

    value->data = p;
    value->len = NGX_HTTP_CC_GUID_LEN + 1;

    return NGX_OK;
}


/* A short value leaves the token disabled and without a tenant. */

void
ngx_http_cc_registry_decode_bootstrap(u_char *p, size_t len,
    ngx_http_cc_bootstrap_t *token)
{
    if (len != NGX_HTTP_CC_GUID_LEN + 1) {
        ngx_memzero(token->tenant_id, NGX_HTTP_CC_GUID_LEN);
        token->enabled = 0;
        return;
    }

    ngx_memcpy(token->tenant_id, p, NGX_HTTP_CC_GUID_LEN);
    token->enabled = p[NGX_HTTP_CC_GUID_LEN];
}
