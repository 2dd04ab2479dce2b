/* DP8390 core with the NE2000 glue: register pages, remote DMA through
 * the data port, the receive ring, transmit, interrupts and the reset port.
 *
 * The receive ring lives in the card's own buffer RAM (no guest-memory
 * DMA): every address the guest programs is checked against the 16 KiB
 * before use, and the buffer address space outside the PROM and the RAM
 * reads as 0xFF like an undriven bus. */
#include "ne2k_internal.h"

#include <stdio.h>
#include <string.h>

#include "../../net/net.h"

/* CR */
#define CR_STP 0x01
#define CR_STA 0x02
#define CR_TXP 0x04
#define CR_RD_MASK 0x38
#define CR_RD_READ 0x08
#define CR_RD_WRITE 0x10
#define CR_RD_SEND 0x18
#define CR_PS_SHIFT 6
/* ISR / IMR */
#define ISR_PRX 0x01
#define ISR_PTX 0x02
#define ISR_RXE 0x04
#define ISR_TXE 0x08
#define ISR_OVW 0x10
#define ISR_CNT 0x20
#define ISR_RDC 0x40
#define ISR_RST 0x80
/* DCR */
#define DCR_WTS 0x01
#define DCR_BOS 0x02
#define DCR_LAS 0x04
/* TCR */
#define TCR_LB_MASK 0x06
#define TCR_LB_INTERNAL 0x02
/* RCR */
#define RCR_AR 0x02
#define RCR_AB 0x04
#define RCR_AM 0x08
#define RCR_PRO 0x10
#define RCR_MON 0x20
/* TSR / RSR */
#define TSR_PTX 0x01
#define TSR_ABT 0x08
#define RSR_PRX 0x01
#define RSR_MPA 0x10
#define RSR_PHY 0x20

#define RX_HEADER 4
#define DATA_PORT 0x10
#define RESET_PORT 0x18

/* ---- Interrupts --------------------------------------------------------- */

static void update_irq(struct ne2k *n)
{
    /* RST is status only: it never interrupts (IMR has no bit 7). */
    int level = (n->isr & n->imr & 0x7F) != 0;
    if (n->is_pci)
        pci_set_irq(&n->pci, level);
    else
        irq_set(&n->irq, level);
}

static void count(struct ne2k *n, unsigned i)
{
    if (n->cntr[i] < 0xFF)
        n->cntr[i]++;
    if (n->cntr[i] & 0x80)
        n->isr |= ISR_CNT;
}

/* ---- Buffer address space ---------------------------------------------- */

static uint8_t buf_read(const struct ne2k *n, uint16_t a)
{
    if (a < NE2K_PROM_SIZE)
        return n->prom[a];
    if (a >= NE2K_RAM_BASE && a < NE2K_RAM_BASE + NE2K_RAM_SIZE)
        return n->ram[a - NE2K_RAM_BASE];
    return 0xFF;
}

static void buf_write(struct ne2k *n, uint16_t a, uint8_t v)
{
    if (a >= NE2K_RAM_BASE && a < NE2K_RAM_BASE + NE2K_RAM_SIZE)
        n->ram[a - NE2K_RAM_BASE] = v;
}

static bool ring_valid(const struct ne2k *n)
{
    return n->pstart < n->pstop && n->pstart >= NE2K_RAM_START_PAGE &&
           n->pstop <= NE2K_RAM_END_PAGE;
}

/* ---- Remote DMA ------------------------------------------------------- */

/* The remote DMA address wraps from PSTOP back to PSTART, so a driver can
 * read a frame that wraps around the ring in one go. */
static void rdma_advance(struct ne2k *n, unsigned step)
{
    uint32_t next = (uint32_t)n->rsar + step;
    uint32_t stop = (uint32_t)n->pstop << 8;
    if (n->pstart < n->pstop && n->rsar < stop && next >= stop)
        next = ((uint32_t)n->pstart << 8) + (next - stop);
    n->rsar = (uint16_t)next;
    if (n->rbcr > step) {
        n->rbcr -= step;
    } else if (n->rbcr) {
        n->rbcr = 0;
        n->isr |= ISR_RDC;
        update_irq(n);
    }
}

static uint16_t swap_if_bos(const struct ne2k *n, uint16_t v)
{
    return (n->dcr & DCR_BOS) ? (uint16_t)((v >> 8) | (v << 8)) : v;
}

