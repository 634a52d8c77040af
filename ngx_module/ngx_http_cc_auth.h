
/*
 * Concierge: what the files of the auth module share (ngx_http_cc_auth_*.c):
 * its configuration, the identity a request ends up with, and one entry
 * point per concern (keys, token cache and digest, bearer, cookie, device,
 * registry, replies).  Nothing outside the auth module includes this header.
 */


#ifndef _NGX_HTTP_CC_AUTH_H_INCLUDED_
#define _NGX_HTTP_CC_AUTH_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "cc_hash.h"
#include "cc_jwks.h"
#include "cc_jwt.h"
#include "cc_session.h"

#include "ngx_http_cc_registry.h"


/* cc_auth: what proves identity in a location */
#define NGX_HTTP_CC_AUTH_OFF                0
#define NGX_HTTP_CC_AUTH_BEARER             1
#define NGX_HTTP_CC_AUTH_COOKIE             2
#define NGX_HTTP_CC_AUTH_DEVICE             3
#define NGX_HTTP_CC_AUTH_BEARER_OR_COOKIE   4

/* $cc_auth_method: what did, for this request */
#define NGX_HTTP_CC_AUTH_METHOD_NONE        0
#define NGX_HTTP_CC_AUTH_METHOD_BEARER      1
#define NGX_HTTP_CC_AUTH_METHOD_COOKIE      2
#define NGX_HTTP_CC_AUTH_METHOD_DEVICE      3
#define NGX_HTTP_CC_AUTH_METHOD_BOOTSTRAP   4

/* $cc_auth_cache: what the verified-token cache did for this request */
#define NGX_HTTP_CC_AUTH_CACHE_OFF          0
#define NGX_HTTP_CC_AUTH_CACHE_MISS         1
#define NGX_HTTP_CC_AUTH_CACHE_HIT          2
#define NGX_HTTP_CC_AUTH_CACHE_REVALIDATED  3

/* How a refusal is answered (ngx_http_cc_auth_reply.c). */
#define NGX_HTTP_CC_AUTH_NO_CREDENTIALS     1   /* 401, bare challenge */
#define NGX_HTTP_CC_AUTH_BAD_TOKEN          2   /* 401 invalid_token */
#define NGX_HTTP_CC_AUTH_BAD_SESSION        3   /* 401 invalid_session */
#define NGX_HTTP_CC_AUTH_BAD_CERTIFICATE    4   /* 401 invalid_certificate */
#define NGX_HTTP_CC_AUTH_FORBIDDEN          5   /* 403 */
#define NGX_HTTP_CC_AUTH_DEVICE_BLOCKED     6   /* 200, as agents expect */
#define NGX_HTTP_CC_AUTH_BAD_BOOTSTRAP      7   /* 401 invalid_bootstrap_token */

/* $cc_bootstrap_id: the first hex digits of the token's SHA-256 */
#define NGX_HTTP_CC_AUTH_BOOTSTRAP_ID_LEN   16

#define NGX_HTTP_CC_AUTH_DEFAULT_LEEWAY     60
#define NGX_HTTP_CC_AUTH_DEFAULT_MAX_TOKEN  16384
#define NGX_HTTP_CC_AUTH_MAX_ISSUERS        16
#define NGX_HTTP_CC_AUTH_TAG_LEN            16
#define NGX_HTTP_CC_AUTH_CACHE_KEY_LEN      (CC_SHA256_LEN                   \
                                             + NGX_HTTP_CC_AUTH_TAG_LEN)


/* A JWKS file parsed at configuration time, with the digest of its text. */
typedef struct {
    ngx_str_t                     path;
    cc_jwks_t                    *set;
    u_char                        digest[CC_SHA256_LEN];
} ngx_http_cc_auth_jwks_t;


typedef struct {
    ngx_shm_zone_t               *cache;
    time_t                        cache_max_ttl;    /* 0: until exp */
} ngx_http_cc_auth_main_conf_t;


