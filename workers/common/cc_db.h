/*
 * A fixed-size pool of libpq connections shared by request threads, and the
 * tenant transaction every query of a tenant's data runs in:
 *
 *   BEGIN; SELECT set_config('cc.tenant_id', $1, true); ... COMMIT;
 *
 * so row-level security limits the transaction to that tenant.  Queries are
 * always parameterised; values never become SQL text.
 */

#ifndef CC_DB_H
#define CC_DB_H

#include <stdio.h>
#include <libpq-fe.h>

typedef struct cc_db_pool cc_db_pool_t;

/* Results of cc_db_tenant_tx() besides the work function's own codes. */
#define CC_DB_OK            0
#define CC_DB_UNAVAILABLE  -1     /* no connection could be had */
#define CC_DB_FAILED       -2     /* a statement of ours failed */

/* Statements a pool prepares on each connection it opens. */
#define CC_DB_MAX_PREPARED  8

typedef struct cc_db_prepared {
    const char  *name;
    const char  *sql;
} cc_db_prepared_t;

/* The time cc_db_acquire() waits for a free connection by default. */
#define CC_DB_ACQUIRE_MS  5000

/*
 * Creates a pool of size connections to conninfo (a libpq string or URL).
 * Connections are opened on first use, so a database that is down at start
 * makes requests fail with 503 instead of stopping the process.
 */
cc_db_pool_t *cc_db_pool_create(const char *conninfo, int size,
                                const char *application_name);

/*
 * Has every connection of the pool prepare sql as name when it opens, so
 * that callers can run it with cc_db_query_prepared() on any connection
 * they acquire.  Call before the pool is first used; name and sql must
 * outlive the pool.  A connection whose PREPARE fails is not used (the
 * schema is older than the worker): requests get no connection.  -1 when
 * CC_DB_MAX_PREPARED are registered already.
 */
int cc_db_pool_prepare(cc_db_pool_t *pool, const char *name, const char *sql);

/* Closes every connection; all must have been released. */
void cc_db_pool_destroy(cc_db_pool_t *pool);

/*
 * Takes a connected connection, waiting up to timeout_ms for one to be
 * free.  Returns NULL when none is free in time or connecting failed.
 */
PGconn *cc_db_acquire(cc_db_pool_t *pool, int timeout_ms);

/* Gives a connection back; a broken one, or one left inside a
 * transaction that cannot be rolled back, is closed and reopened later. */
void cc_db_release(cc_db_pool_t *pool, PGconn *conn);

int cc_db_pool_size(cc_db_pool_t *pool);
int cc_db_pool_in_use(cc_db_pool_t *pool);

/* A cc_metrics collector: cc_db_pool_connections{state="in_use"|...}. */
void cc_db_pool_collect(FILE *out, void *pool);

/* Opens one connection outside any pool (LISTEN, tools). */
PGconn *cc_db_connect(const char *conninfo, const char *application_name);

/*
 * Runs sql with text parameters.  Always returns a result (NULL only when
 * out of memory); failures are logged with their SQLSTATE, never with the
 * parameters.  The caller PQclear()s it.
 */
PGresult *cc_db_query(PGconn *conn, const char *sql, int nparams,
                      const char *const *params);

/* cc_db_query() for a statement the pool prepared (cc_db_pool_prepare). */
PGresult *cc_db_query_prepared(PGconn *conn, const char *name, int nparams,
                               const char *const *params);

/*
 * cc_db_query_prepared() on a connection of pool, taken for the call
 * (waiting up to CC_DB_ACQUIRE_MS) and given back before it returns: for
 * a statement that is a transaction of its own.  NULL when no connection
 * came; the caller PQclear()s the result.
 */
PGresult *cc_db_pool_query_prepared(cc_db_pool_t *pool, const char *name,
                                    int nparams, const char *const *params);

/*
 * cc_db_query_prepared() with each parameter's length and format (0 text,
 * 1 binary), as PQexecPrepared takes them; the result is in text.
 */
PGresult *cc_db_query_prepared_formats(PGconn *conn, const char *name,
                                       int nparams, const char *const *params,
                                       const int *lengths, const int *formats);

/* True when res is a successful command or query result. */
int cc_db_result_ok(const PGresult *res);

/* The SQLSTATE of a failed result ("" when there is none). */
const char *cc_db_sqlstate(const PGresult *res);

/* Runs a statement whose result is not needed; 0 on success. */
int cc_db_command(PGconn *conn, const char *sql, int nparams,
                  const char *const *params);

/* BEGIN and set cc.tenant_id for this transaction ("" = platform). */
int cc_db_begin_tenant(PGconn *conn, const char *tenant);
int cc_db_commit(PGconn *conn);
void cc_db_rollback(PGconn *conn);

/*
 * Work done inside a tenant transaction.  Returns 0 to commit; any other
 * value rolls back and is returned by cc_db_tenant_tx().  Positive values
 * are the caller's own codes.
 */
typedef int (*cc_db_work_pt)(PGconn *conn, void *arg);

/*
 * Takes a connection, runs fn inside a transaction for tenant, commits or
 * rolls back, and gives the connection back.  A connection found broken at
 * BEGIN is replaced once, since nothing has happened yet.
 */
int cc_db_tenant_tx(cc_db_pool_t *pool, const char *tenant,
                    cc_db_work_pt fn, void *arg);

#endif /* CC_DB_H */
