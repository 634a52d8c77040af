/*
 * The retention purge: for each tenant with expired sessions (or devices
 * left without any), batches of cc_retention_purge_batch() in short
 * transactions of their own, then one audit row and one log line with the
 * counts.
 */

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cc_log.h"
#include "cc_metrics.h"
#include "cc_signal.h"
#include "retention_purge.h"


/* How many tenants the job result lists one by one. */
#define RETENTION_REPORT_TENANTS  100

/* How long finished periodic jobs stay in the queue's table. */
#define RETENTION_PERIODIC_JOB_DAYS  30

typedef struct {
    long long  batches;
    long long  sessions;
    long long  events;
    long long  trace;
    long long  errors;          /* agent_errors of the sessions */
    long long  devices;         /* devices left without a session */
    long long  reports;         /* agent reports past retention by age */
    long long  jobs;            /* finished periodic jobs */
} retention_counts_t;

/* What the handler is given at start-up, and the totals for /metrics. */
static struct {
    cc_db_pool_t        *pool;
    int                  batch_size;
    pthread_mutex_t      lock;
    retention_counts_t   total;
} retention = { NULL, 500, PTHREAD_MUTEX_INITIALIZER,
                { 0, 0, 0, 0, 0, 0, 0, 0 } };


void
retention_purge_setup(cc_db_pool_t *pool, int batch_size)
{
    retention.pool = pool;
    retention.batch_size = batch_size;
}


static long long
column_ll(const PGresult *res, int col)
{
    return strtoll(PQgetvalue(res, 0, col), NULL, 10);
}


/* One batch in its own transaction.  Returns 0 (with *more set) or -1. */
static int
purge_one_batch(PGconn *conn, const char *tenant, retention_counts_t *c,
                int *more)
{
    PGresult    *res;
    const char  *params[1];
    char         limit[16];
    int          ok;

    if (cc_db_begin_tenant(conn, tenant) != 0) {
        return -1;
    }
    snprintf(limit, sizeof(limit), "%d", retention.batch_size);
    params[0] = limit;
    res = cc_db_query(conn, "SELECT sessions, events, trace, errors,"
                            "       devices, more"
                            "  FROM cc_retention_purge_batch($1::integer)",
                      1, params);
    ok = cc_db_result_ok(res) && PQntuples(res) == 1;
    if (ok) {
        c->sessions += column_ll(res, 0);
        c->events += column_ll(res, 1);
        c->trace += column_ll(res, 2);
        c->errors += column_ll(res, 3);
        c->devices += column_ll(res, 4);
        *more = (PQgetvalue(res, 0, 5)[0] == 't');
    }
    PQclear(res);

    if (!ok || cc_db_commit(conn) != 0) {
        cc_db_rollback(conn);
        return -1;
    }
    c->batches++;
    return 0;
}


/*
 * Batches until a batch comes back short.  Returns 0 when the tenant is
 * done, 1 when the run must stop early (lease lost, shutdown), -1 when a
 * batch failed.  Batches committed before either stay done.
 */
static int
purge_tenant(worker_run_t *run, PGconn *conn, const char *tenant,
             retention_counts_t *c)
{
    int  more = 1;

    while (more) {
        if (*run->lease_lost || cc_signal_shutdown_requested()) {
            return 1;
        }
        if (purge_one_batch(conn, tenant, c, &more) != 0) {
            return -1;
        }
    }
    return 0;
}


static json_t *
counts_json(const retention_counts_t *c)
{
    return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I}",
                     "batches", (json_int_t) c->batches,
                     "sessions", (json_int_t) c->sessions,
                     "events", (json_int_t) c->events,
                     "trace", (json_int_t) c->trace,
                     "errors", (json_int_t) c->errors,
                     "devices", (json_int_t) c->devices);
}


/* The tenant's audit row, in a transaction of its own: batches already
 * committed are recorded even when a later one failed. */
static void
audit_tenant_purge(PGconn *conn, const char *tenant, const char *job_target,
                   json_t *detail)
{
    const char  *params[2];
    char        *text;

    text = json_dumps(detail, JSON_COMPACT);
    if (text == NULL) {
        return;
    }
    params[0] = job_target;
    params[1] = text;
    if (cc_db_begin_tenant(conn, tenant) != 0
        || cc_db_command(conn,
                         "INSERT INTO audit_log"
                         "  (tenant_id, actor, action, target, detail)"
                         " VALUES (cc_current_tenant(), 'cc-worker',"
                         "  'retention.purge', $1, $2::jsonb)",
                         2, params) != 0
        || cc_db_commit(conn) != 0)
    {
        cc_db_rollback(conn);
        cc_log_fields(CC_LOG_WARN, "retention purge not audited",
                      json_pack("{s:s}", "tenant", tenant));
    }
    free(text);
}


static void
add_counts(retention_counts_t *to, const retention_counts_t *c)
{
    to->batches += c->batches;
    to->sessions += c->sessions;
    to->events += c->events;
    to->trace += c->trace;
    to->errors += c->errors;
    to->devices += c->devices;
    to->reports += c->reports;
    to->jobs += c->jobs;
}


/* The platform's job lists the due tenants; a tenant's job, itself. */
static PGresult *
query_tenants(worker_run_t *run)
{
    if (run->job->tenant[0] == '\0') {
        return cc_db_query(run->conn,
                           "SELECT tenant_id, retention_days"
                           "  FROM cc_retention_due_tenants()", 0, NULL);
    }
    return cc_db_query(run->conn,
                       "SELECT s.tenant_id, s.retention_days"
                       "  FROM cc_monitor_settings(cc_current_tenant()) s",
                       0, NULL);
}


