/*
 * Thin, parameterised calls of the job-queue SQL functions.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cc_db.h"
#include "cc_jobq.h"


void
cc_job_clear(cc_job_t *job)
{
    json_decref(job->payload);
    memset(job, 0, sizeof(*job));
}


static void
copy_field(char *dst, size_t len, const PGresult *res, const char *col)
{
    int  n;

    n = PQfnumber(res, col);
    dst[0] = '\0';
    if (n >= 0 && !PQgetisnull(res, 0, n)) {
        snprintf(dst, len, "%s", PQgetvalue(res, 0, n));
    }
}


static long long
integer_field(const PGresult *res, const char *col)
{
    int  n;

    n = PQfnumber(res, col);
    return (n >= 0 && !PQgetisnull(res, 0, n))
           ? strtoll(PQgetvalue(res, 0, n), NULL, 10) : 0;
}


int
cc_jobq_claim(PGconn *conn, const char *worker, int lease_seconds,
              cc_job_t *job)
{
    PGresult    *res;
    const char  *params[2];
    char         lease[16];
    int          n;

    snprintf(lease, sizeof(lease), "%d", lease_seconds);
    params[0] = worker;
    params[1] = lease;
    res = cc_db_query(conn,
                      "SELECT id, tenant_id, kind, payload, attempts,"
                      "       max_attempts, lease_token"
                      "  FROM cc_job_claim($1, $2::integer, NULL, 1)",
                      2, params);
    if (!cc_db_result_ok(res)) {
        PQclear(res);
        return -1;
    }
    if (PQntuples(res) == 0) {
        PQclear(res);
        return 0;
    }

    memset(job, 0, sizeof(*job));
    job->id = integer_field(res, "id");
    job->attempt = (int) integer_field(res, "attempts");
    job->max_attempts = (int) integer_field(res, "max_attempts");
    copy_field(job->tenant, sizeof(job->tenant), res, "tenant_id");
    copy_field(job->kind, sizeof(job->kind), res, "kind");
    copy_field(job->token, sizeof(job->token), res, "lease_token");

    n = PQfnumber(res, "payload");
    job->payload = json_loads(PQgetvalue(res, 0, n), 0, NULL);
    if (job->payload == NULL) {
        job->payload = json_object();
    }
    PQclear(res);
    return 1;
}


/* Runs a query returning one boolean: 1 true, 0 false or NULL, -1 error. */
static int
query_boolean(PGconn *conn, const char *sql, int nparams,
              const char *const *params)
{
    PGresult  *res;
    int        rc;

    res = cc_db_query(conn, sql, nparams, params);
    if (!cc_db_result_ok(res) || PQntuples(res) != 1) {
        PQclear(res);
        return -1;
    }
    rc = (strcmp(PQgetvalue(res, 0, 0), "t") == 0);
    PQclear(res);
    return rc;
}


int
cc_jobq_complete(PGconn *conn, const cc_job_t *job, json_t *result)
{
    const char  *params[3];
    char         id[24];
    char        *text;
    int          rc;

    text = result ? json_dumps(result, JSON_COMPACT) : strdup("{}");
    if (text == NULL) {
        return -1;
    }
    snprintf(id, sizeof(id), "%lld", job->id);
    params[0] = id;
    params[1] = job->token;
    params[2] = text;
    rc = query_boolean(conn,
                       "SELECT cc_job_complete($1::bigint, $2::uuid, "
                       "$3::jsonb)", 3, params);
    free(text);
    return rc;
}


int
cc_jobq_fail(PGconn *conn, const cc_job_t *job, const char *error,
             int retryable, int backoff_base_ms, int backoff_max_ms,
             int retry_after_ms, char *state)
{
    PGresult    *res;
    const char  *params[7];
    char         id[24], base[16], max[16], after[16];

    snprintf(id, sizeof(id), "%lld", job->id);
    snprintf(base, sizeof(base), "%d", backoff_base_ms);
    snprintf(max, sizeof(max), "%d", backoff_max_ms);
    snprintf(after, sizeof(after), "%d", retry_after_ms);
    params[0] = id;
    params[1] = job->token;
    params[2] = error;
    params[3] = retryable ? "true" : "false";
    params[4] = base;
    params[5] = max;
    params[6] = retry_after_ms >= 0 ? after : NULL;

    res = cc_db_query(conn,
                      "SELECT cc_job_fail($1::bigint, $2::uuid, $3, "
                      "$4::boolean, $5::integer, $6::integer, $7::integer)",
                      7, params);
    if (!cc_db_result_ok(res) || PQntuples(res) != 1) {
        PQclear(res);
        return -1;
    }
    snprintf(state, 16, "%s", PQgetisnull(res, 0, 0)
                              ? "" : PQgetvalue(res, 0, 0));
    PQclear(res);
    return 0;
}


int
cc_jobq_extend(PGconn *conn, const cc_job_t *job, int lease_seconds)
{
    const char  *params[3];
    char         id[24], lease[16];

    snprintf(id, sizeof(id), "%lld", job->id);
    snprintf(lease, sizeof(lease), "%d", lease_seconds);
    params[0] = id;
    params[1] = job->token;
    params[2] = lease;
    return query_boolean(conn,
                         "SELECT cc_job_extend($1::bigint, $2::uuid, "
                         "$3::integer)", 3, params);
}


long long
cc_jobq_ms_until_next(PGconn *conn)
{
    PGresult   *res;
    long long   ms;

    /* clock_timestamp(), not now(): now() is the start of a transaction
     * and would make a job look ready too early inside one. */
    res = cc_db_query(conn,
                      "SELECT greatest(0, ceil(extract(epoch FROM "
                      "cc_job_next_ready() - clock_timestamp()) * 1000))"
                      "::bigint", 0, NULL);
    if (!cc_db_result_ok(res) || PQntuples(res) != 1
        || PQgetisnull(res, 0, 0))
    {
        PQclear(res);
        return -1;
    }
    ms = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return ms;
}
