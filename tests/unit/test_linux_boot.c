/* Direct Linux boot: synthetic bzImages written to temporary files, loaded
 * into a real guest_mem, and the result read back the way the kernel
 * would see it (zero page, GDT, command line, initrd, entry state).  The
 * real Debian kernel from tools/make-linux-iso's cache is used too when
 * it is there. */
#include <CUnit/CUnit.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../firmware/linux_boot.h"

static uint8_t bios[64 * 1024];

static const struct fw_e820_range kvm_rsv[] = { { 0xfffbc000ull, 0x4000 } };

/* What a synthetic image's setup header says. */
struct kopts {
    uint8_t setup_sects;
    uint32_t syssize_bytes;     /* written as paragraphs */
    uint16_t version;
    uint8_t loadflags;
    uint8_t jump;               /* header end = 0x202 + jump */
    uint32_t initrd_addr_max, kernel_alignment, cmdline_size, init_size;
    uint8_t relocatable;
    uint64_t pref_address;
    uint32_t payload_len;       /* bytes after the setup sectors */
    const char *magic;
};

static struct kopts default_kopts(void)
{
    return (struct kopts){ .setup_sects = 4, .syssize_bytes = 0x3000, .version = 0x020F,
                           .loadflags = 0x01, .jump = 0x6A, .initrd_addr_max = 0x7FFFFFFF,
                           .kernel_alignment = 0x200000, .cmdline_size = 2047,
                           .init_size = 0x400000, .relocatable = 1,
                           .pref_address = 0x1000000, .payload_len = 0x3000, .magic = "HdrS" };
}

static void put(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static uint8_t payload_byte(size_t i) { return (uint8_t)(i * 7 + 3); }

static size_t image_setup_size(const struct kopts *o)
{
    return ((size_t)(o->setup_sects ? o->setup_sects : 4) + 1) * 512;
}

/* Writes the image to a temporary file; returns its size (path in `path`). */
static size_t write_image(const struct kopts *o, char *path, size_t pathlen)
{
    size_t setup = image_setup_size(o), size = setup + o->payload_len;
    if (size < 0x400)
        size = 0x400;
    uint8_t *img = calloc(1, size);
    CU_ASSERT_PTR_NOT_NULL_FATAL(img);
    img[0x1F1] = o->setup_sects;
    put(img + 0x1F4, o->syssize_bytes / 16, 4);
    put(img + 0x1FE, 0xAA55, 2);
    img[0x200] = 0xEB;
    img[0x201] = o->jump;
    memcpy(img + 0x202, o->magic, 4);
    put(img + 0x206, o->version, 2);
    img[0x211] = o->loadflags;
    put(img + 0x214, 0x100000, 4);
    put(img + 0x22C, o->initrd_addr_max, 4);
    put(img + 0x230, o->kernel_alignment, 4);
    img[0x234] = o->relocatable;
    put(img + 0x238, o->cmdline_size, 4);
    put(img + 0x258, o->pref_address, 8);
    put(img + 0x260, o->init_size, 4);
    for (size_t i = setup; i < size; i++)
        img[i] = payload_byte(i - setup);
    snprintf(path, pathlen, "/tmp/minus1-lbk-XXXXXX");
    int fd = mkstemp(path);
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_FATAL(write(fd, img, size) == (ssize_t)size);
    close(fd);
    free(img);
    return size;
}

/* A file of `size` bytes (sparse beyond the pattern at its start). */
static void write_blob(char *path, size_t pathlen, uint64_t size)
{
    snprintf(path, pathlen, "/tmp/minus1-lbi-XXXXXX");
    int fd = mkstemp(path);
    CU_ASSERT_FATAL(fd >= 0);
    uint8_t head[256];
    for (unsigned i = 0; i < sizeof(head); i++)
        head[i] = (uint8_t)(0xA5 ^ i);
    CU_ASSERT_FATAL(write(fd, head, size < sizeof(head) ? size : sizeof(head)) >= 0);
    CU_ASSERT_FATAL(ftruncate(fd, (off_t)size) == 0);
    close(fd);
}

struct run {
    struct guest_mem mem;
    struct x86_state st;
    char err[256];
    int rc;
};

/* Loads image o (+ an initrd of initrd_size bytes unless 0) into ram bytes. */
static void run_with(struct run *r, uint64_t ram, const struct kopts *o, uint64_t initrd_size,
                     const char *cmdline, const struct fw_e820_range *rsv, unsigned nrsv)
{
    char kpath[64], ipath[64];
    write_image(o, kpath, sizeof(kpath));
    if (initrd_size)
        write_blob(ipath, sizeof(ipath), initrd_size);
    CU_ASSERT_EQUAL_FATAL(mem_init(&r->mem, ram, bios, sizeof(bios)), 0);
    memset(&r->st, 0xEE, sizeof(r->st));
    r->err[0] = 0;
    r->rc = linux_boot_prepare(&r->mem, kpath, initrd_size ? ipath : NULL, cmdline, rsv, nrsv,
                               &r->st, r->err, sizeof(r->err));
    unlink(kpath);
    if (initrd_size)
        unlink(ipath);
}

static void run_fini(struct run *r) { mem_destroy(&r->mem); }

static uint64_t zp(struct run *r, unsigned off, unsigned n)
{
    uint8_t b[8] = { 0 };
    CU_ASSERT_EQUAL(mem_read(&r->mem, LINUX_BOOT_ZERO_PAGE + off, b, n), 0);
    return get(b, n);
}

/* Expects failure with a one-line message that contains `what`. */
static void expect_error(uint64_t ram, const struct kopts *o, uint64_t initrd_size,
                         const char *cmdline, const char *what)
{
    struct run r;
    run_with(&r, ram, o, initrd_size, cmdline, kvm_rsv, 1);
    CU_ASSERT_EQUAL(r.rc, -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err, what));
    CU_ASSERT_PTR_NULL(strchr(r.err, '\n'));
    if (!strstr(r.err, what))
        fprintf(stderr, "\n  expected \"%s\" in \"%s\"\n", what, r.err);
    run_fini(&r);
}

