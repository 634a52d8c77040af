/*
 * Applies a telemetry batch to its session's state: reads the batch's
 * events into the summary the SQL state machine decides from
 * (sql/009_session_state.sql), calls it, and reads back what changed.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cc_db.h"
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
    json_int_t   last_seq;          /* of the last event, any type */
    const char  *last_type;
    json_int_t   phase_seq;         /* of the last phase declaration */
    json_int_t   phase;
    json_int_t   word_seq;          /* of the last stall or progress */
    const char  *word;
    json_int_t   stall_seq;
    const char  *stall_message;
    json_int_t   esp_seq;
    const char  *esp_message;
    int          progressed;
    int          resumed;
    int          rule_rank;
    json_int_t   rule_seq;
    const json_t *rule;
    json_t      *declared_at;       /* phase -> Timestamp of its first */
    json_int_t   count;
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


static const char *
row_text(const json_t *row, const char *key)
{
    return json_string_value(json_object_get(row, key));
}


static int
rule_rank_of(const json_t *row, const char *type)
{
    size_t       i;
    const char  *reason;

    for (i = 0; i < sizeof(rule_types) / sizeof(rule_types[0]); i++) {
        if (strcmp(type, rule_types[i]) == 0) {
            return (int) i + 1;
        }
    }
    if (strcmp(type, "agent_shutting_down") == 0) {
        reason = json_string_value(json_object_get(
                     json_object_get(row, "data"), "reason"));
        if (reason != NULL && strcmp(reason, "max_lifetime") == 0) {
            return 7;
        }
    }
    return RULE_NONE;
}


/* Keeps the first Timestamp of each declared phase. */
static void
note_declaration(summary_t *s, json_int_t seq, json_int_t phase,
                 const json_t *row)
{
    char         key[24];
    json_t      *seen;

    if (seq > s->phase_seq) {
        s->phase_seq = seq;
        s->phase = phase;
    }
    snprintf(key, sizeof(key), "%lld", (long long) phase);
    seen = json_object_get(s->declared_at, key);
    if (seen == NULL
        || seq < json_integer_value(json_array_get(seen, 0)))
    {
        json_object_set_new(s->declared_at, key,
            json_pack("[I,O]", seq, json_object_get(row, "event_time")));
    }
}


static void
note_row(summary_t *s, const json_t *row)
{
    const char  *type;
    json_t      *phase;
    json_int_t   seq;
    int          rank, stalled, periodic;

    type = row_text(row, "event_type");
    if (type == NULL) {
        return;
    }
    seq = json_integer_value(json_object_get(row, "sequence"));
    s->count++;
    if (seq > s->last_seq) {
        s->last_seq = seq;
        s->last_type = type;
    }
    phase = json_object_get(row, "phase");
    if ((strcmp(type, "esp_phase_changed") == 0
         || strcmp(type, "phase_transition") == 0)
        && json_is_integer(phase) && json_integer_value(phase) >= 0)
    {
        note_declaration(s, seq, json_integer_value(phase), row);
    }
    stalled = strcmp(type, "session_stalled") == 0;
    periodic = ingest_state_is_periodic(type);
    if (stalled) {
        if (seq > s->stall_seq) {
            s->stall_seq = seq;
            s->stall_message = row_text(row, "message");
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
        s->esp_message = row_text(row, "message");
    }
    if (strcmp(type, "whiteglove_resumed") == 0) {
        s->resumed = 1;
    }
    rank = rule_rank_of(row, type);
    if (rank < s->rule_rank || (rank == s->rule_rank && seq < s->rule_seq)) {
        s->rule_rank = rank;
        s->rule_seq = seq;
        s->rule = row;
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


json_t *
ingest_state_summary(const json_t *events)
{
    summary_t    s;
    size_t       i;
    json_t      *out;

    memset(&s, 0, sizeof(s));
    s.last_seq = s.phase_seq = s.word_seq = s.stall_seq = s.esp_seq = -1;
    s.rule_rank = RULE_NONE;
    s.declared_at = json_object();
    if (s.declared_at == NULL) {
        return NULL;
    }
    for (i = 0; i < json_array_size(events); i++) {
        note_row(&s, json_array_get(events, i));
    }

    out = json_pack("{s:I,s:s?,s:o,s:s?,s:s?,s:s?,s:b,s:b,s:O?,s:i}",
        "count", s.count,
        "lastType", s.last_type,
        "declaredAt", declared_times(s.declared_at),
        "lastWord", s.word,
        "stallMessage", s.stall_message,
        "espMessage", s.esp_message,
        "progressed", s.progressed,
        "resumed", s.resumed,
        "rule", s.rule,
        "ruleRank", s.rule_rank);
    if (out != NULL && s.phase_seq >= 0) {
        json_object_set_new(out, "lastPhase", json_integer(s.phase));
    }
    json_decref(s.declared_at);
    return out;
}


static void
copy_value(char *dst, size_t len, const PGresult *res, int col)
{
    snprintf(dst, len, "%s", PQgetisnull(res, 0, col) ? ""
                                                     : PQgetvalue(res, 0, col));
}


int
ingest_state_apply(PGconn *conn, const char *session, const json_t *events,
                   const char *max_item, ingest_state_change_t *change)
{
    const char  *params[3];
    json_t      *summary;
    char        *text;
    PGresult    *res;
    int          rc;

    memset(change, 0, sizeof(*change));
    summary = ingest_state_summary(events);
    text = summary != NULL ? json_dumps(summary, JSON_COMPACT) : NULL;
    json_decref(summary);
    if (text == NULL) {
        return -1;
    }
    params[0] = session;
    params[1] = text;
    params[2] = max_item;
    res = cc_db_query(conn,
        "SELECT old_status, status, phase, reason, events, last_event_type "
        "  FROM cc_session_apply_batch($1::uuid, $2::jsonb, $3::bigint)",
        3, params);
    free(text);
    rc = -1;
    if (cc_db_result_ok(res) && PQntuples(res) == 1) {
        copy_value(change->old_status, sizeof(change->old_status), res, 0);
        copy_value(change->status, sizeof(change->status), res, 1);
        change->phase = PQgetisnull(res, 0, 2) ? -1
                                               : atoi(PQgetvalue(res, 0, 2));
        copy_value(change->reason, sizeof(change->reason), res, 3);
        change->events = PQgetisnull(res, 0, 4) ? 0
                                                : atoi(PQgetvalue(res, 0, 4));
        copy_value(change->last_event_type, sizeof(change->last_event_type),
                   res, 5);
        rc = 0;
    }
    PQclear(res);
    return rc;
}


int
ingest_state_changed(const ingest_state_change_t *change)
{
    return change->status[0] != '\0'
           && strcmp(change->old_status, change->status) != 0;
}
