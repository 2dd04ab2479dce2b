/* PCI configuration mechanism #1 (0xCF8-0xCFF, incl. the PIIX3 reset
 * register at 0xCF9) with the i440FX host bridge (PAM registers reshaping
 * the guest memory map), the PIIX3 (PIRQ routing) and a test function
 * with every kind of BAR: I/O, 32-bit MMIO, 64-bit MMIO, host memory and
 * an expansion ROM.  Windows on the port and MMIO buses let the fuzzer
 * touch BARs it has mapped; events raise INTx and look up guest memory
 * through the slot table (a stale slot would show up under ASan). */
#include <stdlib.h>
#include <stddef.h>
#include <stdint.h>

#include "../../vmm/devices/i440fx.h"
#include "../../vmm/devices/piix3.h"
#include "../../vmm/devices/pci.h"
#include "common.h"

#define HOST_BAR_SIZE (64 * KiB)
#define ROM_SIZE (16 * KiB)

struct h {
    struct pci_bus bus;
    struct i440fx *nb;
    struct piix3 *sb;
    struct pci_device dev;
    uint8_t *fb, *rom;
    uint8_t regs[4096];
    struct fz_irq_sink isa;
    unsigned resets;
};

static uint64_t bar_read(void *opaque, uint64_t offset, unsigned size)
{
    struct h *h = opaque;
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint64_t)h->regs[(offset + i) % sizeof(h->regs)] << (8 * i);
    return v;
}

static void bar_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    struct h *h = opaque;
    for (unsigned i = 0; i < size; i++)
        h->regs[(offset + i) % sizeof(h->regs)] = (uint8_t)(value >> (8 * i));
}

static const struct io_ops bar_ops = { bar_read, bar_write, 4 };

static void hook_reset(void *opaque)
{
    ((struct h *)opaque)->resets++;
}

static void touch_memory(struct fz_ctx *c, uint64_t gpa, uint8_t v)
{
    /* What a vCPU does with a slot: use its host pointer directly. */
    const struct mem_slot *s = mem_lookup(&c->mem, gpa);
    if (!s)
        return;
    volatile uint8_t *p = s->host + (gpa - s->gpa);
    uint8_t old = *p;
    if (!s->readonly)
        *p = (uint8_t)(old ^ v);
}

static void event(struct fz_ctx *c, const struct fz_op *op)
{
    struct h *h = c->h;
    switch (op->raw_off & 3) {
    case 0:
        pci_set_irq(&h->dev, (int)(op->value & 1));
        break;
    case 1:     /* the BIOS area and below-1M ROM space, or anywhere */
        touch_memory(c, (op->value & 0x100) ? (uint32_t)(op->value >> 32)
                                            : 0xC0000 + (op->value >> 32) % 0x40000,
                     (uint8_t)op->value);
        break;
    case 2:
        for (int i = 0; i <= PCI_ROM_SLOT; i++)
            pci_bar_address(&h->dev, i);
        break;
    default:
        pci_unregister(&h->dev);
        pci_register(&h->bus, &h->dev, (int)(op->value % 256));
        break;
    }
}

static void reset(struct fz_ctx *c)
{
    struct h *h = c->h;
    pci_bus_reset(&h->bus);
    i440fx_reset(h->nb);
    piix3_reset(h->sb);
    mem_reset(&c->mem);
}

static void setup_dev(struct h *h)
{
    struct pci_device *d = &h->dev;
    pci_device_init(d, "fuzzdev", 0x1234, 0x5678, 1, 0x020000);
    d->opaque = h;
    pci_device_set_irq_pin(d, 1);
    pci_bar_io(d, 0, 32, &bar_ops, h);
    pci_bar_mmio(d, 1, 4096, false, &bar_ops, h);
    pci_bar_mmio(d, 2, 4096, true, &bar_ops, h);
    pci_bar_set_mem64(d, 2);
    pci_bar_host(d, 4, HOST_BAR_SIZE, true, h->fb, false, true);
    pci_bar_host(d, PCI_ROM_SLOT, ROM_SIZE, false, h->rom, true, false);
    pci_register(&h->bus, d, 0x18);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz_ctx c;
    struct h *h = calloc(1, sizeof(*h));
    fz_init(&c, data, size);
    if (!h || fz_mem_init(&c) < 0)
        goto out;
    c.h = h;
    h->fb = calloc(1, HOST_BAR_SIZE);
    h->rom = calloc(1, ROM_SIZE);
    if (!h->fb || !h->rom)
        goto out;
    pci_bus_init(&h->bus, &c.pio, &c.mmio, &c.mem, &c.log);
    struct irq isa[16];
    for (int i = 0; i < 16; i++)
        isa[i] = (struct irq){ fz_irq_handler, &h->isa, i };
    const struct piix3_hooks hooks = { hook_reset, h };
    h->nb = i440fx_create(&h->bus, &c.mem);
    h->sb = piix3_create(&h->bus, isa, &hooks, &c.log);
    if (h->nb && h->sb) {
        setup_dev(h);
        fz_add_window(&c, &c.pio, 0xCF8, 8);
        fz_add_window(&c, &c.pio, 0xC000, 0x100);
        fz_add_window(&c, &c.pio, 0, 0x10000);
        fz_add_window(&c, &c.mmio, 0xFEB00000, 0x10000);
        fz_add_window(&c, &c.mmio, 0xE0000000, 0x10000);
        static const struct fz_hooks fh = { event, reset, NULL };
        fz_run(&c, &fh);
        pci_unregister(&h->dev);
    }
    piix3_destroy(h->sb);
    i440fx_destroy(h->nb);
out:
    fz_fini(&c);
    if (h) {
        free(h->fb);
        free(h->rom);
    }
    free(h);
    return 0;
}
