/*
 * Latency samples of the simulator's requests and their percentiles.
 */

#ifndef SIM_STATS_H
#define SIM_STATS_H

#include <stddef.h>

typedef struct {
    double  *ms;
    size_t   n;
    size_t   cap;
} sim_stats_t;

void   sim_stats_add(sim_stats_t *st, double ms);

/* The p-th percentile (0-100) by nearest rank; 0 without samples.
 * Sorts the samples. */
double sim_stats_percentile(sim_stats_t *st, double p);
void   sim_stats_free(sim_stats_t *st);

#endif
