/*
 * Unit tests of workers/cc-worker/sync_entries.c: notifications from
 * cc_registry, rows of cc_registry_snapshot() turned into the control
 * API's PUT bodies and the body of POST /registry/sync, and the rules an
 * entry must meet before nginx is asked to take it.
 *
 * sync_entries.c belongs to cc-worker, not to a library, so it is
 * compiled into this program directly.
 */

#include <stdlib.h>

#include "tap.h"

#include "../../workers/cc-worker/sync_entries.c"


#define TID   "11111111-1111-4111-8111-111111111111"
#define DEV   "dddddddd-1111-4111-8111-111111111111"
#define SID   "00112233445566778899aabbccddeeff"


/* The compact JSON of v with sorted keys, for exact comparisons;
 * consumes v.  "(null)" for NULL. */
static const char *
text_of(json_t *v)
{
    static char  buf[4096];
    char        *s;

    if (v == NULL) {
        return "(null)";
    }
    s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    snprintf(buf, sizeof(buf), "%s", s ? s : "(dump failed)");
    free(s);
    json_decref(v);
    return buf;
}


/* Whether row is refused (no body); frees any body made. */
static int
refused(const sync_row_t *row)
{
    json_t  *body;

    body = sync_row_body(row);
    json_decref(body);
    return body == NULL;
}


/* The limits member of row's body (a new reference). */
static json_t *
limits_of(const sync_row_t *row)
{
    json_t  *body, *limits;

    body = sync_row_body(row);
    limits = json_incref(json_object_get(body, "limits"));
    json_decref(body);
    return limits;
}


static sync_notice_t  notice;


static int
parse(const char *payload)
{
    return sync_notice_parse(payload, &notice);
}


static void
test_notices(void)
{
    char  path[CC_NGINX_PATH_MAX];

    is_int(parse("{\"kind\":\"tenant\",\"id\":\"" TID "\"}"), 0,
           "a tenant notification is understood");
    ok(notice.kind == SYNC_TENANT, "as a tenant");
    is_str(notice.id, TID, "with its id");
    sync_notice_path(&notice, path, sizeof(path));
    is_str(path, "/registry/tenants/" TID, "whose entry lives at "
           "/registry/tenants/{tid}");

    is_int(parse("{\"kind\" : \"device\", \"tenant\" : \"" TID "\", "
                 "\"id\" : \"" DEV "\"}"), 0,
           "a device notification (as pg's json_build_object spaces it)");
    is_str(notice.tenant, TID, "with its tenant");
    is_str(notice.id, DEV, "and its device");
    sync_notice_path(&notice, path, sizeof(path));
    is_str(path, "/registry/devices/" TID "/" DEV,
           "at /registry/devices/{tid}/{device}");

    is_int(parse("{\"kind\":\"session\",\"id\":\"" SID "\"}"), 0,
           "a session notification");
    sync_notice_path(&notice, path, sizeof(path));
    is_str(path, "/registry/sessions/" SID, "at /registry/sessions/{sid}");

    is_int(parse("{\"kind\":\"tenant\",\"id\":\""
                 "11111111-1111-4111-8111-11111111111A\"}"), -1,
           "an upper-case GUID is not ours (the database writes lower "
           "case)");
    is_int(parse("{\"kind\":\"tenant\",\"id\":\"11111111\"}"), -1,
           "a short id is refused");
    is_int(parse("{\"kind\":\"device\",\"id\":\"" DEV "\"}"), -1,
           "a device without its tenant is refused");
    is_int(parse("{\"kind\":\"session\",\"id\":\"" TID "\"}"), -1,
           "a session id that is not 32 hex digits is refused");
    is_int(parse("{\"kind\":\"session\",\"id\":\"00112233445566778899AABBC"
                 "CDDEEFF\"}"), -1, "upper-case hex is refused");
    is_int(parse("{\"kind\":\"job\",\"id\":\"" TID "\"}"), -1,
           "an unknown kind is refused");
    is_int(parse("{\"id\":\"" TID "\"}"), -1, "no kind is refused");
    is_int(parse("{\"kind\":\"tenant\",\"id\":\"" TID "\",\"id\":\""
                 TID "\"}"), -1, "a repeated member is refused");
    is_int(parse("tenant " TID), -1, "text that is not JSON is refused");
    is_int(parse(NULL), -1, "no payload is refused");
}


