/*
 * Bounded answer bodies for libcurl clients (cc_curl_body.h).
 */

#include <stdlib.h>
#include <string.h>

#include "cc_curl_body.h"


size_t
cc_curl_body_collect(char *ptr, size_t size, size_t nmemb, void *arg)
{
    cc_curl_body_t  *b = arg;
    size_t           n, cap;
    char            *p;

    n = size * nmemb;
    if (n > b->max - b->len) {
        b->too_large = 1;
        return 0;       /* makes curl fail with CURLE_WRITE_ERROR */
    }
    if (b->len + n + 1 > b->cap) {
        cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1) {
            cap *= 2;
        }
        p = realloc(b->data, cap);
        if (p == NULL) {
            return 0;
        }
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->len, ptr, n);
    b->len += n;
    b->data[b->len] = '\0';
    return n;
}


int
cc_curl_body_check_cancel(void *arg, curl_off_t dltotal, curl_off_t dlnow,
                          curl_off_t ultotal, curl_off_t ulnow)
{
    cc_curl_body_t  *b = arg;

    return (b->cancel != NULL && *b->cancel) ? 1 : 0;
}


size_t
cc_curl_discard(char *ptr, size_t size, size_t nmemb, void *unused)
{
    return size * nmemb;
}
