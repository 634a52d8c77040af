/*
 * GET /api/health: the state of cc-api and of everything it depends on.
 */

#ifndef API_HEALTH_H
#define API_HEALTH_H

#include "cc_http.h"

void api_health_get(cc_request_t *req, cc_reply_t *rep);

#endif /* API_HEALTH_H */
