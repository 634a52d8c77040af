/*
 * Session registration and telemetry upload for device agents.  What the
 * agent does with each status decides which one we answer
 * (agent-protocol.md 6 and 7):
 *
 *   register-session: 2xx with success:true continues; 401/403 stop the
 *   agent at once; anything else is retried 5 times, then it exits.
 *
 *   telemetry: 2xx means delivered (so only after COMMIT); 413 halves the
 *   batch; 408/429/5xx are retried; 401/403 count towards shutdown; any
 *   other 4xx blocks the upload queue until the batch is accepted.  So a
 *   batch we cannot store for a passing reason gets 503, never a 4xx.
 *
 * Error bodies carry the protocol's {success:false,message} for the agent
 * and the platform's {error:{code,message}} for people; neither quotes the
 * request (serial numbers are personal data).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cc_db.h"
#include "cc_identity.h"
#include "cc_log.h"
#include "ingest_admit.h"
#include "ingest_agent.h"
#include "ingest_app.h"
#include "ingest_batch.h"
#include "ingest_gzip.h"
#include "ingest_live.h"
#include "ingest_state.h"

#define INGEST_TEXT_MAX  "256"      /* cap on header-sourced device facts */

/* The work functions' own results (cc_db_tenant_tx passes them back). */
#define INGEST_TX_FAILED        1
#define INGEST_TX_OTHER_DEVICE  2

/* The name of the prepared events insert on each pooled connection. */
#define INGEST_EVENTS_STMT  "cc_ingest_events"

/* A timestamptz as the agent writes DateTime: ISO-8601 UTC. */
#define INGEST_ISO_UTC(col) \
    "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"


static cc_db_pool_t *
app_pool(const cc_request_t *req)
{
    return ((const ingest_app_t *) req->app)->pool;
}


static cc_live_t *
app_live(const cc_request_t *req)
{
    return ((const ingest_app_t *) req->app)->live;
}


static const char *
text_or_empty(const char *s)
{
    return s != NULL ? s : "";
}


/* Records the device, refreshing what it says about itself. */
static int
upsert_device(PGconn *conn, const char *device, const char *manufacturer,
              const char *model, const char *serial)
{
    const char  *params[4];

    params[0] = device;
    params[1] = text_or_empty(manufacturer);
    params[2] = text_or_empty(model);
    params[3] = text_or_empty(serial);
    return cc_db_command(conn,
        "INSERT INTO devices (tenant_id, device_id, manufacturer, model,"
        "                     serial_number) "
        "VALUES (cc_current_tenant(), $1::uuid,"
        "        nullif(left($2, " INGEST_TEXT_MAX "), ''),"
        "        nullif(left($3, " INGEST_TEXT_MAX "), ''),"
        "        nullif(left($4, " INGEST_TEXT_MAX "), '')) "
        "ON CONFLICT (tenant_id, device_id) DO UPDATE SET "
        "    manufacturer = coalesce(EXCLUDED.manufacturer,"
        "                            devices.manufacturer),"
        "    model = coalesce(EXCLUDED.model, devices.model),"
        "    serial_number = coalesce(EXCLUDED.serial_number,"
        "                             devices.serial_number),"
        "    last_seen = now()",
        4, params);
}


/* ---- register-session ------------------------------------------------ */

typedef struct {
    const char  *device;
    const char  *session;
    const char  *manufacturer;
    const char  *model;
    const char  *serial;
    const char  *started_at;    /* "" = now */
    const char  *agent_version;
    char        *os;            /* JSON text */
    char         registered_at[40];
    int          created;       /* this registration inserted the session */
} registration_t;


/* The facts about the OS and the enrollment that are not personal. */
static char *
registration_os(json_t *reg)
{
    static const char  *keys[] = {
        "OsName", "OsBuild", "OsDisplayVersion", "OsEdition", "OsLanguage",
        "EnrollmentType", "IsUserDriven", "IsPreProvisioned", "IsHybridJoin",
        "IsSelfDeployingProfile", "IsCloudPc"
    };
    json_t  *os, *v;
    char    *text;
    size_t   i;

    os = json_object();
    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        v = json_object_get(reg, keys[i]);
        if (v != NULL && !json_is_null(v) && !json_is_object(v)
            && !json_is_array(v))
        {
            json_object_set(os, keys[i], v);
        }
    }
    text = json_dumps(os, JSON_COMPACT);
    json_decref(os);
    return text;
}


