/*
 * The job runner: claim a job, run its handler in the job's tenant
 * transaction, complete or fail it, and sleep on LISTEN when idle.
 */

#ifndef WORKER_RUNNER_H
#define WORKER_RUNNER_H

#include <pthread.h>
#include <stdio.h>

#include "cc_config.h"
#include "cc_db.h"
#include "worker_heartbeat.h"
#include "worker_listener.h"

typedef struct worker_stats {
    unsigned long long  claimed;
    unsigned long long  succeeded;
    unsigned long long  failed;         /* failed attempts, any outcome */
    unsigned long long  retried;        /* ... that went back to the queue */
    unsigned long long  dead;           /* ... that ended the job */
    unsigned long long  lease_lost;
    double              seconds;        /* time spent in handlers */
} worker_stats_t;

typedef struct worker_runner {
    const cc_config_t    *cfg;
    cc_db_pool_t         *pool;
    worker_heartbeat_t   *heartbeat;
    worker_listener_t     listener;
    pthread_mutex_t       lock;         /* guards stats */
    worker_stats_t        stats;
} worker_runner_t;

int worker_runner_init(worker_runner_t *r, const cc_config_t *cfg,
                       cc_db_pool_t *pool);

/* Runs until shutdown is requested; the job in hand is finished first. */
void worker_runner_loop(worker_runner_t *r);

void worker_runner_close(worker_runner_t *r);

/* /healthz: up while the notification connection is. */
int worker_runner_healthy(void *runner);

/* A cc_metrics collector for the job counters. */
void worker_runner_collect(FILE *out, void *runner);

#endif /* WORKER_RUNNER_H */
