/* The MC146818 RTC/CMOS at 0x70-0x71: index/data accesses, time
 * advancing (update cycle, periodic and alarm interrupts).  Config bytes
 * 0-3: the wall-clock time at virtual time 0 (LE seconds since 1970). */
#include <stddef.h>
#include <stdint.h>

#include "../../vmm/devices/rtc.h"
#include "common.h"

struct h {
    struct rtc *rtc;
    struct fz_irq_sink irq;
};

static void event(struct fz_ctx *c, const struct fz_op *op)
{
    struct h *h = c->h;
    if (op->raw_off & 1)
        rtc_nmi_disabled(h->rtc);
    else
        rtc_cmos_get(h->rtc, (unsigned)(op->value % RTC_CMOS_SIZE));
}

static void reset(struct fz_ctx *c)
{
    rtc_reset(((struct h *)c->h)->rtc);
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
    time_t base = (time_t)((uint32_t)c.config[0] | (uint32_t)c.config[1] << 8 |
                           (uint32_t)c.config[2] << 16 | (uint32_t)c.config[3] << 24);
    h.rtc = rtc_create(&c.pio, &c.clock, (struct irq){ fz_irq_handler, &h.irq, 8 }, base,
                       &c.log);
    if (h.rtc) {
        /* What the machine stores before power-on (memory size, floppy). */
        rtc_cmos_set(h.rtc, 0x10, 0x00);
        rtc_cmos_set(h.rtc, 0x15, 0x80);
        rtc_cmos_set(h.rtc, 0x16, 0x02);
        fz_add_window(&c, &c.pio, 0x70, 2);
        static const struct fz_hooks hooks = { event, reset, run_timers };
        fz_run(&c, &hooks);
        rtc_destroy(h.rtc);
    }
    fz_fini(&c);
    return 0;
}
