/* The ACPI tables as SeaBIOS and then an OS see them: the fw_cfg files
 * read through the fw_cfg ports, the linker/loader script executed the
 * way src/fw/romfile_loader.c does (at made-up load addresses), then the
 * tables walked from the RSDP and checked against the PIIX4 PM device. */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

#include "../../firmware/acpi_tables.h"
#include "../../vmm/devices/fw_cfg.h"
#include "../../vmm/devices/piix4_pm.h"

#define TABLES_AT 0x07fe0000u       /* where our "SeaBIOS" puts each file */
#define RSDP_AT   0x000f5a40u

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

static uint64_t le64(const uint8_t *p) { return le32(p) | (uint64_t)le32(p + 4) << 32; }

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* ---- a miniature guest: files and the loader ---- */

struct gfile {
    char name[ACPI_LOADER_FILESZ];
    uint8_t *data;
    uint32_t size;
    uint32_t addr;                  /* where "SeaBIOS" allocated it */
    bool allocated;
};

struct guest {
    struct gfile files[3];          /* tables, rsdp, loader */
    unsigned nfiles;
};

static struct gfile *by_name(struct guest *g, const char *name)
{
    for (unsigned i = 0; i < g->nfiles; i++)
        if (strcmp(g->files[i].name, (const char *)name) == 0)
            return &g->files[i];
    return NULL;
}

/* A 56-byte name field of a loader entry: it must be NUL terminated. */
static struct gfile *find_file(struct guest *g, const uint8_t *field)
{
    if (field[ACPI_LOADER_FILESZ - 1])
        return NULL;
    return by_name(g, (const char *)field);
}

/* Reads the fw_cfg directory and every file, through the ports. */
static void read_fw_cfg(struct iobus *pio, struct guest *g)
{
    iobus_write(pio, 0x510, 2, FW_CFG_FILE_DIR);
    uint8_t hdr[4];
    for (int i = 0; i < 4; i++)
        hdr[i] = (uint8_t)iobus_read(pio, 0x511, 1);
    uint32_t count = be32(hdr);
    CU_ASSERT_EQUAL_FATAL(count, 3);
    uint16_t sel[3];
    for (uint32_t n = 0; n < count; n++) {
        uint8_t e[64];
        for (int i = 0; i < 64; i++)
            e[i] = (uint8_t)iobus_read(pio, 0x511, 1);
        struct gfile *f = &g->files[g->nfiles++];
        f->size = be32(e);
        sel[n] = (uint16_t)(e[4] << 8 | e[5]);
        memcpy(f->name, e + 8, sizeof(f->name));
        f->name[sizeof(f->name) - 1] = 0;
    }
    for (unsigned n = 0; n < g->nfiles; n++) {
        struct gfile *f = &g->files[n];
        f->data = calloc(1, f->size + 1);
        CU_ASSERT_PTR_NOT_NULL_FATAL(f->data);
        iobus_write(pio, 0x510, 2, sel[n]);
        for (uint32_t i = 0; i < f->size; i++)
            f->data[i] = (uint8_t)iobus_read(pio, 0x511, 1);
    }
}

static void free_guest(struct guest *g)
{
    for (unsigned i = 0; i < g->nfiles; i++)
        free(g->files[i].data);
}

/* Executes the script, asserting what SeaBIOS would reject.  Pointers
 * are patched as 64-bit additions of the source file's address. */
