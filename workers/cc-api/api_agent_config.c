/*
 * A tenant's IME log-pattern overrides (sql/007): list the patterns its
 * agents get, read one, replace or add one (PUT), disable a default one
 * (PUT {"disabled":true}), and go back to the default (DELETE).
 *
 * An override is checked before it is stored, since the agent applies it
 * to every IME log line: a patternId of our shape, a category and an
 * action the agent knows, parameters of strings, and a regular expression
 * that compiles with PCRE2 (the .NET syntax the agent uses, named groups
 * (?<name>...) included, is largely shared; a pattern PCRE2 refuses is
 * refused with 400 invalid_regex).  Each write raises the tenant's
 * revision, and so its configVersion, in the transaction that audits it.
 */

#define PCRE2_CODE_UNIT_WIDTH 8

#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_agent_config.h"
#include "api_app.h"
#include "api_monitor_access.h"
#include "cc_db.h"
#include "cc_ime_actions.h"
#include "cc_log.h"

#define PATTERN_MAX_LEN       2000
#define DESCRIPTION_MAX_LEN   500
#define PARAMETERS_MAX        16
#define PATTERN_ID_MAX_LEN    64

/* The agent applies every pattern to every IME log line, so a tenant's
 * own patterns and overrides are bounded. */
#define OVERRIDES_MAX         "100"

#define PATTERNS_TX_FAILED    1
#define PATTERNS_TX_NOT_FOUND 2
#define PATTERNS_TX_TOO_MANY  3

static const api_agent_access_t  readers = {
    { "tenant_admin", "operator", "user", NULL }
};
static const api_agent_access_t  writers = {
    { "tenant_admin", NULL, NULL, NULL }
};

static const char  *categories[] = { "always", "currentPhase", "otherPhases" };

#define API_ISO_UTC(col) \
    "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"


/* ---- access and audit (shared with api_agent_reports.c, api_bootstrap.c) */

static int
has_any_role(const cc_identity_t *id, const api_agent_access_t *access)
{
    int  i;

    for (i = 0; i < 4 && access->roles[i] != NULL; i++) {
        if (cc_identity_has_role(id, access->roles[i])) {
            return 1;
        }
    }
    return 0;
}


static int
is_platform_global_admin(const cc_request_t *req)
{
    const api_app_t  *app = req->app;

    return cc_identity_has_role(&req->identity, "global_admin")
           && cc_identity_is_platform_tenant(req->identity.tenant,
                                             app->cfg->platform_tenant);
}


int
api_agent_access(const cc_request_t *req, cc_reply_t *rep,
                 const api_agent_access_t *access, cc_identity_t *path,
                 int *cross_tenant)
{
    const char  *flag;

    if (cc_identity_set_tenant(path, cc_route_param(&req->match, "tid")) != 0
        || path->tenant[0] == '\0')
    {
        api_monitor_fail(rep, 404, "not_found", "no such tenant");
        return 0;
    }
    *cross_tenant = strcmp(path->tenant, req->identity.tenant) != 0;
    if (*cross_tenant) {
        /* nginx lets only a Global Admin through to another tenant, and
         * says so with X-CC-Cross-Tenant; both must hold. */
        flag = cc_request_header(req, "X-CC-Cross-Tenant");
        if (flag == NULL || strcmp(flag, "1") != 0
            || !is_platform_global_admin(req))
        {
            api_monitor_fail(rep, 403, "other_tenant",
                             "that tenant is not yours");
            return 0;
        }
        return 1;
    }
    if (!has_any_role(&req->identity, access)
        && !is_platform_global_admin(req))
    {
        api_monitor_fail(rep, 403, "role_required",
                         "your role may not do this");
        return 0;
    }
    return 1;
}


int
api_agent_audit(PGconn *conn, const cc_request_t *req, const char *action,
                const char *target, const char *detail_json)
{
    const char  *params[4];

    params[0] = req->identity.user != NULL ? req->identity.user : "";
    params[1] = action;
    params[2] = target;
    params[3] = detail_json != NULL ? detail_json : "{}";
    return cc_db_command(conn,
        "INSERT INTO audit_log (tenant_id, actor, action, target, detail) "
        "VALUES (cc_current_tenant(), 'user:' || $1, $2, $3, $4::jsonb)",
        4, params);
}


int
api_agent_audit_cross_tenant(PGconn *conn, const cc_request_t *req,
                             int cross)
{
    char  target[256];
    char  detail[96];

    if (!cross) {
        return 0;
    }
    snprintf(target, sizeof(target), "%s %s", req->method, req->path);
    snprintf(detail, sizeof(detail), "{\"from_tenant\":\"%s\"}",
             req->identity.tenant);
    return api_agent_audit(conn, req, "cross_tenant_access", target, detail);
}


