
/*
 * Concierge: the verified-token cache, a shared-memory zone that keeps,
 * for each token verified recently, the identity extracted from it and
 * the registry generations it was checked at, so that a token is verified
 * (RSA) once and afterwards costs a hash and a lookup.  Entries are found
 * by the SHA-256 of the token plus the verifying policy's tag (never by
 * the token itself), kept in an rbtree with an LRU queue, and expire at
 * the token's exp (or sooner, with max_ttl).  When the zone is full the
 * least recently used entries make room; when even that fails the token
 * is simply not cached.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_cc_auth.h"


#define NGX_HTTP_CC_AUTH_CACHE_EXPIRE_STEP   2
#define NGX_HTTP_CC_AUTH_CACHE_EVICT_MAX     16
#define NGX_HTTP_CC_AUTH_CACHE_DATA_MAX      4096


/* The rbtree node comes first, so a tree node is a cache node. */
typedef struct {
    ngx_rbtree_node_t             node;
    ngx_queue_t                   queue;
    u_char                        key[NGX_HTTP_CC_AUTH_CACHE_KEY_LEN];
    time_t                        expires;
    uint64_t                      tenants_generation;
    uint64_t                      keys_generation;
    uint64_t                      key_generation;
    u_char                        tenant_id[NGX_HTTP_CC_GUID_LEN];
    u_char                        user_id[NGX_HTTP_CC_GUID_LEN];
    u_char                        user_id_len;
    u_short                       kid_len;
    u_short                       user_name_len;
    u_short                       roles_len;
    u_char                        data[1];      /* kid, user name, roles */
} ngx_http_cc_auth_cache_node_t;


typedef struct {
    ngx_rbtree_t                  rbtree;
    ngx_rbtree_node_t             sentinel;
    ngx_queue_t                   queue;        /* most recent first */
} ngx_http_cc_auth_cache_sh_t;


typedef struct {
    ngx_http_cc_auth_cache_sh_t  *sh;
    ngx_slab_pool_t              *shpool;
} ngx_http_cc_auth_cache_t;


static ngx_int_t ngx_http_cc_auth_cache_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static void ngx_http_cc_auth_cache_insert_value(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);
static ngx_http_cc_auth_cache_node_t *ngx_http_cc_auth_cache_find(
    ngx_http_cc_auth_cache_t *cache, u_char *key);
static ngx_rbtree_key_t ngx_http_cc_auth_cache_hash(u_char *key);
static ngx_int_t ngx_http_cc_auth_cache_copy_out(
    ngx_http_cc_auth_cache_node_t *cn, ngx_pool_t *pool,
    ngx_http_cc_auth_cached_t *entry);
static ngx_http_cc_auth_cache_node_t *ngx_http_cc_auth_cache_alloc(
    ngx_http_cc_auth_cache_t *cache, size_t size);
static void ngx_http_cc_auth_cache_fill(ngx_http_cc_auth_cache_node_t *cn,
    u_char *key, ngx_http_cc_auth_cached_t *entry);
static void ngx_http_cc_auth_cache_expire(ngx_http_cc_auth_cache_t *cache,
    time_t now, ngx_uint_t force);
static void ngx_http_cc_auth_cache_delete(ngx_http_cc_auth_cache_t *cache,
    ngx_http_cc_auth_cache_node_t *cn);


/* The zone for cc_auth_cache; NULL after an error logged for nginx -t. */

ngx_shm_zone_t *
ngx_http_cc_auth_cache_add(ngx_conf_t *cf, ngx_str_t *name, size_t size)
{
    ngx_shm_zone_t            *zone;
    ngx_http_cc_auth_cache_t  *cache;

    zone = ngx_shared_memory_add(cf, name, size, &ngx_http_cc_auth_module);
    if (zone == NULL) {
        return NULL;
    }

    if (zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "cc_auth_cache zone \"%V\" is already in use",
                           name);
        return NULL;
    }

    cache = ngx_pcalloc(cf->pool, sizeof(ngx_http_cc_auth_cache_t));
    if (cache == NULL) {
        return NULL;
    }

    zone->init = ngx_http_cc_auth_cache_init_zone;
    zone->data = cache;

    return zone;
}


