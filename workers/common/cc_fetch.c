/*
 * Fetching JSON documents over HTTPS with libcurl, bounded in time and
 * size, with the server's Retry-After handed back to the caller.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "cc_curl_body.h"
#include "cc_fetch.h"
#include "cc_version.h"


static int
is_https(const char *url)
{
    return strncmp(url, "https://", 8) == 0 && url[8] != '\0'
           && strlen(url) < CC_FETCH_URL_MAX;
}


static void
set_options(CURL *curl, const cc_fetch_options_t *opt, const char *url,
            cc_curl_body_t *body, struct curl_slist *headers)
{
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                     (long) opt->connect_timeout_ms);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long) opt->timeout_ms);
    curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE,
                     (curl_off_t) opt->max_response);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
    if (opt->ca_file != NULL && opt->ca_file[0] != '\0') {
        curl_easy_setopt(curl, CURLOPT_CAINFO, opt->ca_file);
    }
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "concierge/" CC_VERSION);
    curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, cc_curl_body_collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, body);
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, cc_curl_body_check_cancel);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, body);
}


static cc_fetch_err_t
error_of(CURLcode rc, const cc_curl_body_t *body)
{
    switch (rc) {
    case CURLE_OK:
        return CC_FETCH_OK;
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
        return CC_FETCH_BAD_URL;
    case CURLE_OPERATION_TIMEDOUT:
        return CC_FETCH_TIMEOUT;
    case CURLE_FILESIZE_EXCEEDED:
        return CC_FETCH_TOO_LARGE;
    case CURLE_WRITE_ERROR:
        return body->too_large ? CC_FETCH_TOO_LARGE : CC_FETCH_INTERNAL;
    case CURLE_ABORTED_BY_CALLBACK:
        return CC_FETCH_CANCELLED;
    case CURLE_OUT_OF_MEMORY:
        return CC_FETCH_INTERNAL;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
        return CC_FETCH_TLS;
    default:
        return CC_FETCH_CONNECT;
    }
}


static int
status_is_retryable(long status)
{
    return status == 408 || status == 429 || status >= 500;
}


/* Fills res from a finished exchange; returns 0 on success. */
static int
read_answer(CURL *curl, CURLcode rc, cc_curl_body_t *body,
            cc_fetch_result_t *res)
{
    curl_off_t    retry_after;
    json_error_t  jerr;

    res->err = error_of(rc, body);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &res->status);
    if (res->err != CC_FETCH_OK) {
        res->retryable = (res->err == CC_FETCH_CONNECT
                          || res->err == CC_FETCH_TIMEOUT
                          || res->err == CC_FETCH_TLS);
        return -1;
    }

    if (res->status != 200) {
        res->err = CC_FETCH_HTTP_STATUS;
        res->retryable = status_is_retryable(res->status);
        if (curl_easy_getinfo(curl, CURLINFO_RETRY_AFTER, &retry_after)
                == CURLE_OK
            && retry_after > 0)
        {
            res->retry_after_ms = (long long) retry_after * 1000;
        }
        return -1;
    }

    res->json = json_loadb(body->data ? body->data : "", body->len,
                           JSON_REJECT_DUPLICATES, &jerr);
    if (res->json == NULL || !json_is_object(res->json)) {
        json_decref(res->json);
        res->json = NULL;
        res->err = CC_FETCH_NOT_JSON;
        /* A proxy's error page in place of the document: try later. */
        res->retryable = 1;
        return -1;
    }
    return 0;
}