/* ---- checking an override ------------------------------------------- */

static int
is_one_of(const char *s, const char *const *list, size_t n)
{
    size_t  i;

    for (i = 0; s != NULL && i < n; i++) {
        if (strcmp(s, list[i]) == 0) {
            return 1;
        }
    }
    return 0;
}


static int
is_pattern_id(const char *s)
{
    size_t  i, len;

    len = s != NULL ? strlen(s) : 0;
    if (len == 0 || len > PATTERN_ID_MAX_LEN) {
        return 0;
    }
    for (i = 0; i < len; i++) {
        char  c = s[i];

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
              || (c >= '0' && c <= '9')
              || (i > 0 && (c == '_' || c == '.' || c == '-'))))
        {
            return 0;
        }
    }
    return 1;
}


/* True when PCRE2 compiles the regex (UTF-8, as the agent's are text). */
static int
regex_compiles(const char *regex)
{
    pcre2_code  *code;
    int          errcode;
    PCRE2_SIZE   erroff;

    code = pcre2_compile((PCRE2_SPTR) regex, PCRE2_ZERO_TERMINATED,
                         PCRE2_UTF, &errcode, &erroff, NULL);
    if (code == NULL) {
        return 0;
    }
    pcre2_code_free(code);
    return 1;
}


static int
parameters_ok(json_t *params)
{
    const char  *key;
    json_t      *v;

    if (params == NULL || json_is_null(params)) {
        return 1;
    }
    if (!json_is_object(params) || json_object_size(params) > PARAMETERS_MAX) {
        return 0;
    }
    json_object_foreach(params, key, v) {
        if (!json_is_string(v) || strlen(key) > 64
            || strlen(json_string_value(v)) > 256)
        {
            return 0;
        }
    }
    return 1;
}


/* An override as the agent gets it: camelCase, nulls left out. */
static json_t *
as_served(const char *id, const char *category, const char *regex,
          const char *action, json_t *params, int enabled,
          const char *description)
{
    json_t  *p;

    p = json_pack("{s:s,s:s,s:s,s:s}", "patternId", id, "category", category,
                  "pattern", regex, "action", action);
    if (json_is_object(params)) {
        json_object_set(p, "parameters", params);
    }
    json_object_set_new(p, "enabled", json_boolean(enabled));
    if (description != NULL) {
        json_object_set_new(p, "description", json_string(description));
    }
    json_object_set_new(p, "isBuiltIn", json_false());
    return p;
}


/*
 * The override PUT asks for, as it will be stored and served, or NULL
 * with the refusal in rep.  *disabled is set for {"disabled":true}.
 */
static json_t *
checked_override(const cc_request_t *req, cc_reply_t *rep, const char *id,
                 int *disabled)
{
    json_t      *body = req->json, *enabled, *params;
    const char  *body_id, *category, *regex, *action, *description;

    if (!json_is_object(body)) {
        api_monitor_fail(rep, 400, "invalid_request",
                         "the body must be a pattern object");
        return NULL;
    }
    *disabled = json_is_true(json_object_get(body, "disabled"));
    if (*disabled) {
        return json_object();
    }
    body_id = json_string_value(json_object_get(body, "patternId"));
    category = json_string_value(json_object_get(body, "category"));
    regex = json_string_value(json_object_get(body, "pattern"));
    action = json_string_value(json_object_get(body, "action"));
    description = json_string_value(json_object_get(body, "description"));
    enabled = json_object_get(body, "enabled");
    params = json_object_get(body, "parameters");

    if (json_object_get(body, "patternId") != NULL
        && (body_id == NULL || strcmp(body_id, id) != 0))
    {
        api_monitor_fail(rep, 400, "invalid_pattern_id",
                         "patternId in the body must be the one in the path");
        return NULL;
    }
    if (!is_one_of(category, categories,
                   sizeof(categories) / sizeof(categories[0])))
    {
        api_monitor_fail(rep, 400, "invalid_category",
                         "category must be always, currentPhase or "
                         "otherPhases");
        return NULL;
    }
    if (!cc_ime_action_known(action)) {
        api_monitor_fail(rep, 400, "invalid_action",
                         "action must be one the agent knows");
        return NULL;
    }
    if (regex == NULL || regex[0] == '\0' || strlen(regex) > PATTERN_MAX_LEN
        || !regex_compiles(regex))
    {
        api_monitor_fail(rep, 400, "invalid_regex",
                         "pattern must be a regular expression of at most "
                         "2000 characters that compiles");
        return NULL;
    }
    if (!parameters_ok(params)) {
        api_monitor_fail(rep, 400, "invalid_parameters",
                         "parameters must be an object of at most 16 "
                         "strings");
        return NULL;
    }
    if ((enabled != NULL && !json_is_boolean(enabled))
        || (json_object_get(body, "description") != NULL
            && (description == NULL
                || strlen(description) > DESCRIPTION_MAX_LEN)))
    {
        api_monitor_fail(rep, 400, "invalid_request",
                         "enabled must be a boolean and description a "
                         "string of at most 500 characters");
        return NULL;
    }
    return as_served(id, category, regex, action, params,
                     enabled == NULL || json_is_true(enabled), description);
}


