
/*
 * Concierge: the registry's control API over HTTP (see
 * ngx_http_cc_registry_api.h): who may call it, how a path maps to an
 * endpoint, how a body is read, and how answers are sent.  What each
 * endpoint does is in ngx_http_cc_registry_endpoints.c.
 *
 *   GET    /registry                       status
 *   POST   /registry/sync                  replace everything
 *   GET    /registry/{kind}                list
 *   GET    /registry/{kind}/{id}           one entry
 *   PUT    /registry/{kind}/{id}           create (201) or replace (200)
 *   DELETE /registry/{kind}/{id}           204
 *
 * kind is tenants, devices, sessions or keys; a device's id is
 * {tenant}/{device}.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <jansson.h>

#include "ngx_http_cc_registry_api.h"
#include "ngx_http_cc_registry_endpoints.h"


static ngx_uint_t ngx_http_cc_registry_api_local(ngx_http_request_t *r);
static ngx_int_t ngx_http_cc_registry_api_route(ngx_http_request_t *r,
    ngx_http_cc_registry_route_t *route);
static ngx_int_t ngx_http_cc_registry_api_route_key(
    ngx_http_cc_registry_route_t *route);
static ngx_int_t ngx_http_cc_registry_api_method(ngx_http_request_t *r,
    ngx_http_cc_registry_route_t *route);
static ngx_int_t ngx_http_cc_registry_api_read(ngx_http_request_t *r);
static void ngx_http_cc_registry_api_body_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_cc_registry_api_write(ngx_http_request_t *r);
static ngx_int_t ngx_http_cc_registry_api_body(ngx_http_request_t *r,
    ngx_str_t *body);
static ngx_int_t ngx_http_cc_registry_api_refuse(ngx_http_request_t *r,
    ngx_uint_t status, const char *code, const char *message);


/*
 * Workers' sockets are reachable by nginx alone, and the control API's
 * socket by cc-worker alone: a request that came over TCP is refused even
 * if an operator put the location on a TCP listener by mistake.  The
 * listening socket is checked as well as the peer's address, which the
 * realip module may rewrite.
 */

ngx_int_t
ngx_http_cc_registry_api_handler(ngx_http_request_t *r)
{
    ngx_int_t                      rc;
    ngx_http_cc_registry_t        *reg;
    ngx_http_cc_registry_route_t   route;

    if (!ngx_http_cc_registry_api_local(r)) {
        return ngx_http_cc_registry_api_refuse(r, NGX_HTTP_FORBIDDEN,
                          "forbidden",
                          "the registry API answers on unix sockets only");
    }

    if (ngx_http_cc_registry_api_route(r, &route) != NGX_OK) {
        return ngx_http_cc_registry_api_refuse(r, NGX_HTTP_NOT_FOUND,
                                               "not_found",
                                               "no such registry endpoint");
    }

    rc = ngx_http_cc_registry_api_method(r, &route);

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == NGX_DECLINED) {
        return ngx_http_cc_registry_api_refuse(r, NGX_HTTP_NOT_ALLOWED,
                                               "method_not_allowed",
                                               "method not allowed here");
    }

    if (route.what == NGX_HTTP_CC_ROUTE_ENTRY
        && ngx_http_cc_registry_api_route_key(&route) != NGX_OK)
    {
        return ngx_http_cc_registry_api_refuse(r, NGX_HTTP_CC_UNPROCESSABLE,
                          "invalid_request",
                          route.kind == NGX_HTTP_CC_REGISTRY_KEYS
                          ? "the kid in the path is malformed"
                          : "the id in the path is malformed");
    }

    if (r->method & (NGX_HTTP_PUT|NGX_HTTP_POST)) {
        return ngx_http_cc_registry_api_read(r);
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    reg = ngx_http_cc_registry_from_request(r);

    switch (route.what) {

    case NGX_HTTP_CC_ROUTE_STATUS:
        return ngx_http_cc_registry_api_status(r, reg);

    case NGX_HTTP_CC_ROUTE_LIST:
        return ngx_http_cc_registry_api_list(r, reg, route.kind);

    default: /* NGX_HTTP_CC_ROUTE_ENTRY */
        if (r->method == NGX_HTTP_DELETE) {
            return ngx_http_cc_registry_api_delete(r, reg, &route);
        }

        return ngx_http_cc_registry_api_get(r, reg, &route);
    }
}


