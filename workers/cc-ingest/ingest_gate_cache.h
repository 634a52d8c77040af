/*
 * The tenant settings the gate reads on every agent request (the hardware
 * and Autopilot switches, the hardware allow-list), kept in process memory
 * for CC_SETTINGS_CACHE_MS so that most requests cost no database round
 * trip.  A change a Tenant Admin makes reaches the gate within that time;
 * 0 turns the cache off.
 *
 * The cache is direct-mapped: a tenant's entry lives in the slot its id
 * hashes to, and a tenant hashing to a taken slot replaces its occupant.
 * Memory is bounded by the slot count and the allow-lists, and two busy
 * tenants sharing a slot only cost each other reads.
 */

#ifndef INGEST_GATE_CACHE_H
#define INGEST_GATE_CACHE_H

#include <stddef.h>

#define INGEST_GATE_CACHE_SLOTS  1024

typedef struct ingest_gate_cache ingest_gate_cache_t;

/* What a tenant's settings say about one device. */
typedef struct ingest_gate_verdict {
    int  hardware_check;
    int  autopilot_check;
    int  hardware_allowed;      /* a rule matched both of its patterns */
} ingest_gate_verdict_t;

/* A cache keeping entries for ttl_ms; NULL when ttl_ms is 0 (no cache)
 * or memory ran out.  Every function below accepts NULL. */
ingest_gate_cache_t *ingest_gate_cache_create(int ttl_ms);

void ingest_gate_cache_destroy(ingest_gate_cache_t *c);

/*
 * Judges a device (its manufacturer and model headers, NULL when not
 * sent) by tenant's cached settings: 1 with *verdict filled, or 0 when
 * the cache holds nothing current for the tenant.
 */
int ingest_gate_cache_judge(ingest_gate_cache_t *c, const char *tenant,
                            const char *manufacturer, const char *model,
                            ingest_gate_verdict_t *verdict);

/*
 * Keeps tenant's settings: its switches and nrules allow-list rules, each
 * two patterns (patterns[2 * i] the manufacturer's, [2 * i + 1] the
 * model's), copied.  Out of memory, nothing is kept.
 */
void ingest_gate_cache_put(ingest_gate_cache_t *c, const char *tenant,
                           int hardware_check, int autopilot_check,
                           const char *const *patterns, size_t nrules);

/* True when one rule's two patterns match manufacturer and model. */
int ingest_gate_rules_match(const char *const *patterns, size_t nrules,
                            const char *manufacturer, const char *model);

#endif /* INGEST_GATE_CACHE_H */
