/*
 * agent-sim: simulated Autopilot Monitor agents for Concierge's agent
 * endpoints.  Each device has its own Intune-style certificate and replays
 * a realistic enrollment session (success, app failure or stall) through
 * the real protocol; with --duration every device keeps enrolling until
 * the time is up, which makes it the ingest load generator.
 *
 * Usage: agent-sim --url https://localhost:PORT --ca CA.pem --certs DIR
 *                  --tenant GUID [options]   (see usage() or README.md)
 */

#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "sim_device.h"
#include "sim_pack.h"

extern char  **environ;

/* Load runs: the longest the registrations before the clock may take. */
#define SETUP_MAX_MS  60000

typedef struct {
    const char      *url;
    const char      *ca_file;
    const char      *certs_dir;
    const char      *dev_certs;
    const char      *tenant;
    const char      *report;
    int              devices;
    sim_scenario_t   scenarios[16];
    int              nscenarios;
    unsigned long    seed;
    double           duration_s;
    double           prepare_rate;  /* events/s the prepared sessions last */
    int              prepare_mb;    /* at most this much prepared */
} sim_options_t;

static const char  *manufacturers[] = { "Simulated Devices Inc.",
                                        "Contoso Hardware" };
static const char  *models[] = { "SimBook 14", "SimBook 16",
                                 "SimDesk Mini" };


static void
usage(FILE *out)
{
    fprintf(out,
"usage: agent-sim --url URL --ca FILE --certs DIR --tenant GUID [options]\n"
"  --devices N        simulated devices, each with its own certificate (1)\n"
"  --scenarios LIST   success,failure,stall, given to devices in turn\n"
"                     (success)\n"
"  --apps N|MIN-MAX   app installs per app phase (3); with a range each\n"
"                     session draws its own, so a fleet's sessions differ\n"
"                     in length and do not end in step\n"
"  --batch N          items per telemetry batch (the config's maxBatchSize)\n"
"  --duration TIME    keep enrolling new sessions until then (10s, 2m);\n"
"                     without it every device enrolls once\n"
"  --seed N           device identities (serials, names) come from it (1)\n"
"  --resend           send every delivered batch a second time, as after a\n"
"                     lost acknowledgement\n"
"  --pad BYTES        filler in each app event's Data (forces 413s)\n"
"  --diagnostics      ask for an upload URL after every session\n"
"  --error-report     send an error report after every session\n"
"  --distress         send a distress report (no certificate) first\n"
"  --retry-scale F    multiply the agent's waits between tries (1)\n"
"  --interval TIME    wait between a device's batches, as the agent's\n"
"                     upload interval (0: back to back)\n"
"  --gzip-level N     zlib level of telemetry bodies (6)\n"
"  --rate N           open loop: N events/s in all, each device sending\n"
"                     its share on its own schedule (needs --duration);\n"
"                     latency counts from each batch's scheduled time\n"
"  --prepare-rate N   render and gzip, before the clock starts, sessions\n"
"                     for N events/s over --duration (with --rate: the\n"
"                     rate); devices that use them up build more live\n"
"  --prepare-mb N     refuse to prepare more than N MB (300)\n"
"  --dev-certs PATH   tools/dev-certs, run for missing certificates\n"
"                     (tools/dev-certs)\n"
"  --report FILE      write what was sent and what came of it as JSON\n"
"  --verbose          say why requests failed\n");
}


static int
parse_duration(const char *s, double *out)
{
    char    *end;
    double   v;

    errno = 0;
    v = strtod(s, &end);
    if (errno != 0 || end == s || v < 0) {
        return -1;
    }
    if (strcmp(end, "ms") == 0) {
        v /= 1000.0;
    } else if (strcmp(end, "m") == 0) {
        v *= 60.0;
    } else if (strcmp(end, "s") != 0 && *end != '\0') {
        return -1;
    }
    *out = v;
    return 0;
}


