/*
 * POST /api/agent/upload-url: after admission, checks that the session is
 * the requesting device's in the certificate's tenant and that the file
 * name is the agent's, then answers a blob SAS URL for create+write of that
 * one blob, valid for CC_DIAG_URL_MINUTES (agent-protocol.md 11).
 *
 * The agent skips the upload on any non-2xx without retrying, so refusals
 * use plain statuses: 400 for a malformed request, 403 for another tenant
 * or another device's session, 404 for an unknown session, 503 when blob
 * storage or the database is missing.  A tenant whose diagnostics_mode is
 * Off gets 200 with success:false: nothing is wrong with the request, the
 * agent reads success first and skips the upload.
 *
 * The URL carries a signature that is a bearer secret: it is answered to
 * the device and never stored or logged.  The log line records the blob
 * name and the expiry, which is what an operator needs to trace an upload.
 *
 * The agent accepts only https URLs on Azure's blob hosts; an http
 * endpoint (Azurite) signs spr=https,http and serves the tests and the
 * demo only.  At start-up this file also reads the blob settings and
 * creates the container when it is missing.
 */

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "cc_curl_body.h"
#include "cc_db.h"
#include "cc_identity.h"
#include "cc_log.h"
#include "cc_uuid.h"
#include "ingest_admit.h"
#include "ingest_app.h"
#include "ingest_upload.h"

/* Clock skew between us and the storage service: a URL is valid from a
 * few minutes back. */
#define UPLOAD_SKEW_SECONDS   300

/* Creating the container at start-up waits at most this long. */
#define UPLOAD_CONNECT_MS       5000
#define UPLOAD_CREATE_MS        10000

#define UPLOAD_PREFIX         "AgentDiagnostics-"
#define UPLOAD_SUFFIX_MAX     64
#define UPLOAD_STAMP_LEN      14        /* yyyyMMddHHmmss */

/* The work function's own results (cc_db_tenant_tx passes them back). */
#define UPLOAD_TX_FAILED        1
#define UPLOAD_NO_SESSION       2
#define UPLOAD_OTHER_DEVICE     3
#define UPLOAD_DIAGNOSTICS_OFF  4

typedef struct {
    const char  *device;
    char         session[CC_UUID_STR_LEN + 1];
    const char  *file_name;
} upload_request_t;


/* ---- configuration --------------------------------------------------- */

/* Azure's container names: 3-63 of a-z 0-9 and single inner hyphens. */
static int
is_container_name(const char *s)
{
    size_t  i, n;

    n = strlen(s);
    if (n < 3 || n > 63 || s[0] == '-' || s[n - 1] == '-') {
        return 0;
    }
    for (i = 0; i < n; i++) {
        if (!(islower((unsigned char) s[i]) || isdigit((unsigned char) s[i])
              || (s[i] == '-' && s[i + 1] != '-')))
        {
            return 0;
        }
    }
    return 1;
}


static int
read_key_file(ingest_upload_t *up, const char *path)
{
    FILE    *f;
    char     text[1024];
    size_t   n;
    int      rc;

    f = fopen(path, "r");
    if (f == NULL) {
        cc_log_fields(CC_LOG_ERROR, "cannot read CC_BLOB_KEY_FILE",
                      json_pack("{s:s}", "error", strerror(errno)));
        return -1;
    }
    n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[n] = '\0';
    rc = n < sizeof(text) - 1
         ? cc_sas_decode_key(text, up->key, &up->keylen) : -1;
    OPENSSL_cleanse(text, sizeof(text));
    if (rc != 0) {
        cc_log(CC_LOG_ERROR, "CC_BLOB_KEY_FILE does not hold a base64 "
               "account key");
    }
    return rc;
}


/* The path part of the configured endpoint ("" for an account host,
 * "/devstoreaccount1" for Azurite), for the Shared Key resource. */
static const char *
endpoint_path(const char *base_url)
{
    const char  *host, *slash;

    host = strstr(base_url, "://");
    slash = host != NULL ? strchr(host + 3, '/') : NULL;
    return slash != NULL ? slash : "";
}


/* The Authorization header of PUT {container}?restype=container. */
static int
create_container_authorization(const ingest_upload_t *up, const char *date,
                               char *out, size_t len)
{
    char   path[CC_CONFIG_STR_LEN + 80];
    char   sig[CC_SAS_SIG_LEN + 1];
    char  *sts;
    int    rc;

    snprintf(path, sizeof(path), "%s/%s", endpoint_path(up->base_url),
             up->container);
    sts = cc_sas_shared_key_string_to_sign("PUT", date, up->account, path,
                                           "restype:container");
    if (sts == NULL) {
        return -1;
    }
    rc = cc_sas_signature(up->key, up->keylen, sts, sig);
    free(sts);
    if (rc == 0) {
        rc = snprintf(out, len, "Authorization: SharedKey %s:%s",
                      up->account, sig) < (int) len ? 0 : -1;
    }
    OPENSSL_cleanse(sig, sizeof(sig));
    return rc;
}


