/*
 * A GET against Microsoft Graph with an app-only bearer token: the same
 * bounds and answers as cc_fetch.h (https only, no redirects, time and
 * size limits, Retry-After handed back), plus the Authorization header.
 * The token never reaches a log; the URL's query (which may hold personal
 * data such as a serial number in a $filter) only ever appears through
 * cc_fetch_loggable_url().
 */

#ifndef CC_GRAPH_H
#define CC_GRAPH_H

#include "cc_fetch.h"

/* Graph's resource identifier: app-only tokens ask for
 * CC_GRAPH_RESOURCE "/.default", whatever URL Graph is reached at. */
#define CC_GRAPH_RESOURCE  "https://graph.microsoft.com"
#define CC_GRAPH_SCOPE     CC_GRAPH_RESOURCE "/.default"

/*
 * GETs url with "Authorization: Bearer token" and parses the answer as a
 * JSON object, as cc_fetch_json() does: 0 with res->json, or -1 with
 * res->err, res->status and res->retryable.
 */
int cc_graph_get(const cc_fetch_options_t *opt, const char *url,
                 const char *token, cc_fetch_result_t *res);

#endif /* CC_GRAPH_H */
