/* The PCI bus driven through ports 0xCF8/0xCFC as a guest would. */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

#include "../../vmm/devices/pci.h"

#define BIOS_SIZE (128 * KiB)

struct env {
    struct logger lg;
    struct iobus pio, mmio;
    struct guest_mem mem;
    uint8_t *bios;
    struct pci_bus bus;
};

struct fake {
    struct pci_device dev;
    uint8_t regs[256];
    unsigned writes;
};

struct pirq_log {
    int level[4];
    int calls;
};

static uint64_t fake_read(void *o, uint64_t off, unsigned size)
{
    struct fake *f = o;
    (void)size;
    return f->regs[off & 0xff];
}

static void fake_write(void *o, uint64_t off, unsigned size, uint64_t v)
{
    struct fake *f = o;
    (void)size;
    f->regs[off & 0xff] = (uint8_t)v;
    f->writes++;
}

static const struct io_ops fake_ops = { fake_read, fake_write, 1 };

static void record_pirq(void *o, int pirq, int level)
{
    struct pirq_log *l = o;
    CU_ASSERT_FATAL(pirq >= 0 && pirq < 4);
    l->level[pirq] = level;
    l->calls++;
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
    return e;
}

static void env_free(struct env *e)
{
    mem_destroy(&e->mem);
    free(e->bios);
    free(e);
}

/* A device with every kind of BAR: I/O, 32-bit MMIO, 64-bit prefetchable
 * MMIO, and an expansion ROM. */
static struct fake *fake_new(struct env *e, int devfn, uint16_t device)
{
    struct fake *f = calloc(1, sizeof(*f));
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    pci_device_init(&f->dev, "fake", 0x1234, device, 0x07, 0x020000);
    f->dev.opaque = f;
    pci_device_set_subsystem(&f->dev, 0x1af4, 0x1100);
    pci_device_set_irq_pin(&f->dev, 1);
    pci_bar_io(&f->dev, 0, 32, &fake_ops, f);
    pci_bar_mmio(&f->dev, 1, 4096, false, &fake_ops, f);
    pci_bar_mmio(&f->dev, 2, 1 * MiB, true, &fake_ops, f);
    pci_bar_set_mem64(&f->dev, 2);
    pci_bar_mmio(&f->dev, PCI_ROM_SLOT, 1000, false, &fake_ops, f);
    CU_ASSERT_EQUAL_FATAL(pci_register(&e->bus, &f->dev, devfn), devfn);
    return f;
}

static void select_reg(struct env *e, unsigned bus, int devfn, unsigned off)
{
    iobus_write(&e->pio, 0xCF8, 4, 0x80000000u | bus << 16 | (unsigned)devfn << 8 | (off & 0xfc));
}

static uint32_t cfg_rd(struct env *e, int devfn, unsigned off, unsigned size)
{
    select_reg(e, 0, devfn, off);
    return (uint32_t)iobus_read(&e->pio, 0xCFC + (off & 3), size);
}

static void cfg_wr(struct env *e, int devfn, unsigned off, unsigned size, uint32_t v)
{
    select_reg(e, 0, devfn, off);
    iobus_write(&e->pio, 0xCFC + (off & 3), size, v);
}

