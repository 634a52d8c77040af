/*
 * Structured logging: one JSON object per line on stderr, with a timestamp,
 * a level, the service name, a message and optional fields.
 *
 * What never goes into a log line: request or response bodies, headers,
 * tokens, secrets, and personal data (UPNs, e-mail addresses, names, serial
 * numbers) unless CC_LOG_PII is on.  Callers pass identifiers (job ids,
 * request ids, tenant ids), not content.
 */

#ifndef CC_LOG_H
#define CC_LOG_H

#include <jansson.h>

enum {
    CC_LOG_DEBUG = 0,
    CC_LOG_INFO,
    CC_LOG_WARN,
    CC_LOG_ERROR
};

/* Sets the service name and the lowest level that is written. */
void cc_log_init(const char *svc, int min_level, int pii);

/* Returns the level for "debug", "info", "warn" or "error", else -1. */
int cc_log_level_from_name(const char *name);

const char *cc_log_level_name(int level);

int cc_log_enabled(int level);

/* Whether personal data may be logged (CC_LOG_PII). */
int cc_log_pii(void);

/* Logs msg (printf format) with no extra fields. */
void cc_log(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Logs msg with the members of fields (a JSON object, may be NULL) added to
 * the line.  Takes ownership of fields.
 */
void cc_log_fields(int level, const char *msg, json_t *fields);

/*
 * Logs one finished HTTP request.  path must be the path alone: the query
 * string can carry tokens and personal data, so it is never logged.
 */
void cc_log_request(const char *method, const char *path, int status,
                    double duration_ms, const char *request_id);

/* Formats the current time as 2026-11-23T19:00:00.123Z into buf[32]. */
void cc_log_timestamp(char *buf, size_t len);

/* Builds the line (without newline); the caller frees it.  For tests. */
char *cc_log_format(int level, const char *msg, json_t *fields);

#endif /* CC_LOG_H */
