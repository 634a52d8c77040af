/*
 * The client-credentials grant against Entra ID, with a small cache of
 * the tokens it returns so a busy worker asks once per tenant an hour.
 */

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>

#include "cc_curl_body.h"
#include "cc_entra_token.h"
#include "cc_fetch.h"
#include "cc_log.h"
#include "cc_version.h"


#define TOKEN_CACHE_SLOTS   256
#define TOKEN_ANSWER_MAX    (64 * 1024)
#define TOKEN_SECRET_MAX    1024
#define TOKEN_TENANT_MAX    128
#define TOKEN_SCOPE_MAX     256
#define TOKEN_EARLY_SECONDS 300

/* How long a refusal (wrong secret, no consent) is answered from memory:
 * asking again cannot help before an operator acts, and a tenant's whole
 * fleet retrying must not hammer Entra (DESIGN.md rule 8). */
#define TOKEN_REFUSAL_SECONDS  60

typedef struct {
    int                     used;
    char                    tenant[TOKEN_TENANT_MAX];
    char                    scope[TOKEN_SCOPE_MAX];
    char                   *token;      /* NULL: a remembered refusal */
    cc_entra_token_error_t  refusal;
    time_t                  usable_until;   /* CLOCK_MONOTONIC seconds */
} token_slot_t;

struct cc_entra_token_client {
    char               *login_url;
    char               *client_id;
    char               *secret;
    char               *ca_file;
    int                 timeout_ms;
    pthread_mutex_t     lock;
    token_slot_t        slots[TOKEN_CACHE_SLOTS];
};


static time_t
monotonic_now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}


long
cc_entra_token_usable_seconds(long expires_in)
{
    if (expires_in <= 0) {
        return 0;
    }
    if (expires_in / 2 < TOKEN_EARLY_SECONDS) {
        return expires_in / 2;
    }
    return expires_in - TOKEN_EARLY_SECONDS;
}


static void
wipe_and_free(char *s)
{
    volatile char  *p;

    if (s == NULL) {
        return;
    }
    for (p = s; *p != '\0'; p++) {
        *p = '\0';
    }
    free(s);
}


/* The first line of path, without its line end; NULL when unreadable. */
static char *
read_secret(const char *path)
{
    FILE    *f;
    char     buf[TOKEN_SECRET_MAX];
    size_t   n;
    char    *secret;

    f = fopen(path, "r");
    if (f == NULL) {
        cc_log(CC_LOG_ERROR, "cannot read the client secret file %s: %s",
               path, strerror(errno));
        return NULL;
    }
    secret = NULL;
    if (fgets(buf, sizeof(buf), f) != NULL) {
        n = strcspn(buf, "\r\n");
        buf[n] = '\0';
        if (n > 0) {
            secret = strdup(buf);
        }
    }
    fclose(f);
    OPENSSL_cleanse(buf, sizeof(buf));
    if (secret == NULL) {
        cc_log(CC_LOG_ERROR, "the client secret file %s is empty", path);
    }
    return secret;
}


cc_entra_token_client_t *
cc_entra_token_create(const cc_entra_token_config_t *cfg)
{
    cc_entra_token_client_t  *c;

    c = calloc(1, sizeof(*c));
    if (c == NULL) {
        return NULL;
    }
    c->login_url = strdup(cfg->login_url);
    c->client_id = strdup(cfg->client_id);
    c->ca_file = strdup(cfg->ca_file != NULL ? cfg->ca_file : "");
    c->secret = read_secret(cfg->secret_file);
    c->timeout_ms = cfg->timeout_ms;
    if (c->login_url == NULL || c->client_id == NULL || c->ca_file == NULL
        || c->secret == NULL || pthread_mutex_init(&c->lock, NULL) != 0)
    {
        wipe_and_free(c->secret);
        free(c->login_url);
        free(c->client_id);
        free(c->ca_file);
        free(c);
        return NULL;
    }
    return c;
}


void
cc_entra_token_destroy(cc_entra_token_client_t *c)
{
    int  i;

    if (c == NULL) {
        return;
    }
    for (i = 0; i < TOKEN_CACHE_SLOTS; i++) {
        wipe_and_free(c->slots[i].token);
    }
    wipe_and_free(c->secret);
    free(c->login_url);
    free(c->client_id);
    free(c->ca_file);
    pthread_mutex_destroy(&c->lock);
    free(c);
}


static token_slot_t *
find_slot(cc_entra_token_client_t *c, const char *tenant, const char *scope)
{
    int  i;

    for (i = 0; i < TOKEN_CACHE_SLOTS; i++) {
        if (c->slots[i].used
            && strcmp(c->slots[i].tenant, tenant) == 0
            && strcmp(c->slots[i].scope, scope) == 0)
        {
            return &c->slots[i];
        }
    }
    return NULL;
}


