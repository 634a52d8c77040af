/*
 * The partition job: one call of cc_retention_maintain_partitions() in the
 * job's transaction, its answer turned into the job result.
 */

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cc_db.h"
#include "cc_log.h"
#include "retention_partitions.h"


/* lock_not_available: the lock_timeout ran out while ingest held events. */
#define SQLSTATE_LOCK_NOT_AVAILABLE  "55P03"

static struct {
    pthread_mutex_t     lock;
    unsigned long long  created;
    unsigned long long  dropped;
} partitions = { PTHREAD_MUTEX_INITIALIZER, 0, 0 };


static void
count_changes(json_t *result)
{
    pthread_mutex_lock(&partitions.lock);
    partitions.created += json_array_size(json_object_get(result, "created"));
    partitions.dropped += json_array_size(json_object_get(result, "dropped"));
    pthread_mutex_unlock(&partitions.lock);
}


int
retention_partitions_run(worker_run_t *run)
{
    PGresult    *res;
    const char  *params[1];
    char         ahead[16];
    json_t      *result;
    int          lock_timeout;

    snprintf(ahead, sizeof(ahead), "%d", RETENTION_MONTHS_AHEAD);
    params[0] = ahead;
    res = cc_db_query(run->conn,
                      "SELECT json_build_object('created', created,"
                      "  'dropped', dropped, 'keep_days', keep_days)"
                      "  FROM cc_retention_maintain_partitions($1::integer)",
                      1, params);
    if (!cc_db_result_ok(res) || PQntuples(res) != 1) {
        lock_timeout = strcmp(cc_db_sqlstate(res),
                              SQLSTATE_LOCK_NOT_AVAILABLE) == 0;
        PQclear(res);
        return worker_run_failed(run, 1, lock_timeout
                                 ? "events was busy (lock timeout); "
                                   "partitions unchanged"
                                 : "partition maintenance failed");
    }
    result = json_loads(PQgetvalue(res, 0, 0), 0, NULL);
    PQclear(res);
    if (result == NULL) {
        return worker_run_failed(run, 1, "unreadable partition report");
    }

    count_changes(result);
    cc_log_fields(CC_LOG_INFO, "event partitions maintained",
                  json_deep_copy(result));
    run->result = result;
    return 0;
}


void
retention_partitions_collect(FILE *out, void *unused)
{
    unsigned long long  created, dropped;

    pthread_mutex_lock(&partitions.lock);
    created = partitions.created;
    dropped = partitions.dropped;
    pthread_mutex_unlock(&partitions.lock);

    fprintf(out,
            "# HELP cc_retention_partitions_total Event partitions "
            "created ahead or dropped whole.\n"
            "# TYPE cc_retention_partitions_total counter\n"
            "cc_retention_partitions_total{change=\"created\"} %llu\n"
            "cc_retention_partitions_total{change=\"dropped\"} %llu\n",
            created, dropped);
}
