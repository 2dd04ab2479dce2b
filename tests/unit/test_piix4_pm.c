/* The PIIX4 PM function driven like a guest: configuration through
 * 0xCF8/0xCFC the way SeaBIOS programs it, then the ACPI registers at
 * PMBA the way an OS's ACPI core uses them. */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

#include "../../vmm/devices/piix4_pm.h"

#define BIOS_SIZE (128 * KiB)
#define BASE 0x600
#define HZ PIIX4_PM_TIMER_HZ

struct env {
    struct logger lg;
    struct iobus pio, mmio;
    struct guest_mem mem;
    uint8_t *bios;
    struct pci_bus bus;
    struct vclock clock;
    struct piix4_pm *pm;
    int sci_level;
    int sci_edges;
    int poweroffs;
};

static void sci_handler(void *opaque, int n, int level)
{
    struct env *e = opaque;
    CU_ASSERT_EQUAL(n, 9);
    if (level && !e->sci_level)
        e->sci_edges++;
    e->sci_level = level;
}

static void poweroff(void *opaque)
{
    struct env *e = opaque;
    e->poweroffs++;
}

static uint32_t cfg_read(struct env *e, unsigned off, unsigned size)
{
    iobus_write(&e->pio, 0xcf8, 4, 0x80000000u | (PIIX4_PM_DEVFN << 8) | (off & 0xfc));
    return (uint32_t)iobus_read(&e->pio, 0xcfc + (off & 3), size);
}

static void cfg_write(struct env *e, unsigned off, unsigned size, uint32_t v)
{
    iobus_write(&e->pio, 0xcf8, 4, 0x80000000u | (PIIX4_PM_DEVFN << 8) | (off & 0xfc));
    iobus_write(&e->pio, 0xcfc + (off & 3), size, v);
}

static uint32_t pm_in(struct env *e, unsigned off, unsigned size)
{
    return (uint32_t)iobus_read(&e->pio, BASE + off, size);
}

static void pm_out(struct env *e, unsigned off, unsigned size, uint32_t v)
{
    iobus_write(&e->pio, BASE + off, size, v);
}

/* What SeaBIOS's piix4_pm_setup does. */
static void seabios_setup(struct env *e)
{
    cfg_write(e, 0x3c, 1, 9);
    cfg_write(e, 0x40, 4, BASE | 1);
    cfg_write(e, 0x80, 1, 0x01);
    cfg_write(e, 0x90, 4, (BASE + 0x100) | 1);
    cfg_write(e, 0xd2, 1, 0x09);
}

static struct env *env_new(void)
{
    struct env *e = calloc(1, sizeof(*e));
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    e->lg = (struct logger){ LOG_ERROR, 2 };
    iobus_init(&e->pio, "pio", &e->lg);
    iobus_init(&e->mmio, "mmio", &e->lg);
    e->bios = calloc(1, BIOS_SIZE);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e->bios);
    CU_ASSERT_EQUAL_FATAL(mem_init(&e->mem, 16 * MiB, e->bios, BIOS_SIZE), 0);
    pci_bus_init(&e->bus, &e->pio, &e->mmio, &e->mem, &e->lg);
    vclock_init(&e->clock);
    vclock_set_manual(&e->clock, 0);
    struct irq sci = { sci_handler, e, 9 };
    struct piix4_pm_hooks h = { poweroff, e };
    e->pm = piix4_pm_create(&e->bus, PIIX4_PM_DEVFN, sci, &e->clock, &h, &e->lg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e->pm);
    return e;
}

static struct env *env_ready(void)
{
    struct env *e = env_new();
    seabios_setup(e);
    return e;
}

static void env_free(struct env *e)
{
    piix4_pm_destroy(e->pm);
    CU_ASSERT_PTR_NULL(iobus_find(&e->pio, BASE));
    CU_ASSERT_EQUAL(vclock_next_deadline(&e->clock), UINT64_MAX);  /* no timer left */
    mem_destroy(&e->mem);
    free(e->bios);
    free(e);
}

