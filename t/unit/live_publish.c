/*
 * cc_live's publisher against a small HTTP server on a unix socket that
 * holds its first answer back: what queues up meanwhile must reach the
 * server as JSON arrays, one tenant per request, in order, within the
 * batch limits, and the metrics must count messages, not requests.
 */

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "tap.h"

#include "cc_live.h"

#define TENANT_A  "11111111-1111-4111-8111-111111111111"
#define TENANT_B  "22222222-2222-4222-8222-222222222222"
#define MAX_REQUESTS  16

typedef struct {
    int              listener;
    pthread_mutex_t  lock;
    pthread_cond_t   changed;
    int              release;       /* the first answer may go */
    int              nrequests;
    char            *path[MAX_REQUESTS];
    char            *body[MAX_REQUESTS];
} server_t;

static server_t  server = { .lock = PTHREAD_MUTEX_INITIALIZER,
                            .changed = PTHREAD_COND_INITIALIZER };


/* Reads one request (headers, then Content-Length bytes); 0 or -1. */
static int
read_request(int fd, char **path, char **body)
{
    static char  buf[1 << 20];
    size_t       have = 0, want;
    char        *end, *cl;
    ssize_t      n;

    while ((end = memmem(buf, have, "\r\n\r\n", 4)) == NULL) {
        n = read(fd, buf + have, sizeof(buf) - have - 1);
        if (n <= 0) {
            return -1;
        }
        have += (size_t) n;
    }
    buf[have] = '\0';
    cl = strcasestr(buf, "Content-Length:");
    want = (size_t) (end + 4 - buf) + (cl != NULL ? strtoul(cl + 15, NULL, 10) : 0);
    while (have < want) {
        n = read(fd, buf + have, sizeof(buf) - have - 1);
        if (n <= 0) {
            return -1;
        }
        have += (size_t) n;
    }
    *path = strndup(buf + 5, strcspn(buf + 5, " "));   /* after "POST " */
    *body = strndup(end + 4, want - (size_t) (end + 4 - buf));
    return 0;
}


static void *
serve(void *arg)
{
    static const char  ok_answer[] = "HTTP/1.1 201 Created\r\n"
                                     "Content-Length: 0\r\n\r\n";
    char               *path, *body;
    int                 fd, i;

    fd = accept(server.listener, NULL, NULL);
    while (fd >= 0 && read_request(fd, &path, &body) == 0) {
        pthread_mutex_lock(&server.lock);
        i = server.nrequests;
        if (i < MAX_REQUESTS) {
            server.path[i] = path;
            server.body[i] = body;
            server.nrequests++;
        } else {
            free(path);
            free(body);
        }
        pthread_cond_broadcast(&server.changed);
        while (i == 0 && !server.release) {
            pthread_cond_wait(&server.changed, &server.lock);
        }
        pthread_mutex_unlock(&server.lock);
        if (write(fd, ok_answer, sizeof(ok_answer) - 1) < 0) {
            break;
        }
    }
    if (fd >= 0) {
        close(fd);
    }
    return NULL;
}


static void
wait_for_requests(int n)
{
    pthread_mutex_lock(&server.lock);
    while (server.nrequests < n) {
        pthread_cond_wait(&server.changed, &server.lock);
    }
    pthread_mutex_unlock(&server.lock);
}


static json_t *
message(int i)
{
    return json_pack("{s:s,s:i}", "type", "session.events", "n", i);
}


/* The value of n in each message of a JSON array body, "1,2,3". */
static void
numbers_of(const char *body, char *out, size_t size)
{
    json_t  *array = json_loads(body, 0, NULL), *m;
    size_t   i, used = 0;

    out[0] = '\0';
    if (!json_is_array(array)) {
        snprintf(out, size, "not an array: %s", body);
    }
    json_array_foreach(array, i, m) {
        used += (size_t) snprintf(out + used, size - used, "%s%lld",
                                  i > 0 ? "," : "",
                                  json_integer_value(json_object_get(m, "n")));
        if (used >= size) {
            break;
        }
    }
    json_decref(array);
}


