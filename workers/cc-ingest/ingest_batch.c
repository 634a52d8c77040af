/*
 * Reads a telemetry batch in one pass over its text: one PartitionKey of
 * the certificate's tenant, items of Kind Event, Signal or
 * DecisionTransition, and each item's PayloadJson (a string holding JSON)
 * unescaped and scanned in place, its members copied into one arena.
 */

#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cc_identity.h"
#include "cc_jscan.h"
#include "cc_pgtime.h"
#include "ingest_batch.h"


/* The agent's payloads nest four deep; deeper ones are skipped. */
#define INGEST_PAYLOAD_DEPTH   64

/* The most digits, and the largest exponent either way, of a number in a
 * payload: well inside what PostgreSQL 15's numeric (so jsonb) reads
 * (1e131072 or 1e-16384 overflow it, as do numbers of as many digits).  A
 * payload it refused would fail the whole batch, and the agent would
 * resend that batch forever; the agent's own numbers are small. */
#define INGEST_NUMBER_LIMIT    1000

/* Room for a PartitionKey even with every character escaped as \uXXXX. */
#define INGEST_KEY_RAW_MAX     (6 * (2 * CC_UUID_STR_LEN + 1) + 2)


/* What reading one batch needs besides the batch itself. */
typedef struct {
    const char      *text;
    cc_jscan_tok_t  *toks;          /* the batch's tokens */
    char            *payload;       /* one PayloadJson, unescaped */
    cc_jscan_tok_t  *ptoks;         /* its tokens */
    size_t           pcap;
    char            *next;          /* the arena's free strings */
    char            *end;
    size_t           payload_max;   /* raw length of the longest PayloadJson */
    size_t           payload_sum;   /* and of all of them */
} ingest_reader_t;


static ingest_batch_result_t scan_batch(ingest_reader_t *r, size_t len,
                                        const char **why);
static ingest_batch_result_t check_keys(ingest_reader_t *r,
                                        const char *tenant,
                                        ingest_batch_t *b, const char **why);
static ingest_batch_result_t make_arena(ingest_reader_t *r, ingest_batch_t *b,
                                        size_t nitems);
static void read_item(ingest_reader_t *r, size_t item, ingest_batch_t *b);
static int read_event(ingest_reader_t *r, long long item_id,
                      ingest_batch_t *b);
static int read_trace(ingest_reader_t *r, const char *kind,
                      long long item_id, ingest_batch_t *b);
static int scan_payload(ingest_reader_t *r, const cc_jscan_tok_t *tok);
static void reader_free(ingest_reader_t *r);


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
        session[i] = (char) tolower(
                         (unsigned char) key[CC_UUID_STR_LEN + 1 + i]);
    }
    tenant[CC_UUID_STR_LEN] = '\0';
    session[CC_UUID_STR_LEN] = '\0';
    return cc_uuid_valid(tenant) && cc_uuid_valid(session) ? 0 : -1;
}




int
ingest_read_timestamp(const char *s, int64_t *usecs, int *has_offset)
{
    /* 2026-03-17T08:02:11[.fffffff][Z|+hh:mm|-hh:mm], read by the code
     * that converts it for PostgreSQL (cc_pgtime.h), so that what is
     * accepted here is always stored.  PostgreSQL refuses a date-time of
     * more than about 128 characters (a long fraction); the agent writes
     * 28 at most. */
    return s != NULL && strlen(s) <= INGEST_TIMESTAMP_MAX
           && cc_pgtime_from_iso(s, usecs, has_offset) == 0;
}


int
ingest_is_timestamp(const char *s)
{
    int64_t  usecs;
    int      has_offset;

    return ingest_read_timestamp(s, &usecs, &has_offset);
}


/* The token of member name of the object at toks[obj], or NULL. */
static const cc_jscan_tok_t *
member(const char *text, const cc_jscan_tok_t *toks, size_t obj,
       const char *name)
{
    long  i;

    i = cc_jscan_member(text, toks, obj, name);
    return i < 0 ? NULL : &toks[i];
}


