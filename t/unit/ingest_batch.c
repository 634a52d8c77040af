/*
 * The pure parts of cc-ingest's agent endpoints: inflating gzip bodies under
 * a hard limit, and reading a telemetry batch (PartitionKey, tenant, Kinds,
 * Event payloads, escapes, limits).
 */

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "tap.h"

/* The Makefile links unit tests against lib/ and workers/common only, so
 * the cc-ingest sources under test are compiled in here. */
#include "../../workers/cc-ingest/ingest_gzip.c"
#include "../../workers/cc-ingest/ingest_batch.c"

#define TENANT   "11111111-1111-4111-8111-111111111111"
#define OTHER    "22222222-2222-4222-8222-222222222222"
#define SESSION  "3c4d5e6f-7081-4293-a4b5-c6d7e8f90a1b"


/* gzip of len bytes of data into a malloc'd buffer. */
static unsigned char *
gzip_bytes(const void *data, size_t len, size_t *out_len)
{
    z_stream        zs;
    unsigned char  *out;
    size_t          cap;

    cap = compressBound(len) + 64;
    out = malloc(cap);
    memset(&zs, 0, sizeof(zs));
    deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
    zs.next_in = (Bytef *) data;
    zs.avail_in = (uInt) len;
    zs.next_out = out;
    zs.avail_out = (uInt) cap;
    deflate(&zs, Z_FINISH);
    *out_len = cap - zs.avail_out;
    deflateEnd(&zs);
    return out;
}


static void
test_gunzip(void)
{
    unsigned char  *gz;
    char           *out, *big;
    size_t          gz_len, out_len;
    const char     *text = "[{\"Kind\":\"Event\"}]";

    gz = gzip_bytes(text, strlen(text), &gz_len);
    is_int(ingest_gunzip(gz, gz_len, 1024, &out, &out_len), INGEST_GZIP_OK,
           "a gzip body inflates");
    is_str(out, text, "to the bytes that were compressed");
    is_int((long long) out_len, (long long) strlen(text), "with its length");
    free(out);

    is_int(ingest_gunzip(gz, gz_len, strlen(text), &out, &out_len),
           INGEST_GZIP_OK, "a body of exactly the limit is accepted");
    free(out);
    is_int(ingest_gunzip(gz, gz_len, strlen(text) - 1, &out, &out_len),
           INGEST_GZIP_TOO_LARGE, "one byte over the limit is refused");
    ok(out == NULL, "and nothing is returned");

    is_int(ingest_gunzip(gz, gz_len - 5, 1024, &out, &out_len),
           INGEST_GZIP_BAD, "a truncated stream is bad");
    is_int(ingest_gunzip(text, strlen(text), 1024, &out, &out_len),
           INGEST_GZIP_BAD, "plain JSON is not gzip");
    is_int(ingest_gunzip(gz, 0, 1024, &out, &out_len), INGEST_GZIP_BAD,
           "an empty body is bad");
    gz[gz_len / 2] ^= 0x55;
    is_int(ingest_gunzip(gz, gz_len, 1024, &out, &out_len), INGEST_GZIP_BAD,
           "a corrupted stream is bad");
    free(gz);

    /* A bomb: 64 MiB of zeros compress to ~64 KiB. */
    big = calloc(64 * 1024 * 1024, 1);
    gz = gzip_bytes(big, 64 * 1024 * 1024, &gz_len);
    free(big);
    ok(gz_len < 1024 * 1024, "the bomb is small on the wire (%zu bytes)",
       gz_len);
    is_int(ingest_gunzip(gz, gz_len, INGEST_MAX_INFLATED, &out, &out_len),
           INGEST_GZIP_TOO_LARGE, "and is refused at the 5 MiB limit");
    free(gz);
}


static void
test_partition_key(void)
{
    char  t[CC_UUID_STR_LEN + 1], s[CC_UUID_STR_LEN + 1];

    is_int(ingest_split_partition_key(TENANT "_" SESSION, t, s), 0,
           "a PartitionKey splits");
    is_str(t, TENANT, "into the tenant");
    is_str(s, SESSION, "and the session");
    is_int(ingest_split_partition_key(
               "11111111-1111-4111-8111-11111111111A_" SESSION, t, s), 0,
           "upper case is accepted");
    is_str(t, "11111111-1111-4111-8111-11111111111a", "and lowered");
    is_int(ingest_split_partition_key(TENANT "-" SESSION, t, s), -1,
           "another separator is refused");
    is_int(ingest_split_partition_key(TENANT "_", t, s), -1,
           "a key without a session is refused");
    is_int(ingest_split_partition_key(NULL, t, s), -1,
           "a missing key is refused");
}


