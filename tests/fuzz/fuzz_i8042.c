/* The i8042 controller (0x60, 0x64) with its PS/2 keyboard and mouse:
 * guest commands and host key/mouse events interleaved. */
#include <stddef.h>
#include <stdint.h>

#include "../../vmm/devices/i8042.h"
#include "common.h"

struct h {
    struct i8042 *kbc;
    struct fz_irq_sink irq;
    unsigned resets, a20_changes;
};

static void hook_reset(void *opaque)
{
    ((struct h *)opaque)->resets++;
}

static void hook_a20(void *opaque, bool on)
{
    ((struct h *)opaque)->a20_changes += on;
}

static void event(struct fz_ctx *c, const struct fz_op *op)
{
    struct h *h = c->h;
    if (op->raw_off & 1) {
        /* Mouse: signed deltas from value bytes 0-2, extremes included. */
        int dx = (int8_t)op->value * ((op->value & 0x1000000) ? 1000 : 1);
        int dy = (int8_t)(op->value >> 8) * ((op->value & 0x2000000) ? 1000 : 1);
        int dz = (int8_t)(op->value >> 16);
        i8042_mouse_event(h->kbc, dx, dy, dz, (unsigned)(op->value >> 32));
        return;
    }
    uint8_t buf[64];
    size_t n = (size_t)(op->value & 63) + 1;
    fz_blob_copy(c, op->value >> 16, buf, n);
    i8042_keyboard_bytes(h->kbc, buf, n);
}

static void reset(struct fz_ctx *c)
{
    i8042_reset(((struct h *)c->h)->kbc);
}

static void run_timers(struct fz_ctx *c)
{
    vclock_run_timers(&c->clock);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz_ctx c;
    struct h h = { 0 };
    fz_init(&c, data, size);
    c.h = &h;
    const struct i8042_hooks hooks = { hook_reset, hook_a20, &h };
    h.kbc = i8042_create(&c.pio, (struct irq){ fz_irq_handler, &h.irq, 1 },
                         (struct irq){ fz_irq_handler, &h.irq, 12 }, &hooks, &c.log);
    if (h.kbc) {
        fz_add_window(&c, &c.pio, 0x60, 1);
        fz_add_window(&c, &c.pio, 0x64, 1);
        static const struct fz_hooks fh = { event, reset, run_timers };
        fz_run(&c, &fh);
        i8042_destroy(h.kbc);
    }
    fz_fini(&c);
    return 0;
}
