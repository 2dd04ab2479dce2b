/* fw_cfg driven through its ports and DMA descriptors in guest RAM, the
 * way SeaBIOS (src/fw/paravirt.c) and Linux's qemu_fw_cfg use it. */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

#include "../../vmm/devices/fw_cfg.h"

#define PORT_SEL  0x510
#define PORT_DATA 0x511
#define PORT_DMA_HI 0x514
#define PORT_DMA_LO 0x518

#define CTL_ERROR  0x01
#define CTL_READ   0x02
#define CTL_SKIP   0x04
#define CTL_SELECT 0x08
#define CTL_WRITE  0x10

#define RAM_SIZE (16 * MiB)
#define DESC 0x1000ull          /* where tests put the DMA descriptor */
#define BUF  0x2000ull          /* and the DMA target */

static uint8_t bios[64 * 1024];

struct rig {
    struct logger log;
    struct iobus pio;
    struct guest_mem mem;
    struct fw_cfg *f;
};

static void rig_init(struct rig *r)
{
    r->log = (struct logger){ LOG_ERROR, 2 };    /* guest errors stay quiet */
    iobus_init(&r->pio, "pio", &r->log);
    CU_ASSERT_EQUAL_FATAL(mem_init(&r->mem, RAM_SIZE, bios, sizeof(bios)), 0);
    r->f = fw_cfg_create(&r->pio, &r->mem, &r->log);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r->f);
}

static void rig_fini(struct rig *r)
{
    fw_cfg_destroy(r->f);
    CU_ASSERT_PTR_NULL(iobus_find(&r->pio, PORT_SEL));      /* unmapped */
    mem_destroy(&r->mem);
}

static void select_key(struct rig *r, uint16_t key)
{
    iobus_write(&r->pio, PORT_SEL, 2, key);
}

static void read_data(struct rig *r, void *buf, size_t n)
{
    uint8_t *p = buf;
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)iobus_read(&r->pio, PORT_DATA, 1);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (24 - 8 * i));
}

/* Writes a descriptor {control, length, address} at gpa. */
static void put_desc(struct rig *r, uint64_t gpa, uint32_t control, uint32_t length,
                     uint64_t address)
{
    uint8_t d[16];
    put_be32(d, control);
    put_be32(d + 4, length);
    put_be32(d + 8, (uint32_t)(address >> 32));
    put_be32(d + 12, (uint32_t)address);
    CU_ASSERT_EQUAL_FATAL(mem_write(&r->mem, gpa, d, sizeof(d)), 0);
}

static uint32_t desc_control(struct rig *r, uint64_t gpa)
{
    uint8_t c[4];
    CU_ASSERT_EQUAL_FATAL(mem_read(&r->mem, gpa, c, 4), 0);
    return be32(c);
}

/* What SeaBIOS does: outl(cpu_to_be32(addr), 0x518) after the high half. */
static void kick_dma(struct rig *r, uint64_t desc)
{
    iobus_write(&r->pio, PORT_DMA_HI, 4, __builtin_bswap32((uint32_t)(desc >> 32)));
    iobus_write(&r->pio, PORT_DMA_LO, 4, __builtin_bswap32((uint32_t)desc));
}

static uint8_t *ram(struct rig *r, uint64_t gpa)
{
    return r->mem.ram + gpa;
}

