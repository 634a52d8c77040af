/*
 * One enrollment session as the agent reports it: the scenario's events,
 * with the Signals and DecisionTransitions of the reducer steps, numbered
 * the way the agent numbers them (agent-protocol.md 7 and 8).
 *
 * Every item is written once, as the compact JSON the agent would send, so
 * that a retried batch is byte for byte the batch that was sent first.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim_buf.h"
#include "sim_session.h"

/* Phase numbers and names (agent-protocol.md 8). */
#define PHASE_NONE                -1
#define PHASE_DEVICE_PREPARATION   1
#define PHASE_DEVICE_SETUP         2
#define PHASE_APPS_DEVICE          3
#define PHASE_ACCOUNT_SETUP        4
#define PHASE_APPS_USER            5

#define SEVERITY_INFO     1
#define SEVERITY_WARNING  2
#define SEVERITY_ERROR    3

static const char  *scenario_names[SIM_NSCENARIOS] = {
    "success", "failure", "stall"
};

/* The reducer's SessionStage for each ESP phase, indexed by phase. */
static const char  *stage_names[] = {
    "AwaitingEsp", "EspDevicePreparation", "EspDeviceSetup",
    "EspAppsDevice", "EspAccountSetup", "EspAppsUser"
};

static const char  *app_names[] = {
    "Company Portal", "Microsoft 365 Apps", "VPN Client", "Printer Drivers",
    "PDF Reader", "Endpoint Agent", "Teams", "Browser", "Zip Utility",
    "Line-of-Business Tool"
};

#define NAPP_NAMES  (sizeof(app_names) / sizeof(app_names[0]))

#define APP_ERROR_CODE  "0x80070643"


const char *
sim_scenario_name(sim_scenario_t sc)
{
    return sc < SIM_NSCENARIOS ? scenario_names[sc] : "unknown";
}


int
sim_scenario_parse(const char *name, sim_scenario_t *sc)
{
    int  i;

    for (i = 0; i < SIM_NSCENARIOS; i++) {
        if (strcmp(name, scenario_names[i]) == 0) {
            *sc = (sim_scenario_t) i;
            return 0;
        }
    }
    return -1;
}


void
sim_format_time(long long ms, char out[32])
{
    time_t     secs;
    struct tm  tm;

    secs = (time_t) (ms / 1000);
    gmtime_r(&secs, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + 19, 13, ".%03u0000Z", (unsigned) (ms % 1000) % 1000u);
}


/* The event RowKey: {Timestamp:yyyyMMddHHmmssfff}_{Sequence:D10}. */
static void
format_event_row_key(long long ms, long long sequence, char out[40])
{
    time_t     secs;
    struct tm  tm;

    secs = (time_t) (ms / 1000);
    gmtime_r(&secs, &tm);
    strftime(out, 40, "%Y%m%d%H%M%S", &tm);
    snprintf(out + 14, 26, "%03u_%010lld", (unsigned) (ms % 1000) % 1000u,
             sequence);
}


static const char *
phase_name(int phase)
{
    static const char  *names[] = {
        "Start", "Device Preparation", "Device Setup", "Apps (Device)",
        "Account Setup", "Apps (User)"
    };

    return phase >= 0 && phase <= PHASE_APPS_USER ? names[phase] : "Unknown";
}


static const char *
severity_name(int severity)
{
    switch (severity) {
    case SEVERITY_WARNING: return "Warning";
    case SEVERITY_ERROR:   return "Error";
    default:               return "Info";
    }
}


/* Appends a finished item: the TelemetryItem envelope around payload. */
static void
add_item(sim_session_t *s, const char *kind, const char *row_key,
         const char *payload, int is_event, int flush)
{
    sim_buf_t    b = { 0 };
    sim_item_t  *items;
    char         enqueued[32];
    size_t       cap;

    sim_format_time(s->clock_ms, enqueued);
    sim_buf_printf(&b, "{\"Kind\":\"%s\",\"PartitionKey\":\"%s\","
                   "\"RowKey\":\"%s\",\"TelemetryItemId\":%lld,"
                   "\"SessionTraceOrdinal\":%lld,\"PayloadJson\":",
                   kind, s->partition_key, row_key, s->item_id, s->item_id);
    sim_buf_json_string(&b, payload);
    sim_buf_printf(&b, ",\"RequiresImmediateFlush\":%s,"
                   "\"EnqueuedAtUtc\":\"%s\",\"RetryCount\":0}",
                   flush ? "true" : "false", enqueued);

    if (s->nitems == s->cap) {
        cap = s->cap ? s->cap * 2 : 128;
        items = realloc(s->items, cap * sizeof(*items));
        if (items == NULL) {
            s->failed = 1;
            sim_buf_free(&b);
            return;
        }
        s->items = items;
        s->cap = cap;
    }
    if (b.failed) {
        s->failed = 1;
        sim_buf_free(&b);
        return;
    }
    s->items[s->nitems].json = b.data;
    s->items[s->nitems].len = b.len;
    s->items[s->nitems].is_event = is_event;
    s->nitems++;
    s->item_id++;
    if (is_event) {
        s->nevents++;
    }
}


