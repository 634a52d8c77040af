/*
 * The libpq connection pool: a fixed set of slots guarded by a mutex, with
 * a condition variable for threads waiting on a free slot; plus the tenant
 * transaction helper.
 */

#include <errno.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cc_db.h"
#include "cc_clock.h"
#include "cc_log.h"


struct cc_db_pool {
    pthread_mutex_t   lock;
    pthread_cond_t    freed;
    char             *conninfo;
    char             *application_name;
    int               size;
    int               nfree;
    int              *free_slots;   /* stack of free slot numbers */
    PGconn          **conns;        /* NULL = not connected */
    int               nprepared;
    cc_db_prepared_t  prepared[CC_DB_MAX_PREPARED];
};


static void
log_connect_error(PGconn *conn)
{
    char    msg[512];
    size_t  len;

    /* libpq's message can name the host and user, never a password. */
    snprintf(msg, sizeof(msg), "%s", PQerrorMessage(conn));
    len = strlen(msg);
    while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == ' ')) {
        msg[--len] = '\0';
    }
    cc_log_fields(CC_LOG_ERROR, "database connection failed",
                  json_pack("{s:s}", "error", msg));
}


PGconn *
cc_db_connect(const char *conninfo, const char *application_name)
{
    PGconn      *conn;
    const char  *keys[4];
    const char  *values[4];

    /* Defaults first: values in conninfo (expanded from "dbname") win. */
    keys[0] = "connect_timeout";
    values[0] = "5";
    keys[1] = "application_name";
    values[1] = application_name ? application_name : "concierge";
    keys[2] = "dbname";
    values[2] = conninfo;
    keys[3] = NULL;
    values[3] = NULL;

    conn = PQconnectdbParams(keys, values, 1);
    if (conn == NULL) {
        return NULL;
    }
    if (PQstatus(conn) != CONNECTION_OK) {
        log_connect_error(conn);
        PQfinish(conn);
        return NULL;
    }
    return conn;
}


cc_db_pool_t *
cc_db_pool_create(const char *conninfo, int size,
                  const char *application_name)
{
    cc_db_pool_t  *pool;
    int            i;

    pool = calloc(1, sizeof(*pool));
    if (pool == NULL) {
        return NULL;
    }
    pool->conninfo = strdup(conninfo);
    pool->application_name = strdup(application_name);
    pool->free_slots = calloc(size, sizeof(int));
    pool->conns = calloc(size, sizeof(PGconn *));
    if (pool->conninfo == NULL || pool->application_name == NULL
        || pool->free_slots == NULL || pool->conns == NULL)
    {
        cc_db_pool_destroy(pool);
        return NULL;
    }

    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->freed, NULL);
    pool->size = size;
    for (i = 0; i < size; i++) {
        pool->free_slots[i] = size - 1 - i;
    }
    pool->nfree = size;
    return pool;
}


void
cc_db_pool_destroy(cc_db_pool_t *pool)
{
    int  i;

    if (pool == NULL) {
        return;
    }
    if (pool->conns != NULL) {
        for (i = 0; i < pool->size; i++) {
            if (pool->conns[i] != NULL) {
                PQfinish(pool->conns[i]);
            }
        }
        pthread_mutex_destroy(&pool->lock);
        pthread_cond_destroy(&pool->freed);
    }
    free(pool->conns);
    free(pool->free_slots);
    free(pool->conninfo);
    free(pool->application_name);
    free(pool);
}



int
cc_db_pool_prepare(cc_db_pool_t *pool, const char *name, const char *sql)
{
    if (pool->nprepared == CC_DB_MAX_PREPARED) {
        return -1;
    }
    pool->prepared[pool->nprepared].name = name;
    pool->prepared[pool->nprepared].sql = sql;
    pool->nprepared++;
    return 0;
}


/* A new connection with the pool's statements prepared on it, or NULL. */
static PGconn *
connect_prepared(cc_db_pool_t *pool)
{
    PGconn    *conn;
    PGresult  *res;
    int        i, ok;

    conn = cc_db_connect(pool->conninfo, pool->application_name);
    for (i = 0; conn != NULL && i < pool->nprepared; i++) {
        res = PQprepare(conn, pool->prepared[i].name, pool->prepared[i].sql,
                        0, NULL);
        ok = cc_db_result_ok(res);
        if (!ok) {
            cc_log_fields(CC_LOG_ERROR, "preparing a statement failed",
                          json_pack("{s:s,s:s}",
                                    "statement", pool->prepared[i].name,
                                    "sqlstate", cc_db_sqlstate(res)));
            PQfinish(conn);
            conn = NULL;
        }
        PQclear(res);
    }
    return conn;
}


