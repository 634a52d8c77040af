/*
 * cc-ingest: the device agents' side of Monitor (agent-protocol.md):
 * configuration (ingest_config.c), session registration and telemetry
 * (ingest_agent.c), diagnostics upload URLs (ingest_upload.c), error and
 * distress reports (ingest_reports.c), each admitted by ingest_admit.c;
 * besides /healthz and /metrics.
 */

#include <stdlib.h>

#include "cc_db.h"
#include "cc_http.h"
#include "cc_log.h"
#include "cc_metrics.h"
#include "cc_service.h"
#include "cc_signal.h"
#include "ingest_agent.h"
#include "ingest_app.h"
#include "ingest_autopilot.h"
#include "ingest_config.h"
#include "ingest_gate.h"
#include "ingest_live.h"
#include "ingest_reports.h"
#include "ingest_store.h"
#include "ingest_upload.h"


#define INGEST_DRAIN_MS  10000

/* A live-view message waits at most this long for nginx: the agent's
 * acknowledgement waits for it (cc_live.h). */
#define INGEST_LIVE_TIMEOUT_MS  250

static const cc_route_t  ingest_routes[] = {
    { "POST", "/api/agent/register-session", ingest_register_session },
    { "POST", "/api/agent/telemetry",        ingest_telemetry },
    { "GET",  "/api/agent/config",           ingest_agent_config },
    { "POST", "/api/agent/error",            ingest_agent_error },
    { "POST", "/api/agent/distress",         ingest_agent_distress },
    { "POST", "/api/agent/upload-url",       ingest_upload_url },
};

int
main(int argc, char **argv)
{
    cc_config_t          cfg;
    cc_http_config_t     http;
    cc_http_server_t    *srv;
    cc_db_pool_t        *pool;
    ingest_app_t         app;
    ingest_upload_t      upload;
    int                  uploads;
    ingest_autopilot_t  *autopilot;

    cc_service_init(&cfg, "cc-ingest", 0, argc, argv);

    /* Without a database only /healthz and /metrics work; the agent
     * routes answer 503, which the agent retries. */
    pool = NULL;
    if (cfg.database_url[0] != '\0') {
        pool = cc_db_pool_create(cfg.database_url, cfg.db_pool_size,
                                 "cc-ingest");
        if (pool == NULL || ingest_store_prepare(pool) != 0
            || ingest_agent_prepare(pool) != 0
            || ingest_gate_prepare(pool) != 0)
        {
            cc_log(CC_LOG_ERROR, "cannot create the database pool");
            return 1;
        }
        cc_metrics_add_collector(cc_db_pool_collect, pool);
    }

    uploads = ingest_upload_init(&upload, &cfg);
    if (uploads < 0) {
        cc_db_pool_destroy(pool);
        return 1;
    }

    /* A client id whose secret cannot be read is a configuration error;
     * no client id at all leaves the Autopilot check answering 503. */
    autopilot = ingest_autopilot_create(&cfg);
    if (autopilot == NULL) {
        cc_log(CC_LOG_ERROR, "cannot set up the Autopilot lookup");
        ingest_upload_forget(&upload);
        cc_db_pool_destroy(pool);
        return 1;
    }

    app = (ingest_app_t) {
        .pool = pool,
        .cfg = &cfg,
        .upload = uploads ? &upload : NULL,
        .autopilot = autopilot,
        .gate_cache = ingest_gate_cache_create(cfg.settings_cache_ms),
        .live = cc_live_create(cfg.nginx_control_socket,
                                   INGEST_LIVE_TIMEOUT_MS),
    };
    if (app.live != NULL) {
        cc_metrics_add_collector(cc_live_collect, app.live);
    }

    http = (cc_http_config_t) {
        .svc = "cc-ingest",
        .socket_path = cfg.socket_path,
        .max_body = cfg.max_body,
        .routes = ingest_routes,
        .nroutes = sizeof(ingest_routes) / sizeof(ingest_routes[0]),
        .app = &app,
        .healthy = NULL,
        .accept_encoded_bodies = 1,     /* gzip telemetry */
        .health_detail = ingest_autopilot_health,
        .health_ctx = autopilot,
    };
    srv = cc_http_start(&http);
    if (srv == NULL) {
        cc_live_destroy(app.live);
        ingest_gate_cache_destroy(app.gate_cache);
        ingest_autopilot_destroy(autopilot);
        cc_db_pool_destroy(pool);
        ingest_upload_forget(&upload);
        return 1;
    }

    cc_signal_wait();
    cc_log(CC_LOG_INFO, "stopping");
    cc_http_stop(srv, INGEST_DRAIN_MS);
    cc_live_destroy(app.live);
    ingest_gate_cache_destroy(app.gate_cache);
    ingest_autopilot_destroy(autopilot);
    cc_db_pool_destroy(pool);
    ingest_upload_forget(&upload);
    cc_log(CC_LOG_INFO, "stopped");
    return 0;
}