static void test_identity(void)
{
    struct env *e = env_new();
    CU_ASSERT_EQUAL(cfg_read(e, 0x00, 4), 0x71138086u);
    CU_ASSERT_EQUAL(cfg_read(e, 0x08, 4), 0x06800003u);     /* class 0680, rev 3 */
    CU_ASSERT_EQUAL(cfg_read(e, 0x40, 4), 0x00000001u);     /* PMBA: I/O indicator */
    CU_ASSERT_EQUAL(cfg_read(e, 0x80, 1), 0x00);
    /* No SMM: APMC_EN reads set (SeaBIOS then skips its SMI handshake)
     * and cannot be cleared. */
    CU_ASSERT_EQUAL(cfg_read(e, 0x58, 4), 1u << 25);
    cfg_write(e, 0x58, 4, 0);
    CU_ASSERT_EQUAL(cfg_read(e, 0x58, 4), 1u << 25);
    /* Not decoded before the firmware sets it up. */
    CU_ASSERT_PTR_NULL(iobus_find(&e->pio, BASE));
    seabios_setup(e);
    CU_ASSERT_EQUAL(cfg_read(e, 0x40, 4), BASE | 1u);
    CU_ASSERT_EQUAL(cfg_read(e, 0x80, 1), 0x01);
    CU_ASSERT_EQUAL(cfg_read(e, 0x3c, 1), 9);
    /* No SMBus controller: it stays disabled and unassigned. */
    CU_ASSERT_EQUAL(cfg_read(e, 0x90, 4), 0);
    CU_ASSERT_EQUAL(cfg_read(e, 0xd0, 4), 0);
    CU_ASSERT_PTR_NOT_NULL(iobus_find(&e->pio, BASE));
    CU_ASSERT_PTR_NOT_NULL(iobus_find(&e->pio, BASE + 63));
    CU_ASSERT_PTR_NULL(iobus_find(&e->pio, BASE + 64));
    /* ACPI mode from reset: SCI_EN set, no sleep bits. */
    CU_ASSERT_EQUAL(pm_in(e, PIIX4_PM1_CNT, 2), PIIX4_CNT_SCI_EN);
    CU_ASSERT_EQUAL(pm_in(e, PIIX4_PM1_STS, 2), 0);
    CU_ASSERT_EQUAL(pm_in(e, PIIX4_PM1_EN, 2), 0);
    env_free(e);
}

static void test_pmba_mapping(void)
{
    struct env *e = env_ready();
    /* Only bits 15:6 are writable; bit 0 reads 1. */
    cfg_write(e, 0x40, 4, 0xffffffff);
    CU_ASSERT_EQUAL(cfg_read(e, 0x40, 4), 0x0000ffc1u);
    CU_ASSERT_PTR_NULL(iobus_find(&e->pio, BASE));
    CU_ASSERT_PTR_NOT_NULL(iobus_find(&e->pio, 0xffc0));
    /* Moving it with a word write. */
    cfg_write(e, 0x40, 2, 0xb001);
    CU_ASSERT_PTR_NULL(iobus_find(&e->pio, 0xffc0));
    CU_ASSERT_EQUAL(iobus_read(&e->pio, 0xb000 + PIIX4_PM1_CNT, 2), PIIX4_CNT_SCI_EN);
    /* PMIOSE off: gone. */
    cfg_write(e, 0x80, 1, 0x00);
    CU_ASSERT_PTR_NULL(iobus_find(&e->pio, 0xb000));
    CU_ASSERT_EQUAL(iobus_read(&e->pio, 0xb000 + PIIX4_PM1_CNT, 2), 0xffff);
    /* Base 0 with PMIOSE set would cover the DMA/PIC ports: not decoded. */
    cfg_write(e, 0x40, 4, 0x00000000);
    cfg_write(e, 0x80, 1, 0xff);
    CU_ASSERT_EQUAL(cfg_read(e, 0x80, 1), 0x01);            /* only PMIOSE */
    CU_ASSERT_PTR_NULL(iobus_find(&e->pio, 0));
    /* A base on top of another device is refused, not clobbering it. */
    static const struct io_ops none = { NULL, NULL, 1 };
    struct io_region other;
    CU_ASSERT_EQUAL_FATAL(iobus_register(&e->pio, &other, 0x720, 4, &none, NULL, "other"), 0);
    cfg_write(e, 0x40, 4, 0x701);
    CU_ASSERT_PTR_EQUAL(iobus_find(&e->pio, 0x720), &other);
    CU_ASSERT_PTR_NULL(iobus_find(&e->pio, 0x700));
    iobus_unmap(&e->pio, &other);
    cfg_write(e, 0x40, 4, BASE | 1);
    CU_ASSERT_PTR_NOT_NULL(iobus_find(&e->pio, BASE));
    env_free(e);
}

