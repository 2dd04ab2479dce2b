/* Regression tests for the bug classes of this device set's CVE record.
 * Each test is named after the CVE whose class it covers and drives the
 * real device through its ports exactly as a hostile guest would; each one
 * fails if the guard it is about is taken out (checked by hand, see the
 * comments).  Out-of-bounds accesses the behaviour cannot show are left to
 * the ASan build (build/asan/unit-tests cve): every buffer involved is on
 * the heap or the stack, where ASan sees past its end.
 *
 * "Descriptors read once" is proved by counting: the guest page holding
 * the descriptors is made inaccessible, each access faults, the handler
 * counts reads, opens the page for one single-stepped instruction and
 * closes it again.  The count is compared with the count the same number
 * of plain mem_read() calls produce (calibrated, so it does not depend on
 * how memcpy is written). */
#include <CUnit/CUnit.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include "../../vmm/devices/fw_cfg.h"
#include "../../vmm/devices/ne2k/ne2k.h"
#include "../../vmm/devices/pit.h"
#include "../../vmm/devices/vga/vga.h"
#include "../../vmm/net/net.h"
#include "ide_harness.h"

/* ---- read counting on guest pages ---------------------------------- */

struct watch {
    uint8_t *lo;                /* page-aligned host range */
    size_t len;
    volatile sig_atomic_t reads, writes;
    struct sigaction old_segv, old_trap;
};

/* A signal handler has no other way to find its state. */
static struct watch *active_watch;

#define EFLAGS_TF 0x100

static void watch_segv(int sig, siginfo_t *si, void *ctx)
{
    ucontext_t *uc = ctx;
    struct watch *w = active_watch;
    uint8_t *a = si->si_addr;
    (void)sig;
    if (!w || a < w->lo || a >= w->lo + w->len) {
        signal(SIGSEGV, SIG_DFL);       /* a real crash: fault again, die */
        return;
    }
    if (uc->uc_mcontext.gregs[REG_ERR] & 2)
        w->writes++;
    else
        w->reads++;
    mprotect(w->lo, w->len, PROT_READ | PROT_WRITE);
    uc->uc_mcontext.gregs[REG_EFL] |= EFLAGS_TF;    /* one instruction, then close */
}

static void watch_trap(int sig, siginfo_t *si, void *ctx)
{
    ucontext_t *uc = ctx;
    (void)sig;
    (void)si;
    if (active_watch)
        mprotect(active_watch->lo, active_watch->len, PROT_NONE);
    uc->uc_mcontext.gregs[REG_EFL] &= ~(greg_t)EFLAGS_TF;
}

static void watch_start(struct watch *w, void *host, size_t len)
{
    long pg = sysconf(_SC_PAGESIZE);
    uintptr_t lo = (uintptr_t)host & ~(uintptr_t)(pg - 1);
    uintptr_t hi = ((uintptr_t)host + len + (uintptr_t)pg - 1) & ~(uintptr_t)(pg - 1);
    w->lo = (uint8_t *)lo;
    w->len = hi - lo;
    w->reads = w->writes = 0;
    struct sigaction sa = { 0 };
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sa.sa_sigaction = watch_segv;
    sigaction(SIGSEGV, &sa, &w->old_segv);
    sa.sa_sigaction = watch_trap;
    sigaction(SIGTRAP, &sa, &w->old_trap);
    active_watch = w;
    CU_ASSERT_EQUAL_FATAL(mprotect(w->lo, w->len, PROT_NONE), 0);
}

static void watch_stop(struct watch *w)
{
    mprotect(w->lo, w->len, PROT_READ | PROT_WRITE);
    active_watch = NULL;
    sigaction(SIGSEGV, &w->old_segv, NULL);
    sigaction(SIGTRAP, &w->old_trap, NULL);
}

/* Faulting reads that `n` mem_read()s of `size` bytes at gpa, gpa+stride,
 * ... produce: what a device that reads each descriptor once must cost. */
static long calibrate(struct guest_mem *m, uint64_t gpa, unsigned n, uint64_t stride,
                      unsigned size)
{
    struct watch w;
    uint8_t buf[64];
    watch_start(&w, mem_ptr(m, gpa, (uint64_t)n * stride), (size_t)n * stride);
    for (unsigned i = 0; i < n; i++)
        CU_ASSERT_EQUAL(mem_read(m, gpa + i * stride, buf, size), 0);
    watch_stop(&w);
    return w.reads;
}

/* ---- NE2000 -------------------------------------------------------- */

#define NE_BASE 0x300
enum { CR = 0, PSTART = 1, PSTOP = 2, BNRY = 3, TPSR = 4, TBCR0 = 5, TBCR1 = 6, ISR = 7,
       RSAR0 = 8, RSAR1 = 9, RBCR0 = 10, RBCR1 = 11, RCR = 12, TCR = 13, DCR = 14, IMR = 15,
       NE_DATA = 0x10 };
#define P1_CURR 7
#define CR_STP 0x01
#define CR_STA 0x02
#define CR_TXP 0x04
#define CR_RREAD 0x08
#define CR_RWRITE 0x10
#define CR_NODMA 0x20
#define ISR_RXE 0x04
#define ISR_TXE 0x08
#define ISR_OVW 0x10
#define ISR_RDC 0x40
#define NE_RAM_BYTES 0x4000

