
/*
 * Concierge: the registry's control API, the content handler of a location
 * with cc_registry_api: JSON over HTTP on a unix socket, for cc-worker's
 * sync job (ngx_module/README.md documents every endpoint).
 */


#ifndef _NGX_HTTP_CC_REGISTRY_API_H_INCLUDED_
#define _NGX_HTTP_CC_REGISTRY_API_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/* request bodies larger than this are refused with 413 */
#define NGX_HTTP_CC_REGISTRY_BODY_MAX    (4 * 1024 * 1024)


ngx_int_t ngx_http_cc_registry_api_handler(ngx_http_request_t *r);


#endif /* _NGX_HTTP_CC_REGISTRY_API_H_INCLUDED_ */
