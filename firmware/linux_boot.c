/* Direct Linux boot (see linux_boot.h).  Field offsets are those of the
 * setup header and boot_params in Documentation/arch/x86/boot.rst and
 * zero-page.rst; everything read from the image is untrusted and checked
 * before it sizes or places anything. */
#include "linux_boot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PAGE 0x1000ull
#define FOUR_GIB 0x100000000ull
#define LEGACY_HOLE_START 0xA0000ull    /* VGA window, option ROMs, BIOS */
#define LEGACY_HOLE_END 0x100000ull

/* Setup header (offsets into the image and into boot_params alike). */
#define HDR_START 0x1F1
#define HDR_SETUP_SECTS 0x1F1
#define HDR_SYSSIZE 0x1F4
#define HDR_BOOT_FLAG 0x1FE
#define HDR_JUMP_OFFSET 0x201       /* the header ends at 0x202 + this byte */
#define HDR_MAGIC 0x202
#define HDR_VERSION 0x206
#define HDR_TYPE_OF_LOADER 0x210
#define HDR_LOADFLAGS 0x211
#define HDR_CODE32_START 0x214
#define HDR_RAMDISK_IMAGE 0x218
#define HDR_RAMDISK_SIZE 0x21C
#define HDR_CMD_LINE_PTR 0x228
#define HDR_INITRD_ADDR_MAX 0x22C
#define HDR_KERNEL_ALIGNMENT 0x230
#define HDR_RELOCATABLE 0x234
#define HDR_CMDLINE_SIZE 0x238
#define HDR_PREF_ADDRESS 0x258
#define HDR_INIT_SIZE 0x260
#define HDR_END_MAX 0x290           /* boot_params has room for this much */
#define HDR_END_206 0x23C           /* what protocol 2.06 defines */
#define HDR_END_210 0x264           /* ... and 2.10 (pref_address, init_size) */

#define LOADED_HIGH 0x01
#define LOADER_UNDEFINED 0xFF       /* "a boot loader without an assigned id" */

/* boot_params outside the setup header. */
#define BP_EXT_MEM_K 0x002          /* screen_info starts at 0 */
#define BP_VIDEO_MODE 0x006
#define BP_VIDEO_COLS 0x007
#define BP_VIDEO_EGA_BX 0x00A
#define BP_VIDEO_LINES 0x00E
#define BP_VIDEO_ISVGA 0x00F
#define BP_VIDEO_POINTS 0x010
#define BP_ALT_MEM_K 0x1E0
#define BP_E820_ENTRIES 0x1E8
#define BP_E820_TABLE 0x2D0
#define BP_SIZE 0x1000

#define SEL_CODE 0x10
#define SEL_DATA 0x18

struct setup {
    unsigned version;
    uint8_t loadflags;
    bool relocatable;
    uint64_t kernel_off, kernel_len;    /* the protected-mode part of the file */
    uint32_t initrd_addr_max, kernel_alignment, cmdline_size, init_size;
    uint64_t pref_address;
    size_t hdr_end;                     /* bytes of header to copy, from 0x1F1 */
};

/* Where everything goes, decided before a byte is written. */
struct plan {
    uint64_t kernel_end;    /* highest byte the kernel needs while decompressing */
    uint64_t initrd_addr, initrd_size;
    size_t cmdline_len;
};

static uint32_t get_le(const uint8_t *p, unsigned n)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint32_t)p[i] << (8 * i);
    return v;
}

