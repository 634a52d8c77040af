/*
 * The agent's configuration (agent-protocol.md 5): every top-level field of
 * an AgentConfigResponse, camelCase, enums as names, nulls left out except
 * the two self-update hashes, which must be JSON null (a non-empty exe hash
 * would make the agent update itself from the reference's download site).
 *
 * Values are the protocol's defaults, except the tenant's own: its IME log
 * patterns (the newest default set with the tenant's overrides merged in,
 * sql/007) and its diagnostics mode (cc_monitor_settings, sql/006).
 * deviceBlocked is always false here: nginx refuses blocked devices before
 * they get this far.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "cc_db.h"
#include "cc_log.h"
#include "ingest_admit.h"
#include "ingest_app.h"
#include "ingest_config.h"

#define CONFIG_TX_FAILED  1

typedef struct {
    char     diagnostics_mode[16];
    int      config_version;
    json_t  *patterns;
} tenant_config_t;


/* The tenant's part of the configuration, read in one transaction. */
static int
read_tenant_config(PGconn *conn, void *arg)
{
    tenant_config_t  *tc = arg;
    PGresult         *res;
    json_error_t      err;
    int               rc;

    res = cc_db_query(conn,
        "SELECT s.diagnostics_mode, p.config_version, p.patterns::text "
        "  FROM cc_monitor_settings(cc_current_tenant()) s,"
        "       cc_agent_patterns() p",
        0, NULL);
    rc = CONFIG_TX_FAILED;
    if (cc_db_result_ok(res) && PQntuples(res) == 1) {
        snprintf(tc->diagnostics_mode, sizeof(tc->diagnostics_mode), "%s",
                 PQgetvalue(res, 0, 0));
        tc->config_version = atoi(PQgetvalue(res, 0, 1));
        tc->patterns = json_loads(PQgetvalue(res, 0, 2), 0, &err);
        if (json_is_array(tc->patterns)) {
            rc = 0;
        }
    }
    PQclear(res);
    return rc;
}


/* Scalars, the enrollment's end, and the switches. */
static void
add_defaults(json_t *c)
{
    json_object_set_new(c, "uploadIntervalSeconds", json_integer(10));
    json_object_set_new(c, "maxBatchSize", json_integer(100));
    json_object_set_new(c, "logLevel", json_string("Info"));
    json_object_set_new(c, "ntpServer", json_string("time.windows.com"));

    json_object_set_new(c, "selfDestructOnComplete", json_true());
    json_object_set_new(c, "keepLogFile", json_false());
    json_object_set_new(c, "rebootOnComplete", json_false());
    json_object_set_new(c, "rebootDelaySeconds", json_integer(10));
    json_object_set_new(c, "showEnrollmentSummary", json_false());
    json_object_set_new(c, "enrollmentSummaryTimeoutSeconds",
                        json_integer(60));
    json_object_set_new(c, "enrollmentSummaryLaunchRetrySeconds",
                        json_integer(120));

    json_object_set_new(c, "enableGeoLocation", json_true());
    json_object_set_new(c, "enableImeMatchLog", json_false());
    json_object_set_new(c, "enableGatherRuleDebugLog", json_false());
    json_object_set_new(c, "enableEspContinueAnywayObservation",
                        json_false());
    json_object_set_new(c, "enableTimezoneAutoSet", json_false());
    json_object_set_new(c, "enableDoGroupIdAutoSet", json_false());
    json_object_set_new(c, "sendTraceEvents", json_true());
    json_object_set_new(c, "unrestrictedMode", json_false());

    json_object_set_new(c, "maxAuthFailures", json_integer(5));
    json_object_set_new(c, "authFailureTimeoutMinutes", json_integer(0));
}


/* Diagnostics: what the tenant chose, and where the IME keeps its logs. */
static void
add_diagnostics(json_t *c, const char *mode)
{
    json_object_set_new(c, "diagnosticsUploadEnabled",
                        json_boolean(strcmp(mode, "Off") != 0));
    json_object_set_new(c, "diagnosticsUploadMode", json_string(mode));
    json_object_set_new(c, "diagnosticsLogPaths", json_pack(
        "[{s:s,s:s,s:b,s:b}]",
        "path", "C:\\ProgramData\\Microsoft\\IntuneManagementExtension\\Logs",
        "description", "Intune Management Extension logs",
        "isBuiltIn", 1, "includeSubfolders", 0));
}


