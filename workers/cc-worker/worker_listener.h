/*
 * The worker's LISTEN cc_jobs connection, which turns "a job became ready"
 * into a wake-up instead of a poll.
 */

#ifndef WORKER_LISTENER_H
#define WORKER_LISTENER_H

#include <libpq-fe.h>

typedef struct worker_listener {
    const char  *conninfo;
    PGconn      *conn;          /* NULL while disconnected */
    volatile int up;            /* read by /healthz from other threads */
} worker_listener_t;

/* Connects and LISTENs if not connected; 0 when listening. */
int worker_listener_ensure(worker_listener_t *l);

/*
 * Waits up to timeout_ms for a notification or for stop_fd to become
 * readable.  Returns 1 when notified, 0 on timeout or stop, -1 when the
 * connection broke (it is then closed and re-made on the next ensure).
 * Without a connection it just sleeps on stop_fd.
 */
int worker_listener_wait(worker_listener_t *l, int timeout_ms, int stop_fd);

/* Reads and discards notifications already received. */
void worker_listener_drain(worker_listener_t *l);

void worker_listener_close(worker_listener_t *l);

#endif /* WORKER_LISTENER_H */
