/*
 * cc-ingest: receives what device agents upload.  For now it serves only
 * /healthz and /metrics; the agent endpoints join its route table later.
 */

#include <stdlib.h>

#include "cc_db.h"
#include "cc_http.h"
#include "cc_log.h"
#include "cc_metrics.h"
#include "cc_service.h"
#include "cc_signal.h"


#define INGEST_DRAIN_MS  10000

int
main(int argc, char **argv)
{
    cc_config_t        cfg;
    cc_http_config_t   http;
    cc_http_server_t  *srv;
    cc_db_pool_t      *pool;

    cc_service_init(&cfg, "cc-ingest", 0, argc, argv);

    /* The database is optional until agent uploads are stored. */
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

    http = (cc_http_config_t) {
        .svc = "cc-ingest",
        .socket_path = cfg.socket_path,
        .max_body = cfg.max_body,
        .routes = NULL,     /* agent endpoints come with the protocol */
        .nroutes = 0,
        .app = pool,
        .healthy = NULL,
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
