/*
 * Enqueueing and reading jobs over the API.  Both run in a transaction for
 * the caller's tenant, so row-level security decides what exists: another
 * tenant's job is simply not found.
 */

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_app.h"
#include "api_jobs.h"
#include "cc_db.h"
#include "cc_log.h"


#define JOB_KEY_MAX  200

/* Kinds a caller may enqueue directly; the others are the platform's. */
static const char  *api_job_kinds[] = { "noop" };

#define JOB_TIMESTAMP(col) \
    "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

/* The columns of the job JSON, in its order. */
#define JOB_COLUMNS                                                     \
    "j.id, j.kind, j.state, j.attempts, j.max_attempts, j.result, "     \
    "j.last_error, " JOB_TIMESTAMP("j.created_at") ", "                 \
    JOB_TIMESTAMP("j.updated_at") ", " JOB_TIMESTAMP("j.finished_at")

/* A query and its parameters, run inside the tenant transaction. */
typedef struct {
    const char   *sql;
    int           nparams;
    const char   *params[3];
    PGresult     *res;      /* the result, on success */
    char          sqlstate[6];
} job_query_t;

/* Work codes beyond those of cc_db. */
#define JOB_QUERY_FAILED  1


int
api_jobs_kind_allowed(const char *kind)
{
    size_t  i;

    for (i = 0; i < sizeof(api_job_kinds) / sizeof(api_job_kinds[0]); i++) {
        if (strcmp(kind, api_job_kinds[i]) == 0) {
            return 1;
        }
    }
    return 0;
}


static int
run_job_query(PGconn *conn, void *arg)
{
    job_query_t  *q = arg;

    q->res = cc_db_query(conn, q->sql, q->nparams, q->params);
    if (!cc_db_result_ok(q->res)) {
        snprintf(q->sqlstate, sizeof(q->sqlstate), "%s",
                 cc_db_sqlstate(q->res));
        PQclear(q->res);
        q->res = NULL;
        return JOB_QUERY_FAILED;
    }
    return 0;
}


static json_t *
text_or_null(const PGresult *res, int col)
{
    return PQgetisnull(res, 0, col) ? json_null()
                                    : json_string(PQgetvalue(res, 0, col));
}


/* The job JSON from row 0 of a JOB_COLUMNS result. */
static json_t *
job_to_json(const PGresult *res)
{
    json_t  *result;

    result = PQgetisnull(res, 0, 5)
             ? json_null() : json_loads(PQgetvalue(res, 0, 5), 0, NULL);

    return json_pack("{s:I,s:o,s:o,s:i,s:i,s:o,s:o,s:o,s:o,s:o}",
                     "id", (json_int_t) strtoll(PQgetvalue(res, 0, 0),
                                                NULL, 10),
                     "kind", text_or_null(res, 1),
                     "state", text_or_null(res, 2),
                     "attempts", atoi(PQgetvalue(res, 0, 3)),
                     "max_attempts", atoi(PQgetvalue(res, 0, 4)),
                     "result", result ? result : json_null(),
                     "last_error", text_or_null(res, 6),
                     "created_at", text_or_null(res, 7),
                     "updated_at", text_or_null(res, 8),
                     "finished_at", text_or_null(res, 9));
}


/* Answers a failed transaction; rc is what cc_db_tenant_tx() returned. */
static void
reply_db_failure(cc_reply_t *rep, int rc, const job_query_t *q)
{
    if (rc == CC_DB_UNAVAILABLE) {
        cc_reply_error(rep, CC_ERR_UNAVAILABLE,
                       "the database is not available; try again later");
    } else if (rc == JOB_QUERY_FAILED
               && strcmp(q->sqlstate, "23503") == 0)
    {
        /* The tenant row is missing: nginx's registry and the database
         * disagree, which a retry will not fix. */
        cc_reply_error(rep, CC_ERR_INVALID_REQUEST,
                       "the tenant is not known");
    } else {
        cc_reply_error(rep, CC_ERR_INTERNAL, "internal error");
    }
}


/* The idempotency key from the body or the Idempotency-Key header; -1
 * (with rep answered) when it is invalid or the two disagree. */
static int
find_idempotency_key(cc_request_t *req, json_t *body, cc_reply_t *rep,
                     const char **key)
{
    json_t      *v;
    const char  *header;

    *key = NULL;
    v = json_object_get(body, "idempotency_key");
    if (v != NULL && !json_is_null(v)) {
        if (!json_is_string(v)) {
            cc_reply_error(rep, CC_ERR_INVALID_REQUEST,
                           "idempotency_key must be a string");
            return -1;
        }
        *key = json_string_value(v);
    }

    header = cc_request_header(req, "Idempotency-Key");
    if (header != NULL) {
        if (*key != NULL && strcmp(*key, header) != 0) {
            cc_reply_error(rep, CC_ERR_INVALID_REQUEST, "the Idempotency-Key "
                           "header and idempotency_key differ");
            return -1;
        }
        *key = header;
    }

    if (*key != NULL && (strlen(*key) == 0 || strlen(*key) > JOB_KEY_MAX)) {
        cc_reply_error(rep, CC_ERR_INVALID_REQUEST,
                       "an idempotency key has 1 to %d characters",
                       JOB_KEY_MAX);
        return -1;
    }
    return 0;
}


