
/*
 * Concierge: the registry's shared-memory store: the zone's layout, its
 * trees, the generation counters, and every write and bulk read under the
 * slab pool's lock (see ngx_http_cc_registry_store.h).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_cc_registry_store.h"


/* expired entries looked at per kind on every write */
#define NGX_HTTP_CC_REGISTRY_SWEEP       4

/* the kinds whose entries expire */
#define ngx_http_cc_registry_expires(kind)                                    \
    ((kind) == NGX_HTTP_CC_REGISTRY_DEVICES                                   \
     || (kind) == NGX_HTTP_CC_REGISTRY_SESSIONS                               \
     || (kind) == NGX_HTTP_CC_REGISTRY_BOOTSTRAP)


static void ngx_http_cc_registry_content_init(
    ngx_http_cc_registry_content_t *content);
static void ngx_http_cc_registry_rbtree_insert_value(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);
static ngx_http_cc_registry_node_t *ngx_http_cc_registry_find_in(
    ngx_http_cc_registry_tree_t *tree, u_char *key, size_t len,
    uint32_t hash);
static ngx_http_cc_registry_node_t *ngx_http_cc_registry_node_alloc(
    ngx_http_cc_registry_t *reg, ngx_http_cc_registry_entry_t *entry);
static void ngx_http_cc_registry_link(ngx_http_cc_registry_tree_t *tree,
    ngx_http_cc_registry_node_t *node);
static void ngx_http_cc_registry_unlink_free(ngx_http_cc_registry_t *reg,
    ngx_http_cc_registry_tree_t *tree, ngx_http_cc_registry_node_t *node);
static ngx_uint_t ngx_http_cc_registry_node_equals(
    ngx_http_cc_registry_node_t *node, ngx_http_cc_registry_entry_t *entry);
static void ngx_http_cc_registry_sweep(ngx_http_cc_registry_t *reg,
    ngx_uint_t max);
static void ngx_http_cc_registry_sweep_tree(ngx_http_cc_registry_t *reg,
    ngx_http_cc_registry_tree_t *tree, ngx_uint_t max, time_t now);
static ngx_uint_t ngx_http_cc_registry_compare(
    ngx_http_cc_registry_tree_t *old, ngx_http_cc_registry_tree_t *new,
    uint64_t gen, time_t now);
static void ngx_http_cc_registry_free_content(ngx_http_cc_registry_t *reg,
    ngx_http_cc_registry_content_t *content);
static ngx_uint_t ngx_http_cc_registry_live_count(
    ngx_http_cc_registry_tree_t *tree, time_t now);
static void ngx_http_cc_registry_copy_entry(ngx_http_cc_registry_node_t *node,
    ngx_uint_t kind, u_char *p, ngx_http_cc_registry_entry_t *entry);
static void ngx_http_cc_registry_forget_unknown_kid(
    ngx_http_cc_registry_sh_t *sh, u_char *kid, size_t len);


/*
 * On a reload that keeps the zone (same name, same size) nginx passes the
 * previous configuration's registry as data: the content stays, and so do
 * the generations.  A zone created now starts its generations at the
 * current time times 2^20, above anything an earlier zone could have
 * reached unless it changed a million times a second.
 */

