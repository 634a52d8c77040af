/*
 * Publishes to a tenant's live-view channel through nginx's internal
 * publisher location (conf/nginx.conf.in, POST /live/{tenant} on the
 * control socket).  Callers only queue a message: one publisher thread
 * sends the queue in the order it was filled, over one kept-alive libcurl
 * connection, so a request thread never waits for nginx.  A session's
 * messages keep their order: an agent sends its batches one after the
 * other, and each is queued after its transaction committed.
 */

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "cc_curl_body.h"
#include "cc_live.h"
#include "cc_log.h"
#include "cc_uuid.h"


#define LIVE_URL_MAX      128
#define LIVE_QUEUE_MAX    10000     /* messages waiting; more are lost */
#define LIVE_DRAIN_MS     1000      /* what cc_live_destroy waits */

typedef struct live_message {
    struct live_message  *next;
    char                  tenant[CC_UUID_STR_LEN + 1];
    char                 *body;
} live_message_t;

struct cc_live {
    char                *socket_path;
    long                 timeout_ms;
    struct curl_slist   *headers;
    CURL                *curl;          /* the publisher thread's */
    pthread_t            thread;
    pthread_mutex_t      lock;
    pthread_cond_t       queued;        /* a message came, or stopping */
    live_message_t      *head;
    live_message_t      *tail;
    size_t               length;
    int                  stopping;
    unsigned long        published;     /* updated atomically */
    unsigned long        failed;
};


static void
count_failed(cc_live_t *live, CURLcode cc, long status)
{
    __atomic_add_fetch(&live->failed, 1, __ATOMIC_RELAXED);
    cc_log(CC_LOG_DEBUG, "live message not published: %s (status %ld)",
           curl_easy_strerror(cc), status);
}


/* Sends one message; the publisher thread's only network call. */
static void
send_message(cc_live_t *live, const live_message_t *m)
{
    char      url[LIVE_URL_MAX];
    CURLcode  cc;
    long      status = 0;

    snprintf(url, sizeof(url), "http://localhost/live/%s", m->tenant);
    curl_easy_setopt(live->curl, CURLOPT_URL, url);
    curl_easy_setopt(live->curl, CURLOPT_POSTFIELDS, m->body);
    curl_easy_setopt(live->curl, CURLOPT_POSTFIELDSIZE, (long) strlen(m->body));
    cc = curl_easy_perform(live->curl);
    if (cc == CURLE_OK) {
        curl_easy_getinfo(live->curl, CURLINFO_RESPONSE_CODE, &status);
    }
    if (status >= 200 && status < 300) {
        __atomic_add_fetch(&live->published, 1, __ATOMIC_RELAXED);
    } else {
        count_failed(live, cc, status);
    }
}


static void
free_message(live_message_t *m)
{
    free(m->body);
    free(m);
}


static long long
now_ms(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


/*
 * Takes the oldest message, waiting for one.  NULL once stopping and the
 * queue is empty, or LIVE_DRAIN_MS after stopping began (*drain_until_ms,
 * 0 until then).
 */
static live_message_t *
next_message(cc_live_t *live, long long *drain_until_ms)
{
    live_message_t  *m;

    pthread_mutex_lock(&live->lock);
    while (live->head == NULL && !live->stopping) {
        pthread_cond_wait(&live->queued, &live->lock);
    }
    if (live->stopping && *drain_until_ms == 0) {
        *drain_until_ms = now_ms() + LIVE_DRAIN_MS;
    }
    m = live->head;
    if (m != NULL && live->stopping && now_ms() >= *drain_until_ms) {
        m = NULL;
    }
    if (m != NULL) {
        live->head = m->next;
        if (live->head == NULL) {
            live->tail = NULL;
        }
        live->length--;
    }
    pthread_mutex_unlock(&live->lock);
    return m;
}


static void *
publisher_thread(void *arg)
{
    cc_live_t        *live = arg;
    live_message_t   *m;
    long long         drain_until_ms = 0;

    while ((m = next_message(live, &drain_until_ms)) != NULL) {
        send_message(live, m);
        free_message(m);
    }
    return NULL;
}


static CURL *
make_handle(cc_live_t *live)
{
    CURL  *curl;

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
    return curl;
}


static void
free_live(cc_live_t *live)
{
    curl_easy_cleanup(live->curl);
    curl_slist_free_all(live->headers);
    free(live->socket_path);
    free(live);
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
        || (live->curl = make_handle(live)) == NULL)
    {
        free_live(live);
        return NULL;
    }
    pthread_mutex_init(&live->lock, NULL);
    pthread_cond_init(&live->queued, NULL);
    if (pthread_create(&live->thread, NULL, publisher_thread, live) != 0) {
        pthread_mutex_destroy(&live->lock);
        pthread_cond_destroy(&live->queued);
        free_live(live);
        return NULL;
    }
    return live;
}


void
cc_live_destroy(cc_live_t *live)
{
    live_message_t  *m;

    if (live == NULL) {
        return;
    }
    pthread_mutex_lock(&live->lock);
    live->stopping = 1;
    pthread_cond_signal(&live->queued);
    pthread_mutex_unlock(&live->lock);
    pthread_join(live->thread, NULL);

    /* What the drain time did not let through is lost, and counted. */
    while ((m = live->head) != NULL) {
        live->head = m->next;
        count_failed(live, CURLE_OPERATION_TIMEDOUT, 0);
        free_message(m);
    }
    pthread_mutex_destroy(&live->lock);
    pthread_cond_destroy(&live->queued);
    free_live(live);
}


void
cc_live_publish(cc_live_t *live, const char *tenant, json_t *msg)
{
    live_message_t  *m;

    if (live == NULL) {
        json_decref(msg);
        return;
    }
    m = calloc(1, sizeof(*m));
    if (m != NULL) {
        m->body = msg != NULL ? json_dumps(msg, JSON_COMPACT) : NULL;
        snprintf(m->tenant, sizeof(m->tenant), "%s", tenant);
    }
    json_decref(msg);
    if (m == NULL || m->body == NULL) {
        free(m);
        count_failed(live, CURLE_OUT_OF_MEMORY, 0);
        return;
    }

    pthread_mutex_lock(&live->lock);
    if (live->length >= LIVE_QUEUE_MAX || live->stopping) {
        pthread_mutex_unlock(&live->lock);
        free_message(m);
        count_failed(live, CURLE_OUT_OF_MEMORY, 0);
        return;
    }
    if (live->tail != NULL) {
        live->tail->next = m;
    } else {
        live->head = m;
    }
    live->tail = m;
    live->length++;
    pthread_cond_signal(&live->queued);
    pthread_mutex_unlock(&live->lock);
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
