/*
 * Agent error reports and distress reports (agent-protocol.md 12, 13).
 *
 * The agent ignores the answer to both, so both always answer 200 with the
 * same body, whether the report was stored or dropped: a report we cannot
 * use is dropped silently, and a certificate-less sender learns nothing
 * (not even whether a tenant exists).  nginx turns the 400/413/415 that
 * cc_http gives a malformed body before we run into the same 200.
 *
 * Only fields we checked reach SQL: each handler copies what it validated
 * into a JSON object of its own, and the INSERT reads that.  Neither the
 * serial number nor any other text of a report is ever logged.
 */

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cc_db.h"
#include "cc_identity.h"
#include "cc_log.h"
#include "ingest_admit.h"
#include "ingest_app.h"
#include "ingest_batch.h"
#include "ingest_reports.h"

/* The agent sends at most 5 error reports per session; more is not the
 * agent we know, so keep 20 per session and 100 per device per day. */
#define ERRORS_PER_SESSION      "20"
#define ERRORS_PER_DEVICE_DAY   "100"
#define ERROR_TYPE_EMERGENCY    4       /* SessionAgeEmergencyBreak */

/*
 * Distress reports need no certificate, so anyone who can reach us can
 * send them in any tenant's name.  nginx limits them per address; here
 * each tenant keeps at most this many per hour and the rest are dropped,
 * so that storage stays bounded whatever a sender does.
 */
#define DISTRESS_MAX_BODY       1536
#define DISTRESS_PER_TENANT_HOUR "30"
#define DISTRESS_ERROR_TYPE_MAX 8       /* TpmPssUnsupported */

#define REPORT_TX_FAILED        1


static void
answer_received(cc_reply_t *rep)
{
    cc_reply_json(rep, 200, json_pack("{s:b,s:s}", "success", 1,
                                      "message", "received"));
}


/* ---- checked copies of a report's fields ----------------------------- */

static void
copy_string(json_t *to, json_t *from, const char *key)
{
    json_t  *v = json_object_get(from, key);

    if (json_is_string(v)) {
        json_object_set(to, key, v);
    }
}


/* 0 when the member is an integer in [min, max] (copied) or absent/null. */
static int
copy_integer(json_t *to, json_t *from, const char *key, json_int_t min,
             json_int_t max)
{
    json_t  *v = json_object_get(from, key);

    if (v == NULL || json_is_null(v)) {
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < min
        || json_integer_value(v) > max)
    {
        return -1;
    }
    json_object_set(to, key, v);
    return 0;
}


/* Copies a timestamp PostgreSQL accepts; 0 when copied. */
static int
copy_timestamp(json_t *to, json_t *from, const char *key)
{
    json_t  *v = json_object_get(from, key);

    if (!ingest_is_timestamp(json_string_value(v))) {
        return -1;
    }
    json_object_set(to, key, v);
    return 0;
}


static int
required_integer(json_t *to, json_t *from, const char *key, json_int_t min,
                 json_int_t max)
{
    return json_object_get(from, key) != NULL
           && copy_integer(to, from, key, min, max) == 0
           && json_object_get(to, key) != NULL ? 0 : -1;
}


/* ---- error reports --------------------------------------------------- */

typedef struct {
    const char  *device;
    const char  *session;
    int          error_type;
    char        *report;            /* checked fields, JSON text */
    int          stored;
    int          ended_session;
} error_report_t;


/* The checked fields of an AgentErrorReport, or NULL to drop it. */
static json_t *
check_error_report(const cc_request_t *req)
{
    json_t         *body = req->json, *r;
    const char     *session, *tenant;

    if (!json_is_object(body)) {
        return NULL;
    }
    session = json_string_value(json_object_get(body, "SessionId"));
    if (session == NULL || !cc_uuid_valid(session)) {
        return NULL;
    }
    /* A report naming another tenant than the certificate's is not ours. */
    tenant = json_string_value(json_object_get(body, "TenantId"));
    if (!ingest_names_own_tenant(req, tenant)) {
        return NULL;
    }
    r = json_object();
    copy_string(r, body, "SessionId");
    copy_string(r, body, "Message");
    copy_string(r, body, "AgentVersion");
    (void) copy_timestamp(r, body, "Timestamp");
    if (required_integer(r, body, "ErrorType", 0, 999) != 0
        || copy_integer(r, body, "HttpStatusCode", 0, 999) != 0
        || copy_integer(r, body, "SequenceNumber", 0, LLONG_MAX) != 0)
    {
        json_decref(r);
        return NULL;
    }
    return r;
}


