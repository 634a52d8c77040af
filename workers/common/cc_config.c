/*
 * Configuration of a worker process from the environment and an optional
 * `--config FILE`, with every value checked before the process starts.
 */

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cc_config.h"
#include "cc_log.h"


typedef enum {
    CC_KEY_STRING,
    CC_KEY_PATH,
    CC_KEY_INT,
    CC_KEY_SIZE,
    CC_KEY_LEVEL,
    CC_KEY_SWITCH
} cc_key_type_t;

typedef struct {
    const char     *name;
    cc_key_type_t   type;
    size_t          offset;
    size_t          size;       /* buffer size for strings */
    long long       min;
    long long       max;
} cc_key_t;

#define CC_STR(f)  offsetof(cc_config_t, f), sizeof(((cc_config_t *) 0)->f)
#define CC_NUM(f)  offsetof(cc_config_t, f), 0

static const cc_key_t  cc_keys[] = {
    { "CC_DATABASE_URL",        CC_KEY_STRING, CC_STR(database_url), 0, 0 },
    { "CC_SOCKET",              CC_KEY_PATH,   CC_STR(socket_path), 0, 0 },
    { "CC_LOG_LEVEL",           CC_KEY_LEVEL,  CC_NUM(log_level), 0, 0 },
    { "CC_LOG_PII",             CC_KEY_SWITCH, CC_NUM(log_pii), 0, 0 },
    { "CC_MAX_BODY",            CC_KEY_SIZE,   CC_NUM(max_body),
      1, 1024LL * 1024 * 1024 },
    { "CC_DB_POOL_SIZE",        CC_KEY_INT,    CC_NUM(db_pool_size), 1, 64 },
    { "CC_WORKER_ID",           CC_KEY_STRING, CC_STR(worker_id), 0, 0 },
    { "CC_JOB_LEASE_SECONDS",   CC_KEY_INT,    CC_NUM(job_lease_seconds),
      3, 86400 },
    { "CC_JOB_BACKOFF_BASE_MS", CC_KEY_INT,    CC_NUM(job_backoff_base_ms),
      0, 86400000 },
    { "CC_JOB_BACKOFF_MAX_MS",  CC_KEY_INT,    CC_NUM(job_backoff_max_ms),
      0, 86400000 },
    { "CC_JOB_POLL_MS",         CC_KEY_INT,    CC_NUM(job_poll_ms),
      10, 3600000 },
    { "CC_WORKER_SOCKET",       CC_KEY_PATH,   CC_STR(worker_socket), 0, 0 },
    { "CC_INGEST_SOCKET",       CC_KEY_PATH,   CC_STR(ingest_socket), 0, 0 },
    { "CC_NGINX_CONTROL_SOCKET", CC_KEY_PATH,  CC_STR(nginx_control_socket),
      0, 0 },
    { "CC_LOGIN_URL",           CC_KEY_STRING, CC_STR(login_url), 0, 0 },
    { "CC_OIDC_DISCOVERY_URLS", CC_KEY_STRING, CC_STR(oidc_discovery_urls),
      0, 0 },
    { "CC_CA_FILE",             CC_KEY_PATH,   CC_STR(ca_file), 0, 0 },
    { "CC_REGISTRY_POLL_MS",    CC_KEY_INT,    CC_NUM(registry_poll_ms),
      100, 3600000 },
    { "CC_JWKS_REFRESH_SECONDS", CC_KEY_INT,   CC_NUM(jwks_refresh_seconds),
      1, 604800 },
    { "CC_JWKS_MIN_REFRESH_SECONDS", CC_KEY_INT,
      CC_NUM(jwks_min_refresh_seconds), 0, 86400 },
    { "CC_PLATFORM_TENANT",     CC_KEY_STRING, CC_STR(platform_tenant), 0, 0 },
    { "CC_SESSION_KEYS",        CC_KEY_PATH,   CC_STR(session_keys), 0, 0 },
    { "CC_DEV_SIGN_IN",         CC_KEY_SWITCH, CC_NUM(dev_sign_in), 0, 0 },
    { "CC_GRAPH_URL",           CC_KEY_STRING, CC_STR(graph_url), 0, 0 },
    { "CC_CLIENT_ID",           CC_KEY_STRING, CC_STR(client_id), 0, 0 },
    { "CC_CLIENT_SECRET_FILE",  CC_KEY_PATH,   CC_STR(client_secret_file),
      0, 0 },
    { "CC_GRAPH_TIMEOUT_MS",    CC_KEY_INT,    CC_NUM(graph_timeout_ms),
      100, 60000 },
    { "CC_AUTOPILOT_CHECK",     CC_KEY_SWITCH, CC_NUM(autopilot_check), 0, 0 },
    { "CC_SETTINGS_CACHE_MS",   CC_KEY_INT,    CC_NUM(settings_cache_ms),
      0, 60000 },
    { "CC_BLOB_URL",            CC_KEY_STRING, CC_STR(blob_url), 0, 0 },
    { "CC_BLOB_ACCOUNT",        CC_KEY_STRING, CC_STR(blob_account), 0, 0 },
    { "CC_BLOB_KEY_FILE",       CC_KEY_PATH,   CC_STR(blob_key_file), 0, 0 },
    { "CC_BLOB_CONTAINER",      CC_KEY_STRING, CC_STR(blob_container), 0, 0 },
    { "CC_DIAG_URL_MINUTES",    CC_KEY_INT,    CC_NUM(diag_url_minutes),
      1, 15 },
    { "CC_PERIODIC_JOBS",       CC_KEY_SWITCH, CC_NUM(periodic_jobs), 0, 0 },
    { "CC_RETENTION_INTERVAL_SECONDS", CC_KEY_INT,
      CC_NUM(retention_interval_seconds), 0, 604800 },
    { "CC_PARTITION_INTERVAL_SECONDS", CC_KEY_INT,
      CC_NUM(partition_interval_seconds), 0, 604800 },
    { "CC_RETENTION_BATCH_SIZE", CC_KEY_INT,   CC_NUM(retention_batch_size),
      1, 10000 },
    { "CC_SWEEP_INTERVAL_SECONDS", CC_KEY_INT,
      CC_NUM(sweep_interval_seconds), 0, 86400 },
};

