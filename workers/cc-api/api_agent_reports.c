/*
 * Agent error reports and distress reports (sql/007) for a tenant's staff,
 * newest first, a page at a time: ?kind=error|distress (required),
 * ?limit=1..200 (default 50), ?cursor=<nextCursor of the previous page>.
 *
 * Tenant Admins and Operators may read them; Users may not, because
 * distress reports carry serial numbers and certificate details that only
 * the people who act on them need.  A Global Admin's read of another
 * tenant is audited there.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "api_agent_config.h"
#include "api_agent_reports.h"
#include "api_app.h"
#include "api_monitor_access.h"
#include "cc_db.h"

#define REPORTS_LIMIT_DEFAULT  50
#define REPORTS_LIMIT_MAX      200
#define REPORTS_TX_FAILED      1

#define API_ISO_UTC(col) \
    "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

static const api_agent_access_t  staff = {
    { "tenant_admin", "operator", NULL, NULL }
};

/* One page, newest first: $1 the cursor (an id, "" = from the newest),
 * $2 the page size. */
static const char  error_page_sql[] =
    "SELECT coalesce(jsonb_agg(r ORDER BY (r ->> 'id')::bigint DESC),"
    "                '[]')::text "
    "  FROM (SELECT jsonb_strip_nulls(jsonb_build_object("
    "            'id', e.id::text, 'deviceId', e.device_id,"
    "            'sessionId', e.session_id, 'errorType', e.error_type,"
    "            'errorTypeName', (ARRAY['IngestFailed', 'ConfigFetchFailed',"
    "                'RegisterSessionFailed', 'IntegrityCheckFailed',"
    "                'SessionAgeEmergencyBreak'])[e.error_type + 1],"
    "            'httpStatus', e.http_status,"
    "            'sequenceNumber', e.sequence_number,"
    "            'message', e.message, 'agentVersion', e.agent_version,"
    "            'reportedAt', " API_ISO_UTC("e.reported_at") ","
    "            'receivedAt', " API_ISO_UTC("e.received_at") ")) AS r"
    "          FROM agent_errors e"
    "         WHERE e.id < coalesce(nullif($1, '')::bigint,"
    "                              9223372036854775807)"
    "         ORDER BY e.id DESC LIMIT $2::integer) page";

static const char  distress_page_sql[] =
    "SELECT coalesce(jsonb_agg(r ORDER BY (r ->> 'id')::bigint DESC),"
    "                '[]')::text "
    "  FROM (SELECT jsonb_strip_nulls(jsonb_build_object("
    "            'id', d.id::text, 'errorType', d.error_type,"
    "            'errorTypeName', (ARRAY['AuthCertificateMissing',"
    "                'AuthCertificateInvalid', 'AuthCertificateRejected',"
    "                'HardwareNotAllowed', 'DeviceNotRegistered',"
    "                'TenantRejected', 'ConfigFetchDenied',"
    "                'SessionRegistrationDenied',"
    "                'TpmPssUnsupported'])[d.error_type + 1],"
    "            'manufacturer', d.manufacturer, 'model', d.model,"
    "            'serialNumber', d.serial_number,"
    "            'agentVersion', d.agent_version,"
    "            'httpStatus', d.http_status, 'message', d.message,"
    "            'isCloudPc', d.is_cloud_pc,"
    "            'certSourceState', d.cert_source_state,"
    "            'certThumbprint', d.cert_thumbprint,"
    "            'certSubject', d.cert_subject, 'certIssuer', d.cert_issuer,"
    "            'certNotBefore', " API_ISO_UTC("d.cert_not_before") ","
    "            'certNotAfter', " API_ISO_UTC("d.cert_not_after") ","
    "            'reportedAt', " API_ISO_UTC("d.reported_at") ","
    "            'receivedAt', " API_ISO_UTC("d.received_at") ")) AS r"
    "          FROM distress_reports d"
    "         WHERE d.id < coalesce(nullif($1, '')::bigint,"
    "                              9223372036854775807)"
    "         ORDER BY d.id DESC LIMIT $2::integer) page";

