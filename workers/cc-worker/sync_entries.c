/*
 * Turning registry rows and notifications into what nginx's control API
 * takes, checked against the registry's rules on the way.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cc_log.h"
#include "cc_nginx.h"
#include "sync_entries.h"


static const char  *sync_kinds[] = {
    "tenant", "device", "session", "bootstrap"
};
static const char  *sync_collections[] = {
    "tenants", "devices", "sessions", "bootstrap"
};
static const char  *sync_statuses[] = {
    "active", "suspended", "offboarding", "offboarded"
};

#define SYNC_NKINDS     (sizeof(sync_kinds) / sizeof(sync_kinds[0]))
#define SYNC_NSTATUSES  (sizeof(sync_statuses) / sizeof(sync_statuses[0]))


const char *
sync_kind_name(sync_kind_t kind)
{
    return sync_kinds[kind];
}


int
sync_kind_id_is_secret(sync_kind_t kind)
{
    return kind == SYNC_SESSION || kind == SYNC_BOOTSTRAP;
}


static int
kind_from_name(const char *name, sync_kind_t *kind)
{
    size_t  i;

    for (i = 0; name != NULL && i < SYNC_NKINDS; i++) {
        if (strcmp(name, sync_kinds[i]) == 0) {
            *kind = (sync_kind_t) i;
            return 0;
        }
    }
    return -1;
}


static int
is_lower_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}


int
sync_is_guid(const char *s)
{
    size_t  i;

    if (s == NULL || strlen(s) != SYNC_GUID_LEN) {
        return 0;
    }
    for (i = 0; i < SYNC_GUID_LEN; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-') {
                return 0;
            }
        } else if (!is_lower_hex(s[i])) {
            return 0;
        }
    }
    return 1;
}


static int
is_hex_of_length(const char *s, size_t len)
{
    size_t  i;

    if (s == NULL || strlen(s) != len) {
        return 0;
    }
    for (i = 0; i < len; i++) {
        if (!is_lower_hex(s[i])) {
            return 0;
        }
    }
    return 1;
}


int
sync_is_session_id(const char *s)
{
    return is_hex_of_length(s, SYNC_SID_LEN);
}


int
sync_is_token_hash(const char *s)
{
    return is_hex_of_length(s, SYNC_HASH_LEN);
}


/* Copies a string member of obj that passes check into out[65]. */
static int
take_id(json_t *obj, const char *name, int (*check)(const char *),
        char *out)
{
    const char  *s;

    s = json_string_value(json_object_get(obj, name));
    if (s == NULL || !check(s)) {
        return -1;
    }
    snprintf(out, SYNC_HASH_LEN + 1, "%s", s);
    return 0;
}


int
sync_notice_parse(const char *payload, sync_notice_t *notice)
{
    json_t  *obj;
    int      rc;

    memset(notice, 0, sizeof(*notice));
    obj = json_loads(payload ? payload : "", JSON_REJECT_DUPLICATES, NULL);
    rc = -1;
    if (json_is_object(obj)
        && kind_from_name(json_string_value(json_object_get(obj, "kind")),
                          &notice->kind) == 0)
    {
        switch (notice->kind) {
        case SYNC_TENANT:
            rc = take_id(obj, "id", sync_is_guid, notice->id);
            break;
        case SYNC_DEVICE:
            rc = take_id(obj, "tenant", sync_is_guid, notice->tenant) == 0
                 ? take_id(obj, "id", sync_is_guid, notice->id) : -1;
            break;
        case SYNC_SESSION:
            rc = take_id(obj, "id", sync_is_session_id, notice->id);
            break;
        case SYNC_BOOTSTRAP:
            rc = take_id(obj, "id", sync_is_token_hash, notice->id);
            break;
        }
    }
    json_decref(obj);
    return rc;
}


int
sync_notice_path(const sync_notice_t *notice, char *out, size_t len)
{
    return cc_nginx_entry_path(out, len, sync_collections[notice->kind],
                               notice->kind == SYNC_DEVICE
                                   ? notice->tenant : notice->id,
                               notice->kind == SYNC_DEVICE
                                   ? notice->id : NULL);
}


