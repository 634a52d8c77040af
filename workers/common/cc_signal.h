/*
 * Shutdown on SIGTERM/SIGINT through a self-pipe: the handler only writes a
 * byte; the main loop polls the pipe and does the work outside the handler.
 */

#ifndef CC_SIGNAL_H
#define CC_SIGNAL_H

/* Installs the handlers and ignores SIGPIPE.  Returns -1 on failure. */
int cc_signal_init(void);

/* The read end of the pipe: readable once shutdown was requested. */
int cc_signal_fd(void);

/* True once SIGTERM or SIGINT arrived (or cc_signal_request() ran). */
int cc_signal_shutdown_requested(void);

/* Requests shutdown from inside the process (e.g. a fatal error). */
void cc_signal_request(void);

/* Blocks until shutdown is requested. */
void cc_signal_wait(void);

#endif /* CC_SIGNAL_H */
