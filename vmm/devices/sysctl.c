/* Small PC system ports: system control port A (0x92), POST codes (0x80),
 * debugcon (0x402) and isa-debug-exit (0xF4). */
#include "sysctl.h"

#include <stdlib.h>
#include <string.h>

#define PORT_A          0x92
#define PORT_POST       0x80
#define PORT_DEBUGCON   0x402
#define PORT_DEBUG_EXIT 0xF4

#define PA_RESET        0x01    /* 0->1 pulses the reset line */
#define PA_A20          0x02

/* What a debugcon read returns; firmware (SeaBIOS, OVMF) probes for it. */
#define DEBUGCON_READBACK 0xE9

struct sysctl {
    struct iobus *pio;
    struct io_region port_a, post, debugcon, debug_exit;
    struct sysctl_hooks hooks;
    struct chardev *con;
    const struct logger *log;
    struct ratelimit rl;
    uint8_t port_a_val;
    uint8_t post_code;
};

/* ---- port 0x92 ---- */

static uint64_t port_a_read(void *opaque, uint64_t offset, unsigned size)
{
    struct sysctl *s = opaque;
    (void)offset;
    (void)size;
    return s->port_a_val;
}

static void port_a_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    struct sysctl *s = opaque;
    (void)offset;
    (void)size;
    uint8_t v = (uint8_t)value;
    bool reset = (v & PA_RESET) && !(s->port_a_val & PA_RESET);
    s->port_a_val = v;
    /* Drive A20 on every write, as the gate is shared with the i8042's
     * output port and this port's copy of the bit may be stale. */
    if (s->hooks.set_a20)
        s->hooks.set_a20(s->hooks.opaque, v & PA_A20);
    if (reset) {
        /* The reset bit reads back 0 once the pulse has been delivered. */
        s->port_a_val &= (uint8_t)~PA_RESET;
        if (s->hooks.reset)
            s->hooks.reset(s->hooks.opaque);
    }
}

/* ---- port 0x80 ---- */

static uint64_t post_read(void *opaque, uint64_t offset, unsigned size)
{
    struct sysctl *s = opaque;
    (void)offset;
    (void)size;
    return s->post_code;
}

static void post_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    struct sysctl *s = opaque;
    (void)offset;
    (void)size;
    s->post_code = (uint8_t)value;
    /* Debug level: Linux also writes here as an I/O delay, thousands of times. */
    if (log_enabled(s->log, LOG_DEBUG))
        log_debug(s->log, "POST code 0x%02x", s->post_code);
}

/* ---- port 0x402 ---- */

static uint64_t debugcon_read(void *opaque, uint64_t offset, unsigned size)
{
    (void)opaque;
    (void)offset;
    (void)size;
    return DEBUGCON_READBACK;
}

static void debugcon_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    struct sysctl *s = opaque;
    (void)offset;
    (void)size;
    uint8_t ch = (uint8_t)value;
    chardev_write(s->con, &ch, 1);
}

/* ---- port 0xF4 ---- */

static uint64_t debug_exit_read(void *opaque, uint64_t offset, unsigned size)
{
    (void)opaque;
    (void)offset;
    return size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
}

static void debug_exit_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    struct sysctl *s = opaque;
    if (offset != 0) {
        guest_error(s->log, &s->rl, "isa-debug-exit: write%u at +%llu ignored", size * 8,
                    (unsigned long long)offset);
        return;
    }
    uint64_t v = size >= 8 ? value : value & ((1ull << (size * 8)) - 1);
    /* (v << 1) | 1 as QEMU's device computes it; kept within int (the
     * process exit status only sees the low 8 bits anyway). */
    int status = (int)(((v << 1) | 1) & 0x7fffffff);
    log_info(s->log, "isa-debug-exit: guest wrote 0x%llx, exit status %d",
             (unsigned long long)v, status);
    if (s->hooks.exit)
        s->hooks.exit(s->hooks.opaque, status);
}

static const struct io_ops port_a_ops = { port_a_read, port_a_write, 1 };
static const struct io_ops post_ops = { post_read, post_write, 1 };
static const struct io_ops debugcon_ops = { debugcon_read, debugcon_write, 1 };
/* Registered 4 bytes wide so an `out dx, ax/eax` at 0xF4 reaches the
 * device whole (QEMU passes the full value). */
static const struct io_ops debug_exit_ops = { debug_exit_read, debug_exit_write, 4 };

void sysctl_reset(struct sysctl *s)
{
    /* The POST code latch keeps its value: it is what tells you where the
     * last boot stopped. */
    s->port_a_val = 0;
}

static void unmap_all(struct sysctl *s)
{
    iobus_unmap(s->pio, &s->port_a);
    iobus_unmap(s->pio, &s->post);
    iobus_unmap(s->pio, &s->debugcon);
    iobus_unmap(s->pio, &s->debug_exit);
}

struct sysctl *sysctl_create(struct iobus *pio, const struct sysctl_hooks *hooks,
                             struct chardev *debugcon, const struct logger *log)
{
    struct sysctl *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->pio = pio;
    if (hooks)
        s->hooks = *hooks;
    s->con = debugcon;
    s->log = log;
    bool ok = iobus_register(pio, &s->port_a, PORT_A, 1, &port_a_ops, s, "port92") == 0 &&
              iobus_register(pio, &s->post, PORT_POST, 1, &post_ops, s, "post") == 0 &&
              iobus_register(pio, &s->debug_exit, PORT_DEBUG_EXIT, 4, &debug_exit_ops, s,
                             "isa-debug-exit") == 0;
    if (ok && debugcon)
        ok = iobus_register(pio, &s->debugcon, PORT_DEBUGCON, 1, &debugcon_ops, s,
                            "debugcon") == 0;
    if (!ok) {
        unmap_all(s);
        free(s);
        return NULL;
    }
    sysctl_reset(s);
    return s;
}

void sysctl_destroy(struct sysctl *s)
{
    if (!s)
        return;
    unmap_all(s);
    free(s);
}

uint8_t sysctl_last_post_code(const struct sysctl *s)
{
    return s->post_code;
}

bool sysctl_a20(const struct sysctl *s)
{
    return s->port_a_val & PA_A20;
}
