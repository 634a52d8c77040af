/*
 * The pure parts of cc-ingest's device gate: the allow-list's wildcard
 * matcher, the Autopilot answer cache (expiry and LRU eviction, driven by
 * an explicit clock), the settings cache, the Graph query URL and its
 * exact-match reading, and how long an Entra token is used.
 */

#include <stdlib.h>
#include <string.h>

#include "tap.h"

/* The Makefile links unit tests against lib/ and workers/common only, so
 * the cc-ingest sources under test are compiled in here. */
#include "../../workers/cc-ingest/ingest_admit.c"
#include "../../workers/cc-ingest/ingest_gate.c"
#include "../../workers/cc-ingest/ingest_gate_cache.c"
#include "../../workers/cc-ingest/ingest_autopilot.c"

#define TENANT  "11111111-1111-4111-8111-111111111111"


static void
test_wildcards(void)
{
    ok(ingest_gate_wildcard_match("Dell Inc.", "Dell Inc."),
       "a pattern without wildcards matches itself");
    ok(ingest_gate_wildcard_match("dell inc.", "DELL Inc."),
       "letters match without regard to case");
    ok(!ingest_gate_wildcard_match("Dell", "Dell Inc."),
       "a pattern without * must cover the whole text");
    ok(!ingest_gate_wildcard_match("Dell Inc.", "Dell"),
       "... and the text must cover the whole pattern");
    ok(ingest_gate_wildcard_match("Dell*", "Dell Inc."),
       "a trailing * matches the rest");
    ok(ingest_gate_wildcard_match("Dell*", "Dell"),
       "* matches nothing too");
    ok(ingest_gate_wildcard_match("*", ""), "* matches the empty text");
    ok(!ingest_gate_wildcard_match("?", ""), "? needs one character");
    ok(ingest_gate_wildcard_match("", ""), "the empty pattern matches ''");
    ok(!ingest_gate_wildcard_match("", "x"), "... and nothing else");
    ok(ingest_gate_wildcard_match("Latitude ?4?0", "Latitude 7440"),
       "? matches exactly one character");
    ok(!ingest_gate_wildcard_match("Latitude ?4?0", "Latitude 74400"),
       "... not two");
    ok(ingest_gate_wildcard_match("*book*", "HP EliteBook 840 G10"),
       "* on both sides finds the middle");
    ok(ingest_gate_wildcard_match("a*b*c", "aXbYbZc"),
       "a later * backtracks past an earlier partial match");
    ok(!ingest_gate_wildcard_match("a*b*c", "aXbYbZ"),
       "... and still fails when the end does not match");
    ok(ingest_gate_wildcard_match("*a*a*a*a*b", "aaaaaaaaaaaaaaaaab"),
       "repeated stars match");
    ok(!ingest_gate_wildcard_match("*a*a*a*a*b", "aaaaaaaaaaaaaaaaaa"),
       "... and give up without blowing up");
    ok(ingest_gate_wildcard_match("Fujitsu ?", "Fujitsu \xc3\x9c"),
       "? matches one UTF-8 character of two bytes");
    ok(!ingest_gate_wildcard_match("Fujitsu ??", "Fujitsu \xc3\x9c"),
       "... as one character, not two");
    ok(ingest_gate_wildcard_match("*\xc3\x9c", "x\xc3\x9c"),
       "* stops before a multi-byte character");
    ok(!ingest_gate_wildcard_match("Dell_Inc", "Dell Inc"),
       "_ is a literal, not a SQL wildcard");
    ok(!ingest_gate_wildcard_match("Dell%", "Dell Inc"),
       "%% is a literal, not a SQL wildcard");
}