typedef struct {
    ngx_uint_t                    mode;
    ngx_uint_t                    bootstrap;        /* "device bootstrap" */
    ngx_flag_t                    tenant_check;

    ngx_http_cc_auth_jwks_t      *jwks;
    ngx_array_t                  *issuers;          /* of char * */
    ngx_array_t                  *audiences;        /* of char * */
    time_t                        leeway;
    size_t                        max_token_size;

    /*
     * Built by merge from the four above.  The tag is a digest of
     * everything a verification depended on, part of the cache key: a
     * token verified under one policy (another location's audience, the
     * key file before a reload) is never a cache hit under another.
     */
    cc_jwt_policy_t               policy;
    u_char                        tag[NGX_HTTP_CC_AUTH_TAG_LEN];

    ngx_str_t                     cookie_name;
    cc_session_keyring_t         *keyring;
    ngx_str_t                     origin;

    /*
     * The one tenant whose users may hold global_admin (lower case; empty:
     * none).  App roles of a multi-tenant Entra app can be assigned by
     * every customer's own administrators, so the role means nothing from
     * any other tenant.
     */
    ngx_str_t                     platform_tenant;
} ngx_http_cc_auth_loc_conf_t;


/*
 * The request's identity and, after a refusal, why.  Strings live in the
 * request pool; empty when a method has no such thing (a device has no
 * user, a session no user name).
 */
typedef struct {
    ngx_http_cc_auth_loc_conf_t  *conf;             /* that authenticated */
    ngx_uint_t                    method;
    ngx_str_t                     tenant_id;
    ngx_str_t                     user_id;
    ngx_str_t                     user_name;        /* personal data */
    ngx_str_t                     roles;
    ngx_str_t                     device_id;
    ngx_str_t                     bootstrap_id;     /* bootstrap only */

    ngx_uint_t                    cache;            /* ..._CACHE_* */
    ngx_uint_t                    refusal;          /* 0: none */
    const char                   *error;            /* stable code or NULL */
    time_t                        unblock_at;       /* blocked device; 0 */
} ngx_http_cc_auth_ctx_t;


/* One entry of the verified-token cache, as copied out of shared memory. */
typedef struct {
    time_t                        expires;
    uint64_t                      tenants_generation;
    uint64_t                      keys_generation;
    uint64_t                      key_generation;   /* 0: a static key */
    ngx_str_t                     kid;
    ngx_str_t                     tenant_id;
    ngx_str_t                     user_id;
    ngx_str_t                     user_name;
    ngx_str_t                     roles;
} ngx_http_cc_auth_cached_t;


/* Where a token's kid was found (ngx_http_cc_auth_keys.c). */
#define NGX_HTTP_CC_AUTH_KID_UNKNOWN        0
#define NGX_HTTP_CC_AUTH_KID_STATIC         1
#define NGX_HTTP_CC_AUTH_KID_REGISTRY       2
#define NGX_HTTP_CC_AUTH_KID_REVOKED        3
#define NGX_HTTP_CC_AUTH_KID_UNUSABLE       4

typedef struct {
    const cc_jwks_t              *set;              /* never NULL */
    ngx_uint_t                    found;            /* ..._KID_* */
    uint64_t                      generation;       /* registry keys only */
} ngx_http_cc_auth_key_choice_t;


extern ngx_module_t  ngx_http_cc_auth_module;


/* ngx_http_cc_auth_keys.c */
char *ngx_http_cc_auth_load_jwks(ngx_conf_t *cf, ngx_str_t *path,
    ngx_http_cc_auth_jwks_t **jwks);
ngx_int_t ngx_http_cc_auth_choose_keys(ngx_http_request_t *r,
    ngx_http_cc_auth_loc_conf_t *alcf, ngx_http_cc_registry_t *reg,
    ngx_str_t *token, ngx_http_cc_auth_key_choice_t *choice);
void ngx_http_cc_auth_free_process_keys(void);

/* ngx_http_cc_auth_cache.c */
ngx_shm_zone_t *ngx_http_cc_auth_cache_add(ngx_conf_t *cf, ngx_str_t *name,
    size_t size);
ngx_int_t ngx_http_cc_auth_cache_lookup(ngx_shm_zone_t *zone, u_char *key,
    ngx_pool_t *pool, ngx_http_cc_auth_cached_t *entry);
void ngx_http_cc_auth_cache_store(ngx_shm_zone_t *zone, u_char *key,
    ngx_http_cc_auth_cached_t *entry, ngx_log_t *log);
void ngx_http_cc_auth_cache_refresh(ngx_shm_zone_t *zone, u_char *key,
    uint64_t tenants_generation, uint64_t keys_generation);