static void
test_timestamps(void)
{
    ok(ingest_is_timestamp("2026-03-17T08:02:11.2987412Z"),
       "seven fractional digits and Z");
    ok(ingest_is_timestamp("2026-03-17T08:02:11Z"), "no fraction");
    ok(ingest_is_timestamp("2026-03-17T08:02:11+01:00"), "an offset");
    ok(!ingest_is_timestamp("2026-03-17 08:02:11Z"), "a space is refused");
    ok(!ingest_is_timestamp("2026-03-17T08:02:11.Z"), "an empty fraction");
    {
        char  ts[INGEST_TIMESTAMP_MAX + 2];

        memcpy(ts, "2026-03-17T08:02:11.", 20);
        memset(ts + 20, '1', sizeof(ts) - 20);
        ts[INGEST_TIMESTAMP_MAX - 1] = 'Z';
        ts[INGEST_TIMESTAMP_MAX] = '\0';
        ok(ingest_is_timestamp(ts), "a fraction filling the longest "
           "accepted date-time");
        ts[INGEST_TIMESTAMP_MAX] = 'Z';
        ts[INGEST_TIMESTAMP_MAX - 1] = '1';
        ts[INGEST_TIMESTAMP_MAX + 1] = '\0';
        ok(!ingest_is_timestamp(ts), "a date-time one character longer is "
           "refused (PostgreSQL refuses long ones)");
    }
    ok(!ingest_is_timestamp("2026-03-17T08:02:11Zjunk"), "trailing bytes");
    ok(!ingest_is_timestamp("yesterday"), "words");
    ok(ingest_is_timestamp("2028-02-29T00:00:00Z"), "a leap day");
    ok(!ingest_is_timestamp("2026-02-29T00:00:00Z"),
       "February 29 of a common year is refused");
    ok(!ingest_is_timestamp("2026-04-31T00:00:00Z"), "April 31 is refused");
    ok(!ingest_is_timestamp("2026-13-01T00:00:00Z"), "month 13 is refused");
    ok(!ingest_is_timestamp("0000-01-01T00:00:00Z"), "year 0 is refused");
    ok(!ingest_is_timestamp("2026-01-01T24:00:00Z"), "hour 24 is refused");
    ok(!ingest_is_timestamp("2026-01-01T00:00:00+16:00"),
       "an offset PostgreSQL refuses is refused");
    ok(!ingest_is_timestamp(NULL), "nothing");
}


/* The batch under construction: a JSON array of TelemetryItem text. */
static char    batch[256 * 1024];
static size_t  batch_len;


static void
append(const char *s, size_t n)
{
    if (batch_len + n >= sizeof(batch)) {
        diag("test batch too large");
        abort();
    }
    memcpy(batch + batch_len, s, n);
    batch_len += n;
    batch[batch_len] = '\0';
}


static void
append_str(const char *s)
{
    append(s, strlen(s));
}


/* Appends s as a JSON string, escaping what JSON requires. */
static void
append_json_string(const char *s)
{
    char  esc[8];

    append_str("\"");
    for ( ; *s != '\0'; s++) {
        if (*s == '"' || *s == '\\') {
            esc[0] = '\\';
            esc[1] = *s;
            append(esc, 2);
        } else if ((unsigned char) *s < 0x20) {
            snprintf(esc, sizeof(esc), "\\u%04x", (unsigned char) *s);
            append_str(esc);
        } else {
            append(s, 1);
        }
    }
    append_str("\"");
}


static void
begin_batch(void)
{
    batch_len = 0;
    append_str("[");
}


/* An item; id is the TelemetryItemId's JSON text, or NULL for none. */
static void
add_item(const char *kind, const char *pk, const char *id,
         const char *payload)
{
    if (batch[batch_len - 1] != '[') {
        append_str(",");
    }
    append_str("{\"Kind\":");
    append_json_string(kind);
    append_str(",\"PartitionKey\":");
    append_json_string(pk);
    if (id != NULL) {
        append_str(",\"TelemetryItemId\":");
        append_str(id);
    }
    append_str(",\"PayloadJson\":");
    append_json_string(payload);
    append_str(",\"RequiresImmediateFlush\":false}");
}


static ingest_batch_result_t
end_and_read(ingest_batch_t *b)
{
    const char  *why;

    append_str("]");
    return ingest_batch_read(batch, batch_len, TENANT, b, &why);
}