static int
parse_scenarios(const char *list, sim_options_t *o)
{
    char  *copy, *tok, *save;
    int    rc;

    copy = strdup(list);
    if (copy == NULL) {
        return -1;
    }
    rc = 0;
    o->nscenarios = 0;
    for (tok = strtok_r(copy, ",", &save); tok != NULL;
         tok = strtok_r(NULL, ",", &save))
    {
        if (o->nscenarios == 16
            || sim_scenario_parse(tok, &o->scenarios[o->nscenarios]) != 0)
        {
            rc = -1;
            break;
        }
        o->nscenarios++;
    }
    free(copy);
    return rc == 0 && o->nscenarios > 0 ? 0 : -1;
}


static int
positive_int(const char *s, int *out)
{
    char  *end;
    long   v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < 0 || v > 1000000) {
        return -1;
    }
    *out = (int) v;
    return 0;
}


/* "N" or "MIN-MAX" app installs per app phase; 0 or -1. */
static int
parse_apps(const char *s, sim_run_t *run)
{
    char        min[16];
    const char *dash = strchr(s, '-');
    size_t      n;

    if (dash == NULL) {
        if (positive_int(s, &run->apps) != 0) {
            return -1;
        }
        run->apps_max = run->apps;
        return 0;
    }
    n = (size_t) (dash - s);
    if (n == 0 || n >= sizeof(min)) {
        return -1;
    }
    memcpy(min, s, n);
    min[n] = '\0';
    if (positive_int(min, &run->apps) != 0
        || positive_int(dash + 1, &run->apps_max) != 0
        || run->apps_max < run->apps)
    {
        return -1;
    }
    return 0;
}


