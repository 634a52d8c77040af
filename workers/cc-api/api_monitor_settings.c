/*
 * Monitor settings and the hardware allow-list over the staff API.  A PUT
 * changes only the members it names and keeps the others (the defaults,
 * for a tenant without a row yet).  Ranges are checked here, so that each
 * out-of-range value has a code naming its member, and again by the
 * table's CHECKs.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_monitor_access.h"
#include "api_monitor_run.h"
#include "api_monitor_settings.h"

#define SETTINGS_JSON                                                       \
    "json_build_object('retentionDays', s.retention_days,"                  \
    " 'stallAfterMinutes', s.stall_after_minutes,"                          \
    " 'sessionTimeoutHours', s.session_timeout_hours,"                      \
    " 'hardwareCheck', s.hardware_check,"                                   \
    " 'autopilotCheck', s.autopilot_check,"                                 \
    " 'bootstrapEnabled', s.bootstrap_enabled,"                             \
    " 'diagnosticsMode', s.diagnostics_mode, 'updatedAt', s.updated_at)"

#define ALLOWLIST_TEXT_MAX  128

/* A settings member: its JSON name, its code when refused, its range
 * (integers) or kind. */
typedef enum { SETTING_INTEGER, SETTING_BOOLEAN, SETTING_MODE } setting_kind_t;

typedef struct {
    const char      *name;
    const char      *code;
    setting_kind_t   kind;
    int              min;
    int              max;
} setting_t;

/* In the order of put_sql's parameters $1..$7. */
static const setting_t  settings[] = {
    { "retentionDays", "retention_days_out_of_range",
      SETTING_INTEGER, 7, 365 },
    { "stallAfterMinutes", "stall_after_minutes_out_of_range",
      SETTING_INTEGER, 5, 10080 },
    { "sessionTimeoutHours", "session_timeout_hours_out_of_range",
      SETTING_INTEGER, 1, 168 },
    { "hardwareCheck", "hardware_check_invalid", SETTING_BOOLEAN, 0, 0 },
    { "autopilotCheck", "autopilot_check_invalid", SETTING_BOOLEAN, 0, 0 },
    { "bootstrapEnabled", "bootstrap_enabled_invalid", SETTING_BOOLEAN, 0, 0 },
    { "diagnosticsMode", "diagnostics_mode_invalid", SETTING_MODE, 0, 0 },
};

#define NSETTINGS  (sizeof(settings) / sizeof(settings[0]))

static const char  get_sql[] =
    "SELECT " SETTINGS_JSON " FROM cc_monitor_settings(cc_current_tenant()) s";

static const char  put_sql[] =
    "WITH s AS ("
    "  INSERT INTO monitor_settings AS m (tenant_id, retention_days,"
    "         stall_after_minutes, session_timeout_hours, hardware_check,"
    "         autopilot_check, bootstrap_enabled, diagnostics_mode,"
    "         updated_at)"
    "  SELECT c.tenant_id, coalesce($1::int, c.retention_days),"
    "         coalesce($2::int, c.stall_after_minutes),"
    "         coalesce($3::int, c.session_timeout_hours),"
    "         coalesce($4::boolean, c.hardware_check),"
    "         coalesce($5::boolean, c.autopilot_check),"
    "         coalesce($6::boolean, c.bootstrap_enabled),"
    "         coalesce($7, c.diagnostics_mode), now()"
    "    FROM cc_monitor_settings(cc_current_tenant()) c "
    "  ON CONFLICT (tenant_id) DO UPDATE"
    "     SET retention_days = EXCLUDED.retention_days,"
    "         stall_after_minutes = EXCLUDED.stall_after_minutes,"
    "         session_timeout_hours = EXCLUDED.session_timeout_hours,"
    "         hardware_check = EXCLUDED.hardware_check,"
    "         autopilot_check = EXCLUDED.autopilot_check,"
    "         bootstrap_enabled = EXCLUDED.bootstrap_enabled,"
    "         diagnostics_mode = EXCLUDED.diagnostics_mode,"
    "         updated_at = now()"
    "  RETURNING *) "
    "SELECT " SETTINGS_JSON " FROM s";

