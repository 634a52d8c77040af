/*
 * Whether a serial number is a Windows Autopilot device of a tenant, asked
 * of Microsoft Graph with the platform app's token for that tenant
 * (agent-protocol.md 3 step 8; azure-protocols.md 5):
 *
 *   GET {graph}/v1.0/deviceManagement/windowsAutopilotDeviceIdentities
 *       ?$filter=contains(serialNumber,'{serial}')
 *
 * then an exact, case-insensitive match among the answers, following
 * @odata.nextLink for a bounded number of pages.  Answers are cached in
 * process memory per (tenant, serial): 30 minutes when registered, 5 when
 * not; a failure is never cached.  The cache is bounded (least recently
 * used entries go first) and shared by every request thread.
 *
 * Serial numbers are personal data: they never reach a log line, an error
 * message or /healthz.
 */

#ifndef INGEST_AUTOPILOT_H
#define INGEST_AUTOPILOT_H

#include <jansson.h>

#include "cc_config.h"

#define INGEST_AUTOPILOT_POSITIVE_SECONDS  (30 * 60)
#define INGEST_AUTOPILOT_NEGATIVE_SECONDS  (5 * 60)
#define INGEST_AUTOPILOT_SERIAL_MAX        128

typedef struct ingest_autopilot ingest_autopilot_t;

typedef enum {
    INGEST_AUTOPILOT_REGISTERED = 0,
    INGEST_AUTOPILOT_NOT_REGISTERED,
    INGEST_AUTOPILOT_UNAVAILABLE    /* Graph or Entra failed: ask later */
} ingest_autopilot_verdict_t;

/*
 * Sets up the lookup from CC_GRAPH_URL, CC_LOGIN_URL, CC_CLIENT_ID,
 * CC_CLIENT_SECRET_FILE, CC_CA_FILE and CC_GRAPH_TIMEOUT_MS.  Without a
 * client id and a secret file every check is UNAVAILABLE (and /healthz
 * says why).  Returns NULL, after logging why, when the secret file is
 * named but cannot be read.  Calls
 * curl_global_init(): create it before any thread runs.
 */
ingest_autopilot_t *ingest_autopilot_create(const cc_config_t *cfg);

void ingest_autopilot_destroy(ingest_autopilot_t *ap);

/* Whether serial is an Autopilot device of tenant, from the cache or
 * from Graph. */
ingest_autopilot_verdict_t ingest_autopilot_check(ingest_autopilot_t *ap,
    const char *tenant, const char *serial);

/* True when the cache holds a current "registered" answer for the pair:
 * what register-session reports as validatedBy AutopilotV1. */
int ingest_autopilot_known(ingest_autopilot_t *ap, const char *tenant,
                           const char *serial);

/* A cc_http health_detail hook: adds "autopilot" {configured,
 * lastSuccessAt, lastFailure {at, tenant, what, status, error, aadsts}}. */
void ingest_autopilot_health(void *ap, json_t *answer);

#endif /* INGEST_AUTOPILOT_H */
