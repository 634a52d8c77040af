/*
 * The periodic-jobs thread: asks the queue for each table entry's job of
 * the current time bucket, then sleeps until the next bucket begins.
 */

#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cc_log.h"
#include "cc_metrics.h"
#include "worker_periodic.h"


/* Kind, and where cc_config_t keeps its interval in seconds. */
static const struct {
    const char  *kind;
    size_t       interval;
} periodic_jobs[] = {
    { "retention.purge",
      offsetof(cc_config_t, retention_interval_seconds) },
    { "retention.partitions",
      offsetof(cc_config_t, partition_interval_seconds) },
    { "sessions.sweep",
      offsetof(cc_config_t, sweep_interval_seconds) },
};

#define PERIODIC_NJOBS  (sizeof(periodic_jobs) / sizeof(periodic_jobs[0]))

/* The next ask waits past the bucket's start by this much, so that a
 * clock slightly behind the database's does not ask for a bucket that has
 * not begun there yet. */
#define PERIODIC_SLACK_MS    200

/* When the database could not be asked, or still answered the previous
 * bucket (this clock runs ahead of it), ask again after this. */
#define PERIODIC_RETRY_MS    1000

#define PERIODIC_ACQUIRE_MS  1000


struct worker_periodic {
    pthread_t            thread;
    pthread_mutex_t      lock;
    pthread_cond_t       wake;
    int                  running;
    int                  stop;
    const cc_config_t   *cfg;
    cc_db_pool_t        *pool;
    long long            due_ms[PERIODIC_NJOBS];     /* wall clock */
    long long            last_bucket[PERIODIC_NJOBS];
    unsigned long long   enqueued;       /* jobs this process created */
};


static long long
wall_ms(void)
{
    struct timespec  now;

    clock_gettime(CLOCK_REALTIME, &now);
    return (long long) now.tv_sec * 1000 + now.tv_nsec / 1000000;
}


static int
interval_of(const cc_config_t *cfg, size_t i)
{
    return *(const int *) ((const char *) cfg + periodic_jobs[i].interval);
}


/*
 * Asks for kind's job of the current bucket: one statement, its own
 * transaction, in the platform context (cc_db sets a tenant only for the
 * transaction that asks, so none is set here).  Waits at most
 * PERIODIC_ACQUIRE_MS for a connection.  Returns 0 with *bucket and
 * *created filled, or -1.
 */
static int
enqueue_current_bucket(cc_db_pool_t *pool, const char *kind, int interval,
                       long long *bucket, int *created)
{
    PGconn       *conn;
    PGresult     *res;
    const char   *params[2];
    char          seconds[16];
    int           ok;

    conn = cc_db_acquire(pool, PERIODIC_ACQUIRE_MS);
    if (conn == NULL) {
        return -1;
    }
    snprintf(seconds, sizeof(seconds), "%d", interval);
    params[0] = kind;
    params[1] = seconds;
    res = cc_db_query(conn, "SELECT bucket, created"
                            "  FROM cc_periodic_enqueue($1, $2::integer)",
                      2, params);
    ok = cc_db_result_ok(res) && PQntuples(res) == 1;
    if (ok) {
        *bucket = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        *created = (PQgetvalue(res, 0, 1)[0] == 't');
    }
    PQclear(res);
    cc_db_release(pool, conn);
    return ok ? 0 : -1;
}