static const uint8_t NE_MAC[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

struct nefx {
    struct logger log;
    struct iobus bus;
    struct net_port *port;
    struct net_memory *mem;
    struct ne2k *n;
};

static void ne_irq(void *opaque, int n, int level)
{
    (void)opaque;
    (void)n;
    (void)level;
}

static void ne_out(struct nefx *f, unsigned reg, uint8_t v) { iobus_write(&f->bus, NE_BASE + reg, 1, v); }
static uint8_t ne_in(struct nefx *f, unsigned reg) { return (uint8_t)iobus_read(&f->bus, NE_BASE + reg, 1); }

static void ne_page(struct nefx *f, unsigned p)
{
    uint8_t run = ne_in(f, CR) & (CR_STA | CR_STP);
    ne_out(f, CR, (uint8_t)(p << 6 | CR_NODMA | run));
}

/* A driver's init, byte mode, with the ring the test asks for; promiscuous. */
static void ne_init(struct nefx *f, uint8_t pstart, uint8_t pstop, uint8_t curr, uint8_t bnry)
{
    memset(f, 0, sizeof(*f));
    f->log = (struct logger){ LOG_ERROR, STDERR_FILENO };
    iobus_init(&f->bus, "pio", &f->log);
    f->port = net_port_create(&f->log);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f->port);
    f->mem = net_memory_attach(f->port, 8);
    struct irq irq = { ne_irq, f, 9 };
    f->n = ne2k_create_isa(&f->bus, NE_BASE, irq, f->port, NE_MAC, &f->log);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f->n);
    ne_out(f, CR, CR_NODMA | CR_STP);
    ne_out(f, DCR, 0x48);                   /* byte transfers */
    ne_out(f, RCR, 0x14);                   /* promiscuous, broadcast */
    ne_out(f, TCR, 0);
    ne_out(f, TPSR, 0x40);
    ne_out(f, PSTART, pstart);
    ne_out(f, PSTOP, pstop);
    ne_out(f, BNRY, bnry);
    ne_out(f, ISR, 0xFF);
    ne_page(f, 1);
    ne_out(f, P1_CURR, curr);
    ne_page(f, 0);
    ne_out(f, CR, CR_NODMA | CR_STA);
}

static void ne_fini(struct nefx *f)
{
    ne2k_destroy(f->n);
    net_port_destroy(f->port);
}

/* PSTOP reads back on page 2 (page 0 has CLDA1 there). */
static uint8_t ne_pstop(struct nefx *f)
{
    ne_page(f, 2);
    uint8_t v = ne_in(f, PSTOP);
    ne_page(f, 0);
    return v;
}

/* Remote DMA of the whole buffer RAM (0x4000-0x7FFF) into buf.  PSTOP is
 * moved past the RAM first so the read does not wrap, then restored. */
static void ne_dump_ram(struct nefx *f, uint8_t *buf)
{
    uint8_t pstop = ne_pstop(f);
    ne_out(f, PSTOP, 0xFF);
    ne_out(f, RBCR0, 0);
    ne_out(f, RBCR1, NE_RAM_BYTES >> 8);
    ne_out(f, RSAR0, 0);
    ne_out(f, RSAR1, 0x40);
    ne_out(f, CR, CR_RREAD | CR_STA);
    for (unsigned i = 0; i < NE_RAM_BYTES; i++)
        buf[i] = (uint8_t)iobus_read(&f->bus, NE_BASE + NE_DATA, 1);
    ne_out(f, ISR, ISR_RDC);
    ne_out(f, CR, CR_NODMA | CR_STA);
    ne_out(f, PSTOP, pstop);
}

static void ne_fill_ram(struct nefx *f, uint8_t v)
{
    uint8_t pstop = ne_pstop(f);
    ne_out(f, PSTOP, 0xFF);
    ne_out(f, RBCR0, 0);
    ne_out(f, RBCR1, NE_RAM_BYTES >> 8);
    ne_out(f, RSAR0, 0);
    ne_out(f, RSAR1, 0x40);
    ne_out(f, CR, CR_RWRITE | CR_STA);
    for (unsigned i = 0; i < NE_RAM_BYTES; i++)
        iobus_write(&f->bus, NE_BASE + NE_DATA, 1, v);
    ne_out(f, ISR, ISR_RDC);
    ne_out(f, CR, CR_NODMA | CR_STA);
    ne_out(f, PSTOP, pstop);
}

static void make_frame(uint8_t *fr, size_t len)
{
    memset(fr, 0xFF, 6);                    /* broadcast */
    memcpy(fr + 6, "\x02\x00\x00\x00\x00\x01", 6);
    for (size_t i = 12; i < len; i++)
        fr[i] = (uint8_t)(i * 7 + 3);
}

/* Frames delivered into ring `ps..pe` with CURR/BNRY as given: nothing in
 * the buffer RAM may change, the frame is counted as a bad ring. */