/* A batch of one Event item whose payload is payload. */
static ingest_batch_result_t
read_one_event(const char *payload, ingest_batch_t *b)
{
    begin_batch();
    add_item("Event", TENANT "_" SESSION, "7", payload);
    return end_and_read(b);
}


/* A text that is refused, whatever the tenant; b must hold nothing. */
static void
refused_as(const char *text, ingest_batch_result_t want, const char *what)
{
    ingest_batch_t  b;
    const char     *why = NULL;

    memset(&b, 0x5a, sizeof(b));
    is_int(ingest_batch_read(text, strlen(text), TENANT, &b, &why), want,
           "%s", what);
    ok(b.arena == NULL && b.events == NULL && why != NULL,
       "  and leaves nothing allocated, with a reason");
}

#define PK  TENANT "_" SESSION

#define EVENT(seq) \
    "{\"EventId\":\"e" #seq "\",\"Timestamp\":\"2026-11-23T10:00:00.1234567Z\"," \
    "\"EventType\":\"agent_started\",\"Severity\":1,\"Phase\":-1," \
    "\"Message\":\"m\",\"Data\":{\"k\":\"v\"},\"Sequence\":" #seq "}"

#define EVENT_WITH(members) \
    "{\"Timestamp\":\"2026-11-23T10:00:00Z\",\"EventType\":\"x\"," \
    "\"Sequence\":1," members "}"


static void
test_batch(void)
{
    ingest_batch_t   b;
    ingest_event_t  *ev;
    const char      *why;

    begin_batch();
    add_item("Event", PK, "0", EVENT(1));
    add_item("Signal", PK, "1",
             "{\"SessionSignalOrdinal\":0,"
             "\"OccurredAtUtc\":\"2026-11-23T10:00:01Z\"}");
    add_item("DecisionTransition", PK, "2", "{\"StepIndex\":1}");
    add_item("Event", PK, "3", EVENT(2));
    add_item("Mystery", PK, "4", "{}");
    add_item("Event", PK, "5", "{not json");
    is_int(end_and_read(&b), INGEST_BATCH_OK,
           "a batch of one session of our tenant is read");
    is_str(b.tenant, TENANT, "its tenant comes from the PartitionKey");
    is_str(b.session, SESSION, "and its session");
    is_int((long long) b.received, 6, "every item is counted as received");
    is_int((long long) b.accepted, 4,
           "unknown Kinds and unparsable payloads are skipped, not refused");
    is_int((long long) b.nevents, 2, "two events to store");
    is_int(b.max_item_id, 3, "the watermark is the highest accepted item");
    is_int((long long) b.ntrace, 2,
           "a Signal and a DecisionTransition to keep");
    is_str(b.trace[0].kind, "Signal", "a trace row carries its Kind");
    is_int(b.trace[0].ordinal, 0, "a Signal its SessionSignalOrdinal");
    is_int(b.trace[0].item_id, 1, "and its TelemetryItemId");
    is_str(b.trace[0].occurred_at, "2026-11-23T10:00:01Z",
           "and its OccurredAtUtc");
    is_str(b.trace[0].payload, "{\"SessionSignalOrdinal\":0,"
           "\"OccurredAtUtc\":\"2026-11-23T10:00:01Z\"}",
           "and the payload's JSON text");
    is_str(b.trace[1].kind, "DecisionTransition", "a Transition too");
    is_int(b.trace[1].ordinal, 1, "with the StepIndex as its ordinal");
    ok(b.trace[1].occurred_at == NULL, "no OccurredAtUtc: NULL");
    ev = &b.events[1];
    is_int(ev->sequence, 2, "an event row carries its Sequence");
    is_int(ev->item_id, 3, "its TelemetryItemId");
    is_str(ev->event_type, "agent_started", "its EventType");
    is_str(ev->event_time, "2026-11-23T10:00:00.1234567Z", "its Timestamp");
    is_str(ev->event_id, "e2", "its EventId");
    is_str(ev->message, "m", "its Message");
    ok(ev->source == NULL, "no Source: NULL");
    ok(ev->has_severity && ev->severity == 1, "its Severity");
    ok(ev->has_phase && ev->phase == -1, "its Phase");
    is_str(ev->data, "{\"k\":\"v\"}", "its Data object's JSON text");
    ok(ev->data_reason == NULL, "no Data.reason: NULL");
    is_int(b.events[0].sequence, 1, "events keep the batch's order");
    ingest_batch_free(&b);
    ok(b.arena == NULL && b.events == NULL, "ingest_batch_free empties b");

    is_int(ingest_batch_read(batch, batch_len, OTHER, &b, &why),
           INGEST_BATCH_OTHER_TENANT,
           "a batch whose key names another tenant is refused as such");
    ok(b.arena == NULL, "  and leaves nothing allocated");

    /* The text need not be NUL-terminated: only len bytes are read. */
    batch[batch_len] = 'x';
    is_int(ingest_batch_read(batch, batch_len, TENANT, &b, &why),
           INGEST_BATCH_OK, "only len bytes of the text are read");
    ingest_batch_free(&b);
    batch[batch_len] = '\0';

    begin_batch();
    add_item("Signal", PK, "0", "{\"Kind\":\"HelloResolved\"}");
    is_int(end_and_read(&b), INGEST_BATCH_OK,
           "a Signal without its ordinal does not refuse the batch");
    is_int((long long) b.accepted, 0, "but is skipped");
    is_int(b.max_item_id, -1, "and no item is the watermark");
    ingest_batch_free(&b);

    begin_batch();
    add_item("Event", PK, "0",
             "{\"Timestamp\":\"2026-11-23T10:00:00Z\",\"EventType\":\"x\"}");
    is_int(end_and_read(&b), INGEST_BATCH_OK,
           "an event without a Sequence does not refuse the batch");
    is_int((long long) b.nevents, 0, "but is not stored");
    ingest_batch_free(&b);
}


