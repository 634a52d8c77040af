/*
 * The Autopilot registration lookup behind cc-ingest's admission: a
 * bounded LRU cache of answers per (tenant, serial), and the Graph query
 * that fills it.
 */

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "cc_entra_token.h"
#include "cc_fetch.h"
#include "cc_graph.h"
#include "cc_log.h"
#include "ingest_autopilot.h"


#define AP_CACHE_ENTRIES    8192
#define AP_BUCKETS          4096
#define AP_MAX_PAGES        10
#define AP_MAX_RESPONSE     (4 * 1024 * 1024)
#define AP_KEY_MAX          (64 + INGEST_AUTOPILOT_SERIAL_MAX)
#define AP_LOG_AGAIN_SECS   60          /* a failure that may pass */
#define AP_LOG_REFUSAL_SECS 3600        /* one an operator must fix */

#define AP_LIST_PATH  "v1.0/deviceManagement/windowsAutopilotDeviceIdentities"


/* ---- the cache -------------------------------------------------------- */

typedef struct ap_entry_s  ap_entry_t;

struct ap_entry_s {
    ap_entry_t     *hnext;          /* the bucket's chain */
    ap_entry_t     *newer;          /* LRU list, newest at the head */
    ap_entry_t     *older;
    time_t          expires;        /* monotonic seconds */
    int             registered;
    unsigned        hash;
    char            key[AP_KEY_MAX];    /* tenant "\n" lower-case serial */
};

typedef struct {
    ap_entry_t     *buckets[AP_BUCKETS];
    ap_entry_t     *newest;
    ap_entry_t     *oldest;
    size_t          count;
    size_t          capacity;
} ap_cache_t;


/* FNV-1a: short keys, no adversary can pick a tenant's serials at will
 * beyond its own devices, and the chains are bounded by the capacity. */
static unsigned
key_hash(const char *key)
{
    unsigned  h = 2166136261u;

    while (*key != '\0') {
        h ^= (unsigned char) *key++;
        h *= 16777619u;
    }
    return h;
}


/* The cache key of a pair; serials compare without regard to case, as
 * the lookup's exact match does.  -1 when the serial is too long. */
static int
make_key(char *key, const char *tenant, const char *serial)
{
    size_t  n, i;

    n = strlen(tenant);
    if (n > 63 || strlen(serial) > INGEST_AUTOPILOT_SERIAL_MAX) {
        return -1;
    }
    memcpy(key, tenant, n);
    key[n++] = '\n';
    for (i = 0; serial[i] != '\0'; i++) {
        key[n++] = (char) tolower((unsigned char) serial[i]);
    }
    key[n] = '\0';
    return 0;
}


static void
unlink_lru(ap_cache_t *c, ap_entry_t *e)
{
    if (e->newer != NULL) {
        e->newer->older = e->older;
    } else {
        c->newest = e->older;
    }
    if (e->older != NULL) {
        e->older->newer = e->newer;
    } else {
        c->oldest = e->newer;
    }
    e->newer = e->older = NULL;
}


static void
push_newest(ap_cache_t *c, ap_entry_t *e)
{
    e->older = c->newest;
    e->newer = NULL;
    if (c->newest != NULL) {
        c->newest->newer = e;
    }
    c->newest = e;
    if (c->oldest == NULL) {
        c->oldest = e;
    }
}


static ap_entry_t *
cache_find(ap_cache_t *c, const char *key, unsigned hash)
{
    ap_entry_t  *e;

    for (e = c->buckets[hash % AP_BUCKETS]; e != NULL; e = e->hnext) {
        if (e->hash == hash && strcmp(e->key, key) == 0) {
            return e;
        }
    }
    return NULL;
}


static void
cache_remove(ap_cache_t *c, ap_entry_t *e)
{
    ap_entry_t  **pp;

    for (pp = &c->buckets[e->hash % AP_BUCKETS]; *pp != NULL;
         pp = &(*pp)->hnext)
    {
        if (*pp == e) {
            *pp = e->hnext;
            break;
        }
    }
    unlink_lru(c, e);
    c->count--;
    free(e);
}


/* 1 with *registered set when key has a current answer, else 0 (an
 * expired answer is dropped on the way). */
