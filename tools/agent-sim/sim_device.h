/*
 * One simulated device: the agent's calls in the agent's order (config,
 * register-session, telemetry batches, upload-url), each answer handled
 * the way the agent handles it (agent-protocol.md 5, 6, 7 and 11), over a
 * libcurl easy handle that keeps its TLS connection alive.
 */

#ifndef SIM_DEVICE_H
#define SIM_DEVICE_H

#include <stdio.h>

#include <curl/curl.h>

#include "sim_buf.h"
#include "sim_rand.h"
#include "sim_session.h"
#include "sim_stats.h"

/* What every device shares: options, counters, the multi handle. */
typedef struct {
    const char     *url;            /* https://host:port, no slash */
    char            server_addr[256]; /* url's host resolved: a,b */
    int             server_port;
    const char     *ca_file;
    int             batch_override; /* 0: the config's maxBatchSize */
    int             apps;           /* app installs per app phase, */
    int             apps_max;       /* or a draw in apps..apps_max */
    size_t          pad;
    int             resend;         /* send every delivered batch again */
    int             diagnostics;    /* call upload-url after each session */
    int             error_report;   /* POST /api/agent/error per session */
    int             distress;       /* one distress report per device */
    double          retry_scale;    /* multiplies the agent's waits */
    double          interval_s;     /* between a device's batches (0) */
    long long       deadline_ms;    /* 0: one session per device */
    long long       clock_start_ms; /* the devices' clocks start here */
    int             gzip_level;
    int             verbose;
    int             ndevices;

    /* load runs (--duration): telemetry starts at origin_us, once every
     * device has registered its first session.  Open loop (--rate): every
     * device sends on its own schedule, events at rate / ndevices a second
     * from origin_us, its start offset by its place in the fleet, and
     * latency counts from the scheduled time */
    double          duration_s;     /* 0: one session per device */
    double          rate;           /* events/s offered; 0: closed loop */
    long long       origin_us;      /* 0 until every device is ready */
    long long       deadline_us;    /* no batch scheduled from then on */
    CURLM          *multi;
    int             epoll_fd;       /* the sockets libcurl asks to watch */
    long long       curl_timer_ms;  /* libcurl's timeout is due; -1 none */
    sim_rand_t      rand;

    /* counters */
    sim_stats_t     latency;        /* telemetry requests answered 2xx */
    long long       batches;        /* telemetry requests sent */
    long long       retries;        /* telemetry requests sent again */
    long long       resends;        /* deliberate duplicates (resend) */
    long long       halvings;
    long long       dropped;        /* lone items refused with 413 */
    long long       items_delivered;
    long long       events_delivered;
    long long       first_send_ms;
    long long       last_done_ms;
    long long       statuses[600];  /* telemetry answers by status */
    long long       late;           /* open loop: sent > 10 ms late */
    double          backlog_events; /* open loop: due, unsent at the end */
    long long       sessions_prepared;
    long long       sessions_live;  /* built while the clock ran */
    size_t          prepared_bytes;
    double          prepare_cpu_s;
    double          cpu_start_s;    /* when the measured phase began */
    double          cpu_s;          /* CPU of the measured phase */
} sim_run_t;

typedef enum {
    SIM_DEV_DISTRESS = 0,
    SIM_DEV_CONFIG,
    SIM_DEV_REGISTER,
    SIM_DEV_TELEMETRY,
    SIM_DEV_UPLOAD_URL,
    SIM_DEV_ERROR_REPORT,
    SIM_DEV_NEXT_SESSION,
    SIM_DEV_DONE
} sim_step_t;

/* What became of one session, for the report. */
typedef struct {
    char            session_id[37];
    sim_scenario_t  scenario;
    long long       items;
    long long       events;
    long long       items_delivered;
    long long       events_delivered;
    int             register_status;
    int             upload_url_status;
    int             error_status;
    int             complete;       /* every item delivered */
    int             prepared;       /* made before the clock started */
} sim_record_t;

typedef struct {
    sim_profile_t       profile;
    sim_scenario_t      scenario;
    char                cert[512];
    char                key[512];
    sim_run_t          *run;
    int                 index;          /* its place in the fleet */
    CURL               *easy;
    struct curl_slist  *connect_to;     /* its own name for the server */
    struct curl_slist  *resolve;
    struct curl_slist  *headers;
    sim_buf_t           body;
    sim_buf_t           wire;           /* the body as sent (gzip) */
    sim_buf_t           response;
    sim_step_t          step;
    int                 in_flight;
    long long           wake_at_ms;     /* monotonic */
    int                 attempts;       /* of the current call */

    /* configuration (agent-protocol.md 5; defaults until fetched) */
    int                 max_batch;
    int                 batch_cap;      /* after a 413: half the batch */
    int                 upload_interval_s;
    int                 max_auth_failures;
    int                 diagnostics_enabled;

    /* the session in progress */
    sim_session_t       session;
    int                 have_session;
    size_t              next_item;      /* first item not delivered */
    size_t              batch_items;    /* items in the request in flight */
    size_t              batch_events;   /* events among them */
    long long           batch_due_us;   /* open loop: its scheduled time */
    double              due_events;     /* open loop: events delivered */

    /* sessions rendered before the run (sim_pack.h), used in turn */
    sim_session_t      *prepared;
    size_t              nprepared;
    size_t              next_prepared;
    int                 resent;         /* this batch was sent twice */
    int                 auth_failures;
    int                 blocked_tries;

    sim_record_t       *records;
    size_t              nrecords;
    const char         *outcome;        /* why the device stopped */
    int                 distress_status;
    int                 config_status;
} sim_device_t;

int  sim_device_init(sim_device_t *d, sim_run_t *run);

/* Renders the device's next sessions ahead of time until they hold at
 * least events events; 0, 1 when the run's prepared sessions grew past
 * max_bytes, or -1 (out of memory). */
int  sim_device_prepare(sim_device_t *d, double events, size_t max_bytes);
void sim_device_free(sim_device_t *d);

/* Starts the device's next request if it is due; 1 when one started. */
int  sim_device_poll(sim_device_t *d, long long now_ms);

/* Handles the answer to the request in flight. */
void sim_device_done(sim_device_t *d, CURLcode result, long long now_ms);

long long sim_now_ms(void);     /* monotonic */
long long sim_wall_ms(void);    /* UTC */
long long sim_now_us(void);     /* monotonic */
double    sim_cpu_s(void);      /* user + system CPU of the process */

#endif
