/*
 * Deterministic pseudo-random numbers for the simulator, so that one seed
 * gives the same devices, serial numbers and sessions on every run.
 * SplitMix64: small, fast, and good enough for synthetic identifiers.
 */

#include <stdio.h>

#include "sim_rand.h"


void
sim_rand_seed(sim_rand_t *r, uint64_t seed)
{
    r->state = seed;
}


uint64_t
sim_rand_next(sim_rand_t *r)
{
    uint64_t  z;

    r->state += 0x9e3779b97f4a7c15ULL;
    z = r->state;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}


unsigned
sim_rand_below(sim_rand_t *r, unsigned n)
{
    return n ? (unsigned) (sim_rand_next(r) % n) : 0;
}


void
sim_rand_guid(sim_rand_t *r, char out[37])
{
    uint64_t  hi, lo;

    hi = sim_rand_next(r);
    lo = sim_rand_next(r);
    snprintf(out, 37, "%08x-%04x-4%03x-%x%03x-%012llx",
             (unsigned) (hi >> 32), (unsigned) (hi >> 16) & 0xffff,
             (unsigned) hi & 0xfff, 8 + (unsigned) (lo >> 62),
             (unsigned) (lo >> 48) & 0xfff,
             (unsigned long long) (lo & 0xffffffffffffULL));
}


void
sim_rand_code(sim_rand_t *r, char *out, int n)
{
    static const char  alphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789";
    int                i;

    for (i = 0; i < n; i++) {
        out[i] = alphabet[sim_rand_below(r, sizeof(alphabet) - 1)];
    }
    out[n] = '\0';
}


void
sim_rand_hex32(sim_rand_t *r, char out[33])
{
    snprintf(out, 33, "%016llx%016llx",
             (unsigned long long) sim_rand_next(r),
             (unsigned long long) sim_rand_next(r));
}
