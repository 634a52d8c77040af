/*
 * Offboarding a tenant over the staff API: all its data and configuration
 * gone, its registry entry removed, an audit record kept.
 */

#ifndef API_MONITOR_OFFBOARD_H
#define API_MONITOR_OFFBOARD_H

#include "cc_http.h"
#include "cc_reply.h"

/* POST /api/tenants/{tid}/offboard {"confirm": "<tid>"} */
void api_monitor_offboard(cc_request_t *req, cc_reply_t *rep);

#endif /* API_MONITOR_OFFBOARD_H */