static void ne_bad_ring(uint8_t ps, uint8_t pe, uint8_t curr, uint8_t bnry)
{
    struct nefx f;
    static uint8_t before[NE_RAM_BYTES], after[NE_RAM_BYTES];
    ne_init(&f, ps, pe, curr, bnry);
    ne_fill_ram(&f, 0x5A);
    ne_dump_ram(&f, before);
    CU_ASSERT_EQUAL(before[0], 0x5A);
    uint8_t fr[NET_MAX_FRAME];
    make_frame(fr, sizeof(fr));
    for (int i = 0; i < 4; i++) {
        net_port_deliver(f.port, fr, sizeof(fr));
        net_port_deliver(f.port, fr, 64);
    }
    struct ne2k_stats st;
    ne2k_get_stats(f.n, &st);
    CU_ASSERT_EQUAL(st.rx_frames, 0);
    CU_ASSERT(st.rx_bad_ring >= 1);
    CU_ASSERT(ne_in(&f, ISR) & ISR_RXE);
    ne_dump_ram(&f, after);
    CU_ASSERT_EQUAL(memcmp(before, after, sizeof(before)), 0);
    ne_fini(&f);
}

/* CVE-2015-5279: receive with ring pointers outside the ring / the buffer
 * (guard: rx_frame's ring_valid()/CURR/BNRY range check). */
static void test_cve_2015_5279_ne2k_ring_pointers(void)
{
    ne_bad_ring(0x46, 0x80, 0xFF, 0x46);     /* CURR past the buffer */
    ne_bad_ring(0x46, 0x80, 0x20, 0x46);     /* CURR below PSTART */
    ne_bad_ring(0x46, 0x80, 0x50, 0x90);     /* BNRY past PSTOP */
    ne_bad_ring(0x40, 0xFF, 0x7F, 0x40);     /* PSTOP past the buffer RAM */
    ne_bad_ring(0x00, 0x60, 0x10, 0x00);     /* PSTART in the PROM hole */

    /* Remote DMA aimed past the RAM: writes vanish, PROM stays, reads
     * float (guard: buf_read/buf_write address checks). */
    struct nefx f;
    static uint8_t before[NE_RAM_BYTES], after[NE_RAM_BYTES];
    ne_init(&f, 0x46, 0x60, 0x47, 0x46);
    ne_fill_ram(&f, 0x11);
    ne_dump_ram(&f, before);
    ne_out(&f, RBCR0, 0x00);
    ne_out(&f, RBCR1, 0x02);
    ne_out(&f, RSAR0, 0x00);
    ne_out(&f, RSAR1, 0xFF);                 /* 0xFF00..0x100FF: wraps to 0 */
    ne_out(&f, CR, CR_RWRITE | CR_STA);
    for (unsigned i = 0; i < 0x200; i++)
        iobus_write(&f.bus, NE_BASE + NE_DATA, 1, 0xEE);
    ne_out(&f, ISR, ISR_RDC);
    ne_dump_ram(&f, after);
    CU_ASSERT_EQUAL(memcmp(before, after, sizeof(before)), 0);
    ne_out(&f, RBCR0, 32);
    ne_out(&f, RBCR1, 0);
    ne_out(&f, RSAR0, 0);
    ne_out(&f, RSAR1, 0);
    ne_out(&f, CR, CR_RREAD | CR_STA);
    uint8_t prom[32];
    for (unsigned i = 0; i < 32; i++)
        prom[i] = (uint8_t)iobus_read(&f.bus, NE_BASE + NE_DATA, 1);
    for (unsigned i = 0; i < 6; i++)
        CU_ASSERT_EQUAL(prom[2 * i], NE_MAC[i]);        /* each byte doubled */
    ne_out(&f, RBCR0, 4);
    ne_out(&f, RSAR0, 0xF0);
    ne_out(&f, RSAR1, 0xC0);                 /* nothing decodes there */
    ne_out(&f, CR, CR_RREAD | CR_STA);
    for (unsigned i = 0; i < 4; i++)
        CU_ASSERT_EQUAL(iobus_read(&f.bus, NE_BASE + NE_DATA, 1), 0xFF);
    ne_fini(&f);
}

/* CVE-2015-5278: PSTART >= PSTOP made the receive ring walk never end
 * (guard: ring_valid()).  alarm() turns a hang into a failed run. */
static void test_cve_2015_5278_ne2k_pstart_ge_pstop(void)
{
    alarm(20);
    ne_bad_ring(0x50, 0x50, 0x50, 0x50);
    ne_bad_ring(0x60, 0x50, 0x60, 0x60);
    ne_bad_ring(0x7F, 0x41, 0x7F, 0x7F);
    alarm(0);
}

/* CVE-2018-10839: a received frame larger than the ring (or than any
 * Ethernet frame) must not be stored (guards: the free-pages check in
 * rx_frame, NET_MAX_FRAME in net_port_deliver and rx_frame, NE2K_MAX_TX in
 * transmit). */