/* ---- placement and zero page ---- */

static void test_kernel_and_header(void)
{
    struct kopts o = default_kopts();
    struct run r;
    run_with(&r, 128 * MiB, &o, 0, "console=ttyS0 root=/dev/ram0", kvm_rsv, 1);
    CU_ASSERT_EQUAL_FATAL(r.rc, 0);
    /* The protected-mode part, byte for byte, at 1 MiB. */
    uint8_t k[0x3000];
    CU_ASSERT_EQUAL(mem_read(&r.mem, LINUX_BOOT_KERNEL, k, sizeof(k)), 0);
    bool same = true;
    for (size_t i = 0; i < sizeof(k); i++)
        same &= k[i] == payload_byte(i);
    CU_ASSERT(same);
    /* The setup sectors are not loaded anywhere near it. */
    CU_ASSERT_EQUAL(zp(&r, 0x202, 4), 0x53726448);
    CU_ASSERT_EQUAL(zp(&r, 0x1F1, 1), 4);
    CU_ASSERT_EQUAL(zp(&r, 0x1FE, 2), 0xAA55);
    CU_ASSERT_EQUAL(zp(&r, 0x206, 2), 0x020F);
    CU_ASSERT_EQUAL(zp(&r, 0x210, 1), 0xFF);          /* type_of_loader */
    CU_ASSERT_EQUAL(zp(&r, 0x211, 1) & 1, 1);         /* LOADED_HIGH kept */
    CU_ASSERT_EQUAL(zp(&r, 0x214, 4), 0x100000);      /* code32_start */
    CU_ASSERT_EQUAL(zp(&r, 0x22C, 4), 0x7FFFFFFF);
    CU_ASSERT_EQUAL(zp(&r, 0x258, 8), 0x1000000);     /* pref_address copied */
    CU_ASSERT_EQUAL(zp(&r, 0x260, 4), 0x400000);
    CU_ASSERT_EQUAL(zp(&r, 0x218, 4), 0);             /* no initrd */
    CU_ASSERT_EQUAL(zp(&r, 0x21C, 4), 0);
    CU_ASSERT_EQUAL(zp(&r, 0x1EF, 1), 0);             /* sentinel */
    /* Command line. */
    CU_ASSERT_EQUAL(zp(&r, 0x228, 4), LINUX_BOOT_CMDLINE);
    char cl[64];
    CU_ASSERT_EQUAL(mem_read(&r.mem, LINUX_BOOT_CMDLINE, cl, 30), 0);
    CU_ASSERT_STRING_EQUAL(cl, "console=ttyS0 root=/dev/ram0");
    /* screen_info: 80x25 colour VGA text. */
    CU_ASSERT_EQUAL(zp(&r, 0x06, 1), 3);
    CU_ASSERT_EQUAL(zp(&r, 0x07, 1), 80);
    CU_ASSERT_EQUAL(zp(&r, 0x0E, 1), 25);
    CU_ASSERT_EQUAL(zp(&r, 0x0F, 1), 1);
    CU_ASSERT_EQUAL(zp(&r, 0x10, 2), 16);
    CU_ASSERT_NOT_EQUAL(zp(&r, 0x0A, 2) & 0xFF, 0x10); /* not CGA */
    CU_ASSERT_EQUAL(zp(&r, 0x02, 2), 0xFFFF);           /* ext_mem_k saturates */
    CU_ASSERT_EQUAL(zp(&r, 0x1E0, 4), (128 - 1) * 1024); /* alt_mem_k */
    run_fini(&r);
}

