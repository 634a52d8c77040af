/*
 * Latency samples of the simulator's requests and their percentiles.
 */

#include <math.h>
#include <stdlib.h>

#include "sim_stats.h"


void
sim_stats_add(sim_stats_t *st, double ms)
{
    double  *p;
    size_t   cap;

    if (st->n == st->cap) {
        cap = st->cap ? st->cap * 2 : 1024;
        p = realloc(st->ms, cap * sizeof(*p));
        if (p == NULL) {
            return;         /* a sample lost, not the run */
        }
        st->ms = p;
        st->cap = cap;
    }
    st->ms[st->n++] = ms;
}


static int
compare_doubles(const void *a, const void *b)
{
    double  x = *(const double *) a, y = *(const double *) b;

    return (x > y) - (x < y);
}


double
sim_stats_percentile(sim_stats_t *st, double p)
{
    size_t  rank;

    if (st->n == 0) {
        return 0;
    }
    qsort(st->ms, st->n, sizeof(double), compare_doubles);
    rank = (size_t) ceil(p / 100.0 * (double) st->n);
    if (rank < 1) {
        rank = 1;
    }
    if (rank > st->n) {
        rank = st->n;
    }
    return st->ms[rank - 1];
}


void
sim_stats_free(sim_stats_t *st)
{
    free(st->ms);
    st->ms = NULL;
    st->n = st->cap = 0;
}
