/*
 * The "retention.purge" job: deletes every tenant's enrollment sessions
 * whose last activity is older than the tenant's retention (Monitor
 * settings, default 90 days), with their events, trace and sequence
 * numbers, in batches of CC_RETENTION_BATCH_SIZE sessions.
 *
 * Why batches commit on their own: a purge of months of data in the job's
 * transaction would hold row locks for minutes and stall ingest.  Each
 * batch is one short transaction on a second pool connection, under the
 * tenant's row-level security; sessions that ingest holds are skipped
 * (SKIP LOCKED) and taken by a later run.  Deleting is idempotent, so a
 * run that stops half way (lost lease, shutdown, database error) loses
 * nothing: the next run goes on from where it stopped.
 *
 * A platform job purges every tenant that has expired sessions; a job of
 * one tenant purges that tenant only.  Each tenant's purge leaves one
 * audit row (action retention.purge, its counts) and one log line (counts
 * and tenant id, nothing personal).
 *
 * The agents' reports (sql/007: agent_errors, distress_reports) go too,
 * when those tables exist: a session's errors with its batch, and a
 * platform run deletes every report received before its tenant's
 * retention, in the job's own transaction, and the finished periodic jobs
 * older than RETENTION_PERIODIC_JOB_DAYS (30) from the queue's table.
 *
 * Result: {"tenants": N, "batches": N, "sessions": N, "events": N,
 *          "trace": N, "sequences": N, "errors": N, "reports": N,
 *          "periodic_jobs": N,
 *          "per_tenant": [{"tenant", "retention_days", "complete",
 *                          "batches", "sessions", "events", "trace",
 *                          "sequences", "errors"}]}
 * (per_tenant holds the first RETENTION_REPORT_TENANTS tenants).
 */

#ifndef RETENTION_PURGE_H
#define RETENTION_PURGE_H

#include <stdio.h>

#include "cc_db.h"
#include "worker_handlers.h"

/* Gives the handler its pool (for the batch connection) and batch size;
 * called once before the runner starts. */
void retention_purge_setup(cc_db_pool_t *pool, int batch_size);

int retention_purge_run(worker_run_t *run);

/* A cc_metrics collector: cc_retention_purged_total{what=...}. */
void retention_purge_collect(FILE *out, void *unused);

#endif /* RETENTION_PURGE_H */