/* Checks the members of a POST /api/jobs body; -1 with rep answered. */
static int
check_job_request(json_t *body, cc_reply_t *rep)
{
    const char  *name;
    json_t      *v, *kind, *payload;

    json_object_foreach(body, name, v) {
        if (strcmp(name, "kind") != 0 && strcmp(name, "payload") != 0
            && strcmp(name, "idempotency_key") != 0)
        {
            cc_reply_error(rep, CC_ERR_INVALID_REQUEST,
                           "unknown member in the request body");
            return -1;
        }
    }

    kind = json_object_get(body, "kind");
    if (!json_is_string(kind)) {
        cc_reply_error(rep, CC_ERR_INVALID_REQUEST,
                       "kind is required and must be a string");
        return -1;
    }
    if (!api_jobs_kind_allowed(json_string_value(kind))) {
        cc_reply_error(rep, CC_ERR_INVALID_REQUEST,
                       "this kind of job cannot be enqueued through the API");
        return -1;
    }

    payload = json_object_get(body, "payload");
    if (payload != NULL && !json_is_object(payload)) {
        cc_reply_error(rep, CC_ERR_INVALID_REQUEST,
                       "payload must be a JSON object");
        return -1;
    }
    return 0;
}


static void
reply_enqueued(cc_reply_t *rep, PGresult *res)
{
    json_t  *job;
    char     location[64];
    int      created;

    created = (strcmp(PQgetvalue(res, 0, 10), "t") == 0);
    job = job_to_json(res);
    snprintf(location, sizeof(location), "/api/jobs/%s",
             PQgetvalue(res, 0, 0));

    /* 202: accepted for processing; 200: this key's job already exists. */
    cc_reply_json(rep, created ? 202 : 200, job);
    cc_reply_header(rep, "Location", location);
}


void
api_jobs_post(cc_request_t *req, cc_reply_t *rep)
{
    api_app_t    *app = req->app;
    json_t       *body, *payload;
    const char   *key;
    char         *payload_text;
    job_query_t   q;
    int           rc;

    body = cc_request_object(req, rep);
    if (body == NULL || check_job_request(body, rep) != 0
        || find_idempotency_key(req, body, rep, &key) != 0)
    {
        return;
    }

    payload = json_object_get(body, "payload");
    payload_text = payload ? json_dumps(payload, JSON_COMPACT)
                           : strdup("{}");
    if (payload_text == NULL) {
        cc_reply_error(rep, CC_ERR_INTERNAL, "internal error");
        return;
    }

    /* A job created by this transaction has created_at = now(), the
     * transaction's start; one found by its idempotency key is older. */
    memset(&q, 0, sizeof(q));
    q.sql = "SELECT " JOB_COLUMNS ", j.created_at = now()"
            "  FROM cc_job_enqueue($1, $2::jsonb, $3) j";
    q.nparams = 3;
    q.params[0] = json_string_value(json_object_get(body, "kind"));
    q.params[1] = payload_text;
    q.params[2] = key;

    rc = cc_db_tenant_tx(app->pool, req->identity.tenant, run_job_query, &q);
    free(payload_text);
    if (rc != 0 || q.res == NULL || PQntuples(q.res) != 1) {
        reply_db_failure(rep, rc, &q);
        PQclear(q.res);
        return;
    }

    reply_enqueued(rep, q.res);
    PQclear(q.res);
}


/* Job ids are positive bigints; anything else names no job. */
static int
job_id_valid(const char *id)
{
    size_t  i, len;

    len = strlen(id);
    if (len == 0 || len > 18 || id[0] == '0') {
        return 0;
    }
    for (i = 0; i < len; i++) {
        if (!isdigit((unsigned char) id[i])) {
            return 0;
        }
    }
    return 1;
}


void
api_jobs_get(cc_request_t *req, cc_reply_t *rep)
{
    api_app_t    *app = req->app;
    const char   *id;
    job_query_t   q;
    int           rc;

    id = cc_request_param(req, "id");
    if (id == NULL || !job_id_valid(id)) {
        cc_reply_error(rep, CC_ERR_NOT_FOUND, "no such job");
        return;
    }

    memset(&q, 0, sizeof(q));
    q.sql = "SELECT " JOB_COLUMNS " FROM jobs j WHERE j.id = $1::bigint";
    q.nparams = 1;
    q.params[0] = id;

    rc = cc_db_tenant_tx(app->pool, req->identity.tenant, run_job_query, &q);
    if (rc != 0 || q.res == NULL) {
        reply_db_failure(rep, rc, &q);
        PQclear(q.res);
        return;
    }
    if (PQntuples(q.res) == 0) {
        cc_reply_error(rep, CC_ERR_NOT_FOUND, "no such job");
    } else {
        cc_reply_json(rep, 200, job_to_json(q.res));
    }
    PQclear(q.res);
}
