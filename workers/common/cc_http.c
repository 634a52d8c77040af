/*
 * The HTTP side of a worker: libmicrohttpd callbacks that collect a request
 * (body capped at max_body), answer it through the route table, count and
 * log it, and drain in-flight requests at shutdown.
 */

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <microhttpd.h>

#include "cc_http.h"
#include "cc_listen.h"
#include "cc_log.h"
#include "cc_metrics.h"


/* Idle keepalive connections are closed after this; it must exceed the
 * keepalive_timeout of nginx's upstream block so nginx closes first. */
#define CC_HTTP_IDLE_TIMEOUT_S  120

struct cc_http_server {
    cc_http_config_t    cfg;
    char                socket_path[108];
    struct MHD_Daemon  *daemon;
    pthread_mutex_t     lock;
    pthread_cond_t      idle;
    int                 inflight;
    int                 draining;
};

/* One request and its response, from the first callback to completion. */
typedef struct {
    cc_http_server_t   *srv;
    struct timespec     started;
    char                method[16];
    char               *path;
    char                request_id[80];
    char               *body;
    size_t              len;
    size_t              cap;
    int                 too_large;
    int                 status;
} cc_exchange_t;


static double
seconds_since(const struct timespec *t0)
{
    struct timespec  now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double) (now.tv_sec - t0->tv_sec)
           + (double) (now.tv_nsec - t0->tv_nsec) / 1e9;
}


static int
is_draining(cc_http_server_t *srv)
{
    int  d;

    pthread_mutex_lock(&srv->lock);
    d = srv->draining;
    pthread_mutex_unlock(&srv->lock);
    return d;
}


const char *
cc_request_header(const cc_request_t *req, const char *name)
{
    return MHD_lookup_connection_value(req->connection, MHD_HEADER_KIND,
                                       name);
}


const char *
cc_request_param(const cc_request_t *req, const char *name)
{
    return cc_route_param(&req->match, name);
}


int
cc_http_is_json_type(const char *ct)
{
    size_t  n;

    if (ct == NULL) {
        return 0;
    }
    while (*ct == ' ') {
        ct++;
    }
    n = strlen("application/json");
    if (strncasecmp(ct, "application/json", n) != 0) {
        return 0;
    }
    ct += n;
    while (*ct == ' ') {
        ct++;
    }
    return *ct == '\0' || *ct == ';';
}


json_t *
cc_request_object(cc_request_t *req, cc_reply_t *rep)
{
    if (req->json == NULL || !json_is_object(req->json)) {
        cc_reply_error(rep, CC_ERR_INVALID_REQUEST,
                       "the request body must be a JSON object");
        return NULL;
    }
    return req->json;
}


static void
answer_healthz(cc_http_server_t *srv, cc_reply_t *rep)
{
    const char  *status;
    json_t      *answer;
    int          code;

    code = 503;
    if (is_draining(srv)) {
        status = "stopping";
    } else if (srv->cfg.healthy != NULL && !srv->cfg.healthy(srv->cfg.app)) {
        status = "down";
    } else {
        status = "ok";
        code = 200;
    }

    answer = json_pack("{s:s}", "status", status);
    if (answer != NULL && srv->cfg.health_detail != NULL) {
        srv->cfg.health_detail(srv->cfg.health_ctx, answer);
    }
    cc_reply_json(rep, code, answer);
}


static void
answer_metrics(cc_reply_t *rep)
{
    char  *text;

    text = cc_metrics_render();
    if (text == NULL) {
        cc_reply_error(rep, CC_ERR_INTERNAL, "metrics are not available");
        return;
    }
    cc_reply_text(rep, 200, CC_CONTENT_METRICS, text);
    free(text);
}


/* /healthz and /metrics, which every worker answers.  Returns 1 if the
 * request was one of them. */
static int
answer_builtin(cc_http_server_t *srv, cc_request_t *req, cc_reply_t *rep)
{
    int  health;

    health = (strcmp(req->path, "/healthz") == 0);
    if (!health && strcmp(req->path, "/metrics") != 0) {
        return 0;
    }
    if (strcmp(req->method, "GET") != 0) {
        cc_reply_error(rep, CC_ERR_METHOD_NOT_ALLOWED,
                       "this resource only answers GET");
        cc_reply_header(rep, "Allow", "GET");
    } else if (health) {
        answer_healthz(srv, rep);
    } else {
        answer_metrics(rep);
    }
    return 1;
}


