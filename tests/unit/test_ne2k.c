/* NE2000 (DP8390): driven through its ports exactly like a driver would,
 * with a memory backend on the other end of the cable. */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../vmm/devices/ne2k/ne2k.h"
#include "../../vmm/devices/pci.h"
#include "../../vmm/net/net.h"

#define BASE 0x300
enum { CR = 0, PSTART = 1, PSTOP = 2, BNRY = 3, TPSR = 4, TBCR0 = 5, TBCR1 = 6, ISR = 7,
       RSAR0 = 8, RSAR1 = 9, RBCR0 = 10, RBCR1 = 11, RCR = 12, TCR = 13, DCR = 14, IMR = 15,
       DATA = 0x10, RESET = 0x1F };
enum { TSR = 4, CNTR2 = 0x0F, P1_CURR = 7, P1_MAR = 8 };
#define STP 0x01
#define STA 0x02
#define TXP 0x04
#define RREAD 0x08
#define RWRITE 0x10
#define NODMA 0x20
#define RX_START 0x46
#define RX_STOP 0x80

static const uint8_t MAC[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

struct irq_probe {
    int level;
    unsigned rises;
};

struct fx {
    struct logger log;
    struct iobus bus;
    struct irq_probe probe;
    struct net_port *port;
    struct net_memory *mem;
    struct ne2k *n;
};

static void probe_handler(void *opaque, int n, int level)
{
    struct irq_probe *p = opaque;
    (void)n;
    if (level && !p->level)
        p->rises++;
    p->level = level;
}

static void fx_init(struct fx *f)
{
    memset(f, 0, sizeof(*f));
    f->log = (struct logger){ LOG_ERROR, STDERR_FILENO };
    iobus_init(&f->bus, "pio", &f->log);
    f->port = net_port_create(&f->log);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f->port);
    f->mem = net_memory_attach(f->port, 32);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f->mem);
    struct irq irq = { probe_handler, &f->probe, 9 };
    f->n = ne2k_create_isa(&f->bus, BASE, irq, f->port, MAC, &f->log);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f->n);
}

static void fx_fini(struct fx *f)
{
    ne2k_destroy(f->n);
    CU_ASSERT_PTR_NULL(iobus_find(&f->bus, BASE));
    net_port_destroy(f->port);
}

static void out(struct fx *f, unsigned reg, uint8_t v) { iobus_write(&f->bus, BASE + reg, 1, v); }
static uint8_t in(struct fx *f, unsigned reg) { return (uint8_t)iobus_read(&f->bus, BASE + reg, 1); }
static uint16_t inw(struct fx *f, unsigned reg) { return (uint16_t)iobus_read(&f->bus, BASE + reg, 2); }
static void outw(struct fx *f, unsigned reg, uint16_t v) { iobus_write(&f->bus, BASE + reg, 2, v); }

static void page(struct fx *f, unsigned p)
{
    uint8_t run = in(f, CR) & (STA | STP);
    out(f, CR, (uint8_t)(p << 6 | NODMA | run));
}

/* What Linux's NS8390_init does, word mode, ring 0x46-0x80. */
static void driver_init(struct fx *f, uint8_t rcr)
{
    out(f, CR, NODMA | STP);
    out(f, DCR, 0x49);
    out(f, RBCR0, 0);
    out(f, RBCR1, 0);
    out(f, RCR, 0x20);
    out(f, TCR, 0x02);
    out(f, TPSR, 0x40);
    out(f, PSTART, RX_START);
    out(f, BNRY, RX_START);
    out(f, PSTOP, RX_STOP);
    out(f, ISR, 0xFF);
    out(f, IMR, 0x7F);
    page(f, 1);
    for (unsigned i = 0; i < 6; i++)
        out(f, 1 + i, MAC[i]);
    out(f, P1_CURR, RX_START + 1);
    for (unsigned i = 0; i < 8; i++)
        out(f, P1_MAR + i, 0);
    page(f, 0);
    out(f, CR, NODMA | STA);
    out(f, TCR, 0);
    out(f, RCR, rcr);
}

static void rdma_setup(struct fx *f, uint16_t addr, uint16_t len, uint8_t cmd)
{
    out(f, RBCR0, (uint8_t)len);
    out(f, RBCR1, (uint8_t)(len >> 8));
    out(f, RSAR0, (uint8_t)addr);
    out(f, RSAR1, (uint8_t)(addr >> 8));
    out(f, CR, cmd | STA);
}

static void rdma_write(struct fx *f, uint16_t addr, const uint8_t *buf, uint16_t len)
{
    rdma_setup(f, addr, len, RWRITE);
    for (unsigned i = 0; i < len; i += 2)
        outw(f, DATA, (uint16_t)(buf[i] | (i + 1 < len ? buf[i + 1] << 8 : 0)));
    CU_ASSERT(in(f, ISR) & 0x40);
    out(f, ISR, 0x40);
}

