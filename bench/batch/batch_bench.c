/*
 * Micro-benchmark of reading one telemetry batch (issue #6): the old path
 * (jansson: json_loadb of the batch, json_loads of each PayloadJson,
 * json_pack'd rows, json_dumps of the rows as ingest_agent.c did) against
 * the new one (workers/cc-ingest/ingest_batch.c over lib/cc_jscan.c), on
 * the same realistic batch built by tools/agent-sim, alternating in rounds
 * on the same machine, and printing CPU microseconds per batch and their
 * ratio.  The old path's code lives here only, as it was in ingest_batch.c
 * before the rewrite.
 */

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ingest_batch.h"
#include "sim_session.h"

#define TENANT  "11111111-1111-4111-8111-111111111111"


/* ---- The old path (ingest_batch.c before the rewrite, trimmed). ---- */

typedef struct {
    json_t     *events;
    json_t     *trace;
    size_t      received;
    size_t      accepted;
    long long   max_item_id;
} old_batch_t;


static const char *
old_member_string(json_t *obj, const char *name)
{
    return json_string_value(json_object_get(obj, name));
}


static void
old_copy_member(json_t *to, json_t *from, const char *name, const char *as,
                int (*is_type)(const json_t *))
{
    json_t  *v;

    v = json_object_get(from, name);
    if (v != NULL && is_type(v)) {
        json_object_set(to, as, v);
    }
}

static int old_is_string(const json_t *v) { return json_is_string(v); }
static int old_is_integer(const json_t *v) { return json_is_integer(v); }
static int old_is_object(const json_t *v) { return json_is_object(v); }


static json_t *
old_event_row(const char *payload_json, json_int_t item_id)
{
    json_t      *ev, *row, *seq;
    const char  *ts, *type;

    ev = json_loads(payload_json, 0, NULL);
    if (ev == NULL) {
        return NULL;
    }
    seq = json_object_get(ev, "Sequence");
    ts = old_member_string(ev, "Timestamp");
    type = old_member_string(ev, "EventType");
    if (!json_is_object(ev) || !json_is_integer(seq)
        || json_integer_value(seq) < 0 || !ingest_is_timestamp(ts)
        || type == NULL || type[0] == '\0')
    {
        json_decref(ev);
        return NULL;
    }
    row = json_pack("{s:O,s:I,s:s,s:s}", "sequence", seq, "item_id", item_id,
                    "event_time", ts, "event_type", type);
    if (row != NULL) {
        old_copy_member(row, ev, "EventId", "event_id", old_is_string);
        old_copy_member(row, ev, "Severity", "severity", old_is_integer);
        old_copy_member(row, ev, "Source", "source", old_is_string);
        old_copy_member(row, ev, "Phase", "phase", old_is_integer);
        old_copy_member(row, ev, "Message", "message", old_is_string);
        old_copy_member(row, ev, "Data", "data", old_is_object);
    }
    json_decref(ev);
    return row;
}


static json_t *
old_trace_row(const char *kind, const char *payload_json, json_int_t item_id)
{
    json_t      *p, *ordinal, *row;
    const char  *at;

    p = json_loads(payload_json, 0, NULL);
    if (p == NULL) {
        return NULL;
    }
    ordinal = json_object_get(p, strcmp(kind, "Signal") == 0
                                 ? "SessionSignalOrdinal" : "StepIndex");
    if (!json_is_object(p) || !json_is_integer(ordinal)
        || json_integer_value(ordinal) < 0)
    {
        json_decref(p);
        return NULL;
    }
    row = json_pack("{s:s,s:O,s:I,s:O}", "kind", kind, "ordinal", ordinal,
                    "item_id", item_id, "payload", p);
    at = old_member_string(p, "OccurredAtUtc");
    if (row != NULL && ingest_is_timestamp(at)) {
        json_object_set_new(row, "occurred_at", json_string(at));
    }
    json_decref(p);
    return row;
}