static const char  allowlist_sql[] =
    "SELECT json_build_object('items', coalesce(json_agg(json_build_object("
    "    'id', a.id, 'manufacturer', a.manufacturer, 'model', a.model,"
    "    'createdAt', a.created_at) ORDER BY a.id), '[]'))"
    "  FROM hardware_allowlist a WHERE a.tenant_id = cc_current_tenant()";

static const char  allowlist_add_sql[] =
    "INSERT INTO hardware_allowlist (tenant_id, manufacturer, model) "
    "VALUES (cc_current_tenant(), $1, $2) "
    "ON CONFLICT (tenant_id, manufacturer, model) DO NOTHING "
    "RETURNING json_build_object('id', id, 'manufacturer', manufacturer,"
    "                            'model', model, 'createdAt', created_at)";

static const char  allowlist_remove_sql[] =
    "DELETE FROM hardware_allowlist"
    " WHERE tenant_id = cc_current_tenant() AND id = $1::bigint "
    "RETURNING json_build_object('id', id, 'manufacturer', manufacturer,"
    "                            'model', model)";


static int
is_diagnostics_mode(const json_t *v)
{
    const char  *s;

    if (!json_is_string(v)) {
        return 0;
    }
    s = json_string_value(v);
    return strcmp(s, "Off") == 0 || strcmp(s, "Always") == 0
           || strcmp(s, "OnFailure") == 0;
}


/* One member's value as query text into out; 0, or -1 when refused. */
static int
read_setting(const setting_t *s, const json_t *v, char *out, size_t size)
{
    json_int_t  n;

    switch (s->kind) {
    case SETTING_INTEGER:
        if (!json_is_integer(v)) {
            return -1;
        }
        n = json_integer_value(v);
        if (n < s->min || n > s->max) {
            return -1;
        }
        snprintf(out, size, "%lld", (long long) n);
        return 0;
    case SETTING_BOOLEAN:
        if (!json_is_boolean(v)) {
            return -1;
        }
        snprintf(out, size, "%s", json_is_true(v) ? "true" : "false");
        return 0;
    case SETTING_MODE:
        if (!is_diagnostics_mode(v)) {
            return -1;
        }
        snprintf(out, size, "%s", json_string_value(v));
        return 0;
    }
    return -1;
}


static const setting_t *
find_setting(const char *name)
{
    size_t  i;

    for (i = 0; i < NSETTINGS; i++) {
        if (strcmp(settings[i].name, name) == 0) {
            return &settings[i];
        }
    }
    return NULL;
}


/* The body's members into st's parameters; -1 after answering. */
static int
read_settings(cc_request_t *req, cc_reply_t *rep, api_monitor_stmt_t *st,
              char values[][16])
{
    json_t           *body, *v;
    const char       *name;
    const setting_t  *s;
    char              message[96];
    size_t            i;

    body = cc_request_object(req, rep);
    if (body == NULL) {
        return -1;
    }
    json_object_foreach(body, name, v) {
        s = find_setting(name);
        if (s == NULL) {
            api_monitor_fail(rep, 400, "setting_unknown",
                             "the body names a setting that does not exist");
            return -1;
        }
        i = (size_t) (s - settings);
        if (read_setting(s, v, values[i], 16) != 0) {
            snprintf(message, sizeof(message), "%s is not allowed there",
                     s->name);
            api_monitor_fail(rep, 400, s->code, message);
            return -1;
        }
        st->params[i] = values[i];
    }
    return 0;
}


void
api_monitor_settings_get(cc_request_t *req, cc_reply_t *rep)
{
    api_monitor_scope_t  scope;
    api_monitor_stmt_t   st;

    if (api_monitor_admit(req, rep, API_MONITOR_ADMINISTER, &scope) != 0) {
        return;
    }
    memset(&st, 0, sizeof(st));
    st.sql = get_sql;
    if (api_monitor_run(req, &scope, &st) != 0) {
        api_monitor_answer_failure(rep, &st);
        return;
    }
    api_monitor_answer(rep, &st, 200, "not_found");
}


