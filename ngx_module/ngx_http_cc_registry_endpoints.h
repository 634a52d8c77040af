
/*
 * Concierge: the registry control API's endpoints, and the answers they
 * send, shared by ngx_http_cc_registry_api.c (which routes a request and
 * reads its body) and ngx_http_cc_registry_endpoints.c (which does what
 * the request asks).
 */


#ifndef _NGX_HTTP_CC_REGISTRY_ENDPOINTS_H_INCLUDED_
#define _NGX_HTTP_CC_REGISTRY_ENDPOINTS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <jansson.h>

#include "ngx_http_cc_registry_json.h"
#include "ngx_http_cc_registry_store.h"


#define NGX_HTTP_CC_UNPROCESSABLE        422

#define NGX_HTTP_CC_ROUTE_STATUS         0
#define NGX_HTTP_CC_ROUTE_SYNC           1
#define NGX_HTTP_CC_ROUTE_LIST           2
#define NGX_HTTP_CC_ROUTE_ENTRY          3


/* What a request's path names. */
typedef struct {
    ngx_uint_t                       what;     /* NGX_HTTP_CC_ROUTE_* */
    ngx_uint_t                       kind;
    ngx_str_t                        id[2];    /* as they came in the path */
    ngx_uint_t                       nids;
    ngx_str_t                        key;      /* normalised */
    u_char                           buf[NGX_HTTP_CC_DEVICE_KEY_LEN];
} ngx_http_cc_registry_route_t;


/* The endpoints; each returns what the content handler returns. */
ngx_int_t ngx_http_cc_registry_api_status(ngx_http_request_t *r,
    ngx_http_cc_registry_t *reg);
ngx_int_t ngx_http_cc_registry_api_list(ngx_http_request_t *r,
    ngx_http_cc_registry_t *reg, ngx_uint_t kind);
ngx_int_t ngx_http_cc_registry_api_get(ngx_http_request_t *r,
    ngx_http_cc_registry_t *reg, ngx_http_cc_registry_route_t *route);
ngx_int_t ngx_http_cc_registry_api_delete(ngx_http_request_t *r,
    ngx_http_cc_registry_t *reg, ngx_http_cc_registry_route_t *route);
ngx_int_t ngx_http_cc_registry_api_put(ngx_http_request_t *r,
    ngx_http_cc_registry_t *reg, ngx_http_cc_registry_route_t *route,
    json_t *json);
ngx_int_t ngx_http_cc_registry_api_sync(ngx_http_request_t *r,
    ngx_http_cc_registry_t *reg, json_t *json);

/* Answers: json (NULL: no body) is sent and released. */
ngx_int_t ngx_http_cc_registry_api_send(ngx_http_request_t *r,
    ngx_uint_t status, json_t *json);
ngx_int_t ngx_http_cc_registry_api_error(ngx_http_request_t *r,
    ngx_uint_t status, const char *code, const char *message);
ngx_int_t ngx_http_cc_registry_api_invalid(ngx_http_request_t *r,
    ngx_uint_t status, ngx_http_cc_registry_problem_t *problem);


#endif /* _NGX_HTTP_CC_REGISTRY_ENDPOINTS_H_INCLUDED_ */
