/*
 * Blocking and unblocking a device over the staff API.  A device_blocks
 * row notifies cc-worker's registry sync (sql/004), so nginx refuses the
 * device from its next request on.
 */

#ifndef API_MONITOR_BLOCKS_H
#define API_MONITOR_BLOCKS_H

#include "cc_http.h"
#include "cc_reply.h"

/* PUT /api/tenants/{tid}/devices/{did}/block {durationMinutes?, reason?} */
void api_monitor_blocks_put(cc_request_t *req, cc_reply_t *rep);

/* DELETE /api/tenants/{tid}/devices/{did}/block */
void api_monitor_blocks_delete(cc_request_t *req, cc_reply_t *rep);

#endif /* API_MONITOR_BLOCKS_H */