/* 0, or -1 after saying what is wrong. */
static int
parse_options(int argc, char **argv, sim_options_t *o, sim_run_t *run)
{
    static const struct option  longopts[] = {
        { "url", required_argument, NULL, 'u' },
        { "ca", required_argument, NULL, 'c' },
        { "certs", required_argument, NULL, 'C' },
        { "tenant", required_argument, NULL, 't' },
        { "devices", required_argument, NULL, 'n' },
        { "scenarios", required_argument, NULL, 's' },
        { "apps", required_argument, NULL, 'a' },
        { "batch", required_argument, NULL, 'b' },
        { "duration", required_argument, NULL, 'd' },
        { "seed", required_argument, NULL, 'S' },
        { "resend", no_argument, NULL, 'R' },
        { "pad", required_argument, NULL, 'p' },
        { "diagnostics", no_argument, NULL, 'D' },
        { "error-report", no_argument, NULL, 'E' },
        { "distress", no_argument, NULL, 'X' },
        { "retry-scale", required_argument, NULL, 'r' },
        { "interval", required_argument, NULL, 'i' },
        { "gzip-level", required_argument, NULL, 'z' },
        { "rate", required_argument, NULL, 'L' },
        { "prepare-rate", required_argument, NULL, 'Q' },
        { "prepare-mb", required_argument, NULL, 'M' },
        { "dev-certs", required_argument, NULL, 'P' },
        { "report", required_argument, NULL, 'o' },
        { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    int  ch, pad;

    o->devices = 1;
    o->scenarios[0] = SIM_SUCCESS;
    o->nscenarios = 1;
    o->seed = 1;
    o->dev_certs = "tools/dev-certs";
    run->apps = 3;
    run->apps_max = 3;
    run->retry_scale = 1.0;
    run->gzip_level = 6;
    o->prepare_mb = 300;

    while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (ch) {
        case 'u': o->url = optarg; break;
        case 'c': o->ca_file = optarg; break;
        case 'C': o->certs_dir = optarg; break;
        case 't': o->tenant = optarg; break;
        case 'P': o->dev_certs = optarg; break;
        case 'o': o->report = optarg; break;
        case 'R': run->resend = 1; break;
        case 'D': run->diagnostics = 1; break;
        case 'E': run->error_report = 1; break;
        case 'X': run->distress = 1; break;
        case 'v': run->verbose = 1; break;
        case 'h': usage(stdout); exit(0);
        case 'n':
            if (positive_int(optarg, &o->devices) != 0 || o->devices < 1) {
                goto bad;
            }
            break;
        case 's':
            if (parse_scenarios(optarg, o) != 0) {
                goto bad;
            }
            break;
        case 'a':
            if (parse_apps(optarg, run) != 0) {
                goto bad;
            }
            break;
        case 'b':
            if (positive_int(optarg, &run->batch_override) != 0) {
                goto bad;
            }
            break;
        case 'p':
            if (positive_int(optarg, &pad) != 0) {
                goto bad;
            }
            run->pad = (size_t) pad;
            break;
        case 'z':
            if (positive_int(optarg, &run->gzip_level) != 0
                || run->gzip_level > 9)
            {
                goto bad;
            }
            break;
        case 'L':
            run->rate = strtod(optarg, NULL);
            if (run->rate <= 0) {
                goto bad;
            }
            break;
        case 'Q':
            o->prepare_rate = strtod(optarg, NULL);
            if (o->prepare_rate < 0) {
                goto bad;
            }
            break;
        case 'M':
            if (positive_int(optarg, &o->prepare_mb) != 0) {
                goto bad;
            }
            break;
        case 'd':
            if (parse_duration(optarg, &o->duration_s) != 0) {
                goto bad;
            }
            break;
        case 'S':
            o->seed = strtoul(optarg, NULL, 10);
            break;
        case 'i':
            if (parse_duration(optarg, &run->interval_s) != 0) {
                goto bad;
            }
            break;
        case 'r':
            run->retry_scale = strtod(optarg, NULL);
            if (run->retry_scale < 0) {
                goto bad;
            }
            break;
        default:
            usage(stderr);
            return -1;
        }
    }
    if (o->url == NULL || o->ca_file == NULL || o->certs_dir == NULL
        || o->tenant == NULL || strlen(o->tenant) != 36)
    {
        usage(stderr);
        return -1;
    }
    if (run->rate > 0 && o->duration_s <= 0) {
        fprintf(stderr, "agent-sim: --rate needs --duration\n");
        return -1;
    }
    if (run->rate > 0 && o->prepare_rate == 0) {
        o->prepare_rate = run->rate;
    }
    return 0;

bad:
    fprintf(stderr, "agent-sim: bad value: %s\n", optarg);
    return -1;
}


/* Appends ai's address to out as CURLOPT_RESOLVE takes it: IPv6 in
 * brackets, after a comma if out has one already. */
static void
add_address(char *out, size_t size, const struct addrinfo *ai)
{
    char  numeric[NI_MAXHOST];
    int   v6;

    if (getnameinfo(ai->ai_addr, ai->ai_addrlen, numeric, sizeof(numeric),
                    NULL, 0, NI_NUMERICHOST) != 0)
    {
        return;
    }
    v6 = ai->ai_family == AF_INET6;
    if (strlen(out) + strlen(numeric) + 4 >= size) {
        return;
    }
    snprintf(out + strlen(out), size - strlen(out), "%s%s%s%s",
             out[0] != '\0' ? "," : "", v6 ? "[" : "", numeric, v6 ? "]" : "");
}


/* The addresses the URL's host resolves to, and its port, for the devices'
 * own connection names (sim_device.c); left empty when they are not
 * known. */
static void
resolve_server(sim_run_t *run)
{
    CURLU            *u;
    char             *host, *port, *name;
    struct addrinfo   hints, *res, *ai;

    u = curl_url();
    host = port = NULL;
    if (u == NULL || curl_url_set(u, CURLUPART_URL, run->url, 0) != CURLUE_OK
        || curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK
        || curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT)
           != CURLUE_OK)
    {
        goto done;
    }
    /* curl gives an IPv6 host as [::1]; getaddrinfo wants ::1 */
    name = host;
    if (name[0] == '[') {
        name[strlen(name) - 1] = '\0';
        name++;
    }
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(name, port, &hints, &res) != 0) {
        goto done;
    }
    for (ai = res; ai != NULL; ai = ai->ai_next) {
        add_address(run->server_addr, sizeof(run->server_addr), ai);
    }
    run->server_port = atoi(port);
    freeaddrinfo(res);

done:
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
}


/* Serial numbers, device names, UPNs and e-mail addresses: synthetic,
 * from the seed, so the privacy test knows what to look for. */