/* One transfer: a word in word mode (WTS), else a byte. */
static uint16_t data_read_one(struct ne2k *n)
{
    if (n->dcr & DCR_WTS) {
        uint16_t v = buf_read(n, n->rsar) | (uint16_t)(buf_read(n, (uint16_t)(n->rsar + 1)) << 8);
        rdma_advance(n, 2);
        return swap_if_bos(n, v);
    }
    uint8_t v = buf_read(n, n->rsar);
    rdma_advance(n, 1);
    return v;
}

static void data_write_one(struct ne2k *n, uint16_t v)
{
    if (n->dcr & DCR_WTS) {
        v = swap_if_bos(n, v);
        buf_write(n, n->rsar, (uint8_t)v);
        buf_write(n, (uint16_t)(n->rsar + 1), (uint8_t)(v >> 8));
        rdma_advance(n, 2);
        return;
    }
    buf_write(n, n->rsar, (uint8_t)v);
    rdma_advance(n, 1);
}

/* The bus width decides the transfer, not the CPU's access size: in word
 * mode an inb still moves a whole word (the high byte is lost), and a
 * 32-bit access is two transfers. */
static uint32_t data_read(struct ne2k *n, unsigned size)
{
    if (n->dcr & DCR_WTS) {
        uint32_t v = data_read_one(n);
        if (size == 1)
            return v & 0xFF;
        if (size == 4)
            v |= (uint32_t)data_read_one(n) << 16;
        return v;
    }
    uint32_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint32_t)data_read_one(n) << (8 * i);
    return v;
}

static void data_write(struct ne2k *n, unsigned size, uint32_t v)
{
    if (n->dcr & DCR_WTS) {
        data_write_one(n, size == 1 ? (uint16_t)(v & 0xFF) : (uint16_t)v);
        if (size == 4)
            data_write_one(n, (uint16_t)(v >> 16));
        return;
    }
    for (unsigned i = 0; i < size; i++)
        data_write_one(n, (uint8_t)(v >> (8 * i)));
}

/* ---- Receive ---------------------------------------------------------- */

static uint32_t ether_crc_be(const uint8_t *p, unsigned len)
{
    uint32_t crc = 0xFFFFFFFFu;
    for (unsigned i = 0; i < len; i++) {
        uint8_t b = p[i];
        for (unsigned bit = 0; bit < 8; bit++, b >>= 1) {
            uint32_t x = (crc >> 31) ^ (b & 1u);
            crc <<= 1;
            if (x)
                crc ^= 0x04C11DB7u;
        }
    }
    return crc;
}

/* Address recognition (RCR): PRO only widens physical addresses;
 * broadcast needs AB and multicast AM plus its MAR hash bit. */
static bool accept(const struct ne2k *n, const uint8_t *dst)
{
    static const uint8_t bcast[6] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };
    if (!memcmp(dst, bcast, 6))
        return n->rcr & RCR_AB;
    if (dst[0] & 1) {
        if (!(n->rcr & RCR_AM))
            return false;
        unsigned idx = ether_crc_be(dst, 6) >> 26;
        return n->mar[idx >> 3] & (1u << (idx & 7));
    }
    return (n->rcr & RCR_PRO) || !memcmp(dst, n->par, 6);
}

static bool started(const struct ne2k *n)
{
    return (n->cr & (CR_STA | CR_STP)) == CR_STA;
}

/* BNRY inside the ring, or one page before PSTART: drivers keep BNRY one
 * page behind the next frame to read (Linux's 8390 driver writes
 * next - 1), so after a frame that ends the ring it holds PSTART - 1,
 * which the chip treats as the ring's last page (PSTOP - 1).
 * ring_free_pages() gives that value the right distance as it stands. */
static bool bnry_valid(const struct ne2k *n)
{
    return (n->bnry >= n->pstart && n->bnry < n->pstop) || n->bnry + 1 == n->pstart;
}

/* Pages free for the local DMA between CURR and BNRY; BNRY == CURR is an
 * empty ring. */
static unsigned ring_free_pages(const struct ne2k *n)
{
    unsigned size = (unsigned)(n->pstop - n->pstart);
    if (n->bnry > n->curr)
        return (unsigned)(n->bnry - n->curr);
    return size - (unsigned)(n->curr - n->bnry);
}