/* Stores the report unless the session or the device is over its cap. */
static int
insert_error_report(PGconn *conn, error_report_t *e)
{
    const char  *params[2];
    PGresult    *res;
    int          rc;

    params[0] = e->device;
    params[1] = e->report;
    /* One device's reports at a time, so that the caps hold exactly. */
    if (cc_db_command(conn,
            "SELECT pg_advisory_xact_lock(hashtextextended("
            "    'agent_errors ' || cc_current_tenant() || $1, 0))",
            1, params) != 0)
    {
        return REPORT_TX_FAILED;
    }
    res = cc_db_query(conn,
        "INSERT INTO agent_errors (tenant_id, device_id, session_id,"
        "        error_type, http_status, sequence_number, message,"
        "        agent_version, reported_at) "
        "SELECT cc_current_tenant(), $1::uuid, (j ->> 'SessionId')::uuid,"
        "       (j ->> 'ErrorType')::integer,"
        "       (j ->> 'HttpStatusCode')::integer,"
        "       (j ->> 'SequenceNumber')::bigint,"
        "       left(j ->> 'Message', 1000), left(j ->> 'AgentVersion', 64),"
        "       (j ->> 'Timestamp')::timestamptz "
        "  FROM (SELECT $2::jsonb AS j) r "
        " WHERE (SELECT count(*) FROM agent_errors"
        "         WHERE session_id = (j ->> 'SessionId')::uuid) < "
        ERRORS_PER_SESSION
        "   AND (SELECT count(*) FROM agent_errors"
        "         WHERE device_id = $1::uuid"
        "           AND received_at > now() - interval '1 day') < "
        ERRORS_PER_DEVICE_DAY,
        2, params);
    rc = cc_db_result_ok(res) ? 0 : REPORT_TX_FAILED;
    if (rc == 0) {
        e->stored = atoi(PQcmdTuples(res)) == 1;
    }
    PQclear(res);
    return rc;
}


/*
 * SessionAgeEmergencyBreak ends the device's own session at once
 * (agent-protocol.md 9): an open one becomes Failed.
 */
static int
end_session_at_once(PGconn *conn, error_report_t *e)
{
    const char  *params[2];
    PGresult    *res;
    int          rc;

    params[0] = e->session;
    params[1] = e->device;
    res = cc_db_query(conn,
        "UPDATE enrollment_sessions"
        "   SET status = 'Failed', outcome = 'SessionAgeEmergencyBreak',"
        "       completed_at = now(), updated_at = now() "
        " WHERE session_id = $1::uuid AND device_id = $2::uuid"
        "   AND status IN ('InProgress', 'Stalled', 'Pending', 'Unknown')",
        2, params);
    rc = cc_db_result_ok(res) ? 0 : REPORT_TX_FAILED;
    if (rc == 0) {
        e->ended_session = atoi(PQcmdTuples(res)) == 1;
    }
    PQclear(res);
    return rc;
}


static int
store_error_report(PGconn *conn, void *arg)
{
    error_report_t  *e = arg;

    if (insert_error_report(conn, e) != 0) {
        return REPORT_TX_FAILED;
    }
    if (e->error_type == ERROR_TYPE_EMERGENCY
        && end_session_at_once(conn, e) != 0)
    {
        return REPORT_TX_FAILED;
    }
    return 0;
}


/*
 * The device must be admitted like on every agent endpoint (its identity
 * is what the report is filed under); a device that is refused, or a
 * report we cannot read, still gets 200.
 */
