/*
 * The live view's publisher (DESIGN.md rule 10): after a transaction has
 * committed, cc-ingest tells the tenant's nchan channel what happened --
 * a new session, a batch's summary, a status change -- through the
 * internal publisher location on nginx's control socket.
 *
 * Publishing never fails ingest: each message gets a short timeout, and
 * a message that is not delivered is counted (/metrics) and logged at
 * debug, nothing more.  Messages carry ids, statuses, phases and event
 * types, never a payload or anything personal (no serial number).
 */

#ifndef INGEST_LIVE_H
#define INGEST_LIVE_H

#include <stdio.h>

#include "ingest_state.h"

typedef struct ingest_live ingest_live_t;

/*
 * A publisher to nginx's unix socket at socket_path, each message given
 * at most timeout_ms.  NULL when socket_path is empty (publishing off) or
 * out of memory; every function below accepts NULL and does nothing.
 * Calls curl_global_init(): create it before any thread runs.
 */
ingest_live_t *ingest_live_create(const char *socket_path, int timeout_ms);

void ingest_live_destroy(ingest_live_t *live);

/* A session seen for the first time (register-session inserted it). */
void ingest_live_session_registered(ingest_live_t *live, const char *tenant,
                                    const char *session, const char *device);

/* A stored batch: its summary, and its status change if it made one. */
void ingest_live_batch_stored(ingest_live_t *live, const char *tenant,
                              const char *session,
                              const ingest_state_change_t *change);

/* Metrics collector (cc_metrics_add_collector): messages sent and lost. */
void ingest_live_collect(FILE *out, void *arg);

#endif /* INGEST_LIVE_H */