static void ring_store(struct ne2k *n, const uint8_t *frame, size_t len, uint8_t status)
{
    unsigned pages = (unsigned)((len + RX_HEADER + 255) >> 8);
    unsigned next = n->curr + pages;
    if (next >= n->pstop)
        next = n->pstart + (next - n->pstop);
    uint16_t total = (uint16_t)(len + RX_HEADER);
    uint8_t hdr[RX_HEADER] = { status, (uint8_t)next, (uint8_t)total, (uint8_t)(total >> 8) };
    uint32_t addr = (uint32_t)n->curr << 8;
    uint32_t stop = (uint32_t)n->pstop << 8;
    /* Bounded by the frame length (<= NET_MAX_FRAME + header); every
     * address stays inside PSTART..PSTOP, which ring_valid() checked. */
    for (size_t i = 0; i < RX_HEADER + len; i++) {
        buf_write(n, (uint16_t)addr, i < RX_HEADER ? hdr[i] : frame[i - RX_HEADER]);
        if (++addr >= stop)
            addr = (uint32_t)n->pstart << 8;
    }
    n->clda = (uint16_t)addr;
    n->curr = (uint8_t)next;
    n->rsr = status;
    n->isr |= ISR_PRX;
    n->st.rx_frames++;
    update_irq(n);
}

/* A frame from the wire (from_wire) or from our own transmitter in
 * loopback. */
static enum net_rx_result rx_frame(struct ne2k *n, const uint8_t *frame, size_t len, bool from_wire)
{
    if (!started(n))
        return NET_RX_DONE;                 /* nobody listening: the frame passes by */
    if (from_wire && (n->tcr & TCR_LB_MASK))
        return NET_RX_DONE;                 /* loopback disconnects the receiver */
    if (len < 6 || len > NET_MAX_FRAME) {
        n->st.rx_runts += len < 6;
        return NET_RX_DONE;
    }
    if (len < NET_MIN_FRAME && !(n->rcr & RCR_AR)) {
        n->st.rx_runts++;
        return NET_RX_DONE;
    }
    if (!accept(n, frame)) {
        n->st.rx_filtered++;
        return NET_RX_DONE;
    }
    if (n->rcr & RCR_MON) {                 /* checked and counted, never stored */
        count(n, 2);
        update_irq(n);
        return NET_RX_DONE;
    }
    if (!ring_valid(n) || n->curr < n->pstart || n->curr >= n->pstop || !bnry_valid(n)) {
        guest_error(n->log, &n->rl,
                    "ne2k: receive ring invalid (PSTART %02x PSTOP %02x CURR %02x BNRY %02x), frame dropped",
                    n->pstart, n->pstop, n->curr, n->bnry);
        n->st.rx_bad_ring++;
        count(n, 2);
        n->rsr |= RSR_MPA;
        n->isr |= ISR_RXE;
        update_irq(n);
        return NET_RX_DONE;
    }
    unsigned pages = (unsigned)((len + RX_HEADER + 255) >> 8);
    /* Strictly less: CURR must never catch up with BNRY, or the ring
     * would look empty again. */
    if (pages >= ring_free_pages(n)) {
        /* The local DMA has reached BNRY: the datasheet's Overwrite
         * Warning.  A driver that leaves frames in the ring and clears
         * PRX (Linux's 8390 driver reads at most 10 frames a pass) is
         * woken only by OVW, as on a real card.  Unlike the real card
         * nothing is lost: a wire frame waits in the port's queue and
         * arrives when the driver has made room. */
        n->isr |= ISR_OVW;
        if (from_wire) {
            update_irq(n);
            return NET_RX_BUSY;
        }
        n->rsr |= RSR_MPA;
        count(n, 2);
        n->st.rx_missed++;
        update_irq(n);
        return NET_RX_DONE;
    }
    ring_store(n, frame, len, RSR_PRX | ((frame[0] & 1) ? RSR_PHY : 0));
    return NET_RX_DONE;
}

static enum net_rx_result nic_receive(void *opaque, const uint8_t *frame, size_t len)
{
    return rx_frame(opaque, frame, len, true);
}

