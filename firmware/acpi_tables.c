/* ACPI tables and the SeaBIOS linker/loader script (see acpi_tables.h).
 * Layouts follow the ACPI specification (2.0/3.0 table formats); the
 * loader's entry format is SeaBIOS's src/fw/romfile_loader.h. */
#include "acpi_tables.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "../vmm/devices/fw_cfg.h"

/* The DSDT, compiled from firmware/acpi/dsdt.asl (firmware/acpi/acpi.mk). */
static const uint8_t dsdt_aml[] = {
#include "dsdt.inc"
};

#define HDR_LEN 36
#define FACS_LEN 64
#define FADT_LEN 244            /* revision 3 */
#define FADT_REV 3

/* FADT field offsets. */
#define FADT_FIRMWARE_CTRL  36
#define FADT_DSDT           40
#define FADT_SCI_INT        46
#define FADT_PM1A_EVT       56
#define FADT_PM1A_CNT       64
#define FADT_PM_TMR         76
#define FADT_GPE0           80
#define FADT_PM1_EVT_LEN    88
#define FADT_PM1_CNT_LEN    89
#define FADT_PM_TMR_LEN     91
#define FADT_GPE0_LEN       92
#define FADT_P_LVL2_LAT     96
#define FADT_P_LVL3_LAT     98
#define FADT_CENTURY        108
#define FADT_IAPC_BOOT_ARCH 109
#define FADT_FLAGS          112
#define FADT_RESET_REG      116
#define FADT_RESET_VALUE    128
#define FADT_X_DSDT         140
#define FADT_X_PM1A_EVT     148
#define FADT_X_PM1A_CNT     172
#define FADT_X_PM_TMR       208
#define FADT_X_GPE0         220

/* FADT flags. */
#define F_WBINVD            (1u << 0)
#define F_PROC_C1           (1u << 2)
#define F_SLP_BUTTON        (1u << 5)   /* set: no sleep button */
#define F_RESET_REG_SUP     (1u << 10)
/* PWR_BUTTON (bit 4) stays clear: the power button is the fixed feature. */

#define BOOT_ARCH_LEGACY    (1u << 0)   /* ISA devices */
#define BOOT_ARCH_8042      (1u << 1)

#define GAS_SYSTEM_IO 1

#define RTC_CENTURY_REG 0x32            /* vmm/devices/rtc.c keeps it there */

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)v);
    put16(p + 2, (uint16_t)(v >> 16));
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

uint8_t acpi_checksum(const uint8_t *p, size_t len)
{
    uint8_t sum = 0;
    for (size_t i = 0; i < len; i++)
        sum = (uint8_t)(sum + p[i]);
    return sum;
}

/* Makes the table at p sum to zero through the byte at p[off]. */
static void fix_checksum(uint8_t *p, size_t len, size_t off)
{
    p[off] = 0;
    p[off] = (uint8_t)-acpi_checksum(p, len);
}

static void table_header(uint8_t *p, const char sig[4], uint32_t len, uint8_t rev)
{
    memcpy(p, sig, 4);
    put32(p + 4, len);
    p[8] = rev;
    memcpy(p + 10, "MINUS1", 6);
    memcpy(p + 16, "MINUS1PC", 8);
    put32(p + 24, 1);                   /* OEM revision */
    memcpy(p + 28, "MNS1", 4);          /* creator */
    put32(p + 32, 1);
}

/* A Generic Address Structure for an I/O block of `bytes` bytes. */
static void put_gas_io(uint8_t *p, uint16_t port, unsigned bytes)
{
    if (!port)
        return;                         /* all zero: not present */
    p[0] = GAS_SYSTEM_IO;
    p[1] = (uint8_t)(bytes * 8);
    p[2] = 0;
    p[3] = 0;                           /* access size: legacy, by width */
    put64(p + 4, port);
}

static void build_facs(uint8_t *p)
{
    memcpy(p, "FACS", 4);
    put32(p + 4, FACS_LEN);
    /* hardware signature, waking vectors, global lock, flags: 0 */
    p[32] = 1;                          /* version (ACPI 2.0/3.0 layout) */
}

