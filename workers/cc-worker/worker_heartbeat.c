/*
 * The heartbeat thread that keeps the running job's lease alive.
 */

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cc_clock.h"
#include "cc_log.h"
#include "worker_heartbeat.h"


struct worker_heartbeat {
    pthread_t            thread;
    pthread_mutex_t      lock;
    pthread_cond_t       changed;
    cc_db_pool_t        *pool;
    int                  lease_seconds;
    int                  interval_ms;
    int                  stop;
    int                  watching;
    cc_job_t             job;       /* id and token only; no payload */
    struct timespec      due;
    volatile int         lost;
    unsigned long long   extensions;
};



/* Extends the lease outside the lock; returns 1 held, 0 lost, -1 error. */
static int
extend_lease(worker_heartbeat_t *hb, const cc_job_t *job)
{
    PGconn  *conn;
    int      rc;

    conn = cc_db_acquire(hb->pool, CC_DB_ACQUIRE_MS);
    if (conn == NULL) {
        return -1;
    }
    rc = cc_jobq_extend(conn, job, hb->lease_seconds);
    cc_db_release(hb->pool, conn);
    return rc;
}


static void
beat(worker_heartbeat_t *hb)
{
    cc_job_t  job;
    int       rc;

    job = hb->job;
    pthread_mutex_unlock(&hb->lock);
    rc = extend_lease(hb, &job);
    pthread_mutex_lock(&hb->lock);

    /* The runner may have moved on to another job meanwhile. */
    if (!hb->watching || hb->job.id != job.id) {
        return;
    }
    if (rc == 1) {
        hb->extensions++;
    } else if (rc == 0) {
        hb->lost = 1;
        cc_log_fields(CC_LOG_WARN, "job lease lost",
                      json_pack("{s:I}", "job_id", (json_int_t) job.id));
    } else {
        cc_log_fields(CC_LOG_WARN, "job lease not extended (database)",
                      json_pack("{s:I}", "job_id", (json_int_t) job.id));
    }
    cc_clock_deadline_ms(&hb->due, hb->interval_ms);
}


static void *
heartbeat_main(void *arg)
{
    worker_heartbeat_t  *hb = arg;
    int                  rc;

    pthread_mutex_lock(&hb->lock);
    while (!hb->stop) {
        if (!hb->watching) {
            pthread_cond_wait(&hb->changed, &hb->lock);
            continue;
        }
        rc = pthread_cond_timedwait(&hb->changed, &hb->lock, &hb->due);
        if (rc == ETIMEDOUT && hb->watching && !hb->stop) {
            beat(hb);
        }
    }
    pthread_mutex_unlock(&hb->lock);
    return NULL;
}


worker_heartbeat_t *
worker_heartbeat_start(cc_db_pool_t *pool, int lease_seconds)
{
    worker_heartbeat_t  *hb;

    hb = calloc(1, sizeof(*hb));
    if (hb == NULL) {
        return NULL;
    }
    hb->pool = pool;
    hb->lease_seconds = lease_seconds;
    hb->interval_ms = lease_seconds * 1000 / 3;
    pthread_mutex_init(&hb->lock, NULL);
    pthread_cond_init(&hb->changed, NULL);
    if (pthread_create(&hb->thread, NULL, heartbeat_main, hb) != 0) {
        free(hb);
        return NULL;
    }
    return hb;
}


volatile const int *
worker_heartbeat_watch(worker_heartbeat_t *hb, const cc_job_t *job)
{
    pthread_mutex_lock(&hb->lock);
    memset(&hb->job, 0, sizeof(hb->job));
    hb->job.id = job->id;
    memcpy(hb->job.token, job->token, sizeof(hb->job.token));
    hb->watching = 1;
    hb->lost = 0;
    cc_clock_deadline_ms(&hb->due, hb->interval_ms);
    pthread_cond_signal(&hb->changed);
    pthread_mutex_unlock(&hb->lock);
    return &hb->lost;
}


void
worker_heartbeat_unwatch(worker_heartbeat_t *hb)
{
    pthread_mutex_lock(&hb->lock);
    hb->watching = 0;
    pthread_cond_signal(&hb->changed);
    pthread_mutex_unlock(&hb->lock);
}


unsigned long long
worker_heartbeat_extensions(worker_heartbeat_t *hb)
{
    unsigned long long  n;

    pthread_mutex_lock(&hb->lock);
    n = hb->extensions;
    pthread_mutex_unlock(&hb->lock);
    return n;
}


void
worker_heartbeat_stop(worker_heartbeat_t *hb)
{
    if (hb == NULL) {
        return;
    }
    pthread_mutex_lock(&hb->lock);
    hb->stop = 1;
    pthread_cond_signal(&hb->changed);
    pthread_mutex_unlock(&hb->lock);
    pthread_join(hb->thread, NULL);
    pthread_mutex_destroy(&hb->lock);
    pthread_cond_destroy(&hb->changed);
    free(hb);
}
