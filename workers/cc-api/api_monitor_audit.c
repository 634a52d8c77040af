/*
 * The tenant's audit log: written by every staff API write in the write's
 * own transaction, read newest first by Tenant Admins.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_monitor_audit.h"
#include "api_monitor_run.h"
#include "cc_db.h"


int
api_monitor_audit_write(PGconn *conn, const api_monitor_scope_t *scope,
                        const char *action, const char *target,
                        const json_t *detail)
{
    const char  *params[4];
    char        *text;
    int          rc;

    text = json_dumps(detail, JSON_COMPACT);
    if (text == NULL) {
        return -1;
    }
    params[0] = scope->actor;
    params[1] = action;
    params[2] = target;
    params[3] = text;
    rc = cc_db_command(conn,
        "INSERT INTO audit_log (tenant_id, actor, action, target, detail) "
        "VALUES (cc_current_tenant(), $1, $2, $3, $4::jsonb)",
        4, params);
    free(text);
    return rc;
}


int
api_monitor_audit_cross_tenant(PGconn *conn, const cc_request_t *req,
                               const api_monitor_scope_t *scope)
{
    const char  *params[4];
    char         target[256];

    snprintf(target, sizeof(target), "%s %s", req->method, req->path);
    params[0] = scope->actor;
    params[1] = target;
    params[2] = req->identity.tenant;
    return cc_db_command(conn,
        "INSERT INTO audit_log (tenant_id, actor, action, target, detail) "
        "VALUES (cc_current_tenant(), $1, 'cross_tenant_access', $2, "
        "        jsonb_build_object('from_tenant', $3::text))",
        3, params);
}


void
api_monitor_audit_list(cc_request_t *req, cc_reply_t *rep)
{
    api_monitor_scope_t  scope;
    api_monitor_stmt_t   st;
    char                 limit[8];
    const char          *cursor;

    if (api_monitor_admit(req, rep, API_MONITOR_ADMINISTER, &scope) != 0
        || api_monitor_limit(req, rep, limit, sizeof(limit)) != 0)
    {
        return;
    }
    cursor = api_monitor_query(req, "cursor");
    if (cursor != NULL && !api_monitor_ordinal_valid(cursor)) {
        api_monitor_fail(rep, 400, "cursor_invalid", "cursor is not ours");
        return;
    }

    memset(&st, 0, sizeof(st));
    st.sql =
        "WITH page AS ("
        "  SELECT id, at, actor, action, target, detail FROM audit_log"
        "   WHERE tenant_id = cc_current_tenant()"
        "     AND ($2::bigint IS NULL OR id < $2::bigint)"
        "     AND ($3::text IS NULL OR action = $3)"
        "   ORDER BY id DESC LIMIT $1::int + 1) "
        "SELECT json_build_object("
        "  'items', coalesce((SELECT json_agg(json_build_object("
        "      'id', p.id, 'at', p.at, 'actor', p.actor,"
        "      'action', p.action, 'target', p.target, 'detail', p.detail)"
        "      ORDER BY p.id DESC)"
        "    FROM (SELECT * FROM page ORDER BY id DESC LIMIT $1::int) p),"
        "    '[]'),"
        "  'nextCursor', CASE WHEN (SELECT count(*) FROM page) > $1::int"
        "    THEN (SELECT min(id)::text FROM (SELECT id FROM page"
        "          ORDER BY id DESC LIMIT $1::int) q) END)";
    st.nparams = 3;
    st.params[0] = limit;
    st.params[1] = cursor;
    st.params[2] = api_monitor_query(req, "action");
    if (api_monitor_run(req, &scope, &st) != 0) {
        api_monitor_answer_failure(rep, &st);
        return;
    }
    api_monitor_answer(rep, &st, 200, "not_found");
}