/* Takes a free slot number, or -1 when none came free in time. */
static int
take_slot(cc_db_pool_t *pool, int timeout_ms)
{
    struct timespec  deadline;
    int              slot, rc;

    cc_clock_deadline_ms(&deadline, timeout_ms);

    pthread_mutex_lock(&pool->lock);
    rc = 0;
    while (pool->nfree == 0 && rc != ETIMEDOUT) {
        rc = pthread_cond_timedwait(&pool->freed, &pool->lock, &deadline);
    }
    slot = (pool->nfree > 0) ? pool->free_slots[--pool->nfree] : -1;
    pthread_mutex_unlock(&pool->lock);
    return slot;
}


static void
give_slot(cc_db_pool_t *pool, int slot)
{
    pthread_mutex_lock(&pool->lock);
    pool->free_slots[pool->nfree++] = slot;
    pthread_cond_signal(&pool->freed);
    pthread_mutex_unlock(&pool->lock);
}


PGconn *
cc_db_acquire(cc_db_pool_t *pool, int timeout_ms)
{
    int  slot;

    slot = take_slot(pool, timeout_ms);
    if (slot < 0) {
        cc_log(CC_LOG_WARN, "no database connection free in %d ms",
               timeout_ms);
        return NULL;
    }

    /* The slot is ours alone now, so connecting needs no lock. */
    if (pool->conns[slot] != NULL
        && PQstatus(pool->conns[slot]) != CONNECTION_OK)
    {
        PQfinish(pool->conns[slot]);
        pool->conns[slot] = NULL;
    }
    if (pool->conns[slot] == NULL) {
        pool->conns[slot] = connect_prepared(pool);
    }
    if (pool->conns[slot] == NULL) {
        give_slot(pool, slot);
        return NULL;
    }
    return pool->conns[slot];
}


static int
slot_of(cc_db_pool_t *pool, PGconn *conn)
{
    int  i;

    for (i = 0; i < pool->size; i++) {
        if (pool->conns[i] == conn) {
            return i;
        }
    }
    return -1;
}


void
cc_db_release(cc_db_pool_t *pool, PGconn *conn)
{
    int  slot;

    if (conn == NULL) {
        return;
    }
    slot = slot_of(pool, conn);
    if (slot < 0) {
        cc_log(CC_LOG_ERROR, "released a connection the pool does not own");
        return;
    }

    if (PQstatus(conn) == CONNECTION_OK
        && PQtransactionStatus(conn) != PQTRANS_IDLE)
    {
        cc_db_rollback(conn);
    }
    if (PQstatus(conn) != CONNECTION_OK
        || PQtransactionStatus(conn) != PQTRANS_IDLE)
    {
        PQfinish(conn);
        pool->conns[slot] = NULL;
    }
    give_slot(pool, slot);
}


int
cc_db_pool_size(cc_db_pool_t *pool)
{
    return pool->size;
}


int
cc_db_pool_in_use(cc_db_pool_t *pool)
{
    int  n;

    pthread_mutex_lock(&pool->lock);
    n = pool->size - pool->nfree;
    pthread_mutex_unlock(&pool->lock);
    return n;
}


void
cc_db_pool_collect(FILE *out, void *arg)
{
    cc_db_pool_t  *pool = arg;

    fprintf(out, "# HELP cc_db_pool_connections Connections of the "
            "database pool.\n# TYPE cc_db_pool_connections gauge\n"
            "cc_db_pool_connections{state=\"in_use\"} %d\n"
            "cc_db_pool_connections{state=\"size\"} %d\n",
            cc_db_pool_in_use(pool), pool->size);
}


int
cc_db_result_ok(const PGresult *res)
{
    ExecStatusType  st;

    if (res == NULL) {
        return 0;
    }
    st = PQresultStatus(res);
    return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
}


const char *
cc_db_sqlstate(const PGresult *res)
{
    const char  *s;

    s = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    return s ? s : "";
}


static void
add_diag(json_t *f, const char *name, const PGresult *res, int field)
{
    const char  *v;

    v = res ? PQresultErrorField(res, field) : NULL;
    if (v != NULL) {
        json_object_set_new(f, name, json_string(v));
    }
}


/*
 * Logs a failed statement by SQLSTATE and the names of the objects
 * involved.  Never the parameters, nor the DETAIL (which quotes row
 * values), nor the message of a data exception (class 22), which quotes the
 * offending input: any of them could be personal data.
 */
