/*
 * The key-fetching thread of the registry sync: rounds of OIDC discovery
 * and JWKS on a schedule, with backoff, publishing the merged key set.
 */

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cc_clock.h"
#include "cc_log.h"
#include "sync_jwks.h"
#include "sync_keys.h"


#define JWKS_CONNECT_TIMEOUT_MS  5000
#define JWKS_TIMEOUT_MS          10000
#define JWKS_MAX_DOCUMENT        (256 * 1024)
#define JWKS_BACKOFF_BASE_MS     1000
#define JWKS_BACKOFF_MAX_MS      300000
#define JWKS_RETRY_AFTER_MAX_MS  3600000    /* a server asking for more is
                                               asked again after an hour */
#define JWKS_LONGEST_WAIT_MS     60000


struct sync_jwks {
    pthread_t            thread;
    pthread_mutex_t      lock;
    pthread_cond_t       wake;
    volatile int         stop;          /* also cancels a transfer */
    int                  wake_fd;
    long long            refresh_ms;

    /* The thread's own: read and written outside the lock. */
    sync_keys_t          keys;
    cc_fetch_options_t   fetch;
    int                  failures;

    /* Shared, under lock. */
    long long            due;           /* monotonic ms of the next round */
    long long            not_before;    /* Retry-After's limit, or 0 */
    json_t              *published;
    int                  complete;
    unsigned long long   version;
    sync_jwks_stats_t    stats;
};