static void
make_profile(sim_profile_t *p, const sim_options_t *o, sim_rand_t *r,
             int index)
{
    char  code[12];

    sim_rand_guid(r, p->device_id);
    snprintf(p->tenant_id, sizeof(p->tenant_id), "%s", o->tenant);
    sim_rand_code(r, code, 10);
    snprintf(p->serial, sizeof(p->serial), "SIMSN%s", code);
    sim_rand_code(r, code, 7);
    snprintf(p->device_name, sizeof(p->device_name), "SIMPC-%s", code);
    sim_rand_code(r, code, 6);
    snprintf(p->upn, sizeof(p->upn), "sim.user.%s@contoso-sim.example",
             code);
    snprintf(p->email, sizeof(p->email), "owner.%s@mail.contoso-sim.example",
             code);
    p->manufacturer = manufacturers[index % 2];
    p->model = models[index % 3];
}


/* tools/dev-certs device DIR GUID TENANT, unless the certificate is there
 * already (generating RSA keys is the slow part). */
static int
ensure_certificate(sim_device_t *d, const sim_options_t *o)
{
    struct stat   st;
    pid_t         pid;
    int           status;
    char         *argv[7];

    snprintf(d->cert, sizeof(d->cert), "%s/devices/%s.pem", o->certs_dir,
             d->profile.device_id);
    snprintf(d->key, sizeof(d->key), "%s/devices/%s.key", o->certs_dir,
             d->profile.device_id);
    if (stat(d->cert, &st) == 0 && stat(d->key, &st) == 0) {
        return 0;
    }
    argv[0] = (char *) o->dev_certs;
    argv[1] = "device";
    argv[2] = (char *) o->certs_dir;
    argv[3] = d->profile.device_id;
    argv[4] = d->profile.tenant_id;
    argv[5] = NULL;
    if (posix_spawn(&pid, o->dev_certs, NULL, NULL, argv, environ) != 0) {
        fprintf(stderr, "agent-sim: cannot run %s\n", o->dev_certs);
        return -1;
    }
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status)
        || WEXITSTATUS(status) != 0)
    {
        fprintf(stderr, "agent-sim: %s device failed\n", o->dev_certs);
        return -1;
    }
    return 0;
}


static long long
next_wake(sim_device_t *devs, int n, long long now_ms)
{
    long long  wake;
    int        i;

    wake = now_ms + 100;
    for (i = 0; i < n; i++) {
        if (!devs[i].in_flight && devs[i].step != SIM_DEV_DONE
            && devs[i].wake_at_ms < wake)
        {
            wake = devs[i].wake_at_ms;
        }
    }
    return wake;
}


/* A load run's clock starts once every device has registered its first
 * session (or stopped): the fleet's TLS handshakes and registrations are
 * neither counted as a backlog in the open loop nor in the events/s and
 * CPU time of either loop. */
static void
start_schedule_when_ready(sim_run_t *run, sim_device_t *devs, int n)
{
    int  i;

    if (run->duration_s <= 0 || run->origin_us != 0) {
        return;
    }
    for (i = 0; i < n; i++) {
        if (devs[i].step != SIM_DEV_DONE
            && (devs[i].step != SIM_DEV_TELEMETRY || devs[i].in_flight))
        {
            return;
        }
    }
    run->origin_us = sim_now_us() + 10000;
    run->deadline_us = run->origin_us + (long long) (run->duration_s * 1e6);
    if (run->rate <= 0) {
        run->deadline_ms = run->deadline_us / 1000;
    }
    run->first_send_ms = run->origin_us / 1000;
    run->cpu_start_s = sim_cpu_s();
    /* those that waited for it go now, or paced (--interval) spread over
     * one interval, as a fleet does */
    for (i = 0; i < n; i++) {
        devs[i].wake_at_ms = run->interval_s <= 0 ? 0
            : run->first_send_ms
              + sim_rand_below(&run->rand, (unsigned) (run->interval_s * 1000));
    }
}


/* libcurl's socket callback: the sockets of the transfers in flight are
 * watched with epoll, so that a wake-up costs the sockets that are ready,
 * not a walk over every device's connection (curl_multi_poll would). */