static int
is_type(const cc_jscan_tok_t *t, cc_jscan_type_t type)
{
    return t != NULL && t->type == type;
}


/* A member that is an integer in [min, max]; -1 otherwise. */
static int
member_integer(const char *text, const cc_jscan_tok_t *toks, size_t obj,
               const char *name, long long min, long long max,
               long long *out)
{
    const cc_jscan_tok_t  *t;
    long long              v;

    t = member(text, toks, obj, name);
    if (t == NULL || cc_jscan_integer(text, t, &v) != 0 || v < min
        || v > max)
    {
        return -1;
    }
    *out = v;
    return 0;
}


/* Copies n bytes and a NUL into the arena; NULL when it is full (which
 * the arena's sizing rules out). */
static const char *
arena_copy(ingest_reader_t *r, const char *s, size_t n)
{
    char  *out;

    if ((size_t) (r->end - r->next) < n + 1) {
        return NULL;
    }
    out = r->next;
    memcpy(out, s, n);
    out[n] = '\0';
    r->next += n + 1;
    return out;
}


/* The unescaped text of a string token of the payload, in the arena;
 * NULL when t is not a string. */
static const char *
arena_string(ingest_reader_t *r, const cc_jscan_tok_t *t)
{
    char  *out;

    if (!is_type(t, CC_JSCAN_STRING)
        || (size_t) (r->end - r->next) < (size_t) (t->end - t->start - 1))
    {
        return NULL;
    }
    out = r->next;
    r->next += cc_jscan_unescape(r->payload, t, out) + 1;
    return out;
}


/* The payload member name when it is a string, in the arena, or NULL. */
static const char *
payload_string(ingest_reader_t *r, size_t obj, const char *name)
{
    return arena_string(r, member(r->payload, r->ptoks, obj, name));
}


ingest_batch_result_t
ingest_batch_read(const char *text, size_t len, const char *tenant,
                  ingest_batch_t *b, const char **why)
{
    ingest_reader_t        r;
    ingest_batch_result_t  rc;
    size_t                 item, n;

    memset(b, 0, sizeof(*b));
    memset(&r, 0, sizeof(r));
    b->max_item_id = -1;
    r.text = text;

    rc = scan_batch(&r, len, why);
    if (rc == INGEST_BATCH_OK) {
        rc = check_keys(&r, tenant, b, why);
    }
    if (rc == INGEST_BATCH_OK) {
        rc = make_arena(&r, b, r.toks[0].size);
        if (rc != INGEST_BATCH_OK) {
            *why = "out of memory";
        }
    }
    if (rc != INGEST_BATCH_OK) {
        reader_free(&r);
        ingest_batch_free(b);
        b->max_item_id = -1;
        return rc;
    }

    b->received = r.toks[0].size;
    for (n = 0, item = 1; n < b->received; n++, item = r.toks[item].next) {
        read_item(&r, item, b);
    }
    reader_free(&r);
    return INGEST_BATCH_OK;
}


/* Scans the whole batch: a first guess at its token count, then, only
 * when that was short, exactly as many as it holds. */
static ingest_batch_result_t
scan_batch(ingest_reader_t *r, size_t len, const char **why)
{
    cc_jscan_result_t  jr;
    size_t             cap, n;

    cap = len / 16 + 16;
    for ( ;; ) {
        r->toks = malloc(cap * sizeof(*r->toks));
        if (r->toks == NULL) {
            *why = "out of memory";
            return INGEST_BATCH_NO_MEMORY;
        }
        jr = cc_jscan_parse(r->text, len, CC_JSCAN_MAX_DEPTH, r->toks, cap,
                            &n);
        if (jr != CC_JSCAN_NO_ROOM) {
            break;
        }
        free(r->toks);
        r->toks = NULL;
        cap = n;
    }
    if (jr != CC_JSCAN_OK) {
        *why = "the batch is not valid JSON";
        return INGEST_BATCH_BAD_JSON;
    }
    if (r->toks[0].type != CC_JSCAN_ARRAY || r->toks[0].size == 0) {
        *why = "the batch must be a non-empty JSON array";
        return INGEST_BATCH_MALFORMED;
    }
    return INGEST_BATCH_OK;
}


