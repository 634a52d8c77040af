/*
 * One authenticated GET against Microsoft Graph over libcurl.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "cc_graph.h"
#include "cc_version.h"


typedef struct {
    char    *data;
    size_t   len;
    size_t   max;
    int      too_large;
} graph_body_t;


static size_t
collect_body(char *ptr, size_t size, size_t nmemb, void *arg)
{
    graph_body_t  *b = arg;
    size_t         n;
    char          *p;

    n = size * nmemb;
    if (n > b->max - b->len) {
        b->too_large = 1;
        return 0;
    }
    p = realloc(b->data, b->len + n + 1);
    if (p == NULL) {
        return 0;
    }
    memcpy(p + b->len, ptr, n);
    b->data = p;
    b->len += n;
    b->data[b->len] = '\0';
    return n;
}


static cc_fetch_err_t
error_of(CURLcode rc, const graph_body_t *body)
{
    switch (rc) {
    case CURLE_OK:
        return CC_FETCH_OK;
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
        return CC_FETCH_BAD_URL;
    case CURLE_OPERATION_TIMEDOUT:
        return CC_FETCH_TIMEOUT;
    case CURLE_WRITE_ERROR:
        return body->too_large ? CC_FETCH_TOO_LARGE : CC_FETCH_INTERNAL;
    case CURLE_OUT_OF_MEMORY:
        return CC_FETCH_INTERNAL;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
        return CC_FETCH_TLS;
    default:
        return CC_FETCH_CONNECT;
    }
}


static int
read_answer(CURL *curl, CURLcode rc, const graph_body_t *body,
            cc_fetch_result_t *res)
{
    curl_off_t  retry_after;

    res->err = error_of(rc, body);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &res->status);
    if (res->err != CC_FETCH_OK) {
        res->retryable = res->err == CC_FETCH_CONNECT
                         || res->err == CC_FETCH_TIMEOUT
                         || res->err == CC_FETCH_TLS;
        return -1;
    }
    if (res->status != 200) {
        res->err = CC_FETCH_HTTP_STATUS;
        res->retryable = res->status == 408 || res->status == 429
                         || res->status >= 500;
        if (curl_easy_getinfo(curl, CURLINFO_RETRY_AFTER, &retry_after)
                == CURLE_OK && retry_after > 0)
        {
            res->retry_after_ms = (long long) retry_after * 1000;
        }
        return -1;
    }
    res->json = json_loadb(body->data ? body->data : "", body->len, 0, NULL);
    if (!json_is_object(res->json)) {
        json_decref(res->json);
        res->json = NULL;
        res->err = CC_FETCH_NOT_JSON;
        res->retryable = 1;
        return -1;
    }
    return 0;
}


int
cc_graph_get(const cc_fetch_options_t *opt, const char *url,
             const char *token, cc_fetch_result_t *res)
{
    CURL               *curl;
    CURLcode            rc;
    struct curl_slist  *headers, *h;
    char               *auth;
    size_t              len;
    graph_body_t        body;
    int                 ok;

    memset(res, 0, sizeof(*res));
    res->retry_after_ms = -1;
    if (strncmp(url, "https://", 8) != 0 || strlen(url) >= CC_FETCH_URL_MAX) {
        res->err = CC_FETCH_BAD_URL;
        return -1;
    }

    len = strlen(token) + sizeof("Authorization: Bearer ");
    auth = malloc(len);
    curl = curl_easy_init();
    headers = curl_slist_append(NULL, "Accept: application/json");
    h = NULL;
    if (auth != NULL && headers != NULL) {
        snprintf(auth, len, "Authorization: Bearer %s", token);
        h = curl_slist_append(headers, auth);
    }
    if (curl == NULL || h == NULL) {
        free(auth);
        curl_slist_free_all(headers);
        curl_easy_cleanup(curl);
        res->err = CC_FETCH_INTERNAL;
        return -1;
    }

    memset(&body, 0, sizeof(body));
    body.max = opt->max_response;
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                     (long) opt->connect_timeout_ms);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long) opt->timeout_ms);
    if (opt->ca_file != NULL && opt->ca_file[0] != '\0') {
        curl_easy_setopt(curl, CURLOPT_CAINFO, opt->ca_file);
    }
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "concierge/" CC_VERSION);
    curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);

    rc = curl_easy_perform(curl);
    ok = read_answer(curl, rc, &body, res);

    memset(auth, 0, len);
    free(auth);
    free(body.data);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    return ok;
}
