/* The ACPI tables minus1 hands SeaBIOS, QEMU-style: the tables in the
 * fw_cfg file "etc/acpi/tables", the RSDP in "etc/acpi/rsdp", and the
 * linker/loader script "etc/table-loader" that tells SeaBIOS where to
 * put them (ALLOCATE), which fields to relocate (ADD_POINTER) and which
 * checksums to fix (ADD_CHECKSUM).  With the script present SeaBIOS
 * builds no tables of its own and moves its PM base to 0x600.
 *
 * Tables: RSDP (rev 2), RSDT, XSDT, FADT (rev 3), FACS and the DSDT
 * (firmware/acpi/dsdt.asl, compiled by iasl at build time).  No MADT:
 * the board has no local APIC and no IOAPIC. */
#ifndef MINUS1_ACPI_TABLES_H
#define MINUS1_ACPI_TABLES_H

#include <stddef.h>
#include <stdint.h>

struct fw_cfg;

/* fw_cfg file names (the QEMU/SeaBIOS ABI). */
#define ACPI_FILE_TABLES "etc/acpi/tables"
#define ACPI_FILE_RSDP   "etc/acpi/rsdp"
#define ACPI_FILE_LOADER "etc/table-loader"

/* The PM I/O base SeaBIOS programs into the PIIX4 PMBA when it finds
 * etc/table-loader (src/fw/paravirt.c); the FADT's blocks follow from it. */
#define ACPI_PM_BASE_DEFAULT 0x600

/* What the FADT describes: the PM function's fixed-feature blocks,
 * the SCI and the reset register. */
struct acpi_board {
    uint16_t pm1a_evt;          /* PM1 status/enable, 4 bytes */
    uint16_t pm1a_cnt;          /* PM1 control, 2 bytes */
    uint16_t pm_tmr;            /* PM timer, 4 bytes (24 bits) */
    uint16_t gpe0;              /* GPE0 status/enable, or 0 for none */
    uint8_t gpe0_len;           /* bytes, even */
    uint8_t sci_irq;
    uint16_t reset_port;        /* FADT RESET_REG (I/O, 8 bits); 0 = none */
    uint8_t reset_value;
};

/* minus1's board: PIIX4-style PM at pm_base (PM1 at +0, control at +4,
 * timer at +8, GPE0 at +0x0C), SCI on IRQ 9, reset through 0xCF9 = 6. */
void acpi_board_default(struct acpi_board *b, uint16_t pm_base);

/* ---- the built blobs (exposed for tests) ---- */

/* Linker/loader commands: 128-byte entries, little endian. */
#define ACPI_LOADER_ENTRY_SIZE   128
#define ACPI_LOADER_FILESZ       56
#define ACPI_LOADER_ALLOCATE     1
#define ACPI_LOADER_ADD_POINTER  2
#define ACPI_LOADER_ADD_CHECKSUM 3
#define ACPI_LOADER_ZONE_HIGH    1
#define ACPI_LOADER_ZONE_FSEG    2

#define ACPI_TABLES_MAX 8192
#define ACPI_LOADER_MAX_ENTRIES 16

struct acpi_blobs {
    uint8_t tables[ACPI_TABLES_MAX];
    uint32_t tables_len;
    uint8_t rsdp[36];
    uint8_t loader[ACPI_LOADER_MAX_ENTRIES * ACPI_LOADER_ENTRY_SIZE];
    uint32_t loader_len;
    /* Where each table starts in tables[] (and its length). */
    uint32_t facs_off, dsdt_off, fadt_off, rsdt_off, xsdt_off;
    uint32_t dsdt_len;
};

/* Builds everything into *out.  Pointers in the blobs hold offsets
 * inside "etc/acpi/tables" (the loader adds the base) and every checksum
 * is already right for those values.  Returns 0, or -1 if the board is
 * invalid (no PM1 blocks, odd GPE0 length) or something does not fit. */
int acpi_build(struct acpi_blobs *out, const struct acpi_board *b);

/* Builds the tables and adds the three fw_cfg files.  Call once, after
 * firmware_setup_fw_cfg().  Returns 0 or -1. */
int firmware_setup_acpi(struct fw_cfg *f, const struct acpi_board *b);

/* The 8-bit sum of len bytes (a valid table sums to 0). */
uint8_t acpi_checksum(const uint8_t *p, size_t len);

#endif
