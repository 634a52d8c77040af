
/*
 * Concierge: the registry control API's JSON (see the header).  Every field
 * is checked before anything is written, so a refused body changes nothing;
 * error texts name the field, never echo its value.  Fields the module does
 * not know are ignored, so a newer sync job can talk to an older module.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_cc_registry_json.h"


static ngx_int_t ngx_http_cc_registry_json_key(ngx_pool_t *pool,
    ngx_uint_t kind, json_t *obj, ngx_str_t *key,
    ngx_http_cc_registry_problem_t *problem);
static ngx_int_t ngx_http_cc_registry_json_guid(json_t *obj,
    const char *field, u_char *out, ngx_http_cc_registry_problem_t *problem);
static ngx_int_t ngx_http_cc_registry_json_value(ngx_pool_t *pool,
    json_t *obj, ngx_http_cc_registry_entry_t *entry,
    ngx_http_cc_registry_problem_t *problem);
static ngx_int_t ngx_http_cc_registry_json_tenant(ngx_pool_t *pool,
    json_t *obj, ngx_str_t *value, ngx_http_cc_registry_problem_t *problem);
static ngx_int_t ngx_http_cc_registry_json_limits(json_t *obj,
    ngx_http_cc_tenant_t *tenant, ngx_http_cc_registry_problem_t *problem);
static ngx_int_t ngx_http_cc_registry_json_device(ngx_pool_t *pool,
    json_t *obj, ngx_str_t *value, ngx_http_cc_registry_problem_t *problem);
static ngx_int_t ngx_http_cc_registry_json_key_value(ngx_pool_t *pool,
    json_t *obj, ngx_str_t *value, ngx_http_cc_registry_problem_t *problem);
static ngx_int_t ngx_http_cc_registry_json_name(json_t *obj,
    const char *field, size_t max, ngx_str_t *out,
    ngx_http_cc_registry_problem_t *problem);
static ngx_int_t ngx_http_cc_registry_json_until(json_t *obj,
    time_t *until, ngx_http_cc_registry_problem_t *problem);
static ngx_uint_t ngx_http_cc_registry_status_from_name(const char *name);
static ngx_uint_t ngx_http_cc_registry_visible(u_char *p, size_t len);
static ngx_int_t ngx_http_cc_registry_invalid(
    ngx_http_cc_registry_problem_t *problem, const char *fmt, ...);
static json_t *ngx_http_cc_registry_json_tenant_out(
    ngx_http_cc_registry_entry_t *entry, json_t *obj);
static json_t *ngx_http_cc_registry_json_device_out(
    ngx_http_cc_registry_entry_t *entry, json_t *obj);
static json_t *ngx_http_cc_registry_json_key_out(
    ngx_http_cc_registry_entry_t *entry, json_t *obj);
static ngx_int_t ngx_http_cc_registry_json_bootstrap(ngx_pool_t *pool,
    json_t *obj, ngx_http_cc_registry_entry_t *entry,
    ngx_http_cc_registry_problem_t *problem);
static json_t *ngx_http_cc_registry_json_bootstrap_out(
    ngx_http_cc_registry_entry_t *entry, json_t *obj);
static json_t *ngx_http_cc_registry_json_sync_list(json_t *body,
    ngx_uint_t kind);


json_t *
ngx_http_cc_registry_json_load(ngx_str_t *body,
    ngx_http_cc_registry_problem_t *problem)
{
    json_t        *root;
    json_error_t   error;

    problem->len = 0;

    root = json_loadb((char *) body->data, body->len, JSON_REJECT_DUPLICATES,
                      &error);

    if (root == NULL) {
        /* jansson's own text may quote the input: give the place only */
        ngx_http_cc_registry_invalid(problem,
                                     "the body is not JSON (at byte %i)",
                                     (ngx_int_t) error.position);
    }

    return root;
}


ngx_int_t
ngx_http_cc_registry_json_entry(ngx_pool_t *pool, ngx_uint_t kind,
    ngx_str_t *key, json_t *body, ngx_http_cc_registry_entry_t *entry,
    ngx_http_cc_registry_problem_t *problem)
{
    problem->len = 0;

    if (!json_is_object(body)) {
        return ngx_http_cc_registry_invalid(problem,
                                            "the body must be an object");
    }

    entry->kind = kind;
    entry->key = *key;

    return ngx_http_cc_registry_json_value(pool, body, entry, problem);
}


