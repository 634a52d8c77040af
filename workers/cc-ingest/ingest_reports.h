/*
 * What agents report about their own trouble: error reports over mTLS
 * (agent-protocol.md 12) and certificate-less distress reports (13).  The
 * agent ignores both answers, so both always answer 200.
 */

#ifndef INGEST_REPORTS_H
#define INGEST_REPORTS_H

#include "cc_http.h"

/* POST /api/agent/error */
void ingest_agent_error(cc_request_t *req, cc_reply_t *rep);

/* POST /api/agent/distress */
void ingest_agent_distress(cc_request_t *req, cc_reply_t *rep);

#endif /* INGEST_REPORTS_H */
