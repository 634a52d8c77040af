/*
 * The "sessions.sweep" job: marks enrollment sessions that have gone
 * silent as Stalled and classifies those past their tenant's timeout
 * (sql/009_session_state.sql, cc_sessions_sweep).  Meant to run
 * periodically; running it twice in a row changes nothing the second time.
 *
 * A platform job (no tenant) sweeps every tenant; a tenant's job sweeps
 * that tenant only.  Payload: {} (nothing is read from it).
 * Result: {"stalled": N, "classified": N}.  Each change is told to the
 * tenant's live view once the job has committed, as cc-ingest tells its
 * own: {"type":"session.status","sessionId","from","to","reason"}.
 */

#ifndef SWEEP_SESSIONS_H
#define SWEEP_SESSIONS_H

#include "cc_live.h"
#include "worker_handlers.h"

#define SWEEP_SESSIONS_KIND  "sessions.sweep"

/* The publisher of live-view messages (NULL: none are sent). */
void sweep_sessions_setup(cc_live_t *live);

int sweep_sessions_run(worker_run_t *run);

#endif /* SWEEP_SESSIONS_H */
