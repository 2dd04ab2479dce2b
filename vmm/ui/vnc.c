/* VNC server on libvncserver.  See vnc.h. */
#include "vnc.h"

#include <arpa/inet.h>
#include <poll.h>
#include <rfb/rfb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../devices/i8042.h"
#include "../devices/vga/vga.h"
#include "../loop.h"
#include "../vclock.h"
#include "keymap.h"

/* rfbProcessEvents() rounds per refresh, each handling at most one message
 * per client. */
#define VNC_MAX_ROUNDS 64
/* Sockets input_pending() looks at (the listener and the first clients). */
#define VNC_POLL_MAX 32

struct vnc {
    rfbScreenInfoPtr screen;
    struct vga *vga;
    struct i8042 *kbd;
    struct vclock *clock;
    struct vtimer timer;
    const struct logger *log;
    char *passwords[2];         /* NULL-terminated list for rfbCheckPasswordByList */
    int port;
    int width, height;
    /* Pointer: VNC reports absolute positions, PS/2 wants motion. */
    int last_x, last_y;
    bool have_pos;
    int last_buttons;
};

/* Our pixels are 0x00RRGGBB in host (little-endian) order. */
static void set_format(rfbScreenInfoPtr s)
{
    s->serverFormat.redShift = 16;
    s->serverFormat.greenShift = 8;
    s->serverFormat.blueShift = 0;
    s->serverFormat.redMax = s->serverFormat.greenMax = s->serverFormat.blueMax = 255;
}

static void on_key(rfbBool down, rfbKeySym sym, rfbClientPtr cl)
{
    struct vnc *s = cl->screen->screenData;
    unsigned key = keymap_from_keysym((uint32_t)sym);
    uint8_t seq[KEYMAP_MAX_SEQ];
    size_t n = keymap_sequence(key, down, seq);
    if (key == KEY_NONE)
        log_debug(s->log, "vnc: unmapped keysym 0x%x", (unsigned)sym);
    if (n && s->kbd)
        i8042_keyboard_bytes(s->kbd, seq, n);
}

static int clamp_motion(int d)
{
    return d > 255 ? 255 : d < -256 ? -256 : d;
}

/* VNC buttons: 1 left, 2 middle, 4 right, 8 wheel up, 16 wheel down.
 * PS/2: bit 0 left, bit 1 right, bit 2 middle. */
static void on_pointer(int mask, int x, int y, rfbClientPtr cl)
{
    struct vnc *s = cl->screen->screenData;
    int dx = s->have_pos ? x - s->last_x : 0;
    int dy = s->have_pos ? y - s->last_y : 0;
    int pressed = mask & ~s->last_buttons;
    int dz = (pressed & 16) ? 1 : (pressed & 8) ? -1 : 0;
    unsigned buttons = (mask & 1) | ((mask & 4) ? 2 : 0) | ((mask & 2) ? 4 : 0);
    s->last_x = x;
    s->last_y = y;
    s->have_pos = true;
    bool changed = dx || dy || dz || ((mask ^ s->last_buttons) & 7);
    s->last_buttons = mask;
    if (changed && s->kbd)
        i8042_mouse_event(s->kbd, clamp_motion(dx), clamp_motion(dy), dz, buttons);
}

static void mark_changes(struct vnc *s, const struct vga_update *u)
{
    int y = u->y0;
    while (y < u->y1) {
        if (u->x0[y] >= u->x1[y]) {
            y++;
            continue;
        }
        /* A run of changed lines becomes one rectangle. */
        int top = y, left = u->x0[y], right = u->x1[y];
        while (y < u->y1 && u->x0[y] < u->x1[y]) {
            if (u->x0[y] < left)
                left = u->x0[y];
            if (u->x1[y] > right)
                right = u->x1[y];
            y++;
        }
        rfbMarkRectAsModified(s->screen, left, top, right, y);
    }
}

/* Does a client (or a new connection) have bytes waiting? */
static bool input_pending(const struct vnc *s)
{
    struct pollfd p[VNC_POLL_MAX];
    nfds_t n = 0;
    if (s->screen->listenSock >= 0)
        p[n++] = (struct pollfd){ .fd = s->screen->listenSock, .events = POLLIN };
    for (rfbClientPtr c = s->screen->clientHead; c && n < VNC_POLL_MAX; c = c->next)
        if (c->sock >= 0)
            p[n++] = (struct pollfd){ .fd = c->sock, .events = POLLIN };
    if (poll(p, n, 0) <= 0)
        return false;
    for (nfds_t i = 0; i < n; i++)
        if (p[i].revents & POLLIN)
            return true;
    return false;
}

