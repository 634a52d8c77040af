/*
 * Enrollment sessions over the staff API.  Pages are newest first with an
 * opaque (started_at, session id) cursor; a session's timeline is its
 * events in sequence order, paged by sequence.  PostgreSQL builds the JSON,
 * so the C side only checks parameters and passes them on.
 */

#include <stdio.h>
#include <string.h>

#include "api_monitor_access.h"
#include "api_monitor_run.h"
#include "api_monitor_sessions.h"
#include "cc_identity.h"

/* The JSON of one session row s, as lists and the detail show it. */
#define SESSION_JSON                                                        \
    "json_build_object('sessionId', s.session_id, 'deviceId', s.device_id," \
    " 'status', s.status, 'statusReason', s.status_reason,"                 \
    " 'phase', s.phase, 'startedAt', s.started_at,"                         \
    " 'updatedAt', s.updated_at, 'completedAt', s.completed_at,"            \
    " 'outcome', s.outcome, 'agentVersion', s.agent_version)"

/* A (time, uuid) cursor's parts, from parameter $N. */
#define CURSOR_TIME(n)                                                      \
    "(timestamptz 'epoch' + split_part(" n ", '_', 1)::bigint"              \
    " * interval '1 microsecond')"
#define CURSOR_ID(n)  "split_part(" n ", '_', 2)::uuid"

static const char  *session_statuses[] = {
    "InProgress", "Pending", "Stalled", "Succeeded", "Failed", "Unknown",
    "AwaitingUser", "Incomplete", NULL
};

static const char  list_sql[] =
    "WITH page AS ("
    "  SELECT s.*, row_number() OVER (ORDER BY s.started_at DESC,"
    "                                  s.session_id DESC) AS n"
    "    FROM enrollment_sessions s"
    "   WHERE s.tenant_id = cc_current_tenant()"
    "     AND ($2::text IS NULL OR s.status = $2)"
    "     AND ($3::timestamptz IS NULL OR s.started_at >= $3::timestamptz)"
    "     AND ($4::timestamptz IS NULL OR s.started_at < $4::timestamptz)"
    "     AND ($5::uuid IS NULL OR s.device_id = $5::uuid)"
    "     AND ($6::text IS NULL OR (s.started_at, s.session_id)"
    "          < (" CURSOR_TIME("$6") ", " CURSOR_ID("$6") "))"
    "   ORDER BY s.started_at DESC, s.session_id DESC"
    "   LIMIT $1::int + 1) "
    "SELECT json_build_object("
    "  'items', coalesce((SELECT json_agg(" SESSION_JSON " ORDER BY s.n)"
    "                       FROM page s WHERE s.n <= $1::int), '[]'),"
    "  'nextCursor', (SELECT (extract(epoch FROM s.started_at) * 1000000)"
    "                        ::bigint || '_' || s.session_id"
    "                   FROM page s WHERE s.n = $1::int"
    "                    AND EXISTS (SELECT 1 FROM page WHERE n > $1::int)))";

/*
 * One session: its row, device, ESP progress, phase start times and
 * durations (a phase lasts until the next one starts, the last one until
 * completion or now), and a page of its timeline.
 */
static const char  get_sql[] =
    "WITH timeline AS ("
    "  SELECT e.*, row_number() OVER (ORDER BY e.sequence) AS n"
    "    FROM events e"
    "   WHERE e.tenant_id = cc_current_tenant() AND e.session_id = $1::uuid"
    "     AND ($3::bigint IS NULL OR e.sequence > $3::bigint)"
    "   ORDER BY e.sequence LIMIT $2::int + 1) "
    "SELECT json_build_object("
    "  'session', " SESSION_JSON ","
    "  'os', s.os,"
    "  'espProgress', json_build_object('category', s.esp_category,"
    "      'done', s.esp_done, 'total', s.esp_total),"
    "  'phaseTimes', s.phase_times,"
    "  'phaseDurations', (SELECT coalesce(json_object_agg(p.k,"
    "        round(extract(epoch FROM coalesce(p.next, s.completed_at, now())"
    "                                 - p.t))), '{}')"
    "      FROM (SELECT x.k, x.v::timestamptz AS t,"
    "                   lead(x.v::timestamptz) OVER (ORDER BY"
    "                                                x.v::timestamptz) AS next"
    "              FROM jsonb_each_text(s.phase_times) AS x (k, v)) p),"
    "  'device', json_build_object('deviceId', d.device_id,"
    "      'manufacturer', d.manufacturer, 'model', d.model,"
    "      'serialNumber', d.serial_number),"
    "  'timeline', json_build_object("
    "      'items', coalesce((SELECT json_agg(json_build_object("
    "          'sequence', e.sequence, 'eventId', e.event_id,"
    "          'eventTime', e.event_time, 'eventType', e.event_type,"
    "          'severity', e.severity, 'source', e.source,"
    "          'phase', e.phase, 'message', e.message, 'data', e.data,"
    "          'receivedAt', e.received_at) ORDER BY e.n)"
    "          FROM timeline e WHERE e.n <= $2::int), '[]'),"
    "      'nextCursor', (SELECT e.sequence::text FROM timeline e"
    "          WHERE e.n = $2::int"
    "            AND EXISTS (SELECT 1 FROM timeline WHERE n > $2::int))))"
    "  FROM enrollment_sessions s"
    "  JOIN devices d USING (tenant_id, device_id)"
    " WHERE s.tenant_id = cc_current_tenant() AND s.session_id = $1::uuid";

