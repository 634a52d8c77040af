/*
 * The route table of a worker: method plus a path pattern whose segments
 * are literal or a {name} parameter, matched against a request's path.
 */

#ifndef CC_ROUTE_H
#define CC_ROUTE_H

#include <stddef.h>

#define CC_ROUTE_MAX_PARAMS  4
#define CC_ROUTE_PARAM_LEN   128
#define CC_ROUTE_ALLOW_LEN   64

struct cc_request;
struct cc_reply;

typedef void (*cc_handler_pt)(struct cc_request *req, struct cc_reply *rep);

typedef struct cc_route {
    const char     *method;     /* "GET", "POST", ... */
    const char     *pattern;    /* "/api/jobs/{id}" */
    cc_handler_pt   handler;
} cc_route_t;

typedef struct cc_route_param {
    char  name[32];
    char  value[CC_ROUTE_PARAM_LEN];
} cc_route_param_t;

typedef struct cc_route_match {
    const cc_route_t  *route;
    int                nparams;
    cc_route_param_t   params[CC_ROUTE_MAX_PARAMS];
    char               allow[CC_ROUTE_ALLOW_LEN];    /* for a 405 */
} cc_route_match_t;

typedef enum {
    CC_ROUTE_FOUND = 0,
    CC_ROUTE_NOT_FOUND,
    CC_ROUTE_METHOD_NOT_ALLOWED
} cc_route_result_t;

/*
 * Finds the route for method and path in a table of n routes.  When the
 * path matches but the method does not, m->allow lists the methods that
 * would have matched ("GET, POST").
 */
cc_route_result_t cc_route_find(const cc_route_t *table, size_t n,
                                const char *method, const char *path,
                                cc_route_match_t *m);

/* True when pattern matches path; fills params of m (which may be NULL). */
int cc_route_path_matches(const char *pattern, const char *path,
                          cc_route_match_t *m);

/* The value of parameter name, or NULL. */
const char *cc_route_param(const cc_route_match_t *m, const char *name);

#endif /* CC_ROUTE_H */
