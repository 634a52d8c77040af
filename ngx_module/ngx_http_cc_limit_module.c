
/*
 * Concierge: rate limits.  A shared-memory zone holds one sliding window
 * per key (lib/cc_window.c does the arithmetic); cc_limit names a zone, a
 * key made of variables and a number of requests per window, optionally
 * replaced per request by a tenant's own limit.  A request over any of its
 * location's limits is answered 429 (or the configured status) with
 * Retry-After and the IETF RateLimit-Policy / RateLimit fields, as JSON or
 * in the shape the agent protocol defines.  Zones never refuse for lack of
 * memory: the least recently used keys make room.  Counters per zone are
 * served in JSON by cc_limit_status.
 *
 * The handler runs in the PRECONTENT phase, after the auth module (which
 * sets $cc_tenant_id, $cc_device_id... in PREACCESS) and after the tenant
 * module's checks, so keys and tenant overrides are final; as with
 * limit_req, a request is limited once, whatever internal redirects follow.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_cc_ctx.h"

#include "cc_hash.h"
#include "cc_uuid.h"
#include "cc_window.h"

#include "ngx_http_cc_reply.h"


/* $cc_limit_status */
#define NGX_HTTP_CC_LIMIT_PASSED               1
#define NGX_HTTP_CC_LIMIT_REJECTED             2
#define NGX_HTTP_CC_LIMIT_REJECTED_DRY_RUN     3
#define NGX_HTTP_CC_LIMIT_EMPTY_KEY            4
#define NGX_HTTP_CC_LIMIT_EMPTY_KEY_DRY_RUN    5

/* cc_limit_response */
#define NGX_HTTP_CC_LIMIT_RESPONSE_JSON        0
#define NGX_HTTP_CC_LIMIT_RESPONSE_AGENT       1

/*
 * How a key is stored.  Keys up to 16 bytes are kept as they are; a GUID
 * in any letter case as its 16 bytes; anything longer as the first 16
 * bytes of its SHA-256.  So a node is at most 128 bytes, one slab slot,
 * whatever the key: 32 of rbtree node, 8 of header, 16 of LRU queue, 56 of
 * window and 16 of key.
 */
#define NGX_HTTP_CC_LIMIT_KEY_RAW              0
#define NGX_HTTP_CC_LIMIT_KEY_GUID             1
#define NGX_HTTP_CC_LIMIT_KEY_DIGEST           2
#define NGX_HTTP_CC_LIMIT_KEY_MAX              16

/* idle nodes freed per new key, as limit_req does */
#define NGX_HTTP_CC_LIMIT_EXPIRE               2


typedef struct {
    u_char                         color;
    u_char                         kind;        /* NGX_HTTP_CC_LIMIT_KEY_* */
    u_short                        len;
    ngx_queue_t                    queue;       /* most recently used first */
    cc_window_t                    window;
    u_char                         data[1];
} ngx_http_cc_limit_node_t;


typedef struct {
    ngx_atomic_uint_t              passed;
    ngx_atomic_uint_t              rejected;
    ngx_atomic_uint_t              rejected_dry_run;
    ngx_atomic_uint_t              empty_key;
    ngx_atomic_uint_t              keys;
    ngx_atomic_uint_t              evicted;     /* still counting, made room */
    ngx_atomic_uint_t              expired;     /* idle, freed */
    ngx_atomic_uint_t              untracked;   /* no room at all: passed */
} ngx_http_cc_limit_counters_t;


typedef struct {
    ngx_rbtree_t                   rbtree;
    ngx_rbtree_node_t              sentinel;
    ngx_queue_t                    queue;
    ngx_http_cc_limit_counters_t   counters;
} ngx_http_cc_limit_shctx_t;


typedef struct {
    ngx_http_cc_limit_shctx_t     *sh;
    ngx_slab_pool_t               *shpool;
    ngx_msec_t                     window;
    ngx_shm_zone_t                *shm_zone;
} ngx_http_cc_limit_zone_t;


typedef struct {
    ngx_shm_zone_t                *shm_zone;
    ngx_http_complex_value_t       key;
    ngx_http_complex_value_t      *override;    /* NULL: always rate */
    ngx_uint_t                     rate;
    ngx_flag_t                     empty_key_pass;
} ngx_http_cc_limit_t;


typedef struct {
    ngx_array_t                    zones;       /* of ngx_shm_zone_t * */
} ngx_http_cc_limit_main_conf_t;


typedef struct {
    ngx_array_t                   *limits;      /* of ngx_http_cc_limit_t */
    ngx_flag_t                     dry_run;
    ngx_uint_t                     log_level;
    ngx_uint_t                     status_code;
    ngx_uint_t                     response;
    ngx_flag_t                     headers;
    ngx_flag_t                     status;      /* cc_limit_status here */
} ngx_http_cc_limit_loc_conf_t;


/* What one limit makes of this request. */
typedef struct {
    ngx_http_cc_limit_t           *limit;
    ngx_http_cc_limit_zone_t      *zone;
    u_char                         kind;
    u_short                        len;
    u_char                         data[CC_SHA256_LEN];
    uint32_t                       hash;
    uint32_t                       rate;        /* after any override */
    ngx_flag_t                     skip;        /* empty key, passed */
    cc_window_verdict_t            verdict;
    uint64_t                       reset;       /* ms until more quota */
} ngx_http_cc_limit_try_t;


typedef struct {
    ngx_uint_t                     status;      /* $cc_limit_status */
    ngx_uint_t                     ntries;
    ngx_http_cc_limit_try_t       *tries;
    ngx_flag_t                     headers;     /* for the header filter */
} ngx_http_cc_limit_ctx_t;


static ngx_int_t ngx_http_cc_limit_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_cc_limit_prepare(ngx_http_request_t *r,
    ngx_http_cc_limit_loc_conf_t *llcf, ngx_http_cc_limit_ctx_t *ctx,
    ngx_uint_t *empty);
static ngx_int_t ngx_http_cc_limit_key(ngx_http_request_t *r,
    ngx_str_t *key, ngx_http_cc_limit_try_t *t);
static uint32_t ngx_http_cc_limit_rate(ngx_http_request_t *r,
    ngx_http_cc_limit_t *limit);
