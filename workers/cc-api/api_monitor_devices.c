/*
 * Devices over the staff API.  Pages are newest activity first with an
 * opaque (last_seen, device id) cursor.  A device is "blocked" while a
 * block of it is in force (no end, or an end still ahead).
 */

#include <stdio.h>
#include <string.h>

#include "api_monitor_access.h"
#include "api_monitor_devices.h"
#include "api_monitor_run.h"
#include "cc_identity.h"

/* The JSON of device d with its block b (LEFT JOINed, in force only). */
#define DEVICE_JSON                                                         \
    "json_build_object('deviceId', d.device_id,"                            \
    " 'manufacturer', d.manufacturer, 'model', d.model,"                    \
    " 'serialNumber', d.serial_number, 'firstSeen', d.first_seen,"          \
    " 'lastSeen', d.last_seen, 'blocked', b.device_id IS NOT NULL,"         \
    " 'block', CASE WHEN b.device_id IS NOT NULL THEN"                      \
    "   json_build_object('until', b.until, 'reason', b.reason,"            \
    "                     'since', b.created_at) END)"

#define BLOCK_IN_FORCE_JOIN                                                 \
    " LEFT JOIN device_blocks b ON b.tenant_id = d.tenant_id"               \
    "  AND b.device_id = d.device_id"                                       \
    "  AND (b.until IS NULL OR b.until > now())"

static const char  list_sql[] =
    "WITH page AS ("
    "  SELECT " DEVICE_JSON " AS j, d.last_seen, d.device_id,"
    "         row_number() OVER (ORDER BY d.last_seen DESC,"
    "                            d.device_id DESC) AS n"
    "    FROM devices d" BLOCK_IN_FORCE_JOIN
    "   WHERE d.tenant_id = cc_current_tenant()"
    "     AND ($2::boolean IS NULL OR (b.device_id IS NOT NULL) = $2::boolean)"
    "     AND ($3::text IS NULL OR (d.last_seen, d.device_id)"
    "          < (timestamptz 'epoch' + split_part($3, '_', 1)::bigint"
    "             * interval '1 microsecond', split_part($3, '_', 2)::uuid))"
    "   ORDER BY d.last_seen DESC, d.device_id DESC"
    "   LIMIT $1::int + 1) "
    "SELECT json_build_object("
    "  'items', coalesce((SELECT json_agg(p.j ORDER BY p.n) FROM page p"
    "                      WHERE p.n <= $1::int), '[]'),"
    "  'nextCursor', (SELECT (extract(epoch FROM p.last_seen) * 1000000)"
    "                        ::bigint || '_' || p.device_id"
    "                   FROM page p WHERE p.n = $1::int"
    "                    AND EXISTS (SELECT 1 FROM page WHERE n > $1::int)))";

static const char  get_sql[] =
    "SELECT json_build_object('device', " DEVICE_JSON ","
    "  'sessions', coalesce((SELECT json_agg(json_build_object("
    "      'sessionId', s.session_id, 'status', s.status,"
    "      'statusReason', s.status_reason, 'phase', s.phase,"
    "      'startedAt', s.started_at, 'completedAt', s.completed_at)"
    "      ORDER BY s.started_at DESC, s.session_id DESC)"
    "    FROM (SELECT * FROM enrollment_sessions s"
    "           WHERE s.tenant_id = d.tenant_id"
    "             AND s.device_id = d.device_id"
    "           ORDER BY s.started_at DESC, s.session_id DESC"
    "           LIMIT $2::int) s), '[]'))"
    "  FROM devices d" BLOCK_IN_FORCE_JOIN
    " WHERE d.tenant_id = cc_current_tenant() AND d.device_id = $1::uuid";


/* ?blocked= as "true", "false" or NULL; -1 after answering. */
static int
read_blocked_filter(const cc_request_t *req, cc_reply_t *rep,
                    const char **out)
{
    const char  *v;

    v = api_monitor_query(req, "blocked");
    if (v != NULL && strcmp(v, "true") != 0 && strcmp(v, "false") != 0) {
        api_monitor_fail(rep, 400, "blocked_invalid",
                         "blocked must be true or false");
        return -1;
    }
    *out = v;
    return 0;
}


void
api_monitor_devices_list(cc_request_t *req, cc_reply_t *rep)
{
    api_monitor_scope_t  scope;
    api_monitor_stmt_t   st;
    char                 limit[8];
    const char          *blocked, *cursor;

    if (api_monitor_admit(req, rep, API_MONITOR_READ, &scope) != 0
        || api_monitor_limit(req, rep, limit, sizeof(limit)) != 0
        || read_blocked_filter(req, rep, &blocked) != 0)
    {
        return;
    }
    cursor = api_monitor_query(req, "cursor");
    if (cursor != NULL && !api_monitor_time_cursor_valid(cursor)) {
        api_monitor_fail(rep, 400, "cursor_invalid", "cursor is not ours");
        return;
    }

    memset(&st, 0, sizeof(st));
    st.sql = list_sql;
    st.nparams = 3;
    st.params[0] = limit;
    st.params[1] = blocked;
    st.params[2] = cursor;
    if (api_monitor_run(req, &scope, &st) != 0) {
        api_monitor_answer_failure(rep, &st);
        return;
    }
    api_monitor_answer(rep, &st, 200, "not_found");
}


void
api_monitor_devices_get(cc_request_t *req, cc_reply_t *rep)
{
    api_monitor_scope_t  scope;
    api_monitor_stmt_t   st;
    char                 limit[8];
    const char          *did;

    if (api_monitor_admit(req, rep, API_MONITOR_READ, &scope) != 0
        || api_monitor_limit(req, rep, limit, sizeof(limit)) != 0)
    {
        return;
    }
    did = cc_route_param(&req->match, "did");
    if (did == NULL || !cc_uuid_valid(did)) {
        api_monitor_fail(rep, 404, "device_not_found", "no such device");
        return;
    }

    memset(&st, 0, sizeof(st));
    st.sql = get_sql;
    st.nparams = 2;
    st.params[0] = did;
    st.params[1] = limit;
    if (api_monitor_run(req, &scope, &st) != 0) {
        api_monitor_answer_failure(rep, &st);
        return;
    }
    api_monitor_answer(rep, &st, 200, "device_not_found");
}
