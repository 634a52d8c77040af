/*
 * The tenant's audit log: what the staff API writes into it (every write,
 * and a Global Admin's access from another tenant) and its read endpoint.
 * Actors are user ids ("user:<id>"), never names or e-mail addresses.
 */

#ifndef API_MONITOR_AUDIT_H
#define API_MONITOR_AUDIT_H

#include <jansson.h>
#include <libpq-fe.h>

#include "api_monitor_access.h"
#include "cc_http.h"
#include "cc_reply.h"

/* Records action on target with detail, in the transaction's tenant. */
int api_monitor_audit_write(PGconn *conn, const api_monitor_scope_t *scope,
                            const char *action, const char *target,
                            const json_t *detail);

/* Records that a Global Admin of another tenant reached req's path. */
int api_monitor_audit_cross_tenant(PGconn *conn, const cc_request_t *req,
                                   const api_monitor_scope_t *scope);

/* GET /api/tenants/{tid}/audit?limit=&cursor=&action= */
void api_monitor_audit_list(cc_request_t *req, cc_reply_t *rep);

#endif /* API_MONITOR_AUDIT_H */
