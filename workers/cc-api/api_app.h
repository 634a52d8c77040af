/*
 * What every cc-api handler shares: the configuration and the pool.
 */

#ifndef API_APP_H
#define API_APP_H

#include "cc_config.h"
#include "cc_db.h"
#include "cc_session.h"

typedef struct api_app {
    const cc_config_t     *cfg;
    cc_db_pool_t          *pool;
    cc_session_keyring_t   keyring;     /* loaded when CC_DEV_SIGN_IN is on */
} api_app_t;

#endif /* API_APP_H */