/* The GET both entry points make; token NULL sends no Authorization. */
static int
fetch_json(const cc_fetch_options_t *opt, const char *url, const char *token,
           cc_fetch_result_t *res)
{
    CURL               *curl;
    CURLcode            rc;
    struct curl_slist  *headers, *h;
    cc_curl_body_t        body;
    char               *auth;
    size_t              len;
    int                 ok;

    memset(res, 0, sizeof(*res));
    res->retry_after_ms = -1;
    if (url == NULL || !is_https(url)) {
        res->err = CC_FETCH_BAD_URL;
        return -1;
    }

    auth = NULL;
    len = 0;
    curl = curl_easy_init();
    headers = curl_slist_append(NULL, "Accept: application/json");
    h = headers;
    if (token != NULL && headers != NULL) {
        len = strlen(token) + sizeof("Authorization: Bearer ");
        auth = malloc(len);
        h = NULL;
        if (auth != NULL) {
            snprintf(auth, len, "Authorization: Bearer %s", token);
            h = curl_slist_append(headers, auth);
        }
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
    body.cancel = opt->cancel;
    set_options(curl, opt, url, &body, headers);

    rc = curl_easy_perform(curl);
    ok = read_answer(curl, rc, &body, res);

    if (auth != NULL) {
        OPENSSL_cleanse(auth, len);     /* the token is a secret */
        free(auth);
    }
    free(body.data);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    return ok;
}


int
cc_fetch_json(const cc_fetch_options_t *opt, const char *url,
              cc_fetch_result_t *res)
{
    return fetch_json(opt, url, NULL, res);
}


int
cc_fetch_json_bearer(const cc_fetch_options_t *opt, const char *url,
                     const char *token, cc_fetch_result_t *res)
{
    return fetch_json(opt, url, token, res);
}


void
cc_fetch_result_clear(cc_fetch_result_t *res)
{
    json_decref(res->json);
    res->json = NULL;
}


const char *
cc_fetch_strerror(cc_fetch_err_t err)
{
    switch (err) {
    case CC_FETCH_OK:          return "ok";
    case CC_FETCH_BAD_URL:     return "not an https URL";
    case CC_FETCH_CONNECT:     return "could not connect";
    case CC_FETCH_TLS:         return "TLS handshake or verification failed";
    case CC_FETCH_TIMEOUT:     return "timed out";
    case CC_FETCH_TOO_LARGE:   return "answer too large";
    case CC_FETCH_HTTP_STATUS: return "unexpected HTTP status";
    case CC_FETCH_NOT_JSON:    return "answer is not a JSON object";
    case CC_FETCH_CANCELLED:   return "cancelled";
    case CC_FETCH_INTERNAL:    return "internal error";
    }
    return "unknown error";
}


int
cc_fetch_join(char *out, size_t len, const char *base, const char *path)
{
    size_t  blen;
    int     n;

    blen = strlen(base);
    while (blen > 0 && base[blen - 1] == '/') {
        blen--;
    }
    while (*path == '/') {
        path++;
    }
    if (blen > (size_t) 0x7fffffff) {
        return -1;
    }
    n = snprintf(out, len, "%.*s/%s", (int) blen, base, path);
    return (n < 0 || (size_t) n >= len) ? -1 : 0;
}


void
cc_fetch_loggable_url(const char *url, char *out, size_t len)
{
    CURLU  *u;
    char   *text;

    if (len == 0) {
        return;
    }
    snprintf(out, len, "(invalid URL)");

    u = curl_url();
    if (u == NULL) {
        return;
    }
    text = NULL;
    if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK
        && curl_url_set(u, CURLUPART_USER, NULL, 0) == CURLUE_OK
        && curl_url_set(u, CURLUPART_PASSWORD, NULL, 0) == CURLUE_OK
        && curl_url_set(u, CURLUPART_OPTIONS, NULL, 0) == CURLUE_OK
        && curl_url_set(u, CURLUPART_QUERY, NULL, 0) == CURLUE_OK
        && curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0) == CURLUE_OK
        && curl_url_get(u, CURLUPART_URL, &text, 0) == CURLUE_OK)
    {
        snprintf(out, len, "%s", text);
    }
    curl_free(text);
    curl_url_cleanup(u);
}


long long
cc_fetch_backoff_ms(int failures, long long base_ms, long long max_ms,
                    long long retry_after_ms)
{
    long long  delay;
    int        i;

    delay = base_ms > 0 ? base_ms : 0;
    for (i = 1; i < failures && delay > 0 && delay < max_ms; i++) {
        delay *= 2;
    }
    if (delay > max_ms) {
        delay = max_ms;
    }
    if (retry_after_ms > delay) {
        delay = retry_after_ms;
    }
    return delay;
}
