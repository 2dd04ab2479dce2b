/* What SeaBIOS would find: fw_cfg items and files read back through the
 * fw_cfg ports, CMOS bytes read back through ports 0x70/0x71. */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

#include "../../firmware/firmware.h"
#include "../../vmm/devices/fw_cfg.h"
#include "../../vmm/devices/rtc.h"

static uint8_t bios[64 * 1024];

struct rig {
    struct logger log;
    struct iobus pio;
    struct vclock clock;
    struct guest_mem mem;
    struct fw_cfg *f;
    struct rtc *rtc;
};

static void rig_init(struct rig *r, uint64_t ram_size)
{
    r->log = (struct logger){ LOG_ERROR, 2 };
    iobus_init(&r->pio, "pio", &r->log);
    vclock_init(&r->clock);
    vclock_set_manual(&r->clock, 0);
    CU_ASSERT_EQUAL_FATAL(mem_init(&r->mem, ram_size, bios, sizeof(bios)), 0);
    r->f = fw_cfg_create(&r->pio, &r->mem, &r->log);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r->f);
    r->rtc = rtc_create(&r->pio, &r->clock, (struct irq){ 0 }, 0, &r->log);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r->rtc);
}

static void rig_fini(struct rig *r)
{
    rtc_destroy(r->rtc);
    fw_cfg_destroy(r->f);
    mem_destroy(&r->mem);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static void read_key(struct rig *r, uint16_t key, void *buf, size_t n)
{
    iobus_write(&r->pio, 0x510, 2, key);
    for (size_t i = 0; i < n; i++)
        ((uint8_t *)buf)[i] = (uint8_t)iobus_read(&r->pio, 0x511, 1);
}

/* Looks a file up in the directory, as SeaBIOS does; returns its size or
 * -1, and its contents (up to max bytes). */
static int read_file(struct rig *r, const char *name, void *buf, size_t max)
{
    uint8_t c[4];
    read_key(r, FW_CFG_FILE_DIR, c, 4);
    uint32_t n = be32(c);
    CU_ASSERT_FATAL(n <= FW_CFG_MAX_FILES);
    for (uint32_t i = 0; i < n; i++) {
        uint8_t e[64];
        for (size_t j = 0; j < sizeof(e); j++)
            e[j] = (uint8_t)iobus_read(&r->pio, 0x511, 1);
        if (strncmp((const char *)e + 8, name, 56) != 0)
            continue;
        uint32_t size = be32(e);
        read_key(r, (uint16_t)(e[4] << 8 | e[5]), buf, size < max ? size : max);
        return (int)size;
    }
    return -1;
}

static uint8_t cmos(struct rig *r, uint8_t index)
{
    iobus_write(&r->pio, 0x70, 1, index);
    return (uint8_t)iobus_read(&r->pio, 0x71, 1);
}

static unsigned cmos16(struct rig *r, uint8_t index)
{
    return cmos(r, index) | (unsigned)cmos(r, (uint8_t)(index + 1)) << 8;
}

struct e820 { uint64_t addr, len; uint32_t type; };

static int read_e820(struct rig *r, struct e820 *out, unsigned max)
{
    uint8_t raw[16 * FW_E820_ENTRY_SIZE];
    int size = read_file(r, "etc/e820", raw, sizeof(raw));
    CU_ASSERT_FATAL(size >= 0 && size % FW_E820_ENTRY_SIZE == 0);
    int n = size / FW_E820_ENTRY_SIZE;
    for (int i = 0; i < n && i < (int)max; i++) {
        out[i].addr = le(raw + i * FW_E820_ENTRY_SIZE, 8);
        out[i].len = le(raw + i * FW_E820_ENTRY_SIZE + 8, 8);
        out[i].type = (uint32_t)le(raw + i * FW_E820_ENTRY_SIZE + 16, 4);
    }
    return n;
}

static void test_items_256m(void)
{
    struct rig r;
    rig_init(&r, 256 * MiB);
    struct firmware_opts o = { 0 };
    CU_ASSERT_EQUAL_FATAL(firmware_setup_fw_cfg(r.f, &r.mem, &o), 0);
    uint8_t b[16];
    read_key(&r, FW_CFG_SIGNATURE, b, 4);
    CU_ASSERT_EQUAL(memcmp(b, "QEMU", 4), 0);
    read_key(&r, FW_CFG_RAM_SIZE, b, 8);
    CU_ASSERT_EQUAL(le(b, 8), 256 * MiB);
    read_key(&r, FW_CFG_NB_CPUS, b, 2);
    CU_ASSERT_EQUAL(le(b, 2), 1);
    read_key(&r, FW_CFG_MAX_CPUS, b, 2);
    CU_ASSERT_EQUAL(le(b, 2), 1);
    read_key(&r, FW_CFG_BOOT_MENU, b, 2);
    CU_ASSERT_EQUAL(le(b, 2), 0);
    read_key(&r, FW_CFG_NOGRAPHIC, b, 2);
    CU_ASSERT_EQUAL(le(b, 2), 0);

    struct e820 e[4];
    CU_ASSERT_EQUAL_FATAL(read_e820(&r, e, 4), 1);
    CU_ASSERT_EQUAL(e[0].addr, 0);
    CU_ASSERT_EQUAL(e[0].len, 256 * MiB);
    CU_ASSERT_EQUAL(e[0].type, FW_E820_RAM);

    /* Reboot 60 s after "No bootable device.", as a 4-byte integer. */
    CU_ASSERT_EQUAL(read_file(&r, "etc/boot-fail-wait", b, sizeof(b)), 4);
    CU_ASSERT_EQUAL(le(b, 4), 60000);
    CU_ASSERT_EQUAL(read_file(&r, "etc/sercon-port", b, sizeof(b)), -1);
    CU_ASSERT_EQUAL(read_file(&r, "etc/boot-menu-wait", b, sizeof(b)), -1);
    /* Default boot: an empty bootorder, the CMOS classes decide. */
    CU_ASSERT_EQUAL(read_file(&r, "bootorder", b, sizeof(b)), 0);

    firmware_setup_cmos(r.rtc, &r.mem, &o);
    CU_ASSERT_EQUAL(cmos16(&r, 0x15), 640);
    CU_ASSERT_EQUAL(cmos16(&r, 0x17), 0xffff);          /* 255 MiB in KiB, capped */
    CU_ASSERT_EQUAL(cmos16(&r, 0x30), 0xffff);
    CU_ASSERT_EQUAL(cmos16(&r, 0x34), (256 - 16) * 16); /* 64 KiB units */
    CU_ASSERT_EQUAL(cmos(&r, 0x5b) | cmos(&r, 0x5c) | cmos(&r, 0x5d), 0);
    CU_ASSERT_EQUAL(cmos(&r, 0x5f), 0);
    CU_ASSERT_EQUAL(cmos(&r, 0x10), 0);
    CU_ASSERT_EQUAL(cmos(&r, 0x14), 0x06);
    CU_ASSERT_EQUAL(cmos(&r, 0x3d), 0x12);              /* QEMU's "cad" */
    CU_ASSERT_EQUAL(cmos(&r, 0x38), 0x30);
    CU_ASSERT_EQUAL(cmos(&r, 0x12), 0);
    CU_ASSERT_EQUAL(cmos(&r, 0x39), 0);
    rig_fini(&r);
}

/* SeaBIOS's preinit formula when "etc/e820" is missing. */
static uint64_t seabios_cmos_ramsize(struct rig *r)
{
    uint32_t rs = (uint32_t)cmos(r, 0x34) << 16 | (uint32_t)cmos(r, 0x35) << 24;
    if (rs)
        return rs + 16 * MiB;
    return ((uint32_t)cmos(r, 0x30) << 10 | (uint32_t)cmos(r, 0x31) << 18) + MiB;
}

static void test_5g_hole(void)
{
    struct rig r;
    rig_init(&r, 5 * GiB);
    struct firmware_opts o = { .ncpus = 1,
                               .reserved = { { 0xfeffc000ull, 0x4000 } },
                               .n_reserved = 1 };
    CU_ASSERT_EQUAL_FATAL(firmware_setup_fw_cfg(r.f, &r.mem, &o), 0);
    uint8_t b[8];
    read_key(&r, FW_CFG_RAM_SIZE, b, 8);
    CU_ASSERT_EQUAL(le(b, 8), 5 * GiB);

    struct e820 e[4];
    CU_ASSERT_EQUAL_FATAL(read_e820(&r, e, 4), 3);
    CU_ASSERT_EQUAL(e[0].addr, 0);
    CU_ASSERT_EQUAL(e[0].len, MEM_PCI_HOLE_START);
    CU_ASSERT_EQUAL(e[0].type, FW_E820_RAM);
    CU_ASSERT_EQUAL(e[1].addr, 4 * GiB);
    CU_ASSERT_EQUAL(e[1].len, 5 * GiB - MEM_PCI_HOLE_START);
    CU_ASSERT_EQUAL(e[1].type, FW_E820_RAM);
    CU_ASSERT_EQUAL(e[2].addr, 0xfeffc000ull);
    CU_ASSERT_EQUAL(e[2].len, 0x4000);
    CU_ASSERT_EQUAL(e[2].type, FW_E820_RESERVED);

    firmware_setup_cmos(r.rtc, &r.mem, &o);
    CU_ASSERT_EQUAL(cmos16(&r, 0x15), 640);
    CU_ASSERT_EQUAL(cmos16(&r, 0x17), 0xffff);
    CU_ASSERT_EQUAL(cmos16(&r, 0x34), (MEM_PCI_HOLE_START - 16 * MiB) / (64 * KiB));
    CU_ASSERT_EQUAL(seabios_cmos_ramsize(&r), MEM_PCI_HOLE_START);
    uint64_t high = cmos(&r, 0x5b) | (uint64_t)cmos(&r, 0x5c) << 8 |
                    (uint64_t)cmos(&r, 0x5d) << 16;
    CU_ASSERT_EQUAL(high * 64 * KiB, 5 * GiB - MEM_PCI_HOLE_START);
    rig_fini(&r);
}

static void test_small_guest_cmos(void)
{
    struct rig r;
    rig_init(&r, 8 * MiB);
    struct firmware_opts o = { .ncpus = 2 };
    firmware_setup_cmos(r.rtc, &r.mem, &o);
    CU_ASSERT_EQUAL(cmos16(&r, 0x17), 7 * 1024);
    CU_ASSERT_EQUAL(cmos16(&r, 0x30), 7 * 1024);
    CU_ASSERT_EQUAL(cmos16(&r, 0x34), 0);               /* nothing above 16 MiB */
    CU_ASSERT_EQUAL(seabios_cmos_ramsize(&r), 8 * MiB);
    CU_ASSERT_EQUAL(cmos(&r, 0x5f), 1);
    /* The RTC's own registers are untouched (status B: 24h from rtc). */
    CU_ASSERT_EQUAL(cmos(&r, 0x0b), rtc_cmos_get(r.rtc, 0x0b));
    rig_fini(&r);
}

static const struct firmware_opts boot_cd_opts = {
    .boot_device = FW_BOOT_CD,
    .ide_pci_slot = 1, .ide_pci_fn = 1,
    .ide = { { .channel = 0, .unit = 0, .cylinders = 16383, .heads = 16, .sectors = 63,
               .translation = FW_ATA_TRANS_LBA },
             { .channel = 1, .unit = 0, .cdrom = true },
             { .channel = 0, .unit = 1, .cylinders = 1000, .heads = 10, .sectors = 50,
               .translation = FW_ATA_TRANS_NONE } },
    .n_ide = 3,
};

static void test_boot_cd(void)
{
    struct rig r;
    rig_init(&r, 64 * MiB);
    CU_ASSERT_EQUAL_FATAL(firmware_setup_fw_cfg(r.f, &r.mem, &boot_cd_opts), 0);
    char text[256];
    memset(text, 0x7f, sizeof(text));
    static const char want[] = "/pci@i0cf8/ide@1,1/drive@1/disk@0\n"
                               "/pci@i0cf8/ide@1,1/drive@0/disk@0\n"
                               "/pci@i0cf8/ide@1,1/drive@0/disk@1";
    CU_ASSERT_EQUAL(read_file(&r, "bootorder", text, sizeof(text)), (int)sizeof(want));
    CU_ASSERT_STRING_EQUAL(text, want);

    firmware_setup_cmos(r.rtc, &r.mem, &boot_cd_opts);
    CU_ASSERT_EQUAL(cmos(&r, 0x3d), 0x23);              /* CD, then hard disk */
    CU_ASSERT_EQUAL(cmos(&r, 0x38), 0x10);              /* then floppy; check sig */
    /* Hard disks on the primary channel: type 47 with their geometry. */
    CU_ASSERT_EQUAL(cmos(&r, 0x12), 0xff);
    CU_ASSERT_EQUAL(cmos(&r, 0x19), 47);
    CU_ASSERT_EQUAL(cmos16(&r, 0x1b), 16383);
    CU_ASSERT_EQUAL(cmos(&r, 0x1d), 16);
    CU_ASSERT_EQUAL(cmos(&r, 0x20), 0xc8);              /* more than 8 heads */
    CU_ASSERT_EQUAL(cmos(&r, 0x23), 63);
    CU_ASSERT_EQUAL(cmos(&r, 0x1a), 47);
    CU_ASSERT_EQUAL(cmos16(&r, 0x24), 1000);
    CU_ASSERT_EQUAL(cmos(&r, 0x26), 10);
    CU_ASSERT_EQUAL(cmos(&r, 0x2c), 50);
    /* Translation: drive 0 LBA, drive 1 none, the CD-ROM has none. */
    CU_ASSERT_EQUAL(cmos(&r, 0x39), 0x01);
    rig_fini(&r);
}

static void test_boot_disk_strict_sercon(void)
{
    struct rig r;
    rig_init(&r, 64 * MiB);
    struct firmware_opts o = boot_cd_opts;
    o.boot_device = FW_BOOT_DISK;
    o.boot_strict = true;
    o.sercon_port = 0x3f8;
    o.nographic = true;
    o.boot_menu = true;
    o.boot_menu_wait_ms = 5000;
    o.boot_fail_wait_ms = FW_BOOT_FAIL_WAIT_NEVER;
    o.ncpus = 1;
    CU_ASSERT_EQUAL_FATAL(firmware_setup_fw_cfg(r.f, &r.mem, &o), 0);
    char text[256];
    static const char want[] = "/pci@i0cf8/ide@1,1/drive@0/disk@0\n"
                               "/pci@i0cf8/ide@1,1/drive@0/disk@1\n"
                               "/pci@i0cf8/ide@1,1/drive@1/disk@0\n"
                               "HALT";
    CU_ASSERT_EQUAL(read_file(&r, "bootorder", text, sizeof(text)), (int)sizeof(want));
    CU_ASSERT_STRING_EQUAL(text, want);
    uint8_t b[8];
    CU_ASSERT_EQUAL(read_file(&r, "etc/sercon-port", b, sizeof(b)), 2);
    CU_ASSERT_EQUAL(le(b, 2), 0x3f8);
    CU_ASSERT_EQUAL(read_file(&r, "etc/boot-menu-wait", b, sizeof(b)), 2);
    CU_ASSERT_EQUAL(le(b, 2), 5000);
    CU_ASSERT_EQUAL(read_file(&r, "etc/boot-fail-wait", b, sizeof(b)), 4);
    CU_ASSERT_EQUAL(le(b, 4), 0xffffffffu);
    read_key(&r, FW_CFG_NOGRAPHIC, b, 2);
    CU_ASSERT_EQUAL(le(b, 2), 1);
    read_key(&r, FW_CFG_BOOT_MENU, b, 2);
    CU_ASSERT_EQUAL(le(b, 2), 1);

    firmware_setup_cmos(r.rtc, &r.mem, &o);
    CU_ASSERT_EQUAL(cmos(&r, 0x3d), 0x32);
    CU_ASSERT_EQUAL(cmos(&r, 0x38), 0x10);
    rig_fini(&r);
}

static void test_paths_and_validation(void)
{
    char buf[64];
    CU_ASSERT_EQUAL(firmware_ide_path(buf, sizeof(buf), 1, 1, 1, 0), 33);
    CU_ASSERT_STRING_EQUAL(buf, "/pci@i0cf8/ide@1,1/drive@1/disk@0");
    CU_ASSERT(firmware_ide_path(buf, sizeof(buf), 0x1f, 0, 0, 1) > 0);
    CU_ASSERT_STRING_EQUAL(buf, "/pci@i0cf8/ide@1f/drive@0/disk@1");
    CU_ASSERT_EQUAL(firmware_ide_path(buf, sizeof(buf), 1, 1, 2, 0), -1);
    CU_ASSERT_EQUAL(firmware_ide_path(buf, sizeof(buf), 1, 1, 0, 2), -1);
    CU_ASSERT_EQUAL(firmware_ide_path(buf, sizeof(buf), 32, 1, 0, 0), -1);
    CU_ASSERT_EQUAL(firmware_ide_path(buf, sizeof(buf), 1, 8, 0, 0), -1);
    CU_ASSERT_EQUAL(firmware_ide_path(buf, 10, 1, 1, 0, 0), -1);

    CU_ASSERT_EQUAL(firmware_ata_auto_translation(1024, 16, 63), FW_ATA_TRANS_NONE);
    CU_ASSERT_EQUAL(firmware_ata_auto_translation(1025, 16, 63), FW_ATA_TRANS_LBA);
    CU_ASSERT_EQUAL(firmware_ata_auto_translation(16383, 16, 63), FW_ATA_TRANS_LBA);

    char order[16];
    CU_ASSERT_EQUAL(firmware_bootorder(order, sizeof(order), &boot_cd_opts), -1);
    /* Strict with nothing listed must not produce a lone HALT. */
    struct firmware_opts o = { .boot_device = FW_BOOT_CD, .boot_strict = true };
    CU_ASSERT_EQUAL(firmware_bootorder(order, sizeof(order), &o), 0);

    uint8_t e820[FW_E820_ENTRY_SIZE];
    struct guest_mem big = { .ram_size = 5 * GiB, .below_4g = MEM_PCI_HOLE_START,
                             .above_4g = 5 * GiB - MEM_PCI_HOLE_START };
    CU_ASSERT_EQUAL(firmware_e820(e820, sizeof(e820), &big, &o), -1);

    struct rig r;
    rig_init(&r, 16 * MiB);
    o = boot_cd_opts;
    o.ide[1].channel = 2;
    CU_ASSERT_EQUAL(firmware_setup_fw_cfg(r.f, &r.mem, &o), -1);
    o = boot_cd_opts;
    o.n_ide = FW_MAX_IDE_DRIVES + 1;
    CU_ASSERT_EQUAL(firmware_setup_fw_cfg(r.f, &r.mem, &o), -1);
    o = boot_cd_opts;
    o.n_reserved = FW_MAX_RESERVED + 1;
    CU_ASSERT_EQUAL(firmware_setup_fw_cfg(r.f, &r.mem, &o), -1);
    /* The CMOS side skips the bad drive instead. */
    o = boot_cd_opts;
    o.ide[0].channel = 7;
    firmware_setup_cmos(r.rtc, &r.mem, &o);
    CU_ASSERT_EQUAL(cmos(&r, 0x12), 0x0f);
    rig_fini(&r);
}

void suite_firmware(void)
{
    CU_pSuite s = CU_add_suite("firmware", NULL, NULL);
    CU_add_test(s, "256 MiB: fw_cfg items, e820, CMOS", test_items_256m);
    CU_add_test(s, "5 GiB: PCI hole in e820 and CMOS", test_5g_hole);
    CU_add_test(s, "8 MiB and 2 CPUs: CMOS", test_small_guest_cmos);
    CU_add_test(s, "--boot cd: bootorder, CMOS boot and disk bytes", test_boot_cd);
    CU_add_test(s, "--boot disk, strict, sercon, menu", test_boot_disk_strict_sercon);
    CU_add_test(s, "paths, translation, option validation", test_paths_and_validation);
}
