/*
 * What libcurl clients do with an answer's body: keep it, up to a bound,
 * in one growing NUL-terminated buffer (and stop when the caller asks),
 * or throw it away.  Shared by every client in workers/ (cc_fetch,
 * cc_nginx, cc_entra_token, and the ones that only need a status).
 */

#ifndef CC_CURL_BODY_H
#define CC_CURL_BODY_H

#include <stddef.h>

#include <curl/curl.h>

typedef struct cc_curl_body {
    char                *data;      /* NUL-terminated; NULL before a byte */
    size_t               len;
    size_t               cap;
    size_t               max;       /* bytes kept at most */
    int                  too_large; /* the body was longer than max */
    volatile const int  *cancel;    /* may be NULL; non-zero stops */
} cc_curl_body_t;

/*
 * CURLOPT_WRITEFUNCTION with CURLOPT_WRITEDATA a cc_curl_body_t: appends,
 * or refuses (too_large set, CURLE_WRITE_ERROR for the transfer) a body
 * longer than max.
 */
size_t cc_curl_body_collect(char *ptr, size_t size, size_t nmemb, void *body);

/*
 * CURLOPT_XFERINFOFUNCTION with CURLOPT_XFERINFODATA the same body (and
 * CURLOPT_NOPROGRESS 0): aborts the transfer once *cancel is non-zero.
 */
int cc_curl_body_check_cancel(void *body, curl_off_t dltotal,
                              curl_off_t dlnow, curl_off_t ultotal,
                              curl_off_t ulnow);

/* CURLOPT_WRITEFUNCTION for answers only the status of matters. */
size_t cc_curl_discard(char *ptr, size_t size, size_t nmemb, void *unused);

#endif /* CC_CURL_BODY_H */