static long long
now_ms(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


static long long
unix_ms(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


/* When the next round is due after one in which `failed` sources failed
 * and the longest Retry-After was retry_after_ms.  Called under lock. */
static void
schedule_next(sync_jwks_t *j, size_t failed, long long retry_after_ms)
{
    long long  now, cap, delay;

    now = now_ms();
    if (failed == 0) {
        j->failures = 0;
        j->due = now + j->refresh_ms;
        j->not_before = 0;
        return;
    }

    j->failures++;
    if (retry_after_ms > JWKS_RETRY_AFTER_MAX_MS) {
        retry_after_ms = JWKS_RETRY_AFTER_MAX_MS;
    }
    cap = j->refresh_ms < JWKS_BACKOFF_MAX_MS ? j->refresh_ms
                                              : JWKS_BACKOFF_MAX_MS;
    delay = cc_fetch_backoff_ms(j->failures, JWKS_BACKOFF_BASE_MS, cap,
                                retry_after_ms);
    j->due = now + delay;
    j->not_before = retry_after_ms > 0 ? now + retry_after_ms : 0;
}


/* Returns whether the set changed, or became complete. */
static int
publish(sync_jwks_t *j, json_t *merged, size_t failed)
{
    int  changed, complete;

    complete = sync_keys_complete(&j->keys);
    changed = !json_equal(j->published, merged) || complete != j->complete;
    json_decref(j->published);
    j->published = merged;
    j->complete = complete;
    j->version++;
    j->stats.keys = json_object_size(merged);
    if (failed == 0) {
        j->stats.last_success = time(NULL);
    }
    return changed;
}


static void
wake_sync(sync_jwks_t *j)
{
    /* A full pipe already says "look again". */
    if (write(j->wake_fd, "k", 1) < 0 && errno != EAGAIN) {
        cc_log(CC_LOG_WARN, "cannot wake the registry sync");
    }
}


/* One round, called and returning with the lock held. */
static void
run_round(sync_jwks_t *j)
{
    size_t      failed, n;
    long long   retry_after_ms;
    json_t     *merged;
    int         changed;

    j->stats.last_attempt_ms = unix_ms();
    pthread_mutex_unlock(&j->lock);

    failed = sync_keys_refresh(&j->keys, &j->fetch, &retry_after_ms);
    n = j->keys.nsources;
    merged = failed < n ? sync_keys_merged(&j->keys) : NULL;

    pthread_mutex_lock(&j->lock);
    j->stats.fetches_ok += n - failed;
    j->stats.fetches_failed += failed;
    j->stats.failing = (failed > 0);
    changed = merged != NULL && publish(j, merged, failed);
    schedule_next(j, failed, retry_after_ms);

    if (j->stop) {
        return;
    }
    if (failed > 0) {
        cc_log_fields(CC_LOG_WARN, "signing keys not refreshed; the "
                      "registry keeps the keys it has",
                      json_pack("{s:I,s:I,s:I}", "sources_failed",
                                (json_int_t) failed, "retry_in_ms",
                                (json_int_t) (j->due - now_ms()),
                                "keys", (json_int_t) j->stats.keys));
    } else {
        cc_log_fields(changed ? CC_LOG_INFO : CC_LOG_DEBUG,
                      changed ? "signing keys changed" : "signing keys "
                      "unchanged",
                      json_pack("{s:I}", "keys", (json_int_t) j->stats.keys));
    }
    if (changed) {
        wake_sync(j);
    }
}


static void *
jwks_main(void *arg)
{
    sync_jwks_t      *j = arg;
    struct timespec   deadline;
    long long         left_ms;

    pthread_mutex_lock(&j->lock);
    while (!j->stop) {
        left_ms = j->due - now_ms();
        if (left_ms <= 0) {
            run_round(j);
            continue;
        }
        if (left_ms > JWKS_LONGEST_WAIT_MS) {
            left_ms = JWKS_LONGEST_WAIT_MS;
        }
        cc_clock_deadline_ms(&deadline, (int) left_ms);
        pthread_cond_timedwait(&j->wake, &j->lock, &deadline);
    }
    pthread_mutex_unlock(&j->lock);
    return NULL;
}


sync_jwks_t *
sync_jwks_start(const cc_config_t *cfg, char urls[][CC_FETCH_URL_MAX],
                size_t n, int wake_fd)
{
    sync_jwks_t  *j;

    j = calloc(1, sizeof(*j));
    if (j == NULL) {
        return NULL;
    }
    sync_keys_init(&j->keys, urls, n);
    j->wake_fd = wake_fd;
    j->refresh_ms = (long long) cfg->jwks_refresh_seconds * 1000;
    j->fetch.ca_file = cfg->ca_file;
    j->fetch.connect_timeout_ms = JWKS_CONNECT_TIMEOUT_MS;
    j->fetch.timeout_ms = JWKS_TIMEOUT_MS;
    j->fetch.max_response = JWKS_MAX_DOCUMENT;
    j->fetch.cancel = &j->stop;
    j->due = now_ms();

    pthread_mutex_init(&j->lock, NULL);
    pthread_cond_init(&j->wake, NULL);
    if (pthread_create(&j->thread, NULL, jwks_main, j) != 0) {
        pthread_mutex_destroy(&j->lock);
        pthread_cond_destroy(&j->wake);
        free(j);
        return NULL;
    }
    return j;
}


void
sync_jwks_stop(sync_jwks_t *j)
{
    if (j == NULL) {
        return;
    }
    pthread_mutex_lock(&j->lock);
    j->stop = 1;
    pthread_cond_signal(&j->wake);
    pthread_mutex_unlock(&j->lock);
    pthread_join(j->thread, NULL);

    sync_keys_free(&j->keys);
    json_decref(j->published);
    pthread_mutex_destroy(&j->lock);
    pthread_cond_destroy(&j->wake);
    free(j);
}


json_t *
sync_jwks_current(sync_jwks_t *j, int *complete, unsigned long long *version)
{
    json_t  *set;

    pthread_mutex_lock(&j->lock);
    set = json_incref(j->published);
    *complete = j->complete;
    *version = j->version;
    pthread_mutex_unlock(&j->lock);
    return set;
}


void
sync_jwks_refetch(sync_jwks_t *j)
{
    long long  now;

    pthread_mutex_lock(&j->lock);
    now = now_ms();
    /* A Retry-After still running wins over an early round. */
    j->due = j->not_before > now ? j->not_before : now;
    pthread_cond_signal(&j->wake);
    pthread_mutex_unlock(&j->lock);
}


void
sync_jwks_stats(sync_jwks_t *j, sync_jwks_stats_t *stats)
{
    pthread_mutex_lock(&j->lock);
    *stats = j->stats;
    pthread_mutex_unlock(&j->lock);
}
