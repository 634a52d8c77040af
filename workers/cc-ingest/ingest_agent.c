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
#include "cc_jscan.h"
#include "cc_identity.h"
#include "cc_log.h"
#include "ingest_admit.h"
#include "ingest_agent.h"
#include "ingest_app.h"
#include "ingest_batch.h"
#include "ingest_gzip.h"
#include "ingest_live.h"
#include "ingest_state.h"
#include "ingest_store.h"

/* What storing a registration came to, besides 0. */
#define INGEST_TX_FAILED        1
#define INGEST_TX_OTHER_DEVICE  2


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


#define REGISTER_STMT  "cc_ingest_register"


int
ingest_agent_prepare(cc_db_pool_t *pool)
{
    return cc_db_pool_prepare(pool, REGISTER_STMT,
        "SELECT outcome, registered_at, created"
        "  FROM cc_ingest_register($1::uuid, $2::uuid, $3, $4, $5, $6::uuid,"
        "                          $7, $8::jsonb, $9)");
}


/*
 * Stores the registration: one statement, its own transaction (sql/013's
 * cc_ingest_register).  0, INGEST_TX_OTHER_DEVICE, or INGEST_TX_FAILED.
 */
static int
store_registration(cc_db_pool_t *pool, const char *tenant, registration_t *r)
{
    const char  *params[9];
    PGresult    *res;
    int          rc;

    params[0] = tenant;
    params[1] = r->device;
    params[2] = text_or_empty(r->manufacturer);
    params[3] = text_or_empty(r->model);
    params[4] = text_or_empty(r->serial);
    params[5] = r->session;
    params[6] = r->started_at;
    params[7] = r->os;
    params[8] = text_or_empty(r->agent_version);
    res = cc_db_pool_query_prepared(pool, REGISTER_STMT, 9, params);
    rc = INGEST_TX_FAILED;
    if (cc_db_result_ok(res) && PQntuples(res) == 1) {
        if (strcmp(PQgetvalue(res, 0, 0), "registered") != 0) {
            rc = INGEST_TX_OTHER_DEVICE;
        } else {
            snprintf(r->registered_at, sizeof(r->registered_at), "%s",
                     PQgetvalue(res, 0, 1));
            r->created = strcmp(PQgetvalue(res, 0, 2), "t") == 0;
            rc = 0;
        }
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

    rc = store_registration(app_pool(req), req->identity.tenant, &r);
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


/*
 * The batch's JSON text: inflated from gzip, as the protocol sends it, or
 * as it came.  Sets *owned when the caller must free the text.  NULL after
 * answering rep.
 */
static const char *
telemetry_text(cc_request_t *req, cc_reply_t *rep, size_t *len, char **owned)
{
    const char            *encoding;
    char                  *text;
    ingest_gzip_result_t   gz;

    *owned = NULL;
    encoding = cc_request_header(req, "Content-Encoding");
    if (encoding == NULL || strcasecmp(encoding, "identity") == 0) {
        if (req->body == NULL) {
            ingest_refuse(rep, 400, "malformed_json", "the batch is not JSON");
            return NULL;
        }
        *len = req->body_len;
        return req->body;
    }
    if (strcasecmp(encoding, "gzip") != 0) {
        /* 400, not 415: the agent treats every unfamiliar 4xx alike, and
         * it only ever sends gzip (agent-protocol.md 7). */
        ingest_refuse(rep, 400, "unsupported_encoding",
                      "telemetry bodies are gzip-compressed JSON");
        return NULL;
    }
    gz = ingest_gunzip(req->body, req->body_len, INGEST_MAX_INFLATED,
                       &text, len);
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
    *owned = text;
    return text;
}


/* Reads the batch; 0, or answers rep and returns -1. */
static int
read_batch(cc_request_t *req, cc_reply_t *rep, ingest_batch_t *b)
{
    const char             *text, *why;
    char                   *owned;
    size_t                  len;
    ingest_batch_result_t   br;

    text = telemetry_text(req, rep, &len, &owned);
    if (text == NULL) {
        return -1;
    }
    br = ingest_batch_read(text, len, req->identity.tenant, b, &why);
    free(owned);
    switch (br) {
    case INGEST_BATCH_OK:
        return 0;
    case INGEST_BATCH_BAD_JSON:
        /* Reference order step 3: bad JSON is 400 (agent-protocol.md 7). */
        ingest_refuse(rep, 400, "malformed_json",
                      "the batch is not valid JSON");
        return -1;
    case INGEST_BATCH_OTHER_TENANT:
        ingest_refuse(rep, 403, "tenant_mismatch", why);
        return -1;
    case INGEST_BATCH_NO_MEMORY:
        ingest_refuse(rep, 503, "unavailable", "try again shortly");
        return -1;
    default:
        ingest_refuse(rep, 400, "invalid_batch", why);
        return -1;
    }
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


/* A header describing the device, or NULL when it is absent or not text
 * PostgreSQL takes (invalid UTF-8 would fail every batch of the device,
 * and the agent would resend them for ever). */
static const char *
device_fact(const cc_request_t *req, const char *name)
{
    const char  *value;

    value = cc_request_header(req, name);
    return value != NULL && cc_jscan_is_text(value, strlen(value)) ? value
                                                                   : NULL;
}


void
ingest_telemetry(cc_request_t *req, cc_reply_t *rep)
{
    ingest_batch_t          b;
    ingest_device_facts_t   dev;
    ingest_state_change_t   change;
    ingest_store_result_t   rc;

    if (!ingest_admit(req, rep) || read_batch(req, rep, &b) != 0) {
        return;
    }
    dev.device = req->identity.device;
    dev.manufacturer = device_fact(req, "X-Device-Manufacturer");
    dev.model = device_fact(req, "X-Device-Model");
    dev.serial = device_fact(req, "X-Device-SerialNumber");
    rc = ingest_store_batch(app_pool(req), req->identity.tenant, &dev, &b,
                            &change);

    if (rc == INGEST_STORE_OTHER_DEVICE) {
        ingest_refuse(rep, 403, "session_of_another_device",
                      "this session is registered to another device");
    } else if (rc != INGEST_STORE_OK) {
        /* Transient for the agent: retried, never blocking (7). */
        ingest_refuse(rep, 503, "unavailable",
                      "the batch could not be stored; try again shortly");
    } else {
        /* Only now, after COMMIT, may the agent drop the batch, and may
         * the live view hear of it. */
        acknowledge(rep, &b);
        ingest_live_batch_stored(app_live(req), req->identity.tenant,
                                 b.session, &change);
    }
    ingest_batch_free(&b);
}
