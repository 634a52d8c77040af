/*
 * Process metrics in the Prometheus text format (version 0.0.4): HTTP
 * requests by status class and a request-duration histogram, plus whatever
 * the process adds through collectors (pool gauges, job counters).
 */

#ifndef CC_METRICS_H
#define CC_METRICS_H

#include <stdio.h>

/* Writes extra metric families to out; called under no lock of ours. */
typedef void (*cc_metrics_collector_pt)(FILE *out, void *arg);

/* Resets the counters; svc becomes a label of every series. */
void cc_metrics_init(const char *svc);

/* Counts one finished request. */
void cc_metrics_observe_request(int status, double seconds);

/* Adds a collector (at most 8). */
int cc_metrics_add_collector(cc_metrics_collector_pt fn, void *arg);

/* Renders every family; the caller frees the text. */
char *cc_metrics_render(void);

/* A helper for collectors: one family with a single value. */
void cc_metrics_write(FILE *out, const char *name, const char *type,
                      const char *help, double value);

#endif /* CC_METRICS_H */
