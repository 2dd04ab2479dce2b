/* User networking with libslirp, driven by the event loop.
 *
 * libslirp wants a poll() loop: before sleeping it lists its sockets
 * (slirp_pollfds_fill), after waking it is told which are ready
 * (slirp_pollfds_poll).  Our loop is epoll-based, so after every slirp
 * activity we reconcile slirp's current socket list with the fds
 * registered on the loop, and when one fires we do a zero-timeout poll()
 * over the list and hand the result to slirp.  slirp's own timers and the
 * timeout it asks for become vtimers.  Every libslirp call happens on the
 * loop thread with the machine lock held: frames the guest transmits (on
 * the vCPU thread) are queued and flushed by a timer due at once. */
#include <errno.h>
#include <poll.h>
#include <slirp/libslirp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../loop.h"
#include "../vclock.h"
#include "net.h"

#define SLIRP_MAX_FDS 48
#define SLIRP_TXQ 64
#define SLIRP_FALLBACK_POLL_NS 2000000ull   /* when the loop's fd table is full */

struct slirp_tx {
    uint16_t len;
    uint8_t data[NET_MAX_FRAME + 4];
};

struct user_net {
    Slirp *slirp;
    struct net_port *port;
    struct loop *loop;
    struct vclock *clock;
    const struct logger *log;
    struct ratelimit rl;

    /* The poll list slirp gave in the last fill. */
    struct pollfd pfds[SLIRP_MAX_FDS];
    unsigned npfds;
    bool overflow;              /* slirp had more fds than we track */
    /* What is registered on the loop. */
    struct { int fd; uint32_t events; } reg[SLIRP_MAX_FDS];
    unsigned nreg;
    bool loop_full;             /* some fd could not be registered: poll by timer */

    struct vtimer poll_timer;

    struct slirp_tx txq[SLIRP_TXQ];
    unsigned tx_head, tx_count;
    unsigned nhostfwd;
};

struct user_timer {
    struct vtimer t;
    struct user_net *u;
    SlirpTimerId id;
    void *cb_opaque;
};

/* ---- slirp callbacks -------------------------------------------------- */

static ssize_t cb_send_packet(const void *buf, size_t len, void *opaque)
{
    struct user_net *u = opaque;
    /* slirp does not pad: on a real wire the sender pads to the minimum. */
    if (len < NET_MIN_FRAME) {
        uint8_t pad[NET_MIN_FRAME] = { 0 };
        memcpy(pad, buf, len);
        net_port_deliver(u->port, pad, NET_MIN_FRAME);
    } else {
        net_port_deliver(u->port, buf, len);
    }
    return (ssize_t)len;
}

static void cb_guest_error(const char *msg, void *opaque)
{
    struct user_net *u = opaque;
    guest_error(u->log, &u->rl, "slirp: %s", msg);
}

static int64_t cb_clock_get_ns(void *opaque)
{
    struct user_net *u = opaque;
    return (int64_t)vclock_ns(u->clock);
}

static void timer_fire(void *opaque)
{
    struct user_timer *t = opaque;
    slirp_handle_timer(t->u->slirp, t->id, t->cb_opaque);
}

static void *cb_timer_new_opaque(SlirpTimerId id, void *cb_opaque, void *opaque)
{
    struct user_net *u = opaque;
    struct user_timer *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->u = u;
    t->id = id;
    t->cb_opaque = cb_opaque;
    vtimer_init(&t->t, u->clock, timer_fire, t);
    return t;
}

static void cb_timer_free(void *timer, void *opaque)
{
    struct user_timer *t = timer;
    (void)opaque;
    if (!t)
        return;
    vtimer_del(&t->t);
    free(t);
}

static void cb_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
    struct user_timer *t = timer;
    (void)opaque;
    if (t)
        vtimer_mod(&t->t, expire_ms < 0 ? 0 : (uint64_t)expire_ms * 1000000ull);
}

static void cb_register_poll_fd(int fd, void *opaque) { (void)fd; (void)opaque; }
static void cb_unregister_poll_fd(int fd, void *opaque) { (void)fd; (void)opaque; }
static void cb_notify(void *opaque) { (void)opaque; }

static const SlirpCb slirp_callbacks = {
    .send_packet = cb_send_packet,
    .guest_error = cb_guest_error,
    .clock_get_ns = cb_clock_get_ns,
    .timer_free = cb_timer_free,
    .timer_mod = cb_timer_mod,
    .register_poll_fd = cb_register_poll_fd,
    .unregister_poll_fd = cb_unregister_poll_fd,
    .notify = cb_notify,
    .timer_new_opaque = cb_timer_new_opaque,
};

/* ---- poll integration ------------------------------------------------- */

