/*
 * The registry sync's own database connection: it LISTENs on cc_registry
 * and reads the registry's entries through cc_registry_snapshot() and
 * cc_registry_entry() (sql/004_registry.sql).
 *
 * Why one connection of its own, for both: a pooled connection would lose
 * its LISTEN when handed to someone else, and the sync must never wait for
 * a connection the job runner needs.  Notifications that arrive while a
 * query runs wait in libpq until sync_db_notices() reads them.
 */

#ifndef SYNC_DB_H
#define SYNC_DB_H

#include <stddef.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "sync_entries.h"

typedef struct sync_db {
    const char  *conninfo;
    PGconn      *conn;          /* NULL while disconnected */
} sync_db_t;

/*
 * Connects and LISTENs unless already connected.  Returns 1 when it has
 * just (re)connected, so that notifications may have been missed and the
 * caller must resync; 0 when the connection was up; -1 when it is down.
 */
int sync_db_ensure(sync_db_t *db);

/* True while the connection is up. */
int sync_db_up(const sync_db_t *db);

/* The connection's socket for poll(), or -1. */
int sync_db_socket(const sync_db_t *db);

/*
 * Reads what the server sent and collects the notifications, without
 * duplicates, into notices[0..*n).  More than max distinct ones set
 * *overflow (the caller then resyncs everything).  Notifications that do
 * not parse are logged and dropped.  Returns -1 when the connection broke
 * (it is then closed), else 0.
 */
int sync_db_notices(sync_db_t *db, sync_notice_t *notices, size_t max,
                    size_t *n, int *overflow);

/*
 * A body for POST /registry/sync with everything the database says the
 * registry holds (keys not included), tagged tag; NULL on a database
 * failure.  *skipped counts rows that could not be sent.
 */
json_t *sync_db_snapshot(sync_db_t *db, const char *tag, size_t *skipped);

/*
 * The current PUT body of the entry notice names.  Returns 1 with *body
 * set, 0 when the registry should no longer hold it (or the row cannot be
 * sent), -1 on a database failure.
 */
int sync_db_entry(sync_db_t *db, const sync_notice_t *notice, json_t **body);

void sync_db_close(sync_db_t *db);

#endif /* SYNC_DB_H */
