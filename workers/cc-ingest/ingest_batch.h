/*
 * Reading a telemetry batch (agent-protocol.md 7): the array of
 * TelemetryItem an agent uploads, checked against the tenant of its
 * certificate, with its Events turned into the rows cc-ingest stores.
 */

#ifndef INGEST_BATCH_H
#define INGEST_BATCH_H

#include <stddef.h>
#include <jansson.h>

#include "cc_uuid.h"

/* The protocol's cap on a decompressed batch (agent-protocol.md 7). */
#define INGEST_MAX_INFLATED  (5 * 1024 * 1024)

typedef enum {
    INGEST_BATCH_OK = 0,
    INGEST_BATCH_MALFORMED,     /* 400: not an array, empty, bad key */
    INGEST_BATCH_OTHER_TENANT   /* 403: the key names another tenant */
} ingest_batch_result_t;

typedef struct ingest_batch {
    char        tenant[CC_UUID_STR_LEN + 1];
    char        session[CC_UUID_STR_LEN + 1];
    json_t     *events;         /* Event rows to store: objects */
    json_t     *trace;          /* Signal and DecisionTransition rows */
    size_t      received;       /* items in the batch */
    size_t      accepted;       /* items of a known Kind that parsed */
    long long   max_item_id;    /* highest TelemetryItemId, -1 if none */
} ingest_batch_t;

/*
 * Reads items (the parsed body) for the certificate's tenant.  On OK the
 * caller owns b->events and b->trace (ingest_batch_free).  *why is a fixed message for
 * the refusal; it never quotes the body.
 */
ingest_batch_result_t ingest_batch_read(json_t *items, const char *tenant,
                                        ingest_batch_t *b, const char **why);

void ingest_batch_free(ingest_batch_t *b);

/* True when s has the shape of an ISO-8601 date-time PostgreSQL reads. */
int ingest_is_timestamp(const char *s);

/*
 * Splits a PartitionKey "{tenantId}_{sessionId}" into two lowercase UUIDs;
 * -1 when it is not that.
 */
int ingest_split_partition_key(const char *key, char *tenant, char *session);

#endif /* INGEST_BATCH_H */
