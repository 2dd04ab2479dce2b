/* Small PC system ports: "system control port A" at 0x92 (fast A20 and
 * fast reset), the POST code port 0x80, the debugcon port 0x402 and the
 * isa-debug-exit port 0xF4 (a test guest writing N ends minus1 with exit
 * status (N << 1) | 1, as QEMU's device does). */
#ifndef MINUS1_SYSCTL_H
#define MINUS1_SYSCTL_H

#include <stdbool.h>
#include <stdint.h>

#include "../chardev.h"
#include "../iobus.h"
#include "../log.h"

struct sysctl;

struct sysctl_hooks {
    void (*reset)(void *opaque);
    void (*set_a20)(void *opaque, bool enabled);
    void (*exit)(void *opaque, int status);     /* isa-debug-exit */
    void *opaque;
};

/* debugcon may be NULL: port 0x402 is then left unassigned. */
struct sysctl *sysctl_create(struct iobus *pio, const struct sysctl_hooks *hooks,
                             struct chardev *debugcon, const struct logger *log);
void sysctl_destroy(struct sysctl *s);
void sysctl_reset(struct sysctl *s);
/* The last value written to port 0x80 (for `info status`). */
uint8_t sysctl_last_post_code(const struct sysctl *s);
/* The A20 state as port 0x92 bit 1 last set it. */
bool sysctl_a20(const struct sysctl *s);

#endif