static void rdma_read(struct fx *f, uint16_t addr, uint8_t *buf, uint16_t len)
{
    rdma_setup(f, addr, len, RREAD);
    for (unsigned i = 0; i < len; i += 2) {
        uint16_t w = inw(f, DATA);
        buf[i] = (uint8_t)w;
        if (i + 1 < len)
            buf[i + 1] = (uint8_t)(w >> 8);
    }
    CU_ASSERT(in(f, ISR) & 0x40);
    out(f, ISR, 0x40);
}

static void transmit(struct fx *f, const uint8_t *frame, uint16_t len)
{
    rdma_write(f, 0x4000, frame, len);
    out(f, TPSR, 0x40);
    out(f, TBCR0, (uint8_t)len);
    out(f, TBCR1, (uint8_t)(len >> 8));
    out(f, CR, NODMA | STA | TXP);
}

static uint8_t curr(struct fx *f)
{
    page(f, 1);
    uint8_t c = in(f, P1_CURR);
    page(f, 0);
    return c;
}

/* Linux's ei_receive for one frame; returns its length, 0 if the ring is
 * empty.  hdr gets the 4-byte receive header. */
static size_t read_frame(struct fx *f, uint8_t *buf, uint8_t hdr[4])
{
    uint8_t next = (uint8_t)(in(f, BNRY) + 1);
    if (next >= RX_STOP)
        next = RX_START;
    if (next == curr(f))
        return 0;
    rdma_read(f, (uint16_t)(next << 8), hdr, 4);
    size_t len = (size_t)(hdr[2] | hdr[3] << 8) - 4;
    CU_ASSERT_FATAL(len <= NET_MAX_FRAME);
    rdma_read(f, (uint16_t)((next << 8) + 4), buf, (uint16_t)len);
    uint8_t bnry = (uint8_t)(hdr[1] - 1);
    out(f, BNRY, bnry < RX_START ? RX_STOP - 1 : bnry);
    return len;
}

static void make_frame(uint8_t *fr, size_t len, const uint8_t *dst, uint8_t seed)
{
    memcpy(fr, dst, 6);
    static const uint8_t src[6] = { 0x02, 0, 0, 0, 0, 9 };
    memcpy(fr + 6, src, 6);
    fr[12] = 0x08;
    fr[13] = 0x00;
    for (size_t i = 14; i < len; i++)
        fr[i] = (uint8_t)(seed + i * 7);
}

/* ---- tests ---- */

static void test_prom_word_mode(void)
{
    struct fx f;
    fx_init(&f);
    out(&f, DCR, 0x49);
    rdma_setup(&f, 0, 32, RREAD);
    for (unsigned i = 0; i < 16; i++) {
        uint16_t w = inw(&f, DATA);
        uint8_t want = i < 6 ? MAC[i] : (i >= 14 ? 0x57 : 0);
        CU_ASSERT_EQUAL(w, want | want << 8);
    }
    CU_ASSERT(in(&f, ISR) & 0x40);              /* RDC after 32 bytes */
    /* Linux ne2k-pci: 32 inb in word mode, each one a word transfer. */
    rdma_setup(&f, 0, 32, RREAD);
    uint8_t sa[16];
    for (unsigned i = 0; i < 16; i++)
        sa[i] = in(&f, DATA);
    CU_ASSERT_EQUAL(memcmp(sa, MAC, 6), 0);
    CU_ASSERT_EQUAL(sa[14], 0x57);
    CU_ASSERT_EQUAL(sa[15], 0x57);
    /* BOS: big-endian words swap the bytes of a non-doubled pair. */
    out(&f, DCR, 0x4B);
    rdma_setup(&f, 10, 4, RREAD);
    CU_ASSERT_EQUAL(inw(&f, DATA), MAC[5] << 8 | MAC[5]);
    CU_ASSERT_EQUAL(inw(&f, DATA), 0);
    fx_fini(&f);
}

static void test_prom_byte_mode(void)
{
    struct fx f;
    fx_init(&f);
    out(&f, DCR, 0x48);
    rdma_setup(&f, 0, 32, RREAD);
    uint8_t raw[32];
    for (unsigned i = 0; i < 32; i++)
        raw[i] = in(&f, DATA);
    for (unsigned i = 0; i < 6; i++) {
        CU_ASSERT_EQUAL(raw[2 * i], MAC[i]);
        CU_ASSERT_EQUAL(raw[2 * i + 1], MAC[i]);
    }
    CU_ASSERT_EQUAL(raw[28], 0x57);
    CU_ASSERT_EQUAL(raw[31], 0x57);
    CU_ASSERT_EQUAL(in(&f, 8), 32);              /* CRDA0 followed the transfers */
    CU_ASSERT(in(&f, ISR) & 0x40);
    /* An inw in byte mode is two byte transfers. */
    rdma_setup(&f, 0, 2, RREAD);
    CU_ASSERT_EQUAL(inw(&f, DATA), MAC[0] | MAC[0] << 8);
    fx_fini(&f);
}