static void test_cve_2018_10839_ne2k_rx_size(void)
{
    struct nefx f;
    static uint8_t before[NE_RAM_BYTES], after[NE_RAM_BYTES];
    /* A 3-page ring: a full-size frame needs 6. */
    ne_init(&f, 0x50, 0x53, 0x50, 0x50);
    ne_fill_ram(&f, 0x33);
    ne_dump_ram(&f, before);
    static uint8_t big[70000];
    make_frame(big, sizeof(big));
    net_port_deliver(f.port, big, NET_MAX_FRAME);
    net_port_deliver(f.port, big, NET_MAX_FRAME + 1);
    net_port_deliver(f.port, big, sizeof(big));
    struct ne2k_stats st;
    ne2k_get_stats(f.n, &st);
    CU_ASSERT_EQUAL(st.rx_frames, 0);
    struct net_stats ns;
    net_port_get_stats(f.port, &ns);
    CU_ASSERT_EQUAL(ns.rx_oversize_drops, 2);
    CU_ASSERT_EQUAL(ns.rx_queued, 1);        /* the 1518-byte one waits for room */
    ne_dump_ram(&f, after);
    CU_ASSERT_EQUAL(memcmp(before, after, sizeof(before)), 0);
    /* A frame that fits is stored, and only inside the ring. */
    net_port_rx_flush(f.port);
    net_port_deliver(f.port, big, 300);      /* 2 pages with the header */
    ne2k_get_stats(f.n, &st);
    CU_ASSERT_EQUAL(st.rx_frames, 1);
    ne_dump_ram(&f, after);
    for (unsigned i = 0; i < NE_RAM_BYTES; i++)
        if (i < 0x1000 || i >= 0x1300)
            CU_ASSERT_EQUAL_FATAL(after[i], 0x33);
    ne_fini(&f);

    /* Transmit: TBCR past the largest frame is refused (stack buffer). */
    ne_init(&f, 0x46, 0x80, 0x47, 0x46);
    ne_out(&f, TBCR0, 0xFF);
    ne_out(&f, TBCR1, 0xFF);
    ne_out(&f, CR, CR_NODMA | CR_STA | CR_TXP);
    CU_ASSERT(ne_in(&f, ISR) & ISR_TXE);
    CU_ASSERT_EQUAL(net_memory_count(f.mem), 0);
    /* Loopback of the largest transmittable frame into a 2-page ring. */
    ne_out(&f, ISR, 0xFF);
    ne_out(&f, CR, CR_NODMA | CR_STP);
    ne_out(&f, PSTART, 0x60);
    ne_out(&f, PSTOP, 0x62);
    ne_out(&f, BNRY, 0x60);
    ne_page(&f, 1);
    ne_out(&f, P1_CURR, 0x60);
    ne_page(&f, 0);
    ne_out(&f, CR, CR_NODMA | CR_STA);
    ne_out(&f, TCR, 0x02);                   /* internal loopback */
    ne_out(&f, TBCR0, (uint8_t)NE2K_MAX_TX);
    ne_out(&f, TBCR1, NE2K_MAX_TX >> 8);
    ne_out(&f, CR, CR_NODMA | CR_STA | CR_TXP);
    ne_out(&f, TBCR0, 0xEA);
    ne_out(&f, TBCR1, 0x05);                 /* 1514: fits no 2-page ring either */
    ne_out(&f, CR, CR_NODMA | CR_STA | CR_TXP);
    ne2k_get_stats(f.n, &st);
    CU_ASSERT_EQUAL(st.rx_frames, 0);
    CU_ASSERT(ne_in(&f, ISR) & ISR_OVW);
    ne_fini(&f);
}

/* ---- IDE / ATAPI --------------------------------------------------- */

#define CD_CMD 0x170
#define CD_CTL 0x376
#define HD 0x1F0

static struct h *with_cd_and_disk(void)
{
    struct h *h = h_new();
    struct block_backend *cd = block_open_mem(64 * 2048, true);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cd);
    uint8_t *d = block_mem_data(cd);
    for (unsigned i = 0; i < 64 * 2048; i++)
        d[i] = (uint8_t)(i * 5 + i / 2048);
    CU_ASSERT_EQUAL_FATAL(ide_attach(h->ide, 1, 0, IDE_CDROM, cd), 0);
    struct block_backend *hd = block_open_mem(4096 * 512, false);
    CU_ASSERT_PTR_NOT_NULL_FATAL(hd);
    uint8_t *s = block_mem_data(hd);
    for (unsigned i = 0; i < 4096 * 512; i++)
        s[i] = (uint8_t)(i / 512 + 1);
    CU_ASSERT_EQUAL_FATAL(ide_attach(h->ide, 0, 0, IDE_DISK, hd), 0);
    return h;
}

/* PACKET with the given byte count limit; the 12 command bytes go in as
 * dwords (plus extra writes past the packet when `extra`). */
static void cd_packet(struct h *h, const uint8_t *cdb, uint16_t limit, unsigned extra)
{
    outb(h, CD_CMD + 6, 0xA0);
    outb(h, CD_CMD + 1, 0);
    outb(h, CD_CMD + 4, (uint8_t)limit);
    outb(h, CD_CMD + 5, (uint8_t)(limit >> 8));
    outb(h, CD_CMD + 7, 0xA0);
    for (int i = 0; i < 3; i++)
        outl(h, CD_CMD, (uint32_t)cdb[4 * i] | (uint32_t)cdb[4 * i + 1] << 8 |
                            (uint32_t)cdb[4 * i + 2] << 16 | (uint32_t)cdb[4 * i + 3] << 24);
    for (unsigned i = 0; i < extra; i++)
        outl(h, CD_CMD, 0xDEADBEEF);
}

/* CVE-2015-5154: the ATAPI PIO data index ran past the I/O buffer.  Reads
 * the whole 128 KiB buffer's worth (64 CD sectors) in DRQ blocks of 6
 * bytes with dword reads, so every block's last read runs 2 bytes past
 * its end, the last one past the buffer itself (guard: the pos < end
 * check in data_read/data_write; ASan sees the buffer's end). */
