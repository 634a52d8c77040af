/*
 * A tenant's agent configuration over the API: its IME log-pattern
 * overrides (/api/tenants/{tid}/agent-config/patterns[/{patternId}]), and
 * the access rule the agent-report listing and the bootstrap tokens share
 * with them.
 *
 * Roles: Tenant Admin writes; Tenant Admin, Operator and User read; a
 * Global Admin of the platform tenant may do either in any tenant, and each
 * such access is audited in that tenant's log.  Every write is audited.
 */

#ifndef API_AGENT_CONFIG_H
#define API_AGENT_CONFIG_H

#include <libpq-fe.h>

#include "cc_http.h"
#include "cc_identity.h"
#include "cc_reply.h"

/* Who may do something: any of these roles (NULL-terminated). */
typedef struct {
    const char  *roles[4];
} api_agent_access_t;

/*
 * Reads the path's tenant into path and checks the caller may act in it
 * with one of the roles in access.  Returns 1 when allowed (cross_tenant
 * set when a Global Admin acts in another tenant); otherwise answers rep
 * (404 for a malformed tenant, 403 other_tenant or role_required) and
 * returns 0.
 */
int api_agent_access(const cc_request_t *req, cc_reply_t *rep,
                     const api_agent_access_t *access, cc_identity_t *path,
                     int *cross_tenant);

/* Records action on target in the current tenant's audit log, by the
 * caller (its user id, never a name); detail may be NULL.  0 on success. */
int api_agent_audit(PGconn *conn, const cc_request_t *req,
                    const char *action, const char *target,
                    const char *detail_json);

/* A Global Admin's access to another tenant (cross set), recorded in
 * that tenant's audit log before anything is read; 0 on success. */
int api_agent_audit_cross_tenant(PGconn *conn, const cc_request_t *req,
                                 int cross);

/* GET /api/tenants/{tid}/agent-config/patterns */
void api_agent_patterns_list(cc_request_t *req, cc_reply_t *rep);

/* GET /api/tenants/{tid}/agent-config/patterns/{patternId} */
void api_agent_pattern_get(cc_request_t *req, cc_reply_t *rep);

/* PUT /api/tenants/{tid}/agent-config/patterns/{patternId} */
void api_agent_pattern_put(cc_request_t *req, cc_reply_t *rep);

/* DELETE /api/tenants/{tid}/agent-config/patterns/{patternId} */
void api_agent_pattern_delete(cc_request_t *req, cc_reply_t *rep);

#endif /* API_AGENT_CONFIG_H */