static void test_register_pages(void)
{
    struct fx f;
    fx_init(&f);
    CU_ASSERT_EQUAL(in(&f, CR), 0x21);          /* reset: stopped, DMA aborted */
    CU_ASSERT_EQUAL(in(&f, ISR), 0x80);
    out(&f, PSTART, 0x4C);
    out(&f, PSTOP, 0x7F);
    out(&f, BNRY, 0x55);
    out(&f, TPSR, 0x41);
    out(&f, RCR, 0xFF);
    out(&f, TCR, 0xFF);
    out(&f, DCR, 0x58);
    out(&f, IMR, 0x11);
    out(&f, RSAR0, 0x34);
    out(&f, RSAR1, 0x12);
    CU_ASSERT_EQUAL(in(&f, BNRY), 0x55);
    CU_ASSERT_EQUAL(in(&f, 8), 0x34);            /* CRDA */
    CU_ASSERT_EQUAL(in(&f, 9), 0x12);
    CU_ASSERT_EQUAL(in(&f, 0x0A), 0xFF);         /* ISA: no Realtek ID */
    page(&f, 2);
    CU_ASSERT_EQUAL(in(&f, CR) >> 6, 2);
    CU_ASSERT_EQUAL(in(&f, 1), 0x4C);
    CU_ASSERT_EQUAL(in(&f, 2), 0x7F);
    CU_ASSERT_EQUAL(in(&f, 4), 0x41);
    CU_ASSERT_EQUAL(in(&f, 0x0C), 0x3F);
    CU_ASSERT_EQUAL(in(&f, 0x0D), 0x1F);
    CU_ASSERT_EQUAL(in(&f, 0x0E), 0x58);
    CU_ASSERT_EQUAL(in(&f, 0x0F), 0x11);
    out(&f, 1, 0x99);                           /* page 2 PSTART is read only */
    CU_ASSERT_EQUAL(in(&f, 1), 0x4C);
    page(&f, 1);
    for (unsigned i = 0; i < 6; i++)
        CU_ASSERT_EQUAL(in(&f, 1 + i), MAC[i]); /* PAR preset from the PROM */
    for (unsigned i = 1; i < 16; i++)
        out(&f, i, (uint8_t)(0xA0 + i));
    for (unsigned i = 1; i < 16; i++)
        CU_ASSERT_EQUAL(in(&f, i), 0xA0 + i);
    page(&f, 0);
    CU_ASSERT_EQUAL(in(&f, PSTART), 0x99);      /* page 0 0x01 reads CLDA0, page 2 wrote it */
    CU_ASSERT_EQUAL(in(&f, 3), 0x55);
    /* A 32-bit read of registers is four byte reads. */
    CU_ASSERT_EQUAL(iobus_read(&f.bus, BASE + 8, 4) & 0xFFFF, 0x1234);
    fx_fini(&f);
}

static void test_transmit_exact(void)
{
    struct fx f;
    fx_init(&f);
    driver_init(&f, 0x04);
    uint8_t fr[100], got[200];
    make_frame(fr, sizeof(fr), (const uint8_t[6]){ 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF }, 3);
    transmit(&f, fr, 99);                        /* odd length */
    CU_ASSERT_EQUAL(in(&f, CR) & TXP, 0);
    CU_ASSERT_EQUAL(in(&f, ISR) & 0x02, 0x02);
    CU_ASSERT_EQUAL(in(&f, TSR) & 0x01, 0x01);
    CU_ASSERT_EQUAL(f.probe.level, 1);
    CU_ASSERT_EQUAL(net_memory_count(f.mem), 1);
    CU_ASSERT_EQUAL(net_memory_pop(f.mem, got, sizeof(got)), 99);
    CU_ASSERT_EQUAL(memcmp(got, fr, 99), 0);
    out(&f, ISR, 0x02);
    CU_ASSERT_EQUAL(in(&f, ISR) & 0x02, 0);
    CU_ASSERT_EQUAL(f.probe.level, 0);
    /* Stopped: TXP does nothing. */
    out(&f, CR, NODMA | STP);
    out(&f, CR, NODMA | STP | TXP);
    CU_ASSERT_EQUAL(net_memory_count(f.mem), 0);
    fx_fini(&f);
}