static int
store_registration(PGconn *conn, void *arg)
{
    registration_t  *r = arg;
    const char      *params[5];
    PGresult        *res;
    int              rc;

    if (upsert_device(conn, r->device, r->manufacturer, r->model, r->serial)
        != 0)
    {
        return INGEST_TX_FAILED;
    }
    params[0] = r->session;
    params[1] = r->device;
    params[2] = r->started_at;
    params[3] = r->os;
    params[4] = text_or_empty(r->agent_version);
    /* The first StartedAt is kept: the agent repeats this on every start
     * (agent-protocol.md 6).  A session id another device already holds
     * is not taken over. */
    res = cc_db_query(conn,
        "INSERT INTO enrollment_sessions AS s (tenant_id, session_id,"
        "        device_id, started_at, os, agent_version) "
        "VALUES (cc_current_tenant(), $1::uuid, $2::uuid,"
        "        coalesce(nullif($3, '')::timestamptz, now()), $4::jsonb,"
        "        nullif(left($5, " INGEST_TEXT_MAX "), '')) "
        "ON CONFLICT (tenant_id, session_id) DO UPDATE SET "
        "    os = EXCLUDED.os, agent_version = EXCLUDED.agent_version,"
        "    updated_at = now() "
        "WHERE s.device_id = EXCLUDED.device_id "
        "RETURNING " INGEST_ISO_UTC("s.started_at") ", s.xmax = 0",
        5, params);
    rc = 0;
    if (!cc_db_result_ok(res)) {
        rc = INGEST_TX_FAILED;
    } else if (PQntuples(res) != 1) {
        rc = INGEST_TX_OTHER_DEVICE;
    } else {
        snprintf(r->registered_at, sizeof(r->registered_at), "%s",
                 PQgetvalue(res, 0, 0));
        /* xmax is 0 on a row this statement inserted, not updated. */
        r->created = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
    }
    PQclear(res);
    return rc;
}


/* Fills r from the body; 0, or answers rep and returns -1. */
static int
read_registration(cc_request_t *req, cc_reply_t *rep, registration_t *r)
{
    json_t      *reg;
    const char  *tenant, *ts;

    reg = json_object_get(req->json, "Registration");
    if (!json_is_object(reg)) {
        ingest_refuse(rep, 400, "invalid_request",
                      "the body must be {\"Registration\":{...}}");
        return -1;
    }
    r->session = json_string_value(json_object_get(reg, "SessionId"));
    if (r->session == NULL || !cc_uuid_valid(r->session)) {
        ingest_refuse(rep, 400, "invalid_request", "SessionId must be a GUID");
        return -1;
    }
    /* A body naming another tenant than the certificate's is refused with
     * 403, which stops the agent instead of retrying (6, and 7 step 5). */
    tenant = json_string_value(json_object_get(reg, "TenantId"));
    if (!ingest_names_own_tenant(req, tenant)) {
        ingest_refuse(rep, 403, "tenant_mismatch",
                      "the registration names another tenant than the device "
                      "certificate");
        return -1;
    }
    ts = json_string_value(json_object_get(reg, "StartedAt"));
    r->started_at = ingest_is_timestamp(ts) ? ts : "";
    r->manufacturer = json_string_value(json_object_get(reg, "Manufacturer"));
    r->model = json_string_value(json_object_get(reg, "Model"));
    r->serial = json_string_value(json_object_get(reg, "SerialNumber"));
    r->agent_version = json_string_value(json_object_get(reg,
                                                         "AgentVersion"));
    r->os = registration_os(reg);
    if (r->os == NULL) {
        ingest_refuse(rep, 503, "unavailable", "try again shortly");
        return -1;
    }
    return 0;
}