static void test_mechanism1(void)
{
    struct env *e = env_new();
    struct fake *f = fake_new(e, 0x18, 0x5678);

    CU_ASSERT_EQUAL(cfg_rd(e, 0x18, 0x00, 4), 0x56781234u);
    CU_ASSERT_EQUAL(cfg_rd(e, 0x18, 0x02, 2), 0x5678);
    CU_ASSERT_EQUAL(cfg_rd(e, 0x18, 0x01, 1), 0x12);
    CU_ASSERT_EQUAL(cfg_rd(e, 0x18, 0x08, 4), 0x02000007u);
    CU_ASSERT_EQUAL(cfg_rd(e, 0x18, 0x2c, 4), 0x11001af4u);
    CU_ASSERT_EQUAL(cfg_rd(e, 0x18, 0x3d, 1), 1);
    /* Absent function, absent slot: all ones. */
    CU_ASSERT_EQUAL(cfg_rd(e, 0x19, 0x00, 4), 0xffffffffu);
    CU_ASSERT_EQUAL(cfg_rd(e, 0x20, 0x00, 2), 0xffff);
    CU_ASSERT_EQUAL(cfg_rd(e, 0xff, 0xfc, 4), 0xffffffffu);

    /* CONFIG_ADDRESS latches only with dword accesses; reserved bits 0. */
    iobus_write(&e->pio, 0xCF8, 4, 0xffffffffu);
    CU_ASSERT_EQUAL(iobus_read(&e->pio, 0xCF8, 4), 0x80fffffcu);
    select_reg(e, 0, 0x18, 0);
    iobus_write(&e->pio, 0xCF8, 2, 0x0004);
    iobus_write(&e->pio, 0xCF8, 1, 0x08);
    CU_ASSERT_EQUAL(iobus_read(&e->pio, 0xCF8, 4), 0x80001800u);
    CU_ASSERT_EQUAL(iobus_read(&e->pio, 0xCFC, 4), 0x56781234u);
    /* Without a PIIX3, 0xCF9 is an unclaimed byte register. */
    CU_ASSERT_EQUAL(iobus_read(&e->pio, 0xCF9, 1), 0xff);
    CU_ASSERT_EQUAL(iobus_read(&e->pio, 0xCF8, 2), 0xffff);

    /* Enable bit clear: nothing answers, nothing is written. */
    iobus_write(&e->pio, 0xCF8, 4, 0x00001804u);
    CU_ASSERT_EQUAL(iobus_read(&e->pio, 0xCFC, 4), 0xffffffffu);
    iobus_write(&e->pio, 0xCFC, 2, PCI_COMMAND_IO);
    CU_ASSERT_EQUAL(f->dev.config[PCI_COMMAND], 0);

    pci_unregister(&f->dev);
    CU_ASSERT_EQUAL(cfg_rd(e, 0x18, 0x00, 4), 0xffffffffu);
    free(f);
    env_free(e);
}

static void test_readonly_and_w1c(void)
{
    struct env *e = env_new();
    struct fake *f = fake_new(e, 0x18, 0x5678);

    for (unsigned off = 0; off < 0x10; off += 4)
        if (off != PCI_COMMAND)
            cfg_wr(e, 0x18, off, 4, 0xffffffffu);
    cfg_wr(e, 0x18, 0x2c, 4, 0);
    CU_ASSERT_EQUAL(cfg_rd(e, 0x18, 0x00, 4), 0x56781234u);
    CU_ASSERT_EQUAL(cfg_rd(e, 0x18, 0x08, 4), 0x02000007u);
    CU_ASSERT_EQUAL(cfg_rd(e, 0x18, 0x0e, 1), 0x00);
    CU_ASSERT_EQUAL(cfg_rd(e, 0x18, 0x2c, 4), 0x11001af4u);
    /* Cache line size and latency timer were writable, BIST is not. */
    CU_ASSERT_EQUAL(cfg_rd(e, 0x18, 0x0c, 4), 0x0000ffffu);

    /* Interrupt line is the OS's scratch byte; the pin is wired. */
    cfg_wr(e, 0x18, 0x3c, 2, 0x040b);
    CU_ASSERT_EQUAL(cfg_rd(e, 0x18, 0x3c, 2), 0x010b);

    /* Command: only the implemented bits stick. */
    cfg_wr(e, 0x18, PCI_COMMAND, 2, 0xffff);
    CU_ASSERT_EQUAL(cfg_rd(e, 0x18, PCI_COMMAND, 2), 0x0547);
    cfg_wr(e, 0x18, PCI_COMMAND, 2, 0);

    /* Status error bits: write 1 to clear, 0 leaves them. */
    f->dev.config[PCI_STATUS + 1] = 0x30;   /* received target + master abort */
    cfg_wr(e, 0x18, PCI_STATUS, 2, 0x0000);
    CU_ASSERT_EQUAL(cfg_rd(e, 0x18, PCI_STATUS, 2), 0x3000);
    cfg_wr(e, 0x18, PCI_STATUS, 2, 0x1000);
    CU_ASSERT_EQUAL(cfg_rd(e, 0x18, PCI_STATUS, 2), 0x2000);
    /* A command write of the same dword must not clear status by accident. */
    cfg_wr(e, 0x18, PCI_COMMAND, 4, 0x00000000);
    CU_ASSERT_EQUAL(cfg_rd(e, 0x18, PCI_STATUS, 2), 0x2000);
    cfg_wr(e, 0x18, PCI_COMMAND, 4, 0xffff0000u);
    CU_ASSERT_EQUAL(cfg_rd(e, 0x18, PCI_STATUS, 2), 0x0000);

    pci_unregister(&f->dev);
    free(f);
    env_free(e);
}

