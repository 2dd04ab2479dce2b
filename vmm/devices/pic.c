/* The two Intel 8259A programmable interrupt controllers of a PC/AT and
 * the PIIX3 edge/level control registers (ELCR).
 *
 * Master at 0x20/0x21 drives the CPU's INTR pin; the slave at 0xA0/0xA1
 * drives master input IR2.  Everything follows the 8259A datasheet:
 * ICW1..ICW4 initialisation, OCW1 mask, OCW2 EOI/rotation commands, OCW3
 * read select, poll and special mask mode.  ELCR (0x4D0/0x4D1) makes
 * single inputs level-sensitive, as on the PIIX3 ISA bridge.
 *
 * Edge-triggered requests are latched in IRR on a low->high transition
 * and stay latched when the line drops again, so a device may pulse its
 * line (irq_pulse).  Level-triggered requests follow the line. */
#include "pic.h"

#include <stdint.h>
#include <stdlib.h>

#define PIC_MASTER_BASE 0x20
#define PIC_SLAVE_BASE  0xa0
#define ELCR_BASE       0x4d0
#define CASCADE_IRQ     2      /* master input wired to the slave's INT */

/* ELCR bits that PIIX3 hard-wires to edge: IRQ0, 1, 2 (timer, keyboard,
 * cascade) and IRQ8, 13 (RTC, FPU error). */
#define ELCR_MASTER_MASK 0xf8
#define ELCR_SLAVE_MASK  0xde

/* ICW1 bits */
#define ICW1_IC4  0x01
#define ICW1_SNGL 0x02
#define ICW1_LTIM 0x08
#define ICW1_SEL  0x10   /* D4=1 on A0=0 marks ICW1 */
/* ICW4 bits */
#define ICW4_UPM  0x01
#define ICW4_AEOI 0x02
#define ICW4_SFNM 0x10
/* OCW3 bits */
#define OCW3_SEL  0x08
#define OCW3_RIS  0x01
#define OCW3_RR   0x02
#define OCW3_P    0x04
#define OCW3_SMM  0x20
#define OCW3_ESMM 0x40

enum icw_state { ICW_DONE = 0, ICW_WANT2, ICW_WANT3, ICW_WANT4 };

struct pic_chip {
    uint8_t irr, isr, imr;
    uint8_t line;        /* input levels as last driven */
    uint8_t elcr;        /* PIIX3 level-trigger bits (reserved bits kept 0) */
    uint8_t elcr_mask;
    uint8_t base;        /* ICW2 with the low 3 bits cleared */
    uint8_t icw3;        /* master: inputs with a slave; slave: its ID */
    uint8_t lowest;      /* level with the lowest priority, 0..7 */
    enum icw_state init;
    bool master;
    bool ltim, single, want_icw4;
    bool aeoi, sfnm, mode8086;
    bool rotate_aeoi, smm, poll, read_isr;
};

struct pic {
    struct pic_chip chip[2];
    struct io_region regions[3];
    struct iobus *pio;
    const struct logger *log;
    struct ratelimit rl;
    void (*intr_cb)(void *opaque, int level);
    void *intr_opaque;
    bool intr;
};

/* ---- one chip ---------------------------------------------------------- */

static bool chip_is_level(const struct pic_chip *c, int irq)
{
    return c->ltim || (c->elcr & (1u << irq));
}

/* Priority rank of a level, 0 = highest: the level after `lowest`. */
static int chip_rank(const struct pic_chip *c, int irq)
{
    return (irq - c->lowest - 1) & 7;
}

/* The highest-priority level among `bits`, or -1. */
static int chip_highest(const struct pic_chip *c, uint8_t bits)
{
    for (int i = 1; i <= 8; i++) {
        int irq = (c->lowest + i) & 7;
        if (bits & (1u << irq))
            return irq;
    }
    return -1;
}

/* Does input irq lead to a slave (the master asks it for the vector)? */
static bool chip_is_cascade(const struct pic_chip *c, int irq)
{
    return c->master && !c->single && (c->icw3 & (1u << irq));
}

