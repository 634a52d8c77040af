/*
 * Unit tests of workers/cc-worker/sync_keys.c: which discovery documents
 * the registry sync reads, what it takes from them and from a JWKS, how
 * the key sets of several issuers merge, what changes are pushed, and
 * when an unknown kid triggers an early fetch.
 *
 * sync_keys.c belongs to cc-worker, not to a library, so it is compiled
 * into this program directly.
 */

#include <curl/curl.h>

#include "tap.h"
#include "jose_testkit.h"

#include "../../workers/cc-worker/sync_keys.c"


#define V2_ISS  "https://login.microsoftonline.com/{tenantid}/v2.0"
#define V1_ISS  "https://sts.windows.net/{tenantid}/"

static char      urls[SYNC_MAX_SOURCES][CC_FETCH_URL_MAX];
static char      err[SYNC_ERR_LEN];
static EVP_PKEY *key_a, *key_b, *key_c;


static size_t
derive(const char *list, const char *login)
{
    size_t  n;

    err[0] = '\0';
    n = 99;
    if (sync_discovery_urls(list, login, urls, SYNC_MAX_SOURCES, &n, err,
                            sizeof(err)) != 0)
    {
        return 99;
    }
    return n;
}


static void
test_discovery_urls(void)
{
    char  list[4096];
    int   i;

    is_int(derive("", "https://login.microsoftonline.com"), 2,
           "no list: two documents derived from the login URL");
    is_str(urls[0], "https://login.microsoftonline.com/common/v2.0/"
           ".well-known/openid-configuration", "the v2 document comes first");
    is_str(urls[1], "https://login.microsoftonline.com/common/"
           ".well-known/openid-configuration", "then the v1 document");

    derive(NULL, "https://127.0.0.1:4443/");
    is_str(urls[0], "https://127.0.0.1:4443/common/v2.0/.well-known/"
           "openid-configuration", "a trailing slash on the login URL does "
           "not double");
    derive("", "https://127.0.0.1:4443/sim");
    is_str(urls[1], "https://127.0.0.1:4443/sim/common/.well-known/"
           "openid-configuration", "a path in the login URL is kept");
    is_int(derive(" , ,", "https://login.example"), 2,
           "a list of only blanks and commas counts as no list");

    is_int(derive(" https://a.example/x ,https://b.example/y", "http://x"),
           2, "a list wins over the login URL (which is not even used)");
    is_str(urls[0], "https://a.example/x", "entries are trimmed");
    is_str(urls[1], "https://b.example/y", "and kept in order");
    is_int(derive(",https://a.example/x,,", NULL), 1,
           "empty entries are skipped");

    is_int(derive("https://a.example/x,http://b.example/y", NULL), 99,
           "an http:// entry is refused");
    ok(strstr(err, "CC_OIDC_DISCOVERY_URLS") != NULL,
       "the error names the key");
    is_int(derive("https://", NULL), 99, "a bare scheme is refused");
    is_int(derive("", "http://login.example"), 99,
           "an http:// login URL is refused");
    ok(strstr(err, "CC_LOGIN_URL") != NULL, "the error names the key");
    is_int(derive("", ""), 99, "an empty login URL is refused");

    list[0] = '\0';
    for (i = 0; i < SYNC_MAX_SOURCES + 1; i++) {
        strcat(list, "https://a.example/x,");
    }
    is_int(derive(list, NULL), 99, "more than %d documents are refused",
           SYNC_MAX_SOURCES);

    memset(list, 'a', sizeof(list) - 1);
    memcpy(list, "https://", 8);
    list[CC_FETCH_URL_MAX + 10] = '\0';
    is_int(derive(list, NULL), 99, "an entry longer than a URL may be is "
           "refused");
}


static int
read_doc(const char *text, char *issuer, char *uri)
{
    json_t  *doc;
    int      rc;

    doc = json_loads(text, 0, NULL);
    rc = sync_read_discovery(doc, issuer, SYNC_ISSUER_MAX + 1, uri,
                             CC_FETCH_URL_MAX, err, sizeof(err));
    json_decref(doc);
    return rc;
}