static void test_bar_sizing(void)
{
    struct env *e = env_new();
    struct fake *f = fake_new(e, 0x18, 0x5678);

    /* Power-on values carry only the type bits. */
    CU_ASSERT_EQUAL(cfg_rd(e, 0x18, 0x10, 4), 0x00000001u);
    CU_ASSERT_EQUAL(cfg_rd(e, 0x18, 0x14, 4), 0x00000000u);
    CU_ASSERT_EQUAL(cfg_rd(e, 0x18, 0x18, 4), 0x0000000cu);

    for (unsigned off = 0x10; off <= 0x24; off += 4)
        cfg_wr(e, 0x18, off, 4, 0xffffffffu);
    cfg_wr(e, 0x18, 0x30, 4, 0xffffffffu);
    CU_ASSERT_EQUAL(cfg_rd(e, 0x18, 0x10, 4), 0xffffffe1u);        /* 32 bytes of I/O */
    CU_ASSERT_EQUAL(cfg_rd(e, 0x18, 0x14, 4), 0xfffff000u);        /* 4 KiB memory */
    CU_ASSERT_EQUAL(cfg_rd(e, 0x18, 0x18, 4), 0xfff0000cu);        /* 1 MiB, 64-bit, pf */
    CU_ASSERT_EQUAL(cfg_rd(e, 0x18, 0x1c, 4), 0xffffffffu);        /* upper half */
    CU_ASSERT_EQUAL(cfg_rd(e, 0x18, 0x20, 4), 0x00000000u);        /* unimplemented */
    CU_ASSERT_EQUAL(cfg_rd(e, 0x18, 0x24, 4), 0x00000000u);
    CU_ASSERT_EQUAL(cfg_rd(e, 0x18, 0x30, 4), 0xfffff801u);        /* ROM: 2 KiB minimum */
    cfg_wr(e, 0x18, 0x30, 4, 0xfffffffeu);
    CU_ASSERT_EQUAL(cfg_rd(e, 0x18, 0x30, 4), 0xfffff800u);
    /* Byte-wise programming works like a dword write. */
    cfg_wr(e, 0x18, 0x11, 1, 0xc1);
    cfg_wr(e, 0x18, 0x12, 2, 0);
    CU_ASSERT_EQUAL(cfg_rd(e, 0x18, 0x10, 4), 0x0000c1e1u);

    pci_unregister(&f->dev);
    free(f);
    env_free(e);
}