static void build_fadt(uint8_t *p, const struct acpi_board *b, uint32_t facs_off,
                       uint32_t dsdt_off)
{
    table_header(p, "FACP", FADT_LEN, FADT_REV);
    put32(p + FADT_FIRMWARE_CTRL, facs_off);
    put32(p + FADT_DSDT, dsdt_off);
    /* INT_MODEL (44) 0: dual 8259; preferred profile (45) 0: unspecified. */
    put16(p + FADT_SCI_INT, b->sci_irq);
    /* SMI_CMD, ACPI_ENABLE, ACPI_DISABLE 0: no SMM, the hardware is in
     * ACPI mode from reset (SCI_EN set). */
    put32(p + FADT_PM1A_EVT, b->pm1a_evt);
    put32(p + FADT_PM1A_CNT, b->pm1a_cnt);
    put32(p + FADT_PM_TMR, b->pm_tmr);
    put32(p + FADT_GPE0, b->gpe0);
    p[FADT_PM1_EVT_LEN] = 4;
    p[FADT_PM1_CNT_LEN] = 2;
    p[FADT_PM_TMR_LEN] = 4;
    p[FADT_GPE0_LEN] = b->gpe0 ? b->gpe0_len : 0;
    /* Latencies above the spec's limits: no C2, no C3 (no P_BLK). */
    put16(p + FADT_P_LVL2_LAT, 0x0fff);
    put16(p + FADT_P_LVL3_LAT, 0x0fff);
    p[FADT_CENTURY] = RTC_CENTURY_REG;
    put16(p + FADT_IAPC_BOOT_ARCH, BOOT_ARCH_LEGACY | BOOT_ARCH_8042);
    uint32_t flags = F_WBINVD | F_PROC_C1 | F_SLP_BUTTON;
    if (b->reset_port) {
        flags |= F_RESET_REG_SUP;
        put_gas_io(p + FADT_RESET_REG, b->reset_port, 1);
        p[FADT_RESET_REG + 3] = 1;      /* byte access */
        p[FADT_RESET_VALUE] = b->reset_value;
    }
    put32(p + FADT_FLAGS, flags);
    /* X_FIRMWARE_CTRL stays 0: FIRMWARE_CTRL says where the FACS is. */
    put64(p + FADT_X_DSDT, dsdt_off);
    put_gas_io(p + FADT_X_PM1A_EVT, b->pm1a_evt, 4);
    put_gas_io(p + FADT_X_PM1A_CNT, b->pm1a_cnt, 2);
    put_gas_io(p + FADT_X_PM_TMR, b->pm_tmr, 4);
    put_gas_io(p + FADT_X_GPE0, b->gpe0, b->gpe0 ? b->gpe0_len : 0);
    fix_checksum(p, FADT_LEN, 9);
}

/* ---- the linker/loader script ---- */

struct loader {
    uint8_t *buf;
    uint32_t len, max;
};

static uint8_t *loader_entry(struct loader *l, uint32_t cmd)
{
    if (l->len + ACPI_LOADER_ENTRY_SIZE > l->max)
        return NULL;
    uint8_t *e = l->buf + l->len;
    memset(e, 0, ACPI_LOADER_ENTRY_SIZE);
    put32(e, cmd);
    l->len += ACPI_LOADER_ENTRY_SIZE;
    return e;
}

/* Names are NUL padded to 56 bytes (shorter than that by construction). */
static void put_name(uint8_t *p, const char *name)
{
    memcpy(p, name, strlen(name));
}

static int loader_alloc(struct loader *l, const char *file, uint32_t align, uint8_t zone)
{
    uint8_t *e = loader_entry(l, ACPI_LOADER_ALLOCATE);
    if (!e)
        return -1;
    put_name(e + 4, file);
    put32(e + 4 + ACPI_LOADER_FILESZ, align);
    e[4 + ACPI_LOADER_FILESZ + 4] = zone;
    return 0;
}

/* dest[off..off+size) += address of src. */
static int loader_pointer(struct loader *l, const char *dest, const char *src, uint32_t off,
                          uint8_t size)
{
    uint8_t *e = loader_entry(l, ACPI_LOADER_ADD_POINTER);
    if (!e)
        return -1;
    put_name(e + 4, dest);
    put_name(e + 4 + ACPI_LOADER_FILESZ, src);
    put32(e + 4 + 2 * ACPI_LOADER_FILESZ, off);
    e[4 + 2 * ACPI_LOADER_FILESZ + 4] = size;
    return 0;
}

/* file[at] is adjusted so that file[start..start+len) sums to 0. */
static int loader_checksum(struct loader *l, const char *file, uint32_t at, uint32_t start,
                           uint32_t len)
{
    uint8_t *e = loader_entry(l, ACPI_LOADER_ADD_CHECKSUM);
    if (!e)
        return -1;
    put_name(e + 4, file);
    put32(e + 4 + ACPI_LOADER_FILESZ, at);
    put32(e + 8 + ACPI_LOADER_FILESZ, start);
    put32(e + 12 + ACPI_LOADER_FILESZ, len);
    return 0;
}

/* Relocations and checksums, in the order SeaBIOS must apply them: a
 * table's checksum after every pointer inside it. */