static void
test_discovery_document(void)
{
    char  issuer[SYNC_ISSUER_MAX + 1], uri[CC_FETCH_URL_MAX];
    char  text[1024];

    is_int(read_doc("{\"issuer\":\"" V2_ISS "\",\"jwks_uri\":"
                    "\"https://login.example/common/discovery/v2.0/keys\","
                    "\"other\":1}", issuer, uri), 0,
           "a discovery document is read");
    is_str(issuer, V2_ISS, "its issuer, template and all");
    is_str(uri, "https://login.example/common/discovery/v2.0/keys",
           "its jwks_uri");

    is_int(read_doc("{\"jwks_uri\":\"https://x.example/k\"}", issuer, uri),
           -1, "no issuer: refused");
    is_int(read_doc("{\"issuer\":7,\"jwks_uri\":\"https://x.example/k\"}",
                    issuer, uri), -1, "an issuer that is not a string: "
           "refused");
    is_int(read_doc("{\"issuer\":\"\",\"jwks_uri\":\"https://x.example/k\"}",
                    issuer, uri), -1, "an empty issuer: refused");
    snprintf(text, sizeof(text), "{\"issuer\":\"https://%0300d\","
             "\"jwks_uri\":\"https://x.example/k\"}", 0);
    is_int(read_doc(text, issuer, uri), -1,
           "an issuer longer than the registry holds: refused");
    is_int(read_doc("{\"issuer\":\"i\",\"jwks_uri\":\"http://x.example/k\"}",
                    issuer, uri), -1, "an http:// jwks_uri: refused");
    is_int(read_doc("{\"issuer\":\"i\"}", issuer, uri), -1,
           "no jwks_uri: refused");
    is_int(read_doc("[]", issuer, uri), -1, "not an object: refused");
}


/* A JWKS document of the given keys (consumed). */
static json_t *
jwks_of(json_t **keys, size_t n)
{
    json_t  *list;
    size_t   i;

    list = json_array();
    for (i = 0; i < n; i++) {
        json_array_append_new(list, keys[i]);
    }
    return json_pack("{s:o}", "keys", list);
}


static json_t *
read_jwks(json_t *doc, const char *issuer, size_t *skipped)
{
    json_t  *set;

    err[0] = '\0';
    set = sync_read_jwks(doc, issuer, skipped, err, sizeof(err));
    json_decref(doc);
    return set;
}


static const char *
issuer_of(const json_t *set, const char *kid)
{
    return json_string_value(json_object_get(json_object_get(set, kid),
                                             "issuer"));
}


static void
test_jwks(void)
{
    json_t      *keys[SYNC_MAX_KEYS + 1], *set, *jwk;
    EVP_PKEY    *weak;
    char         kid[200], padding[9000];
    size_t       skipped, i;

    keys[0] = kit_jwk(key_a, "kid-a", "{\"issuer\":\"" V2_ISS "\"}");
    keys[1] = kit_jwk(key_b, "kid-b", NULL);
    keys[2] = kit_jwk(key_c, "kid-enc", "{\"use\":\"enc\"}");
    weak = kit_keygen("RSA1024");
    keys[3] = kit_jwk(weak, "kid-weak", NULL);
    EVP_PKEY_free(weak);
    memset(kid, 'k', sizeof(kid) - 1);
    kid[SYNC_KID_MAX + 1] = '\0';
    keys[4] = kit_jwk(key_c, kid, NULL);
    memset(padding, 'p', sizeof(padding) - 1);
    padding[sizeof(padding) - 1] = '\0';
    keys[5] = kit_jwk(key_c, "kid-big", NULL);
    json_object_set_new(keys[5], "x-padding", json_string(padding));
    keys[6] = json_string("not a key");
    keys[7] = kit_jwk(key_c, "a/b", NULL);
    keys[8] = kit_jwk(key_c, "..", NULL);
    keys[9] = kit_jwk(key_c, "a b", NULL);
    keys[10] = kit_jwk(key_c, "kid-bad-issuer", "{\"issuer\":\"a b\"}");
    jwk = json_deep_copy(keys[0]);

    set = read_jwks(jwks_of(keys, 11), V1_ISS, &skipped);
    ok(set != NULL, "a JWKS with usable keys is read");
    is_int((long long) json_object_size(set), 2, "the two usable keys");
    is_int((long long) skipped, 9, "enc, weak, long kid, oversized JWK, a "
           "non-object, kids with '/', \"..\" or a blank, and an issuer "
           "with a blank are left out");
    is_str(issuer_of(set, "kid-a"), V2_ISS,
           "a key's own issuer is its issuer");
    ok(json_is_true(json_object_get(json_object_get(set, "kid-a"), "own")),
       "and is marked as its own");
    is_str(issuer_of(set, "kid-b"), V1_ISS,
           "a key without one gets the document's issuer");
    ok(json_is_false(json_object_get(json_object_get(set, "kid-b"), "own")),
       "and is marked as not its own");
    ok(json_equal(json_object_get(json_object_get(set, "kid-a"), "jwk"),
                  jwk), "the JWK is kept as published");
    json_decref(jwk);
    json_decref(set);

    keys[0] = kit_jwk(key_a, "same", NULL);
    keys[1] = kit_jwk(key_b, "same", NULL);
    ok(read_jwks(jwks_of(keys, 2), V1_ISS, &skipped) == NULL,
       "two usable keys with one kid fail the whole document");
    ok(strstr(err, "kid") != NULL, "saying why");

    keys[0] = kit_jwk(key_a, "a", "{\"use\":\"enc\"}");
    ok(read_jwks(jwks_of(keys, 1), V1_ISS, &skipped) == NULL,
       "a document without a usable key fails (the old keys stay)");
    ok(read_jwks(jwks_of(keys, 0), V1_ISS, &skipped) == NULL,
       "so does an empty one");

    for (i = 0; i < SYNC_MAX_KEYS + 1; i++) {
        keys[i] = json_object();
    }
    ok(read_jwks(jwks_of(keys, SYNC_MAX_KEYS + 1), V1_ISS, &skipped) == NULL,
       "more than %d keys fail the document", SYNC_MAX_KEYS);
    ok(read_jwks(json_pack("{s:{}}", "keys"), V1_ISS, &skipped) == NULL,
       "\"keys\" that is not an array fails the document");
    ok(read_jwks(json_object(), V1_ISS, &skipped) == NULL,
       "no \"keys\" fails the document");
}