static void
old_read_item(json_t *item, old_batch_t *b)
{
    const char  *kind, *payload;
    json_t      *id, *row;
    json_int_t   item_id;

    kind = old_member_string(item, "Kind");
    payload = old_member_string(item, "PayloadJson");
    id = json_object_get(item, "TelemetryItemId");
    item_id = json_is_integer(id) ? json_integer_value(id) : -1;
    if (kind == NULL || payload == NULL) {
        return;
    }
    if (strcmp(kind, "Event") == 0) {
        row = old_event_row(payload, item_id);
        if (row == NULL) {
            return;
        }
        json_array_append_new(b->events, row);
    } else if (strcmp(kind, "Signal") == 0
               || strcmp(kind, "DecisionTransition") == 0)
    {
        row = old_trace_row(kind, payload, item_id);
        if (row == NULL) {
            return;
        }
        json_array_append_new(b->trace, row);
    } else {
        return;
    }
    b->accepted++;
    if (item_id > b->max_item_id) {
        b->max_item_id = item_id;
    }
}


/* The old read: parse, check every key, read every item.  0 or -1. */
static int
old_batch_read(const char *text, size_t len, old_batch_t *b)
{
    json_t  *items, *item;
    size_t   i;
    char     t[CC_UUID_STR_LEN + 1], s[CC_UUID_STR_LEN + 1];

    memset(b, 0, sizeof(*b));
    b->max_item_id = -1;
    items = json_loadb(text, len, 0, NULL);
    if (!json_is_array(items) || json_array_size(items) == 0) {
        json_decref(items);
        return -1;
    }
    json_array_foreach(items, i, item) {
        if (!json_is_object(item)
            || ingest_split_partition_key(old_member_string(item,
                   "PartitionKey"), t, s) != 0
            || strcmp(t, TENANT) != 0)
        {
            json_decref(items);
            return -1;
        }
    }
    b->events = json_array();
    b->trace = json_array();
    b->received = json_array_size(items);
    json_array_foreach(items, i, item) {
        old_read_item(item, b);
    }
    json_decref(items);
    return 0;
}


/* ---- Timing. ---- */

static double
cpu_us(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}


/* What each variant does to one batch; returns the events it read. */
typedef size_t (*variant_t)(const char *text, size_t len);

static size_t
run_old_read(const char *text, size_t len)
{
    old_batch_t  b;
    size_t       n;

    if (old_batch_read(text, len, &b) != 0) {
        return 0;
    }
    n = json_array_size(b.events);
    json_decref(b.events);
    json_decref(b.trace);
    return n;
}


static size_t
run_old_read_dump(const char *text, size_t len)
{
    old_batch_t  b;
    char        *rows, *trace;
    size_t       n;

    if (old_batch_read(text, len, &b) != 0) {
        return 0;
    }
    rows = json_dumps(b.events, JSON_COMPACT);
    trace = json_dumps(b.trace, JSON_COMPACT);
    n = rows != NULL && trace != NULL ? json_array_size(b.events) : 0;
    free(rows);
    free(trace);
    json_decref(b.events);
    json_decref(b.trace);
    return n;
}


static size_t
run_new(const char *text, size_t len)
{
    ingest_batch_t  b;
    const char     *why;
    size_t          n;

    if (ingest_batch_read(text, len, TENANT, &b, &why) != INGEST_BATCH_OK) {
        return 0;
    }
    n = b.nevents;
    ingest_batch_free(&b);
    return n;
}


/* CPU microseconds per batch over iterations of v. */
static double
measure(variant_t v, const char *text, size_t len, int iterations)
{
    double  t0;
    int     i;

    t0 = cpu_us();
    for (i = 0; i < iterations; i++) {
        if (v(text, len) == 0) {
            fprintf(stderr, "batch-bench: a variant failed to read\n");
            exit(1);
        }
    }
    return (cpu_us() - t0) / iterations;
}


static int
compare_double(const void *a, const void *b)
{
    double  x = *(const double *) a, y = *(const double *) b;

    return x < y ? -1 : x > y;
}


