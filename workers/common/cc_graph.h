/*
 * Microsoft Graph's names.  A Graph request is cc_fetch_json_bearer()
 * with an app-only token for CC_GRAPH_SCOPE; its URL's query (which may
 * hold personal data such as a serial number in a $filter) only ever
 * appears through cc_fetch_loggable_url().
 */

#ifndef CC_GRAPH_H
#define CC_GRAPH_H

/* Graph's resource identifier: app-only tokens ask for
 * CC_GRAPH_RESOURCE "/.default", whatever URL Graph is reached at. */
#define CC_GRAPH_RESOURCE  "https://graph.microsoft.com"
#define CC_GRAPH_SCOPE     CC_GRAPH_RESOURCE "/.default"

#endif /* CC_GRAPH_H */
