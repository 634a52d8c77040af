/*
 * Session cookies issued by cc-api.  Until the Entra sign-in lands, the only
 * issuer is the development sign-in, enabled by CC_DEV_SIGN_IN.
 */

#ifndef API_SESSION_H
#define API_SESSION_H

#include "api_app.h"
#include "cc_http.h"
#include "cc_reply.h"

/* Loads CC_SESSION_KEYS into app->keyring; 0, or -1 after logging why. */
int api_session_load_keys(api_app_t *app);

/* POST /api/dev/sign-in {"tenant","user","roles":[...],"ttl"} */
void api_session_dev_sign_in(cc_request_t *req, cc_reply_t *rep);

#endif /* API_SESSION_H */
