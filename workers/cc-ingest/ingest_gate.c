/*
 * The hardware allow-list and the Autopilot registration check every
 * agent request passes before its handler runs.
 */

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "cc_db.h"
#include "cc_log.h"
#include "ingest_admit.h"
#include "ingest_app.h"
#include "ingest_autopilot.h"
#include "ingest_gate.h"
#include "ingest_gate_cache.h"


/* What the tenant's settings say about one device. */
typedef struct {
    const char  *manufacturer;      /* the request's headers, or NULL */
    const char  *model;
    int          hardware_check;
    int          autopilot_check;
    int          hardware_allowed;
} gate_settings_t;


/* The length of the UTF-8 character s starts with (s[0] != '\0'). */
static size_t
char_length(const char *s)
{
    size_t  n;

    n = 1;
    while ((s[n] & 0xC0) == 0x80) {
        n++;
    }
    return n;
}


static int
same_letter(char a, char b)
{
    return tolower((unsigned char) a) == tolower((unsigned char) b);
}


/*
 * The classic greedy matcher: on a mismatch, go back to the last * and
 * let it take one more character.  Linear in practice, never recursive.
 */
int
ingest_gate_wildcard_match(const char *p, const char *t)
{
    const char  *star_p, *star_t;

    star_p = NULL;
    star_t = NULL;
    while (*t != '\0') {
        if (*p == '*') {
            star_p = ++p;
            star_t = t;
        } else if (*p == '?') {
            p++;
            t += char_length(t);
        } else if (*p != '\0' && same_letter(*p, *t)) {
            p++;
            t++;
        } else if (star_p != NULL) {
            star_t += char_length(star_t);
            t = star_t;
            p = star_p;
        } else {
            return 0;
        }
    }
    while (*p == '*') {
        p++;
    }
    return *p == '\0';
}


#define GATE_SETTINGS_STMT  "cc_ingest_gate_settings"


int
ingest_gate_prepare(cc_db_pool_t *pool)
{
    return cc_db_pool_prepare(pool, GATE_SETTINGS_STMT,
        "SELECT hardware_check, autopilot_check, manufacturer, model"
        "  FROM cc_ingest_gate_settings($1::uuid)");
}


/* Keeps what the statement read in the cache: the switches of the first
 * row, and the allow-list rules (manufacturer NULL: there are none). */
static void
remember(ingest_gate_cache_t *cache, const char *tenant, const PGresult *res,
         gate_settings_t *s)
{
    const char  **patterns;
    size_t        nrules;
    int           i;

    patterns = calloc(2 * (size_t) PQntuples(res) + 1, sizeof(char *));
    nrules = 0;
    for (i = 0; patterns != NULL && i < PQntuples(res); i++) {
        if (!PQgetisnull(res, i, 2)) {
            patterns[2 * nrules] = PQgetvalue(res, i, 2);
            patterns[2 * nrules + 1] = PQgetvalue(res, i, 3);
            nrules++;
        }
    }
    s->hardware_allowed = s->hardware_check && patterns != NULL
        && ingest_gate_rules_match(patterns, nrules, s->manufacturer,
                                   s->model);
    if (patterns != NULL) {
        ingest_gate_cache_put(cache, tenant, s->hardware_check,
                              s->autopilot_check, patterns, nrules);
    }
    free(patterns);
}


/* The settings row (defaults for a tenant without one) and, when the
 * allow-list is enforced, its rows: one statement that sets the tenant
 * itself (sql/013), so a cache miss costs a single round trip.  0 or -1. */
static int
read_settings(const ingest_app_t *app, const char *tenant, gate_settings_t *s)
{
    ingest_gate_verdict_t   v;
    PGresult               *res;
    const char             *params[1];
    int                     rc;

    if (ingest_gate_cache_judge(app->gate_cache, tenant, s->manufacturer,
                                s->model, &v))
    {
        s->hardware_check = v.hardware_check;
        s->autopilot_check = v.autopilot_check;
        s->hardware_allowed = v.hardware_allowed;
        return 0;
    }
    params[0] = tenant;
    res = cc_db_pool_query_prepared(app->pool, GATE_SETTINGS_STMT, 1, params);
    rc = -1;
    if (cc_db_result_ok(res) && PQntuples(res) > 0) {
        s->hardware_check = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
        s->autopilot_check = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
        remember(app->gate_cache, tenant, res, s);
        rc = 0;
    }
    PQclear(res);
    return rc;
}


