/*
 * The registry sync's thread: full resyncs, single pushes on notification,
 * the poll of GET /registry, and pushing key changes (see
 * sync_registry.h).
 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cc_clock.h"
#include "cc_fetch.h"
#include "cc_log.h"
#include "cc_nginx.h"
#include "cc_signal.h"
#include "sync_db.h"
#include "sync_entries.h"
#include "sync_jwks.h"
#include "sync_keys.h"
#include "sync_registry.h"


#define SYNC_NGINX_TIMEOUT_MS    5000
#define SYNC_MAX_NOTICES         256     /* per batch; more: resync */
#define SYNC_RETRY_BASE_MS       500
#define SYNC_RETRY_MAX_MS        30000
#define SYNC_LONGEST_WAIT_MS     60000

typedef struct sync_stats {
    unsigned long long  full_ok;
    unsigned long long  full_failed;
    unsigned long long  entries_full;       /* entries sent by full syncs */
    unsigned long long  entries_single;     /* single PUTs and DELETEs */
    unsigned long long  push_failed;
    time_t              last_sync;          /* 0: none yet */
    int                 nginx_up;
    int                 db_up;
} sync_stats_t;

struct sync_registry {
    const cc_config_t   *cfg;
    int                  enabled;
    pthread_t            thread;
    volatile int         stop;
    int                  wake[2];       /* the key thread and stop write */
    sync_db_t            db;
    cc_nginx_t          *ngx;
    sync_jwks_t         *jwks;

    /* The sync thread's own. */
    json_t              *pushed;        /* keys nginx holds; NULL: unknown */
    unsigned long long   keys_version;  /* of the key set last pushed */
    int                  need_full;
    int                  full_failures;
    int                  db_failures;
    long long            next_full;
    long long            next_poll;
    long long            next_db;
    unsigned long long   tags;
    sync_notice_t        notices[SYNC_MAX_NOTICES];

    /* Shared with /metrics and /healthz. */
    pthread_mutex_t      lock;
    sync_stats_t         stats;
};


