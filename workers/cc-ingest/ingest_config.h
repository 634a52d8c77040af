/*
 * GET /api/agent/config: the agent's configuration (agent-protocol.md 5),
 * with the tenant's IME log patterns and diagnostics setting.
 */

#ifndef INGEST_CONFIG_H
#define INGEST_CONFIG_H

#include "cc_http.h"

/* GET /api/agent/config */
void ingest_agent_config(cc_request_t *req, cc_reply_t *rep);

#endif /* INGEST_CONFIG_H */
