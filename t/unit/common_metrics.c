/*
 * Unit tests of workers/common/cc_metrics: status classes, the cumulative
 * histogram, and collectors.
 */

#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "cc_metrics.h"


static int  collected;


static void
collect(FILE *out, void *arg)
{
    collected++;
    cc_metrics_write(out, "cc_test_gauge", "gauge", "A test gauge.",
                     *(int *) arg);
}


static int
has(const char *text, const char *line)
{
    return strstr(text, line) != NULL;
}


int
main(void)
{
    char  *text;
    int    value = 3;

    cc_metrics_init("cc-test");
    cc_metrics_observe_request(200, 0.001);
    cc_metrics_observe_request(204, 0.02);
    cc_metrics_observe_request(404, 0.3);
    cc_metrics_observe_request(503, 20);
    cc_metrics_add_collector(collect, &value);

    text = cc_metrics_render();
    ok(text != NULL, "metrics render");
    ok(has(text, "cc_http_requests_total{svc=\"cc-test\",class=\"2xx\"} 2\n"),
       "2xx counted twice");
    ok(has(text, "cc_http_requests_total{svc=\"cc-test\",class=\"4xx\"} 1\n"),
       "4xx counted once");
    ok(has(text, "cc_http_requests_total{svc=\"cc-test\",class=\"3xx\"} 0\n"),
       "classes without requests show 0");
    ok(has(text, "cc_http_request_duration_seconds_bucket"
                 "{svc=\"cc-test\",le=\"0.005\"} 1\n"),
       "the smallest bucket holds the fast request");
    ok(has(text, "cc_http_request_duration_seconds_bucket"
                 "{svc=\"cc-test\",le=\"0.5\"} 3\n"),
       "buckets are cumulative");
    ok(has(text, "cc_http_request_duration_seconds_bucket"
                 "{svc=\"cc-test\",le=\"+Inf\"} 4\n"),
       "+Inf holds every request");
    ok(has(text, "cc_http_request_duration_seconds_count{svc=\"cc-test\"} 4\n"),
       "count matches");
    ok(has(text, "# TYPE cc_http_request_duration_seconds histogram\n"),
       "the duration is typed a histogram");
    ok(has(text, "cc_test_gauge 3\n"), "collector output included");
    is_int(collected, 1, "collector called once per render");
    free(text);

    cc_metrics_init("cc-test");
    text = cc_metrics_render();
    ok(has(text, "cc_http_requests_total{svc=\"cc-test\",class=\"2xx\"} 0\n"),
       "init resets the counters");
    ok(!has(text, "cc_test_gauge"), "init forgets collectors");
    free(text);

    return done_testing();
}
