/* PIIX4 power management function (82371AB datasheet, function 3) as
 * the ACPI fixed-feature hardware: PM1 event and control blocks, the PM
 * timer, an empty GPE0 block and the SCI.  See piix4_pm.h. */
#include "piix4_pm.h"

#include <stdlib.h>

#define CFG_PMBA        0x40
#define CFG_DEVACTB     0x58        /* device activity B (32-bit) */
#define DEVACTB_APMC_EN_BYTE 0x02   /* bit 25: APM control port enables SMI */
#define CFG_PMREGMISC   0x80
#define PMBA_MASK       0xffc0      /* 64-byte aligned, 16-bit port */
#define PMREGMISC_PMIOSE 0x01

#define NREGS (PIIX4_PM_IO_SIZE / 2)    /* 16-bit registers */
#define REG(off) ((off) / 2)

/* Event bits that can raise the SCI, and what the guest may touch. */
#define PM1_EVENTS  (PIIX4_PM1_TMR | PIIX4_PM1_GBL | PIIX4_PM1_PWRBTN | PIIX4_PM1_RTC)
#define PM1_STS_W1C (PM1_EVENTS | PIIX4_PM1_BM | PIIX4_PM1_PWRBTNOR | PIIX4_PM1_WAK)
#define PM1_CNT_RW  (PIIX4_CNT_SCI_EN | 0x0002 /* BRLD_EN_BM */ | PIIX4_CNT_SLP_TYP_MASK)

#define TMR_BITS 24
#define TMR_MASK ((1u << TMR_BITS) - 1)
#define TMR_MSB_PERIOD (1ull << (TMR_BITS - 1))  /* ticks between MSB toggles */

struct piix4_pm {
    struct pci_device dev;
    struct pci_bus *bus;
    struct irq sci;
    struct vclock *clock;
    struct piix4_pm_hooks hooks;
    const struct logger *log;
    struct ratelimit rl;
    struct io_region region;
    struct vtimer tmr_timer;        /* armed only while TMR_EN is set */
    uint64_t tmr_next_toggle_ns;    /* when bit 23 of the timer next flips */
    uint16_t regs[NREGS];           /* PM1 status/enable/control, GPE0, storage */
    bool sci_level;
};

/* ---- PM timer ---- */

static uint64_t timer_ticks(uint64_t now)
{
    return vclock_ns_to_ticks(now, PIIX4_PM_TIMER_HZ);
}

/* The first instant after `now` at which the counter's MSB flips. */
static uint64_t next_toggle_ns(uint64_t now)
{
    uint64_t k = (timer_ticks(now) / TMR_MSB_PERIOD + 1) * TMR_MSB_PERIOD;
    /* ticks_to_ns rounds up, so the counter has reached k by then. */
    return vclock_ticks_to_ns(k, PIIX4_PM_TIMER_HZ);
}

/* TMR_STS is set whenever bit 23 toggled since we last looked; the
 * hardware sets it whether or not TMR_EN is, so it is computed lazily. */
static void timer_catch_up(struct piix4_pm *pm, uint64_t now)
{
    if (now < pm->tmr_next_toggle_ns)
        return;
    pm->regs[REG(PIIX4_PM1_STS)] |= PIIX4_PM1_TMR;
    pm->tmr_next_toggle_ns = next_toggle_ns(now);
}

/* ---- SCI ---- */

static void update_sci(struct piix4_pm *pm)
{
    timer_catch_up(pm, vclock_ns(pm->clock));
    uint16_t *r = pm->regs;
    bool level = (r[REG(PIIX4_PM1_CNT)] & PIIX4_CNT_SCI_EN) &&
                 ((r[REG(PIIX4_PM1_STS)] & r[REG(PIIX4_PM1_EN)] & PM1_EVENTS) ||
                  (r[REG(PIIX4_GPE0_STS)] & r[REG(PIIX4_GPE0_EN)]));
    /* The overflow interrupt needs a timer only while it is enabled. */
    if (r[REG(PIIX4_PM1_EN)] & PIIX4_PM1_TMR)
        vtimer_mod(&pm->tmr_timer, pm->tmr_next_toggle_ns);
    else
        vtimer_del(&pm->tmr_timer);
    if (level == pm->sci_level)
        return;
    pm->sci_level = level;
    irq_set(&pm->sci, level);
}