/* An Event item; data is a JSON object's text, or NULL for {}. */
static void
add_event(sim_session_t *s, const char *type, int severity, int phase,
          const char *message, const char *data, int caused_by_step)
{
    sim_buf_t   p = { 0 };
    char        event_id[37], ts[32], row_key[40];

    s->clock_ms += 400 + sim_rand_below(s->rand, 2600);
    sim_rand_guid(s->rand, event_id);
    sim_format_time(s->clock_ms, ts);
    format_event_row_key(s->clock_ms, s->sequence, row_key);

    sim_buf_printf(&p, "{\"EventId\":\"%s\",\"SessionId\":\"%s\","
                   "\"TenantId\":\"%s\",\"Timestamp\":\"%s\","
                   "\"ReceivedAt\":null,\"SentAt\":null,\"EventType\":\"%s\","
                   "\"Severity\":%d,\"SeverityString\":\"%s\","
                   "\"Source\":\"%s\",\"Phase\":%d,\"PhaseNumber\":%d,"
                   "\"PhaseName\":\"%s\",\"ImmediateUpload\":%s,"
                   "\"Message\":",
                   event_id, s->session_id, s->profile->tenant_id, ts, type,
                   severity, severity_name(severity),
                   strncmp(type, "app_", 4) == 0 || strcmp(type,
                       "download_progress") == 0 ? "ImeLogTracker" : "Agent",
                   phase, phase, phase_name(phase),
                   severity >= SEVERITY_ERROR ? "true" : "false");
    sim_buf_json_string(&p, message);
    sim_buf_printf(&p, ",\"Data\":%s,\"Sequence\":%lld,"
                   "\"OriginalTimestamp\":null,\"TimestampClamped\":false,"
                   "\"RowKey\":\"%s\",",
                   data != NULL ? data : "{}", s->sequence, row_key);
    if (caused_by_step > 0) {
        sim_buf_printf(&p, "\"CausedByTransitionStepIndex\":%lld,"
                       "\"CausedBySignalOrdinal\":%lld}",
                       s->step - 1, s->ordinal - 1);
    } else {
        sim_buf_str(&p, "\"CausedByTransitionStepIndex\":null,"
                    "\"CausedBySignalOrdinal\":null}");
    }
    if (p.failed) {
        s->failed = 1;
    } else {
        add_item(s, "Event", row_key, p.data, 1,
                 severity >= SEVERITY_ERROR);
    }
    s->sequence++;
    sim_buf_free(&p);
}


/* One reducer step: its Signal, then its DecisionTransition (the events
 * it emits follow, with caused_by_step set). */
static void
add_step(sim_session_t *s, const char *signal_kind, const char *summary,
         int to_stage, const char *to_stage_name)
{
    sim_buf_t   p = { 0 };
    char        ts[32], row_key[24];
    long long   signal_item;

    s->clock_ms += 50;
    sim_format_time(s->clock_ms, ts);
    signal_item = s->item_id;
    sim_buf_printf(&p, "{\"SessionSignalOrdinal\":%lld,"
                   "\"SessionTraceOrdinal\":%lld,\"Kind\":\"%s\","
                   "\"KindSchemaVersion\":1,\"OccurredAtUtc\":\"%s\","
                   "\"SourceOrigin\":\"EspTracker\",\"Evidence\":{"
                   "\"Kind\":\"Raw\",\"Identifier\":\"esp-registry\","
                   "\"Summary\":\"%s\"}}",
                   s->ordinal, signal_item, signal_kind, ts, summary);
    snprintf(row_key, sizeof(row_key), "%019lld", s->ordinal);
    if (!p.failed) {
        add_item(s, "Signal", row_key, p.data, 0, 0);
    }
    sim_buf_reset(&p);

    sim_buf_printf(&p, "{\"StepIndex\":%lld,\"SessionTraceOrdinal\":%lld,"
                   "\"SignalOrdinalRef\":%lld,\"OccurredAtUtc\":\"%s\","
                   "\"Trigger\":\"%s\",\"FromStage\":\"%s\","
                   "\"ToStage\":\"%s\",\"Taken\":true,"
                   "\"ReducerVersion\":\"2.0.0.0\",\"Guards\":[],"
                   "\"EmittedEventSequences\":[%lld]}",
                   s->step, s->item_id, s->ordinal, ts, signal_kind,
                   stage_names[s->stage],
                   to_stage_name != NULL ? to_stage_name
                                         : stage_names[to_stage],
                   s->sequence);
    snprintf(row_key, sizeof(row_key), "%010lld", s->step);
    if (p.failed) {
        s->failed = 1;
    } else {
        add_item(s, "DecisionTransition", row_key, p.data, 0, 0);
    }
    sim_buf_free(&p);
    s->ordinal++;
    s->step++;
    if (to_stage_name == NULL) {
        s->stage = to_stage;
    }
}