/* A key set entry by hand. */
static json_t *
entry(EVP_PKEY *pkey, const char *kid, const char *issuer, int own)
{
    return json_pack("{s:o,s:s,s:b}", "jwk", kit_jwk(pkey, kid, NULL),
                     "issuer", issuer, "own", own);
}


static void
test_merge(void)
{
    sync_keys_t   keys;
    json_t       *v2, *v1, *merged;
    char          two[2][CC_FETCH_URL_MAX] = {
        "https://x.example/v2", "https://x.example/v1"
    };

    sync_keys_init(&keys, two, 2);
    merged = sync_keys_merged(&keys);
    is_int((long long) json_object_size(merged), 0,
           "before any fetch the merged set is empty");
    json_decref(merged);
    ok(!sync_keys_complete(&keys), "and not complete");

    v2 = json_pack("{s:o,s:o}", "A", entry(key_a, "A", V2_ISS, 1),
                   "B", entry(key_b, "B", V2_ISS, 1));
    v1 = json_pack("{s:o,s:o}", "A", entry(key_a, "A", V1_ISS, 0),
                   "C", entry(key_c, "C", V1_ISS, 0));

    keys.sources[1].keys = json_incref(v1);
    ok(!sync_keys_complete(&keys), "one source of two: not complete");
    merged = sync_keys_merged(&keys);
    is_str(issuer_of(merged, "A"), V1_ISS,
           "a source that answered contributes on its own");
    json_decref(merged);

    keys.sources[0].keys = json_incref(v2);
    ok(sync_keys_complete(&keys), "both sources: complete");
    merged = sync_keys_merged(&keys);
    is_int((long long) json_object_size(merged), 3, "the union of the sets");
    is_str(issuer_of(merged, "A"), "",
           "a kid in the v1 and v2 sets is bound to no issuer of its own, "
           "so tokens of both versions verify");
    is_str(issuer_of(merged, "B"), V2_ISS, "a v2-only key keeps its issuer");
    is_str(issuer_of(merged, "C"), V1_ISS, "a v1-only key keeps the v1 "
           "issuer");
    json_decref(merged);

    /* The same with the v1 source listed first. */
    keys.sources[0].keys = v1;
    keys.sources[1].keys = v2;
    merged = sync_keys_merged(&keys);
    is_str(issuer_of(merged, "A"), "",
           "whatever the order of the sources");
    json_decref(merged);

    json_object_set_new(v2, "A", entry(key_a, "A", V1_ISS, 0));
    merged = sync_keys_merged(&keys);
    is_str(issuer_of(merged, "A"), V1_ISS,
           "sources that agree on the issuer keep it");
    json_decref(merged);

    sync_keys_free(&keys);
    ok(keys.sources[0].keys == NULL, "freeing empties the sources");
    json_decref(v1);
    json_decref(v2);
}