/* The port's queue overflowed: this is where the chip misses a frame. */
static void nic_dropped(void *opaque)
{
    struct ne2k *n = opaque;
    n->st.rx_missed++;
    count(n, 2);
    n->rsr |= RSR_MPA;
    n->isr |= ISR_OVW | ISR_RXE;
    update_irq(n);
}

/* The registers a driver writer asks about first when frames stop. */
static void nic_info(void *opaque, char *buf, size_t len)
{
    const struct ne2k *n = opaque;
    snprintf(buf, len, "CR %02x ISR %02x IMR %02x RCR %02x TCR %02x PSTART %02x PSTOP %02x BNRY %02x CURR %02x",
             n->cr, n->isr, n->imr, n->rcr, n->tcr, n->pstart, n->pstop, n->bnry, n->curr);
}

static const struct net_nic_ops nic_ops = {
    .receive = nic_receive,
    .dropped = nic_dropped,
    .info = nic_info,
};

static void rx_ready(struct ne2k *n)
{
    if (n->port && started(n))
        net_port_rx_ready(n->port);
}

/* ---- Transmit --------------------------------------------------------- */

static void transmit(struct ne2k *n)
{
    n->cr &= (uint8_t)~CR_TXP;   /* done at once: the wire is infinitely fast */
    if (n->tbcr == 0 || n->tbcr > NE2K_MAX_TX) {
        guest_error(n->log, &n->rl, "ne2k: transmit of %u bytes refused", n->tbcr);
        n->st.tx_refused++;
        n->tsr = TSR_ABT;
        n->isr |= ISR_TXE;
        update_irq(n);
        return;
    }
    uint8_t frame[NE2K_MAX_TX];
    uint16_t start = (uint16_t)(n->tpsr << 8);
    for (unsigned i = 0; i < n->tbcr; i++)
        frame[i] = buf_read(n, (uint16_t)(start + i));
    n->st.tx_frames++;
    n->tsr = TSR_PTX;
    n->isr |= ISR_PTX;
    if (n->tcr & TCR_LB_MASK)
        rx_frame(n, frame, n->tbcr, false);
    else if (n->port)
        net_send(n->port, frame, n->tbcr);
    update_irq(n);
}

/* ---- Command register ------------------------------------------------- */

static void cr_write(struct ne2k *n, uint8_t v)
{
    bool was_started = started(n);
    /* Neither STA nor STP written: the run state stays as it is. */
    if (!(v & (CR_STA | CR_STP)))
        v |= n->cr & (CR_STA | CR_STP);
    if (v & CR_STP)
        v &= (uint8_t)~CR_STA;
    n->cr = v & (uint8_t)~CR_TXP;
    if (v & CR_STP)
        n->isr |= ISR_RST;
    else
        n->isr &= (uint8_t)~ISR_RST;

    unsigned rd = v & CR_RD_MASK;
    if (rd == CR_RD_SEND) {
        /* Send Packet: the remote DMA fetches the frame at BNRY, its
         * length taken from the receive header. */
        n->rsar = (uint16_t)(n->bnry << 8);
        n->rbcr = buf_read(n, (uint16_t)(n->rsar + 2)) |
                  (uint16_t)(buf_read(n, (uint16_t)(n->rsar + 3)) << 8);
    }
    if ((rd == CR_RD_READ || rd == CR_RD_WRITE || rd == CR_RD_SEND) && n->rbcr == 0)
        n->isr |= ISR_RDC;
    if ((v & CR_TXP) && started(n))
        transmit(n);
    update_irq(n);
    if (!was_started && started(n))
        rx_ready(n);
}

/* ---- Register pages ----------------------------------------------------- */

static uint8_t read_page0(struct ne2k *n, unsigned r)
{
    uint8_t v;
    switch (r) {
    case 0x01: return (uint8_t)n->clda;
    case 0x02: return (uint8_t)(n->clda >> 8);
    case 0x03: return n->bnry;
    case 0x04: return n->tsr;
    case 0x05: return 0;                    /* NCR: never a collision */
    case 0x06: return 0;                    /* FIFO */
    case 0x07: return n->isr;
    case 0x08: return (uint8_t)n->rsar;
    case 0x09: return (uint8_t)(n->rsar >> 8);
    case 0x0A: return n->rtl8029 ? 0x50 : 0xFF;     /* RTL8029 ID: "P" */
    case 0x0B: return n->rtl8029 ? 0x43 : 0xFF;     /* "C" */
    case 0x0C: return n->rsr;
    default:                                /* 0x0D-0x0F: tally counters, cleared by reading */
        v = n->cntr[r - 0x0D];
        n->cntr[r - 0x0D] = 0;
        return v;
    }
}

