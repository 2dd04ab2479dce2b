/* Character backends for serial ports and debugcon: stdio, file:PATH or
 * none.  Output is written straight through (never buffered: the serial
 * log must show what the guest wrote the moment it wrote it).  Input from
 * stdin is read by the event loop and handed to the device with the
 * `receive` callback; bytes the device cannot take yet wait here.
 *
 * stdio input understands QEMU's escapes: Ctrl-A x quits (the quit hook),
 * Ctrl-A Ctrl-A sends one Ctrl-A, Ctrl-A h prints a help line; any other
 * byte after Ctrl-A is dropped. */
#ifndef MINUS1_CHARDEV_H
#define MINUS1_CHARDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <termios.h>

#include "log.h"

enum chardev_kind { CHARDEV_NONE, CHARDEV_STDIO, CHARDEV_FILE, CHARDEV_FD };

#define CHARDEV_INBUF 4096
#define CHARDEV_ESCAPE 0x01     /* Ctrl-A */

struct chardev {
    enum chardev_kind kind;
    int in_fd;              /* -1 when there is no input */
    int out_fd;             /* -1 when output is discarded */
    bool owns_out_fd;       /* close out_fd in chardev_close (file:) */
    bool tty_raw;           /* we put the terminal in raw mode: restore it */
    int tty_fd;             /* the terminal to restore (in_fd may be gone) */
    struct termios saved_termios;   /* valid when tty_raw */
    bool escapes;           /* Ctrl-A escape processing on input */
    bool escape_pending;    /* the previous input byte was Ctrl-A */
    bool in_eof;            /* input reached end of file or failed; in_fd
                               is then set to -1 (the fd itself stays open) */
    bool in_drop_when_full; /* a terminal: keep reading (so Ctrl-A x always
                               works) and drop what does not fit */
    bool out_error_logged, in_error_logged, in_drop_logged;
    bool delivering;        /* guards against re-entry from receive() */
    /* Input waiting for the device (a ring). */
    uint8_t inbuf[CHARDEV_INBUF];
    size_t in_head, in_len;
    /* The device side: how many bytes it can take now, and the delivery. */
    size_t (*can_receive)(void *opaque);
    void (*receive)(void *opaque, const uint8_t *buf, size_t len);
    void *dev_opaque;
    /* Ctrl-A x on stdio input. */
    void (*quit)(void *opaque);
    void *quit_opaque;
    /* Told when the chardev starts/stops wanting chardev_read_ready calls
     * (input buffer full/drained, end of file), so the event loop can stop
     * polling in_fd instead of spinning on a level-triggered readable fd. */
    void (*watch)(void *opaque, bool want_input);
    void *watch_opaque;
    bool watch_state;       /* last value passed to watch */
    const struct logger *log;
};

/* spec: "stdio", "file:PATH" or "none".  On error writes a one-line
 * message into err (e.g. "cannot open 'PATH': Permission denied"; the
 * caller puts the option name in front, "--serial: ...") and returns -1. */
int chardev_open(struct chardev *c, const char *spec, const struct logger *log, char *err,
                 size_t errlen);
/* A chardev on descriptors the caller owns (tests, sockets): in_fd / out_fd
 * may be -1; nothing is closed by chardev_close. */
void chardev_open_fds(struct chardev *c, int in_fd, int out_fd, bool escapes,
                      const struct logger *log);
/* Restores the terminal, closes what it opened.  Safe to call twice. */
void chardev_close(struct chardev *c);
void chardev_set_handlers(struct chardev *c, size_t (*can_receive)(void *),
                          void (*receive)(void *, const uint8_t *, size_t), void *opaque);
void chardev_set_quit_handler(struct chardev *c, void (*quit)(void *), void *opaque);
void chardev_set_watch(struct chardev *c, void (*watch)(void *, bool), void *opaque);
/* Whether the event loop should poll in_fd now. */
bool chardev_wants_input(const struct chardev *c);
/* Guest output; short writes are retried, errors dropped (logged once). */
void chardev_write(struct chardev *c, const uint8_t *buf, size_t len);
/* Called by the event loop when in_fd is readable (machine lock held). */
void chardev_read_ready(struct chardev *c);
/* Called by the device when it has room again (e.g. RBR was read). */
void chardev_accept_input(struct chardev *c);

#endif
