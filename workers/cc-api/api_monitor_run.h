/*
 * The one shape of work behind every Monitor handler: a statement that
 * answers one JSON text, run in a transaction for the request's tenant
 * (row-level security), with a Global Admin's cross-tenant access and
 * any write recorded in that tenant's audit log in the same transaction.
 */

#ifndef API_MONITOR_RUN_H
#define API_MONITOR_RUN_H

#include "api_monitor_access.h"
#include "cc_http.h"
#include "cc_reply.h"

#define API_MONITOR_MAX_PARAMS  8

typedef struct {
    /* In: the statement; its first column of its first row is JSON text,
     * or no row / NULL for "not there". */
    const char          *sql;
    int                  nparams;
    const char          *params[API_MONITOR_MAX_PARAMS];
    /* In: a write to audit when the statement found its subject: the
     * action, and the target ("device:<id>"); the detail is the JSON the
     * statement answered.  NULL action: a read, nothing audited. */
    const char          *audit_action;
    const char          *audit_target;

    /* Out, after api_monitor_run() returned 0. */
    json_t              *json;          /* owned by the caller; NULL = none */
    char                 sqlstate[6];   /* of a failed statement, or "" */
} api_monitor_stmt_t;

/*
 * Runs st for scope.  0: done (st->json NULL when nothing was found);
 * -1: the statement failed (st->sqlstate says why, "" when the database
 * could not be reached).
 */
int api_monitor_run(const cc_request_t *req, const api_monitor_scope_t *scope,
                    api_monitor_stmt_t *st);

/*
 * The usual ending of a statement that ran: 404 not_found_code when it
 * found nothing, else status with its JSON (204: without a body).
 */
void api_monitor_answer(cc_reply_t *rep, api_monitor_stmt_t *st, int status,
                        const char *not_found_code);

/*
 * The usual ending of a statement that failed: a value PostgreSQL could
 * not read (a timestamp, a number) is 400 parameter_invalid, anything
 * else 503 unavailable.
 */
void api_monitor_answer_failure(cc_reply_t *rep,
                                const api_monitor_stmt_t *st);

#endif /* API_MONITOR_RUN_H */