static int
watch_socket(CURL *easy, curl_socket_t s, int what, void *arg, void *known)
{
    sim_run_t           *run = arg;
    struct epoll_event   ev;

    if (what == CURL_POLL_REMOVE) {
        epoll_ctl(run->epoll_fd, EPOLL_CTL_DEL, s, NULL);
        return 0;
    }
    memset(&ev, 0, sizeof(ev));
    ev.events = ((what & CURL_POLL_IN) ? EPOLLIN : 0)
                | ((what & CURL_POLL_OUT) ? EPOLLOUT : 0);
    ev.data.fd = s;
    if (known == NULL) {
        /* a new socket; the number may be a closed one's, still listed */
        if (epoll_ctl(run->epoll_fd, EPOLL_CTL_ADD, s, &ev) != 0
            && errno == EEXIST)
        {
            epoll_ctl(run->epoll_fd, EPOLL_CTL_MOD, s, &ev);
        }
        curl_multi_assign(run->multi, s, run);
        return 0;
    }
    epoll_ctl(run->epoll_fd, EPOLL_CTL_MOD, s, &ev);
    return 0;
}


/* libcurl's timer callback: when it wants to be called again. */
static int
set_curl_timer(CURLM *multi, long timeout_ms, void *arg)
{
    sim_run_t  *run = arg;

    run->curl_timer_ms = timeout_ms < 0 ? -1 : sim_now_ms() + timeout_ms;
    return 0;
}


static int
start_event_loop(sim_run_t *run)
{
    run->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    if (run->epoll_fd < 0) {
        return -1;
    }
    run->curl_timer_ms = -1;
    curl_multi_setopt(run->multi, CURLMOPT_SOCKETFUNCTION, watch_socket);
    curl_multi_setopt(run->multi, CURLMOPT_SOCKETDATA, run);
    curl_multi_setopt(run->multi, CURLMOPT_TIMERFUNCTION, set_curl_timer);
    curl_multi_setopt(run->multi, CURLMOPT_TIMERDATA, run);
    return 0;
}


/* Hands every finished request to its device. */
static void
collect_answers(sim_run_t *run)
{
    CURLMsg       *msg;
    sim_device_t  *d;
    int            left;

    while ((msg = curl_multi_info_read(run->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE) {
            continue;
        }
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **) &d);
        sim_device_done(d, msg->data.result, sim_now_ms());
    }
}


static void
run_curl_timer_if_due(sim_run_t *run, long long now_ms)
{
    int  running;

    if (run->curl_timer_ms >= 0 && run->curl_timer_ms <= now_ms) {
        run->curl_timer_ms = -1;
        curl_multi_socket_action(run->multi, CURL_SOCKET_TIMEOUT, 0,
                                 &running);
    }
}


/* Waits for ready sockets, a device's time or libcurl's timer, at most
 * until wake_ms, and lets libcurl work on what is ready. */
static void
wait_and_transfer(sim_run_t *run, long long wake_ms)
{
    struct epoll_event  evs[64];
    long long           now;
    int                 i, nev, flags, running;

    now = sim_now_ms();
    if (run->curl_timer_ms >= 0 && run->curl_timer_ms < wake_ms) {
        wake_ms = run->curl_timer_ms;
    }
    nev = epoll_wait(run->epoll_fd, evs, 64,
                     wake_ms > now ? (int) (wake_ms - now) : 0);
    for (i = 0; i < nev; i++) {
        flags = ((evs[i].events & EPOLLIN) ? CURL_CSELECT_IN : 0)
                | ((evs[i].events & EPOLLOUT) ? CURL_CSELECT_OUT : 0)
                | ((evs[i].events & (EPOLLERR | EPOLLHUP))
                   ? CURL_CSELECT_ERR : 0);
        curl_multi_socket_action(run->multi, evs[i].data.fd, flags,
                                 &running);
    }
    run_curl_timer_if_due(run, sim_now_ms());
}


