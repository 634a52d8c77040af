/*
 * A client for nginx's registry control API (the cc_registry_api location
 * of ngx_http_cc_registry_module) over the unix socket of nginx's control
 * server: JSON in, JSON out, one request at a time on a kept-alive
 * connection.
 *
 * One client belongs to one thread.  Call curl_global_init() once before
 * any thread runs (libcurl's rule).
 */

#ifndef CC_NGINX_H
#define CC_NGINX_H

#include <stddef.h>

#include <jansson.h>

/* Room for the longest path we build: a collection and two escaped ids. */
#define CC_NGINX_PATH_MAX  1024

/* The largest answer read; GET /registry/... lists can be long. */
#define CC_NGINX_MAX_ANSWER  (64 * 1024 * 1024)

typedef struct cc_nginx cc_nginx_t;

typedef struct cc_nginx_answer {
    long     status;        /* HTTP status; 0 when nginx was not reached */
    json_t  *json;          /* the body when it is JSON, else NULL */
    char     error[128];    /* when not 2xx: nginx's error.code, or what
                               went wrong on the way ("connect failed") */
} cc_nginx_answer_t;

/* A client for the socket at socket_path; NULL when out of memory.
 * Requests give up after timeout_ms, or as soon as *cancel is non-zero
 * (cancel may be NULL). */
cc_nginx_t *cc_nginx_create(const char *socket_path, int timeout_ms,
                            volatile const int *cancel);

void cc_nginx_destroy(cc_nginx_t *ngx);

/*
 * Sends METHOD path with body (a JSON value, or NULL for none) and reads
 * the answer into ans (release it with cc_nginx_answer_clear).  Returns 0
 * for a 2xx answer, -1 otherwise (ans says why).
 */
int cc_nginx_request(cc_nginx_t *ngx, const char *method, const char *path,
                     const json_t *body, cc_nginx_answer_t *ans);

void cc_nginx_answer_clear(cc_nginx_answer_t *ans);

/*
 * Builds "/registry/{collection}/{id}" or, with id2, ".../{id}/{id2}", the
 * ids percent-encoded (a kid is the issuer's choice of characters).
 * Returns 0, or -1 when it does not fit in out[len].
 */
int cc_nginx_entry_path(char *out, size_t len, const char *collection,
                        const char *id, const char *id2);

#endif /* CC_NGINX_H */
