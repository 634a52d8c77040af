/*
 * Device blocks over the staff API.  A block lasts durationMinutes
 * (1..525600, a year) or, without one, until it is lifted; its reason is a
 * short code, since it travels to nginx and its logs.  Only a device the
 * tenant has seen can be blocked: a mistyped id should not look like
 * success.
 */

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "api_monitor_access.h"
#include "api_monitor_blocks.h"
#include "api_monitor_run.h"
#include "cc_identity.h"

#define BLOCK_MINUTES_MAX  525600
#define BLOCK_REASON_MAX   32

static const char  put_sql[] =
    "INSERT INTO device_blocks (tenant_id, device_id, until, reason) "
    "SELECT d.tenant_id, d.device_id,"
    "       now() + $2::int * interval '1 minute', $3"
    "  FROM devices d"
    " WHERE d.tenant_id = cc_current_tenant() AND d.device_id = $1::uuid "
    "ON CONFLICT (tenant_id, device_id) DO UPDATE"
    "   SET until = EXCLUDED.until, reason = EXCLUDED.reason,"
    "       created_at = now() "
    "RETURNING json_build_object('deviceId', device_id, 'blocked', true,"
    "                            'until', until, 'reason', reason)";

static const char  delete_sql[] =
    "DELETE FROM device_blocks"
    " WHERE tenant_id = cc_current_tenant() AND device_id = $1::uuid "
    "RETURNING json_build_object('deviceId', device_id, 'reason', reason)";


/* The reason codes nginx takes (sql/004's CHECK): [a-z][a-z0-9_]{0,31}. */
static int
is_reason_code(const char *s)
{
    size_t  n;

    if (!islower((unsigned char) s[0])) {
        return 0;
    }
    for (n = 1; s[n] != '\0'; n++) {
        if (!islower((unsigned char) s[n]) && !isdigit((unsigned char) s[n])
            && s[n] != '_')
        {
            return 0;
        }
    }
    return n <= BLOCK_REASON_MAX;
}


/* The block's duration and reason from the body; -1 after answering. */
static int
read_block(cc_request_t *req, cc_reply_t *rep, char *minutes, size_t size,
           const char **reason)
{
    json_t      *body, *d, *r;
    json_int_t   n;

    *reason = "blocked";
    if (req->body == NULL) {
        return 0;               /* no body: no end, the default reason */
    }
    body = cc_request_object(req, rep);
    if (body == NULL) {
        return -1;
    }
    d = json_object_get(body, "durationMinutes");
    r = json_object_get(body, "reason");
    if (d != NULL && !json_is_null(d)) {
        n = json_is_integer(d) ? json_integer_value(d) : 0;
        if (n < 1 || n > BLOCK_MINUTES_MAX) {
            api_monitor_fail(rep, 400, "duration_minutes_out_of_range",
                             "durationMinutes must be a whole number from "
                             "1 to 525600, or absent for no end");
            return -1;
        }
        snprintf(minutes, size, "%lld", (long long) n);
    }
    if (r != NULL && !json_is_null(r)) {
        if (!json_is_string(r) || !is_reason_code(json_string_value(r))) {
            api_monitor_fail(rep, 400, "reason_invalid",
                             "reason must be a short code: a lowercase "
                             "letter, then up to 31 of a-z, 0-9, _");
            return -1;
        }
        *reason = json_string_value(r);
    }
    return 0;
}


static const char *
device_param(const cc_request_t *req, cc_reply_t *rep)
{
    const char  *did;

    did = cc_route_param(&req->match, "did");
    if (did == NULL || !cc_uuid_valid(did)) {
        api_monitor_fail(rep, 404, "device_not_found", "no such device");
        return NULL;
    }
    return did;
}


void
api_monitor_blocks_put(cc_request_t *req, cc_reply_t *rep)
{
    api_monitor_scope_t  scope;
    api_monitor_stmt_t   st;
    char                 minutes[16], target[64];
    const char          *did, *reason;

    minutes[0] = '\0';
    if (api_monitor_admit(req, rep, API_MONITOR_OPERATE, &scope) != 0
        || (did = device_param(req, rep)) == NULL
        || read_block(req, rep, minutes, sizeof(minutes), &reason) != 0)
    {
        return;
    }
    snprintf(target, sizeof(target), "device:%s", did);

    memset(&st, 0, sizeof(st));
    st.sql = put_sql;
    st.nparams = 3;
    st.params[0] = did;
    st.params[1] = minutes[0] != '\0' ? minutes : NULL;
    st.params[2] = reason;
    st.audit_action = "device.blocked";
    st.audit_target = target;
    if (api_monitor_run(req, &scope, &st) != 0) {
        api_monitor_answer_failure(rep, &st);
        return;
    }
    api_monitor_answer(rep, &st, 200, "device_not_found");
}


void
api_monitor_blocks_delete(cc_request_t *req, cc_reply_t *rep)
{
    api_monitor_scope_t  scope;
    api_monitor_stmt_t   st;
    char                 target[64];
    const char          *did;

    if (api_monitor_admit(req, rep, API_MONITOR_OPERATE, &scope) != 0
        || (did = device_param(req, rep)) == NULL)
    {
        return;
    }
    snprintf(target, sizeof(target), "device:%s", did);

    memset(&st, 0, sizeof(st));
    st.sql = delete_sql;
    st.nparams = 1;
    st.params[0] = did;
    st.audit_action = "device.unblocked";
    st.audit_target = target;
    if (api_monitor_run(req, &scope, &st) != 0) {
        api_monitor_answer_failure(rep, &st);
        return;
    }
    api_monitor_answer(rep, &st, 204, "block_not_found");
}