static void test_e820(void)
{
    struct kopts o = default_kopts();
    struct run r;
    /* 5 GiB: RAM is split around the PCI hole, like etc/e820. */
    run_with(&r, 5 * GiB, &o, 0, "", kvm_rsv, 1);
    CU_ASSERT_EQUAL_FATAL(r.rc, 0);
    CU_ASSERT_EQUAL_FATAL(zp(&r, 0x1E8, 1), 4);
    static const uint64_t want[4][3] = {
        { 0, 0xA0000, 1 },
        { 0x100000, MEM_PCI_HOLE_START - 0x100000, 1 },
        { 4 * GiB, 5 * GiB - MEM_PCI_HOLE_START, 1 },
        { 0xfffbc000ull, 0x4000, 2 },
    };
    for (unsigned i = 0; i < 4; i++) {
        unsigned e = 0x2D0 + i * 20;
        CU_ASSERT_EQUAL(zp(&r, e, 8), want[i][0]);
        CU_ASSERT_EQUAL(zp(&r, e + 8, 8), want[i][1]);
        CU_ASSERT_EQUAL(zp(&r, e + 16, 4), want[i][2]);
    }
    CU_ASSERT_EQUAL(zp(&r, 0x2D0 + 4 * 20, 8), 0);    /* nothing after */
    CU_ASSERT_EQUAL(zp(&r, 0x02, 2), 0xFFFF);          /* ext_mem_k saturates */
    run_fini(&r);

    /* Compared with what the firmware gets from the same memory. */
    run_with(&r, 64 * MiB, &o, 0, "", kvm_rsv, 1);
    CU_ASSERT_EQUAL_FATAL(r.rc, 0);
    struct firmware_opts fo;
    memset(&fo, 0, sizeof(fo));
    fo.reserved[0] = kvm_rsv[0];
    fo.n_reserved = 1;
    uint8_t fw[10 * FW_E820_ENTRY_SIZE];
    int n = firmware_e820(fw, sizeof(fw), &r.mem, &fo);
    CU_ASSERT_EQUAL_FATAL(n, 2 * FW_E820_ENTRY_SIZE);   /* RAM, reserved */
    CU_ASSERT_EQUAL(zp(&r, 0x1E8, 1), 3);               /* low RAM split in two */
    CU_ASSERT_EQUAL(zp(&r, 0x2D0 + 20, 8) + zp(&r, 0x2D0 + 28, 8), get(fw + 8, 8));
    CU_ASSERT_EQUAL(zp(&r, 0x2D0 + 40, 8), get(fw + 20, 8));
    CU_ASSERT_EQUAL(zp(&r, 0x2D0 + 48, 8), get(fw + 28, 8));
    CU_ASSERT_EQUAL(zp(&r, 0x2D0 + 56, 4), FW_E820_RESERVED);
    run_fini(&r);
}

