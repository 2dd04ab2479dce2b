/* i440FX host bridge and PIIX3 ISA bridge, programmed through 0xCF8/0xCFC
 * and 0xCF9 the way SeaBIOS and an OS do. */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

#include "../../vmm/devices/i440fx.h"
#include "../../vmm/devices/piix3.h"

#define BIOS_SIZE (128 * KiB)

struct isa_rec {
    int level[16];
    int changes[16];
};

struct chipset {
    struct logger lg;
    struct iobus pio, mmio;
    struct guest_mem mem;
    uint8_t *bios;
    struct pci_bus bus;
    struct i440fx *nb;
    struct piix3 *sb;
    struct isa_rec isa;
    int resets;
};

static void isa_set(void *opaque, int n, int level)
{
    struct isa_rec *r = opaque;
    CU_ASSERT_FATAL(n >= 0 && n < 16);
    if (r->level[n] != level)
        r->changes[n]++;
    r->level[n] = level;
}

static void on_reset(void *opaque)
{
    ((struct chipset *)opaque)->resets++;
}

static struct chipset *chipset_new(void)
{
    struct chipset *c = calloc(1, sizeof(*c));
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    c->lg = (struct logger){ LOG_ERROR, 2 };
    iobus_init(&c->pio, "pio", &c->lg);
    iobus_init(&c->mmio, "mmio", &c->lg);
    c->bios = calloc(1, BIOS_SIZE);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c->bios);
    c->bios[BIOS_SIZE - 16] = 0xea;
    CU_ASSERT_EQUAL_FATAL(mem_init(&c->mem, 16 * MiB, c->bios, BIOS_SIZE), 0);
    pci_bus_init(&c->bus, &c->pio, &c->mmio, &c->mem, &c->lg);
    struct irq lines[16];
    for (int i = 0; i < 16; i++)
        lines[i] = (struct irq){ isa_set, &c->isa, i };
    struct piix3_hooks hooks = { on_reset, c };
    c->nb = i440fx_create(&c->bus, &c->mem);
    c->sb = piix3_create(&c->bus, lines, &hooks, &c->lg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c->nb);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c->sb);
    return c;
}

static void chipset_free(struct chipset *c)
{
    piix3_destroy(c->sb);
    i440fx_destroy(c->nb);
    mem_destroy(&c->mem);
    free(c->bios);
    free(c);
}

static uint32_t cfg_rd(struct chipset *c, int devfn, unsigned off, unsigned size)
{
    iobus_write(&c->pio, 0xCF8, 4, 0x80000000u | (unsigned)devfn << 8 | (off & 0xfc));
    return (uint32_t)iobus_read(&c->pio, 0xCFC + (off & 3), size);
}

static void cfg_wr(struct chipset *c, int devfn, unsigned off, unsigned size, uint32_t v)
{
    iobus_write(&c->pio, 0xCF8, 4, 0x80000000u | (unsigned)devfn << 8 | (off & 0xfc));
    iobus_write(&c->pio, 0xCFC + (off & 3), size, v);
}

static void test_identity(void)
{
    struct chipset *c = chipset_new();
    CU_ASSERT_EQUAL(cfg_rd(c, 0x00, 0x00, 4), 0x12378086u);
    CU_ASSERT_EQUAL(cfg_rd(c, 0x00, 0x08, 4), 0x06000002u);
    CU_ASSERT_EQUAL(cfg_rd(c, 0x00, 0x0e, 1), 0x00);
    CU_ASSERT_EQUAL(cfg_rd(c, 0x08, 0x00, 4), 0x70008086u);
    CU_ASSERT_EQUAL(cfg_rd(c, 0x08, 0x0a, 2), 0x0601);
    CU_ASSERT_EQUAL(cfg_rd(c, 0x08, 0x0e, 1), 0x80);
    CU_ASSERT_EQUAL(cfg_rd(c, 0x08, 0x60, 4), 0x80808080u);
    CU_ASSERT_EQUAL(cfg_rd(c, 0x08, 0x69, 1), 0x02);
    CU_ASSERT_EQUAL(cfg_rd(c, 0x00, 0x72, 1), 0x02);
    /* Nothing else on the bus. */
    CU_ASSERT_EQUAL(cfg_rd(c, 0x09, 0x00, 4), 0xffffffffu);
    CU_ASSERT_EQUAL(cfg_rd(c, 0x10, 0x00, 4), 0xffffffffu);
    /* IDs are wired. */
    cfg_wr(c, 0x00, 0x00, 4, 0);
    cfg_wr(c, 0x08, 0x08, 4, 0);
    CU_ASSERT_EQUAL(cfg_rd(c, 0x00, 0x00, 4), 0x12378086u);
    CU_ASSERT_EQUAL(cfg_rd(c, 0x08, 0x08, 4), 0x06010000u);
    /* The host bridge always decodes memory and masters the bus. */
    cfg_wr(c, 0x00, PCI_COMMAND, 2, 0);
    CU_ASSERT_EQUAL(cfg_rd(c, 0x00, PCI_COMMAND, 2) & 0x6, 0x6);
    pci_bus_reset(&c->bus);
    CU_ASSERT_EQUAL(cfg_rd(c, 0x00, PCI_COMMAND, 2) & 0x6, 0x6);
    chipset_free(c);
}