static ngx_int_t
ngx_http_cc_auth_cache_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_cc_auth_cache_t  *ocache = data;

    size_t                     len;
    ngx_http_cc_auth_cache_t  *cache;

    cache = shm_zone->data;

    if (ocache) {
        cache->sh = ocache->sh;
        cache->shpool = ocache->shpool;
        return NGX_OK;
    }

    cache->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        cache->sh = cache->shpool->data;
        return NGX_OK;
    }

    cache->sh = ngx_slab_alloc(cache->shpool,
                               sizeof(ngx_http_cc_auth_cache_sh_t));
    if (cache->sh == NULL) {
        return NGX_ERROR;
    }

    cache->shpool->data = cache->sh;

    ngx_rbtree_init(&cache->sh->rbtree, &cache->sh->sentinel,
                    ngx_http_cc_auth_cache_insert_value);

    ngx_queue_init(&cache->sh->queue);

    len = sizeof(" in cc_auth_cache zone \"\"") + shm_zone->shm.name.len;

    cache->shpool->log_ctx = ngx_slab_alloc(cache->shpool, len);
    if (cache->shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(cache->shpool->log_ctx, " in cc_auth_cache zone \"%V\"%Z",
                &shm_zone->shm.name);

    /* a full zone is normal for a cache: we evict, and say so ourselves */
    cache->shpool->log_nomem = 0;

    return NGX_OK;
}


/* NGX_OK: a live entry, copied into pool; NGX_DECLINED: none. */

ngx_int_t
ngx_http_cc_auth_cache_lookup(ngx_shm_zone_t *zone, u_char *key,
    ngx_pool_t *pool, ngx_http_cc_auth_cached_t *entry)
{
    time_t                          now;
    ngx_int_t                       rc;
    ngx_http_cc_auth_cache_t       *cache;
    ngx_http_cc_auth_cache_node_t  *cn;

    cache = zone->data;
    now = ngx_time();

    ngx_shmtx_lock(&cache->shpool->mutex);

    ngx_http_cc_auth_cache_expire(cache, now, 0);

    cn = ngx_http_cc_auth_cache_find(cache, key);

    if (cn == NULL) {
        rc = NGX_DECLINED;

    } else if (cn->expires <= now) {
        ngx_http_cc_auth_cache_delete(cache, cn);
        rc = NGX_DECLINED;

    } else {
        ngx_queue_remove(&cn->queue);
        ngx_queue_insert_head(&cache->sh->queue, &cn->queue);
        rc = ngx_http_cc_auth_cache_copy_out(cn, pool, entry);
    }

    ngx_shmtx_unlock(&cache->shpool->mutex);

    return rc;
}


void
ngx_http_cc_auth_cache_store(ngx_shm_zone_t *zone, u_char *key,
    ngx_http_cc_auth_cached_t *entry, ngx_log_t *log)
{
    size_t                          data_len;
    ngx_http_cc_auth_cache_t       *cache;
    ngx_http_cc_auth_cache_node_t  *cn;

    data_len = entry->kid.len + entry->user_name.len + entry->roles.len;

    /* huge role lists are rare; such tokens are verified every time */
    if (data_len > NGX_HTTP_CC_AUTH_CACHE_DATA_MAX
        || entry->tenant_id.len != NGX_HTTP_CC_GUID_LEN
        || entry->user_id.len > NGX_HTTP_CC_GUID_LEN)
    {
        return;
    }

    cache = zone->data;

    ngx_shmtx_lock(&cache->shpool->mutex);

    ngx_http_cc_auth_cache_expire(cache, ngx_time(), 0);

    cn = ngx_http_cc_auth_cache_find(cache, key);
    if (cn) {
        ngx_http_cc_auth_cache_delete(cache, cn);
    }

    cn = ngx_http_cc_auth_cache_alloc(cache,
             offsetof(ngx_http_cc_auth_cache_node_t, data) + data_len);

    if (cn == NULL) {
        ngx_shmtx_unlock(&cache->shpool->mutex);
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "cc auth: token not cached, cc_auth_cache zone \"%V\" "
                      "is full", &zone->shm.name);
        return;
    }

    ngx_http_cc_auth_cache_fill(cn, key, entry);

    ngx_rbtree_insert(&cache->sh->rbtree, &cn->node);
    ngx_queue_insert_head(&cache->sh->queue, &cn->queue);

    ngx_shmtx_unlock(&cache->shpool->mutex);
}