static short to_poll(int ev)
{
    short p = 0;
    if (ev & SLIRP_POLL_IN) p |= POLLIN;
    if (ev & SLIRP_POLL_OUT) p |= POLLOUT;
    if (ev & SLIRP_POLL_PRI) p |= POLLPRI;
    return p;
}

static int add_poll(int fd, int events, void *opaque)
{
    struct user_net *u = opaque;
    if (u->npfds >= SLIRP_MAX_FDS) {
        u->overflow = true;
        return -1;
    }
    u->pfds[u->npfds] = (struct pollfd){ .fd = fd, .events = to_poll(events) };
    return (int)u->npfds++;
}

static int get_revents(int idx, void *opaque)
{
    struct user_net *u = opaque;
    if (idx < 0 || (unsigned)idx >= u->npfds)
        return 0;
    short r = u->pfds[idx].revents;
    int ev = 0;
    if (r & POLLIN) ev |= SLIRP_POLL_IN;
    if (r & POLLOUT) ev |= SLIRP_POLL_OUT;
    if (r & POLLPRI) ev |= SLIRP_POLL_PRI;
    if (r & POLLERR) ev |= SLIRP_POLL_ERR;
    if (r & POLLHUP) ev |= SLIRP_POLL_HUP;
    return ev;
}

static uint32_t fill(struct user_net *u)
{
    uint32_t timeout = UINT32_MAX;
    u->npfds = 0;
    u->overflow = false;
    slirp_pollfds_fill(u->slirp, &timeout, add_poll, u);
    return timeout;
}

static void fd_ready(void *opaque, uint32_t events);

static uint32_t epoll_events(short p)
{
    /* epoll's bits for IN/OUT/PRI equal poll's. */
    return (uint32_t)(p & (POLLIN | POLLOUT | POLLPRI));
}

static bool in_pfds(const struct user_net *u, int fd)
{
    for (unsigned i = 0; i < u->npfds; i++)
        if (u->pfds[i].fd == fd)
            return true;
    return false;
}

/* Makes the loop watch exactly slirp's current list and arms the timer
 * slirp asked for. */
static void sync_fds(struct user_net *u)
{
    uint32_t timeout = fill(u);
    /* Drop what slirp no longer lists (it may be closed already; epoll
     * forgot it then, and the delete just frees our slot). */
    for (unsigned i = 0; i < u->nreg;) {
        if (!in_pfds(u, u->reg[i].fd)) {
            loop_del_fd(u->loop, u->reg[i].fd);
            u->reg[i] = u->reg[--u->nreg];
        } else {
            i++;
        }
    }
    u->loop_full = u->overflow;
    for (unsigned i = 0; i < u->npfds; i++) {
        int fd = u->pfds[i].fd;
        uint32_t ev = epoll_events(u->pfds[i].events);
        unsigned j = 0;
        while (j < u->nreg && u->reg[j].fd != fd)
            j++;
        if (j < u->nreg) {
            /* Always re-MOD: a number slirp closed and reused in between
             * is no longer in the epoll set, and MOD then fails. */
            if (loop_mod_fd(u->loop, fd, ev) == 0) {
                u->reg[j].events = ev;
                continue;
            }
            loop_del_fd(u->loop, fd);
            u->reg[j] = u->reg[--u->nreg];
        }
        if (u->nreg < SLIRP_MAX_FDS && loop_add_fd(u->loop, fd, ev, fd_ready, u) == 0) {
            u->reg[u->nreg].fd = fd;
            u->reg[u->nreg].events = ev;
            u->nreg++;
        } else {
            u->loop_full = true;
        }
    }
    uint64_t delay = timeout == UINT32_MAX ? UINT64_MAX : (uint64_t)timeout * 1000000ull;
    if (u->loop_full && delay > SLIRP_FALLBACK_POLL_NS)
        delay = SLIRP_FALLBACK_POLL_NS;
    if (delay == UINT64_MAX)
        vtimer_del(&u->poll_timer);
    else
        vtimer_mod(&u->poll_timer, vclock_ns(u->clock) + delay);
}

/* One round of slirp's fd work, then follow its new socket list. */
static void slirp_poll_once(struct user_net *u)
{
    fill(u);
    int r = poll(u->pfds, u->npfds, 0);
    if (r < 0)
        for (unsigned i = 0; i < u->npfds; i++)
            u->pfds[i].revents = 0;
    slirp_pollfds_poll(u->slirp, r < 0, get_revents, u);
    sync_fds(u);
}

static void fd_ready(void *opaque, uint32_t events)
{
    (void)events;
    slirp_poll_once(opaque);
}


/* ---- transmit (guest -> slirp) --------------------------------------- */

/* Hands queued guest frames to slirp (loop thread).  Bounded by the
 * queue size: frames are only added from the vCPU thread under the same
 * lock, never while this runs. */
