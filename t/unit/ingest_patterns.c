/*
 * The default IME log-pattern set of sql/007_agent_config.sql: every
 * pattern is well formed, compiles with PCRE2 (whose named-group syntax
 * (?<name>...) .NET shares), names an action the agent knows, and matches
 * a sample line we wrote, capturing what the action reads.  A pattern
 * added to the set without a sample here fails.
 */

#define PCRE2_CODE_UNIT_WIDTH 8

#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cc_ime_actions.h"
#include "tap.h"

#define SET_FILE    "sql/007_agent_config.sql"
#define SET_OPEN    "$patterns$"

typedef struct {
    const char  *pattern_id;
    const char  *line;          /* a sample IME log message that matches */
    const char  *group;         /* a named group to check, or NULL */
    const char  *value;         /* what it captures */
    const char  *miss;          /* a similar line that must not match */
} sample_t;

static const sample_t  samples[] = {
    { "CC-IME-VERSION",
      "[Location Service] Intune Management Extension version: 1.93.102.0",
      "agentVersion", "1.93.102.0",
      "[Location Service] Intune Management Extension is running" },
    { "CC-IME-STARTED",
      "[Agent] IntuneManagementExtension service started",
      NULL, NULL,
      "[Agent] IntuneManagementExtension service stopping" },
    { "CC-ESP-PHASE",
      "[Win32App] In EspPhase: DeviceSetup",
      "espPhase", "DeviceSetup",
      "[Win32App] EspPhase unknown" },
    { "CC-APP-CURRENT",
      "[Win32App] ExecManager: processing targeted app (name='7-Zip', "
      "id='0f2a4c6e-8b1d-4e3f-a5b7-c9d1e3f5a7b9') with intent=3 for user "
      "session 0",
      "id", "0f2a4c6e-8b1d-4e3f-a5b7-c9d1e3f5a7b9",
      "[Win32App] ExecManager: processing targeted app (name='7-Zip', "
      "id='not-a-guid')" },
    { "CC-APP-DOWNLOAD-START",
      "[Win32App] Downloading app on session 0. App: "
      "0f2a4c6e-8b1d-4e3f-a5b7-c9d1e3f5a7b9",
      "id", "0f2a4c6e-8b1d-4e3f-a5b7-c9d1e3f5a7b9",
      "[Win32App] Downloaded app on session 0" },
    { "CC-APP-DOWNLOAD-PROGRESS",
      "[StatusService] Downloading app (id = "
      "0f2a4c6e-8b1d-4e3f-a5b7-c9d1e3f5a7b9, name 7-Zip) via DO, bytes "
      "1048576/4194304 for user 00000000-0000-0000-0000-000000000000",
      "ofbytes", "4194304",
      "[StatusService] Downloading app (id = "
      "0f2a4c6e-8b1d-4e3f-a5b7-c9d1e3f5a7b9, name 7-Zip) via DO" },
    { "CC-APP-DOWNLOAD-ERROR",
      "[Win32App] Download failed for app, hr = 0x87D30067",
      "errorCode", "0x87D30067",
      "[Win32App] Download completed for app" },
    { "CC-APP-INSTALL-START",
      "[Win32App] Launch Win32AppInstaller in machine session",
      NULL, NULL,
      "[Win32App] Win32AppInstaller finished" },
    { "CC-APP-INSTALL-DONE",
      "[Win32App] Completed detectionManager "
      "SideCarProductCodeDetectionManager, "
      "applicationDetectedByCurrentRule: True",
      NULL, NULL,
      "[Win32App] Completed detectionManager "
      "SideCarProductCodeDetectionManager, "
      "applicationDetectedByCurrentRule: False" },
    { "CC-APP-INSTALL-ERROR",
      "[Win32App] Installation failed for the app with error 0x80070643",
      "errorCode", "0x80070643",
      "[Win32App] Installation succeeded for the app" },
    { "CC-SCRIPT-START",
      "[PowerShell] Processing policy with id = "
      "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d for user "
      "00000000-0000-0000-0000-000000000000",
      "id", "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
      "[PowerShell] Processing policies" },
    { "CC-SCRIPT-EXIT",
      "[PowerShell] Process exit code is 1",
      "exitCode", "1",
      "[PowerShell] Process exited" },
    { "CC-SCRIPT-RESULT",
      "[PowerShell] User Id = 00000000-0000-0000-0000-000000000000, "
      "Policy id = 1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d, policy result = "
      "Failed",
      "result", "Failed",
      "[PowerShell] User Id = 00000000-0000-0000-0000-000000000000, "
      "Policy id = 1a2b3c4d" },
    { "CC-ENROLLMENT-DONE",
      "[Win32App] The Enrollment Status Page has finished successfully",
      NULL, NULL,
      "[Win32App] ESP phase DeviceSetup completed" },
};

static char *
read_file(const char *path)
{
    FILE    *f;
    char    *text;
    long     len;

    f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    len = ftell(f);
    fseek(f, 0, SEEK_SET);
    text = calloc(1, (size_t) len + 1);
    if (text != NULL && fread(text, 1, (size_t) len, f) != (size_t) len) {
        free(text);
        text = NULL;
    }
    fclose(f);
    return text;
}