static void
enter_phase(sim_session_t *s, int phase)
{
    char  summary[64], message[96], data[160];

    snprintf(summary, sizeof(summary), "ESP phase %s", phase_name(phase));
    add_step(s, "EspPhaseChanged", summary, phase, NULL);
    snprintf(message, sizeof(message), "ESP phase changed to %s",
             phase_name(phase));
    snprintf(data, sizeof(data),
             "{\"decisionState\":{\"schema\":\"decision-state-snapshot-v1\","
             "\"stage\":\"%s\"}}", stage_names[phase]);
    add_event(s, "esp_phase_changed", SEVERITY_INFO, phase, message, data, 1);
}


/* The Data of an app event: string values only (agent-protocol.md 8). */
static void
app_data(sim_session_t *s, sim_buf_t *d, int app, const char *state,
         int percent, int error, size_t pad)
{
    sim_buf_reset(d);
    sim_buf_printf(d, "{\"appId\":\"%08x-0000-4000-8000-%012x\","
                   "\"appName\":\"%s\",\"state\":\"%s\","
                   "\"intent\":\"Required\",\"targeted\":\"Device\","
                   "\"runAs\":\"System\",\"progressPercent\":\"%d\","
                   "\"bytesDownloaded\":\"%d\",\"bytesTotal\":\"52428800\","
                   "\"isError\":\"%s\",\"isCompleted\":\"%s\","
                   "\"appType\":\"Win32\",\"attemptNumber\":\"1\"",
                   (unsigned) app + 1, (unsigned) app + 1,
                   app_names[app % NAPP_NAMES], state, percent,
                   percent * 524288, error ? "true" : "false",
                   percent == 100 || error ? "true" : "false");
    if (error) {
        sim_buf_str(d, ",\"errorCode\":\"" APP_ERROR_CODE "\","
                    "\"exitCode\":\"1603\",\"failureType\":\"install\"");
    }
    if (pad > 0) {
        sim_buf_str(d, ",\"filler\":\"");
        while (pad-- > 0) {
            char  c = (char) ('a' + sim_rand_below(s->rand, 26));
            sim_buf_add(d, &c, 1);
        }
        sim_buf_str(d, "\"");
    }
    sim_buf_str(d, "}");
}


/* An app from download to install; fail: it fails at the end.  Returns
 * after the last event. */
static void
install_app(sim_session_t *s, int app, int fail, int stall, size_t pad)
{
    sim_buf_t   d = { 0 };
    char        message[96];
    int         percent;

    app_data(s, &d, app, "Downloading", 0, 0, pad);
    snprintf(message, sizeof(message), "Download started: %s",
             app_names[app % NAPP_NAMES]);
    add_event(s, "app_download_started", SEVERITY_INFO, PHASE_NONE,
              message, d.data, 0);
    for (percent = 20; percent <= 100; percent += 20) {
        if (stall && percent > 40) {
            sim_buf_free(&d);
            return;
        }
        app_data(s, &d, app, "Downloading", percent, 0, pad);
        snprintf(message, sizeof(message), "Downloading %s: %d%%",
                 app_names[app % NAPP_NAMES], percent);
        add_event(s, "download_progress", SEVERITY_INFO, PHASE_NONE,
                  message, d.data, 0);
    }
    app_data(s, &d, app, "Installing", 100, 0, pad);
    snprintf(message, sizeof(message), "Install started: %s",
             app_names[app % NAPP_NAMES]);
    add_event(s, "app_install_started", SEVERITY_INFO, PHASE_NONE,
              message, d.data, 0);
    app_data(s, &d, app, fail ? "Error" : "Installed", 100, fail, pad);
    snprintf(message, sizeof(message), "Install %s: %s",
             fail ? "failed" : "completed", app_names[app % NAPP_NAMES]);
    add_event(s, fail ? "app_install_failed" : "app_install_completed",
              fail ? SEVERITY_ERROR : SEVERITY_INFO, PHASE_NONE, message,
              d.data, 0);
    sim_buf_free(&d);
}


