/*
 * Unit tests of workers/common/cc_log: the line format, levels and the
 * fields a caller cannot override.
 */

#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "cc_log.h"


static int
matches(const char *text, const char *re)
{
    regex_t  rx;
    int      rc;

    if (regcomp(&rx, re, REG_EXTENDED | REG_NOSUB) != 0) {
        return 0;
    }
    rc = regexec(&rx, text, 0, NULL, 0);
    regfree(&rx);
    return rc == 0;
}


int
main(void)
{
    char    ts[32];
    char   *line;
    json_t *j;

    cc_log_init("cc-test", CC_LOG_WARN, 0);

    cc_log_timestamp(ts, sizeof(ts));
    ok(matches(ts, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}"
                   "\\.[0-9]{3}Z$"), "timestamps are UTC with milliseconds");

    line = cc_log_format(CC_LOG_INFO, "hello", NULL);
    ok(matches(line, "^\\{\"ts\":\"[^\"]+\",\"level\":\"info\","
                     "\"svc\":\"cc-test\",\"msg\":\"hello\"\\}$"),
       "a line is ts, level, svc, msg in that order");
    free(line);

    j = json_pack("{s:i,s:s}", "job_id", 7, "level", "debug");
    line = cc_log_format(CC_LOG_ERROR, "x", j);
    json_decref(j);
    ok(strstr(line, "\"job_id\":7") != NULL, "extra fields are added");
    ok(strstr(line, "\"level\":\"error\"") != NULL
       && strstr(line, "\"level\":\"debug\"") == NULL,
       "a field cannot overwrite the level");
    free(line);

    line = cc_log_format(CC_LOG_WARN, "quote \" and \n newline", NULL);
    ok(strchr(line, '\n') == NULL, "a message cannot break the line");
    free(line);

    is_int(cc_log_level_from_name("debug"), CC_LOG_DEBUG, "debug parses");
    is_int(cc_log_level_from_name("error"), CC_LOG_ERROR, "error parses");
    is_int(cc_log_level_from_name("warning"), -1, "warning is not a level");
    is_str(cc_log_level_name(CC_LOG_WARN), "warn", "warn is named warn");

    ok(!cc_log_enabled(CC_LOG_INFO), "info is filtered at level warn");
    ok(cc_log_enabled(CC_LOG_WARN), "warn passes at level warn");
    ok(cc_log_enabled(CC_LOG_ERROR), "error passes at level warn");
    is_int(cc_log_pii(), 0, "personal data is off as configured");

    return done_testing();
}
