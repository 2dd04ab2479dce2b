/* The 8254 PIT (ports 0x40-0x43) and port 0x61, with virtual time
 * advancing between accesses so the channel timers fire. */
#include <stddef.h>
#include <stdint.h>

#include "../../vmm/devices/pit.h"
#include "common.h"

struct h {
    struct pit *pit;
    struct fz_irq_sink irq;
};

static void event(struct fz_ctx *c, const struct fz_op *op)
{
    struct h *h = c->h;
    int ch = (int)(op->value % 3);
    if (op->raw_off & 1)
        pit_get_out(h->pit, ch);
    else
        pit_get_count(h->pit, ch);
}

static void reset(struct fz_ctx *c)
{
    pit_reset(((struct h *)c->h)->pit);
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
    h.pit = pit_create(&c.pio, &c.clock, (struct irq){ fz_irq_handler, &h.irq, 0 }, &c.log);
    if (h.pit) {
        fz_add_window(&c, &c.pio, 0x40, 4);
        fz_add_window(&c, &c.pio, 0x61, 1);
        static const struct fz_hooks hooks = { event, reset, run_timers };
        fz_run(&c, &hooks);
        pit_destroy(h.pit);
    }
    fz_fini(&c);
    return 0;
}