static void tmr_timer_fired(void *opaque)
{
    update_sci(opaque);
}

/* ---- I/O space ---- */

static uint16_t read_reg(struct piix4_pm *pm, unsigned off, uint32_t tmr)
{
    switch (off) {
    case PIIX4_PM1_CNT:
        return pm->regs[REG(off)] & ~PIIX4_CNT_SLP_EN;     /* write-only bit */
    case PIIX4_PM_TMR:
        return (uint16_t)tmr;
    case PIIX4_PM_TMR + 2:
        return (uint16_t)(tmr >> 16);
    default:
        return pm->regs[REG(off)];
    }
}

static uint64_t pm_io_read(void *opaque, uint64_t offset, unsigned size)
{
    struct piix4_pm *pm = opaque;
    uint64_t now = vclock_ns(pm->clock);
    timer_catch_up(pm, now);
    /* One sample for the whole access: a dword read never tears. */
    uint32_t tmr = (uint32_t)(timer_ticks(now) & TMR_MASK);
    uint32_t v = 0;
    for (unsigned i = 0; i < size && i < 4; i++) {
        unsigned o = (unsigned)offset + i;
        if (o >= PIIX4_PM_IO_SIZE)
            break;
        uint16_t reg = read_reg(pm, o & ~1u, tmr);
        v |= (uint32_t)((reg >> ((o & 1) * 8)) & 0xff) << (8 * i);
    }
    return v;
}

static void enter_sleep(struct piix4_pm *pm)
{
    unsigned typ = (pm->regs[REG(PIIX4_PM1_CNT)] & PIIX4_CNT_SLP_TYP_MASK) >>
                   PIIX4_CNT_SLP_TYP_SHIFT;
    if (typ == PIIX4_SLP_TYP_S5) {
        log_info(pm->log, "piix4-pm: S5 (soft off) requested by the guest");
        if (pm->hooks.poweroff)
            pm->hooks.poweroff(pm->hooks.opaque);
        return;
    }
    /* Only S5 is offered (the DSDT has no other \_Sx).  Waking at once
     * keeps an OS that polls WAK_STS after SLP_EN from hanging. */
    guest_error(pm->log, &pm->rl, "piix4-pm: sleep type %u not supported: waking at once", typ);
    pm->regs[REG(PIIX4_PM1_STS)] |= PIIX4_PM1_WAK;
}

/* A write of `val` to the bits `mask` of the 16-bit register at off. */
static void write_reg(struct piix4_pm *pm, unsigned off, uint16_t val, uint16_t mask)
{
    uint16_t *r = &pm->regs[REG(off)];
    switch (off) {
    case PIIX4_PM1_STS:
        *r &= (uint16_t)~(val & mask & PM1_STS_W1C);
        break;
    case PIIX4_GPE0_STS:
        *r &= (uint16_t)~(val & mask);
        break;
    case PIIX4_PM1_EN:
        mask &= PM1_EVENTS;
        *r = (uint16_t)((*r & ~mask) | (val & mask));
        break;
    case PIIX4_PM1_CNT:
        *r = (uint16_t)((*r & ~(mask & PM1_CNT_RW)) | (val & mask & PM1_CNT_RW));
        if (val & mask & PIIX4_CNT_SLP_EN)
            enter_sleep(pm);
        break;
    case PIIX4_PM_TMR:
    case PIIX4_PM_TMR + 2:
        break;                              /* read-only */
    default:
        /* Processor control and global registers: storage only. */
        *r = (uint16_t)((*r & ~mask) | (val & mask));
        break;
    }
}

static void pm_io_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    struct piix4_pm *pm = opaque;
    timer_catch_up(pm, vclock_ns(pm->clock));
    for (unsigned i = 0; i < size && i < 4; i++) {
        unsigned o = (unsigned)offset + i;
        if (o >= PIIX4_PM_IO_SIZE)
            break;
        unsigned shift = (o & 1) * 8;
        uint16_t byte = (uint16_t)((value >> (8 * i)) & 0xff);
        write_reg(pm, o & ~1u, (uint16_t)(byte << shift), (uint16_t)(0xff << shift));
    }
    update_sci(pm);
}

static const struct io_ops pm_io_ops = { pm_io_read, pm_io_write, 4 };

/* ---- PCI configuration ---- */

