/*
 * OIDC discovery and JWKS for the registry's signing keys: which documents
 * to read, reading them, and merging the keys of several issuers.
 */

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "cc_jwk.h"
#include "cc_log.h"
#include "sync_keys.h"


#define SYNC_V2_DISCOVERY  "common/v2.0/.well-known/openid-configuration"
#define SYNC_V1_DISCOVERY  "common/.well-known/openid-configuration"


static int
is_https_url(const char *s, size_t len)
{
    return len > 8 && len < CC_FETCH_URL_MAX
           && strncmp(s, "https://", 8) == 0;
}


/* 1..max visible ASCII characters; a kid also has no "/" and is not "."
 * or "..", since it travels as a path segment. */
static int
is_visible(const char *s, size_t max, int path_segment)
{
    size_t  i;

    for (i = 0; s[i] != '\0'; i++) {
        if ((unsigned char) s[i] <= 0x20 || (unsigned char) s[i] >= 0x7f
            || (path_segment && s[i] == '/'))
        {
            return 0;
        }
    }
    if (path_segment && (strcmp(s, ".") == 0 || strcmp(s, "..") == 0)) {
        return 0;
    }
    return i >= 1 && i <= max;
}


/* Copies the next comma-separated entry of *list, blanks trimmed, into
 * out and advances *list.  Returns the entry's length (0 for an empty
 * one), or -1 when it does not fit. */
static int
next_entry(const char **list, char *out, size_t len)
{
    const char  *s, *end, *comma;
    size_t       n;

    s = *list;
    comma = strchr(s, ',');
    end = comma ? comma : s + strlen(s);
    *list = comma ? comma + 1 : end;

    while (s < end && isspace((unsigned char) *s)) {
        s++;
    }
    while (end > s && isspace((unsigned char) end[-1])) {
        end--;
    }
    n = (size_t) (end - s);
    if (n >= len) {
        return -1;
    }
    memcpy(out, s, n);
    out[n] = '\0';
    return (int) n;
}


static int
urls_from_list(const char *list, char urls[][CC_FETCH_URL_MAX], size_t max,
               size_t *n, char *err, size_t errlen)
{
    int  len;

    *n = 0;
    while (*list != '\0') {
        if (*n == max) {
            snprintf(err, errlen, "CC_OIDC_DISCOVERY_URLS: more than %zu "
                     "URLs", max);
            return -1;
        }
        len = next_entry(&list, urls[*n], CC_FETCH_URL_MAX);
        if (len == 0) {
            continue;
        }
        if (len < 0 || !is_https_url(urls[*n], (size_t) len)) {
            snprintf(err, errlen, "CC_OIDC_DISCOVERY_URLS: entry %zu is not "
                     "an https:// URL", *n + 1);
            return -1;
        }
        (*n)++;
    }
    if (*n == 0) {
        snprintf(err, errlen, "CC_OIDC_DISCOVERY_URLS: no URL");
        return -1;
    }
    return 0;
}


int
sync_discovery_urls(const char *list, const char *login_url,
                    char urls[][CC_FETCH_URL_MAX], size_t max, size_t *n,
                    char *err, size_t errlen)
{
    const char  *s;

    for (s = list; s != NULL && *s != '\0'; s++) {
        if (!isspace((unsigned char) *s) && *s != ',') {
            return urls_from_list(list, urls, max, n, err, errlen);
        }
    }

    *n = 0;
    if (login_url == NULL || !is_https_url(login_url, strlen(login_url))) {
        snprintf(err, errlen, "CC_LOGIN_URL: not an https:// URL");
        return -1;
    }
    if (max < 2
        || cc_fetch_join(urls[0], CC_FETCH_URL_MAX, login_url,
                         SYNC_V2_DISCOVERY) != 0
        || cc_fetch_join(urls[1], CC_FETCH_URL_MAX, login_url,
                         SYNC_V1_DISCOVERY) != 0)
    {
        snprintf(err, errlen, "CC_LOGIN_URL: too long");
        return -1;
    }
    *n = 2;
    return 0;
}


void
sync_keys_init(sync_keys_t *keys, char urls[][CC_FETCH_URL_MAX], size_t n)
{
    size_t  i;

    memset(keys, 0, sizeof(*keys));
    for (i = 0; i < n && i < SYNC_MAX_SOURCES; i++) {
        memcpy(keys->sources[i].discovery_url, urls[i], CC_FETCH_URL_MAX);
    }
    keys->nsources = i;
}


void
sync_keys_free(sync_keys_t *keys)
{
    size_t  i;

    for (i = 0; i < keys->nsources; i++) {
        json_decref(keys->sources[i].keys);
        keys->sources[i].keys = NULL;
    }
}