typedef struct {
    const cc_request_t  *req;
    int                  cross;
    const char          *sql;
    const char          *cursor;
    char                 limit[16];
    json_t              *items;
} reports_tx_t;


static const char *
query_arg(const cc_request_t *req, const char *name)
{
    return MHD_lookup_connection_value(req->connection,
                                       MHD_GET_ARGUMENT_KIND, name);
}


/* Fills r from the query string; 0, or answers rep and returns -1. */
static int
read_query(const cc_request_t *req, cc_reply_t *rep, reports_tx_t *r)
{
    const char  *kind, *limit, *cursor;
    char        *end;
    long         n;

    kind = query_arg(req, "kind");
    if (kind != NULL && strcmp(kind, "error") == 0) {
        r->sql = error_page_sql;
    } else if (kind != NULL && strcmp(kind, "distress") == 0) {
        r->sql = distress_page_sql;
    } else {
        api_monitor_fail(rep, 400, "invalid_kind",
                         "kind must be error or distress");
        return -1;
    }
    n = REPORTS_LIMIT_DEFAULT;
    limit = query_arg(req, "limit");
    if (limit != NULL) {
        n = strtol(limit, &end, 10);
        if (*limit == '\0' || *end != '\0' || n < 1
            || n > REPORTS_LIMIT_MAX)
        {
            api_monitor_fail(rep, 400, "invalid_limit",
                             "limit must be 1 to 200");
            return -1;
        }
    }
    snprintf(r->limit, sizeof(r->limit), "%ld", n);
    cursor = query_arg(req, "cursor");
    if (cursor != NULL && !api_monitor_ordinal_valid(cursor)) {
        api_monitor_fail(rep, 400, "invalid_cursor",
                         "cursor must be the nextCursor of a page");
        return -1;
    }
    r->cursor = cursor != NULL ? cursor : "";
    return 0;
}


static int
read_reports(PGconn *conn, void *arg)
{
    reports_tx_t  *r = arg;
    const char    *params[2];
    PGresult      *res;
    json_error_t   err;

    if (api_agent_audit_cross_tenant(conn, r->req, r->cross) != 0) {
        return REPORTS_TX_FAILED;
    }
    params[0] = r->cursor;
    params[1] = r->limit;
    res = cc_db_query(conn, r->sql, 2, params);
    if (cc_db_result_ok(res) && PQntuples(res) == 1) {
        r->items = json_loads(PQgetvalue(res, 0, 0), 0, &err);
    }
    PQclear(res);
    return json_is_array(r->items) ? 0 : REPORTS_TX_FAILED;
}


void
api_agent_reports_list(cc_request_t *req, cc_reply_t *rep)
{
    api_app_t      *app = req->app;
    reports_tx_t    r;
    cc_identity_t   path;
    json_t         *answer, *last;
    int             rc;

    memset(&r, 0, sizeof(r));
    r.req = req;
    if (!api_agent_access(req, rep, &staff, &path, &r.cross)
        || read_query(req, rep, &r) != 0)
    {
        return;
    }
    rc = cc_db_tenant_tx(app->pool, path.tenant, read_reports, &r);
    if (rc != 0) {
        json_decref(r.items);
        cc_reply_error(rep, CC_ERR_UNAVAILABLE,
                       "the reports could not be read; try again shortly");
        return;
    }
    answer = json_pack("{s:s,s:O}", "kind", query_arg(req, "kind"),
                       "items", r.items);
    /* A full page may have a next one. */
    if (json_array_size(r.items) == (size_t) atoi(r.limit)) {
        last = json_array_get(r.items, json_array_size(r.items) - 1);
        json_object_set(answer, "nextCursor", json_object_get(last, "id"));
    }
    json_decref(r.items);
    cc_reply_json(rep, 200, answer);
}