static void expect_slot(struct chipset *c, uint64_t gpa, enum mem_slot_kind kind, bool ro)
{
    const struct mem_slot *s = mem_lookup(&c->mem, gpa);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(s->kind, kind);
    CU_ASSERT_EQUAL(s->readonly, ro);
}

static void test_pam(void)
{
    struct chipset *c = chipset_new();
    expect_slot(c, 0xFFFF0, SLOT_ROM, true);
    CU_ASSERT_EQUAL(mem_lookup(&c->mem, 0xFFFF0)->host[0xFFFF0 - mem_lookup(&c->mem, 0xFFFF0)->gpa],
                    0xea);

    /* SeaBIOS: make 0xF0000 writable RAM, copy, then read-only. */
    cfg_wr(c, 0x00, 0x59, 1, 0x30);
    expect_slot(c, 0xF0000, SLOT_RAM, false);
    expect_slot(c, 0xFFFFF, SLOT_RAM, false);
    cfg_wr(c, 0x00, 0x59, 1, 0x10);
    expect_slot(c, 0xF0000, SLOT_RAM, true);
    CU_ASSERT_EQUAL(c->mem.pam[0], PAM_RO);
    cfg_wr(c, 0x00, 0x59, 1, 0x20);
    CU_ASSERT_EQUAL(c->mem.pam[0], PAM_WO);
    cfg_wr(c, 0x00, 0x59, 1, 0x00);
    expect_slot(c, 0xF0000, SLOT_ROM, true);
    /* Reserved bits, including 0x59's low nibble, read as zero. */
    cfg_wr(c, 0x00, 0x59, 1, 0xcf);
    CU_ASSERT_EQUAL(cfg_rd(c, 0x00, 0x59, 1), 0x00);
    expect_slot(c, 0xF0000, SLOT_ROM, true);

    /* 0x5A: low nibble 0xC0000, high nibble 0xC4000. */
    CU_ASSERT_PTR_NULL(mem_lookup(&c->mem, 0xC0000));
    cfg_wr(c, 0x00, 0x5a, 1, 0x13);
    CU_ASSERT_EQUAL(cfg_rd(c, 0x00, 0x5a, 1), 0x13);
    expect_slot(c, 0xC0000, SLOT_RAM, false);
    expect_slot(c, 0xC4000, SLOT_RAM, true);
    CU_ASSERT_PTR_NULL(mem_lookup(&c->mem, 0xC8000));
    /* A dword write to 0x5C-0x5F; 0x5F high nibble is 0xEC000. */
    cfg_wr(c, 0x00, 0x5c, 4, 0x30000000u);
    CU_ASSERT_EQUAL(c->mem.pam[12], PAM_RW);
    CU_ASSERT_EQUAL(c->mem.pam[11], PAM_OFF);
    expect_slot(c, 0xEC000, SLOT_RAM, false);
    expect_slot(c, 0xE8000, SLOT_ROM, true);        /* still the BIOS alias */
    /* A word write spanning 0x58/0x59 also reaches the PAM logic. */
    cfg_wr(c, 0x00, 0x58, 2, 0x3000);
    CU_ASSERT_EQUAL(c->mem.pam[0], PAM_RW);

    i440fx_reset(c->nb);
    CU_ASSERT_EQUAL(cfg_rd(c, 0x00, 0x58, 4), 0);
    CU_ASSERT_EQUAL(cfg_rd(c, 0x00, 0x5c, 4), 0);
    for (unsigned i = 0; i < PAM_SEGMENTS; i++)
        CU_ASSERT_EQUAL(c->mem.pam[i], PAM_OFF);
    expect_slot(c, 0xF0000, SLOT_ROM, true);
    CU_ASSERT_PTR_NULL(mem_lookup(&c->mem, 0xC0000));
    chipset_free(c);
}