static void test_timer_frequency_and_wrap(void)
{
    struct env *e = env_ready();
    uint32_t t0 = pm_in(e, PIIX4_PM_TMR, 4);
    CU_ASSERT_EQUAL(t0, 0);
    vclock_advance(&e->clock, NS_PER_SEC);
    CU_ASSERT_EQUAL(pm_in(e, PIIX4_PM_TMR, 4), 3579545u);
    /* Word and byte reads see the same counter. */
    CU_ASSERT_EQUAL(pm_in(e, PIIX4_PM_TMR, 2), 3579545u & 0xffff);
    CU_ASSERT_EQUAL(pm_in(e, PIIX4_PM_TMR + 2, 2), 3579545u >> 16);
    CU_ASSERT_EQUAL(pm_in(e, PIIX4_PM_TMR + 2, 1), (3579545u >> 16) & 0xff);
    CU_ASSERT_EQUAL(pm_in(e, PIIX4_PM_TMR + 3, 1), 0);      /* 24 bits only */
    /* Read-only. */
    pm_out(e, PIIX4_PM_TMR, 4, 0);
    CU_ASSERT_EQUAL(pm_in(e, PIIX4_PM_TMR, 4), 3579545u);
    /* 2^24 ticks is 4.687 s: at 5 s the counter has wrapped once. */
    vclock_advance(&e->clock, 4 * NS_PER_SEC);
    uint64_t ticks = 5 * HZ;
    CU_ASSERT_EQUAL(pm_in(e, PIIX4_PM_TMR, 4), (uint32_t)(ticks & 0xffffff));
    CU_ASSERT(pm_in(e, PIIX4_PM_TMR, 4) < 0x1000000u);
    /* 1 ms later: 3579 or 3580 ticks more (mod 2^24). */
    uint32_t a = pm_in(e, PIIX4_PM_TMR, 4);
    vclock_advance(&e->clock, 1000000);
    uint32_t d = (pm_in(e, PIIX4_PM_TMR, 4) - a) & 0xffffff;
    CU_ASSERT(d == 3579 || d == 3580);
    env_free(e);
}

