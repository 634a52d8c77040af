/*
 * The job queue's client side: claiming, finishing, failing and extending
 * jobs through the SQL functions of sql/003_jobs.sql, which hold the rules
 * (leases, backoff, dead-lettering).  This file only calls them.
 */

#ifndef CC_JOBQ_H
#define CC_JOBQ_H

#include <jansson.h>
#include <libpq-fe.h>

#include "cc_identity.h"

typedef struct cc_job {
    long long   id;
    char        tenant[CC_UUID_STR_LEN + 1];    /* "" = a platform job */
    char        kind[64];
    char        token[CC_UUID_STR_LEN + 1];     /* the lease token */
    int         attempt;                    /* 1 on the first run */
    int         max_attempts;
    json_t     *payload;                    /* owned */
} cc_job_t;

void cc_job_clear(cc_job_t *job);

/* Claims one ready job: 1 claimed (job filled), 0 none ready, -1 error. */
int cc_jobq_claim(PGconn *conn, const char *worker, int lease_seconds,
                  cc_job_t *job);

/*
 * Marks the job succeeded with result, in the caller's transaction.
 * 1 done, 0 the lease was lost (roll back!), -1 error.
 */
int cc_jobq_complete(PGconn *conn, const cc_job_t *job, json_t *result);

/*
 * Records a failed attempt.  retry_after_ms < 0 means none was asked for.
 * Fills state (16 bytes) with the job's new state ("queued", "failed",
 * "dead"), or "" when the lease was lost.  0 on success, -1 on error.
 */
int cc_jobq_fail(PGconn *conn, const cc_job_t *job, const char *error,
                 int retryable, int backoff_base_ms, int backoff_max_ms,
                 int retry_after_ms, char *state);

/* Extends the lease: 1 still held, 0 lost, -1 error. */
int cc_jobq_extend(PGconn *conn, const cc_job_t *job, int lease_seconds);

/* Milliseconds until the next job is ready (0 if one is), or -1 when
 * there is no job at all or the query failed. */
long long cc_jobq_ms_until_next(PGconn *conn);

#endif /* CC_JOBQ_H */