#define CC_NKEYS  (sizeof(cc_keys) / sizeof(cc_keys[0]))


static const cc_key_t *
find_key(const char *name)
{
    size_t  i;

    for (i = 0; i < CC_NKEYS; i++) {
        if (strcmp(cc_keys[i].name, name) == 0) {
            return &cc_keys[i];
        }
    }
    return NULL;
}


static int
parse_integer(const char *value, long long min, long long max,
              long long *out)
{
    char       *end;
    long long   n;

    if (value[0] == '\0' || isspace((unsigned char) value[0])) {
        return -1;
    }
    errno = 0;
    n = strtoll(value, &end, 10);
    if (errno != 0 || *end != '\0' || n < min || n > max) {
        return -1;
    }
    *out = n;
    return 0;
}


static int
parse_switch(const char *value, int *out)
{
    if (strcmp(value, "on") == 0 || strcmp(value, "true") == 0
        || strcmp(value, "1") == 0)
    {
        *out = 1;
        return 0;
    }
    if (strcmp(value, "off") == 0 || strcmp(value, "false") == 0
        || strcmp(value, "0") == 0)
    {
        *out = 0;
        return 0;
    }
    return -1;
}


static int
set_string(const cc_key_t *key, char *field, const char *value,
           char *err, size_t errlen)
{
    if (strlen(value) >= key->size) {
        snprintf(err, errlen, "%s: value longer than %zu bytes",
                 key->name, key->size - 1);
        return -1;
    }
    if (key->type == CC_KEY_PATH && value[0] != '\0' && value[0] != '/') {
        snprintf(err, errlen, "%s: must be an absolute path", key->name);
        return -1;
    }
    memcpy(field, value, strlen(value) + 1);
    return 0;
}


