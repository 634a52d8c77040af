/*
 * Bootstrap tokens of a tenant: creation (the token shown once), listing
 * without token values, and revocation, each change audited in the same
 * transaction.  nginx learns of every change through the registry
 * notification sql/008_bootstrap.sql raises, so a revoked token is refused
 * from the next request on.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "api_agent_config.h"
#include "api_app.h"
#include "api_bootstrap.h"
#include "api_monitor_access.h"
#include "cc_bootstrap.h"
#include "cc_db.h"
#include "cc_identity.h"
#include "cc_log.h"

#define BOOTSTRAP_TX_NOT_FOUND  1
#define BOOTSTRAP_TX_FAILED     2

/* Times as the API writes them everywhere: UTC, milliseconds, "Z". */
#define ISO(col) \
    "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

#define TOKEN_COLUMNS \
    "id, label, " ISO("created_at") ", " ISO("expires_at") ", " \
    "CASE WHEN revoked_at IS NULL THEN NULL ELSE " ISO("revoked_at") " END, " \
    "CASE WHEN revoked_at IS NOT NULL THEN 'revoked' " \
    "     WHEN expires_at <= now() THEN 'expired' ELSE 'active' END"

typedef struct {
    const cc_request_t  *req;
    const char          *tenant;        /* the path's, lower case */
    int                  cross_tenant;
    char                 token[CC_UUID_STR_LEN + 1];
    char                 hash[CC_SHA256_HEX_LEN + 1];
    char                 hours[16];
    const char          *label;
    const char          *id;
    json_t              *out;
} bootstrap_tx_t;


/* Tokens are the Tenant Admin's (or a platform Global Admin's). */
static const api_agent_access_t  managers = {
    { "tenant_admin", NULL, NULL, NULL }
};


/* A random (version 4) GUID: the token, 122 bits from the CSPRNG. */
static int
new_token(char out[CC_UUID_STR_LEN + 1])
{
    unsigned char  b[CC_UUID_LEN];

    if (RAND_bytes(b, sizeof(b)) != 1) {
        return -1;
    }
    b[6] = (unsigned char) ((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char) ((b[8] & 0x3f) | 0x80);
    cc_uuid_format(b, out);
    return 0;
}


/* The caller's id and, for a Global Admin elsewhere, where from. */
static int
audit(PGconn *conn, const bootstrap_tx_t *t, const char *action,
      const char *token_id)
{
    const char  *params[5];
    char         target[128];

    snprintf(target, sizeof(target), "bootstrap_token:%s", token_id);
    params[0] = t->req->identity.user != NULL ? t->req->identity.user : "";
    params[1] = action;
    params[2] = target;
    params[3] = t->cross_tenant ? t->req->identity.tenant : NULL;
    params[4] = t->label;
    return cc_db_command(conn,
        "INSERT INTO audit_log (tenant_id, actor, action, target, detail) "
        "VALUES (cc_current_tenant(), 'user:' || $1, $2, $3, "
        "        jsonb_strip_nulls(jsonb_build_object("
        "            'from_tenant', $4::text, 'label', $5::text)))",
        5, params);
}


static json_t *
token_json(const PGresult *res, int i)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:s*,s:s}",
        "id", PQgetvalue(res, i, 0), "label", PQgetvalue(res, i, 1),
        "createdAt", PQgetvalue(res, i, 2),
        "expiresAt", PQgetvalue(res, i, 3),
        "revokedAt", PQgetisnull(res, i, 4) ? NULL : PQgetvalue(res, i, 4),
        "state", PQgetvalue(res, i, 5));
}


static int
insert_token(PGconn *conn, void *arg)
{
    bootstrap_tx_t  *t = arg;
    const char      *params[4];
    PGresult        *res;
    int              rc;

    params[0] = t->hash;
    params[1] = t->label;
    params[2] = t->req->identity.user != NULL ? t->req->identity.user : "";
    params[3] = t->hours;
    res = cc_db_query(conn,
        "INSERT INTO bootstrap_tokens (tenant_id, token_hash, label, "
        "                              created_by, expires_at) "
        "VALUES (cc_current_tenant(), decode($1, 'hex'), $2, "
        "        (SELECT u.id FROM users u WHERE u.id::text = $3 "
        "            OR u.oid::text = $3 LIMIT 1), "
        "        now() + make_interval(hours => $4::int)) "
        "RETURNING " TOKEN_COLUMNS, 4, params);
    if (!cc_db_result_ok(res) || PQntuples(res) != 1) {
        PQclear(res);
        return BOOTSTRAP_TX_FAILED;
    }
    t->out = token_json(res, 0);
    rc = audit(conn, t, "bootstrap_token_create", PQgetvalue(res, 0, 0));
    PQclear(res);
    return rc == 0 ? 0 : BOOTSTRAP_TX_FAILED;
}


