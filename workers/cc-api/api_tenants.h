/*
 * A tenant's own record over the API: /api/tenants/{tid}.
 */

#ifndef API_TENANTS_H
#define API_TENANTS_H

#include "cc_http.h"
#include "cc_reply.h"

/* GET /api/tenants/{tid} */
void api_tenants_get(cc_request_t *req, cc_reply_t *rep);

#endif /* API_TENANTS_H */
