/* The fw_cfg contents minus1 gives SeaBIOS (see firmware.h).
 *
 * What SeaBIOS reads, and why each item is here:
 *   SIGNATURE, ID          added by the device itself ("QEMU", DMA capable)
 *   RAM_SIZE (le64)        total RAM, as QEMU reports it
 *   NB_CPUS, MAX_CPUS      le16; SeaBIOS takes the larger of NB_CPUS and
 *                          the CMOS count, MAX_CPUS sizes its tables
 *   NOGRAPHIC (le16)       with no "etc/sercon-port", SeaBIOS then puts its
 *                          console on COM1
 *   BOOT_MENU (le16)       read as "etc/show-boot-menu"; 0 skips the prompt
 *                          and its 2.5 s wait
 *   UUID (16 bytes)        SMBIOS type 1
 *   IRQ0_OVERRIDE (le32)   read as the 1-byte "etc/irq0-override"
 *   "etc/e820"             RAM below and above 4 GiB, plus reservations;
 *                          SeaBIOS trusts it over the CMOS sizes
 *   "bootorder"            OpenFirmware paths, one per line
 *   "etc/boot-fail-wait"   le32 milliseconds before rebooting after
 *                          "No bootable device."
 *   "etc/sercon-port"      le16 port of SeaBIOS's serial console
 *   "etc/boot-menu-wait"   le16 milliseconds, only when asked for */
#include "firmware.h"

#include <stdio.h>
#include <string.h>

#include "../vmm/devices/fw_cfg.h"

#define FOUR_GIB 0x100000000ull
#define BOOTORDER_MAX (FW_MAX_IDE_DRIVES * 64 + 16)
#define E820_MAX_ENTRIES (2 + FW_MAX_RESERVED)

