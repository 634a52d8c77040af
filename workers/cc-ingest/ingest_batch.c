/*
 * Reads a telemetry batch: one PartitionKey of the certificate's tenant,
 * items of Kind Event, Signal or DecisionTransition, and each Event's
 * PayloadJson (a string holding JSON) turned into a row to store.
 */

#include <ctype.h>
#include <string.h>

#include "cc_identity.h"
#include "ingest_batch.h"


int
ingest_split_partition_key(const char *key, char *tenant, char *session)
{
    size_t  i;

    if (key == NULL || strlen(key) != 2 * CC_UUID_STR_LEN + 1
        || key[CC_UUID_STR_LEN] != '_')
    {
        return -1;
    }
    for (i = 0; i < CC_UUID_STR_LEN; i++) {
        tenant[i] = (char) tolower((unsigned char) key[i]);
        session[i] = (char) tolower((unsigned char) key[CC_UUID_STR_LEN + 1 + i]);
    }
    tenant[CC_UUID_STR_LEN] = '\0';
    session[CC_UUID_STR_LEN] = '\0';
    return cc_uuid_valid(tenant) && cc_uuid_valid(session) ? 0 : -1;
}


/* n digits at s. */
static int
digits(const char *s, int n)
{
    int  i;

    for (i = 0; i < n; i++) {
        if (!isdigit((unsigned char) s[i])) {
            return 0;
        }
    }
    return 1;
}


/* The value of n digits at s (which digits() has checked). */
static int
number(const char *s, int n)
{
    int  v = 0;

    while (n-- > 0) {
        v = v * 10 + (*s++ - '0');
    }
    return v;
}


/* True when the date and time fields are ones PostgreSQL accepts: a value
 * it refuses would fail the whole batch, and the agent would resend that
 * batch forever. */
static int
fields_in_range(const char *s)
{
    static const int  days[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
                                 30, 31 };
    int               year, month, day, leap;

    year = number(s, 4);
    month = number(s + 5, 2);
    day = number(s + 8, 2);
    if (year < 1 || month < 1 || month > 12 || day < 1
        || day > days[month - 1])
    {
        return 0;
    }
    leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (month == 2 && day == 29 && !leap) {
        return 0;
    }
    return number(s + 11, 2) < 24 && number(s + 14, 2) < 60
           && number(s + 17, 2) < 60;
}


int
ingest_is_timestamp(const char *s)
{
    /* 2026-03-17T08:02:11[.fffffff][Z|+hh:mm|-hh:mm] */
    if (s == NULL || strlen(s) < 19
        || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) || s[7] != '-'
        || !digits(s + 8, 2) || s[10] != 'T' || !digits(s + 11, 2)
        || s[13] != ':' || !digits(s + 14, 2) || s[16] != ':'
        || !digits(s + 17, 2) || !fields_in_range(s))
    {
        return 0;
    }
    s += 19;
    if (*s == '.') {
        s++;
        if (!digits(s, 1)) {
            return 0;
        }
        while (isdigit((unsigned char) *s)) {
            s++;
        }
    }
    if (*s == 'Z') {
        return s[1] == '\0';
    }
    if (*s == '+' || *s == '-') {
        return digits(s + 1, 2) && s[3] == ':' && digits(s + 4, 2)
               && s[6] == '\0' && number(s + 1, 2) <= 15
               && number(s + 4, 2) < 60;
    }
    return *s == '\0';
}


/* A string member, or NULL when absent or not a string. */
static const char *
member_string(json_t *obj, const char *name)
{
    return json_string_value(json_object_get(obj, name));
}


/* Copies member name of from into to when it has the wanted type. */
static void
copy_member(json_t *to, json_t *from, const char *name, const char *as,
            int (*is_type)(const json_t *))
{
    json_t  *v;

    v = json_object_get(from, name);
    if (v != NULL && is_type(v)) {
        json_object_set(to, as, v);
    }
}

static int is_string(const json_t *v) { return json_is_string(v); }
static int is_integer(const json_t *v) { return json_is_integer(v); }
static int is_object(const json_t *v) { return json_is_object(v); }


/*
 * The row for an Event payload, or NULL when the payload does not parse or
 * lacks what identifies it (Sequence, Timestamp, EventType): the protocol
 * skips such items and still acknowledges the rest.
 */