static void
refuse_for_now(cc_reply_t *rep, const char *code, const char *message)
{
    ingest_refuse(rep, 503, code, message);
    cc_reply_header(rep, "Retry-After", INGEST_GATE_RETRY_AFTER);
}


static int
present(const char *value)
{
    return value != NULL && value[0] != '\0';
}


/* A serial we will look up: bounded, and no control characters. */
static int
usable_serial(const char *serial)
{
    size_t  i;

    if (!present(serial) || strlen(serial) > INGEST_AUTOPILOT_SERIAL_MAX) {
        return 0;
    }
    for (i = 0; serial[i] != '\0'; i++) {
        if ((unsigned char) serial[i] < 0x20 || serial[i] == 0x7f) {
            return 0;
        }
    }
    return 1;
}


static int
check_hardware(const gate_settings_t *s, cc_reply_t *rep)
{
    if (!s->hardware_check) {
        return 1;
    }
    if (!present(s->manufacturer) || !present(s->model)) {
        ingest_refuse(rep, 403, "hardware_unidentified",
                      "X-Device-Manufacturer and X-Device-Model are "
                      "required by this tenant's hardware allow-list");
        return 0;
    }
    if (!s->hardware_allowed) {
        ingest_refuse(rep, 403, "hardware_not_allowed",
                      "this device's manufacturer and model are not on the "
                      "tenant's hardware allow-list");
        return 0;
    }
    return 1;
}


static int
check_autopilot(const cc_request_t *req, cc_reply_t *rep)
{
    const ingest_app_t  *app = req->app;
    const char          *serial;

    serial = cc_request_header(req, "X-Device-SerialNumber");
    if (!usable_serial(serial)) {
        ingest_refuse(rep, 403, "device_serial_missing",
                      "X-Device-SerialNumber is required to check the "
                      "device's Autopilot registration");
        return 0;
    }
    if (app->autopilot == NULL) {
        refuse_for_now(rep, "device_lookup_unavailable",
                       "the device's registration cannot be checked now; "
                       "try again shortly");
        return 0;
    }
    switch (ingest_autopilot_check(app->autopilot, req->identity.tenant,
                                   serial))
    {
    case INGEST_AUTOPILOT_REGISTERED:
        return 1;
    case INGEST_AUTOPILOT_NOT_REGISTERED:
        ingest_refuse(rep, 403, "device_not_registered",
                      "the device is not registered for Windows Autopilot "
                      "in this tenant");
        return 0;
    default:
        refuse_for_now(rep, "device_lookup_unavailable",
                       "the device's registration cannot be checked now; "
                       "try again shortly");
        return 0;
    }
}


int
ingest_gate_admit(const cc_request_t *req, cc_reply_t *rep)
{
    const ingest_app_t  *app = req->app;
    gate_settings_t      s;

    memset(&s, 0, sizeof(s));
    s.manufacturer = cc_request_header(req, "X-Device-Manufacturer");
    s.model = cc_request_header(req, "X-Device-Model");
    if (read_settings(app, req->identity.tenant, &s) != 0) {
        refuse_for_now(rep, "unavailable",
                       "the tenant's settings cannot be read now; try "
                       "again shortly");
        return 0;
    }
    if (!check_hardware(&s, rep)) {
        return 0;
    }
    if (!s.autopilot_check || !app->cfg->autopilot_check) {
        return 1;
    }
    return check_autopilot(req, rep);
}


int
ingest_gate_validated_by(const cc_request_t *req)
{
    const ingest_app_t  *app = req->app;

    return ingest_autopilot_known(app->autopilot, req->identity.tenant,
               cc_request_header(req, "X-Device-SerialNumber")) ? 1 : 0;
}
