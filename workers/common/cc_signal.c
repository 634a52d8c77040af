/*
 * The self-pipe that turns SIGTERM/SIGINT into something a poll() loop can
 * wait on, so no real work ever runs inside a signal handler.
 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "cc_signal.h"


static int                    cc_signal_pipe[2] = { -1, -1 };
static volatile sig_atomic_t  cc_signal_stop;


static void
on_signal(int signo)
{
    int  saved;

    saved = errno;
    cc_signal_stop = 1;
    /* A full pipe already says the same thing, so a failed write is fine. */
    if (write(cc_signal_pipe[1], "x", 1) < 0) {
        /* nothing */
    }
    errno = saved;
}


static int
set_flags(int fd)
{
    int  fl;

    fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
        return -1;
    }
    return fcntl(fd, F_SETFD, FD_CLOEXEC);
}


int
cc_signal_init(void)
{
    struct sigaction  sa;

    if (pipe(cc_signal_pipe) != 0
        || set_flags(cc_signal_pipe[0]) != 0
        || set_flags(cc_signal_pipe[1]) != 0)
    {
        return -1;
    }

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    if (sigaction(SIGTERM, &sa, NULL) != 0
        || sigaction(SIGINT, &sa, NULL) != 0)
    {
        return -1;
    }

    /* A peer that hangs up must cost a write error, not the process. */
    sa.sa_handler = SIG_IGN;
    return sigaction(SIGPIPE, &sa, NULL);
}


int
cc_signal_fd(void)
{
    return cc_signal_pipe[0];
}


int
cc_signal_shutdown_requested(void)
{
    return cc_signal_stop;
}


void
cc_signal_request(void)
{
    on_signal(SIGTERM);
}


void
cc_signal_wait(void)
{
    struct pollfd  pfd;

    pfd.fd = cc_signal_pipe[0];
    pfd.events = POLLIN;
    while (!cc_signal_stop) {
        if (poll(&pfd, 1, 1000) < 0 && errno != EINTR) {
            break;
        }
    }
}