/* ---- reading -------------------------------------------------------- */

typedef struct {
    const cc_request_t  *req;
    int                  cross;
    const char          *pattern_id;
    char                *stored;        /* override JSON text, "" = none */
    int                  disabled;
    PGresult            *res;
} patterns_tx_t;


/* A read: a Global Admin's access audited first, then the one row sql
 * answers, left in p->res. */
static int
read_one_row(PGconn *conn, patterns_tx_t *p, const char *sql, int nparams,
             const char *const *params)
{
    if (api_agent_audit_cross_tenant(conn, p->req, p->cross) != 0) {
        return PATTERNS_TX_FAILED;
    }
    p->res = cc_db_query(conn, sql, nparams, params);
    if (!cc_db_result_ok(p->res) || PQntuples(p->res) != 1) {
        return PATTERNS_TX_FAILED;
    }
    return 0;
}


static int
read_patterns(PGconn *conn, void *arg)
{
    return read_one_row(conn, arg,
        "SELECT (SELECT max(version) FROM agent_pattern_sets),"
        "       c.config_version, c.patterns::text,"
        "       (SELECT coalesce(jsonb_agg(jsonb_strip_nulls("
        "                   jsonb_build_object('patternId', o.pattern_id,"
        "                       'disabled', o.pattern IS NULL,"
        "                       'pattern', o.pattern,"
        "                       'updatedAt', " API_ISO_UTC("o.updated_at") ","
        "                       'updatedBy', o.updated_by))"
        "                   ORDER BY o.pattern_id), '[]')"
        "          FROM tenant_pattern_overrides o)::text "
        "  FROM cc_agent_patterns() c",
        0, NULL);
}


static json_t *
loads_or_null(const char *text)
{
    json_error_t  err;

    return text != NULL && text[0] != '\0' ? json_loads(text, 0, &err)
                                           : json_null();
}


void
api_agent_patterns_list(cc_request_t *req, cc_reply_t *rep)
{
    api_app_t      *app = req->app;
    patterns_tx_t   p;
    cc_identity_t   path;
    int             rc;

    memset(&p, 0, sizeof(p));
    p.req = req;
    if (!api_agent_access(req, rep, &readers, &path, &p.cross)) {
        return;
    }
    rc = cc_db_tenant_tx(app->pool, path.tenant, read_patterns, &p);
    if (rc != 0) {
        PQclear(p.res);
        cc_reply_error(rep, CC_ERR_UNAVAILABLE,
                       "the patterns could not be read; try again shortly");
        return;
    }
    cc_reply_json(rep, 200, json_pack("{s:i,s:i,s:o,s:o}",
        "setVersion", atoi(PQgetvalue(p.res, 0, 0)),
        "configVersion", atoi(PQgetvalue(p.res, 0, 1)),
        "patterns", loads_or_null(PQgetvalue(p.res, 0, 2)),
        "overrides", loads_or_null(PQgetvalue(p.res, 0, 3))));
    PQclear(p.res);
}


static int
read_one_pattern(PGconn *conn, void *arg)
{
    patterns_tx_t  *p = arg;
    const char     *params[1];

    params[0] = p->pattern_id;
    return read_one_row(conn, p,
        "SELECT (SELECT e FROM agent_pattern_sets s,"
        "               jsonb_array_elements(s.patterns) e"
        "         WHERE s.version = (SELECT max(version)"
        "                              FROM agent_pattern_sets)"
        "           AND e ->> 'patternId' = $1)::text,"
        "       (SELECT jsonb_strip_nulls(jsonb_build_object("
        "                   'disabled', o.pattern IS NULL,"
        "                   'pattern', o.pattern,"
        "                   'updatedAt', " API_ISO_UTC("o.updated_at") ","
        "                   'updatedBy', o.updated_by))"
        "          FROM tenant_pattern_overrides o"
        "         WHERE o.pattern_id = $1)::text",
        1, params);
}