static void test_receive_wraparound(void)
{
    struct fx f;
    fx_init(&f);
    driver_init(&f, 0x04);
    uint8_t fr[1514], got[1600], hdr[4];
    const uint8_t bcast[6] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };
    /* 58 pages of ring; 1514+4 bytes take 6 pages: 30 frames wrap it
     * several times, read as they come. */
    for (unsigned k = 0; k < 30; k++) {
        size_t len = k % 3 ? 1514 : 60 + k;
        make_frame(fr, len, k & 1 ? bcast : MAC, (uint8_t)k);
        uint8_t before = curr(&f);
        net_port_deliver(f.port, fr, len);
        CU_ASSERT_EQUAL(in(&f, ISR) & 0x01, 0x01);
        out(&f, ISR, 0x01);
        size_t n = read_frame(&f, got, hdr);
        CU_ASSERT_EQUAL(n, len);
        CU_ASSERT_EQUAL(memcmp(got, fr, len), 0);
        CU_ASSERT_EQUAL(hdr[0], k & 1 ? 0x21 : 0x01);      /* PRX, PHY for broadcast */
        unsigned pages = (unsigned)((len + 4 + 255) / 256);
        unsigned want = before + pages;
        if (want >= RX_STOP)
            want = RX_START + (want - RX_STOP);
        CU_ASSERT_EQUAL(hdr[1], want);
        CU_ASSERT_EQUAL(curr(&f), want);
    }
    /* Several frames in the ring at once, read back in order. */
    for (unsigned k = 0; k < 5; k++) {
        make_frame(fr, 700, MAC, (uint8_t)(0x40 + k));
        net_port_deliver(f.port, fr, 700);
    }
    for (unsigned k = 0; k < 5; k++) {
        make_frame(fr, 700, MAC, (uint8_t)(0x40 + k));
        CU_ASSERT_EQUAL(read_frame(&f, got, hdr), 700);
        CU_ASSERT_EQUAL(memcmp(got, fr, 700), 0);
    }
    CU_ASSERT_EQUAL(read_frame(&f, got, hdr), 0);
    fx_fini(&f);
}

static void test_ring_full_waits_in_queue(void)
{
    struct fx f;
    fx_init(&f);
    driver_init(&f, 0x04);
    uint8_t fr[1514], got[1600], hdr[4];
    /* 58 pages, 6 per frame: 9 fit (54 < 57 free), the rest wait. */
    for (unsigned k = 0; k < 14; k++) {
        make_frame(fr, 1514, MAC, (uint8_t)k);
        net_port_deliver(f.port, fr, 1514);
    }
    struct net_stats st;
    net_port_get_stats(f.port, &st);
    CU_ASSERT_EQUAL(st.rx_frames, 9);
    CU_ASSERT_EQUAL(st.rx_queued, 5);
    CU_ASSERT_EQUAL(st.rx_queue_drops, 0);       /* nothing lost... */
    CU_ASSERT_EQUAL(in(&f, ISR) & 0x10, 0x10);  /* ...but the ring is exhausted: OVW */
    CU_ASSERT_EQUAL(f.probe.level, 1);
    CU_ASSERT_EQUAL(in(&f, CNTR2), 0);          /* and no frame counted as missed */
    out(&f, ISR, 0x10);
    /* Every frame arrives, in order, as the driver frees the ring. */
    for (unsigned k = 0; k < 14; k++) {
        make_frame(fr, 1514, MAC, (uint8_t)k);
        CU_ASSERT_EQUAL_FATAL(read_frame(&f, got, hdr), 1514);
        CU_ASSERT_EQUAL(memcmp(got, fr, 1514), 0);
    }
    net_port_get_stats(f.port, &st);
    CU_ASSERT_EQUAL(st.rx_queued, 0);
    CU_ASSERT_EQUAL(st.rx_frames, 14);
    fx_fini(&f);
}

/* Linux's 8390 driver reads at most 10 frames per interrupt pass and then
 * acks PRX, leaving the rest in the ring.  The frames that refilled the
 * ring during the pass leave it full with more waiting: the card must
 * say so with OVW, or nothing would ever interrupt the driver again (an
 * HTTP download under Linux stalled exactly so). */
static void test_ring_full_wakes_driver(void)
{
    struct fx f;
    fx_init(&f);
    driver_init(&f, 0x04);
    uint8_t fr[1514], got[1600], hdr[4];
    for (unsigned k = 0; k < 30; k++) {
        make_frame(fr, 1514, MAC, (uint8_t)k);
        net_port_deliver(f.port, fr, 1514);
    }
    unsigned seen = 0, passes = 0;
    while (f.probe.level && passes < 20) {
        uint8_t isr = in(&f, ISR);
        passes++;
        if (isr & 0x10) {                       /* overrun path: drain, ack OVW */
            while (read_frame(&f, got, hdr) == 1514)
                seen++;
            out(&f, ISR, 0x10);
        }
        for (unsigned k = 0; k < 10 && read_frame(&f, got, hdr) == 1514; k++)
            seen++;
        out(&f, ISR, 0x05);                     /* ENISR_RX + ENISR_RX_ERR */
    }
    CU_ASSERT_EQUAL(seen, 30);
    CU_ASSERT_EQUAL(f.probe.level, 0);
    struct net_stats st;
    net_port_get_stats(f.port, &st);
    CU_ASSERT_EQUAL(st.rx_queued, 0);
    CU_ASSERT_EQUAL(st.rx_queue_drops, 0);
    fx_fini(&f);
}

/* Linux writes BNRY = next - 1, which is PSTART - 1 after a frame that
 * ended at PSTOP: the ring is then empty up to its last page, not
 * invalid. */
