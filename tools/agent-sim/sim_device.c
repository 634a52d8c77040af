/*
 * One simulated device: the agent's calls in the agent's order (config,
 * register-session, telemetry batches, upload-url), each answer handled
 * the way the agent handles it (agent-protocol.md 5, 6, 7 and 11), over a
 * libcurl easy handle that keeps its TLS connection alive.
 *
 * The waits the agent makes between attempts are scaled by --retry-scale,
 * so a test can see a retry without waiting for it.
 */

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sys/resource.h>

#include <jansson.h>

#include "sim_device.h"
#include "sim_pack.h"

#define AGENT_VERSION  "2.0.1412+sim"
#define USER_AGENT     "AutopilotMonitor.Agent/" AGENT_VERSION

/* Tries of a batch refused as if the queue were blocked (an unexpected
 * 4xx) before the device gives up: the agent would try for ever. */
#define BLOCKED_TRIES_MAX  3

/* An open-loop batch sent later than this after its scheduled time
 * counts as late. */
#define LATE_US  10000


long long
sim_now_ms(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


long long
sim_wall_ms(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


long long
sim_now_us(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}


double
sim_cpu_s(void)
{
    struct rusage  ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double) ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6
           + (double) ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}


static size_t
collect_response(char *ptr, size_t size, size_t nmemb, void *arg)
{
    sim_device_t  *d = arg;

    sim_buf_add(&d->response, ptr, size * nmemb);
    return size * nmemb;
}


/* libcurl keeps the connections of a multi handle in one cache, by the
 * host and port they go to, and looks through them for each request,
 * checking each idle one (a syscall) before it gets to the TLS client
 * certificate that tells them apart: with every device on the same server
 * that is a walk over every device's connection per request.  Connecting
 * to a name of the device's own (CURLOPT_CONNECT_TO, resolved to the
 * server's address with CURLOPT_RESOLVE) gives each device a cache entry
 * of its own; TLS still checks the server's certificate against the URL's
 * host name. */
static int
own_connection_name(sim_device_t *d)
{
    char  line[320];

    if (d->run->server_addr[0] == '\0') {
        return 0;               /* unknown: share the cache, slower */
    }
    snprintf(line, sizeof(line), "::sim-%d.agent-sim.invalid:",
             d->index);
    d->connect_to = curl_slist_append(NULL, line);
    snprintf(line, sizeof(line), "sim-%d.agent-sim.invalid:%d:%s",
             d->index, d->run->server_port, d->run->server_addr);
    d->resolve = curl_slist_append(NULL, line);
    return d->connect_to != NULL && d->resolve != NULL ? 0 : -1;
}


int
sim_device_init(sim_device_t *d, sim_run_t *run)
{
    d->run = run;
    d->easy = curl_easy_init();
    if (d->easy == NULL || own_connection_name(d) != 0) {
        return -1;
    }
    d->step = run->distress ? SIM_DEV_DISTRESS : SIM_DEV_CONFIG;
    d->max_batch = 100;
    d->upload_interval_s = 10;
    d->max_auth_failures = 5;
    d->outcome = "running";
    return 0;
}


void
sim_device_free(sim_device_t *d)
{
    if (d->easy != NULL) {
        curl_easy_cleanup(d->easy);
    }
    curl_slist_free_all(d->headers);
    curl_slist_free_all(d->connect_to);
    curl_slist_free_all(d->resolve);
    sim_buf_free(&d->body);
    sim_buf_free(&d->wire);
    sim_buf_free(&d->response);
    if (d->have_session) {
        sim_session_free(&d->session);
    }
    while (d->next_prepared < d->nprepared) {
        sim_session_free(&d->prepared[d->next_prepared++]);
    }
    free(d->prepared);
    free(d->records);
}


static sim_record_t *
current_record(sim_device_t *d)
{
    return d->nrecords ? &d->records[d->nrecords - 1] : NULL;
}


static void
wait_seconds(sim_device_t *d, double seconds, long long now_ms)
{
    d->wake_at_ms = now_ms + (long long) (seconds * 1000.0
                                          * d->run->retry_scale);
}


static void
add_header(sim_device_t *d, const char *name, const char *value)
{
    char   line[512];

    if (value == NULL || value[0] == '\0') {
        return;         /* the agent leaves out empty headers */
    }
    snprintf(line, sizeof(line), "%s: %s", name, value);
    d->headers = curl_slist_append(d->headers, line);
}


/* The device headers every mTLS call carries (agent-protocol.md 2). */
static void
device_headers(sim_device_t *d, int user_agent)
{
    char  correlation[33];

    add_header(d, "X-Device-Manufacturer", d->profile.manufacturer);
    add_header(d, "X-Device-Model", d->profile.model);
    add_header(d, "X-Device-SerialNumber", d->profile.serial);
    add_header(d, "X-Agent-Version", AGENT_VERSION);
    sim_rand_hex32(&d->run->rand, correlation);
    add_header(d, "X-Correlation-ID", correlation);
    if (user_agent) {
        add_header(d, "User-Agent", USER_AGENT);
    } else {
        /* libcurl would send its own */
        d->headers = curl_slist_append(d->headers, "User-Agent:");
    }
    /* every body goes at once: no "Expect: 100-continue" round trip */
    d->headers = curl_slist_append(d->headers, "Expect:");
}


/* Hands the prepared request to the multi handle. */
static int
send_request(sim_device_t *d, const char *path, const char *method,
             const char *body, size_t body_len, int with_cert)
{
    char  url[1024];

    snprintf(url, sizeof(url), "%s%s", d->run->url, path);
    curl_easy_reset(d->easy);
    curl_easy_setopt(d->easy, CURLOPT_URL, url);
    curl_easy_setopt(d->easy, CURLOPT_CAINFO, d->run->ca_file);
    if (with_cert) {
        curl_easy_setopt(d->easy, CURLOPT_SSLCERT, d->cert);
        curl_easy_setopt(d->easy, CURLOPT_SSLKEY, d->key);
    }
    curl_easy_setopt(d->easy, CURLOPT_HTTPHEADER, d->headers);
    if (d->connect_to != NULL) {
        curl_easy_setopt(d->easy, CURLOPT_CONNECT_TO, d->connect_to);
        curl_easy_setopt(d->easy, CURLOPT_RESOLVE, d->resolve);
    }
    curl_easy_setopt(d->easy, CURLOPT_ACCEPT_ENCODING, "gzip, deflate");
    curl_easy_setopt(d->easy, CURLOPT_TIMEOUT_MS, 30000L);
    curl_easy_setopt(d->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(d->easy, CURLOPT_WRITEFUNCTION, collect_response);
    curl_easy_setopt(d->easy, CURLOPT_WRITEDATA, d);
    curl_easy_setopt(d->easy, CURLOPT_PRIVATE, d);
    if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(d->easy, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(d->easy, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t) body_len);
    }
    sim_buf_reset(&d->response);
    if (curl_multi_add_handle(d->run->multi, d->easy) != CURLM_OK) {
        return -1;
    }
    d->in_flight = 1;
    return 0;
}


static void
reset_headers(sim_device_t *d)
{
    curl_slist_free_all(d->headers);
    d->headers = NULL;
}


/* ---- requests ---------------------------------------------------------- */

static int
send_distress(sim_device_t *d)
{
    char  now[32];

    reset_headers(d);
    add_header(d, "X-Tenant-Id", d->profile.tenant_id);
    add_header(d, "User-Agent", USER_AGENT);
    add_header(d, "Content-Type", "application/json; charset=utf-8");
    d->headers = curl_slist_append(d->headers, "Expect:");
    sim_format_time(sim_wall_ms(), now);
    sim_buf_reset(&d->body);
    sim_buf_printf(&d->body, "{\"TenantId\":\"%s\",\"ErrorType\":2,"
                   "\"Manufacturer\":\"%s\",\"Model\":\"%s\","
                   "\"SerialNumber\":\"%s\",\"AgentVersion\":\""
                   AGENT_VERSION "\",\"HttpStatusCode\":403,"
                   "\"Message\":\"certificate rejected\","
                   "\"Timestamp\":\"%s\",\"IsCloudPc\":false,"
                   "\"CertSourceState\":2,\"CertSubject\":\"CN=%s\","
                   "\"CertIssuer\":\"CN=Microsoft Intune MDM Device CA\"}",
                   d->profile.tenant_id, d->profile.manufacturer,
                   d->profile.model, d->profile.serial, now,
                   d->profile.device_id);
    return send_request(d, "/api/agent/distress", "POST", d->body.data,
                        d->body.len, 0);
}


static int
send_config(sim_device_t *d)
{
    char  path[128];

    reset_headers(d);
    device_headers(d, 1);
    snprintf(path, sizeof(path), "/api/agent/config?tenantId=%s",
             d->profile.tenant_id);
    return send_request(d, path, "GET", NULL, 0, 1);
}


static size_t batch_limit(const sim_device_t *d);


/* Builds the device's next session into s; 0 or -1. */
static int
build_session(sim_device_t *d, sim_session_t *s)
{
    sim_run_t  *run = d->run;
    long long   start;
    int         apps;

    /* each device's clock starts a little apart, within the hour */
    start = run->clock_start_ms + sim_rand_below(&run->rand, 3600) * 1000LL;
    apps = run->apps;
    if (run->apps_max > run->apps) {
        apps += (int) sim_rand_below(&run->rand,
                                     (unsigned) (run->apps_max - run->apps + 1));
    }
    return sim_session_build(s, &d->profile, d->scenario, apps, run->pad,
                             start, &run->rand);
}


int
sim_device_prepare(sim_device_t *d, double events, size_t max_bytes)
{
    sim_session_t  *p;
    double          have;
    size_t          cap;

    have = 0;
    cap = 0;
    while (have < events) {
        if (d->nprepared == cap) {
            cap = cap ? cap * 2 : 8;
            p = realloc(d->prepared, cap * sizeof(*p));
            if (p == NULL) {
                return -1;
            }
            d->prepared = p;
        }
        p = &d->prepared[d->nprepared];
        if (build_session(d, p) != 0) {
            return -1;
        }
        if (sim_session_pack(p, batch_limit(d), d->run->gzip_level) != 0) {
            sim_session_free(p);
            return -1;
        }
        d->nprepared++;
        d->run->sessions_prepared++;
        d->run->prepared_bytes += sim_session_packed_bytes(p);
        have += (double) p->nevents;
        if (d->run->prepared_bytes > max_bytes) {
            return 1;
        }
    }
    return 0;
}


/* Starts the next session, one made ahead of time if there is one left:
 * its items, and its line in the report. */
static int
begin_session(sim_device_t *d)
{
    sim_record_t  *r;
    int            prepared;

    if (d->have_session) {
        sim_session_free(&d->session);
        d->have_session = 0;
    }
    prepared = d->next_prepared < d->nprepared;
    if (prepared) {
        d->session = d->prepared[d->next_prepared++];
    } else if (build_session(d, &d->session) != 0) {
        return -1;
    } else {
        d->run->sessions_live++;
    }
    d->have_session = 1;
    r = realloc(d->records, (d->nrecords + 1) * sizeof(*r));
    if (r == NULL) {
        return -1;
    }
    d->records = r;
    r = &d->records[d->nrecords++];
    memset(r, 0, sizeof(*r));
    memcpy(r->session_id, d->session.session_id, sizeof(r->session_id));
    r->scenario = d->scenario;
    r->prepared = prepared;
    r->items = (long long) d->session.nitems;
    r->events = (long long) d->session.nevents;
    d->next_item = 0;
    d->resent = 0;
    d->attempts = 0;
    return 0;
}


static int
send_register(sim_device_t *d)
{
    char  now[32];

    reset_headers(d);
    device_headers(d, 1);
    add_header(d, "Content-Type", "application/json; charset=utf-8");
    sim_format_time(d->session.start_ms, now);
    sim_buf_reset(&d->body);
    sim_buf_printf(&d->body, "{\"Registration\":{\"SessionId\":\"%s\","
                   "\"TenantId\":\"%s\",\"SerialNumber\":",
                   d->session.session_id, d->profile.tenant_id);
    sim_buf_json_string(&d->body, d->profile.serial);
    sim_buf_printf(&d->body, ",\"Manufacturer\":\"%s\",\"Model\":\"%s\","
                   "\"DeviceName\":", d->profile.manufacturer,
                   d->profile.model);
    sim_buf_json_string(&d->body, d->profile.device_name);
    sim_buf_printf(&d->body, ",\"OsName\":\"Microsoft Windows 11 "
                   "Enterprise\",\"OsBuild\":\"26100.2454\","
                   "\"OsDisplayVersion\":\"25H2\",\"OsEdition\":"
                   "\"Enterprise\",\"OsLanguage\":\"en-US\","
                   "\"IsUserDriven\":true,\"IsPreProvisioned\":false,"
                   "\"StartedAt\":\"%s\",\"AgentVersion\":\"" AGENT_VERSION
                   "\",\"EnrollmentType\":\"v1\",\"IsHybridJoin\":false,"
                   "\"IsSelfDeployingProfile\":false,\"IsCloudPc\":false,"
                   "\"ValidatedBy\":0}}", now);
    return send_request(d, "/api/agent/register-session", "POST",
                        d->body.data, d->body.len, 1);
}


static size_t
batch_limit(const sim_device_t *d)
{
    int  n;

    n = d->run->batch_override > 0 ? d->run->batch_override : d->max_batch;
    if (d->batch_cap > 0 && d->batch_cap < n) {
        n = d->batch_cap;
    }
    return n > 0 ? (size_t) n : 1;
}


/* A batch: contiguous items from next_item, one PartitionKey, at most the
 * batch size (agent-protocol.md 7, Batching), gzip-compressed. */
static int
render_batch(sim_device_t *d)
{
    size_t    i, n;

    n = d->session.nitems - d->next_item;
    if (n > batch_limit(d)) {
        n = batch_limit(d);
    }
    sim_buf_reset(&d->body);
    sim_buf_add(&d->body, "[", 1);
    for (i = 0; i < n; i++) {
        if (i > 0) {
            sim_buf_add(&d->body, ",", 1);
        }
        sim_buf_add(&d->body, d->session.items[d->next_item + i].json,
                    d->session.items[d->next_item + i].len);
    }
    sim_buf_add(&d->body, "]", 1);
    if (d->body.failed
        || sim_buf_gzip(&d->wire, d->body.data, d->body.len,
                        d->run->gzip_level) != 0)
    {
        return -1;
    }
    d->batch_items = n;
    d->batch_events = 0;
    for (i = 0; i < n; i++) {
        d->batch_events +=
            (size_t) d->session.items[d->next_item + i].is_event;
    }
    return 0;
}


/* The next batch: the packed one when the session was made ahead of time
 * with this batch size, else written now (after unpacking the session
 * if the size changed, as after a 413). */
static int
next_batch(sim_device_t *d, const char **wire, size_t *len)
{
    sim_session_t      *s = &d->session;
    const sim_batch_t  *b;

    if (s->packed_batch != 0 && s->packed_batch == batch_limit(d)
        && d->next_item % s->packed_batch == 0)
    {
        b = &s->batches[d->next_item / s->packed_batch];
        d->batch_items = b->nitems;
        d->batch_events = b->nevents;
        *wire = b->wire;
        *len = b->wire_len;
        return 0;
    }
    if (sim_session_unpack(s) != 0 || render_batch(d) != 0) {
        return -1;
    }
    *wire = d->wire.data;
    *len = d->wire.len;
    return 0;
}


/* Open loop: when the next batch is due, by the events delivered so far
 * at the device's share of the rate, from its start in the fleet. */
static long long
due_us(const sim_device_t *d)
{
    const sim_run_t  *run = d->run;
    double            per_device, offset_s;

    per_device = run->rate / run->ndevices;
    offset_s = (double) d->index * (double) batch_limit(d) / run->rate;
    return run->origin_us
           + (long long) ((offset_s + d->due_events / per_device) * 1e6);
}


static int
send_telemetry(sim_device_t *d)
{
    const char  *wire;
    size_t       len;
    long long    now_us;
    char         now[32];

    if (next_batch(d, &wire, &len) != 0) {
        return -1;
    }
    if (d->run->rate > 0 && d->attempts == 0 && !d->resent) {
        d->batch_due_us = due_us(d);
        now_us = sim_now_us();
        if (now_us - d->batch_due_us > LATE_US) {
            d->run->late++;
        }
    }

    reset_headers(d);
    device_headers(d, 0);
    add_header(d, "X-Tenant-Id", d->profile.tenant_id);
    sim_format_time(sim_wall_ms(), now);
    add_header(d, "X-Send-Time-Utc", now);
    add_header(d, "Content-Type", "application/json");
    add_header(d, "Content-Encoding", "gzip");
    if (d->run->first_send_ms == 0) {
        d->run->first_send_ms = sim_now_ms();
        d->run->cpu_start_s = sim_cpu_s();
    }
    d->run->batches++;
    if (d->attempts > 0) {
        d->run->retries++;
    }
    return send_request(d, "/api/agent/telemetry", "POST", wire, len, 1);
}


/* AgentDiagnostics-{sessionId}-{yyyyMMddHHmmss}.zip (11) */
static int
send_upload_url(sim_device_t *d)
{
    char       stamp[16];
    time_t     secs;
    struct tm  tm;

    secs = (time_t) (sim_wall_ms() / 1000);
    gmtime_r(&secs, &tm);
    strftime(stamp, sizeof(stamp), "%Y%m%d%H%M%S", &tm);
    reset_headers(d);
    device_headers(d, 1);
    add_header(d, "Content-Type", "application/json; charset=utf-8");
    sim_buf_reset(&d->body);
    sim_buf_printf(&d->body, "{\"TenantId\":\"%s\",\"SessionId\":\"%s\","
                   "\"FileName\":\"AgentDiagnostics-%s-%s.zip\"}",
                   d->profile.tenant_id, d->session.session_id,
                   d->session.session_id, stamp);
    return send_request(d, "/api/agent/upload-url", "POST", d->body.data,
                        d->body.len, 1);
}


/* An IngestFailed report (12), as the agent sends after a failed upload;
 * the simulator sends one per session when asked to. */
static int
send_error_report(sim_device_t *d)
{
    char  now[32];

    reset_headers(d);
    device_headers(d, 1);
    add_header(d, "X-Tenant-Id", d->profile.tenant_id);
    add_header(d, "Content-Type", "application/json; charset=utf-8");
    sim_format_time(sim_wall_ms(), now);
    sim_buf_reset(&d->body);
    sim_buf_printf(&d->body, "{\"SessionId\":\"%s\",\"TenantId\":\"%s\","
                   "\"ErrorType\":0,\"Message\":\"telemetry upload failed "
                   "on device %s\",\"HttpStatusCode\":503,"
                   "\"SequenceNumber\":%lld,\"AgentVersion\":\""
                   AGENT_VERSION "\",\"Timestamp\":\"%s\"}",
                   d->session.session_id, d->profile.tenant_id,
                   d->profile.device_name, d->session.sequence - 1, now);
    return send_request(d, "/api/agent/error", "POST", d->body.data,
                        d->body.len, 1);
}


/* A load run's telemetry waits for the fleet to be ready (origin_us);
 * in the open loop, a device then waits for its next batch's time, and
 * stops when that time is past the end of the run (checked before a new
 * session too, so that none is begun only to be dropped), or when the
 * run is over with batches still due: a stack that cannot keep up would
 * otherwise make the run last until the backlog is sent.  What was due
 * and not sent is counted (backlog_events).  1 when it waits or stopped.
 * A retry goes when its wait is over: the batch is late already. */
static int
waits_for_schedule(sim_device_t *d)
{
    sim_run_t  *run = d->run;
    long long   due, now_us;

    if (run->duration_s <= 0 || (d->step != SIM_DEV_TELEMETRY
                                 && d->step != SIM_DEV_NEXT_SESSION))
    {
        return 0;
    }
    if (run->origin_us == 0) {
        if (d->step != SIM_DEV_TELEMETRY) {
            return 0;
        }
        /* nothing to do until the clock starts, which wakes it */
        d->wake_at_ms = LLONG_MAX;
        return 1;
    }
    if (run->rate <= 0) {
        return 0;
    }
    due = due_us(d);
    now_us = sim_now_us();
    if (due >= run->deadline_us || now_us >= run->deadline_us) {
        if (due < run->deadline_us) {
            run->backlog_events += (double) (run->deadline_us - due) / 1e6
                                   * run->rate / run->ndevices;
        }
        d->outcome = "deadline";
        d->step = SIM_DEV_DONE;
        return 1;
    }
    if (d->step == SIM_DEV_TELEMETRY && d->attempts == 0 && !d->resent
        && now_us < due)
    {
        d->wake_at_ms = (due + 999) / 1000;
        return 1;
    }
    return 0;
}


int
sim_device_poll(sim_device_t *d, long long now_ms)
{
    int  rc;

    if (d->in_flight || d->step == SIM_DEV_DONE || now_ms < d->wake_at_ms) {
        return 0;
    }
    if (waits_for_schedule(d)) {
        return 0;
    }
    if (d->run->deadline_ms != 0 && now_ms >= d->run->deadline_ms
        && d->step != SIM_DEV_DONE)
    {
        d->outcome = "deadline";
        d->step = SIM_DEV_DONE;
        return 0;
    }
    switch (d->step) {
    case SIM_DEV_DISTRESS:
        rc = send_distress(d);
        break;
    case SIM_DEV_CONFIG:
        rc = send_config(d);
        break;
    case SIM_DEV_NEXT_SESSION:
        if (d->run->deadline_ms == 0 && d->nrecords > 0) {
            d->outcome = "finished";
            d->step = SIM_DEV_DONE;
            return 0;
        }
        if (begin_session(d) != 0) {
            d->outcome = "out_of_memory";
            d->step = SIM_DEV_DONE;
            return 0;
        }
        d->step = SIM_DEV_REGISTER;
        /* fall through */
    case SIM_DEV_REGISTER:
        rc = send_register(d);
        break;
    case SIM_DEV_TELEMETRY:
        rc = send_telemetry(d);
        break;
    case SIM_DEV_UPLOAD_URL:
        rc = send_upload_url(d);
        break;
    case SIM_DEV_ERROR_REPORT:
        rc = send_error_report(d);
        break;
    default:
        return 0;
    }
    if (rc != 0) {
        d->outcome = "cannot_send";
        d->step = SIM_DEV_DONE;
        return 0;
    }
    return 1;
}


/* ---- answers ---------------------------------------------------------- */

static json_t *
response_json(const sim_device_t *d)
{
    if (d->response.len == 0) {
        return NULL;
    }
    return json_loadb(d->response.data, d->response.len, 0, NULL);
}


/* A member by its camelCase or PascalCase name, as the agent reads it. */
static json_t *
member(json_t *obj, const char *camel, const char *pascal)
{
    json_t  *v;

    v = json_object_get(obj, camel);
    return v != NULL ? v : json_object_get(obj, pascal);
}


static void
read_config(sim_device_t *d, json_t *cfg)
{
    json_t      *v;
    const char  *mode;

    v = member(cfg, "maxBatchSize", "MaxBatchSize");
    if (json_is_integer(v)) {
        d->max_batch = (int) json_integer_value(v);
        d->max_batch = d->max_batch < 1 ? 1
                       : d->max_batch > 500 ? 500 : d->max_batch;
    }
    v = member(cfg, "uploadIntervalSeconds", "UploadIntervalSeconds");
    if (json_is_integer(v)) {
        d->upload_interval_s = (int) json_integer_value(v);
        d->upload_interval_s = d->upload_interval_s < 5 ? 5
            : d->upload_interval_s > 300 ? 300 : d->upload_interval_s;
    }
    v = member(cfg, "maxAuthFailures", "MaxAuthFailures");
    if (json_is_integer(v)) {
        d->max_auth_failures = (int) json_integer_value(v);
    }
    mode = json_string_value(member(cfg, "diagnosticsUploadMode",
                                    "DiagnosticsUploadMode"));
    d->diagnostics_enabled =
        json_is_true(member(cfg, "diagnosticsUploadEnabled",
                            "DiagnosticsUploadEnabled"))
        && mode != NULL && strcmp(mode, "Off") != 0
        && (strcmp(mode, "Always") == 0 || d->scenario != SIM_SUCCESS);
}


/* GET config (5): 503 waits Retry-After up to 3 tries; 401/403 and other
 * failures (after 10, 30, 60 s) fall back to the built-in defaults. */
static void
config_done(sim_device_t *d, long status, long long now_ms)
{
    static const double  waits[] = { 10, 30, 60 };
    json_t              *cfg;

    d->config_status = (int) status;
    if (status >= 200 && status < 300) {
        cfg = response_json(d);
        if (json_is_object(cfg)) {
            read_config(d, cfg);
            if (json_is_true(member(cfg, "deviceKillSignal",
                                    "DeviceKillSignal")))
            {
                json_decref(cfg);
                d->outcome = "killed";
                d->step = SIM_DEV_DONE;
                return;
            }
        }
        json_decref(cfg);
    } else if (status != 401 && status != 403 && d->attempts < 3) {
        wait_seconds(d, status == 503 ? 30 : waits[d->attempts], now_ms);
        d->attempts++;
        return;
    }
    d->attempts = 0;
    d->step = SIM_DEV_NEXT_SESSION;
}


/* register-session (6): on with 2xx and success:true; 401/403 stop the
 * agent; otherwise 5 tries, 2/4/8/16 s apart, then it exits. */
static void
register_done(sim_device_t *d, long status, long long now_ms)
{
    json_t  *body;
    int      ok, admin;

    current_record(d)->register_status = (int) status;
    body = status >= 200 && status < 300 ? response_json(d) : NULL;
    ok = json_is_true(member(body, "success", "Success"));
    admin = json_is_string(member(body, "adminAction", "AdminAction"));
    json_decref(body);
    if (ok) {
        d->attempts = 0;
        d->step = admin ? SIM_DEV_NEXT_SESSION : SIM_DEV_TELEMETRY;
        return;
    }
    if (status == 401 || status == 403) {
        d->outcome = "registration_refused";
        d->step = SIM_DEV_DONE;
        return;
    }
    if (++d->attempts >= 5) {
        d->outcome = "registration_failed";
        d->step = SIM_DEV_DONE;
        return;
    }
    wait_seconds(d, 1 << d->attempts, now_ms);
}


static void
end_of_session(sim_device_t *d)
{
    current_record(d)->complete = 1;
    if (d->run->diagnostics || d->diagnostics_enabled) {
        d->step = SIM_DEV_UPLOAD_URL;
    } else if (d->run->error_report) {
        d->step = SIM_DEV_ERROR_REPORT;
    } else {
        d->step = SIM_DEV_NEXT_SESSION;
    }
}


static void
delivered(sim_device_t *d, long long now_ms)
{
    sim_record_t  *r = current_record(d);
    sim_run_t     *run = d->run;
    json_t        *body;
    long long      events;

    body = response_json(d);
    if (json_is_true(member(body, "deviceKillSignal", "DeviceKillSignal"))) {
        d->outcome = "killed";
        d->step = SIM_DEV_DONE;
    } else if (json_is_true(member(body, "deviceBlocked", "DeviceBlocked"))) {
        /* the batch counts as delivered, but is lost (10) */
        d->outcome = "blocked_by_server";
        d->step = SIM_DEV_DONE;
    }
    json_decref(body);
    if (d->step == SIM_DEV_DONE) {
        return;
    }

    if (run->resend && !d->resent) {
        /* as if the acknowledgement had been lost: the same batch again */
        d->resent = 1;
        run->resends++;
        return;
    }
    d->resent = 0;
    events = (long long) d->batch_events;
    d->due_events += (double) events;
    d->next_item += d->batch_items;
    r->items_delivered += (long long) d->batch_items;
    r->events_delivered += events;
    run->items_delivered += (long long) d->batch_items;
    run->events_delivered += events;
    run->last_done_ms = now_ms;
    d->attempts = 0;
    d->auth_failures = 0;
    d->blocked_tries = 0;
    if (d->next_item >= d->session.nitems) {
        end_of_session(d);
    }
    /* the agent's drain interval, not scaled: a pace, not a retry */
    d->wake_at_ms = now_ms + (long long) (run->interval_s * 1000.0);
}


/* telemetry (7), the agent's reading of each status. */
static void
telemetry_done(sim_device_t *d, long status, long long now_ms)
{
    static const double  transient_waits[] = { 0.1, 0.4, 1.6 };
    sim_run_t           *run = d->run;
    curl_off_t           total_us;

    run->statuses[status >= 0 && status < 600 ? status : 0]++;
    if (status >= 200 && status < 300) {
        if (run->rate > 0) {
            /* from the scheduled time: a queue before the send counts */
            sim_stats_add(&run->latency,
                          (double) (sim_now_us() - d->batch_due_us) / 1000.0);
        } else if (curl_easy_getinfo(d->easy, CURLINFO_TOTAL_TIME_T,
                                     &total_us) == CURLE_OK)
        {
            sim_stats_add(&run->latency, (double) total_us / 1000.0);
        }
        delivered(d, now_ms);
        return;
    }
    if (status == 413) {
        if (d->batch_items <= 1) {
            /* a lone item still too large is dropped (poisoned) */
            run->dropped++;
            d->next_item++;
            if (d->next_item >= d->session.nitems) {
                end_of_session(d);
            }
        } else {
            /* halved for the rest of the process */
            d->batch_cap = (int) d->batch_items / 2;
            run->halvings++;
        }
        return;
    }
    if (status == 401 || status == 403) {
        if (++d->auth_failures >= d->max_auth_failures
            && d->max_auth_failures > 0)
        {
            d->outcome = "auth_failures";
            d->step = SIM_DEV_DONE;
            return;
        }
        wait_seconds(d, d->upload_interval_s, now_ms);
        return;
    }
    if (status == 0 || status == 408 || status == 429 || status >= 500) {
        if (d->attempts < 3) {
            wait_seconds(d, transient_waits[d->attempts], now_ms);
            d->attempts++;
        } else {
            wait_seconds(d, d->upload_interval_s, now_ms);  /* next drain */
            d->attempts = 0;
        }
        return;
    }
    /* any other 4xx blocks the queue; the agent would retry for ever */
    if (++d->blocked_tries >= BLOCKED_TRIES_MAX) {
        d->outcome = "queue_blocked";
        d->step = SIM_DEV_DONE;
        return;
    }
    d->attempts++;
    wait_seconds(d, d->upload_interval_s, now_ms);
}


void
sim_device_done(sim_device_t *d, CURLcode result, long long now_ms)
{
    long  status;

    curl_multi_remove_handle(d->run->multi, d->easy);
    d->in_flight = 0;
    status = 0;
    if (result == CURLE_OK) {
        curl_easy_getinfo(d->easy, CURLINFO_RESPONSE_CODE, &status);
    } else if (d->run->verbose) {
        fprintf(stderr, "agent-sim: device %s: %s\n", d->profile.device_id,
                curl_easy_strerror(result));
    }

    switch (d->step) {
    case SIM_DEV_DISTRESS:
        /* the reference backend always answers 200; nothing to react to */
        d->distress_status = (int) status;
        d->step = SIM_DEV_CONFIG;
        break;
    case SIM_DEV_CONFIG:
        config_done(d, status, now_ms);
        break;
    case SIM_DEV_REGISTER:
        register_done(d, status, now_ms);
        break;
    case SIM_DEV_TELEMETRY:
        telemetry_done(d, status, now_ms);
        break;
    case SIM_DEV_UPLOAD_URL:
        /* anything but 2xx: the agent skips the upload, no retry (11) */
        current_record(d)->upload_url_status = (int) status;
        d->step = d->run->error_report ? SIM_DEV_ERROR_REPORT
                                       : SIM_DEV_NEXT_SESSION;
        break;
    case SIM_DEV_ERROR_REPORT:
        current_record(d)->error_status = (int) status;
        d->step = SIM_DEV_NEXT_SESSION;
        break;
    default:
        break;
    }
}
