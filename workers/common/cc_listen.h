/*
 * The listening unix socket a worker serves on, created so that nginx can
 * connect and a stale socket left by a crash does not block a restart.
 */

#ifndef CC_LISTEN_H
#define CC_LISTEN_H

/*
 * Binds and listens on path, chmod 0666: who may connect is decided by the
 * permissions of the directory holding the socket, which only nginx and
 * the workers may enter.  A leftover socket nobody answers on is replaced;
 * one a live process answers on is an error.  Returns the fd, or -1 with
 * errno set.
 */
int cc_listen_unix(const char *path);

#endif /* CC_LISTEN_H */
