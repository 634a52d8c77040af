/*
 * The live view's publisher (DESIGN.md rule 10): after a transaction has
 * committed, a worker tells the tenant's nchan channel what happened
 * through the internal publisher location on nginx's control socket.
 *
 * Publishing never fails or delays the work it reports: a message is
 * queued, and one publisher thread gives the queue to nginx in order,
 * with a short timeout.  Subscribers receive JSON arrays of messages,
 * oldest first: one tenant's messages that were queued together travel
 * in one array.  A message that is not delivered
 * (nginx unreachable, the queue full, or still queued a second after
 * shutdown began) is counted (/metrics) and logged at debug, nothing
 * more.  Messages carry ids, statuses and types, never anything personal.
 */

#ifndef CC_LIVE_H
#define CC_LIVE_H

#include <stdio.h>

#include <jansson.h>

typedef struct cc_live cc_live_t;

/*
 * A publisher to nginx's unix socket at socket_path, each message given
 * at most timeout_ms, and its thread.  NULL when socket_path is empty
 * (publishing off) or out of memory; every function below accepts NULL
 * and does nothing.  Calls curl_global_init(): create it before any
 * other thread runs.
 */
cc_live_t *cc_live_create(const char *socket_path, int timeout_ms);

/* Sends what is queued (for at most a second), then stops the thread. */
void cc_live_destroy(cc_live_t *live);

/* Queues msg (consumed, may be NULL) for tenant's channel. */
void cc_live_publish(cc_live_t *live, const char *tenant, json_t *msg);

/* The "session.status" message: a session went from one status to
 * another, for reason (NULL for none).  NULL when out of memory. */
json_t *cc_live_status_message(const char *session, const char *from,
                               const char *to, const char *reason);

/* Metrics collector (cc_metrics_add_collector): messages sent and lost. */
void cc_live_collect(FILE *out, void *arg);

#endif /* CC_LIVE_H */
