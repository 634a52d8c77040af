/*
 * An HTTPS client for JSON documents served by outside services (Entra's
 * OIDC discovery documents and JWKS), over libcurl: one GET, bounded in
 * time and size, answered with the parsed document or a reason it failed,
 * and when to try again.
 *
 * Only https:// URLs are fetched, redirects are not followed, and the peer
 * is verified against CC_CA_FILE (or the system's bundle).  URLs can carry
 * secrets in their user-info or query string, so errors and logs only ever
 * show cc_fetch_loggable_url().
 *
 * Call curl_global_init() once before any thread runs (libcurl's rule).
 */

#ifndef CC_FETCH_H
#define CC_FETCH_H

#include <stddef.h>

#include <jansson.h>

#define CC_FETCH_URL_MAX  2048

typedef enum {
    CC_FETCH_OK = 0,
    CC_FETCH_BAD_URL,           /* not https://, too long, or malformed */
    CC_FETCH_CONNECT,           /* DNS, connection refused, reset */
    CC_FETCH_TLS,               /* handshake or peer verification */
    CC_FETCH_TIMEOUT,
    CC_FETCH_TOO_LARGE,         /* over max_response */
    CC_FETCH_HTTP_STATUS,       /* an answer other than 200 */
    CC_FETCH_NOT_JSON,          /* 200, but no JSON object */
    CC_FETCH_CANCELLED,         /* *cancel became non-zero */
    CC_FETCH_INTERNAL
} cc_fetch_err_t;

typedef struct cc_fetch_options {
    const char          *ca_file;       /* NULL or "": the system's CAs */
    int                  connect_timeout_ms;
    int                  timeout_ms;    /* the whole exchange */
    size_t               max_response;  /* bytes of body */
    volatile const int  *cancel;        /* may be NULL */
} cc_fetch_options_t;

typedef struct cc_fetch_result {
    cc_fetch_err_t   err;
    long             status;            /* HTTP status; 0 without one */
    int              retryable;         /* worth trying again later */
    long long        retry_after_ms;    /* the server's Retry-After, -1 */
    json_t          *json;              /* on CC_FETCH_OK; caller owns */
} cc_fetch_result_t;

/*
 * GETs url and parses the answer as a JSON object.  Returns 0 with
 * res->json set, or -1 with res->err (and status, retryable,
 * retry_after_ms) saying why.  Only 200 is success; 408, 429 and 5xx
 * answers, timeouts and connection failures are retryable.
 */
int cc_fetch_json(const cc_fetch_options_t *opt, const char *url,
                  cc_fetch_result_t *res);

/*
 * The same GET with "Authorization: Bearer token" (an app-only token for
 * Microsoft Graph, say); the header is wiped from memory afterwards and
 * never logged.
 */
int cc_fetch_json_bearer(const cc_fetch_options_t *opt, const char *url,
                         const char *token, cc_fetch_result_t *res);

/* Releases what a result holds; idempotent. */
void cc_fetch_result_clear(cc_fetch_result_t *res);

/* A short English description of err, for logs. */
const char *cc_fetch_strerror(cc_fetch_err_t err);

/*
 * base + path, with exactly one "/" between them: base may end in "/" and
 * path may start with one.  Returns 0, or -1 when out[len] is too small.
 */
int cc_fetch_join(char *out, size_t len, const char *base, const char *path);

/*
 * What may be logged of url: scheme, host, port and path; the user-info,
 * query string and fragment are dropped.  Always NUL-terminates out
 * (truncating), and writes "(invalid URL)" for what does not parse.
 */
void cc_fetch_loggable_url(const char *url, char *out, size_t len);

/*
 * How long to wait before attempt number failures + 1: base * 2^(failures
 * - 1), capped at max_ms, but never less than retry_after_ms (the
 * server's wish, -1 for none).  failures < 1 counts as 1.
 */
long long cc_fetch_backoff_ms(int failures, long long base_ms,
                              long long max_ms, long long retry_after_ms);

#endif /* CC_FETCH_H */