static void test_signature_and_id(void)
{
    struct rig r;
    rig_init(&r);
    char sig[5] = { 0 };
    select_key(&r, FW_CFG_SIGNATURE);
    read_data(&r, sig, 4);
    CU_ASSERT_STRING_EQUAL(sig, "QEMU");
    CU_ASSERT_EQUAL(iobus_read(&r.pio, PORT_DATA, 1), 0);       /* past the end */

    /* 0x510 is a combined port: a byte read there is a data read too. */
    select_key(&r, FW_CFG_SIGNATURE);
    CU_ASSERT_EQUAL(iobus_read(&r.pio, PORT_SEL, 1), 'Q');
    CU_ASSERT_EQUAL(iobus_read(&r.pio, PORT_DATA, 1), 'E');
    /* Wide reads are refused and do not consume data. */
    CU_ASSERT_EQUAL(iobus_read(&r.pio, PORT_SEL, 2), 0);
    CU_ASSERT_EQUAL(iobus_read(&r.pio, PORT_DATA, 1), 'M');

    uint8_t id[4];
    select_key(&r, FW_CFG_ID);
    read_data(&r, id, 4);
    CU_ASSERT_EQUAL(id[0], 3);          /* traditional interface + DMA */
    CU_ASSERT_EQUAL(id[1] | id[2] | id[3], 0);

    /* The DMA register reads "QEMU CFG" in address order at any width. */
    CU_ASSERT_EQUAL(iobus_read(&r.pio, PORT_DMA_HI, 1), 'Q');
    CU_ASSERT_EQUAL(iobus_read(&r.pio, PORT_DMA_HI, 4), 0x554d4551u);   /* "QEMU" */
    CU_ASSERT_EQUAL(iobus_read(&r.pio, PORT_DMA_LO, 4), 0x47464320u);   /* " CFG" */
    uint64_t v = iobus_read(&r.pio, PORT_DMA_HI, 8);
    CU_ASSERT_EQUAL(__builtin_bswap64(v), 0x51454d5520434647ull);
    CU_ASSERT_EQUAL(memcmp(&v, "QEMU CFG", 8), 0);
    rig_fini(&r);
}

static void test_missing_keys_and_reset(void)
{
    struct rig r;
    rig_init(&r);
    static const uint16_t missing[] = { FW_CFG_KERNEL_ADDR, 0x001f, 0x0020, 0x3fff, 0x8005,
                                        0xffff, 0x8020 };
    for (size_t i = 0; i < sizeof(missing) / sizeof(missing[0]); i++) {
        select_key(&r, missing[i]);
        uint8_t b[4];
        memset(b, 0xAA, sizeof(b));
        read_data(&r, b, sizeof(b));
        CU_ASSERT_EQUAL(b[0] | b[1] | b[2] | b[3], 0);
    }
    /* The old write-channel bit does not change which item is read. */
    select_key(&r, 0x4000 | FW_CFG_SIGNATURE);
    CU_ASSERT_EQUAL(iobus_read(&r.pio, PORT_DATA, 1), 'Q');
    /* Data-port byte writes (the removed write channel) change nothing. */
    iobus_write(&r.pio, PORT_DATA, 1, 0x55);
    CU_ASSERT_EQUAL(iobus_read(&r.pio, PORT_DATA, 1), 'E');
    /* A 16-bit write straddling into 0x512 is not a selector write. */
    iobus_write(&r.pio, PORT_DATA, 2, FW_CFG_ID);
    CU_ASSERT_EQUAL(iobus_read(&r.pio, PORT_DATA, 1), 'M');

    CU_ASSERT_EQUAL(fw_cfg_add_i16(r.f, FW_CFG_NB_CPUS, 0x0201), 0);
    select_key(&r, FW_CFG_NB_CPUS);
    CU_ASSERT_EQUAL(iobus_read(&r.pio, PORT_DATA, 1), 0x01);
    fw_cfg_reset(r.f);                  /* back to the signature, offset 0 */
    CU_ASSERT_EQUAL(iobus_read(&r.pio, PORT_DATA, 1), 'Q');
    rig_fini(&r);
}