static void test_io_bar_mapping(void)
{
    struct env *e = env_new();
    struct fake *f = fake_new(e, 0x18, 0x5678);
    f->regs[4] = 0x5a;

    cfg_wr(e, 0x18, 0x10, 4, 0xc000);
    CU_ASSERT_PTR_NULL(iobus_find(&e->pio, 0xc000));           /* no IO decode yet */
    CU_ASSERT_EQUAL(pci_bar_address(&f->dev, 0), 0);
    cfg_wr(e, 0x18, PCI_COMMAND, 2, PCI_COMMAND_IO);
    CU_ASSERT_PTR_EQUAL(iobus_find(&e->pio, 0xc01f), &f->dev.bars[0].region);
    CU_ASSERT_PTR_NULL(iobus_find(&e->pio, 0xc020));
    CU_ASSERT_EQUAL(iobus_read(&e->pio, 0xc004, 1), 0x5a);
    CU_ASSERT_EQUAL(pci_bar_address(&f->dev, 0), 0xc000);
    /* MEMORY is clear: the memory BARs stay off even with addresses. */
    cfg_wr(e, 0x18, 0x14, 4, 0xfeb00000u);
    CU_ASSERT_PTR_NULL(iobus_find(&e->mmio, 0xfeb00000u));

    /* Rewriting the BAR moves the decode. */
    cfg_wr(e, 0x18, 0x10, 4, 0xc101);
    CU_ASSERT_PTR_NULL(iobus_find(&e->pio, 0xc000));
    CU_ASSERT_PTR_NOT_NULL(iobus_find(&e->pio, 0xc100));
    iobus_write(&e->pio, 0xc107, 1, 0x77);
    CU_ASSERT_EQUAL(f->regs[7], 0x77);

    /* Sizing while decode is on unmaps; restoring maps again. */
    cfg_wr(e, 0x18, 0x10, 4, 0xffffffffu);
    CU_ASSERT_PTR_NULL(iobus_find(&e->pio, 0xc100));
    CU_ASSERT_EQUAL(pci_bar_address(&f->dev, 0), 0);
    cfg_wr(e, 0x18, 0x10, 4, 0xc100);
    CU_ASSERT_PTR_NOT_NULL(iobus_find(&e->pio, 0xc100));

    /* The last 32 bytes of port space fit; past 64 KiB does not. */
    cfg_wr(e, 0x18, 0x10, 4, 0xffe0);
    CU_ASSERT_PTR_NOT_NULL(iobus_find(&e->pio, 0xffff));
    cfg_wr(e, 0x18, 0x10, 4, 0x10000);
    CU_ASSERT_EQUAL(pci_bar_address(&f->dev, 0), 0);
    CU_ASSERT_PTR_NULL(iobus_find(&e->pio, 0xffe0));

    /* A BAR over CONFIG_ADDRESS is refused: config space stays reachable. */
    cfg_wr(e, 0x18, 0x10, 4, 0xce0);
    CU_ASSERT_EQUAL(pci_bar_address(&f->dev, 0), 0);
    CU_ASSERT_EQUAL(cfg_rd(e, 0x18, 0x00, 4), 0x56781234u);

    /* Turning IO decode off unmaps. */
    cfg_wr(e, 0x18, 0x10, 4, 0xc100);
    CU_ASSERT_PTR_NOT_NULL(iobus_find(&e->pio, 0xc100));
    cfg_wr(e, 0x18, PCI_COMMAND, 2, 0);
    CU_ASSERT_PTR_NULL(iobus_find(&e->pio, 0xc100));

    pci_unregister(&f->dev);
    free(f);
    env_free(e);
}

