/* Character backends for serial ports and debugcon: stdio, file:PATH or
 * none.  Output is written straight through (never buffered: the serial
 * log must show what the guest wrote the moment it wrote it).  Input from
 * stdin is read by the event loop and handed to the device with the
 * `receive` callback; bytes the device cannot take yet wait here. */
#ifndef MINUS1_CHARDEV_H
#define MINUS1_CHARDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log.h"

enum chardev_kind { CHARDEV_NONE, CHARDEV_STDIO, CHARDEV_FILE };

#define CHARDEV_INBUF 4096

struct chardev {
    enum chardev_kind kind;
    int in_fd;              /* -1 when there is no input */
    int out_fd;             /* -1 when output is discarded */
    bool tty_raw;           /* we put the terminal in raw mode: restore it */
    /* Input waiting for the device. */
    uint8_t inbuf[CHARDEV_INBUF];
    size_t in_head, in_len;
    /* The device side: how many bytes it can take now, and the delivery. */
    size_t (*can_receive)(void *opaque);
    void (*receive)(void *opaque, const uint8_t *buf, size_t len);
    void *dev_opaque;
    const struct logger *log;
};

/* spec: "stdio", "file:PATH" or "none".  On error writes a one-line
 * message into err and returns -1. */
int chardev_open(struct chardev *c, const char *spec, const struct logger *log, char *err,
                 size_t errlen);
void chardev_close(struct chardev *c);
void chardev_set_handlers(struct chardev *c, size_t (*can_receive)(void *),
                          void (*receive)(void *, const uint8_t *, size_t), void *opaque);
/* Guest output; short writes are retried, errors dropped (logged once). */
void chardev_write(struct chardev *c, const uint8_t *buf, size_t len);
/* Called by the event loop when in_fd is readable (machine lock held). */
void chardev_read_ready(struct chardev *c);
/* Called by the device when it has room again (e.g. RBR was read). */
void chardev_accept_input(struct chardev *c);

#endif
