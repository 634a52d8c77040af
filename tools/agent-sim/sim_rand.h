/*
 * Deterministic pseudo-random numbers for the simulator, so that one seed
 * gives the same devices, serial numbers and sessions on every run.
 */

#ifndef SIM_RAND_H
#define SIM_RAND_H

#include <stdint.h>

typedef struct {
    uint64_t  state;
} sim_rand_t;

void     sim_rand_seed(sim_rand_t *r, uint64_t seed);
uint64_t sim_rand_next(sim_rand_t *r);

/* A number in [0, n). */
unsigned sim_rand_below(sim_rand_t *r, unsigned n);

/* A version-4 GUID in lower case, into out[37]. */
void sim_rand_guid(sim_rand_t *r, char out[37]);

/* n characters from [A-Z0-9] and a NUL, into out[n + 1]. */
void sim_rand_code(sim_rand_t *r, char *out, int n);

/* 32 hex digits and a NUL (X-Correlation-ID). */
void sim_rand_hex32(sim_rand_t *r, char out[33]);

#endif