void vnc_refresh(struct vnc *s)
{
    /* Render only for someone: a new client gets the frame as it stands,
     * and the next render marks whatever differs from it. */
    if (s->screen->clientHead) {
        struct vga_update u;
        const uint32_t *fb = vga_render(s->vga, &u);
        if (u.width != s->width || u.height != s->height) {
            rfbNewFramebuffer(s->screen, (char *)fb, u.width, u.height, 8, 3, 4);
            set_format(s->screen);
            s->width = u.width;
            s->height = u.height;
        } else {
            s->screen->frameBuffer = (char *)fb;
            mark_changes(s, &u);
        }
    }
    /* libvncserver handles one message per client per call: drain what
     * the clients sent (a burst of key and pointer events) now, not one
     * message per refresh.  Capped so a flooding client cannot hold the
     * event loop. */
    for (int i = 0; i < VNC_MAX_ROUNDS; i++) {
        rfbProcessEvents(s->screen, 0);
        if (!input_pending(s))
            break;
    }
}

static void on_timer(void *opaque)
{
    struct vnc *s = opaque;
    vnc_refresh(s);
    vtimer_mod(&s->timer, vclock_ns(s->clock) + VNC_REFRESH_NS);
}

struct vnc *vnc_create(struct loop *loop, struct vga *vga, struct i8042 *kbd,
                       const char *listen, int display, const char *password,
                       const struct logger *log, char *err, size_t errlen)
{
    struct in_addr addr;
    if (display < 0 || display > 100) {
        snprintf(err, errlen, "vnc: display %d out of range (0-100)", display);
        return NULL;
    }
    if (inet_pton(AF_INET, listen ? listen : "127.0.0.1", &addr) != 1) {
        snprintf(err, errlen, "vnc: bad listen address %s", listen);
        return NULL;
    }
    struct vnc *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, errlen, "vnc: out of memory");
        return NULL;
    }
    s->vga = vga;
    s->kbd = kbd;
    s->log = log;
    s->clock = loop ? loop->clock : NULL;
    s->port = 5900 + display;

    rfbLogEnable(log_enabled(log, LOG_DEBUG));
    struct vga_update u;
    const uint32_t *fb = vga_render(vga, &u);
    s->width = u.width;
    s->height = u.height;
    int argc = 0;           /* no command-line options for libvncserver */
    s->screen = rfbGetScreen(&argc, NULL, u.width, u.height, 8, 3, 4);
    if (!s->screen) {
        snprintf(err, errlen, "vnc: cannot create the screen");
        free(s);
        return NULL;
    }
    rfbScreenInfoPtr sc = s->screen;
    set_format(sc);
    sc->frameBuffer = (char *)fb;
    /* No server-side pointer: libvncserver would paint its default X
     * cursor into the frames of clients without cursor encodings, pixels
     * the guest never drew.  The guest draws its own pointer. */
    sc->cursor = NULL;
    /* Send in the refresh that found the change: the timer already paces
     * updates, and libvncserver's deferral (5 ms) is only checked at the
     * next refresh, which would hold every update back one period. */
    sc->deferUpdateTime = 0;
    sc->desktopName = "minus1";
    sc->screenData = s;
    sc->kbdAddEvent = on_key;
    sc->ptrAddEvent = on_pointer;
    sc->alwaysShared = TRUE;
    sc->autoPort = FALSE;
    sc->port = s->port;
    sc->ipv6port = 0;           /* IPv4 only, on the address asked for */
    sc->listenInterface = addr.s_addr;
    sc->httpDir = NULL;
    if (password && *password) {
        s->passwords[0] = strdup(password);
        sc->authPasswdData = s->passwords;
        sc->passwordCheck = rfbCheckPasswordByList;
    }
    rfbInitServer(sc);
    if (sc->listenSock < 0) {
        snprintf(err, errlen, "vnc: cannot listen on %s:%d", listen ? listen : "127.0.0.1",
                 s->port);
        vnc_destroy(s);
        return NULL;
    }
    if (s->clock) {
        vtimer_init(&s->timer, s->clock, on_timer, s);
        vtimer_mod(&s->timer, vclock_ns(s->clock) + VNC_REFRESH_NS);
    }
    log_info(log, "vnc: listening on %s:%d", listen ? listen : "127.0.0.1", s->port);
    return s;
}

void vnc_destroy(struct vnc *s)
{
    if (!s)
        return;
    if (s->clock)
        vtimer_del(&s->timer);
    if (s->screen) {
        rfbShutdownServer(s->screen, TRUE);
        rfbScreenCleanup(s->screen);
    }
    free(s->passwords[0]);
    free(s);
}

int vnc_port(const struct vnc *s)
{
    return s->port;
}

int vnc_client_count(const struct vnc *s)
{
    int n = 0;
    for (rfbClientPtr c = s->screen->clientHead; c; c = c->next)
        n++;
    return n;
}
