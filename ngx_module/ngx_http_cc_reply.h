
/*
 * Concierge: answering a request from a phase handler with a JSON body of
 * our own, for the limit and tenant modules.  Agents read an HTML 401/403
 * as "endpoint unavailable", so nginx's own error pages are never used
 * for a refusal.
 */


#ifndef _NGX_HTTP_CC_REPLY_H_INCLUDED_
#define _NGX_HTTP_CC_REPLY_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/* Adds a response header; name must be a static string. */
ngx_int_t ngx_http_cc_reply_header(ngx_http_request_t *r, const char *name,
    ngx_str_t *value);

/*
 * Discards the request body, then sends status with body as
 * application/json.  Returns what to finalize the request with; a phase
 * handler does ngx_http_finalize_request(r, rc) and returns NGX_DONE.
 */
ngx_int_t ngx_http_cc_reply_json(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *body);

/* The same, from a C string built with ngx_sprintf. */
ngx_int_t ngx_http_cc_reply_json_text(ngx_http_request_t *r,
    ngx_uint_t status, u_char *start, u_char *end);


#endif /* _NGX_HTTP_CC_REPLY_H_INCLUDED_ */
