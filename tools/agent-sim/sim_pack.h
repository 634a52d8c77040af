/*
 * Sessions rendered ahead of time: every telemetry batch of a session
 * written and gzip-compressed before a load run's clock starts, so that
 * sending one costs the simulator next to nothing, and unpacked back into
 * items when the batch size changes under it (a 413, another maxBatchSize).
 */

#ifndef SIM_PACK_H
#define SIM_PACK_H

#include <stddef.h>

#include "sim_session.h"

/* Renders s's items as gzip batches of batch items (the last one may hold
 * fewer) at zlib level, and frees the items; 0 or -1 (s unchanged). */
int sim_session_pack(sim_session_t *s, size_t batch, int level);

/* Brings back the items of a packed session, byte for byte; 0 or -1. */
int sim_session_unpack(sim_session_t *s);

/* The memory a packed session holds, in bytes. */
size_t sim_session_packed_bytes(const sim_session_t *s);

#endif
