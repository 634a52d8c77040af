
/*
 * Concierge: the registry's C API, for the other modules of the .so.
 *
 * The registry (ngx_http_cc_registry_module.c) is a shared-memory zone
 * holding tenants, blocked devices, revoked sessions, signing keys and
 * bootstrap tokens,
 * written through a control API by cc-worker's sync job.  Every function
 * here takes the zone's lock for the time it needs to copy the answer out,
 * so what a caller holds afterwards is its own copy: nothing points into
 * shared memory, and nothing is allocated except from the pool passed in.
 *
 * Return values: NGX_OK (found / blocked / revoked), NGX_DECLINED (not
 * there, expired, or the identifier is malformed), NGX_ERROR (no memory).
 *
 * Every change to the registry increments a generation counter.  A cache
 * built from registry data (the verified-token cache, parsed keys) stores
 * the generation it saw and compares it with != before trusting itself.
 * Generations keep increasing even across a reload that re-creates the zone
 * (they start at the zone's creation time multiplied by 2^20), so a number
 * never comes back with another meaning.
 */


#ifndef _NGX_HTTP_CC_REGISTRY_H_INCLUDED_
#define _NGX_HTTP_CC_REGISTRY_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


#define NGX_HTTP_CC_GUID_LEN           36     /* 8-4-4-4-12, lower case */
#define NGX_HTTP_CC_SESSION_ID_LEN     32     /* 128 bits in lower-case hex */
#define NGX_HTTP_CC_BOOTSTRAP_KEY_LEN  64     /* SHA-256 in lower-case hex */
#define NGX_HTTP_CC_PLAN_MAX           32
#define NGX_HTTP_CC_REGION_MAX         64
#define NGX_HTTP_CC_LIMIT_NAME_MAX     32
#define NGX_HTTP_CC_LIMITS_MAX         8
#define NGX_HTTP_CC_REASON_MAX         32
#define NGX_HTTP_CC_KID_MAX            128
#define NGX_HTTP_CC_ISSUER_MAX         256
#define NGX_HTTP_CC_JWK_MAX            8192


/* the order is the registry's wire order: do not renumber */
#define NGX_HTTP_CC_TENANT_UNKNOWN      0
#define NGX_HTTP_CC_TENANT_ACTIVE       1
#define NGX_HTTP_CC_TENANT_SUSPENDED    2
#define NGX_HTTP_CC_TENANT_OFFBOARDING  3
#define NGX_HTTP_CC_TENANT_OFFBOARDED   4


typedef struct ngx_http_cc_registry_s  ngx_http_cc_registry_t;


typedef struct {
    size_t                    name_len;
    u_char                    name[NGX_HTTP_CC_LIMIT_NAME_MAX];
    int64_t                   value;
} ngx_http_cc_limit_t;


typedef struct {
    uint64_t                  generation;   /* of the tenant's last change */
    ngx_uint_t                status;       /* NGX_HTTP_CC_TENANT_* */
    size_t                    plan_len;
    u_char                    plan[NGX_HTTP_CC_PLAN_MAX];
    size_t                    region_len;
    u_char                    region[NGX_HTTP_CC_REGION_MAX];
    ngx_uint_t                nlimits;
    ngx_http_cc_limit_t       limits[NGX_HTTP_CC_LIMITS_MAX];
} ngx_http_cc_tenant_t;


typedef struct {
    uint64_t                  generation;
    time_t                    until;        /* unix seconds; 0: indefinitely */
    size_t                    reason_len;
    u_char                    reason[NGX_HTTP_CC_REASON_MAX];
} ngx_http_cc_device_block_t;


typedef struct {
    uint64_t                  generation;   /* changes whenever the entry does */
    ngx_uint_t                revoked;
    ngx_str_t                 issuer;
    ngx_str_t                 jwk;          /* the JWK's JSON text */
} ngx_http_cc_key_t;


/*
 * A bootstrap token, known by the SHA-256 of its canonical text: the
 * tenant it belongs to, when it expires, and whether that tenant accepts
 * bootstrap tokens at all (a token of a tenant that switched the feature
 * off is refused with 403, an unknown token with 401).
 */
typedef struct {
    uint64_t                  generation;
    u_char                    tenant_id[NGX_HTTP_CC_GUID_LEN];
    ngx_uint_t                enabled;
    time_t                    until;
} ngx_http_cc_bootstrap_t;


typedef struct {
    uint64_t                  all;          /* the registry's generation */
    uint64_t                  tenants;      /* last change of each kind */
    uint64_t                  devices;
    uint64_t                  sessions;
    uint64_t                  keys;
} ngx_http_cc_registry_generations_t;


/* The registry of the request's configuration; NULL without cc_registry_zone. */
ngx_http_cc_registry_t *ngx_http_cc_registry_from_request(
    ngx_http_request_t *r);

/* Tenant ids are GUIDs in any letter case. */
ngx_int_t ngx_http_cc_registry_tenant(ngx_http_cc_registry_t *reg,
    ngx_str_t *tenant_id, ngx_http_cc_tenant_t *tenant);

/* NGX_OK: the device is blocked now; block (may be NULL) says until when. */
ngx_int_t ngx_http_cc_registry_device_blocked(ngx_http_cc_registry_t *reg,
    ngx_str_t *tenant_id, ngx_str_t *device_id,
    ngx_http_cc_device_block_t *block);

/* NGX_OK: the session (its 128-bit id in hex) is revoked; until may be NULL. */
ngx_int_t ngx_http_cc_registry_session_revoked(ngx_http_cc_registry_t *reg,
    ngx_str_t *session_id, time_t *until);

/*
 * NGX_OK: hash (64 hex digits) names a live bootstrap token, copied into
 * token; NGX_DECLINED: unknown, revoked or expired.
 */
ngx_int_t ngx_http_cc_registry_bootstrap_token(ngx_http_cc_registry_t *reg,
    ngx_str_t *hash, ngx_http_cc_bootstrap_t *token);

/*
 * The cheap check for a per-process cache of parsed keys: the generation
 * of kid's entry and its revoked flag, copying nothing.  A cache keyed by
 * (kid, generation) re-parses only when the entry changed.
 */
ngx_int_t ngx_http_cc_registry_key_version(ngx_http_cc_registry_t *reg,
    ngx_str_t *kid, uint64_t *generation, ngx_uint_t *revoked);

/* The key's JWK text and issuer, copied into pool. */
ngx_int_t ngx_http_cc_registry_key(ngx_http_cc_registry_t *reg,
    ngx_str_t *kid, ngx_pool_t *pool, ngx_http_cc_key_t *key);

/*
 * Records that a token named a kid the registry does not hold.  The latest
 * such kid and when it was seen appear in GET /registry, which cc-worker's
 * sync job polls: it refetches the issuers' JWKS (at most once every few
 * minutes) and pushes the keys it finds.  Cheap; safe to call per request.
 */
void ngx_http_cc_registry_note_unknown_kid(ngx_http_cc_registry_t *reg,
    ngx_str_t *kid);

uint64_t ngx_http_cc_registry_generation(ngx_http_cc_registry_t *reg);

void ngx_http_cc_registry_generations(ngx_http_cc_registry_t *reg,
    ngx_http_cc_registry_generations_t *generations);

/* "active", "suspended", "offboarding", "offboarded" or "unknown". */
ngx_str_t *ngx_http_cc_tenant_status_name(ngx_uint_t status);


#endif /* _NGX_HTTP_CC_REGISTRY_H_INCLUDED_ */
