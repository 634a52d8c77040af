/*
 * Binding the unix socket a worker listens on.
 */

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cc_listen.h"


#define CC_LISTEN_BACKLOG  512


static int
fill_address(struct sockaddr_un *sa, const char *path)
{
    if (strlen(path) >= sizeof(sa->sun_path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memset(sa, 0, sizeof(*sa));
    sa->sun_family = AF_UNIX;
    strcpy(sa->sun_path, path);
    return 0;
}


/* True when a process accepts connections on the socket at path. */
static int
socket_is_live(const struct sockaddr_un *sa)
{
    int  fd, live;

    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return 0;
    }
    live = (connect(fd, (const struct sockaddr *) sa, sizeof(*sa)) == 0);
    close(fd);
    return live;
}


static int
remove_stale(const struct sockaddr_un *sa)
{
    struct stat  st;

    if (lstat(sa->sun_path, &st) != 0) {
        return (errno == ENOENT) ? 0 : -1;
    }
    if (!S_ISSOCK(st.st_mode)) {
        errno = EEXIST;
        return -1;
    }
    if (socket_is_live(sa)) {
        errno = EADDRINUSE;
        return -1;
    }
    return unlink(sa->sun_path);
}


int
cc_listen_unix(const char *path)
{
    struct sockaddr_un  sa;
    int                 fd, saved;

    if (fill_address(&sa, path) != 0 || remove_stale(&sa) != 0) {
        return -1;
    }

    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -1;
    }
    if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) != 0
        || chmod(path, 0666) != 0
        || listen(fd, CC_LISTEN_BACKLOG) != 0)
    {
        saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}