static void test_initrd_placement(void)
{
    struct kopts o = default_kopts();
    struct run r;
    const uint64_t isz = 0x12345;
    run_with(&r, 128 * MiB, &o, isz, "x", kvm_rsv, 1);
    CU_ASSERT_EQUAL_FATAL(r.rc, 0);
    uint64_t addr = zp(&r, 0x218, 4);
    CU_ASSERT_EQUAL(zp(&r, 0x21C, 4), isz);
    CU_ASSERT_EQUAL(addr & 0xFFF, 0);
    CU_ASSERT_EQUAL(addr, (128 * MiB - isz) & ~0xFFFull);   /* as high as possible */
    uint8_t b[256];
    CU_ASSERT_EQUAL(mem_read(&r.mem, addr, b, sizeof(b)), 0);
    CU_ASSERT_EQUAL(b[0], 0xA5);
    CU_ASSERT_EQUAL(b[255], 0xA5 ^ 255);
    run_fini(&r);

    /* Under initrd_addr_max, even with more RAM above it. */
    o.initrd_addr_max = 0x3FFFFFF;
    run_with(&r, 256 * MiB, &o, isz, "x", kvm_rsv, 1);
    CU_ASSERT_EQUAL_FATAL(r.rc, 0);
    addr = zp(&r, 0x218, 4);
    CU_ASSERT(addr + isz <= 0x4000000);
    CU_ASSERT_EQUAL(addr, (0x4000000 - isz) & ~0xFFFull);
    run_fini(&r);

    /* initrd_addr_max 0 means the protocol default 0x37FFFFFF. */
    o.initrd_addr_max = 0;
    run_with(&r, 1 * GiB, &o, isz, "x", kvm_rsv, 1);
    CU_ASSERT_EQUAL_FATAL(r.rc, 0);
    CU_ASSERT_EQUAL(zp(&r, 0x218, 4), (0x38000000 - isz) & ~0xFFFull);
    run_fini(&r);

    /* Never over a reserved range: it goes below it. */
    o = default_kopts();
    const struct fw_e820_range rsv[2] = { { 128 * MiB - 0x2000, 0x1000 },
                                          { 128 * MiB - 0x6000, 0x1000 } };
    run_with(&r, 128 * MiB, &o, 0x8000, "x", rsv, 2);
    CU_ASSERT_EQUAL_FATAL(r.rc, 0);
    addr = zp(&r, 0x218, 4);
    CU_ASSERT_EQUAL(addr, 128 * MiB - 0x6000 - 0x8000);
    run_fini(&r);

    /* Never inside the area the kernel decompresses into: with 4 MiB of
     * init_size from 16 MiB, 21 MiB of RAM leaves 1 MiB. */
    run_with(&r, 21 * MiB, &o, 0x100000, "x", kvm_rsv, 1);
    CU_ASSERT_EQUAL_FATAL(r.rc, 0);
    CU_ASSERT_EQUAL(zp(&r, 0x218, 4), 20 * MiB);
    run_fini(&r);
    expect_error(21 * MiB, &o, 0x100001, "x", "--initrd");
}

