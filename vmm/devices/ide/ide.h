/* The PIIX3 IDE function (PCI 8086:7010, 00:01.1): two legacy channels
 * (0x1F0-0x1F7/0x3F6 on IRQ14, 0x170-0x177/0x376 on IRQ15), a bus-master
 * DMA engine behind BAR4, and up to four drives: ATA disks and ATAPI
 * CD-ROMs on block backends (vmm/block/block.h).
 *
 * Image data never moves on the vCPU thread: a command that needs the
 * image queues a request on the struct aio and keeps BSY set; the request
 * completes on the event loop (machine lock held), where the drive sets
 * DRQ / status and raises its IRQ.  Call aio_destroy() (or aio_drain())
 * before ide_destroy(). */
#ifndef MINUS1_IDE_H
#define MINUS1_IDE_H

#include <stdbool.h>
#include <stdint.h>

#include "../../aio.h"
#include "../../iobus.h"
#include "../../irq.h"
#include "../../log.h"
#include "../../memory.h"
#include "../../block/block.h"

struct ide;
struct pci_bus;
struct monitor;

enum ide_kind { IDE_NONE = 0, IDE_DISK, IDE_CDROM };

#define IDE_PCI_DEVFN 0x09      /* 00:01.1 */

/* Registers the PCI function at IDE_PCI_DEVFN and the legacy ports.
 * irq14/irq15 are the ISA lines (edge: the level follows INTRQ, gated by
 * nIEN).  NULL on failure (logged). */
struct ide *ide_create(struct pci_bus *bus, struct iobus *pio, struct guest_mem *mem,
                       struct aio *aio, struct irq irq14, struct irq irq15,
                       const struct logger *log);
/* Frees the controller and closes the attached backends.  No request may
 * be in flight (aio_destroy/aio_drain first). */
void ide_destroy(struct ide *ide);

/* channel 0/1, unit 0 (master) / 1 (slave).  The drive takes ownership of
 * bb (closed by ide_destroy or when a CD is changed/ejected).  bb NULL is
 * allowed for IDE_CDROM only (an empty drive).  Returns 0, or -1 for bad
 * arguments / a slot already in use / a disk without an image. */
int ide_attach(struct ide *ide, int channel, int unit, enum ide_kind kind,
               struct block_backend *bb);

/* Machine reset: power-on state for the controller and every drive
 * (media stay inserted). */
void ide_reset(struct ide *ide);

/* Physical CHS geometry a disk reports in IDENTIFY (what the firmware
 * puts in CMOS / struct fw_ide_drive).  Returns 0, or -1 if that slot is
 * not a disk. */
int ide_disk_geometry(const struct ide *ide, int channel, int unit, uint16_t *cylinders,
                      uint8_t *heads, uint8_t *sectors);
/* What sits in a slot (IDE_NONE if nothing). */
enum ide_kind ide_drive_kind(const struct ide *ide, int channel, int unit);

/* Monitor commands: `info block`, `eject [-f] DEV`, `change DEV PATH`.
 * DEV is "cdrom" (the first CD-ROM drive) or a drive name from `info
 * block` (ide0-hd0, ide1-cd0 ...).  change gives the guest a UNIT
 * ATTENTION (medium may have changed). */
void ide_register_monitor(struct ide *ide, struct monitor *mon);

/* The same operations without the monitor (machine code, tests).  Return
 * 0 or -1 with a one-line message in err. */
int ide_cd_change(struct ide *ide, int channel, int unit, const char *path, char *err,
                  size_t errlen);
int ide_cd_eject(struct ide *ide, int channel, int unit, bool force, char *err, size_t errlen);

#endif