void
api_monitor_settings_put(cc_request_t *req, cc_reply_t *rep)
{
    api_monitor_scope_t  scope;
    api_monitor_stmt_t   st;
    char                 values[NSETTINGS][16];
    char                 target[64];

    memset(&st, 0, sizeof(st));
    if (api_monitor_admit(req, rep, API_MONITOR_ADMINISTER, &scope) != 0
        || read_settings(req, rep, &st, values) != 0)
    {
        return;
    }
    snprintf(target, sizeof(target), "tenant:%s", scope.tenant);
    st.sql = put_sql;
    st.nparams = NSETTINGS;
    st.audit_action = "monitor_settings.updated";
    st.audit_target = target;
    if (api_monitor_run(req, &scope, &st) != 0) {
        api_monitor_answer_failure(rep, &st);
        return;
    }
    api_monitor_answer(rep, &st, 200, "not_found");
}


void
api_monitor_allowlist_list(cc_request_t *req, cc_reply_t *rep)
{
    api_monitor_scope_t  scope;
    api_monitor_stmt_t   st;

    if (api_monitor_admit(req, rep, API_MONITOR_ADMINISTER, &scope) != 0) {
        return;
    }
    memset(&st, 0, sizeof(st));
    st.sql = allowlist_sql;
    if (api_monitor_run(req, &scope, &st) != 0) {
        api_monitor_answer_failure(rep, &st);
        return;
    }
    api_monitor_answer(rep, &st, 200, "not_found");
}


/* A pattern member: a string of 1..128 characters; NULL after answering. */
static const char *
read_pattern(const json_t *body, const char *name, const char *code,
             cc_reply_t *rep)
{
    const json_t  *v;
    size_t         n;

    v = json_object_get(body, name);
    n = json_is_string(v) ? json_string_length(v) : 0;
    if (n < 1 || n > ALLOWLIST_TEXT_MAX) {
        api_monitor_fail(rep, 400, code, "a pattern is a string of 1 to 128 "
                         "characters, with * and ? as wildcards");
        return NULL;
    }
    return json_string_value(v);
}


void
api_monitor_allowlist_add(cc_request_t *req, cc_reply_t *rep)
{
    api_monitor_scope_t  scope;
    api_monitor_stmt_t   st;
    json_t              *body;
    const char          *manufacturer, *model;

    if (api_monitor_admit(req, rep, API_MONITOR_ADMINISTER, &scope) != 0
        || (body = cc_request_object(req, rep)) == NULL
        || (manufacturer = read_pattern(body, "manufacturer",
                                        "manufacturer_invalid", rep)) == NULL
        || (model = read_pattern(body, "model", "model_invalid", rep)) == NULL)
    {
        return;
    }

    memset(&st, 0, sizeof(st));
    st.sql = allowlist_add_sql;
    st.nparams = 2;
    st.params[0] = manufacturer;
    st.params[1] = model;
    st.audit_action = "hardware_allowlist.added";
    st.audit_target = "hardware_allowlist";
    if (api_monitor_run(req, &scope, &st) != 0) {
        api_monitor_answer_failure(rep, &st);
        return;
    }
    if (st.json == NULL) {
        api_monitor_fail(rep, 409, "allowlist_entry_exists",
                         "that manufacturer and model are listed already");
        return;
    }
    api_monitor_answer(rep, &st, 201, "not_found");
}


void
api_monitor_allowlist_remove(cc_request_t *req, cc_reply_t *rep)
{
    api_monitor_scope_t  scope;
    api_monitor_stmt_t   st;
    const char          *eid;

    if (api_monitor_admit(req, rep, API_MONITOR_ADMINISTER, &scope) != 0) {
        return;
    }
    eid = cc_route_param(&req->match, "eid");
    if (eid == NULL || !api_monitor_ordinal_valid(eid)) {
        api_monitor_fail(rep, 404, "allowlist_entry_not_found",
                         "no such allow-list entry");
        return;
    }

    memset(&st, 0, sizeof(st));
    st.sql = allowlist_remove_sql;
    st.nparams = 1;
    st.params[0] = eid;
    st.audit_action = "hardware_allowlist.removed";
    st.audit_target = "hardware_allowlist";
    if (api_monitor_run(req, &scope, &st) != 0) {
        api_monitor_answer_failure(rep, &st);
        return;
    }
    api_monitor_answer(rep, &st, 204, "allowlist_entry_not_found");
}