static int
cache_get(ap_cache_t *c, const char *key, time_t now, int *registered)
{
    ap_entry_t  *e;

    e = cache_find(c, key, key_hash(key));
    if (e == NULL) {
        return 0;
    }
    if (e->expires <= now) {
        cache_remove(c, e);
        return 0;
    }
    unlink_lru(c, e);
    push_newest(c, e);
    *registered = e->registered;
    return 1;
}


static void
cache_put(ap_cache_t *c, const char *key, int registered, time_t expires)
{
    ap_entry_t  *e;
    unsigned     hash;

    hash = key_hash(key);
    e = cache_find(c, key, hash);
    if (e == NULL) {
        if (c->count >= c->capacity && c->oldest != NULL) {
            cache_remove(c, c->oldest);
        }
        e = calloc(1, sizeof(*e));
        if (e == NULL) {
            return;         /* not cached: the next request asks again */
        }
        snprintf(e->key, sizeof(e->key), "%s", key);
        e->hash = hash;
        e->hnext = c->buckets[hash % AP_BUCKETS];
        c->buckets[hash % AP_BUCKETS] = e;
        c->count++;
    } else {
        unlink_lru(c, e);
    }
    e->registered = registered;
    e->expires = expires;
    push_newest(c, e);
}


static void
cache_clear(ap_cache_t *c)
{
    while (c->oldest != NULL) {
        cache_remove(c, c->oldest);
    }
}


/* ---- the lookup -------------------------------------------------------- */

typedef struct {
    char        at[32];
    char        tenant[64];
    char        what[128];
    long        status;
    char        error[64];
    long        aadsts;
    int         operator_needed;    /* credentials, consent, permission */
} ap_failure_t;

struct ingest_autopilot {
    cc_entra_token_client_t  *tokens;       /* NULL: no client configured */
    char                     *graph_url;
    cc_fetch_options_t        fetch;
    pthread_mutex_t           lock;         /* cache and health below */
    ap_cache_t                cache;
    char                      last_success[32];
    ap_failure_t              last_failure;
    time_t                    last_logged;
    char                      last_logged_tenant[64];
    char                      last_logged_what[128];
};


static time_t
monotonic_now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}


ingest_autopilot_t *
ingest_autopilot_create(const cc_config_t *cfg)
{
    ingest_autopilot_t       *ap;
    cc_entra_token_config_t   tc;

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        return NULL;
    }
    ap = calloc(1, sizeof(*ap));
    if (ap == NULL) {
        return NULL;
    }
    ap->graph_url = strdup(cfg->graph_url);
    ap->cache.capacity = AP_CACHE_ENTRIES;
    ap->fetch.ca_file = cfg->ca_file;
    ap->fetch.connect_timeout_ms = cfg->graph_timeout_ms;
    ap->fetch.timeout_ms = cfg->graph_timeout_ms;
    ap->fetch.max_response = AP_MAX_RESPONSE;
    if (ap->graph_url == NULL || pthread_mutex_init(&ap->lock, NULL) != 0) {
        free(ap->graph_url);
        free(ap);
        return NULL;
    }
    /* CC_CLIENT_ID alone also names the app whose tokens nginx accepts
     * (tools/render-conf); only with a secret can we ask for tokens. */
    if (cfg->client_id[0] != '\0' && cfg->client_secret_file[0] != '\0') {
        tc = (cc_entra_token_config_t) {
            .login_url = cfg->login_url,
            .client_id = cfg->client_id,
            .secret_file = cfg->client_secret_file,
            .ca_file = cfg->ca_file,
            .timeout_ms = cfg->graph_timeout_ms,
        };
        ap->tokens = cc_entra_token_create(&tc);
        if (ap->tokens == NULL) {
            ingest_autopilot_destroy(ap);
            return NULL;
        }
    } else if (cfg->autopilot_check) {
        cc_log(CC_LOG_WARN, "no Graph client (CC_CLIENT_ID and "
               "CC_CLIENT_SECRET_FILE): devices of tenants that check "
               "Autopilot registration are told to retry");
    }
    return ap;
}


void
ingest_autopilot_destroy(ingest_autopilot_t *ap)
{
    if (ap == NULL) {
        return;
    }
    cc_entra_token_destroy(ap->tokens);
    cache_clear(&ap->cache);
    pthread_mutex_destroy(&ap->lock);
    free(ap->graph_url);
    free(ap);
}