static void test_entry_state(void)
{
    struct kopts o = default_kopts();
    struct run r;
    run_with(&r, 64 * MiB, &o, 0x1000, NULL, kvm_rsv, 1);
    CU_ASSERT_EQUAL_FATAL(r.rc, 0);
    const struct x86_state *s = &r.st;
    CU_ASSERT_EQUAL(s->rip, 0x100000);
    CU_ASSERT_EQUAL(s->gpr[X86_RSI], LINUX_BOOT_ZERO_PAGE);
    CU_ASSERT_EQUAL(s->gpr[X86_RBP], 0);
    CU_ASSERT_EQUAL(s->gpr[X86_RDI], 0);
    CU_ASSERT_EQUAL(s->gpr[X86_RBX], 0);
    CU_ASSERT_EQUAL(s->rflags & X86_RFLAGS_IF, 0);
    CU_ASSERT_EQUAL(s->rflags & 2, 2);
    CU_ASSERT(s->cr0 & X86_CR0_PE);
    CU_ASSERT_FALSE(s->cr0 & X86_CR0_PG);
    CU_ASSERT_EQUAL(s->efer, 0);
    CU_ASSERT_EQUAL(s->cr4, 0);
    CU_ASSERT_EQUAL(x86_code_bits(s), 32);
    /* Each segment cache matches its GDT descriptor. */
    CU_ASSERT_EQUAL(s->gdt.base, LINUX_BOOT_GDT);
    CU_ASSERT(s->gdt.limit >= 0x1F);
    for (int i = 0; i < X86_NSREG; i++) {
        const struct x86_seg *g = &s->seg[i];
        CU_ASSERT_EQUAL(g->selector, i == X86_CS ? 0x10 : 0x18);
        uint8_t d[8];
        CU_ASSERT_EQUAL(mem_read(&r.mem, s->gdt.base + (g->selector & ~7u), d, 8), 0);
        uint64_t desc = get(d, 8);
        uint64_t base = (desc >> 16 & 0xFFFFFF) | (desc >> 56 & 0xFF) << 24;
        uint32_t limit = (uint32_t)((desc & 0xFFFF) | (desc >> 48 & 0xF) << 16);
        bool gran = desc >> 55 & 1;
        if (gran)
            limit = limit << 12 | 0xFFF;
        CU_ASSERT_EQUAL(g->base, base);
        CU_ASSERT_EQUAL(g->base, 0);
        CU_ASSERT_EQUAL(g->limit, limit);
        CU_ASSERT_EQUAL(g->limit, 0xFFFFFFFF);
        CU_ASSERT_EQUAL(g->type, desc >> 40 & 0xF);
        CU_ASSERT_EQUAL(g->s, (bool)(desc >> 44 & 1));
        CU_ASSERT_EQUAL(g->dpl, desc >> 45 & 3);
        CU_ASSERT_EQUAL(g->present, (bool)(desc >> 47 & 1));
        CU_ASSERT_EQUAL(g->db, (bool)(desc >> 54 & 1));
        CU_ASSERT_EQUAL(g->g, gran);
        CU_ASSERT_EQUAL(g->l, false);
        CU_ASSERT_EQUAL(g->dpl, 0);
        CU_ASSERT(g->present && g->db);
        CU_ASSERT_EQUAL(g->type & 8, i == X86_CS ? 8 : 0);   /* code vs data */
        CU_ASSERT(g->type & 2);                                /* readable / writable */
    }
    CU_ASSERT(s->tr.present);
    /* NULL command line: an empty string, still pointed at. */
    CU_ASSERT_EQUAL(zp(&r, 0x228, 4), LINUX_BOOT_CMDLINE);
    uint8_t c = 0xFF;
    CU_ASSERT_EQUAL(mem_read(&r.mem, LINUX_BOOT_CMDLINE, &c, 1), 0);
    CU_ASSERT_EQUAL(c, 0);
    run_fini(&r);
}

static void test_layout_variants(void)
{
    struct run r;
    /* setup_sects 0 means 4. */
    struct kopts o = default_kopts();
    o.setup_sects = 0;
    run_with(&r, 64 * MiB, &o, 0, "", kvm_rsv, 1);
    CU_ASSERT_EQUAL_FATAL(r.rc, 0);
    uint8_t b = 0;
    CU_ASSERT_EQUAL(mem_read(&r.mem, LINUX_BOOT_KERNEL + 5, &b, 1), 0);
    CU_ASSERT_EQUAL(b, payload_byte(5));
    run_fini(&r);

    /* Big setup: the kernel starts after all 64 + 1 sectors. */
    o = default_kopts();
    o.setup_sects = 64;
    run_with(&r, 64 * MiB, &o, 0, "", kvm_rsv, 1);
    CU_ASSERT_EQUAL_FATAL(r.rc, 0);
    CU_ASSERT_EQUAL(mem_read(&r.mem, LINUX_BOOT_KERNEL + 0x2FFF, &b, 1), 0);
    CU_ASSERT_EQUAL(b, payload_byte(0x2FFF));
    run_fini(&r);

    /* Protocol 2.06 (no pref_address/init_size): header ends at 0x23C. */
    o = default_kopts();
    o.version = 0x0206;
    o.jump = 0x3A;
    o.init_size = 0xFFFFFFFF;   /* not part of 2.06: ignored */
    run_with(&r, 8 * MiB, &o, 0x1000, "", kvm_rsv, 1);
    CU_ASSERT_EQUAL_FATAL(r.rc, 0);
    CU_ASSERT_EQUAL(zp(&r, 0x218, 4), 8 * MiB - 0x1000);
    CU_ASSERT_EQUAL(zp(&r, 0x260, 4), 0);   /* beyond its header: not copied */
    CU_ASSERT_EQUAL(zp(&r, 0x02, 2), 7 * 1024);   /* ext_mem_k: KiB above 1 MiB */
    run_fini(&r);

    /* A fixed (non-relocatable) kernel needs pref_address + init_size. */
    o = default_kopts();
    o.relocatable = 0;
    o.pref_address = 0x2000000;
    run_with(&r, 36 * MiB, &o, 0, "", kvm_rsv, 1);
    CU_ASSERT_EQUAL(r.rc, 0);
    run_fini(&r);
    expect_error(35 * MiB, &o, 0, "", "needs RAM");

    /* Exactly cmdline_size bytes is fine. */
    o = default_kopts();
    o.cmdline_size = 8;
    run_with(&r, 64 * MiB, &o, 0, "12345678", kvm_rsv, 1);
    CU_ASSERT_EQUAL(r.rc, 0);
    run_fini(&r);
}

