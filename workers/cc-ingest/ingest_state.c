/*
 * What a telemetry batch says about its session's state: the batch's
 * events read into the summary the SQL state machine decides from
 * (sql/009_session_state.sql), and whether the result was a change.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "ingest_state.h"


/* The per-batch rules of agent-protocol.md 9 in their order; the first
 * that matches wins.  whiteglove_resumed counts only for a Pending
 * session, which the database knows, so it travels on its own. */
static const char  *rule_types[] = {
    "enrollment_complete", "enrollment_failed", "esp_failure",
    "gather_rules_collection_completed", "whiteglove_complete"
};

#define RULE_NONE  100

typedef struct {
    long long    last_seq;          /* of the last event, any type */
    const char  *last_type;
    long long    phase_seq;         /* of the last phase declaration */
    int          phase;
    long long    word_seq;          /* of the last stall or progress */
    const char  *word;
    long long    stall_seq;
    const char  *stall_message;
    long long    esp_seq;
    const char  *esp_message;
    int          progressed;
    int          resumed;
    int          rule_rank;
    long long    rule_seq;
    size_t       rule_index;        /* 1-based; 0 = none */
    json_t      *declared_at;       /* phase -> [Sequence, Timestamp] */
    long long    count;
} summary_t;


static int
starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}


int
ingest_state_is_periodic(const char *type)
{
    return strstr(type, "snapshot") != NULL
           || starts_with(type, "stall_probe")
           || strcmp(type, "modern_deployment_log") == 0
           || starts_with(type, "power_")
           || starts_with(type, "clock_");
}


static int
rule_rank_of(const ingest_event_t *ev)
{
    size_t  i;

    for (i = 0; i < sizeof(rule_types) / sizeof(rule_types[0]); i++) {
        if (strcmp(ev->event_type, rule_types[i]) == 0) {
            return (int) i + 1;
        }
    }
    if (strcmp(ev->event_type, "agent_shutting_down") == 0
        && ev->data_reason != NULL
        && strcmp(ev->data_reason, "max_lifetime") == 0)
    {
        return 7;
    }
    return RULE_NONE;
}


/* Keeps the first Timestamp of each declared phase. */
static void
note_declaration(summary_t *s, const ingest_event_t *ev)
{
    char     key[24];
    json_t  *seen;

    if (ev->sequence > s->phase_seq) {
        s->phase_seq = ev->sequence;
        s->phase = ev->phase;
    }
    snprintf(key, sizeof(key), "%d", ev->phase);
    seen = json_object_get(s->declared_at, key);
    if (seen == NULL
        || ev->sequence < json_integer_value(json_array_get(seen, 0)))
    {
        json_object_set_new(s->declared_at, key,
            json_pack("[I,s]", (json_int_t) ev->sequence, ev->event_time));
    }
}


static void
note_event(summary_t *s, const ingest_event_t *ev, size_t index)
{
    const char  *type = ev->event_type;
    long long    seq = ev->sequence;
    int          rank, stalled, periodic;

    s->count++;
    if (seq > s->last_seq) {
        s->last_seq = seq;
        s->last_type = type;
    }
    if ((strcmp(type, "esp_phase_changed") == 0
         || strcmp(type, "phase_transition") == 0)
        && ev->has_phase && ev->phase >= 0)
    {
        note_declaration(s, ev);
    }
    stalled = strcmp(type, "session_stalled") == 0;
    periodic = ingest_state_is_periodic(type);
    if (stalled) {
        if (seq > s->stall_seq) {
            s->stall_seq = seq;
            s->stall_message = ev->message;
        }
    } else if (!periodic) {
        s->progressed = 1;
    }
    if ((stalled || !periodic) && seq > s->word_seq) {
        s->word_seq = seq;
        s->word = type;
    }
    if (strcmp(type, "esp_provisioning_status") == 0 && seq > s->esp_seq) {
        s->esp_seq = seq;
        s->esp_message = ev->message;
    }
    if (strcmp(type, "whiteglove_resumed") == 0) {
        s->resumed = 1;
    }
    rank = rule_rank_of(ev);
    if (rank < s->rule_rank || (rank == s->rule_rank && seq < s->rule_seq)) {
        s->rule_rank = rank;
        s->rule_seq = seq;
        s->rule_index = index + 1;
    }
}


/* {"2": [sequence, time]} becomes {"2": time}. */
static json_t *
declared_times(json_t *declared_at)
{
    json_t      *out, *v;
    const char  *key;

    out = json_object();
    json_object_foreach(declared_at, key, v) {
        json_object_set(out, key, json_array_get(v, 1));
    }
    return out;
}


char *
ingest_state_summary(const ingest_event_t *events, size_t n)
{
    summary_t    s;
    size_t       i;
    json_t      *out;
    char        *text;

    memset(&s, 0, sizeof(s));
    s.last_seq = s.phase_seq = s.word_seq = s.stall_seq = s.esp_seq = -1;
    s.rule_rank = RULE_NONE;
    s.declared_at = json_object();
    if (s.declared_at == NULL) {
        return NULL;
    }
    for (i = 0; i < n; i++) {
        note_event(&s, &events[i], i);
    }

    out = json_pack("{s:I,s:s?,s:o,s:s?,s:s?,s:s?,s:b,s:b,s:i}",
        "count", (json_int_t) s.count,
        "lastType", s.last_type,
        "declaredAt", declared_times(s.declared_at),
        "lastWord", s.word,
        "stallMessage", s.stall_message,
        "espMessage", s.esp_message,
        "progressed", s.progressed,
        "resumed", s.resumed,
        "ruleRank", s.rule_rank);
    if (out != NULL && s.phase_seq >= 0) {
        json_object_set_new(out, "lastPhase", json_integer(s.phase));
    }
    if (out != NULL && s.rule_index > 0) {
        json_object_set_new(out, "ruleIndex",
                            json_integer((json_int_t) s.rule_index));
    }
    text = out != NULL ? json_dumps(out, JSON_COMPACT) : NULL;
    json_decref(out);
    json_decref(s.declared_at);
    return text;
}


int
ingest_state_changed(const ingest_state_change_t *change)
{
    return change->status[0] != '\0'
           && strcmp(change->old_status, change->status) != 0;
}
