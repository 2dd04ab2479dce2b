/* A 16550A UART.
 *
 * Transmission is instantaneous: a byte written to THR goes to the chardev
 * at once and the transmitter is empty again, so THRE/TEMT read as 1
 * except for the instant in between (which is enough to give the PIC a new
 * edge for the next THRE interrupt).  Reception fills a 16-byte FIFO (one
 * holding register in 16450 mode); the host side is flow-controlled through
 * uart_can_receive, so host input never overruns, only loopback can.
 * The character timeout is modelled with a virtual-clock timer derived from
 * the divisor (115200 / divisor baud, 10 bits per character). */
#include "uart.h"

#include <stdlib.h>

#define UART_NREGS 8
#define UART_FIFO_SIZE 16
#define UART_BASE_BAUD 115200ull
#define UART_BITS_PER_CHAR 10ull
#define UART_TIMEOUT_CHARS 4ull

/* Register offsets. */
enum { REG_RBR_THR = 0, REG_IER = 1, REG_IIR_FCR = 2, REG_LCR = 3, REG_MCR = 4, REG_LSR = 5,
       REG_MSR = 6, REG_SCR = 7 };

#define IER_ERBFI 0x01  /* received data available / timeout */
#define IER_ETBEI 0x02  /* THR empty */
#define IER_ELSI  0x04  /* receiver line status */
#define IER_EDSSI 0x08  /* modem status */
#define IER_MASK  0x0F

#define IIR_NO_INT 0x01
#define IIR_MSI    0x00
#define IIR_THRI   0x02
#define IIR_RDI    0x04
#define IIR_RLSI   0x06
#define IIR_CTI    0x0C
#define IIR_FIFO   0xC0

#define FCR_ENABLE   0x01
#define FCR_CLEAR_RX 0x02
#define FCR_CLEAR_TX 0x04
#define FCR_DMA      0x08
#define FCR_TRIGGER  0xC0

#define LCR_DLAB 0x80

#define MCR_DTR  0x01
#define MCR_RTS  0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10
#define MCR_MASK 0x1F

#define LSR_DR      0x01
#define LSR_OE      0x02
#define LSR_PE      0x04
#define LSR_FE      0x08
#define LSR_BI      0x10
#define LSR_THRE    0x20
#define LSR_TEMT    0x40
#define LSR_FIFOERR 0x80
#define LSR_ERRORS  (LSR_OE | LSR_PE | LSR_FE | LSR_BI)

#define MSR_DCTS 0x01
#define MSR_DDSR 0x02
#define MSR_TERI 0x04
#define MSR_DDCD 0x08
#define MSR_CTS  0x10
#define MSR_DSR  0x20
#define MSR_RI   0x40
#define MSR_DCD  0x80
#define MSR_DELTAS 0x0F
/* Without loopback a connected terminal holds CTS, DSR and DCD. */
#define MSR_CONNECTED (MSR_CTS | MSR_DSR | MSR_DCD)

struct uart {
    struct iobus *pio;
    struct io_region region;
    struct irq irq;
    struct vclock *clock;
    struct vtimer cti_timer;
    struct chardev *chr;
    const struct logger *log;
    struct ratelimit rl;

    uint8_t rx[UART_FIFO_SIZE];     /* ring; capacity 1 in 16450 mode */
    unsigned rx_head, rx_count;
    uint8_t rbr_last;               /* what RBR reads when empty */
    uint16_t divisor;
    uint8_t ier, lcr, mcr, fcr, scr;
    uint8_t lsr_err;                /* OE/PE/FE/BI, cleared by reading LSR */
    uint8_t msr;                    /* lines (high nibble) and deltas */
    bool thr_ipending;              /* THRE interrupt latched */
    bool timeout_pending;           /* character timeout occurred */
    int irq_level;
};

static bool fifo_on(const struct uart *u) { return u->fcr & FCR_ENABLE; }

static unsigned rx_capacity(const struct uart *u) { return fifo_on(u) ? UART_FIFO_SIZE : 1; }