static void test_cve_2015_5154_atapi_pio_index(void)
{
    struct h *h = with_cd_and_disk();
    aio_drain(&h->aio);
    uint8_t cdb[12] = { 0x28, 0, 0, 0, 0, 0, 0, 0, 64, 0, 0, 0 };   /* READ(10) 64 sectors */
    cd_packet(h, cdb, 6, 64);
    static uint8_t got[64 * 2048 + 16];
    unsigned n = 0, blocks = 0, pad_bad = 0;
    for (int guard = 0; guard < 40000; guard++) {
        aio_drain(&h->aio);
        if (!(inb(h, CD_CMD + 7) & 0x08))
            break;
        unsigned cnt = inb(h, CD_CMD + 4) | inb(h, CD_CMD + 5) << 8;
        CU_ASSERT_FATAL(cnt > 0 && cnt <= 6);
        blocks++;
        for (unsigned i = 0; i < cnt; i += 4) {
            uint32_t v = inl(h, CD_CMD);
            for (unsigned b = 0; b < 4; b++) {
                if (i + b < cnt && n < sizeof(got))
                    got[n++] = (uint8_t)(v >> (8 * b));
                else if (i + b >= cnt)
                    pad_bad += ((v >> (8 * b)) & 0xFF) != 0xFF;   /* floats past the block */
            }
        }
    }
    CU_ASSERT_EQUAL(n, 64 * 2048);
    CU_ASSERT_EQUAL(blocks, (64 * 2048 + 5) / 6);
    CU_ASSERT_EQUAL(pad_bad, 0);
    unsigned bad = 0;
    for (unsigned i = 0; i < 64 * 2048; i++)
        bad += got[i] != (uint8_t)(i * 5 + i / 2048);
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(inb(h, CD_CMD + 7) & 0x89, 0);      /* clean status phase */
    /* Data port hammered with no transfer: ignored, floats. */
    for (int i = 0; i < 70000; i++)
        outl(h, CD_CMD, 0x12345678);
    CU_ASSERT_EQUAL(inl(h, CD_CMD), 0xFFFFFFFFu);
    h_free(h);
}

/* A 12-byte packet sent with a 14-byte write sequence: the extra bytes
 * must not land anywhere.  Then the disk's PIO write path with a sector
 * and a half of words (guard: data_write's pos < end). */
static void test_cve_2015_5154_ata_pio_write_index(void)
{
    struct h *h = with_cd_and_disk();
    /* WRITE SECTORS of 1 sector, then 300 words: 256 land, the rest are
     * ignored (no DRQ any more). */
    outb(h, HD + 6, 0xE0);
    outb(h, HD + 2, 1);
    outb(h, HD + 3, 5);
    outb(h, HD + 4, 0);
    outb(h, HD + 5, 0);
    outb(h, HD + 7, 0x30);
    for (int i = 0; i < 300; i++)
        outw(h, HD, (uint16_t)(0xA500 + i));
    aio_drain(&h->aio);
    CU_ASSERT_EQUAL(inb(h, HD + 7) & 0x89, 0);
    /* Read back sectors 5 and 6 by PIO. */
    outb(h, HD + 2, 2);
    outb(h, HD + 3, 5);
    outb(h, HD + 7, 0x20);
    uint16_t w[512];
    for (int s = 0; s < 2; s++) {
        aio_drain(&h->aio);
        CU_ASSERT_FATAL(inb(h, HD + 7) & 0x08);
        for (int i = 0; i < 256; i++)
            w[s * 256 + i] = inw(h, HD);
    }
    for (int i = 0; i < 256; i++)
        CU_ASSERT_EQUAL_FATAL(w[i], (uint16_t)(0xA500 + i));
    CU_ASSERT_EQUAL(w[256], 0x0707);                     /* sector 6 untouched */
    CU_ASSERT_EQUAL(w[511], 0x0707);
    h_free(h);
}

/* Sets up READ DMA (0xC8) of `count` sectors at lba on the primary master. */
static void hd_read_dma(struct h *h, uint32_t lba, uint8_t count)
{
    outb(h, HD + 6, (uint8_t)(0xE0 | ((lba >> 24) & 0xF)));
    outb(h, HD + 2, count);
    outb(h, HD + 3, (uint8_t)lba);
    outb(h, HD + 4, (uint8_t)(lba >> 8));
    outb(h, HD + 5, (uint8_t)(lba >> 16));
    outb(h, HD + 7, 0xC8);
}

#define PRD_CAP 512u            /* IDE_MAX_PRD, the documented cap */

/* Guest-controlled loop bound: a PRD table without an end-of-table bit,
 * whose 2-byte entries go on far past any sane table (256 sectors need
 * 65536 of them).  The device reads exactly PRD_CAP entries, each once,
 * and fails the transfer (guard: the IDE_MAX_PRD bound in prd_build). */