static void
test_batches(const char *socket_path)
{
    cc_live_t  *live;
    char        numbers[1024], want[1024], *metrics = NULL;
    size_t      metrics_len = 0, used;
    FILE       *out;
    int         i;

    live = cc_live_create(socket_path, 5000);
    ok(live != NULL, "a publisher starts");

    /* The first request is held: everything published meanwhile waits. */
    cc_live_publish(live, TENANT_A, message(1));
    wait_for_requests(1);
    cc_live_publish(live, TENANT_A, message(2));
    cc_live_publish(live, TENANT_A, message(3));
    cc_live_publish(live, TENANT_B, message(4));
    cc_live_publish(live, TENANT_A, message(5));
    for (i = 6; i <= 75; i++) {
        cc_live_publish(live, TENANT_A, message(i));
    }
    pthread_mutex_lock(&server.lock);
    server.release = 1;
    pthread_cond_broadcast(&server.changed);
    pthread_mutex_unlock(&server.lock);
    wait_for_requests(5);

    /* The counts move once the last answer is read: wait for them. */
    for (i = 0; i < 500; i++) {
        free(metrics);
        metrics = NULL;
        out = open_memstream(&metrics, &metrics_len);
        cc_live_collect(out, live);
        fclose(out);
        if (strstr(metrics, "{result=\"published\"} 75\n") != NULL) {
            break;
        }
        usleep(10000);
    }
    ok(strstr(metrics, "{result=\"published\"} 75\n") != NULL
       && strstr(metrics, "{result=\"failed\"} 0\n") != NULL,
       "the metrics count 75 messages published, not 5 requests");
    free(metrics);

    is_int(server.nrequests, 5, "75 messages took 5 requests");
    numbers_of(server.body[0], numbers, sizeof(numbers));
    is_str(numbers, "1", "a message alone is an array of one");
    is_str(server.path[0], "/live/" TENANT_A, "... on its tenant's channel");
    numbers_of(server.body[1], numbers, sizeof(numbers));
    is_str(numbers, "2,3", "the messages waiting together for one tenant "
           "go in one array, in order");
    numbers_of(server.body[2], numbers, sizeof(numbers));
    is_str(numbers, "4", "another tenant's message ends the array");
    is_str(server.path[2], "/live/" TENANT_B, "... and goes to its channel");
    numbers_of(server.body[3], numbers, sizeof(numbers));
    used = 0;
    for (i = 5; i < 5 + 64; i++) {
        used += (size_t) snprintf(want + used, sizeof(want) - used, "%s%d",
                                  i > 5 ? "," : "", i);
    }
    is_str(numbers, want, "an array holds at most 64 messages");
    numbers_of(server.body[4], numbers, sizeof(numbers));
    is_str(numbers, "69,70,71,72,73,74,75",
           "... and the rest follow in the next, none lost");
    cc_live_destroy(live);
}


int
main(void)
{
    struct sockaddr_un  addr = { .sun_family = AF_UNIX };
    char                dir[] = "/tmp/cc-live-test-XXXXXX";
    pthread_t           thread;
    int                 i;

    if (mkdtemp(dir) == NULL) {
        return 1;
    }
    snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/nginx.sock", dir);
    server.listener = socket(AF_UNIX, SOCK_STREAM, 0);
    if (server.listener < 0
        || bind(server.listener, (struct sockaddr *) &addr, sizeof(addr)) != 0
        || listen(server.listener, 4) != 0
        || pthread_create(&thread, NULL, serve, NULL) != 0)
    {
        return 1;
    }

    test_batches(addr.sun_path);

    shutdown(server.listener, SHUT_RDWR);
    close(server.listener);
    pthread_join(thread, NULL);
    unlink(addr.sun_path);
    rmdir(dir);
    for (i = 0; i < server.nrequests && i < MAX_REQUESTS; i++) {
        free(server.path[i]);
        free(server.body[i]);
    }
    return done_testing();
}
