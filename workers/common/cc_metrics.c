/*
 * The counters behind /metrics, updated by every request thread under one
 * mutex and rendered as Prometheus text.
 */

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cc_metrics.h"


#define CC_METRICS_MAX_COLLECTORS  8

static const double  cc_buckets[] = {
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10
};

#define CC_NBUCKETS  (sizeof(cc_buckets) / sizeof(cc_buckets[0]))

static pthread_mutex_t  cc_metrics_lock = PTHREAD_MUTEX_INITIALIZER;

static struct {
    const char               *svc;
    unsigned long long        by_class[6];      /* index = status / 100 */
    unsigned long long        bucket[CC_NBUCKETS];
    unsigned long long        count;
    double                    sum;
    int                       ncollectors;
    cc_metrics_collector_pt   collector[CC_METRICS_MAX_COLLECTORS];
    void                     *collector_arg[CC_METRICS_MAX_COLLECTORS];
} cc_m = { "cc", { 0 }, { 0 }, 0, 0, 0, { 0 }, { 0 } };


void
cc_metrics_init(const char *svc)
{
    pthread_mutex_lock(&cc_metrics_lock);
    memset(&cc_m, 0, sizeof(cc_m));
    cc_m.svc = svc;
    pthread_mutex_unlock(&cc_metrics_lock);
}


void
cc_metrics_observe_request(int status, double seconds)
{
    size_t  i;
    int     cls;

    cls = status / 100;
    if (cls < 1 || cls > 5) {
        cls = 5;
    }

    pthread_mutex_lock(&cc_metrics_lock);
    cc_m.by_class[cls]++;
    cc_m.count++;
    cc_m.sum += seconds;
    for (i = 0; i < CC_NBUCKETS; i++) {
        if (seconds <= cc_buckets[i]) {
            cc_m.bucket[i]++;
        }
    }
    pthread_mutex_unlock(&cc_metrics_lock);
}


int
cc_metrics_add_collector(cc_metrics_collector_pt fn, void *arg)
{
    int  rc;

    rc = -1;
    pthread_mutex_lock(&cc_metrics_lock);
    if (cc_m.ncollectors < CC_METRICS_MAX_COLLECTORS) {
        cc_m.collector[cc_m.ncollectors] = fn;
        cc_m.collector_arg[cc_m.ncollectors] = arg;
        cc_m.ncollectors++;
        rc = 0;
    }
    pthread_mutex_unlock(&cc_metrics_lock);
    return rc;
}


void
cc_metrics_write(FILE *out, const char *name, const char *type,
                 const char *help, double value)
{
    fprintf(out, "# HELP %s %s\n# TYPE %s %s\n%s %.17g\n",
            name, help, name, type, name, value);
}


static void
write_requests(FILE *out)
{
    int  cls;

    fprintf(out, "# HELP cc_http_requests_total HTTP requests answered, "
            "by status class.\n# TYPE cc_http_requests_total counter\n");
    for (cls = 1; cls <= 5; cls++) {
        fprintf(out, "cc_http_requests_total{svc=\"%s\",class=\"%dxx\"} "
                "%llu\n", cc_m.svc, cls, cc_m.by_class[cls]);
    }
}


static void
write_durations(FILE *out)
{
    size_t  i;

    fprintf(out, "# HELP cc_http_request_duration_seconds Time from the "
            "request line to the response.\n"
            "# TYPE cc_http_request_duration_seconds histogram\n");
    for (i = 0; i < CC_NBUCKETS; i++) {
        fprintf(out, "cc_http_request_duration_seconds_bucket"
                "{svc=\"%s\",le=\"%g\"} %llu\n",
                cc_m.svc, cc_buckets[i], cc_m.bucket[i]);
    }
    fprintf(out, "cc_http_request_duration_seconds_bucket"
            "{svc=\"%s\",le=\"+Inf\"} %llu\n", cc_m.svc, cc_m.count);
    fprintf(out, "cc_http_request_duration_seconds_sum{svc=\"%s\"} %.6f\n",
            cc_m.svc, cc_m.sum);
    fprintf(out, "cc_http_request_duration_seconds_count{svc=\"%s\"} %llu\n",
            cc_m.svc, cc_m.count);
}


char *
cc_metrics_render(void)
{
    FILE                     *out;
    char                     *text;
    size_t                    len;
    int                       i, n;
    cc_metrics_collector_pt   fn[CC_METRICS_MAX_COLLECTORS];
    void                     *arg[CC_METRICS_MAX_COLLECTORS];

    out = open_memstream(&text, &len);
    if (out == NULL) {
        return NULL;
    }

    pthread_mutex_lock(&cc_metrics_lock);
    write_requests(out);
    write_durations(out);
    n = cc_m.ncollectors;
    memcpy(fn, cc_m.collector, sizeof(fn));
    memcpy(arg, cc_m.collector_arg, sizeof(arg));
    pthread_mutex_unlock(&cc_metrics_lock);

    /* Collectors take their own locks; calling them under ours would
     * order locks differently in different threads. */
    for (i = 0; i < n; i++) {
        fn[i](out, arg[i]);
    }

    if (fclose(out) != 0) {
        free(text);
        return NULL;
    }
    return text;
}
