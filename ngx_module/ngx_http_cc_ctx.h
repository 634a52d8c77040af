
/*
 * Concierge: a module's request context that survives internal redirects.
 *
 * nginx clears module contexts when it redirects a request internally
 * (error_page, try_files, a named location) but keeps the pool's cleanups.
 * A context allocated as a cleanup's data, with a handler unique to the
 * module as its marker, can therefore be found again after a redirect, so
 * a request is authenticated or limited once and its variables still tell
 * what happened.  The realip module keeps its context the same way.
 */


#ifndef _NGX_HTTP_CC_CTX_H_INCLUDED_
#define _NGX_HTTP_CC_CTX_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/* The module's context, found again through marker after a redirect. */
void *ngx_http_cc_ctx_get(ngx_http_request_t *r, ngx_module_t *module,
    ngx_pool_cleanup_pt marker);

/* A zeroed context of size bytes, set for module; NULL without memory. */
void *ngx_http_cc_ctx_create(ngx_http_request_t *r, ngx_module_t *module,
    size_t size, ngx_pool_cleanup_pt marker);


#endif /* _NGX_HTTP_CC_CTX_H_INCLUDED_ */
