/* PIIX3 PCI-to-ISA bridge, function 0 (82371SB datasheet, section 2.2):
 * the PIRQ route control registers and the reset control register.  The
 * other registers (ISA clock, XBCS, top of memory, SMI...) are storage. */
#include "piix3.h"

#include <stdlib.h>

#define PIIX3_PIRQRC     0x60    /* 0x60-0x63: PIRQA..PIRQD */
#define PIRQ_DISABLE     0x80
#define PIRQ_IRQ_MASK    0x0f
#define PIRQ_WMASK       (PIRQ_DISABLE | PIRQ_IRQ_MASK)   /* 6:4 reserved */
#define PIRQ_LINKS       4
#define ISA_IRQS         16

#define RC_SRST          0x02    /* 1: hard (system) reset, 0: soft (INIT) */
#define RC_RCPU          0x04    /* 0->1 starts the reset */
#define RC_STORED        0x0a

struct piix3 {
    struct pci_device dev;
    struct pci_bus *bus;
    struct irq isa[ISA_IRQS];
    struct piix3_hooks hooks;
    const struct logger *log;
    struct ratelimit rl;
    bool link_level[PIRQ_LINKS];    /* PIRQx# as the PCI bus drives it */
    bool line_level[ISA_IRQS];      /* what we last drove on each ISA line */
    uint8_t rc;                     /* reset control at 0xCF9 */
};

/* The ISA IRQ link `pirq` is steered to, or -1.  IRQ 0-2, 8 and 13 are
 * taken by the board and cannot be selected (datasheet: "reserved"). */
static int link_route(const struct piix3 *p, int pirq)
{
    uint8_t v = p->dev.config[PIIX3_PIRQRC + pirq];
    unsigned irq = v & PIRQ_IRQ_MASK;
    if (v & PIRQ_DISABLE)
        return -1;
    if (irq < 3 || irq == 8 || irq == 13)
        return -1;
    return (int)irq;
}

/* Drives every ISA line to the OR of the links steered to it, touching
 * only lines whose level changes: a re-routed link lowers its old line
 * in the same pass that raises the new one. */
static void refresh_lines(struct piix3 *p)
{
    bool want[ISA_IRQS] = { false };
    for (int link = 0; link < PIRQ_LINKS; link++) {
        int irq = link_route(p, link);
        if (irq >= 0 && p->link_level[link])
            want[irq] = true;
    }
    for (int irq = 0; irq < ISA_IRQS; irq++) {
        if (want[irq] == p->line_level[irq])
            continue;
        p->line_level[irq] = want[irq];
        irq_set(&p->isa[irq], want[irq]);
    }
}

static void piix3_set_pirq(void *opaque, int pirq, int level)
{
    struct piix3 *p = opaque;
    if (pirq < 0 || pirq >= PIRQ_LINKS)
        return;
    p->link_level[pirq] = level != 0;
    refresh_lines(p);
}

static void piix3_config_write(struct pci_device *d, unsigned off, unsigned size, uint32_t val)
{
    struct piix3 *p = d->opaque;
    (void)val;
    if (off < PIIX3_PIRQRC + PIRQ_LINKS && off + size > PIIX3_PIRQRC)
        refresh_lines(p);
}

static uint64_t rc_read(void *opaque, uint64_t off, unsigned size)
{
    struct piix3 *p = opaque;
    (void)off;
    (void)size;
    return p->rc;
}

/* RCPU is not stored, so every write that sets it is a 0->1 edge: the
 * bit self-clears once the reset has happened on real hardware. */
static void rc_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
    struct piix3 *p = opaque;
    (void)off;
    (void)size;
    p->rc = (uint8_t)(val & RC_STORED);
    if (!(val & RC_RCPU))
        return;
    log_debug(p->log, "piix3: %s reset via 0xCF9", (val & RC_SRST) ? "hard" : "soft");
    if (p->hooks.reset)
        p->hooks.reset(p->hooks.opaque);
}

static const struct io_ops rc_ops = { rc_read, rc_write, 1 };

void piix3_reset(struct piix3 *p)
{
    uint8_t *c = p->dev.config;
    for (unsigned reg = 0x40; reg < 0x100; reg++)
        c[reg] = 0;
    c[0x4c] = 0x4d;                 /* IORT: ISA I/O recovery timer */
    c[0x4e] = 0x03;                 /* XBCS: RTC and keyboard decode */
    c[0x4f] = 0x00;
    for (int link = 0; link < PIRQ_LINKS; link++)
        c[PIIX3_PIRQRC + link] = PIRQ_DISABLE;
    c[0x69] = 0x02;                 /* TOM: top of memory 1 MiB */
    c[0x6a] = c[0x6b] = 0x00;       /* MSTAT */
    c[0x70] = c[0x71] = 0x80;       /* MBIRQ0/1: motherboard IRQs disabled */
    c[0x76] = c[0x77] = 0x0c;       /* MBDMA0/1: no DMA channel */
    c[0x78] = 0x02;                 /* PCSC */
    c[0x79] = 0x00;
    c[0xa0] = 0x08;                 /* SMICNTL */
    c[0xa8] = 0x0f;                 /* FTMR */
    p->rc = 0;
    /* link_level is an input (the bus drives it) and survives; the lines
     * follow the now disabled routes. */
    refresh_lines(p);
}

struct piix3 *piix3_create(struct pci_bus *bus, const struct irq isa_irqs[16],
                           const struct piix3_hooks *hooks, const struct logger *log)
{
    struct piix3 *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    struct pci_device *d = &p->dev;
    pci_device_init(d, "piix3", 0x8086, 0x7000, 0x00, 0x060100);
    d->opaque = p;
    d->config_write = piix3_config_write;
    p->bus = bus;
    p->log = log;
    for (int i = 0; i < ISA_IRQS; i++)
        p->isa[i] = isa_irqs[i];
    if (hooks)
        p->hooks = *hooks;
    d->config[PCI_HEADER_TYPE] = 0x80;          /* multi-function: IDE is 00:01.1 */
    /* I/O, memory and bus master are always on for the bridge. */
    d->config[PCI_COMMAND] = PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
    d->wmask[PCI_COMMAND] = 0x08 | 0x40;        /* special cycles, PERR# */
    d->wmask[PCI_COMMAND + 1] = 0x01;           /* SERR# */
    d->config[PCI_STATUS + 1] = 0x02;           /* medium DEVSEL */
    for (unsigned reg = 0x40; reg < 0x100; reg++)
        d->wmask[reg] = 0xff;
    for (int link = 0; link < PIRQ_LINKS; link++)
        d->wmask[PIIX3_PIRQRC + link] = PIRQ_WMASK;
    piix3_reset(p);
    if (pci_register(bus, d, 0x08) < 0) {
        free(p);
        return NULL;
    }
    pci_bus_set_router(bus, piix3_set_pirq, p);
    pci_bus_set_cf9_handler(bus, &rc_ops, p);
    return p;
}

void piix3_destroy(struct piix3 *p)
{
    if (!p)
        return;
    if (p->bus->pirq_opaque == p)
        pci_bus_set_router(p->bus, NULL, NULL);
    if (p->bus->cf9_opaque == p)
        pci_bus_set_cf9_handler(p->bus, NULL, NULL);
    pci_unregister(&p->dev);
    free(p);
}
