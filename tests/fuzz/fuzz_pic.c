/* The 8259A pair and the ELCR: ports 0x20-0x21, 0xA0-0xA1, 0x4D0-0x4D1,
 * plus IRQ input changes and CPU interrupt acknowledges as events. */
#include <stddef.h>
#include <stdint.h>

#include "../../vmm/devices/pic.h"
#include "common.h"

struct h {
    struct pic *pic;
    unsigned intr_changes;
};

static void intr_cb(void *opaque, int level)
{
    struct h *h = opaque;
    h->intr_changes += (unsigned)level;
}

static void event(struct fz_ctx *c, const struct fz_op *op)
{
    struct h *h = c->h;
    unsigned irr, isr, imr;
    switch (op->raw_off & 3) {
    case 0:     /* a device moves its line: value bits 0-3 IRQ, bit 8 level */
        pic_set_irq(h->pic, (int)(op->value & 15), (int)(op->value >> 8) & 1);
        break;
    case 1:     /* the CPU takes the interrupt (spurious if nothing pending) */
        pic_acknowledge(h->pic);
        break;
    case 2:
        if (pic_intr_pending(h->pic))
            pic_acknowledge(h->pic);
        break;
    default:
        pic_get_regs(h->pic, (int)(op->value & 1), &irr, &isr, &imr);
        break;
    }
}

static void reset(struct fz_ctx *c)
{
    pic_reset(((struct h *)c->h)->pic);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz_ctx c;
    struct h h = { 0 };
    fz_init(&c, data, size);
    c.h = &h;
    h.pic = pic_create(&c.pio, &c.log);
    if (h.pic) {
        pic_set_intr_callback(h.pic, intr_cb, &h);
        fz_add_window(&c, &c.pio, 0x20, 2);
        fz_add_window(&c, &c.pio, 0xA0, 2);
        fz_add_window(&c, &c.pio, 0x4D0, 2);
        static const struct fz_hooks hooks = { event, reset, NULL };
        fz_run(&c, &hooks);
        pic_destroy(h.pic);
    }
    fz_fini(&c);
    return 0;
}