/*
 * Keeps the failure for /healthz and logs it, but not the same failure of
 * the same tenant over and over while it lasts: one an operator must fix
 * at error level once an hour, one that may pass at warn level once a
 * minute.  A success in that tenant ends the failure.
 */
static void
record_failure(ingest_autopilot_t *ap, const ap_failure_t *f)
{
    time_t   now;
    int      log_it;
    json_t  *fields;

    now = monotonic_now();
    pthread_mutex_lock(&ap->lock);
    ap->last_failure = *f;
    cc_log_timestamp(ap->last_failure.at, sizeof(ap->last_failure.at));
    log_it = strcmp(ap->last_logged_tenant, f->tenant) != 0
             || strcmp(ap->last_logged_what, f->what) != 0
             || now - ap->last_logged >= (f->operator_needed
                                          ? AP_LOG_REFUSAL_SECS
                                          : AP_LOG_AGAIN_SECS);
    if (log_it) {
        ap->last_logged = now;
        snprintf(ap->last_logged_tenant, sizeof(ap->last_logged_tenant),
                 "%s", f->tenant);
        snprintf(ap->last_logged_what, sizeof(ap->last_logged_what), "%s",
                 f->what);
    }
    pthread_mutex_unlock(&ap->lock);

    if (!log_it) {
        return;
    }
    fields = json_pack("{s:s,s:s,s:I}", "tenant", f->tenant,
                       "failure", f->what, "status", (json_int_t) f->status);
    if (f->error[0] != '\0') {
        json_object_set_new(fields, "error", json_string(f->error));
    }
    if (f->aadsts != 0) {
        json_object_set_new(fields, "aadsts", json_integer(f->aadsts));
    }
    cc_log_fields(f->operator_needed ? CC_LOG_ERROR : CC_LOG_WARN,
                  f->operator_needed
                  ? "autopilot lookup refused: credentials or consent"
                  : "autopilot lookup failed; agents are told to retry",
                  fields);
}


static void
record_success(ingest_autopilot_t *ap, const char *tenant)
{
    pthread_mutex_lock(&ap->lock);
    cc_log_timestamp(ap->last_success, sizeof(ap->last_success));
    if (strcmp(ap->last_logged_tenant, tenant) == 0) {
        ap->last_logged_tenant[0] = '\0';
    }
    pthread_mutex_unlock(&ap->lock);
}


static ingest_autopilot_verdict_t
fail(ingest_autopilot_t *ap, const char *tenant, const char *what,
     long status, int operator_needed)
{
    ap_failure_t  f;

    memset(&f, 0, sizeof(f));
    snprintf(f.tenant, sizeof(f.tenant), "%s", tenant);
    snprintf(f.what, sizeof(f.what), "%s", what);
    f.status = status;
    f.operator_needed = operator_needed;
    record_failure(ap, &f);
    return INGEST_AUTOPILOT_UNAVAILABLE;
}


static ingest_autopilot_verdict_t
token_failed(ingest_autopilot_t *ap, const char *tenant,
             cc_entra_token_status_t rc, const cc_entra_token_error_t *err)
{
    ap_failure_t  f;

    memset(&f, 0, sizeof(f));
    snprintf(f.tenant, sizeof(f.tenant), "%s", tenant);
    snprintf(f.what, sizeof(f.what), "token: %s", err->detail);
    snprintf(f.error, sizeof(f.error), "%s", err->error);
    f.status = err->http_status;
    f.aadsts = err->aadsts;
    f.operator_needed = rc == CC_ENTRA_TOKEN_REFUSED;
    record_failure(ap, &f);
    return INGEST_AUTOPILOT_UNAVAILABLE;
}


/*
 * The first page's URL: the filter with ' doubled inside the OData
 * string, then the whole expression URL-encoded.
 */
