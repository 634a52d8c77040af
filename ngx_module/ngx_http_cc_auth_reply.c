
/*
 * Concierge: how the auth module says no.  Every refusal is JSON (agents
 * read an HTML 401/403 as "endpoint unavailable"): 401 with an RFC 6750
 * challenge for tokens, 401 for sessions and certificates, 403 for a
 * caller who is known but may not pass, and the agent protocol's 200
 * "deviceBlocked" answer for a blocked device.  Bodies and logs carry
 * only stable reason codes and tenant ids, never credentials or names.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_cc_auth.h"


#define NGX_HTTP_CC_AUTH_GONE  410


typedef struct {
    const char                   *code;
    const char                   *message;
} ngx_http_cc_auth_forbidden_t;


static ngx_uint_t ngx_http_cc_auth_status(ngx_http_cc_auth_loc_conf_t *alcf,
    ngx_http_cc_auth_ctx_t *ctx);
static ngx_int_t ngx_http_cc_auth_reply_body(ngx_http_request_t *r,
    ngx_http_cc_auth_loc_conf_t *alcf, ngx_http_cc_auth_ctx_t *ctx,
    ngx_str_t *body);
static const char *ngx_http_cc_auth_error_class(
    ngx_http_cc_auth_loc_conf_t *alcf, ngx_http_cc_auth_ctx_t *ctx);
static const char *ngx_http_cc_auth_message(ngx_http_cc_auth_ctx_t *ctx);
static ngx_int_t ngx_http_cc_auth_blocked_body(ngx_http_request_t *r,
    ngx_http_cc_auth_ctx_t *ctx, ngx_str_t *body);
static ngx_int_t ngx_http_cc_auth_challenge(ngx_http_request_t *r,
    ngx_http_cc_auth_loc_conf_t *alcf, ngx_http_cc_auth_ctx_t *ctx);
static ngx_int_t ngx_http_cc_auth_add_header(ngx_http_request_t *r,
    char *name, ngx_str_t *value);
static ngx_int_t ngx_http_cc_auth_send(ngx_http_request_t *r,
    ngx_uint_t status, ngx_str_t *body);


static ngx_http_cc_auth_forbidden_t  ngx_http_cc_auth_forbidden[] = {
    { "tenant_unknown", "This organisation is not onboarded yet" },
    { "tenant_suspended", "This organisation is suspended" },
    { "tenant_offboarding", "This organisation is leaving the platform" },
    { "tenant_offboarded", "This organisation has left the platform" },
    { "tenant_mismatch",
      "The tenant named by the request is not the device's tenant" },
    { "bootstrap_disabled",
      "This organisation does not accept bootstrap tokens" },
    { "bad_origin",
      "A change made with a session cookie must come from the"
      " application's own origin" },
    { NULL, NULL }
};


void
ngx_http_cc_auth_refuse(ngx_http_cc_auth_ctx_t *ctx, ngx_uint_t refusal,
    const char *error)
{
    ctx->refusal = refusal;
    ctx->error = error;
}


/*
 * Sends the whole answer and returns what the content phase would: the
 * caller finalizes the request with it.
 */

