/*
 * cc-ingest's news for the live view: a new session, a stored batch's
 * summary, a status change (cc_live.h publishes them).
 */

#include <jansson.h>

#include "ingest_live.h"


void
ingest_live_session_registered(cc_live_t *live, const char *tenant,
                               const char *session, const char *device)
{
    if (live == NULL) {
        return;
    }
    cc_live_publish(live, tenant, json_pack("{s:s,s:s,s:s,s:s}",
        "type", "session.registered", "sessionId", session,
        "deviceId", device, "status", "InProgress"));
}


void
ingest_live_batch_stored(cc_live_t *live, const char *tenant,
                         const char *session,
                         const ingest_state_change_t *change)
{
    if (live == NULL || change->status[0] == '\0') {
        return;
    }
    if (change->events > 0) {
        cc_live_publish(live, tenant, json_pack("{s:s,s:s,s:i,s:s,s:i,s:s}",
            "type", "session.events", "sessionId", session,
            "count", change->events,
            "lastEventType", change->last_event_type,
            "phase", change->phase, "status", change->status));
    }
    if (ingest_state_changed(change)) {
        cc_live_publish(live, tenant, cc_live_status_message(session,
            change->old_status, change->status,
            change->reason[0] != '\0' ? change->reason : NULL));
    }
}
