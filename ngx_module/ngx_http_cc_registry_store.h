
/*
 * Concierge: the registry's shared-memory store, for the registry's own
 * files (the module, its C API and its control API).
 *
 * One slab pool holds a header (generations, last sync, last unknown kid)
 * and a content block: one red-black tree per kind, keyed by the CRC32 of
 * the entry's key with the full key compared on collision.  A write sweeps
 * a few expired entries; a sync builds a whole new content block beside the
 * old one and swaps them only when every allocation succeeded.
 */


#ifndef _NGX_HTTP_CC_REGISTRY_STORE_H_INCLUDED_
#define _NGX_HTTP_CC_REGISTRY_STORE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_cc_registry.h"
#include "ngx_http_cc_registry_value.h"


#define NGX_HTTP_CC_SYNC_TAG_MAX         64


typedef struct {
    ngx_rbtree_t                     rbtree;
    ngx_rbtree_node_t                sentinel;
    ngx_queue_t                      queue;      /* the expiry sweep's clock */
    ngx_uint_t                       count;      /* live or not yet swept */
} ngx_http_cc_registry_tree_t;


typedef struct {
    ngx_http_cc_registry_tree_t      trees[NGX_HTTP_CC_REGISTRY_KINDS];
} ngx_http_cc_registry_content_t;


typedef struct {
    ngx_http_cc_registry_content_t  *content;

    uint64_t                         generation;
    uint64_t                         kind_generation[
                                         NGX_HTTP_CC_REGISTRY_KINDS];

    time_t                           synced_at;   /* 0: not since created */
    size_t                           sync_tag_len;
    u_char                           sync_tag[NGX_HTTP_CC_SYNC_TAG_MAX];

    time_t                           unknown_kid_at;   /* 0: none noted */
    size_t                           unknown_kid_len;
    u_char                           unknown_kid[NGX_HTTP_CC_KID_MAX];
} ngx_http_cc_registry_sh_t;


typedef struct {
    ngx_rbtree_node_t                node;       /* key: crc32 of data */
    ngx_queue_t                      queue;
    uint64_t                         generation;
    time_t                           until;      /* 0: never expires */
    uint32_t                         key_len;
    uint32_t                         value_len;
    u_char                           data[1];    /* the key, then the value */
} ngx_http_cc_registry_node_t;


struct ngx_http_cc_registry_s {
    ngx_shm_zone_t                  *shm_zone;
    ngx_slab_pool_t                 *shpool;
    ngx_http_cc_registry_sh_t       *sh;
};


/* What GET /registry reports. */
typedef struct {
    uint64_t                         generation;
    ngx_uint_t                       count[NGX_HTTP_CC_REGISTRY_KINDS];
    size_t                           bytes_used;
    size_t                           bytes_free;
    time_t                           synced_at;
    ngx_str_t                        sync_tag;      /* copied into pool */
    time_t                           unknown_kid_at;
    ngx_str_t                        unknown_kid;   /* copied into pool */
} ngx_http_cc_registry_status_t;


ngx_int_t ngx_http_cc_registry_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);

/*
 * Writes.  NGX_OK: done; NGX_DECLINED: the zone is full and nothing
 * changed; NGX_ERROR: no memory in the request's pool.
 */
ngx_int_t ngx_http_cc_registry_put(ngx_http_cc_registry_t *reg,
    ngx_http_cc_registry_entry_t *entry, ngx_uint_t *created);
ngx_int_t ngx_http_cc_registry_delete(ngx_http_cc_registry_t *reg,
    ngx_uint_t kind, ngx_str_t *key);
ngx_int_t ngx_http_cc_registry_replace(ngx_http_cc_registry_t *reg,
    ngx_array_t *entries, ngx_str_t *tag, uint64_t *generation);

/* Reads: copies into pool.  NGX_DECLINED: no live entry. */
ngx_int_t ngx_http_cc_registry_get(ngx_http_cc_registry_t *reg,
    ngx_uint_t kind, ngx_str_t *key, ngx_pool_t *pool,
    ngx_http_cc_registry_entry_t *entry);
ngx_int_t ngx_http_cc_registry_list(ngx_http_cc_registry_t *reg,
    ngx_uint_t kind, ngx_pool_t *pool, size_t max_bytes,
    ngx_array_t *entries, ngx_uint_t *truncated);
ngx_int_t ngx_http_cc_registry_status(ngx_http_cc_registry_t *reg,
    ngx_pool_t *pool, ngx_http_cc_registry_status_t *status);

/* For the C API: the caller holds shpool->mutex. */
ngx_http_cc_registry_node_t *ngx_http_cc_registry_find_locked(
    ngx_http_cc_registry_t *reg, ngx_uint_t kind, u_char *key, size_t len);
ngx_uint_t ngx_http_cc_registry_node_live(ngx_http_cc_registry_node_t *node,
    time_t now);


#endif /* _NGX_HTTP_CC_REGISTRY_STORE_H_INCLUDED_ */
