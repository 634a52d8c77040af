/*
 * Runs a Monitor handler's statement in its tenant's transaction and
 * audits it there (see api_monitor_run.h).
 */

#include <stdio.h>
#include <string.h>

#include "api_app.h"
#include "api_monitor_audit.h"
#include "api_monitor_run.h"
#include "cc_db.h"

#define RUN_FAILED  1

typedef struct {
    const cc_request_t          *req;
    const api_monitor_scope_t   *scope;
    api_monitor_stmt_t          *st;
} run_t;


static int
read_answer(PGconn *conn, api_monitor_stmt_t *st)
{
    PGresult  *res;

    res = cc_db_query(conn, st->sql, st->nparams, st->params);
    if (!cc_db_result_ok(res)) {
        snprintf(st->sqlstate, sizeof(st->sqlstate), "%s",
                 cc_db_sqlstate(res));
        PQclear(res);
        return RUN_FAILED;
    }
    if (PQntuples(res) > 0 && !PQgetisnull(res, 0, 0)) {
        st->json = json_loads(PQgetvalue(res, 0, 0), JSON_DECODE_ANY, NULL);
        if (st->json == NULL) {
            PQclear(res);
            return RUN_FAILED;      /* out of memory: nothing to answer */
        }
    }
    PQclear(res);
    return 0;
}


static int
run_in_tenant(PGconn *conn, void *arg)
{
    run_t               *r = arg;
    api_monitor_stmt_t  *st = r->st;

    if (r->scope->cross_tenant
        && api_monitor_audit_cross_tenant(conn, r->req, r->scope) != 0)
    {
        return RUN_FAILED;
    }
    if (read_answer(conn, st) != 0) {
        return RUN_FAILED;
    }
    if (st->json != NULL && st->audit_action != NULL
        && api_monitor_audit_write(conn, r->scope, st->audit_action,
                                   st->audit_target, st->json) != 0)
    {
        json_decref(st->json);
        st->json = NULL;
        return RUN_FAILED;
    }
    return 0;
}


int
api_monitor_run(const cc_request_t *req, const api_monitor_scope_t *scope,
                api_monitor_stmt_t *st)
{
    api_app_t  *app = req->app;
    run_t       r;

    st->json = NULL;
    st->sqlstate[0] = '\0';
    r.req = req;
    r.scope = scope;
    r.st = st;
    if (cc_db_tenant_tx(app->pool, scope->tenant, run_in_tenant, &r) != 0) {
        json_decref(st->json);
        st->json = NULL;
        return -1;
    }
    return 0;
}


void
api_monitor_answer(cc_reply_t *rep, api_monitor_stmt_t *st, int status,
                   const char *not_found_code)
{
    if (st->json == NULL) {
        api_monitor_fail(rep, 404, not_found_code, "not found");
        return;
    }
    if (status == 204) {
        json_decref(st->json);
        st->json = NULL;
        cc_reply_text(rep, 204, CC_CONTENT_JSON, "");
        return;
    }
    cc_reply_json(rep, status, st->json);
    st->json = NULL;
}


void
api_monitor_answer_failure(cc_reply_t *rep, const api_monitor_stmt_t *st)
{
    /* Class 22 is data exceptions: the request's own values. */
    if (strncmp(st->sqlstate, "22", 2) == 0) {
        api_monitor_fail(rep, 400, "parameter_invalid",
                         "a parameter could not be read");
        return;
    }
    api_monitor_fail(rep, 503, "unavailable",
                     "the data could not be reached; try again shortly");
}