/* The PartitionKey of the item at toks[item], split; -1 when it is not
 * a string of that shape. */
static int
split_item_key(ingest_reader_t *r, size_t item, char *t, char *s)
{
    const cc_jscan_tok_t  *k;
    char                   key[INGEST_KEY_RAW_MAX];

    k = member(r->text, r->toks, item, "PartitionKey");
    if (!is_type(k, CC_JSCAN_STRING) || k->end - k->start > sizeof(key)) {
        return -1;
    }
    cc_jscan_unescape(r->text, k, key);
    return ingest_split_partition_key(key, t, s);
}


/*
 * Checks every item's PartitionKey before anything is read
 * (agent-protocol.md 7, reference order: 4 then 5), and measures the
 * PayloadJson strings the arena will hold.
 */
static ingest_batch_result_t
check_keys(ingest_reader_t *r, const char *tenant, ingest_batch_t *b,
           const char **why)
{
    const cc_jscan_tok_t  *p;
    char                   t[CC_UUID_STR_LEN + 1], s[CC_UUID_STR_LEN + 1];
    size_t                 n, item, raw;

    for (n = 0, item = 1; n < r->toks[0].size; n++, item = r->toks[item].next)
    {
        if (r->toks[item].type != CC_JSCAN_OBJECT) {
            *why = "every item of the batch must be an object";
            return INGEST_BATCH_MALFORMED;
        }
        if (split_item_key(r, item, t, s) != 0) {
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
        p = member(r->text, r->toks, item, "PayloadJson");
        if (is_type(p, CC_JSCAN_STRING)) {
            raw = p->end - p->start;
            r->payload_sum += raw;
            if (raw > r->payload_max) {
                r->payload_max = raw;
            }
        }
    }
    if (strcmp(b->tenant, tenant) != 0) {
        *why = "the batch belongs to another tenant";
        return INGEST_BATCH_OTHER_TENANT;
    }
    return INGEST_BATCH_OK;
}


/*
 * One allocation for everything the batch keeps: its event and trace
 * arrays (each as long as the batch, whatever the mix of Kinds), the
 * scratch one payload is unescaped into, and the strings.  What an item
 * keeps never exceeds twice its PayloadJson's raw length: its strings
 * are disjoint pieces of the unescaped payload (each no longer unescaped,
 * with a NUL where a quote was), plus one copy of Data or of the payload.
 */
static ingest_batch_result_t
make_arena(ingest_reader_t *r, ingest_batch_t *b, size_t nitems)
{
    size_t  arrays, strings;

    arrays = nitems * (sizeof(ingest_event_t) + sizeof(ingest_trace_t));
    strings = 2 * r->payload_sum + 2 * nitems;
    b->arena = malloc(arrays + r->payload_max + 1 + strings);
    if (b->arena == NULL) {
        return INGEST_BATCH_NO_MEMORY;
    }
    b->events = (ingest_event_t *) (void *) b->arena;
    b->trace = (ingest_trace_t *) (void *)
               (b->arena + nitems * sizeof(ingest_event_t));
    r->payload = b->arena + arrays;
    r->next = r->payload + r->payload_max + 1;
    r->end = r->next + strings;

    /* A payload nests at most INGEST_PAYLOAD_DEPTH deep, so a first guess
     * from its length is usually right; scan_payload grows it if not. */
    r->pcap = r->payload_max / 8 + 16;
    r->ptoks = malloc(r->pcap * sizeof(*r->ptoks));
    if (r->ptoks == NULL) {
        free(b->arena);
        b->arena = NULL;
        return INGEST_BATCH_NO_MEMORY;
    }
    return INGEST_BATCH_OK;
}


/* The Kinds kept: an item's Kind as a name with static storage, or NULL. */
static const char *
known_kind(const char *text, const cc_jscan_tok_t *kind)
{
    static const char  *kinds[] = { "Event", "Signal", "DecisionTransition" };
    size_t              i;

    if (kind == NULL) {
        return NULL;
    }
    for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        if (cc_jscan_string_is(text, kind, kinds[i], strlen(kinds[i]))) {
            return kinds[i];
        }
    }
    return NULL;
}