ngx_int_t
ngx_http_cc_registry_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_cc_registry_t *oreg = data;

    size_t                           len;
    ngx_uint_t                       i;
    ngx_slab_pool_t                 *shpool;
    ngx_http_cc_registry_t          *reg;
    ngx_http_cc_registry_sh_t       *sh;

    reg = shm_zone->data;

    if (oreg) {
        reg->shpool = oreg->shpool;
        reg->sh = oreg->sh;
        return NGX_OK;
    }

    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;
    reg->shpool = shpool;

    if (shm_zone->shm.exists) {
        reg->sh = shpool->data;
        return NGX_OK;
    }

    sh = ngx_slab_calloc(shpool, sizeof(ngx_http_cc_registry_sh_t));
    if (sh == NULL) {
        return NGX_ERROR;
    }

    sh->content = ngx_slab_calloc(shpool,
                                  sizeof(ngx_http_cc_registry_content_t));
    if (sh->content == NULL) {
        return NGX_ERROR;
    }

    ngx_http_cc_registry_content_init(sh->content);

    sh->generation = (uint64_t) ngx_time() << 20;

    for (i = 0; i < NGX_HTTP_CC_REGISTRY_KINDS; i++) {
        sh->kind_generation[i] = sh->generation;
    }

    reg->sh = sh;
    shpool->data = sh;

    len = sizeof(" in cc_registry_zone \"\"") + shm_zone->shm.name.len;

    shpool->log_ctx = ngx_slab_alloc(shpool, len);
    if (shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(shpool->log_ctx, " in cc_registry_zone \"%V\"%Z",
                &shm_zone->shm.name);

    /* a full zone is an answer (507), not an event worth a critical log */
    shpool->log_nomem = 0;

    return NGX_OK;
}


static void
ngx_http_cc_registry_content_init(ngx_http_cc_registry_content_t *content)
{
    ngx_uint_t                    i;
    ngx_http_cc_registry_tree_t  *tree;

    for (i = 0; i < NGX_HTTP_CC_REGISTRY_KINDS; i++) {
        tree = &content->trees[i];

        ngx_rbtree_init(&tree->rbtree, &tree->sentinel,
                        ngx_http_cc_registry_rbtree_insert_value);
        ngx_queue_init(&tree->queue);
        tree->count = 0;
    }
}


