/*
 * Structured JSON log lines on stderr, filtered by level, written whole so
 * lines from concurrent threads never interleave.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "cc_log.h"


static const char  *cc_log_svc = "cc";
static int          cc_log_min = CC_LOG_INFO;
static int          cc_log_allow_pii;

static const char  *cc_log_names[] = { "debug", "info", "warn", "error" };


void
cc_log_init(const char *svc, int min_level, int pii)
{
    cc_log_svc = svc;
    cc_log_min = min_level;
    cc_log_allow_pii = pii;
}


int
cc_log_level_from_name(const char *name)
{
    int  i;

    for (i = CC_LOG_DEBUG; i <= CC_LOG_ERROR; i++) {
        if (strcmp(name, cc_log_names[i]) == 0) {
            return i;
        }
    }
    return -1;
}


const char *
cc_log_level_name(int level)
{
    if (level < CC_LOG_DEBUG || level > CC_LOG_ERROR) {
        return "error";
    }
    return cc_log_names[level];
}


int
cc_log_enabled(int level)
{
    return level >= cc_log_min;
}


int
cc_log_pii(void)
{
    return cc_log_allow_pii;
}


void
cc_log_timestamp(char *buf, size_t len)
{
    struct timeval  tv;
    struct tm       tm;
    char            base[24];

    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, len, "%s.%03dZ", base, (int) (tv.tv_usec / 1000));
}


char *
cc_log_format(int level, const char *msg, json_t *fields)
{
    json_t  *line;
    char     ts[32];
    char    *out;

    cc_log_timestamp(ts, sizeof(ts));

    line = json_object();
    json_object_set_new(line, "ts", json_string(ts));
    json_object_set_new(line, "level", json_string(cc_log_level_name(level)));
    json_object_set_new(line, "svc", json_string(cc_log_svc));
    json_object_set_new(line, "msg", json_string(msg));

    /* The fixed members come first and cannot be overwritten by fields. */
    if (fields != NULL && json_is_object(fields)) {
        json_object_update_missing(line, fields);
    }

    out = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER
                           | JSON_REAL_PRECISION(9));
    json_decref(line);
    return out;
}


static void
write_line(const char *text)
{
    size_t   len;
    char    *buf;

    /* One write(2) per line: stderr lines from threads stay whole. */
    len = strlen(text);
    buf = malloc(len + 1);
    if (buf == NULL) {
        return;
    }
    memcpy(buf, text, len);
    buf[len] = '\n';
    if (write(STDERR_FILENO, buf, len + 1) < 0) {
        /* Nowhere left to report it. */
    }
    free(buf);
}


void
cc_log_fields(int level, const char *msg, json_t *fields)
{
    char  *line;

    if (!cc_log_enabled(level)) {
        json_decref(fields);
        return;
    }
    line = cc_log_format(level, msg, fields);
    json_decref(fields);
    if (line != NULL) {
        write_line(line);
        free(line);
    }
}


void
cc_log(int level, const char *fmt, ...)
{
    va_list  ap;
    char     msg[1024];

    if (!cc_log_enabled(level)) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    cc_log_fields(level, msg, NULL);
}


/* Header and path bytes need not be UTF-8; JSON strings must be. */
static json_t *
text_or_dash(const char *s)
{
    json_t  *j;

    j = (s != NULL) ? json_string(s) : NULL;
    return (j != NULL) ? j : json_string("-");
}


void
cc_log_request(const char *method, const char *path, int status,
               double duration_ms, const char *request_id)
{
    json_t  *f;

    if (!cc_log_enabled(CC_LOG_INFO)) {
        return;
    }
    f = json_object();
    json_object_set_new(f, "method", text_or_dash(method));
    json_object_set_new(f, "path", text_or_dash(path));
    json_object_set_new(f, "status", json_integer(status));
    json_object_set_new(f, "duration_ms",
                        json_real((long long) (duration_ms * 1000) / 1000.0));
    if (request_id != NULL && request_id[0] != '\0') {
        json_object_set_new(f, "request_id", text_or_dash(request_id));
    }
    cc_log_fields(CC_LOG_INFO, "request", f);
}