static void
test_refusals(void)
{
    refused_as("not json", INGEST_BATCH_BAD_JSON, "words are not JSON");
    refused_as("", INGEST_BATCH_BAD_JSON, "nor is an empty body");
    refused_as("[{\"Kind\":\"Event\"}", INGEST_BATCH_BAD_JSON,
               "nor an unclosed array");
    refused_as("[{\"PartitionKey\":\"" PK "\"}] x", INGEST_BATCH_BAD_JSON,
               "trailing garbage is not JSON");
    refused_as("[{\"PartitionKey\":\"" PK "\",\"RowKey\":\"\xc3\x28\"}]",
               INGEST_BATCH_BAD_JSON,
               "bad UTF-8 in the outer structure is not JSON");
    refused_as("[{\"PartitionKey\":\"" PK "\",\"RowKey\":\"\xed\xa0\x80\"}]",
               INGEST_BATCH_BAD_JSON, "nor an encoded surrogate");
    refused_as("[{\"PartitionKey\":\"" PK "\",\"RowKey\":\"a\\u0000\"}]",
               INGEST_BATCH_BAD_JSON, "nor \\u0000 in the outer structure");
    refused_as("[{\"PartitionKey\":\"" PK "\",\"RowKey\":\"\\ud800\"}]",
               INGEST_BATCH_BAD_JSON, "nor an unpaired surrogate escape");
    refused_as("[]", INGEST_BATCH_MALFORMED, "an empty batch is malformed");
    refused_as("{\"PartitionKey\":\"" PK "\"}", INGEST_BATCH_MALFORMED,
               "an object instead of an array is malformed");
    refused_as("[{\"PartitionKey\":\"" PK "\"},1]", INGEST_BATCH_MALFORMED,
               "an item that is not an object is malformed");
    refused_as("[{\"PartitionKey\":\"nonsense\"}]", INGEST_BATCH_MALFORMED,
               "an unparsable PartitionKey is malformed");
    refused_as("[{\"Kind\":\"Event\"}]", INGEST_BATCH_MALFORMED,
               "a missing PartitionKey is malformed");
    refused_as("[{\"PartitionKey\":7}]", INGEST_BATCH_MALFORMED,
               "a PartitionKey that is not a string is malformed");
    refused_as("[{\"PartitionKey\":\"" PK "\"},{\"PartitionKey\":\"" TENANT
               "_4c4d5e6f-7081-4293-a4b5-c6d7e8f90a1b\"}]",
               INGEST_BATCH_MALFORMED, "a batch of two sessions is malformed");
    refused_as("[{\"PartitionKey\":\"" OTHER "_" SESSION "\"},"
               "{\"PartitionKey\":\"x\"}]", INGEST_BATCH_MALFORMED,
               "every key is checked before the tenant (order 4 then 5)");
    refused_as("[{\"PartitionKey\":\"" OTHER "_" SESSION "\"}]",
               INGEST_BATCH_OTHER_TENANT, "another tenant's key is 403");
}


