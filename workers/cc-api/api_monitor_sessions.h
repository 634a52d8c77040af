/*
 * Enrollment sessions over the staff API: the list, one session with its
 * timeline, and deleting one.
 */

#ifndef API_MONITOR_SESSIONS_H
#define API_MONITOR_SESSIONS_H

#include "cc_http.h"
#include "cc_reply.h"

/*
 * GET /api/tenants/{tid}/sessions
 *     ?status=&since=&until=&device=&limit=&cursor=
 */
void api_monitor_sessions_list(cc_request_t *req, cc_reply_t *rep);

/* GET /api/tenants/{tid}/sessions/{sid}?limit=&cursor= (the timeline's) */
void api_monitor_sessions_get(cc_request_t *req, cc_reply_t *rep);

/* DELETE /api/tenants/{tid}/sessions/{sid} */
void api_monitor_sessions_delete(cc_request_t *req, cc_reply_t *rep);

#endif /* API_MONITOR_SESSIONS_H */