static sync_row_t
tenant_row(const char *status, const char *plan, const char *limits)
{
    sync_row_t  row;

    memset(&row, 0, sizeof(row));
    row.kind = "tenant";
    row.tenant = TID;
    row.id = TID;
    row.status = status;
    row.plan = plan;
    row.region = "default";
    row.limits = limits;
    return row;
}


static void
test_tenant_bodies(void)
{
    sync_row_t  row;

    row = tenant_row("suspended", "standard", "{\"agent_per_min\": 100}");
    is_str(text_of(sync_row_body(&row)),
           "{\"limits\":{\"agent_per_min\":100},\"plan\":\"standard\","
           "\"region\":\"default\",\"status\":\"suspended\"}",
           "a tenant's PUT body: status, plan, region and limits");

    row = tenant_row("active", "standard", "{\"ok\": 1, \"Bad\": 2, "
                     "\"frac\": 1.5, \"neg\": -1, \"str\": \"3\", "
                     "\"x23456789012345678901234567890123\": 4}");
    is_str(text_of(sync_row_body(&row)),
           "{\"limits\":{\"ok\":1},\"plan\":\"standard\",\"region\":"
           "\"default\",\"status\":\"active\"}",
           "limits nginx cannot hold are dropped, the tenant is kept");

    row = tenant_row("active", "standard", "{\"a\":1,\"b\":2,\"c\":3,\"d\":4,"
                     "\"e\":5,\"f\":6,\"g\":7,\"h\":8,\"i\":9}");
    is_str(text_of(limits_of(&row)),
           "{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,\"g\":7,"
           "\"h\":8}", "at most 8 limits are sent");

    row = tenant_row("active", "standard", "not json");
    is_str(text_of(limits_of(&row)), "{}", "unreadable limits become none");
    row = tenant_row("active", "standard", NULL);
    is_str(text_of(limits_of(&row)), "{}", "NULL limits become none");

    row = tenant_row("paused", "standard", "{}");
    ok(refused(&row), "an unknown status is not sent");
    row = tenant_row(NULL, "standard", "{}");
    ok(refused(&row), "nor a missing one");
    row = tenant_row("active", "", "{}");
    ok(refused(&row), "an empty plan is not sent");
    row = tenant_row("active", "gold plan", "{}");
    ok(refused(&row), "nor a plan with a blank (nginx takes "
       "[A-Za-z0-9._-])");
    row = tenant_row("active", "standard", "{}");
    row.region = "eu/west";
    ok(refused(&row), "nor such a region");
    row = tenant_row("active", "Gold-2.x_y", "{}");
    ok(!refused(&row), "while every character nginx takes is sent");
    row = tenant_row("active", "p23456789012345678901234567890123", "{}");
    ok(refused(&row), "nor a plan over 32 bytes");
    row = tenant_row("active", "standard", "{}");
    row.id = "not-a-guid";
    ok(refused(&row), "nor a tenant whose id is no GUID");
    row = tenant_row("active", "standard", "{}");
    row.kind = "gadget";
    ok(refused(&row), "nor a row of an unknown kind");
}


static sync_row_t
device_row(const char *until, const char *reason)
{
    sync_row_t  row;

    memset(&row, 0, sizeof(row));
    row.kind = "device";
    row.tenant = TID;
    row.id = DEV;
    row.until = until;
    row.reason = reason;
    return row;
}


static sync_row_t
session_row(const char *id, const char *until)
{
    sync_row_t  row;

    memset(&row, 0, sizeof(row));
    row.kind = "session";
    row.tenant = TID;
    row.id = id;
    row.until = until;
    return row;
}


