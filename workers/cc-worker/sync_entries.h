/*
 * Registry entries in the two forms the sync handles them: as the database
 * gives them (rows of cc_registry_snapshot() and cc_registry_entry(), and
 * the notifications that name them) and as nginx's control API takes them
 * (paths, PUT bodies, and the body of POST /registry/sync).
 *
 * Everything is checked against the registry's rules before it is sent,
 * so that one odd row cannot make nginx refuse a whole resync: a row that
 * cannot be sent is left out (and logged), a tenant limit that cannot be
 * sent is dropped from its tenant.
 */

#ifndef SYNC_ENTRIES_H
#define SYNC_ENTRIES_H

#include <stddef.h>

#include <jansson.h>

#define SYNC_GUID_LEN        36
#define SYNC_SID_LEN         32      /* 128 bits in lower-case hex */
#define SYNC_HASH_LEN        64      /* a bootstrap token's SHA-256, hex */
#define SYNC_PLAN_MAX        32
#define SYNC_REGION_MAX      64
#define SYNC_REASON_MAX      32
#define SYNC_LIMIT_NAME_MAX  32
#define SYNC_LIMITS_MAX      8
#define SYNC_TAG_MAX         64

typedef enum {
    SYNC_TENANT = 0,
    SYNC_DEVICE,
    SYNC_SESSION,
    SYNC_BOOTSTRAP
} sync_kind_t;

/* One cc_registry_row as text, the way libpq hands it out; NULL = SQL
 * NULL. */
typedef struct sync_row {
    const char  *kind;
    const char  *tenant;
    const char  *id;
    const char  *status;
    const char  *plan;
    const char  *region;
    const char  *limits;        /* JSON text */
    const char  *until;
    const char  *reason;
} sync_row_t;

/* What a cc_registry notification names. */
typedef struct sync_notice {
    sync_kind_t  kind;
    char         tenant[SYNC_GUID_LEN + 1];     /* devices only */
    char         id[SYNC_HASH_LEN + 1];   /* GUID, session id or hash */
} sync_notice_t;

/* "tenant", "device", "session" or "bootstrap". */
const char *sync_kind_name(sync_kind_t kind);

/*
 * True for the kinds whose ids are never logged: a session id is half a
 * cookie, and a token's hash is as good as a name for the token.
 */
int sync_kind_id_is_secret(sync_kind_t kind);

/*
 * Parses a notification payload ({"kind":"tenant","id":...} etc., see
 * sql/004_registry.sql).  Returns 0, or -1 when it is not one of ours or
 * its ids are malformed.
 */
int sync_notice_parse(const char *payload, sync_notice_t *notice);

/* The entry's control API path, e.g. /registry/devices/{tid}/{device}. */
int sync_notice_path(const sync_notice_t *notice, char *out, size_t len);

/*
 * The PUT body for row ({"status","plan","region","limits"} for a tenant,
 * {"until","reason"} for a device, {"until"} for a session,
 * {"tenant","until","enabled"} for a bootstrap token), or NULL when the
 * row breaks the registry's rules.
 */
json_t *sync_row_body(const sync_row_t *row);

/* A new, empty body for POST /registry/sync, tagged tag (cut to
 * SYNC_TAG_MAX bytes). */
json_t *sync_body_new(const char *tag);

/*
 * Adds row to the body's "tenants", "devices", "sessions" or "bootstrap"
 * with its ids ("bootstrap" is created with its first token: nginx reads
 * an absent list as an empty one).  Returns 0, or -1 when the row was left
 * out.
 */
int sync_body_add_row(json_t *body, const sync_row_t *row);

/* Sets the body's "keys" from a key set (see sync_keys.h). */
void sync_body_set_keys(json_t *body, const json_t *keyset);

/* True for a GUID in lower case (the registry's form of every id). */
int sync_is_guid(const char *s);

/* True for 32 lower-case hex digits. */
int sync_is_session_id(const char *s);

/* True for 64 lower-case hex digits. */
int sync_is_token_hash(const char *s);

#endif /* SYNC_ENTRIES_H */
