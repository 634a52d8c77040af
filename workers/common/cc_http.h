/*
 * The HTTP server of a worker: libmicrohttpd on a unix socket that nginx
 * connects to, a route table, request bodies capped at CC_MAX_BODY, JSON
 * requests and replies, the X-CC-* identity headers, and the built-in
 * /healthz and /metrics every worker answers.
 */

#ifndef CC_HTTP_H
#define CC_HTTP_H

#include <stddef.h>
#include <jansson.h>

#include "cc_identity.h"
#include "cc_reply.h"
#include "cc_route.h"

typedef struct cc_http_server cc_http_server_t;

typedef struct cc_request {
    const char         *method;
    const char         *path;       /* without the query string */
    cc_identity_t       identity;
    cc_route_match_t    match;
    const char         *body;       /* NUL-terminated; NULL when empty */
    size_t              body_len;
    json_t             *json;       /* the parsed body, when it is JSON */
    void               *app;        /* cc_http_config_t.app */
    void               *connection; /* for cc_request_header() */
} cc_request_t;

typedef struct cc_http_config {
    const char         *svc;
    const char         *socket_path;
    size_t              max_body;
    const cc_route_t   *routes;
    size_t              nroutes;
    void               *app;
    /* Non-zero: a body with a Content-Encoding reaches the handler as sent
     * (req->json NULL) for it to decode; zero: such a body is 415. */
    int                 accept_encoded_bodies;
    /* Decides /healthz: non-zero = healthy.  NULL = always healthy. */
    int               (*healthy)(void *app);
    /* Adds members to /healthz's answer (may be NULL), with its own context:
     * what a part of the worker wants operators to see. */
    void              (*health_detail)(void *ctx, json_t *answer);
    void               *health_ctx;
} cc_http_config_t;

/*
 * Binds the socket (replacing a stale one, refusing a live one), makes it
 * reachable for nginx and starts serving.  Returns NULL on failure, after
 * logging why.
 */
cc_http_server_t *cc_http_start(const cc_http_config_t *cfg);

/*
 * Stops accepting, lets requests in flight finish (up to drain_ms), then
 * closes every connection and removes the socket.
 */
void cc_http_stop(cc_http_server_t *srv, int drain_ms);

/* A request header by name (case-insensitive), or NULL. */
const char *cc_request_header(const cc_request_t *req, const char *name);

/* A {name} parameter of the matched route, or NULL. */
const char *cc_request_param(const cc_request_t *req, const char *name);

/*
 * The request body as a JSON object.  When it is absent or not an object,
 * answers 422 invalid_request on rep and returns NULL.  (Malformed JSON and
 * a wrong Content-Type are answered before the handler runs.)
 */
json_t *cc_request_object(cc_request_t *req, cc_reply_t *rep);

/* True when a Content-Type header value names application/json. */
int cc_http_is_json_type(const char *content_type);

#endif /* CC_HTTP_H */
