/*
 * cc-ingest: receives what device agents upload: session registrations and
 * telemetry batches (ingest_agent.c), besides /healthz and /metrics.
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


#define INGEST_DRAIN_MS  10000

static const cc_route_t  ingest_routes[] = {
    { "POST", "/api/agent/register-session", ingest_register_session },
    { "POST", "/api/agent/telemetry",        ingest_telemetry },
};

int
main(int argc, char **argv)
{
    cc_config_t        cfg;
    cc_http_config_t   http;
    cc_http_server_t  *srv;
    cc_db_pool_t      *pool;
    ingest_app_t       app;

    cc_service_init(&cfg, "cc-ingest", 0, argc, argv);

    /* Without a database only /healthz and /metrics work; the agent
     * routes answer 503, which the agent retries. */
    pool = NULL;
    if (cfg.database_url[0] != '\0') {
        pool = cc_db_pool_create(cfg.database_url, cfg.db_pool_size,
                                 "cc-ingest");
        if (pool == NULL) {
            cc_log(CC_LOG_ERROR, "cannot create the database pool");
            return 1;
        }
        cc_metrics_add_collector(cc_db_pool_collect, pool);
    }

    app = (ingest_app_t) {
        .pool = pool,
        .cfg = &cfg,
    };

    http = (cc_http_config_t) {
        .svc = "cc-ingest",
        .socket_path = cfg.socket_path,
        .max_body = cfg.max_body,
        .routes = ingest_routes,
        .nroutes = sizeof(ingest_routes) / sizeof(ingest_routes[0]),
        .app = &app,
        .healthy = NULL,
        .accept_encoded_bodies = 1,     /* gzip telemetry */
    };
    srv = cc_http_start(&http);
    if (srv == NULL) {
        cc_db_pool_destroy(pool);
        return 1;
    }

    cc_signal_wait();
    cc_log(CC_LOG_INFO, "stopping");
    cc_http_stop(srv, INGEST_DRAIN_MS);
    cc_db_pool_destroy(pool);
    cc_log(CC_LOG_INFO, "stopped");
    return 0;
}