/* What the agent gets for this id: the override's, or the default. */
static json_t *
effective_pattern(json_t *def, json_t *override)
{
    if (json_is_object(override)) {
        if (json_is_true(json_object_get(override, "disabled"))) {
            return json_null();
        }
        return json_incref(json_object_get(override, "pattern"));
    }
    return json_incref(def);
}


void
api_agent_pattern_get(cc_request_t *req, cc_reply_t *rep)
{
    api_app_t      *app = req->app;
    patterns_tx_t   p;
    cc_identity_t   path;
    json_t         *def, *override;
    int             rc;

    memset(&p, 0, sizeof(p));
    p.req = req;
    p.pattern_id = cc_route_param(&req->match, "patternId");
    if (!api_agent_access(req, rep, &readers, &path, &p.cross)) {
        return;
    }
    rc = cc_db_tenant_tx(app->pool, path.tenant, read_one_pattern, &p);
    if (rc != 0) {
        PQclear(p.res);
        cc_reply_error(rep, CC_ERR_UNAVAILABLE,
                       "the pattern could not be read; try again shortly");
        return;
    }
    def = loads_or_null(PQgetvalue(p.res, 0, 0));
    override = loads_or_null(PQgetvalue(p.res, 0, 1));
    PQclear(p.res);
    if (json_is_null(def) && json_is_null(override)) {
        json_decref(def);
        json_decref(override);
        api_monitor_fail(rep, 404, "not_found", "no such pattern");
        return;
    }
    cc_reply_json(rep, 200, json_pack("{s:s,s:o,s:o,s:o}",
        "patternId", p.pattern_id, "effective",
        effective_pattern(def, override), "default", def,
        "override", override));
}


/* ---- writing -------------------------------------------------------- */

static int
bump_revision(PGconn *conn)
{
    return cc_db_command(conn,
        "INSERT INTO tenant_pattern_revisions (tenant_id, revision) "
        "VALUES (cc_current_tenant(), 1) "
        "ON CONFLICT (tenant_id) DO UPDATE"
        "   SET revision = tenant_pattern_revisions.revision + 1",
        0, NULL);
}


/* 1 when the tenant has room for an override of this pattern, 0 when it
 * has as many as it may, -1 when the database failed. */
static int
has_room_for(PGconn *conn, const char *pattern_id)
{
    const char  *params[1];
    PGresult    *res;
    int          room;

    params[0] = pattern_id;
    res = cc_db_query(conn,
        "SELECT count(*) < " OVERRIDES_MAX
        "  FROM tenant_pattern_overrides WHERE pattern_id <> $1",
        1, params);
    room = -1;
    if (cc_db_result_ok(res) && PQntuples(res) == 1) {
        room = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    }
    PQclear(res);
    return room;
}


static int
store_override(PGconn *conn, void *arg)
{
    patterns_tx_t  *p = arg;
    const char     *params[3];
    char            detail[64];
    int             room;

    room = has_room_for(conn, p->pattern_id);
    if (room <= 0) {
        return room == 0 ? PATTERNS_TX_TOO_MANY : PATTERNS_TX_FAILED;
    }
    params[0] = p->pattern_id;
    params[1] = p->disabled ? NULL : p->stored;
    params[2] = p->req->identity.user != NULL ? p->req->identity.user : "";
    if (cc_db_command(conn,
            "INSERT INTO tenant_pattern_overrides (tenant_id, pattern_id,"
            "        pattern, updated_by) "
            "VALUES (cc_current_tenant(), $1, $2::jsonb, 'user:' || $3) "
            "ON CONFLICT (tenant_id, pattern_id) DO UPDATE"
            "   SET pattern = EXCLUDED.pattern, updated_at = now(),"
            "       updated_by = EXCLUDED.updated_by",
            3, params) != 0
        || bump_revision(conn) != 0)
    {
        return PATTERNS_TX_FAILED;
    }
    snprintf(detail, sizeof(detail), "{\"disabled\":%s,\"cross_tenant\":%s}",
             p->disabled ? "true" : "false", p->cross ? "true" : "false");
    if (api_agent_audit(conn, p->req, "agent_pattern_override_put",
                        p->pattern_id, detail) != 0)
    {
        return PATTERNS_TX_FAILED;
    }
    return 0;
}