static void run_loader(struct guest *g, const uint8_t *script, uint32_t len)
{
    CU_ASSERT_EQUAL_FATAL(len % ACPI_LOADER_ENTRY_SIZE, 0);
    for (uint32_t off = 0; off < len; off += ACPI_LOADER_ENTRY_SIZE) {
        const uint8_t *e = script + off;
        const uint8_t *a = e + 4;
        struct gfile *f = find_file(g, a), *src;
        CU_ASSERT_PTR_NOT_NULL_FATAL(f);
        switch (le32(e)) {
        case ACPI_LOADER_ALLOCATE: {
            uint32_t align = le32(a + ACPI_LOADER_FILESZ);
            uint8_t zone = a[ACPI_LOADER_FILESZ + 4];
            CU_ASSERT_FALSE(f->allocated);                  /* exactly once */
            CU_ASSERT(align && (align & (align - 1)) == 0);
            f->addr = zone == ACPI_LOADER_ZONE_FSEG ? RSDP_AT : TABLES_AT;
            CU_ASSERT(zone == ACPI_LOADER_ZONE_FSEG || zone == ACPI_LOADER_ZONE_HIGH);
            CU_ASSERT_EQUAL(f->addr % align, 0);
            f->allocated = true;
            break;
        }
        case ACPI_LOADER_ADD_POINTER: {
            src = find_file(g, a + ACPI_LOADER_FILESZ);
            uint32_t at = le32(a + 2 * ACPI_LOADER_FILESZ);
            uint8_t size = a[2 * ACPI_LOADER_FILESZ + 4];
            CU_ASSERT_PTR_NOT_NULL_FATAL(src);
            CU_ASSERT_FATAL(f->allocated && src->allocated);
            CU_ASSERT_FATAL(size == 1 || size == 2 || size == 4 || size == 8);
            CU_ASSERT_FATAL((uint64_t)at + size <= f->size);
            uint64_t v = 0;
            memcpy(&v, f->data + at, size);
            v += src->addr;
            memcpy(f->data + at, &v, size);
            break;
        }
        case ACPI_LOADER_ADD_CHECKSUM: {
            uint32_t at = le32(a + ACPI_LOADER_FILESZ);
            uint32_t start = le32(a + ACPI_LOADER_FILESZ + 4);
            uint32_t n = le32(a + ACPI_LOADER_FILESZ + 8);
            CU_ASSERT_FATAL(f->allocated);
            CU_ASSERT_FATAL(at < f->size && (uint64_t)start + n <= f->size);
            CU_ASSERT(at >= start && at < start + n);   /* the byte is in its range */
            f->data[at] = (uint8_t)(f->data[at] - acpi_checksum(f->data + start, n));
            break;
        }
        default:
            CU_FAIL("unknown loader command");
        }
    }
}

/* The table at guest address addr, or NULL. */
static const uint8_t *table_at(struct guest *g, uint64_t addr, const char *sig)
{
    struct gfile *t = &g->files[0];
    for (unsigned i = 0; i < g->nfiles; i++)
        if (strcmp(g->files[i].name, ACPI_FILE_TABLES) == 0)
            t = &g->files[i];
    if (addr < t->addr || addr + 36 > (uint64_t)t->addr + t->size)
        return NULL;
    const uint8_t *p = t->data + (addr - t->addr);
    if (memcmp(p, sig, 4) != 0)
        return NULL;
    uint32_t len = le32(p + 4);
    if (addr + len > (uint64_t)t->addr + t->size)
        return NULL;
    return p;
}

struct rig {
    struct logger lg;
    struct iobus pio, mmio;
    struct guest_mem mem;
    uint8_t *bios;
    struct fw_cfg *fw;
    struct guest g;
};

static void rig_init(struct rig *r)
{
    memset(r, 0, sizeof(*r));
    r->lg = (struct logger){ LOG_ERROR, 2 };
    iobus_init(&r->pio, "pio", &r->lg);
    iobus_init(&r->mmio, "mmio", &r->lg);
    r->bios = calloc(1, 128 * KiB);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r->bios);
    CU_ASSERT_EQUAL_FATAL(mem_init(&r->mem, 16 * MiB, r->bios, 128 * KiB), 0);
    r->fw = fw_cfg_create(&r->pio, &r->mem, &r->lg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r->fw);
    struct acpi_board b;
    acpi_board_default(&b, ACPI_PM_BASE_DEFAULT);
    CU_ASSERT_EQUAL_FATAL(firmware_setup_acpi(r->fw, &b), 0);
    read_fw_cfg(&r->pio, &r->g);
    struct gfile *ld = by_name(&r->g, ACPI_FILE_LOADER);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ld);
    run_loader(&r->g, ld->data, ld->size);
}

static void rig_fini(struct rig *r)
{
    free_guest(&r->g);
    fw_cfg_destroy(r->fw);
    mem_destroy(&r->mem);
    free(r->bios);
}