/* ---- hostile images ---- */

static void test_hostile_headers(void)
{
    struct kopts o = default_kopts();
    o.magic = "HdrX";
    expect_error(64 * MiB, &o, 0, "", "not a Linux bzImage");

    o = default_kopts();
    o.version = 0x0205;
    expect_error(64 * MiB, &o, 0, "", "2.05 is too old");
    o.version = 0x0000;
    expect_error(64 * MiB, &o, 0, "", "too old");

    o = default_kopts();
    o.loadflags = 0;
    expect_error(64 * MiB, &o, 0, "", "zImage");

    /* Header end (jump byte) before the fields its version promises. */
    o = default_kopts();
    o.jump = 0x20;
    expect_error(64 * MiB, &o, 0, "", "setup header too short");
    o.version = 0x0206;
    o.jump = 0x39;
    expect_error(64 * MiB, &o, 0, "", "setup header too short");

    /* setup_sects pointing past the end of the file. */
    o = default_kopts();
    o.setup_sects = 255;
    o.payload_len = 0;
    o.syssize_bytes = 0x10;
    char kpath[64];
    struct run r;
    size_t sz = write_image(&o, kpath, sizeof(kpath));
    /* Chop the file to just the first 4 KiB: 256 sectors can't be there. */
    CU_ASSERT_FATAL(truncate(kpath, 4096) == 0 && sz > 4096);
    CU_ASSERT_EQUAL_FATAL(mem_init(&r.mem, 64 * MiB, bios, sizeof(bios)), 0);
    CU_ASSERT_EQUAL(linux_boot_prepare(&r.mem, kpath, NULL, "", kvm_rsv, 1, &r.st, r.err,
                                       sizeof(r.err)), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "truncated"));
    /* Shorter than a setup header at all. */
    CU_ASSERT_FATAL(truncate(kpath, 0x100) == 0);
    CU_ASSERT_EQUAL(linux_boot_prepare(&r.mem, kpath, NULL, "", kvm_rsv, 1, &r.st, r.err,
                                       sizeof(r.err)), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "not a Linux bzImage"));
    CU_ASSERT_FATAL(truncate(kpath, 0) == 0);
    CU_ASSERT_EQUAL(linux_boot_prepare(&r.mem, kpath, NULL, "", kvm_rsv, 1, &r.st, r.err,
                                       sizeof(r.err)), -1);
    unlink(kpath);
    run_fini(&r);

    /* syssize claims more than the file holds; or nothing at all. */
    o = default_kopts();
    o.syssize_bytes = 0x3010;
    expect_error(64 * MiB, &o, 0, "", "truncated");
    o.syssize_bytes = 0xFFFFFFF0;
    expect_error(64 * MiB, &o, 0, "", "truncated");
    o.syssize_bytes = 0;
    expect_error(64 * MiB, &o, 0, "", "truncated");
}