/* Asks for job i and decides when to ask next. */
static void
ask_for_job(worker_periodic_t *p, size_t i, int interval)
{
    long long  bucket;
    int        created;

    if (enqueue_current_bucket(p->pool, periodic_jobs[i].kind, interval,
                               &bucket, &created) != 0)
    {
        cc_log_fields(CC_LOG_WARN, "periodic job not enqueued; will retry",
                      json_pack("{s:s}", "kind", periodic_jobs[i].kind));
        p->due_ms[i] = wall_ms() + PERIODIC_RETRY_MS;
        return;
    }

    cc_log_fields(created ? CC_LOG_INFO : CC_LOG_DEBUG,
                  created ? "periodic job enqueued"
                          : "periodic job already enqueued",
                  json_pack("{s:s,s:I}", "kind", periodic_jobs[i].kind,
                            "bucket", (json_int_t) bucket));
    if (created) {
        pthread_mutex_lock(&p->lock);
        p->enqueued++;
        pthread_mutex_unlock(&p->lock);
    }

    if (bucket > p->last_bucket[i]) {
        p->last_bucket[i] = bucket;
        p->due_ms[i] = (bucket + 1) * interval * 1000LL + PERIODIC_SLACK_MS;
    } else {
        p->due_ms[i] = wall_ms() + PERIODIC_RETRY_MS;
    }
}


/* Asks for every job that is due; returns when the next one will be
 * (LLONG_MAX when none is enabled).  Called with the lock held. */
static long long
ask_for_due_jobs(worker_periodic_t *p)
{
    long long  next = LLONG_MAX;
    size_t     i;
    int        interval;

    for (i = 0; i < PERIODIC_NJOBS && !p->stop; i++) {
        interval = interval_of(p->cfg, i);
        if (interval <= 0) {
            continue;
        }
        if (p->due_ms[i] <= wall_ms()) {
            pthread_mutex_unlock(&p->lock);
            ask_for_job(p, i, interval);
            pthread_mutex_lock(&p->lock);
        }
        if (p->due_ms[i] < next) {
            next = p->due_ms[i];
        }
    }
    return next;
}


static void *
periodic_main(void *arg)
{
    worker_periodic_t  *p = arg;
    struct timespec     until;
    long long           next;

    pthread_mutex_lock(&p->lock);
    while (!p->stop) {
        next = ask_for_due_jobs(p);
        if (p->stop) {
            break;
        }
        if (next == LLONG_MAX) {
            pthread_cond_wait(&p->wake, &p->lock);
            continue;
        }
        until.tv_sec = next / 1000;
        until.tv_nsec = (next % 1000) * 1000000L;
        pthread_cond_timedwait(&p->wake, &p->lock, &until);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}


worker_periodic_t *
worker_periodic_start(const cc_config_t *cfg, cc_db_pool_t *pool)
{
    worker_periodic_t  *p;
    size_t              i;

    p = calloc(1, sizeof(*p));
    if (p == NULL) {
        return NULL;
    }
    p->cfg = cfg;
    p->pool = pool;
    for (i = 0; i < PERIODIC_NJOBS; i++) {
        p->last_bucket[i] = -1;
    }
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->wake, NULL);

    if (!cfg->periodic_jobs) {
        cc_log(CC_LOG_INFO, "periodic jobs are off in this worker");
        return p;
    }
    if (pthread_create(&p->thread, NULL, periodic_main, p) != 0) {
        cc_log(CC_LOG_ERROR, "cannot start the periodic-jobs thread");
        worker_periodic_stop(p);
        return NULL;
    }
    p->running = 1;
    return p;
}


void
worker_periodic_stop(worker_periodic_t *p)
{
    if (p == NULL) {
        return;
    }
    if (p->running) {
        pthread_mutex_lock(&p->lock);
        p->stop = 1;
        pthread_cond_signal(&p->wake);
        pthread_mutex_unlock(&p->lock);
        pthread_join(p->thread, NULL);
    }
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->lock);
    free(p);
}


void
worker_periodic_collect(FILE *out, void *arg)
{
    worker_periodic_t   *p = arg;
    unsigned long long   n;

    pthread_mutex_lock(&p->lock);
    n = p->enqueued;
    pthread_mutex_unlock(&p->lock);
    cc_metrics_write(out, "cc_periodic_enqueued_total", "counter",
                     "Periodic jobs this worker enqueued (one per bucket "
                     "across all workers).", (double) n);
}
