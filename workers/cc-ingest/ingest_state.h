/*
 * The session state machine's entry point for a telemetry batch.  What a
 * batch says about its session is read here, from the event rows already
 * in memory (the last event type, the phases it declared and when, its
 * last word on stalling, its latest ESP status, the first per-batch rule
 * of agent-protocol.md 9 it matches); sql/009_session_state.sql's
 * cc_session_apply_batch() then decides the session's new state from that
 * summary, in the batch's transaction.  Reading the rows in C spares the
 * database a second parse of the whole batch.
 */

#ifndef INGEST_STATE_H
#define INGEST_STATE_H

#include <jansson.h>
#include <libpq-fe.h>

#define INGEST_STATE_TEXT_MAX  64

typedef struct ingest_state_change {
    char    old_status[INGEST_STATE_TEXT_MAX];
    char    status[INGEST_STATE_TEXT_MAX];
    int     phase;
    int     events;                                 /* Events in the batch */
    char    last_event_type[INGEST_STATE_TEXT_MAX]; /* "" when none */
    char    reason[2048];       /* "" when none; 500 characters of UTF-8 */
} ingest_state_change_t;

/*
 * The summary of events (an array of event rows, ingest_batch.h) that
 * cc_session_apply_batch() reads; NULL when out of memory.
 */
json_t *ingest_state_summary(const json_t *events);

/* True for the event types that show no progress (agent-protocol.md 9). */
int ingest_state_is_periodic(const char *type);

/*
 * Applies events to session, setting its replay watermark to max_item.
 * Fills change; 0, or -1 when the database refused (the transaction is
 * then lost) or memory ran out.
 */
int ingest_state_apply(PGconn *conn, const char *session,
                       const json_t *events, const char *max_item,
                       ingest_state_change_t *change);

/* True when the batch moved the session to another status. */
int ingest_state_changed(const ingest_state_change_t *change);

#endif /* INGEST_STATE_H */