/* The request the chip would present on INTA now, or -1. */
static int chip_pending(const struct pic_chip *c)
{
    if (c->init != ICW_DONE)
        return -1;      /* no interrupts until the chip is programmed */
    uint8_t req = c->irr & ~c->imr;
    if (c->smm) {
        /* Special mask mode: an in-service level only blocks itself, so
         * a handler that masked its own level lets all others through. */
        return chip_highest(c, req & ~c->isr);
    }
    int r = chip_highest(c, req);
    if (r < 0)
        return -1;
    int s = chip_highest(c, c->isr);
    if (s < 0 || chip_rank(c, r) < chip_rank(c, s))
        return r;
    /* Special fully nested mode: a slave already in service may still
     * pass a higher-priority request of its own through the same input. */
    if (c->sfnm && r == s && chip_is_cascade(c, r))
        return r;
    return -1;
}

/* Drive input irq to level; edge inputs latch a rising edge. */
static void chip_input(struct pic_chip *c, int irq, bool level)
{
    uint8_t bit = (uint8_t)(1u << irq);
    bool was = c->line & bit;
    c->line = level ? (c->line | bit) : (c->line & ~bit);
    if (chip_is_level(c, irq))
        c->irr = level ? (c->irr | bit) : (c->irr & ~bit);
    else if (level && !was)
        c->irr |= bit;
}

/* Level-triggered inputs show their line in IRR (after ELCR/LTIM change). */
static void chip_resync_levels(struct pic_chip *c)
{
    for (int irq = 0; irq < 8; irq++) {
        uint8_t bit = (uint8_t)(1u << irq);
        if (chip_is_level(c, irq))
            c->irr = (c->line & bit) ? (c->irr | bit) : (c->irr & ~bit);
    }
}

/* The INTA (or poll) acceptance of request irq: IRR -> ISR. */
static void chip_accept(struct pic_chip *c, int irq)
{
    uint8_t bit = (uint8_t)(1u << irq);
    c->irr &= ~bit;
    /* A level input still high asks again at once; an edge input must
     * first go low. */
    if (chip_is_level(c, irq) && (c->line & bit))
        c->irr |= bit;
    if (c->aeoi) {
        if (c->rotate_aeoi)
            c->lowest = (uint8_t)irq;
    } else {
        c->isr |= bit;
    }
}

static void chip_icw1(struct pic_chip *c, uint8_t v)
{
    /* Datasheet: edge sense reset, IMR cleared, IR7 lowest priority,
     * special mask mode off, IRR selected, ICW4 functions zero if no
     * ICW4 follows.  In-service state is dropped as well. */
    c->ltim = v & ICW1_LTIM;
    c->single = v & ICW1_SNGL;
    c->want_icw4 = v & ICW1_IC4;
    c->irr = 0;
    c->isr = 0;
    c->imr = 0;
    c->lowest = 7;
    c->smm = false;
    c->poll = false;
    c->read_isr = false;
    c->rotate_aeoi = false;
    c->aeoi = false;
    c->sfnm = false;
    c->mode8086 = false;
    chip_resync_levels(c);
    c->init = ICW_WANT2;
}

static void chip_ocw2(struct pic_chip *c, uint8_t v)
{
    int level = v & 7;
    int s = chip_highest(c, c->isr);
    switch (v >> 5) {
    case 0: c->rotate_aeoi = false; break;
    case 4: c->rotate_aeoi = true; break;
    case 1:  /* non-specific EOI */
    case 5:  /* rotate on non-specific EOI */
        if (s >= 0) {
            c->isr &= (uint8_t)~(1u << s);
            if (v >> 5 == 5)
                c->lowest = (uint8_t)s;
        }
        break;
    case 3:  /* specific EOI */
        c->isr &= (uint8_t)~(1u << level);
        break;
    case 7:  /* rotate on specific EOI */
        c->isr &= (uint8_t)~(1u << level);
        c->lowest = (uint8_t)level;
        break;
    case 6:  /* set priority */
        c->lowest = (uint8_t)level;
        break;
    default: /* 2: no operation */
        break;
    }
}

static void chip_ocw3(struct pic_chip *c, uint8_t v)
{
    if (v & OCW3_ESMM)
        c->smm = v & OCW3_SMM;
    if (v & OCW3_RR)
        c->read_isr = v & OCW3_RIS;
    c->poll = v & OCW3_P;
}

/* ---- the pair ---------------------------------------------------------- */