static void write_page0(struct ne2k *n, unsigned r, uint8_t v)
{
    switch (r) {
    case 0x01: n->pstart = v; rx_ready(n); break;
    case 0x02: n->pstop = v; rx_ready(n); break;
    case 0x03: n->bnry = v; rx_ready(n); break;
    case 0x04: n->tpsr = v; break;
    case 0x05: n->tbcr = (uint16_t)((n->tbcr & 0xFF00) | v); break;
    case 0x06: n->tbcr = (uint16_t)((n->tbcr & 0x00FF) | (v << 8)); break;
    case 0x07: n->isr &= (uint8_t)~(v & 0x7F); update_irq(n); break;
    case 0x08: n->rsar = (uint16_t)((n->rsar & 0xFF00) | v); break;
    case 0x09: n->rsar = (uint16_t)((n->rsar & 0x00FF) | (v << 8)); break;
    case 0x0A: n->rbcr = (uint16_t)((n->rbcr & 0xFF00) | v); break;
    case 0x0B: n->rbcr = (uint16_t)((n->rbcr & 0x00FF) | (v << 8)); break;
    case 0x0C: n->rcr = v & 0x3F; break;
    case 0x0D: n->tcr = v & 0x1F; break;
    case 0x0E: n->dcr = v & 0x7F; break;
    case 0x0F: n->imr = v & 0x7F; update_irq(n); break;
    }
}

static uint8_t read_page2(struct ne2k *n, unsigned r)
{
    switch (r) {
    case 0x01: return n->pstart;
    case 0x02: return n->pstop;
    case 0x03: return n->rnpp;
    case 0x04: return n->tpsr;
    case 0x05: return n->lnpp;
    case 0x06: return (uint8_t)(n->clda >> 8);
    case 0x07: return (uint8_t)n->clda;
    case 0x0C: return n->rcr;
    case 0x0D: return n->tcr;
    case 0x0E: return n->dcr;
    case 0x0F: return n->imr;
    default: return 0xFF;                   /* reserved */
    }
}

/* Page 2 is for diagnostics; only the pointers a test may preset are
 * writable. */
static void write_page2(struct ne2k *n, unsigned r, uint8_t v)
{
    switch (r) {
    case 0x01: n->clda = (uint16_t)((n->clda & 0xFF00) | v); break;
    case 0x02: n->clda = (uint16_t)((n->clda & 0x00FF) | (v << 8)); break;
    case 0x03: n->rnpp = v; break;
    case 0x05: n->lnpp = v; break;
    default: break;
    }
}

/* RTL8029AS page 3: the 9346 command register unlocks CONFIG writes. */
static uint8_t read_page3(struct ne2k *n, unsigned r)
{
    if (!n->rtl8029)
        return 0xFF;
    switch (r) {
    case 0x01: return n->cr9346;
    case 0x02: return n->bpage;
    case 0x03: case 0x04: case 0x05: case 0x06: return n->config[r - 3];
    default: return 0;
    }
}

static void write_page3(struct ne2k *n, unsigned r, uint8_t v)
{
    if (!n->rtl8029)
        return;
    bool unlocked = (n->cr9346 & 0xC0) == 0xC0;
    switch (r) {
    case 0x01: n->cr9346 = v & 0xC0; break;
    case 0x02: n->bpage = v; break;
    case 0x04: case 0x05: case 0x06:
        if (unlocked)
            n->config[r - 3] = v;
        break;
    default: break;
    }
}

static uint8_t reg_read(struct ne2k *n, unsigned r)
{
    if (r == 0)
        return n->cr;
    switch (n->cr >> CR_PS_SHIFT) {
    case 0: return read_page0(n, r);
    case 1: return r == 7 ? n->curr : r < 7 ? n->par[r - 1] : n->mar[r - 8];
    case 2: return read_page2(n, r);
    default: return read_page3(n, r);
    }
}