static void update_mapping(struct piix4_pm *pm)
{
    const uint8_t *c = pm->dev.config;
    uint16_t base = (uint16_t)((c[CFG_PMBA] | c[CFG_PMBA + 1] << 8) & PMBA_MASK);
    /* Base 0 would sit on the DMA controller and PIC: treat it as off. */
    if (!(c[CFG_PMREGMISC] & PMREGMISC_PMIOSE) || base == 0) {
        iobus_unmap(pm->bus->pio, &pm->region);
        return;
    }
    if (iobus_map(pm->bus->pio, &pm->region, base) < 0)
        guest_error(pm->log, &pm->rl, "piix4-pm: PM I/O space at 0x%x overlaps a device", base);
}

static void pm_config_write(struct pci_device *d, unsigned off, unsigned size, uint32_t val)
{
    (void)val;
    if ((off < CFG_PMBA + 4 && off + size > CFG_PMBA) ||
        (off <= CFG_PMREGMISC && off + size > CFG_PMREGMISC))
        update_mapping(d->opaque);
}

void piix4_pm_reset(struct piix4_pm *pm)
{
    uint8_t *c = pm->dev.config;
    for (unsigned reg = 0x40; reg < 0x100; reg++)
        c[reg] = 0;
    c[CFG_PMBA] = 0x01;                     /* I/O space indicator */
    /* There is no SMM.  SeaBIOS skips its SMM set-up (an SMI through port
     * 0xB2, then waiting forever on 0xB3) when APMC_EN already reads 1,
     * so it is hardwired set, as QEMU does without SMM. */
    c[CFG_DEVACTB + 3] = DEVACTB_APMC_EN_BYTE;
    for (unsigned i = 0; i < NREGS; i++)
        pm->regs[i] = 0;
    /* No SMM to hand over from: ACPI mode from reset. */
    pm->regs[REG(PIIX4_PM1_CNT)] = PIIX4_CNT_SCI_EN;
    pm->tmr_next_toggle_ns = next_toggle_ns(vclock_ns(pm->clock));
    update_mapping(pm);
    update_sci(pm);
}

void piix4_pm_power_button(struct piix4_pm *pm)
{
    pm->regs[REG(PIIX4_PM1_STS)] |= PIIX4_PM1_PWRBTN;
    update_sci(pm);
}

uint16_t piix4_pm_status(struct piix4_pm *pm)
{
    timer_catch_up(pm, vclock_ns(pm->clock));
    return pm->regs[REG(PIIX4_PM1_STS)];
}

struct piix4_pm *piix4_pm_create(struct pci_bus *bus, int devfn, struct irq sci,
                                 struct vclock *clock, const struct piix4_pm_hooks *hooks,
                                 const struct logger *log)
{
    struct piix4_pm *pm = calloc(1, sizeof(*pm));
    if (!pm)
        return NULL;
    struct pci_device *d = &pm->dev;
    pci_device_init(d, "piix4-pm", 0x8086, 0x7113, 0x03, 0x068000);
    d->opaque = pm;
    d->config_write = pm_config_write;
    d->config[PCI_STATUS + 1] = 0x02;       /* medium DEVSEL */
    d->wmask[CFG_PMBA] = PMBA_MASK & 0xff;
    d->wmask[CFG_PMBA + 1] = PMBA_MASK >> 8;
    d->wmask[CFG_PMREGMISC] = PMREGMISC_PMIOSE;
    pm->bus = bus;
    pm->sci = sci;
    pm->clock = clock;
    pm->log = log;
    if (hooks)
        pm->hooks = *hooks;
    pm->region = (struct io_region){ .len = PIIX4_PM_IO_SIZE, .ops = &pm_io_ops, .opaque = pm,
                                     .name = "piix4-pm" };
    vtimer_init(&pm->tmr_timer, clock, tmr_timer_fired, pm);
    if (pci_register(bus, d, devfn) < 0) {
        free(pm);
        return NULL;
    }
    piix4_pm_reset(pm);
    return pm;
}

void piix4_pm_destroy(struct piix4_pm *pm)
{
    if (!pm)
        return;
    vtimer_del(&pm->tmr_timer);
    iobus_unmap(pm->bus->pio, &pm->region);
    pci_unregister(&pm->dev);
    free(pm);
}