/* The JSON between the two $patterns$ quotes of the migration. */
static json_t *
load_default_set(void)
{
    char          *sql, *start, *end;
    json_t        *set;
    json_error_t   err;

    sql = read_file(SET_FILE);
    if (sql == NULL) {
        return NULL;
    }
    set = NULL;
    start = strstr(sql, SET_OPEN);
    end = start != NULL ? strstr(start + strlen(SET_OPEN), SET_OPEN) : NULL;
    if (end != NULL) {
        start += strlen(SET_OPEN);
        set = json_loadb(start, (size_t) (end - start), 0, &err);
        if (set == NULL) {
            diag("line %d: %s", err.line, err.text);
        }
    }
    free(sql);
    return set;
}


static const sample_t *
sample_of(const char *pattern_id)
{
    size_t  i;

    for (i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
        if (strcmp(samples[i].pattern_id, pattern_id) == 0) {
            return &samples[i];
        }
    }
    return NULL;
}


static pcre2_code *
compile(const char *pattern)
{
    int         errcode;
    PCRE2_SIZE  erroff;

    return pcre2_compile((PCRE2_SPTR) pattern, PCRE2_ZERO_TERMINATED, 0,
                         &errcode, &erroff, NULL);
}


/* Matches line; copies the named group into out (may be NULL). */
static int
match(pcre2_code *re, const char *line, const char *group, char *out,
      size_t outlen)
{
    pcre2_match_data  *md;
    PCRE2_SIZE         len;
    int                rc;

    md = pcre2_match_data_create_from_pattern(re, NULL);
    rc = pcre2_match(re, (PCRE2_SPTR) line, strlen(line), 0, 0, md, NULL);
    if (rc >= 0 && group != NULL) {
        len = outlen;
        if (pcre2_substring_copy_byname(md, (PCRE2_SPTR) group,
                                        (PCRE2_UCHAR *) out, &len) != 0)
        {
            out[0] = '\0';
        }
    }
    pcre2_match_data_free(md);
    return rc >= 0;
}


static void
check_pattern(json_t *p)
{
    const char      *id, *text, *category;
    const sample_t  *s;
    pcre2_code      *re;
    char             got[256];

    id = json_string_value(json_object_get(p, "patternId"));
    text = json_string_value(json_object_get(p, "pattern"));
    category = json_string_value(json_object_get(p, "category"));
    if (!ok(id != NULL && text != NULL, "a pattern has an id and a regex")) {
        return;
    }
    ok(category != NULL && (strcmp(category, "always") == 0
                            || strcmp(category, "currentPhase") == 0
                            || strcmp(category, "otherPhases") == 0),
       "%s: its category is one the agent knows", id);
    ok(cc_ime_action_known(json_string_value(json_object_get(p, "action"))),
       "%s: its action is one the agent knows", id);
    ok(json_is_true(json_object_get(p, "enabled"))
       && json_is_true(json_object_get(p, "isBuiltIn"))
       && json_is_string(json_object_get(p, "description")),
       "%s: enabled, built in, described", id);

    re = compile(text);
    if (!ok(re != NULL, "%s: compiles with PCRE2", id)) {
        return;
    }
    s = sample_of(id);
    if (ok(s != NULL, "%s: has a sample line in this test", id)) {
        got[0] = '\0';
        ok(match(re, s->line, s->group, got, sizeof(got)),
           "%s: matches its sample line", id);
        if (s->group != NULL) {
            is_str(got, s->value, "%s: captures %s", id, s->group);
        }
        ok(!match(re, s->miss, NULL, NULL, 0),
           "%s: does not match a near miss", id);
    }
    pcre2_code_free(re);
}


int
main(void)
{
    json_t  *set, *p, *seen;
    size_t   i;
    int      unique;

    set = load_default_set();
    if (!ok(json_is_array(set), "the default set in " SET_FILE
                                " is a JSON array")) {
        return done_testing();
    }
    ok(json_array_size(set) >= sizeof(samples) / sizeof(samples[0]),
       "it holds a pattern for every sample");

    seen = json_object();
    unique = 1;
    json_array_foreach(set, i, p) {
        const char  *id = json_string_value(json_object_get(p, "patternId"));

        if (id != NULL) {
            unique &= json_object_get(seen, id) == NULL;
            json_object_set_new(seen, id, json_true());
        }
        check_pattern(p);
    }
    ok(unique, "pattern ids are unique");
    for (i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
        ok(json_object_get(seen, samples[i].pattern_id) != NULL,
           "the sample of %s has its pattern in the set",
           samples[i].pattern_id);
    }

    /* The check itself can fail: a broken regex does not compile. */
    p = json_pack("{s:s}", "x", "(?<id>[0-9a-f");
    ok(compile(json_string_value(json_object_get(p, "x"))) == NULL,
       "an unbalanced regex does not compile (the check can fail)");
    json_decref(p);
    json_decref(seen);
    json_decref(set);
    return done_testing();
}