static void reg_write(struct ne2k *n, unsigned r, uint8_t v)
{
    if (r == 0) {
        cr_write(n, v);
        return;
    }
    switch (n->cr >> CR_PS_SHIFT) {
    case 0: write_page0(n, r, v); break;
    case 1:
        if (r == 7) {
            n->curr = v;
            rx_ready(n);
        } else if (r < 7) {
            n->par[r - 1] = v;
        } else {
            n->mar[r - 8] = v;
        }
        break;
    case 2: write_page2(n, r, v); break;
    default: write_page3(n, r, v); break;
    }
}

/* ---- Port window ------------------------------------------------------ */

static uint8_t byte_read(struct ne2k *n, unsigned off)
{
    if (off < DATA_PORT)
        return reg_read(n, off);
    if (off < RESET_PORT)
        return (uint8_t)data_read(n, 1);
    ne2k_chip_reset(n);     /* NE2000: reading the reset port resets */
    return 0;
}

static void byte_write(struct ne2k *n, unsigned off, uint8_t v)
{
    if (off < DATA_PORT)
        reg_write(n, off, v);
    else if (off < RESET_PORT)
        data_write(n, 1, v);
    else
        ne2k_chip_reset(n);
}

static uint64_t io_read(void *opaque, uint64_t offset, unsigned size)
{
    struct ne2k *n = opaque;
    unsigned off = (unsigned)offset & (NE2K_IO_SIZE - 1);
    if (off >= DATA_PORT && off < RESET_PORT && size <= 4)
        return data_read(n, size);
    uint64_t v = 0;
    for (unsigned i = 0; i < size && off + i < NE2K_IO_SIZE; i++)
        v |= (uint64_t)byte_read(n, off + i) << (8 * i);
    return v;
}

static void io_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    struct ne2k *n = opaque;
    unsigned off = (unsigned)offset & (NE2K_IO_SIZE - 1);
    if (off >= DATA_PORT && off < RESET_PORT && size <= 4) {
        data_write(n, size, (uint32_t)value);
        return;
    }
    for (unsigned i = 0; i < size && off + i < NE2K_IO_SIZE; i++)
        byte_write(n, off + i, (uint8_t)(value >> (8 * i)));
}

const struct io_ops ne2k_io_ops = {
    .read = io_read,
    .write = io_write,
    .max_size = 4,
};

/* ---- Life cycle --------------------------------------------------------- */

void ne2k_chip_reset(struct ne2k *n)
{
    n->cr = CR_STP | 0x20;      /* stopped, remote DMA aborted, page 0 */
    n->isr = ISR_RST;
    n->imr = 0;
    n->dcr = DCR_LAS;
    n->tcr = TCR_LB_INTERNAL;   /* the datasheet's reset state: loopback */
    n->tsr = 0;
    n->rsr = 0;
    n->rbcr = 0;
    n->rsar = 0;
    update_irq(n);
}

void ne2k_core_init(struct ne2k *n, struct net_port *port, const uint8_t mac[6],
                    const struct logger *log, bool rtl8029)
{
    static const uint8_t def_mac[6] = NE2K_DEFAULT_MAC;
    n->log = log;
    n->port = port;
    n->rtl8029 = rtl8029;
    memcpy(n->mac, mac ? mac : def_mac, 6);
    /* NE2000 PROM: each MAC byte twice (the board wires the byte-wide
     * PROM to both halves of the word bus), 0x57 0x57 at word 14/15. */
    memset(n->prom, 0, sizeof(n->prom));
    for (unsigned i = 0; i < 6; i++)
        n->prom[2 * i] = n->prom[2 * i + 1] = n->mac[i];
    for (unsigned i = 28; i < 32; i++)
        n->prom[i] = 0x57;
    memcpy(n->par, n->mac, 6);
    ne2k_chip_reset(n);
    if (port)
        net_port_attach_nic(port, &nic_ops, n, rtl8029 ? "ne2k-pci (rtl8029)" : "ne2k-isa", n->mac);
}

void ne2k_core_fini(struct ne2k *n)
{
    if (n->port)
        net_port_detach_nic(n->port);
}

void ne2k_reset(struct ne2k *n)
{
    ne2k_chip_reset(n);
    if (n->port)
        net_port_rx_flush(n->port);
}

void ne2k_get_stats(const struct ne2k *n, struct ne2k_stats *out)
{
    *out = n->st;
}