static void test_add_validation(void)
{
    struct rig r;
    rig_init(&r);
    uint8_t x = 1;
    CU_ASSERT_EQUAL(fw_cfg_add_bytes(r.f, FW_CFG_FILE_FIRST, &x, 1), -1);
    CU_ASSERT_EQUAL(fw_cfg_add_bytes(r.f, FW_CFG_FILE_DIR, &x, 1), -1);
    CU_ASSERT_EQUAL(fw_cfg_add_bytes(r.f, 0x4001, &x, 1), -1);
    CU_ASSERT_EQUAL(fw_cfg_add_bytes(r.f, 0x8020, &x, 1), -1);
    CU_ASSERT_EQUAL(fw_cfg_add_bytes(r.f, FW_CFG_UUID, NULL, 16), -1);
    CU_ASSERT_EQUAL(fw_cfg_add_i64(r.f, FW_CFG_RAM_SIZE, 0x1122334455667788ull), 0);
    uint8_t le[8];
    select_key(&r, FW_CFG_RAM_SIZE);
    read_data(&r, le, 8);
    CU_ASSERT_EQUAL(le[0], 0x88);
    CU_ASSERT_EQUAL(le[7], 0x11);
    /* Replacing an item. */
    CU_ASSERT_EQUAL(fw_cfg_add_i32(r.f, FW_CFG_E820_TABLE, 7), 0);
    CU_ASSERT_EQUAL(fw_cfg_add_i16(r.f, FW_CFG_E820_TABLE, 9), 0);
    select_key(&r, FW_CFG_E820_TABLE);
    read_data(&r, le, 3);
    CU_ASSERT_EQUAL(le[0], 9);
    CU_ASSERT_EQUAL(le[2], 0);          /* only two bytes now */

    char name[64];
    memset(name, 'n', sizeof(name));
    name[56] = '\0';
    CU_ASSERT_EQUAL(fw_cfg_add_file(r.f, name, &x, 1), -1);     /* 56 chars: no NUL room */
    name[55] = '\0';
    CU_ASSERT_EQUAL(fw_cfg_add_file(r.f, name, &x, 1), 0);
    CU_ASSERT_EQUAL(fw_cfg_add_file(r.f, "", &x, 1), -1);
    CU_ASSERT_EQUAL(fw_cfg_add_file(r.f, NULL, &x, 1), -1);
    rig_fini(&r);
}

struct dir_entry {
    uint32_t size;
    uint16_t select;
    char name[57];
};

static uint32_t read_dir(struct rig *r, struct dir_entry *out, uint32_t max)
{
    uint8_t c[4];
    select_key(r, FW_CFG_FILE_DIR);
    read_data(r, c, 4);
    uint32_t n = be32(c);
    for (uint32_t i = 0; i < n && i < max; i++) {
        uint8_t e[64];
        read_data(r, e, sizeof(e));
        out[i].size = be32(e);
        out[i].select = (uint16_t)(e[4] << 8 | e[5]);
        CU_ASSERT_EQUAL(e[6] | e[7], 0);
        memcpy(out[i].name, e + 8, 56);
        out[i].name[56] = '\0';
    }
    return n;
}

