
/*
 * Concierge: identity header hygiene.
 *
 * Upstream workers trust the X-CC-* headers (tenant, user, roles, device)
 * because only nginx can reach their sockets, and nginx sets those headers
 * from what it has verified.  This module makes sure a client can never
 * supply one: in the POST_READ phase, before any other module or variable
 * sees the request, every request header whose name starts with "X-CC-" is
 * removed.  It has no directives: loading the module turns it on.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


#define NGX_HTTP_CC_IDENTITY_PREFIX      "x-cc-"
#define NGX_HTTP_CC_IDENTITY_PREFIX_LEN  (sizeof(NGX_HTTP_CC_IDENTITY_PREFIX) - 1)


static ngx_int_t ngx_http_cc_identity_handler(ngx_http_request_t *r);
static ngx_uint_t ngx_http_cc_identity_count(ngx_list_part_t *part);
static ngx_uint_t ngx_http_cc_identity_is_reserved(ngx_table_elt_t *h);
static ngx_int_t ngx_http_cc_identity_init(ngx_conf_t *cf);


static ngx_http_module_t  ngx_http_cc_identity_module_ctx = {
    NULL,                                  /* preconfiguration */
    ngx_http_cc_identity_init,             /* postconfiguration */

    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    NULL,                                  /* create location configuration */
    NULL                                   /* merge location configuration */
};


ngx_module_t  ngx_http_cc_identity_module = {
    NGX_MODULE_V1,
    &ngx_http_cc_identity_module_ctx,      /* module context */
    NULL,                                  /* module directives */
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


/*
 * ngx_list_t cannot delete an element, so the header list is rebuilt without
 * the reserved ones.  The old elements stay where they are in the request
 * pool: the pointers that headers_in keeps to well-known headers (host,
 * user_agent, cookies...) still point at valid, unchanged elements, while
 * everything that walks the list (the proxy module, $http_* variables) only
 * sees the rebuilt one.
 */

static ngx_int_t
ngx_http_cc_identity_handler(ngx_http_request_t *r)
{
    ngx_uint_t        i, n;
    ngx_list_part_t   old, *part;
    ngx_table_elt_t  *h, *copy;

    if (r != r->main) {
        return NGX_DECLINED;
    }

    n = ngx_http_cc_identity_count(&r->headers_in.headers.part);

    if (n == 0) {
        return NGX_DECLINED;
    }

    old = r->headers_in.headers.part;

    if (ngx_list_init(&r->headers_in.headers, r->pool, 20,
                      sizeof(ngx_table_elt_t))
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (part = &old; part; part = part->next) {
        h = part->elts;

        for (i = 0; i < part->nelts; i++) {

            if (ngx_http_cc_identity_is_reserved(&h[i])) {
                ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                              "cc identity: removed client header \"%V\"",
                              &h[i].key);
                continue;
            }

            copy = ngx_list_push(&r->headers_in.headers);
            if (copy == NULL) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            *copy = h[i];
        }
    }

    return NGX_DECLINED;
}


static ngx_uint_t
ngx_http_cc_identity_count(ngx_list_part_t *part)
{
    ngx_uint_t        i, n;
    ngx_table_elt_t  *h;

    n = 0;

    for ( /* void */ ; part; part = part->next) {
        h = part->elts;

        for (i = 0; i < part->nelts; i++) {
            n += ngx_http_cc_identity_is_reserved(&h[i]);
        }
    }

    return n;
}


static ngx_uint_t
ngx_http_cc_identity_is_reserved(ngx_table_elt_t *h)
{
    return h->key.len >= NGX_HTTP_CC_IDENTITY_PREFIX_LEN
           && ngx_strncmp(h->lowcase_key, NGX_HTTP_CC_IDENTITY_PREFIX,
                          NGX_HTTP_CC_IDENTITY_PREFIX_LEN)
              == 0;
}


static ngx_int_t
ngx_http_cc_identity_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_POST_READ_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_cc_identity_handler;

    return NGX_OK;
}