static uint64_t get_le64(const uint8_t *p)
{
    return get_le(p, 4) | (uint64_t)get_le(p + 4, 4) << 32;
}

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* pread() until done: files may be on anything, short reads happen. */
static int read_at(int fd, uint64_t off, void *buf, uint64_t len)
{
    uint8_t *p = buf;
    while (len) {
        ssize_t n = pread(fd, p, len > (1u << 30) ? (1u << 30) : len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        off += (uint64_t)n;
        len -= (uint64_t)n;
    }
    return 0;
}

static int open_file(const char *opt, const char *path, uint64_t *size, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        snprintf(err, errlen, "%s %s: %s", opt, path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s %s: not a regular file", opt, path);
        close(fd);
        return -1;
    }
    *size = (uint64_t)st.st_size;
    return fd;
}

/* The checks that make the rest safe: every size and offset used later
 * comes out of here validated against the file size. */
static int parse_setup(const uint8_t *h, uint64_t file_size, struct setup *s, const char *path,
                       char *err, size_t errlen)
{
    memset(s, 0, sizeof(*s));
    if (file_size < HDR_VERSION + 2 || get_le(h + HDR_MAGIC, 4) != 0x53726448 /* "HdrS" */ ||
        get_le(h + HDR_BOOT_FLAG, 2) != 0xAA55) {
        snprintf(err, errlen, "--kernel %s: not a Linux bzImage (no \"HdrS\" setup header)",
                 path);
        return -1;
    }
    s->version = get_le(h + HDR_VERSION, 2);
    if (s->version < LINUX_BOOT_MIN_VERSION) {
        snprintf(err, errlen, "--kernel %s: boot protocol %u.%02u is too old (2.06 or later needed)",
                 path, s->version >> 8, s->version & 0xFF);
        return -1;
    }
    size_t need = s->version >= 0x020A ? HDR_END_210 : HDR_END_206;
    s->hdr_end = (size_t)0x202 + h[HDR_JUMP_OFFSET];
    if (s->hdr_end > HDR_END_MAX)
        s->hdr_end = HDR_END_MAX;
    if (s->hdr_end < need || file_size < need) {
        snprintf(err, errlen, "--kernel %s: setup header too short for protocol %u.%02u", path,
                 s->version >> 8, s->version & 0xFF);
        return -1;
    }
    s->loadflags = h[HDR_LOADFLAGS];
    if (!(s->loadflags & LOADED_HIGH)) {
        snprintf(err, errlen, "--kernel %s: a zImage (loaded low) is not supported, use a bzImage",
                 path);
        return -1;
    }
    unsigned sects = h[HDR_SETUP_SECTS] ? h[HDR_SETUP_SECTS] : 4;  /* 0 means 4 */
    s->kernel_off = (uint64_t)(sects + 1) * 512;
    uint64_t syssize = (uint64_t)get_le(h + HDR_SYSSIZE, 4) * 16;
    if (s->kernel_off >= file_size || syssize == 0 || syssize > file_size - s->kernel_off) {
        snprintf(err, errlen,
                 "--kernel %s: truncated image (%llu bytes; setup %llu + kernel %llu expected)",
                 path, (unsigned long long)file_size, (unsigned long long)s->kernel_off,
                 (unsigned long long)syssize);
        return -1;
    }
    /* Everything after the setup sectors: syssize may leave out a trailer
     * (signatures) that costs nothing to carry along. */
    s->kernel_len = file_size - s->kernel_off;
    s->initrd_addr_max = get_le(h + HDR_INITRD_ADDR_MAX, 4);
    s->kernel_alignment = get_le(h + HDR_KERNEL_ALIGNMENT, 4);
    s->relocatable = h[HDR_RELOCATABLE] != 0;
    s->cmdline_size = get_le(h + HDR_CMDLINE_SIZE, 4);
    if (s->version >= 0x020A) {
        s->pref_address = get_le64(h + HDR_PREF_ADDRESS);
        s->init_size = get_le(h + HDR_INIT_SIZE, 4);
    }
    return 0;
}

/* Where the kernel decompresses itself: a relocatable kernel runs at its
 * load address rounded up to kernel_alignment, but never below
 * pref_address (its link address); a fixed one at pref_address. */
static uint64_t runtime_start(const struct setup *s)
{
    if (s->version < 0x020A)
        return LINUX_BOOT_KERNEL;
    if (!s->relocatable)
        return s->pref_address;
    uint64_t start = LINUX_BOOT_KERNEL;
    uint64_t a = s->kernel_alignment;
    if (a && !(a & (a - 1)))
        start = (start + a - 1) & ~(a - 1);
    return start > s->pref_address ? start : s->pref_address;
}

static const struct fw_e820_range *overlapping(const struct fw_e820_range *r, unsigned n,
                                               uint64_t addr, uint64_t len)
{
    for (unsigned i = 0; i < n; i++)
        if (r[i].len && addr < r[i].addr + r[i].len && r[i].addr < addr + len)
            return &r[i];
    return NULL;
}

static int plan_kernel(const struct guest_mem *mem, const struct setup *s,
                       const struct fw_e820_range *reserved, unsigned nreserved, struct plan *p,
                       const char *path, char *err, size_t errlen)
{
    uint64_t ram = mem->below_4g;
    uint64_t start = runtime_start(s);
    uint64_t end = LINUX_BOOT_KERNEL + s->kernel_len;
    /* start and init_size come from the image: compare before adding. */
    if (start > ram || s->init_size > ram - start || end > ram) {
        uint64_t top = start > UINT64_MAX - s->init_size ? UINT64_MAX : start + s->init_size;
        snprintf(err, errlen,
                 "--kernel %s: the kernel needs RAM up to %llu MiB, the guest has %llu MiB "
                 "below 4 GiB",
                 path, (unsigned long long)((top > end ? top : end + MiB - 1) >> 20),
                 (unsigned long long)(ram >> 20));
        return -1;
    }
    if (start + s->init_size > end)
        end = start + s->init_size;
    if (overlapping(reserved, nreserved, 0, end)) {
        snprintf(err, errlen, "--kernel %s: the kernel would overlap a reserved memory range",
                 path);
        return -1;
    }
    p->kernel_end = (end + PAGE - 1) & ~(PAGE - 1);
    return 0;
}

/* As high as allowed (the kernel's limit, low RAM, reservations), page
 * aligned, never inside what the kernel decompresses into. */
static int plan_initrd(const struct guest_mem *mem, const struct setup *s, uint64_t size,
                       const struct fw_e820_range *reserved, unsigned nreserved, struct plan *p,
                       const char *path, char *err, size_t errlen)
{
    /* 0x37FFFFFF is the protocol's value for kernels that leave it 0. */
    uint64_t ceiling = (uint64_t)(s->initrd_addr_max ? s->initrd_addr_max : 0x37FFFFFF) + 1;
    if (ceiling > mem->below_4g)
        ceiling = mem->below_4g;
    p->initrd_size = size;
    if (size == 0)
        return 0;               /* ramdisk_image 0: no initrd */
    for (unsigned tries = 0; tries <= nreserved; tries++) {
        if (ceiling < p->kernel_end || size > ceiling - p->kernel_end ||
            ((ceiling - size) & ~(PAGE - 1)) < p->kernel_end)
            break;
        p->initrd_addr = (ceiling - size) & ~(PAGE - 1);
        const struct fw_e820_range *r = overlapping(reserved, nreserved, p->initrd_addr, size);
        if (!r)
            return 0;
        ceiling = r->addr;      /* try again below the reservation */
    }
    snprintf(err, errlen,
             "--initrd %s: %llu bytes do not fit between the kernel (up to %llu MiB) and "
             "%llu MiB",
             path, (unsigned long long)size, (unsigned long long)(p->kernel_end >> 20),
             (unsigned long long)(ceiling >> 20));
    return -1;
}

/* minus1's etc/e820, with the legacy hole taken out of low RAM. */
static int build_e820(const struct guest_mem *mem, const struct fw_e820_range *reserved,
                      unsigned nreserved, uint8_t *table, unsigned *count)
{
    struct firmware_opts fo;
    memset(&fo, 0, sizeof(fo));
    if (nreserved > FW_MAX_RESERVED)
        return -1;
    if (nreserved)
        memcpy(fo.reserved, reserved, nreserved * sizeof(*reserved));
    fo.n_reserved = nreserved;
    uint8_t raw[(2 + FW_MAX_RESERVED) * FW_E820_ENTRY_SIZE];
    int n = firmware_e820(raw, sizeof(raw), mem, &fo);
    if (n < 0)
        return -1;
    unsigned out = 0;
    for (int off = 0; off + FW_E820_ENTRY_SIZE <= n; off += FW_E820_ENTRY_SIZE) {
        uint64_t addr = get_le64(raw + off), end = addr + get_le64(raw + off + 8);
        uint32_t type = get_le(raw + off + 16, 4);
        uint64_t piece[2][2] = { { addr, end }, { 0, 0 } };
        if (type == FW_E820_RAM && addr < LEGACY_HOLE_END && end > LEGACY_HOLE_START) {
            piece[0][1] = addr < LEGACY_HOLE_START ? LEGACY_HOLE_START : addr;
            piece[1][0] = LEGACY_HOLE_END;
            piece[1][1] = end > LEGACY_HOLE_END ? end : LEGACY_HOLE_END;
        }
        for (int i = 0; i < 2; i++) {
            if (piece[i][1] <= piece[i][0])
                continue;
            if (out == LINUX_BOOT_E820_MAX)
                return -1;
            uint8_t *e = table + out++ * FW_E820_ENTRY_SIZE;
            put_le(e, piece[i][0], 8);
            put_le(e + 8, piece[i][1] - piece[i][0], 8);
            put_le(e + 16, type, 4);
        }
    }
    *count = out;
    return 0;
}

/* An 80x25 colour VGA text console, as the BIOS would have left it. */
static void put_screen_info(uint8_t *bp)
{
    bp[BP_VIDEO_MODE] = 3;
    bp[BP_VIDEO_COLS] = 80;
    bp[BP_VIDEO_LINES] = 25;
    bp[BP_VIDEO_ISVGA] = 1;                 /* VIDEO_TYPE_VGAC */
    put_le(bp + BP_VIDEO_EGA_BX, 0x0003, 2);   /* INT 10h/12h: colour, 256 KiB */
    put_le(bp + BP_VIDEO_POINTS, 16, 2);
}

static int write_zero_page(struct guest_mem *mem, const uint8_t *hdr, const struct setup *s,
                           const struct plan *p, const struct fw_e820_range *reserved,
                           unsigned nreserved)
{
    uint8_t bp[BP_SIZE];
    memset(bp, 0, sizeof(bp));
    memcpy(bp + HDR_START, hdr + HDR_START, s->hdr_end - HDR_START);
    put_screen_info(bp);
    uint64_t ext_k = mem->below_4g > LEGACY_HOLE_END ? (mem->below_4g - LEGACY_HOLE_END) >> 10 : 0;
    put_le(bp + BP_EXT_MEM_K, ext_k > 0xFFFF ? 0xFFFF : ext_k, 2);
    put_le(bp + BP_ALT_MEM_K, ext_k, 4);
    unsigned n;
    if (build_e820(mem, reserved, nreserved, bp + BP_E820_TABLE, &n) < 0)
        return -1;
    bp[BP_E820_ENTRIES] = (uint8_t)n;
    bp[HDR_TYPE_OF_LOADER] = LOADER_UNDEFINED;
    put_le(bp + HDR_CODE32_START, LINUX_BOOT_KERNEL, 4);
    put_le(bp + HDR_RAMDISK_IMAGE, p->initrd_addr, 4);
    put_le(bp + HDR_RAMDISK_SIZE, p->initrd_size, 4);
    put_le(bp + HDR_CMD_LINE_PTR, LINUX_BOOT_CMDLINE, 4);
    return mem_write(mem, LINUX_BOOT_ZERO_PAGE, bp, sizeof(bp));
}

/* Null, null, then the flat code (0x10) and data (0x18) descriptors the
 * protocol asks for: base 0, limit 4 GiB, 32-bit, DPL 0. */
static int write_gdt(struct guest_mem *mem)
{
    uint8_t gdt[32];
    memset(gdt, 0, sizeof(gdt));
    put_le(gdt + SEL_CODE, 0x00CF9B000000FFFFull, 8);
    put_le(gdt + SEL_DATA, 0x00CF93000000FFFFull, 8);
    return mem_write(mem, LINUX_BOOT_GDT, gdt, sizeof(gdt));
}

/* The segment caches must say what the GDT says: the kernel reloads the
 * selectors and expects the same flat segments. */
static void flat_seg(struct x86_seg *g, uint16_t sel, uint8_t type)
{
    *g = (struct x86_seg){ .base = 0, .limit = 0xFFFFFFFF, .selector = sel, .type = type,
                           .present = true, .s = true, .db = true, .g = true };
}

static void fill_entry(struct x86_state *st)
{
    x86_reset_state(st);        /* TR/LDT, RFLAGS bit 1, and zeros elsewhere */
    memset(st->gpr, 0, sizeof(st->gpr));
    st->gpr[X86_RSI] = LINUX_BOOT_ZERO_PAGE;
    st->gpr[X86_RSP] = LINUX_BOOT_ZERO_PAGE;    /* below the zero page, unused memory */
    st->rip = LINUX_BOOT_KERNEL;
    st->rflags = 0x2;           /* IF clear */
    st->cr0 = X86_CR0_PE | X86_CR0_ET;
    for (int i = 0; i < X86_NSREG; i++)
        flat_seg(&st->seg[i], SEL_DATA, 0x3);
    flat_seg(&st->seg[X86_CS], SEL_CODE, 0xB);
    st->gdt = (struct x86_dtable){ LINUX_BOOT_GDT, 32 - 1 };
    /* An empty IDT: a fault before the kernel sets its own shuts down
     * (reset) instead of running whatever is at address 0. */
    st->idt = (struct x86_dtable){ 0, 0 };
}

static int load_into_ram(struct guest_mem *mem, int fd, uint64_t off, uint64_t gpa, uint64_t len,
                         const char *opt, const char *path, char *err, size_t errlen)
{
    void *dst = mem_ptr(mem, gpa, len);
    if (!dst) {
        snprintf(err, errlen, "%s %s: no guest RAM at 0x%llx", opt, path, (unsigned long long)gpa);
        return -1;
    }
    if (read_at(fd, off, dst, len) < 0) {
        snprintf(err, errlen, "%s %s: read error (%s)", opt, path,
                 errno ? strerror(errno) : "file shrank");
        return -1;
    }
    mem_notify_write(mem, gpa, len);
    return 0;
}

struct files {
    int kfd, ifd;
    uint64_t ksize, isize;
};

static int plan_all(struct guest_mem *mem, const char *kernel, const char *initrd,
                    const char *cmdline, const struct fw_e820_range *reserved, unsigned nreserved,
                    struct files *f, uint8_t *hdr, struct setup *s, struct plan *p, char *err,
                    size_t errlen)
{
    f->kfd = open_file("--kernel", kernel, &f->ksize, err, errlen);
    if (f->kfd < 0)
        return -1;
    if (f->ksize > mem->below_4g) {
        snprintf(err, errlen, "--kernel %s: %llu MiB is larger than the guest's low RAM", kernel,
                 (unsigned long long)(f->ksize >> 20));
        return -1;
    }
    uint64_t n = f->ksize < HDR_END_MAX ? f->ksize : HDR_END_MAX;
    if (read_at(f->kfd, 0, hdr, n) < 0) {
        snprintf(err, errlen, "--kernel %s: read error", kernel);
        return -1;
    }
    if (parse_setup(hdr, f->ksize, s, kernel, err, errlen) < 0 ||
        plan_kernel(mem, s, reserved, nreserved, p, kernel, err, errlen) < 0)
        return -1;
    p->cmdline_len = strlen(cmdline);
    uint64_t max = s->cmdline_size < LINUX_BOOT_CMDLINE_MAX - 1 ? s->cmdline_size
                                                                : LINUX_BOOT_CMDLINE_MAX - 1;
    if (p->cmdline_len > max) {
        snprintf(err, errlen, "--append: %zu bytes, the kernel accepts at most %llu",
                 p->cmdline_len, (unsigned long long)max);
        return -1;
    }
    if (!initrd)
        return 0;
    f->ifd = open_file("--initrd", initrd, &f->isize, err, errlen);
    if (f->ifd < 0)
        return -1;
    return plan_initrd(mem, s, f->isize, reserved, nreserved, p, initrd, err, errlen);
}

int linux_boot_prepare(struct guest_mem *mem, const char *kernel, const char *initrd,
                       const char *cmdline, const struct fw_e820_range *reserved,
                       unsigned nreserved, struct x86_state *entry, char *err, size_t errlen)
{
    struct files f = { -1, -1, 0, 0 };
    uint8_t hdr[HDR_END_MAX];
    struct setup s;
    struct plan p;
    memset(hdr, 0, sizeof(hdr));
    memset(&p, 0, sizeof(p));
    if (!cmdline)
        cmdline = "";
    int rc = -1;
    if (nreserved > FW_MAX_RESERVED) {
        snprintf(err, errlen, "--kernel: too many reserved memory ranges");
        goto out;
    }
    if (plan_all(mem, kernel, initrd, cmdline, reserved, nreserved, &f, hdr, &s, &p, err,
                 errlen) < 0 ||
        load_into_ram(mem, f.kfd, s.kernel_off, LINUX_BOOT_KERNEL, s.kernel_len, "--kernel",
                      kernel, err, errlen) < 0)
        goto out;
    if (p.initrd_size && load_into_ram(mem, f.ifd, 0, p.initrd_addr, p.initrd_size, "--initrd",
                                       initrd, err, errlen) < 0)
        goto out;
    if (mem_write(mem, LINUX_BOOT_CMDLINE, cmdline, p.cmdline_len + 1) < 0 ||
        write_gdt(mem) < 0 || write_zero_page(mem, hdr, &s, &p, reserved, nreserved) < 0) {
        snprintf(err, errlen, "--kernel %s: guest RAM too small for the boot structures", kernel);
        goto out;
    }
    fill_entry(entry);
    rc = 0;
out:
    if (f.kfd >= 0)
        close(f.kfd);
    if (f.ifd >= 0)
        close(f.ifd);
    return rc;
}