static int
method_has_body(const char *method)
{
    return strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0
           || strcmp(method, "PATCH") == 0;
}


/* Content-Type and JSON checks for a body; 0 when the handler may run. */
static int
accept_body(cc_http_server_t *srv, cc_request_t *req, cc_reply_t *rep)
{
    json_error_t  jerr;

    if (req->body_len == 0 || !method_has_body(req->method)) {
        return 0;
    }
    if (!cc_http_is_json_type(cc_request_header(req, "Content-Type"))) {
        cc_reply_error(rep, CC_ERR_UNSUPPORTED_MEDIA_TYPE,
                       "request bodies must be application/json");
        return -1;
    }
    if (cc_request_header(req, "Content-Encoding") != NULL) {
        if (srv->cfg.accept_encoded_bodies) {
            return 0;   /* agents gzip telemetry: the handler decodes it */
        }
        cc_reply_error(rep, CC_ERR_UNSUPPORTED_MEDIA_TYPE,
                       "encoded request bodies are not accepted here");
        return -1;
    }
    req->json = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES,
                           &jerr);
    if (req->json == NULL) {
        cc_reply_error(rep, CC_ERR_MALFORMED_JSON,
                       "the request body is not valid JSON (line %d, "
                       "column %d)", jerr.line, jerr.column);
        return -1;
    }
    return 0;
}


static void
answer_routed(cc_http_server_t *srv, cc_request_t *req, cc_reply_t *rep)
{
    cc_route_result_t  found;

    found = cc_route_find(srv->cfg.routes, srv->cfg.nroutes, req->method,
                          req->path, &req->match);
    if (found == CC_ROUTE_NOT_FOUND) {
        cc_reply_error(rep, CC_ERR_NOT_FOUND, "no such resource");
        return;
    }
    if (found == CC_ROUTE_METHOD_NOT_ALLOWED) {
        cc_reply_error(rep, CC_ERR_METHOD_NOT_ALLOWED,
                       "method not allowed on this resource");
        cc_reply_header(rep, "Allow", req->match.allow);
        return;
    }

    if (cc_identity_set_tenant(&req->identity,
                               cc_request_header(req, "X-CC-Tenant")) != 0)
    {
        cc_reply_error(rep, CC_ERR_INVALID_IDENTITY,
                       "the tenant identity is not a UUID");
        return;
    }
    req->identity.user = cc_request_header(req, "X-CC-User");
    req->identity.roles = cc_request_header(req, "X-CC-Roles");
    req->identity.device = cc_request_header(req, "X-CC-Device");

    if (accept_body(srv, req, rep) != 0) {
        return;
    }

    req->match.route->handler(req, rep);
    if (rep->status == 0) {
        cc_log(CC_LOG_ERROR, "handler for %s %s gave no answer",
               req->method, req->match.route->pattern);
        cc_reply_error(rep, CC_ERR_INTERNAL, "internal error");
    }
}


static enum MHD_Result
send_reply(struct MHD_Connection *conn, cc_exchange_t *ex, cc_reply_t *rep)
{
    struct MHD_Response  *resp;
    enum MHD_Result       rc;
    char                 *body;
    size_t                len;
    int                   i;

    body = cc_reply_body(rep, &len);
    if (body == NULL) {
        return MHD_NO;
    }
    resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (resp == NULL) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type",
                            rep->content_type ? rep->content_type
                                              : CC_CONTENT_JSON);
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    for (i = 0; i < rep->nheaders; i++) {
        MHD_add_response_header(resp, rep->headers[i].name,
                                rep->headers[i].value);
    }
    if (ex->request_id[0] != '\0') {
        MHD_add_response_header(resp, "X-CC-Request-Id", ex->request_id);
    }
    if (is_draining(ex->srv)) {
        /* Tell nginx not to reuse this connection: we are going away. */
        MHD_add_response_header(resp, "Connection", "close");
    }

    ex->status = rep->status;
    rc = MHD_queue_response(conn, (unsigned int) rep->status, resp);
    MHD_destroy_response(resp);
    return rc;
}


