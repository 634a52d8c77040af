/*
 * One telemetry batch, one statement: each column of the batch's events
 * and trace becomes an array parameter (unnest() takes them apart in the
 * database), and the whole batch costs one round trip.  The arrays go in
 * PostgreSQL's binary format, so the backend copies integers, strings and
 * timestamps instead of lexing array literals and parsing every date
 * (array_in was ~18% of its CPU in a profile); only jsonb is still parsed
 * there.
 *
 * Timestamps arrive converted by the reader (ingest_read_timestamp, over
 * cc_pgtime.h) to what timestamptz_in would have stored.  A timestamp
 * without an offset is read by PostgreSQL in the session's TimeZone, and
 * there as UTC: when a batch has one and the connection's TimeZone is not
 * UTC, that batch's two timestamp columns go as text literals as before,
 * so the stored value never depends on the path (the agent always sends
 * "Z"; this keeps odd input honest).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cc_log.h"
#include "cc_pgarray.h"
#include "cc_pgarray_bin.h"
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

/* The binary columns of a batch, and whether a timestamp had no offset. */
typedef struct {
    cc_pgarray_bin_t  cols[NCOLS];
    int               local_times;
} store_columns_t;

/* The element type of each column, in the statement's order. */
static const uint32_t  col_types[NCOLS] = {
    CC_PG_INT8_OID, CC_PG_INT8_OID, CC_PG_TEXT_OID, CC_PG_TIMESTAMPTZ_OID,
    CC_PG_TEXT_OID, CC_PG_INT4_OID, CC_PG_TEXT_OID, CC_PG_INT4_OID,
    CC_PG_TEXT_OID, CC_PG_JSONB_OID,
    CC_PG_TEXT_OID, CC_PG_INT8_OID, CC_PG_INT8_OID, CC_PG_TIMESTAMPTZ_OID,
    CC_PG_JSONB_OID
};

/* TimeZone settings that read a time without an offset as UTC. */
static const char  *const utc_zones[] = {
    "UTC", "Etc/UTC", "GMT", "Etc/GMT", "UCT", "Etc/UCT", "Universal",
    "Etc/Universal", "Zulu", "Etc/Zulu", "GMT0", "Etc/GMT0", "Greenwich",
    "Etc/Greenwich", NULL
};


int
ingest_store_prepare(cc_db_pool_t *pool)
{
    return cc_db_pool_prepare(pool, INGEST_STORE_STMT, store_sql);
}


static void
add_int8_or_null(cc_pgarray_bin_t *a, int present, long long v)
{
    if (present) {
        cc_pgarray_bin_add_int8(a, v);
    } else {
        cc_pgarray_bin_add_null(a);
    }
}


static void
add_int4_or_null(cc_pgarray_bin_t *a, int present, int v)
{
    if (present) {
        cc_pgarray_bin_add_int4(a, v);
    } else {
        cc_pgarray_bin_add_null(a);
    }
}


/*
 * Adds a timestamp the reader has converted (present, with its value in
 * microseconds), or NULL.  One without an offset marks the batch: its
 * value here is UTC, PostgreSQL's the session's TimeZone.
 */
static void
add_time(store_columns_t *sc, int col, int present, int64_t usecs,
         int has_offset)
{
    if (!present) {
        cc_pgarray_bin_add_null(&sc->cols[col]);
        return;
    }
    if (!has_offset) {
        sc->local_times = 1;
    }
    cc_pgarray_bin_add_timestamptz(&sc->cols[col], usecs);
}


static void
add_event(store_columns_t *sc, const ingest_event_t *ev)
{
    cc_pgarray_bin_t  *cols = sc->cols;

    cc_pgarray_bin_add_int8(&cols[COL_SEQ], ev->sequence);
    add_int8_or_null(&cols[COL_ITEM], ev->item_id >= 0, ev->item_id);
    cc_pgarray_bin_add_text(&cols[COL_EVENT_ID], ev->event_id);
    cc_pgarray_bin_add_text(&cols[COL_TYPE], ev->event_type);
    add_int4_or_null(&cols[COL_SEVERITY], ev->has_severity, ev->severity);
    cc_pgarray_bin_add_text(&cols[COL_SOURCE], ev->source);
    add_int4_or_null(&cols[COL_PHASE], ev->has_phase, ev->phase);
    cc_pgarray_bin_add_text(&cols[COL_MESSAGE], ev->message);
    cc_pgarray_bin_add_jsonb(&cols[COL_DATA], ev->data);
    add_time(sc, COL_TIME, 1, ev->time_usecs, ev->time_has_offset);
}


static void
add_trace(store_columns_t *sc, const ingest_trace_t *tr)
{
    cc_pgarray_bin_t  *cols = sc->cols;

    cc_pgarray_bin_add_text(&cols[COL_TKIND], tr->kind);
    cc_pgarray_bin_add_int8(&cols[COL_TORDINAL], tr->ordinal);
    add_int8_or_null(&cols[COL_TITEM], tr->item_id >= 0, tr->item_id);
    cc_pgarray_bin_add_jsonb(&cols[COL_TPAYLOAD], tr->payload);
    add_time(sc, COL_TAT, tr->occurred_at != NULL, tr->at_usecs,
             tr->at_has_offset);
}


/*
 * The first Sequence of the batch's events when they strictly ascend, as
 * the agent numbers them; -1 otherwise (a Sequence repeated or out of
 * order in the batch), and then the database checks every event against
 * the others and those it has.
 */
static long long
first_sequence_of(const ingest_batch_t *b)
{
    size_t  i;

    if (b->nevents == 0) {
        return -1;
    }
    for (i = 1; i < b->nevents; i++) {
        if (b->events[i].sequence <= b->events[i - 1].sequence) {
            return -1;
        }
    }
    return b->events[0].sequence;
}