static double
median(double *v, int n)
{
    qsort(v, (size_t) n, sizeof(*v), compare_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}


/* ---- The batch: the last 100 items of a simulated successful session
 * (app events with ~15 string Data keys, the reducer's Signals and
 * Transitions, the terminal event with its nested Data). ---- */

static char *
build_batch(int nitems, size_t *len, size_t *nevents)
{
    static sim_profile_t  p;
    static sim_session_t  s;
    sim_rand_t            r;
    char                 *text, *at;
    size_t                i, first, cap = 2;

    sim_rand_seed(&r, 6);
    strcpy(p.tenant_id, TENANT);
    strcpy(p.device_id, "22222222-2222-4222-8222-222222222222");
    strcpy(p.serial, "SIM-0000000001");
    strcpy(p.device_name, "DESKTOP-SIM0001");
    strcpy(p.upn, "user1@example.test");
    strcpy(p.email, "user1@example.test");
    p.manufacturer = "Contoso";
    p.model = "Sim 1";
    if (sim_session_build(&s, &p, SIM_SUCCESS, 25, 0, 1795000000000LL, &r)
        != 0 || s.nitems < (size_t) nitems)
    {
        fprintf(stderr, "batch-bench: could not build a session\n");
        exit(1);
    }
    first = s.nitems - (size_t) nitems;
    for (i = first; i < s.nitems; i++) {
        cap += s.items[i].len + 1;
    }
    text = malloc(cap);
    at = text;
    *at++ = '[';
    *nevents = 0;
    for (i = first; i < s.nitems; i++) {
        if (i > first) {
            *at++ = ',';
        }
        memcpy(at, s.items[i].json, s.items[i].len);
        at += s.items[i].len;
        *nevents += (size_t) s.items[i].is_event;
    }
    *at++ = ']';
    *len = (size_t) (at - text);
    return text;
}


int
main(int argc, char **argv)
{
    static const struct {
        const char  *name;
        variant_t    run;
    } variants[] = {
        { "old: jansson read", run_old_read },
        { "old: jansson read + json_dumps rows", run_old_read_dump },
        { "new: cc_jscan read", run_new },
    };
    enum { NVARIANTS = 3, MAX_ROUNDS = 64 };
    double   results[NVARIANTS][MAX_ROUNDS], med[NVARIANTS];
    char    *text;
    size_t   len, nevents;
    int      iterations, rounds, r, v;

    iterations = argc > 1 ? atoi(argv[1]) : 2000;
    rounds = argc > 2 ? atoi(argv[2]) : 5;
    if (iterations < 1 || rounds < 1 || rounds > MAX_ROUNDS) {
        fprintf(stderr, "usage: batch-bench [ITERATIONS [ROUNDS]]\n");
        return 2;
    }
    text = build_batch(100, &len, &nevents);
    printf("batch: 100 items, %zu events, %zu bytes; %d rounds of %d reads "
           "per variant\n", nevents, len, rounds, iterations);
    if (run_new(text, len) != run_old_read(text, len)) {
        fprintf(stderr, "batch-bench: the paths read different events\n");
        return 1;
    }

    for (v = 0; v < NVARIANTS; v++) {
        measure(variants[v].run, text, len, iterations / 10 + 1);  /* warm */
    }
    for (r = 0; r < rounds; r++) {
        for (v = 0; v < NVARIANTS; v++) {
            results[v][r] = measure(variants[v].run, text, len, iterations);
        }
    }
    printf("\n%-40s %12s\n", "median CPU per batch", "us");
    for (v = 0; v < NVARIANTS; v++) {
        med[v] = median(results[v], rounds);
        printf("%-40s %12.1f\n", variants[v].name, med[v]);
    }
    printf("\n%-40s %12s   %s\n", "ratios of medians", "speed-up", "target");
    printf("%-40s %12.1f\n", "old read / new read", med[0] / med[2]);
    printf("%-40s %12.1f\n", "old read + dumps / new read", med[1] / med[2]);
    printf("%-40s %12.1f   <= 500 us: %s\n", "new read, us per batch",
           med[2], med[2] <= 500 ? "met" : "NOT met");
    free(text);
    return 0;
}
