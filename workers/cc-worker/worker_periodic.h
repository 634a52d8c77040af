/*
 * Periodic jobs: a thread that enqueues each job of a table once per
 * interval, so that the job runners (this process's and every other
 * worker's) run it.
 *
 * Why through the queue: with several cc-worker processes, each one's
 * thread asks for the job of the current time bucket, and the queue's
 * idempotency key (kind and bucket, sql/011_retention.sql
 * cc_periodic_enqueue) makes all but the first ask a no-op; the job then
 * runs once, with the queue's leases and retries.
 *
 * Adding a periodic job is one line in the table at the top of
 * worker_periodic.c, as sessions.sweep was:
 *
 *     { "sessions.sweep", offsetof(cc_config_t, sweep_interval_seconds) },
 *
 * naming the kind (which needs a handler in worker_handlers.c) and the int
 * field of cc_config_t that holds its interval in seconds (0 = never); a
 * new field is a new CC_* key in cc_config.  Periodic jobs are platform
 * jobs (no tenant); their payload is {"bucket": N}.  CC_PERIODIC_JOBS=off
 * stops this thread from enqueueing anything (the test harness's default).
 */

#ifndef WORKER_PERIODIC_H
#define WORKER_PERIODIC_H

#include "cc_config.h"
#include "cc_db.h"

typedef struct worker_periodic worker_periodic_t;

/* Starts the thread; NULL on failure.  With CC_PERIODIC_JOBS off it
 * starts nothing and returns a handle that stop accepts. */
worker_periodic_t *worker_periodic_start(const cc_config_t *cfg,
                                         cc_db_pool_t *pool);

/* Stops the thread and frees p (NULL is fine). */
void worker_periodic_stop(worker_periodic_t *p);

/* A cc_metrics collector: cc_periodic_enqueued_total. */
void worker_periodic_collect(FILE *out, void *p);

#endif /* WORKER_PERIODIC_H */
