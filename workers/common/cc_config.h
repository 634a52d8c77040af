/*
 * Configuration of a worker process: read from environment variables, then
 * optionally overridden by a `--config FILE` of `KEY = value` lines.
 *
 * Keys (the same names in the environment and in the file):
 *
 *   CC_DATABASE_URL         libpq connection string or URL.  Required by
 *                           cc-api and cc-worker.
 *   CC_SOCKET               path of the unix socket this process listens on.
 *                           Required.
 *   CC_LOG_LEVEL            debug | info | warn | error (default info).
 *   CC_LOG_PII              on | off (default off): whether personal data
 *                           (UPNs, e-mail addresses, names, serial numbers)
 *                           may appear in logs.  Keep it off in production.
 *   CC_MAX_BODY             largest request body accepted, in bytes
 *                           (default 1048576, 1..1 GiB; larger bodies get
 *                           413).
 *   CC_DB_POOL_SIZE         connections in the libpq pool (default 4, 1..64;
 *                           cc-worker uses at least 2: job and heartbeat).
 *   CC_WORKER_ID            name a job runner claims jobs under
 *                           (default hostname:pid).
 *   CC_JOB_LEASE_SECONDS    lease a claimed job is held for (default 30,
 *                           3..86400); the heartbeat renews it every third.
 *   CC_JOB_BACKOFF_BASE_MS  first retry delay; doubles per attempt
 *                           (default 1000, 0..86400000).
 *   CC_JOB_BACKOFF_MAX_MS   cap of the retry delay (default 300000, not
 *                           below the base).
 *   CC_JOB_POLL_MS          longest idle sleep when no notification comes
 *                           (default 5000, 10..3600000).
 *   CC_WORKER_SOCKET        cc-worker's socket, probed by cc-api's health.
 *   CC_INGEST_SOCKET        cc-ingest's socket, probed by cc-api's health.
 *
 * The registry sync (cc-worker; see workers/cc-worker/sync_registry.h):
 *
 *   CC_NGINX_CONTROL_SOCKET     the unix socket of nginx's control server
 *                               (the cc_registry_api location).  Unset: the
 *                               sync is off, and /healthz says so.
 *   CC_LOGIN_URL                base URL of Entra ID (default
 *                               https://login.microsoftonline.com; the
 *                               simulator's URL in tests).  https:// only.
 *   CC_OIDC_DISCOVERY_URLS      comma-separated OIDC discovery documents
 *                               whose JWKS the registry holds (https://).
 *                               Default: {login}/common/v2.0/.well-known/
 *                               openid-configuration, then {login}/common/
 *                               .well-known/openid-configuration.
 *   CC_CA_FILE                  CA bundle for HTTPS to those services
 *                               (default: the system's).
 *   CC_REGISTRY_POLL_MS         how often GET /registry is read to notice
 *                               an nginx restart or an unknown kid (default
 *                               2000, 100..3600000).
 *   CC_JWKS_REFRESH_SECONDS     how often the JWKS are fetched (default
 *                               86400, 1..604800).
 *   CC_JWKS_MIN_REFRESH_SECONDS least time between two fetches that an
 *                               unknown kid asks for (default 300,
 *                               0..86400).
 *
 * Sessions (cc-api):
 *
 *   CC_PLATFORM_TENANT          the one tenant whose users may act as Global
 *                               Admins (a GUID).  Unset: nobody may, since
 *                               every customer's administrators can assign
 *                               the app's roles in their own tenant.
 *
 *   CC_SESSION_KEYS             the session-cookie keyring file (lib/
 *                               cc_session.h's format; `ccctl session
 *                               keygen`), shared with nginx.
 *   CC_DEV_SIGN_IN              on: POST /api/dev/sign-in mints a session
 *                               cookie for any tenant, user and roles, for
 *                               the demo and the tests until the Entra
 *                               sign-in lands.  Never in production.
 *                               Default off.
 *
 * The platform app's Graph access (cc-ingest's Autopilot check; see
 * workers/cc-ingest/ingest_autopilot.h):
 *
 *   CC_GRAPH_URL                base URL of Microsoft Graph (default
 *                               https://graph.microsoft.com; the
 *                               simulator's URL in tests).  https:// only.
 *                               Tokens still ask for
 *                               https://graph.microsoft.com/.default.
 *   CC_CLIENT_ID                the platform app's client id.
 *   CC_CLIENT_SECRET_FILE       a file whose first line is its secret
 *                               (client credentials at CC_LOGIN_URL); one
 *                               that cannot be read stops cc-ingest.
 *                               Without both, a tenant with
 *                               autopilot_check on gets 503 for every
 *                               device, and /healthz says why.
 *   CC_GRAPH_TIMEOUT_MS         limit of one token or Graph request
 *                               (default 10000, 100..60000).
 *   CC_AUTOPILOT_CHECK          on | off (default on).  off: no device's
 *                               Autopilot registration is checked,
 *                               whatever its tenant's autopilot_check
 *                               says; for development and for tests
 *                               without Graph.  Never in production.
 *   CC_SETTINGS_CACHE_MS        how long cc-ingest keeps a tenant's gate
 *                               settings (hardware and Autopilot checks,
 *                               allow-list) in memory (default 2000; 0:
 *                               read on every request).  A change made
 *                               through the staff API reaches agents
 *                               within this time.
 *
 * Diagnostics uploads (cc-ingest; see workers/cc-ingest/ingest_upload.h):
 *
 *   CC_BLOB_URL                 the storage account's blob endpoint, e.g.
 *                               https://{account}.blob.core.windows.net or
 *                               Azurite's http://127.0.0.1:PORT/
 *                               devstoreaccount1.  Unset: upload-url
 *                               answers 503.
 *   CC_BLOB_ACCOUNT             the storage account's name.
 *   CC_BLOB_KEY_FILE            a file holding the account key in base64.
 *   CC_BLOB_CONTAINER           the container (default diagnostics),
 *                               created at start-up when missing.
 *   CC_DIAG_URL_MINUTES         how long an upload URL lasts (default 10,
 *                               1..15).
 *
 * Periodic jobs and retention (cc-worker; see workers/cc-worker/
 * worker_periodic.h and retention_purge.h):
 *
 *   CC_PERIODIC_JOBS            on | off (default on): whether this worker
 *                               enqueues the periodic jobs.  With several
 *                               workers each job still runs once per
 *                               interval.  The test harness turns it off.
 *   CC_RETENTION_INTERVAL_SECONDS  how often expired sessions are purged
 *                               (default 3600, 0..604800; 0 = never).
 *   CC_PARTITION_INTERVAL_SECONDS  how often event partitions are created
 *                               ahead and old ones dropped (default 86400,
 *                               0..604800; 0 = never).
 *   CC_RETENTION_BATCH_SIZE     sessions deleted per purge transaction
 *                               (default 500, 1..10000).
 *   CC_SWEEP_INTERVAL_SECONDS  how often enrollment sessions are swept:
 *                               silent ones marked Stalled, old ones
 *                               classified (workers/cc-worker/
 *                               sweep_sessions.h; default 600, 0..86400;
 *                               0 = never).
 *
 * Invalid values are reported with the key's name; main() then exits 2.
 */