int
sync_read_discovery(const json_t *doc, char *issuer, size_t issuer_len,
                    char *jwks_uri, size_t jwks_uri_len,
                    char *err, size_t errlen)
{
    const char  *iss, *uri;
    size_t       len;

    iss = json_string_value(json_object_get(doc, "issuer"));
    len = iss ? strlen(iss) : 0;
    if (len == 0 || len >= issuer_len || !is_visible(iss, SYNC_ISSUER_MAX, 0))
    {
        snprintf(err, errlen, "discovery document: no usable \"issuer\"");
        return -1;
    }
    uri = json_string_value(json_object_get(doc, "jwks_uri"));
    if (uri == NULL || !is_https_url(uri, strlen(uri))
        || strlen(uri) >= jwks_uri_len)
    {
        snprintf(err, errlen, "discovery document: \"jwks_uri\" is not an "
                 "https:// URL");
        return -1;
    }
    memcpy(issuer, iss, len + 1);
    memcpy(jwks_uri, uri, strlen(uri) + 1);
    return 0;
}


/* 0 when the JWK fits the registry's limits, else -1. */
static int
fits_registry(const json_t *jwk, const char *kid, const char *issuer)
{
    size_t  size;

    if (!is_visible(kid, SYNC_KID_MAX, 1)
        || !is_visible(issuer, SYNC_ISSUER_MAX, 0))
    {
        return -1;
    }
    size = json_dumpb(jwk, NULL, 0, JSON_COMPACT);
    return (size == 0 || size > SYNC_JWK_MAX) ? -1 : 0;
}


/*
 * The entry for one member of "keys", or NULL when it is left out.  jwk
 * keeps the parsed key (its kid names the entry); the caller clears it.
 */
static json_t *
read_key(const json_t *obj, const char *doc_issuer, cc_jwk_t *jwk)
{
    const char  *issuer;
    int          own;

    if (cc_jwk_parse(obj, jwk) != CC_JOSE_OK) {
        return NULL;
    }
    own = (jwk->issuer != NULL && jwk->issuer[0] != '\0');
    issuer = own ? jwk->issuer : doc_issuer;
    if (fits_registry(obj, jwk->kid, issuer) != 0) {
        return NULL;
    }
    return json_pack("{s:O,s:s,s:b}", "jwk", obj, "issuer", issuer,
                     "own", own);
}


json_t *
sync_read_jwks(const json_t *jwks, const char *doc_issuer, size_t *skipped,
               char *err, size_t errlen)
{
    const json_t  *list;
    json_t        *set, *entry;
    cc_jwk_t       jwk;
    size_t         i;

    *skipped = 0;
    list = json_object_get(jwks, "keys");
    if (!json_is_array(list)) {
        snprintf(err, errlen, "JWKS: no \"keys\" array");
        return NULL;
    }
    if (json_array_size(list) > SYNC_MAX_KEYS) {
        snprintf(err, errlen, "JWKS: more than %d keys", SYNC_MAX_KEYS);
        return NULL;
    }

    set = json_object();
    for (i = 0; set != NULL && i < json_array_size(list); i++) {
        entry = read_key(json_array_get(list, i), doc_issuer, &jwk);
        if (entry == NULL) {
            (*skipped)++;
        } else if (json_object_get(set, jwk.kid) != NULL) {
            snprintf(err, errlen, "JWKS: two keys with one kid");
            json_decref(entry);
            json_decref(set);
            set = NULL;
        } else {
            json_object_set_new(set, jwk.kid, entry);
        }
        cc_jwk_clear(&jwk);
    }
    if (set != NULL && json_object_size(set) == 0) {
        snprintf(err, errlen, "JWKS: no usable key");
        json_decref(set);
        set = NULL;
    }
    return set;
}



/*
 * A key that sources list under different issuers signs tokens of each:
 * Entra publishes its signing keys in the v1 set (no issuer) and the v2 set
 * (the v2 issuer template) alike.  Such a key goes to nginx without an
 * issuer of its own, so that only the configured issuers limit it; binding
 * it to one would refuse the other version's tokens.
 */
static json_t *
without_issuer(const json_t *entry)
{
    json_t  *copy;

    copy = json_deep_copy(entry);
    if (copy != NULL) {
        json_object_set_new(copy, "issuer", json_string(""));
        json_object_set_new(copy, "own", json_false());
    }
    return copy;
}


json_t *
sync_keys_merged(const sync_keys_t *keys)
{
    json_t       *merged, *entry, *have;
    const char   *kid;
    size_t        i;

    merged = json_object();
    for (i = 0; merged != NULL && i < keys->nsources; i++) {
        json_object_foreach(keys->sources[i].keys, kid, entry) {
            have = json_object_get(merged, kid);
            if (have == NULL) {
                json_object_set(merged, kid, entry);
            } else if (!json_equal(json_object_get(have, "issuer"),
                                   json_object_get(entry, "issuer")))
            {
                json_object_set_new(merged, kid, without_issuer(entry));
            }
        }
    }
    return merged;
}


int
sync_keys_complete(const sync_keys_t *keys)
{
    size_t  i;

    for (i = 0; i < keys->nsources; i++) {
        if (keys->sources[i].keys == NULL) {
            return 0;
        }
    }
    return keys->nsources > 0;
}