static void
test_keys_and_kinds(void)
{
    ingest_batch_t  b;

    begin_batch();
    append_str("{\"PartitionKey\":\"\\u0031111111" "1-1111-4111-8111-"
               "111111111111_3C4D5E6F-7081-4293-A4B5-C6D7E8F90A1B\","
               "\"Kind\":\"\\u0045vent\","
               "\"TelemetryItemId\":1,\"PayloadJson\":");
    append_json_string(EVENT(1));
    append_str("}");
    is_int(end_and_read(&b), INGEST_BATCH_OK,
           "an escaped, upper-case PartitionKey is read unescaped");
    is_str(b.tenant, TENANT, "  its tenant");
    is_str(b.session, SESSION, "  and its session, lowered");
    is_int((long long) b.nevents, 1, "an escaped Kind is read unescaped");
    ingest_batch_free(&b);

    begin_batch();
    append_str("{\"PartitionKey\":\"bad\",\"Kind\":\"Mystery\","
               "\"TelemetryItemId\":1,\"TelemetryItemId\":2,"
               "\"PayloadJson\":\"{}\",\"PartitionKey\":\"" PK "\","
               "\"Kind\":\"Event\",\"PayloadJson\":");
    append_json_string(EVENT(1));
    append_str("}");
    is_int(end_and_read(&b), INGEST_BATCH_OK,
           "duplicate item keys: the last PartitionKey counts");
    is_int((long long) b.nevents, 1, "  the last Kind and PayloadJson");
    is_int(b.max_item_id, 2, "  and the last TelemetryItemId");
    ingest_batch_free(&b);

    begin_batch();
    append_str("{\"PartitionKey\":\"" PK "\",\"Kind\":\"Event\","
               "\"PayloadJson\":{\"Sequence\":1}}");
    add_item("Event", PK, "1", EVENT(1));
    is_int(end_and_read(&b), INGEST_BATCH_OK,
           "a PayloadJson that is an object, not a string, is not refused");
    is_int((long long) b.accepted, 1, "  but skipped");
    ingest_batch_free(&b);

    begin_batch();
    add_item("event", PK, "1", EVENT(1));
    add_item("Event", PK, "2", EVENT(2));
    append_str(",{\"PartitionKey\":\"" PK "\",\"Kind\":\"Event\"}");
    append_str(",{\"PartitionKey\":\"" PK "\",\"PayloadJson\":\"{}\"}");
    append_str(",{\"PartitionKey\":\"" PK "\",\"Kind\":1,"
               "\"PayloadJson\":\"{}\"}");
    is_int(end_and_read(&b), INGEST_BATCH_OK, "Kinds are case-sensitive");
    is_int((long long) b.received, 5, "  every item is received");
    is_int((long long) b.accepted, 1, "  a lower-case, missing or "
           "non-string Kind and a missing PayloadJson are skipped");
    ingest_batch_free(&b);
}


static void
test_item_ids(void)
{
    ingest_batch_t  b;

    begin_batch();
    add_item("Event", PK, NULL, EVENT(1));
    add_item("Event", PK, "1.0", EVENT(2));
    add_item("Event", PK, "\"3\"", EVENT(3));
    add_item("Event", PK, "9223372036854775808", EVENT(4));
    is_int(end_and_read(&b), INGEST_BATCH_OK,
           "items without a usable TelemetryItemId are read");
    is_int((long long) b.nevents, 4, "  all of them");
    is_int(b.events[0].item_id, -1, "an absent TelemetryItemId is -1");
    is_int(b.events[1].item_id, -1, "1.0 is not an integer: -1");
    is_int(b.events[2].item_id, -1, "a string is not an integer: -1");
    is_int(b.events[3].item_id, -1, "9223372036854775808 is out of range: -1");
    is_int(b.max_item_id, -1, "so there is no watermark");
    ingest_batch_free(&b);

    begin_batch();
    add_item("Event", PK, "9223372036854775807", EVENT(1));
    add_item("Event", PK, "5", "{}");
    is_int(end_and_read(&b), INGEST_BATCH_OK, "the largest TelemetryItemId");
    is_int(b.max_item_id, 9223372036854775807LL, "  is the watermark");
    ingest_batch_free(&b);
}


/* The Sequence read from an event with that Sequence text; -2 skipped. */
static long long
sequence_of(const char *seq)
{
    ingest_batch_t  b;
    char            payload[256];
    long long       v = -3;

    snprintf(payload, sizeof(payload), "{\"Timestamp\":"
             "\"2026-11-23T10:00:00Z\",\"EventType\":\"x\",\"Sequence\":%s}",
             seq);
    if (read_one_event(payload, &b) == INGEST_BATCH_OK) {
        v = b.nevents == 1 ? b.events[0].sequence : -2;
        ingest_batch_free(&b);
    }
    return v;
}