/* After a revalidation: the entry now holds at these generations. */

void
ngx_http_cc_auth_cache_refresh(ngx_shm_zone_t *zone, u_char *key,
    uint64_t tenants_generation, uint64_t keys_generation)
{
    ngx_http_cc_auth_cache_t       *cache;
    ngx_http_cc_auth_cache_node_t  *cn;

    cache = zone->data;

    ngx_shmtx_lock(&cache->shpool->mutex);

    cn = ngx_http_cc_auth_cache_find(cache, key);
    if (cn) {
        cn->tenants_generation = tenants_generation;
        cn->keys_generation = keys_generation;
    }

    ngx_shmtx_unlock(&cache->shpool->mutex);
}


void
ngx_http_cc_auth_cache_remove(ngx_shm_zone_t *zone, u_char *key)
{
    ngx_http_cc_auth_cache_t       *cache;
    ngx_http_cc_auth_cache_node_t  *cn;

    cache = zone->data;

    ngx_shmtx_lock(&cache->shpool->mutex);

    cn = ngx_http_cc_auth_cache_find(cache, key);
    if (cn) {
        ngx_http_cc_auth_cache_delete(cache, cn);
    }

    ngx_shmtx_unlock(&cache->shpool->mutex);
}


/* Equal tree keys (the first bytes of the hash) fall back to all bytes. */

static void
ngx_http_cc_auth_cache_insert_value(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel)
{
    ngx_rbtree_node_t              **p;
    ngx_http_cc_auth_cache_node_t   *cn, *cnt;

    for ( ;; ) {

        if (node->key < temp->key) {
            p = &temp->left;

        } else if (node->key > temp->key) {
            p = &temp->right;

        } else {
            cn = (ngx_http_cc_auth_cache_node_t *) node;
            cnt = (ngx_http_cc_auth_cache_node_t *) temp;

            p = (ngx_memcmp(cn->key, cnt->key, NGX_HTTP_CC_AUTH_CACHE_KEY_LEN)
                 < 0)
                ? &temp->left : &temp->right;
        }

        if (*p == sentinel) {
            break;
        }

        temp = *p;
    }

    *p = node;
    node->parent = temp;
    node->left = sentinel;
    node->right = sentinel;
    ngx_rbt_red(node);
}