/* Bit 23 toggles every 2^23 ticks (2.3435 s): TMR_STS then sets. */
static void test_timer_status_and_sci(void)
{
    struct env *e = env_ready();
    uint64_t toggle_ns = vclock_ticks_to_ns(1ull << 23, HZ);
    vclock_advance(&e->clock, toggle_ns - 1000);
    CU_ASSERT_EQUAL(pm_in(e, PIIX4_PM1_STS, 2) & PIIX4_PM1_TMR, 0);
    vclock_advance(&e->clock, 1000);
    CU_ASSERT_EQUAL(pm_in(e, PIIX4_PM_TMR, 4), 1u << 23);
    CU_ASSERT(pm_in(e, PIIX4_PM1_STS, 2) & PIIX4_PM1_TMR);
    CU_ASSERT_EQUAL(e->sci_level, 0);                       /* not enabled */
    /* Without TMR_EN there is no timer to run. */
    CU_ASSERT_EQUAL(vclock_next_deadline(&e->clock), UINT64_MAX);
    pm_out(e, PIIX4_PM1_STS, 2, PIIX4_PM1_TMR);
    CU_ASSERT_EQUAL(pm_in(e, PIIX4_PM1_STS, 2) & PIIX4_PM1_TMR, 0);
    /* Enable: the next toggle (counter back to 0) raises the SCI by
     * itself, with no register read on the way. */
    pm_out(e, PIIX4_PM1_EN, 2, PIIX4_PM1_TMR);
    CU_ASSERT_EQUAL(e->sci_level, 0);
    vclock_advance(&e->clock, toggle_ns + 10);
    CU_ASSERT_EQUAL(e->sci_level, 1);
    CU_ASSERT(pm_in(e, PIIX4_PM_TMR, 4) < 100);             /* wrapped to 0 */
    /* Clearing the status drops the line; the next toggle raises it again. */
    pm_out(e, PIIX4_PM1_STS, 2, PIIX4_PM1_TMR);
    CU_ASSERT_EQUAL(e->sci_level, 0);
    vclock_advance(&e->clock, toggle_ns);
    CU_ASSERT_EQUAL(e->sci_level, 1);
    CU_ASSERT_EQUAL(e->sci_edges, 2);
    /* Disabling drops the line and the timer. */
    pm_out(e, PIIX4_PM1_EN, 2, 0);
    CU_ASSERT_EQUAL(e->sci_level, 0);
    CU_ASSERT_EQUAL(vclock_next_deadline(&e->clock), UINT64_MAX);
    env_free(e);
}

static void test_status_w1c(void)
{
    struct env *e = env_ready();
    piix4_pm_power_button(e->pm);
    CU_ASSERT_EQUAL(pm_in(e, PIIX4_PM1_STS, 2), PIIX4_PM1_PWRBTN);
    /* Writing 0s, or 1s elsewhere, clears nothing. */
    pm_out(e, PIIX4_PM1_STS, 2, 0);
    pm_out(e, PIIX4_PM1_STS, 2, (uint16_t)~PIIX4_PM1_PWRBTN);
    CU_ASSERT_EQUAL(pm_in(e, PIIX4_PM1_STS, 2), PIIX4_PM1_PWRBTN);
    /* Bit 8 is bit 0 of the high byte: a byte write there clears it. */
    CU_ASSERT_EQUAL(pm_in(e, PIIX4_PM1_STS + 1, 1), 0x01);
    pm_out(e, PIIX4_PM1_STS + 1, 1, 0x01);
    CU_ASSERT_EQUAL(pm_in(e, PIIX4_PM1_STS, 2), 0);
    /* A dword write at 0 clears status and sets the enables at once. */
    piix4_pm_power_button(e->pm);
    pm_out(e, PIIX4_PM1_STS, 4, (uint32_t)PIIX4_PM1_PWRBTN << 16 | PIIX4_PM1_PWRBTN);
    CU_ASSERT_EQUAL(pm_in(e, PIIX4_PM1_STS, 4), (uint32_t)PIIX4_PM1_PWRBTN << 16);
    /* Enable bits beyond the four events do not stick. */
    pm_out(e, PIIX4_PM1_EN, 2, 0xffff);
    CU_ASSERT_EQUAL(pm_in(e, PIIX4_PM1_EN, 2),
                    PIIX4_PM1_TMR | PIIX4_PM1_GBL | PIIX4_PM1_PWRBTN | PIIX4_PM1_RTC);
    pm_out(e, PIIX4_PM1_EN, 2, 0);
    /* GPE0: no sources, status w1c, enables stored. */
    pm_out(e, PIIX4_GPE0_EN, 2, 0x1234);
    CU_ASSERT_EQUAL(pm_in(e, PIIX4_GPE0_EN, 2), 0x1234);
    pm_out(e, PIIX4_GPE0_STS, 2, 0xffff);
    CU_ASSERT_EQUAL(pm_in(e, PIIX4_GPE0_STS, 2), 0);
    CU_ASSERT_EQUAL(e->sci_level, 0);
    env_free(e);
}