static enum MHD_Result
answer(cc_exchange_t *ex, struct MHD_Connection *conn)
{
    cc_http_server_t  *srv = ex->srv;
    cc_request_t       req;
    cc_reply_t         rep;
    enum MHD_Result    rc;

    memset(&req, 0, sizeof(req));
    req.method = ex->method;
    req.path = ex->path;
    req.body = ex->body;
    req.body_len = ex->len;
    req.app = srv->cfg.app;
    req.connection = conn;
    req.identity.request_id = ex->request_id;
    cc_reply_init(&rep);

    if (ex->too_large) {
        cc_reply_error(&rep, CC_ERR_BODY_TOO_LARGE,
                       "the request body exceeds %zu bytes",
                       srv->cfg.max_body);
    } else if (!answer_builtin(srv, &req, &rep)) {
        answer_routed(srv, &req, &rep);
    }

    rc = send_reply(conn, ex, &rep);
    cc_reply_free(&rep);
    json_decref(req.json);
    return rc;
}


/* Keeps body bytes up to max_body; past it only notes that it overflowed,
 * so a huge upload never costs more memory than the limit. */
static void
keep_body(cc_exchange_t *ex, const char *data, size_t size)
{
    size_t   max, want;
    char    *p;

    max = ex->srv->cfg.max_body;
    if (ex->too_large || size > max - ex->len) {
        ex->too_large = 1;
        return;
    }
    if (ex->len + size + 1 > ex->cap) {
        want = ex->cap ? ex->cap * 2 : 4096;
        while (want < ex->len + size + 1) {
            want *= 2;
        }
        if (want > max + 1) {
            want = max + 1;
        }
        p = realloc(ex->body, want);
        if (p == NULL) {
            ex->too_large = 1;
            return;
        }
        ex->body = p;
        ex->cap = want;
    }
    memcpy(ex->body + ex->len, data, size);
    ex->len += size;
    ex->body[ex->len] = '\0';
}


static int
declared_too_large(struct MHD_Connection *conn, size_t max)
{
    const char          *cl;
    char                *end;
    unsigned long long   n;

    cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                     MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl == NULL) {
        return 0;
    }
    errno = 0;
    n = strtoull(cl, &end, 10);
    return errno == 0 && end != cl && n > max;
}


static cc_exchange_t *
exchange_new(cc_http_server_t *srv, struct MHD_Connection *conn,
             const char *url, const char *method)
{
    cc_exchange_t  *ex;
    const char     *rid;

    ex = calloc(1, sizeof(*ex));
    if (ex == NULL) {
        return NULL;
    }
    ex->path = strdup(url);
    if (ex->path == NULL) {
        free(ex);
        return NULL;
    }
    ex->srv = srv;
    clock_gettime(CLOCK_MONOTONIC, &ex->started);
    snprintf(ex->method, sizeof(ex->method), "%s", method);
    rid = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                      "X-CC-Request-Id");
    if (rid != NULL && strlen(rid) < sizeof(ex->request_id)) {
        strcpy(ex->request_id, rid);
    }

    pthread_mutex_lock(&srv->lock);
    srv->inflight++;
    pthread_mutex_unlock(&srv->lock);
    return ex;
}