static void
log_fetch_failure(const char *what, const char *url,
                  const cc_fetch_result_t *res, const char *why)
{
    char     shown[CC_FETCH_URL_MAX];
    json_t  *f;

    cc_fetch_loggable_url(url, shown, sizeof(shown));
    f = json_pack("{s:s,s:s}", "url", shown,
                  "error", why ? why : cc_fetch_strerror(res->err));
    if (res != NULL && res->status != 0) {
        json_object_set_new(f, "status", json_integer(res->status));
    }
    if (res != NULL && res->retry_after_ms >= 0) {
        json_object_set_new(f, "retry_after_ms",
                            json_integer(res->retry_after_ms));
    }
    cc_log_fields(CC_LOG_WARN, what, f);
}


/* GETs url into res; logs and returns -1 on failure. */
static int
fetch(const cc_fetch_options_t *opt, const char *what, const char *url,
      cc_fetch_result_t *res, long long *retry_after_ms)
{
    if (cc_fetch_json(opt, url, res) == 0) {
        return 0;
    }
    if (res->err != CC_FETCH_CANCELLED) {
        log_fetch_failure(what, url, res, NULL);
    }
    if (res->retry_after_ms > *retry_after_ms) {
        *retry_after_ms = res->retry_after_ms;
    }
    return -1;
}


/* One source: discovery, then its JWKS.  Returns 0 when both worked. */
static int
refresh_source(sync_source_t *src, const cc_fetch_options_t *opt,
               long long *retry_after_ms)
{
    cc_fetch_result_t  res;
    char               issuer[SYNC_ISSUER_MAX + 1];
    char               jwks_uri[CC_FETCH_URL_MAX];
    char               err[SYNC_ERR_LEN];
    json_t            *set;
    size_t             skipped;
    int                rc;

    if (fetch(opt, "OIDC discovery failed", src->discovery_url, &res,
              retry_after_ms) != 0)
    {
        return -1;
    }
    rc = sync_read_discovery(res.json, issuer, sizeof(issuer), jwks_uri,
                             sizeof(jwks_uri), err, sizeof(err));
    cc_fetch_result_clear(&res);
    if (rc != 0) {
        log_fetch_failure("OIDC discovery refused", src->discovery_url,
                          NULL, err);
        return -1;
    }

    if (fetch(opt, "JWKS fetch failed", jwks_uri, &res, retry_after_ms)
        != 0)
    {
        return -1;
    }
    set = sync_read_jwks(res.json, issuer, &skipped, err, sizeof(err));
    cc_fetch_result_clear(&res);
    if (set == NULL) {
        log_fetch_failure("JWKS refused", jwks_uri, NULL, err);
        return -1;
    }

    if (skipped > 0) {
        cc_log_fields(CC_LOG_INFO, "JWKS keys left out",
                      json_pack("{s:I}", "skipped", (json_int_t) skipped));
    }
    json_decref(src->keys);
    src->keys = set;
    memcpy(src->issuer, issuer, sizeof(issuer));
    return 0;
}


size_t
sync_keys_refresh(sync_keys_t *keys, const cc_fetch_options_t *opt,
                  long long *retry_after_ms)
{
    size_t  i, failed;

    *retry_after_ms = -1;
    failed = 0;
    for (i = 0; i < keys->nsources; i++) {
        if (opt->cancel != NULL && *opt->cancel) {
            failed += keys->nsources - i;
            break;
        }
        if (refresh_source(&keys->sources[i], opt, retry_after_ms) == 0) {
            keys->sources[i].failures = 0;
        } else {
            keys->sources[i].failures++;
            failed++;
        }
    }
    return failed;
}


json_t *
sync_key_body(const json_t *entry)
{
    return json_pack("{s:O,s:O,s:b}",
                     "jwk", json_object_get(entry, "jwk"),
                     "issuer", json_object_get(entry, "issuer"),
                     "revoked", 0);
}


/* Entries are the same to the registry when their JWK and issuer are. */
static int
same_entry(const json_t *a, const json_t *b)
{
    return json_equal(json_object_get(a, "jwk"), json_object_get(b, "jwk"))
           && json_equal(json_object_get(a, "issuer"),
                         json_object_get(b, "issuer"));
}


void
sync_keys_diff(const json_t *wanted, const json_t *pushed,
               json_t **put, json_t **del)
{
    const char  *kid;
    json_t      *entry, *have;

    *put = json_array();
    *del = json_array();
    json_object_foreach((json_t *) wanted, kid, entry) {
        have = json_object_get(pushed, kid);
        if (have == NULL || !same_entry(have, entry)) {
            json_array_append_new(*put, json_string(kid));
        }
    }
    json_object_foreach((json_t *) pushed, kid, entry) {
        if (json_object_get(wanted, kid) == NULL) {
            json_array_append_new(*del, json_string(kid));
        }
    }
}


int
sync_should_refetch(const char *kid, long long noted_at, const json_t *known,
                    long long last_attempt_ms, long long now_ms,
                    long long min_interval)
{
    if (kid == NULL || kid[0] == '\0') {
        return 0;
    }
    if (known != NULL && json_object_get(known, kid) != NULL) {
        return 0;
    }
    if (last_attempt_ms <= 0) {
        return 1;
    }
    if (noted_at * 1000 + 999 < last_attempt_ms) {
        return 0;
    }
    return now_ms - last_attempt_ms >= min_interval * 1000;
}