static void test_directory(void)
{
    struct rig r;
    rig_init(&r);
    struct dir_entry d[FW_CFG_MAX_FILES + 1];
    CU_ASSERT_EQUAL(read_dir(&r, d, 0), 0);
    CU_ASSERT_EQUAL(fw_cfg_add_file(r.f, "etc/e820", "EEEE", 4), 0);
    CU_ASSERT_EQUAL(fw_cfg_add_file(r.f, "bootorder", "/x\n/y", 6), 0);
    CU_ASSERT_EQUAL(fw_cfg_add_file(r.f, "zz/last", NULL, 0), 0);
    CU_ASSERT_EQUAL(fw_cfg_add_file(r.f, "etc/boot-fail-wait", "\x60\xea\0\0", 4), 0);
    CU_ASSERT_EQUAL_FATAL(read_dir(&r, d, FW_CFG_MAX_FILES), 4);
    /* Sorted by name, selectors follow the directory order. */
    static const char *const names[] = { "bootorder", "etc/boot-fail-wait", "etc/e820",
                                         "zz/last" };
    static const uint32_t sizes[] = { 6, 4, 4, 0 };
    for (unsigned i = 0; i < 4; i++) {
        CU_ASSERT_STRING_EQUAL(d[i].name, names[i]);
        CU_ASSERT_EQUAL(d[i].select, FW_CFG_FILE_FIRST + i);
        CU_ASSERT_EQUAL(d[i].size, sizes[i]);
    }
    /* Reading a file by the selector the directory gives. */
    char buf[8] = { 0 };
    select_key(&r, d[0].select);
    read_data(&r, buf, 6);
    CU_ASSERT_EQUAL(memcmp(buf, "/x\n/y", 6), 0);
    CU_ASSERT_EQUAL(iobus_read(&r.pio, PORT_DATA, 1), 0);
    select_key(&r, d[2].select);
    read_data(&r, buf, 4);
    CU_ASSERT_EQUAL(memcmp(buf, "EEEE", 4), 0);
    select_key(&r, d[3].select);                /* empty file */
    CU_ASSERT_EQUAL(iobus_read(&r.pio, PORT_DATA, 1), 0);
    /* One past the last file: nothing. */
    select_key(&r, FW_CFG_FILE_FIRST + 4);
    CU_ASSERT_EQUAL(iobus_read(&r.pio, PORT_DATA, 1), 0);

    /* Replacing keeps the slot, updates the size. */
    CU_ASSERT_EQUAL(fw_cfg_add_file(r.f, "etc/e820", "0123456789", 10), 0);
    CU_ASSERT_EQUAL_FATAL(read_dir(&r, d, FW_CFG_MAX_FILES), 4);
    CU_ASSERT_STRING_EQUAL(d[2].name, "etc/e820");
    CU_ASSERT_EQUAL(d[2].size, 10);

    /* Filling the directory: the 65th file is refused, and the 64 stay
     * sorted with matching selectors. */
    char name[16];
    for (unsigned i = 4; i < FW_CFG_MAX_FILES; i++) {
        snprintf(name, sizeof(name), "f/%03u", (FW_CFG_MAX_FILES - i) * 7 % 100);
        snprintf(name + 5, sizeof(name) - 5, "-%u", i);
        CU_ASSERT_EQUAL(fw_cfg_add_file(r.f, name, &i, 1), 0);
    }
    CU_ASSERT_EQUAL(fw_cfg_add_file(r.f, "one/too/many", "x", 1), -1);
    uint32_t n = read_dir(&r, d, FW_CFG_MAX_FILES + 1);
    CU_ASSERT_EQUAL_FATAL(n, FW_CFG_MAX_FILES);
    for (unsigned i = 1; i < n; i++) {
        CU_ASSERT(strcmp(d[i - 1].name, d[i].name) < 0);
        CU_ASSERT_EQUAL(d[i].select, FW_CFG_FILE_FIRST + i);
    }
    /* The last selector reads its file. */
    select_key(&r, FW_CFG_FILE_FIRST + FW_CFG_MAX_FILES - 1);
    CU_ASSERT_STRING_EQUAL(d[FW_CFG_MAX_FILES - 1].name, "zz/last");
    rig_fini(&r);
}

static void test_dma_read(void)
{
    struct rig r;
    rig_init(&r);
    /* Traditional select, then a DMA read. */
    select_key(&r, FW_CFG_SIGNATURE);
    memset(ram(&r, BUF), 0xAA, 16);
    put_desc(&r, DESC, CTL_READ, 4, BUF);
    kick_dma(&r, DESC);
    CU_ASSERT_EQUAL(desc_control(&r, DESC), 0);
    CU_ASSERT_EQUAL(memcmp(ram(&r, BUF), "QEMU", 4), 0);
    CU_ASSERT_EQUAL(ram(&r, BUF)[4], 0xAA);     /* nothing past length */

    /* Select + read in one descriptor, longer than the item: the rest of
     * the buffer is zero-filled. */
    CU_ASSERT_EQUAL(fw_cfg_add_file(r.f, "etc/thing", "abcdef", 6), 0);
    memset(ram(&r, BUF), 0xAA, 16);
    put_desc(&r, DESC, (uint32_t)FW_CFG_FILE_FIRST << 16 | CTL_SELECT | CTL_READ, 10, BUF);
    kick_dma(&r, DESC);
    CU_ASSERT_EQUAL(desc_control(&r, DESC), 0);
    CU_ASSERT_EQUAL(memcmp(ram(&r, BUF), "abcdef\0\0\0\0", 10), 0);
    CU_ASSERT_EQUAL(ram(&r, BUF)[10], 0xAA);

    /* Partial reads continue where the previous one stopped, across DMA
     * and the data port. */
    put_desc(&r, DESC, (uint32_t)FW_CFG_FILE_FIRST << 16 | CTL_SELECT | CTL_READ, 2, BUF);
    kick_dma(&r, DESC);
    CU_ASSERT_EQUAL(iobus_read(&r.pio, PORT_DATA, 1), 'c');
    put_desc(&r, DESC, CTL_READ, 2, BUF + 0x100);
    kick_dma(&r, DESC);
    CU_ASSERT_EQUAL(memcmp(ram(&r, BUF + 0x100), "de", 2), 0);

    /* A missing key reads as zeros without error (QEMU does the same). */
    memset(ram(&r, BUF), 0xAA, 8);
    put_desc(&r, DESC, 0x0017u << 16 | CTL_SELECT | CTL_READ, 8, BUF);
    kick_dma(&r, DESC);
    CU_ASSERT_EQUAL(desc_control(&r, DESC), 0);
    CU_ASSERT_EQUAL(memcmp(ram(&r, BUF), "\0\0\0\0\0\0\0\0", 8), 0);

    /* One 64-bit write of the address also starts a transfer. */
    put_desc(&r, DESC, FW_CFG_ID << 16 | CTL_SELECT | CTL_READ, 4, BUF);
    iobus_write(&r.pio, PORT_DMA_HI, 8, __builtin_bswap64(DESC));
    CU_ASSERT_EQUAL(desc_control(&r, DESC), 0);
    CU_ASSERT_EQUAL(ram(&r, BUF)[0], 3);

    /* Control 0: nothing to do, completes. */
    memset(ram(&r, BUF), 0xAA, 4);
    put_desc(&r, DESC, 0, 4, BUF);
    kick_dma(&r, DESC);
    CU_ASSERT_EQUAL(desc_control(&r, DESC), 0);
    CU_ASSERT_EQUAL(ram(&r, BUF)[0], 0xAA);

    /* The descriptor may overlap its own target: it was read before the
     * copy, and the status lands last. */
    put_desc(&r, DESC, FW_CFG_SIGNATURE << 16 | CTL_SELECT | CTL_READ, 16, DESC);
    kick_dma(&r, DESC);
    CU_ASSERT_EQUAL(desc_control(&r, DESC), 0);
    /* "QEMU" went to bytes 0-3 (then the status), zeros over the old
     * length (byte 7 was 0x10) and address (byte 14 was 0x10). */
    CU_ASSERT_EQUAL(ram(&r, DESC)[7], 0);
    CU_ASSERT_EQUAL(ram(&r, DESC)[14], 0);
    rig_fini(&r);
}

