/*
 * Unit tests of workers/common/cc_config: defaults, every kind of value,
 * the errors that make a worker exit 2, and the order env < --config.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "cc_config.h"
#include "cc_log.h"


static char  err[CC_CONFIG_ERR_LEN];


static int
set(cc_config_t *cfg, const char *key, const char *value)
{
    err[0] = '\0';
    return cc_config_set(cfg, key, value, err, sizeof(err));
}


static const char *
write_file(const char *text)
{
    static char  path[] = "/tmp/cc-config-test-XXXXXX";
    int          fd;

    strcpy(path, "/tmp/cc-config-test-XXXXXX");
    fd = mkstemp(path);
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t) strlen(text)) {
        return NULL;
    }
    close(fd);
    return path;
}


static void
test_defaults(void)
{
    cc_config_t  cfg;
    char         prefix[300];

    cc_config_defaults(&cfg);
    is_int(cfg.log_level, CC_LOG_INFO, "log level defaults to info");
    is_int(cfg.log_pii, 0, "personal data stays out of logs by default");
    is_int((long long) cfg.max_body, 1048576, "max body defaults to 1 MiB");
    is_int(cfg.db_pool_size, 4, "pool size defaults to 4");
    is_int(cfg.job_lease_seconds, 30, "lease defaults to 30 s");
    is_int(cfg.job_backoff_base_ms, 1000, "backoff base defaults to 1 s");
    is_int(cfg.job_backoff_max_ms, 300000, "backoff cap defaults to 5 min");
    is_int(cfg.job_poll_ms, 5000, "idle poll defaults to 5 s");
    is_str(cfg.socket_path, "", "no socket by default");

    gethostname(prefix, sizeof(prefix) - 20);
    snprintf(prefix + strlen(prefix), 20, ":%ld", (long) getpid());
    is_str(cfg.worker_id, prefix, "worker id defaults to hostname:pid");
}


static void
test_values(void)
{
    cc_config_t  cfg;

    cc_config_defaults(&cfg);
    is_int(set(&cfg, "CC_MAX_BODY", "2048"), 0, "CC_MAX_BODY accepts bytes");
    is_int((long long) cfg.max_body, 2048, "CC_MAX_BODY stored");
    is_int(set(&cfg, "CC_LOG_LEVEL", "warn"), 0, "CC_LOG_LEVEL accepts warn");
    is_int(cfg.log_level, CC_LOG_WARN, "CC_LOG_LEVEL stored");
    is_int(set(&cfg, "CC_LOG_PII", "on"), 0, "CC_LOG_PII accepts on");
    is_int(cfg.log_pii, 1, "CC_LOG_PII stored");
    is_int(set(&cfg, "CC_SOCKET", "/run/cc/api.sock"), 0,
           "CC_SOCKET accepts an absolute path");
    is_str(cfg.socket_path, "/run/cc/api.sock", "CC_SOCKET stored");
    is_int(set(&cfg, "CC_DATABASE_URL", "postgresql:///cc?host=/tmp"), 0,
           "CC_DATABASE_URL accepts a URL");
    is_int(set(&cfg, "CC_JOB_POLL_MS", "250"), 0, "CC_JOB_POLL_MS accepted");
    is_int(cfg.job_poll_ms, 250, "CC_JOB_POLL_MS stored");
}


static void
test_bad_values(void)
{
    cc_config_t  cfg;
    char         long_path[200];

    cc_config_defaults(&cfg);

    is_int(set(&cfg, "CC_MAX_BODY", "1MB"), -1, "a unit suffix is refused");
    ok(strstr(err, "CC_MAX_BODY") != NULL, "the error names the key");
    is_int(set(&cfg, "CC_MAX_BODY", ""), -1, "an empty number is refused");
    is_int(set(&cfg, "CC_MAX_BODY", "0"), -1, "a zero body limit is refused");
    is_int(set(&cfg, "CC_DB_POOL_SIZE", "-1"), -1,
           "a negative pool size is refused");
    is_int(set(&cfg, "CC_DB_POOL_SIZE", "65"), -1,
           "a pool size above the maximum is refused");
    is_int(set(&cfg, "CC_DB_POOL_SIZE", " 4"), -1,
           "leading blanks in a number are refused");
    is_int(set(&cfg, "CC_JOB_LEASE_SECONDS", "99999999999999999999"), -1,
           "an overflowing number is refused");
    is_int(cfg.job_lease_seconds, 30, "a refused value leaves the old one");
    is_int(set(&cfg, "CC_LOG_LEVEL", "verbose"), -1,
           "an unknown log level is refused");
    is_int(set(&cfg, "CC_LOG_PII", "maybe"), -1,
           "CC_LOG_PII other than on/off is refused");
    is_int(set(&cfg, "CC_SOCKET", "run/api.sock"), -1,
           "a relative socket path is refused");
    memset(long_path, 'a', sizeof(long_path) - 1);
    long_path[0] = '/';
    long_path[sizeof(long_path) - 1] = '\0';
    is_int(set(&cfg, "CC_SOCKET", long_path), -1,
           "a socket path longer than sun_path is refused");
    is_int(set(&cfg, "CC_NO_SUCH_KEY", "1"), -1, "an unknown key is refused");
    ok(strstr(err, "CC_NO_SUCH_KEY") != NULL, "the error names unknown key");
}


static void
test_check(void)
{
    cc_config_t  cfg;

    cc_config_defaults(&cfg);
    is_int(cc_config_check(&cfg, 0, err, sizeof(err)), -1,
           "CC_SOCKET is required");
    set(&cfg, "CC_SOCKET", "/tmp/x.sock");
    is_int(cc_config_check(&cfg, 0, err, sizeof(err)), 0,
           "a socket is enough for a process without a database");
    is_int(cc_config_check(&cfg, CC_CONFIG_NEED_DATABASE, err, sizeof(err)),
           -1, "CC_DATABASE_URL required when the process needs it");
    set(&cfg, "CC_DATABASE_URL", "dbname=cc");
    set(&cfg, "CC_JOB_BACKOFF_BASE_MS", "5000");
    set(&cfg, "CC_JOB_BACKOFF_MAX_MS", "1000");
    is_int(cc_config_check(&cfg, CC_CONFIG_NEED_DATABASE, err, sizeof(err)),
           -1, "a backoff cap below the base is refused");
}


static void
test_file(void)
{
    cc_config_t  cfg;
    const char  *path;

    cc_config_defaults(&cfg);
    path = write_file("# a comment\n\n  CC_SOCKET = /tmp/f.sock  \n"
                      "CC_DB_POOL_SIZE=7\n");
    is_int(cc_config_from_file(&cfg, path, err, sizeof(err)), 0,
           "a file with comments, blanks and spaces parses");
    is_str(cfg.socket_path, "/tmp/f.sock", "values are trimmed");
    is_int(cfg.db_pool_size, 7, "KEY=value without spaces parses");
    unlink(path);

    path = write_file("CC_SOCKET = /tmp/f.sock\nCC_MAX_BODY = lots\n");
    is_int(cc_config_from_file(&cfg, path, err, sizeof(err)), -1,
           "a bad value in a file is refused");
    ok(strstr(err, ":2:") != NULL, "the error gives the line number");
    unlink(path);

    path = write_file("CC_SOCKET /tmp/f.sock\n");
    is_int(cc_config_from_file(&cfg, path, err, sizeof(err)), -1,
           "a line without '=' is refused");
    unlink(path);

    is_int(cc_config_from_file(&cfg, "/nonexistent/cc.conf", err,
                               sizeof(err)), -1,
           "a missing file is an error");
}


static void
test_load_order(void)
{
    cc_config_t  cfg;
    const char  *path;
    char        *argv[4];

    setenv("CC_SOCKET", "/tmp/env.sock", 1);
    setenv("CC_JOB_POLL_MS", "700", 1);
    path = write_file("CC_SOCKET = /tmp/file.sock\n");

    argv[0] = "cc-test";
    argv[1] = NULL;
    is_int(cc_config_load(&cfg, 1, argv, err, sizeof(err)), 0,
           "load from the environment alone");
    is_str(cfg.socket_path, "/tmp/env.sock", "environment value used");

    argv[1] = "--config";
    argv[2] = (char *) path;
    argv[3] = NULL;
    is_int(cc_config_load(&cfg, 3, argv, err, sizeof(err)), 0,
           "load with --config");
    is_str(cfg.socket_path, "/tmp/file.sock", "--config overrides the env");
    is_int(cfg.job_poll_ms, 700, "keys absent from the file keep env values");

    argv[1] = "--verbose";
    is_int(cc_config_load(&cfg, 2, argv, err, sizeof(err)), -1,
           "an unknown argument is refused");

    setenv("CC_JOB_POLL_MS", "soon", 1);
    argv[1] = NULL;
    is_int(cc_config_load(&cfg, 1, argv, err, sizeof(err)), -1,
           "a bad value in the environment is refused");

    unsetenv("CC_SOCKET");
    unsetenv("CC_JOB_POLL_MS");
    unlink(path);
}


int
main(void)
{
    test_defaults();
    test_values();
    test_bad_values();
    test_check();
    test_file();
    test_load_order();
    return done_testing();
}