void
ingest_register_session(cc_request_t *req, cc_reply_t *rep)
{
    registration_t  r;
    int             rc;

    if (!ingest_admit(req, rep)) {
        return;
    }
    if (!json_is_object(req->json)) {
        ingest_refuse(rep, 400, "invalid_request",
                      "the body must be {\"Registration\":{...}}");
        return;
    }
    memset(&r, 0, sizeof(r));
    r.device = req->identity.device;
    if (read_registration(req, rep, &r) != 0) {
        return;
    }

    rc = cc_db_tenant_tx(app_pool(req), req->identity.tenant,
                         store_registration, &r);
    free(r.os);
    if (rc == INGEST_TX_OTHER_DEVICE) {
        ingest_refuse(rep, 403, "session_of_another_device",
                      "this session is registered to another device");
        return;
    }
    if (rc != 0) {
        ingest_refuse(rep, 503, "unavailable",
                      "the session could not be registered; try again shortly");
        return;
    }
    cc_log_fields(CC_LOG_INFO, "session registered",
                  json_pack("{s:s,s:s,s:s}", "tenant", req->identity.tenant,
                            "device", r.device, "session", r.session));
    if (r.created) {
        ingest_live_session_registered(app_live(req), req->identity.tenant,
                                       r.session, r.device);
    }
    cc_reply_json(rep, 200, json_pack("{s:s,s:b,s:s,s:s,s:i}",
        "sessionId", r.session, "success", 1, "message", "registered",
        "registeredAt", r.registered_at,
        "validatedBy", ingest_validated_by(req)));
}


/* ---- telemetry ------------------------------------------------------- */

typedef struct {
    const cc_request_t  *req;
    ingest_batch_t      *batch;
    char                *rows;      /* b->events as JSON text */
    char                *trace;     /* b->trace as JSON text */
    char                 max_item[24];
    ingest_state_change_t  change;  /* what the batch did to its session */
} telemetry_t;


/* The session of a batch, created if the agent has not registered it
 * (yet); INGEST_TX_OTHER_DEVICE when another device holds the id.  An
 * existing session is locked FOR KEY SHARE until the batch commits, so
 * that a purge cannot delete it under the batch's events and sequence
 * numbers (the lock event_sequences' foreign key took per row before
 * sql/012; none when it is gone).  Sets *prepared when this connection
 * already holds the prepared events insert (store_events), asked here to
 * spare a round trip. */
static int
ensure_session(PGconn *conn, const char *session, const char *device,
               int *prepared)
{
    const char  *params[2];
    PGresult    *res;
    int          rc;

    params[0] = session;
    params[1] = device;
    res = cc_db_query(conn,
        "WITH made AS ("
        "    INSERT INTO enrollment_sessions (tenant_id, session_id,"
        "                                     device_id) "
        "    VALUES (cc_current_tenant(), $1::uuid, $2::uuid) "
        "    ON CONFLICT (tenant_id, session_id) DO NOTHING "
        "    RETURNING device_id) "
        "SELECT owned, EXISTS (SELECT 1 FROM pg_prepared_statements"
        "                       WHERE name = '" INGEST_EVENTS_STMT "') "
        "  FROM (SELECT device_id = $2::uuid AS owned FROM made "
        "        UNION ALL "
        "        SELECT owned FROM ("
        "            SELECT device_id = $2::uuid AS owned"
        "              FROM enrollment_sessions "
        "             WHERE session_id = $1::uuid"
        "               AND NOT EXISTS (SELECT 1 FROM made) "
        "               FOR KEY SHARE) held) o",
        2, params);
    rc = INGEST_TX_FAILED;
    if (cc_db_result_ok(res) && PQntuples(res) == 1) {
        rc = strcmp(PQgetvalue(res, 0, 0), "t") == 0 ? 0
                                                    : INGEST_TX_OTHER_DEVICE;
        *prepared = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
    }
    PQclear(res);
    return rc;
}


/* The events insert: only the events whose Sequence is new for the
 * session are stored, since a retried batch resends identical items
 * (agent-protocol.md 7, Idempotency).  Prepared once per connection:
 * planning it cost about as much as a sixth of running it. */