static void test_power_button_sci(void)
{
    struct env *e = env_ready();
    /* Not enabled: status only. */
    piix4_pm_power_button(e->pm);
    CU_ASSERT(piix4_pm_status(e->pm) & PIIX4_PM1_PWRBTN);
    CU_ASSERT_EQUAL(e->sci_level, 0);
    /* Enabling with the status pending raises the SCI at once. */
    pm_out(e, PIIX4_PM1_EN, 2, PIIX4_PM1_PWRBTN);
    CU_ASSERT_EQUAL(e->sci_level, 1);
    /* SCI_EN clear: events would go to SMI, which this board lacks. */
    pm_out(e, PIIX4_PM1_CNT, 2, 0);
    CU_ASSERT_EQUAL(e->sci_level, 0);
    pm_out(e, PIIX4_PM1_CNT, 2, PIIX4_CNT_SCI_EN);
    CU_ASSERT_EQUAL(e->sci_level, 1);
    /* The OS's handler acknowledges it. */
    pm_out(e, PIIX4_PM1_STS, 2, PIIX4_PM1_PWRBTN);
    CU_ASSERT_EQUAL(e->sci_level, 0);
    /* A second press with the enable set: a new edge. */
    piix4_pm_power_button(e->pm);
    CU_ASSERT_EQUAL(e->sci_level, 1);
    CU_ASSERT_EQUAL(e->sci_edges, 3);
    CU_ASSERT_EQUAL(e->poweroffs, 0);                       /* the OS decides */
    env_free(e);
}

static void test_sleep(void)
{
    struct env *e = env_ready();
    /* SLP_TYP alone does nothing; SLP_EN never reads back. */
    pm_out(e, PIIX4_PM1_CNT, 2, PIIX4_CNT_SCI_EN | 5 << 10);
    CU_ASSERT_EQUAL(pm_in(e, PIIX4_PM1_CNT, 2), PIIX4_CNT_SCI_EN | 5 << 10);
    CU_ASSERT_EQUAL(e->poweroffs, 0);
    /* An unsupported sleep type: ignored, and the machine wakes at once. */
    pm_out(e, PIIX4_PM1_CNT, 2, PIIX4_CNT_SCI_EN | 1 << 10 | PIIX4_CNT_SLP_EN);
    CU_ASSERT_EQUAL(e->poweroffs, 0);
    CU_ASSERT_EQUAL(pm_in(e, PIIX4_PM1_CNT, 2), PIIX4_CNT_SCI_EN | 1 << 10);
    CU_ASSERT(pm_in(e, PIIX4_PM1_STS, 2) & PIIX4_PM1_WAK);
    pm_out(e, PIIX4_PM1_STS, 2, PIIX4_PM1_WAK);
    CU_ASSERT_EQUAL(pm_in(e, PIIX4_PM1_STS, 2), 0);
    /* Linux's order: SLP_TYP first, then SLP_TYP | SLP_EN. */
    pm_out(e, PIIX4_PM1_CNT, 2, PIIX4_CNT_SCI_EN | PIIX4_SLP_TYP_S5 << 10);
    CU_ASSERT_EQUAL(e->poweroffs, 0);
    pm_out(e, PIIX4_PM1_CNT, 2, PIIX4_CNT_SCI_EN | PIIX4_SLP_TYP_S5 << 10 | PIIX4_CNT_SLP_EN);
    CU_ASSERT_EQUAL(e->poweroffs, 1);
    /* SeaBIOS's APM poweroff: outw(0x2000). */
    pm_out(e, PIIX4_PM1_CNT, 2, 0x2000);
    CU_ASSERT_EQUAL(e->poweroffs, 2);
    /* A byte write of the high half (SLP_EN is its bit 5). */
    pm_out(e, PIIX4_PM1_CNT + 1, 1, 0x20);
    CU_ASSERT_EQUAL(e->poweroffs, 3);
    env_free(e);
}