void
ingest_agent_error(cc_request_t *req, cc_reply_t *rep)
{
    const ingest_app_t  *app = req->app;
    cc_reply_t           verdict;
    error_report_t       e;
    json_t              *checked;
    int                  admitted, rc;

    cc_reply_init(&verdict);
    admitted = ingest_admit(req, &verdict);
    cc_reply_free(&verdict);
    answer_received(rep);
    if (!admitted) {
        return;
    }
    checked = check_error_report(req);
    if (checked == NULL) {
        cc_log(CC_LOG_DEBUG, "error report dropped: not a valid report");
        return;
    }

    memset(&e, 0, sizeof(e));
    e.device = req->identity.device;
    e.session = json_string_value(json_object_get(checked, "SessionId"));
    e.error_type = (int) json_integer_value(json_object_get(checked,
                                                            "ErrorType"));
    e.report = json_dumps(checked, JSON_COMPACT);
    rc = e.report != NULL ? cc_db_tenant_tx(app->pool, req->identity.tenant,
                                            store_error_report, &e)
                          : REPORT_TX_FAILED;
    if (rc == 0) {
        cc_log_fields(CC_LOG_INFO, e.stored ? "error report stored"
                                            : "error report over its cap",
                      json_pack("{s:s,s:s,s:s,s:i,s:b}",
                                "tenant", req->identity.tenant,
                                "device", e.device, "session", e.session,
                                "error_type", e.error_type,
                                "ended_session", e.ended_session));
    } else {
        cc_log(CC_LOG_WARN, "error report not stored: database failure");
    }
    free(e.report);
    json_decref(checked);
}


/* ---- distress reports ------------------------------------------------ */

typedef struct {
    const char  *tenant;
    char        *report;
    int          stored;
} distress_t;


/* The tenant a distress report claims: X-Tenant-Id and the body agree. */
static int
claimed_tenant(const cc_request_t *req, cc_identity_t *out)
{
    const char     *header, *body;
    cc_identity_t   from_body;

    header = cc_request_header(req, "X-Tenant-Id");
    body = json_string_value(json_object_get(req->json, "TenantId"));
    if (header == NULL && body == NULL) {
        return -1;
    }
    if (header != NULL && (cc_identity_set_tenant(out, header) != 0
                           || out->tenant[0] == '\0'))
    {
        return -1;
    }
    if (body != NULL) {
        if (cc_identity_set_tenant(&from_body, body) != 0
            || from_body.tenant[0] == '\0'
            || (header != NULL && strcmp(from_body.tenant, out->tenant) != 0))
        {
            return -1;
        }
        *out = from_body;
    }
    return 0;
}


/* The checked fields of a DistressReport, or NULL to drop it. */
static json_t *
check_distress_report(json_t *body)
{
    static const char  *texts[] = {
        "Manufacturer", "Model", "SerialNumber", "AgentVersion", "Message",
        "CertThumbprint", "CertSubject", "CertIssuer"
    };
    json_t  *r;
    size_t   i;

    r = json_object();
    for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        copy_string(r, body, texts[i]);
    }
    if (json_is_boolean(json_object_get(body, "IsCloudPc"))) {
        json_object_set(r, "IsCloudPc", json_object_get(body, "IsCloudPc"));
    }
    (void) copy_timestamp(r, body, "CertNotBefore");
    (void) copy_timestamp(r, body, "CertNotAfter");
    if (required_integer(r, body, "ErrorType", 0, DISTRESS_ERROR_TYPE_MAX)
            != 0
        || copy_timestamp(r, body, "Timestamp") != 0
        || copy_integer(r, body, "HttpStatusCode", 0, 999) != 0
        || copy_integer(r, body, "CertSourceState", 0, 99) != 0)
    {
        json_decref(r);
        return NULL;
    }
    return r;
}


/*
 * Stores the report when the tenant exists (and is not being offboarded),
 * its Timestamp is within 24 h back and 5 min ahead, and the tenant is
 * under its hourly cap.  Runs under the claimed tenant's RLS, which is
 * also how an unknown tenant shows: no row in tenants.
 */