static void test_dma_skip(void)
{
    struct rig r;
    rig_init(&r);
    CU_ASSERT_EQUAL(fw_cfg_add_file(r.f, "etc/thing", "abcdef", 6), 0);
    put_desc(&r, DESC, (uint32_t)FW_CFG_FILE_FIRST << 16 | CTL_SELECT | CTL_SKIP, 2, 0);
    kick_dma(&r, DESC);
    CU_ASSERT_EQUAL(desc_control(&r, DESC), 0);
    CU_ASSERT_EQUAL(iobus_read(&r.pio, PORT_DATA, 1), 'c');
    /* Skipping past the end stops at the end. */
    put_desc(&r, DESC, CTL_SKIP, 0xffffffffu, 0);
    kick_dma(&r, DESC);
    CU_ASSERT_EQUAL(desc_control(&r, DESC), 0);
    CU_ASSERT_EQUAL(iobus_read(&r.pio, PORT_DATA, 1), 0);
    rig_fini(&r);
}

static void test_dma_errors(void)
{
    struct rig r;
    rig_init(&r);
    /* Target outside RAM: error, nothing written, nothing consumed. */
    put_desc(&r, DESC, FW_CFG_SIGNATURE << 16 | CTL_SELECT | CTL_READ, 4, 0x80000000ull);
    kick_dma(&r, DESC);
    CU_ASSERT_EQUAL(desc_control(&r, DESC), CTL_ERROR);
    CU_ASSERT_EQUAL(iobus_read(&r.pio, PORT_DATA, 1), 'Q');

    /* Target straddling the end of RAM: no partial write. */
    memset(ram(&r, RAM_SIZE - 2), 0xAA, 2);
    put_desc(&r, DESC, FW_CFG_SIGNATURE << 16 | CTL_SELECT | CTL_READ, 4, RAM_SIZE - 2);
    kick_dma(&r, DESC);
    CU_ASSERT_EQUAL(desc_control(&r, DESC), CTL_ERROR);
    CU_ASSERT_EQUAL(ram(&r, RAM_SIZE - 2)[0], 0xAA);
    CU_ASSERT_EQUAL(ram(&r, RAM_SIZE - 1)[0], 0xAA);

    /* Address + length wrapping around 2^64. */
    put_desc(&r, DESC, FW_CFG_SIGNATURE << 16 | CTL_SELECT | CTL_READ, 0x100,
             0xffffffffffffff80ull);
    kick_dma(&r, DESC);
    CU_ASSERT_EQUAL(desc_control(&r, DESC), CTL_ERROR);

    /* Writes: no item is writable. */
    memcpy(ram(&r, BUF), "XXXX", 4);
    put_desc(&r, DESC, FW_CFG_SIGNATURE << 16 | CTL_SELECT | CTL_WRITE, 4, BUF);
    kick_dma(&r, DESC);
    CU_ASSERT_EQUAL(desc_control(&r, DESC), CTL_ERROR);
    put_desc(&r, DESC, 0x0017u << 16 | CTL_SELECT | CTL_WRITE, 4, BUF);
    kick_dma(&r, DESC);
    CU_ASSERT_EQUAL(desc_control(&r, DESC), CTL_ERROR);
    select_key(&r, FW_CFG_SIGNATURE);
    char sig[5] = { 0 };
    read_data(&r, sig, 4);
    CU_ASSERT_STRING_EQUAL(sig, "QEMU");

    /* Descriptor outside RAM: nothing happens (and nothing to report to). */
    select_key(&r, FW_CFG_SIGNATURE);
    kick_dma(&r, 0x40000000ull);
    kick_dma(&r, 0xfffffff0ull);
    iobus_write(&r.pio, PORT_DMA_HI, 8, __builtin_bswap64(0xfffffffffffffff8ull));
    CU_ASSERT_EQUAL(iobus_read(&r.pio, PORT_DATA, 1), 'Q');

    /* Descriptor straddling the end of RAM: it cannot be read, but its
     * control word is in RAM and gets the error bit. */
    memset(ram(&r, RAM_SIZE - 8), 0, 8);
    kick_dma(&r, RAM_SIZE - 8);
    CU_ASSERT_EQUAL(desc_control(&r, RAM_SIZE - 8), CTL_ERROR);

    /* A high half above RAM, then a fresh low-only write: the latched
     * high half is cleared by each transfer. */
    put_desc(&r, DESC, FW_CFG_ID << 16 | CTL_SELECT | CTL_READ, 4, BUF);
    iobus_write(&r.pio, PORT_DMA_HI, 4, __builtin_bswap32(1));
    iobus_write(&r.pio, PORT_DMA_LO, 4, __builtin_bswap32((uint32_t)DESC));    /* 4G+DESC */
    CU_ASSERT_NOT_EQUAL(desc_control(&r, DESC), 0);
    iobus_write(&r.pio, PORT_DMA_LO, 4, __builtin_bswap32((uint32_t)DESC));
    CU_ASSERT_EQUAL(desc_control(&r, DESC), 0);

    /* Odd-sized or misplaced DMA register writes are ignored. */
    put_desc(&r, DESC, FW_CFG_ID << 16 | CTL_SELECT | CTL_READ, 4, BUF);
    iobus_write(&r.pio, PORT_DMA_LO, 2, 0x1000);
    iobus_write(&r.pio, PORT_DMA_HI + 2, 4, __builtin_bswap32((uint32_t)DESC));
    iobus_write(&r.pio, PORT_DMA_LO + 1, 1, 0x10);
    CU_ASSERT_NOT_EQUAL(desc_control(&r, DESC), 0);
    rig_fini(&r);
}

void suite_fw_cfg(void)
{
    CU_pSuite s = CU_add_suite("fw_cfg", NULL, NULL);
    CU_add_test(s, "signature, ID, combined port, DMA signature", test_signature_and_id);
    CU_add_test(s, "missing keys read 0, write channel, reset", test_missing_keys_and_reset);
    CU_add_test(s, "item validation and replacement", test_add_validation);
    CU_add_test(s, "file directory order, selectors, full", test_directory);
    CU_add_test(s, "DMA read, select+read, zero fill, 64-bit kick", test_dma_read);
    CU_add_test(s, "DMA skip", test_dma_skip);
    CU_add_test(s, "DMA errors: bad target, write, bad descriptor", test_dma_errors);
}