/* Counts one item, and keeps it when it is of a known Kind and reads. */
static void
read_item(ingest_reader_t *r, size_t item, ingest_batch_t *b)
{
    const cc_jscan_tok_t  *payload;
    const char            *kind;
    long long              item_id;
    char                  *mark;
    int                    rc;

    kind = known_kind(r->text, member(r->text, r->toks, item, "Kind"));
    payload = member(r->text, r->toks, item, "PayloadJson");
    if (kind == NULL || !is_type(payload, CC_JSCAN_STRING)
        || scan_payload(r, payload) != 0)
    {
        return;
    }
    if (member_integer(r->text, r->toks, item, "TelemetryItemId",
                       LLONG_MIN, LLONG_MAX, &item_id) != 0)
    {
        item_id = -1;
    }
    mark = r->next;
    rc = kind[0] == 'E' ? read_event(r, item_id, b)
                        : read_trace(r, kind, item_id, b);
    if (rc != 0) {
        r->next = mark;         /* a skipped item keeps nothing */
        return;
    }
    b->accepted++;
    if (item_id > b->max_item_id) {
        b->max_item_id = item_id;
    }
}


/* True when the number token t of the payload is within
 * INGEST_NUMBER_LIMIT, so PostgreSQL's numeric reads it. */
static int
number_fits_postgres(const char *p, const cc_jscan_tok_t *t)
{
    size_t  i, ndigits = 0;
    long    exponent = 0;

    for (i = t->start; i < t->end && p[i] != 'e' && p[i] != 'E'; i++) {
        ndigits += isdigit((unsigned char) p[i]) != 0;
    }
    if (i < t->end) {
        for (i++; i < t->end; i++) {
            if (isdigit((unsigned char) p[i])
                && exponent <= INGEST_NUMBER_LIMIT)
            {
                exponent = exponent * 10 + (p[i] - '0');
            }
        }
    }
    return ndigits <= INGEST_NUMBER_LIMIT && exponent <= INGEST_NUMBER_LIMIT;
}


/*
 * Unescapes the item's PayloadJson into the scratch and scans it: 0 when
 * it is an object PostgreSQL can store, -1 when it is not (the item is
 * skipped).
 */
static int
scan_payload(ingest_reader_t *r, const cc_jscan_tok_t *tok)
{
    cc_jscan_tok_t     *grown;
    cc_jscan_result_t   jr;
    size_t              len, n, i;

    len = cc_jscan_unescape(r->text, tok, r->payload);
    jr = cc_jscan_parse(r->payload, len, INGEST_PAYLOAD_DEPTH, r->ptoks,
                        r->pcap, &n);
    if (jr == CC_JSCAN_NO_ROOM) {
        grown = realloc(r->ptoks, n * sizeof(*r->ptoks));
        if (grown == NULL) {
            return -1;
        }
        r->ptoks = grown;
        r->pcap = n;
        jr = cc_jscan_parse(r->payload, len, INGEST_PAYLOAD_DEPTH, r->ptoks,
                            r->pcap, &n);
    }
    if (jr != CC_JSCAN_OK || r->ptoks[0].type != CC_JSCAN_OBJECT) {
        return -1;
    }
    for (i = 0; i < n; i++) {
        if (r->ptoks[i].type == CC_JSCAN_NUMBER
            && !number_fits_postgres(r->payload, &r->ptoks[i]))
        {
            return -1;
        }
    }
    return 0;
}