ngx_int_t
ngx_http_cc_auth_reply(ngx_http_request_t *r,
    ngx_http_cc_auth_loc_conf_t *alcf, ngx_http_cc_auth_ctx_t *ctx)
{
    ngx_int_t   rc;
    ngx_str_t   body;
    ngx_uint_t  status;

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "cc auth: refused: %s%s%V", ctx->error,
                  ctx->tenant_id.len ? ", tenant " : "", &ctx->tenant_id);

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    if (ctx->refusal == NGX_HTTP_CC_AUTH_DEVICE_BLOCKED) {
        status = NGX_HTTP_OK;
        rc = ngx_http_cc_auth_blocked_body(r, ctx, &body);

    } else {
        status = ngx_http_cc_auth_status(alcf, ctx);
        rc = ngx_http_cc_auth_reply_body(r, alcf, ctx, &body);
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (status == NGX_HTTP_UNAUTHORIZED
        && ngx_http_cc_auth_challenge(r, alcf, ctx) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_cc_auth_send(r, status, &body);
}


/*
 * A tenant that is leaving or has left is gone (410), as the tenant module
 * says too; agents hear 403 instead, since any other 4xx stalls their
 * upload queue.
 */

static ngx_uint_t
ngx_http_cc_auth_status(ngx_http_cc_auth_loc_conf_t *alcf,
    ngx_http_cc_auth_ctx_t *ctx)
{
    if (ctx->refusal != NGX_HTTP_CC_AUTH_FORBIDDEN) {
        return NGX_HTTP_UNAUTHORIZED;
    }

    if (alcf->mode != NGX_HTTP_CC_AUTH_DEVICE
        && (ngx_strcmp(ctx->error, "tenant_offboarding") == 0
            || ngx_strcmp(ctx->error, "tenant_offboarded") == 0))
    {
        return NGX_HTTP_CC_AUTH_GONE;
    }

    return NGX_HTTP_FORBIDDEN;
}


/*
 * {"error":{"code":..,"message":..}}; where devices authenticate, the
 * agent protocol's "success" and "message" members come first.
 */

static ngx_int_t
ngx_http_cc_auth_reply_body(ngx_http_request_t *r,
    ngx_http_cc_auth_loc_conf_t *alcf, ngx_http_cc_auth_ctx_t *ctx,
    ngx_str_t *body)
{
    size_t       len;
    u_char      *p, *message;
    const char  *code, *text;

    code = ngx_http_cc_auth_error_class(alcf, ctx);
    text = ngx_http_cc_auth_message(ctx);

    /* a 401's message ends with the reason, e.g. "... refused (expired)." */
    len = ngx_strlen(text) + ngx_strlen(ctx->error) + sizeof(" ().");

    message = ngx_pnalloc(r->pool, len);
    if (message == NULL) {
        return NGX_ERROR;
    }

    if (ctx->refusal == NGX_HTTP_CC_AUTH_FORBIDDEN) {
        p = ngx_sprintf(message, "%s.%Z", text);
    } else {
        p = ngx_sprintf(message, "%s (%s).%Z", text, ctx->error);
    }

    len = sizeof("{\"success\":false,\"message\":\"\","
                 "\"error\":{\"code\":\"\",\"message\":\"\"}}\n")
          + ngx_strlen(code) + 2 * (p - message);

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    body->data = p;

    if (alcf->mode == NGX_HTTP_CC_AUTH_DEVICE) {
        p = ngx_sprintf(p, "{\"success\":false,\"message\":\"%s\",",
                        message);
    } else {
        *p++ = '{';
    }

    p = ngx_sprintf(p, "\"error\":{\"code\":\"%s\",\"message\":\"%s\"}}\n",
                    code, message);

    body->len = p - body->data;

    return NGX_OK;
}


/* The body's error code: the class of the refusal, or a 403's reason. */

static const char *
ngx_http_cc_auth_error_class(ngx_http_cc_auth_loc_conf_t *alcf,
    ngx_http_cc_auth_ctx_t *ctx)
{
    switch (ctx->refusal) {

    case NGX_HTTP_CC_AUTH_FORBIDDEN:
        return ctx->error;

    case NGX_HTTP_CC_AUTH_BAD_SESSION:
        return "invalid_session";

    case NGX_HTTP_CC_AUTH_BAD_CERTIFICATE:
        return "invalid_certificate";

    case NGX_HTTP_CC_AUTH_BAD_BOOTSTRAP:
        return "invalid_bootstrap_token";

    case NGX_HTTP_CC_AUTH_NO_CREDENTIALS:
        if (alcf->mode == NGX_HTTP_CC_AUTH_COOKIE) {
            return "invalid_session";
        }

        if (alcf->mode == NGX_HTTP_CC_AUTH_DEVICE) {
            return "invalid_certificate";
        }

        return "invalid_token";

    default:
        return "invalid_token";
    }
}


/*
 * Messages are fixed text; the variable part is at most the stable reason
 * code, so nothing here needs JSON escaping.
 */

static const char *
ngx_http_cc_auth_message(ngx_http_cc_auth_ctx_t *ctx)
{
    ngx_http_cc_auth_forbidden_t  *f;

    switch (ctx->refusal) {

    case NGX_HTTP_CC_AUTH_NO_CREDENTIALS:
        return "Authentication is required";

    case NGX_HTTP_CC_AUTH_BAD_TOKEN:
        return "The access token was refused";

    case NGX_HTTP_CC_AUTH_BAD_SESSION:
        return "The session was refused, sign in again";

    case NGX_HTTP_CC_AUTH_BAD_CERTIFICATE:
        return "The device certificate was refused";

    case NGX_HTTP_CC_AUTH_BAD_BOOTSTRAP:
        return "The bootstrap token was refused";

    default:
        break;
    }

    for (f = ngx_http_cc_auth_forbidden; f->code; f++) {
        if (ngx_strcmp(f->code, ctx->error) == 0) {
            return f->message;
        }
    }

    return "Access is not allowed";
}


/*
 * The agent counts a 200 as delivered and pauses its uploads until
 * unblockAt (ISO-8601 UTC), or until it restarts when there is none.
 */

static ngx_int_t
ngx_http_cc_auth_blocked_body(ngx_http_request_t *r,
    ngx_http_cc_auth_ctx_t *ctx, ngx_str_t *body)
{
    u_char    *p;
    ngx_tm_t   tm;

    p = ngx_pnalloc(r->pool, 256);
    if (p == NULL) {
        return NGX_ERROR;
    }

    body->data = p;

    p = ngx_cpymem(p, "{\"success\":false,\"deviceBlocked\":true,"
                   "\"deviceKillSignal\":false,",
                   sizeof("{\"success\":false,\"deviceBlocked\":true,"
                          "\"deviceKillSignal\":false,") - 1);

    if (ctx->unblock_at > 0) {
        ngx_gmtime(ctx->unblock_at, &tm);
        p = ngx_sprintf(p, "\"unblockAt\":\"%4d-%02d-%02dT%02d:%02d:%02dZ\",",
                        tm.ngx_tm_year, tm.ngx_tm_mon, tm.ngx_tm_mday,
                        tm.ngx_tm_hour, tm.ngx_tm_min, tm.ngx_tm_sec);
    }

    p = ngx_sprintf(p, "\"message\":\"This device is blocked.\"}\n");

    body->len = p - body->data;

    return NGX_OK;
}


/*
 * RFC 6750 section 3: no error attribute when no token was sent, else
 * invalid_token with the reason.  Only where bearer tokens are accepted.
 */

static ngx_int_t
ngx_http_cc_auth_challenge(ngx_http_request_t *r,
    ngx_http_cc_auth_loc_conf_t *alcf, ngx_http_cc_auth_ctx_t *ctx)
{
    u_char     *p;
    ngx_str_t   value;

    if (alcf->mode != NGX_HTTP_CC_AUTH_BEARER
        && alcf->mode != NGX_HTTP_CC_AUTH_BEARER_OR_COOKIE)
    {
        return NGX_OK;
    }

    if (ctx->refusal != NGX_HTTP_CC_AUTH_BAD_TOKEN) {
        ngx_str_set(&value, "Bearer");
        return ngx_http_cc_auth_add_header(r, "WWW-Authenticate", &value);
    }

    value.len = sizeof("Bearer error=\"invalid_token\", "
                       "error_description=\"\"") - 1
                + ngx_strlen(ctx->error);

    p = ngx_pnalloc(r->pool, value.len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    value.data = p;
    ngx_sprintf(p, "Bearer error=\"invalid_token\", error_description=\"%s\"",
                ctx->error);

    return ngx_http_cc_auth_add_header(r, "WWW-Authenticate", &value);
}


static ngx_int_t
ngx_http_cc_auth_add_header(ngx_http_request_t *r, char *name,
    ngx_str_t *value)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    h->key.len = ngx_strlen(name);
    h->key.data = (u_char *) name;
    h->value = *value;

    return NGX_OK;
}


static ngx_int_t
ngx_http_cc_auth_send(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *body)
{
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_str_t     no_store;
    ngx_chain_t   out;

    ngx_str_set(&no_store, "no-store");

    if (ngx_http_cc_auth_add_header(r, "Cache-Control", &no_store)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->headers_out.status = status;
    r->headers_out.content_length_n = body->len;
    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->pos = body->data;
    b->last = body->data + body->len;
    b->memory = 1;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}
