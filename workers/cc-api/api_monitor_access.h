/*
 * Who may do what in the tenant staff API (docs/monitor-api.md has the
 * matrix), and the request details every Monitor handler reads the same
 * way: the path's tenant, query parameters, page limits and cursors, and
 * errors with a stable code of their own.
 */

#ifndef API_MONITOR_ACCESS_H
#define API_MONITOR_ACCESS_H

#include "cc_http.h"
#include "cc_reply.h"
#include "cc_uuid.h"

/* What a handler needs, lowest first; each level includes those below. */
typedef enum {
    API_MONITOR_READ = 1,       /* user: sessions, devices */
    API_MONITOR_OPERATE,        /* operator: block, unblock, delete */
    API_MONITOR_ADMINISTER,     /* tenant_admin: settings, audit, offboard */
    API_MONITOR_EVERYTHING      /* global_admin of the platform tenant */
} api_monitor_need_t;

/* The tenant a request acts on, once admitted, and who acts. */
typedef struct {
    char         tenant[CC_UUID_STR_LEN + 1];
    int          cross_tenant;      /* a Global Admin in another tenant */
    char         actor[160];        /* "user:<id>", never a name */
} api_monitor_scope_t;

#define API_MONITOR_LIMIT_DEFAULT  50
#define API_MONITOR_LIMIT_MAX      500

/*
 * Admits req for need on the tenant of its {tid}: the caller's own tenant,
 * or any tenant for a Global Admin of the platform tenant whom nginx marked
 * X-CC-Cross-Tenant.  Returns 0 and fills scope, or answers rep (404
 * not_found, 403 tenant_mismatch, 403 role_required) and returns -1.
 */
int api_monitor_admit(cc_request_t *req, cc_reply_t *rep,
                      api_monitor_need_t need, api_monitor_scope_t *scope);

/* A query-string parameter, or NULL when absent or empty. */
const char *api_monitor_query(const cc_request_t *req, const char *name);

/*
 * Reads ?limit= (1..API_MONITOR_LIMIT_MAX, default
 * API_MONITOR_LIMIT_DEFAULT) into out, as text for a query parameter.
 * Answers 400 limit_invalid and returns -1 when it is not a number in range.
 */
int api_monitor_limit(const cc_request_t *req, cc_reply_t *rep,
                      char *out, size_t size);

/* True when s is a cursor of a (time, id) page: "<digits>_<uuid>". */
int api_monitor_time_cursor_valid(const char *s);

/* True when s is an ordinal (a cursor of an ordinal page, an id): 1-18
 * digits. */
int api_monitor_ordinal_valid(const char *s);

/* Answers status with {"error":{"code":code,"message":...}}. */
void api_monitor_fail(cc_reply_t *rep, int status, const char *code,
                      const char *message);

#endif /* API_MONITOR_ACCESS_H */