static void test_hostile_sizes(void)
{
    struct kopts o = default_kopts();
    /* init_size / pref_address that would overflow a naive sum. */
    o.init_size = 0xFFFFFFFF;
    expect_error(64 * MiB, &o, 0, "", "needs RAM");
    o = default_kopts();
    o.relocatable = 0;
    o.pref_address = 0xFFFFFFFFFFFFF000ull;
    expect_error(64 * MiB, &o, 0, "", "needs RAM");
    o.pref_address = 0;     /* a fixed kernel "at 0": needs only init_size */
    o.init_size = 0x100000;
    struct run r;
    run_with(&r, 64 * MiB, &o, 0, "", kvm_rsv, 1);
    CU_ASSERT_EQUAL(r.rc, 0);
    run_fini(&r);
    /* Odd kernel_alignment is not trusted for arithmetic. */
    o = default_kopts();
    o.kernel_alignment = 0x123457;
    run_with(&r, 64 * MiB, &o, 0, "", kvm_rsv, 1);
    CU_ASSERT_EQUAL(r.rc, 0);
    run_fini(&r);

    /* A kernel bigger than RAM, before any of it is read. */
    o = default_kopts();
    o.payload_len = 3 * MiB;
    o.syssize_bytes = 3 * MiB;
    expect_error(2 * MiB, &o, 0, "", "larger than the guest's low RAM");
    expect_error(4 * MiB, &o, 0, "", "needs RAM");

    /* An initrd that cannot fit. */
    o = default_kopts();
    expect_error(64 * MiB, &o, 60 * MiB, "", "--initrd");
    expect_error(64 * MiB, &o, 5 * GiB, "", "--initrd");
    /* The only room under initrd_addr_max is inside the kernel. */
    o.initrd_addr_max = 0x13FFFFF;
    expect_error(64 * MiB, &o, 0x1000, "", "do not fit");

    /* Command line over cmdline_size. */
    o = default_kopts();
    o.cmdline_size = 8;
    expect_error(64 * MiB, &o, 0, "123456789", "--append");
    o.cmdline_size = 0xFFFFFFFF;    /* still bounded by our own area */
    char *big = malloc(LINUX_BOOT_CMDLINE_MAX + 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(big);
    memset(big, 'a', LINUX_BOOT_CMDLINE_MAX);
    big[LINUX_BOOT_CMDLINE_MAX] = 0;
    expect_error(64 * MiB, &o, 0, big, "--append");
    free(big);

    /* A reservation under the kernel. */
    const struct fw_e820_range low[1] = { { 0x200000, 0x1000 } };
    run_with(&r, 64 * MiB, &o, 0, "", low, 1);
    CU_ASSERT_EQUAL(r.rc, -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "reserved"));
    run_fini(&r);
}

static void test_bad_files(void)
{
    struct guest_mem mem;
    struct x86_state st;
    char err[256];
    CU_ASSERT_EQUAL_FATAL(mem_init(&mem, 64 * MiB, bios, sizeof(bios)), 0);
    CU_ASSERT_EQUAL(linux_boot_prepare(&mem, "/nonexistent/bzImage", NULL, "", NULL, 0, &st, err,
                                       sizeof(err)), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "/nonexistent/bzImage"));
    CU_ASSERT_EQUAL(linux_boot_prepare(&mem, "/tmp", NULL, "", NULL, 0, &st, err, sizeof(err)),
                    -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "not a regular file"));

    struct kopts o = default_kopts();
    char kpath[64];
    write_image(&o, kpath, sizeof(kpath));
    CU_ASSERT_EQUAL(linux_boot_prepare(&mem, kpath, "/nonexistent/initrd", "", NULL, 0, &st, err,
                                       sizeof(err)), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "--initrd /nonexistent/initrd"));
    /* Too many reservations for the e820 builder. */
    struct fw_e820_range many[FW_MAX_RESERVED + 1];
    memset(many, 0, sizeof(many));
    CU_ASSERT_EQUAL(linux_boot_prepare(&mem, kpath, NULL, "", many, FW_MAX_RESERVED + 1, &st,
                                       err, sizeof(err)), -1);
    /* And without any reservation at all it works, e820 has no reserved entry. */
    CU_ASSERT_EQUAL(linux_boot_prepare(&mem, kpath, NULL, "", NULL, 0, &st, err, sizeof(err)), 0);
    uint8_t n = 0;
    CU_ASSERT_EQUAL(mem_read(&mem, LINUX_BOOT_ZERO_PAGE + 0x1E8, &n, 1), 0);
    CU_ASSERT_EQUAL(n, 2);
    /* A second call (as on a guest reset) puts everything back. */
    uint8_t junk[64];
    memset(junk, 0xCC, sizeof(junk));
    CU_ASSERT_EQUAL(mem_write(&mem, LINUX_BOOT_KERNEL, junk, sizeof(junk)), 0);
    CU_ASSERT_EQUAL(mem_write(&mem, LINUX_BOOT_ZERO_PAGE + 0x1E8, junk, 1), 0);
    CU_ASSERT_EQUAL(linux_boot_prepare(&mem, kpath, NULL, "", kvm_rsv, 1, &st, err, sizeof(err)),
                    0);
    CU_ASSERT_EQUAL(mem_read(&mem, LINUX_BOOT_KERNEL, junk, 1), 0);
    CU_ASSERT_EQUAL(junk[0], payload_byte(0));
    CU_ASSERT_EQUAL(mem_read(&mem, LINUX_BOOT_ZERO_PAGE + 0x1E8, &n, 1), 0);
    CU_ASSERT_EQUAL(n, 3);
    unlink(kpath);
    mem_destroy(&mem);
}

