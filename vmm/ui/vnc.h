/* The VNC server (libvncserver): shows the VGA output and feeds keyboard
 * and pointer events to the i8042 as PS/2 set 2 scancodes / mouse motion.
 *
 * Everything runs on the event loop: a virtual-clock timer every
 * VNC_REFRESH_NS renders the frame, marks the changed rectangles and lets
 * libvncserver serve its sockets without blocking.  A client that sends
 * garbage or vanishes is libvncserver's business; it never reaches the
 * guest except as key and pointer events. */
#ifndef MINUS1_VNC_H
#define MINUS1_VNC_H

#include <stddef.h>

#include "../log.h"

#define VNC_REFRESH_NS 30000000ull      /* 30 ms, ~33 frames per second */

struct loop;
struct vga;
struct i8042;
struct vnc;

/* listen: IPv4 address to bind, NULL = 127.0.0.1.  Port 5900 + display.
 * password: NULL or "" for none (VNC authentication otherwise; only the
 * first 8 characters count, a limit of the protocol).  kbd may be NULL.
 * Arms its refresh timer on loop->clock.  NULL + err on failure. */
struct vnc *vnc_create(struct loop *loop, struct vga *vga, struct i8042 *kbd,
                       const char *listen, int display, const char *password,
                       const struct logger *log, char *err, size_t errlen);
void vnc_destroy(struct vnc *s);

/* One refresh: render, mark changes, serve clients (non-blocking).  The
 * timer calls it; exposed for tests. */
void vnc_refresh(struct vnc *s);

/* The TCP port it listens on. */
int vnc_port(const struct vnc *s);
/* Connected clients. */
int vnc_client_count(const struct vnc *s);

#endif
