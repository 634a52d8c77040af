/*
 * libFuzzer target for the workers' route matching (workers/common/
 * cc_route.c), which every request path from outside goes through.  Input:
 * "METHOD\nPATH".  Beyond not crashing, a match must hand out parameters
 * that are non-empty, hold no '/', are NUL-terminated and fit their buffer.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cc_route.h"


static void handler(struct cc_request *req, struct cc_reply *rep) { }

static const cc_route_t  routes[] = {
    { "GET",    "/api/health",                     handler },
    { "POST",   "/api/jobs",                       handler },
    { "GET",    "/api/jobs/{id}",                  handler },
    { "GET",    "/api/tenants/{tid}/sessions/{sid}", handler },
    { "DELETE", "/api/tenants/{tid}/sessions/{sid}", handler },
    { "GET",    "/healthz",                        handler },
};


static void
check_params(const cc_route_match_t *m)
{
    int  i;

    if (m->nparams < 0 || m->nparams > CC_ROUTE_MAX_PARAMS) {
        abort();
    }
    for (i = 0; i < m->nparams; i++) {
        const char  *v = m->params[i].value;
        size_t       len = strnlen(v, CC_ROUTE_PARAM_LEN);

        if (len == 0 || len == CC_ROUTE_PARAM_LEN || strchr(v, '/') != NULL) {
            abort();
        }
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char              *buf, *path;
    cc_route_match_t   m;
    cc_route_result_t  r;

    buf = malloc(size + 1);
    if (buf == NULL) {
        return 0;
    }
    memcpy(buf, data, size);
    buf[size] = '\0';

    path = strchr(buf, '\n');
    if (path != NULL) {
        *path++ = '\0';

        memset(&m, 0, sizeof(m));
        r = cc_route_find(routes, sizeof(routes) / sizeof(routes[0]),
                          buf, path, &m);
        if (r == CC_ROUTE_FOUND) {
            check_params(&m);
        } else if (r == CC_ROUTE_METHOD_NOT_ALLOWED
                   && strnlen(m.allow, CC_ROUTE_ALLOW_LEN) == CC_ROUTE_ALLOW_LEN)
        {
            abort();
        }
    }

    free(buf);
    return 0;
}