/* Rules, self-update, control, and the two nested objects. */
static void
add_rules_and_control(json_t *c, json_t *patterns)
{
    json_object_set_new(c, "gatherRules", json_array());
    json_object_set(c, "imeLogPatterns", patterns);
    json_object_set_new(c, "whiteGloveSealingPatternIds", json_array());

    json_object_set_new(c, "latestAgentSha256", json_null());
    json_object_set_new(c, "latestAgentExeSha256", json_null());
    json_object_set_new(c, "allowAgentDowngrade", json_false());

    json_object_set_new(c, "deviceBlocked", json_false());
    json_object_set_new(c, "deviceKillSignal", json_false());

    json_object_set_new(c, "collectors", json_pack("{s:i,s:i,s:i}",
        "agentMaxLifetimeMinutes", 360, "helloWaitTimeoutSeconds", 30,
        "sessionStalledAfterProbeIndex", 4));
    json_object_set_new(c, "analyzers", json_pack(
        "{s:b,s:[],s:b,s:b,s:b,s:b,s:b}",
        "enableLocalAdminAnalyzer", 1, "localAdminAllowedAccounts",
        "enableSoftwareInventoryAnalyzer", 0,
        "enableIntegrityBypassAnalyzer", 1, "enableRealmJoinWatcher", 0,
        "keepAwakeDuringUserEsp", 0, "enableConsoleBypassDetection", 1));
}


static json_t *
config_response(const tenant_config_t *tc)
{
    json_t  *c;

    c = json_object();
    json_object_set_new(c, "configVersion", json_integer(tc->config_version));
    add_defaults(c);
    add_diagnostics(c, tc->diagnostics_mode);
    add_rules_and_control(c, tc->patterns);
    return c;
}


/*
 * The bootstrap clean-up probe (agent-protocol.md 14): X-Tenant-Id, no
 * ?tenantId and no device certificate.  The reference answers 400, and the
 * agent then keeps its bootstrap configuration.
 */
static int
is_bootstrap_probe(const cc_request_t *req)
{
    const char  *query_tenant;

    query_tenant = MHD_lookup_connection_value(req->connection,
                                               MHD_GET_ARGUMENT_KIND,
                                               "tenantId");
    return cc_request_header(req, "X-Tenant-Id") != NULL
           && (query_tenant == NULL || query_tenant[0] == '\0')
           && req->identity.device == NULL
           && cc_request_header(req, "X-Bootstrap-Token") == NULL;
}


/* ?tenantId, when given, must be the certificate's tenant. */
static int
query_names_own_tenant(const cc_request_t *req)
{
    return ingest_names_own_tenant(req,
               MHD_lookup_connection_value(req->connection,
                                           MHD_GET_ARGUMENT_KIND,
                                           "tenantId"));
}


void
ingest_agent_config(cc_request_t *req, cc_reply_t *rep)
{
    const ingest_app_t  *app = req->app;
    tenant_config_t      tc;
    int                  rc;

    if (is_bootstrap_probe(req)) {
        ingest_refuse(rep, 400, "tenant_required",
                      "the configuration needs ?tenantId or a device "
                      "certificate");
        return;
    }
    if (!ingest_admit(req, rep)) {
        return;
    }
    if (!query_names_own_tenant(req)) {
        ingest_refuse(rep, 403, "tenant_mismatch",
                      "?tenantId names another tenant than the device "
                      "certificate");
        return;
    }

    memset(&tc, 0, sizeof(tc));
    rc = cc_db_tenant_tx(app->pool, req->identity.tenant,
                         read_tenant_config, &tc);
    if (rc != 0) {
        json_decref(tc.patterns);
        /* The agent waits Retry-After on 503 and tries again (5). */
        ingest_refuse(rep, 503, "unavailable",
                      "the configuration could not be read; try again "
                      "shortly");
        cc_reply_header(rep, "Retry-After", "30");
        return;
    }
    cc_log_fields(CC_LOG_DEBUG, "configuration served",
                  json_pack("{s:s,s:s,s:i}", "tenant", req->identity.tenant,
                            "device", req->identity.device,
                            "config_version", tc.config_version));
    cc_reply_json(rep, 200, config_response(&tc));
    json_decref(tc.patterns);
}