/* Data: its JSON text when an object, and its reason when a string. */
static void
read_event_data(ingest_reader_t *r, ingest_event_t *ev)
{
    long                   data;
    const cc_jscan_tok_t  *t;

    data = cc_jscan_member(r->payload, r->ptoks, 0, "Data");
    if (data < 0 || r->ptoks[data].type != CC_JSCAN_OBJECT) {
        return;
    }
    t = &r->ptoks[data];
    ev->data = arena_copy(r, r->payload + t->start, t->end - t->start);
    ev->data_reason = payload_string(r, (size_t) data, "reason");
}


/*
 * An Event (agent-protocol.md 7, "Payload: Event"): -1 unless it has an
 * integer Sequence >= 0, a Timestamp PostgreSQL reads and an EventType.
 */
static int
read_event(ingest_reader_t *r, long long item_id, ingest_batch_t *b)
{
    ingest_event_t  *ev;
    long long        v;

    ev = &b->events[b->nevents];
    memset(ev, 0, sizeof(*ev));
    ev->item_id = item_id;
    if (member_integer(r->payload, r->ptoks, 0, "Sequence", 0, LLONG_MAX,
                       &ev->sequence) != 0)
    {
        return -1;
    }
    ev->event_time = payload_string(r, 0, "Timestamp");
    if (!ingest_read_timestamp(ev->event_time, &ev->time_usecs,
                               &ev->time_has_offset))
    {
        return -1;
    }
    ev->event_type = payload_string(r, 0, "EventType");
    if (ev->event_type == NULL || ev->event_type[0] == '\0') {
        return -1;
    }
    ev->event_id = payload_string(r, 0, "EventId");
    ev->source = payload_string(r, 0, "Source");
    ev->message = payload_string(r, 0, "Message");
    if (member_integer(r->payload, r->ptoks, 0, "Severity", INT_MIN, INT_MAX,
                       &v) == 0)
    {
        ev->severity = (int) v;
        ev->has_severity = 1;
    }
    if (member_integer(r->payload, r->ptoks, 0, "Phase", INT_MIN, INT_MAX,
                       &v) == 0)
    {
        ev->phase = (int) v;
        ev->has_phase = 1;
    }
    read_event_data(r, ev);
    b->nevents++;
    return 0;
}


/*
 * A Signal (keyed by SessionSignalOrdinal) or a DecisionTransition (keyed
 * by StepIndex), kept as the agent sent it: -1 without its ordinal.
 */
static int
read_trace(ingest_reader_t *r, const char *kind, long long item_id,
           ingest_batch_t *b)
{
    ingest_trace_t  *tr;
    const char      *at;

    tr = &b->trace[b->ntrace];
    memset(tr, 0, sizeof(*tr));
    tr->kind = kind;
    tr->item_id = item_id;
    if (member_integer(r->payload, r->ptoks, 0,
                       strcmp(kind, "Signal") == 0 ? "SessionSignalOrdinal"
                                                   : "StepIndex",
                       0, LLONG_MAX, &tr->ordinal) != 0)
    {
        return -1;
    }
    tr->payload = arena_copy(r, r->payload + r->ptoks[0].start,
                             r->ptoks[0].end - r->ptoks[0].start);
    if (tr->payload == NULL) {
        return -1;
    }
    at = payload_string(r, 0, "OccurredAtUtc");
    tr->occurred_at = ingest_read_timestamp(at, &tr->at_usecs,
                                            &tr->at_has_offset) ? at : NULL;
    b->ntrace++;
    return 0;
}


static void
reader_free(ingest_reader_t *r)
{
    free(r->toks);
    free(r->ptoks);
    r->toks = NULL;
    r->ptoks = NULL;
}


void
ingest_batch_free(ingest_batch_t *b)
{
    free(b->arena);
    memset(b, 0, sizeof(*b));
}