#ifndef CC_CONFIG_H
#define CC_CONFIG_H

#include <stddef.h>

#define CC_CONFIG_ERR_LEN  256
#define CC_CONFIG_STR_LEN  1024

typedef struct cc_config {
    char    database_url[CC_CONFIG_STR_LEN];
    char    socket_path[108];
    int     log_level;
    int     log_pii;
    size_t  max_body;
    int     db_pool_size;
    char    worker_id[256];
    int     job_lease_seconds;
    int     job_backoff_base_ms;
    int     job_backoff_max_ms;
    int     job_poll_ms;
    char    worker_socket[108];
    char    ingest_socket[108];
    char    nginx_control_socket[108];
    char    login_url[CC_CONFIG_STR_LEN];
    char    oidc_discovery_urls[CC_CONFIG_STR_LEN];
    char    ca_file[CC_CONFIG_STR_LEN];
    int     registry_poll_ms;
    int     jwks_refresh_seconds;
    int     jwks_min_refresh_seconds;
    char    platform_tenant[CC_CONFIG_STR_LEN];
    char    session_keys[CC_CONFIG_STR_LEN];
    int     dev_sign_in;
    char    graph_url[CC_CONFIG_STR_LEN];
    char    client_id[CC_CONFIG_STR_LEN];
    char    client_secret_file[CC_CONFIG_STR_LEN];
    int     graph_timeout_ms;
    int     autopilot_check;
    int     settings_cache_ms;
    char    blob_url[CC_CONFIG_STR_LEN];
    char    blob_account[CC_CONFIG_STR_LEN];
    char    blob_key_file[CC_CONFIG_STR_LEN];
    char    blob_container[64];
    int     diag_url_minutes;
    int     periodic_jobs;
    int     retention_interval_seconds;
    int     partition_interval_seconds;
    int     retention_batch_size;
    int     sweep_interval_seconds;
} cc_config_t;

/* Fills cfg with the defaults documented above. */
void cc_config_defaults(cc_config_t *cfg);

/* Sets one key from its text value.  Returns 0, or -1 with err filled. */
int cc_config_set(cc_config_t *cfg, const char *key, const char *value,
                  char *err, size_t errlen);

/* Applies every CC_* key present in the environment. */
int cc_config_from_env(cc_config_t *cfg, char *err, size_t errlen);

/* Applies a file of `KEY = value` lines; '#' starts a comment line. */
int cc_config_from_file(cc_config_t *cfg, const char *path,
                        char *err, size_t errlen);

/*
 * Defaults, then the environment, then `--config FILE` from argv.  Unknown
 * arguments are errors.  Returns 0, or -1 with err filled.
 */
int cc_config_load(cc_config_t *cfg, int argc, char **argv,
                   char *err, size_t errlen);

/*
 * What a process needs before it can start: pass CC_CONFIG_NEED_DATABASE
 * when it cannot work without CC_DATABASE_URL.
 */
#define CC_CONFIG_NEED_DATABASE  0x1

int cc_config_check(const cc_config_t *cfg, int needs,
                    char *err, size_t errlen);

/* cc_config_load() and cc_config_check(); on error prints it and exits 2. */
void cc_config_load_or_exit(cc_config_t *cfg, const char *svc, int needs,
                            int argc, char **argv);

#endif /* CC_CONFIG_H */
