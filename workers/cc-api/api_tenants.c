/*
 * A tenant's own record over the API.  The path names the tenant; nginx has
 * already made sure it is the caller's own, or that the caller is a Global
 * Admin (then it sends X-CC-Cross-Tenant: 1).  This file checks the same
 * again, reads under the path tenant's row-level security, and records a
 * Global Admin's access to another tenant in that tenant's audit log, in
 * the same transaction: nothing is served that was not audited.
 */

#include <stdio.h>
#include <string.h>

#include "api_app.h"
#include "api_tenants.h"
#include "cc_db.h"
#include "cc_identity.h"
#include "cc_log.h"

typedef struct {
    const cc_request_t  *req;
    int                  cross_tenant;
    PGresult            *res;
} tenant_read_t;

#define TENANT_READ_FAILED  1


static int
audit_cross_tenant(PGconn *conn, const cc_request_t *req)
{
    const char  *params[3];
    char         target[256];
    PGresult    *res;
    int          ok;

    snprintf(target, sizeof(target), "%s %s", req->method, req->path);
    params[0] = req->identity.user != NULL ? req->identity.user : "";
    params[1] = target;
    params[2] = req->identity.tenant;
    res = cc_db_query(conn,
        "INSERT INTO audit_log (tenant_id, actor, action, target, detail) "
        "VALUES (cc_current_tenant(), 'user:' || $1, 'cross_tenant_access', "
        "        $2, jsonb_build_object('from_tenant', $3::text))",
        3, params);
    ok = cc_db_result_ok(res);
    PQclear(res);
    return ok ? 0 : -1;
}


static int
read_tenant(PGconn *conn, void *arg)
{
    tenant_read_t  *t = arg;

    if (t->cross_tenant && audit_cross_tenant(conn, t->req) != 0) {
        return TENANT_READ_FAILED;
    }
    t->res = cc_db_query(conn,
        "SELECT id, name, status, plan, region FROM tenants", 0, NULL);
    if (!cc_db_result_ok(t->res)) {
        PQclear(t->res);
        t->res = NULL;
        return TENANT_READ_FAILED;
    }
    return 0;
}


/*
 * 1 when the caller may read tid: its own tenant, or a Global Admin of the
 * platform tenant (nginx says so too: X-CC-Cross-Tenant).
 */
static int
may_read(const cc_request_t *req, const char *tid, int *cross_tenant)
{
    const api_app_t  *app = req->app;
    const char       *flag;

    *cross_tenant = strcmp(tid, req->identity.tenant) != 0;
    if (!*cross_tenant) {
        return 1;
    }
    flag = cc_request_header(req, "X-CC-Cross-Tenant");
    return flag != NULL && strcmp(flag, "1") == 0
           && cc_identity_has_role(&req->identity, "global_admin")
           && cc_identity_is_platform_tenant(req->identity.tenant,
                                             app->cfg->platform_tenant);
}


void
api_tenants_get(cc_request_t *req, cc_reply_t *rep)
{
    api_app_t      *app = req->app;
    tenant_read_t   t;
    cc_identity_t   path;
    int             rc;

    if (cc_identity_set_tenant(&path, cc_route_param(&req->match, "tid")) != 0
        || path.tenant[0] == '\0')
    {
        cc_reply_error(rep, CC_ERR_NOT_FOUND, "no such tenant");
        return;
    }
    memset(&t, 0, sizeof(t));
    t.req = req;
    if (!may_read(req, path.tenant, &t.cross_tenant)) {
        cc_reply_error(rep, CC_ERR_FORBIDDEN, "that tenant is not yours");
        return;
    }

    rc = cc_db_tenant_tx(app->pool, path.tenant, read_tenant, &t);
    if (rc != 0) {
        cc_reply_error(rep, CC_ERR_UNAVAILABLE,
                       "the tenant could not be read; try again shortly");
        return;
    }
    if (PQntuples(t.res) != 1) {
        PQclear(t.res);
        cc_reply_error(rep, CC_ERR_NOT_FOUND, "no such tenant");
        return;
    }
    cc_reply_json(rep, 200, json_pack("{s:s,s:s,s:s,s:s,s:s}",
        "id", PQgetvalue(t.res, 0, 0), "name", PQgetvalue(t.res, 0, 1),
        "status", PQgetvalue(t.res, 0, 2), "plan", PQgetvalue(t.res, 0, 3),
        "region", PQgetvalue(t.res, 0, 4)));
    PQclear(t.res);
}