static void test_loop_bound_prd_without_eot(void)
{
    struct h *h = with_cd_and_disk();
    const uint32_t tbl = 0x100000;
    for (unsigned i = 0; i < 65536; i++)
        h_prd(h, tbl, i, 0x800000 + 2 * i, 2, false);
    long cal = calibrate(&h->mem, tbl, PRD_CAP, 8, 8);
    CU_ASSERT(cal >= PRD_CAP);
    h_bm_setup(h, 0, tbl, true);
    hd_read_dma(h, 0, 0);                       /* 0 = 256 sectors */
    struct watch w;
    watch_start(&w, mem_ptr(&h->mem, tbl, 65536 * 8), 65536 * 8);
    alarm(20);
    h_bm_start(h, 0, true);
    aio_drain(&h->aio);
    alarm(0);
    watch_stop(&w);
    CU_ASSERT_EQUAL(w.reads, cal);              /* exactly the cap, each once */
    CU_ASSERT_EQUAL(w.writes, 0);
    CU_ASSERT(inb(h, bmbase(0) + 2) & 0x02);    /* bus-master error */
    CU_ASSERT(inb(h, HD + 7) & 0x01);           /* command aborted */
    CU_ASSERT_EQUAL(h->mem.ram[0x800000], 0);   /* nothing transferred */
    h_free(h);
}

/* Descriptors read once: a PRD table of three entries read by a DMA
 * read must cost exactly what three 8-byte reads cost (guard: the local
 * copy in prd_build; a second fetch of any field doubles the count). */
static void test_double_fetch_ide_prd(void)
{
    struct h *h = with_cd_and_disk();
    const uint32_t tbl = 0x10000;
    h_prd(h, tbl, 0, 0x20000, 512, false);
    h_prd(h, tbl, 1, 0x30000, 1024, false);
    h_prd(h, tbl, 2, 0x40000, 512, true);
    long cal = calibrate(&h->mem, tbl, 3, 8, 8);
    h_bm_setup(h, 0, tbl, true);
    hd_read_dma(h, 100, 4);
    struct watch w;
    watch_start(&w, mem_ptr(&h->mem, tbl, 24), 24);
    h_bm_start(h, 0, true);
    aio_drain(&h->aio);
    watch_stop(&w);
    CU_ASSERT_EQUAL(w.reads, cal);
    CU_ASSERT_EQUAL(inb(h, bmbase(0) + 2) & 0x07, 0x04);
    CU_ASSERT_EQUAL(h->mem.ram[0x20000], 101);
    CU_ASSERT_EQUAL(h->mem.ram[0x30000 + 1023], 103);
    CU_ASSERT_EQUAL(h->mem.ram[0x40000], 104);
    h_free(h);
}

/* ---- fw_cfg DMA ------------------------------------------------------ */

#define FW_DMA_HI 0x514
#define FW_DMA_LO 0x518

static void put_be32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (24 - 8 * i));
}

/* The 16-byte DMA descriptor is read once and only the copy is used
 * (guard: dma_transfer's local copy): a read of the signature costs what
 * one 16-byte mem_read costs; the status write-back is the only write. */
static void test_double_fetch_fw_cfg_dma(void)
{
    static uint8_t bios[64 * 1024];
    struct logger log = { LOG_ERROR, 2 };
    struct iobus pio;
    struct guest_mem mem;
    iobus_init(&pio, "pio", &log);
    CU_ASSERT_EQUAL_FATAL(mem_init(&mem, 16 * MiB, bios, sizeof(bios)), 0);
    struct fw_cfg *f = fw_cfg_create(&pio, &mem, &log);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    const uint64_t desc = 0x1000, buf = 0x2000;
    uint8_t d[16];
    put_be32(d, 0x02 | 0x08 | (FW_CFG_SIGNATURE << 16));   /* select + read */
    put_be32(d + 4, 4);
    put_be32(d + 8, 0);
    put_be32(d + 12, (uint32_t)buf);
    CU_ASSERT_EQUAL_FATAL(mem_write(&mem, desc, d, sizeof(d)), 0);
    long cal = calibrate(&mem, desc, 1, 16, 16);
    struct watch w;
    watch_start(&w, mem_ptr(&mem, desc, 16), 16);
    iobus_write(&pio, FW_DMA_HI, 4, 0);
    iobus_write(&pio, FW_DMA_LO, 4, __builtin_bswap32((uint32_t)desc));
    watch_stop(&w);
    CU_ASSERT_EQUAL(w.reads, cal);
    CU_ASSERT(w.writes >= 1);
    CU_ASSERT_EQUAL(memcmp(mem.ram + buf, "QEMU", 4), 0);
    CU_ASSERT_EQUAL(mem.ram[desc + 3], 0);          /* control = 0: done */
    fw_cfg_destroy(f);
    mem_destroy(&mem);
}

/* ---- VGA / VBE ------------------------------------------------------- */

enum { VBE_I_XRES = 1, VBE_I_YRES = 2, VBE_I_BPP = 3, VBE_I_ENABLE = 4, VBE_I_BANK = 5,
       VBE_I_VIRT_WIDTH = 6, VBE_I_VIRT_HEIGHT = 7, VBE_I_X_OFFSET = 8, VBE_I_Y_OFFSET = 9 };

struct vgafx {
    struct logger log;
    struct iobus pio, mmio;
    struct vga *v;
};

