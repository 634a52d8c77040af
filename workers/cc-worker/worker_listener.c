/*
 * LISTEN/NOTIFY for idle workers: a dedicated connection (never a pooled
 * one, which would lose its LISTEN when handed to someone else).
 */

#include <errno.h>
#include <poll.h>
#include <stdlib.h>

#include "cc_db.h"
#include "cc_log.h"
#include "worker_listener.h"


static void
drop_connection(worker_listener_t *l)
{
    if (l->conn != NULL) {
        PQfinish(l->conn);
        l->conn = NULL;
    }
    l->up = 0;
}


int
worker_listener_ensure(worker_listener_t *l)
{
    if (l->conn != NULL && PQstatus(l->conn) == CONNECTION_OK) {
        return 0;
    }
    drop_connection(l);

    l->conn = cc_db_connect(l->conninfo, "cc-worker listen");
    if (l->conn == NULL) {
        return -1;
    }
    if (cc_db_command(l->conn, "LISTEN cc_jobs", 0, NULL) != 0) {
        drop_connection(l);
        return -1;
    }
    l->up = 1;
    cc_log(CC_LOG_INFO, "listening for job notifications");
    return 0;
}


/* Consumes input and frees any notifications; -1 if the link broke. */
static int
consume(worker_listener_t *l)
{
    PGnotify  *n;
    int        got;

    if (PQconsumeInput(l->conn) == 0) {
        cc_log(CC_LOG_WARN, "job notification connection lost");
        drop_connection(l);
        return -1;
    }
    got = 0;
    while ((n = PQnotifies(l->conn)) != NULL) {
        got = 1;
        PQfreemem(n);
    }
    return got;
}


void
worker_listener_drain(worker_listener_t *l)
{
    if (l->conn != NULL) {
        consume(l);
    }
}


int
worker_listener_wait(worker_listener_t *l, int timeout_ms, int stop_fd)
{
    struct pollfd  pfd[2];
    int            n, rc;

    pfd[0].fd = stop_fd;
    pfd[0].events = POLLIN;
    pfd[1].fd = l->conn ? PQsocket(l->conn) : -1;
    pfd[1].events = POLLIN;
    n = (pfd[1].fd >= 0) ? 2 : 1;

    rc = poll(pfd, n, timeout_ms);
    if (rc <= 0) {
        return 0;       /* timeout, or EINTR from a signal: look again */
    }
    if (n == 2 && (pfd[1].revents & (POLLIN | POLLHUP | POLLERR))) {
        return consume(l);
    }
    return 0;
}


void
worker_listener_close(worker_listener_t *l)
{
    drop_connection(l);
}
