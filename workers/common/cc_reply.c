/*
 * Handler replies and the uniform error shape, kept apart from the HTTP
 * library so handlers and tests never touch libmicrohttpd.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cc_reply.h"


static const struct {
    int          status;
    const char  *code;
} cc_errors[CC_ERR_COUNT] = {
    [CC_ERR_NOT_FOUND]              = { 404, "not_found" },
    [CC_ERR_METHOD_NOT_ALLOWED]     = { 405, "method_not_allowed" },
    [CC_ERR_MALFORMED_JSON]         = { 400, "malformed_json" },
    [CC_ERR_INVALID_REQUEST]        = { 422, "invalid_request" },
    [CC_ERR_INVALID_IDENTITY]       = { 400, "invalid_identity" },
    [CC_ERR_FORBIDDEN]              = { 403, "forbidden" },
    [CC_ERR_BODY_TOO_LARGE]         = { 413, "body_too_large" },
    [CC_ERR_UNSUPPORTED_MEDIA_TYPE] = { 415, "unsupported_media_type" },
    [CC_ERR_INTERNAL]               = { 500, "internal_error" },
    [CC_ERR_UNAVAILABLE]            = { 503, "unavailable" },
};


void
cc_reply_init(cc_reply_t *rep)
{
    memset(rep, 0, sizeof(*rep));
}


static void
clear_body(cc_reply_t *rep)
{
    json_decref(rep->json);
    rep->json = NULL;
    free(rep->text);
    rep->text = NULL;
}


void
cc_reply_free(cc_reply_t *rep)
{
    int  i;

    clear_body(rep);
    for (i = 0; i < rep->nheaders; i++) {
        free(rep->headers[i].value);
    }
    rep->nheaders = 0;
}


void
cc_reply_json(cc_reply_t *rep, int status, json_t *body)
{
    clear_body(rep);
    rep->status = status;
    rep->json = body;
    rep->content_type = CC_CONTENT_JSON;
}


void
cc_reply_text(cc_reply_t *rep, int status, const char *type,
              const char *text)
{
    clear_body(rep);
    rep->status = status;
    rep->text = strdup(text);
    rep->content_type = type;
}


int
cc_error_status(cc_error_t err)
{
    return (err < CC_ERR_COUNT) ? cc_errors[err].status : 500;
}


const char *
cc_error_code(cc_error_t err)
{
    return (err < CC_ERR_COUNT) ? cc_errors[err].code : "internal_error";
}


json_t *
cc_error_body(cc_error_t err, const char *message)
{
    json_t  *m;

    m = json_string(message);
    if (m == NULL) {
        m = json_string("error");
    }
    return json_pack("{s:{s:s,s:o}}", "error", "code", cc_error_code(err),
                     "message", m);
}


void
cc_reply_error(cc_reply_t *rep, cc_error_t err, const char *fmt, ...)
{
    va_list  ap;
    char     msg[512];

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    cc_reply_json(rep, cc_error_status(err), cc_error_body(err, msg));
}


int
cc_reply_header(cc_reply_t *rep, const char *name, const char *value)
{
    char  *copy;

    if (rep->nheaders == CC_REPLY_MAX_HEADERS) {
        return -1;
    }
    copy = strdup(value);
    if (copy == NULL) {
        return -1;
    }
    rep->headers[rep->nheaders].name = name;
    rep->headers[rep->nheaders].value = copy;
    rep->nheaders++;
    return 0;
}


char *
cc_reply_body(const cc_reply_t *rep, size_t *len)
{
    char  *out;

    if (rep->json != NULL) {
        out = json_dumps(rep->json, JSON_COMPACT | JSON_PRESERVE_ORDER
                                    | JSON_REAL_PRECISION(10));
    } else {
        out = strdup(rep->text ? rep->text : "");
    }
    *len = out ? strlen(out) : 0;
    return out;
}