static int
is_status(const char *s)
{
    size_t  i;

    for (i = 0; s != NULL && i < SYNC_NSTATUSES; i++) {
        if (strcmp(s, sync_statuses[i]) == 0) {
            return 1;
        }
    }
    return 0;
}


static int
has_length(const char *s, size_t min, size_t max)
{
    size_t  n;

    if (s == NULL) {
        return 0;
    }
    n = strlen(s);
    return n >= min && n <= max;
}


/* Plans, regions and reasons: 1..max of [A-Za-z0-9._-], as the registry
 * takes them (they become nginx variables and upstream names). */
static int
is_name(const char *s, size_t max)
{
    size_t  i;

    if (!has_length(s, 1, max)) {
        return 0;
    }
    for (i = 0; s[i] != '\0'; i++) {
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')
              || (s[i] >= '0' && s[i] <= '9')
              || s[i] == '.' || s[i] == '_' || s[i] == '-'))
        {
            return 0;
        }
    }
    return 1;
}


/* A Unix time from the database: 0 (indefinitely) or positive. */
static int
read_until(const char *s, json_int_t *out)
{
    char       *end;
    long long   n;

    if (s == NULL || s[0] == '\0') {
        return -1;
    }
    errno = 0;
    n = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0' || n < 0) {
        return -1;
    }
    *out = (json_int_t) n;
    return 0;
}


static void
warn_limit(const char *tenant, const char *name, const char *why)
{
    cc_log_fields(CC_LOG_WARN, "tenant limit not sent to nginx",
                  json_pack("{s:s,s:s%,s:s}", "tenant", tenant,
                            "limit", name, strnlen(name, 64), "why", why));
}


/* A limit's name: [a-z][a-z0-9_]*, at most SYNC_LIMIT_NAME_MAX long. */
static int
is_limit_name(const char *s)
{
    size_t  i;

    if (!has_length(s, 1, SYNC_LIMIT_NAME_MAX) || s[0] < 'a' || s[0] > 'z') {
        return 0;
    }
    for (i = 1; s[i] != '\0'; i++) {
        if (!(s[i] >= 'a' && s[i] <= 'z') && !(s[i] >= '0' && s[i] <= '9')
            && s[i] != '_')
        {
            return 0;
        }
    }
    return 1;
}


/* The limits nginx can hold (as sql/004_registry.sql allows them):
 * non-negative integers under short names, at most SYNC_LIMITS_MAX; the
 * rest are dropped with a warning. */
static json_t *
tenant_limits(const sync_row_t *row)
{
    json_t      *all, *kept, *value;
    const char  *name;

    kept = json_object();
    all = json_loads(row->limits ? row->limits : "{}", 0, NULL);
    if (!json_is_object(all)) {
        cc_log_fields(CC_LOG_WARN, "tenant limits are not a JSON object",
                      json_pack("{s:s}", "tenant", row->id));
        json_decref(all);
        return kept;
    }
    json_object_foreach(all, name, value) {
        if (!is_limit_name(name)) {
            warn_limit(row->id, name, "name");
        } else if (!json_is_integer(value) || json_integer_value(value) < 0) {
            warn_limit(row->id, name, "not a non-negative integer");
        } else if (json_object_size(kept) == SYNC_LIMITS_MAX) {
            warn_limit(row->id, name, "too many limits");
        } else {
            json_object_set(kept, name, value);
        }
    }
    json_decref(all);
    return kept;
}


static json_t *
tenant_body(const sync_row_t *row)
{
    if (!sync_is_guid(row->id) || !is_status(row->status)
        || !is_name(row->plan, SYNC_PLAN_MAX)
        || !is_name(row->region, SYNC_REGION_MAX))
    {
        return NULL;
    }
    return json_pack("{s:s,s:s,s:s,s:o}", "status", row->status,
                     "plan", row->plan, "region", row->region,
                     "limits", tenant_limits(row));
}