static void test_bnry_before_pstart(void)
{
    struct fx f;
    fx_init(&f);
    driver_init(&f, 0x04);
    uint8_t fr[1514], got[1600], hdr[4];
    page(&f, 1);                                /* CURR = PSTART */
    out(&f, P1_CURR, RX_START);
    page(&f, 0);
    out(&f, BNRY, RX_START - 1);
    for (unsigned k = 0; k < 12; k++) {
        make_frame(fr, 1514, MAC, (uint8_t)k);
        net_port_deliver(f.port, fr, 1514);
        CU_ASSERT_EQUAL(in(&f, ISR) & 0x05, 0x01);      /* PRX, no RXE */
        out(&f, ISR, 0x01);
        uint8_t next = (uint8_t)(in(&f, BNRY) + 1);
        rdma_read(&f, (uint16_t)(next << 8), hdr, 4);
        CU_ASSERT_EQUAL((size_t)(hdr[2] | hdr[3] << 8), 1518);
        rdma_read(&f, (uint16_t)((next << 8) + 4), got, 1514);
        CU_ASSERT_EQUAL(memcmp(got, fr, 1514), 0);
        out(&f, BNRY, (uint8_t)(hdr[1] - 1));           /* may be RX_START - 1 */
    }
    struct net_stats st;
    net_port_get_stats(f.port, &st);
    CU_ASSERT_EQUAL(st.rx_frames, 12);
    fx_fini(&f);
}

static void test_overflow(void)
{
    struct fx f;
    fx_init(&f);
    driver_init(&f, 0x04);
    uint8_t fr[1514], got[1600], hdr[4];
    make_frame(fr, 1514, MAC, 1);
    for (unsigned k = 0; k < 9 + NET_RX_QUEUE + 3; k++)
        net_port_deliver(f.port, fr, 1514);
    struct net_stats st;
    net_port_get_stats(f.port, &st);
    CU_ASSERT_EQUAL(st.rx_queue_drops, 3);
    CU_ASSERT_EQUAL(in(&f, ISR) & 0x10, 0x10);  /* OVW */
    CU_ASSERT_EQUAL(f.probe.level, 1);
    CU_ASSERT_EQUAL(in(&f, CNTR2), 3);          /* missed packets */
    CU_ASSERT_EQUAL(in(&f, CNTR2), 0);          /* cleared by reading */
    /* Recovery: ack, drain everything. */
    out(&f, ISR, 0xFF);
    unsigned n = 0;
    while (read_frame(&f, got, hdr) == 1514 && n < 1000)
        n++;
    CU_ASSERT_EQUAL(n, 9 + NET_RX_QUEUE);
    fx_fini(&f);
}

/* Independent check of the hash: reflected CRC-32, then the top 6 bits
 * of the MSB-first CRC are the low 6 bits reversed. */
static unsigned mc_index(const uint8_t *a)
{
    uint32_t crc = 0xFFFFFFFFu;
    for (unsigned i = 0; i < 6; i++) {
        crc ^= a[i];
        for (unsigned b = 0; b < 8; b++)
            crc = (crc >> 1) ^ (crc & 1 ? 0xEDB88320u : 0);
    }
    unsigned idx = 0;
    for (unsigned b = 0; b < 6; b++)
        if (crc & (1u << b))
            idx |= 1u << (5 - b);
    return idx;
}

static void test_address_filter(void)
{
    struct fx f;
    fx_init(&f);
    driver_init(&f, 0x08);                      /* AM only */
    const uint8_t mc1[6] = { 0x01, 0x00, 0x5E, 0x00, 0x00, 0x01 };
    const uint8_t mc2[6] = { 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 };
    const uint8_t bcast[6] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };
    const uint8_t other[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };
    unsigned i1 = mc_index(mc1), i2 = mc_index(mc2);
    CU_ASSERT_NOT_EQUAL_FATAL(i1, i2);
    page(&f, 1);
    out(&f, P1_MAR + i1 / 8, (uint8_t)(1u << (i1 % 8)));
    page(&f, 0);
    uint8_t fr[64], got[1600], hdr[4];
    make_frame(fr, 64, mc1, 1);
    net_port_deliver(f.port, fr, 64);
    CU_ASSERT_EQUAL(read_frame(&f, got, hdr), 64);
    CU_ASSERT_EQUAL(hdr[0], 0x21);
    make_frame(fr, 64, mc2, 1);
    net_port_deliver(f.port, fr, 64);           /* hash bit clear */
    make_frame(fr, 64, bcast, 1);
    net_port_deliver(f.port, fr, 64);           /* AB clear */
    make_frame(fr, 64, other, 1);
    net_port_deliver(f.port, fr, 64);           /* not our address */
    CU_ASSERT_EQUAL(read_frame(&f, got, hdr), 0);
    out(&f, RCR, 0x14);                         /* PRO | AB */
    net_port_deliver(f.port, fr, 64);
    CU_ASSERT_EQUAL(read_frame(&f, got, hdr), 64);
    CU_ASSERT_EQUAL(hdr[0], 0x01);
    make_frame(fr, 64, bcast, 1);
    net_port_deliver(f.port, fr, 64);
    CU_ASSERT_EQUAL(read_frame(&f, got, hdr), 64);
    make_frame(fr, 64, mc1, 1);                 /* PRO does not open multicast */
    net_port_deliver(f.port, fr, 64);
    CU_ASSERT_EQUAL(read_frame(&f, got, hdr), 0);
    /* Runts: dropped unless AR. */
    make_frame(fr, 42, MAC, 1);
    net_port_deliver(f.port, fr, 42);
    CU_ASSERT_EQUAL(read_frame(&f, got, hdr), 0);
    out(&f, RCR, 0x06);
    net_port_deliver(f.port, fr, 42);
    CU_ASSERT_EQUAL(read_frame(&f, got, hdr), 42);
    /* Monitor mode: counted, never stored. */
    out(&f, RCR, 0x24);
    make_frame(fr, 64, MAC, 1);
    net_port_deliver(f.port, fr, 64);
    CU_ASSERT_EQUAL(read_frame(&f, got, hdr), 0);
    CU_ASSERT_EQUAL(in(&f, CNTR2), 1);
    struct ne2k_stats ns;
    ne2k_get_stats(f.n, &ns);
    CU_ASSERT_EQUAL(ns.rx_filtered, 4);
    CU_ASSERT_EQUAL(ns.rx_runts, 1);
    fx_fini(&f);
}

