/* The TAP backend (`--net tap,ifname=X`): frames go to and come from a
 * Linux tap interface, for users who can create one (root or
 * CAP_NET_ADMIN).  The interface is set up (addresses, bridge) by the user;
 * minus1 only attaches to it. */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "../loop.h"
#include "net.h"

/* Frames read per readiness callback: bounded so a flood from the host
 * cannot starve the rest of the loop (epoll reports the fd again). */
#define TAP_READ_BURST 64

struct tap_net {
    int fd;
    char ifname[IFNAMSIZ];
    struct net_port *port;
    struct loop *loop;
    struct ratelimit rl;
};

static void tap_send(void *opaque, const uint8_t *frame, size_t len)
{
    struct tap_net *t = opaque;
    ssize_t n = write(t->fd, frame, len);
    if (n != (ssize_t)len) {
        /* A full tap queue behaves like a busy wire: the frame is lost. */
        net_port_count_tx_drop(t->port);
        if (n < 0 && errno != EAGAIN)
            log_guest(net_port_logger(t->port), &t->rl, LOG_WARN, "tap %s: write: %s",
                      t->ifname, strerror(errno));
    }
}

static void tap_readable(void *opaque, uint32_t events)
{
    struct tap_net *t = opaque;
    uint8_t buf[NET_MAX_FRAME + 64];
    (void)events;
    for (int i = 0; i < TAP_READ_BURST; i++) {
        ssize_t n = read(t->fd, buf, sizeof(buf));
        if (n <= 0)
            break;
        /* Oversize frames are counted and dropped by the port. */
        net_port_deliver(t->port, buf, (size_t)n);
    }
}

static void tap_info(void *opaque, char *buf, size_t len)
{
    struct tap_net *t = opaque;
    snprintf(buf, len, "(%s)", t->ifname);
}

static void tap_destroy(void *opaque)
{
    struct tap_net *t = opaque;
    loop_del_fd(t->loop, t->fd);
    close(t->fd);
    free(t);
}

static const struct net_backend_ops tap_ops = {
    .name = "tap",
    .send = tap_send,
    .info = tap_info,
    .destroy = tap_destroy,
};

int net_tap_create(struct net_port *p, struct loop *loop, const char *ifname, char *err,
                   size_t errlen)
{
    if (!ifname || !ifname[0] || strlen(ifname) >= IFNAMSIZ) {
        snprintf(err, errlen, "--net tap: interface name must be 1-%d characters",
                 IFNAMSIZ - 1);
        return -1;
    }
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "--net tap: cannot open /dev/net/tun: %s", strerror(errno));
        return -1;
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    memcpy(ifr.ifr_name, ifname, strlen(ifname));
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        snprintf(err, errlen, "--net tap: cannot attach to '%s': %s", ifname, strerror(errno));
        close(fd);
        return -1;
    }
    struct tap_net *t = calloc(1, sizeof(*t));
    if (!t) {
        close(fd);
        snprintf(err, errlen, "--net tap: out of memory");
        return -1;
    }
    t->fd = fd;
    t->port = p;
    t->loop = loop;
    memcpy(t->ifname, ifr.ifr_name, IFNAMSIZ - 1);
    if (loop_add_fd(loop, fd, EPOLLIN, tap_readable, t) < 0) {
        snprintf(err, errlen, "--net tap: cannot watch '%s'", ifname);
        close(fd);
        free(t);
        return -1;
    }
    net_port_set_backend(p, &tap_ops, t);
    return 0;
}