static int
remove_override(PGconn *conn, void *arg)
{
    patterns_tx_t  *p = arg;
    const char     *params[1];
    PGresult       *res;
    int             removed;
    char            detail[64];

    params[0] = p->pattern_id;
    res = cc_db_query(conn,
        "DELETE FROM tenant_pattern_overrides WHERE pattern_id = $1",
        1, params);
    removed = cc_db_result_ok(res) ? atoi(PQcmdTuples(res)) : -1;
    PQclear(res);
    if (removed < 0) {
        return PATTERNS_TX_FAILED;
    }
    if (removed == 0) {
        return PATTERNS_TX_NOT_FOUND;
    }
    snprintf(detail, sizeof(detail), "{\"cross_tenant\":%s}",
             p->cross ? "true" : "false");
    if (bump_revision(conn) != 0
        || api_agent_audit(conn, p->req, "agent_pattern_override_delete",
                           p->pattern_id, detail) != 0)
    {
        return PATTERNS_TX_FAILED;
    }
    return 0;
}


void
api_agent_pattern_put(cc_request_t *req, cc_reply_t *rep)
{
    api_app_t      *app = req->app;
    patterns_tx_t   p;
    cc_identity_t   path;
    json_t         *pattern;
    int             rc;

    memset(&p, 0, sizeof(p));
    p.req = req;
    p.pattern_id = cc_route_param(&req->match, "patternId");
    if (!api_agent_access(req, rep, &writers, &path, &p.cross)) {
        return;
    }
    if (!is_pattern_id(p.pattern_id)) {
        api_monitor_fail(rep, 400, "invalid_pattern_id",
                         "a patternId is 1-64 letters, digits, '_', '.' or "
                         "'-', starting with a letter or digit");
        return;
    }
    pattern = checked_override(req, rep, p.pattern_id, &p.disabled);
    if (pattern == NULL) {
        return;
    }
    p.stored = json_dumps(pattern, JSON_COMPACT | JSON_PRESERVE_ORDER);
    rc = p.stored != NULL ? cc_db_tenant_tx(app->pool, path.tenant,
                                            store_override, &p)
                          : PATTERNS_TX_FAILED;
    free(p.stored);
    if (rc == PATTERNS_TX_TOO_MANY) {
        json_decref(pattern);
        api_monitor_fail(rep, 409, "too_many_overrides",
                         "a tenant has at most " OVERRIDES_MAX " pattern "
                         "overrides; remove one first");
        return;
    }
    if (rc != 0) {
        json_decref(pattern);
        cc_reply_error(rep, CC_ERR_UNAVAILABLE,
                       "the pattern could not be stored; try again shortly");
        return;
    }
    cc_log_fields(CC_LOG_INFO, "agent pattern override stored",
                  json_pack("{s:s,s:s,s:b}", "tenant", path.tenant,
                            "pattern_id", p.pattern_id,
                            "disabled", p.disabled));
    if (p.disabled) {
        json_decref(pattern);
        cc_reply_json(rep, 200, json_pack("{s:s,s:b}", "patternId",
                                          p.pattern_id, "disabled", 1));
        return;
    }
    cc_reply_json(rep, 200, json_pack("{s:s,s:b,s:o}", "patternId",
                                      p.pattern_id, "disabled", 0,
                                      "pattern", pattern));
}


void
api_agent_pattern_delete(cc_request_t *req, cc_reply_t *rep)
{
    api_app_t      *app = req->app;
    patterns_tx_t   p;
    cc_identity_t   path;
    int             rc;

    memset(&p, 0, sizeof(p));
    p.req = req;
    p.pattern_id = cc_route_param(&req->match, "patternId");
    if (!api_agent_access(req, rep, &writers, &path, &p.cross)) {
        return;
    }
    rc = cc_db_tenant_tx(app->pool, path.tenant, remove_override, &p);
    if (rc == PATTERNS_TX_NOT_FOUND) {
        api_monitor_fail(rep, 404, "not_found",
                         "this tenant has no override of that pattern");
        return;
    }
    if (rc != 0) {
        cc_reply_error(rep, CC_ERR_UNAVAILABLE,
                       "the override could not be removed; try again "
                       "shortly");
        return;
    }
    cc_log_fields(CC_LOG_INFO, "agent pattern override removed",
                  json_pack("{s:s,s:s}", "tenant", path.tenant,
                            "pattern_id", p.pattern_id));
    cc_reply_json(rep, 200, json_pack("{s:s,s:b}", "patternId",
                                      p.pattern_id, "removed", 1));
}
