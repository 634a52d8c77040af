
/*
 * Concierge: module request contexts that survive internal redirects
 * (see ngx_http_cc_ctx.h).
 */


#include "ngx_http_cc_ctx.h"


void *
ngx_http_cc_ctx_get(ngx_http_request_t *r, ngx_module_t *module,
    ngx_pool_cleanup_pt marker)
{
    void                *ctx;
    ngx_pool_cleanup_t  *cln;

    ctx = r->ctx[module->ctx_index];

    if (ctx == NULL && (r->internal || r->filter_finalize)) {

        for (cln = r->pool->cleanup; cln; cln = cln->next) {
            if (cln->handler == marker) {
                ctx = cln->data;
                r->ctx[module->ctx_index] = ctx;
                break;
            }
        }
    }

    return ctx;
}


void *
ngx_http_cc_ctx_create(ngx_http_request_t *r, ngx_module_t *module,
    size_t size, ngx_pool_cleanup_pt marker)
{
    ngx_pool_cleanup_t  *cln;

    cln = ngx_pool_cleanup_add(r->pool, size);
    if (cln == NULL) {
        return NULL;
    }

    ngx_memzero(cln->data, size);
    cln->handler = marker;

    r->ctx[module->ctx_index] = cln->data;

    return cln->data;
}
