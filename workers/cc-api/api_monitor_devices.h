/*
 * Devices over the staff API: the list (optionally only blocked or only
 * unblocked ones) and one device with its sessions.  Serial numbers are
 * answered to staff, who need them, and never logged.
 */

#ifndef API_MONITOR_DEVICES_H
#define API_MONITOR_DEVICES_H

#include "cc_http.h"
#include "cc_reply.h"

/* GET /api/tenants/{tid}/devices?blocked=true|false&limit=&cursor= */
void api_monitor_devices_list(cc_request_t *req, cc_reply_t *rep);

/* GET /api/tenants/{tid}/devices/{did}?limit= (its newest sessions) */
void api_monitor_devices_get(cc_request_t *req, cc_reply_t *rep);

#endif /* API_MONITOR_DEVICES_H */