/* RSDP -> RSDT/XSDT -> FADT, as an OS finds them. */
static const uint8_t *walk_to_fadt(struct rig *r, bool via_xsdt)
{
    struct gfile *rf = by_name(&r->g, ACPI_FILE_RSDP);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rf);
    const uint8_t *rsdp = rf->data;
    CU_ASSERT_EQUAL_FATAL(rf->size, 36);
    CU_ASSERT_EQUAL(memcmp(rsdp, "RSD PTR ", 8), 0);
    CU_ASSERT_EQUAL(acpi_checksum(rsdp, 20), 0);
    CU_ASSERT_EQUAL(rsdp[15], 2);
    CU_ASSERT_EQUAL(le32(rsdp + 20), 36);
    CU_ASSERT_EQUAL(acpi_checksum(rsdp, 36), 0);
    CU_ASSERT_EQUAL(rf->addr % 16, 0);
    CU_ASSERT(rf->addr >= 0xe0000 && rf->addr < 0x100000);
    const uint8_t *sdt;
    uint64_t entry;
    if (via_xsdt) {
        sdt = table_at(&r->g, le64(rsdp + 24), "XSDT");
        CU_ASSERT_PTR_NOT_NULL_FATAL(sdt);
        CU_ASSERT_EQUAL(le32(sdt + 4), 36 + 8);
        entry = le64(sdt + 36);
    } else {
        sdt = table_at(&r->g, le32(rsdp + 16), "RSDT");
        CU_ASSERT_PTR_NOT_NULL_FATAL(sdt);
        CU_ASSERT_EQUAL(le32(sdt + 4), 36 + 4);
        entry = le32(sdt + 36);
    }
    CU_ASSERT_EQUAL(acpi_checksum(sdt, le32(sdt + 4)), 0);
    const uint8_t *fadt = table_at(&r->g, entry, "FACP");
    CU_ASSERT_PTR_NOT_NULL_FATAL(fadt);
    return fadt;
}

static void test_tables_checksums(void)
{
    struct rig r;
    rig_init(&r);
    const uint8_t *fadt = walk_to_fadt(&r, false);
    CU_ASSERT_PTR_EQUAL(walk_to_fadt(&r, true), fadt);
    CU_ASSERT_EQUAL(le32(fadt + 4), 244);
    CU_ASSERT_EQUAL(fadt[8], 3);
    CU_ASSERT_EQUAL(acpi_checksum(fadt, 244), 0);
    CU_ASSERT_EQUAL(memcmp(fadt + 10, "MINUS1", 6), 0);
    /* FACS: 64-byte aligned, no checksum. */
    uint32_t facs_addr = le32(fadt + 36);
    const uint8_t *facs = table_at(&r.g, facs_addr, "FACS");
    CU_ASSERT_PTR_NOT_NULL_FATAL(facs);
    CU_ASSERT_EQUAL(facs_addr % 64, 0);
    CU_ASSERT_EQUAL(le32(facs + 4), 64);
    CU_ASSERT_EQUAL(le64(fadt + 132), 0);       /* X_FIRMWARE_CTRL unused */
    /* DSDT through both pointers. */
    const uint8_t *dsdt = table_at(&r.g, le32(fadt + 40), "DSDT");
    CU_ASSERT_PTR_NOT_NULL_FATAL(dsdt);
    CU_ASSERT_EQUAL(le64(fadt + 140), le32(fadt + 40));
    CU_ASSERT(le32(dsdt + 4) > 36);
    CU_ASSERT_EQUAL(acpi_checksum(dsdt, le32(dsdt + 4)), 0);
    rig_fini(&r);
}

static bool gas_is_io(const uint8_t *g, uint16_t port, unsigned bits)
{
    return g[0] == 1 && g[1] == bits && g[2] == 0 && le64(g + 4) == port;
}

/* The FADT's blocks are where the PM device answers once SeaBIOS has
 * set PMBA to ACPI_PM_BASE_DEFAULT. */
