/*
 * Admission to the tenant staff API: the path's tenant against the
 * caller's, and the caller's strongest role against what the handler
 * needs.  nginx has checked the tenant already (cc_tenant_match); cc-api
 * checks again so that a request reaching its socket some other way
 * is held to the same rules.
 */

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <microhttpd.h>

#include "api_app.h"
#include "api_monitor_access.h"
#include "cc_identity.h"


/*
 * The strongest role the caller holds.  global_admin counts only for a
 * user of the platform tenant: any customer can assign app roles in its
 * own directory.
 */
static api_monitor_need_t
strongest_role(const cc_request_t *req)
{
    const api_app_t  *app = req->app;

    if (cc_identity_has_role(&req->identity, "global_admin")
        && cc_identity_is_platform_tenant(req->identity.tenant,
                                          app->cfg->platform_tenant))
    {
        return API_MONITOR_EVERYTHING;
    }
    if (cc_identity_has_role(&req->identity, "tenant_admin")) {
        return API_MONITOR_ADMINISTER;
    }
    if (cc_identity_has_role(&req->identity, "operator")) {
        return API_MONITOR_OPERATE;
    }
    if (cc_identity_has_role(&req->identity, "user")) {
        return API_MONITOR_READ;
    }
    return 0;
}


static int
marked_cross_tenant(const cc_request_t *req)
{
    const char  *flag;

    flag = cc_request_header(req, "X-CC-Cross-Tenant");
    return flag != NULL && strcmp(flag, "1") == 0;
}


int
api_monitor_admit(cc_request_t *req, cc_reply_t *rep,
                  api_monitor_need_t need, api_monitor_scope_t *scope)
{
    cc_identity_t       path;
    api_monitor_need_t  role;

    memset(scope, 0, sizeof(*scope));
    if (cc_identity_set_tenant(&path, cc_route_param(&req->match, "tid")) != 0
        || path.tenant[0] == '\0' || req->identity.tenant[0] == '\0')
    {
        api_monitor_fail(rep, 404, "not_found", "no such tenant");
        return -1;
    }

    role = strongest_role(req);
    scope->cross_tenant = strcmp(path.tenant, req->identity.tenant) != 0;
    if (scope->cross_tenant
        && (role != API_MONITOR_EVERYTHING || !marked_cross_tenant(req)))
    {
        api_monitor_fail(rep, 403, "tenant_mismatch",
                         "that tenant is not yours");
        return -1;
    }
    if (role < need) {
        api_monitor_fail(rep, 403, "role_required",
                         "your role does not allow this");
        return -1;
    }

    memcpy(scope->tenant, path.tenant, sizeof(scope->tenant));
    snprintf(scope->actor, sizeof(scope->actor), "user:%s",
             req->identity.user != NULL ? req->identity.user : "unknown");
    return 0;
}


const char *
api_monitor_query(const cc_request_t *req, const char *name)
{
    const char  *v;

    v = MHD_lookup_connection_value(req->connection, MHD_GET_ARGUMENT_KIND,
                                    name);
    return v != NULL && v[0] != '\0' ? v : NULL;
}


static int
all_digits(const char *s, size_t min, size_t max)
{
    size_t  n;

    for (n = 0; s[n] != '\0'; n++) {
        if (!isdigit((unsigned char) s[n])) {
            return 0;
        }
    }
    return n >= min && n <= max;
}


int
api_monitor_limit(const cc_request_t *req, cc_reply_t *rep,
                  char *out, size_t size)
{
    const char  *v;
    long         n;

    v = api_monitor_query(req, "limit");
    if (v == NULL) {
        snprintf(out, size, "%d", API_MONITOR_LIMIT_DEFAULT);
        return 0;
    }
    n = all_digits(v, 1, 4) ? strtol(v, NULL, 10) : 0;
    if (n < 1 || n > API_MONITOR_LIMIT_MAX) {
        api_monitor_fail(rep, 400, "limit_invalid",
                         "limit must be a number from 1 to 500");
        return -1;
    }
    snprintf(out, size, "%ld", n);
    return 0;
}


int
api_monitor_time_cursor_valid(const char *s)
{
    const char  *sep;
    char         digits[24];
    size_t       n;

    sep = strchr(s, '_');
    if (sep == NULL) {
        return 0;
    }
    n = (size_t) (sep - s);
    if (n == 0 || n >= sizeof(digits)) {
        return 0;
    }
    memcpy(digits, s, n);
    digits[n] = '\0';
    return all_digits(digits, 1, 18) && cc_uuid_valid(sep + 1);
}


int
api_monitor_ordinal_valid(const char *s)
{
    return all_digits(s, 1, 18);
}


void
api_monitor_fail(cc_reply_t *rep, int status, const char *code,
                 const char *message)
{
    cc_reply_json(rep, status, json_pack("{s:{s:s,s:s}}", "error",
                                         "code", code, "message", message));
}
