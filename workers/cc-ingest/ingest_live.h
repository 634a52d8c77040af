/*
 * What cc-ingest tells the live view (DESIGN.md rule 10) after a
 * transaction has committed: a new session, a batch's summary, a status
 * change.  Messages carry ids, statuses, phases and event types, never a
 * payload or anything personal (no serial number); cc_live.h says how
 * they travel and why a lost one does not fail ingest.
 */

#ifndef INGEST_LIVE_H
#define INGEST_LIVE_H

#include "cc_live.h"
#include "ingest_state.h"

/* A session seen for the first time (register-session inserted it). */
void ingest_live_session_registered(cc_live_t *live, const char *tenant,
                                    const char *session, const char *device);

/* A stored batch: its summary, and its status change if it made one. */
void ingest_live_batch_stored(cc_live_t *live, const char *tenant,
                              const char *session,
                              const ingest_state_change_t *change);

#endif /* INGEST_LIVE_H */