/*
 * Creates the container if it is missing (Create Container with the
 * account key; 409 means it exists).  A failure is logged, not fatal: the
 * storage service may come later, and until the container exists an
 * upload fails and the agent simply skips it.
 */
static void
create_container(const ingest_upload_t *up, const char *ca_file)
{
    CURL               *curl;
    struct curl_slist  *headers;
    CURLcode            cc;
    char                url[CC_CONFIG_STR_LEN + 128];
    char                date[CC_SAS_DATE_LEN + 1], date_header[64];
    char                auth[CC_CONFIG_STR_LEN + 128];
    long                status;

    snprintf(url, sizeof(url), "%s/%s?restype=container", up->base_url,
             up->container);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK
        || cc_sas_http_date(time(NULL), date) != 0
        || create_container_authorization(up, date, auth, sizeof(auth)) != 0)
    {
        cc_log(CC_LOG_WARN, "cannot sign the request creating the "
               "diagnostics container");
        return;
    }
    curl = curl_easy_init();
    if (curl == NULL) {
        OPENSSL_cleanse(auth, sizeof(auth));
        return;
    }
    snprintf(date_header, sizeof(date_header), "x-ms-date: %s", date);
    headers = curl_slist_append(NULL, date_header);
    headers = curl_slist_append(headers, "x-ms-version: " CC_SAS_VERSION);
    headers = curl_slist_append(headers, auth);
    /* A Content-Type would be part of what is signed: send none. */
    headers = curl_slist_append(headers, "Content-Type:");

    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, "PUT");
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "");
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, 0L);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, (long) UPLOAD_CONNECT_MS);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long) UPLOAD_CREATE_MS);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, cc_curl_discard);
    if (ca_file[0] != '\0') {
        curl_easy_setopt(curl, CURLOPT_CAINFO, ca_file);
    }

    cc = curl_easy_perform(curl);
    status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    OPENSSL_cleanse(auth, sizeof(auth));

    if (cc != CURLE_OK) {
        cc_log_fields(CC_LOG_WARN, "cannot reach blob storage to create the "
                      "diagnostics container",
                      json_pack("{s:s}", "error", curl_easy_strerror(cc)));
    } else if (status == 201) {
        cc_log_fields(CC_LOG_INFO, "diagnostics container created",
                      json_pack("{s:s}", "container", up->container));
    } else if (status == 409) {
        cc_log_fields(CC_LOG_INFO, "diagnostics container exists",
                      json_pack("{s:s}", "container", up->container));
    } else {
        cc_log_fields(CC_LOG_WARN, "blob storage refused to create the "
                      "diagnostics container",
                      json_pack("{s:s,s:i}", "container", up->container,
                                "status", (int) status));
    }
}


int
ingest_upload_init(ingest_upload_t *up, const cc_config_t *cfg)
{
    size_t  n;

    memset(up, 0, sizeof(*up));
    if (cfg->blob_url[0] == '\0') {
        return 0;
    }
    if (strncmp(cfg->blob_url, "https://", 8) == 0) {
        up->protocol = CC_SAS_HTTPS;
    } else if (strncmp(cfg->blob_url, "http://", 7) == 0) {
        /* Azurite; the agent itself only ever accepts https. */
        up->protocol = CC_SAS_HTTPS_HTTP;
    } else {
        cc_log(CC_LOG_ERROR, "CC_BLOB_URL must start with https://");
        return -1;
    }
    if (cfg->blob_account[0] == '\0' || cfg->blob_key_file[0] == '\0') {
        cc_log(CC_LOG_ERROR, "CC_BLOB_URL needs CC_BLOB_ACCOUNT and "
               "CC_BLOB_KEY_FILE");
        return -1;
    }
    if (!is_container_name(cfg->blob_container)) {
        cc_log(CC_LOG_ERROR, "CC_BLOB_CONTAINER is not a container name "
               "(3-63 of a-z, 0-9 and single hyphens)");
        return -1;
    }

    snprintf(up->base_url, sizeof(up->base_url), "%s", cfg->blob_url);
    n = strlen(up->base_url);
    while (n > 0 && up->base_url[n - 1] == '/') {
        up->base_url[--n] = '\0';
    }
    up->account = cfg->blob_account;
    up->container = cfg->blob_container;
    up->minutes = cfg->diag_url_minutes;
    if (read_key_file(up, cfg->blob_key_file) != 0) {
        return -1;
    }
    create_container(up, cfg->ca_file);
    cc_log_fields(CC_LOG_INFO, "diagnostics uploads configured",
                  json_pack("{s:s,s:s,s:i}", "blob_url", up->base_url,
                            "container", up->container,
                            "url_minutes", up->minutes));
    return 1;
}