/* Recompute the slave -> master IR2 wire and the INTR output. */
static void pic_update(struct pic *p)
{
    chip_input(&p->chip[0], CASCADE_IRQ, chip_pending(&p->chip[1]) >= 0);
    bool out = chip_pending(&p->chip[0]) >= 0;
    if (out != p->intr) {
        p->intr = out;
        if (p->intr_cb)
            p->intr_cb(p->intr_opaque, out);
    }
}

static void chip_icw_data(struct pic *p, struct pic_chip *c, uint8_t v)
{
    switch (c->init) {
    case ICW_WANT2:
        c->base = v & 0xf8;
        c->init = !c->single ? ICW_WANT3 : c->want_icw4 ? ICW_WANT4 : ICW_DONE;
        break;
    case ICW_WANT3:
        c->icw3 = c->master ? v : (v & 7);
        c->init = c->want_icw4 ? ICW_WANT4 : ICW_DONE;
        break;
    case ICW_WANT4:
        c->mode8086 = v & ICW4_UPM;
        c->aeoi = v & ICW4_AEOI;
        c->sfnm = v & ICW4_SFNM;
        c->init = ICW_DONE;
        break;
    default:
        break;
    }
    if (c->init == ICW_DONE && !c->mode8086)
        guest_error(p->log, &p->rl, "pic%d: MCS-80/85 mode not supported, using 8086 vectors",
                    c->master ? 0 : 1);
}

static void chip_write(struct pic *p, struct pic_chip *c, uint64_t offset, uint8_t v)
{
    if (offset == 0) {
        if (v & ICW1_SEL)
            chip_icw1(c, v);
        else if (v & OCW3_SEL)
            chip_ocw3(c, v);
        else
            chip_ocw2(c, v);
    } else if (c->init != ICW_DONE) {
        chip_icw_data(p, c, v);
    } else {
        c->imr = v;
    }
    pic_update(p);
}

/* Poll command: the read acts as an INTA for this chip alone. */
static uint8_t chip_poll_read(struct pic *p, struct pic_chip *c)
{
    c->poll = false;
    int irq = chip_pending(c);
    if (irq < 0)
        return 0;
    chip_accept(c, irq);
    pic_update(p);
    return (uint8_t)(0x80 | irq);
}

static uint8_t chip_read(struct pic *p, struct pic_chip *c, uint64_t offset)
{
    if (c->poll)
        return chip_poll_read(p, c);
    if (offset == 0)
        return c->read_isr ? c->isr : c->irr;
    return c->imr;
}

static uint64_t master_read(void *opaque, uint64_t offset, unsigned size)
{
    (void)size;
    struct pic *p = opaque;
    return chip_read(p, &p->chip[0], offset & 1);
}

static void master_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    (void)size;
    struct pic *p = opaque;
    chip_write(p, &p->chip[0], offset & 1, (uint8_t)value);
}

static uint64_t slave_read(void *opaque, uint64_t offset, unsigned size)
{
    (void)size;
    struct pic *p = opaque;
    return chip_read(p, &p->chip[1], offset & 1);
}

static void slave_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    (void)size;
    struct pic *p = opaque;
    chip_write(p, &p->chip[1], offset & 1, (uint8_t)value);
}

static uint64_t elcr_read(void *opaque, uint64_t offset, unsigned size)
{
    (void)size;
    struct pic *p = opaque;
    return p->chip[offset & 1].elcr;
}

static void elcr_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    (void)size;
    struct pic *p = opaque;
    struct pic_chip *c = &p->chip[offset & 1];
    uint8_t v = (uint8_t)value;
    if (v & ~c->elcr_mask)
        guest_error(p->log, &p->rl, "elcr%u: reserved bits 0x%02x ignored",
                    (unsigned)(offset & 1), v & ~c->elcr_mask);
    c->elcr = v & c->elcr_mask;
    chip_resync_levels(c);
    pic_update(p);
}

static const struct io_ops master_ops = { master_read, master_write, 1 };
static const struct io_ops slave_ops = { slave_read, slave_write, 1 };
static const struct io_ops elcr_ops = { elcr_read, elcr_write, 1 };

/* ---- public API -------------------------------------------------------- */