static ngx_int_t ngx_http_cc_limit_decide(ngx_http_cc_limit_loc_conf_t *llcf,
    ngx_http_cc_limit_ctx_t *ctx, ngx_msec_t now);
static void ngx_http_cc_limit_try(ngx_http_cc_limit_try_t *t, ngx_msec_t now,
    ngx_uint_t count, ngx_uint_t headers);
static ngx_http_cc_limit_node_t *ngx_http_cc_limit_find(
    ngx_http_cc_limit_zone_t *zone, ngx_http_cc_limit_try_t *t);
static ngx_http_cc_limit_node_t *ngx_http_cc_limit_create(
    ngx_http_cc_limit_zone_t *zone, ngx_http_cc_limit_try_t *t,
    ngx_msec_t now);
static void ngx_http_cc_limit_expire(ngx_http_cc_limit_zone_t *zone,
    ngx_msec_t now, ngx_uint_t n);
static ngx_int_t ngx_http_cc_limit_evict(ngx_http_cc_limit_zone_t *zone,
    ngx_msec_t now);
static void ngx_http_cc_limit_count(ngx_http_cc_limit_try_t *t,
    ngx_uint_t status);
static ngx_int_t ngx_http_cc_limit_refuse(ngx_http_request_t *r,
    ngx_http_cc_limit_loc_conf_t *llcf, ngx_http_cc_limit_try_t *t,
    ngx_uint_t empty);
static ngx_int_t ngx_http_cc_limit_refusal_body(ngx_http_request_t *r,
    ngx_http_cc_limit_loc_conf_t *llcf, ngx_http_cc_limit_try_t *t,
    ngx_uint_t empty, time_t retry, ngx_str_t *body);
static ngx_int_t ngx_http_cc_limit_add_fields(ngx_http_request_t *r,
    ngx_http_cc_limit_try_t *tries, ngx_uint_t n, time_t retry);
static time_t ngx_http_cc_limit_seconds(uint64_t ms);

static ngx_http_cc_limit_ctx_t *ngx_http_cc_limit_get_ctx(
    ngx_http_request_t *r);
static ngx_http_cc_limit_ctx_t *ngx_http_cc_limit_create_ctx(
    ngx_http_request_t *r);
static void ngx_http_cc_limit_cleanup(void *data);
static ngx_int_t ngx_http_cc_limit_header_filter(ngx_http_request_t *r);
static ngx_int_t ngx_http_cc_limit_status_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);

static ngx_int_t ngx_http_cc_limit_status_handler(ngx_http_request_t *r);
static u_char *ngx_http_cc_limit_status_zone(u_char *p,
    ngx_shm_zone_t *shm_zone);
static void ngx_http_cc_limit_rbtree_insert_value(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);
static ngx_int_t ngx_http_cc_limit_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);

