/*
 * One telemetry batch, one statement: each column of the batch's events
 * and trace becomes an array literal (unnest() takes them apart in the
 * database), so PostgreSQL reads every value once with its own input
 * function, and the whole batch costs one round trip.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cc_log.h"
#include "cc_pgarray.h"
#include "ingest_store.h"

static const char  store_sql[] =
    "SELECT outcome, old_status, status, phase, reason, events,"
    "       last_event_type "
    "  FROM cc_ingest_batch($1::uuid, $2::uuid, $3, $4, $5, $6::uuid,"
    "                       $7::bigint, $8::bigint, $9, $10, $11, $12,"
    "                       $13, $14, $15, $16, $17, $18, $19, $20, $21,"
    "                       $22, $23, $24::jsonb)";

/* The array parameters, in the statement's order ($9..$23). */
enum {
    COL_SEQ, COL_ITEM, COL_EVENT_ID, COL_TIME, COL_TYPE, COL_SEVERITY,
    COL_SOURCE, COL_PHASE, COL_MESSAGE, COL_DATA,
    COL_TKIND, COL_TORDINAL, COL_TITEM, COL_TAT, COL_TPAYLOAD,
    NCOLS
};

#define STORE_NPARAMS  (8 + NCOLS + 1)


int
ingest_store_prepare(cc_db_pool_t *pool)
{
    return cc_db_pool_prepare(pool, INGEST_STORE_STMT, store_sql);
}


static void
add_int_or_null(cc_pgarray_t *a, int present, long long v)
{
    if (present) {
        cc_pgarray_add_int(a, v);
    } else {
        cc_pgarray_add_null(a);
    }
}


static void
add_event(cc_pgarray_t *cols, const ingest_event_t *ev)
{
    cc_pgarray_add_int(&cols[COL_SEQ], ev->sequence);
    add_int_or_null(&cols[COL_ITEM], ev->item_id >= 0, ev->item_id);
    cc_pgarray_add_text(&cols[COL_EVENT_ID], ev->event_id);
    cc_pgarray_add_text(&cols[COL_TIME], ev->event_time);
    cc_pgarray_add_text(&cols[COL_TYPE], ev->event_type);
    add_int_or_null(&cols[COL_SEVERITY], ev->has_severity, ev->severity);
    cc_pgarray_add_text(&cols[COL_SOURCE], ev->source);
    add_int_or_null(&cols[COL_PHASE], ev->has_phase, ev->phase);
    cc_pgarray_add_text(&cols[COL_MESSAGE], ev->message);
    cc_pgarray_add_text(&cols[COL_DATA], ev->data);
}


static void
add_trace(cc_pgarray_t *cols, const ingest_trace_t *tr)
{
    cc_pgarray_add_text(&cols[COL_TKIND], tr->kind);
    cc_pgarray_add_int(&cols[COL_TORDINAL], tr->ordinal);
    add_int_or_null(&cols[COL_TITEM], tr->item_id >= 0, tr->item_id);
    cc_pgarray_add_text(&cols[COL_TAT], tr->occurred_at);
    cc_pgarray_add_text(&cols[COL_TPAYLOAD], tr->payload);
}


/*
 * The lowest TelemetryItemId of the batch's rows, or -1 when a row has
 * none: the database then checks every event against those it has.
 */
static long long
first_item_of(const ingest_batch_t *b)
{
    long long  first = -1;
    size_t     i;

    for (i = 0; i < b->nevents; i++) {
        if (b->events[i].item_id < 0) {
            return -1;
        }
        if (first < 0 || b->events[i].item_id < first) {
            first = b->events[i].item_id;
        }
    }
    for (i = 0; i < b->ntrace; i++) {
        if (b->trace[i].item_id < 0) {
            return -1;
        }
        if (first < 0 || b->trace[i].item_id < first) {
            first = b->trace[i].item_id;
        }
    }
    return first;
}


