/*
 * The device agent's endpoints (agent-protocol.md 6 and 7): session
 * registration and telemetry upload.  Both run for the tenant and device
 * of the certificate nginx verified, under that tenant's row-level
 * security.  The handlers' app pointer is the database pool.
 */

#ifndef INGEST_AGENT_H
#define INGEST_AGENT_H

#include "cc_db.h"
#include "cc_http.h"

/* POST /api/agent/register-session */
void ingest_register_session(cc_request_t *req, cc_reply_t *rep);

/* Registers the registration statement with the pool. */
int ingest_agent_prepare(cc_db_pool_t *pool);

/* POST /api/agent/telemetry */
void ingest_telemetry(cc_request_t *req, cc_reply_t *rep);

#endif /* INGEST_AGENT_H */
