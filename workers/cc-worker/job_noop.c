/*
 * The noop job handler: sleeps, fails or succeeds as its payload says, and
 * writes an audit row in the job's transaction on success, which makes
 * "exactly once" countable.
 */

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cc_db.h"
#include "job_noop.h"


#define NOOP_SLEEP_MAX_MS  60000
#define NOOP_SLEEP_STEP_MS 50

typedef struct {
    json_int_t  sleep_ms;
    json_int_t  fail_attempts;
    int         permanent;
} noop_args_t;


static int
read_integer(json_t *payload, const char *name, json_int_t max,
             json_int_t *out)
{
    json_t  *v;

    v = json_object_get(payload, name);
    if (v == NULL) {
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < 0
        || json_integer_value(v) > max)
    {
        return -1;
    }
    *out = json_integer_value(v);
    return 0;
}


static int
read_args(worker_run_t *run, noop_args_t *args)
{
    json_t       *payload = run->job->payload;
    json_t       *fail;
    const char   *kind;

    memset(args, 0, sizeof(*args));
    if (read_integer(payload, "sleep_ms", NOOP_SLEEP_MAX_MS,
                     &args->sleep_ms) != 0)
    {
        return worker_run_failed(run, 0, "sleep_ms must be an integer "
                                 "from 0 to %d", NOOP_SLEEP_MAX_MS);
    }
    if (read_integer(payload, "fail_attempts", 1000,
                     &args->fail_attempts) != 0)
    {
        return worker_run_failed(run, 0, "fail_attempts must be an integer "
                                 "from 0 to 1000");
    }
    fail = json_object_get(payload, "fail");
    kind = fail ? json_string_value(fail) : "transient";
    if (kind == NULL || (strcmp(kind, "transient") != 0
                         && strcmp(kind, "permanent") != 0))
    {
        return worker_run_failed(run, 0, "fail must be \"transient\" or "
                                 "\"permanent\"");
    }
    args->permanent = (strcmp(kind, "permanent") == 0);
    return 0;
}


/* Sleeps ms in short steps, stopping early when the lease is lost since
 * the run can no longer complete.  Returns -1 in that case. */
static int
sleep_holding_lease(worker_run_t *run, json_int_t ms)
{
    struct timespec  step;
    json_int_t       left, n;

    for (left = ms; left > 0; left -= n) {
        if (*run->lease_lost) {
            return -1;
        }
        n = left < NOOP_SLEEP_STEP_MS ? left : NOOP_SLEEP_STEP_MS;
        step.tv_sec = 0;
        step.tv_nsec = (long) n * 1000000L;
        nanosleep(&step, NULL);
    }
    return 0;
}


static int
write_audit_row(worker_run_t *run)
{
    const char  *params[2];
    char         target[48], detail[48];

    snprintf(target, sizeof(target), "job:%lld", run->job->id);
    snprintf(detail, sizeof(detail), "{\"attempt\":%d}", run->job->attempt);
    params[0] = target;
    params[1] = detail;
    return cc_db_command(run->conn,
                         "INSERT INTO audit_log"
                         "  (tenant_id, actor, action, target, detail)"
                         " VALUES (cc_current_tenant(), 'cc-worker',"
                         "  'job.noop', $1, $2::jsonb)", 2, params);
}


int
job_noop_run(worker_run_t *run)
{
    noop_args_t  args;

    if (read_args(run, &args) != 0) {
        return -1;
    }
    if (sleep_holding_lease(run, args.sleep_ms) != 0) {
        return worker_run_failed(run, 1, "lease lost while sleeping");
    }
    if (run->job->attempt <= args.fail_attempts) {
        return worker_run_failed(run, !args.permanent,
                                 "noop: attempt %d fails as asked (%s)",
                                 run->job->attempt,
                                 args.permanent ? "permanent" : "transient");
    }
    if (write_audit_row(run) != 0) {
        return worker_run_failed(run, 1, "could not write the audit row");
    }

    run->result = json_pack("{s:b,s:i,s:s}", "ok", 1,
                            "attempt", run->job->attempt,
                            "worker", run->worker_id);
    return 0;
}
