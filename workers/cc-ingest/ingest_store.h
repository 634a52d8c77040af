/*
 * Storing a telemetry batch: its events and trace as columns of array
 * parameters, the device's facts and the state summary, given to
 * sql/013_ingest_batch.sql's cc_ingest_batch() as one statement that is
 * its own transaction.  Acknowledging the batch is safe once this
 * returns INGEST_STORE_OK: the statement has committed.
 */

#ifndef INGEST_STORE_H
#define INGEST_STORE_H

#include "cc_db.h"
#include "ingest_batch.h"
#include "ingest_state.h"

/* The name every pooled connection prepares the statement under. */
#define INGEST_STORE_STMT  "cc_ingest_batch"

typedef enum {
    INGEST_STORE_OK = 0,
    INGEST_STORE_OTHER_DEVICE,  /* another device holds the session id */
    INGEST_STORE_FAILED         /* nothing stored; the agent retries */
} ingest_store_result_t;

/* What a device's headers say about it (NULL: not sent). */
typedef struct ingest_device_facts {
    const char  *device;        /* the certificate's device id */
    const char  *manufacturer;
    const char  *model;
    const char  *serial;
} ingest_device_facts_t;

/* Registers the statement with the pool (cc_db_pool_prepare). */
int ingest_store_prepare(cc_db_pool_t *pool);

/*
 * Stores b for tenant and fills change with what it did to the session.
 */
ingest_store_result_t ingest_store_batch(cc_db_pool_t *pool,
                                         const char *tenant,
                                         const ingest_device_facts_t *dev,
                                         const ingest_batch_t *b,
                                         ingest_state_change_t *change);

#endif /* INGEST_STORE_H */