static void test_isr_and_reset(void)
{
    struct fx f;
    fx_init(&f);
    driver_init(&f, 0x04);
    CU_ASSERT_EQUAL(in(&f, ISR), 0);            /* STA cleared RST */
    out(&f, IMR, 0x00);
    uint8_t fr[64];
    make_frame(fr, 64, MAC, 0);
    net_port_deliver(f.port, fr, 64);
    CU_ASSERT_EQUAL(in(&f, ISR), 0x01);
    CU_ASSERT_EQUAL(f.probe.level, 0);          /* masked */
    out(&f, IMR, 0x01);
    CU_ASSERT_EQUAL(f.probe.level, 1);
    CU_ASSERT_EQUAL(f.probe.rises, 1);
    out(&f, ISR, 0x02);                          /* other bit: PRX stays */
    CU_ASSERT_EQUAL(in(&f, ISR), 0x01);
    out(&f, ISR, 0x01);
    CU_ASSERT_EQUAL(f.probe.level, 0);
    /* Remote DMA with count 0 completes at once. */
    out(&f, RBCR0, 0);
    out(&f, RBCR1, 0);
    out(&f, IMR, 0x40);
    out(&f, CR, RREAD | STA);
    CU_ASSERT_EQUAL(in(&f, ISR), 0x40);
    CU_ASSERT_EQUAL(f.probe.level, 1);
    /* STP sets RST, which a write cannot clear and which never interrupts. */
    out(&f, ISR, 0xFF);
    out(&f, CR, NODMA | STP);
    CU_ASSERT_EQUAL(in(&f, ISR), 0x80);
    out(&f, ISR, 0x80);
    CU_ASSERT_EQUAL(in(&f, ISR), 0x80);
    CU_ASSERT_EQUAL(f.probe.level, 0);
    /* The reset port: a read resets (Linux writes the value back). */
    out(&f, CR, NODMA | STA);
    out(&f, IMR, 0x7F);
    out(&f, RESET, in(&f, RESET));
    CU_ASSERT_EQUAL(in(&f, ISR) & 0x80, 0x80);
    CU_ASSERT_EQUAL(in(&f, CR), 0x21);
    CU_ASSERT_EQUAL(in(&f, 0x0F), 0);           /* CNTR2 */
    page(&f, 2);
    CU_ASSERT_EQUAL(in(&f, 0x0F), 0);           /* IMR cleared */
    CU_ASSERT_EQUAL(in(&f, 0x0D), 0x02);        /* TCR: internal loopback */
    page(&f, 0);
    ne2k_reset(f.n);
    CU_ASSERT_EQUAL(in(&f, CR), 0x21);
    fx_fini(&f);
}

static void test_internal_loopback(void)
{
    struct fx f;
    fx_init(&f);
    driver_init(&f, 0x04);
    out(&f, TCR, 0x02);
    uint8_t fr[80], got[1600], hdr[4];
    make_frame(fr, 80, MAC, 5);
    transmit(&f, fr, 80);
    CU_ASSERT_EQUAL(net_memory_count(f.mem), 0); /* never on the wire */
    CU_ASSERT_EQUAL(in(&f, ISR) & 0x03, 0x03);
    CU_ASSERT_EQUAL(read_frame(&f, got, hdr), 80);
    CU_ASSERT_EQUAL(memcmp(got, fr, 80), 0);
    /* Frames from the wire are ignored in loopback. */
    net_port_deliver(f.port, fr, 80);
    CU_ASSERT_EQUAL(read_frame(&f, got, hdr), 0);
    fx_fini(&f);
}