static unsigned rx_trigger(const struct uart *u)
{
    static const unsigned levels[4] = { 1, 4, 8, 14 };
    return levels[(u->fcr >> 6) & 3];
}

/* Highest-priority pending source, as IIR bits 0-3. */
static uint8_t iir_id(const struct uart *u)
{
    if ((u->ier & IER_ELSI) && (u->lsr_err & LSR_ERRORS))
        return IIR_RLSI;
    if (u->ier & IER_ERBFI) {
        if (fifo_on(u) && u->timeout_pending)
            return IIR_CTI;
        if (fifo_on(u) ? u->rx_count >= rx_trigger(u) : u->rx_count > 0)
            return IIR_RDI;
    }
    if ((u->ier & IER_ETBEI) && u->thr_ipending)
        return IIR_THRI;
    if ((u->ier & IER_EDSSI) && (u->msr & MSR_DELTAS))
        return IIR_MSI;
    return IIR_NO_INT;
}

/* On a PC the INTR pin reaches the PIC only through a gate driven by OUT2.
 * In loopback the OUT2 pin is forced inactive, which closes the gate too. */
static void update_irq(struct uart *u)
{
    int level = iir_id(u) != IIR_NO_INT && (u->mcr & MCR_OUT2) && !(u->mcr & MCR_LOOP);
    if (level != u->irq_level) {
        u->irq_level = level;
        irq_set(&u->irq, level);
    }
}

/* 4 character times at the programmed rate; divisor 0 acts as 1 so the
 * timer never gets a zero (or divide-by-zero) period. */
static uint64_t timeout_ns(const struct uart *u)
{
    uint64_t div = u->divisor ? u->divisor : 1;
    return vclock_ticks_to_ns(UART_TIMEOUT_CHARS * UART_BITS_PER_CHAR * div, UART_BASE_BAUD);
}

static void cti_restart(struct uart *u)
{
    if (fifo_on(u) && u->rx_count > 0)
        vtimer_mod(&u->cti_timer, vclock_ns(u->clock) + timeout_ns(u));
    else
        vtimer_del(&u->cti_timer);
}

static void cti_expired(void *opaque)
{
    struct uart *u = opaque;
    if (fifo_on(u) && u->rx_count > 0) {
        u->timeout_pending = true;
        update_irq(u);
    }
}

static void rx_clear(struct uart *u)
{
    u->rx_head = 0;
    u->rx_count = 0;
    u->timeout_pending = false;
    vtimer_del(&u->cti_timer);
}

/* One character arriving from the line (or from the transmitter in
 * loopback).  A full FIFO means overrun: in FIFO mode the new character
 * is lost, in 16450 mode it overwrites the unread one. */
static void rx_push(struct uart *u, uint8_t b)
{
    if (u->rx_count >= rx_capacity(u)) {
        u->lsr_err |= LSR_OE;
        if (!fifo_on(u))
            u->rx[u->rx_head % UART_FIFO_SIZE] = b;
        return;
    }
    u->rx[(u->rx_head + u->rx_count) % UART_FIFO_SIZE] = b;
    u->rx_count++;
}

static uint8_t rx_pop(struct uart *u)
{
    if (u->rx_count == 0)
        return u->rbr_last;
    uint8_t b = u->rx[u->rx_head % UART_FIFO_SIZE];
    u->rx_head = (u->rx_head + 1) % UART_FIFO_SIZE;
    u->rx_count--;
    u->rbr_last = b;
    /* A CPU read clears an occurred timeout and restarts the timer. */
    u->timeout_pending = false;
    cti_restart(u);
    return b;
}

size_t uart_can_receive(void *opaque)
{
    struct uart *u = opaque;
    if (u->mcr & MCR_LOOP)
        return 0;       /* the serial input is disconnected in loopback */
    return rx_capacity(u) - u->rx_count;
}

void uart_receive(void *opaque, const uint8_t *buf, size_t len)
{
    struct uart *u = opaque;
    if ((u->mcr & MCR_LOOP) || !buf || len == 0)
        return;
    for (size_t i = 0; i < len; i++)
        rx_push(u, buf[i]);
    cti_restart(u);
    update_irq(u);
}

