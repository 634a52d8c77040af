/*
 * cc-api: the REST API behind nginx.  Start-up, the route table, and an
 * orderly stop on SIGTERM.
 */

#include <stdlib.h>

#include "api_app.h"
#include "api_health.h"
#include "api_jobs.h"
#include "api_session.h"
#include "api_tenants.h"
#include "api_probe.h"
#include "cc_http.h"
#include "cc_log.h"
#include "cc_metrics.h"
#include "cc_service.h"
#include "cc_signal.h"


#define API_DRAIN_MS  10000

static const cc_route_t  api_routes[] = {
    { "GET",  "/api/health",    api_health_get },
    { "POST", "/api/jobs",      api_jobs_post },
    { "GET",  "/api/jobs/{id}", api_jobs_get },
    { "POST", "/api/dev/sign-in", api_session_dev_sign_in },
    { "GET",  "/api/tenants/{tid}", api_tenants_get },
};


int
main(int argc, char **argv)
{
    cc_config_t        cfg;
    cc_http_config_t   http;
    cc_http_server_t  *srv;
    api_app_t          app;

    cc_service_init(&cfg, "cc-api", CC_CONFIG_NEED_DATABASE, argc, argv);

    if (api_probe_init() != 0) {
        cc_log(CC_LOG_ERROR, "cannot initialise libcurl");
        return 1;
    }
    app.cfg = &cfg;
    if (cfg.dev_sign_in) {
        if (api_session_load_keys(&app) != 0) {
            return 2;
        }
        cc_log(CC_LOG_WARN, "development sign-in is on: anyone reaching "
                            "/api/dev/sign-in can mint a session");
    }
    app.pool = cc_db_pool_create(cfg.database_url, cfg.db_pool_size,
                                 "cc-api");
    if (app.pool == NULL) {
        cc_log(CC_LOG_ERROR, "cannot create the database pool");
        return 1;
    }
    cc_metrics_add_collector(cc_db_pool_collect, app.pool);

    http = (cc_http_config_t) {
        .svc = "cc-api",
        .socket_path = cfg.socket_path,
        .max_body = cfg.max_body,
        .routes = api_routes,
        .nroutes = sizeof(api_routes) / sizeof(api_routes[0]),
        .app = &app,
        .healthy = NULL,
    };
    srv = cc_http_start(&http);
    if (srv == NULL) {
        cc_db_pool_destroy(app.pool);
        return 1;
    }

    cc_signal_wait();
    cc_log(CC_LOG_INFO, "stopping");
    cc_http_stop(srv, API_DRAIN_MS);
    cc_db_pool_destroy(app.pool);
    api_probe_cleanup();
    cc_log(CC_LOG_INFO, "stopped");
    return 0;
}