static void
ngx_http_cc_registry_rbtree_insert_value(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel)
{
    ngx_rbtree_node_t            **p;
    ngx_http_cc_registry_node_t   *n, *t;

    for ( ;; ) {

        if (node->key < temp->key) {
            p = &temp->left;

        } else if (node->key > temp->key) {
            p = &temp->right;

        } else {
            n = (ngx_http_cc_registry_node_t *) node;
            t = (ngx_http_cc_registry_node_t *) temp;

            p = (ngx_memn2cmp(n->data, t->data, n->key_len, t->key_len) < 0)
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


ngx_http_cc_registry_node_t *
ngx_http_cc_registry_find_locked(ngx_http_cc_registry_t *reg, ngx_uint_t kind,
    u_char *key, size_t len)
{
    return ngx_http_cc_registry_find_in(&reg->sh->content->trees[kind],
                                        key, len, ngx_crc32_short(key, len));
}


static ngx_http_cc_registry_node_t *
ngx_http_cc_registry_find_in(ngx_http_cc_registry_tree_t *tree, u_char *key,
    size_t len, uint32_t hash)
{
    ngx_int_t                     rc;
    ngx_rbtree_node_t            *node, *sentinel;
    ngx_http_cc_registry_node_t  *rn;

    node = tree->rbtree.root;
    sentinel = tree->rbtree.sentinel;

    while (node != sentinel) {

        if (hash < node->key) {
            node = node->left;
            continue;
        }

        if (hash > node->key) {
            node = node->right;
            continue;
        }

        rn = (ngx_http_cc_registry_node_t *) node;

        rc = ngx_memn2cmp(key, rn->data, len, rn->key_len);

        if (rc == 0) {
            return rn;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    return NULL;
}


ngx_uint_t
ngx_http_cc_registry_node_live(ngx_http_cc_registry_node_t *node, time_t now)
{
    return node->until == 0 || node->until > now;
}


/* Allocates and fills a node without linking it anywhere. */

static ngx_http_cc_registry_node_t *
ngx_http_cc_registry_node_alloc(ngx_http_cc_registry_t *reg,
    ngx_http_cc_registry_entry_t *entry)
{
    size_t                        size;
    ngx_http_cc_registry_node_t  *node;

    size = offsetof(ngx_http_cc_registry_node_t, data)
           + entry->key.len + entry->value.len;

    node = ngx_slab_alloc_locked(reg->shpool, size);
    if (node == NULL) {
        return NULL;
    }

    node->node.key = ngx_crc32_short(entry->key.data, entry->key.len);
    node->generation = entry->generation;
    node->until = entry->until;
    node->key_len = (uint32_t) entry->key.len;
    node->value_len = (uint32_t) entry->value.len;

    ngx_memcpy(node->data, entry->key.data, entry->key.len);
    ngx_memcpy(node->data + entry->key.len, entry->value.data,
               entry->value.len);

    return node;
}


static void
ngx_http_cc_registry_link(ngx_http_cc_registry_tree_t *tree,
    ngx_http_cc_registry_node_t *node)
{
    ngx_rbtree_insert(&tree->rbtree, &node->node);
    ngx_queue_insert_head(&tree->queue, &node->queue);
    tree->count++;
}


static void
ngx_http_cc_registry_unlink_free(ngx_http_cc_registry_t *reg,
    ngx_http_cc_registry_tree_t *tree, ngx_http_cc_registry_node_t *node)
{
    ngx_rbtree_delete(&tree->rbtree, &node->node);
    ngx_queue_remove(&node->queue);
    tree->count--;

    ngx_slab_free_locked(reg->shpool, node);
}


/* Same value and same expiry: writing the entry again changes nothing. */

static ngx_uint_t
ngx_http_cc_registry_node_equals(ngx_http_cc_registry_node_t *node,
    ngx_http_cc_registry_entry_t *entry)
{
    return node->until == entry->until
           && node->value_len == entry->value.len
           && ngx_memcmp(node->data + node->key_len, entry->value.data,
                         entry->value.len)
              == 0;
}


/*
 * The sweep is a clock hand: it looks at the oldest few nodes of each
 * expiring kind, frees the expired ones and moves the others to the front,
 * so that successive writes visit every node in turn.
 */

static void
ngx_http_cc_registry_sweep(ngx_http_cc_registry_t *reg, ngx_uint_t max)
{
    time_t                           now;
    ngx_uint_t                       kind;
    ngx_http_cc_registry_content_t  *content;

    now = ngx_time();
    content = reg->sh->content;

    for (kind = 0; kind < NGX_HTTP_CC_REGISTRY_KINDS; kind++) {
        if (ngx_http_cc_registry_expires(kind)) {
            ngx_http_cc_registry_sweep_tree(reg, &content->trees[kind], max,
                                            now);
        }
    }
}


static void
ngx_http_cc_registry_sweep_tree(ngx_http_cc_registry_t *reg,
    ngx_http_cc_registry_tree_t *tree, ngx_uint_t max, time_t now)
{
    ngx_uint_t                    n;
    ngx_queue_t                  *q;
    ngx_http_cc_registry_node_t  *node;

    /* each node is looked at once at most, live ones going round */
    max = ngx_min(max, tree->count);

    for (n = 0; n < max; n++) {
        q = ngx_queue_last(&tree->queue);
        node = ngx_queue_data(q, ngx_http_cc_registry_node_t, queue);

        if (ngx_http_cc_registry_node_live(node, now)) {
            ngx_queue_remove(q);
            ngx_queue_insert_head(&tree->queue, q);
            continue;
        }

        ngx_http_cc_registry_unlink_free(reg, tree, node);
    }
}


/*
 * Expired entries are invisible already, so removing them is not a change:
 * the generations stay as they are.  A write that finds the zone full first
 * sweeps every entry, then tries once more.
 */

ngx_int_t
ngx_http_cc_registry_put(ngx_http_cc_registry_t *reg,
    ngx_http_cc_registry_entry_t *entry, ngx_uint_t *created)
{
    time_t                        now;
    ngx_http_cc_registry_sh_t    *sh;
    ngx_http_cc_registry_node_t  *old, *node;
    ngx_http_cc_registry_tree_t  *tree;

    sh = reg->sh;
    now = ngx_time();

    ngx_shmtx_lock(&reg->shpool->mutex);

    ngx_http_cc_registry_sweep(reg, NGX_HTTP_CC_REGISTRY_SWEEP);

    tree = &sh->content->trees[entry->kind];

    old = ngx_http_cc_registry_find_in(tree, entry->key.data, entry->key.len,
                                       ngx_crc32_short(entry->key.data,
                                                       entry->key.len));

    if (old && ngx_http_cc_registry_node_live(old, now)
        && ngx_http_cc_registry_node_equals(old, entry))
    {
        entry->generation = old->generation;
        *created = 0;
        ngx_shmtx_unlock(&reg->shpool->mutex);
        return NGX_OK;
    }

    entry->generation = sh->generation + 1;

    node = ngx_http_cc_registry_node_alloc(reg, entry);

    if (node == NULL) {
        ngx_http_cc_registry_sweep(reg, NGX_MAX_UINT32_VALUE);

        old = ngx_http_cc_registry_find_in(tree, entry->key.data,
                                           entry->key.len,
                                           ngx_crc32_short(entry->key.data,
                                                           entry->key.len));

        node = ngx_http_cc_registry_node_alloc(reg, entry);

        if (node == NULL) {
            ngx_shmtx_unlock(&reg->shpool->mutex);
            return NGX_DECLINED;
        }
    }

    *created = (old == NULL || !ngx_http_cc_registry_node_live(old, now));

    if (old) {
        ngx_http_cc_registry_unlink_free(reg, tree, old);
    }

    ngx_http_cc_registry_link(tree, node);

    sh->generation++;
    sh->kind_generation[entry->kind] = sh->generation;

    if (entry->kind == NGX_HTTP_CC_REGISTRY_KEYS) {
        ngx_http_cc_registry_forget_unknown_kid(sh, entry->key.data,
                                                entry->key.len);
    }

    ngx_shmtx_unlock(&reg->shpool->mutex);

    return NGX_OK;
}


ngx_int_t
ngx_http_cc_registry_delete(ngx_http_cc_registry_t *reg, ngx_uint_t kind,
    ngx_str_t *key)
{
    ngx_uint_t                    live;
    ngx_http_cc_registry_sh_t    *sh;
    ngx_http_cc_registry_node_t  *node;
    ngx_http_cc_registry_tree_t  *tree;

    sh = reg->sh;

    ngx_shmtx_lock(&reg->shpool->mutex);

    ngx_http_cc_registry_sweep(reg, NGX_HTTP_CC_REGISTRY_SWEEP);

    tree = &sh->content->trees[kind];

    node = ngx_http_cc_registry_find_in(tree, key->data, key->len,
                                        ngx_crc32_short(key->data, key->len));

    if (node == NULL) {
        ngx_shmtx_unlock(&reg->shpool->mutex);
        return NGX_DECLINED;
    }

    live = ngx_http_cc_registry_node_live(node, ngx_time());

    ngx_http_cc_registry_unlink_free(reg, tree, node);

    if (live) {
        sh->generation++;
        sh->kind_generation[kind] = sh->generation;
    }

    ngx_shmtx_unlock(&reg->shpool->mutex);

    return live ? NGX_OK : NGX_DECLINED;
}


/* A key pushed into the registry is no longer unknown. */

static void
ngx_http_cc_registry_forget_unknown_kid(ngx_http_cc_registry_sh_t *sh,
    u_char *kid, size_t len)
{
    if (sh->unknown_kid_at
        && ngx_memn2cmp(sh->unknown_kid, kid, sh->unknown_kid_len, len) == 0)
    {
        sh->unknown_kid_at = 0;
        sh->unknown_kid_len = 0;
    }
}


ngx_int_t
ngx_http_cc_registry_get(ngx_http_cc_registry_t *reg, ngx_uint_t kind,
    ngx_str_t *key, ngx_pool_t *pool, ngx_http_cc_registry_entry_t *entry)
{
    u_char                       *p;
    ngx_http_cc_registry_node_t  *node;

    ngx_shmtx_lock(&reg->shpool->mutex);

    node = ngx_http_cc_registry_find_locked(reg, kind, key->data, key->len);

    if (node == NULL || !ngx_http_cc_registry_node_live(node, ngx_time())) {
        ngx_shmtx_unlock(&reg->shpool->mutex);
        return NGX_DECLINED;
    }

    p = ngx_pnalloc(pool, node->key_len + node->value_len + 1);
    if (p == NULL) {
        ngx_shmtx_unlock(&reg->shpool->mutex);
        return NGX_ERROR;
    }

    ngx_http_cc_registry_copy_entry(node, kind, p, entry);

    ngx_shmtx_unlock(&reg->shpool->mutex);

    return NGX_OK;
}


/*
 * Copies every live entry of a kind, up to max_bytes of keys and values,
 * so that the JSON is built after the lock is released.  The first pass
 * measures, the second copies into one allocation.
 */

ngx_int_t
ngx_http_cc_registry_list(ngx_http_cc_registry_t *reg, ngx_uint_t kind,
    ngx_pool_t *pool, size_t max_bytes, ngx_array_t *entries,
    ngx_uint_t *truncated)
{
    u_char                        *p;
    size_t                         size, bytes;
    time_t                         now;
    ngx_uint_t                     n;
    ngx_queue_t                   *q, *head;
    ngx_http_cc_registry_node_t   *node;
    ngx_http_cc_registry_entry_t  *entry;

    now = ngx_time();
    *truncated = 0;

    ngx_shmtx_lock(&reg->shpool->mutex);

    head = &reg->sh->content->trees[kind].queue;
    bytes = 0;
    n = 0;

    for (q = ngx_queue_head(head); q != head; q = ngx_queue_next(q)) {
        node = ngx_queue_data(q, ngx_http_cc_registry_node_t, queue);

        if (!ngx_http_cc_registry_node_live(node, now)) {
            continue;
        }

        size = node->key_len + node->value_len + 1;

        if (bytes + size > max_bytes) {
            *truncated = 1;
            break;
        }

        bytes += size;
        n++;
    }

    if (ngx_array_init(entries, pool, n ? n : 1,
                       sizeof(ngx_http_cc_registry_entry_t))
        != NGX_OK)
    {
        goto failed;
    }

    p = ngx_pnalloc(pool, bytes ? bytes : 1);
    if (p == NULL) {
        goto failed;
    }

    for (q = ngx_queue_head(head); n && q != head; q = ngx_queue_next(q)) {
        node = ngx_queue_data(q, ngx_http_cc_registry_node_t, queue);

        if (!ngx_http_cc_registry_node_live(node, now)) {
            continue;
        }

        entry = ngx_array_push(entries);   /* preallocated: cannot fail */

        ngx_http_cc_registry_copy_entry(node, kind, p, entry);
        p += node->key_len + node->value_len + 1;
        n--;
    }

    ngx_shmtx_unlock(&reg->shpool->mutex);

    return NGX_OK;

failed:

    ngx_shmtx_unlock(&reg->shpool->mutex);

    return NGX_ERROR;
}


/* p holds key_len + value_len + 1 bytes; the key is NUL-terminated. */

static void
ngx_http_cc_registry_copy_entry(ngx_http_cc_registry_node_t *node,
    ngx_uint_t kind, u_char *p, ngx_http_cc_registry_entry_t *entry)
{
    entry->kind = kind;
    entry->generation = node->generation;
    entry->until = node->until;

    entry->key.data = p;
    entry->key.len = node->key_len;
    p = ngx_cpymem(p, node->data, node->key_len);
    *p++ = '\0';

    entry->value.data = p;
    entry->value.len = node->value_len;
    ngx_memcpy(p, node->data + node->key_len, node->value_len);
}


ngx_int_t
ngx_http_cc_registry_status(ngx_http_cc_registry_t *reg, ngx_pool_t *pool,
    ngx_http_cc_registry_status_t *status)
{
    time_t                      now;
    ngx_uint_t                  kind;
    ngx_slab_pool_t            *shpool;
    ngx_http_cc_registry_sh_t  *sh;

    status->sync_tag.data = ngx_pnalloc(pool, NGX_HTTP_CC_SYNC_TAG_MAX);
    status->unknown_kid.data = ngx_pnalloc(pool, NGX_HTTP_CC_KID_MAX);

    if (status->sync_tag.data == NULL || status->unknown_kid.data == NULL) {
        return NGX_ERROR;
    }

    shpool = reg->shpool;
    sh = reg->sh;
    now = ngx_time();

    ngx_shmtx_lock(&shpool->mutex);

    status->generation = sh->generation;

    for (kind = 0; kind < NGX_HTTP_CC_REGISTRY_KINDS; kind++) {
        status->count[kind] = ngx_http_cc_registry_live_count(
                                  &sh->content->trees[kind], now);
    }

    status->bytes_free = shpool->pfree * ngx_pagesize;
    status->bytes_used = (shpool->end - shpool->start) - status->bytes_free;

    status->synced_at = sh->synced_at;
    status->sync_tag.len = sh->sync_tag_len;
    ngx_memcpy(status->sync_tag.data, sh->sync_tag, sh->sync_tag_len);

    status->unknown_kid_at = sh->unknown_kid_at;
    status->unknown_kid.len = sh->unknown_kid_len;
    ngx_memcpy(status->unknown_kid.data, sh->unknown_kid,
               sh->unknown_kid_len);

    ngx_shmtx_unlock(&shpool->mutex);

    return NGX_OK;
}


static ngx_uint_t
ngx_http_cc_registry_live_count(ngx_http_cc_registry_tree_t *tree, time_t now)
{
    ngx_uint_t                    n;
    ngx_queue_t                  *q;
    ngx_http_cc_registry_node_t  *node;

    n = 0;

    for (q = ngx_queue_head(&tree->queue);
         q != ngx_queue_sentinel(&tree->queue);
         q = ngx_queue_next(q))
    {
        node = ngx_queue_data(q, ngx_http_cc_registry_node_t, queue);
        n += ngx_http_cc_registry_node_live(node, now);
    }

    return n;
}


/*
 * A sync builds the new content beside the old one and swaps the two only
 * when every node could be allocated, so a sync that does not fit leaves
 * the registry exactly as it was.  An entry equal to the one it replaces
 * keeps its generation, and a kind whose entries are all unchanged keeps
 * its own: caches built from them stay valid across a routine resync.
 */

ngx_int_t
ngx_http_cc_registry_replace(ngx_http_cc_registry_t *reg,
    ngx_array_t *entries, ngx_str_t *tag, uint64_t *generation)
{
    time_t                           now;
    uint64_t                         gen;
    ngx_uint_t                       i, kind, any;
    ngx_uint_t                       changed[NGX_HTTP_CC_REGISTRY_KINDS];
    ngx_http_cc_registry_sh_t       *sh;
    ngx_http_cc_registry_tree_t     *tree;
    ngx_http_cc_registry_node_t     *node;
    ngx_http_cc_registry_entry_t    *e;
    ngx_http_cc_registry_content_t  *old, *new;

    now = ngx_time();
    sh = reg->sh;
    e = entries->elts;

    ngx_shmtx_lock(&reg->shpool->mutex);

    old = sh->content;
    gen = sh->generation + 1;

    new = ngx_slab_alloc_locked(reg->shpool,
                                sizeof(ngx_http_cc_registry_content_t));
    if (new == NULL) {
        goto full;
    }

    ngx_http_cc_registry_content_init(new);

    for (i = 0; i < entries->nelts; i++) {

        if (e[i].until != 0 && e[i].until <= now) {
            continue;
        }

        kind = e[i].kind;
        tree = &new->trees[kind];

        /* the last of several entries with the same key wins */
        node = ngx_http_cc_registry_find_in(tree, e[i].key.data, e[i].key.len,
                                            ngx_crc32_short(e[i].key.data,
                                                            e[i].key.len));
        if (node) {
            ngx_http_cc_registry_unlink_free(reg, tree, node);
        }

        node = ngx_http_cc_registry_node_alloc(reg, &e[i]);
        if (node == NULL) {
            ngx_http_cc_registry_free_content(reg, new);
            goto full;
        }

        ngx_http_cc_registry_link(tree, node);
    }

    any = 0;

    for (kind = 0; kind < NGX_HTTP_CC_REGISTRY_KINDS; kind++) {
        changed[kind] = ngx_http_cc_registry_compare(&old->trees[kind],
                                                     &new->trees[kind],
                                                     gen, now);
        any |= changed[kind];
    }

    if (any) {
        sh->generation = gen;

        for (kind = 0; kind < NGX_HTTP_CC_REGISTRY_KINDS; kind++) {
            if (changed[kind]) {
                sh->kind_generation[kind] = gen;
            }
        }
    }

    sh->content = new;
    ngx_http_cc_registry_free_content(reg, old);

    sh->synced_at = now;
    sh->sync_tag_len = ngx_min(tag->len, NGX_HTTP_CC_SYNC_TAG_MAX);
    ngx_memcpy(sh->sync_tag, tag->data, sh->sync_tag_len);

    if (sh->unknown_kid_at
        && ngx_http_cc_registry_find_locked(reg, NGX_HTTP_CC_REGISTRY_KEYS,
                                            sh->unknown_kid,
                                            sh->unknown_kid_len))
    {
        sh->unknown_kid_at = 0;
        sh->unknown_kid_len = 0;
    }

    *generation = sh->generation;

    ngx_shmtx_unlock(&reg->shpool->mutex);

    return NGX_OK;

full:

    ngx_shmtx_unlock(&reg->shpool->mutex);

    return NGX_DECLINED;
}


/*
 * Gives each new node the generation of an equal live node in the old
 * tree, or gen.  The kind changed if any node got gen, or if the old tree
 * had live entries the new one lacks: with every new node matching a
 * distinct old one, equal numbers mean none is missing.
 */

static ngx_uint_t
ngx_http_cc_registry_compare(ngx_http_cc_registry_tree_t *old,
    ngx_http_cc_registry_tree_t *new, uint64_t gen, time_t now)
{
    ngx_uint_t                     changed;
    ngx_queue_t                   *q;
    ngx_http_cc_registry_node_t   *node, *prev;
    ngx_http_cc_registry_entry_t   entry;

    changed = 0;

    for (q = ngx_queue_head(&new->queue);
         q != ngx_queue_sentinel(&new->queue);
         q = ngx_queue_next(q))
    {
        node = ngx_queue_data(q, ngx_http_cc_registry_node_t, queue);

        prev = ngx_http_cc_registry_find_in(old, node->data, node->key_len,
                                            node->node.key);

        entry.until = node->until;
        entry.value.data = node->data + node->key_len;
        entry.value.len = node->value_len;

        if (prev && ngx_http_cc_registry_node_live(prev, now)
            && ngx_http_cc_registry_node_equals(prev, &entry))
        {
            node->generation = prev->generation;

        } else {
            node->generation = gen;
            changed = 1;
        }
    }

    return changed
           || new->count != ngx_http_cc_registry_live_count(old, now);
}


static void
ngx_http_cc_registry_free_content(ngx_http_cc_registry_t *reg,
    ngx_http_cc_registry_content_t *content)
{
    ngx_uint_t                    kind;
    ngx_queue_t                  *q, *head;
    ngx_http_cc_registry_node_t  *node;

    for (kind = 0; kind < NGX_HTTP_CC_REGISTRY_KINDS; kind++) {
        head = &content->trees[kind].queue;

        while (!ngx_queue_empty(head)) {
            q = ngx_queue_head(head);
            ngx_queue_remove(q);

            node = ngx_queue_data(q, ngx_http_cc_registry_node_t, queue);
            ngx_slab_free_locked(reg->shpool, node);
        }
    }

    ngx_slab_free_locked(reg->shpool, content);
}