/* Drives every device until each has stopped. */
static void
run_devices(sim_run_t *run, sim_device_t *devs, int n)
{
    long long  now;
    int        i, busy;

    for (;;) {
        start_schedule_when_ready(run, devs, n);
        now = sim_now_ms();
        busy = 0;
        for (i = 0; i < n; i++) {
            sim_device_poll(&devs[i], now);
            busy |= devs[i].in_flight || devs[i].step != SIM_DEV_DONE;
        }
        if (!busy) {
            run->cpu_s = sim_cpu_s() - run->cpu_start_s;
            return;
        }
        /* requests just added are started by libcurl's timer */
        run_curl_timer_if_due(run, sim_now_ms());
        collect_answers(run);
        wait_and_transfer(run, next_wake(devs, n, sim_now_ms()));
        collect_answers(run);
    }
}


static json_t *
device_report(const sim_device_t *d)
{
    json_t  *sessions, *dev;
    size_t   i;

    sessions = json_array();
    for (i = 0; i < d->nrecords; i++) {
        const sim_record_t  *r = &d->records[i];

        json_array_append_new(sessions, json_pack(
            "{s:s,s:s,s:I,s:I,s:I,s:I,s:i,s:i,s:i,s:b,s:b}",
            "session_id", r->session_id,
            "scenario", sim_scenario_name(r->scenario),
            "items", (json_int_t) r->items,
            "events", (json_int_t) r->events,
            "items_delivered", (json_int_t) r->items_delivered,
            "events_delivered", (json_int_t) r->events_delivered,
            "register_status", r->register_status,
            "upload_url_status", r->upload_url_status,
            "error_status", r->error_status,
            "complete", r->complete,
            "prepared", r->prepared));
    }
    dev = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:i,s:i,s:o}",
        "device_id", d->profile.device_id,
        "tenant_id", d->profile.tenant_id,
        "scenario", sim_scenario_name(d->scenario),
        "serial", d->profile.serial,
        "device_name", d->profile.device_name,
        "upn", d->profile.upn,
        "email", d->profile.email,
        "manufacturer", d->profile.manufacturer,
        "model", d->profile.model,
        "outcome", d->outcome,
        "config_status", d->config_status,
        "distress_status", d->distress_status,
        "sessions", sessions);
    return dev;
}


static double
elapsed_s(const sim_run_t *run)
{
    long long  ms;

    ms = run->last_done_ms - run->first_send_ms;
    return ms > 0 ? (double) ms / 1000.0 : 0.0;
}


static int
write_report(const char *file, sim_run_t *run, sim_device_t *devs, int n)
{
    json_t  *devices, *statuses, *root;
    char     code[8];
    int      i, rc;
    double   secs;

    devices = json_array();
    for (i = 0; i < n; i++) {
        json_array_append_new(devices, device_report(&devs[i]));
    }
    statuses = json_object();
    for (i = 0; i < 600; i++) {
        if (run->statuses[i] > 0) {
            snprintf(code, sizeof(code), "%d", i);
            json_object_set_new(statuses, code,
                                json_integer(run->statuses[i]));
        }
    }
    secs = elapsed_s(run);
    root = json_pack("{s:s,s:f,s:I,s:I,s:f,s:f,s:f,s:I,s:I,s:f}",
        "mode", run->rate > 0 ? "open" : "closed",
        "offered_events_per_s", run->rate,
        "late_batches", (json_int_t) run->late,
        "backlog_events", (json_int_t) run->backlog_events,
        "cpu_s", run->cpu_s,
        "cpu_ms_per_batch", run->batches > 0
                            ? run->cpu_s * 1000.0 / run->batches : 0.0,
        "prepare_cpu_s", run->prepare_cpu_s,
        "sessions_prepared", (json_int_t) run->sessions_prepared,
        "sessions_live", (json_int_t) run->sessions_live,
        "prepared_mb", (double) run->prepared_bytes / 1e6);
    if (root == NULL || json_object_update_new(root, json_pack(
        "{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:f,s:f,s:f,s:f,s:o,s:o}",
        "batches", (json_int_t) run->batches,
        "retries", (json_int_t) run->retries,
        "resends", (json_int_t) run->resends,
        "halvings", (json_int_t) run->halvings,
        "dropped", (json_int_t) run->dropped,
        "items_delivered", (json_int_t) run->items_delivered,
        "events_delivered", (json_int_t) run->events_delivered,
        "elapsed_s", secs,
        "events_per_s", secs > 0 ? (double) run->events_delivered / secs : 0,
        "latency_p50_ms", sim_stats_percentile(&run->latency, 50),
        "latency_p99_ms", sim_stats_percentile(&run->latency, 99),
        "telemetry_statuses", statuses,
        "devices", devices)) != 0)
    {
        json_decref(root);
        return -1;
    }
    rc = json_dump_file(root, file, JSON_INDENT(1) | JSON_SORT_KEYS);
    json_decref(root);
    return rc;
}