static void test_hostile(void)
{
    struct fx f;
    fx_init(&f);
    driver_init(&f, 0x04);
    uint8_t fr[9000], got[1600], hdr[4];
    struct ne2k_stats ns;
    /* TBCR 0 and 0xFFFF: refused with TXE, nothing sent. */
    out(&f, TBCR0, 0);
    out(&f, TBCR1, 0);
    out(&f, CR, NODMA | STA | TXP);
    CU_ASSERT_EQUAL(in(&f, ISR) & 0x0A, 0x08);
    out(&f, TBCR0, 0xFF);
    out(&f, TBCR1, 0xFF);
    out(&f, TPSR, 0xFF);
    out(&f, CR, NODMA | STA | TXP);
    CU_ASSERT_EQUAL(net_memory_count(f.mem), 0);
    ne2k_get_stats(f.n, &ns);
    CU_ASSERT_EQUAL(ns.tx_refused, 2);
    /* Transmit buffer straddling the end of RAM: bytes past it are 0xFF. */
    out(&f, ISR, 0xFF);
    out(&f, TPSR, 0x7F);
    out(&f, TBCR0, 0x00);
    out(&f, TBCR1, 0x02);
    out(&f, CR, NODMA | STA | TXP);
    CU_ASSERT_EQUAL(net_memory_pop(f.mem, fr, sizeof(fr)), 512);
    CU_ASSERT_EQUAL(fr[511], 0xFF);
    /* Remote DMA past the end of RAM and of the 64 KiB space. */
    uint8_t pat[64];
    memset(pat, 0xA5, sizeof(pat));
    rdma_write(&f, 0x7FE0, pat, 64);            /* wraps at PSTOP to PSTART */
    rdma_read(&f, RX_START << 8, got, 32);
    CU_ASSERT_EQUAL(got[31], 0xA5);
    out(&f, PSTOP, 0x60);                       /* now 0x8000 is outside the ring */
    rdma_write(&f, 0x7FE0, pat, 64);
    rdma_read(&f, 0x7FE0, got, 64);
    CU_ASSERT_EQUAL(got[31], 0xA5);
    CU_ASSERT_EQUAL(got[32], 0xFF);
    out(&f, PSTOP, RX_STOP);
    rdma_read(&f, 0xFFF0, got, 64);             /* wraps to the PROM */
    CU_ASSERT_EQUAL(got[15], 0xFF);
    CU_ASSERT_EQUAL(got[16], MAC[0]);
    /* 32-bit data accesses are two word transfers. */
    rdma_setup(&f, 0, 8, RREAD);
    CU_ASSERT_EQUAL(iobus_read(&f.bus, BASE + DATA, 4),
                    (uint32_t)(MAC[0] * 0x0101u) | (uint32_t)(MAC[1] * 0x0101u) << 16);
    /* A 9000-byte frame from the backend: dropped and counted. */
    memset(fr, 0, sizeof(fr));
    memcpy(fr, MAC, 6);
    net_port_deliver(f.port, fr, sizeof(fr));
    struct net_stats st;
    net_port_get_stats(f.port, &st);
    CU_ASSERT_EQUAL(st.rx_oversize_drops, 1);
    CU_ASSERT_EQUAL(read_frame(&f, got, hdr), 0);
    /* PSTART >= PSTOP: dropped, counted, no write anywhere. */
    make_frame(fr, 100, MAC, 1);
    out(&f, PSTART, 0x70);
    out(&f, PSTOP, 0x50);
    net_port_deliver(f.port, fr, 100);
    out(&f, PSTART, 0x60);
    out(&f, PSTOP, 0x60);
    net_port_deliver(f.port, fr, 100);
    /* Ring outside the RAM. */
    out(&f, PSTART, 0x80);
    out(&f, PSTOP, 0xFF);
    net_port_deliver(f.port, fr, 100);
    /* CURR / BNRY outside the ring. */
    out(&f, PSTART, RX_START);
    out(&f, PSTOP, RX_STOP);
    page(&f, 1);
    out(&f, P1_CURR, 0xF0);
    page(&f, 0);
    net_port_deliver(f.port, fr, 100);
    page(&f, 1);
    out(&f, P1_CURR, RX_START + 1);
    page(&f, 0);
    out(&f, BNRY, 0x10);
    net_port_deliver(f.port, fr, 100);
    ne2k_get_stats(f.n, &ns);
    CU_ASSERT_EQUAL(ns.rx_bad_ring, 5);
    CU_ASSERT_EQUAL(ns.rx_frames, 0);
    CU_ASSERT(in(&f, ISR) & 0x04);              /* RXE */
    /* Back to sane pointers: it works again. */
    out(&f, BNRY, RX_START);
    net_port_deliver(f.port, fr, 100);
    CU_ASSERT_EQUAL(read_frame(&f, got, hdr), 100);
    /* Nonsense remote DMA commands and page 3 on ISA. */
    out(&f, CR, 0xFF);
    out(&f, CR, 0xC0 | NODMA | STA);
    CU_ASSERT_EQUAL(in(&f, 5), 0xFF);
    for (unsigned r = 1; r < 16; r++)
        out(&f, r, 0xFF);
    page(&f, 0);
    fx_fini(&f);
}

/* ---- PCI ---- */