/*
 * Purges each tenant of res on conn, filling total and per_tenant.
 * Returns as purge_tenant() does for the first tenant that did not finish.
 */
static int
purge_tenants(worker_run_t *run, PGconn *conn, const PGresult *res,
              retention_counts_t *total, json_t *per_tenant)
{
    retention_counts_t   c;
    const char          *tenant;
    char                 target[48];
    json_t              *detail;
    int                  i, days, rc = 0;

    snprintf(target, sizeof(target), "job:%lld", run->job->id);
    for (i = 0; i < PQntuples(res) && rc == 0; i++) {
        tenant = PQgetvalue(res, i, 0);
        days = atoi(PQgetvalue(res, i, 1));
        memset(&c, 0, sizeof(c));

        rc = purge_tenant(run, conn, tenant, &c);

        detail = counts_json(&c);
        json_object_set_new(detail, "retention_days", json_integer(days));
        json_object_set_new(detail, "complete", json_boolean(rc == 0));
        audit_tenant_purge(conn, tenant, target, detail);
        json_object_set_new(detail, "tenant", json_string(tenant));
        cc_log_fields(CC_LOG_INFO, "retention purge of a tenant",
                      json_deep_copy(detail));
        if (i < RETENTION_REPORT_TENANTS) {
            json_array_append(per_tenant, detail);
        }
        json_decref(detail);
        add_counts(total, &c);
    }
    return rc;
}


static void
count_totals(const retention_counts_t *total)
{
    pthread_mutex_lock(&retention.lock);
    add_counts(&retention.total, total);
    pthread_mutex_unlock(&retention.lock);
}


/* A platform run also purges agent reports by age and finished periodic
 * jobs, in the job's own transaction: they are few, and so commit with
 * the job. */
static int
purge_reports(worker_run_t *run, retention_counts_t *total)
{
    PGresult    *res;
    const char  *params[1];
    char         days[16];
    int          ok;

    if (run->job->tenant[0] != '\0') {
        return 0;
    }
    snprintf(days, sizeof(days), "%d", RETENTION_PERIODIC_JOB_DAYS);
    params[0] = days;
    res = cc_db_query(run->conn,
                      "SELECT cc_retention_purge_reports(),"
                      "       cc_retention_purge_periodic_jobs($1::integer)",
                      1, params);
    ok = cc_db_result_ok(res) && PQntuples(res) == 1;
    if (ok) {
        total->reports = column_ll(res, 0);
        total->jobs = column_ll(res, 1);
    }
    PQclear(res);
    return ok ? 0 : -1;
}


int
retention_purge_run(worker_run_t *run)
{
    retention_counts_t   total;
    PGresult            *res;
    PGconn              *conn;
    json_t              *per_tenant;
    int                  rc, ntenants;

    res = query_tenants(run);
    if (!cc_db_result_ok(res)) {
        PQclear(res);
        return worker_run_failed(run, 1, "could not list the tenants due "
                                 "for a purge");
    }
    ntenants = PQntuples(res);

    conn = ntenants ? cc_db_acquire(retention.pool, CC_DB_ACQUIRE_MS) : NULL;
    if (ntenants && conn == NULL) {
        PQclear(res);
        return worker_run_failed(run, 1, "no connection for purge batches");
    }

    memset(&total, 0, sizeof(total));
    per_tenant = json_array();
    rc = ntenants ? purge_tenants(run, conn, res, &total, per_tenant) : 0;
    if (conn != NULL) {
        cc_db_release(retention.pool, conn);
    }
    PQclear(res);

    if (rc == 0 && purge_reports(run, &total) != 0) {
        count_totals(&total);
        json_decref(per_tenant);
        return worker_run_failed(run, 1, "could not purge agent reports");
    }
    count_totals(&total);

    if (rc != 0) {
        json_decref(per_tenant);
        return worker_run_failed(run, 1, "purge stopped %s after %lld "
                                 "sessions; the next run goes on",
                                 rc > 0 ? "early" : "on a failed batch",
                                 total.sessions);
    }
    run->result = counts_json(&total);
    json_object_set_new(run->result, "tenants", json_integer(ntenants));
    json_object_set_new(run->result, "reports",
                        json_integer((json_int_t) total.reports));
    json_object_set_new(run->result, "periodic_jobs",
                        json_integer((json_int_t) total.jobs));
    cc_log_fields(CC_LOG_INFO, "retention purge done",
                  json_deep_copy(run->result));
    json_object_set_new(run->result, "per_tenant", per_tenant);
    return 0;
}


void
retention_purge_collect(FILE *out, void *unused)
{
    retention_counts_t  t;

    pthread_mutex_lock(&retention.lock);
    t = retention.total;
    pthread_mutex_unlock(&retention.lock);

    fprintf(out,
            "# HELP cc_retention_purged_total Rows deleted by retention "
            "purges, by what they were.\n"
            "# TYPE cc_retention_purged_total counter\n"
            "cc_retention_purged_total{what=\"sessions\"} %lld\n"
            "cc_retention_purged_total{what=\"events\"} %lld\n"
            "cc_retention_purged_total{what=\"trace\"} %lld\n"
            "cc_retention_purged_total{what=\"agent_errors\"} %lld\n"
            "cc_retention_purged_total{what=\"devices\"} %lld\n"
            "cc_retention_purged_total{what=\"agent_reports\"} %lld\n"
            "# HELP cc_retention_batches_total Purge transactions "
            "committed.\n"
            "# TYPE cc_retention_batches_total counter\n"
            "cc_retention_batches_total %lld\n",
            t.sessions, t.events, t.trace, t.errors,
            t.devices, t.reports, t.batches);
}
