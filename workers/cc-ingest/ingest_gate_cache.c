/*
 * A direct-mapped cache of the gate's tenant settings, behind one mutex:
 * a lookup is a hash, a string compare and, when the allow-list is
 * enforced, a few wildcard matches.
 */

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cc_clock.h"
#include "cc_uuid.h"
#include "ingest_gate.h"
#include "ingest_gate_cache.h"

typedef struct {
    char        tenant[CC_UUID_STR_LEN + 1];    /* "" = empty slot */
    long long   expires_ms;
    int         hardware_check;
    int         autopilot_check;
    size_t      nrules;
    char      **patterns;       /* 2 * nrules, each malloc'd */
} gate_entry_t;

struct ingest_gate_cache {
    pthread_mutex_t  lock;
    int              ttl_ms;
    gate_entry_t     slots[INGEST_GATE_CACHE_SLOTS];
};


/* FNV-1a of the tenant id. */
static size_t
slot_of(const char *tenant)
{
    unsigned int  h = 2166136261u;

    while (*tenant != '\0') {
        h = (h ^ (unsigned char) *tenant++) * 16777619u;
    }
    return h % INGEST_GATE_CACHE_SLOTS;
}


static void
free_patterns(char **patterns, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        free(patterns[i]);
    }
    free(patterns);
}


static void
empty_entry(gate_entry_t *e)
{
    free_patterns(e->patterns, 2 * e->nrules);
    memset(e, 0, sizeof(*e));
}


ingest_gate_cache_t *
ingest_gate_cache_create(int ttl_ms)
{
    ingest_gate_cache_t  *c;

    if (ttl_ms <= 0) {
        return NULL;
    }
    c = calloc(1, sizeof(*c));
    if (c == NULL) {
        return NULL;
    }
    pthread_mutex_init(&c->lock, NULL);
    c->ttl_ms = ttl_ms;
    return c;
}


void
ingest_gate_cache_destroy(ingest_gate_cache_t *c)
{
    size_t  i;

    if (c == NULL) {
        return;
    }
    for (i = 0; i < INGEST_GATE_CACHE_SLOTS; i++) {
        empty_entry(&c->slots[i]);
    }
    pthread_mutex_destroy(&c->lock);
    free(c);
}


int
ingest_gate_rules_match(const char *const *patterns, size_t nrules,
                        const char *manufacturer, const char *model)
{
    size_t  i;

    if (manufacturer == NULL || model == NULL) {
        return 0;
    }
    for (i = 0; i < nrules; i++) {
        if (ingest_gate_wildcard_match(patterns[2 * i], manufacturer)
            && ingest_gate_wildcard_match(patterns[2 * i + 1], model))
        {
            return 1;
        }
    }
    return 0;
}


/* ingest_gate_cache_judge at the time now (ms), which tests choose. */
static int
judge_at(ingest_gate_cache_t *c, const char *tenant, const char *manufacturer,
         const char *model, ingest_gate_verdict_t *verdict, long long now)
{
    gate_entry_t  *e;
    int            found;

    if (c == NULL) {
        return 0;
    }
    pthread_mutex_lock(&c->lock);
    e = &c->slots[slot_of(tenant)];
    found = strcmp(e->tenant, tenant) == 0 && e->expires_ms > now;
    if (found) {
        verdict->hardware_check = e->hardware_check;
        verdict->autopilot_check = e->autopilot_check;
        verdict->hardware_allowed = e->hardware_check
            && ingest_gate_rules_match((const char *const *) e->patterns,
                                       e->nrules, manufacturer, model);
    }
    pthread_mutex_unlock(&c->lock);
    return found;
}


/* Copies of n strings, or NULL when memory ran out. */
static char **
copy_patterns(const char *const *patterns, size_t n)
{
    char    **copy;
    size_t    i;

    copy = calloc(n > 0 ? n : 1, sizeof(char *));
    for (i = 0; copy != NULL && i < n; i++) {
        copy[i] = strdup(patterns[i]);
        if (copy[i] == NULL) {
            free_patterns(copy, i);
            copy = NULL;
        }
    }
    return copy;
}


/* ingest_gate_cache_put at the time now (ms). */
static void
put_at(ingest_gate_cache_t *c, const char *tenant, int hardware_check,
       int autopilot_check, const char *const *patterns, size_t nrules,
       long long now)
{
    gate_entry_t  *e;
    char         **copy;

    if (c == NULL || strlen(tenant) > CC_UUID_STR_LEN) {
        return;
    }
    copy = copy_patterns(patterns, 2 * nrules);
    if (copy == NULL) {
        return;
    }
    pthread_mutex_lock(&c->lock);
    e = &c->slots[slot_of(tenant)];
    empty_entry(e);
    strcpy(e->tenant, tenant);
    e->expires_ms = now + c->ttl_ms;
    e->hardware_check = hardware_check;
    e->autopilot_check = autopilot_check;
    e->nrules = nrules;
    e->patterns = copy;
    pthread_mutex_unlock(&c->lock);
}


int
ingest_gate_cache_judge(ingest_gate_cache_t *c, const char *tenant,
                        const char *manufacturer, const char *model,
                        ingest_gate_verdict_t *verdict)
{
    return judge_at(c, tenant, manufacturer, model, verdict, cc_clock_monotonic_ms());
}


void
ingest_gate_cache_put(ingest_gate_cache_t *c, const char *tenant,
                      int hardware_check, int autopilot_check,
                      const char *const *patterns, size_t nrules)
{
    put_at(c, tenant, hardware_check, autopilot_check, patterns, nrules,
           cc_clock_monotonic_ms());
}