/* Every offset, every size, nonsense values: no crash, the timer stays
 * read-only and 24-bit, and reset puts everything back. */
static void test_hostile_and_reset(void)
{
    struct env *e = env_ready();
    static const unsigned sizes[] = { 1, 2, 4 };
    for (unsigned off = 0; off < PIIX4_PM_IO_SIZE; off++) {
        for (unsigned s = 0; s < 3; s++) {
            if (off + sizes[s] > PIIX4_PM_IO_SIZE)
                continue;
            (void)pm_in(e, off, sizes[s]);
            /* Keep SLP_EN out of it: that is test_sleep's business. */
            uint32_t v = (off <= PIIX4_PM1_CNT + 1 && off + sizes[s] > PIIX4_PM1_CNT) ? 0
                                                                          : 0xdeadbeef;
            pm_out(e, off, sizes[s], v);
        }
    }
    CU_ASSERT_EQUAL(e->poweroffs, 0);
    CU_ASSERT(pm_in(e, PIIX4_PM_TMR, 4) < 0x1000000u);
    /* Reserved storage keeps what was written. */
    pm_out(e, 0x10, 4, 0x12345678);
    CU_ASSERT_EQUAL(pm_in(e, 0x10, 4), 0x12345678u);
    /* Config space beyond the defined registers ignores writes. */
    for (unsigned off = 0x44; off < 0x100; off += 4)
        cfg_write(e, off, 4, 0xffffffff);
    CU_ASSERT_EQUAL(cfg_read(e, 0x90, 4), 0);
    CU_ASSERT_EQUAL(cfg_read(e, 0x40, 4), BASE | 1u);
    /* Reset: PMBA back to the I/O indicator, decode off, ACPI mode. */
    pm_out(e, PIIX4_PM1_CNT, 2, 0);
    pm_out(e, PIIX4_PM1_EN, 2, PIIX4_PM1_PWRBTN);
    piix4_pm_power_button(e->pm);
    CU_ASSERT_EQUAL(e->sci_level, 0);                       /* SCI_EN clear */
    pm_out(e, PIIX4_PM1_CNT, 2, PIIX4_CNT_SCI_EN);
    CU_ASSERT_EQUAL(e->sci_level, 1);
    piix4_pm_reset(e->pm);
    CU_ASSERT_EQUAL(e->sci_level, 0);
    CU_ASSERT_EQUAL(cfg_read(e, 0x40, 4), 1u);
    CU_ASSERT_PTR_NULL(iobus_find(&e->pio, BASE));
    seabios_setup(e);
    CU_ASSERT_EQUAL(pm_in(e, PIIX4_PM1_STS, 2), 0);
    CU_ASSERT_EQUAL(pm_in(e, PIIX4_PM1_EN, 2), 0);
    CU_ASSERT_EQUAL(pm_in(e, PIIX4_PM1_CNT, 2), PIIX4_CNT_SCI_EN);
    env_free(e);
}

void suite_piix4_pm(void)
{
    CU_pSuite s = CU_add_suite("piix4_pm", NULL, NULL);
    CU_add_test(s, "identity, SeaBIOS set-up, SMBus absent", test_identity);
    CU_add_test(s, "PMBA/PMREGMISC decode, moves, refusals", test_pmba_mapping);
    CU_add_test(s, "PM timer: 3.579545 MHz, 24-bit wrap", test_timer_frequency_and_wrap);
    CU_add_test(s, "TMR_STS on bit-23 toggles, overflow SCI", test_timer_status_and_sci);
    CU_add_test(s, "PM1_STS write-1-to-clear, enables, GPE0", test_status_w1c);
    CU_add_test(s, "power button: status, SCI with enables", test_power_button_sci);
    CU_add_test(s, "S5 calls the hook; other sleep types wake", test_sleep);
    CU_add_test(s, "hostile accesses, reset", test_hostile_and_reset);
}