static void
test_integers(void)
{
    is_int(sequence_of("9223372036854775807"), 9223372036854775807LL,
           "Sequence 9223372036854775807 is read");
    is_int(sequence_of("9223372036854775808"), -2,
           "Sequence 9223372036854775808 does not fit: skipped");
    is_int(sequence_of("-0"), 0, "Sequence -0 is 0");
    is_int(sequence_of("0"), 0, "Sequence 0 is read");
    is_int(sequence_of("-1"), -2, "a negative Sequence is skipped");
    is_int(sequence_of("1.0"), -2, "Sequence 1.0 is not an integer: skipped");
    is_int(sequence_of("1e3"), -2, "Sequence 1e3 is not an integer: skipped");
    is_int(sequence_of("\"1\""), -2, "a string Sequence is skipped");
    is_int(sequence_of("null"), -2, "a null Sequence is skipped");
    is_int(sequence_of("1,\"Sequence\":2"), 2,
           "with duplicate Sequences the last one counts");
}


static void
test_event_members(void)
{
    ingest_batch_t   b;
    ingest_event_t  *ev;

    is_int(read_one_event(EVENT_WITH("\"Message\":\"line\\nnext \\u00e9 "
               "\\\"q\\\" \\ud83d\\ude00\",\"Source\":\"a\\/b\","
               "\"EventId\":\"\xc3\xa9\"," "\"Data\":{\"reason\":\"r\\u00e9\","
               "\"n\":[1,{\"x\":null}]}"), &b), INGEST_BATCH_OK,
           "an event with escapes in its strings is read");
    ev = &b.events[0];
    is_str(ev->message, "line\nnext \xc3\xa9 \"q\" \xf0\x9f\x98\x80",
           "escapes and unicode in strings come out unescaped");
    is_str(ev->source, "a/b", "\\/ unescapes to /");
    is_str(ev->event_id, "\xc3\xa9", "raw UTF-8 stays as it is");
    is_str(ev->data, "{\"reason\":\"r\\u00e9\",\"n\":[1,{\"x\":null}]}",
           "Data is its JSON text, escapes kept as JSON");
    is_str(ev->data_reason, "r\xc3\xa9", "Data.reason is unescaped");
    ingest_batch_free(&b);

    is_int(read_one_event(EVENT_WITH("\"Severity\":2147483648,"
               "\"Phase\":-2147483649"), &b), INGEST_BATCH_OK,
           "an event with Severity and Phase beyond int32 is read");
    ok(!b.events[0].has_severity, "  its Severity is absent");
    ok(!b.events[0].has_phase, "  and its Phase");
    ingest_batch_free(&b);

    is_int(read_one_event(EVENT_WITH("\"Severity\":2147483647,"
               "\"Phase\":-2147483648"), &b), INGEST_BATCH_OK,
           "Severity and Phase at the ends of int32");
    ok(b.events[0].has_severity && b.events[0].severity == 2147483647,
       "  Severity 2147483647 is kept");
    ok(b.events[0].has_phase && b.events[0].phase == -2147483647 - 1,
       "  Phase -2147483648 is kept");
    ingest_batch_free(&b);

    is_int(read_one_event(EVENT_WITH("\"Severity\":\"1\",\"Phase\":1.5,"
               "\"Message\":7,\"Source\":null,\"EventId\":[],"
               "\"Data\":\"text\""), &b), INGEST_BATCH_OK,
           "optional members of the wrong type do not skip the event");
    ev = &b.events[0];
    ok(!ev->has_severity && !ev->has_phase,
       "  a string Severity and a fractional Phase are absent");
    ok(ev->message == NULL && ev->source == NULL && ev->event_id == NULL,
       "  non-string Message, Source and EventId are NULL");
    ok(ev->data == NULL && ev->data_reason == NULL,
       "  a Data that is a string is NULL");
    ingest_batch_free(&b);

    is_int(read_one_event(EVENT_WITH("\"Data\":[{\"reason\":\"r\"}]"), &b),
           INGEST_BATCH_OK, "an event whose Data is an array is read");
    ok(b.events[0].data == NULL && b.events[0].data_reason == NULL,
       "  without Data");
    ingest_batch_free(&b);

    is_int(read_one_event(EVENT_WITH("\"Data\":{\"reason\":1},"
               "\"Data\":{\"reason\":\"second\"}"), &b), INGEST_BATCH_OK,
           "an event with two Data members is read");
    is_str(b.events[0].data, "{\"reason\":\"second\"}", "  the last counts");
    is_str(b.events[0].data_reason, "second", "  with its reason");
    ingest_batch_free(&b);

    is_int(read_one_event(EVENT_WITH("\"Data\":{\"reason\":{}}"), &b),
           INGEST_BATCH_OK, "a Data.reason that is not a string");
    ok(b.events[0].data != NULL && b.events[0].data_reason == NULL,
       "  gives Data without a reason");
    ingest_batch_free(&b);

    is_int(read_one_event("{\"Sequ\\u0065nce\":4,\"Timestamp\":"
               "\"2026-11-23T10:00:00Z\",\"EventType\":\"x\"}", &b),
           INGEST_BATCH_OK, "escaped member names in a payload");
    ok(b.nevents == 1 && b.events[0].sequence == 4, "  are matched unescaped");
    ingest_batch_free(&b);
}


