/*
 * Admission of an agent request, shared by every agent endpoint: who the
 * device is (from what nginx verified), and whether the tenant lets it in
 * (agent-protocol.md 3).  Also the one way an agent endpoint refuses.
 */

#ifndef INGEST_ADMIT_H
#define INGEST_ADMIT_H

#include "cc_http.h"

/*
 * Answers STATUS with the protocol's {success:false,message} for the agent
 * and the platform's {error:{code,message}} for people.  MESSAGE never
 * quotes the request (serial numbers are personal data).
 */
void ingest_refuse(cc_reply_t *rep, int status, const char *code,
                   const char *message);

/*
 * True when the request may go on: a database is there, nginx named the
 * tenant and the device, and the tenant's device checks pass.  Otherwise
 * the refusal is in REP and the handler returns.
 */
int ingest_admit(const cc_request_t *req, cc_reply_t *rep);

/*
 * True when a tenant id the agent wrote into its request (NAMED: NULL or
 * empty for none) is the certificate's tenant, in any letter case.
 */
int ingest_names_own_tenant(const cc_request_t *req, const char *named);

/* The protocol's ValidatorType for a device admitted by a token. */
#define INGEST_VALIDATED_BY_BOOTSTRAP  4

/*
 * True when nginx admitted the request by a bootstrap token
 * (X-CC-Auth-Method: bootstrap) rather than a device certificate.  nginx
 * then derived the device id from the tenant and the serial number
 * (lib/cc_bootstrap.h), so X-CC-Device is as stable as a certificate's.
 */
int ingest_admitted_by_bootstrap(const cc_request_t *req);

/*
 * register-session's validatedBy: 4 (Bootstrap) for a token, otherwise
 * what the device checks established (ingest_gate_validated_by).
 */
int ingest_validated_by(const cc_request_t *req);

#endif /* INGEST_ADMIT_H */