static void transmit(struct uart *u, uint8_t b)
{
    /* Writing THR clears a THRE interrupt; the byte leaves at once and THR
     * is empty again.  Updating the line in between gives the PIC a fresh
     * edge for the next THRE interrupt. */
    u->thr_ipending = false;
    update_irq(u);
    if (u->mcr & MCR_LOOP) {
        rx_push(u, b);
        cti_restart(u);
    } else if (u->chr) {
        chardev_write(u->chr, &b, 1);
    }
    u->thr_ipending = true;
    update_irq(u);
}

/* MSR lines follow MCR in loopback; the delta bits record changes
 * (TERI only on RI's trailing edge). */
static void update_msr_lines(struct uart *u)
{
    uint8_t lines = MSR_CONNECTED;
    if (u->mcr & MCR_LOOP) {
        lines = (u->mcr & MCR_RTS ? MSR_CTS : 0) | (u->mcr & MCR_DTR ? MSR_DSR : 0) |
                (u->mcr & MCR_OUT1 ? MSR_RI : 0) | (u->mcr & MCR_OUT2 ? MSR_DCD : 0);
    }
    uint8_t old = u->msr & 0xF0;
    uint8_t changed = old ^ lines;
    uint8_t deltas = u->msr & MSR_DELTAS;
    if (changed & MSR_CTS)
        deltas |= MSR_DCTS;
    if (changed & MSR_DSR)
        deltas |= MSR_DDSR;
    if (changed & MSR_DCD)
        deltas |= MSR_DDCD;
    if ((old & MSR_RI) && !(lines & MSR_RI))
        deltas |= MSR_TERI;
    u->msr = lines | deltas;
}

static void write_fcr(struct uart *u, uint8_t v)
{
    bool was_on = fifo_on(u);
    if (!(v & FCR_ENABLE)) {
        /* The other bits are only programmed together with FCR0. */
        u->fcr = 0;
        if (was_on)
            rx_clear(u);
    } else {
        u->fcr = v & (FCR_ENABLE | FCR_DMA | FCR_TRIGGER);
        /* Switching between 16450 and FIFO mode empties the FIFOs. */
        if (!was_on || (v & FCR_CLEAR_RX))
            rx_clear(u);
        /* FCR_CLEAR_TX: the transmitter never holds data here. */
    }
    update_irq(u);
    if (u->chr)
        chardev_accept_input(u->chr);   /* capacity may have changed */
}

static void write_mcr(struct uart *u, uint8_t v)
{
    uint8_t old = u->mcr;
    u->mcr = v & MCR_MASK;
    update_msr_lines(u);
    update_irq(u);
    if ((old & MCR_LOOP) && !(u->mcr & MCR_LOOP) && u->chr)
        chardev_accept_input(u->chr);   /* the line is connected again */
}

static void write_ier(struct uart *u, uint8_t v)
{
    uint8_t old = u->ier;
    u->ier = v & IER_MASK;
    /* Enabling ETBEI while THR is empty (always, here) raises THRE at once:
     * Linux's start_tx relies on it. */
    if (!(old & IER_ETBEI) && (u->ier & IER_ETBEI))
        u->thr_ipending = true;
    update_irq(u);
}

static uint8_t read_iir(struct uart *u)
{
    uint8_t id = iir_id(u);
    if (id == IIR_THRI) {
        u->thr_ipending = false;    /* reading IIR acknowledges THRE */
        update_irq(u);
    }
    return id | (fifo_on(u) ? IIR_FIFO : 0);
}

static uint8_t read_lsr(struct uart *u)
{
    uint8_t v = u->lsr_err | LSR_THRE | LSR_TEMT;
    if (u->rx_count)
        v |= LSR_DR;
    /* Parity/framing/break are never generated, so the FIFO error bit
     * only ever reflects them in principle. */
    if (fifo_on(u) && (u->lsr_err & (LSR_PE | LSR_FE | LSR_BI)))
        v |= LSR_FIFOERR;
    u->lsr_err = 0;
    update_irq(u);
    return v;
}