static void
test_diff_and_body(void)
{
    json_t  *wanted, *pushed, *put, *del, *body, *e;
    char    *text;

    wanted = json_pack("{s:o,s:o}", "A", entry(key_a, "A", V2_ISS, 1),
                       "B", entry(key_b, "B", V2_ISS, 1));
    pushed = json_pack("{s:o,s:o}", "B", entry(key_b, "B", V1_ISS, 0),
                       "C", entry(key_c, "C", V1_ISS, 0));
    sync_keys_diff(wanted, pushed, &put, &del);
    text = json_dumps(put, JSON_COMPACT);
    is_str(text, "[\"A\",\"B\"]", "new and changed keys are PUT");
    free(text);
    text = json_dumps(del, JSON_COMPACT);
    is_str(text, "[\"C\"]", "keys no longer published are DELETEd");
    free(text);
    json_decref(put);
    json_decref(del);

    json_object_set_new(pushed, "A", entry(key_a, "A", V2_ISS, 0));
    json_object_set_new(pushed, "B", entry(key_b, "B", V2_ISS, 1));
    json_object_del(pushed, "C");
    sync_keys_diff(wanted, pushed, &put, &del);
    is_int((long long) (json_array_size(put) + json_array_size(del)), 0,
           "equal JWK and issuer: nothing to push (\"own\" is ours only)");
    json_decref(put);
    json_decref(del);

    e = json_object_get(wanted, "A");
    body = sync_key_body(e);
    ok(json_equal(json_object_get(body, "jwk"), json_object_get(e, "jwk")),
       "the PUT body carries the JWK");
    is_str(json_string_value(json_object_get(body, "issuer")), V2_ISS,
           "and the issuer");
    ok(json_is_false(json_object_get(body, "revoked")), "not revoked");
    ok(json_object_get(body, "own") == NULL, "and nothing of ours");
    json_decref(body);

    json_decref(wanted);
    json_decref(pushed);
}


static void
test_should_refetch(void)
{
    json_t  *known;

    /* Seconds for the note; milliseconds for our attempt and the clock. */
    known = json_pack("{s:{}}", "have");
    ok(!sync_should_refetch(NULL, 1000, known, 100000, 1000000, 300),
       "no unknown kid: no fetch");
    ok(!sync_should_refetch("", 1000, known, 100000, 1000000, 300),
       "an empty kid: no fetch");
    ok(!sync_should_refetch("have", 1000, known, 100000, 1000000, 300),
       "a kid we hold already: no fetch (its push is on its way)");
    ok(sync_should_refetch("new", 1000, known, 600000, 1000000, 300),
       "a kid noted after our last fetch, which is old enough: fetch");
    ok(sync_should_refetch("new", 1000, known, 700000, 1000000, 300),
       "exactly the minimum interval is enough");
    ok(!sync_should_refetch("new", 1000, known, 700001, 1000000, 300),
       "a millisecond less is not: wait");
    ok(!sync_should_refetch("new", 500, known, 600000, 1000000, 300),
       "a kid noted before our last fetch: that fetch did not have it");
    ok(sync_should_refetch("new", 600, known, 600500, 1000000, 300),
       "a kid noted in the second our last fetch began: fetch again");
    ok(!sync_should_refetch("new", 600, known, 601000, 1000000, 300),
       "a kid noted in the second before it: no");
    ok(sync_should_refetch("new", 1000, known, 0, 1000000, 300),
       "never fetched yet: fetch");
    ok(sync_should_refetch("new", 1000, NULL, 1000000, 1000000, 0),
       "a minimum interval of 0 allows an immediate fetch");
    json_decref(known);
}


static void
test_refresh_failure_keeps_keys(void)
{
    sync_keys_t         keys;
    cc_fetch_options_t  opt;
    json_t             *old;
    long long           retry_after;
    char                one[1][CC_FETCH_URL_MAX] = {
        "https://127.0.0.1:1/common/v2.0/.well-known/openid-configuration"
    };

    memset(&opt, 0, sizeof(opt));
    opt.connect_timeout_ms = 2000;
    opt.timeout_ms = 2000;
    opt.max_response = 65536;

    sync_keys_init(&keys, one, 1);
    old = json_pack("{s:o}", "A", entry(key_a, "A", V2_ISS, 1));
    keys.sources[0].keys = json_incref(old);

    is_int((long long) sync_keys_refresh(&keys, &opt, &retry_after), 1,
           "an issuer that cannot be reached fails the round");
    ok(keys.sources[0].keys == old, "the source keeps its last good keys");
    is_int(keys.sources[0].failures, 1, "the failure is counted");
    is_int(retry_after, -1, "no Retry-After without an answer");

    sync_keys_refresh(&keys, &opt, &retry_after);
    is_int(keys.sources[0].failures, 2, "consecutive failures add up");

    json_decref(old);
    sync_keys_free(&keys);
}


int
main(void)
{
    cc_log_init("sync-keys-test", CC_LOG_ERROR + 1, 0);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    key_a = kit_keygen("RSA");
    key_b = kit_keygen("RSA");
    key_c = kit_keygen("EC");

    test_discovery_urls();
    test_discovery_document();
    test_jwks();
    test_merge();
    test_diff_and_body();
    test_should_refetch();
    test_refresh_failure_keeps_keys();

    EVP_PKEY_free(key_a);
    EVP_PKEY_free(key_b);
    EVP_PKEY_free(key_c);
    curl_global_cleanup();
    return done_testing();
}