static void test_fadt_matches_pm_device(void)
{
    struct rig r;
    rig_init(&r);
    const uint8_t *f = walk_to_fadt(&r, true);
    uint32_t evt = le32(f + 56), cnt = le32(f + 64), tmr = le32(f + 76), gpe = le32(f + 80);
    CU_ASSERT_EQUAL(le16(f + 46), 9);               /* SCI_INT */
    CU_ASSERT_EQUAL(le32(f + 48), 0);               /* SMI_CMD: no SMM */
    CU_ASSERT_EQUAL(f[52], 0);
    CU_ASSERT_EQUAL(f[53], 0);
    CU_ASSERT_EQUAL(evt, ACPI_PM_BASE_DEFAULT + PIIX4_PM1_STS);
    CU_ASSERT_EQUAL(cnt, ACPI_PM_BASE_DEFAULT + PIIX4_PM1_CNT);
    CU_ASSERT_EQUAL(tmr, ACPI_PM_BASE_DEFAULT + PIIX4_PM_TMR);
    CU_ASSERT_EQUAL(gpe, ACPI_PM_BASE_DEFAULT + PIIX4_GPE0_STS);
    CU_ASSERT_EQUAL(le32(f + 60), 0);               /* no PM1b */
    CU_ASSERT_EQUAL(le32(f + 68), 0);
    CU_ASSERT_EQUAL(f[88], 4);                      /* PM1_EVT_LEN */
    CU_ASSERT_EQUAL(f[89], 2);                      /* PM1_CNT_LEN */
    CU_ASSERT_EQUAL(f[91], 4);                      /* PM_TMR_LEN */
    CU_ASSERT_EQUAL(f[92], 4);                      /* GPE0_BLK_LEN */
    CU_ASSERT(le16(f + 96) > 100 && le16(f + 98) > 1000);   /* no C2/C3 */
    uint32_t flags = le32(f + 112);
    CU_ASSERT_EQUAL(flags & (1u << 4), 0);          /* fixed power button */
    CU_ASSERT_EQUAL(flags & (1u << 8), 0);          /* 24-bit timer */
    CU_ASSERT(flags & (1u << 10));                  /* RESET_REG_SUP */
    CU_ASSERT(gas_is_io(f + 116, 0xcf9, 8));
    CU_ASSERT_EQUAL(f[128], 0x06);
    /* The 64-bit blocks agree with the 32-bit ones. */
    CU_ASSERT(gas_is_io(f + 148, (uint16_t)evt, 32));
    CU_ASSERT(gas_is_io(f + 172, (uint16_t)cnt, 16));
    CU_ASSERT(gas_is_io(f + 208, (uint16_t)tmr, 32));
    CU_ASSERT(gas_is_io(f + 220, (uint16_t)gpe, 32));
    CU_ASSERT_EQUAL(le64(f + 160), 0);              /* X_PM1b_EVT */

    /* Now a PM device, set up as SeaBIOS does, answers there. */
    struct pci_bus bus;
    struct vclock clk;
    vclock_init(&clk);
    vclock_set_manual(&clk, NS_PER_SEC);
    pci_bus_init(&bus, &r.pio, &r.mmio, &r.mem, &r.lg);
    struct piix4_pm *pm = piix4_pm_create(&bus, PIIX4_PM_DEVFN, (struct irq){ 0 }, &clk, NULL,
                                          &r.lg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pm);
    pci_config_write(&bus, PIIX4_PM_DEVFN, 0x40, 4, ACPI_PM_BASE_DEFAULT | 1);
    pci_config_write(&bus, PIIX4_PM_DEVFN, 0x80, 1, 1);
    CU_ASSERT_EQUAL(iobus_read(&r.pio, cnt, 2), PIIX4_CNT_SCI_EN);
    CU_ASSERT_EQUAL(iobus_read(&r.pio, tmr, 4), (uint32_t)PIIX4_PM_TIMER_HZ);
    piix4_pm_power_button(pm);
    CU_ASSERT_EQUAL(iobus_read(&r.pio, evt, 2), PIIX4_PM1_PWRBTN);
    CU_ASSERT_EQUAL(iobus_read(&r.pio, gpe, 4), 0);
    piix4_pm_destroy(pm);
    rig_fini(&r);
}

/* Finds `pat` in the AML, or NULL. */
static const uint8_t *aml_find(const uint8_t *p, size_t len, const uint8_t *pat, size_t n)
{
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(p + i, pat, n) == 0)
            return p + i;
    return NULL;
}

static bool has_eisaid(const uint8_t *aml, size_t len, uint16_t product)
{
    /* DWordConst of the compressed "PNP" and the product, big endian;
     * iasl shrinks PNP0000 (0x0000D041) to a WordConst. */
    const uint8_t pat[] = { 0x0c, 0x41, 0xd0, (uint8_t)(product >> 8), (uint8_t)product };
    const uint8_t word[] = { 0x0b, 0x41, 0xd0 };
    if (product == 0)
        return aml_find(aml, len, word, sizeof(word)) != NULL;
    return aml_find(aml, len, pat, sizeof(pat)) != NULL;
}