static int build_loader(struct acpi_blobs *o)
{
    struct loader l = { o->loader, 0, sizeof(o->loader) };
    const char *T = ACPI_FILE_TABLES, *R = ACPI_FILE_RSDP;
    bool ok =
        /* 64: the FACS must be 64-byte aligned; it is first in the file. */
        loader_alloc(&l, T, 64, ACPI_LOADER_ZONE_HIGH) == 0 &&
        /* The RSDP must sit in the BIOS area on a 16-byte boundary. */
        loader_alloc(&l, R, 16, ACPI_LOADER_ZONE_FSEG) == 0 &&
        loader_pointer(&l, T, T, o->fadt_off + FADT_FIRMWARE_CTRL, 4) == 0 &&
        loader_pointer(&l, T, T, o->fadt_off + FADT_DSDT, 4) == 0 &&
        loader_pointer(&l, T, T, o->fadt_off + FADT_X_DSDT, 8) == 0 &&
        loader_checksum(&l, T, o->fadt_off + 9, o->fadt_off, FADT_LEN) == 0 &&
        loader_pointer(&l, T, T, o->rsdt_off + HDR_LEN, 4) == 0 &&
        loader_checksum(&l, T, o->rsdt_off + 9, o->rsdt_off, HDR_LEN + 4) == 0 &&
        loader_pointer(&l, T, T, o->xsdt_off + HDR_LEN, 8) == 0 &&
        loader_checksum(&l, T, o->xsdt_off + 9, o->xsdt_off, HDR_LEN + 8) == 0 &&
        loader_pointer(&l, R, T, 16, 4) == 0 &&
        loader_pointer(&l, R, T, 24, 8) == 0 &&
        loader_checksum(&l, R, 8, 0, 20) == 0 &&
        loader_checksum(&l, R, 32, 0, 36) == 0;
    o->loader_len = l.len;
    return ok ? 0 : -1;
}

static void build_rsdp(uint8_t *p, uint32_t rsdt_off, uint32_t xsdt_off)
{
    memcpy(p, "RSD PTR ", 8);
    memcpy(p + 9, "MINUS1", 6);
    p[15] = 2;                          /* ACPI 2.0+: has the XSDT */
    put32(p + 16, rsdt_off);
    put32(p + 20, 36);
    put64(p + 24, xsdt_off);
    fix_checksum(p, 20, 8);
    fix_checksum(p, 36, 32);
}

static uint32_t align_up(uint32_t v, uint32_t a) { return (v + a - 1) & ~(a - 1); }

static bool board_valid(const struct acpi_board *b)
{
    if (!b->pm1a_evt || !b->pm1a_cnt || !b->pm_tmr || b->sci_irq > 15)
        return false;
    return !b->gpe0 || (b->gpe0_len && b->gpe0_len % 2 == 0);
}

int acpi_build(struct acpi_blobs *o, const struct acpi_board *b)
{
    memset(o, 0, sizeof(*o));
    if (!board_valid(b) || sizeof(dsdt_aml) < HDR_LEN)
        return -1;
    o->facs_off = 0;
    o->dsdt_off = FACS_LEN;
    o->dsdt_len = sizeof(dsdt_aml);
    o->fadt_off = align_up(o->dsdt_off + o->dsdt_len, 8);
    o->rsdt_off = o->fadt_off + FADT_LEN;
    o->xsdt_off = align_up(o->rsdt_off + HDR_LEN + 4, 8);
    o->tables_len = o->xsdt_off + HDR_LEN + 8;
    if (o->tables_len > sizeof(o->tables))
        return -1;

    uint8_t *t = o->tables;
    build_facs(t + o->facs_off);
    memcpy(t + o->dsdt_off, dsdt_aml, sizeof(dsdt_aml));
    build_fadt(t + o->fadt_off, b, o->facs_off, o->dsdt_off);

    uint8_t *rsdt = t + o->rsdt_off;
    table_header(rsdt, "RSDT", HDR_LEN + 4, 1);
    put32(rsdt + HDR_LEN, o->fadt_off);
    fix_checksum(rsdt, HDR_LEN + 4, 9);

    uint8_t *xsdt = t + o->xsdt_off;
    table_header(xsdt, "XSDT", HDR_LEN + 8, 1);
    put64(xsdt + HDR_LEN, o->fadt_off);
    fix_checksum(xsdt, HDR_LEN + 8, 9);

    build_rsdp(o->rsdp, o->rsdt_off, o->xsdt_off);
    return build_loader(o);
}

void acpi_board_default(struct acpi_board *b, uint16_t pm_base)
{
    memset(b, 0, sizeof(*b));
    b->pm1a_evt = pm_base;
    b->pm1a_cnt = (uint16_t)(pm_base + 0x04);
    b->pm_tmr = (uint16_t)(pm_base + 0x08);
    b->gpe0 = (uint16_t)(pm_base + 0x0c);
    b->gpe0_len = 4;
    b->sci_irq = 9;
    b->reset_port = 0xcf9;
    b->reset_value = 0x06;          /* PIIX3 RC: hard reset (SRST) + RCPU */
}

int firmware_setup_acpi(struct fw_cfg *f, const struct acpi_board *b)
{
    struct acpi_blobs *o = malloc(sizeof(*o));
    if (!o)
        return -1;
    int rc = -1;
    if (acpi_build(o, b) == 0 &&
        fw_cfg_add_file(f, ACPI_FILE_TABLES, o->tables, o->tables_len) == 0 &&
        fw_cfg_add_file(f, ACPI_FILE_RSDP, o->rsdp, sizeof(o->rsdp)) == 0 &&
        /* Last: SeaBIOS looks for the script and then for the files. */
        fw_cfg_add_file(f, ACPI_FILE_LOADER, o->loader, o->loader_len) == 0)
        rc = 0;
    free(o);
    return rc;
}