static void put_le(uint8_t *p, uint64_t v, unsigned bytes)
{
    for (unsigned i = 0; i < bytes; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

int firmware_ide_path(char *buf, size_t size, unsigned pci_slot, unsigned pci_fn,
                      unsigned channel, unsigned unit)
{
    if (pci_slot > 31 || pci_fn > 7 || channel > 1 || unit > 1)
        return -1;
    /* SeaBIOS builds "/pci@i0cf8/" "*@<slot>[,<fn>]/drive@<channel>/disk@<unit>"
     * (hex, ",fn" only when non-zero; '*' matches any device name) and
     * looks for it as a prefix of each "bootorder" line. */
    char fn[4] = "";
    if (pci_fn)
        snprintf(fn, sizeof(fn), ",%x", pci_fn);
    int n = snprintf(buf, size, "/pci@i0cf8/ide@%x%s/drive@%x/disk@%x", pci_slot, fn,
                     channel, unit);
    return n < 0 || (size_t)n >= size ? -1 : n;
}

/* Appends one path (and the separating newline) to the text. */
static int append_line(char *buf, size_t size, size_t *used, const char *line)
{
    size_t len = strlen(line);
    size_t need = (*used ? 1 : 0) + len + 1;        /* '\n' before, NUL after */
    if (*used + need > size)
        return -1;
    if (*used)
        buf[(*used)++] = '\n';
    memcpy(buf + *used, line, len + 1);
    *used += len;
    return 0;
}

/* Appends the drives of one kind (CD-ROM or not), in the order given. */
static int append_drives(char *buf, size_t size, size_t *used, const struct firmware_opts *o,
                         bool cdrom)
{
    for (unsigned i = 0; i < o->n_ide && i < FW_MAX_IDE_DRIVES; i++) {
        const struct fw_ide_drive *d = &o->ide[i];
        if (d->cdrom != cdrom)
            continue;
        char path[64];
        if (firmware_ide_path(path, sizeof(path), o->ide_pci_slot, o->ide_pci_fn, d->channel,
                              d->unit) < 0 ||
            append_line(buf, size, used, path) < 0)
            return -1;
    }
    return 0;
}

int firmware_bootorder(char *buf, size_t size, const struct firmware_opts *o)
{
    size_t used = 0;
    if (size)
        buf[0] = '\0';
    /* The default order is left to the CMOS boot bytes, as QEMU does: an
     * empty "bootorder" means SeaBIOS goes by device class. */
    if (o->boot_device == FW_BOOT_DEFAULT)
        return 0;
    bool cd_first = o->boot_device == FW_BOOT_CD;
    if (append_drives(buf, size, &used, o, cd_first) < 0 ||
        append_drives(buf, size, &used, o, !cd_first) < 0)
        return -1;
    /* HALT stops SeaBIOS after the listed devices; alone it would stop it
     * before any of them. */
    if (o->boot_strict && used && append_line(buf, size, &used, "HALT") < 0)
        return -1;
    return used ? (int)used + 1 : 0;
}

static int e820_put(uint8_t *buf, size_t size, size_t *used, uint64_t addr, uint64_t len,
                    uint32_t type)
{
    if (len == 0)
        return 0;
    if (*used + FW_E820_ENTRY_SIZE > size)
        return -1;
    uint8_t *e = buf + *used;
    put_le(e, addr, 8);
    put_le(e + 8, len, 8);
    put_le(e + 16, type, 4);
    *used += FW_E820_ENTRY_SIZE;
    return 0;
}

int firmware_e820(uint8_t *buf, size_t size, const struct guest_mem *mem,
                  const struct firmware_opts *o)
{
    size_t used = 0;
    /* QEMU's i440FX map: all low RAM in one entry (SeaBIOS carves out the
     * 640K-1M hole and its own areas itself), then the RAM moved above
     * 4 GiB by the PCI hole. */
    if (e820_put(buf, size, &used, 0, mem->below_4g, FW_E820_RAM) < 0 ||
        e820_put(buf, size, &used, FOUR_GIB, mem->above_4g, FW_E820_RAM) < 0)
        return -1;
    for (unsigned i = 0; i < o->n_reserved && i < FW_MAX_RESERVED; i++)
        if (e820_put(buf, size, &used, o->reserved[i].addr, o->reserved[i].len,
                     FW_E820_RESERVED) < 0)
            return -1;
    return (int)used;
}

static bool opts_valid(const struct firmware_opts *o)
{
    if (o->n_ide > FW_MAX_IDE_DRIVES || o->n_reserved > FW_MAX_RESERVED)
        return false;
    for (unsigned i = 0; i < o->n_ide; i++)
        if (o->ide[i].channel > 1 || o->ide[i].unit > 1)
            return false;
    return o->ide_pci_slot <= 31 && o->ide_pci_fn <= 7;
}

static int add_legacy_items(struct fw_cfg *f, const struct guest_mem *mem,
                            const struct firmware_opts *o)
{
    static const uint8_t zero_uuid[16];
    uint16_t ncpus = o->ncpus ? (uint16_t)o->ncpus : 1;
    int rc = 0;
    rc |= fw_cfg_add_i64(f, FW_CFG_RAM_SIZE, mem->ram_size);
    rc |= fw_cfg_add_i16(f, FW_CFG_NB_CPUS, ncpus);
    rc |= fw_cfg_add_i16(f, FW_CFG_MAX_CPUS, ncpus);
    rc |= fw_cfg_add_i16(f, FW_CFG_NOGRAPHIC, o->nographic);
    rc |= fw_cfg_add_i16(f, FW_CFG_BOOT_MENU, o->boot_menu);
    rc |= fw_cfg_add_bytes(f, FW_CFG_UUID, o->uuid ? o->uuid : zero_uuid, 16);
    rc |= fw_cfg_add_i32(f, FW_CFG_IRQ0_OVERRIDE, o->irq0_override);
    return rc ? -1 : 0;
}

static int add_le_file(struct fw_cfg *f, const char *name, uint64_t v, unsigned bytes)
{
    uint8_t le[8];
    put_le(le, v, bytes);
    return fw_cfg_add_file(f, name, le, bytes);
}

static int add_files(struct fw_cfg *f, const struct guest_mem *mem,
                     const struct firmware_opts *o)
{
    uint8_t e820[E820_MAX_ENTRIES * FW_E820_ENTRY_SIZE];
    int n = firmware_e820(e820, sizeof(e820), mem, o);
    if (n < 0 || fw_cfg_add_file(f, "etc/e820", e820, (uint32_t)n) < 0)
        return -1;

    char order[BOOTORDER_MAX];
    n = firmware_bootorder(order, sizeof(order), o);
    if (n < 0 || fw_cfg_add_file(f, "bootorder", order, (uint32_t)n) < 0)
        return -1;

    uint32_t wait = o->boot_fail_wait_ms ? o->boot_fail_wait_ms : FW_BOOT_FAIL_WAIT_DEFAULT_MS;
    if (add_le_file(f, "etc/boot-fail-wait", wait, 4) < 0)
        return -1;
    /* SeaBIOS's romfile_loadint takes 1, 2, 4 or 8 bytes. */
    if (o->sercon_port && add_le_file(f, "etc/sercon-port", o->sercon_port, 2) < 0)
        return -1;
    if (o->boot_menu && o->boot_menu_wait_ms &&
        add_le_file(f, "etc/boot-menu-wait", o->boot_menu_wait_ms, 2) < 0)
        return -1;
    return 0;
}

int firmware_setup_fw_cfg(struct fw_cfg *f, const struct guest_mem *mem,
                          const struct firmware_opts *o)
{
    if (!opts_valid(o))
        return -1;
    if (add_legacy_items(f, mem, o) < 0 || add_files(f, mem, o) < 0)
        return -1;
    return 0;
}
