/*
 * The registry sync's database side: LISTEN cc_registry, the snapshot of
 * everything, and the current state of one entry.
 */

#include <string.h>

#include "cc_db.h"
#include "cc_log.h"
#include "sync_db.h"


#define SYNC_ROW_COLUMNS \
    "kind, tenant_id, id, status, plan, region, limits, until, reason"


static void
drop_connection(sync_db_t *db)
{
    if (db->conn != NULL) {
        PQfinish(db->conn);
        db->conn = NULL;
    }
}


/* The server's notices (e.g. "terminating connection" at a shutdown)
 * would otherwise go to stderr as plain text between our JSON lines. */
static void
log_notice(void *arg, const char *message)
{
    cc_log(CC_LOG_DEBUG, "database notice on the registry connection");
}


int
sync_db_ensure(sync_db_t *db)
{
    if (db->conn != NULL && PQstatus(db->conn) == CONNECTION_OK) {
        return 0;
    }
    drop_connection(db);

    db->conn = cc_db_connect(db->conninfo, "cc-worker registry sync");
    if (db->conn == NULL) {
        return -1;
    }
    PQsetNoticeProcessor(db->conn, log_notice, NULL);
    if (cc_db_command(db->conn, "LISTEN cc_registry", 0, NULL) != 0) {
        drop_connection(db);
        return -1;
    }
    cc_log(CC_LOG_INFO, "listening for registry changes");
    return 1;
}


int
sync_db_up(const sync_db_t *db)
{
    return db->conn != NULL && PQstatus(db->conn) == CONNECTION_OK;
}


int
sync_db_socket(const sync_db_t *db)
{
    return sync_db_up(db) ? PQsocket(db->conn) : -1;
}


static int
seen(const sync_notice_t *notices, size_t n, const sync_notice_t *notice)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        if (notices[i].kind == notice->kind
            && strcmp(notices[i].id, notice->id) == 0
            && strcmp(notices[i].tenant, notice->tenant) == 0)
        {
            return 1;
        }
    }
    return 0;
}


int
sync_db_notices(sync_db_t *db, sync_notice_t *notices, size_t max,
                size_t *n, int *overflow)
{
    PGnotify       *note;
    sync_notice_t   notice;

    if (db->conn == NULL) {
        return -1;
    }
    if (PQconsumeInput(db->conn) == 0) {
        cc_log(CC_LOG_WARN, "registry notification connection lost");
        drop_connection(db);
        return -1;
    }
    while ((note = PQnotifies(db->conn)) != NULL) {
        if (sync_notice_parse(note->extra, &notice) != 0) {
            cc_log(CC_LOG_WARN, "registry notification not understood");
        } else if (seen(notices, *n, &notice)) {
            /* the same entry twice: one push of its current state */
        } else if (*n < max) {
            notices[(*n)++] = notice;
        } else {
            *overflow = 1;
        }
        PQfreemem(note);
    }
    return 0;
}


static void
row_at(const PGresult *res, int i, sync_row_t *row)
{
    const char  **col[] = {
        &row->kind, &row->tenant, &row->id, &row->status, &row->plan,
        &row->region, &row->limits, &row->until, &row->reason
    };
    int           c;

    for (c = 0; c < 9; c++) {
        *col[c] = PQgetisnull(res, i, c) ? NULL : PQgetvalue(res, i, c);
    }
}


json_t *
sync_db_snapshot(sync_db_t *db, const char *tag, size_t *skipped)
{
    PGresult    *res;
    json_t      *body;
    sync_row_t   row;
    int          i;

    *skipped = 0;
    if (db->conn == NULL) {
        return NULL;
    }
    res = cc_db_query(db->conn, "SELECT " SYNC_ROW_COLUMNS
                      " FROM cc_registry_snapshot()", 0, NULL);
    if (!cc_db_result_ok(res)) {
        PQclear(res);
        return NULL;
    }

    body = sync_body_new(tag);
    for (i = 0; body != NULL && i < PQntuples(res); i++) {
        row_at(res, i, &row);
        if (sync_body_add_row(body, &row) != 0) {
            (*skipped)++;
        }
    }
    PQclear(res);
    return body;
}


int
sync_db_entry(sync_db_t *db, const sync_notice_t *notice, json_t **body)
{
    PGresult    *res;
    sync_row_t   row;
    const char  *params[3];
    int          found;

    *body = NULL;
    if (db->conn == NULL) {
        return -1;
    }
    params[0] = sync_kind_name(notice->kind);
    params[1] = notice->kind == SYNC_DEVICE ? notice->tenant : NULL;
    params[2] = notice->id;
    res = cc_db_query(db->conn, "SELECT " SYNC_ROW_COLUMNS
                      " FROM cc_registry_entry($1, $2, $3)", 3, params);
    if (!cc_db_result_ok(res)) {
        PQclear(res);
        return -1;
    }

    found = 0;
    if (PQntuples(res) == 1) {
        row_at(res, 0, &row);
        *body = sync_row_body(&row);
        found = (*body != NULL);
    }
    PQclear(res);
    return found;
}


void
sync_db_close(sync_db_t *db)
{
    drop_connection(db);
}