/* label: optional string of at most 128 bytes; validHours: 1..720. */
static int
read_create_body(const cc_request_t *req, cc_reply_t *rep, bootstrap_tx_t *t)
{
    json_t      *label, *hours;
    json_int_t   n;

    if (req->json != NULL && !json_is_object(req->json)) {
        api_monitor_fail(rep, 400, "invalid_request",
                         "the body must be an object");
        return -1;
    }
    label = json_object_get(req->json, "label");
    hours = json_object_get(req->json, "validHours");
    t->label = "";
    if (label != NULL && !json_is_null(label)) {
        if (!json_is_string(label)
            || json_string_length(label) > API_BOOTSTRAP_LABEL_MAX
            || strlen(json_string_value(label)) != json_string_length(label))
        {
            api_monitor_fail(rep, 400, "invalid_request",
                             "label must be a string of at most 128 bytes");
            return -1;
        }
        t->label = json_string_value(label);
    }
    n = API_BOOTSTRAP_DEFAULT_HOURS;
    if (hours != NULL && !json_is_null(hours)) {
        if (!json_is_integer(hours)) {
            api_monitor_fail(rep, 400, "invalid_request",
                             "validHours must be an integer from 1 to 720");
            return -1;
        }
        n = json_integer_value(hours);
    }
    if (n < 1 || n > API_BOOTSTRAP_MAX_HOURS) {
        api_monitor_fail(rep, 400, "invalid_request",
                         "validHours must be an integer from 1 to 720");
        return -1;
    }
    snprintf(t->hours, sizeof(t->hours), "%d", (int) n);
    return 0;
}


void
api_bootstrap_create(cc_request_t *req, cc_reply_t *rep)
{
    api_app_t       *app = req->app;
    bootstrap_tx_t   t;
    cc_identity_t    path;

    memset(&t, 0, sizeof(t));
    t.req = req;
    if (!api_agent_access(req, rep, &managers, &path, &t.cross_tenant)
        || read_create_body(req, rep, &t) != 0)
    {
        return;
    }
    if (new_token(t.token) != 0
        || cc_bootstrap_token_hash(t.token, CC_UUID_STR_LEN, t.hash) != 0)
    {
        cc_reply_error(rep, CC_ERR_INTERNAL, "no token could be made");
        return;
    }
    if (cc_db_tenant_tx(app->pool, path.tenant, insert_token, &t) != 0) {
        json_decref(t.out);
        cc_reply_error(rep, CC_ERR_UNAVAILABLE,
                       "the token could not be created; try again shortly");
        return;
    }
    /* the only time the token leaves this process */
    json_object_set_new(t.out, "token", json_string(t.token));
    cc_log_fields(CC_LOG_INFO, "bootstrap token created",
                  json_pack("{s:s,s:s}", "tenant", path.tenant,
                            "id", json_string_value(json_object_get(t.out,
                                                                    "id"))));
    memset(t.token, 0, sizeof(t.token));
    cc_reply_json(rep, 201, t.out);
}