int
cc_config_set(cc_config_t *cfg, const char *key, const char *value,
              char *err, size_t errlen)
{
    const cc_key_t  *k;
    char            *field;
    long long        n;
    int              level;

    k = find_key(key);
    if (k == NULL) {
        snprintf(err, errlen, "unknown configuration key \"%.64s\"", key);
        return -1;
    }
    field = (char *) cfg + k->offset;

    switch (k->type) {

    case CC_KEY_STRING:
    case CC_KEY_PATH:
        return set_string(k, field, value, err, errlen);

    case CC_KEY_INT:
    case CC_KEY_SIZE:
        if (parse_integer(value, k->min, k->max, &n) != 0) {
            snprintf(err, errlen, "%s: expected an integer from %lld to %lld",
                     k->name, k->min, k->max);
            return -1;
        }
        if (k->type == CC_KEY_SIZE) {
            *(size_t *) field = (size_t) n;
        } else {
            *(int *) field = (int) n;
        }
        return 0;

    case CC_KEY_LEVEL:
        level = cc_log_level_from_name(value);
        if (level < 0) {
            snprintf(err, errlen,
                     "%s: expected one of debug, info, warn, error", k->name);
            return -1;
        }
        *(int *) field = level;
        return 0;

    case CC_KEY_SWITCH:
        if (parse_switch(value, (int *) field) != 0) {
            snprintf(err, errlen, "%s: expected on or off", k->name);
            return -1;
        }
        return 0;
    }

    return -1;
}


void
cc_config_defaults(cc_config_t *cfg)
{
    char  host[200];

    memset(cfg, 0, sizeof(*cfg));
    cfg->log_level = CC_LOG_INFO;
    cfg->log_pii = 0;
    cfg->dev_sign_in = 0;
    cfg->max_body = 1048576;
    cfg->db_pool_size = 4;
    cfg->job_lease_seconds = 30;
    cfg->job_backoff_base_ms = 1000;
    cfg->job_backoff_max_ms = 300000;
    cfg->job_poll_ms = 5000;
    strcpy(cfg->login_url, "https://login.microsoftonline.com");
    cfg->registry_poll_ms = 2000;
    cfg->jwks_refresh_seconds = 86400;
    cfg->jwks_min_refresh_seconds = 300;
    strcpy(cfg->graph_url, "https://graph.microsoft.com");
    cfg->graph_timeout_ms = 10000;
    cfg->autopilot_check = 1;
    cfg->settings_cache_ms = 2000;
    strcpy(cfg->blob_container, "diagnostics");
    cfg->diag_url_minutes = 10;
    cfg->periodic_jobs = 1;
    cfg->retention_interval_seconds = 3600;
    cfg->partition_interval_seconds = 86400;
    cfg->retention_batch_size = 500;
    cfg->sweep_interval_seconds = 600;

    if (gethostname(host, sizeof(host)) != 0) {
        strcpy(host, "localhost");
    }
    host[sizeof(host) - 1] = '\0';
    snprintf(cfg->worker_id, sizeof(cfg->worker_id), "%s:%ld",
             host, (long) getpid());
}


int
cc_config_from_env(cc_config_t *cfg, char *err, size_t errlen)
{
    const char  *value;
    size_t       i;

    for (i = 0; i < CC_NKEYS; i++) {
        value = getenv(cc_keys[i].name);
        if (value == NULL) {
            continue;
        }
        if (cc_config_set(cfg, cc_keys[i].name, value, err, errlen) != 0) {
            return -1;
        }
    }
    return 0;
}


/* Strips leading and trailing blanks in place; returns the new start. */
static char *
trim(char *s)
{
    char  *end;

    while (isspace((unsigned char) *s)) {
        s++;
    }
    end = s + strlen(s);
    while (end > s && isspace((unsigned char) end[-1])) {
        *--end = '\0';
    }
    return s;
}


