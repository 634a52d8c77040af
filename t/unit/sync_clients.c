/*
 * Unit tests of the registry sync's two HTTP clients in workers/common:
 * cc_fetch (URL joining, what of a URL may be logged, backoff, refusals
 * before any traffic) and cc_nginx (entry paths, and the exact requests it
 * sends to, and the answers it reads from, a stand-in control server on a
 * unix socket forked by this test).
 */

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>

#include "tap.h"
#include "cc_fetch.h"
#include "cc_nginx.h"


static void
test_join(void)
{
    char  out[64];

    cc_fetch_join(out, sizeof(out), "https://a.example", "b/c");
    is_str(out, "https://a.example/b/c", "base + path get one slash");
    cc_fetch_join(out, sizeof(out), "https://a.example//", "/b");
    is_str(out, "https://a.example/b", "slashes on either side collapse");
    cc_fetch_join(out, sizeof(out), "https://a.example/x/", "");
    is_str(out, "https://a.example/x/", "an empty path keeps the base");
    is_int(cc_fetch_join(out, 10, "https://a.example", "b"), -1,
           "a result that does not fit is an error");
}


static const char *
loggable(const char *url)
{
    static char  out[256];

    cc_fetch_loggable_url(url, out, sizeof(out));
    return out;
}


static void
test_loggable(void)
{
    char  small[12];

    is_str(loggable("https://login.example:4443/common/keys"),
           "https://login.example:4443/common/keys",
           "a plain URL is logged as it is");
    is_str(loggable("https://user:secret@login.example/p?code=abc&x=1#frag"),
           "https://login.example/p",
           "user-info, query string and fragment are never logged");
    is_str(loggable("https://login.example/p?sig=abc"),
           "https://login.example/p", "a SAS-like query is dropped");
    is_str(loggable("not a url at all"), "(invalid URL)",
           "what does not parse is not echoed");
    cc_fetch_loggable_url("https://login.example/long/path", small,
                          sizeof(small));
    is_int((long long) strlen(small), (long long) sizeof(small) - 1,
           "a long URL is cut to the buffer");
}


static void
test_backoff(void)
{
    is_int(cc_fetch_backoff_ms(1, 1000, 300000, -1), 1000,
           "first retry after the base delay");
    is_int(cc_fetch_backoff_ms(3, 1000, 300000, -1), 4000,
           "doubling per failure");
    is_int(cc_fetch_backoff_ms(30, 1000, 300000, -1), 300000,
           "capped at the maximum");
    is_int(cc_fetch_backoff_ms(1000000, 1000, 300000, -1), 300000,
           "even after very many failures");
    is_int(cc_fetch_backoff_ms(0, 1000, 300000, -1), 1000,
           "no failure counts as one");
    is_int(cc_fetch_backoff_ms(1, 1000, 300000, 5000), 5000,
           "a longer Retry-After wins");
    is_int(cc_fetch_backoff_ms(3, 1000, 300000, 2000), 4000,
           "a shorter Retry-After does not shorten the backoff");
    is_int(cc_fetch_backoff_ms(2, 1000, 1500, 3600000), 3600000,
           "Retry-After wins over the cap too (the caller caps it)");
    is_int(cc_fetch_backoff_ms(5, 0, 1000, -1), 0, "a zero base stays zero");
}


static void
test_fetch_refusals(void)
{
    cc_fetch_options_t  opt;
    cc_fetch_result_t   res;

    memset(&opt, 0, sizeof(opt));
    opt.connect_timeout_ms = 2000;
    opt.timeout_ms = 2000;
    opt.max_response = 65536;

    is_int(cc_fetch_json(&opt, "http://127.0.0.1:1/x", &res), -1,
           "an http:// URL is refused");
    ok(res.err == CC_FETCH_BAD_URL, "as a bad URL");
    ok(!res.retryable, "which no retry will fix");
    is_int(cc_fetch_json(&opt, NULL, &res), -1, "no URL is refused");

    is_int(cc_fetch_json(&opt, "https://127.0.0.1:1/x", &res), -1,
           "a refused connection fails");
    ok(res.err == CC_FETCH_CONNECT, "as a connection failure");
    ok(res.retryable, "which is worth retrying");
    is_int(res.retry_after_ms, -1, "without a Retry-After");
    ok(res.json == NULL, "and without a document");
    ok(strcmp(cc_fetch_strerror(CC_FETCH_TOO_LARGE), "unknown error") != 0,
       "errors have descriptions");
}


