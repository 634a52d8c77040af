/*
 * What a tenant's agents reported about their own trouble, for its staff:
 * GET /api/tenants/{tid}/agent-reports?kind=error|distress&limit=&cursor=
 */

#ifndef API_AGENT_REPORTS_H
#define API_AGENT_REPORTS_H

#include "cc_http.h"
#include "cc_reply.h"

/* GET /api/tenants/{tid}/agent-reports */
void api_agent_reports_list(cc_request_t *req, cc_reply_t *rep);

#endif /* API_AGENT_REPORTS_H */