static int
apply_line(cc_config_t *cfg, char *line, const char *path, int lineno,
           char *err, size_t errlen)
{
    char  *eq, *key, *value;
    char   why[CC_CONFIG_ERR_LEN];

    line = trim(line);
    if (line[0] == '\0' || line[0] == '#') {
        return 0;
    }
    eq = strchr(line, '=');
    if (eq == NULL) {
        snprintf(err, errlen, "%.128s:%d: expected KEY = value", path, lineno);
        return -1;
    }
    *eq = '\0';
    key = trim(line);
    value = trim(eq + 1);

    if (cc_config_set(cfg, key, value, why, sizeof(why)) != 0) {
        snprintf(err, errlen, "%.128s:%d: %s", path, lineno, why);
        return -1;
    }
    return 0;
}


int
cc_config_from_file(cc_config_t *cfg, const char *path,
                    char *err, size_t errlen)
{
    FILE  *f;
    char   line[2048];
    int    lineno, rc;

    f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, errlen, "%.128s: %s", path, strerror(errno));
        return -1;
    }

    rc = 0;
    lineno = 0;
    while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
        lineno++;
        if (strchr(line, '\n') == NULL && !feof(f)) {
            snprintf(err, errlen, "%.128s:%d: line too long", path, lineno);
            rc = -1;
            break;
        }
        rc = apply_line(cfg, line, path, lineno, err, errlen);
    }

    fclose(f);
    return rc;
}


int
cc_config_load(cc_config_t *cfg, int argc, char **argv,
               char *err, size_t errlen)
{
    int  i;

    cc_config_defaults(cfg);
    if (cc_config_from_env(cfg, err, errlen) != 0) {
        return -1;
    }

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            if (cc_config_from_file(cfg, argv[++i], err, errlen) != 0) {
                return -1;
            }
            continue;
        }
        snprintf(err, errlen, "unexpected argument \"%.64s\" "
                 "(usage: --config FILE)", argv[i]);
        return -1;
    }
    return 0;
}


/* True when every comma-separated entry of list is empty or https://. */
static int
all_https(const char *list)
{
    const char  *s;

    for (s = list; *s != '\0'; s++) {
        if (*s == ',' || isspace((unsigned char) *s)) {
            continue;
        }
        if (strncmp(s, "https://", 8) != 0) {
            return 0;
        }
        s += strcspn(s, ",");
        if (*s == '\0') {
            break;
        }
    }
    return 1;
}


int
cc_config_check(const cc_config_t *cfg, int needs, char *err, size_t errlen)
{
    if (cfg->socket_path[0] == '\0') {
        snprintf(err, errlen, "CC_SOCKET: required");
        return -1;
    }
    if ((needs & CC_CONFIG_NEED_DATABASE) && cfg->database_url[0] == '\0') {
        snprintf(err, errlen, "CC_DATABASE_URL: required");
        return -1;
    }
    if (cfg->job_backoff_max_ms < cfg->job_backoff_base_ms) {
        snprintf(err, errlen, "CC_JOB_BACKOFF_MAX_MS: must not be below "
                 "CC_JOB_BACKOFF_BASE_MS");
        return -1;
    }
    if (cfg->worker_id[0] == '\0') {
        snprintf(err, errlen, "CC_WORKER_ID: must not be empty");
        return -1;
    }
    if (strncmp(cfg->login_url, "https://", 8) != 0
        || cfg->login_url[8] == '\0')
    {
        snprintf(err, errlen, "CC_LOGIN_URL: must be an https:// URL");
        return -1;
    }
    if (!all_https(cfg->oidc_discovery_urls)) {
        snprintf(err, errlen, "CC_OIDC_DISCOVERY_URLS: every entry must be "
                 "an https:// URL");
        return -1;
    }
    return 0;
}


void
cc_config_load_or_exit(cc_config_t *cfg, const char *svc, int needs,
                       int argc, char **argv)
{
    char  err[CC_CONFIG_ERR_LEN];

    if (cc_config_load(cfg, argc, argv, err, sizeof(err)) != 0
        || cc_config_check(cfg, needs, err, sizeof(err)) != 0)
    {
        fprintf(stderr, "%s: configuration error: %s\n", svc, err);
        exit(2);
    }
}
