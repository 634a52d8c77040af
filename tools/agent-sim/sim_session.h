/*
 * One enrollment session as the agent reports it: the scenario's events,
 * with the Signals and DecisionTransitions of the reducer steps, numbered
 * the way the agent numbers them (agent-protocol.md 7 and 8).
 */

#ifndef SIM_SESSION_H
#define SIM_SESSION_H

#include <stddef.h>

#include "sim_rand.h"

typedef enum {
    SIM_SUCCESS = 0,
    SIM_APP_FAILURE,
    SIM_STALL,
    SIM_NSCENARIOS
} sim_scenario_t;

/* What a device says about itself: synthetic, and personal data all the
 * same for the platform (it must never log it). */
typedef struct {
    char         device_id[37];
    char         tenant_id[37];
    char         serial[24];
    char         device_name[24];
    char         upn[96];
    char         email[96];
    const char  *manufacturer;
    const char  *model;
} sim_profile_t;

typedef struct {
    char    *json;          /* one TelemetryItem, compact JSON */
    size_t   len;
    int      is_event;
} sim_item_t;

/* A batch rendered ahead of time (sim_pack.h): the gzip body as it goes
 * on the wire, and where its items are inside the JSON array. */
typedef struct {
    char                 *wire;
    size_t                wire_len;
    size_t                nitems;
    size_t                nevents;
    unsigned             *lens;         /* each item's JSON length */
} sim_batch_t;

typedef struct {
    char                  session_id[37];
    sim_scenario_t        scenario;
    const sim_profile_t  *profile;
    sim_item_t           *items;
    size_t                nitems;
    size_t                cap;
    size_t                nevents;
    int                   failed;       /* out of memory while building */

    /* packed (sim_pack.h): items is NULL, the batches hold them */
    sim_batch_t          *batches;
    size_t                nbatches;
    size_t                packed_batch; /* items per batch; 0: not packed */

    /* the agent's counters (agent-protocol.md 7: all start again only
     * with a new session) */
    long long             item_id;      /* TelemetryItemId, from 0 */
    long long             sequence;     /* Event Sequence, from 1 */
    long long             ordinal;      /* SessionSignalOrdinal, from 0 */
    long long             step;         /* StepIndex, from 1 */
    long long             start_ms;     /* StartedAt */
    long long             clock_ms;     /* the device's clock */
    int                   stage;        /* index into the stage names */
    char                  partition_key[80];
    sim_rand_t           *rand;
} sim_session_t;

const char *sim_scenario_name(sim_scenario_t sc);
int sim_scenario_parse(const char *name, sim_scenario_t *sc);

/* Builds every item of a session of scenario sc that starts at start_ms,
 * with apps app installs per app phase and pad bytes of filler in each
 * app event's Data (0: none); 0 or -1. */
int sim_session_build(sim_session_t *s, const sim_profile_t *p,
                      sim_scenario_t sc, int apps, size_t pad,
                      long long start_ms, sim_rand_t *rand);
void sim_session_free(sim_session_t *s);

/* "o" format: 2026-11-23T08:02:11.2980000Z */
void sim_format_time(long long ms, char out[32]);

#endif
