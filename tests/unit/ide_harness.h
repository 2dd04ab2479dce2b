/* Shared by test_ide.c and test_atapi.c: a PCI bus, guest RAM, a real
 * struct aio and the PIIX3 IDE function, driven through ports as a guest
 * would.  Requests complete only when a test calls aio_drain(). */
#ifndef TEST_IDE_HARNESS_H
#define TEST_IDE_HARNESS_H

#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

#include "../../vmm/aio.h"
#include "../../vmm/block/block.h"
#include "../../vmm/devices/ide/ide.h"
#include "../../vmm/devices/pci.h"

#define H_BIOS_SIZE (128 * KiB)
#define H_RAM (16 * MiB)
#define H_BM 0xC000u

struct h {
    struct logger lg;
    struct iobus pio, mmio;
    struct guest_mem mem;
    uint8_t *bios;
    struct pci_bus bus;
    struct aio aio;
    struct ide *ide;
    int level[2];
    int edges[2];
};

static void h_irq(void *o, int n, int level)
{
    struct h *h = o;
    if (level && !h->level[n])
        h->edges[n]++;
    h->level[n] = level;
}

static inline struct h *h_new(void)
{
    struct h *h = calloc(1, sizeof(*h));
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    h->lg = (struct logger){ LOG_ERROR, 2 };
    iobus_init(&h->pio, "pio", &h->lg);
    iobus_init(&h->mmio, "mmio", &h->lg);
    h->bios = calloc(1, H_BIOS_SIZE);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h->bios);
    CU_ASSERT_EQUAL_FATAL(mem_init(&h->mem, H_RAM, h->bios, H_BIOS_SIZE), 0);
    pci_bus_init(&h->bus, &h->pio, &h->mmio, &h->mem, &h->lg);
    CU_ASSERT_EQUAL_FATAL(aio_init(&h->aio, NULL, 2), 0);
    h->ide = ide_create(&h->bus, &h->pio, &h->mem, &h->aio, (struct irq){ h_irq, h, 0 },
                        (struct irq){ h_irq, h, 1 }, &h->lg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h->ide);
    /* What firmware does: BAR4 at H_BM, I/O decode and bus mastering on. */
    pci_config_write(&h->bus, IDE_PCI_DEVFN, 0x20, 4, H_BM);
    pci_config_write(&h->bus, IDE_PCI_DEVFN, 0x04, 2, 0x0005);
    return h;
}

static inline void h_free(struct h *h)
{
    aio_destroy(&h->aio);
    ide_destroy(h->ide);
    mem_destroy(&h->mem);
    free(h->bios);
    free(h);
}

static inline uint8_t inb(struct h *h, uint16_t p) { return (uint8_t)iobus_read(&h->pio, p, 1); }
static inline uint16_t inw(struct h *h, uint16_t p) { return (uint16_t)iobus_read(&h->pio, p, 2); }
static inline uint32_t inl(struct h *h, uint16_t p) { return (uint32_t)iobus_read(&h->pio, p, 4); }
static inline void outb(struct h *h, uint16_t p, uint8_t v) { iobus_write(&h->pio, p, 1, v); }
static inline void outw(struct h *h, uint16_t p, uint16_t v) { iobus_write(&h->pio, p, 2, v); }
static inline void outl(struct h *h, uint16_t p, uint32_t v) { iobus_write(&h->pio, p, 4, v); }

static inline uint16_t cmdbase(int ch) { return ch ? 0x170 : 0x1F0; }
static inline uint16_t ctlport(int ch) { return ch ? 0x376 : 0x3F6; }
static inline uint16_t bmbase(int ch) { return (uint16_t)(H_BM + 8 * ch); }

/* One PRD entry in guest RAM. */
static inline void h_prd(struct h *h, uint32_t table, unsigned i, uint32_t addr, uint32_t count,
                         bool eot)
{
    uint8_t e[8] = { (uint8_t)addr, (uint8_t)(addr >> 8), (uint8_t)(addr >> 16),
                     (uint8_t)(addr >> 24), (uint8_t)count, (uint8_t)(count >> 8), 0,
                     eot ? 0x80 : 0 };
    CU_ASSERT_EQUAL_FATAL(mem_write(&h->mem, table + 8 * i, e, 8), 0);
}

static inline void h_bm_setup(struct h *h, int ch, uint32_t table, bool tomem)
{
    outl(h, bmbase(ch) + 4, table);
    outb(h, bmbase(ch) + 2, 0x06);                  /* clear ERR and INT */
    outb(h, bmbase(ch), tomem ? 0x08 : 0x00);
}

static inline void h_bm_start(struct h *h, int ch, bool tomem)
{
    outb(h, bmbase(ch), (uint8_t)((tomem ? 0x08 : 0x00) | 0x01));
}

#endif
