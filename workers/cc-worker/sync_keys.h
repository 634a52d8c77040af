/*
 * The signing keys the registry holds: which OIDC discovery documents to
 * read, what their JWKS say, and how the keys of several issuers merge
 * into one set keyed by kid.
 *
 * A key entry is a JSON object {"jwk":{...},"issuer":"...","own":bool}:
 * the JWK as published, the issuer template nginx checks tokens against
 * (the key's own "issuer" member when it has one, else its discovery
 * document's "issuer"), and whether that issuer came from the key itself.
 * A key set is an object from kid to entry.
 *
 * Entra publishes the same keys in its v1 and v2 sets, the v2 copies with
 * their own issuer, the v1 copies without.  The registry holds one issuer
 * per kid, so when sources disagree a key's own issuer wins, and otherwise
 * the source listed first.
 */

#ifndef SYNC_KEYS_H
#define SYNC_KEYS_H

#include <stddef.h>

#include <jansson.h>

#include "cc_fetch.h"

#define SYNC_MAX_SOURCES      8
#define SYNC_KID_MAX          128     /* the registry's limits */
#define SYNC_ISSUER_MAX       256
#define SYNC_JWK_MAX          8192    /* bytes of a JWK's compact JSON */
#define SYNC_MAX_KEYS         64      /* per JWKS */
#define SYNC_ERR_LEN          160

/* What one discovery document leads to, and its last good key set. */
typedef struct sync_source {
    char     discovery_url[CC_FETCH_URL_MAX];
    char     issuer[SYNC_ISSUER_MAX + 1];
    json_t  *keys;          /* NULL until a fetch succeeded */
    int      failures;      /* consecutive failed fetches */
} sync_source_t;

typedef struct sync_keys {
    sync_source_t  sources[SYNC_MAX_SOURCES];
    size_t         nsources;
} sync_keys_t;

/*
 * The discovery URLs to read: the comma-separated list (blanks around
 * entries ignored) when it is not empty, else the two tenant-independent
 * documents under login_url (v2 first, then v1).  Every URL must be
 * https://.  Fills urls[0..*n).  Returns 0, or -1 with err filled.
 */
int sync_discovery_urls(const char *list, const char *login_url,
                        char urls[][CC_FETCH_URL_MAX], size_t max, size_t *n,
                        char *err, size_t errlen);

/* Sets up keys with one source per URL (no keys known yet). */
void sync_keys_init(sync_keys_t *keys, char urls[][CC_FETCH_URL_MAX],
                    size_t n);

void sync_keys_free(sync_keys_t *keys);

/*
 * Reads "issuer" and "jwks_uri" from a discovery document.  The issuer
 * must be a string of 1..SYNC_ISSUER_MAX bytes, jwks_uri an https URL.
 * Returns 0, or -1 with err filled.
 */
int sync_read_discovery(const json_t *doc, char *issuer, size_t issuer_len,
                        char *jwks_uri, size_t jwks_uri_len,
                        char *err, size_t errlen);

/*
 * The key set of a JWKS document whose discovery issuer is doc_issuer.
 * Keys we cannot verify with (cc_jwk_parse refuses them, e.g. "use":
 * "enc"), or that do not fit the registry (kid, issuer or JWK too long)
 * are left out and counted in *skipped.  A document without a "keys"
 * array, with more than SYNC_MAX_KEYS keys, with two usable keys of one
 * kid, or with no usable key at all fails whole: NULL with err filled.
 */
json_t *sync_read_jwks(const json_t *jwks, const char *doc_issuer,
                       size_t *skipped, char *err, size_t errlen);

/*
 * The union of every source's last good set (see the rule above).
 * Sources that never succeeded add nothing.  Returns a new object.
 */
json_t *sync_keys_merged(const sync_keys_t *keys);

/* True once every source has had a successful fetch. */
int sync_keys_complete(const sync_keys_t *keys);

/*
 * Fetches every source's discovery document and JWKS.  A source that
 * fails keeps its previous keys.  Returns the number of sources that
 * failed; *retry_after_ms is the longest Retry-After they were given (-1
 * for none).  Failures are logged with the URL's loggable form only.
 */
size_t sync_keys_refresh(sync_keys_t *keys, const cc_fetch_options_t *opt,
                         long long *retry_after_ms);

/* The body of PUT /registry/keys/{kid}: {"jwk","issuer","revoked":false}. */
json_t *sync_key_body(const json_t *entry);

/*
 * What turns the registry's set `pushed` into `wanted`: the kids to PUT
 * (new or changed entries) and the kids to DELETE.  Both are new arrays
 * of strings, in the sets' order.
 */
void sync_keys_diff(const json_t *wanted, const json_t *pushed,
                    json_t **put, json_t **del);

/*
 * Whether nginx having met a token whose kid it does not hold (GET
 * /registry's "unknown_kid": kid, noted at noted_at in Unix seconds) calls
 * for fetching the JWKS now: the kid is not in known (the set we have),
 * it was not noted before our last fetch attempt began (last_attempt_ms,
 * 0 for none), and that attempt is at least min_interval seconds old (so
 * a flood of made-up kids costs the issuer one request per interval).
 * Times in milliseconds are Unix time too; noted_at's second counts as a
 * whole, so a note in the second of an attempt asks for one more.
 */
int sync_should_refetch(const char *kid, long long noted_at,
                        const json_t *known, long long last_attempt_ms,
                        long long now_ms, long long min_interval);

#endif /* SYNC_KEYS_H */