/* 1 when a batch of that Event payload and a good Event stores only the
 * good one, 2 when both, 0 otherwise. */
static int
stored_with(const char *payload)
{
    ingest_batch_t  b;
    int             n;

    begin_batch();
    add_item("Event", PK, "1", payload);
    add_item("Event", PK, "2", EVENT(2));
    if (end_and_read(&b) != INGEST_BATCH_OK) {
        return 0;
    }
    n = (int) b.nevents;
    if (b.received != 2 || b.accepted != b.nevents
        || b.events[b.nevents - 1].sequence != 2)
    {
        n = 0;
    }
    ingest_batch_free(&b);
    return n;
}


/* An Event payload whose Data holds a number of n digits. */
static void
wide_event(char *out, size_t size, int n)
{
    size_t  len;

    len = (size_t) snprintf(out, size, "{\"Timestamp\":"
                            "\"2026-11-23T10:00:00Z\",\"EventType\":\"x\","
                            "\"Sequence\":1,\"Data\":{\"n\":");
    memset(out + len, '7', (size_t) n);
    strcpy(out + len + n, "}}");
}


/* An Event payload whose Data is an array nested levels deep. */
static void
deep_event(char *out, size_t size, int levels)
{
    size_t  n;
    int     i;

    n = (size_t) snprintf(out, size, "{\"Timestamp\":\"2026-11-23T10:00:00Z\","
                          "\"EventType\":\"x\",\"Sequence\":1,\"Data\":");
    for (i = 0; i < levels; i++) {
        out[n++] = '[';
    }
    for (i = 0; i < levels; i++) {
        out[n++] = ']';
    }
    strcpy(out + n, "}");
}


static void
test_skipped_payloads(void)
{
    char  deep[400], wide[1200];

    is_int(stored_with(EVENT_WITH("\"Message\":\"a\\u0000b\"")), 1,
           "\\u0000 in a payload skips that item only");
    is_int(stored_with(EVENT_WITH("\"Message\":\"\\ud800\"")), 1,
           "an unpaired surrogate in a payload skips that item only");
    is_int(stored_with(EVENT_WITH("\"Message\":\"a\tb\"")), 1,
           "a raw control character in a payload skips that item only");
    is_int(stored_with(EVENT_WITH("\"Message\":\"a\"") " x"), 1,
           "trailing garbage after a payload skips it");
    is_int(stored_with(EVENT_WITH("\"Message\":\"a\"") "{}"), 1,
           "so does a second document");
    is_int(stored_with("[" EVENT(1) "]"), 1,
           "a payload that is not an object is skipped");
    is_int(stored_with(""), 1, "an empty payload is skipped");
    is_int(stored_with(EVENT_WITH("\"EventType\":\"\"")), 1,
           "an empty EventType is skipped (the last one counts)");
    is_int(stored_with(EVENT_WITH("\"EventType\":5")), 1,
           "a non-string EventType is skipped");
    is_int(stored_with(EVENT_WITH("\"Timestamp\":\"2026-02-29T00:00:00Z\"")),
           1, "a Timestamp PostgreSQL refuses is skipped");
    is_int(stored_with(EVENT_WITH("\"Timestamp\":\"2026-11-23T10:00:00Z\"")),
           2, "a good Timestamp is not");
    is_int(stored_with(EVENT_WITH("\"Data\":{\"n\":1e1000}")), 2,
           "a number with exponent 1000 is stored");
    is_int(stored_with(EVENT_WITH("\"Data\":{\"n\":-1.5E-1000}")), 2,
           "and one with exponent -1000");
    is_int(stored_with(EVENT_WITH("\"Data\":{\"n\":1e131072}")), 1,
           "a number PostgreSQL's numeric refuses (1e131072) is skipped");
    is_int(stored_with(EVENT_WITH("\"Data\":{\"n\":1E-16384}")), 1,
           "and so is 1E-16384");
    is_int(stored_with(EVENT_WITH("\"Data\":{\"n\":1e1001}")), 1,
           "the bound is 1000 either way: 1e1001 is skipped too");
    is_int(stored_with(EVENT_WITH("\"Data\":{\"n\":1e-0000000001000}")), 2,
           "an exponent's leading zeros do not count");

    wide_event(wide, sizeof(wide), 1000);
    is_int(stored_with(wide), 2, "a number of 1000 digits is stored");
    wide_event(wide, sizeof(wide), 1001);
    is_int(stored_with(wide), 1, "one of 1001 digits is skipped");

    /* Depth: the payload object is level 1, so Data's arrays start at 2. */
    deep_event(deep, sizeof(deep), 63);
    is_int(stored_with(deep), 2, "a payload 64 deep is read");
    deep_event(deep, sizeof(deep), 64);
    is_int(stored_with(deep), 1, "a payload 65 deep is skipped");
}