static void test_smram(void)
{
    struct chipset *c = chipset_new();
    cfg_wr(c, 0x00, 0x72, 1, 0xef);                          /* all but D_LCK */
    CU_ASSERT_EQUAL(cfg_rd(c, 0x00, 0x72, 1), 0x6a);        /* C_BASE_SEG wired */
    cfg_wr(c, 0x00, 0x72, 1, 0x4a);                          /* D_OPEN, G_SMRAME */
    CU_ASSERT_EQUAL(cfg_rd(c, 0x00, 0x72, 1), 0x4a);
    cfg_wr(c, 0x00, 0x72, 1, 0x5a);                          /* + D_LCK */
    CU_ASSERT_EQUAL(cfg_rd(c, 0x00, 0x72, 1), 0x1a);        /* D_OPEN dropped */
    cfg_wr(c, 0x00, 0x72, 1, 0x42);                          /* locked */
    CU_ASSERT_EQUAL(cfg_rd(c, 0x00, 0x72, 1), 0x1a);
    i440fx_reset(c->nb);
    CU_ASSERT_EQUAL(cfg_rd(c, 0x00, 0x72, 1), 0x02);
    cfg_wr(c, 0x00, 0x72, 1, 0x4a);
    CU_ASSERT_EQUAL(cfg_rd(c, 0x00, 0x72, 1), 0x4a);
    chipset_free(c);
}

static struct pci_device *add_dev(struct chipset *c, int devfn, int pin)
{
    struct pci_device *d = calloc(1, sizeof(*d));
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    pci_device_init(d, "nic", 0x10ec, 0x8029, 0, 0x020000);
    pci_device_set_irq_pin(d, pin);
    CU_ASSERT_EQUAL_FATAL(pci_register(&c->bus, d, devfn), devfn);
    return d;
}

static void del_dev(struct pci_device *d)
{
    pci_unregister(d);
    free(d);
}

static int lines_high(const struct chipset *c)
{
    int n = 0;
    for (int i = 0; i < 16; i++)
        n += c->isa.level[i] != 0;
    return n;
}

static void test_pirq_routing(void)
{
    struct chipset *c = chipset_new();
    struct pci_device *a = add_dev(c, 0x18, 1);     /* 00:03.0 INTA -> PIRQD (0x63) */
    struct pci_device *b = add_dev(c, 0x10, 2);     /* 00:02.0 INTB -> PIRQD */
    struct pci_device *x = add_dev(c, 0x20, 1);     /* 00:04.0 INTA -> PIRQA (0x60) */

    /* Disabled route: the level goes nowhere. */
    pci_set_irq(a, 1);
    CU_ASSERT_EQUAL(lines_high(c), 0);
    /* Routing an asserted link raises its line at once. */
    cfg_wr(c, 0x08, 0x63, 1, 11);
    CU_ASSERT_EQUAL(c->isa.level[11], 1);
    CU_ASSERT_EQUAL(lines_high(c), 1);
    /* Re-routing while asserted: the old line must not stay stuck. */
    cfg_wr(c, 0x08, 0x63, 1, 10);
    CU_ASSERT_EQUAL(c->isa.level[11], 0);
    CU_ASSERT_EQUAL(c->isa.level[10], 1);
    /* Two devices on one link: the line drops with the last of them. */
    pci_set_irq(b, 1);
    pci_set_irq(a, 0);
    CU_ASSERT_EQUAL(c->isa.level[10], 1);
    pci_set_irq(b, 0);
    CU_ASSERT_EQUAL(c->isa.level[10], 0);

    /* Two links to one IRQ: the line is their OR. */
    cfg_wr(c, 0x08, 0x60, 4, 0x0a80800a);           /* PIRQA and PIRQD -> 10 */
    CU_ASSERT_EQUAL(cfg_rd(c, 0x08, 0x60, 4), 0x0a80800au);
    pci_set_irq(x, 1);
    pci_set_irq(a, 1);
    CU_ASSERT_EQUAL(c->isa.level[10], 1);
    pci_set_irq(x, 0);
    CU_ASSERT_EQUAL(c->isa.level[10], 1);
    pci_set_irq(x, 1);
    pci_set_irq(a, 0);
    CU_ASSERT_EQUAL(c->isa.level[10], 1);
    int before = c->isa.changes[10];
    pci_set_irq(x, 0);
    CU_ASSERT_EQUAL(c->isa.level[10], 0);
    CU_ASSERT_EQUAL(c->isa.changes[10], before + 1);

    /* Moving one of two sharing links leaves the other's level alone. */
    pci_set_irq(a, 1);
    pci_set_irq(x, 1);
    cfg_wr(c, 0x08, 0x60, 1, 5);
    CU_ASSERT_EQUAL(c->isa.level[10], 1);
    CU_ASSERT_EQUAL(c->isa.level[5], 1);
    pci_set_irq(a, 0);
    CU_ASSERT_EQUAL(c->isa.level[10], 0);
    CU_ASSERT_EQUAL(c->isa.level[5], 1);

    /* Reserved IRQ numbers route nowhere (and lower the old line). */
    static const uint8_t bad[] = { 0, 1, 2, 8, 13 };
    for (unsigned i = 0; i < sizeof(bad); i++) {
        cfg_wr(c, 0x08, 0x60, 1, bad[i]);
        CU_ASSERT_EQUAL(lines_high(c), 0);
    }
    cfg_wr(c, 0x08, 0x60, 1, 15);
    CU_ASSERT_EQUAL(c->isa.level[15], 1);
    /* Reserved bits 6:4 don't stick; bit 7 disables. */
    cfg_wr(c, 0x08, 0x60, 1, 0x7f);
    CU_ASSERT_EQUAL(cfg_rd(c, 0x08, 0x60, 1), 0x0f);
    CU_ASSERT_EQUAL(c->isa.level[15], 1);
    cfg_wr(c, 0x08, 0x60, 1, 0x8f);
    CU_ASSERT_EQUAL(lines_high(c), 0);

    /* Bridge reset: routes back to disabled, lines low; the device still
     * asserts, so re-routing brings the line back. */
    cfg_wr(c, 0x08, 0x60, 1, 9);
    CU_ASSERT_EQUAL(c->isa.level[9], 1);
    piix3_reset(c->sb);
    CU_ASSERT_EQUAL(cfg_rd(c, 0x08, 0x60, 4), 0x80808080u);
    CU_ASSERT_EQUAL(lines_high(c), 0);
    cfg_wr(c, 0x08, 0x60, 1, 9);
    CU_ASSERT_EQUAL(c->isa.level[9], 1);
    /* Bus reset drops device levels and thus the line. */
    pci_bus_reset(&c->bus);
    CU_ASSERT_EQUAL(lines_high(c), 0);

    del_dev(a);
    del_dev(b);
    del_dev(x);
    chipset_free(c);
}