static int
list_tokens(PGconn *conn, void *arg)
{
    bootstrap_tx_t  *t = arg;
    PGresult        *res;
    int              i;
    char             target[256];
    char             detail[96];

    if (t->cross_tenant) {
        snprintf(target, sizeof(target), "%s %s", t->req->method,
                 t->req->path);
        snprintf(detail, sizeof(detail), "{\"from_tenant\":\"%s\"}",
                 t->req->identity.tenant);
        if (cc_db_command(conn,
                "INSERT INTO audit_log (tenant_id, actor, action, target, "
                "                       detail) "
                "VALUES (cc_current_tenant(), 'user:' || $1, "
                "        'cross_tenant_access', $2, $3::jsonb)",
                3, (const char *[]) {
                    t->req->identity.user != NULL ? t->req->identity.user
                                                  : "",
                    target, detail }) != 0)
        {
            return BOOTSTRAP_TX_FAILED;
        }
    }
    res = cc_db_query(conn, "SELECT " TOKEN_COLUMNS " FROM bootstrap_tokens "
                      "ORDER BY created_at DESC, id", 0, NULL);
    if (!cc_db_result_ok(res)) {
        PQclear(res);
        return BOOTSTRAP_TX_FAILED;
    }
    t->out = json_array();
    for (i = 0; i < PQntuples(res); i++) {
        json_array_append_new(t->out, token_json(res, i));
    }
    PQclear(res);
    return 0;
}


void
api_bootstrap_list(cc_request_t *req, cc_reply_t *rep)
{
    api_app_t       *app = req->app;
    bootstrap_tx_t   t;
    cc_identity_t    path;

    memset(&t, 0, sizeof(t));
    t.req = req;
    if (!api_agent_access(req, rep, &managers, &path, &t.cross_tenant)) {
        return;
    }
    if (cc_db_tenant_tx(app->pool, path.tenant, list_tokens, &t) != 0) {
        json_decref(t.out);
        cc_reply_error(rep, CC_ERR_UNAVAILABLE,
                       "the tokens could not be read; try again shortly");
        return;
    }
    cc_reply_json(rep, 200, json_pack("{s:o}", "tokens", t.out));
}


/* Revoking twice keeps the first revocation's time and audits once. */
static int
revoke_token(PGconn *conn, void *arg)
{
    bootstrap_tx_t  *t = arg;
    const char      *params[1];
    PGresult        *res;
    int              changed;

    params[0] = t->id;
    res = cc_db_query(conn,
        "UPDATE bootstrap_tokens SET revoked_at = now() "
        "WHERE id = $1::uuid AND revoked_at IS NULL", 1, params);
    if (!cc_db_result_ok(res)) {
        PQclear(res);
        return BOOTSTRAP_TX_FAILED;
    }
    changed = atoi(PQcmdTuples(res));
    PQclear(res);
    if (changed == 1 && audit(conn, t, "bootstrap_token_revoke", t->id) != 0)
    {
        return BOOTSTRAP_TX_FAILED;
    }
    res = cc_db_query(conn, "SELECT " TOKEN_COLUMNS " FROM bootstrap_tokens "
                      "WHERE id = $1::uuid", 1, params);
    if (!cc_db_result_ok(res)) {
        PQclear(res);
        return BOOTSTRAP_TX_FAILED;
    }
    if (PQntuples(res) != 1) {
        PQclear(res);
        return BOOTSTRAP_TX_NOT_FOUND;
    }
    t->out = token_json(res, 0);
    PQclear(res);
    return 0;
}


void
api_bootstrap_revoke(cc_request_t *req, cc_reply_t *rep)
{
    api_app_t       *app = req->app;
    bootstrap_tx_t   t;
    cc_identity_t    path;
    int              rc;

    memset(&t, 0, sizeof(t));
    t.req = req;
    if (!api_agent_access(req, rep, &managers, &path, &t.cross_tenant)) {
        return;
    }
    t.id = cc_route_param(&req->match, "id");
    if (t.id == NULL || !cc_uuid_valid(t.id)) {
        api_monitor_fail(rep, 404, "not_found", "no such bootstrap token");
        return;
    }
    rc = cc_db_tenant_tx(app->pool, path.tenant, revoke_token, &t);
    if (rc == BOOTSTRAP_TX_NOT_FOUND) {
        api_monitor_fail(rep, 404, "not_found", "no such bootstrap token");
        return;
    }
    if (rc != 0) {
        json_decref(t.out);
        cc_reply_error(rep, CC_ERR_UNAVAILABLE,
                       "the token could not be revoked; try again shortly");
        return;
    }
    cc_log_fields(CC_LOG_INFO, "bootstrap token revoked",
                  json_pack("{s:s,s:s}", "tenant", path.tenant,
                            "id", t.id));
    cc_reply_json(rep, 200, t.out);
}
