/*
 * The registry sync: a thread of cc-worker that keeps nginx's registry
 * (tenants, blocked devices, revoked sessions, signing keys) equal to what
 * the database and the issuers' JWKS say, through the control API on
 * CC_NGINX_CONTROL_SOCKET.
 *
 *   - at start, and whenever it may have missed something (its database
 *     connection was re-made, a push failed, nginx came back with an empty
 *     zone), a full resync: POST /registry/sync with everything;
 *   - each change notified on LISTEN cc_registry is pushed at once as one
 *     PUT or DELETE of the entry's current state;
 *   - every CC_REGISTRY_POLL_MS it reads GET /registry: no sync tag means
 *     nginx restarted (resync), an unknown kid may mean a key rotation
 *     (fetch the JWKS early, at most every CC_JWKS_MIN_REFRESH_SECONDS);
 *   - keys come from sync_jwks.h's thread; new or changed keys are PUT,
 *     keys gone from every JWKS are DELETEd.  A key is never removed
 *     because a fetch failed.
 *
 * It runs beside the job runner and shares nothing with it: its own
 * database connection, its own connection to nginx.
 */

#ifndef SYNC_REGISTRY_H
#define SYNC_REGISTRY_H

#include <stdio.h>

#include <jansson.h>

#include "cc_config.h"

typedef struct sync_registry sync_registry_t;

/*
 * Starts the sync when CC_NGINX_CONTROL_SOCKET is set; without it the
 * object only reports that the sync is off.  NULL when it cannot be set
 * up (logged).
 */
sync_registry_t *sync_registry_start(const cc_config_t *cfg);

/* Stops the threads and frees everything; NULL is allowed. */
void sync_registry_stop(sync_registry_t *sync);

/* A cc_metrics collector: cc_registry_* and cc_jwks_* families. */
void sync_registry_collect(FILE *out, void *sync);

/*
 * The sync's state for /healthz: {"state":"off"}, or {"state": "starting"
 * | "ok" | "nginx_unreachable" | "database_unreachable", "last_sync": Unix
 * time or null, "keys": n, "jwks": "pending" | "ok" | "failing"}.
 */
json_t *sync_registry_health(void *sync);

#endif /* SYNC_REGISTRY_H */