static void
log_failure(const PGresult *res)
{
    const char  *state;
    json_t      *f;

    state = cc_db_sqlstate(res);
    f = json_pack("{s:s}", "sqlstate", state);
    if (res == NULL || PQresultErrorField(res, PG_DIAG_SQLSTATE) == NULL) {
        json_object_set_new(f, "error", json_string("connection lost"));
    } else if (strncmp(state, "22", 2) != 0) {
        add_diag(f, "error", res, PG_DIAG_MESSAGE_PRIMARY);
    }
    add_diag(f, "table", res, PG_DIAG_TABLE_NAME);
    add_diag(f, "column", res, PG_DIAG_COLUMN_NAME);
    add_diag(f, "constraint", res, PG_DIAG_CONSTRAINT_NAME);
    cc_log_fields(CC_LOG_WARN, "database statement failed", f);
}


PGresult *
cc_db_query(PGconn *conn, const char *sql, int nparams,
            const char *const *params)
{
    PGresult  *res;

    res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
    if (!cc_db_result_ok(res)) {
        log_failure(res);
    }
    return res;
}


PGresult *
cc_db_query_prepared(PGconn *conn, const char *name, int nparams,
                     const char *const *params)
{
    return cc_db_query_prepared_formats(conn, name, nparams, params, NULL,
                                        NULL);
}


PGresult *
cc_db_pool_query_prepared(cc_db_pool_t *pool, const char *name, int nparams,
                          const char *const *params)
{
    PGconn    *conn;
    PGresult  *res;

    conn = cc_db_acquire(pool, CC_DB_ACQUIRE_MS);
    if (conn == NULL) {
        return NULL;
    }
    res = cc_db_query_prepared(conn, name, nparams, params);
    cc_db_release(pool, conn);
    return res;
}


PGresult *
cc_db_query_prepared_formats(PGconn *conn, const char *name, int nparams,
                             const char *const *params, const int *lengths,
                             const int *formats)
{
    PGresult  *res;

    res = PQexecPrepared(conn, name, nparams, params, lengths, formats, 0);
    if (!cc_db_result_ok(res)) {
        log_failure(res);
    }
    return res;
}


int
cc_db_command(PGconn *conn, const char *sql, int nparams,
              const char *const *params)
{
    PGresult  *res;
    int        ok;

    res = cc_db_query(conn, sql, nparams, params);
    ok = cc_db_result_ok(res);
    PQclear(res);
    return ok ? 0 : -1;
}


int
cc_db_begin_tenant(PGconn *conn, const char *tenant)
{
    const char  *params[1];

    if (cc_db_command(conn, "BEGIN", 0, NULL) != 0) {
        return -1;
    }
    params[0] = tenant ? tenant : "";
    if (cc_db_command(conn, "SELECT set_config('cc.tenant_id', $1, true)",
                      1, params) != 0)
    {
        cc_db_rollback(conn);
        return -1;
    }
    return 0;
}


int
cc_db_commit(PGconn *conn)
{
    return cc_db_command(conn, "COMMIT", 0, NULL);
}


void
cc_db_rollback(PGconn *conn)
{
    PGresult  *res;

    /* Quietly: a rollback after a failed statement is expected. */
    res = PQexec(conn, "ROLLBACK");
    PQclear(res);
}


/* Takes a connection and begins the tenant transaction on it, trying a
 * fresh connection once when the pooled one turns out to be broken. */
static PGconn *
begin_on_pooled(cc_db_pool_t *pool, const char *tenant)
{
    PGconn  *conn;
    int      attempt, broken;

    for (attempt = 0; attempt < 2; attempt++) {
        conn = cc_db_acquire(pool, CC_DB_ACQUIRE_MS);
        if (conn == NULL) {
            return NULL;
        }
        if (cc_db_begin_tenant(conn, tenant) == 0) {
            return conn;
        }
        broken = (PQstatus(conn) != CONNECTION_OK);
        cc_db_release(pool, conn);
        if (!broken) {
            /* A healthy connection refused BEGIN: retrying won't help. */
            return NULL;
        }
    }
    return NULL;
}


int
cc_db_tenant_tx(cc_db_pool_t *pool, const char *tenant,
                cc_db_work_pt fn, void *arg)
{
    PGconn  *conn;
    int      rc;

    conn = begin_on_pooled(pool, tenant);
    if (conn == NULL) {
        return CC_DB_UNAVAILABLE;
    }

    rc = fn(conn, arg);
    if (rc == 0) {
        if (cc_db_commit(conn) != 0) {
            rc = CC_DB_FAILED;
        }
    } else {
        cc_db_rollback(conn);
    }

    cc_db_release(pool, conn);
    return rc;
}