static void
print_summary(sim_run_t *run, sim_device_t *devs, int n)
{
    long long  sessions;
    int        i;
    double     secs;

    sessions = 0;
    for (i = 0; i < n; i++) {
        sessions += (long long) devs[i].nrecords;
    }
    secs = elapsed_s(run);
    printf("agent-sim: %d devices, %lld sessions; %lld items (%lld events) "
           "delivered in %.2f s\n", n, sessions, run->items_delivered,
           run->events_delivered, secs);
    printf("telemetry: %lld requests, %lld retries, %lld resends, "
           "%lld halvings, %lld dropped\n", run->batches, run->retries,
           run->resends, run->halvings, run->dropped);
    printf("events/s: %.0f\n", secs > 0 ? run->events_delivered / secs : 0);
    printf("batch latency: p50 %.2f ms, p99 %.2f ms (%zu batches)\n",
           sim_stats_percentile(&run->latency, 50),
           sim_stats_percentile(&run->latency, 99), run->latency.n);
    if (run->rate > 0) {
        printf("open loop: %.0f events/s offered, %lld batches sent more "
               "than 10 ms late, %.0f events due but not sent by the end; "
               "latency from each batch's scheduled time\n",
               run->rate, run->late, run->backlog_events);
    }
    printf("agent-sim CPU: %.2f s while sending (%.3f ms per batch), "
           "%.2f s preparing %lld sessions (%.0f MB); %lld sessions built "
           "live\n", run->cpu_s,
           run->batches > 0 ? run->cpu_s * 1000.0 / run->batches : 0.0,
           run->prepare_cpu_s, run->sessions_prepared,
           (double) run->prepared_bytes / 1e6, run->sessions_live);
}


/* bytes: the projection, 0 when the limit was passed before there was
 * one. */
static void
say_too_much(const sim_options_t *o, double bytes)
{
    char  about[48];

    about[0] = '\0';
    if (bytes > 0) {
        snprintf(about, sizeof(about), " (about %.0f MB)", bytes / 1e6);
    }
    fprintf(stderr, "agent-sim: %.0f events/s for %.0f s need more prepared "
            "batches than --prepare-mb %d allows%s: shorten --duration, "
            "lower the rate or raise --prepare-mb\n", o->prepare_rate,
            o->duration_s, o->prepare_mb, about);
}


/* Renders every device's sessions for the run ahead of time, enough for
 * its share of prepare_rate over the duration and one batch more (the
 * open loop's last one may start just before the end); 0, -1 out of
 * memory, -2 after saying so when they would not fit in prepare_mb. */
static int
prepare_sessions(sim_run_t *run, sim_device_t *devs, const sim_options_t *o)
{
    double  per_device, projected, cpu0;
    size_t  limit;
    int     i, rc;

    cpu0 = sim_cpu_s();
    per_device = o->prepare_rate * o->duration_s / o->devices
                 + (run->batch_override > 0 ? run->batch_override : 100);
    limit = (size_t) o->prepare_mb * 1000000;
    for (i = 0; i < o->devices; i++) {
        rc = sim_device_prepare(&devs[i], per_device, limit);
        if (rc < 0) {
            fprintf(stderr, "agent-sim: out of memory preparing sessions\n");
            return -1;
        }
        /* every device needs about what the ones before did */
        projected = (double) run->prepared_bytes / (i + 1) * o->devices;
        if (rc > 0 || projected > (double) limit) {
            say_too_much(o, rc > 0 ? 0 : projected);
            return -2;
        }
    }
    run->prepare_cpu_s = sim_cpu_s() - cpu0;
    return 0;
}


