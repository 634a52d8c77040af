/*
 * The lease heartbeat: while a job runs, a thread extends its lease every
 * lease/3 seconds on a pool connection of its own.
 *
 * Why a thread: the job's own connection is busy inside the handler's
 * transaction (and an extension made there would only count at commit), and
 * handlers should not have to remember to call back between steps.  The
 * heartbeat's extension commits at once, so other workers see the lease
 * move.  If an extension finds the lease gone, it raises lease_lost, which
 * long handlers may poll to stop early; the completion then fails and the
 * runner rolls the work back.
 */

#ifndef WORKER_HEARTBEAT_H
#define WORKER_HEARTBEAT_H

#include "cc_db.h"
#include "cc_jobq.h"

typedef struct worker_heartbeat worker_heartbeat_t;

worker_heartbeat_t *worker_heartbeat_start(cc_db_pool_t *pool,
                                           int lease_seconds);

/* Starts extending job's lease; returns the flag raised when it is lost. */
volatile const int *worker_heartbeat_watch(worker_heartbeat_t *hb,
                                           const cc_job_t *job);

/* Stops extending (the job is finished). */
void worker_heartbeat_unwatch(worker_heartbeat_t *hb);

/* Number of extensions made so far (for metrics). */
unsigned long long worker_heartbeat_extensions(worker_heartbeat_t *hb);

void worker_heartbeat_stop(worker_heartbeat_t *hb);

#endif /* WORKER_HEARTBEAT_H */