void pic_set_irq(void *opaque, int n, int level)
{
    struct pic *p = opaque;
    if (!p)
        return;
    if (n < 0 || n > 15) {
        log_guest(p->log, &p->rl, LOG_WARN, "pic: IRQ %d out of range ignored", n);
        return;
    }
    if (n == CASCADE_IRQ) {
        /* Master IR2 carries the slave's INT; nothing else may drive it. */
        log_guest(p->log, &p->rl, LOG_WARN, "pic: IRQ 2 is the cascade input, ignored");
        return;
    }
    chip_input(&p->chip[n >> 3], n & 7, level != 0);
    pic_update(p);
}

struct irq pic_irq_line(struct pic *p, int n)
{
    return (struct irq){ pic_set_irq, p, n };
}

void pic_set_intr_callback(struct pic *p, void (*cb)(void *opaque, int level), void *opaque)
{
    p->intr_cb = cb;
    p->intr_opaque = opaque;
    /* Start the receiver in sync with the current output. */
    if (cb)
        cb(opaque, p->intr);
}

bool pic_intr_pending(struct pic *p)
{
    return p->intr;
}

/* The slave's half of a cascaded INTA: its vector, or its IR7 vector if
 * its request vanished (the master keeps ISR2 set; the guest must EOI
 * the master only). */
static int slave_acknowledge(struct pic *p, int cas)
{
    struct pic_chip *s = &p->chip[1];
    if (!(s->single || s->icw3 == cas)) {
        /* No chip answers on these CAS lines: the data bus floats. */
        guest_error(p->log, &p->rl, "pic: no slave with ID %d (slave ID %u)", cas, s->icw3);
        return 0xff;
    }
    int irq = chip_pending(s);
    if (irq < 0)
        return s->base | 7;
    chip_accept(s, irq);
    /* If the slave still requests (auto-EOI with more pending), its INT
     * line is seen afresh by the master's edge detector. */
    if (chip_pending(s) >= 0)
        chip_input(&p->chip[0], CASCADE_IRQ, false);
    return s->base | irq;
}

int pic_acknowledge(struct pic *p)
{
    struct pic_chip *m = &p->chip[0];
    int irq = chip_pending(m);
    int vector;
    if (irq < 0) {
        vector = m->base | 7;  /* spurious: no ISR bit is set */
    } else {
        chip_accept(m, irq);
        vector = chip_is_cascade(m, irq) ? slave_acknowledge(p, irq) : (m->base | irq);
    }
    pic_update(p);
    return vector;
}

void pic_get_regs(struct pic *p, int chip, unsigned *irr, unsigned *isr, unsigned *imr)
{
    const struct pic_chip *c = (chip == 0 || chip == 1) ? &p->chip[chip] : NULL;
    if (irr)
        *irr = c ? c->irr : 0;
    if (isr)
        *isr = c ? c->isr : 0;
    if (imr)
        *imr = c ? c->imr : 0;
}

static void chip_reset(struct pic_chip *c, bool master)
{
    uint8_t line = c->line;   /* devices keep driving their lines */
    *c = (struct pic_chip){ 0 };
    c->line = line;
    c->master = master;
    c->elcr_mask = master ? ELCR_MASTER_MASK : ELCR_SLAVE_MASK;
    /* Programmed the way a PC BIOS leaves it; guests re-initialise. */
    c->base = master ? 0x08 : 0x70;
    c->icw3 = master ? (1u << CASCADE_IRQ) : CASCADE_IRQ;
    c->lowest = 7;
    c->mode8086 = true;
}

void pic_reset(struct pic *p)
{
    chip_reset(&p->chip[0], true);
    chip_reset(&p->chip[1], false);
    pic_update(p);
}

struct pic *pic_create(struct iobus *pio, const struct logger *log)
{
    struct pic *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->pio = pio;
    p->log = log;
    pic_reset(p);
    if (iobus_register(pio, &p->regions[0], PIC_MASTER_BASE, 2, &master_ops, p, "pic-master") ||
        iobus_register(pio, &p->regions[1], PIC_SLAVE_BASE, 2, &slave_ops, p, "pic-slave") ||
        iobus_register(pio, &p->regions[2], ELCR_BASE, 2, &elcr_ops, p, "elcr")) {
        log_error(log, "pic: cannot register I/O ports");
        pic_destroy(p);
        return NULL;
    }
    return p;
}

void pic_destroy(struct pic *p)
{
    if (!p)
        return;
    for (int i = 0; i < 3; i++)
        iobus_unmap(p->pio, &p->regions[i]);
    free(p);
}
