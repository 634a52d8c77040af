
/*
 * Concierge: how registry entries are spelled in shared memory.
 *
 * Every entry is a key and a value, both plain bytes.  Keys are the
 * normalised identifiers (lower-case GUIDs, "tenant/device", lower-case
 * session hex, the kid as given, a bootstrap token's SHA-256 in lower-case
 * hex); values are compact binary records that
 * this file encodes from the C API's structures and decodes back into them.
 * The store never looks inside a value: two equal byte strings mean two
 * equal entries.
 */


#ifndef _NGX_HTTP_CC_REGISTRY_VALUE_H_INCLUDED_
#define _NGX_HTTP_CC_REGISTRY_VALUE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_cc_registry.h"


#define NGX_HTTP_CC_REGISTRY_TENANTS     0
#define NGX_HTTP_CC_REGISTRY_DEVICES     1
#define NGX_HTTP_CC_REGISTRY_SESSIONS    2
#define NGX_HTTP_CC_REGISTRY_KEYS        3
#define NGX_HTTP_CC_REGISTRY_BOOTSTRAP   4
#define NGX_HTTP_CC_REGISTRY_KINDS       5

/* "tenant/device": two GUIDs and a slash */
#define NGX_HTTP_CC_DEVICE_KEY_LEN       (2 * NGX_HTTP_CC_GUID_LEN + 1)

/* the largest encoded tenant: status, plan, region, limits */
#define NGX_HTTP_CC_TENANT_VALUE_MAX                                          \
    (1 + 1 + NGX_HTTP_CC_PLAN_MAX + 1 + NGX_HTTP_CC_REGION_MAX + 1            \
     + NGX_HTTP_CC_LIMITS_MAX * (1 + NGX_HTTP_CC_LIMIT_NAME_MAX + 8))


/* One entry outside shared memory: what is written, or a copy read out. */
typedef struct {
    ngx_uint_t                kind;         /* NGX_HTTP_CC_REGISTRY_* */
    ngx_str_t                 key;
    ngx_str_t                 value;
    time_t                    until;        /* 0: never expires */
    uint64_t                  generation;   /* set by the store */
} ngx_http_cc_registry_entry_t;


/* The name of a kind as the control API spells it ("tenants", ...). */
ngx_str_t *ngx_http_cc_registry_kind_name(ngx_uint_t kind);

/*
 * Keys.  Each returns NGX_OK and writes the normalised key into out (which
 * must hold the kind's maximum), or NGX_DECLINED when the identifier is
 * malformed.
 */
ngx_int_t ngx_http_cc_registry_tenant_key(ngx_str_t *id, u_char *out);
ngx_int_t ngx_http_cc_registry_device_key(ngx_str_t *tenant_id,
    ngx_str_t *device_id, u_char *out);
ngx_int_t ngx_http_cc_registry_session_key(ngx_str_t *sid, u_char *out);
ngx_int_t ngx_http_cc_registry_kid_valid(ngx_str_t *kid);
ngx_int_t ngx_http_cc_registry_bootstrap_key(ngx_str_t *hash, u_char *out);

/* Splits a device key back into its tenant and device ids. */
void ngx_http_cc_registry_device_ids(ngx_str_t *key, ngx_str_t *tenant_id,
    ngx_str_t *device_id);

/* Names: plan, region and reason are [A-Za-z0-9._-]; limits [a-z0-9_]. */
ngx_int_t ngx_http_cc_registry_name_valid(u_char *p, size_t len,
    size_t max);
ngx_int_t ngx_http_cc_registry_limit_name_valid(u_char *p, size_t len);

/* Values.  Encoders allocate from pool; decoders trust their input's
 * lengths only as far as the value's own length allows. */
ngx_int_t ngx_http_cc_registry_encode_tenant(ngx_pool_t *pool,
    ngx_http_cc_tenant_t *tenant, ngx_str_t *value);
void ngx_http_cc_registry_decode_tenant(u_char *p, size_t len,
    ngx_http_cc_tenant_t *tenant);

ngx_int_t ngx_http_cc_registry_encode_device(ngx_pool_t *pool,
    ngx_str_t *reason, ngx_str_t *value);
void ngx_http_cc_registry_decode_device(u_char *p, size_t len,
    ngx_http_cc_device_block_t *block);

ngx_int_t ngx_http_cc_registry_encode_key(ngx_pool_t *pool,
    ngx_uint_t revoked, ngx_str_t *issuer, ngx_str_t *jwk, ngx_str_t *value);
void ngx_http_cc_registry_decode_key(u_char *p, size_t len,
    ngx_uint_t *revoked, ngx_str_t *issuer, ngx_str_t *jwk);

ngx_int_t ngx_http_cc_registry_encode_bootstrap(ngx_pool_t *pool,
    ngx_str_t *tenant_id, ngx_uint_t enabled, ngx_str_t *value);
void ngx_http_cc_registry_decode_bootstrap(u_char *p, size_t len,
    ngx_http_cc_bootstrap_t *token);


#endif /* _NGX_HTTP_CC_REGISTRY_VALUE_H_INCLUDED_ */