static int
first_page_url(const ingest_autopilot_t *ap, const char *serial, char *url,
               size_t len)
{
    char    filter[2 * INGEST_AUTOPILOT_SERIAL_MAX + 64];
    char    base[CC_FETCH_URL_MAX];
    char   *escaped;
    size_t  n, i;
    int     rc;

    n = (size_t) snprintf(filter, sizeof(filter), "contains(serialNumber,'");
    for (i = 0; serial[i] != '\0' && n + 4 < sizeof(filter); i++) {
        if (serial[i] == '\'') {
            filter[n++] = '\'';
        }
        filter[n++] = serial[i];
    }
    if (serial[i] != '\0' || n + 3 > sizeof(filter)) {
        return -1;
    }
    memcpy(filter + n, "')", 3);

    if (cc_fetch_join(base, sizeof(base), ap->graph_url, AP_LIST_PATH) != 0) {
        return -1;
    }
    escaped = curl_easy_escape(NULL, filter, 0);
    if (escaped == NULL) {
        return -1;
    }
    n = (size_t) snprintf(url, len, "%s?$filter=%s", base, escaped);
    rc = n < len ? 0 : -1;
    OPENSSL_cleanse(filter, sizeof(filter));
    curl_free(escaped);
    return rc;
}


/* Whether one page's "value" holds serial exactly (case aside). */
static int
page_lists(const json_t *page, const char *serial)
{
    json_t      *item;
    const char  *s;
    size_t       i;

    json_array_foreach(json_object_get(page, "value"), i, item) {
        s = json_string_value(json_object_get(item, "serialNumber"));
        if (s != NULL && strcasecmp(s, serial) == 0) {
            return 1;
        }
    }
    return 0;
}


/* A nextLink is followed only on Graph's own origin: the token goes with
 * it, so an answer must not be able to send it elsewhere. */
static int
is_graph_url(const ingest_autopilot_t *ap, const char *url)
{
    size_t  n;

    n = strlen(ap->graph_url);
    while (n > 0 && ap->graph_url[n - 1] == '/') {
        n--;
    }
    return strncmp(url, ap->graph_url, n) == 0 && url[n] == '/';
}


static ingest_autopilot_verdict_t
graph_failed(ingest_autopilot_t *ap, const char *tenant,
             const cc_fetch_result_t *res)
{
    char  what[128];

    if (res->status == 401) {
        /* A token Graph no longer takes: the next attempt gets a new one. */
        cc_entra_token_forget(ap->tokens, tenant, CC_GRAPH_SCOPE);
    }
    snprintf(what, sizeof(what), "graph: %s", cc_fetch_strerror(res->err));
    /* 403: the app lacks DeviceManagementServiceConfig.Read.All there. */
    return fail(ap, tenant, what, res->status, res->status == 403);
}


static ingest_autopilot_verdict_t
ask_graph(ingest_autopilot_t *ap, const char *tenant, const char *serial)
{
    char                      token[CC_ENTRA_TOKEN_MAX];
    char                      url[CC_FETCH_URL_MAX];
    cc_entra_token_error_t    terr;
    cc_entra_token_status_t   trc;
    cc_fetch_result_t         res;
    const char               *next;
    int                       page, found;

    if (ap->tokens == NULL) {
        return fail(ap, tenant, "no Graph client is configured "
                    "(CC_CLIENT_ID, CC_CLIENT_SECRET_FILE)", 0, 1);
    }
    trc = cc_entra_token_get(ap->tokens, tenant, CC_GRAPH_SCOPE, token,
                             sizeof(token), &terr);
    if (trc != CC_ENTRA_TOKEN_OK) {
        return token_failed(ap, tenant, trc, &terr);
    }
    if (first_page_url(ap, serial, url, sizeof(url)) != 0) {
        return fail(ap, tenant, "graph: the query URL is too long", 0, 0);
    }

    for (page = 0; page < AP_MAX_PAGES; page++) {
        if (cc_fetch_json_bearer(&ap->fetch, url, token, &res) != 0) {
            OPENSSL_cleanse(token, sizeof(token));
            return graph_failed(ap, tenant, &res);
        }
        found = page_lists(res.json, serial);
        next = json_string_value(json_object_get(res.json,
                                                 "@odata.nextLink"));
        if (!found && next != NULL
            && (strlen(next) >= sizeof(url) || !is_graph_url(ap, next)))
        {
            cc_fetch_result_clear(&res);
            OPENSSL_cleanse(token, sizeof(token));
            return fail(ap, tenant, "graph: a nextLink off Graph's origin",
                        200, 0);
        }
        if (!found && next != NULL) {
            strcpy(url, next);
        }
        cc_fetch_result_clear(&res);
        if (found || next == NULL) {
            OPENSSL_cleanse(token, sizeof(token));
            record_success(ap, tenant);
            return found ? INGEST_AUTOPILOT_REGISTERED
                         : INGEST_AUTOPILOT_NOT_REGISTERED;
        }
    }
    /* So many near matches that the bound ran out: the device is not
     * among the ones seen, which is the honest answer we have. */
    OPENSSL_cleanse(token, sizeof(token));
    cc_log_fields(CC_LOG_WARN, "autopilot lookup stopped after its page "
                  "limit", json_pack("{s:s,s:i}", "tenant", tenant,
                                     "pages", AP_MAX_PAGES));
    record_success(ap, tenant);
    return INGEST_AUTOPILOT_NOT_REGISTERED;
}


