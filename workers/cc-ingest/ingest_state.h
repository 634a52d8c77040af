/*
 * The session state machine's view of a telemetry batch.  What a batch
 * says about its session is read here, from the events already in memory
 * (the last event type, the phases it declared and when, its last word on
 * stalling, its latest ESP status, the first per-batch rule of
 * agent-protocol.md 9 it matches); sql/009_session_state.sql's
 * cc_session_apply_batch() then decides the session's new state from that
 * summary, in the batch's transaction (ingest_store.c).  Reading the
 * events in C spares the database a second pass over the whole batch.
 */

#ifndef INGEST_STATE_H
#define INGEST_STATE_H

#include <stddef.h>

#include "ingest_batch.h"

#define INGEST_STATE_TEXT_MAX  64

typedef struct ingest_state_change {
    char    old_status[INGEST_STATE_TEXT_MAX];
    char    status[INGEST_STATE_TEXT_MAX];
    int     phase;
    int     events;                     /* new Events the batch stored */
    char    last_event_type[INGEST_STATE_TEXT_MAX]; /* "" when none */
    char    reason[2048];       /* "" when none; 500 characters of UTF-8 */
} ingest_state_change_t;

/*
 * The summary of n events that cc_session_apply_batch() reads, as JSON
 * text the caller frees; NULL when out of memory.  The event its rule
 * matched is named by ruleIndex (1-based), for the database to take from
 * the rows it was given.
 */
char *ingest_state_summary(const ingest_event_t *events, size_t n);

/* True for the event types that show no progress (agent-protocol.md 9). */
int ingest_state_is_periodic(const char *type);

/* True when the batch moved the session to another status. */
int ingest_state_changed(const ingest_state_change_t *change);

#endif /* INGEST_STATE_H */
