/*
 * The job runner's loop and the life of one job in it.  Exactly-once for
 * database effects comes from one rule: the handler's work and
 * cc_job_complete() share a transaction, committed only when the completion
 * says the lease was still ours.
 */

#include <string.h>
#include <time.h>

#include "cc_jobq.h"
#include "cc_log.h"
#include "cc_signal.h"
#include "worker_handlers.h"
#include "worker_runner.h"


/* When a job is ready but another worker holds its row for the moment,
 * look again after this instead of spinning. */
#define RUNNER_BUSY_RETRY_MS  50

/* After a database error, wait this long (or the poll interval if shorter)
 * before trying again. */
#define RUNNER_ERROR_WAIT_MS  1000


static double
seconds_since(const struct timespec *t0)
{
    struct timespec  now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double) (now.tv_sec - t0->tv_sec)
           + (double) (now.tv_nsec - t0->tv_nsec) / 1e9;
}


static json_t *
job_fields(const cc_job_t *job)
{
    return json_pack("{s:I,s:s,s:i}", "job_id", (json_int_t) job->id,
                     "kind", job->kind, "attempt", job->attempt);
}


static void
log_job(int level, const char *msg, const cc_job_t *job, double secs,
        const char *state, const char *error)
{
    json_t  *f;

    f = job_fields(job);
    if (secs >= 0) {
        json_object_set_new(f, "duration_ms",
                            json_real((long long) (secs * 1e6) / 1000.0));
    }
    if (state != NULL) {
        json_object_set_new(f, "state", json_string(state));
    }
    if (error != NULL) {
        json_object_set_new(f, "error", json_string(error));
    }
    cc_log_fields(level, msg, f);
}


static void
count(worker_runner_t *r, unsigned long long *counter, double secs)
{
    pthread_mutex_lock(&r->lock);
    (*counter)++;
    if (secs > 0) {
        r->stats.seconds += secs;
    }
    pthread_mutex_unlock(&r->lock);
}


/*
 * Runs the handler inside the job's tenant transaction and completes the
 * job there.  Returns 0 when the job committed as succeeded, 1 when the
 * lease was lost (all rolled back), -1 when the handler failed or the
 * database did (rolled back; run->error says why).
 */
static int
run_in_transaction(worker_runner_t *r, PGconn *conn, worker_run_t *run,
                   worker_handler_pt handler)
{
    int  done;

    if (cc_db_begin_tenant(conn, run->job->tenant) != 0) {
        return worker_run_failed(run, 1, "could not begin the transaction");
    }
    if (handler(run) != 0) {
        cc_db_rollback(conn);
        return -1;
    }

    done = cc_jobq_complete(conn, run->job, run->result);
    if (done == 1) {
        if (cc_db_commit(conn) != 0) {
            /* Nothing is recorded; the lease will run out and the job
             * will be run again. */
            return worker_run_failed(run, 1, "commit failed");
        }
        return 0;
    }
    cc_db_rollback(conn);
    if (done == 0) {
        return 1;
    }
    return worker_run_failed(run, 1, "could not record completion");
}


static void
record_failure(worker_runner_t *r, PGconn *conn, worker_run_t *run,
               double secs)
{
    const cc_config_t  *cfg = r->cfg;
    char                state[16];

    if (PQstatus(conn) != CONNECTION_OK) {
        log_job(CC_LOG_WARN, "job failed; database gone, lease will expire",
                run->job, secs, NULL, run->error);
        count(r, &r->stats.failed, secs);
        return;
    }
    if (cc_jobq_fail(conn, run->job, run->error, run->retryable,
                     cfg->job_backoff_base_ms, cfg->job_backoff_max_ms,
                     run->retry_after_ms, state) != 0)
    {
        log_job(CC_LOG_ERROR, "job failed; failure not recorded", run->job,
                secs, NULL, run->error);
        count(r, &r->stats.failed, secs);
        return;
    }

    if (state[0] == '\0') {
        log_job(CC_LOG_WARN, "job failed after its lease was lost",
                run->job, secs, NULL, run->error);
        count(r, &r->stats.lease_lost, secs);
        return;
    }
    log_job(CC_LOG_WARN, "job failed", run->job, secs, state, run->error);
    count(r, &r->stats.failed, secs);
    if (strcmp(state, "queued") == 0) {
        count(r, &r->stats.retried, 0);
    } else {
        count(r, &r->stats.dead, 0);
    }
}


static void
run_job(worker_runner_t *r, PGconn *conn, const cc_job_t *job)
{
    struct timespec     t0;
    worker_handler_pt   handler;
    worker_run_t        run;
    double              secs;
    int                 rc;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    log_job(CC_LOG_INFO, "job started", job, -1, NULL, NULL);
    count(r, &r->stats.claimed, 0);

    memset(&run, 0, sizeof(run));
    run.job = job;
    run.conn = conn;
    run.worker_id = r->cfg->worker_id;
    run.retry_after_ms = -1;
    run.lease_lost = worker_heartbeat_watch(r->heartbeat, job);

    handler = worker_handler_for(job->kind);
    if (handler == NULL) {
        rc = worker_run_failed(&run, 0, "no handler for this kind of job");
    } else {
        rc = run_in_transaction(r, conn, &run, handler);
    }
    worker_heartbeat_unwatch(r->heartbeat);
    secs = seconds_since(&t0);

    if (rc == 0) {
        log_job(CC_LOG_INFO, "job succeeded", job, secs, "succeeded", NULL);
        count(r, &r->stats.succeeded, secs);
        if (run.after_commit != NULL) {
            run.after_commit(&run);
        }
    } else if (rc == 1) {
        log_job(CC_LOG_WARN, "job lease lost; its work was rolled back",
                job, secs, NULL, NULL);
        count(r, &r->stats.lease_lost, secs);
    } else {
        record_failure(r, conn, &run, secs);
    }
    json_decref(run.result);
    json_decref(run.after_commit_data);
}


