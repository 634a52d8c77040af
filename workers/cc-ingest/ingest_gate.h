/*
 * The device checks of agent admission that depend on the tenant's Monitor
 * settings (agent-protocol.md 3 steps 7-8; issue #6 "Checks in this
 * order"), after nginx's tenant, certificate and rate-limit checks:
 *
 *   1. hardware allow-list, when the tenant's hardware_check is on:
 *      X-Device-Manufacturer and X-Device-Model must be present and match
 *      one hardware_allowlist row (* and ? wildcards, case-insensitive);
 *   2. Autopilot registration, when autopilot_check is on (the default):
 *      X-Device-SerialNumber must be a Windows Autopilot device of the
 *      tenant (ingest_autopilot.h).  CC_AUTOPILOT_CHECK=off skips this
 *      for every tenant (development and tests without Graph).
 *
 * A definite "no" is a JSON 403 with a stable code, which the agent reads
 * as a verdict; a lookup that could not be made is a 503 with
 * Retry-After: 30, which it retries.  Neither message quotes the request.
 */

#ifndef INGEST_GATE_H
#define INGEST_GATE_H

#include "cc_db.h"
#include "cc_http.h"

#define INGEST_GATE_RETRY_AFTER  "30"

/*
 * True when the device may go on; otherwise the refusal is in rep.
 * Called at the end of ingest_admit(), once the tenant and the device
 * are known.
 */
int ingest_gate_admit(const cc_request_t *req, cc_reply_t *rep);

/* Registers the gate's settings statement with the pool. */
int ingest_gate_prepare(cc_db_pool_t *pool);

/*
 * The ValidatorType register-session reports: 1 (AutopilotV1) when the
 * device's serial is currently known as an Autopilot device of its
 * tenant, else 0 (Unknown).
 */
int ingest_gate_validated_by(const cc_request_t *req);

/*
 * Whether text matches pattern, where * is any run of characters
 * (possibly none) and ? exactly one; letters compare without regard to
 * (ASCII) case.  A UTF-8 sequence counts as one character.
 */
int ingest_gate_wildcard_match(const char *pattern, const char *text);

#endif /* INGEST_GATE_H */
