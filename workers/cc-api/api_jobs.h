/*
 * The jobs resource: POST /api/jobs enqueues a job for the caller's tenant,
 * GET /api/jobs/{id} reads one back under row-level security.
 */

#ifndef API_JOBS_H
#define API_JOBS_H

#include "cc_http.h"

void api_jobs_post(cc_request_t *req, cc_reply_t *rep);
void api_jobs_get(cc_request_t *req, cc_reply_t *rep);

/* True when kind may be enqueued through the API. */
int api_jobs_kind_allowed(const char *kind);

#endif /* API_JOBS_H */