static void
test_trace(void)
{
    ingest_batch_t  b;

    begin_batch();
    add_item("Signal", PK, "1", " \n{\"SessionSignalOrdinal\":3,"
             "\"OccurredAtUtc\":\"yesterday\"}\t");
    add_item("DecisionTransition", PK, "2", "{\"StepIndex\":-1}");
    add_item("DecisionTransition", PK, "3", "{\"StepIndex\":1.0}");
    add_item("DecisionTransition", PK, "4",
             "{\"SessionSignalOrdinal\":1}");
    add_item("Signal", PK, "5", "[{\"SessionSignalOrdinal\":1}]");
    add_item("DecisionTransition", PK, "6", "{\"StepIndex\":2,"
             "\"Guards\":[{\"GuardId\":\"g\\u00e9\"}]}");
    is_int(end_and_read(&b), INGEST_BATCH_OK, "a batch of trace items");
    is_int((long long) b.ntrace, 2, "  only the well-formed ones are kept");
    is_str(b.trace[0].payload, "{\"SessionSignalOrdinal\":3,"
           "\"OccurredAtUtc\":\"yesterday\"}",
           "a payload's whitespace around it is not kept");
    ok(b.trace[0].occurred_at == NULL,
       "an OccurredAtUtc that is no timestamp is NULL");
    is_int(b.trace[1].ordinal, 2, "a negative or fractional StepIndex, or "
           "a Transition keyed like a Signal, is skipped");
    is_str(b.trace[1].payload, "{\"StepIndex\":2,"
           "\"Guards\":[{\"GuardId\":\"g\\u00e9\"}]}",
           "a payload is kept as JSON text, its escapes as sent");
    is_int(b.max_item_id, 6, "the watermark is the last accepted item");
    ingest_batch_free(&b);
}


/* A realistic batch: many events, to see the arena's sizing hold. */
static void
test_many(void)
{
    ingest_batch_t  b;
    char            id[16];
    int             i;

    begin_batch();
    for (i = 0; i < 100; i++) {
        snprintf(id, sizeof(id), "%d", i);
        add_item(i % 3 == 0 ? "Signal" : "Event", PK, id,
                 i % 3 == 0 ? "{\"SessionSignalOrdinal\":1}"
                            : EVENT_WITH("\"Message\":\"\\u00e9\\u00e9\","
                                         "\"Data\":{\"reason\":\"\\n\"}"));
    }
    is_int(end_and_read(&b), INGEST_BATCH_OK, "a batch of 100 items");
    is_int((long long) b.nevents, 66, "  66 events");
    is_int((long long) b.ntrace, 34, "  34 signals");
    is_str(b.events[65].message, "\xc3\xa9\xc3\xa9", "  the last is intact");
    ingest_batch_free(&b);
}


int
main(void)
{
    test_gunzip();
    test_partition_key();
    test_timestamps();
    test_batch();
    test_refusals();
    test_keys_and_kinds();
    test_item_ids();
    test_integers();
    test_event_members();
    test_skipped_payloads();
    test_trace();
    test_many();
    return done_testing();
}