/* A free slot, else the one whose token runs out first. */
static token_slot_t *
slot_to_reuse(cc_entra_token_client_t *c)
{
    token_slot_t  *best;
    int            i;

    best = &c->slots[0];
    for (i = 0; i < TOKEN_CACHE_SLOTS; i++) {
        if (!c->slots[i].used) {
            return &c->slots[i];
        }
        if (c->slots[i].usable_until < best->usable_until) {
            best = &c->slots[i];
        }
    }
    return best;
}


/* A current token into out (1), a current refusal into err (-1), or
 * nothing known (0). */
static int
copy_cached(cc_entra_token_client_t *c, const char *tenant,
            const char *scope, char *out, size_t outlen,
            cc_entra_token_error_t *err)
{
    token_slot_t  *s;
    int            found;

    found = 0;
    pthread_mutex_lock(&c->lock);
    s = find_slot(c, tenant, scope);
    if (s != NULL && s->usable_until > monotonic_now()) {
        if (s->token == NULL) {
            *err = s->refusal;
            found = -1;
        } else if (strlen(s->token) < outlen) {
            strcpy(out, s->token);
            found = 1;
        }
    }
    pthread_mutex_unlock(&c->lock);
    return found;
}


/* Keeps a token (or, with token NULL, a refusal) for usable seconds. */
static void
remember(cc_entra_token_client_t *c, const char *tenant, const char *scope,
         const char *token, const cc_entra_token_error_t *refusal,
         long usable)
{
    token_slot_t  *s;
    char          *copy;

    copy = token != NULL ? strdup(token) : NULL;
    if (usable <= 0 || (token != NULL && copy == NULL)) {
        free(copy);
        return;
    }
    pthread_mutex_lock(&c->lock);
    s = find_slot(c, tenant, scope);
    if (s == NULL) {
        s = slot_to_reuse(c);
    }
    wipe_and_free(s->token);
    s->used = 1;
    snprintf(s->tenant, sizeof(s->tenant), "%s", tenant);
    snprintf(s->scope, sizeof(s->scope), "%s", scope);
    s->token = copy;
    if (refusal != NULL) {
        s->refusal = *refusal;
    }
    s->usable_until = monotonic_now() + usable;
    pthread_mutex_unlock(&c->lock);
}


void
cc_entra_token_forget(cc_entra_token_client_t *c, const char *tenant,
                      const char *scope)
{
    token_slot_t  *s;

    pthread_mutex_lock(&c->lock);
    s = find_slot(c, tenant, scope);
    if (s != NULL) {
        wipe_and_free(s->token);
        s->token = NULL;
        s->used = 0;
    }
    pthread_mutex_unlock(&c->lock);
}


/* ---- the exchange -------------------------------------------------- */

/* client_id=...&client_secret=...&grant_type=client_credentials&scope=...,
 * each value URL-encoded (secrets hold "~", "." and the like). */
static char *
token_form(CURL *curl, const cc_entra_token_client_t *c, const char *scope)
{
    char    *id, *secret, *sc, *form;
    size_t   len;

    id = curl_easy_escape(curl, c->client_id, 0);
    secret = curl_easy_escape(curl, c->secret, 0);
    sc = curl_easy_escape(curl, scope, 0);
    form = NULL;
    if (id != NULL && secret != NULL && sc != NULL) {
        len = strlen(id) + strlen(secret) + strlen(sc) + 96;
        form = malloc(len);
        if (form != NULL) {
            snprintf(form, len, "client_id=%s&client_secret=%s"
                     "&grant_type=client_credentials&scope=%s",
                     id, secret, sc);
        }
    }
    curl_free(id);
    if (secret != NULL) {
        OPENSSL_cleanse(secret, strlen(secret));
    }
    curl_free(secret);
    curl_free(sc);
    return form;
}


static void
set_error(cc_entra_token_error_t *err, long status, const char *detail)
{
    err->http_status = status;
    snprintf(err->detail, sizeof(err->detail), "%s", detail);
}


/* Entra's error answer: "error" and the first of "error_codes". */
static void
read_refusal(const cc_curl_body_t *a, cc_entra_token_error_t *err)
{
    json_t      *doc, *codes;
    const char  *e;

    doc = json_loadb(a->data ? a->data : "", a->len, 0, NULL);
    e = json_string_value(json_object_get(doc, "error"));
    if (e != NULL) {
        snprintf(err->error, sizeof(err->error), "%s", e);
    }
    codes = json_object_get(doc, "error_codes");
    if (json_is_integer(json_array_get(codes, 0))) {
        err->aadsts = (long) json_integer_value(json_array_get(codes, 0));
    }
    json_decref(doc);
}