static int
store_distress(PGconn *conn, void *arg)
{
    distress_t  *d = arg;
    const char  *params[1];
    PGresult    *res;
    int          rc;

    if (cc_db_command(conn,
            "SELECT pg_advisory_xact_lock(hashtextextended("
            "    'distress ' || cc_current_tenant(), 0))", 0, NULL) != 0)
    {
        return REPORT_TX_FAILED;
    }
    params[0] = d->report;
    res = cc_db_query(conn,
        "INSERT INTO distress_reports (tenant_id, error_type, manufacturer,"
        "        model, serial_number, agent_version, http_status, message,"
        "        is_cloud_pc, cert_source_state, cert_thumbprint,"
        "        cert_subject, cert_issuer, cert_not_before, cert_not_after,"
        "        reported_at) "
        "SELECT cc_current_tenant(), (j ->> 'ErrorType')::integer,"
        "       left(j ->> 'Manufacturer', 256), left(j ->> 'Model', 256),"
        "       left(j ->> 'SerialNumber', 256),"
        "       left(j ->> 'AgentVersion', 64),"
        "       (j ->> 'HttpStatusCode')::integer,"
        "       left(j ->> 'Message', 1000), (j ->> 'IsCloudPc')::boolean,"
        "       (j ->> 'CertSourceState')::integer,"
        "       left(j ->> 'CertThumbprint', 128),"
        "       left(j ->> 'CertSubject', 512), left(j ->> 'CertIssuer', 512),"
        "       (j ->> 'CertNotBefore')::timestamptz,"
        "       (j ->> 'CertNotAfter')::timestamptz,"
        "       (j ->> 'Timestamp')::timestamptz "
        "  FROM (SELECT $1::jsonb AS j) r "
        " WHERE EXISTS (SELECT 1 FROM tenants WHERE id = cc_current_tenant()"
        "                  AND status IN ('active', 'suspended'))"
        "   AND (j ->> 'Timestamp')::timestamptz"
        "       BETWEEN now() - interval '24 hours'"
        "           AND now() + interval '5 minutes'"
        "   AND (SELECT count(*) FROM distress_reports"
        "         WHERE received_at > now() - interval '1 hour') < "
        DISTRESS_PER_TENANT_HOUR,
        1, params);
    rc = cc_db_result_ok(res) ? 0 : REPORT_TX_FAILED;
    if (rc == 0) {
        d->stored = atoi(PQcmdTuples(res)) == 1;
    }
    PQclear(res);
    return rc;
}


void
ingest_agent_distress(cc_request_t *req, cc_reply_t *rep)
{
    const ingest_app_t  *app = req->app;
    cc_identity_t        tenant;
    distress_t           d;
    json_t              *checked;
    int                  rc;

    answer_received(rep);
    if (app->pool == NULL || req->body_len > DISTRESS_MAX_BODY
        || !json_is_object(req->json) || claimed_tenant(req, &tenant) != 0)
    {
        cc_log(CC_LOG_DEBUG, "distress report dropped: size, body or tenant");
        return;
    }
    checked = check_distress_report(req->json);
    if (checked == NULL) {
        cc_log(CC_LOG_DEBUG, "distress report dropped: not a valid report");
        return;
    }

    memset(&d, 0, sizeof(d));
    d.tenant = tenant.tenant;
    d.report = json_dumps(checked, JSON_COMPACT);
    rc = d.report != NULL ? cc_db_tenant_tx(app->pool, d.tenant,
                                            store_distress, &d)
                          : REPORT_TX_FAILED;
    if (rc == 0) {
        cc_log_fields(d.stored ? CC_LOG_INFO : CC_LOG_DEBUG,
                      d.stored ? "distress report stored"
                               : "distress report dropped: unknown tenant, "
                                 "stale or future, or over the hourly cap",
                      json_pack("{s:s,s:I}", "tenant", d.tenant,
                                "error_type", json_integer_value(
                                    json_object_get(checked, "ErrorType"))));
    } else {
        cc_log(CC_LOG_WARN, "distress report not stored: database failure");
    }
    free(d.report);
    json_decref(checked);
}
