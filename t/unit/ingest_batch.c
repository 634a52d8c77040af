/*
 * The pure parts of cc-ingest's agent endpoints: inflating gzip bodies under
 * a hard limit, and reading a telemetry batch (PartitionKey, tenant, Kinds,
 * Event payloads).
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


static json_t *
item(const char *kind, const char *pk, long long id, const char *payload)
{
    return json_pack("{s:s,s:s,s:I,s:s,s:b}", "Kind", kind,
                     "PartitionKey", pk, "TelemetryItemId", (json_int_t) id,
                     "PayloadJson", payload, "RequiresImmediateFlush", 0);
}

#define EVENT(seq) \
    "{\"EventId\":\"e" #seq "\",\"Timestamp\":\"2026-11-23T10:00:00.1234567Z\"," \
    "\"EventType\":\"agent_started\",\"Severity\":1,\"Phase\":-1," \
    "\"Message\":\"m\",\"Data\":{\"k\":\"v\"},\"Sequence\":" #seq "}"


static void
test_batch(void)
{
    ingest_batch_t  b;
    json_t         *items, *row;
    const char     *why;

    items = json_pack("[o,o,o,o,o,o]",
        item("Event", TENANT "_" SESSION, 0, EVENT(1)),
        item("Signal", TENANT "_" SESSION, 1, "{\"SessionSignalOrdinal\":0}"),
        item("DecisionTransition", TENANT "_" SESSION, 2, "{\"StepIndex\":1}"),
        item("Event", TENANT "_" SESSION, 3, EVENT(2)),
        item("Mystery", TENANT "_" SESSION, 4, "{}"),
        item("Event", TENANT "_" SESSION, 5, "{not json"));
    is_int(ingest_batch_read(items, TENANT, &b, &why), INGEST_BATCH_OK,
           "a batch of one session of our tenant is read");
    is_str(b.session, SESSION, "its session comes from the PartitionKey");
    is_int((long long) b.received, 6, "every item is counted as received");
    is_int((long long) b.accepted, 4,
           "unknown Kinds and unparsable payloads are skipped, not refused");
    is_int((long long) json_array_size(b.events), 2, "two events to store");
    is_int(b.max_item_id, 3, "the watermark is the highest accepted item");
    is_int((long long) json_array_size(b.trace), 2,
           "a Signal and a DecisionTransition to keep");
    row = json_array_get(b.trace, 1);
    is_str(json_string_value(json_object_get(row, "kind")),
           "DecisionTransition", "a trace row carries its Kind");
    is_int(json_integer_value(json_object_get(row, "ordinal")), 1,
           "and the StepIndex as its ordinal");
    row = json_array_get(b.events, 1);
    is_int(json_integer_value(json_object_get(row, "sequence")), 2,
           "an event row carries its Sequence");
    is_str(json_string_value(json_object_get(row, "event_type")),
           "agent_started", "its EventType");
    is_str(json_string_value(json_object_get(row, "event_time")),
           "2026-11-23T10:00:00.1234567Z", "its Timestamp");
    ok(json_is_object(json_object_get(row, "data")), "and its Data object");
    ingest_batch_free(&b);

    is_int(ingest_batch_read(items, OTHER, &b, &why),
           INGEST_BATCH_OTHER_TENANT,
           "a batch whose key names another tenant is refused as such");
    json_decref(items);

    items = json_pack("[o,o]",
        item("Event", TENANT "_" SESSION, 0, EVENT(1)),
        item("Event", TENANT "_" "4c4d5e6f-7081-4293-a4b5-c6d7e8f90a1b", 1,
             EVENT(2)));
    is_int(ingest_batch_read(items, TENANT, &b, &why), INGEST_BATCH_MALFORMED,
           "a batch of two sessions is malformed");
    json_decref(items);

    items = json_pack("[o]", item("Event", "nonsense", 0, EVENT(1)));
    is_int(ingest_batch_read(items, TENANT, &b, &why), INGEST_BATCH_MALFORMED,
           "an unparsable PartitionKey is malformed");
    json_decref(items);

    items = json_pack("[o]", item("Signal", TENANT "_" SESSION, 0,
                                  "{\"Kind\":\"HelloResolved\"}"));
    is_int(ingest_batch_read(items, TENANT, &b, &why), INGEST_BATCH_OK,
           "a Signal without its ordinal does not refuse the batch");
    is_int((long long) b.accepted, 0, "but is skipped");
    ingest_batch_free(&b);
    json_decref(items);

    items = json_array();
    is_int(ingest_batch_read(items, TENANT, &b, &why), INGEST_BATCH_MALFORMED,
           "an empty batch is malformed");
    json_decref(items);

    items = json_object();
    is_int(ingest_batch_read(items, TENANT, &b, &why), INGEST_BATCH_MALFORMED,
           "an object instead of an array is malformed");
    json_decref(items);

    items = json_pack("[o]", item("Event", TENANT "_" SESSION, 0,
        "{\"Timestamp\":\"2026-11-23T10:00:00Z\",\"EventType\":\"x\"}"));
    is_int(ingest_batch_read(items, TENANT, &b, &why), INGEST_BATCH_OK,
           "an event without a Sequence does not refuse the batch");
    is_int((long long) json_array_size(b.events), 0, "but is not stored");
    ingest_batch_free(&b);
    json_decref(items);
}


int
main(void)
{
    test_gunzip();
    test_partition_key();
    test_timestamps();
    test_batch();
    return done_testing();
}