static void vga_fx_init(struct vgafx *f)
{
    char err[128];
    memset(f, 0, sizeof(*f));
    f->log = (struct logger){ LOG_ERROR, STDERR_FILENO };
    iobus_init(&f->pio, "pio", &f->log);
    iobus_init(&f->mmio, "mmio", &f->log);
    f->v = vga_create(NULL, &f->pio, &f->mmio, NULL, &f->log, err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(f->v);
}

static void vbe_set(struct vgafx *f, unsigned idx, uint16_t v)
{
    iobus_write(&f->pio, 0x1CE, 2, idx);
    iobus_write(&f->pio, 0x1CF, 2, v);
}

static uint16_t vbe_get(struct vgafx *f, unsigned idx)
{
    iobus_write(&f->pio, 0x1CE, 2, idx);
    return (uint16_t)iobus_read(&f->pio, 0x1CF, 2);
}

static void vbe_mode(struct vgafx *f, uint16_t x, uint16_t y, uint16_t bpp)
{
    vbe_set(f, VBE_I_ENABLE, 0);
    vbe_set(f, VBE_I_XRES, x);
    vbe_set(f, VBE_I_YRES, y);
    vbe_set(f, VBE_I_BPP, bpp);
    vbe_set(f, VBE_I_ENABLE, 0x01);
}

/* CVE-2016-3710: the banked window at 0xA0000 reached past VRAM with a
 * large bank (guard: write_bank's bound, then the window's own check). */
static void test_cve_2016_3710_vga_bank(void)
{
    struct vgafx f;
    vga_fx_init(&f);
    size_t vram_size;
    uint8_t *vram = vga_vram(f.v, &vram_size);
    const uint16_t last = (uint16_t)(vram_size / 0x10000 - 1);
    vbe_mode(&f, 640, 480, 8);
    vbe_set(&f, VBE_I_BANK, last);
    CU_ASSERT_EQUAL(vbe_get(&f, VBE_I_BANK), last);
    iobus_write(&f.mmio, 0xAFFFF, 1, 0x77);
    CU_ASSERT_EQUAL(vram[vram_size - 1], 0x77);
    CU_ASSERT_EQUAL(iobus_read(&f.mmio, 0xAFFFF, 1), 0x77);
    const uint16_t hostile[] = { (uint16_t)(last + 1), 0x1000, 0x7FFF, 0xFFFF };
    for (unsigned i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
        vbe_set(&f, VBE_I_BANK, hostile[i]);
        CU_ASSERT_EQUAL(vbe_get(&f, VBE_I_BANK), last);     /* ignored */
        for (uint32_t a = 0xA0000; a < 0xC0000; a += 0x1FFF) {
            iobus_write(&f.mmio, a, 1, 0x99);
            (void)iobus_read(&f.mmio, a, 4);
        }
    }
    /* Every write went to the last bank's window, nowhere else. */
    CU_ASSERT_EQUAL(vram[vram_size - 0x10000], 0x99);
    CU_ASSERT_EQUAL(vram[0], 0);
    CU_ASSERT_EQUAL(vram[vram_size - 0x10001], 0);
    vga_destroy(f.v);
}

/* CVE-2016-3712: VBE geometry registers that overflow the scan-out
 * arithmetic or put the screen past VRAM (guards: enable()'s size check,
 * write_virt_width's and write_offset's fits(), BPP locked while on). */
static void test_cve_2016_3712_vbe_bounds(void)
{
    struct vgafx f;
    vga_fx_init(&f);
    /* A mode that does not fit 16 MiB is refused. */
    vbe_mode(&f, 8192, 8192, 32);
    CU_ASSERT_EQUAL(vbe_get(&f, VBE_I_ENABLE) & 1, 0);
    vbe_mode(&f, 1024, 768, 32);
    CU_ASSERT_EQUAL(vbe_get(&f, VBE_I_ENABLE) & 1, 1);
    /* While on: BPP and resolution are locked. */
    vbe_set(&f, VBE_I_BPP, 8);
    vbe_set(&f, VBE_I_XRES, 8192);
    CU_ASSERT_EQUAL(vbe_get(&f, VBE_I_BPP), 32);
    CU_ASSERT_EQUAL(vbe_get(&f, VBE_I_XRES), 1024);
    /* Panning past VRAM is ignored. */
    vbe_set(&f, VBE_I_Y_OFFSET, 0xFFFF);
    CU_ASSERT_EQUAL(vbe_get(&f, VBE_I_Y_OFFSET), 0);
    /* The largest Y offset that fits is taken; one more is not. */
    const uint16_t ymax = (uint16_t)(16u * 1024 * 1024 / (1024 * 4) - 768);
    vbe_set(&f, VBE_I_Y_OFFSET, ymax);
    CU_ASSERT_EQUAL(vbe_get(&f, VBE_I_Y_OFFSET), ymax);
    vbe_set(&f, VBE_I_X_OFFSET, 1);
    CU_ASSERT_EQUAL(vbe_get(&f, VBE_I_X_OFFSET), 0);        /* one pixel too far */
    vbe_set(&f, VBE_I_Y_OFFSET, ymax + 1);
    CU_ASSERT_EQUAL(vbe_get(&f, VBE_I_Y_OFFSET), ymax);
    vbe_set(&f, VBE_I_X_OFFSET, 0xFFFF);
    CU_ASSERT_EQUAL(vbe_get(&f, VBE_I_X_OFFSET), 0);
    /* A virtual width whose pitch times the height overflows VRAM. */
    vbe_set(&f, VBE_I_VIRT_WIDTH, 0xFFFF);
    CU_ASSERT_EQUAL(vbe_get(&f, VBE_I_VIRT_WIDTH), 1024);
    /* Rendering the last possible screen stays inside VRAM (ASan). */
    struct vga_update u;
    (void)vga_render(f.v, &u);
    CU_ASSERT_EQUAL(u.width, 1024);
    CU_ASSERT_EQUAL(u.height, 768);
    /* Mode switch to a larger mode with the old offsets in place. */
    vbe_mode(&f, 2560, 1600, 32);
    CU_ASSERT_EQUAL(vbe_get(&f, VBE_I_Y_OFFSET), 0);
    (void)vga_render(f.v, &u);
    CU_ASSERT_EQUAL(u.width, 2560);
    /* 4 bpp with a width that is not a multiple of 8 is refused. */
    vbe_mode(&f, 1023, 768, 4);
    CU_ASSERT_EQUAL(vbe_get(&f, VBE_I_ENABLE) & 1, 0);
    vga_destroy(f.v);
}

/* ---- PIT ------------------------------------------------------------- */

/* CVE-2015-3214: port 0x43 and the read-back "channel 3" must never index
 * a channel (guards: pit_io_read's offset check, the SC_READBACK case in
 * pit_write_control). */
static void test_cve_2015_3214_pit_channel_index(void)
{
    struct logger log = { LOG_ERROR, 2 };
    struct iobus pio;
    struct vclock clock;
    iobus_init(&pio, "pio", &log);
    vclock_init(&clock);
    vclock_set_manual(&clock, 0);
    struct pit *p = pit_create(&pio, &clock, (struct irq){ ne_irq, NULL, 0 }, &log);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    /* Program every channel, then read the write-only control port in
     * every state: it floats. */
    for (unsigned ch = 0; ch < 3; ch++) {
        iobus_write(&pio, 0x43, 1, (uint8_t)(ch << 6 | 0x34));
        iobus_write(&pio, 0x40 + ch, 1, 0x34);
        iobus_write(&pio, 0x40 + ch, 1, 0x12);
    }
    for (int i = 0; i < 16; i++) {
        iobus_write(&pio, 0x43, 1, (uint8_t)(i & 1 ? 0x00 : 0xC2));   /* latch / read-back */
        CU_ASSERT_EQUAL(iobus_read(&pio, 0x43, 1), 0xFF);
        vclock_advance(&clock, 1000);
    }
    /* Drain what the loop latched. */
    for (unsigned ch = 0; ch < 3; ch++)
        for (int i = 0; i < 4; i++)
            (void)iobus_read(&pio, 0x40 + ch, 1);
    /* SC = 3 is the read-back command, never channel 3: latch the status
     * of channel 1 only (0xE4 = read-back, no count, channel 1). */
    iobus_write(&pio, 0x43, 1, 0x74);           /* ch1: lo/hi, mode 2 */
    iobus_write(&pio, 0x41, 1, 0x00);
    iobus_write(&pio, 0x41, 1, 0x10);
    iobus_write(&pio, 0x43, 1, 0xE4);
    CU_ASSERT_EQUAL(iobus_read(&pio, 0x41, 1) & 0x3F, 0x34);   /* RW=3 mode 2 binary */
    /* Every read-back mask, hammered: no channel is harmed. */
    for (unsigned v = 0xC0; v <= 0xFF; v++)
        iobus_write(&pio, 0x43, 1, (uint8_t)v);
    for (unsigned ch = 0; ch < 3; ch++)
        for (int i = 0; i < 4; i++)
            (void)iobus_read(&pio, 0x40 + ch, 1);
    CU_ASSERT(pit_get_count(p, 3) == 0 && pit_get_out(p, 3) == -1);
    CU_ASSERT(pit_get_count(p, -1) == 0);
    pit_destroy(p);
}

void suite_cve(void)
{
    CU_pSuite s = CU_add_suite("cve", NULL, NULL);
    CU_add_test(s, "CVE-2015-5279 NE2000 ring pointers outside the buffer",
                test_cve_2015_5279_ne2k_ring_pointers);
    CU_add_test(s, "CVE-2015-5278 NE2000 PSTART >= PSTOP", test_cve_2015_5278_ne2k_pstart_ge_pstop);
    CU_add_test(s, "CVE-2018-10839 NE2000 receive size overflow", test_cve_2018_10839_ne2k_rx_size);
    CU_add_test(s, "CVE-2015-5154 ATAPI PIO buffer index", test_cve_2015_5154_atapi_pio_index);
    CU_add_test(s, "CVE-2015-5154 class: ATA PIO write index", test_cve_2015_5154_ata_pio_write_index);
    CU_add_test(s, "CVE-2016-3710 VGA banked window", test_cve_2016_3710_vga_bank);
    CU_add_test(s, "CVE-2016-3712 VBE register bounds", test_cve_2016_3712_vbe_bounds);
    CU_add_test(s, "CVE-2015-3214 PIT channel index", test_cve_2015_3214_pit_channel_index);
    CU_add_test(s, "loop bound: PRD table without EOT", test_loop_bound_prd_without_eot);
    CU_add_test(s, "double fetch: IDE PRD read once", test_double_fetch_ide_prd);
    CU_add_test(s, "double fetch: fw_cfg DMA descriptor read once", test_double_fetch_fw_cfg_dma);
}