ingest_autopilot_verdict_t
ingest_autopilot_check(ingest_autopilot_t *ap, const char *tenant,
                       const char *serial)
{
    char                        key[AP_KEY_MAX];
    int                         registered, hit;
    ingest_autopilot_verdict_t  v;
    time_t                      ttl;

    if (make_key(key, tenant, serial) != 0) {
        return INGEST_AUTOPILOT_NOT_REGISTERED;
    }
    pthread_mutex_lock(&ap->lock);
    hit = cache_get(&ap->cache, key, monotonic_now(), &registered);
    pthread_mutex_unlock(&ap->lock);
    if (hit) {
        OPENSSL_cleanse(key, sizeof(key));
        return registered ? INGEST_AUTOPILOT_REGISTERED
                          : INGEST_AUTOPILOT_NOT_REGISTERED;
    }

    /* Not under the lock: a Graph round trip must not stall the other
     * tenants' requests.  Two misses for one pair both ask; fine. */
    v = ask_graph(ap, tenant, serial);
    if (v != INGEST_AUTOPILOT_UNAVAILABLE) {
        ttl = v == INGEST_AUTOPILOT_REGISTERED
              ? INGEST_AUTOPILOT_POSITIVE_SECONDS
              : INGEST_AUTOPILOT_NEGATIVE_SECONDS;
        pthread_mutex_lock(&ap->lock);
        cache_put(&ap->cache, key, v == INGEST_AUTOPILOT_REGISTERED,
                  monotonic_now() + ttl);
        pthread_mutex_unlock(&ap->lock);
    }
    OPENSSL_cleanse(key, sizeof(key));
    return v;
}


int
ingest_autopilot_known(ingest_autopilot_t *ap, const char *tenant,
                       const char *serial)
{
    char  key[AP_KEY_MAX];
    int   registered, hit;

    if (ap == NULL || serial == NULL || make_key(key, tenant, serial) != 0) {
        return 0;
    }
    pthread_mutex_lock(&ap->lock);
    hit = cache_get(&ap->cache, key, monotonic_now(), &registered);
    pthread_mutex_unlock(&ap->lock);
    OPENSSL_cleanse(key, sizeof(key));
    return hit && registered;
}


void
ingest_autopilot_health(void *arg, json_t *answer)
{
    ingest_autopilot_t  *ap = arg;
    json_t              *detail, *failure;

    pthread_mutex_lock(&ap->lock);
    detail = json_pack("{s:b,s:I}", "configured", ap->tokens != NULL,
                       "cached", (json_int_t) ap->cache.count);
    if (ap->last_success[0] != '\0') {
        json_object_set_new(detail, "lastSuccessAt",
                            json_string(ap->last_success));
    }
    if (ap->last_failure.at[0] != '\0') {
        failure = json_pack("{s:s,s:s,s:s,s:I,s:b}",
            "at", ap->last_failure.at, "tenant", ap->last_failure.tenant,
            "what", ap->last_failure.what,
            "status", (json_int_t) ap->last_failure.status,
            "operatorNeeded", ap->last_failure.operator_needed);
        if (ap->last_failure.error[0] != '\0') {
            json_object_set_new(failure, "error",
                                json_string(ap->last_failure.error));
        }
        if (ap->last_failure.aadsts != 0) {
            json_object_set_new(failure, "aadsts",
                                json_integer(ap->last_failure.aadsts));
        }
        json_object_set_new(detail, "lastFailure", failure);
    }
    pthread_mutex_unlock(&ap->lock);
    json_object_set_new(answer, "autopilot", detail);
}