static ngx_uint_t
ngx_http_cc_registry_api_local(ngx_http_request_t *r)
{
    ngx_connection_t  *c;

    c = r->connection;

    return c->sockaddr->sa_family == AF_UNIX
           && c->listening
           && c->listening->sockaddr->sa_family == AF_UNIX;
}


/* NGX_DECLINED: the path names no endpoint. */

static ngx_int_t
ngx_http_cc_registry_api_route(ngx_http_request_t *r,
    ngx_http_cc_registry_route_t *route)
{
    u_char      *p, *end, *start;
    ngx_str_t    seg[4], *name;
    ngx_uint_t   n, kind;

    p = r->uri.data;
    end = p + r->uri.len;

    if (r->uri.len < sizeof("/registry") - 1
        || ngx_strncmp(p, "/registry", sizeof("/registry") - 1) != 0)
    {
        goto not_found;
    }

    p += sizeof("/registry") - 1;

    if (p < end && *p != '/') {
        goto not_found;
    }

    n = 0;

    while (p < end) {
        start = ++p;

        while (p < end && *p != '/') {
            p++;
        }

        if (p == start && p == end) {
            break;                          /* a trailing slash */
        }

        if (n == 4) {
            goto not_found;
        }

        seg[n].data = start;
        seg[n].len = p - start;
        n++;
    }

    route->nids = 0;

    if (n == 0) {
        route->what = NGX_HTTP_CC_ROUTE_STATUS;
        return NGX_OK;
    }

    if (n == 1 && seg[0].len == 4 && ngx_strncmp(seg[0].data, "sync", 4) == 0)
    {
        route->what = NGX_HTTP_CC_ROUTE_SYNC;
        return NGX_OK;
    }

    for (kind = 0; kind < NGX_HTTP_CC_REGISTRY_KINDS; kind++) {
        name = ngx_http_cc_registry_kind_name(kind);

        if (seg[0].len == name->len
            && ngx_strncmp(seg[0].data, name->data, name->len) == 0)
        {
            break;
        }
    }

    if (kind == NGX_HTTP_CC_REGISTRY_KINDS) {
        goto not_found;
    }

    route->kind = kind;

    if (n == 1) {
        route->what = NGX_HTTP_CC_ROUTE_LIST;
        return NGX_OK;
    }

    if (n - 1 != (kind == NGX_HTTP_CC_REGISTRY_DEVICES ? 2 : 1)) {
        goto not_found;
    }

    route->what = NGX_HTTP_CC_ROUTE_ENTRY;
    route->nids = n - 1;
    route->id[0] = seg[1];
    route->id[1] = seg[n - 1];

    return NGX_OK;

not_found:

    return NGX_DECLINED;
}


static ngx_int_t
ngx_http_cc_registry_api_route_key(ngx_http_cc_registry_route_t *route)
{
    route->key.data = route->buf;

    switch (route->kind) {

    case NGX_HTTP_CC_REGISTRY_TENANTS:
        route->key.len = NGX_HTTP_CC_GUID_LEN;
        return ngx_http_cc_registry_tenant_key(&route->id[0], route->buf);

    case NGX_HTTP_CC_REGISTRY_DEVICES:
        route->key.len = NGX_HTTP_CC_DEVICE_KEY_LEN;
        return ngx_http_cc_registry_device_key(&route->id[0], &route->id[1],
                                               route->buf);

    case NGX_HTTP_CC_REGISTRY_SESSIONS:
        route->key.len = NGX_HTTP_CC_SESSION_ID_LEN;
        return ngx_http_cc_registry_session_key(&route->id[0], route->buf);

    case NGX_HTTP_CC_REGISTRY_BOOTSTRAP:
        route->key.len = NGX_HTTP_CC_BOOTSTRAP_KEY_LEN;
        return ngx_http_cc_registry_bootstrap_key(&route->id[0], route->buf);

    default: /* NGX_HTTP_CC_REGISTRY_KEYS: the kid as it is */
        route->key = route->id[0];
        return ngx_http_cc_registry_kid_valid(&route->key);
    }
}