static void test_mem_bar_mapping(void)
{
    struct env *e = env_new();
    struct fake *f = fake_new(e, 0x18, 0x5678);

    cfg_wr(e, 0x18, 0x14, 4, 0xfeb00000u);
    CU_ASSERT_PTR_NULL(iobus_find(&e->mmio, 0xfeb00000u));
    cfg_wr(e, 0x18, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
    CU_ASSERT_PTR_EQUAL(iobus_find(&e->mmio, 0xfeb00fffu), &f->dev.bars[1].region);
    CU_ASSERT_PTR_NULL(iobus_find(&e->mmio, 0xfeb01000u));
    iobus_write(&e->mmio, 0xfeb00010u, 1, 0x42);
    CU_ASSERT_EQUAL(f->regs[0x10], 0x42);
    CU_ASSERT_EQUAL(pci_bar_address(&f->dev, 1), 0xfeb00000u);
    cfg_wr(e, 0x18, 0x14, 4, 0xfeb10000u);
    CU_ASSERT_PTR_NULL(iobus_find(&e->mmio, 0xfeb00000u));
    CU_ASSERT_PTR_NOT_NULL(iobus_find(&e->mmio, 0xfeb10000u));

    /* Over guest RAM (16 MiB here): refused, RAM stays RAM. */
    cfg_wr(e, 0x18, 0x14, 4, 0x00100000u);
    CU_ASSERT_EQUAL(pci_bar_address(&f->dev, 1), 0);
    CU_ASSERT_PTR_NULL(iobus_find(&e->mmio, 0x00100000u));
    const struct mem_slot *s = mem_lookup(&e->mem, 0x00100000u);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(s->kind, SLOT_RAM);
    cfg_wr(e, 0x18, 0x14, 4, 0x00fff000u);                  /* last page of RAM */
    CU_ASSERT_EQUAL(pci_bar_address(&f->dev, 1), 0);
    cfg_wr(e, 0x18, 0x14, 4, 0x01000000u);                  /* just past RAM */
    CU_ASSERT_EQUAL(pci_bar_address(&f->dev, 1), 0x01000000u);
    /* Over the BIOS at the top of 4 GiB: refused. */
    cfg_wr(e, 0x18, 0x14, 4, 0xfffe0000u);
    CU_ASSERT_EQUAL(pci_bar_address(&f->dev, 1), 0);
    /* The last page below 4 GiB: the sizing pattern, never decoded. */
    cfg_wr(e, 0x18, 0x14, 4, 0xfffff000u);
    CU_ASSERT_EQUAL(pci_bar_address(&f->dev, 1), 0);

    /* 64-bit BAR: both halves form the address. */
    cfg_wr(e, 0x18, 0x18, 4, 0xfe000000u);
    CU_ASSERT_EQUAL(pci_bar_address(&f->dev, 2), 0xfe000000u);
    cfg_wr(e, 0x18, 0x1c, 4, 0x80);
    CU_ASSERT_EQUAL(pci_bar_address(&f->dev, 2), 0x80fe000000ull);
    CU_ASSERT_PTR_NOT_NULL(iobus_find(&e->mmio, 0x80fe0fffffull));
    CU_ASSERT_PTR_NULL(iobus_find(&e->mmio, 0xfe000000u));
    /* Beyond the physical address width, or wrapping past 2^64: off. */
    cfg_wr(e, 0x18, 0x1c, 4, 0x100);
    CU_ASSERT_EQUAL(pci_bar_address(&f->dev, 2), 0);
    cfg_wr(e, 0x18, 0x1c, 4, 0xffffffffu);
    cfg_wr(e, 0x18, 0x18, 4, 0xfff00000u);
    CU_ASSERT_EQUAL(pci_bar_address(&f->dev, 2), 0);
    CU_ASSERT_EQUAL(e->mmio.count, 0);

    /* ROM BAR: needs its enable bit and MEMORY. */
    cfg_wr(e, 0x18, 0x30, 4, 0xfeb40000u);
    CU_ASSERT_EQUAL(pci_bar_address(&f->dev, PCI_ROM_SLOT), 0);
    cfg_wr(e, 0x18, 0x30, 4, 0xfeb40001u);
    CU_ASSERT_EQUAL(pci_bar_address(&f->dev, PCI_ROM_SLOT), 0xfeb40000u);
    CU_ASSERT_PTR_NOT_NULL(iobus_find(&e->mmio, 0xfeb407ffu));
    CU_ASSERT_PTR_NULL(iobus_find(&e->mmio, 0xfeb40800u));
    cfg_wr(e, 0x18, PCI_COMMAND, 2, 0);
    CU_ASSERT_EQUAL(pci_bar_address(&f->dev, PCI_ROM_SLOT), 0);
    CU_ASSERT_EQUAL(e->mmio.count, 0);

    pci_unregister(&f->dev);
    free(f);
    env_free(e);
}

static void test_host_bar(void)
{
    struct env *e = env_new();
    struct pci_device *d = calloc(1, sizeof(*d));
    uint8_t *rom = aligned_alloc(4096, 64 * KiB);   /* mapped memory is page-aligned */
    uint8_t *fb = aligned_alloc(4096, 1 * MiB);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rom);
    CU_ASSERT_PTR_NOT_NULL_FATAL(fb);
    pci_device_init(d, "vga", 0x1234, 0x1111, 0x02, 0x030000);
    pci_bar_host(d, 0, 1 * MiB, true, fb, false, true);
    pci_bar_host(d, PCI_ROM_SLOT, 64 * KiB, false, rom, true, false);
    CU_ASSERT_EQUAL_FATAL(pci_register(&e->bus, d, -1), 0);

    CU_ASSERT_EQUAL(cfg_rd(e, 0, 0x10, 4), 0x00000008u);
    cfg_wr(e, 0, 0x10, 4, 0xfd000000u);
    cfg_wr(e, 0, 0x30, 4, 0xfebc0000u);
    CU_ASSERT_PTR_NULL(mem_lookup(&e->mem, 0xfd000000u));
    cfg_wr(e, 0, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
    const struct mem_slot *s = mem_lookup(&e->mem, 0xfd0fffffu);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(s->kind, SLOT_DEVICE);
    CU_ASSERT_PTR_EQUAL(s->host, fb);
    CU_ASSERT(!s->readonly);
    CU_ASSERT(s->dirty_log);
    CU_ASSERT_PTR_NULL(mem_lookup(&e->mem, 0xfebc0000u));   /* ROM not enabled */

    cfg_wr(e, 0, 0x30, 1, 0x01);
    s = mem_lookup(&e->mem, 0xfebc0000u);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_PTR_EQUAL(s->host, rom);
    CU_ASSERT(s->readonly);
    CU_ASSERT_EQUAL(s->size, 64 * KiB);

    /* Moving the framebuffer. */
    cfg_wr(e, 0, 0x10, 4, 0xfc000000u);
    CU_ASSERT_PTR_NULL(mem_lookup(&e->mem, 0xfd000000u));
    s = mem_lookup(&e->mem, 0xfc000000u);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_PTR_EQUAL(s->host, fb);

    /* Over RAM: refused, RAM still there. */
    cfg_wr(e, 0, 0x10, 4, 0x00800000u);
    CU_ASSERT_EQUAL(pci_bar_address(d, 0), 0);
    s = mem_lookup(&e->mem, 0x00800000u);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(s->kind, SLOT_RAM);
    CU_ASSERT_PTR_NULL(mem_lookup(&e->mem, 0xfc000000u));

    /* Onto the ROM's range: refused while the ROM is there. */
    cfg_wr(e, 0, 0x10, 4, 0xfeb00000u);
    CU_ASSERT_EQUAL(pci_bar_address(d, 0), 0);
    CU_ASSERT_PTR_EQUAL(mem_lookup(&e->mem, 0xfebc0000u)->host, rom);
    /* ...and taken as soon as the ROM is disabled. */
    cfg_wr(e, 0, 0x30, 1, 0x00);
    CU_ASSERT_EQUAL(pci_bar_address(d, 0), 0xfeb00000u);

    pci_bus_reset(&e->bus);
    CU_ASSERT_PTR_NULL(mem_lookup(&e->mem, 0xfeb00000u));
    CU_ASSERT_EQUAL(cfg_rd(e, 0, 0x10, 4), 0x00000008u);
    CU_ASSERT_EQUAL(cfg_rd(e, 0, 0x30, 4), 0);

    pci_unregister(d);
    free(d);
    free(rom);
    free(fb);
    env_free(e);
}

/* Two devices want the same I/O range: the second waits for the first to
 * leave rather than shadowing it. */
static void test_bar_conflict(void)
{
    struct env *e = env_new();
    struct fake *a = fake_new(e, 0x18, 0x0001);
    struct fake *b = fake_new(e, 0x20, 0x0002);
    cfg_wr(e, 0x18, 0x10, 4, 0xc000);
    cfg_wr(e, 0x18, PCI_COMMAND, 2, PCI_COMMAND_IO);
    cfg_wr(e, 0x20, 0x10, 4, 0xc000);
    cfg_wr(e, 0x20, PCI_COMMAND, 2, PCI_COMMAND_IO);
    CU_ASSERT_PTR_EQUAL(iobus_find(&e->pio, 0xc000), &a->dev.bars[0].region);
    CU_ASSERT_EQUAL(pci_bar_address(&b->dev, 0), 0);
    cfg_wr(e, 0x18, 0x10, 4, 0xd000);
    CU_ASSERT_PTR_EQUAL(iobus_find(&e->pio, 0xc000), &b->dev.bars[0].region);
    CU_ASSERT_PTR_EQUAL(iobus_find(&e->pio, 0xd000), &a->dev.bars[0].region);
    pci_unregister(&a->dev);
    pci_unregister(&b->dev);
    CU_ASSERT_PTR_NULL(iobus_find(&e->pio, 0xc000));
    free(a);
    free(b);
    env_free(e);
}

static void test_intx(void)
{
    struct env *e = env_new();
    struct pirq_log log = { { 0 }, 0 };
    pci_bus_set_router(&e->bus, record_pirq, &log);
    struct fake *a = fake_new(e, 0x18, 0x0001);      /* slot 3, INTA -> link 3 */
    struct fake *b = fake_new(e, 0x10, 0x0002);      /* slot 2, INTB -> link 3 */
    struct fake *c = fake_new(e, 0x08, 0x0003);      /* slot 1, INTA -> link 1 */
    pci_device_set_irq_pin(&b->dev, 2);

    pci_set_irq(&a->dev, 1);
    CU_ASSERT_EQUAL(log.level[3], 1);
    CU_ASSERT_EQUAL(log.calls, 1);
    CU_ASSERT_EQUAL(cfg_rd(e, 0x18, PCI_STATUS, 1) & 0x08, 0x08);
    pci_set_irq(&a->dev, 1);                         /* no change, no call */
    pci_set_irq(&b->dev, 1);                         /* link already high */
    CU_ASSERT_EQUAL(log.calls, 1);
    CU_ASSERT_EQUAL(e->bus.pirq_count[3], 2);
    pci_set_irq(&a->dev, 0);
    CU_ASSERT_EQUAL(log.level[3], 1);
    CU_ASSERT_EQUAL(log.calls, 1);
    pci_set_irq(&b->dev, 0);
    CU_ASSERT_EQUAL(log.level[3], 0);
    CU_ASSERT_EQUAL(log.calls, 2);

    pci_set_irq(&c->dev, 1);
    CU_ASSERT_EQUAL(log.level[1], 1);
    /* INTx disable masks the pin; status bit 3 still shows it. */
    cfg_wr(e, 0x08, PCI_COMMAND, 2, 0x400);
    CU_ASSERT_EQUAL(log.level[1], 0);
    CU_ASSERT_EQUAL(cfg_rd(e, 0x08, PCI_STATUS, 1) & 0x08, 0x08);
    cfg_wr(e, 0x08, PCI_COMMAND, 2, 0);
    CU_ASSERT_EQUAL(log.level[1], 1);

    /* Reset drops every level. */
    pci_set_irq(&a->dev, 1);
    pci_bus_reset(&e->bus);
    CU_ASSERT_EQUAL(log.level[1], 0);
    CU_ASSERT_EQUAL(log.level[3], 0);
    for (int i = 0; i < 4; i++)
        CU_ASSERT_EQUAL(e->bus.pirq_count[i], 0);
    CU_ASSERT_EQUAL(cfg_rd(e, 0x18, PCI_STATUS, 1) & 0x08, 0);

    pci_unregister(&a->dev);
    pci_unregister(&b->dev);
    pci_unregister(&c->dev);
    free(a);
    free(b);
    free(c);
    env_free(e);
}

static void test_reset(void)
{
    struct env *e = env_new();
    struct fake *f = fake_new(e, 0x18, 0x5678);
    cfg_wr(e, 0x18, 0x10, 4, 0xc000);
    cfg_wr(e, 0x18, 0x14, 4, 0xfeb00000u);
    cfg_wr(e, 0x18, 0x3c, 1, 11);
    cfg_wr(e, 0x18, PCI_COMMAND, 2, PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
    CU_ASSERT_PTR_NOT_NULL(iobus_find(&e->pio, 0xc000));
    pci_bus_reset(&e->bus);
    CU_ASSERT_PTR_NULL(iobus_find(&e->pio, 0xc000));
    CU_ASSERT_PTR_NULL(iobus_find(&e->mmio, 0xfeb00000u));
    CU_ASSERT_EQUAL(cfg_rd(e, 0x18, PCI_COMMAND, 2), 0);
    CU_ASSERT_EQUAL(cfg_rd(e, 0x18, 0x10, 4), 0x1);
    CU_ASSERT_EQUAL(cfg_rd(e, 0x18, 0x14, 4), 0x0);
    CU_ASSERT_EQUAL(cfg_rd(e, 0x18, 0x18, 4), 0xc);
    CU_ASSERT_EQUAL(cfg_rd(e, 0x18, 0x00, 4), 0x56781234u);
    /* Re-enabling decode alone maps nothing: the addresses are gone. */
    cfg_wr(e, 0x18, PCI_COMMAND, 2, PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
    CU_ASSERT_EQUAL(e->pio.count, 2);       /* 0xCF8 and 0xCFC only */
    CU_ASSERT_EQUAL(e->mmio.count, 0);
    pci_unregister(&f->dev);
    free(f);
    env_free(e);
}

static void test_hostile(void)
{
    struct env *e = env_new();
    struct fake *f = fake_new(e, 0x00, 0x5678);

    /* Bus 1..255 does not exist: reads all ones, writes go nowhere. */
    select_reg(e, 1, 0x00, PCI_COMMAND);
    CU_ASSERT_EQUAL(iobus_read(&e->pio, 0xCFC, 4), 0xffffffffu);
    iobus_write(&e->pio, 0xCFC, 2, PCI_COMMAND_IO);
    select_reg(e, 0xff, 0x00, 0);
    CU_ASSERT_EQUAL(iobus_read(&e->pio, 0xCFC, 4), 0xffffffffu);
    CU_ASSERT_EQUAL(cfg_rd(e, 0x00, PCI_COMMAND, 2), 0);

    /* Offsets at the end of config space with wide sizes. */
    f->dev.wmask[0xff] = 0xff;
    CU_ASSERT_EQUAL(pci_config_read(&e->bus, 0, 0xff, 4), 0xffffffffu);
    CU_ASSERT_EQUAL(pci_config_read(&e->bus, 0, 0xfe, 4), 0xffffffffu);
    CU_ASSERT_EQUAL(pci_config_read(&e->bus, 0, 0x100, 1), 0xff);
    CU_ASSERT_EQUAL(pci_config_read(&e->bus, 0, 0, 3), 0xffffffu);
    pci_config_write(&e->bus, 0, 0xff, 4, 0x12345678u);
    pci_config_write(&e->bus, 0, 0xfd, 4, 0x12345678u);
    pci_config_write(&e->bus, 0, 0x1000, 1, 0x12);
    CU_ASSERT_EQUAL(f->dev.config[0xff], 0);
    pci_config_write(&e->bus, 0, 0xff, 1, 0x5a);             /* a legal byte write */
    CU_ASSERT_EQUAL(pci_config_read(&e->bus, 0, 0xff, 1), 0x5a);
    CU_ASSERT_EQUAL(cfg_rd(e, 0, 0xfc, 4), 0x5a000000u);
    /* Out-of-range devfn through the API. */
    CU_ASSERT_EQUAL(pci_config_read(&e->bus, 256, 0, 4), 0xffffffffu);
    CU_ASSERT_EQUAL(pci_config_read(&e->bus, -1, 0, 2), 0xffff);
    pci_config_write(&e->bus, -7, 0, 4, 0);

    /* Unaligned dword at 0xCFE: split, no byte past the register. */
    select_reg(e, 0, 0, 0);
    CU_ASSERT_EQUAL(iobus_read(&e->pio, 0xCFE, 4), 0xffff5678u);

    /* A 32-bit BAR whose range would wrap past 4 GiB. */
    cfg_wr(e, 0, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_IO);
    cfg_wr(e, 0, 0x14, 4, 0xfffff000u);
    CU_ASSERT_EQUAL(pci_bar_address(&f->dev, 1), 0);
    CU_ASSERT_EQUAL(e->mmio.count, 0);
    cfg_wr(e, 0, 0x10, 4, 0xfffffff0u);
    CU_ASSERT_EQUAL(pci_bar_address(&f->dev, 0), 0);

    /* Registration collisions are refused. */
    struct pci_device other;
    pci_device_init(&other, "other", 0x1, 0x2, 0, 0);
    CU_ASSERT_EQUAL(pci_register(&e->bus, &other, 0x00), -1);
    CU_ASSERT_EQUAL(pci_register(&e->bus, &other, 256), -1);
    CU_ASSERT_EQUAL(pci_register(&e->bus, &other, -1), 0x08);
    pci_unregister(&other);

    pci_unregister(&f->dev);
    free(f);
    env_free(e);
}

void suite_pci(void)
{
    CU_pSuite s = CU_add_suite("pci", NULL, NULL);
    CU_add_test(s, "mechanism #1 reads, absent devices", test_mechanism1);
    CU_add_test(s, "read-only IDs, command mask, status w1c", test_readonly_and_w1c);
    CU_add_test(s, "BAR sizing: I/O, mem32, mem64, ROM", test_bar_sizing);
    CU_add_test(s, "I/O BAR mapping follows command and BAR", test_io_bar_mapping);
    CU_add_test(s, "memory BAR mapping, RAM refusal, 64-bit, ROM", test_mem_bar_mapping);
    CU_add_test(s, "host-memory BARs in the memory map", test_host_bar);
    CU_add_test(s, "conflicting BARs resolve when one moves", test_bar_conflict);
    CU_add_test(s, "INTx link aggregation and INTx disable", test_intx);
    CU_add_test(s, "bus reset", test_reset);
    CU_add_test(s, "hostile config accesses and BAR values", test_hostile);
}