static void
install_apps(sim_session_t *s, int first, int apps, size_t pad)
{
    int  i;

    for (i = 0; i < apps; i++) {
        install_app(s, first + i, 0, 0, pad);
    }
}


/* The audit trail a terminal event carries (agent-protocol.md 8). */
static void
terminal_data(sim_buf_t *d, const char *trigger, const char *stage,
              long long step, long long ordinal, const char *extra)
{
    sim_buf_printf(d, "{\"decisionSource\":\"reducer\",\"trigger\":\"%s\","
                   "\"sessionStage\":\"%s\",\"stepIndex\":\"%lld\","
                   "\"signalOrdinal\":\"%lld\",\"signalsSeen\":["
                   "\"EspPhaseChanged\",\"%s\"],\"signalEvidence\":{},"
                   "\"signalTimestamps\":{},\"scenario\":{\"mode\":"
                   "\"UserDriven\",\"joinMode\":\"AzureAdJoin\","
                   "\"espConfig\":\"DeviceAndUser\",\"preProvisioningSide\":"
                   "\"None\",\"confidence\":\"High\",\"currentPhase\":\"%s\"}"
                   "%s}",
                   trigger, stage, step, ordinal, trigger, stage,
                   extra != NULL ? extra : "");
}


static void
start_session(sim_session_t *s, int apps)
{
    sim_buf_t   d = { 0 };
    const sim_profile_t  *p = s->profile;

    sim_buf_str(&d, "{\"agentVersion\":\"2.0.1412+sim\","
                "\"decisionState\":{\"schema\":"
                "\"decision-state-snapshot-v1\","
                "\"stage\":\"AwaitingEsp\"}}");
    add_event(s, "agent_started", SEVERITY_INFO, PHASE_NONE,
              "Agent started", d.data, 0);
    sim_buf_reset(&d);
    sim_buf_printf(&d, "{\"osName\":\"Windows 11 Enterprise\","
                   "\"osBuild\":\"26100.2454\",\"deviceName\":");
    sim_buf_json_string(&d, p->device_name);
    sim_buf_str(&d, ",\"serialNumber\":");
    sim_buf_json_string(&d, p->serial);
    sim_buf_str(&d, "}");
    add_event(s, "os_info", SEVERITY_INFO, PHASE_NONE,
              "Operating system information", d.data, 0);
    sim_buf_reset(&d);
    sim_buf_str(&d, "{\"profileName\":\"Standard User-Driven\","
                "\"userPrincipalName\":");
    sim_buf_json_string(&d, p->upn);
    sim_buf_str(&d, ",\"userEmail\":");
    sim_buf_json_string(&d, p->email);
    sim_buf_printf(&d, ",\"appsPlanned\":\"%d\"}", apps);
    add_event(s, "autopilot_profile", SEVERITY_INFO, PHASE_NONE,
              "Autopilot profile applied", d.data, 0);
    sim_buf_free(&d);

    enter_phase(s, PHASE_DEVICE_PREPARATION);
    enter_phase(s, PHASE_DEVICE_SETUP);
    enter_phase(s, PHASE_APPS_DEVICE);
}


static void
finish_success(sim_session_t *s, int apps, size_t pad)
{
    sim_buf_t   d = { 0 };

    install_apps(s, 0, apps, pad);
    enter_phase(s, PHASE_ACCOUNT_SETUP);
    sim_buf_str(&d, "{\"userPrincipalName\":");
    sim_buf_json_string(&d, s->profile->upn);
    sim_buf_str(&d, "}");
    add_event(s, "hello_provisioning_completed", SEVERITY_INFO, PHASE_NONE,
              "Windows Hello provisioning completed", d.data, 0);
    enter_phase(s, PHASE_APPS_USER);
    install_apps(s, apps, apps, pad);
    add_event(s, "desktop_arrived", SEVERITY_INFO, PHASE_NONE,
              "Desktop arrived", NULL, 0);

    add_step(s, "DesktopArrived", "desktop and ESP complete", 0, "Completed");
    sim_buf_reset(&d);
    terminal_data(&d, "DesktopArrived", "Completed", s->step - 1,
                  s->ordinal - 1, ",\"completionSource\":\"esp\"");
    add_event(s, "enrollment_complete", SEVERITY_INFO, PHASE_NONE,
              "Enrollment completed", d.data, 1);
    sim_buf_reset(&d);
    sim_buf_printf(&d, "{\"appsTracked\":\"%d\",\"appsFailed\":\"0\"}",
                   2 * apps);
    add_event(s, "app_tracking_summary", SEVERITY_INFO, PHASE_NONE,
              "App tracking summary", d.data, 0);
    add_event(s, "agent_shutting_down", SEVERITY_INFO, PHASE_NONE,
              "Agent shutting down", "{\"reason\":\"enrollment_complete\"}",
              0);
    sim_buf_free(&d);
}


