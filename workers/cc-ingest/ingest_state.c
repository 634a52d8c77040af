/*
 * Applies a telemetry batch to its session's state: the rules live in SQL
 * (sql/009_session_state.sql says why), this file calls them and reads
 * back what changed.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cc_db.h"
#include "ingest_state.h"


static void
copy_value(char *dst, size_t len, const PGresult *res, int col)
{
    snprintf(dst, len, "%s", PQgetisnull(res, 0, col) ? ""
                                                     : PQgetvalue(res, 0, col));
}


int
ingest_state_apply(PGconn *conn, const char *session, const char *rows,
                   const char *max_item, ingest_state_change_t *change)
{
    const char  *params[3];
    PGresult    *res;
    int          rc;

    memset(change, 0, sizeof(*change));
    params[0] = session;
    params[1] = rows;
    params[2] = max_item;
    res = cc_db_query(conn,
        "SELECT old_status, status, phase, reason, events, last_event_type "
        "  FROM cc_session_apply_batch($1::uuid, $2::jsonb, $3::bigint)",
        3, params);
    rc = -1;
    if (cc_db_result_ok(res) && PQntuples(res) == 1) {
        copy_value(change->old_status, sizeof(change->old_status), res, 0);
        copy_value(change->status, sizeof(change->status), res, 1);
        change->phase = PQgetisnull(res, 0, 2) ? -1
                                               : atoi(PQgetvalue(res, 0, 2));
        copy_value(change->reason, sizeof(change->reason), res, 3);
        change->events = PQgetisnull(res, 0, 4) ? 0
                                                : atoi(PQgetvalue(res, 0, 4));
        copy_value(change->last_event_type, sizeof(change->last_event_type),
                   res, 5);
        rc = 0;
    }
    PQclear(res);
    return rc;
}


int
ingest_state_changed(const ingest_state_change_t *change)
{
    return change->status[0] != '\0'
           && strcmp(change->old_status, change->status) != 0;
}