/*
 * Fills the binary columns from b and points values and lengths at them;
 * 0, or -1 when memory ran out.
 */
static int
build_columns(store_columns_t *sc, const ingest_batch_t *b,
              const char **values, int *lengths)
{
    size_t  i, hint;

    for (i = 0; i < NCOLS; i++) {
        /* Text columns of 100 events take a few kB; Data most of all. */
        hint = (i == COL_DATA || i == COL_TPAYLOAD || i == COL_MESSAGE)
               ? 8192 : 1024;
        cc_pgarray_bin_init(&sc->cols[i], col_types[i], hint);
    }
    for (i = 0; i < b->nevents; i++) {
        add_event(sc, &b->events[i]);
    }
    for (i = 0; i < b->ntrace; i++) {
        add_trace(sc, &b->trace[i]);
    }
    for (i = 0; i < NCOLS; i++) {
        values[i] = cc_pgarray_bin_finish(&sc->cols[i], &lengths[i]);
        if (values[i] == NULL) {
            return -1;
        }
    }
    return 0;
}


static void
free_columns(store_columns_t *sc)
{
    size_t  i;

    for (i = 0; i < NCOLS; i++) {
        cc_pgarray_bin_free(&sc->cols[i]);
    }
}


/* True when conn reads a time without an offset as UTC. */
static int
session_in_utc(PGconn *conn)
{
    const char  *zone;
    size_t       i;

    zone = PQparameterStatus(conn, "TimeZone");
    for (i = 0; zone != NULL && utc_zones[i] != NULL; i++) {
        if (strcmp(zone, utc_zones[i]) == 0) {
            return 1;
        }
    }
    return 0;
}


/*
 * The two timestamp columns as text literals, replacing their binary
 * parameters, for a session whose TimeZone PostgreSQL must apply itself.
 * 0, or -1 when memory ran out.
 */
static int
use_text_times(cc_pgarray_t *text, const ingest_batch_t *b,
               const char **values, int *formats)
{
    size_t  i;

    cc_pgarray_init(&text[0], 32 * b->nevents);
    cc_pgarray_init(&text[1], 32 * b->ntrace);
    for (i = 0; i < b->nevents; i++) {
        cc_pgarray_add_text(&text[0], b->events[i].event_time);
    }
    for (i = 0; i < b->ntrace; i++) {
        cc_pgarray_add_text(&text[1], b->trace[i].occurred_at);
    }
    values[8 + COL_TIME] = cc_pgarray_finish(&text[0]);
    values[8 + COL_TAT] = cc_pgarray_finish(&text[1]);
    formats[8 + COL_TIME] = 0;
    formats[8 + COL_TAT] = 0;
    return values[8 + COL_TIME] != NULL && values[8 + COL_TAT] != NULL
           ? 0 : -1;
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
run_statement(cc_db_pool_t *pool, const ingest_batch_t *b, int local_times,
              const char **params, const int *lengths, int *formats,
              ingest_state_change_t *change)
{
    PGconn                 *conn;
    PGresult               *res;
    cc_pgarray_t            text[2];
    ingest_store_result_t   rc;

    conn = cc_db_acquire(pool, CC_DB_ACQUIRE_MS);
    if (conn == NULL) {
        return INGEST_STORE_FAILED;
    }
    memset(text, 0, sizeof(text));
    rc = INGEST_STORE_FAILED;
    if (!local_times || session_in_utc(conn)
        || use_text_times(text, b, params, formats) == 0)
    {
        res = cc_db_query_prepared_formats(conn, INGEST_STORE_STMT,
                                           STORE_NPARAMS, params, lengths,
                                           formats);
        rc = read_outcome(res, change);
        PQclear(res);
    }
    cc_db_release(pool, conn);
    cc_pgarray_free(&text[0]);
    cc_pgarray_free(&text[1]);
    return rc;
}


ingest_store_result_t
ingest_store_batch(cc_db_pool_t *pool, const char *tenant,
                   const ingest_device_facts_t *dev, const ingest_batch_t *b,
                   ingest_state_change_t *change)
{
    store_columns_t         sc;
    const char             *params[STORE_NPARAMS];
    int                     lengths[STORE_NPARAMS];
    int                     formats[STORE_NPARAMS];
    char                    first_seq[24], max_item[24], *summary;
    long long               first;
    ingest_store_result_t   rc;
    size_t                  i;

    memset(change, 0, sizeof(*change));
    memset(&sc, 0, sizeof(sc));
    memset(lengths, 0, sizeof(lengths));
    for (i = 0; i < STORE_NPARAMS; i++) {
        formats[i] = i >= 8 && i < 8 + NCOLS;
    }
    summary = ingest_state_summary(b->events, b->nevents);
    if (summary == NULL
        || build_columns(&sc, b, &params[8], &lengths[8]) != 0)
    {
        rc = INGEST_STORE_FAILED;
        goto done;
    }
    first = first_sequence_of(b);
    snprintf(first_seq, sizeof(first_seq), "%lld", first);
    snprintf(max_item, sizeof(max_item), "%lld", b->max_item_id);

    params[0] = tenant;
    params[1] = dev->device;
    params[2] = text_or_empty(dev->manufacturer);
    params[3] = text_or_empty(dev->model);
    params[4] = text_or_empty(dev->serial);
    params[5] = b->session;
    params[6] = first >= 0 ? first_seq : NULL;
    params[7] = max_item;
    params[8 + NCOLS] = summary;
    rc = run_statement(pool, b, sc.local_times, params, lengths, formats,
                       change);

done:
    free_columns(&sc);
    free(summary);
    return rc;
}