static void test_dsdt_contents(void)
{
    struct rig r;
    rig_init(&r);
    const uint8_t *f = walk_to_fadt(&r, false);
    const uint8_t *dsdt = table_at(&r.g, le32(f + 40), "DSDT");
    CU_ASSERT_PTR_NOT_NULL_FATAL(dsdt);
    size_t len = le32(dsdt + 4);
    /* \_S5: NameOp "_S5_" PackageOp PkgLength NumElements(4) then
     * SLP_TYPa, which must be the PM device's S5 (a ZeroOp for 0). */
    const uint8_t s5[] = { 0x08, '_', 'S', '5', '_', 0x12 };
    const uint8_t *p = aml_find(dsdt, len, s5, sizeof(s5));
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_EQUAL(p[7], 4);
    CU_ASSERT_EQUAL(PIIX4_SLP_TYP_S5, 0);
    CU_ASSERT_EQUAL(p[8], 0x00);
    /* The devices SeaBIOS and OSes look for. */
    CU_ASSERT(has_eisaid(dsdt, len, 0x0a03));       /* PCI root */
    CU_ASSERT(has_eisaid(dsdt, len, 0x0303));       /* keyboard (SeaBIOS checks) */
    CU_ASSERT(has_eisaid(dsdt, len, 0x0f13));       /* mouse */
    CU_ASSERT(has_eisaid(dsdt, len, 0x0501));       /* COM1 */
    CU_ASSERT(has_eisaid(dsdt, len, 0x0000));       /* PIC */
    CU_ASSERT(has_eisaid(dsdt, len, 0x0100));       /* PIT */
    CU_ASSERT(has_eisaid(dsdt, len, 0x0b00));       /* RTC */
    CU_ASSERT(has_eisaid(dsdt, len, 0x0c0f));       /* PCI links */
    CU_ASSERT_FALSE(has_eisaid(dsdt, len, 0x0c0c)); /* fixed power button only */
    CU_ASSERT_PTR_NOT_NULL(aml_find(dsdt, len, (const uint8_t *)"_PRT", 4));
    for (const char *l = "ABCD"; *l; l++) {
        uint8_t name[4] = { 'L', 'N', 'K', (uint8_t)*l };
        CU_ASSERT_PTR_NOT_NULL(aml_find(dsdt, len, name, 4));
    }
    rig_fini(&r);
}

static void test_invalid_boards(void)
{
    struct acpi_blobs *o = malloc(sizeof(*o));
    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    struct acpi_board b;
    acpi_board_default(&b, 0x600);
    CU_ASSERT_EQUAL(acpi_build(o, &b), 0);
    CU_ASSERT(o->loader_len > 0 && o->loader_len % ACPI_LOADER_ENTRY_SIZE == 0);
    CU_ASSERT(o->tables_len <= ACPI_TABLES_MAX);
    CU_ASSERT_EQUAL(o->facs_off % 64, 0);
    b.pm1a_cnt = 0;
    CU_ASSERT_EQUAL(acpi_build(o, &b), -1);
    acpi_board_default(&b, 0x600);
    b.gpe0_len = 3;
    CU_ASSERT_EQUAL(acpi_build(o, &b), -1);
    acpi_board_default(&b, 0x600);
    b.sci_irq = 200;
    CU_ASSERT_EQUAL(acpi_build(o, &b), -1);
    /* No GPE0 and no reset register: the FADT says so. */
    acpi_board_default(&b, 0xb000);
    b.gpe0 = 0;
    b.reset_port = 0;
    CU_ASSERT_EQUAL(acpi_build(o, &b), 0);
    const uint8_t *f = o->tables + o->fadt_off;
    CU_ASSERT_EQUAL(le32(f + 56), 0xb000);
    CU_ASSERT_EQUAL(le32(f + 80), 0);
    CU_ASSERT_EQUAL(f[92], 0);
    CU_ASSERT_EQUAL(le32(f + 112) & (1u << 10), 0);
    CU_ASSERT_EQUAL(f[116], 0);
    CU_ASSERT_EQUAL(acpi_checksum(f, 244), 0);
    free(o);
}

void suite_acpi(void)
{
    CU_pSuite s = CU_add_suite("acpi", NULL, NULL);
    CU_add_test(s, "fw_cfg files, loader script, checksums", test_tables_checksums);
    CU_add_test(s, "FADT fields match the PM device", test_fadt_matches_pm_device);
    CU_add_test(s, "DSDT: _S5, devices, links", test_dsdt_contents);
    CU_add_test(s, "invalid boards, optional blocks", test_invalid_boards);
}