static const char  events_sql[] =
    "WITH items AS ("
    "    SELECT DISTINCT ON (x.sequence) x.* "
    "      FROM jsonb_to_recordset($2::jsonb) AS x(sequence bigint,"
    "           item_id bigint, event_id text, event_time timestamptz,"
    "           event_type text, severity integer, source text,"
    "           phase integer, message text, data jsonb) "
    "     ORDER BY x.sequence), "
    "fresh AS ("
    "    INSERT INTO event_sequences (tenant_id, session_id, sequence) "
    "    SELECT cc_current_tenant(), $1::uuid, sequence FROM items "
    "    ON CONFLICT DO NOTHING "
    "    RETURNING sequence) "
    "INSERT INTO events (tenant_id, session_id, sequence, item_id,"
    "                    event_id, event_time, event_type, severity,"
    "                    source, phase, message, data) "
    "SELECT cc_current_tenant(), $1::uuid, i.sequence, i.item_id,"
    "       i.event_id, i.event_time, i.event_type, i.severity,"
    "       i.source, i.phase, i.message, i.data "
    "  FROM items i JOIN fresh f USING (sequence)";


/* Prepares the events insert on conn.  A prepared statement belongs to
 * the connection, not the transaction: it outlives a rollback. */
static int
prepare_events(PGconn *conn)
{
    PGresult  *res;
    int        ok;

    res = PQprepare(conn, INGEST_EVENTS_STMT, events_sql, 2, NULL);
    ok = cc_db_result_ok(res);
    if (!ok) {
        cc_log_fields(CC_LOG_ERROR, "preparing the events insert failed",
                      json_pack("{s:s}", "sqlstate", cc_db_sqlstate(res)));
    }
    PQclear(res);
    return ok ? 0 : -1;
}


static int
store_events(PGconn *conn, const char *session, const char *rows,
             int prepared)
{
    const char  *params[2];
    PGresult    *res;
    int          ok;

    if (!prepared && prepare_events(conn) != 0) {
        return -1;
    }
    params[0] = session;
    params[1] = rows;
    res = PQexecPrepared(conn, INGEST_EVENTS_STMT, 2, params, NULL, NULL, 0);
    ok = cc_db_result_ok(res);
    if (!ok) {
        cc_log_fields(CC_LOG_ERROR, "storing events failed",
                      json_pack("{s:s}", "sqlstate", cc_db_sqlstate(res)));
    }
    PQclear(res);
    return ok ? 0 : -1;
}


/* Stores the Signals and DecisionTransitions not stored yet, keyed by the
 * agent's own ordinals (agent-protocol.md 7, Idempotency). */
static int
store_trace(PGconn *conn, const char *session, const char *rows)
{
    const char  *params[2];

    params[0] = session;
    params[1] = rows;
    return cc_db_command(conn,
        "INSERT INTO session_trace (tenant_id, session_id, kind, ordinal,"
        "                           item_id, occurred_at, payload) "
        "SELECT cc_current_tenant(), $1::uuid, x.kind, x.ordinal, x.item_id,"
        "       x.occurred_at, x.payload "
        "  FROM jsonb_to_recordset($2::jsonb) AS x(kind text, ordinal bigint,"
        "       item_id bigint, occurred_at timestamptz, payload jsonb) "
        "ON CONFLICT DO NOTHING",
        2, params);
}


static int
store_batch(PGconn *conn, void *arg)
{
    telemetry_t         *t = arg;
    const cc_request_t  *req = t->req;
    int                  rc, prepared;

    if (upsert_device(conn, req->identity.device,
                      cc_request_header(req, "X-Device-Manufacturer"),
                      cc_request_header(req, "X-Device-Model"),
                      cc_request_header(req, "X-Device-SerialNumber")) != 0)
    {
        return INGEST_TX_FAILED;
    }
    prepared = 0;
    rc = ensure_session(conn, t->batch->session, req->identity.device,
                        &prepared);
    if (rc != 0) {
        return rc;
    }
    /* Most batches hold a few Signals or Transitions; one without any
     * spares the statement. */
    if (store_events(conn, t->batch->session, t->rows, prepared) != 0
        || (json_array_size(t->batch->trace) > 0
            && store_trace(conn, t->batch->session, t->trace) != 0))
    {
        return INGEST_TX_FAILED;
    }
    /* The session's state moves in this same transaction, so a batch
     * that fails changes nothing (ingest_state.h). */
    return ingest_state_apply(conn, t->batch->session, t->batch->events,
                              t->max_item, &t->change) == 0
           ? 0 : INGEST_TX_FAILED;
}


/* The batch as JSON: gzip per the protocol, or plain JSON already parsed.
 * NULL after answering rep. */
