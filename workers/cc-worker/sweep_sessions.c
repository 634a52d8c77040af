/*
 * The sessions sweep job handler: one call of cc_sessions_sweep() in the
 * job's transaction, so the changes commit exactly when the job is
 * recorded as done.  The rules themselves live in SQL.
 */

#include <stdlib.h>

#include "cc_db.h"
#include "cc_log.h"
#include "sweep_sessions.h"


int
sweep_sessions_run(worker_run_t *run)
{
    PGresult    *res;
    long long    stalled, classified;

    res = cc_db_query(run->conn,
        "SELECT count(*) FILTER (WHERE status = 'Stalled'),"
        "       count(*) FILTER (WHERE status <> 'Stalled') "
        "  FROM cc_sessions_sweep(cc_current_tenant())",
        0, NULL);
    if (!cc_db_result_ok(res) || PQntuples(res) != 1) {
        PQclear(res);
        return worker_run_failed(run, 1, "the sessions sweep failed in the "
                                 "database");
    }
    stalled = atoll(PQgetvalue(res, 0, 0));
    classified = atoll(PQgetvalue(res, 0, 1));
    PQclear(res);

    if (stalled + classified > 0) {
        cc_log(CC_LOG_INFO, "sessions sweep: %lld stalled, %lld classified",
               stalled, classified);
    }
    run->result = json_pack("{s:I,s:I}", "stalled", (json_int_t) stalled,
                            "classified", (json_int_t) classified);
    return 0;
}