void
ingest_upload_forget(ingest_upload_t *up)
{
    OPENSSL_cleanse(up->key, sizeof(up->key));
    up->keylen = 0;
}


/* ---- the file name --------------------------------------------------- */

static int
digits_between(const char *s, int lo, int hi)
{
    int  v;

    if (!isdigit((unsigned char) s[0]) || !isdigit((unsigned char) s[1])) {
        return 0;
    }
    v = (s[0] - '0') * 10 + (s[1] - '0');
    return v >= lo && v <= hi;
}


/* yyyyMMddHHmmss with each field in its range. */
static int
is_stamp(const char *s)
{
    return isdigit((unsigned char) s[0]) && isdigit((unsigned char) s[1])
           && digits_between(s + 2, 0, 99) && digits_between(s + 4, 1, 12)
           && digits_between(s + 6, 1, 31) && digits_between(s + 8, 0, 23)
           && digits_between(s + 10, 0, 59) && digits_between(s + 12, 0, 59);
}


/*
 * True when name is AgentDiagnostics-{session}-{yyyyMMddHHmmss}.zip with
 * an optional -{suffix} before .zip (the agent's "-preprov",
 * "-server-requested"), the suffix of letters, digits, '-' and '_'.  No
 * other byte is allowed, so the name cannot leave its session's folder.
 */
static int
is_agent_file_name(const char *name, const char *session)
{
    const char  *p, *end;
    size_t       n;

    n = strlen(name);
    if (n < 4 || strcmp(name + n - 4, ".zip") != 0) {
        return 0;
    }
    end = name + n - 4;
    p = name;
    if (strncmp(p, UPLOAD_PREFIX, strlen(UPLOAD_PREFIX)) != 0) {
        return 0;
    }
    p += strlen(UPLOAD_PREFIX);
    if (end - p < CC_UUID_STR_LEN + 1 + UPLOAD_STAMP_LEN
        || strncasecmp(p, session, CC_UUID_STR_LEN) != 0
        || p[CC_UUID_STR_LEN] != '-')
    {
        return 0;
    }
    p += CC_UUID_STR_LEN + 1;
    if (!is_stamp(p)) {
        return 0;
    }
    p += UPLOAD_STAMP_LEN;
    if (p == end) {
        return 1;
    }
    if (*p++ != '-' || p == end || end - p > UPLOAD_SUFFIX_MAX) {
        return 0;
    }
    for (; p < end; p++) {
        if (!isalnum((unsigned char) *p) && *p != '-' && *p != '_') {
            return 0;
        }
    }
    return 1;
}


/* ---- the request ----------------------------------------------------- */

/* Fills u from the body; 0, or answers rep and returns -1. */
static int
read_upload_request(cc_request_t *req, cc_reply_t *rep, upload_request_t *u)
{
    const char     *tenant, *session;
    cc_identity_t   body;

    if (!json_is_object(req->json)) {
        ingest_refuse(rep, 400, "invalid_request",
                      "the body must be {TenantId, SessionId, FileName}");
        return -1;
    }
    /* Like register-session: a body naming another tenant than the
     * certificate's is refused; an absent one means the certificate's. */
    tenant = json_string_value(json_object_get(req->json, "TenantId"));
    if (tenant != NULL && tenant[0] != '\0'
        && (cc_identity_set_tenant(&body, tenant) != 0
            || strcmp(body.tenant, req->identity.tenant) != 0))
    {
        ingest_refuse(rep, 403, "tenant_mismatch",
                      "the request names another tenant than the device "
                      "certificate");
        return -1;
    }
    session = json_string_value(json_object_get(req->json, "SessionId"));
    if (session == NULL
        || cc_uuid_normalise(session, strlen(session), u->session) != 0)
    {
        ingest_refuse(rep, 400, "invalid_request", "SessionId must be a GUID");
        return -1;
    }
    u->file_name = json_string_value(json_object_get(req->json, "FileName"));
    if (u->file_name == NULL || !is_agent_file_name(u->file_name, u->session))
    {
        ingest_refuse(rep, 400, "invalid_file_name",
                      "FileName must be AgentDiagnostics-{SessionId}-"
                      "{yyyyMMddHHmmss}[-suffix].zip");
        return -1;
    }
    u->device = req->identity.device;
    return 0;
}


/* Whether the session is this device's, then whether the tenant takes
 * diagnostics at all. */
