/* PIIX3 IDE: both legacy channels (task file and device control), the
 * bus-master registers behind BAR4 (at 0xC000 unless the guest moves it
 * through 0xCF8) with PRD tables and data buffers in a fuzzed 2 MiB guest
 * RAM, ATA disks and ATAPI CD-ROMs on memory images.  Image transfers run
 * on a real aio worker and complete on FZ_SYNC (aio_drain), so guest
 * accesses, resets and ejects also land while a request is in flight.
 *
 * Config byte 0: 2 bits per drive slot (ch0 master, ch0 slave, ch1 master,
 * ch1 slave): 0 none, 1 disk, 2 CD-ROM with a disc, 3 empty CD-ROM.
 * Byte 1: disk size in 16 KiB units - 1 (low 6 bits), bit 7 read-only.
 * Byte 2: disc size in 16 KiB units - 1 (low 4 bits).
 * Byte 3 bit 0: leave the PCI command register alone (no bus master). */
#include <stdlib.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../../vmm/aio.h"
#include "../../vmm/block/block.h"
#include "../../vmm/devices/ide/ide.h"
#include "../../vmm/devices/pci.h"
#include "common.h"

#define BM_BASE 0xC000

struct h {
    struct pci_bus bus;
    struct aio aio;
    struct ide *ide;
    struct fz_irq_sink irq;
};

static struct block_backend *image(const struct fz_ctx *c, uint64_t size, bool ro)
{
    struct block_backend *bb = block_open_mem(size, ro);
    if (bb && block_mem_data(bb))
        fz_blob_copy(c, 0, block_mem_data(bb), 4096);   /* something to read back */
    return bb;
}

static void attach_drives(struct fz_ctx *c, struct h *h)
{
    uint64_t disk = (1 + (c->config[1] & 63)) * 16 * KiB;
    uint64_t disc = (1 + (c->config[2] & 15)) * 16 * KiB;
    for (int slot = 0; slot < 4; slot++) {
        unsigned kind = (c->config[0] >> (2 * slot)) & 3;
        int ch = slot >> 1, unit = slot & 1;
        struct block_backend *bb = NULL;
        if (kind == 1) {
            bb = image(c, disk, c->config[1] & 0x80);
            if (bb && ide_attach(h->ide, ch, unit, IDE_DISK, bb) < 0)
                block_close(bb);
        } else if (kind == 2) {
            bb = image(c, disc, true);
            if (bb && ide_attach(h->ide, ch, unit, IDE_CDROM, bb) < 0)
                block_close(bb);
        } else if (kind == 3) {
            ide_attach(h->ide, ch, unit, IDE_CDROM, NULL);
        }
    }
}

static void event(struct fz_ctx *c, const struct fz_op *op)
{
    struct h *h = c->h;
    int ch = (int)(op->value & 1), unit = (int)(op->value >> 1) & 1;
    char err[128];
    uint16_t cyl;
    uint8_t heads, secs;
    switch (op->raw_off & 3) {
    case 0:     /* the monitor's `eject` (forced or not), maybe mid-request */
        ide_cd_eject(h->ide, ch, unit, (op->value >> 2) & 1, err, sizeof(err));
        break;
    case 1:
        ide_disk_geometry(h->ide, ch, unit, &cyl, &heads, &secs);
        break;
    case 2:     /* the guest rewrites a PRD table/buffer while DMA runs */
        mem_write(&c->mem, (uint32_t)op->value & (FZ_RAM_SIZE - 1), &op->value, 4);
        break;
    default:
        ide_drive_kind(h->ide, ch, unit);
        break;
    }
}

static void reset(struct fz_ctx *c)
{
    ide_reset(((struct h *)c->h)->ide);
}

static void drain(struct fz_ctx *c)
{
    aio_drain(&((struct h *)c->h)->aio);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz_ctx c;
    struct h *h = calloc(1, sizeof(*h));
    fz_init(&c, data, size);
    if (!h || fz_mem_init(&c) < 0)
        goto out;
    c.h = h;
    pci_bus_init(&h->bus, &c.pio, &c.mmio, &c.mem, &c.log);
    if (aio_init(&h->aio, NULL, 1) < 0)
        goto out;
    h->ide = ide_create(&h->bus, &c.pio, &c.mem, &h->aio,
                        (struct irq){ fz_irq_handler, &h->irq, 14 },
                        (struct irq){ fz_irq_handler, &h->irq, 15 }, &c.log);
    if (h->ide) {
        attach_drives(&c, h);
        /* What the firmware does; the fuzzer may undo it through 0xCF8. */
        pci_config_write(&h->bus, IDE_PCI_DEVFN, 0x20, 4, BM_BASE);
        if (!(c.config[3] & 1))
            pci_config_write(&h->bus, IDE_PCI_DEVFN, PCI_COMMAND, 2, 0x0005);
        fz_add_window(&c, &c.pio, 0x1F0, 8);
        fz_add_window(&c, &c.pio, 0x3F6, 1);
        fz_add_window(&c, &c.pio, 0x170, 8);
        fz_add_window(&c, &c.pio, 0x376, 1);
        fz_add_window(&c, &c.pio, BM_BASE, 16);
        fz_add_window(&c, &c.pio, 0xCF8, 8);
        static const struct fz_hooks hooks = { event, reset, drain };
        fz_run(&c, &hooks);
    }
    /* Nothing may be in flight when the controller goes away. */
    aio_destroy(&h->aio);
    ide_destroy(h->ide);
out:
    fz_fini(&c);
    free(h);
    return 0;
}
