/* What minus1 hands the guest firmware (SeaBIOS) before power-on: the
 * fw_cfg items and files it reads, and the PC CMOS configuration bytes.
 *
 * Call each once, after creating the device and before the first vCPU
 * instruction (fw_cfg has no way to remove a file, and the CMOS bytes
 * must be in place before the RTC hands them to the guest).  Everything
 * follows what QEMU gives SeaBIOS on an i440FX PC, with the differences
 * called out below. */
#ifndef MINUS1_FIRMWARE_H
#define MINUS1_FIRMWARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../vmm/memory.h"

struct fw_cfg;
struct rtc;

enum fw_boot_device {
    FW_BOOT_DEFAULT,    /* QEMU's default: hard disk, floppy, CD-ROM (CMOS only) */
    FW_BOOT_CD,         /* CD-ROMs first, then hard disks */
    FW_BOOT_DISK,       /* hard disks first, then CD-ROMs */
};

/* How the BIOS maps INT 13h CHS onto a disk (CMOS 0x39, two bits per
 * drive; SeaBIOS's encoding). */
enum fw_ata_translation {
    FW_ATA_TRANS_NONE = 0,
    FW_ATA_TRANS_LBA = 1,
    FW_ATA_TRANS_LARGE = 2,
    FW_ATA_TRANS_RECHS = 3,
};

/* An IDE device behind the PIIX IDE function: it goes into "bootorder"
 * and, for hard disks, into the CMOS disk bytes. */
struct fw_ide_drive {
    uint8_t channel;    /* 0 primary, 1 secondary */
    uint8_t unit;       /* 0 master, 1 slave */
    bool cdrom;
    /* Hard disks only: the physical geometry IDENTIFY reports and the
     * translation (see firmware_ata_auto_translation()). */
    uint16_t cylinders;
    uint8_t heads, sectors;
    enum fw_ata_translation translation;
};

#define FW_MAX_IDE_DRIVES 4
#define FW_MAX_RESERVED 8

/* A range the e820 map reports as reserved (e.g. the pages KVM needs for
 * its real-mode TSS and identity map, which QEMU reserves too). */
struct fw_e820_range {
    uint64_t addr, len;
};

/* SeaBIOS waits this long after "No bootable device." and then reboots
 * (and tries again).  SeaBIOS's own default is 60 s; QEMU's default is
 * "never" (FW_BOOT_FAIL_WAIT_NEVER).  minus1 keeps retrying slowly, so a
 * medium attached later is found without a reset from outside. */
#define FW_BOOT_FAIL_WAIT_DEFAULT_MS 60000u
#define FW_BOOT_FAIL_WAIT_NEVER UINT32_MAX

struct firmware_opts {
    enum fw_boot_device boot_device;
    unsigned ncpus;                 /* 0 means 1 */
    bool nographic;                 /* SeaBIOS then uses COM1 unless sercon_port says */
    uint16_t sercon_port;           /* SeaBIOS serial console port; 0 = none */
    bool boot_menu;                 /* "Press ESC for boot menu" prompt */
    uint16_t boot_menu_wait_ms;     /* 0 = SeaBIOS's default (2.5 s) */
    uint32_t boot_fail_wait_ms;     /* 0 = FW_BOOT_FAIL_WAIT_DEFAULT_MS */
    bool boot_strict;               /* only boot what "bootorder" lists (adds HALT) */
    bool irq0_override;             /* ISA IRQ0 is wired to IOAPIC pin 2 (QEMU: yes) */
    const uint8_t *uuid;            /* 16 bytes for SMBIOS, or NULL for zeros */

    /* The PIIX IDE function and the drives on it. */
    uint8_t ide_pci_slot, ide_pci_fn;
    struct fw_ide_drive ide[FW_MAX_IDE_DRIVES];
    unsigned n_ide;

    struct fw_e820_range reserved[FW_MAX_RESERVED];
    unsigned n_reserved;
};

/* One packed "etc/e820" entry is 20 bytes: le64 address, le64 length,
 * le32 type. */
#define FW_E820_ENTRY_SIZE 20
#define FW_E820_RAM 1
#define FW_E820_RESERVED 2

/* Fills the fw_cfg device with everything SeaBIOS reads.  Returns 0, or
 * -1 if an item could not be added (out of memory, too many files) or
 * the options are invalid (an IDE channel/unit above 1, too many
 * drives or reserved ranges). */
int firmware_setup_fw_cfg(struct fw_cfg *f, const struct guest_mem *mem,
                          const struct firmware_opts *o);

/* Stores the CMOS configuration bytes (memory sizes, boot order, CPU
 * count, equipment, hard disk types and translation).  The RTC's own
 * registers (time, century, status) are left to the RTC.  Invalid IDE
 * entries (channel/unit above 1) are skipped. */
void firmware_setup_cmos(struct rtc *rtc, const struct guest_mem *mem,
                         const struct firmware_opts *o);

/* QEMU's choice for a disk without a partition table to guess from: no
 * translation if the geometry fits the BIOS limits (1024/16/63), LBA
 * otherwise. */
enum fw_ata_translation firmware_ata_auto_translation(unsigned cylinders, unsigned heads,
                                                      unsigned sectors);

/* The OpenFirmware path SeaBIOS matches for an ATA/ATAPI device on a PCI
 * IDE controller, e.g. "/pci@i0cf8/ide@1,1/drive@1/disk@0" for the
 * secondary master behind 00:01.1.  Returns the length, or -1 if it does
 * not fit or an argument is out of range. */
int firmware_ide_path(char *buf, size_t size, unsigned pci_slot, unsigned pci_fn,
                      unsigned channel, unsigned unit);

/* The "bootorder" text (entries separated by '\n', NUL included in the
 * length, as QEMU builds it) into buf.  Returns the length including the
 * NUL, 0 for an empty boot order, or -1 if buf is too small. */
int firmware_bootorder(char *buf, size_t size, const struct firmware_opts *o);

/* The "etc/e820" table into buf (FW_E820_ENTRY_SIZE bytes per entry).
 * Returns the byte length, or -1 if buf is too small. */
int firmware_e820(uint8_t *buf, size_t size, const struct guest_mem *mem,
                  const struct firmware_opts *o);

#endif
