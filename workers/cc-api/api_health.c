/*
 * The platform health answer: the database (a query through the pool, its
 * latency and schema version), the other workers (their /healthz), and the
 * TLS protocol nginx negotiated with the caller.  503 when a required part
 * is down, so a load balancer can act on the status alone.
 */

#include <string.h>
#include <time.h>

#include "api_app.h"
#include "api_health.h"
#include "api_probe.h"
#include "cc_version.h"


/* Waiting longer for a connection than this would make health hang
 * exactly when the pool is exhausted, which is itself worth reporting. */
#define HEALTH_ACQUIRE_MS  1000


static double
ms_since(const struct timespec *t0)
{
    struct timespec  now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double) (now.tv_sec - t0->tv_sec) * 1000.0
           + (double) (now.tv_nsec - t0->tv_nsec) / 1e6;
}


/* Fills the database component; returns 1 when the database is up. */
static int
check_database(api_app_t *app, json_t *comp)
{
    struct timespec   t0;
    PGconn           *conn;
    PGresult         *res;
    double            ms;
    int               up;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    conn = cc_db_acquire(app->pool, HEALTH_ACQUIRE_MS);
    if (conn == NULL) {
        json_object_set_new(comp, "status", json_string("down"));
        return 0;
    }

    res = cc_db_query(conn, "SELECT max(version) FROM schema_migrations",
                      0, NULL);
    ms = ms_since(&t0);
    up = cc_db_result_ok(res);
    if (!up && strcmp(cc_db_sqlstate(res), "42501") == 0) {
        /* The database answered; only the migrations table is not ours
         * to read.  The version is then reported as unknown. */
        up = 1;
        PQclear(res);
        res = NULL;
    }

    json_object_set_new(comp, "status", json_string(up ? "ok" : "down"));
    json_object_set_new(comp, "latency_ms",
                        json_real((long long) (ms * 1000) / 1000.0));
    if (up) {
        json_object_set_new(comp, "schema_version",
                            (res != NULL && PQntuples(res) == 1
                             && !PQgetisnull(res, 0, 0))
                            ? json_string(PQgetvalue(res, 0, 0))
                            : json_string("unknown"));
    }
    PQclear(res);
    cc_db_release(app->pool, conn);
    return up;
}


static int
check_worker(const char *socket_path, json_t *comp)
{
    int  up;

    up = api_probe_healthz(socket_path);
    json_object_set_new(comp, "status", json_string(up ? "ok" : "down"));
    return up;
}


static void
describe_edge(cc_request_t *req, json_t *comp)
{
    const char  *tls;
    json_t      *v;

    tls = cc_request_header(req, "X-CC-Edge-TLS");
    v = (tls != NULL && tls[0] != '\0') ? json_string(tls) : NULL;
    json_object_set_new(comp, "status", json_string("ok"));
    json_object_set_new(comp, "tls", v ? v : json_string("unknown"));
}


void
api_health_get(cc_request_t *req, cc_reply_t *rep)
{
    api_app_t  *app = req->app;
    json_t     *components, *db, *worker, *ingest, *edge;
    int         up;

    db = json_object();
    worker = json_object();
    ingest = json_object();
    edge = json_object();

    up = check_database(app, db);
    up &= check_worker(app->cfg->worker_socket, worker);
    up &= check_worker(app->cfg->ingest_socket, ingest);
    describe_edge(req, edge);

    components = json_pack("{s:{s:s,s:s},s:o,s:o,s:o,s:o}",
                           "api", "status", "ok", "version", CC_VERSION,
                           "database", db, "worker", worker,
                           "ingest", ingest, "edge", edge);
    cc_reply_json(rep, up ? 200 : 503,
                  json_pack("{s:s,s:o}", "status", up ? "ok" : "degraded",
                            "components", components));
}
