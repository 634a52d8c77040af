/*
 * Admission of agent requests.  nginx has already checked, in the
 * protocol's order, that the tenant is known and active, the device
 * certificate and the per-device rate limit; what is left for here is what
 * needs the database or Microsoft Graph.
 */

#include <string.h>

#include "cc_identity.h"
#include "ingest_admit.h"
#include "ingest_app.h"
#include "ingest_gate.h"


void
ingest_refuse(cc_reply_t *rep, int status, const char *code,
              const char *message)
{
    cc_reply_json(rep, status, json_pack("{s:b,s:s,s:{s:s,s:s}}",
        "success", 0, "message", message,
        "error", "code", code, "message", message));
}


int
ingest_admit(const cc_request_t *req, cc_reply_t *rep)
{
    const ingest_app_t  *app = req->app;

    if (app->pool == NULL) {
        ingest_refuse(rep, 503, "unavailable", "no database is configured");
        return 0;
    }
    if (req->identity.tenant[0] == '\0' || req->identity.device == NULL
        || !cc_uuid_valid(req->identity.device))
    {
        /* 401 is an authorization verdict the agent understands (3). */
        ingest_refuse(rep, 401, "device_unidentified",
                      "a valid Intune device certificate is required");
        return 0;
    }
    /* A bootstrap token stands for the device checks: once nginx has
     * judged it, the rest is skipped (agent-protocol.md 3 step 3). */
    if (ingest_admitted_by_bootstrap(req)) {
        return 1;
    }
    /* Hardware allow-list, then Autopilot registration (ingest_gate.h). */
    return ingest_gate_admit(req, rep);
}


int
ingest_names_own_tenant(const cc_request_t *req, const char *named)
{
    cc_identity_t  id;

    if (named == NULL || named[0] == '\0') {
        return 1;
    }
    return cc_identity_set_tenant(&id, named) == 0
           && strcmp(id.tenant, req->identity.tenant) == 0;
}


int
ingest_admitted_by_bootstrap(const cc_request_t *req)
{
    const char  *method;

    method = cc_request_header(req, "X-CC-Auth-Method");
    return method != NULL && strcmp(method, "bootstrap") == 0;
}


int
ingest_validated_by(const cc_request_t *req)
{
    if (ingest_admitted_by_bootstrap(req)) {
        return INGEST_VALIDATED_BY_BOOTSTRAP;
    }
    return ingest_gate_validated_by(req);
}