static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url,
           const char *method, const char *version, const char *upload_data,
           size_t *upload_data_size, void **con_cls)
{
    cc_http_server_t  *srv = cls;
    cc_exchange_t     *ex = *con_cls;

    if (ex == NULL) {
        ex = exchange_new(srv, conn, url, method);
        if (ex == NULL) {
            return MHD_NO;
        }
        *con_cls = ex;
        if (declared_too_large(conn, srv->cfg.max_body)) {
            /* Answered before the body is read; libmicrohttpd then
             * closes the connection instead of reading it. */
            ex->too_large = 1;
            return answer(ex, conn);
        }
        return MHD_YES;
    }

    if (ex->status != 0) {
        /* Already answered (413 from Content-Length): discard the rest. */
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        keep_body(ex, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    return answer(ex, conn);
}


static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
             enum MHD_RequestTerminationCode toe)
{
    cc_http_server_t  *srv = cls;
    cc_exchange_t     *ex = *con_cls;
    double             secs;

    if (ex == NULL) {
        return;
    }
    *con_cls = NULL;

    secs = seconds_since(&ex->started);
    if (ex->status != 0) {
        cc_metrics_observe_request(ex->status, secs);
    }
    /* 499: the client went away before an answer, as nginx logs it. */
    cc_log_request(ex->method, ex->path, ex->status ? ex->status : 499,
                   secs * 1000.0, ex->request_id);

    free(ex->body);
    free(ex->path);
    free(ex);

    pthread_mutex_lock(&srv->lock);
    srv->inflight--;
    pthread_cond_broadcast(&srv->idle);
    pthread_mutex_unlock(&srv->lock);
}


static void
on_mhd_error(void *cls, const char *fmt, va_list ap)
{
    char    msg[512];
    size_t  len;

    vsnprintf(msg, sizeof(msg), fmt, ap);
    len = strlen(msg);
    while (len > 0 && msg[len - 1] == '\n') {
        msg[--len] = '\0';
    }
    cc_log_fields(CC_LOG_WARN, "http server", json_pack("{s:s}", "error",
                                                        msg));
}


cc_http_server_t *
cc_http_start(const cc_http_config_t *cfg)
{
    cc_http_server_t  *srv;
    int                fd;

    if (strlen(cfg->socket_path) >= sizeof(srv->socket_path)) {
        cc_log(CC_LOG_ERROR, "socket path too long");
        return NULL;
    }
    srv = calloc(1, sizeof(*srv));
    if (srv == NULL) {
        return NULL;
    }
    srv->cfg = *cfg;
    strcpy(srv->socket_path, cfg->socket_path);
    pthread_mutex_init(&srv->lock, NULL);
    pthread_cond_init(&srv->idle, NULL);

    fd = cc_listen_unix(srv->socket_path);
    if (fd < 0) {
        cc_log_fields(CC_LOG_ERROR, "cannot listen",
                      json_pack("{s:s,s:s}", "socket", srv->socket_path,
                                "error", strerror(errno)));
        free(srv);
        return NULL;
    }

    srv->daemon = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION
        | MHD_USE_POLL | MHD_USE_ITC | MHD_USE_ERROR_LOG,
        0, NULL, NULL, on_request, srv,
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_error, srv,
        MHD_OPTION_LISTEN_SOCKET, fd,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) CC_HTTP_IDLE_TIMEOUT_S,
        MHD_OPTION_END);
    if (srv->daemon == NULL) {
        cc_log(CC_LOG_ERROR, "cannot start the http server");
        close(fd);
        unlink(srv->socket_path);
        free(srv);
        return NULL;
    }

    cc_log_fields(CC_LOG_INFO, "listening",
                  json_pack("{s:s}", "socket", srv->socket_path));
    return srv;
}


static void
wait_for_inflight(cc_http_server_t *srv, int drain_ms)
{
    struct timespec  deadline;

    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += drain_ms / 1000;
    deadline.tv_nsec += (long) (drain_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }

    pthread_mutex_lock(&srv->lock);
    while (srv->inflight > 0) {
        if (pthread_cond_timedwait(&srv->idle, &srv->lock, &deadline)
            == ETIMEDOUT)
        {
            cc_log(CC_LOG_WARN, "%d requests still running at shutdown",
                   srv->inflight);
            break;
        }
    }
    pthread_mutex_unlock(&srv->lock);
}


void
cc_http_stop(cc_http_server_t *srv, int drain_ms)
{
    MHD_socket  fd;

    if (srv == NULL) {
        return;
    }
    pthread_mutex_lock(&srv->lock);
    srv->draining = 1;
    pthread_mutex_unlock(&srv->lock);

    fd = MHD_quiesce_daemon(srv->daemon);
    if (fd != MHD_INVALID_SOCKET) {
        close(fd);
    }
    unlink(srv->socket_path);

    wait_for_inflight(srv, drain_ms);
    MHD_stop_daemon(srv->daemon);

    pthread_mutex_destroy(&srv->lock);
    pthread_cond_destroy(&srv->idle);
    free(srv);
}