static long long
unix_ms(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


static int
stopping(sync_registry_t *s)
{
    return s->stop || cc_signal_shutdown_requested();
}


/* --- shared state ------------------------------------------------------ */

static void
set_nginx_up(sync_registry_t *s, int up, const cc_nginx_answer_t *ans)
{
    int  was;

    pthread_mutex_lock(&s->lock);
    was = s->stats.nginx_up;
    s->stats.nginx_up = up;
    pthread_mutex_unlock(&s->lock);

    if (was && !up) {
        cc_log_fields(CC_LOG_WARN, "nginx control API unreachable",
                      json_pack("{s:s}", "error", ans->error));
    } else if (!was && up) {
        cc_log(CC_LOG_INFO, "nginx control API reachable");
    }
}


static void
set_db_up(sync_registry_t *s, int up)
{
    pthread_mutex_lock(&s->lock);
    s->stats.db_up = up;
    pthread_mutex_unlock(&s->lock);
}


static void
count_single(sync_registry_t *s, int ok)
{
    pthread_mutex_lock(&s->lock);
    if (ok) {
        s->stats.entries_single++;
    } else {
        s->stats.push_failed++;
    }
    pthread_mutex_unlock(&s->lock);
}


/* A request to nginx; 0 for a 2xx answer.  Tracks reachability. */
static int
ask_nginx(sync_registry_t *s, const char *method, const char *path,
          const json_t *body, cc_nginx_answer_t *ans)
{
    int  rc;

    rc = cc_nginx_request(s->ngx, method, path, body, ans);
    set_nginx_up(s, ans->status != 0, ans);
    return rc;
}


static void
resync_soon(sync_registry_t *s, const char *why)
{
    if (!s->need_full) {
        cc_log_fields(CC_LOG_INFO, "full registry resync needed",
                      json_pack("{s:s}", "why", why));
    }
    s->need_full = 1;
}


/* --- keys ---------------------------------------------------------------- */

/*
 * The key set nginx should hold: the issuers' merged set; while some
 * source has never answered, plus the keys nginx already holds, so that
 * a key is never removed for want of an answer.  NULL when neither is
 * known yet.  *version receives the merged set's version.
 */
static json_t *
wanted_keys(sync_registry_t *s, unsigned long long *version)
{
    json_t  *current, *wanted;
    int      complete;

    current = sync_jwks_current(s->jwks, &complete, version);
    if (current == NULL) {
        return s->pushed ? json_copy(s->pushed) : NULL;
    }
    if (complete) {
        return current;
    }
    if (s->pushed == NULL) {
        json_decref(current);
        return NULL;
    }
    /* A shallow copy: the published set is shared with the key thread. */
    wanted = json_copy(current);
    json_decref(current);
    json_object_update_missing(wanted, s->pushed);
    return wanted;
}


/* The keys nginx holds (GET /registry/keys) as a key set, for a start in
 * which the issuers have not answered yet. */
static int
adopt_registry_keys(sync_registry_t *s)
{
    cc_nginx_answer_t   ans;
    json_t             *list, *item, *set;
    const char         *kid;
    size_t              i;

    if (ask_nginx(s, "GET", "/registry/keys", NULL, &ans) != 0) {
        cc_nginx_answer_clear(&ans);
        return -1;
    }
    set = json_object();
    list = json_object_get(ans.json, "keys");
    json_array_foreach(list, i, item) {
        kid = json_string_value(json_object_get(item, "kid"));
        if (kid == NULL || json_is_true(json_object_get(item, "revoked"))
            || !json_is_object(json_object_get(item, "jwk"))
            || !json_is_string(json_object_get(item, "issuer")))
        {
            continue;
        }
        json_object_set_new(set, kid, json_pack("{s:O,s:O,s:b}",
                            "jwk", json_object_get(item, "jwk"),
                            "issuer", json_object_get(item, "issuer"),
                            "own", 0));
    }
    cc_nginx_answer_clear(&ans);
    json_decref(s->pushed);
    s->pushed = set;
    cc_log_fields(CC_LOG_INFO, "kept the keys nginx holds until the "
                  "issuers answer",
                  json_pack("{s:I}", "keys",
                            (json_int_t) json_object_size(set)));
    return 0;
}


static int
push_key(sync_registry_t *s, const char *kid, const json_t *entry)
{
    cc_nginx_answer_t   ans;
    char                path[CC_NGINX_PATH_MAX];
    json_t             *body;
    int                 rc;

    if (cc_nginx_entry_path(path, sizeof(path), "keys", kid, NULL) != 0) {
        return -1;
    }
    if (entry != NULL) {
        body = sync_key_body(entry);
        rc = ask_nginx(s, "PUT", path, body, &ans);
        json_decref(body);
    } else {
        rc = ask_nginx(s, "DELETE", path, NULL, &ans);
        if (ans.status == 404) {
            rc = 0;
        }
    }
    cc_log_fields(rc == 0 ? CC_LOG_INFO : CC_LOG_WARN,
                  rc == 0 ? "signing key pushed to nginx"
                          : "signing key not pushed to nginx",
                  json_pack("{s:s,s:s,s:i,s:s*}", "kid", kid,
                            "method", entry ? "PUT" : "DELETE",
                            "status", (int) ans.status,
                            "error", rc == 0 ? NULL : ans.error));
    cc_nginx_answer_clear(&ans);
    count_single(s, rc == 0);
    return rc;
}


/* Makes nginx's keys the wanted ones with single PUTs and DELETEs. */
static void
push_keys(sync_registry_t *s)
{
    unsigned long long   version;
    json_t              *wanted, *put, *del, *kid;
    const char          *name;
    size_t               i;
    int                  failed;

    if (s->need_full || s->pushed == NULL) {
        return;     /* the next full sync carries them */
    }
    wanted = wanted_keys(s, &version);
    if (wanted == NULL || version == s->keys_version) {
        json_decref(wanted);
        return;
    }

    sync_keys_diff(wanted, s->pushed, &put, &del);
    failed = 0;
    json_array_foreach(put, i, kid) {
        name = json_string_value(kid);
        if (!failed && push_key(s, name, json_object_get(wanted, name)) == 0) {
            json_object_set(s->pushed, name, json_object_get(wanted, name));
        } else {
            failed = 1;
        }
    }
    json_array_foreach(del, i, kid) {
        name = json_string_value(kid);
        if (!failed && push_key(s, name, NULL) == 0) {
            json_object_del(s->pushed, name);
        } else {
            failed = 1;
        }
    }
    json_decref(put);
    json_decref(del);
    json_decref(wanted);

    s->keys_version = version;
    if (failed) {
        resync_soon(s, "a key push failed");
    }
}


/* --- full resync ------------------------------------------------------ */

static void
make_tag(sync_registry_t *s, char *tag, size_t len)
{
    snprintf(tag, len, "%.40s/%lld/%llu", s->cfg->worker_id,
             (long long) time(NULL), ++s->tags);
}


static void
full_sync_done(sync_registry_t *s, const json_t *body, json_t *keys,
               unsigned long long version, const cc_nginx_answer_t *ans)
{
    size_t  tenants, devices, sessions, nkeys;

    tenants = json_array_size(json_object_get(body, "tenants"));
    devices = json_array_size(json_object_get(body, "devices"));
    sessions = json_array_size(json_object_get(body, "sessions"));
    nkeys = json_object_size(keys);

    json_decref(s->pushed);
    s->pushed = keys;
    s->keys_version = version;
    s->need_full = 0;
    s->full_failures = 0;

    pthread_mutex_lock(&s->lock);
    s->stats.full_ok++;
    s->stats.entries_full += tenants + devices + sessions + nkeys;
    s->stats.last_sync = time(NULL);
    pthread_mutex_unlock(&s->lock);

    cc_log_fields(CC_LOG_INFO, "registry resynced",
                  json_pack("{s:I,s:I,s:I,s:I,s:O?}",
                            "tenants", (json_int_t) tenants,
                            "devices", (json_int_t) devices,
                            "sessions", (json_int_t) sessions,
                            "keys", (json_int_t) nkeys,
                            "generation",
                            json_object_get(ans->json, "generation")));
}


static void
full_sync_failed(sync_registry_t *s, const char *why,
                 const cc_nginx_answer_t *ans)
{
    long long  delay;

    s->full_failures++;
    delay = cc_fetch_backoff_ms(s->full_failures, SYNC_RETRY_BASE_MS,
                                SYNC_RETRY_MAX_MS, -1);
    s->next_full = cc_clock_monotonic_ms() + delay;

    pthread_mutex_lock(&s->lock);
    s->stats.full_failed++;
    pthread_mutex_unlock(&s->lock);

    cc_log_fields(s->full_failures == 1 ? CC_LOG_WARN : CC_LOG_DEBUG,
                  "registry resync failed",
                  json_pack("{s:s,s:i,s:s,s:I}", "why", why,
                            "status", ans ? (int) ans->status : 0,
                            "error", ans ? ans->error : "",
                            "retry_in_ms", (json_int_t) delay));
}


static void
full_sync(sync_registry_t *s)
{
    cc_nginx_answer_t    ans;
    unsigned long long   version;
    json_t              *keys, *body;
    char                 tag[SYNC_TAG_MAX + 1];
    size_t               skipped;

    keys = wanted_keys(s, &version);
    if (keys == NULL) {
        if (adopt_registry_keys(s) != 0) {
            full_sync_failed(s, "cannot read nginx's keys", NULL);
            return;
        }
        keys = wanted_keys(s, &version);
    }

    make_tag(s, tag, sizeof(tag));
    body = sync_db_snapshot(&s->db, tag, &skipped);
    if (body == NULL) {
        json_decref(keys);
        full_sync_failed(s, "cannot read the database", NULL);
        return;
    }
    sync_body_set_keys(body, keys);

    if (ask_nginx(s, "POST", "/registry/sync", body, &ans) == 0) {
        full_sync_done(s, body, keys, version, &ans);
    } else {
        json_decref(keys);
        full_sync_failed(s, "nginx refused the sync", &ans);
    }
    cc_nginx_answer_clear(&ans);
    json_decref(body);
}


/* --- single pushes ------------------------------------------------------- */

static int
push_entry(sync_registry_t *s, const sync_notice_t *notice)
{
    cc_nginx_answer_t   ans;
    char                path[CC_NGINX_PATH_MAX];
    json_t             *body;
    int                 found, rc;

    found = sync_db_entry(&s->db, notice, &body);
    if (found < 0 || sync_notice_path(notice, path, sizeof(path)) != 0) {
        json_decref(body);
        return -1;
    }
    if (found) {
        rc = ask_nginx(s, "PUT", path, body, &ans);
    } else {
        rc = ask_nginx(s, "DELETE", path, NULL, &ans);
        if (ans.status == 404) {
            rc = 0;             /* it was not there: nothing to undo */
        }
    }
    json_decref(body);

    /* A session id is half a cookie: it is never logged. */
    cc_log_fields(rc == 0 ? CC_LOG_INFO : CC_LOG_WARN,
                  rc == 0 ? "registry entry pushed to nginx"
                          : "registry entry not pushed to nginx",
                  json_pack("{s:s,s:s*,s:s,s:i,s:s*}",
                            "kind", sync_kind_name(notice->kind),
                            "id", sync_kind_id_is_secret(notice->kind)
                                  ? NULL : notice->id,
                            "method", found ? "PUT" : "DELETE",
                            "status", (int) ans.status,
                            "error", rc == 0 ? NULL : ans.error));
    cc_nginx_answer_clear(&ans);
    count_single(s, rc == 0);
    return rc;
}


/* Pushes what notifications named until none are left. */
static void
push_notices(sync_registry_t *s)
{
    size_t  i, n;
    int     overflow;

    for ( ;; ) {
        n = 0;
        overflow = 0;
        if (sync_db_notices(&s->db, s->notices, SYNC_MAX_NOTICES, &n,
                            &overflow) != 0)
        {
            set_db_up(s, 0);
            return;     /* reconnecting will resync */
        }
        if (n == 0 && !overflow) {
            return;
        }
        if (overflow) {
            resync_soon(s, "too many changes at once");
        }
        for (i = 0; i < n && !s->need_full && !stopping(s); i++) {
            if (push_entry(s, &s->notices[i]) != 0) {
                resync_soon(s, "a push failed");
            }
        }
    }
}


/* --- the poll of GET /registry ------------------------------------------- */

static void
check_unknown_kid(sync_registry_t *s, const json_t *unknown)
{
    sync_jwks_stats_t    st;
    unsigned long long   version;
    json_t              *known;
    const char          *kid;
    long long            at;
    int                  complete;

    kid = json_string_value(json_object_get(unknown, "kid"));
    at = json_integer_value(json_object_get(unknown, "at"));
    if (kid == NULL) {
        return;
    }
    sync_jwks_stats(s->jwks, &st);
    known = sync_jwks_current(s->jwks, &complete, &version);
    if (sync_should_refetch(kid, at, known, st.last_attempt_ms, unix_ms(),
                            s->cfg->jwks_min_refresh_seconds))
    {
        cc_log_fields(CC_LOG_INFO, "nginx met an unknown kid; fetching "
                      "the JWKS now",
                      json_pack("{s:s%}", "kid", kid,
                                strnlen(kid, SYNC_KID_MAX)));
        sync_jwks_refetch(s->jwks);
    }
    json_decref(known);
}


static void
poll_registry(sync_registry_t *s)
{
    cc_nginx_answer_t   ans;
    json_t             *sync_info, *unknown;

    s->next_poll = cc_clock_monotonic_ms() + s->cfg->registry_poll_ms;
    if (ask_nginx(s, "GET", "/registry", NULL, &ans) != 0) {
        cc_nginx_answer_clear(&ans);
        return;
    }

    sync_info = json_object_get(ans.json, "sync");
    if (json_is_null(json_object_get(sync_info, "tag"))) {
        resync_soon(s, "nginx's registry is empty (nginx restarted)");
        s->next_full = 0;
    }
    unknown = json_object_get(ans.json, "unknown_kid");
    if (json_is_object(unknown)) {
        check_unknown_kid(s, unknown);
    }
    cc_nginx_answer_clear(&ans);
}


/* --- the loop ------------------------------------------------------------ */

static void
ensure_database(sync_registry_t *s)
{
    int  rc;

    if (sync_db_up(&s->db) || cc_clock_monotonic_ms() < s->next_db) {
        return;
    }
    rc = sync_db_ensure(&s->db);
    set_db_up(s, rc >= 0);
    if (rc < 0) {
        s->db_failures++;
        s->next_db = cc_clock_monotonic_ms() + cc_fetch_backoff_ms(s->db_failures,
                                                    SYNC_RETRY_BASE_MS,
                                                    SYNC_RETRY_MAX_MS, -1);
        return;
    }
    s->db_failures = 0;
    if (rc == 1) {
        /* Changes made while nobody listened were not notified. */
        resync_soon(s, "database connection (re)made");
        s->next_full = 0;
    }
}


static long long
earliest(long long a, long long b)
{
    return a < b ? a : b;
}


static void
drain_wake_pipe(sync_registry_t *s)
{
    char  buf[64];

    while (read(s->wake[0], buf, sizeof(buf)) > 0) {
        /* keys changed, or stop: the loop looks at both */
    }
}


static void
wait_for_work(sync_registry_t *s)
{
    struct pollfd  pfd[3];
    long long      deadline, left;
    int            n;

    deadline = s->next_poll;
    if (s->need_full && sync_db_up(&s->db)) {
        /* (Without the database a full sync waits for next_db.) */
        deadline = earliest(deadline, s->next_full);
    }
    if (!sync_db_up(&s->db)) {
        deadline = earliest(deadline, s->next_db);
    }
    left = deadline - cc_clock_monotonic_ms();
    if (left < 0) {
        left = 0;
    } else if (left > SYNC_LONGEST_WAIT_MS) {
        left = SYNC_LONGEST_WAIT_MS;
    }

    pfd[0].fd = cc_signal_fd();
    pfd[1].fd = s->wake[0];
    pfd[2].fd = sync_db_socket(&s->db);
    pfd[0].events = pfd[1].events = pfd[2].events = POLLIN;
    n = pfd[2].fd >= 0 ? 3 : 2;

    if (poll(pfd, n, (int) left) > 0 && (pfd[1].revents & POLLIN)) {
        drain_wake_pipe(s);
    }
}


static void *
sync_main(void *arg)
{
    sync_registry_t  *s = arg;

    cc_log_fields(CC_LOG_INFO, "registry sync started",
                  json_pack("{s:i}", "poll_ms", s->cfg->registry_poll_ms));
    s->need_full = 1;

    while (!stopping(s)) {
        ensure_database(s);
        if (cc_clock_monotonic_ms() >= s->next_poll) {
            poll_registry(s);
        }
        if (s->need_full && cc_clock_monotonic_ms() >= s->next_full
            && sync_db_up(&s->db))
        {
            full_sync(s);
        }
        if (sync_db_up(&s->db)) {
            push_notices(s);
        }
        push_keys(s);
        wait_for_work(s);
    }
    cc_log(CC_LOG_INFO, "registry sync stopped");
    return NULL;
}


/* --- start, stop, metrics, health -------------------------------------- */

static int
open_wake_pipe(sync_registry_t *s)
{
    if (pipe2(s->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
        s->wake[0] = s->wake[1] = -1;
        return -1;
    }
    return 0;
}


static int
start_threads(sync_registry_t *s)
{
    char    urls[SYNC_MAX_SOURCES][CC_FETCH_URL_MAX];
    char    err[SYNC_ERR_LEN];
    size_t  n;

    if (sync_discovery_urls(s->cfg->oidc_discovery_urls, s->cfg->login_url,
                            urls, SYNC_MAX_SOURCES, &n, err,
                            sizeof(err)) != 0)
    {
        cc_log_fields(CC_LOG_ERROR, "registry sync not started",
                      json_pack("{s:s}", "error", err));
        return -1;
    }
    if (open_wake_pipe(s) != 0) {
        return -1;
    }
    s->ngx = cc_nginx_create(s->cfg->nginx_control_socket,
                             SYNC_NGINX_TIMEOUT_MS, &s->stop);
    if (s->ngx == NULL) {
        return -1;
    }
    s->jwks = sync_jwks_start(s->cfg, urls, n, s->wake[1]);
    if (s->jwks == NULL) {
        return -1;
    }
    if (pthread_create(&s->thread, NULL, sync_main, s) != 0) {
        return -1;
    }
    s->enabled = 1;
    return 0;
}


sync_registry_t *
sync_registry_start(const cc_config_t *cfg)
{
    sync_registry_t  *s;

    s = calloc(1, sizeof(*s));
    if (s == NULL) {
        return NULL;
    }
    s->cfg = cfg;
    s->wake[0] = s->wake[1] = -1;
    s->db.conninfo = cfg->database_url;
    pthread_mutex_init(&s->lock, NULL);

    if (cfg->nginx_control_socket[0] == '\0') {
        cc_log(CC_LOG_INFO, "registry sync off (CC_NGINX_CONTROL_SOCKET "
               "is not set)");
        return s;
    }
    if (start_threads(s) != 0) {
        cc_log(CC_LOG_ERROR, "cannot start the registry sync");
        sync_registry_stop(s);
        return NULL;
    }
    return s;
}


void
sync_registry_stop(sync_registry_t *s)
{
    if (s == NULL) {
        return;
    }
    if (s->enabled) {
        s->stop = 1;
        if (write(s->wake[1], "s", 1) < 0) {
            /* the loop also sees s->stop within a poll interval */
        }
        pthread_join(s->thread, NULL);
    }
    sync_jwks_stop(s->jwks);
    cc_nginx_destroy(s->ngx);
    sync_db_close(&s->db);
    json_decref(s->pushed);
    if (s->wake[0] >= 0) {
        close(s->wake[0]);
        close(s->wake[1]);
    }
    pthread_mutex_destroy(&s->lock);
    free(s);
}


void
sync_registry_collect(FILE *out, void *arg)
{
    sync_registry_t    *s = arg;
    sync_stats_t        st;
    sync_jwks_stats_t   js;

    pthread_mutex_lock(&s->lock);
    st = s->stats;
    pthread_mutex_unlock(&s->lock);
    memset(&js, 0, sizeof(js));
    if (s->jwks != NULL) {
        sync_jwks_stats(s->jwks, &js);
    }

    fprintf(out,
            "# HELP cc_registry_sync_enabled Whether this worker keeps "
            "nginx's registry in sync.\n"
            "# TYPE cc_registry_sync_enabled gauge\n"
            "cc_registry_sync_enabled %d\n"
            "# HELP cc_registry_syncs_total Full resyncs of nginx's "
            "registry, by outcome.\n"
            "# TYPE cc_registry_syncs_total counter\n"
            "cc_registry_syncs_total{outcome=\"ok\"} %llu\n"
            "cc_registry_syncs_total{outcome=\"failed\"} %llu\n"
            "# HELP cc_registry_entries_pushed_total Entries nginx "
            "accepted, by how they were sent.\n"
            "# TYPE cc_registry_entries_pushed_total counter\n"
            "cc_registry_entries_pushed_total{how=\"full\"} %llu\n"
            "cc_registry_entries_pushed_total{how=\"single\"} %llu\n"
            "# HELP cc_registry_push_failures_total Single pushes nginx "
            "did not accept.\n"
            "# TYPE cc_registry_push_failures_total counter\n"
            "cc_registry_push_failures_total %llu\n"
            "# HELP cc_registry_last_sync_timestamp_seconds When the last "
            "full resync succeeded (0: never).\n"
            "# TYPE cc_registry_last_sync_timestamp_seconds gauge\n"
            "cc_registry_last_sync_timestamp_seconds %lld\n"
            "# HELP cc_jwks_fetches_total Rounds of OIDC discovery and "
            "JWKS per source, by outcome.\n"
            "# TYPE cc_jwks_fetches_total counter\n"
            "cc_jwks_fetches_total{outcome=\"ok\"} %llu\n"
            "cc_jwks_fetches_total{outcome=\"failed\"} %llu\n"
            "# HELP cc_jwks_keys Signing keys in the merged set.\n"
            "# TYPE cc_jwks_keys gauge\n"
            "cc_jwks_keys %zu\n",
            s->enabled, st.full_ok, st.full_failed, st.entries_full,
            st.entries_single, st.push_failed, (long long) st.last_sync,
            js.fetches_ok, js.fetches_failed, js.keys);
}


static const char *
state_name(const sync_stats_t *st)
{
    if (!st->db_up) {
        return "database_unreachable";
    }
    if (!st->nginx_up) {
        return "nginx_unreachable";
    }
    return st->last_sync ? "ok" : "starting";
}


json_t *
sync_registry_health(void *arg)
{
    sync_registry_t    *s = arg;
    sync_stats_t        st;
    sync_jwks_stats_t   js;
    const char         *jwks;

    if (!s->enabled) {
        return json_pack("{s:s}", "state", "off");
    }
    pthread_mutex_lock(&s->lock);
    st = s->stats;
    pthread_mutex_unlock(&s->lock);
    sync_jwks_stats(s->jwks, &js);

    jwks = js.failing ? "failing" : js.last_success ? "ok" : "pending";
    return json_pack("{s:s,s:o,s:I,s:s}", "state", state_name(&st),
                     "last_sync", st.last_sync
                                  ? json_integer((json_int_t) st.last_sync)
                                  : json_null(),
                     "keys", (json_int_t) js.keys, "jwks", jwks);
}
