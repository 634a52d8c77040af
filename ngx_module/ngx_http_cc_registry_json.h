
/*
 * Concierge: the registry control API's JSON: request bodies checked and
 * turned into entries, entries turned back into JSON objects.
 */


#ifndef _NGX_HTTP_CC_REGISTRY_JSON_H_INCLUDED_
#define _NGX_HTTP_CC_REGISTRY_JSON_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <jansson.h>

#include "ngx_http_cc_registry_value.h"


#define NGX_HTTP_CC_REGISTRY_PROBLEM_MAX  256


/* Why a body was refused, in words fit for an error response. */
typedef struct {
    size_t                    len;
    u_char                    text[NGX_HTTP_CC_REGISTRY_PROBLEM_MAX];
} ngx_http_cc_registry_problem_t;


/* NULL: the body is not JSON (problem says where it stopped making sense). */
json_t *ngx_http_cc_registry_json_load(ngx_str_t *body,
    ngx_http_cc_registry_problem_t *problem);

/*
 * The body of a PUT: entry gets kind, key and the encoded value.
 * NGX_OK, NGX_DECLINED (invalid: problem says why) or NGX_ERROR.
 */
ngx_int_t ngx_http_cc_registry_json_entry(ngx_pool_t *pool, ngx_uint_t kind,
    ngx_str_t *key, json_t *body, ngx_http_cc_registry_entry_t *entry,
    ngx_http_cc_registry_problem_t *problem);

/* The body of POST /registry/sync: every entry, and the tag. */
ngx_int_t ngx_http_cc_registry_json_sync(ngx_pool_t *pool, json_t *body,
    ngx_array_t *entries, ngx_str_t *tag,
    ngx_http_cc_registry_problem_t *problem);

/* An entry as the API shows it (the shape a sync accepts); NULL: no memory. */
json_t *ngx_http_cc_registry_json_from_entry(
    ngx_http_cc_registry_entry_t *entry);


#endif /* _NGX_HTTP_CC_REGISTRY_JSON_H_INCLUDED_ */
