/*
 * cc-worker: runs jobs from the queue (periodic ones too), keeps nginx's
 * registry in sync, tells the live view what its jobs changed, and answers
 * /healthz and /metrics on its own socket.  SIGTERM finishes the
 * job in hand, then exits 0.
 */

#include <stdlib.h>

#include <curl/curl.h>

#include "cc_db.h"
#include "cc_http.h"
#include "cc_live.h"
#include "cc_log.h"
#include "cc_metrics.h"
#include "cc_service.h"
#include "cc_signal.h"
#include "retention_partitions.h"
#include "retention_purge.h"
#include "sweep_sessions.h"
#include "sync_registry.h"
#include "worker_periodic.h"
#include "worker_runner.h"


#define WORKER_DRAIN_MS  5000

/* A live-view message (the sweep's status changes) waits at most this
 * long for nginx. */
#define WORKER_LIVE_TIMEOUT_MS  1000

/* The runner's connection, the heartbeat's, and one for the retention
 * purge's batches (the periodic-jobs thread takes one for a moment). */
#define WORKER_MIN_POOL  3


/* /healthz also tells operators how the registry sync is doing. */
static void
worker_health_detail(void *sync, json_t *answer)
{
    json_object_set_new(answer, "registry_sync", sync_registry_health(sync));
}


int
main(int argc, char **argv)
{
    cc_config_t          cfg;
    cc_http_config_t     http;
    cc_http_server_t    *srv;
    cc_db_pool_t        *pool;
    worker_runner_t      runner;
    sync_registry_t     *sync;
    worker_periodic_t   *periodic;
    cc_live_t           *live;

    cc_service_init(&cfg, "cc-worker", CC_CONFIG_NEED_DATABASE, argc, argv);
    if (cfg.db_pool_size < WORKER_MIN_POOL) {
        cfg.db_pool_size = WORKER_MIN_POOL;
    }

    /* libcurl's global set-up must happen before any thread starts. */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        cc_log(CC_LOG_ERROR, "cannot initialise libcurl");
        return 1;
    }

    pool = cc_db_pool_create(cfg.database_url, cfg.db_pool_size,
                             "cc-worker");
    if (pool == NULL || worker_runner_init(&runner, &cfg, pool) != 0) {
        cc_log(CC_LOG_ERROR, "cannot set up the job runner");
        return 1;
    }
    sync = sync_registry_start(&cfg);
    if (sync == NULL) {
        worker_runner_close(&runner);
        cc_db_pool_destroy(pool);
        return 1;
    }
    cc_metrics_add_collector(cc_db_pool_collect, pool);
    cc_metrics_add_collector(worker_runner_collect, &runner);
    cc_metrics_add_collector(sync_registry_collect, sync);
    cc_metrics_add_collector(retention_purge_collect, NULL);
    cc_metrics_add_collector(retention_partitions_collect, NULL);
    retention_purge_setup(pool, cfg.retention_batch_size);
    live = cc_live_create(cfg.nginx_control_socket, WORKER_LIVE_TIMEOUT_MS);
    if (live != NULL) {
        cc_metrics_add_collector(cc_live_collect, live);
    }
    sweep_sessions_setup(live);
    periodic = worker_periodic_start(&cfg, pool);
    if (periodic == NULL) {
        cc_live_destroy(live);
        sync_registry_stop(sync);
        worker_runner_close(&runner);
        cc_db_pool_destroy(pool);
        return 1;
    }
    cc_metrics_add_collector(worker_periodic_collect, periodic);

    http = (cc_http_config_t) {
        .svc = "cc-worker",
        .socket_path = cfg.socket_path,
        .max_body = cfg.max_body,
        .routes = NULL,
        .nroutes = 0,
        .app = &runner,
        .healthy = worker_runner_healthy,
        .health_detail = worker_health_detail,
        .health_ctx = sync,
    };
    srv = cc_http_start(&http);
    if (srv == NULL) {
        worker_periodic_stop(periodic);
        cc_live_destroy(live);
        sync_registry_stop(sync);
        worker_runner_close(&runner);
        cc_db_pool_destroy(pool);
        return 1;
    }

    cc_log_fields(CC_LOG_INFO, "job runner started",
                  json_pack("{s:s,s:i,s:i}", "worker_id", cfg.worker_id,
                            "lease_seconds", cfg.job_lease_seconds,
                            "poll_ms", cfg.job_poll_ms));
    worker_runner_loop(&runner);

    cc_log(CC_LOG_INFO, "stopping");
    worker_periodic_stop(periodic);
    cc_http_stop(srv, WORKER_DRAIN_MS);
    sync_registry_stop(sync);
    worker_runner_close(&runner);
    cc_live_destroy(live);
    cc_db_pool_destroy(pool);
    curl_global_cleanup();
    cc_log(CC_LOG_INFO, "stopped");
    return 0;
}
