/*
 * libFuzzer target for reading a telemetry batch (workers/cc-ingest/
 * ingest_batch.c), which every agent upload goes through.  Input: the
 * batch text, read for a fixed tenant.  Beyond not crashing: a refusal
 * leaves nothing allocated, and an accepted batch's rows keep the
 * promises of ingest_batch.h (counts, timestamps, JSON text that scans,
 * every string inside the arena).
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cc_jscan.h"
#include "cc_pgtime.h"
#include "ingest_batch.h"

#define FUZZ_TENANT  "11111111-1111-4111-8111-111111111111"


/* Aborts unless s is NULL or a NUL-terminated string inside the arena. */
static void
check_string(const ingest_batch_t *b, const char *s, size_t arena_end)
{
    if (s != NULL && (s < b->arena || (size_t) (s - b->arena) >= arena_end
                      || strlen(s) >= arena_end - (size_t) (s - b->arena)))
    {
        abort();
    }
}


/* Aborts unless text is one JSON object that the scanner accepts (with
 * no room for tokens, a valid text gives NO_ROOM). */
static void
check_object(const char *text)
{
    size_t  n;

    if (text != NULL
        && (text[0] != '{'
            || cc_jscan_parse(text, strlen(text), 64, NULL, 0, &n)
               != CC_JSCAN_NO_ROOM))
    {
        abort();
    }
}


/* The value kept beside a date-time is the one it converts to. */
static void
check_time(const char *s, int64_t usecs, int has_offset)
{
    int64_t  again;
    int      offset;

    if (cc_pgtime_from_iso(s, &again, &offset) != 0 || again != usecs
        || offset != has_offset)
    {
        abort();
    }
}


static void
check_batch(const ingest_batch_t *b, size_t len)
{
    const ingest_event_t  *ev;
    const ingest_trace_t  *tr;
    size_t                 i, end;

    /* The arena is never larger than this (see make_arena). */
    end = b->received * (sizeof(ingest_event_t) + sizeof(ingest_trace_t))
          + 3 * len + 2 * b->received + 1;
    if (b->nevents + b->ntrace != b->accepted || b->accepted > b->received
        || b->received == 0 || b->arena == NULL)
    {
        abort();
    }
    for (i = 0; i < b->nevents; i++) {
        ev = &b->events[i];
        if (ev->sequence < 0 || !ingest_is_timestamp(ev->event_time)
            || ev->event_type == NULL || ev->event_type[0] == '\0'
            || ev->item_id > b->max_item_id
            || (ev->data == NULL && ev->data_reason != NULL))
        {
            abort();
        }
        check_time(ev->event_time, ev->time_usecs, ev->time_has_offset);
        check_string(b, ev->event_time, end);
        check_string(b, ev->event_type, end);
        check_string(b, ev->event_id, end);
        check_string(b, ev->source, end);
        check_string(b, ev->message, end);
        check_string(b, ev->data, end);
        check_string(b, ev->data_reason, end);
        check_object(ev->data);
    }
    for (i = 0; i < b->ntrace; i++) {
        tr = &b->trace[i];
        if (tr->ordinal < 0 || tr->payload == NULL
            || tr->item_id > b->max_item_id
            || (tr->occurred_at != NULL
                && !ingest_is_timestamp(tr->occurred_at))
            || (strcmp(tr->kind, "Signal") != 0
                && strcmp(tr->kind, "DecisionTransition") != 0))
        {
            abort();
        }
        if (tr->occurred_at != NULL) {
            check_time(tr->occurred_at, tr->at_usecs, tr->at_has_offset);
        }
        check_string(b, tr->occurred_at, end);
        check_string(b, tr->payload, end);
        check_object(tr->payload);
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ingest_batch_t          b;
    ingest_batch_result_t   rc;
    const char             *why = NULL;
    char                   *text;

    /* A copy of exactly size bytes, so reading past it is caught. */
    text = malloc(size ? size : 1);
    if (text == NULL) {
        return 0;
    }
    memcpy(text, data, size);

    rc = ingest_batch_read(text, size, FUZZ_TENANT, &b, &why);
    if (rc == INGEST_BATCH_OK) {
        check_batch(&b, size);
        ingest_batch_free(&b);
    } else if (b.arena != NULL || b.events != NULL || b.trace != NULL
               || why == NULL)
    {
        abort();
    }
    free(text);
    return 0;
}
