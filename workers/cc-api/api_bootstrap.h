/*
 * A tenant's bootstrap tokens over the API (agent-protocol.md 2, bootstrap
 * mode): Tenant Admins create them, list them and revoke them.  A token is
 * shown once, in the answer that creates it; the database keeps only its
 * SHA-256, which is also all nginx's registry ever holds.
 *
 *   POST   /api/tenants/{tid}/bootstrap-tokens       {label, validHours}
 *   GET    /api/tenants/{tid}/bootstrap-tokens
 *   DELETE /api/tenants/{tid}/bootstrap-tokens/{id}
 *
 * Whether the tenant accepts tokens at all is its Monitor setting
 * bootstrap_enabled (sql/006, changed through the settings API).
 */

#ifndef API_BOOTSTRAP_H
#define API_BOOTSTRAP_H

#include "cc_http.h"

#define API_BOOTSTRAP_DEFAULT_HOURS  24
#define API_BOOTSTRAP_MAX_HOURS      720
#define API_BOOTSTRAP_LABEL_MAX      128

void api_bootstrap_create(cc_request_t *req, cc_reply_t *rep);
void api_bootstrap_list(cc_request_t *req, cc_reply_t *rep);
void api_bootstrap_revoke(cc_request_t *req, cc_reply_t *rep);

#endif /* API_BOOTSTRAP_H */