/* Fills cols from b; 0, or -1 when memory ran out. */
static int
build_columns(cc_pgarray_t *cols, const ingest_batch_t *b)
{
    size_t  i, hint;

    for (i = 0; i < NCOLS; i++) {
        /* Text columns of 100 events take a few kB; Data most of all. */
        hint = (i == COL_DATA || i == COL_TPAYLOAD || i == COL_MESSAGE)
               ? 8192 : 1024;
        cc_pgarray_init(&cols[i], hint);
    }
    for (i = 0; i < b->nevents; i++) {
        add_event(cols, &b->events[i]);
    }
    for (i = 0; i < b->ntrace; i++) {
        add_trace(cols, &b->trace[i]);
    }
    for (i = 0; i < NCOLS; i++) {
        if (cc_pgarray_finish(&cols[i]) == NULL) {
            return -1;
        }
    }
    return 0;
}


static void
copy_value(char *dst, size_t len, const PGresult *res, int col)
{
    snprintf(dst, len, "%s", PQgetisnull(res, 0, col) ? ""
                                                     : PQgetvalue(res, 0, col));
}


static ingest_store_result_t
read_outcome(const PGresult *res, ingest_state_change_t *change)
{
    if (!cc_db_result_ok(res) || PQntuples(res) != 1) {
        return INGEST_STORE_FAILED;
    }
    if (strcmp(PQgetvalue(res, 0, 0), "other_device") == 0) {
        return INGEST_STORE_OTHER_DEVICE;
    }
    copy_value(change->old_status, sizeof(change->old_status), res, 1);
    copy_value(change->status, sizeof(change->status), res, 2);
    change->phase = PQgetisnull(res, 0, 3) ? -1 : atoi(PQgetvalue(res, 0, 3));
    copy_value(change->reason, sizeof(change->reason), res, 4);
    change->events = PQgetisnull(res, 0, 5) ? 0 : atoi(PQgetvalue(res, 0, 5));
    copy_value(change->last_event_type, sizeof(change->last_event_type),
               res, 6);
    return INGEST_STORE_OK;
}


static const char *
text_or_empty(const char *s)
{
    return s != NULL ? s : "";
}


static ingest_store_result_t
run_statement(cc_db_pool_t *pool, const char *const *params,
              ingest_state_change_t *change)
{
    PGconn                 *conn;
    PGresult               *res;
    ingest_store_result_t   rc;

    conn = cc_db_acquire(pool, CC_DB_ACQUIRE_MS);
    if (conn == NULL) {
        return INGEST_STORE_FAILED;
    }
    res = cc_db_query_prepared(conn, INGEST_STORE_STMT, STORE_NPARAMS,
                               params);
    rc = read_outcome(res, change);
    PQclear(res);
    cc_db_release(pool, conn);
    return rc;
}


ingest_store_result_t
ingest_store_batch(cc_db_pool_t *pool, const char *tenant,
                   const ingest_device_facts_t *dev, const ingest_batch_t *b,
                   ingest_state_change_t *change)
{
    cc_pgarray_t            cols[NCOLS];
    const char             *params[STORE_NPARAMS];
    char                    first_item[24], max_item[24], *summary;
    long long               first;
    ingest_store_result_t   rc;
    size_t                  i;

    memset(change, 0, sizeof(*change));
    memset(cols, 0, sizeof(cols));
    summary = ingest_state_summary(b->events, b->nevents);
    if (summary == NULL || build_columns(cols, b) != 0) {
        rc = INGEST_STORE_FAILED;
        goto done;
    }
    first = first_item_of(b);
    snprintf(first_item, sizeof(first_item), "%lld", first);
    snprintf(max_item, sizeof(max_item), "%lld", b->max_item_id);

    params[0] = tenant;
    params[1] = dev->device;
    params[2] = text_or_empty(dev->manufacturer);
    params[3] = text_or_empty(dev->model);
    params[4] = text_or_empty(dev->serial);
    params[5] = b->session;
    params[6] = first >= 0 ? first_item : NULL;
    params[7] = max_item;
    for (i = 0; i < NCOLS; i++) {
        params[8 + i] = cols[i].buf;
    }
    params[8 + NCOLS] = summary;
    rc = run_statement(pool, params, change);

done:
    for (i = 0; i < NCOLS; i++) {
        cc_pgarray_free(&cols[i]);
    }
    free(summary);
    return rc;
}