static void
finish_failure(sim_session_t *s, int apps, size_t pad)
{
    sim_buf_t   d = { 0 };
    int         failing;

    failing = apps > 1 ? apps - 1 : 0;
    install_apps(s, 0, failing, pad);
    install_app(s, failing, 1, 0, pad);
    add_step(s, "AppInstallFailed", "a required app failed", 0, "Failed");
    terminal_data(&d, "AppInstallFailed", "Failed", s->step - 1,
                  s->ordinal - 1,
                  ",\"reason\":\"app_install_failed\","
                  "\"failureType\":\"app_install\","
                  "\"errorCode\":\"" APP_ERROR_CODE "\"");
    add_event(s, "enrollment_failed", SEVERITY_ERROR, PHASE_NONE,
              "Enrollment failed: a required app could not be installed",
              d.data, 1);
    sim_buf_reset(&d);
    sim_buf_printf(&d, "{\"appsTracked\":\"%d\",\"appsFailed\":\"1\"}",
                   failing + 1);
    add_event(s, "app_tracking_summary", SEVERITY_INFO, PHASE_NONE,
              "App tracking summary", d.data, 0);
    add_event(s, "agent_shutting_down", SEVERITY_INFO, PHASE_NONE,
              "Agent shutting down", "{\"reason\":\"enrollment_failed\"}", 0);
    sim_buf_free(&d);
}


/* Events stop in the middle of a download; an hour later the agent's
 * stall probe reports the session stalled (agent-protocol.md 5,
 * sessionStalledAfterProbeIndex). */
static void
finish_stall(sim_session_t *s, int apps, size_t pad)
{
    int   probe;
    char  data[64];

    install_apps(s, 0, apps > 1 ? apps - 1 : 0, pad);
    install_app(s, apps > 1 ? apps - 1 : 0, 0, 1, pad);
    for (probe = 1; probe <= 4; probe++) {
        s->clock_ms += 15 * 60 * 1000;
        snprintf(data, sizeof(data), "{\"probeIndex\":\"%d\"}", probe);
        add_event(s, "stall_probe_check", SEVERITY_INFO, PHASE_NONE,
                  "No progress since the last probe", data, 0);
    }
    add_step(s, "DeadlineFired", "stall probe index reached", 0, "Stalled");
    add_event(s, "session_stalled", SEVERITY_WARNING, PHASE_NONE,
              "No enrollment progress for 60 minutes",
              "{\"probeIndex\":\"4\"}", 1);
}


int
sim_session_build(sim_session_t *s, const sim_profile_t *p,
                  sim_scenario_t sc, int apps, size_t pad,
                  long long start_ms, sim_rand_t *rand)
{
    memset(s, 0, sizeof(*s));
    s->profile = p;
    s->scenario = sc;
    s->rand = rand;
    s->sequence = 1;
    s->step = 1;
    s->start_ms = start_ms;
    s->clock_ms = start_ms;
    sim_rand_guid(rand, s->session_id);
    snprintf(s->partition_key, sizeof(s->partition_key), "%s_%s",
             p->tenant_id, s->session_id);
    if (apps < 1) {
        apps = 1;
    }

    start_session(s, apps);
    switch (sc) {
    case SIM_SUCCESS:
        finish_success(s, apps, pad);
        break;
    case SIM_APP_FAILURE:
        finish_failure(s, apps, pad);
        break;
    default:
        finish_stall(s, apps, pad);
        break;
    }
    if (s->failed) {
        sim_session_free(s);
        return -1;
    }
    return 0;
}


void
sim_session_free(sim_session_t *s)
{
    size_t  i;

    for (i = 0; s->items != NULL && i < s->nitems; i++) {
        free(s->items[i].json);
    }
    free(s->items);
    s->items = NULL;
    s->nitems = s->cap = 0;
    for (i = 0; i < s->nbatches; i++) {
        free(s->batches[i].wire);
        free(s->batches[i].lens);
    }
    free(s->batches);
    s->batches = NULL;
    s->nbatches = 0;
    s->packed_batch = 0;
}