static void *ngx_http_cc_limit_create_main_conf(ngx_conf_t *cf);
static void *ngx_http_cc_limit_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_cc_limit_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_http_cc_limit_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_cc_limit(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_cc_limit_status(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_cc_limit_valid_name(ngx_str_t *name);
static ngx_int_t ngx_http_cc_limit_add_variables(ngx_conf_t *cf);
static ngx_int_t ngx_http_cc_limit_init(ngx_conf_t *cf);


static ngx_conf_enum_t  ngx_http_cc_limit_log_levels[] = {
    { ngx_string("info"), NGX_LOG_INFO },
    { ngx_string("notice"), NGX_LOG_NOTICE },
    { ngx_string("warn"), NGX_LOG_WARN },
    { ngx_string("error"), NGX_LOG_ERR },
    { ngx_null_string, 0 }
};


static ngx_conf_enum_t  ngx_http_cc_limit_responses[] = {
    { ngx_string("json"), NGX_HTTP_CC_LIMIT_RESPONSE_JSON },
    { ngx_string("agent"), NGX_HTTP_CC_LIMIT_RESPONSE_AGENT },
    { ngx_null_string, 0 }
};


static ngx_conf_num_bounds_t  ngx_http_cc_limit_status_bounds = {
    ngx_conf_check_num_bounds, 400, 599
};


static ngx_str_t  ngx_http_cc_limit_status_names[] = {
    ngx_null_string,
    ngx_string("PASSED"),
    ngx_string("REJECTED"),
    ngx_string("REJECTED_DRY_RUN"),
    ngx_string("EMPTY_KEY"),
    ngx_string("EMPTY_KEY_DRY_RUN")
};


static ngx_command_t  ngx_http_cc_limit_commands[] = {

    { ngx_string("cc_limit_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_cc_limit_zone,
      0,
      0,
      NULL },

    { ngx_string("cc_limit"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_2MORE,
      ngx_http_cc_limit,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("cc_limit_dry_run"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_cc_limit_loc_conf_t, dry_run),
      NULL },

    { ngx_string("cc_limit_log_level"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_cc_limit_loc_conf_t, log_level),
      &ngx_http_cc_limit_log_levels },

    { ngx_string("cc_limit_status_code"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_cc_limit_loc_conf_t, status_code),
      &ngx_http_cc_limit_status_bounds },

    { ngx_string("cc_limit_response"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_cc_limit_loc_conf_t, response),
      &ngx_http_cc_limit_responses },

    { ngx_string("cc_limit_headers"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_cc_limit_loc_conf_t, headers),
      NULL },

    { ngx_string("cc_limit_status"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_cc_limit_status,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_cc_limit_module_ctx = {
    ngx_http_cc_limit_add_variables,       /* preconfiguration */
    ngx_http_cc_limit_init,                /* postconfiguration */

    ngx_http_cc_limit_create_main_conf,    /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_cc_limit_create_loc_conf,     /* create location configuration */
    ngx_http_cc_limit_merge_loc_conf       /* merge location configuration */
};


ngx_module_t  ngx_http_cc_limit_module = {
    NGX_MODULE_V1,
    &ngx_http_cc_limit_module_ctx,         /* module context */
    ngx_http_cc_limit_commands,            /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;


static ngx_int_t
ngx_http_cc_limit_handler(ngx_http_request_t *r)
{
    ngx_int_t                      rc, refused;
    ngx_uint_t                     empty;
    ngx_http_cc_limit_ctx_t       *ctx;
    ngx_http_cc_limit_loc_conf_t  *llcf;

    if (r != r->main || ngx_http_cc_limit_get_ctx(r) != NULL) {
        return NGX_DECLINED;
    }

    llcf = ngx_http_get_module_loc_conf(r, ngx_http_cc_limit_module);

    if (llcf->limits == NULL || llcf->limits->nelts == 0) {
        return NGX_DECLINED;
    }

    ctx = ngx_http_cc_limit_create_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_cc_limit_prepare(r, llcf, ctx, &empty);
    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == NGX_DECLINED) {
        refused = (ngx_int_t) empty;

    } else {
        refused = ngx_http_cc_limit_decide(llcf, ctx, ngx_current_msec);
    }

    if (refused < 0) {
        ctx->status = NGX_HTTP_CC_LIMIT_PASSED;
        ctx->headers = llcf->headers;
        return NGX_DECLINED;
    }

    if (rc == NGX_DECLINED) {
        ngx_http_cc_limit_count(&ctx->tries[refused],
                                NGX_HTTP_CC_LIMIT_EMPTY_KEY);
        ctx->status = llcf->dry_run ? NGX_HTTP_CC_LIMIT_EMPTY_KEY_DRY_RUN
                                    : NGX_HTTP_CC_LIMIT_EMPTY_KEY;
        ngx_log_error(llcf->log_level, r->connection->log, 0,
                      "cc limit: the key of zone \"%V\" is empty, "
                      "%s the request%s",
                      &ctx->tries[refused].zone->shm_zone->shm.name,
                      llcf->dry_run ? "would refuse" : "refusing",
                      llcf->dry_run ? " (dry run)" : "");

    } else {
        ctx->status = llcf->dry_run ? NGX_HTTP_CC_LIMIT_REJECTED_DRY_RUN
                                    : NGX_HTTP_CC_LIMIT_REJECTED;
        ngx_log_error(llcf->log_level, r->connection->log, 0,
                      "cc limit: %s requests by zone \"%V\", "
                      "%uD used of %uD%s",
                      llcf->dry_run ? "would limit" : "limiting",
                      &ctx->tries[refused].zone->shm_zone->shm.name,
                      ctx->tries[refused].verdict.used,
                      ctx->tries[refused].rate,
                      llcf->dry_run ? " (dry run)" : "");
    }

    if (llcf->dry_run) {
        return NGX_DECLINED;
    }

    rc = ngx_http_cc_limit_refuse(r, llcf, &ctx->tries[refused],
                                  rc == NGX_DECLINED);

    ngx_http_finalize_request(r, rc);

    return NGX_DONE;
}


/*
 * Evaluates every limit's key and rate before any lock is taken.
 * NGX_DECLINED: the limit at *empty has an empty key and refuses it.
 */

static ngx_int_t
ngx_http_cc_limit_prepare(ngx_http_request_t *r,
    ngx_http_cc_limit_loc_conf_t *llcf, ngx_http_cc_limit_ctx_t *ctx,
    ngx_uint_t *empty)
{
    ngx_str_t                 key;
    ngx_uint_t                i;
    ngx_http_cc_limit_t      *limits;
    ngx_http_cc_limit_try_t  *t;

    limits = llcf->limits->elts;
    ctx->ntries = llcf->limits->nelts;

    ctx->tries = ngx_pcalloc(r->pool,
                             ctx->ntries * sizeof(ngx_http_cc_limit_try_t));
    if (ctx->tries == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < ctx->ntries; i++) {
        t = &ctx->tries[i];
        t->limit = &limits[i];
        t->zone = limits[i].shm_zone->data;

        if (ngx_http_complex_value(r, &limits[i].key, &key) != NGX_OK) {
            return NGX_ERROR;
        }

        t->rate = ngx_http_cc_limit_rate(r, &limits[i]);

        if (key.len == 0) {
            if (limits[i].empty_key_pass) {
                t->skip = 1;
                continue;
            }

            *empty = i;
            return NGX_DECLINED;
        }

        if (ngx_http_cc_limit_key(r, &key, t) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_cc_limit_key(ngx_http_request_t *r, ngx_str_t *key,
    ngx_http_cc_limit_try_t *t)
{
    if (key->len <= NGX_HTTP_CC_LIMIT_KEY_MAX) {
        t->kind = NGX_HTTP_CC_LIMIT_KEY_RAW;
        t->len = (u_short) key->len;
        ngx_memcpy(t->data, key->data, key->len);

    } else if (cc_uuid_parse((char *) key->data, key->len, t->data) == 0) {
        t->kind = NGX_HTTP_CC_LIMIT_KEY_GUID;
        t->len = CC_UUID_LEN;

    } else {
        if (cc_sha256(key->data, key->len, t->data) != 0) {
            ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                          "cc limit: SHA-256 failed");
            return NGX_ERROR;
        }

        /* 128 bits: no second key can be made to share a window */
        t->kind = NGX_HTTP_CC_LIMIT_KEY_DIGEST;
        t->len = NGX_HTTP_CC_LIMIT_KEY_MAX;
    }

    t->hash = ngx_crc32_short(t->data, t->len);

    return NGX_OK;
}


/* The tenant's own limit, when override= names one and it is a number. */

static uint32_t
ngx_http_cc_limit_rate(ngx_http_request_t *r, ngx_http_cc_limit_t *limit)
{
    ngx_int_t  n;
    ngx_str_t  value;

    if (limit->override == NULL) {
        return (uint32_t) limit->rate;
    }

    if (ngx_http_complex_value(r, limit->override, &value) != NGX_OK
        || value.len == 0)
    {
        return (uint32_t) limit->rate;
    }

    n = ngx_atoi(value.data, value.len);

    if (n == NGX_ERROR) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "cc limit: the override of zone \"%V\" is not a "
                      "number of requests, using %ui",
                      &limit->shm_zone->shm.name, limit->rate);
        return (uint32_t) limit->rate;
    }

    /* the registry takes limits up to 18 digits: beyond 2^32 - 1 is all */
    return (n > (ngx_int_t) UINT32_MAX) ? UINT32_MAX : (uint32_t) n;
}


/*
 * Like limit_req: every limit is checked, and only when all of them admit
 * the request is it counted in each, so that a request one limit refuses
 * uses nothing of another's.  The last limit checks and counts under one
 * lock (the usual case is a single limit); the others are counted in a
 * second pass.  Returns the index of the refusing limit, or -1.
 */

static ngx_int_t
ngx_http_cc_limit_decide(ngx_http_cc_limit_loc_conf_t *llcf,
    ngx_http_cc_limit_ctx_t *ctx, ngx_msec_t now)
{
    ngx_int_t                 i, last;
    ngx_http_cc_limit_try_t  *t;

    last = -1;

    for (i = 0; i < (ngx_int_t) ctx->ntries; i++) {
        if (!ctx->tries[i].skip) {
            last = i;
        }
    }

    for (i = 0; i <= last; i++) {
        t = &ctx->tries[i];

        if (t->skip) {
            continue;
        }

        ngx_http_cc_limit_try(t, now, i == last, llcf->headers);

        if (!t->verdict.admitted) {
            ngx_http_cc_limit_count(t, llcf->dry_run
                                       ? NGX_HTTP_CC_LIMIT_REJECTED_DRY_RUN
                                       : NGX_HTTP_CC_LIMIT_REJECTED);
            return i;
        }
    }

    for (i = 0; i <= last; i++) {
        t = &ctx->tries[i];

        if (t->skip) {
            continue;
        }

        if (i < last) {
            ngx_http_cc_limit_try(t, now, 1, llcf->headers);
        }

        ngx_http_cc_limit_count(t, NGX_HTTP_CC_LIMIT_PASSED);
    }

    return -1;
}


/*
 * One limit, under its zone's lock: find or make the key's window, check
 * it, and count the request when asked to and it fits.  A key that finds
 * no room even after evicting is let through uncounted.
 */

static void
ngx_http_cc_limit_try(ngx_http_cc_limit_try_t *t, ngx_msec_t now,
    ngx_uint_t count, ngx_uint_t headers)
{
    uint32_t                   target;
    ngx_http_cc_limit_zone_t  *zone;
    ngx_http_cc_limit_node_t  *lr;

    zone = t->zone;

    ngx_shmtx_lock(&zone->shpool->mutex);

    lr = ngx_http_cc_limit_find(zone, t);

    if (lr == NULL && count) {
        lr = ngx_http_cc_limit_create(zone, t, now);
    }

    if (lr == NULL) {
        /* unknown and not to be counted yet, or no room: a fresh window */
        t->verdict.admitted = (t->rate > 0);
        t->verdict.used = 0;
        t->verdict.remaining = t->rate ? t->rate - 1 : 0;
        t->verdict.wait = t->rate ? 0 : zone->window;
        t->reset = zone->window;

        ngx_shmtx_unlock(&zone->shpool->mutex);
        return;
    }

    cc_window_check(&lr->window, now, zone->window, t->rate, &t->verdict);

    if (t->verdict.admitted && count) {
        cc_window_count(&lr->window, now, zone->window);
    }

    if (!t->verdict.admitted) {
        t->reset = t->verdict.wait;

    } else if (headers && count) {
        /* when the quota grows by one again: the RateLimit "t" */
        target = t->rate - t->verdict.remaining - 1;
        t->reset = cc_window_wait(&lr->window, now, zone->window, target);

        if (t->reset == 0) {
            t->reset = zone->window;
        }
    }

    ngx_shmtx_unlock(&zone->shpool->mutex);
}


static ngx_http_cc_limit_node_t *
ngx_http_cc_limit_find(ngx_http_cc_limit_zone_t *zone,
    ngx_http_cc_limit_try_t *t)
{
    ngx_int_t                  rc;
    ngx_rbtree_node_t         *node, *sentinel;
    ngx_http_cc_limit_node_t  *lr;

    node = zone->sh->rbtree.root;
    sentinel = zone->sh->rbtree.sentinel;

    while (node != sentinel) {

        if (t->hash < node->key) {
            node = node->left;
            continue;
        }

        if (t->hash > node->key) {
            node = node->right;
            continue;
        }

        /* t->hash == node->key */

        lr = (ngx_http_cc_limit_node_t *) &node->color;

        rc = (ngx_int_t) t->kind - (ngx_int_t) lr->kind;

        if (rc == 0) {
            rc = ngx_memn2cmp(t->data, lr->data, t->len, lr->len);
        }

        if (rc == 0) {
            ngx_queue_remove(&lr->queue);
            ngx_queue_insert_head(&zone->sh->queue, &lr->queue);
            return lr;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    return NULL;
}


/*
 * A new key: idle keys at the end of the LRU queue are freed first; if
 * the zone is still full, the least recently used keys are evicted, even
 * though they still count something, until there is room.  Every node is
 * at most 128 bytes, one slab size, so one eviction makes room for one key.
 */

static ngx_http_cc_limit_node_t *
ngx_http_cc_limit_create(ngx_http_cc_limit_zone_t *zone,
    ngx_http_cc_limit_try_t *t, ngx_msec_t now)
{
    size_t                     size;
    ngx_rbtree_node_t         *node;
    ngx_http_cc_limit_node_t  *lr;

    size = offsetof(ngx_rbtree_node_t, color)
           + offsetof(ngx_http_cc_limit_node_t, data)
           + t->len;

    ngx_http_cc_limit_expire(zone, now, NGX_HTTP_CC_LIMIT_EXPIRE);

    node = ngx_slab_alloc_locked(zone->shpool, size);

    while (node == NULL) {

        if (ngx_http_cc_limit_evict(zone, now) != NGX_OK) {
            zone->sh->counters.untracked++;
            return NULL;
        }

        node = ngx_slab_alloc_locked(zone->shpool, size);
    }

    node->key = t->hash;

    lr = (ngx_http_cc_limit_node_t *) &node->color;

    lr->kind = t->kind;
    lr->len = t->len;
    ngx_memcpy(lr->data, t->data, t->len);
    cc_window_init(&lr->window, now);

    ngx_rbtree_insert(&zone->sh->rbtree, node);
    ngx_queue_insert_head(&zone->sh->queue, &lr->queue);

    zone->sh->counters.keys++;

    return lr;
}


static void
ngx_http_cc_limit_expire(ngx_http_cc_limit_zone_t *zone, ngx_msec_t now,
    ngx_uint_t n)
{
    ngx_queue_t               *q;
    ngx_rbtree_node_t         *node;
    ngx_http_cc_limit_node_t  *lr;

    while (n--) {

        if (ngx_queue_empty(&zone->sh->queue)) {
            return;
        }

        q = ngx_queue_last(&zone->sh->queue);
        lr = ngx_queue_data(q, ngx_http_cc_limit_node_t, queue);

        if (!cc_window_idle(&lr->window, now, zone->window)) {
            return;
        }

        ngx_queue_remove(q);

        node = (ngx_rbtree_node_t *)
                   ((u_char *) lr - offsetof(ngx_rbtree_node_t, color));

        ngx_rbtree_delete(&zone->sh->rbtree, node);
        ngx_slab_free_locked(zone->shpool, node);

        zone->sh->counters.keys--;
        zone->sh->counters.expired++;
    }
}


static ngx_int_t
ngx_http_cc_limit_evict(ngx_http_cc_limit_zone_t *zone, ngx_msec_t now)
{
    ngx_queue_t               *q;
    ngx_rbtree_node_t         *node;
    ngx_http_cc_limit_node_t  *lr;

    if (ngx_queue_empty(&zone->sh->queue)) {
        return NGX_DECLINED;
    }

    q = ngx_queue_last(&zone->sh->queue);
    lr = ngx_queue_data(q, ngx_http_cc_limit_node_t, queue);

    if (cc_window_idle(&lr->window, now, zone->window)) {
        zone->sh->counters.expired++;

    } else {
        zone->sh->counters.evicted++;
    }

    ngx_queue_remove(q);

    node = (ngx_rbtree_node_t *)
               ((u_char *) lr - offsetof(ngx_rbtree_node_t, color));

    ngx_rbtree_delete(&zone->sh->rbtree, node);
    ngx_slab_free_locked(zone->shpool, node);

    zone->sh->counters.keys--;

    return NGX_OK;
}


static void
ngx_http_cc_limit_count(ngx_http_cc_limit_try_t *t, ngx_uint_t status)
{
    ngx_http_cc_limit_counters_t  *c;

    c = &t->zone->sh->counters;

    switch (status) {

    case NGX_HTTP_CC_LIMIT_PASSED:
        (void) ngx_atomic_fetch_add(&c->passed, 1);
        break;

    case NGX_HTTP_CC_LIMIT_REJECTED:
        (void) ngx_atomic_fetch_add(&c->rejected, 1);
        break;

    case NGX_HTTP_CC_LIMIT_REJECTED_DRY_RUN:
        (void) ngx_atomic_fetch_add(&c->rejected_dry_run, 1);
        break;

    default: /* NGX_HTTP_CC_LIMIT_EMPTY_KEY */
        (void) ngx_atomic_fetch_add(&c->empty_key, 1);
        break;
    }
}


/*
 * The refusal.  Retry-After is the time until a request would be
 * admitted; the RateLimit fields name the zone as the policy.  On agent
 * endpoints the body is the one the agent protocol gives for a rate limit
 * (agent-protocol.md section 3, step 6); the agent treats 429 as
 * transient and keeps its batch (section 7).
 */

static ngx_int_t
ngx_http_cc_limit_refuse(ngx_http_request_t *r,
    ngx_http_cc_limit_loc_conf_t *llcf, ngx_http_cc_limit_try_t *t,
    ngx_uint_t empty)
{
    time_t     retry;
    ngx_str_t  body, value;

    if (empty) {
        retry = ngx_http_cc_limit_seconds(t->zone->window);

    } else {
        retry = ngx_http_cc_limit_seconds(t->verdict.wait);

        if (ngx_http_cc_limit_add_fields(r, t, 1, retry) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    value.data = ngx_pnalloc(r->pool, NGX_TIME_T_LEN);
    if (value.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    value.len = ngx_sprintf(value.data, "%T", retry) - value.data;

    if (ngx_http_cc_reply_header(r, "Retry-After", &value) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_cc_limit_refusal_body(r, llcf, t, empty, retry, &body)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_cc_reply_json(r, llcf->status_code, &body);
}


static ngx_int_t
ngx_http_cc_limit_refusal_body(ngx_http_request_t *r,
    ngx_http_cc_limit_loc_conf_t *llcf, ngx_http_cc_limit_try_t *t,
    ngx_uint_t empty, time_t retry, ngx_str_t *body)
{
    size_t      len;
    u_char     *p;
    time_t      window;
    ngx_str_t  *policy;

    policy = &t->zone->shm_zone->shm.name;
    window = (time_t) (t->zone->window / 1000);

    len = sizeof("{\"success\":false,\"message\":\"\","
                 "\"rateLimitExceeded\":true,\"rateLimitInfo\":{"
                 "\"requestsInWindow\":,\"maxRequests\":,"
                 "\"windowDurationSeconds\":,\"retryAfterSeconds\":}}\n")
          + sizeof("{\"error\":{\"code\":\"rate_limit_key_missing\","
                   "\"message\":\"\",\"policy\":\"\",\"limit\":,"
                   "\"window\":,\"retry_after\":}}\n")
          + 160 + policy->len + 5 * NGX_INT64_LEN;

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    body->data = p;

    if (llcf->response == NGX_HTTP_CC_LIMIT_RESPONSE_AGENT) {
        p = ngx_sprintf(p, "{\"success\":false,\"message\":\"%s\","
                        "\"rateLimitExceeded\":true,\"rateLimitInfo\":{"
                        "\"requestsInWindow\":%uD,\"maxRequests\":%uD,"
                        "\"windowDurationSeconds\":%T,"
                        "\"retryAfterSeconds\":%T}}\n",
                        empty ? "Rate limit key missing"
                              : "Rate limit exceeded",
                        t->verdict.used, t->rate, window, retry);

    } else if (empty) {
        p = ngx_sprintf(p, "{\"error\":{\"code\":\"rate_limit_key_missing\","
                        "\"message\":\"The request carries nothing the rate "
                        "limit \\\"%V\\\" could count it by.\","
                        "\"policy\":\"%V\",\"retry_after\":%T}}\n",
                        policy, policy, retry);

    } else {
        p = ngx_sprintf(p, "{\"error\":{\"code\":\"rate_limited\","
                        "\"message\":\"Too many requests: at most %uD in %T "
                        "seconds. Retry after %T seconds.\","
                        "\"policy\":\"%V\",\"limit\":%uD,\"window\":%T,"
                        "\"retry_after\":%T}}\n",
                        t->rate, window, retry, policy, t->rate, window,
                        retry);
    }

    body->len = p - body->data;

    return NGX_OK;
}


/*
 * RateLimit-Policy: "zone";q=100;w=60
 * RateLimit: "zone";r=41;t=12
 * (draft-ietf-httpapi-ratelimit-headers: lists of Structured Field items,
 * the policy named by a String; "t" is the number of seconds until more
 * quota is available.)  A refusal passes its own Retry-After as "t".
 */

static ngx_int_t
ngx_http_cc_limit_add_fields(ngx_http_request_t *r,
    ngx_http_cc_limit_try_t *tries, ngx_uint_t n, time_t retry)
{
    size_t                    len;
    time_t                    t;
    ngx_str_t                 policy, limit;
    ngx_uint_t                i;
    ngx_http_cc_limit_try_t  *tr;

    len = 0;

    for (i = 0; i < n; i++) {
        if (!tries[i].skip) {
            len += tries[i].zone->shm_zone->shm.name.len
                   + sizeof("\"\";q=;w=, ") + 2 * NGX_INT64_LEN;
        }
    }

    if (len == 0) {
        return NGX_OK;
    }

    policy.data = ngx_pnalloc(r->pool, len);
    limit.data = ngx_pnalloc(r->pool, len);
    if (policy.data == NULL || limit.data == NULL) {
        return NGX_ERROR;
    }

    policy.len = 0;
    limit.len = 0;

    for (i = 0; i < n; i++) {
        tr = &tries[i];

        if (tr->skip) {
            continue;
        }

        t = retry ? retry : ngx_http_cc_limit_seconds(tr->reset);

        policy.len = ngx_sprintf(policy.data + policy.len,
                                 "%s\"%V\";q=%uD;w=%M",
                                 policy.len ? ", " : "",
                                 &tr->zone->shm_zone->shm.name, tr->rate,
                                 tr->zone->window / 1000)
                     - policy.data;

        limit.len = ngx_sprintf(limit.data + limit.len,
                                "%s\"%V\";r=%uD;t=%T",
                                limit.len ? ", " : "",
                                &tr->zone->shm_zone->shm.name,
                                tr->verdict.remaining, t)
                    - limit.data;
    }

    if (ngx_http_cc_reply_header(r, "RateLimit-Policy", &policy) != NGX_OK
        || ngx_http_cc_reply_header(r, "RateLimit", &limit) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* Whole seconds, rounded up, at least 1: what delay-seconds can say. */

static time_t
ngx_http_cc_limit_seconds(uint64_t ms)
{
    return (ms == 0) ? 1 : (time_t) ((ms + 999) / 1000);
}


/*
 * The request's limiting state must outlive internal redirects (an
 * error_page, a try_files) so that the request is limited once and
 * $cc_limit_status still says what happened; module contexts are cleared
 * on a redirect, pool cleanups are not.  The realip module does the same.
 */

static ngx_http_cc_limit_ctx_t *
ngx_http_cc_limit_get_ctx(ngx_http_request_t *r)
{
    return ngx_http_cc_ctx_get(r, &ngx_http_cc_limit_module,
                               ngx_http_cc_limit_cleanup);
}


static ngx_http_cc_limit_ctx_t *
ngx_http_cc_limit_create_ctx(ngx_http_request_t *r)
{
    return ngx_http_cc_ctx_create(r, &ngx_http_cc_limit_module,
                                  sizeof(ngx_http_cc_limit_ctx_t),
                                  ngx_http_cc_limit_cleanup);
}


static void
ngx_http_cc_limit_cleanup(void *data)
{
    /* nothing to free: the handler only marks the context */
}


static ngx_int_t
ngx_http_cc_limit_header_filter(ngx_http_request_t *r)
{
    ngx_http_cc_limit_ctx_t  *ctx;

    if (r != r->main) {
        return ngx_http_next_header_filter(r);
    }

    ctx = ngx_http_cc_limit_get_ctx(r);

    if (ctx == NULL || !ctx->headers) {
        return ngx_http_next_header_filter(r);
    }

    ctx->headers = 0;

    if (ngx_http_cc_limit_add_fields(r, ctx->tries, ctx->ntries, 0)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_next_header_filter(r);
}


static ngx_int_t
ngx_http_cc_limit_status_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_cc_limit_ctx_t  *ctx;

    ctx = ngx_http_cc_limit_get_ctx(r->main);

    if (ctx == NULL || ctx->status == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->len = ngx_http_cc_limit_status_names[ctx->status].len;
    v->data = ngx_http_cc_limit_status_names[ctx->status].data;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    return NGX_OK;
}


/*
 * cc_limit_status: every zone's counters in JSON, for the operators'
 * listener and the metrics scrape.  Counters start at zero when a zone is
 * created (a restart, or a reload that changes its size) and survive other
 * reloads.
 */

static ngx_int_t
ngx_http_cc_limit_status_handler(ngx_http_request_t *r)
{
    size_t                          len;
    u_char                         *p, *start;
    ngx_uint_t                      i;
    ngx_shm_zone_t                **zones;
    ngx_http_cc_limit_main_conf_t  *lmcf;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    lmcf = ngx_http_get_module_main_conf(r, ngx_http_cc_limit_module);
    zones = lmcf->zones.elts;

    len = sizeof("{\"zones\":{}}\n");

    for (i = 0; i < lmcf->zones.nelts; i++) {
        len += zones[i]->shm.name.len + 320 + 12 * NGX_ATOMIC_T_LEN;
    }

    start = ngx_pnalloc(r->pool, len);
    if (start == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_cpymem(start, "{\"zones\":{", sizeof("{\"zones\":{") - 1);

    for (i = 0; i < lmcf->zones.nelts; i++) {
        if (i > 0) {
            *p++ = ',';
        }
        p = ngx_http_cc_limit_status_zone(p, zones[i]);
    }

    p = ngx_cpymem(p, "}}\n", 3);

    return ngx_http_cc_reply_json_text(r, NGX_HTTP_OK, start, p);
}


static u_char *
ngx_http_cc_limit_status_zone(u_char *p, ngx_shm_zone_t *shm_zone)
{
    size_t                         pages, used;
    ngx_http_cc_limit_zone_t      *zone;
    ngx_http_cc_limit_counters_t   c;

    zone = shm_zone->data;

    ngx_shmtx_lock(&zone->shpool->mutex);

    c = zone->sh->counters;
    pages = (zone->shpool->end - zone->shpool->start) / ngx_pagesize;
    used = (pages - zone->shpool->pfree) * ngx_pagesize;

    ngx_shmtx_unlock(&zone->shpool->mutex);

    return ngx_sprintf(p, "\"%V\":{\"window\":%M,\"size\":%uz,"
                       "\"bytes_used\":%uz,\"keys\":%uA,"
                       "\"bytes_per_key\":%uz,\"passed\":%uA,"
                       "\"rejected\":%uA,\"rejected_dry_run\":%uA,"
                       "\"empty_key\":%uA,\"evicted\":%uA,"
                       "\"expired\":%uA,\"untracked\":%uA}",
                       &shm_zone->shm.name, zone->window / 1000,
                       shm_zone->shm.size, used, c.keys,
                       c.keys ? used / c.keys : 0, c.passed, c.rejected,
                       c.rejected_dry_run, c.empty_key, c.evicted,
                       c.expired, c.untracked);
}


static void
ngx_http_cc_limit_rbtree_insert_value(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel)
{
    ngx_int_t                  rc;
    ngx_rbtree_node_t        **p;
    ngx_http_cc_limit_node_t  *lrn, *lrnt;

    for ( ;; ) {

        if (node->key < temp->key) {

            p = &temp->left;

        } else if (node->key > temp->key) {

            p = &temp->right;

        } else { /* node->key == temp->key */

            lrn = (ngx_http_cc_limit_node_t *) &node->color;
            lrnt = (ngx_http_cc_limit_node_t *) &temp->color;

            rc = (ngx_int_t) lrn->kind - (ngx_int_t) lrnt->kind;

            if (rc == 0) {
                rc = ngx_memn2cmp(lrn->data, lrnt->data, lrn->len, lrnt->len);
            }

            p = (rc < 0) ? &temp->left : &temp->right;
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


/*
 * On a reload that keeps the zone's name and size, nginx keeps its memory
 * and the windows in it; a changed window length applies to them from then
 * on.
 */

static ngx_int_t
ngx_http_cc_limit_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_cc_limit_zone_t  *ozone = data;

    size_t                     len;
    ngx_http_cc_limit_zone_t  *zone;

    zone = shm_zone->data;

    if (ozone) {
        zone->sh = ozone->sh;
        zone->shpool = ozone->shpool;
        return NGX_OK;
    }

    zone->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        zone->sh = zone->shpool->data;
        return NGX_OK;
    }

    zone->sh = ngx_slab_alloc(zone->shpool, sizeof(ngx_http_cc_limit_shctx_t));
    if (zone->sh == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(zone->sh, sizeof(ngx_http_cc_limit_shctx_t));

    zone->shpool->data = zone->sh;

    ngx_rbtree_init(&zone->sh->rbtree, &zone->sh->sentinel,
                    ngx_http_cc_limit_rbtree_insert_value);

    ngx_queue_init(&zone->sh->queue);

    len = sizeof(" in cc_limit_zone \"\"") + shm_zone->shm.name.len;

    zone->shpool->log_ctx = ngx_slab_alloc(zone->shpool, len);
    if (zone->shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(zone->shpool->log_ctx, " in cc_limit_zone \"%V\"%Z",
                &shm_zone->shm.name);

    /* a full zone evicts; it is not an event to log */
    zone->shpool->log_nomem = 0;

    return NGX_OK;
}


static void *
ngx_http_cc_limit_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_cc_limit_main_conf_t  *lmcf;

    lmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_cc_limit_main_conf_t));
    if (lmcf == NULL) {
        return NULL;
    }

    if (ngx_array_init(&lmcf->zones, cf->pool, 4, sizeof(ngx_shm_zone_t *))
        != NGX_OK)
    {
        return NULL;
    }

    return lmcf;
}


static void *
ngx_http_cc_limit_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_cc_limit_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_cc_limit_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->limits = NULL;
     *     conf->status = 0;
     */

    conf->dry_run = NGX_CONF_UNSET;
    conf->log_level = NGX_CONF_UNSET_UINT;
    conf->status_code = NGX_CONF_UNSET_UINT;
    conf->response = NGX_CONF_UNSET_UINT;
    conf->headers = NGX_CONF_UNSET;

    return conf;
}


static char *
ngx_http_cc_limit_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_cc_limit_loc_conf_t *prev = parent;
    ngx_http_cc_limit_loc_conf_t *conf = child;

    if (conf->limits == NULL) {
        conf->limits = prev->limits;
    }

    ngx_conf_merge_value(conf->dry_run, prev->dry_run, 0);
    ngx_conf_merge_uint_value(conf->log_level, prev->log_level, NGX_LOG_ERR);
    ngx_conf_merge_uint_value(conf->status_code, prev->status_code,
                              NGX_HTTP_TOO_MANY_REQUESTS);
    ngx_conf_merge_uint_value(conf->response, prev->response,
                              NGX_HTTP_CC_LIMIT_RESPONSE_JSON);
    ngx_conf_merge_value(conf->headers, prev->headers, 0);

    /*
     * An agent reads 429 and 5xx as "try again later"; any other 4xx
     * blocks its upload queue for good (agent-protocol.md section 7).
     */
    if (conf->response == NGX_HTTP_CC_LIMIT_RESPONSE_AGENT
        && conf->status_code != NGX_HTTP_TOO_MANY_REQUESTS
        && conf->status_code < NGX_HTTP_INTERNAL_SERVER_ERROR)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"cc_limit_response agent\" needs "
                           "\"cc_limit_status_code\" 429 or 5xx, not %ui: "
                           "agents stall on any other 4xx",
                           conf->status_code);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* cc_limit_zone NAME size=SIZE window=TIME; */

static char *
ngx_http_cc_limit_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ssize_t                         size;
    ngx_str_t                      *value, name, s;
    ngx_msec_t                      window;
    ngx_uint_t                      i;
    ngx_shm_zone_t                 *shm_zone, **zp;
    ngx_http_cc_limit_zone_t       *zone;
    ngx_http_cc_limit_main_conf_t  *lmcf;

    value = cf->args->elts;

    name = value[1];
    size = 0;
    window = 0;

    if (ngx_http_cc_limit_valid_name(&name) != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone name \"%V\": use letters, digits, "
                           "\"_\", \"-\" and \".\"", &name);
        return NGX_CONF_ERROR;
    }

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "size=", 5) == 0) {
            s.data = value[i].data + 5;
            s.len = value[i].len - 5;

            size = ngx_parse_size(&s);

            if (size == NGX_ERROR) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid zone size \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            if (size < (ssize_t) (8 * ngx_pagesize)) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "zone \"%V\" is too small", &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "window=", 7) == 0) {
            s.data = value[i].data + 7;
            s.len = value[i].len - 7;

            window = ngx_parse_time(&s, 0);

            if (window == (ngx_msec_t) NGX_ERROR || window < 1000
                || window % 1000 != 0)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid window \"%V\": a whole number "
                                   "of seconds, at least 1s", &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[i]);
        return NGX_CONF_ERROR;
    }

    if (size == 0 || window == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" must have \"size\" and \"window\" "
                           "parameters", &cmd->name);
        return NGX_CONF_ERROR;
    }

    zone = ngx_pcalloc(cf->pool, sizeof(ngx_http_cc_limit_zone_t));
    if (zone == NULL) {
        return NGX_CONF_ERROR;
    }

    shm_zone = ngx_shared_memory_add(cf, &name, size,
                                     &ngx_http_cc_limit_module);
    if (shm_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    if (shm_zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "duplicate zone \"%V\"", &name);
        return NGX_CONF_ERROR;
    }

    zone->window = window;
    zone->shm_zone = shm_zone;

    shm_zone->init = ngx_http_cc_limit_init_zone;
    shm_zone->data = zone;

    lmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_cc_limit_module);

    zp = ngx_array_push(&lmcf->zones);
    if (zp == NULL) {
        return NGX_CONF_ERROR;
    }

    *zp = shm_zone;

    return NGX_CONF_OK;
}


/*
 * cc_limit zone=NAME key=VALUE rate=N [override=VALUE]
 *          [empty_key=refuse|pass];
 */

static char *
ngx_http_cc_limit(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_cc_limit_loc_conf_t *llcf = conf;

    ngx_int_t                          rate;
    ngx_str_t                         *value, s;
    ngx_uint_t                         i;
    ngx_shm_zone_t                    *shm_zone;
    ngx_http_cc_limit_t               *limit, *limits;
    ngx_http_compile_complex_value_t   ccv;

    value = cf->args->elts;

    if (llcf->limits == NULL) {
        llcf->limits = ngx_array_create(cf->pool, 2,
                                        sizeof(ngx_http_cc_limit_t));
        if (llcf->limits == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    limit = ngx_array_push(llcf->limits);
    if (limit == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(limit, sizeof(ngx_http_cc_limit_t));

    shm_zone = NULL;
    rate = NGX_ERROR;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "zone=", 5) == 0) {
            s.data = value[i].data + 5;
            s.len = value[i].len - 5;

            shm_zone = ngx_shared_memory_add(cf, &s, 0,
                                             &ngx_http_cc_limit_module);
            if (shm_zone == NULL) {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "key=", 4) == 0
            || ngx_strncmp(value[i].data, "override=", 9) == 0)
        {
            ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

            ccv.cf = cf;

            if (value[i].data[0] == 'k') {
                s.data = value[i].data + 4;
                s.len = value[i].len - 4;
                ccv.complex_value = &limit->key;

            } else {
                s.data = value[i].data + 9;
                s.len = value[i].len - 9;

                limit->override = ngx_palloc(cf->pool,
                                        sizeof(ngx_http_complex_value_t));
                if (limit->override == NULL) {
                    return NGX_CONF_ERROR;
                }

                ccv.complex_value = limit->override;
            }

            if (s.len == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "empty \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            ccv.value = &s;

            if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "rate=", 5) == 0) {
            rate = ngx_atoi(value[i].data + 5, value[i].len - 5);

            if (rate == NGX_ERROR || rate > (ngx_int_t) UINT32_MAX) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid rate \"%V\": the number of "
                                   "requests per window", &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strcmp(value[i].data, "empty_key=refuse") == 0) {
            limit->empty_key_pass = 0;
            continue;
        }

        if (ngx_strcmp(value[i].data, "empty_key=pass") == 0) {
            limit->empty_key_pass = 1;
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[i]);
        return NGX_CONF_ERROR;
    }

    if (shm_zone == NULL || limit->key.value.data == NULL
        || rate == NGX_ERROR)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" must have \"zone\", \"key\" and \"rate\" "
                           "parameters", &cmd->name);
        return NGX_CONF_ERROR;
    }

    limits = llcf->limits->elts;

    for (i = 0; i < llcf->limits->nelts - 1; i++) {
        if (shm_zone == limits[i].shm_zone) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "zone \"%V\" is used twice in one location",
                               &shm_zone->shm.name);
            return NGX_CONF_ERROR;
        }
    }

    limit->shm_zone = shm_zone;
    limit->rate = (ngx_uint_t) rate;

    return NGX_CONF_OK;
}


static char *
ngx_http_cc_limit_status(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_cc_limit_loc_conf_t *llcf = conf;

    ngx_http_core_loc_conf_t  *clcf;

    if (llcf->status) {
        return "is duplicate";
    }

    llcf->status = 1;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_cc_limit_status_handler;

    return NGX_CONF_OK;
}


/* Zone names appear in JSON and in quoted header fields unescaped. */

static ngx_int_t
ngx_http_cc_limit_valid_name(ngx_str_t *name)
{
    u_char      c;
    ngx_uint_t  i;

    if (name->len == 0 || name->len > 64) {
        return NGX_ERROR;
    }

    for (i = 0; i < name->len; i++) {
        c = name->data[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.'))
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_cc_limit_add_variables(ngx_conf_t *cf)
{
    ngx_str_t             name = ngx_string("cc_limit_status");
    ngx_http_variable_t  *var;

    var = ngx_http_add_variable(cf, &name, NGX_HTTP_VAR_NOCACHEABLE);
    if (var == NULL) {
        return NGX_ERROR;
    }

    var->get_handler = ngx_http_cc_limit_status_variable;

    return NGX_OK;
}


static ngx_int_t
ngx_http_cc_limit_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_PRECONTENT_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_cc_limit_handler;

    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_cc_limit_header_filter;

    return NGX_OK;
}
