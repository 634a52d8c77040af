/*
 * Publishes to a tenant's live-view channel through nginx's internal
 * publisher location (conf/nginx.conf.in, POST /live/{tenant} on the
 * control socket).  Each thread keeps its own libcurl handle, so its
 * connection to nginx stays open between messages.
 */

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "cc_curl_body.h"
#include "cc_live.h"
#include "cc_log.h"


#define LIVE_URL_MAX  128

struct cc_live {
    char                *socket_path;
    long                 timeout_ms;
    pthread_key_t        handle_key;    /* this thread's CURL * */
    struct curl_slist   *headers;
    unsigned long        published;     /* updated atomically */
    unsigned long        failed;
};


static void
free_handle(void *curl)
{
    curl_easy_cleanup(curl);
}


cc_live_t *
cc_live_create(const char *socket_path, int timeout_ms)
{
    cc_live_t  *live;

    if (socket_path == NULL || socket_path[0] == '\0') {
        return NULL;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        return NULL;
    }
    live = calloc(1, sizeof(*live));
    if (live == NULL) {
        return NULL;
    }
    live->socket_path = strdup(socket_path);
    live->timeout_ms = timeout_ms;
    /* No "Expect: 100-continue" round trip before the body. */
    live->headers = curl_slist_append(NULL, "Content-Type: application/json");
    if (live->headers != NULL) {
        live->headers = curl_slist_append(live->headers, "Expect:");
    }
    if (live->socket_path == NULL || live->headers == NULL
        || pthread_key_create(&live->handle_key, free_handle) != 0)
    {
        curl_slist_free_all(live->headers);
        free(live->socket_path);
        free(live);
        return NULL;
    }
    return live;
}


void
cc_live_destroy(cc_live_t *live)
{
    CURL  *curl;

    if (live == NULL) {
        return;
    }
    /* Threads that have ended freed their handles; this is the caller's. */
    curl = pthread_getspecific(live->handle_key);
    if (curl != NULL) {
        curl_easy_cleanup(curl);
    }
    pthread_key_delete(live->handle_key);
    curl_slist_free_all(live->headers);
    free(live->socket_path);
    free(live);
}


static CURL *
thread_handle(cc_live_t *live)
{
    CURL  *curl;

    curl = pthread_getspecific(live->handle_key);
    if (curl != NULL) {
        return curl;
    }
    curl = curl_easy_init();
    if (curl == NULL) {
        return NULL;
    }
    curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH, live->socket_path);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, live->timeout_ms);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, live->timeout_ms);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, live->headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, cc_curl_discard);
    if (pthread_setspecific(live->handle_key, curl) != 0) {
        curl_easy_cleanup(curl);
        return NULL;
    }
    return curl;
}


void
cc_live_publish(cc_live_t *live, const char *tenant, json_t *msg)
{
    CURL      *curl;
    CURLcode   cc;
    char       url[LIVE_URL_MAX];
    char      *body;
    long       status;

    if (live == NULL) {
        json_decref(msg);
        return;
    }
    body = msg != NULL ? json_dumps(msg, JSON_COMPACT) : NULL;
    json_decref(msg);
    curl = thread_handle(live);
    status = 0;
    cc = CURLE_OUT_OF_MEMORY;
    if (body != NULL && curl != NULL) {
        snprintf(url, sizeof(url), "http://localhost/live/%s", tenant);
        curl_easy_setopt(curl, CURLOPT_URL, url);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long) strlen(body));
        cc = curl_easy_perform(curl);
        if (cc == CURLE_OK) {
            curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
        }
    }
    free(body);

    if (status >= 200 && status < 300) {
        __atomic_add_fetch(&live->published, 1, __ATOMIC_RELAXED);
        return;
    }
    __atomic_add_fetch(&live->failed, 1, __ATOMIC_RELAXED);
    cc_log(CC_LOG_DEBUG, "live message not published: %s (status %ld)",
           curl_easy_strerror(cc), status);
}


json_t *
cc_live_status_message(const char *session, const char *from,
                       const char *to, const char *reason)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:s*}",
        "type", "session.status", "sessionId", session,
        "from", from, "to", to, "reason", reason);
}


void
cc_live_collect(FILE *out, void *arg)
{
    cc_live_t  *live = arg;

    fprintf(out, "# HELP cc_live_messages_total Live-view messages given "
            "to nginx, by result.\n# TYPE cc_live_messages_total counter\n"
            "cc_live_messages_total{result=\"published\"} %lu\n"
            "cc_live_messages_total{result=\"failed\"} %lu\n",
            __atomic_load_n(&live->published, __ATOMIC_RELAXED),
            __atomic_load_n(&live->failed, __ATOMIC_RELAXED));
}