/* NGX_DECLINED: not allowed, and the Allow header says what is. */

static ngx_int_t
ngx_http_cc_registry_api_method(ngx_http_request_t *r,
    ngx_http_cc_registry_route_t *route)
{
    ngx_str_t         allow;
    ngx_uint_t        methods;
    ngx_table_elt_t  *h;

    switch (route->what) {

    case NGX_HTTP_CC_ROUTE_SYNC:
        methods = NGX_HTTP_POST;
        ngx_str_set(&allow, "POST");
        break;

    case NGX_HTTP_CC_ROUTE_ENTRY:
        methods = NGX_HTTP_GET|NGX_HTTP_HEAD|NGX_HTTP_PUT|NGX_HTTP_DELETE;
        ngx_str_set(&allow, "GET, HEAD, PUT, DELETE");
        break;

    default: /* NGX_HTTP_CC_ROUTE_STATUS, NGX_HTTP_CC_ROUTE_LIST */
        methods = NGX_HTTP_GET|NGX_HTTP_HEAD;
        ngx_str_set(&allow, "GET, HEAD");
        break;
    }

    if (r->method & methods) {
        return NGX_OK;
    }

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Allow");
    h->value = allow;

    return NGX_DECLINED;
}


/*
 * cc_registry_api lifts client_max_body_size in its location so that an
 * oversized body is refused here, in JSON.  A chunked body's size is not
 * known before it is read, so the API asks for a Content-Length instead
 * of reading an unbounded body.
 */

