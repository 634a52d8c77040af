/*
 * What every cc-ingest handler reaches through its request's app pointer:
 * the database pool and the worker's configuration.  Each concern that
 * needs state of its own (caches, clients) adds one member here and sets
 * it up in ingest_main.c.
 */

#ifndef INGEST_APP_H
#define INGEST_APP_H

#include "cc_config.h"
#include "cc_db.h"
#include "ingest_upload.h"
#include "ingest_live.h"
#include "ingest_autopilot.h"
#include "ingest_gate_cache.h"

typedef struct ingest_app_s {
    cc_db_pool_t       *pool;           /* NULL without a database */
    const cc_config_t  *cfg;
    const ingest_upload_t *upload;      /* NULL: no blob storage */
    cc_live_t      *live;           /* NULL: no live view publishing */
    ingest_autopilot_t *autopilot;      /* the Autopilot lookup and cache */
    ingest_gate_cache_t *gate_cache;    /* NULL: settings read every time */
} ingest_app_t;

#endif /* INGEST_APP_H */
