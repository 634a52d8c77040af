/*
 * The session state machine's entry point for a telemetry batch: one call
 * of sql/009_session_state.sql's cc_session_apply_batch() in the batch's
 * transaction, and what it changed, for the live view.
 */

#ifndef INGEST_STATE_H
#define INGEST_STATE_H

#include <libpq-fe.h>

#define INGEST_STATE_TEXT_MAX  64

typedef struct ingest_state_change {
    char    old_status[INGEST_STATE_TEXT_MAX];
    char    status[INGEST_STATE_TEXT_MAX];
    int     phase;
    int     events;                                 /* Events in the batch */
    char    last_event_type[INGEST_STATE_TEXT_MAX]; /* "" when none */
    char    reason[512];                            /* "" when none */
} ingest_state_change_t;

/*
 * Applies rows (the batch's event rows as JSON text) to session, setting
 * its replay watermark to max_item.  Fills change; 0, or -1 when the
 * database refused (the transaction is then lost).
 */
int ingest_state_apply(PGconn *conn, const char *session, const char *rows,
                       const char *max_item, ingest_state_change_t *change);

/* True when the batch moved the session to another status. */
int ingest_state_changed(const ingest_state_change_t *change);

#endif /* INGEST_STATE_H */
