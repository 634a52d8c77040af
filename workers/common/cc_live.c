/*
 * Publishes to a tenant's live-view channel through nginx's internal
 * publisher location (conf/nginx.conf.in, POST /live/{tenant} on the
 * control socket).  Callers only queue a message: one publisher thread
 * sends the queue in the order it was filled, over one kept-alive libcurl
 * connection, so a request thread never waits for nginx.  A session's
 * messages keep their order: an agent sends its batches one after the
 * other, and each is queued after its transaction committed.
 *
 * What nginx puts on the channel is a JSON array of messages, oldest
 * first: the messages of one tenant that are waiting together when the
 * thread takes the queue's head go in one POST (at most LIVE_BATCH_MAX of
 * them, LIVE_BATCH_BYTES long).  Nothing waits to be combined: under a
 * light load every array holds one message; under a heavy one nginx and
 * this thread handle a request per batch of messages, not per message.
 */

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "cc_clock.h"
#include "cc_curl_body.h"
#include "cc_live.h"
#include "cc_log.h"
#include "cc_uuid.h"


#define LIVE_URL_MAX      128
#define LIVE_QUEUE_MAX    10000     /* messages waiting; more are lost */
#define LIVE_DRAIN_MS     1000      /* what cc_live_destroy waits */
#define LIVE_BATCH_MAX    64        /* messages in one POST ... */
#define LIVE_BATCH_BYTES  65536     /* ... and their bytes, one may exceed */

typedef struct live_message {
    struct live_message  *next;
    char                  tenant[CC_UUID_STR_LEN + 1];
    char                 *body;
    size_t                len;
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
count_failed(cc_live_t *live, size_t n, CURLcode cc, long status)
{
    __atomic_add_fetch(&live->failed, n, __ATOMIC_RELAXED);
    cc_log(CC_LOG_DEBUG, "%zu live message(s) not published: %s (status %ld)",
           n, curl_easy_strerror(cc), status);
}


/* "[m1,m2,...]" of the n messages from first on; NULL when out of memory. */
static char *
array_body(const live_message_t *first, size_t n, size_t *len)
{
    const live_message_t  *m;
    size_t                 i, total = 2;
    char                  *body, *p;

    for (m = first, i = 0; i < n; m = m->next, i++) {
        total += m->len + 1;
    }
    body = malloc(total);
    if (body == NULL) {
        return NULL;
    }
    p = body;
    *p++ = '[';
    for (m = first, i = 0; i < n; m = m->next, i++) {
        if (i > 0) {
            *p++ = ',';
        }
        memcpy(p, m->body, m->len);
        p += m->len;
    }
    *p++ = ']';
    *len = (size_t) (p - body);
    return body;
}


/* Sends n messages of one tenant as one array: the publisher thread's
 * only network call. */
static void
send_messages(cc_live_t *live, const live_message_t *first, size_t n)
{
    char      url[LIVE_URL_MAX];
    char     *body;
    size_t    len;
    CURLcode  cc;
    long      status = 0;

    body = array_body(first, n, &len);
    if (body == NULL) {
        count_failed(live, n, CURLE_OUT_OF_MEMORY, 0);
        return;
    }
    snprintf(url, sizeof(url), "http://localhost/live/%s", first->tenant);
    curl_easy_setopt(live->curl, CURLOPT_URL, url);
    curl_easy_setopt(live->curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(live->curl, CURLOPT_POSTFIELDSIZE, (long) len);
    cc = curl_easy_perform(live->curl);
    if (cc == CURLE_OK) {
        curl_easy_getinfo(live->curl, CURLINFO_RESPONSE_CODE, &status);
    }
    free(body);
    if (status >= 200 && status < 300) {
        __atomic_add_fetch(&live->published, n, __ATOMIC_RELAXED);
    } else {
        count_failed(live, n, cc, status);
    }
}


static void
free_message(live_message_t *m)
{
    free(m->body);
    free(m);
}


static void
free_messages(live_message_t *m, size_t n)
{
    live_message_t  *next;

    while (n-- > 0) {
        next = m->next;
        free_message(m);
        m = next;
    }
}


/*
 * How many messages from the head on go in one POST: the head, and those
 * right behind it for the same tenant, within the limits.  Under the lock.
 */
static size_t
batch_length(const cc_live_t *live)
{
    const live_message_t  *m = live->head;
    size_t                 n = 1, bytes = m->len;

    for (m = m->next; m != NULL && n < LIVE_BATCH_MAX; m = m->next) {
        if (strcmp(m->tenant, live->head->tenant) != 0
            || bytes + m->len > LIVE_BATCH_BYTES)
        {
            break;
        }
        bytes += m->len;
        n++;
    }
    return n;
}


/*
 * Takes the oldest messages (*n of them, one tenant's), waiting for one.
 * NULL once stopping and the queue is empty, or LIVE_DRAIN_MS after
 * stopping began (*drain_until_ms, 0 until then).
 */
static live_message_t *
next_messages(cc_live_t *live, long long *drain_until_ms, size_t *n)
{
    live_message_t  *first, *last;
    size_t           i;

    pthread_mutex_lock(&live->lock);
    while (live->head == NULL && !live->stopping) {
        pthread_cond_wait(&live->queued, &live->lock);
    }
    if (live->stopping && *drain_until_ms == 0) {
        *drain_until_ms = cc_clock_monotonic_ms() + LIVE_DRAIN_MS;
    }
    first = live->head;
    if (first != NULL && live->stopping && cc_clock_monotonic_ms() >= *drain_until_ms) {
        first = NULL;
    }
    if (first != NULL) {
        *n = batch_length(live);
        for (last = first, i = 1; i < *n; i++) {
            last = last->next;
        }
        live->head = last->next;
        last->next = NULL;
        if (live->head == NULL) {
            live->tail = NULL;
        }
        live->length -= *n;
    }
    pthread_mutex_unlock(&live->lock);
    return first;
}


static void *
publisher_thread(void *arg)
{
    cc_live_t        *live = arg;
    live_message_t   *first;
    long long         drain_until_ms = 0;
    size_t            n;

    while ((first = next_messages(live, &drain_until_ms, &n)) != NULL) {
        send_messages(live, first, n);
        free_messages(first, n);
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
        count_failed(live, 1, CURLE_OPERATION_TIMEDOUT, 0);
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
        m->len = m->body != NULL ? strlen(m->body) : 0;
        snprintf(m->tenant, sizeof(m->tenant), "%s", tenant);
    }
    json_decref(msg);
    if (m == NULL || m->body == NULL) {
        free(m);
        count_failed(live, 1, CURLE_OUT_OF_MEMORY, 0);
        return;
    }

    pthread_mutex_lock(&live->lock);
    if (live->length >= LIVE_QUEUE_MAX || live->stopping) {
        pthread_mutex_unlock(&live->lock);
        free_message(m);
        count_failed(live, 1, CURLE_OUT_OF_MEMORY, 0);
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