static ngx_http_cc_auth_cache_node_t *
ngx_http_cc_auth_cache_find(ngx_http_cc_auth_cache_t *cache, u_char *key)
{
    ngx_int_t                       rc;
    ngx_rbtree_key_t                hash;
    ngx_rbtree_node_t              *node, *sentinel;
    ngx_http_cc_auth_cache_node_t  *cn;

    hash = ngx_http_cc_auth_cache_hash(key);

    node = cache->sh->rbtree.root;
    sentinel = cache->sh->rbtree.sentinel;

    while (node != sentinel) {

        if (hash < node->key) {
            node = node->left;
            continue;
        }

        if (hash > node->key) {
            node = node->right;
            continue;
        }

        cn = (ngx_http_cc_auth_cache_node_t *) node;

        rc = ngx_memcmp(key, cn->key, NGX_HTTP_CC_AUTH_CACHE_KEY_LEN);

        if (rc == 0) {
            return cn;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    return NULL;
}


/* The key starts with a SHA-256 digest: its first bytes are uniform. */

static ngx_rbtree_key_t
ngx_http_cc_auth_cache_hash(u_char *key)
{
    ngx_rbtree_key_t  hash;

    ngx_memcpy(&hash, key, sizeof(ngx_rbtree_key_t));

    return hash;
}


static ngx_int_t
ngx_http_cc_auth_cache_copy_out(ngx_http_cc_auth_cache_node_t *cn,
    ngx_pool_t *pool, ngx_http_cc_auth_cached_t *entry)
{
    u_char  *p;

    p = ngx_pnalloc(pool, 2 * NGX_HTTP_CC_GUID_LEN + cn->kid_len
                          + cn->user_name_len + cn->roles_len);
    if (p == NULL) {
        return NGX_DECLINED;
    }

    entry->expires = cn->expires;
    entry->tenants_generation = cn->tenants_generation;
    entry->keys_generation = cn->keys_generation;
    entry->key_generation = cn->key_generation;

    entry->tenant_id.data = p;
    entry->tenant_id.len = NGX_HTTP_CC_GUID_LEN;
    p = ngx_cpymem(p, cn->tenant_id, NGX_HTTP_CC_GUID_LEN);

    entry->user_id.data = p;
    entry->user_id.len = cn->user_id_len;
    p = ngx_cpymem(p, cn->user_id, cn->user_id_len);

    entry->kid.data = p;
    entry->kid.len = cn->kid_len;
    p = ngx_cpymem(p, cn->data, cn->kid_len);

    entry->user_name.data = p;
    entry->user_name.len = cn->user_name_len;
    p = ngx_cpymem(p, cn->data + cn->kid_len, cn->user_name_len);

    entry->roles.data = p;
    entry->roles.len = cn->roles_len;
    ngx_memcpy(p, cn->data + cn->kid_len + cn->user_name_len, cn->roles_len);

    return NGX_OK;
}


/* Room is made from the least recently used end, a few nodes at most. */

static ngx_http_cc_auth_cache_node_t *
ngx_http_cc_auth_cache_alloc(ngx_http_cc_auth_cache_t *cache, size_t size)
{
    ngx_uint_t                      n;
    ngx_http_cc_auth_cache_node_t  *cn;

    for (n = 0; n < NGX_HTTP_CC_AUTH_CACHE_EVICT_MAX; n++) {

        cn = ngx_slab_alloc_locked(cache->shpool, size);
        if (cn) {
            return cn;
        }

        if (ngx_queue_empty(&cache->sh->queue)) {
            return NULL;
        }

        ngx_http_cc_auth_cache_expire(cache, 0, 1);
    }

    return NULL;
}


static void
ngx_http_cc_auth_cache_fill(ngx_http_cc_auth_cache_node_t *cn, u_char *key,
    ngx_http_cc_auth_cached_t *entry)
{
    u_char  *p;

    cn->node.key = ngx_http_cc_auth_cache_hash(key);
    ngx_memcpy(cn->key, key, NGX_HTTP_CC_AUTH_CACHE_KEY_LEN);

    cn->expires = entry->expires;
    cn->tenants_generation = entry->tenants_generation;
    cn->keys_generation = entry->keys_generation;
    cn->key_generation = entry->key_generation;

    ngx_memcpy(cn->tenant_id, entry->tenant_id.data, NGX_HTTP_CC_GUID_LEN);
    ngx_memcpy(cn->user_id, entry->user_id.data, entry->user_id.len);
    cn->user_id_len = (u_char) entry->user_id.len;

    cn->kid_len = (u_short) entry->kid.len;
    cn->user_name_len = (u_short) entry->user_name.len;
    cn->roles_len = (u_short) entry->roles.len;

    p = ngx_cpymem(cn->data, entry->kid.data, entry->kid.len);
    p = ngx_cpymem(p, entry->user_name.data, entry->user_name.len);
    ngx_memcpy(p, entry->roles.data, entry->roles.len);
}


/*
 * Looks at the least recently used end only: a couple of nodes, removed
 * if expired, or unconditionally when forced to make room.
 */

static void
ngx_http_cc_auth_cache_expire(ngx_http_cc_auth_cache_t *cache, time_t now,
    ngx_uint_t force)
{
    ngx_uint_t                      n;
    ngx_queue_t                    *q;
    ngx_http_cc_auth_cache_node_t  *cn;

    for (n = 0; n < NGX_HTTP_CC_AUTH_CACHE_EXPIRE_STEP; n++) {

        if (ngx_queue_empty(&cache->sh->queue)) {
            return;
        }

        q = ngx_queue_last(&cache->sh->queue);
        cn = ngx_queue_data(q, ngx_http_cc_auth_cache_node_t, queue);

        if (!force && cn->expires > now) {
            return;
        }

        ngx_http_cc_auth_cache_delete(cache, cn);

        if (force) {
            return;
        }
    }
}


static void
ngx_http_cc_auth_cache_delete(ngx_http_cc_auth_cache_t *cache,
    ngx_http_cc_auth_cache_node_t *cn)
{
    ngx_queue_remove(&cn->queue);
    ngx_rbtree_delete(&cache->sh->rbtree, &cn->node);
    ngx_slab_free_locked(cache->shpool, cn);
}