static cc_entra_token_status_t
read_token(const cc_curl_body_t *a, char *out, size_t outlen, long *expires_in,
           cc_entra_token_error_t *err)
{
    json_t      *doc, *exp;
    const char  *token;
    int          ok;

    doc = json_loadb(a->data ? a->data : "", a->len, 0, NULL);
    token = json_string_value(json_object_get(doc, "access_token"));
    exp = json_object_get(doc, "expires_in");
    /* expires_in is a number, though some Entra versions sent a string. */
    *expires_in = json_is_integer(exp) ? (long) json_integer_value(exp)
                  : json_is_string(exp) ? atol(json_string_value(exp)) : 0;
    ok = token != NULL && token[0] != '\0' && strlen(token) < outlen
         && strlen(token) < CC_ENTRA_TOKEN_MAX;
    if (ok) {
        strcpy(out, token);
    }
    json_decref(doc);
    if (!ok) {
        set_error(err, 200, "the token answer holds no usable access_token");
        return CC_ENTRA_TOKEN_TRANSIENT;
    }
    return CC_ENTRA_TOKEN_OK;
}


static cc_entra_token_status_t
classify(CURLcode rc, long status, const cc_curl_body_t *a,
         cc_entra_token_error_t *err)
{
    if (rc != CURLE_OK) {
        set_error(err, 0, rc == CURLE_OPERATION_TIMEDOUT
                          ? "the token endpoint timed out"
                          : curl_easy_strerror(rc));
        return CC_ENTRA_TOKEN_TRANSIENT;
    }
    if (status == 408 || status == 429 || status >= 500) {
        set_error(err, status, "the token endpoint is unavailable");
        return CC_ENTRA_TOKEN_TRANSIENT;
    }
    /* 400 and 401 carry Entra's verdict: a wrong or expired secret, an
     * app without consent in the tenant, an unknown tenant, a bad scope.
     * Asking again will not help until an operator acts. */
    read_refusal(a, err);
    set_error(err, status, "the token endpoint refused the client");
    return CC_ENTRA_TOKEN_REFUSED;
}


static cc_entra_token_status_t
request_token(cc_entra_token_client_t *c, const char *tenant,
              const char *scope, char *out, size_t outlen, long *expires_in,
              cc_entra_token_error_t *err)
{
    CURL                     *curl;
    CURLcode                  rc;
    struct curl_slist        *headers;
    char                      url[CC_FETCH_URL_MAX], path[256];
    char                     *form;
    cc_curl_body_t                  a;
    long                      status;
    cc_entra_token_status_t   result;

    snprintf(path, sizeof(path), "%s/oauth2/v2.0/token", tenant);
    if (cc_fetch_join(url, sizeof(url), c->login_url, path) != 0) {
        set_error(err, 0, "the token URL is too long");
        return CC_ENTRA_TOKEN_INTERNAL;
    }
    curl = curl_easy_init();
    headers = curl_slist_append(NULL, "Accept: application/json");
    form = curl != NULL ? token_form(curl, c, scope) : NULL;
    if (form == NULL || headers == NULL) {
        wipe_and_free(form);
        curl_slist_free_all(headers);
        curl_easy_cleanup(curl);
        set_error(err, 0, "out of memory");
        return CC_ENTRA_TOKEN_INTERNAL;
    }

    memset(&a, 0, sizeof(a));
    a.max = TOKEN_ANSWER_MAX;
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long) c->timeout_ms);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, (long) c->timeout_ms);
    if (c->ca_file[0] != '\0') {
        curl_easy_setopt(curl, CURLOPT_CAINFO, c->ca_file);
    }
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "concierge/" CC_VERSION);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, form);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, cc_curl_body_collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &a);

    rc = curl_easy_perform(curl);
    status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (rc == CURLE_OK && status == 200) {
        result = read_token(&a, out, outlen, expires_in, err);
    } else {
        result = classify(rc, status, &a, err);
    }

    wipe_and_free(form);
    if (a.data != NULL) {
        OPENSSL_cleanse(a.data, a.len);     /* a 200 answer holds the token */
    }
    free(a.data);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    return result;
}


cc_entra_token_status_t
cc_entra_token_get(cc_entra_token_client_t *c, const char *tenant,
                   const char *scope, char *out, size_t outlen,
                   cc_entra_token_error_t *err)
{
    cc_entra_token_status_t  rc;
    long                     expires_in;

    memset(err, 0, sizeof(*err));
    if (strlen(tenant) >= TOKEN_TENANT_MAX
        || strlen(scope) >= TOKEN_SCOPE_MAX)
    {
        set_error(err, 0, "tenant or scope too long");
        return CC_ENTRA_TOKEN_INTERNAL;
    }
    switch (copy_cached(c, tenant, scope, out, outlen, err)) {
    case 1:
        return CC_ENTRA_TOKEN_OK;
    case -1:
        return CC_ENTRA_TOKEN_REFUSED;
    }
    /* Two threads may both miss and both ask; Entra does not mind, and
     * holding the lock across the exchange would stall every tenant. */
    rc = request_token(c, tenant, scope, out, outlen, &expires_in, err);
    if (rc == CC_ENTRA_TOKEN_OK) {
        remember(c, tenant, scope, out, NULL,
                 cc_entra_token_usable_seconds(expires_in));
    } else if (rc == CC_ENTRA_TOKEN_REFUSED) {
        remember(c, tenant, scope, NULL, err, TOKEN_REFUSAL_SECONDS);
    }
    return rc;
}
