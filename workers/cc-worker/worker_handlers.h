/*
 * The job handlers cc-worker knows, by kind, and what a handler is given
 * and gives back.
 *
 * A handler runs on a connection that is already inside a transaction with
 * cc.tenant_id set to the job's tenant.  It does its database work there and
 * returns; the runner then completes the job in that same transaction, so
 * the work commits if and only if the job is recorded as done.  Outside
 * effects (HTTP calls) must be idempotent: a lost lease means another run.
 */

#ifndef WORKER_HANDLERS_H
#define WORKER_HANDLERS_H

#include <jansson.h>
#include <libpq-fe.h>

#include "cc_jobq.h"

typedef struct worker_run {
    const cc_job_t      *job;
    PGconn              *conn;
    const char          *worker_id;
    volatile const int  *lease_lost;    /* set by the heartbeat */

    /* Set by the handler. */
    json_t              *result;        /* on success; owned by the run */

    /*
     * What must happen only once the job's work has committed (a
     * live-view message, say): after_commit is called with the run after
     * COMMIT succeeded, never after a rollback.  after_commit_data is
     * owned by the run and released in either case.
     */
    void               (*after_commit)(struct worker_run *run);
    json_t              *after_commit_data;
    char                 error[512];    /* on failure; no personal data */
    int                  retryable;     /* on failure */
    int                  retry_after_ms;    /* on failure; -1 = none */
} worker_run_t;

/* Returns 0 on success, -1 on failure (with error and retryable set). */
typedef int (*worker_handler_pt)(worker_run_t *run);

/* The handler for kind, or NULL when this worker has none. */
worker_handler_pt worker_handler_for(const char *kind);

/* Fills run with a failure; returns -1 for the handler to return. */
int worker_run_failed(worker_run_t *run, int retryable, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif /* WORKER_HANDLERS_H */