/* ---- the real thing, when tools/make-linux-iso has cached it ---- */

static void test_debian_kernel(void)
{
    const char *path = getenv("MINUS1_TEST_KERNEL");
    glob_t g = { 0 };
    if (!path && glob("build/linux-cache/unpacked/*/boot/vmlinuz-*", 0, NULL, &g) == 0 &&
        g.gl_pathc > 0)
        path = g.gl_pathv[0];
    if (!path || access(path, R_OK) != 0) {
        fprintf(stderr, "\n  (no cached Debian kernel: run tools/make-linux-iso; skipped) ");
        globfree(&g);
        return;
    }
    char ipath[64];
    write_blob(ipath, sizeof(ipath), 3 * MiB + 17);
    struct guest_mem mem;
    struct x86_state st;
    char err[256];
    CU_ASSERT_EQUAL_FATAL(mem_init(&mem, 256 * MiB, bios, sizeof(bios)), 0);
    int rc = linux_boot_prepare(&mem, path, ipath, "console=ttyS0", kvm_rsv, 1, &st, err,
                                sizeof(err));
    if (rc)
        fprintf(stderr, "\n  %s\n", err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    uint8_t zpg[4096];
    CU_ASSERT_EQUAL(mem_read(&mem, LINUX_BOOT_ZERO_PAGE, zpg, sizeof(zpg)), 0);
    CU_ASSERT_EQUAL(get(zpg + 0x202, 4), 0x53726448);
    CU_ASSERT(get(zpg + 0x206, 2) >= 0x020A);
    CU_ASSERT_EQUAL(zpg[0x210], 0xFF);
    uint64_t initrd = get(zpg + 0x218, 4);
    uint64_t kend = 0x1000000 + get(zpg + 0x260, 4);   /* pref_address + init_size */
    CU_ASSERT(initrd >= kend);
    CU_ASSERT(initrd + 3 * MiB + 17 <= 256 * MiB);
    CU_ASSERT_EQUAL(get(zpg + 0x21C, 4), 3 * MiB + 17);
    /* The protected-mode part is the file after (setup_sects + 1) sectors. */
    FILE *f = fopen(path, "rb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    uint8_t want[512], got[512];
    CU_ASSERT_EQUAL(fseek(f, ((long)zpg[0x1F1] + 1) * 512, SEEK_SET), 0);
    CU_ASSERT_EQUAL(fread(want, 1, sizeof(want), f), sizeof(want));
    fclose(f);
    CU_ASSERT_EQUAL(mem_read(&mem, LINUX_BOOT_KERNEL, got, sizeof(got)), 0);
    CU_ASSERT_EQUAL(memcmp(want, got, sizeof(got)), 0);
    CU_ASSERT_EQUAL(st.rip, 0x100000);
    /* 64 MiB is too little for its ~64 MiB init_size from 16 MiB. */
    struct guest_mem small;
    CU_ASSERT_EQUAL_FATAL(mem_init(&small, 64 * MiB, bios, sizeof(bios)), 0);
    CU_ASSERT_EQUAL(linux_boot_prepare(&small, path, NULL, "", kvm_rsv, 1, &st, err, sizeof(err)),
                    -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "needs RAM"));
    mem_destroy(&small);
    mem_destroy(&mem);
    unlink(ipath);
    globfree(&g);
}

void suite_linux_boot(void)
{
    CU_pSuite s = CU_add_suite("linux_boot", NULL, NULL);
    CU_add_test(s, "kernel placement and setup header", test_kernel_and_header);
    CU_add_test(s, "e820 table matches etc/e820", test_e820);
    CU_add_test(s, "initrd placement", test_initrd_placement);
    CU_add_test(s, "32-bit entry state and GDT", test_entry_state);
    CU_add_test(s, "layout variants", test_layout_variants);
    CU_add_test(s, "hostile setup headers", test_hostile_headers);
    CU_add_test(s, "hostile sizes", test_hostile_sizes);
    CU_add_test(s, "bad files, reload", test_bad_files);
    CU_add_test(s, "Debian kernel", test_debian_kernel);
}