static int
check_session(PGconn *conn, void *arg)
{
    upload_request_t  *u = arg;
    const char        *params[2];
    PGresult          *res;
    int                rc;

    params[0] = u->session;
    params[1] = u->device;
    res = cc_db_query(conn,
        "SELECT (SELECT diagnostics_mode"
        "          FROM cc_monitor_settings(cc_current_tenant())),"
        "       (SELECT device_id = $2::uuid FROM enrollment_sessions"
        "         WHERE session_id = $1::uuid)",
        2, params);
    if (!cc_db_result_ok(res) || PQntuples(res) != 1) {
        rc = UPLOAD_TX_FAILED;
    } else if (PQgetisnull(res, 0, 1)) {
        rc = UPLOAD_NO_SESSION;
    } else if (strcmp(PQgetvalue(res, 0, 1), "t") != 0) {
        rc = UPLOAD_OTHER_DEVICE;
    } else if (strcmp(PQgetvalue(res, 0, 0), "Off") == 0) {
        rc = UPLOAD_DIAGNOSTICS_OFF;
    } else {
        rc = 0;
    }
    PQclear(res);
    return rc;
}


/* Answers the signed URL for blob, valid from now - skew to expiry. */
static void
answer_upload_url(cc_reply_t *rep, const ingest_upload_t *up,
                  const char *blob, time_t expiry)
{
    cc_sas_blob_t   sas;
    char            expires[CC_SAS_TIME_LEN + 1];
    char           *query, *path, *url;
    size_t          len;

    sas = (cc_sas_blob_t) {
        .account = up->account,
        .container = up->container,
        .blob = blob,
        .permissions = "cw",
        .start = time(NULL) - UPLOAD_SKEW_SECONDS,
        .expiry = expiry,
        .protocol = up->protocol,
    };
    query = cc_sas_blob_query(&sas, up->key, up->keylen);
    path = cc_sas_encode_path(blob);
    url = NULL;
    if (query != NULL && path != NULL
        && cc_sas_format_time(expiry, expires) == 0)
    {
        len = strlen(up->base_url) + strlen(up->container) + strlen(path)
              + strlen(query) + 4;
        url = malloc(len);
        if (url != NULL) {
            snprintf(url, len, "%s/%s/%s?%s", up->base_url, up->container,
                     path, query);
        }
    }
    if (url == NULL) {
        ingest_refuse(rep, 503, "unavailable", "try again shortly");
    } else {
        cc_reply_json(rep, 200, json_pack("{s:b,s:s,s:s,s:s,s:s}",
            "success", 1, "uploadUrl", url, "expiresAt", expires,
            "blobName", blob, "destination", "Hosted"));
        OPENSSL_cleanse(url, strlen(url));
    }
    if (query != NULL) {
        OPENSSL_cleanse(query, strlen(query));
    }
    free(query);
    free(path);
    free(url);
}


void
ingest_upload_url(cc_request_t *req, cc_reply_t *rep)
{
    const ingest_app_t  *app = req->app;
    upload_request_t     u;
    char                 blob[CC_UUID_STR_LEN * 2 + 160];
    char                 expires[CC_SAS_TIME_LEN + 1];
    time_t               expiry;
    int                  rc;

    if (!ingest_admit(req, rep)) {
        return;
    }
    if (app->upload == NULL) {
        ingest_refuse(rep, 503, "diagnostics_unconfigured",
                      "diagnostics storage is not configured");
        return;
    }
    memset(&u, 0, sizeof(u));
    if (read_upload_request(req, rep, &u) != 0) {
        return;
    }

    rc = cc_db_tenant_tx(app->pool, req->identity.tenant, check_session, &u);
    switch (rc) {
    case 0:
        break;
    case UPLOAD_NO_SESSION:
        ingest_refuse(rep, 404, "session_not_found",
                      "no such session for this tenant");
        return;
    case UPLOAD_OTHER_DEVICE:
        ingest_refuse(rep, 403, "session_of_another_device",
                      "this session is registered to another device");
        return;
    case UPLOAD_DIAGNOSTICS_OFF:
        ingest_refuse(rep, 200, "diagnostics_off",
                      "diagnostics uploads are off for this tenant");
        return;
    default:
        ingest_refuse(rep, 503, "unavailable", "try again shortly");
        return;
    }

    snprintf(blob, sizeof(blob), "%s/%s/%s", req->identity.tenant, u.session,
             u.file_name);
    expiry = time(NULL) + (time_t) app->upload->minutes * 60;
    answer_upload_url(rep, app->upload, blob, expiry);
    if (rep->status == 200) {
        cc_sas_format_time(expiry, expires);
        /* Not the blob name: its suffix is the agent's free text. */
        cc_log_fields(CC_LOG_INFO, "diagnostics upload URL issued",
                      json_pack("{s:s,s:s,s:s,s:s}",
                                "tenant", req->identity.tenant,
                                "device", u.device, "session", u.session,
                                "expires", expires));
    }
}