static void test_pci_identity(void)
{
    struct logger lg = { LOG_ERROR, STDERR_FILENO };
    struct iobus pio, mmio;
    struct guest_mem mem;
    struct pci_bus bus;
    static uint8_t bios[64 * 1024];
    iobus_init(&pio, "pio", &lg);
    iobus_init(&mmio, "mmio", &lg);
    CU_ASSERT_EQUAL_FATAL(mem_init(&mem, 16 << 20, bios, sizeof(bios)), 0);
    pci_bus_init(&bus, &pio, &mmio, &mem, &lg);
    struct net_port *port = net_port_create(&lg);
    struct ne2k *n = ne2k_create_pci(&bus, port, NULL, &lg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(n);
    int devfn = ne2k_pci_device(n)->devfn;
    CU_ASSERT_EQUAL(pci_config_read(&bus, devfn, 0, 4), 0x802910ec);
    CU_ASSERT_EQUAL(pci_config_read(&bus, devfn, 0x0a, 2), 0x0200);
    CU_ASSERT_EQUAL(pci_config_read(&bus, devfn, 0x3d, 1), 1);
    pci_config_write(&bus, devfn, 0x10, 4, 0xFFFFFFFF);
    CU_ASSERT_EQUAL(pci_config_read(&bus, devfn, 0x10, 4), 0xFFFFFFE1);     /* 32 bytes, I/O */
    pci_config_write(&bus, devfn, 0x10, 4, 0xC100);
    pci_config_write(&bus, devfn, 0x04, 2, 1);
    CU_ASSERT_EQUAL(iobus_read(&pio, 0xC100, 1), 0x21);
    CU_ASSERT_EQUAL(iobus_read(&pio, 0xC100 + 0x0A, 1), 0x50);      /* RTL8029 ID */
    CU_ASSERT_EQUAL(iobus_read(&pio, 0xC100 + 0x0B, 1), 0x43);
    iobus_write(&pio, 0xC100 + DCR, 1, 0x49);
    iobus_write(&pio, 0xC100 + RBCR0, 1, 12);
    iobus_write(&pio, 0xC100 + CR, 1, RREAD | STA);
    const uint8_t def[6] = NE2K_DEFAULT_MAC;
    for (unsigned i = 0; i < 6; i++)
        CU_ASSERT_EQUAL(iobus_read(&pio, 0xC110, 2), def[i] * 0x0101u);
    /* Page 3: CONFIG3 writable only after unlocking through 9346CR. */
    iobus_write(&pio, 0xC100, 1, 0xC0 | NODMA | STA);
    iobus_write(&pio, 0xC106, 1, 0x40);
    CU_ASSERT_EQUAL(iobus_read(&pio, 0xC106, 1), 0);
    iobus_write(&pio, 0xC101, 1, 0xC0);
    iobus_write(&pio, 0xC106, 1, 0x40);
    CU_ASSERT_EQUAL(iobus_read(&pio, 0xC106, 1), 0x40);
    /* INTx follows ISR & IMR. */
    iobus_write(&pio, 0xC100, 1, NODMA | STA);
    iobus_write(&pio, 0xC100 + IMR, 1, 0x40);
    iobus_write(&pio, 0xC100 + RBCR0, 1, 0);
    iobus_write(&pio, 0xC100 + CR, 1, RREAD | STA);
    CU_ASSERT_EQUAL(ne2k_pci_device(n)->irq_level, 1);
    iobus_write(&pio, 0xC100 + ISR, 1, 0x40);
    CU_ASSERT_EQUAL(ne2k_pci_device(n)->irq_level, 0);
    ne2k_destroy(n);
    CU_ASSERT_PTR_NULL(iobus_find(&pio, 0xC100));
    net_port_destroy(port);
    mem_destroy(&mem);
}

void suite_ne2k(void)
{
    CU_pSuite s = CU_add_suite("ne2k", NULL, NULL);
    CU_add_test(s, "PROM via remote DMA, word mode", test_prom_word_mode);
    CU_add_test(s, "PROM via remote DMA, byte mode", test_prom_byte_mode);
    CU_add_test(s, "register file on all pages", test_register_pages);
    CU_add_test(s, "transmit exact bytes", test_transmit_exact);
    CU_add_test(s, "receive ring wrap-around", test_receive_wraparound);
    CU_add_test(s, "ring full: frames wait in the queue", test_ring_full_waits_in_queue);
    CU_add_test(s, "ring full: OVW wakes a driver that left frames", test_ring_full_wakes_driver);
    CU_add_test(s, "BNRY one page before PSTART", test_bnry_before_pstart);
    CU_add_test(s, "queue overflow: OVW and recovery", test_overflow);
    CU_add_test(s, "address filter: multicast hash, broadcast, promiscuous, runts, monitor",
                test_address_filter);
    CU_add_test(s, "ISR causes, ack, reset", test_isr_and_reset);
    CU_add_test(s, "internal loopback", test_internal_loopback);
    CU_add_test(s, "hostile register values", test_hostile);
    CU_add_test(s, "PCI RTL8029 identity, BAR, page 3, INTx", test_pci_identity);
}