/*
 * Claims one job and runs it.  Returns 1 when a job ran, else how long the
 * loop may sleep (as a negative number of ms is awkward, it goes through
 * *wait_ms) and 0.
 */
static int
claim_and_run(worker_runner_t *r, int *wait_ms)
{
    const cc_config_t  *cfg = r->cfg;
    PGconn             *conn;
    cc_job_t            job;
    long long           next;
    int                 claimed;

    *wait_ms = cfg->job_poll_ms < RUNNER_ERROR_WAIT_MS
               ? cfg->job_poll_ms : RUNNER_ERROR_WAIT_MS;

    conn = cc_db_acquire(r->pool, CC_DB_ACQUIRE_MS);
    if (conn == NULL) {
        return 0;
    }

    claimed = cc_jobq_claim(conn, cfg->worker_id, cfg->job_lease_seconds,
                            &job);
    if (claimed == 1) {
        run_job(r, conn, &job);
        cc_job_clear(&job);
        cc_db_release(r->pool, conn);
        return 1;
    }

    if (claimed == 0) {
        next = cc_jobq_ms_until_next(conn);
        if (next < 0 || next > cfg->job_poll_ms) {
            *wait_ms = cfg->job_poll_ms;
        } else if (next == 0) {
            *wait_ms = RUNNER_BUSY_RETRY_MS;
        } else {
            *wait_ms = (int) next;
        }
    }
    cc_db_release(r->pool, conn);
    return 0;
}


void
worker_runner_loop(worker_runner_t *r)
{
    int  wait_ms;

    while (!cc_signal_shutdown_requested()) {
        if (worker_listener_ensure(&r->listener) == 0) {
            /* Notifications that arrived while busy: the claim below
             * sees their jobs anyway. */
            worker_listener_drain(&r->listener);
        }
        if (claim_and_run(r, &wait_ms)) {
            continue;
        }
        worker_listener_wait(&r->listener, wait_ms, cc_signal_fd());
    }
}


int
worker_runner_init(worker_runner_t *r, const cc_config_t *cfg,
                   cc_db_pool_t *pool)
{
    memset(r, 0, sizeof(*r));
    r->cfg = cfg;
    r->pool = pool;
    r->listener.conninfo = cfg->database_url;
    pthread_mutex_init(&r->lock, NULL);
    r->heartbeat = worker_heartbeat_start(pool, cfg->job_lease_seconds);
    return r->heartbeat ? 0 : -1;
}


void
worker_runner_close(worker_runner_t *r)
{
    worker_heartbeat_stop(r->heartbeat);
    r->heartbeat = NULL;
    worker_listener_close(&r->listener);
}


int
worker_runner_healthy(void *arg)
{
    worker_runner_t  *r = arg;

    return r->listener.up;
}


void
worker_runner_collect(FILE *out, void *arg)
{
    worker_runner_t  *r = arg;
    worker_stats_t    s;

    pthread_mutex_lock(&r->lock);
    s = r->stats;
    pthread_mutex_unlock(&r->lock);

    fprintf(out,
            "# HELP cc_jobs_claimed_total Jobs claimed by this worker.\n"
            "# TYPE cc_jobs_claimed_total counter\n"
            "cc_jobs_claimed_total %llu\n"
            "# HELP cc_jobs_processed_total Jobs completed successfully.\n"
            "# TYPE cc_jobs_processed_total counter\n"
            "cc_jobs_processed_total %llu\n"
            "# HELP cc_jobs_failed_total Failed job attempts, by what "
            "became of the job.\n"
            "# TYPE cc_jobs_failed_total counter\n"
            "cc_jobs_failed_total{outcome=\"retry\"} %llu\n"
            "cc_jobs_failed_total{outcome=\"final\"} %llu\n"
            "cc_jobs_failed_total{outcome=\"unrecorded\"} %llu\n"
            "# HELP cc_jobs_lease_lost_total Runs rolled back because "
            "the lease was lost.\n"
            "# TYPE cc_jobs_lease_lost_total counter\n"
            "cc_jobs_lease_lost_total %llu\n"
            "# HELP cc_job_lease_extensions_total Lease extensions made "
            "by the heartbeat.\n"
            "# TYPE cc_job_lease_extensions_total counter\n"
            "cc_job_lease_extensions_total %llu\n"
            "# HELP cc_job_seconds_total Time spent running jobs.\n"
            "# TYPE cc_job_seconds_total counter\n"
            "cc_job_seconds_total %.6f\n",
            s.claimed, s.succeeded, s.retried, s.dead,
            s.failed - s.retried - s.dead, s.lease_lost,
            worker_heartbeat_extensions(r->heartbeat), s.seconds);
}
