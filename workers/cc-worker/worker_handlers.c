/*
 * The table from job kind to handler.  Adding a kind is one line here and
 * one file with its handler.
 */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "job_noop.h"
#include "retention_partitions.h"
#include "retention_purge.h"
#include "sweep_sessions.h"
#include "worker_handlers.h"


static const struct {
    const char         *kind;
    worker_handler_pt   handler;
} worker_handlers[] = {
    { "noop", job_noop_run },
    { "retention.purge", retention_purge_run },
    { "retention.partitions", retention_partitions_run },
    { SWEEP_SESSIONS_KIND, sweep_sessions_run },
};


worker_handler_pt
worker_handler_for(const char *kind)
{
    size_t  i;

    for (i = 0; i < sizeof(worker_handlers) / sizeof(worker_handlers[0]);
         i++)
    {
        if (strcmp(worker_handlers[i].kind, kind) == 0) {
            return worker_handlers[i].handler;
        }
    }
    return NULL;
}


int
worker_run_failed(worker_run_t *run, int retryable, const char *fmt, ...)
{
    va_list  ap;

    va_start(ap, fmt);
    vsnprintf(run->error, sizeof(run->error), fmt, ap);
    va_end(ap);
    run->retryable = retryable;
    return -1;
}