/* Events have no foreign key (partitioned), nor have the agent's error
 * reports (sql/011 deletes those of a session); trace and sequences
 * cascade. */
static const char  delete_sql[] =
    "WITH gone_errors AS ("
    "  SELECT cc_retention_purge_session_errors(ARRAY[$1::uuid]) AS n), "
    "gone_events AS ("
    "  DELETE FROM events"
    "   WHERE tenant_id = cc_current_tenant() AND session_id = $1::uuid"
    "  RETURNING 1), "
    "gone AS ("
    "  DELETE FROM enrollment_sessions"
    "   WHERE tenant_id = cc_current_tenant() AND session_id = $1::uuid"
    "  RETURNING session_id, device_id) "
    "SELECT json_build_object('sessionId', g.session_id,"
    "                         'deviceId', g.device_id,"
    "                         'events', (SELECT count(*) FROM gone_events),"
    "                         'errors', (SELECT n FROM gone_errors))"
    "  FROM gone g";


static int
is_session_status(const char *s)
{
    int  i;

    for (i = 0; session_statuses[i] != NULL; i++) {
        if (strcmp(s, session_statuses[i]) == 0) {
            return 1;
        }
    }
    return 0;
}


/* The list's filters into st's parameters $2..$6; -1 after answering. */
static int
read_list_filters(const cc_request_t *req, cc_reply_t *rep,
                  api_monitor_stmt_t *st)
{
    const char  *status, *device, *cursor;

    status = api_monitor_query(req, "status");
    device = api_monitor_query(req, "device");
    cursor = api_monitor_query(req, "cursor");
    if (status != NULL && !is_session_status(status)) {
        api_monitor_fail(rep, 400, "status_invalid",
                         "status is not a session status");
        return -1;
    }
    if (device != NULL && !cc_uuid_valid(device)) {
        api_monitor_fail(rep, 400, "device_invalid",
                         "device is not a device id");
        return -1;
    }
    if (cursor != NULL && !api_monitor_time_cursor_valid(cursor)) {
        api_monitor_fail(rep, 400, "cursor_invalid", "cursor is not ours");
        return -1;
    }
    st->params[1] = status;
    st->params[2] = api_monitor_query(req, "since");
    st->params[3] = api_monitor_query(req, "until");
    st->params[4] = device;
    st->params[5] = cursor;
    return 0;
}


void
api_monitor_sessions_list(cc_request_t *req, cc_reply_t *rep)
{
    api_monitor_scope_t  scope;
    api_monitor_stmt_t   st;
    char                 limit[8];

    memset(&st, 0, sizeof(st));
    if (api_monitor_admit(req, rep, API_MONITOR_READ, &scope) != 0
        || api_monitor_limit(req, rep, limit, sizeof(limit)) != 0
        || read_list_filters(req, rep, &st) != 0)
    {
        return;
    }
    st.sql = list_sql;
    st.nparams = 6;
    st.params[0] = limit;
    if (api_monitor_run(req, &scope, &st) != 0) {
        api_monitor_answer_failure(rep, &st);
        return;
    }
    api_monitor_answer(rep, &st, 200, "not_found");
}


/* The {sid} of the path when it is a session id; NULL after answering. */
static const char *
session_param(const cc_request_t *req, cc_reply_t *rep)
{
    const char  *sid;

    sid = cc_route_param(&req->match, "sid");
    if (sid == NULL || !cc_uuid_valid(sid)) {
        api_monitor_fail(rep, 404, "session_not_found", "no such session");
        return NULL;
    }
    return sid;
}


void
api_monitor_sessions_get(cc_request_t *req, cc_reply_t *rep)
{
    api_monitor_scope_t  scope;
    api_monitor_stmt_t   st;
    char                 limit[8];
    const char          *sid, *cursor;

    if (api_monitor_admit(req, rep, API_MONITOR_READ, &scope) != 0
        || (sid = session_param(req, rep)) == NULL
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
    st.sql = get_sql;
    st.nparams = 3;
    st.params[0] = sid;
    st.params[1] = limit;
    st.params[2] = cursor;
    if (api_monitor_run(req, &scope, &st) != 0) {
        api_monitor_answer_failure(rep, &st);
        return;
    }
    api_monitor_answer(rep, &st, 200, "session_not_found");
}


void
api_monitor_sessions_delete(cc_request_t *req, cc_reply_t *rep)
{
    api_monitor_scope_t  scope;
    api_monitor_stmt_t   st;
    char                 target[64];
    const char          *sid;

    if (api_monitor_admit(req, rep, API_MONITOR_OPERATE, &scope) != 0
        || (sid = session_param(req, rep)) == NULL)
    {
        return;
    }
    snprintf(target, sizeof(target), "session:%s", sid);

    memset(&st, 0, sizeof(st));
    st.sql = delete_sql;
    st.nparams = 1;
    st.params[0] = sid;
    st.audit_action = "session.deleted";
    st.audit_target = target;
    if (api_monitor_run(req, &scope, &st) != 0) {
        api_monitor_answer_failure(rep, &st);
        return;
    }
    api_monitor_answer(rep, &st, 204, "session_not_found");
}
