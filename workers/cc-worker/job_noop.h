/*
 * The "noop" job: does nothing but what its payload asks (wait, fail), and
 * leaves one audit row per successful run.  It exists to exercise the queue.
 *
 * Payload: {"sleep_ms": 0..60000 (default 0),
 *           "fail_attempts": N (fail while attempt <= N, default 0),
 *           "fail": "transient" (default) | "permanent"}
 */

#ifndef JOB_NOOP_H
#define JOB_NOOP_H

#include "worker_handlers.h"

int job_noop_run(worker_run_t *run);

#endif /* JOB_NOOP_H */
