/*
 * The thread that keeps the issuers' signing keys fresh: it reads every
 * OIDC discovery document and JWKS every CC_JWKS_REFRESH_SECONDS (sooner
 * when asked), backs off after failures (honouring Retry-After), and
 * publishes the merged key set for the registry sync to push.
 *
 * Why a thread of its own: an issuer that answers slowly must not delay
 * the registry sync, whose other work (a suspended tenant, a blocked
 * device) has to reach nginx at once.
 */

#ifndef SYNC_JWKS_H
#define SYNC_JWKS_H

#include <time.h>

#include <jansson.h>

#include "cc_config.h"
#include "cc_fetch.h"

typedef struct sync_jwks sync_jwks_t;

typedef struct sync_jwks_stats {
    unsigned long long  fetches_ok;         /* per source */
    unsigned long long  fetches_failed;
    long long           last_attempt_ms;    /* Unix ms; 0: none yet */
    time_t              last_success;       /* of every source at once */
    size_t              keys;               /* in the published set */
    int                 failing;            /* the last round failed */
} sync_jwks_stats_t;

/*
 * Starts fetching from urls[0..n) at once.  After each round that read
 * anything, one byte is written to wake_fd (the sync's wake-up pipe).
 * Returns NULL when the thread cannot be started.
 */
sync_jwks_t *sync_jwks_start(const cc_config_t *cfg,
                             char urls[][CC_FETCH_URL_MAX], size_t n,
                             int wake_fd);

/* Stops the thread (cutting a transfer short) and frees everything. */
void sync_jwks_stop(sync_jwks_t *jwks);

/*
 * The latest merged key set (a new reference, or NULL before any source
 * answered), whether every source has answered at least once, and the
 * set's version, which changes with every publication.
 */
json_t *sync_jwks_current(sync_jwks_t *jwks, int *complete,
                          unsigned long long *version);

/* Asks for a round now, unless one is running. */
void sync_jwks_refetch(sync_jwks_t *jwks);

void sync_jwks_stats(sync_jwks_t *jwks, sync_jwks_stats_t *stats);

#endif /* SYNC_JWKS_H */