static json_t *
event_row(const char *payload_json, json_int_t item_id)
{
    json_t      *ev, *row, *seq;
    const char  *ts, *type;

    ev = json_loads(payload_json, 0, NULL);
    if (ev == NULL) {
        return NULL;
    }
    seq = json_object_get(ev, "Sequence");
    ts = member_string(ev, "Timestamp");
    type = member_string(ev, "EventType");
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
        copy_member(row, ev, "EventId", "event_id", is_string);
        copy_member(row, ev, "Severity", "severity", is_integer);
        copy_member(row, ev, "Source", "source", is_string);
        copy_member(row, ev, "Phase", "phase", is_integer);
        copy_member(row, ev, "Message", "message", is_string);
        copy_member(row, ev, "Data", "data", is_object);
    }
    json_decref(ev);
    return row;
}


/*
 * The row for a Signal (keyed by SessionSignalOrdinal) or a
 * DecisionTransition (keyed by StepIndex), or NULL when the payload does
 * not parse or lacks its ordinal.
 */
static json_t *
trace_row(const char *kind, const char *payload_json, json_int_t item_id)
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
    at = member_string(p, "OccurredAtUtc");
    if (row != NULL && ingest_is_timestamp(at)) {
        json_object_set_new(row, "occurred_at", json_string(at));
    }
    json_decref(p);
    return row;
}


/* Checks the one PartitionKey of the batch; fills b->tenant/session. */
static ingest_batch_result_t
read_partition_key(json_t *item, const char *tenant, ingest_batch_t *b,
                   const char **why)
{
    char  t[CC_UUID_STR_LEN + 1], s[CC_UUID_STR_LEN + 1];

    if (ingest_split_partition_key(member_string(item, "PartitionKey"),
                                   t, s) != 0)
    {
        *why = "an item's PartitionKey is not {tenantId}_{sessionId}";
        return INGEST_BATCH_MALFORMED;
    }
    if (b->session[0] == '\0') {
        memcpy(b->tenant, t, sizeof(t));
        memcpy(b->session, s, sizeof(s));
    } else if (strcmp(b->tenant, t) != 0 || strcmp(b->session, s) != 0) {
        *why = "a batch holds the items of one session only";
        return INGEST_BATCH_MALFORMED;
    }
    return INGEST_BATCH_OK;
}


/* Counts one item, and makes a row of it when it is an Event. */
static void
read_item(json_t *item, ingest_batch_t *b)
{
    const char  *kind, *payload;
    json_t      *id, *row;
    json_int_t   item_id;

    kind = member_string(item, "Kind");
    payload = member_string(item, "PayloadJson");
    id = json_object_get(item, "TelemetryItemId");
    item_id = json_is_integer(id) ? json_integer_value(id) : -1;
    if (kind == NULL || payload == NULL) {
        return;
    }
    if (strcmp(kind, "Event") == 0) {
        row = event_row(payload, item_id);
        if (row == NULL) {
            return;
        }
        json_array_append_new(b->events, row);
    } else if (strcmp(kind, "Signal") == 0
               || strcmp(kind, "DecisionTransition") == 0)
    {
        row = trace_row(kind, payload, item_id);
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


ingest_batch_result_t
ingest_batch_read(json_t *items, const char *tenant, ingest_batch_t *b,
                  const char **why)
{
    ingest_batch_result_t  rc;
    json_t                *item;
    size_t                 i;

    memset(b, 0, sizeof(*b));
    b->max_item_id = -1;
    if (!json_is_array(items) || json_array_size(items) == 0) {
        *why = "the batch must be a non-empty JSON array";
        return INGEST_BATCH_MALFORMED;
    }

    /* Every key is checked before anything is read (agent-protocol.md 7,
     * reference order: 4 then 5). */
    json_array_foreach(items, i, item) {
        if (!json_is_object(item)) {
            *why = "every item of the batch must be an object";
            return INGEST_BATCH_MALFORMED;
        }
        rc = read_partition_key(item, tenant, b, why);
        if (rc != INGEST_BATCH_OK) {
            return rc;
        }
    }
    if (strcmp(b->tenant, tenant) != 0) {
        *why = "the batch belongs to another tenant";
        return INGEST_BATCH_OTHER_TENANT;
    }

    b->events = json_array();
    b->trace = json_array();
    if (b->events == NULL || b->trace == NULL) {
        ingest_batch_free(b);
        *why = "out of memory";
        return INGEST_BATCH_MALFORMED;
    }
    b->received = json_array_size(items);
    json_array_foreach(items, i, item) {
        read_item(item, b);
    }
    return INGEST_BATCH_OK;
}


void
ingest_batch_free(ingest_batch_t *b)
{
    json_decref(b->events);
    json_decref(b->trace);
    b->events = NULL;
    b->trace = NULL;
}
