/*
 * Offboarding a tenant.  The caller repeats the tenant id as confirm, so a
 * wrong path cannot wipe a tenant.  The work is cc_tenant_offboard()
 * (sql/010), in one transaction: either the tenant is wholly gone, with
 * its audit record written, or nothing changed; the registry sync hears of
 * it only after COMMIT, so nginx never sees half a tenant.  The deletes
 * lock only that tenant's rows, so other tenants' ingest does not wait.
 * The platform tenant (whose users are the Global Admins) is never
 * offboarded through the API.
 */

#include <string.h>
#include <strings.h>

#include "api_app.h"
#include "api_monitor_access.h"
#include "api_monitor_offboard.h"
#include "api_monitor_run.h"
#include "cc_identity.h"

static const char  offboard_sql[] =
    "SELECT json_build_object('tenantId', cc_current_tenant(),"
    "                         'deleted', cc_tenant_offboard($1))"
    " WHERE EXISTS (SELECT 1 FROM tenants WHERE id = cc_current_tenant())";


static int
confirmed(cc_request_t *req, cc_reply_t *rep, const char *tenant)
{
    json_t  *body, *confirm;

    body = cc_request_object(req, rep);
    if (body == NULL) {
        return 0;
    }
    confirm = json_object_get(body, "confirm");
    if (!json_is_string(confirm)
        || strcasecmp(json_string_value(confirm), tenant) != 0)
    {
        api_monitor_fail(rep, 400, "confirm_mismatch",
                         "confirm must repeat the tenant id");
        return 0;
    }
    return 1;
}


void
api_monitor_offboard(cc_request_t *req, cc_reply_t *rep)
{
    api_app_t            *app = req->app;
    api_monitor_scope_t   scope;
    api_monitor_stmt_t    st;

    if (api_monitor_admit(req, rep, API_MONITOR_ADMINISTER, &scope) != 0
        || !confirmed(req, rep, scope.tenant))
    {
        return;
    }
    if (cc_identity_is_platform_tenant(scope.tenant,
                                       app->cfg->platform_tenant))
    {
        api_monitor_fail(rep, 409, "platform_tenant",
                         "the platform tenant cannot be offboarded");
        return;
    }

    memset(&st, 0, sizeof(st));
    st.sql = offboard_sql;
    st.nparams = 1;
    st.params[0] = scope.actor;
    if (api_monitor_run(req, &scope, &st) != 0) {
        api_monitor_answer_failure(rep, &st);
        return;
    }
    api_monitor_answer(rep, &st, 200, "not_found");
}