static void
test_serials(void)
{
    char  big[INGEST_AUTOPILOT_SERIAL_MAX + 2];

    ok(usable_serial("CT000001"), "an ordinary serial is looked up");
    ok(!usable_serial(""), "an empty serial is not");
    ok(!usable_serial(NULL), "nor a missing one");
    ok(!usable_serial("CT\x01" "0001"), "nor one with a control character");
    memset(big, 'A', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    ok(!usable_serial(big), "nor one longer than %d bytes",
       INGEST_AUTOPILOT_SERIAL_MAX);
    big[INGEST_AUTOPILOT_SERIAL_MAX] = '\0';
    ok(usable_serial(big), "one of exactly %d bytes is",
       INGEST_AUTOPILOT_SERIAL_MAX);
}


static int
cached(ap_cache_t *c, const char *serial, time_t now, int *registered)
{
    char  key[AP_KEY_MAX];

    make_key(key, TENANT, serial);
    return cache_get(c, key, now, registered);
}


static void
put(ap_cache_t *c, const char *serial, int registered, time_t expires)
{
    char  key[AP_KEY_MAX];

    make_key(key, TENANT, serial);
    cache_put(c, key, registered, expires);
}


static void
test_cache_expiry(void)
{
    ap_cache_t  c;
    int         reg;

    memset(&c, 0, sizeof(c));
    c.capacity = 16;

    put(&c, "CT000001", 1, 1000 + INGEST_AUTOPILOT_POSITIVE_SECONDS);
    put(&c, "NOPE0001", 0, 1000 + INGEST_AUTOPILOT_NEGATIVE_SECONDS);

    reg = -1;
    ok(cached(&c, "CT000001", 1000, &reg) && reg == 1,
       "a positive answer is found");
    reg = -1;
    ok(cached(&c, "ct000001", 1000, &reg) && reg == 1,
       "... under any case of the serial");
    ok(cached(&c, "NOPE0001", 1000, &reg) && reg == 0,
       "a negative answer is found as negative");
    ok(cached(&c, "NOPE0001", 1000 + 299, &reg),
       "the negative answer lasts 4:59 minutes");
    ok(!cached(&c, "NOPE0001", 1000 + 300, &reg),
       "... and is gone at 5 minutes");
    is_int((long long) c.count, 1, "... and dropped from the cache");
    ok(cached(&c, "CT000001", 1000 + 1799, &reg),
       "the positive answer lasts 29:59 minutes");
    ok(!cached(&c, "CT000001", 1000 + 1800, &reg),
       "... and is gone at 30 minutes");
    is_int((long long) c.count, 0, "the cache is empty again");

    put(&c, "CT000002", 0, 2000);
    put(&c, "CT000002", 1, 3000);
    is_int((long long) c.count, 1, "storing a pair again replaces its answer");
    ok(cached(&c, "CT000002", 2500, &reg) && reg == 1,
       "... with the new verdict and expiry");
    cache_clear(&c);
}


static void
test_cache_eviction(void)
{
    ap_cache_t  c;
    int         reg;

    memset(&c, 0, sizeof(c));
    c.capacity = 3;
    put(&c, "A", 1, 9999);
    put(&c, "B", 1, 9999);
    put(&c, "C", 1, 9999);
    ok(cached(&c, "A", 0, &reg), "the oldest entry is used again");
    put(&c, "D", 1, 9999);
    is_int((long long) c.count, 3, "the cache stays within its capacity");
    ok(!cached(&c, "B", 0, &reg),
       "the least recently used entry made room");
    ok(cached(&c, "A", 0, &reg) && cached(&c, "C", 0, &reg)
       && cached(&c, "D", 0, &reg), "the others are still there");
    cache_clear(&c);
    is_int((long long) c.count, 0, "clearing empties it");
}


static void
test_keys(void)
{
    char  key[AP_KEY_MAX];
    char  big[INGEST_AUTOPILOT_SERIAL_MAX + 2];

    ok(make_key(key, TENANT, "AbC") == 0
       && strcmp(key, TENANT "\nabc") == 0,
       "the key is the tenant and the lower-case serial");
    ok(make_key(key, "22222222-2222-4222-8222-222222222222", "abc") == 0
       && strcmp(key, TENANT "\nabc") != 0,
       "another tenant's same serial is another key");
    memset(big, 'A', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    ok(make_key(key, TENANT, big) != 0, "an over-long serial has no key");
}


static void
test_graph_query(void)
{
    ingest_autopilot_t  ap;
    char                url[CC_FETCH_URL_MAX];
    json_t             *page;

    memset(&ap, 0, sizeof(ap));
    ap.graph_url = "https://graph.example/";
    ok(first_page_url(&ap, "CT000001", url, sizeof(url)) == 0,
       "a query URL is built");
    is_str(url, "https://graph.example/v1.0/deviceManagement/"
           "windowsAutopilotDeviceIdentities?$filter="
           "contains%28serialNumber%2C%27CT000001%27%29",
           "... as contains(serialNumber,'...'), URL-encoded");
    first_page_url(&ap, "O'Brien 1&$top=1", url, sizeof(url));
    is_str(url, "https://graph.example/v1.0/deviceManagement/"
           "windowsAutopilotDeviceIdentities?$filter="
           "contains%28serialNumber%2C%27O%27%27Brien%201%26%24top%3D1"
           "%27%29",
           "a quote is doubled and nothing in a serial escapes the filter");
    ok(first_page_url(&ap, "X", url, 40) != 0,
       "a URL that does not fit is an error, not a truncated query");

    ok(is_graph_url(&ap, "https://graph.example/v1.0/x?$skiptoken=1"),
       "a nextLink on Graph's origin is followed");
    ok(!is_graph_url(&ap, "https://graph.example.evil/v1.0/x"),
       "one on a longer host name is not");
    ok(!is_graph_url(&ap, "https://evil.example/v1.0/x"),
       "nor one elsewhere");
    ok(!is_graph_url(&ap, "http://graph.example/v1.0/x"),
       "nor one over http");

    page = json_pack("{s:[{s:s},{s:s},{s:n}]}", "value",
                     "serialNumber", "CT0000011", "serialNumber", "ct000001",
                     "serialNumber");
    ok(page_lists(page, "CT000001"),
       "an exact match (but for case) among the answers is found");
    ok(!page_lists(page, "CT00000"),
       "a serial only contained in answers is not a match");
    ok(!page_lists(page, "T000001"), "nor a suffix of one");
    json_decref(page);
    page = json_pack("{s:s}", "value", "oops");
    ok(!page_lists(page, "CT000001"),
       "an answer without a list matches nothing");
    json_decref(page);
}


static void
test_token_lifetime(void)
{
    is_int(cc_entra_token_usable_seconds(3599), 3299,
           "a token of an hour is used until 5 minutes before it expires");
    is_int(cc_entra_token_usable_seconds(400), 200,
           "a short-lived token is used for half its life");
    is_int(cc_entra_token_usable_seconds(0), 0,
           "a token without a lifetime is not cached");
    is_int(cc_entra_token_usable_seconds(-5), 0,
           "nor one with a negative lifetime");
}


static void
test_settings_cache(void)
{
    static const char    *rules[] = { "Dell*", "Latitude ?4*",
                                      "Contoso", "Laptop 7" };
    ingest_gate_cache_t  *c;
    ingest_gate_verdict_t v;
    char                  other[CC_UUID_STR_LEN + 1];
    size_t                i;
    long long             t0 = 1000000;

    ok(ingest_gate_cache_create(0) == NULL,
       "a cache time of 0 makes no settings cache");
    ok(!ingest_gate_cache_judge(NULL, TENANT, "a", "b", &v),
       "... and no cache judges nothing, so the settings are read");

    c = ingest_gate_cache_create(2000);
    ok(!judge_at(c, TENANT, "Dell Inc.", "Latitude 5440", &v, t0),
       "a tenant not seen yet is not in the cache");
    put_at(c, TENANT, 1, 0, rules, 2, t0);
    ok(judge_at(c, TENANT, "Dell Inc.", "Latitude 5440", &v, t0 + 1999),
       "a tenant's settings are judged from the cache within its time");
    ok(v.hardware_check && !v.autopilot_check,
       "... with its switches as they were read");
    ok(v.hardware_allowed, "... and a device one rule matches is allowed");
    judge_at(c, TENANT, "Dell Inc.", "Precision 5570", &v, t0);
    ok(!v.hardware_allowed, "a device no rule matches is not");
    judge_at(c, TENANT, NULL, "Laptop 7", &v, t0);
    ok(!v.hardware_allowed, "a device without a manufacturer is not");
    ok(!judge_at(c, TENANT, "Dell Inc.", "Latitude 5440", &v, t0 + 2000),
       "settings as old as the cache time are read again");

    /* Another tenant hashing to the same slot. */
    put_at(c, TENANT, 1, 0, rules, 2, t0);
    for (i = 0; i < INGEST_GATE_CACHE_SLOTS * 16; i++) {
        snprintf(other, sizeof(other),
                 "22222222-2222-4222-8222-%012zu", i);
        if (slot_of(other) == slot_of(TENANT)) {
            break;
        }
    }
    ok(slot_of(other) == slot_of(TENANT),
       "a tenant sharing the first tenant's slot is found");
    ok(!judge_at(c, other, "Contoso", "Laptop 7", &v, t0),
       "... and is not judged by the other's settings");
    put_at(c, other, 0, 1, NULL, 0, t0);
    ok(judge_at(c, other, "Contoso", "Laptop 7", &v, t0)
       && !v.hardware_check && v.autopilot_check,
       "... and takes the slot when its own settings are kept");
    ok(!judge_at(c, TENANT, "Dell Inc.", "Latitude 5440", &v, t0),
       "... so the tenant it displaced is read again");
    ingest_gate_cache_destroy(c);
}


int
main(void)
{
    test_wildcards();
    test_serials();
    test_keys();
    test_cache_expiry();
    test_cache_eviction();
    test_settings_cache();
    test_graph_query();
    test_token_lifetime();
    return done_testing();
}
