/*
 * cc-api: the REST API behind nginx.  Start-up, the route table, and an
 * orderly stop on SIGTERM.
 */

#include <stdlib.h>

#include "api_agent_config.h"
#include "api_agent_reports.h"
#include "api_app.h"
#include "api_bootstrap.h"
#include "api_health.h"
#include "api_jobs.h"
#include "api_monitor_audit.h"
#include "api_monitor_blocks.h"
#include "api_monitor_devices.h"
#include "api_monitor_offboard.h"
#include "api_monitor_sessions.h"
#include "api_monitor_settings.h"
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
    /* The tenant staff API for Monitor (docs/monitor-api.md). */
    { "GET",    "/api/tenants/{tid}/sessions", api_monitor_sessions_list },
    { "GET",    "/api/tenants/{tid}/sessions/{sid}", api_monitor_sessions_get },
    { "DELETE", "/api/tenants/{tid}/sessions/{sid}",
      api_monitor_sessions_delete },
    { "GET",    "/api/tenants/{tid}/devices", api_monitor_devices_list },
    { "GET",    "/api/tenants/{tid}/devices/{did}", api_monitor_devices_get },
    { "PUT",    "/api/tenants/{tid}/devices/{did}/block",
      api_monitor_blocks_put },
    { "DELETE", "/api/tenants/{tid}/devices/{did}/block",
      api_monitor_blocks_delete },
    { "GET",    "/api/tenants/{tid}/monitor/settings",
      api_monitor_settings_get },
    { "PUT",    "/api/tenants/{tid}/monitor/settings",
      api_monitor_settings_put },
    { "GET",    "/api/tenants/{tid}/monitor/hardware-allowlist",
      api_monitor_allowlist_list },
    { "POST",   "/api/tenants/{tid}/monitor/hardware-allowlist",
      api_monitor_allowlist_add },
    { "DELETE", "/api/tenants/{tid}/monitor/hardware-allowlist/{eid}",
      api_monitor_allowlist_remove },
    { "POST",   "/api/tenants/{tid}/offboard", api_monitor_offboard },
    { "GET",    "/api/tenants/{tid}/audit", api_monitor_audit_list },
    { "GET",    "/api/tenants/{tid}/agent-config/patterns",
      api_agent_patterns_list },
    { "GET",    "/api/tenants/{tid}/agent-config/patterns/{patternId}",
      api_agent_pattern_get },
    { "PUT",    "/api/tenants/{tid}/agent-config/patterns/{patternId}",
      api_agent_pattern_put },
    { "DELETE", "/api/tenants/{tid}/agent-config/patterns/{patternId}",
      api_agent_pattern_delete },
    { "GET",    "/api/tenants/{tid}/agent-reports", api_agent_reports_list },
    { "POST",   "/api/tenants/{tid}/bootstrap-tokens", api_bootstrap_create },
    { "GET",    "/api/tenants/{tid}/bootstrap-tokens", api_bootstrap_list },
    { "DELETE", "/api/tenants/{tid}/bootstrap-tokens/{id}",
      api_bootstrap_revoke },
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