static void test_reset_control(void)
{
    struct chipset *c = chipset_new();
    /* Linux and SeaBIOS: select hard reset, then set RCPU. */
    iobus_write(&c->pio, 0xCF9, 1, 0x02);
    CU_ASSERT_EQUAL(c->resets, 0);
    CU_ASSERT_EQUAL(iobus_read(&c->pio, 0xCF9, 1), 0x02);
    iobus_write(&c->pio, 0xCF9, 1, 0x06);
    CU_ASSERT_EQUAL(c->resets, 1);
    CU_ASSERT_EQUAL(iobus_read(&c->pio, 0xCF9, 1), 0x02);   /* RCPU self-clears */
    /* Soft reset too reaches the hook. */
    iobus_write(&c->pio, 0xCF9, 1, 0x04);
    CU_ASSERT_EQUAL(c->resets, 2);
    iobus_write(&c->pio, 0xCF9, 1, 0xfb);
    CU_ASSERT_EQUAL(c->resets, 2);
    CU_ASSERT_EQUAL(iobus_read(&c->pio, 0xCF9, 1), 0x0a);

    /* A dword write to 0xCF8 with bit 10 set is CONFIG_ADDRESS, not RC. */
    iobus_write(&c->pio, 0xCF8, 4, 0x80000400u);
    CU_ASSERT_EQUAL(c->resets, 2);
    CU_ASSERT_EQUAL(iobus_read(&c->pio, 0xCF8, 4), 0x80000400u);
    /* Word accesses covering 0xCF9 reach neither. */
    iobus_write(&c->pio, 0xCF8, 2, 0x0600);
    CU_ASSERT_EQUAL(c->resets, 2);
    CU_ASSERT_EQUAL(iobus_read(&c->pio, 0xCF8, 4), 0x80000400u);
    /* A byte at 0xCF9 leaves the CONFIG_ADDRESS latch alone. */
    iobus_write(&c->pio, 0xCF9, 1, 0x00);
    CU_ASSERT_EQUAL(iobus_read(&c->pio, 0xCF8, 4), 0x80000400u);

    piix3_reset(c->sb);
    CU_ASSERT_EQUAL(iobus_read(&c->pio, 0xCF9, 1), 0x00);
    chipset_free(c);
}

void suite_chipset(void)
{
    CU_pSuite s = CU_add_suite("chipset", NULL, NULL);
    CU_add_test(s, "i440FX and PIIX3 identity via 0xCF8/0xCFC", test_identity);
    CU_add_test(s, "PAM registers drive the 0xC0000-0xFFFFF map", test_pam);
    CU_add_test(s, "SMRAM register and D_LCK", test_smram);
    CU_add_test(s, "PIRQ routing, re-routing, sharing", test_pirq_routing);
    CU_add_test(s, "reset control at 0xCF9", test_reset_control);
}