static void
test_device_and_session_bodies(void)
{
    sync_row_t  row;

    row = device_row("0", "lost");
    is_str(text_of(sync_row_body(&row)), "{\"reason\":\"lost\",\"until\":0}",
           "a block without end: until 0");
    row = device_row("1795468834", "stolen");
    is_str(text_of(sync_row_body(&row)),
           "{\"reason\":\"stolen\",\"until\":1795468834}",
           "a block with an end: until in Unix seconds");
    row = device_row("-5", "lost");
    ok(refused(&row), "a negative until is not sent");
    row = device_row("12x", "lost");
    ok(refused(&row), "nor one that is not a number");
    row = device_row("0", "lost phone");
    ok(refused(&row), "nor a reason with a blank");
    row = device_row("0", "r23456789012345678901234567890123");
    ok(refused(&row), "nor a reason over 32 bytes");
    row = device_row("0", "lost");
    row.tenant = NULL;
    ok(refused(&row), "nor a device without a tenant");

    row = session_row(SID, "1795468834");
    is_str(text_of(sync_row_body(&row)), "{\"until\":1795468834}",
           "a revoked session: until its cookie expires");
    row = session_row(SID, "0");
    ok(refused(&row),
       "a revocation must end (until 0 is refused)");
    row = session_row("00112233", "1795468834");
    ok(refused(&row), "a short session id is not sent");
}


static void
test_sync_body(void)
{
    sync_row_t   row;
    json_t      *body, *keys;
    char         tag[100];

    memset(tag, 't', sizeof(tag) - 1);
    tag[sizeof(tag) - 1] = '\0';
    body = sync_body_new(tag);
    is_int((long long) strlen(json_string_value(json_object_get(body,
                                                                "tag"))),
           SYNC_TAG_MAX, "the tag is cut to %d bytes", SYNC_TAG_MAX);
    json_decref(body);

    body = sync_body_new("w1/1");
    row = tenant_row("active", "standard", "{}");
    is_int(sync_body_add_row(body, &row), 0, "a tenant row is added");
    row = device_row("0", "lost");
    is_int(sync_body_add_row(body, &row), 0, "a device row is added");
    row = session_row(SID, "1795468834");
    is_int(sync_body_add_row(body, &row), 0, "a session row is added");
    row = tenant_row("paused", "standard", "{}");
    is_int(sync_body_add_row(body, &row), -1, "a bad row is left out");

    keys = json_pack("{s:{s:{s:s},s:s,s:b}}", "kid1", "jwk", "kty", "RSA",
                     "issuer", "https://iss/{tenantid}/v2.0", "own", 1);
    sync_body_set_keys(body, keys);
    json_decref(keys);

    is_str(text_of(body),
           "{\"devices\":[{\"device\":\"" DEV "\",\"reason\":\"lost\","
           "\"tenant\":\"" TID "\",\"until\":0}],"
           "\"keys\":[{\"issuer\":\"https://iss/{tenantid}/v2.0\","
           "\"jwk\":{\"kty\":\"RSA\"},\"kid\":\"kid1\",\"revoked\":false}],"
           "\"sessions\":[{\"sid\":\"" SID "\",\"until\":1795468834}],"
           "\"tag\":\"w1/1\","
           "\"tenants\":[{\"id\":\"" TID "\",\"limits\":{},\"plan\":"
           "\"standard\",\"region\":\"default\",\"status\":\"active\"}]}",
           "the sync body has every entry with its ids, the keys and the "
           "tag, in the control API's shape");

    body = sync_body_new("empty");
    is_str(text_of(body), "{\"devices\":[],\"keys\":[],\"sessions\":[],"
           "\"tag\":\"empty\",\"tenants\":[]}",
           "an empty database gives empty lists, never missing ones");
}


static void
test_ids(void)
{
    ok(sync_is_guid(TID), "a lower-case GUID is a GUID");
    ok(!sync_is_guid("11111111-1111-4111-8111-1111111111111"), "one digit "
       "too many is not");
    ok(!sync_is_guid("11111111x1111-4111-8111-111111111111"),
       "a misplaced dash is not");
    ok(!sync_is_guid(NULL), "NULL is not");
    ok(sync_is_session_id(SID), "32 lower-case hex digits are a session id");
    ok(!sync_is_session_id("0011223344556677889xaabbccddeeff"),
       "a non-hex character is not");
}


int
main(void)
{
    cc_log_init("sync-entries-test", CC_LOG_ERROR + 1, 0);

    test_notices();
    test_tenant_bodies();
    test_device_and_session_bodies();
    test_sync_body();
    test_ids();
    return done_testing();
}
