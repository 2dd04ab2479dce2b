/* The 16550A at 0x3F8-0x3FF on a chardev writing to /dev/null, with host
 * input (bytes from the blob) and time driving the transmitter.
 * Config byte 0 bit 0: no chardev at all. */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include "../../vmm/chardev.h"
#include "../../vmm/devices/uart.h"
#include "common.h"

struct h {
    struct uart *uart;
    struct chardev chr;
    struct fz_irq_sink irq;
};

static void event(struct fz_ctx *c, const struct fz_op *op)
{
    struct h *h = c->h;
    if (op->raw_off & 1) {
        uart_can_receive(h->uart);
        return;
    }
    /* Host input: up to 1 KiB from the blob, offered whether or not the
     * FIFO has room (the device must refuse what does not fit). */
    uint8_t buf[1024];
    size_t n = (size_t)(op->value & 0x3FF) + 1;
    fz_blob_copy(c, op->value >> 16, buf, n);
    uart_receive(h->uart, buf, n);
}

static void reset(struct fz_ctx *c)
{
    uart_reset(((struct h *)c->h)->uart);
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
    bool with_chr = !(c.config[0] & 1);
    int out = with_chr ? open("/dev/null", O_WRONLY | O_CLOEXEC) : -1;
    if (with_chr)
        chardev_open_fds(&h.chr, -1, out, false, &c.log);
    h.uart = uart_create(&c.pio, 0x3F8, (struct irq){ fz_irq_handler, &h.irq, 4 }, &c.clock,
                         with_chr ? &h.chr : NULL, &c.log);
    if (h.uart) {
        fz_add_window(&c, &c.pio, 0x3F8, 8);
        static const struct fz_hooks hooks = { event, reset, run_timers };
        fz_run(&c, &hooks);
        uart_destroy(h.uart);
    }
    if (with_chr)
        chardev_close(&h.chr);
    if (out >= 0)
        close(out);
    fz_fini(&c);
    return 0;
}