static ngx_int_t
ngx_http_cc_registry_api_read(ngx_http_request_t *r)
{
    ngx_int_t  rc;

    if (r->headers_in.chunked
        || r->headers_in.content_length_n > NGX_HTTP_CC_REGISTRY_BODY_MAX)
    {
        /* reading on to keep the connection is not worth it */
        r->keepalive = 0;

        if (r->headers_in.chunked) {
            return ngx_http_cc_registry_api_refuse(r,
                              NGX_HTTP_LENGTH_REQUIRED, "length_required",
                              "the body needs a Content-Length");
        }

        return ngx_http_cc_registry_api_refuse(r,
                          NGX_HTTP_REQUEST_ENTITY_TOO_LARGE, "body_too_large",
                          "the body is larger than 4 MiB");
    }

    r->request_body_in_single_buf = 1;
    r->request_body_in_clean_file = 1;

    rc = ngx_http_read_client_request_body(r,
                                    ngx_http_cc_registry_api_body_handler);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


static void
ngx_http_cc_registry_api_body_handler(ngx_http_request_t *r)
{
    ngx_http_finalize_request(r, ngx_http_cc_registry_api_write(r));
}


/* PUT and POST, once the body is in; the route matched before reading. */

static ngx_int_t
ngx_http_cc_registry_api_write(ngx_http_request_t *r)
{
    json_t                          *json;
    ngx_int_t                        rc;
    ngx_str_t                        body;
    ngx_http_cc_registry_t          *reg;
    ngx_http_cc_registry_route_t     route;
    ngx_http_cc_registry_problem_t   problem;

    (void) ngx_http_cc_registry_api_route(r, &route);

    if (route.what == NGX_HTTP_CC_ROUTE_ENTRY) {
        (void) ngx_http_cc_registry_api_route_key(&route);
    }

    rc = ngx_http_cc_registry_api_body(r, &body);

    if (rc == NGX_DECLINED) {
        return ngx_http_cc_registry_api_error(r,
                          NGX_HTTP_REQUEST_ENTITY_TOO_LARGE, "body_too_large",
                          "the body is larger than 4 MiB");
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    json = ngx_http_cc_registry_json_load(&body, &problem);
    if (json == NULL) {
        return ngx_http_cc_registry_api_invalid(r, NGX_HTTP_BAD_REQUEST,
                                                &problem);
    }

    reg = ngx_http_cc_registry_from_request(r);

    if (route.what == NGX_HTTP_CC_ROUTE_SYNC) {
        rc = ngx_http_cc_registry_api_sync(r, reg, json);

    } else {
        rc = ngx_http_cc_registry_api_put(r, reg, &route, json);
    }

    json_decref(json);

    return rc;
}


/*
 * The body in one piece: as it is when nginx kept it in one buffer,
 * otherwise copied together from its buffers and its temporary file.
 * NGX_DECLINED: larger than the API accepts.
 */

static ngx_int_t
ngx_http_cc_registry_api_body(ngx_http_request_t *r, ngx_str_t *body)
{
    u_char       *p;
    off_t         len, size;
    ssize_t       n;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    ngx_str_set(body, "");

    if (r->request_body == NULL || r->request_body->bufs == NULL) {
        return NGX_OK;
    }

    len = 0;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        len += ngx_buf_size(cl->buf);
    }

    if (len > NGX_HTTP_CC_REGISTRY_BODY_MAX) {
        return NGX_DECLINED;
    }

    if (len == 0) {
        return NGX_OK;
    }

    cl = r->request_body->bufs;

    if (cl->next == NULL && ngx_buf_in_memory(cl->buf)) {
        body->data = cl->buf->pos;
        body->len = (size_t) len;
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, (size_t) len + 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    body->data = p;
    body->len = (size_t) len;

    for ( /* void */ ; cl; cl = cl->next) {
        b = cl->buf;

        if (ngx_buf_size(b) == 0) {
            continue;                       /* the last, empty buffer */
        }

        if (ngx_buf_in_memory(b)) {
            p = ngx_cpymem(p, b->pos, b->last - b->pos);
            continue;
        }

        size = b->file_last - b->file_pos;

        n = ngx_read_file(b->file, p, (size_t) size, b->file_pos);

        if (n != (ssize_t) size) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "cc registry: short read of the body's "
                          "temporary file");
            return NGX_ERROR;
        }

        p += n;
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_cc_registry_api_invalid(ngx_http_request_t *r, ngx_uint_t status,
    ngx_http_cc_registry_problem_t *problem)
{
    u_char  *message;

    message = ngx_pnalloc(r->pool, problem->len + 1);
    if (message == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memcpy(message, problem->text, problem->len);
    message[problem->len] = '\0';

    return ngx_http_cc_registry_api_error(r, status,
                                          status == NGX_HTTP_BAD_REQUEST
                                          ? "malformed_json"
                                          : "invalid_request",
                                          (char *) message);
}


/*
 * An answer before the body was read: the body is read and dropped (with
 * no "100 Continue" to invite it), so the connection stays usable.
 */

static ngx_int_t
ngx_http_cc_registry_api_refuse(ngx_http_request_t *r, ngx_uint_t status,
    const char *code, const char *message)
{
    ngx_int_t  rc;

    r->expect_tested = 1;

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    return ngx_http_cc_registry_api_error(r, status, code, message);
}


/* {"error":{"code":"...","message":"..."}} */

ngx_int_t
ngx_http_cc_registry_api_error(ngx_http_request_t *r, ngx_uint_t status,
    const char *code, const char *message)
{
    json_t  *out;

    out = json_pack("{s:{s:s,s:s}}", "error", "code", code,
                    "message", message);
    if (out == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_cc_registry_api_send(r, status, out);
}


/* Sends json (NULL: no body) and releases it. */

ngx_int_t
ngx_http_cc_registry_api_send(ngx_http_request_t *r, ngx_uint_t status,
    json_t *json)
{
    char         *text;
    size_t        len;
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_chain_t   out;

    text = NULL;
    len = 0;

    if (json) {
        text = json_dumps(json, JSON_COMPACT);
        json_decref(json);

        if (text == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        len = ngx_strlen(text);
    }

    b = ngx_create_temp_buf(r->pool, len ? len : 1);
    if (b == NULL) {
        free(text);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (len) {
        b->last = ngx_cpymem(b->last, text, len);
    }

    b->last_buf = (r == r->main);
    b->last_in_chain = 1;

    free(text);

    r->headers_out.status = status;
    r->headers_out.content_length_n = len;

    if (len) {
        ngx_str_set(&r->headers_out.content_type, "application/json");
        r->headers_out.content_type_len = r->headers_out.content_type.len;
    }

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}