static uint8_t read_msr(struct uart *u)
{
    uint8_t v = u->msr;
    u->msr &= (uint8_t)~MSR_DELTAS;
    update_irq(u);
    return v;
}

static uint64_t uart_read(void *opaque, uint64_t offset, unsigned size)
{
    struct uart *u = opaque;
    (void)size;
    bool dlab = u->lcr & LCR_DLAB;
    switch (offset) {
    case REG_RBR_THR:
        if (dlab)
            return u->divisor & 0xFF;
        else {
            uint8_t b = rx_pop(u);
            update_irq(u);
            if (u->chr)
                chardev_accept_input(u->chr);   /* room appeared */
            return b;
        }
    case REG_IER:
        return dlab ? u->divisor >> 8 : u->ier;
    case REG_IIR_FCR:
        return read_iir(u);
    case REG_LCR:
        return u->lcr;
    case REG_MCR:
        return u->mcr;
    case REG_LSR:
        return read_lsr(u);
    case REG_MSR:
        return read_msr(u);
    case REG_SCR:
        return u->scr;
    default:
        return 0xFF;
    }
}

static void uart_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    struct uart *u = opaque;
    uint8_t v = (uint8_t)value;
    (void)size;
    bool dlab = u->lcr & LCR_DLAB;
    switch (offset) {
    case REG_RBR_THR:
        if (dlab)
            u->divisor = (uint16_t)((u->divisor & 0xFF00) | v);
        else
            transmit(u, v);
        break;
    case REG_IER:
        if (dlab)
            u->divisor = (uint16_t)((u->divisor & 0x00FF) | (v << 8));
        else
            write_ier(u, v);
        break;
    case REG_IIR_FCR:
        write_fcr(u, v);
        break;
    case REG_LCR:
        u->lcr = v;
        break;
    case REG_MCR:
        write_mcr(u, v);
        break;
    case REG_LSR:
    case REG_MSR:
        guest_error(u->log, &u->rl, "uart: write 0x%02x to read-only %s ignored", v,
                    offset == REG_LSR ? "LSR" : "MSR");
        break;
    case REG_SCR:
        u->scr = v;
        break;
    default:
        break;
    }
}

static const struct io_ops uart_ops = {
    .read = uart_read,
    .write = uart_write,
    .max_size = 1,
};

void uart_reset(struct uart *u)
{
    /* The divisor latch keeps its value across a master reset. */
    u->ier = 0;
    u->lcr = 0;
    u->mcr = 0;
    u->fcr = 0;
    u->scr = 0;
    u->lsr_err = 0;
    u->msr = MSR_CONNECTED;
    u->thr_ipending = false;
    u->rbr_last = 0;
    rx_clear(u);
    update_irq(u);
    if (u->chr)
        chardev_accept_input(u->chr);
}

struct uart *uart_create(struct iobus *pio, uint16_t base, struct irq irq, struct vclock *clock,
                         struct chardev *chr, const struct logger *log)
{
    struct uart *u = calloc(1, sizeof(*u));
    if (!u)
        return NULL;
    u->pio = pio;
    u->irq = irq;
    u->clock = clock;
    u->chr = chr;
    u->log = log;
    u->divisor = 12;    /* 9600 baud until firmware programs it */
    vtimer_init(&u->cti_timer, clock, cti_expired, u);
    if (iobus_register(pio, &u->region, base, UART_NREGS, &uart_ops, u, "uart") != 0) {
        free(u);
        return NULL;
    }
    if (chr)
        chardev_set_handlers(chr, uart_can_receive, uart_receive, u);
    uart_reset(u);
    return u;
}

void uart_destroy(struct uart *u)
{
    if (!u)
        return;
    vtimer_del(&u->cti_timer);
    iobus_unmap(u->pio, &u->region);
    if (u->chr && u->chr->dev_opaque == u)
        chardev_set_handlers(u->chr, NULL, NULL, NULL);
    free(u);
}