static void
free_devices(sim_device_t *devs, int n)
{
    int  i;

    for (i = 0; i < n; i++) {
        sim_device_free(&devs[i]);
    }
    free(devs);
}


static int
device_failed(const sim_device_t *d)
{
    return strcmp(d->outcome, "finished") != 0
           && strcmp(d->outcome, "deadline") != 0;
}


int
main(int argc, char **argv)
{
    sim_options_t   o;
    sim_run_t       run;
    sim_device_t   *devs;
    sim_rand_t      ids;
    int             i, failed, rc;

    memset(&o, 0, sizeof(o));
    memset(&run, 0, sizeof(run));
    if (parse_options(argc, argv, &o, &run) != 0) {
        return 2;
    }
    run.url = o.url;
    run.ca_file = o.ca_file;
    run.ndevices = o.devices;
    run.duration_s = o.duration_s;
    /* sessions differ from run to run; devices are the seed's */
    sim_rand_seed(&ids, o.seed);
    sim_rand_seed(&run.rand, o.seed ^ (uint64_t) sim_wall_ms()
                             ^ ((uint64_t) getpid() << 32));
    /* three hours back: a stalled session's hour stays in the past */
    run.clock_start_ms = sim_wall_ms() - 3 * 3600 * 1000LL;

    curl_global_init(CURL_GLOBAL_ALL);
    resolve_server(&run);
    run.multi = curl_multi_init();
    devs = calloc((size_t) o.devices, sizeof(*devs));
    if (run.multi == NULL || devs == NULL) {
        fprintf(stderr, "agent-sim: out of memory\n");
        return 1;
    }
    curl_multi_setopt(run.multi, CURLMOPT_MAXCONNECTS, (long) o.devices + 8);
    if (start_event_loop(&run) != 0) {
        fprintf(stderr, "agent-sim: epoll: %s\n", strerror(errno));
        return 1;
    }

    for (i = 0; i < o.devices; i++) {
        make_profile(&devs[i].profile, &o, &ids, i);
        devs[i].index = i;
        devs[i].scenario = o.scenarios[i % o.nscenarios];
        if (sim_device_init(&devs[i], &run) != 0
            || ensure_certificate(&devs[i], &o) != 0)
        {
            return 1;
        }
    }
    if (o.duration_s > 0 && o.prepare_rate > 0) {
        rc = prepare_sessions(&run, devs, &o);
        if (rc != 0) {
            free_devices(devs, o.devices);
            curl_multi_cleanup(run.multi);
            close(run.epoll_fd);
            curl_global_cleanup();
            return rc == -2 ? 2 : 1;
        }
    }
    if (o.duration_s > 0) {
        run.deadline_ms = sim_now_ms() + (long long) (o.duration_s * 1000);
    }
    if (o.duration_s > 0) {
        /* a bound on the set-up (registrations) before the clock starts;
         * then the run ends duration_s after it started */
        run.deadline_ms += SETUP_MAX_MS;
    }
    /* Paced devices start spread over one interval, as a fleet does,
     * not all in the same millisecond. */
    for (i = 0; run.interval_s > 0 && i < o.devices; i++) {
        devs[i].wake_at_ms = sim_now_ms()
            + sim_rand_below(&run.rand, (unsigned) (run.interval_s * 1000));
    }

    run_devices(&run, devs, o.devices);

    print_summary(&run, devs, o.devices);
    failed = 0;
    for (i = 0; i < o.devices; i++) {
        if (device_failed(&devs[i])) {
            failed++;
            fprintf(stderr, "agent-sim: device %d stopped: %s\n", i,
                    devs[i].outcome);
        }
    }
    if (o.report != NULL && write_report(o.report, &run, devs, o.devices)
        != 0)
    {
        fprintf(stderr, "agent-sim: cannot write %s\n", o.report);
        failed++;
    }
    free_devices(devs, o.devices);
    sim_stats_free(&run.latency);
    curl_multi_cleanup(run.multi);
    close(run.epoll_fd);
    curl_global_cleanup();
    return failed ? 1 : 0;
}