static json_t *
telemetry_body(cc_request_t *req, cc_reply_t *rep)
{
    const char            *encoding;
    char                  *text;
    size_t                 len;
    ingest_gzip_result_t   gz;
    json_t                *items;

    encoding = cc_request_header(req, "Content-Encoding");
    if (encoding == NULL || strcasecmp(encoding, "identity") == 0) {
        if (req->json == NULL) {
            ingest_refuse(rep, 400, "malformed_json", "the batch is not JSON");
            return NULL;
        }
        return json_incref(req->json);
    }
    if (strcasecmp(encoding, "gzip") != 0) {
        /* 400, not 415: the agent treats every unfamiliar 4xx alike, and
         * it only ever sends gzip (agent-protocol.md 7). */
        ingest_refuse(rep, 400, "unsupported_encoding",
                      "telemetry bodies are gzip-compressed JSON");
        return NULL;
    }
    gz = ingest_gunzip(req->body, req->body_len, INGEST_MAX_INFLATED,
                       &text, &len);
    if (gz == INGEST_GZIP_TOO_LARGE) {
        /* 413 makes the agent halve its batch (agent-protocol.md 7). */
        ingest_refuse(rep, 413, "body_too_large",
                      "the decompressed batch exceeds 5 MiB");
        return NULL;
    }
    if (gz == INGEST_GZIP_NO_MEMORY) {
        ingest_refuse(rep, 503, "unavailable", "try again shortly");
        return NULL;
    }
    if (gz != INGEST_GZIP_OK) {
        ingest_refuse(rep, 400, "malformed_gzip", "the body is not valid gzip");
        return NULL;
    }
    items = json_loadb(text, len, 0, NULL);
    free(text);
    if (items == NULL) {
        /* Reference order step 3: bad JSON is 400 (agent-protocol.md 7). */
        ingest_refuse(rep, 400, "malformed_json", "the batch is not valid JSON");
    }
    return items;
}


static void
acknowledge(cc_reply_t *rep, const ingest_batch_t *b)
{
    char  now[32];

    cc_log_timestamp(now, sizeof(now));
    cc_reply_json(rep, 200, json_pack("{s:b,s:I,s:I,s:s,s:s}",
        "success", 1,
        "eventsReceived", (json_int_t) b->received,
        "eventsProcessed", (json_int_t) b->accepted,
        "message", "stored",
        "processedAt", now));
}


void
ingest_telemetry(cc_request_t *req, cc_reply_t *rep)
{
    telemetry_t             t;
    ingest_batch_t          b;
    ingest_batch_result_t   br;
    json_t                 *items;
    const char             *why;
    int                     rc;

    if (!ingest_admit(req, rep)) {
        return;
    }
    items = telemetry_body(req, rep);
    if (items == NULL) {
        return;
    }
    br = ingest_batch_read(items, req->identity.tenant, &b, &why);
    json_decref(items);
    if (br == INGEST_BATCH_OTHER_TENANT) {
        ingest_refuse(rep, 403, "tenant_mismatch", why);
        return;
    }
    if (br != INGEST_BATCH_OK) {
        ingest_refuse(rep, 400, "invalid_batch", why);
        return;
    }

    memset(&t, 0, sizeof(t));
    t.req = req;
    t.batch = &b;
    t.rows = json_dumps(b.events, JSON_COMPACT);
    t.trace = json_dumps(b.trace, JSON_COMPACT);
    snprintf(t.max_item, sizeof(t.max_item), "%lld", b.max_item_id);
    rc = t.rows != NULL && t.trace != NULL
         ? cc_db_tenant_tx(app_pool(req), req->identity.tenant,
                           store_batch, &t)
         : INGEST_TX_FAILED;
    free(t.rows);
    free(t.trace);

    if (rc == INGEST_TX_OTHER_DEVICE) {
        ingest_refuse(rep, 403, "session_of_another_device",
                      "this session is registered to another device");
    } else if (rc != 0) {
        /* Transient for the agent: retried, never blocking (7). */
        ingest_refuse(rep, 503, "unavailable",
                      "the batch could not be stored; try again shortly");
    } else {
        /* Only now, after COMMIT, may the agent drop the batch, and may
         * the live view hear of it. */
        acknowledge(rep, &b);
        ingest_live_batch_stored(app_live(req), req->identity.tenant,
                                 b.session, &t.change);
    }
    ingest_batch_free(&b);
}