static void flush_tx(struct user_net *u)
{
    while (u->tx_count) {
        struct slirp_tx *f = &u->txq[u->tx_head];
        u->tx_head = (u->tx_head + 1) % SLIRP_TXQ;
        u->tx_count--;
        slirp_input(u->slirp, f->data, f->len);
    }
}

/* The one vtimer does both jobs: due "now" when the guest sent frames,
 * else when slirp asked to be polled.  A timer (unlike a posted call) is
 * cancelled by vtimer_del when the backend goes away. */
static void poll_timer_cb(void *opaque)
{
    struct user_net *u = opaque;
    flush_tx(u);
    slirp_poll_once(u);
}

static void user_send(void *opaque, const uint8_t *frame, size_t len)
{
    struct user_net *u = opaque;
    if (len > sizeof(u->txq[0].data) || u->tx_count >= SLIRP_TXQ) {
        net_port_count_tx_drop(u->port);
        return;
    }
    struct slirp_tx *f = &u->txq[(u->tx_head + u->tx_count) % SLIRP_TXQ];
    memcpy(f->data, frame, len);
    f->len = (uint16_t)len;
    u->tx_count++;
    uint64_t now = vclock_ns(u->clock);
    if (!vtimer_pending(&u->poll_timer) || u->poll_timer.deadline_ns > now)
        vtimer_mod(&u->poll_timer, now);
}

static void user_info(void *opaque, char *buf, size_t len)
{
    struct user_net *u = opaque;
    snprintf(buf, len, "(slirp %s, 10.0.2.0/24, %u fds, %u port forwards)",
             slirp_version_string(), u->nreg, u->nhostfwd);
}

static void user_destroy(void *opaque)
{
    struct user_net *u = opaque;
    for (unsigned i = 0; i < u->nreg; i++)
        loop_del_fd(u->loop, u->reg[i].fd);
    vtimer_del(&u->poll_timer);
    slirp_cleanup(u->slirp);
    free(u);
}

static const struct net_backend_ops user_ops = {
    .name = "user",
    .send = user_send,
    .info = user_info,
    .destroy = user_destroy,
};

int net_user_create(struct net_port *p, struct loop *loop, struct vclock *clock,
                    const struct net_user_opts *opts, char *err, size_t errlen)
{
    struct user_net *u = calloc(1, sizeof(*u));
    if (!u) {
        snprintf(err, errlen, "user networking: out of memory");
        return -1;
    }
    u->port = p;
    u->loop = loop;
    u->clock = clock;
    u->log = net_port_logger(p);
    vtimer_init(&u->poll_timer, clock, poll_timer_cb, u);

    SlirpConfig cfg = { 0 };
    cfg.version = 4;
    cfg.restricted = opts && opts->restricted;
    cfg.in_enabled = true;
    inet_pton(AF_INET, "10.0.2.0", &cfg.vnetwork);
    inet_pton(AF_INET, "255.255.255.0", &cfg.vnetmask);
    inet_pton(AF_INET, "10.0.2.2", &cfg.vhost);
    inet_pton(AF_INET, "10.0.2.15", &cfg.vdhcp_start);
    inet_pton(AF_INET, "10.0.2.3", &cfg.vnameserver);
    cfg.vhostname = "minus1";
    /* IPv6 too, as QEMU's user networking does: guests (iPXE, Linux) send
     * router solicitations and wait for an answer before going on. */
    cfg.in6_enabled = true;
    inet_pton(AF_INET6, "fec0::", &cfg.vprefix_addr6);
    cfg.vprefix_len = 64;
    inet_pton(AF_INET6, "fec0::2", &cfg.vhost6);
    inet_pton(AF_INET6, "fec0::3", &cfg.vnameserver6);
    u->slirp = slirp_new(&cfg, &slirp_callbacks, u);
    if (!u->slirp) {
        snprintf(err, errlen, "user networking: libslirp failed to start");
        free(u);
        return -1;
    }
    struct in_addr any = { .s_addr = htonl(INADDR_ANY) }, guest;
    inet_pton(AF_INET, "10.0.2.15", &guest);
    for (unsigned i = 0; opts && i < opts->nhostfwd; i++) {
        const struct hostfwd *h = &opts->hostfwd[i];
        if (slirp_add_hostfwd(u->slirp, h->udp, any, h->host_port, guest, h->guest_port) < 0) {
            snprintf(err, errlen, "hostfwd=%s::%u-:%u: cannot listen on host port %u: %s",
                     h->udp ? "udp" : "tcp", h->host_port, h->guest_port, h->host_port,
                     strerror(errno));
            slirp_cleanup(u->slirp);
            free(u);
            return -1;
        }
        u->nhostfwd++;
    }
    net_port_set_backend(p, &user_ops, u);
    sync_fds(u);
    return 0;
}
