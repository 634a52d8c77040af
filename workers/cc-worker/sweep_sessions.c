/*
 * The sessions sweep job handler: one call of cc_sessions_sweep() in the
 * job's transaction, so the changes commit exactly when the job is
 * recorded as done; then, after that commit, one live-view message per
 * session whose status changed.  The rules themselves live in SQL.
 */

#include <stdlib.h>
#include <string.h>

#include "cc_db.h"
#include "cc_log.h"
#include "sweep_sessions.h"


static cc_live_t  *sweep_live;


void
sweep_sessions_setup(cc_live_t *live)
{
    sweep_live = live;
}


/* The changes as {tenant, message} pairs, for after the commit. */
static json_t *
status_messages(const PGresult *res)
{
    json_t      *list;
    const char  *reason;
    int          i;

    list = json_array();
    for (i = 0; list != NULL && i < PQntuples(res); i++) {
        reason = PQgetisnull(res, i, 4) ? NULL : PQgetvalue(res, i, 4);
        json_array_append_new(list, json_pack("{s:s,s:o}",
            "tenant", PQgetvalue(res, i, 0),
            "message", cc_live_status_message(PQgetvalue(res, i, 1),
                                              PQgetvalue(res, i, 2),
                                              PQgetvalue(res, i, 3),
                                              reason)));
    }
    return list;
}


static void
publish_status_changes(worker_run_t *run)
{
    json_t  *item;
    size_t   i;

    json_array_foreach(run->after_commit_data, i, item) {
        cc_live_publish(sweep_live,
                        json_string_value(json_object_get(item, "tenant")),
                        json_incref(json_object_get(item, "message")));
    }
}


int
sweep_sessions_run(worker_run_t *run)
{
    PGresult    *res;
    long long    stalled, classified;
    int          i;

    res = cc_db_query(run->conn,
        "SELECT tenant_id, session_id, old_status, status, reason"
        "  FROM cc_sessions_sweep(cc_current_tenant())",
        0, NULL);
    if (!cc_db_result_ok(res)) {
        PQclear(res);
        return worker_run_failed(run, 1, "the sessions sweep failed in the "
                                 "database");
    }
    stalled = 0;
    classified = 0;
    for (i = 0; i < PQntuples(res); i++) {
        if (strcmp(PQgetvalue(res, i, 3), "Stalled") == 0) {
            stalled++;
        } else {
            classified++;
        }
    }
    if (sweep_live != NULL && PQntuples(res) > 0) {
        run->after_commit = publish_status_changes;
        run->after_commit_data = status_messages(res);
    }
    PQclear(res);

    if (stalled + classified > 0) {
        cc_log(CC_LOG_INFO, "sessions sweep: %lld stalled, %lld classified",
               stalled, classified);
    }
    run->result = json_pack("{s:I,s:I}", "stalled", (json_int_t) stalled,
                            "classified", (json_int_t) classified);
    return 0;
}
