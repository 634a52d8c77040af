/*
 * Unit tests of workers/common/cc_route: literal and {param} segments,
 * strictness about slashes, and the Allow list of a 405.
 */

#include <string.h>

#include "tap.h"
#include "cc_route.h"


static void h_get(struct cc_request *req, struct cc_reply *rep) { }
static void h_post(struct cc_request *req, struct cc_reply *rep) { }
static void h_item(struct cc_request *req, struct cc_reply *rep) { }

static const cc_route_t  routes[] = {
    { "GET",    "/api/health",                  h_get },
    { "POST",   "/api/jobs",                    h_post },
    { "GET",    "/api/jobs/{id}",               h_item },
    { "DELETE", "/api/jobs/{id}",               h_item },
    { "GET",    "/api/tenants/{tid}/jobs/{id}", h_item },
};

#define NROUTES  (sizeof(routes) / sizeof(routes[0]))


static cc_route_result_t
find(const char *method, const char *path, cc_route_match_t *m)
{
    return cc_route_find(routes, NROUTES, method, path, m);
}


int
main(void)
{
    cc_route_match_t  m;
    char              long_path[300];

    is_int(find("GET", "/api/health", &m), CC_ROUTE_FOUND,
           "a literal path matches");
    ok(m.route == &routes[0], "the right route is chosen");

    is_int(find("GET", "/api/jobs/42", &m), CC_ROUTE_FOUND,
           "a {param} segment matches");
    ok(m.route == &routes[2], "GET picks the GET route of the pattern");
    is_str(cc_route_param(&m, "id"), "42", "the parameter is captured");
    ok(cc_route_param(&m, "nope") == NULL, "an absent parameter is NULL");

    is_int(find("DELETE", "/api/jobs/42", &m), CC_ROUTE_FOUND,
           "the same pattern matches another method");
    ok(m.route == &routes[3], "DELETE picks the DELETE route");

    is_int(find("GET", "/api/tenants/t1/jobs/9", &m), CC_ROUTE_FOUND,
           "two parameters match");
    is_str(cc_route_param(&m, "tid"), "t1", "first parameter captured");
    is_str(cc_route_param(&m, "id"), "9", "second parameter captured");

    is_int(find("GET", "/api/jobs/", &m), CC_ROUTE_NOT_FOUND,
           "an empty parameter does not match");
    is_int(find("GET", "/api/health/", &m), CC_ROUTE_NOT_FOUND,
           "a trailing slash does not match");
    is_int(find("GET", "/api/jobs/1/2", &m), CC_ROUTE_NOT_FOUND,
           "a parameter never spans two segments");
    is_int(find("GET", "/api//health", &m), CC_ROUTE_NOT_FOUND,
           "a doubled slash does not match");
    is_int(find("GET", "/api/healthz", &m), CC_ROUTE_NOT_FOUND,
           "a longer segment does not match");
    is_int(find("GET", "/api/healt", &m), CC_ROUTE_NOT_FOUND,
           "a shorter segment does not match");
    is_int(find("GET", "/API/health", &m), CC_ROUTE_NOT_FOUND,
           "paths are case-sensitive");
    is_int(find("GET", "", &m), CC_ROUTE_NOT_FOUND,
           "an empty path does not match");

    is_int(find("PUT", "/api/jobs/7", &m), CC_ROUTE_METHOD_NOT_ALLOWED,
           "a known path with an unknown method is 405");
    is_str(m.allow, "GET, DELETE", "Allow lists the methods of the path");
    is_int(m.nparams, 0, "a 405 captures no parameters");
    is_int(find("GET", "/api/jobs", &m), CC_ROUTE_METHOD_NOT_ALLOWED,
           "GET on a POST-only path is 405");
    is_str(m.allow, "POST", "Allow names POST");
    is_int(find("get", "/api/health", &m), CC_ROUTE_METHOD_NOT_ALLOWED,
           "methods are case-sensitive");

    memset(long_path, 'x', sizeof(long_path) - 1);
    memcpy(long_path, "/api/jobs/", 10);
    long_path[sizeof(long_path) - 1] = '\0';
    is_int(find("GET", long_path, &m), CC_ROUTE_NOT_FOUND,
           "a parameter longer than the capture buffer does not match");

    ok(cc_route_path_matches("/", "/", NULL), "the root matches itself");
    ok(!cc_route_path_matches("/a", "/", NULL), "the root is not /a");

    return done_testing();
}
