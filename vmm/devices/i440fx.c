/* i440FX PMC host bridge, 00:00.0 (82441FX datasheet, section 3.2).
 * Only the Programmable Attribute Map has an effect on the machine; the
 * DRAM and cache control registers are plain storage for the firmware. */
#include "i440fx.h"

#include <stdlib.h>

#define I440FX_PAM0      0x59    /* high nibble: 0xF0000-0xFFFFF */
#define I440FX_PAM_LAST  0x5f
#define I440FX_SMRAM     0x72
#define SMRAM_DEFAULT    0x02    /* C_BASE_SEG = 010: SMRAM at 0xA0000 */
#define SMRAM_D_OPEN     0x40
#define SMRAM_D_CLS      0x20
#define SMRAM_D_LCK      0x10
#define SMRAM_G_SMRAME   0x08
#define SMRAM_WMASK      (SMRAM_D_OPEN | SMRAM_D_CLS | SMRAM_D_LCK | SMRAM_G_SMRAME)

struct i440fx {
    struct pci_device dev;
    struct guest_mem *mem;
};

/* Register and nibble shift that hold PAM segment seg (memory.h order). */
static void pam_location(unsigned seg, unsigned *reg, unsigned *shift)
{
    if (seg == 0) {
        *reg = I440FX_PAM0;
        *shift = 4;
    } else {
        *reg = I440FX_PAM0 + 1 + (seg - 1) / 2;
        *shift = ((seg - 1) & 1) ? 4 : 0;
    }
}

/* Bit 0 = RE, bit 1 = WE of each nibble: exactly enum pam_mode.
 * memory.c ignores a segment whose mode is unchanged, so calling it for
 * every segment on each write costs nothing. */
static void pam_sync(struct i440fx *h)
{
    for (unsigned seg = 0; seg < PAM_SEGMENTS; seg++) {
        unsigned reg, shift;
        pam_location(seg, &reg, &shift);
        mem_set_pam(h->mem, seg, (enum pam_mode)((h->dev.config[reg] >> shift) & 3));
    }
}

/* D_LCK freezes D_OPEN (cleared), D_LCK and G_SMRAME until reset. */
static void smram_write(struct i440fx *h)
{
    uint8_t *r = &h->dev.config[I440FX_SMRAM];
    if (*r & SMRAM_D_LCK) {
        *r &= (uint8_t)~SMRAM_D_OPEN;
        h->dev.wmask[I440FX_SMRAM] = SMRAM_D_CLS;
    }
}

static void i440fx_config_write(struct pci_device *d, unsigned off, unsigned size, uint32_t val)
{
    struct i440fx *h = d->opaque;
    (void)val;
    if (off <= I440FX_PAM_LAST && off + size > I440FX_PAM0)
        pam_sync(h);
    if (off <= I440FX_SMRAM && off + size > I440FX_SMRAM)
        smram_write(h);
}

void i440fx_reset(struct i440fx *h)
{
    struct pci_device *d = &h->dev;
    for (unsigned reg = 0x40; reg < 0x100; reg++)
        d->config[reg] = 0;
    d->config[I440FX_SMRAM] = SMRAM_DEFAULT;
    d->wmask[I440FX_SMRAM] = SMRAM_WMASK;
    pam_sync(h);
}

struct i440fx *i440fx_create(struct pci_bus *bus, struct guest_mem *mem)
{
    if (!mem)
        return NULL;
    struct i440fx *h = calloc(1, sizeof(*h));
    if (!h)
        return NULL;
    struct pci_device *d = &h->dev;
    pci_device_init(d, "i440fx", 0x8086, 0x1237, 0x02, 0x060000);
    d->opaque = h;
    d->config_write = i440fx_config_write;
    h->mem = mem;
    /* Memory and bus-master enable are hardwired on; only PERR#/SERR#
     * response can be changed.  Status: fast back-to-back, medium DEVSEL. */
    d->config[PCI_COMMAND] = PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
    d->wmask[PCI_COMMAND] = 0x40;
    d->wmask[PCI_COMMAND + 1] = 0x01;
    d->config[PCI_STATUS] = 0x80;
    d->config[PCI_STATUS + 1] = 0x02;
    /* Device-specific registers are read/write storage, except the
     * reserved bits of the PAM nibbles (only RE/WE exist). */
    for (unsigned reg = 0x40; reg < 0x100; reg++)
        d->wmask[reg] = 0xff;
    d->wmask[I440FX_PAM0] = 0x30;
    for (unsigned reg = I440FX_PAM0 + 1; reg <= I440FX_PAM_LAST; reg++)
        d->wmask[reg] = 0x33;
    i440fx_reset(h);
    if (pci_register(bus, d, 0) < 0) {
        free(h);
        return NULL;
    }
    return h;
}

void i440fx_destroy(struct i440fx *h)
{
    if (!h)
        return;
    pci_unregister(&h->dev);
    free(h);
}
