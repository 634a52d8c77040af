/*
 * Session cookies issued by cc-api (see api_session.h).  A session is a row
 * in sessions, so that revoking it (revoked_at) reaches nginx's registry
 * through cc-worker's sync; the cookie carries the signed token nginx
 * verifies inline.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api_session.h"
#include "cc_db.h"
#include "cc_identity.h"
#include "cc_log.h"

#define SESSION_COOKIE       "cc_session"
#define SESSION_TTL_DEFAULT  3600
#define SESSION_TTL_MIN      60
#define SESSION_TTL_MAX      86400
#define SESSION_KEYS_MAX     4096

typedef struct {
    char  sid_hex[2 * CC_UUID_LEN + 1];
    long  ttl;
} session_row_t;


int
api_session_load_keys(api_app_t *app)
{
    char    text[SESSION_KEYS_MAX];
    size_t  len;
    FILE   *f;

    cc_session_keyring_init(&app->keyring);
    f = fopen(app->cfg->session_keys, "r");
    if (f == NULL) {
        cc_log(CC_LOG_ERROR, "CC_SESSION_KEYS cannot be read");
        return -1;
    }
    len = fread(text, 1, sizeof(text), f);
    fclose(f);
    if (len == sizeof(text)
        || cc_session_keyring_load(&app->keyring, text, len) != CC_SESSION_OK)
    {
        cc_log(CC_LOG_ERROR, "CC_SESSION_KEYS is not a usable keyring");
        return -1;
    }
    return 0;
}


static void
to_hex(const unsigned char *in, size_t len, char *out)
{
    static const char  digits[] = "0123456789abcdef";
    size_t             i;

    for (i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 0x0f];
    }
    out[2 * len] = '\0';
}


static int
insert_session(PGconn *conn, void *arg)
{
    session_row_t  *row = arg;
    const char     *params[2];
    char            ttl[24];
    PGresult       *res;
    int             ok;

    snprintf(ttl, sizeof(ttl), "%ld", row->ttl);
    params[0] = row->sid_hex;
    params[1] = ttl;
    res = cc_db_query(conn,
        "INSERT INTO sessions (id, tenant_id, expires_at) "
        "VALUES (decode($1, 'hex'), cc_current_tenant(), "
        "        now() + make_interval(secs => $2::int))",
        2, params);
    ok = cc_db_result_ok(res);
    PQclear(res);
    return ok ? 0 : 1;
}


/* The roles array as "a,b" in mask form; -1 when malformed or unknown. */
static int
read_roles(const json_t *list, uint32_t *roles)
{
    char     text[CC_ROLES_STR_MAX * 2];
    size_t   len, n, i;
    json_t  *v;

    if (!json_is_array(list)) {
        return -1;
    }
    len = 0;
    text[0] = '\0';
    json_array_foreach(list, i, v) {
        if (!json_is_string(v)) {
            return -1;
        }
        n = json_string_length(v);
        if (len + n + 2 > sizeof(text)) {
            return -1;
        }
        if (len > 0) {
            text[len++] = ',';
        }
        memcpy(text + len, json_string_value(v), n);
        len += n;
        text[len] = '\0';
    }
    return cc_roles_parse(text, len, roles);
}


static int
read_sign_in(const json_t *body, cc_session_t *s, const char **tenant,
             long *ttl)
{
    const char  *user;
    json_t      *v;

    *tenant = json_string_value(json_object_get(body, "tenant"));
    user = json_string_value(json_object_get(body, "user"));
    if (*tenant == NULL || user == NULL
        || cc_uuid_parse(*tenant, strlen(*tenant), s->tenant) != 0
        || cc_uuid_parse(user, strlen(user), s->user) != 0
        || read_roles(json_object_get(body, "roles"), &s->roles) != 0)
    {
        return -1;
    }
    v = json_object_get(body, "ttl");
    *ttl = v == NULL ? SESSION_TTL_DEFAULT : (long) json_integer_value(v);
    if ((v != NULL && !json_is_integer(v))
        || *ttl < SESSION_TTL_MIN || *ttl > SESSION_TTL_MAX)
    {
        return -1;
    }
    return 0;
}


void
api_session_dev_sign_in(cc_request_t *req, cc_reply_t *rep)
{
    api_app_t      *app = req->app;
    cc_session_t    s;
    session_row_t   row;
    const char     *tenant;
    char            token[CC_SESSION_TOKEN_MAX + 1];
    char            cookie[CC_SESSION_TOKEN_MAX + 128];
    int             rc;

    if (!app->cfg->dev_sign_in) {
        cc_reply_error(rep, CC_ERR_NOT_FOUND, "no such route");
        return;
    }
    memset(&s, 0, sizeof(s));
    if (req->json == NULL || read_sign_in(req->json, &s, &tenant, &row.ttl) != 0
        || ((s.roles & CC_ROLE_GLOBAL_ADMIN)
            && !cc_identity_is_platform_tenant(tenant,
                                               app->cfg->platform_tenant)))
    {
        cc_reply_error(rep, CC_ERR_INVALID_REQUEST,
                       "give tenant and user as UUIDs, roles as an array of "
                       "role names (global_admin only in the platform "
                       "tenant) and, optionally, ttl in seconds (%d..%d)",
                       SESSION_TTL_MIN, SESSION_TTL_MAX);
        return;
    }

    s.iat = (long long) time(NULL);
    s.exp = s.iat + row.ttl;
    if (cc_session_new_id(s.sid) != 0
        || cc_session_mint(&app->keyring, &s, token, sizeof(token))
           != CC_SESSION_OK)
    {
        cc_reply_error(rep, CC_ERR_INTERNAL, "the session could not be made");
        return;
    }
    to_hex(s.sid, CC_UUID_LEN, row.sid_hex);

    rc = cc_db_tenant_tx(app->pool, tenant, insert_session, &row);
    if (rc != 0) {
        /* most likely a tenant that is not onboarded (foreign key) */
        cc_reply_error(rep, CC_ERR_INVALID_REQUEST,
                       "the session could not be recorded for that tenant");
        return;
    }

    snprintf(cookie, sizeof(cookie),
             SESSION_COOKIE "=%s; HttpOnly; Secure; SameSite=Lax; Path=/; "
             "Max-Age=%ld", token, row.ttl);
    cc_reply_header(rep, "Set-Cookie", cookie);
    cc_reply_json(rep, 201, json_pack("{s:s,s:I}", "session_id", row.sid_hex,
                                      "expires_at", (json_int_t) s.exp));
    cc_log_fields(CC_LOG_INFO, "development session issued",
                  json_pack("{s:s}", "tenant", tenant));
}