void ngx_http_cc_auth_cache_remove(ngx_shm_zone_t *zone, u_char *key);

/* ngx_http_cc_auth_digest.c */
ngx_int_t ngx_http_cc_auth_token_digest(ngx_http_request_t *r,
    ngx_str_t *token, u_char *digest);
void ngx_http_cc_auth_free_digest(void);

/* ngx_http_cc_auth_bearer.c */
ngx_int_t ngx_http_cc_auth_bearer_token(ngx_http_request_t *r,
    ngx_str_t *token);
ngx_int_t ngx_http_cc_auth_bearer(ngx_http_request_t *r,
    ngx_http_cc_auth_loc_conf_t *alcf, ngx_http_cc_auth_ctx_t *ctx);

/* ngx_http_cc_auth_cookie.c */
ngx_int_t ngx_http_cc_auth_session_cookie(ngx_http_request_t *r,
    ngx_http_cc_auth_loc_conf_t *alcf, ngx_str_t *value);
ngx_int_t ngx_http_cc_auth_cookie(ngx_http_request_t *r,
    ngx_http_cc_auth_loc_conf_t *alcf, ngx_http_cc_auth_ctx_t *ctx);
char *ngx_http_cc_auth_load_keyring(ngx_conf_t *cf, ngx_str_t *path,
    cc_session_keyring_t **keyring);

/* ngx_http_cc_auth_device.c */
ngx_int_t ngx_http_cc_auth_device(ngx_http_request_t *r,
    ngx_http_cc_auth_loc_conf_t *alcf, ngx_http_cc_auth_ctx_t *ctx);

/* ngx_http_cc_auth_bootstrap.c */
ngx_int_t ngx_http_cc_auth_bootstrap_token(ngx_http_request_t *r,
    ngx_str_t *token);
ngx_int_t ngx_http_cc_auth_bootstrap(ngx_http_request_t *r,
    ngx_http_cc_auth_loc_conf_t *alcf, ngx_http_cc_auth_ctx_t *ctx);

/* ngx_http_cc_auth_registry.c */
ngx_http_cc_registry_t *ngx_http_cc_auth_registry(ngx_http_request_t *r);
void ngx_http_cc_auth_generations(ngx_http_cc_registry_t *reg,
    uint64_t *tenants, uint64_t *keys);
ngx_int_t ngx_http_cc_auth_check_tenant(ngx_http_request_t *r,
    ngx_http_cc_registry_t *reg, ngx_http_cc_auth_ctx_t *ctx);
ngx_int_t ngx_http_cc_auth_device_blocked(ngx_http_cc_registry_t *reg,
    ngx_str_t *tenant_id, ngx_str_t *device_id, time_t *until);
ngx_int_t ngx_http_cc_auth_session_revoked(ngx_http_cc_registry_t *reg,
    ngx_str_t *session_id);
ngx_int_t ngx_http_cc_auth_key_version(ngx_http_cc_registry_t *reg,
    ngx_str_t *kid, uint64_t *generation, ngx_uint_t *revoked);
ngx_int_t ngx_http_cc_auth_key(ngx_http_cc_registry_t *reg, ngx_str_t *kid,
    ngx_pool_t *pool, ngx_str_t *jwk, ngx_str_t *issuer);
void ngx_http_cc_auth_note_unknown_kid(ngx_http_cc_registry_t *reg,
    ngx_str_t *kid);

/* ngx_http_cc_auth_reply.c */
void ngx_http_cc_auth_refuse(ngx_http_cc_auth_ctx_t *ctx, ngx_uint_t refusal,
    const char *error);
ngx_int_t ngx_http_cc_auth_reply(ngx_http_request_t *r,
    ngx_http_cc_auth_loc_conf_t *alcf, ngx_http_cc_auth_ctx_t *ctx);

/* ngx_http_cc_auth_module.c */
ngx_int_t ngx_http_cc_auth_read_file(ngx_conf_t *cf, ngx_str_t *name,
    size_t max, ngx_str_t *text);
ngx_int_t ngx_http_cc_auth_copy(ngx_pool_t *pool, ngx_str_t *dst,
    const char *src, size_t len);


#endif /* _NGX_HTTP_CC_AUTH_H_INCLUDED_ */
