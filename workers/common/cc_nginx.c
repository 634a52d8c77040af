/*
 * Requests to nginx's registry control API over its unix socket, with
 * libcurl keeping the connection alive between them.
 */

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "cc_curl_body.h"
#include "cc_nginx.h"
#include "cc_version.h"


struct cc_nginx {
    CURL                *curl;
    char                *socket_path;
    int                  timeout_ms;
    volatile const int  *cancel;
};

cc_nginx_t *
cc_nginx_create(const char *socket_path, int timeout_ms,
                volatile const int *cancel)
{
    cc_nginx_t  *ngx;

    ngx = calloc(1, sizeof(*ngx));
    if (ngx == NULL) {
        return NULL;
    }
    ngx->curl = curl_easy_init();
    ngx->socket_path = strdup(socket_path);
    if (ngx->curl == NULL || ngx->socket_path == NULL) {
        cc_nginx_destroy(ngx);
        return NULL;
    }
    ngx->timeout_ms = timeout_ms;
    ngx->cancel = cancel;
    return ngx;
}


void
cc_nginx_destroy(cc_nginx_t *ngx)
{
    if (ngx == NULL) {
        return;
    }
    if (ngx->curl != NULL) {
        curl_easy_cleanup(ngx->curl);
    }
    free(ngx->socket_path);
    free(ngx);
}


/* Sets up the handle for one request; the connection itself survives
 * curl_easy_reset(), so it is reused while nginx keeps it open. */
static void
set_options(cc_nginx_t *ngx, const char *method, const char *url,
            const char *payload, struct curl_slist *headers,
            cc_curl_body_t *answer)
{
    CURL  *curl = ngx->curl;

    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH, ngx->socket_path);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http");
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long) ngx->timeout_ms);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, (long) ngx->timeout_ms);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "cc-worker/" CC_VERSION);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    if (payload != NULL) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, payload);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t) strlen(payload));
    }
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, cc_curl_body_collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, answer);
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, cc_curl_body_check_cancel);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, answer);
}


static void
describe_failure(CURLcode rc, const cc_curl_body_t *body,
                 cc_nginx_answer_t *ans)
{
    const char  *what;

    switch (rc) {
    case CURLE_COULDNT_CONNECT:
        what = "connect failed";
        break;
    case CURLE_OPERATION_TIMEDOUT:
        what = "timed out";
        break;
    case CURLE_ABORTED_BY_CALLBACK:
        what = "cancelled";
        break;
    case CURLE_WRITE_ERROR:
        what = body->too_large ? "answer too large" : "out of memory";
        break;
    default:
        what = "transfer failed";
        break;
    }
    snprintf(ans->error, sizeof(ans->error), "%s", what);
}


/* nginx's {"error":{"code":...}} into ans->error, when there is one. */
static void
take_error_code(cc_nginx_answer_t *ans)
{
    json_t      *error;
    const char  *code;

    error = json_object_get(ans->json, "error");
    code = json_string_value(json_object_get(error, "code"));
    snprintf(ans->error, sizeof(ans->error), "%s",
             code ? code : "unexpected status");
}


static void
read_answer(cc_nginx_t *ngx, cc_curl_body_t *body, cc_nginx_answer_t *ans)
{
    curl_easy_getinfo(ngx->curl, CURLINFO_RESPONSE_CODE, &ans->status);
    if (body->len > 0) {
        ans->json = json_loadb(body->data, body->len, 0, NULL);
    }
    if (ans->status < 200 || ans->status > 299) {
        take_error_code(ans);
    }
}


/* "Expect:" stops curl from waiting for 100 Continue on large bodies. */
static struct curl_slist *
build_headers(int with_body)
{
    static const char  *lines[] = {
        "Accept: application/json",
        "Expect:",
        "Content-Type: application/json",
    };
    struct curl_slist  *headers, *more;
    size_t              i, n;

    headers = NULL;
    n = with_body ? 3 : 2;
    for (i = 0; i < n; i++) {
        more = curl_slist_append(headers, lines[i]);
        if (more == NULL) {
            curl_slist_free_all(headers);
            return NULL;
        }
        headers = more;
    }
    return headers;
}


int
cc_nginx_request(cc_nginx_t *ngx, const char *method, const char *path,
                 const json_t *body, cc_nginx_answer_t *ans)
{
    struct curl_slist  *headers;
    cc_curl_body_t        answer;
    CURLcode            rc;
    char                url[CC_NGINX_PATH_MAX + 32];
    char               *payload;

    memset(ans, 0, sizeof(*ans));
    memset(&answer, 0, sizeof(answer));
    answer.max = CC_NGINX_MAX_ANSWER;
    answer.cancel = ngx->cancel;
    snprintf(url, sizeof(url), "http://localhost%s", path);

    payload = NULL;
    if (body != NULL) {
        payload = json_dumps(body, JSON_COMPACT);
        if (payload == NULL) {
            snprintf(ans->error, sizeof(ans->error), "out of memory");
            return -1;
        }
    }

    headers = build_headers(payload != NULL);
    if (headers == NULL) {
        free(payload);
        snprintf(ans->error, sizeof(ans->error), "out of memory");
        return -1;
    }

    set_options(ngx, method, url, payload, headers, &answer);
    rc = curl_easy_perform(ngx->curl);
    if (rc == CURLE_OK) {
        read_answer(ngx, &answer, ans);
    } else {
        describe_failure(rc, &answer, ans);
    }

    free(answer.data);
    free(payload);
    curl_slist_free_all(headers);
    return (ans->status >= 200 && ans->status <= 299) ? 0 : -1;
}


void
cc_nginx_answer_clear(cc_nginx_answer_t *ans)
{
    json_decref(ans->json);
    ans->json = NULL;
}


/* Appends s percent-encoded (all but RFC 3986's unreserved characters). */
static int
append_escaped(char *out, size_t len, size_t *pos, const char *s)
{
    static const char  hex[] = "0123456789ABCDEF";
    unsigned char      c;

    for (; *s != '\0'; s++) {
        c = (unsigned char) *s;
        if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
            if (*pos + 1 >= len) {
                return -1;
            }
            out[(*pos)++] = (char) c;
            continue;
        }
        if (*pos + 3 >= len) {
            return -1;
        }
        out[(*pos)++] = '%';
        out[(*pos)++] = hex[c >> 4];
        out[(*pos)++] = hex[c & 0x0f];
    }
    out[*pos] = '\0';
    return 0;
}


int
cc_nginx_entry_path(char *out, size_t len, const char *collection,
                    const char *id, const char *id2)
{
    size_t  pos;
    int     n;

    n = snprintf(out, len, "/registry/%s/", collection);
    if (n < 0 || (size_t) n >= len) {
        return -1;
    }
    pos = (size_t) n;
    if (append_escaped(out, len, &pos, id) != 0) {
        return -1;
    }
    if (id2 == NULL) {
        return 0;
    }
    if (pos + 1 >= len) {
        return -1;
    }
    out[pos++] = '/';
    out[pos] = '\0';
    return append_escaped(out, len, &pos, id2);
}
