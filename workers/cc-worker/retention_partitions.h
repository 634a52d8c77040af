/*
 * The "retention.partitions" job: keeps the monthly partitions of events
 * (sql/005_monitor.sql) ahead of time and drops old ones whole.
 *
 * Partitions for this month and the next RETENTION_MONTHS_AHEAD months are
 * created if missing (rows that fell into events_default meanwhile move
 * into them); a partition whose month ended before the longest retention
 * of any tenant is dropped, which is far cheaper than deleting its rows
 * (a session active for longer than that loses its oldest months of
 * events: retention applies to the data, not only to whole sessions).
 * The work runs in the job's own transaction under a short lock_timeout
 * (sql/011_retention.sql): when ingest holds the table, the job fails with
 * a retryable error rather than stall ingest behind its lock.
 *
 * Result: {"created": [names], "dropped": [names], "keep_days": N}
 */

#ifndef RETENTION_PARTITIONS_H
#define RETENTION_PARTITIONS_H

#include <stdio.h>

#include "worker_handlers.h"

#define RETENTION_MONTHS_AHEAD  2

int retention_partitions_run(worker_run_t *run);

/* A cc_metrics collector: cc_retention_partitions_total{change=...}. */
void retention_partitions_collect(FILE *out, void *unused);

#endif /* RETENTION_PARTITIONS_H */