static json_t *
device_body(const sync_row_t *row)
{
    json_int_t  until;

    if (!sync_is_guid(row->tenant) || !sync_is_guid(row->id)
        || read_until(row->until, &until) != 0
        || !is_name(row->reason, SYNC_REASON_MAX))
    {
        return NULL;
    }
    return json_pack("{s:I,s:s}", "until", until, "reason", row->reason);
}


static json_t *
session_body(const sync_row_t *row)
{
    json_int_t  until;

    if (!sync_is_session_id(row->id) || read_until(row->until, &until) != 0
        || until == 0)
    {
        return NULL;
    }
    return json_pack("{s:I}", "until", until);
}


/* A token always expires, so until 0 (never) is not a token's. */
static json_t *
bootstrap_body(const sync_row_t *row)
{
    json_int_t  until;
    int         enabled;

    if (!sync_is_token_hash(row->id) || !sync_is_guid(row->tenant)
        || read_until(row->until, &until) != 0 || until == 0
        || row->status == NULL)
    {
        return NULL;
    }
    enabled = strcmp(row->status, "enabled") == 0;
    return json_pack("{s:s,s:I,s:b}", "tenant", row->tenant, "until", until,
                     "enabled", enabled);
}


json_t *
sync_row_body(const sync_row_t *row)
{
    sync_kind_t  kind;
    json_t      *body;

    if (kind_from_name(row->kind, &kind) != 0) {
        return NULL;
    }
    switch (kind) {
    case SYNC_TENANT:
        body = tenant_body(row);
        break;
    case SYNC_DEVICE:
        body = device_body(row);
        break;
    case SYNC_BOOTSTRAP:
        body = bootstrap_body(row);
        break;
    default:
        body = session_body(row);
        break;
    }
    if (body == NULL) {
        /* Tenant and device ids only: other values could be anything,
         * and a session id is half of what a session cookie is. */
        cc_log_fields(CC_LOG_WARN, "registry entry not sent to nginx",
                      json_pack("{s:s,s:s%}", "kind", row->kind,
                                "id", sync_kind_id_is_secret(kind)
                                      || !row->id ? "" : row->id,
                                sync_kind_id_is_secret(kind) || !row->id
                                      ? 0 : strnlen(row->id, 64)));
    }
    return body;
}


json_t *
sync_body_new(const char *tag)
{
    return json_pack("{s:[],s:[],s:[],s:[],s:s%}", "tenants", "devices",
                     "sessions", "keys", "tag", tag,
                     strnlen(tag, SYNC_TAG_MAX));
}


int
sync_body_add_row(json_t *body, const sync_row_t *row)
{
    sync_kind_t  kind;
    json_t      *item;

    item = sync_row_body(row);
    if (item == NULL || kind_from_name(row->kind, &kind) != 0) {
        json_decref(item);
        return -1;
    }
    switch (kind) {
    case SYNC_TENANT:
        json_object_set_new(item, "id", json_string(row->id));
        break;
    case SYNC_DEVICE:
        json_object_set_new(item, "tenant", json_string(row->tenant));
        json_object_set_new(item, "device", json_string(row->id));
        break;
    case SYNC_BOOTSTRAP:
        json_object_set_new(item, "hash", json_string(row->id));
        if (json_object_get(body, sync_collections[kind]) == NULL) {
            json_object_set_new(body, sync_collections[kind], json_array());
        }
        break;
    default:
        json_object_set_new(item, "sid", json_string(row->id));
        break;
    }
    return json_array_append_new(
        json_object_get(body, sync_collections[kind]), item) == 0 ? 0 : -1;
}


void
sync_body_set_keys(json_t *body, const json_t *keyset)
{
    json_t      *keys, *entry;
    const char  *kid;

    keys = json_array();
    json_object_foreach((json_t *) keyset, kid, entry) {
        json_array_append_new(keys, json_pack("{s:s,s:O,s:O,s:b}",
                              "kid", kid,
                              "jwk", json_object_get(entry, "jwk"),
                              "issuer", json_object_get(entry, "issuer"),
                              "revoked", 0));
    }
    json_object_set_new(body, "keys", keys);
}