static void
test_paths(void)
{
    char  path[CC_NGINX_PATH_MAX], tiny[24];

    cc_nginx_entry_path(path, sizeof(path), "tenants",
                        "11111111-1111-4111-8111-111111111111", NULL);
    is_str(path, "/registry/tenants/11111111-1111-4111-8111-111111111111",
           "a tenant's path");
    cc_nginx_entry_path(path, sizeof(path), "devices", "t", "d");
    is_str(path, "/registry/devices/t/d", "a device's path has two ids");
    cc_nginx_entry_path(path, sizeof(path), "keys", "a/b+c d_-.~", NULL);
    is_str(path, "/registry/keys/a%2Fb%2Bc%20d_-.~",
           "a kid is percent-encoded, unreserved characters kept");
    is_int(cc_nginx_entry_path(tiny, sizeof(tiny), "keys", "abcdefghijkl",
                               NULL), -1, "a path that does not fit fails");
}


/* --- a stand-in control server --------------------------------------- */

#define JSON_TYPE  "Content-Type: application/json\r\n"

static char  sock_path[108];

/*
 * Forks a server that accepts one connection, reads one request (head and
 * Content-Length body), writes it to req_fd, answers with `answer` and
 * exits.  Returns the child's pid.
 */
static pid_t
serve_once(const char *answer, int req_fd)
{
    struct sockaddr_un  sa;
    char                buf[65536], *end, *cl;
    size_t              len, want;
    ssize_t             n;
    pid_t               pid;
    int                 lfd, fd;

    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    strcpy(sa.sun_path, sock_path);
    unlink(sock_path);
    lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (lfd < 0 || bind(lfd, (struct sockaddr *) &sa, sizeof(sa)) != 0
        || listen(lfd, 4) != 0)
    {
        perror("stand-in");
        exit(2);
    }
    pid = fork();
    if (pid != 0) {
        close(lfd);
        return pid;
    }

    fd = accept(lfd, NULL, NULL);
    len = 0;
    want = 0;
    while (len < sizeof(buf) - 1
           && (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
    {
        len += (size_t) n;
        buf[len] = '\0';
        end = strstr(buf, "\r\n\r\n");
        if (end == NULL) {
            continue;
        }
        cl = strcasestr(buf, "Content-Length:");
        want = (size_t) (end + 4 - buf) + (cl ? strtoul(cl + 15, NULL, 10)
                                              : 0);
        if (len >= want) {
            break;
        }
    }
    if (write(req_fd, buf, len) < 0 || write(fd, answer, strlen(answer)) < 0)
    {
        _exit(1);
    }
    close(fd);
    _exit(0);
}


/*
 * Runs one request against the stand-in, which answers with status (a
 * status line's code and text), headers (each ending in CRLF) and body;
 * returns what the stand-in received.
 */
static const char *
exchange(const char *status, const char *headers, const char *answer_body,
         const char *method, const char *path, json_t *body,
         cc_nginx_answer_t *ans, int *rc)
{
    static char   seen[65536];
    char          answer[4096];
    cc_nginx_t   *ngx;
    ssize_t       n;
    pid_t         pid;
    int           p[2];

    snprintf(answer, sizeof(answer), "HTTP/1.1 %s\r\n%sContent-Length: %zu"
             "\r\n\r\n%s", status, headers, strlen(answer_body),
             answer_body);
    if (pipe(p) != 0) {
        exit(2);
    }
    pid = serve_once(answer, p[1]);
    close(p[1]);
    ngx = cc_nginx_create(sock_path, 3000, NULL);
    *rc = cc_nginx_request(ngx, method, path, body, ans);
    cc_nginx_destroy(ngx);
    n = read(p[0], seen, sizeof(seen) - 1);
    seen[n > 0 ? n : 0] = '\0';
    close(p[0]);
    waitpid(pid, NULL, 0);
    return seen;
}


static void
test_requests(void)
{
    cc_nginx_answer_t   ans;
    const char         *seen;
    json_t             *body;
    int                 rc;

    body = json_pack("{s:s}", "status", "suspended");
    seen = exchange("201 Created", JSON_TYPE, "{}", "PUT",
                    "/registry/tenants/t1", body, &ans, &rc);
    json_decref(body);
    is_int(rc, 0, "a 201 answer is success");
    is_int(ans.status, 201, "with its status");
    ok(strncmp(seen, "PUT /registry/tenants/t1 HTTP/1.1\r\n", 35) == 0,
       "the request line names the method and path");
    ok(strcasestr(seen, "\r\nContent-Type: application/json\r\n") != NULL,
       "a body is sent as application/json");
    ok(strcasestr(seen, "\r\nExpect:") == NULL,
       "without Expect: 100-continue");
    ok(strstr(seen, "\r\n\r\n{\"status\":\"suspended\"}") != NULL,
       "the body is compact JSON");
    cc_nginx_answer_clear(&ans);

    seen = exchange("200 OK", JSON_TYPE,
                    "{\"generation\":7,\"sync\":{\"tag\":null}}",
                    "GET", "/registry", NULL, &ans, &rc);
    is_int(rc, 0, "GET /registry succeeds");
    is_int(json_integer_value(json_object_get(ans.json, "generation")), 7,
           "and its JSON answer is parsed");
    ok(strcasestr(seen, "Content-Type") == NULL,
       "a request without a body has no Content-Type");
    cc_nginx_answer_clear(&ans);

    exchange("422 Unprocessable Entity", JSON_TYPE,
             "{\"error\":{\"code\":\"invalid_request\",\"message\":\"bad\"}}",
             "DELETE", "/registry/keys/x", NULL, &ans, &rc);
    is_int(rc, -1, "a 4xx answer is a failure");
    is_int(ans.status, 422, "with its status");
    is_str(ans.error, "invalid_request", "and nginx's error code");
    cc_nginx_answer_clear(&ans);

    exchange("503 Service Unavailable", "", "oops", "GET", "/registry", NULL,
             &ans, &rc);
    is_int(rc, -1, "an answer that is not JSON is a failure");
    ok(ans.json == NULL, "with no JSON");
    is_str(ans.error, "unexpected status", "described by its status");
    cc_nginx_answer_clear(&ans);
}


static void
test_unreachable(void)
{
    cc_nginx_answer_t   ans;
    cc_nginx_t         *ngx;

    unlink(sock_path);
    ngx = cc_nginx_create(sock_path, 1000, NULL);
    is_int(cc_nginx_request(ngx, "GET", "/registry", NULL, &ans), -1,
           "a socket nobody listens on fails");
    is_int(ans.status, 0, "with no status");
    is_str(ans.error, "connect failed", "and says why");
    cc_nginx_answer_clear(&ans);
    cc_nginx_destroy(ngx);
}


int
main(void)
{
    snprintf(sock_path, sizeof(sock_path), "/tmp/cc-sync-clients-%ld.sock",
             (long) getpid());
    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_DEFAULT);

    test_join();
    test_loggable();
    test_backoff();
    test_fetch_refusals();
    test_paths();
    test_requests();
    test_unreachable();

    unlink(sock_path);
    curl_global_cleanup();
    return done_testing();
}
