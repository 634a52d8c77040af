/*
 * A tenant's Monitor settings and hardware allow-list over the staff API
 * (sql/006: monitor_settings, hardware_allowlist, cc_monitor_settings()).
 */

#ifndef API_MONITOR_SETTINGS_H
#define API_MONITOR_SETTINGS_H

#include "cc_http.h"
#include "cc_reply.h"

/* GET /api/tenants/{tid}/monitor/settings (defaults for a tenant without) */
void api_monitor_settings_get(cc_request_t *req, cc_reply_t *rep);

/* PUT /api/tenants/{tid}/monitor/settings: the members given change */
void api_monitor_settings_put(cc_request_t *req, cc_reply_t *rep);

/* GET /api/tenants/{tid}/monitor/hardware-allowlist */
void api_monitor_allowlist_list(cc_request_t *req, cc_reply_t *rep);

/* POST /api/tenants/{tid}/monitor/hardware-allowlist {manufacturer, model} */
void api_monitor_allowlist_add(cc_request_t *req, cc_reply_t *rep);

/* DELETE /api/tenants/{tid}/monitor/hardware-allowlist/{eid} */
void api_monitor_allowlist_remove(cc_request_t *req, cc_reply_t *rep);

#endif /* API_MONITOR_SETTINGS_H */