/*
 * A sync must name the four original kinds, even as empty arrays: a sync
 * job that forgot one would otherwise wipe it from the registry.
 * "bootstrap" came later: a sync job that predates it sends none, and an
 * absent list means no bootstrap tokens.
 */

ngx_int_t
ngx_http_cc_registry_json_sync(ngx_pool_t *pool, json_t *body,
    ngx_array_t *entries, ngx_str_t *tag,
    ngx_http_cc_registry_problem_t *problem)
{
    size_t                         i, n;
    json_t                        *list, *item, *t;
    ngx_int_t                      rc;
    ngx_str_t                     *name;
    ngx_uint_t                     kind;
    ngx_http_cc_registry_entry_t  *entry;

    problem->len = 0;

    if (!json_is_object(body)) {
        return ngx_http_cc_registry_invalid(problem,
                                            "the body must be an object");
    }

    ngx_str_null(tag);

    t = json_object_get(body, "tag");

    if (t && !json_is_null(t)) {
        if (!json_is_string(t) || json_string_length(t) > 64) {
            return ngx_http_cc_registry_invalid(problem,
                              "\"tag\" must be a string of at most 64 bytes");
        }

        tag->data = (u_char *) json_string_value(t);
        tag->len = json_string_length(t);
    }

    n = 0;

    for (kind = 0; kind < NGX_HTTP_CC_REGISTRY_KINDS; kind++) {
        name = ngx_http_cc_registry_kind_name(kind);
        list = ngx_http_cc_registry_json_sync_list(body, kind);

        if (!json_is_array(list)) {
            return ngx_http_cc_registry_invalid(problem,
                                                "\"%V\" must be an array",
                                                name);
        }

        n += json_array_size(list);
    }

    if (ngx_array_init(entries, pool, n ? n : 1,
                       sizeof(ngx_http_cc_registry_entry_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    for (kind = 0; kind < NGX_HTTP_CC_REGISTRY_KINDS; kind++) {
        name = ngx_http_cc_registry_kind_name(kind);
        list = ngx_http_cc_registry_json_sync_list(body, kind);

        json_array_foreach(list, i, item) {

            problem->len = ngx_snprintf(problem->text,
                                        NGX_HTTP_CC_REGISTRY_PROBLEM_MAX,
                                        "%V[%uz]: ", name, i)
                           - problem->text;

            if (!json_is_object(item)) {
                return ngx_http_cc_registry_invalid(problem,
                                                    "must be an object");
            }

            entry = ngx_array_push(entries);
            entry->kind = kind;

            rc = ngx_http_cc_registry_json_key(pool, kind, item, &entry->key,
                                               problem);
            if (rc != NGX_OK) {
                return rc;
            }

            rc = ngx_http_cc_registry_json_value(pool, item, entry, problem);
            if (rc != NGX_OK) {
                return rc;
            }
        }
    }

    problem->len = 0;

    return NGX_OK;
}


/* A kind's list in a sync body; an absent "bootstrap" is an empty one. */

static json_t *
ngx_http_cc_registry_json_sync_list(json_t *body, ngx_uint_t kind)
{
    json_t           *list;
    ngx_str_t        *name;
    static json_t    *empty;

    name = ngx_http_cc_registry_kind_name(kind);
    list = json_object_get(body, (char *) name->data);

    if (list == NULL && kind == NGX_HTTP_CC_REGISTRY_BOOTSTRAP) {
        if (empty == NULL) {
            empty = json_array();
        }

        return empty;
    }

    return list;
}


/* The identifying fields of a sync entry, normalised into a key. */

static ngx_int_t
ngx_http_cc_registry_json_key(ngx_pool_t *pool, ngx_uint_t kind, json_t *obj,
    ngx_str_t *key, ngx_http_cc_registry_problem_t *problem)
{
    json_t     *v;
    ngx_int_t   rc;
    ngx_str_t   text;

    /* a kid is kept as it is: the key points into the JSON string */
    if (kind != NGX_HTTP_CC_REGISTRY_KEYS) {
        key->data = ngx_pnalloc(pool, NGX_HTTP_CC_DEVICE_KEY_LEN);
        if (key->data == NULL) {
            return NGX_ERROR;
        }
    }

    switch (kind) {

    case NGX_HTTP_CC_REGISTRY_TENANTS:
        key->len = NGX_HTTP_CC_GUID_LEN;
        return ngx_http_cc_registry_json_guid(obj, "id", key->data, problem);

    case NGX_HTTP_CC_REGISTRY_DEVICES:
        key->len = NGX_HTTP_CC_DEVICE_KEY_LEN;

        rc = ngx_http_cc_registry_json_guid(obj, "tenant", key->data,
                                            problem);
        if (rc != NGX_OK) {
            return rc;
        }

        key->data[NGX_HTTP_CC_GUID_LEN] = '/';

        return ngx_http_cc_registry_json_guid(obj, "device",
                                  key->data + NGX_HTTP_CC_GUID_LEN + 1,
                                  problem);

    case NGX_HTTP_CC_REGISTRY_SESSIONS:
        v = json_object_get(obj, "sid");
        key->len = NGX_HTTP_CC_SESSION_ID_LEN;

        if (json_is_string(v)) {
            text.data = (u_char *) json_string_value(v);
            text.len = json_string_length(v);

            if (ngx_http_cc_registry_session_key(&text, key->data) == NGX_OK) {
                return NGX_OK;
            }
        }

        return ngx_http_cc_registry_invalid(problem,
                             "\"sid\" must be 32 hexadecimal digits");

    case NGX_HTTP_CC_REGISTRY_BOOTSTRAP:
        v = json_object_get(obj, "hash");
        key->len = NGX_HTTP_CC_BOOTSTRAP_KEY_LEN;

        if (json_is_string(v)) {
            text.data = (u_char *) json_string_value(v);
            text.len = json_string_length(v);

            if (ngx_http_cc_registry_bootstrap_key(&text, key->data)
                == NGX_OK)
            {
                return NGX_OK;
            }
        }

        return ngx_http_cc_registry_invalid(problem,
                             "\"hash\" must be 64 hexadecimal digits");

    default: /* NGX_HTTP_CC_REGISTRY_KEYS */
        v = json_object_get(obj, "kid");

        if (json_is_string(v)) {
            key->len = json_string_length(v);
            key->data = (u_char *) json_string_value(v);

            if (ngx_http_cc_registry_kid_valid(key) == NGX_OK) {
                return NGX_OK;
            }
        }

        return ngx_http_cc_registry_invalid(problem,
                             "\"kid\" must be 1 to %d visible characters "
                             "other than \"/\"", NGX_HTTP_CC_KID_MAX);
    }
}


static ngx_int_t
ngx_http_cc_registry_json_guid(json_t *obj, const char *field, u_char *out,
    ngx_http_cc_registry_problem_t *problem)
{
    json_t     *v;
    ngx_str_t   text;

    v = json_object_get(obj, field);

    if (json_is_string(v)) {
        text.data = (u_char *) json_string_value(v);
        text.len = json_string_length(v);

        if (ngx_http_cc_registry_tenant_key(&text, out) == NGX_OK) {
            return NGX_OK;
        }
    }

    return ngx_http_cc_registry_invalid(problem, "\"%s\" must be a GUID",
                                        field);
}


static ngx_int_t
ngx_http_cc_registry_json_value(ngx_pool_t *pool, json_t *obj,
    ngx_http_cc_registry_entry_t *entry,
    ngx_http_cc_registry_problem_t *problem)
{
    ngx_int_t  rc;

    entry->until = 0;
    entry->generation = 0;
    ngx_str_null(&entry->value);

    switch (entry->kind) {

    case NGX_HTTP_CC_REGISTRY_TENANTS:
        return ngx_http_cc_registry_json_tenant(pool, obj, &entry->value,
                                                problem);

    case NGX_HTTP_CC_REGISTRY_DEVICES:
        rc = ngx_http_cc_registry_json_until(obj, &entry->until, problem);
        if (rc != NGX_OK) {
            return rc;
        }

        return ngx_http_cc_registry_json_device(pool, obj, &entry->value,
                                                problem);

    case NGX_HTTP_CC_REGISTRY_SESSIONS:
        return ngx_http_cc_registry_json_until(obj, &entry->until, problem);

    case NGX_HTTP_CC_REGISTRY_BOOTSTRAP:
        return ngx_http_cc_registry_json_bootstrap(pool, obj, entry, problem);

    default: /* NGX_HTTP_CC_REGISTRY_KEYS */
        return ngx_http_cc_registry_json_key_value(pool, obj, &entry->value,
                                                   problem);
    }
}


static ngx_int_t
ngx_http_cc_registry_json_tenant(ngx_pool_t *pool, json_t *obj,
    ngx_str_t *value, ngx_http_cc_registry_problem_t *problem)
{
    json_t                *v;
    ngx_int_t              rc;
    ngx_str_t              plan, region;
    ngx_http_cc_tenant_t   tenant;

    ngx_memzero(&tenant, sizeof(ngx_http_cc_tenant_t));

    v = json_object_get(obj, "status");

    if (json_is_string(v)) {
        tenant.status = ngx_http_cc_registry_status_from_name(
                                                      json_string_value(v));
    }

    if (tenant.status == NGX_HTTP_CC_TENANT_UNKNOWN) {
        return ngx_http_cc_registry_invalid(problem,
                         "\"status\" must be \"active\", \"suspended\", "
                         "\"offboarding\" or \"offboarded\"");
    }

    rc = ngx_http_cc_registry_json_name(obj, "plan", NGX_HTTP_CC_PLAN_MAX,
                                        &plan, problem);
    if (rc != NGX_OK) {
        return rc;
    }

    rc = ngx_http_cc_registry_json_name(obj, "region",
                                        NGX_HTTP_CC_REGION_MAX, &region,
                                        problem);
    if (rc != NGX_OK) {
        return rc;
    }

    tenant.plan_len = plan.len;
    ngx_memcpy(tenant.plan, plan.data, plan.len);

    tenant.region_len = region.len;
    ngx_memcpy(tenant.region, region.data, region.len);

    rc = ngx_http_cc_registry_json_limits(obj, &tenant, problem);
    if (rc != NGX_OK) {
        return rc;
    }

    if (ngx_http_cc_registry_encode_tenant(pool, &tenant, value) != NGX_OK) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_cc_registry_json_limits(json_t *obj, ngx_http_cc_tenant_t *tenant,
    ngx_http_cc_registry_problem_t *problem)
{
    size_t                len;
    json_t               *limits, *v;
    const char           *name;
    ngx_http_cc_limit_t  *limit;

    limits = json_object_get(obj, "limits");

    if (limits == NULL || json_is_null(limits)) {
        return NGX_OK;
    }

    if (!json_is_object(limits)
        || json_object_size(limits) > NGX_HTTP_CC_LIMITS_MAX)
    {
        return ngx_http_cc_registry_invalid(problem,
                         "\"limits\" must be an object of at most %d "
                         "integers", NGX_HTTP_CC_LIMITS_MAX);
    }

    json_object_foreach(limits, name, v) {
        len = ngx_strlen(name);

        if (ngx_http_cc_registry_limit_name_valid((u_char *) name, len)
            != NGX_OK)
        {
            return ngx_http_cc_registry_invalid(problem,
                         "\"limits\" names must be 1 to %d characters "
                         "a-z, 0-9 or \"_\"", NGX_HTTP_CC_LIMIT_NAME_MAX);
        }

        if (!json_is_integer(v)) {
            return ngx_http_cc_registry_invalid(problem,
                         "\"limits\" values must be integers");
        }

        limit = &tenant->limits[tenant->nlimits++];
        limit->name_len = len;
        ngx_memcpy(limit->name, name, len);
        limit->value = json_integer_value(v);
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_cc_registry_json_device(ngx_pool_t *pool, json_t *obj,
    ngx_str_t *value, ngx_http_cc_registry_problem_t *problem)
{
    ngx_int_t  rc;
    ngx_str_t  reason;

    rc = ngx_http_cc_registry_json_name(obj, "reason", NGX_HTTP_CC_REASON_MAX,
                                        &reason, problem);
    if (rc != NGX_OK) {
        return rc;
    }

    if (ngx_http_cc_registry_encode_device(pool, &reason, value) != NGX_OK) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * {"tenant":GUID,"until":UNIX,"enabled":bool}.  A token always expires:
 * "until" 0 (never) is refused, so that a token the sync forgot to remove
 * still ends by itself.
 */

static ngx_int_t
ngx_http_cc_registry_json_bootstrap(ngx_pool_t *pool, json_t *obj,
    ngx_http_cc_registry_entry_t *entry,
    ngx_http_cc_registry_problem_t *problem)
{
    json_t     *v;
    u_char      tenant[NGX_HTTP_CC_GUID_LEN];
    ngx_int_t   rc;
    ngx_str_t   tenant_id;

    rc = ngx_http_cc_registry_json_guid(obj, "tenant", tenant, problem);
    if (rc != NGX_OK) {
        return rc;
    }

    rc = ngx_http_cc_registry_json_until(obj, &entry->until, problem);
    if (rc != NGX_OK) {
        return rc;
    }

    if (entry->until == 0) {
        return ngx_http_cc_registry_invalid(problem,
                     "\"until\" must be the token's expiry in unix seconds");
    }

    v = json_object_get(obj, "enabled");

    if (!json_is_boolean(v)) {
        return ngx_http_cc_registry_invalid(problem,
                                            "\"enabled\" must be a boolean");
    }

    tenant_id.data = tenant;
    tenant_id.len = NGX_HTTP_CC_GUID_LEN;

    return ngx_http_cc_registry_encode_bootstrap(pool, &tenant_id,
                                                 json_is_true(v),
                                                 &entry->value);
}


/*
 * The JWK is kept as compact JSON text: the auth module parses it with
 * lib/'s JWK parser and caches the result by the entry's generation.
 */

static ngx_int_t
ngx_http_cc_registry_json_key_value(ngx_pool_t *pool, json_t *obj,
    ngx_str_t *value, ngx_http_cc_registry_problem_t *problem)
{
    char       *text;
    json_t     *v;
    ngx_int_t   rc;
    ngx_str_t   jwk, issuer;
    ngx_uint_t  revoked;

    /*
     * An empty issuer binds the key to no issuer of its own: only the
     * auth module's configured issuers limit it (a key Entra lists in its
     * v1 and v2 sets alike).
     */
    v = json_object_get(obj, "issuer");

    if (!json_is_string(v)
        || json_string_length(v) > NGX_HTTP_CC_ISSUER_MAX
        || (json_string_length(v) != 0
            && !ngx_http_cc_registry_visible((u_char *) json_string_value(v),
                                             json_string_length(v))))
    {
        return ngx_http_cc_registry_invalid(problem,
                         "\"issuer\" must be 0 to %d visible characters",
                         NGX_HTTP_CC_ISSUER_MAX);
    }

    issuer.data = (u_char *) json_string_value(v);
    issuer.len = json_string_length(v);

    v = json_object_get(obj, "revoked");

    if (v && !json_is_null(v) && !json_is_boolean(v)) {
        return ngx_http_cc_registry_invalid(problem,
                                            "\"revoked\" must be a boolean");
    }

    revoked = json_is_true(v);

    v = json_object_get(obj, "jwk");

    if (!json_is_object(v)) {
        return ngx_http_cc_registry_invalid(problem,
                                            "\"jwk\" must be an object");
    }

    text = json_dumps(v, JSON_COMPACT);
    if (text == NULL) {
        return NGX_ERROR;
    }

    jwk.data = (u_char *) text;
    jwk.len = ngx_strlen(text);

    if (jwk.len > NGX_HTTP_CC_JWK_MAX) {
        rc = ngx_http_cc_registry_invalid(problem,
                         "\"jwk\" must be at most %d bytes of JSON",
                         NGX_HTTP_CC_JWK_MAX);

    } else if (ngx_http_cc_registry_encode_key(pool, revoked, &issuer, &jwk,
                                               value)
               != NGX_OK)
    {
        rc = NGX_ERROR;

    } else {
        rc = NGX_OK;
    }

    free(text);

    return rc;
}


/* An optional string of name characters; absent or null: empty. */

static ngx_int_t
ngx_http_cc_registry_json_name(json_t *obj, const char *field, size_t max,
    ngx_str_t *out, ngx_http_cc_registry_problem_t *problem)
{
    json_t  *v;

    out->len = 0;
    out->data = (u_char *) "";

    v = json_object_get(obj, field);

    if (v == NULL || json_is_null(v)) {
        return NGX_OK;
    }

    if (json_is_string(v)
        && ngx_http_cc_registry_name_valid((u_char *) json_string_value(v),
                                           json_string_length(v), max)
           == NGX_OK)
    {
        out->data = (u_char *) json_string_value(v);
        out->len = json_string_length(v);
        return NGX_OK;
    }

    return ngx_http_cc_registry_invalid(problem,
                     "\"%s\" must be a string of at most %uz letters, "
                     "digits, \".\", \"_\" or \"-\"", field, max);
}


/* An optional expiry in unix seconds; absent, null or 0: never. */

static ngx_int_t
ngx_http_cc_registry_json_until(json_t *obj, time_t *until,
    ngx_http_cc_registry_problem_t *problem)
{
    json_t  *v;

    *until = 0;

    v = json_object_get(obj, "until");

    if (v == NULL || json_is_null(v)) {
        return NGX_OK;
    }

    if (!json_is_integer(v) || json_integer_value(v) < 0) {
        return ngx_http_cc_registry_invalid(problem,
                     "\"until\" must be unix seconds (0: indefinitely)");
    }

    *until = (time_t) json_integer_value(v);

    return NGX_OK;
}


static ngx_uint_t
ngx_http_cc_registry_status_from_name(const char *name)
{
    ngx_uint_t   status;
    ngx_str_t   *known;

    for (status = NGX_HTTP_CC_TENANT_ACTIVE;
         status <= NGX_HTTP_CC_TENANT_OFFBOARDED;
         status++)
    {
        known = ngx_http_cc_tenant_status_name(status);

        if (ngx_strlen(name) == known->len
            && ngx_strncmp(name, known->data, known->len) == 0)
        {
            return status;
        }
    }

    return NGX_HTTP_CC_TENANT_UNKNOWN;
}


static ngx_uint_t
ngx_http_cc_registry_visible(u_char *p, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if (p[i] <= 0x20 || p[i] >= 0x7f) {
            return 0;
        }
    }

    return 1;
}


/* Appends to what the caller may have put first (a sync entry's place). */

static ngx_int_t
ngx_http_cc_registry_invalid(ngx_http_cc_registry_problem_t *problem,
    const char *fmt, ...)
{
    u_char   *p;
    va_list   args;

    va_start(args, fmt);
    p = ngx_vslprintf(problem->text + problem->len,
                      problem->text + NGX_HTTP_CC_REGISTRY_PROBLEM_MAX,
                      fmt, args);
    va_end(args);

    problem->len = p - problem->text;

    return NGX_DECLINED;
}


/*
 * json_object_set_new() takes its value even when it fails (a NULL value
 * simply fails), so a failure anywhere is collected in one flag and
 * answered once.
 */

json_t *
ngx_http_cc_registry_json_from_entry(ngx_http_cc_registry_entry_t *entry)
{
    int      rc;
    json_t  *obj;

    obj = json_object();
    if (obj == NULL) {
        return NULL;
    }

    switch (entry->kind) {

    case NGX_HTTP_CC_REGISTRY_TENANTS:
        obj = ngx_http_cc_registry_json_tenant_out(entry, obj);
        break;

    case NGX_HTTP_CC_REGISTRY_DEVICES:
        obj = ngx_http_cc_registry_json_device_out(entry, obj);
        break;

    case NGX_HTTP_CC_REGISTRY_SESSIONS:
        rc = json_object_set_new(obj, "sid",
                                 json_stringn((char *) entry->key.data,
                                              entry->key.len));
        rc |= json_object_set_new(obj, "until",
                                  json_integer((json_int_t) entry->until));
        if (rc != 0) {
            json_decref(obj);
            obj = NULL;
        }

        break;

    case NGX_HTTP_CC_REGISTRY_BOOTSTRAP:
        obj = ngx_http_cc_registry_json_bootstrap_out(entry, obj);
        break;

    default: /* NGX_HTTP_CC_REGISTRY_KEYS */
        obj = ngx_http_cc_registry_json_key_out(entry, obj);
        break;
    }

    if (obj == NULL) {
        return NULL;
    }

    if (json_object_set_new(obj, "generation",
                            json_integer((json_int_t) entry->generation))
        != 0)
    {
        json_decref(obj);
        return NULL;
    }

    return obj;
}


static json_t *
ngx_http_cc_registry_json_tenant_out(ngx_http_cc_registry_entry_t *entry,
    json_t *obj)
{
    int                    rc;
    json_t                *limits;
    ngx_str_t             *status;
    ngx_uint_t             i;
    ngx_http_cc_limit_t   *limit;
    ngx_http_cc_tenant_t   tenant;

    ngx_http_cc_registry_decode_tenant(entry->value.data, entry->value.len,
                                       &tenant);

    status = ngx_http_cc_tenant_status_name(tenant.status);

    limits = json_object();
    rc = (limits == NULL);

    for (i = 0; limits && i < tenant.nlimits; i++) {
        limit = &tenant.limits[i];

        rc |= json_object_setn_new(limits, (char *) limit->name,
                                   limit->name_len,
                                   json_integer((json_int_t) limit->value));
    }

    rc |= json_object_set_new(obj, "id",
                              json_stringn((char *) entry->key.data,
                                           entry->key.len));
    rc |= json_object_set_new(obj, "status",
                              json_stringn((char *) status->data,
                                           status->len));
    rc |= json_object_set_new(obj, "plan",
                              json_stringn((char *) tenant.plan,
                                           tenant.plan_len));
    rc |= json_object_set_new(obj, "region",
                              json_stringn((char *) tenant.region,
                                           tenant.region_len));
    rc |= json_object_set_new(obj, "limits", limits);

    if (rc != 0) {
        json_decref(obj);
        return NULL;
    }

    return obj;
}


static json_t *
ngx_http_cc_registry_json_device_out(ngx_http_cc_registry_entry_t *entry,
    json_t *obj)
{
    int                         rc;
    ngx_str_t                   tenant_id, device_id;
    ngx_http_cc_device_block_t  block;

    ngx_http_cc_registry_device_ids(&entry->key, &tenant_id, &device_id);
    ngx_http_cc_registry_decode_device(entry->value.data, entry->value.len,
                                       &block);

    rc = json_object_set_new(obj, "tenant",
                             json_stringn((char *) tenant_id.data,
                                          tenant_id.len));
    rc |= json_object_set_new(obj, "device",
                              json_stringn((char *) device_id.data,
                                           device_id.len));
    rc |= json_object_set_new(obj, "until",
                              json_integer((json_int_t) entry->until));
    rc |= json_object_set_new(obj, "reason",
                              json_stringn((char *) block.reason,
                                           block.reason_len));

    if (rc != 0) {
        json_decref(obj);
        return NULL;
    }

    return obj;
}


static json_t *
ngx_http_cc_registry_json_key_out(ngx_http_cc_registry_entry_t *entry,
    json_t *obj)
{
    int           rc;
    json_t       *jwk;
    ngx_str_t     issuer, text;
    ngx_uint_t    revoked;
    json_error_t  error;

    ngx_http_cc_registry_decode_key(entry->value.data, entry->value.len,
                                    &revoked, &issuer, &text);

    /* the text was written by json_dumps(), so it parses back */
    jwk = json_loadb((char *) text.data, text.len, 0, &error);

    rc = json_object_set_new(obj, "kid",
                             json_stringn((char *) entry->key.data,
                                          entry->key.len));
    rc |= json_object_set_new(obj, "jwk", jwk ? jwk : json_null());
    rc |= json_object_set_new(obj, "issuer",
                              json_stringn((char *) issuer.data, issuer.len));
    rc |= json_object_set_new(obj, "revoked", json_boolean(revoked));

    if (rc != 0) {
        json_decref(obj);
        return NULL;
    }

    return obj;
}


static json_t *
ngx_http_cc_registry_json_bootstrap_out(ngx_http_cc_registry_entry_t *entry,
    json_t *obj)
{
    int                      rc;
    ngx_http_cc_bootstrap_t  token;

    ngx_http_cc_registry_decode_bootstrap(entry->value.data, entry->value.len,
                                          &token);

    rc = json_object_set_new(obj, "hash",
                             json_stringn((char *) entry->key.data,
                                          entry->key.len));
    rc |= json_object_set_new(obj, "tenant",
                              json_stringn((char *) token.tenant_id,
                                           NGX_HTTP_CC_GUID_LEN));
    rc |= json_object_set_new(obj, "until",
                              json_integer((json_int_t) entry->until));
    rc |= json_object_set_new(obj, "enabled", json_boolean(token.enabled));

    if (rc != 0) {
        json_decref(obj);
        return NULL;
    }

    return obj;
}
