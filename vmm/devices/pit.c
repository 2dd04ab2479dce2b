/* The Intel 8254 programmable interval timer and PC port 0x61.
 *
 * Nothing here decrements a counter on a timer.  Each channel remembers
 * the tick of the virtual clock (PIT_FREQ_HZ) at which its counting
 * element (CE) was loaded; the count and the OUT pin are pure functions
 * of the elapsed ticks d.  Only channel 0 has a consumer that needs
 * events (IRQ0), so only it arms a vtimer, for the next OUT transition.
 *
 * Deliberate simplifications (no known guest depends on them):
 *  - a count is moved into the CE at the tick it is written, not at the
 *    next CLK edge, so null count clears immediately in modes 0/4;
 *  - read and write byte flip-flops are separate per channel (the real
 *    part shares one; the datasheet says not to interleave them);
 *  - mode 2 with a count of 1 (illegal per datasheet) keeps OUT high. */
#include "pit.h"

#include <stdbool.h>
#include <stdlib.h>

#define PIT_PORT_BASE     0x40
#define PIT_PORT_LEN      4
#define PIT_PORT_CONTROL  3
#define PORTB_PORT        0x61
#define PIT_CHANNELS      3

/* Port 0x61 bits. */
#define PORTB_GATE2       0x01
#define PORTB_SPEAKER     0x02
#define PORTB_REFRESH     0x10
#define PORTB_OUT2        0x20

/* DRAM refresh request toggles every 15.085 us on an AT; BIOSes busy-wait
 * on it for short delays, so it must move with virtual time. */
#define REFRESH_HALF_PERIOD_NS 15085ull

/* A guest that asks for a very fast periodic IRQ0 gets it no faster than
 * this: each edge costs a host timer callback. */
#define PIT_MIN_IRQ_INTERVAL_NS 20000ull

/* Control word fields. */
#define CW_SC(v)    (((v) >> 6) & 3)
#define CW_RW(v)    (((v) >> 4) & 3)
#define CW_MODE(v)  (((v) >> 1) & 7)
#define CW_BCD(v)   ((v) & 1)
#define SC_READBACK 3
/* Read-back command: bits are active low for COUNT and STATUS. */
#define RB_NO_COUNT  0x20
#define RB_NO_STATUS 0x10

enum { RW_LATCH = 0, RW_LSB = 1, RW_MSB = 2, RW_WORD = 3 };

struct pit_channel {
    /* As programmed by the control word. */
    uint8_t ctrl_mode;      /* M2..M0 as written (6/7 kept for status) */
    uint8_t mode;           /* effective mode 0..5 */
    uint8_t rw;             /* RW_LSB, RW_MSB or RW_WORD */
    bool bcd;
    bool gate;

    /* Count register (CR). */
    uint8_t cr_lsb;         /* first byte of a two-byte write */
    bool write_msb_next;
    bool cr_written;        /* a full count was written since the control word */
    uint32_t cr_count;      /* decoded: 1..65536 binary, 1..10000 BCD */
    bool null_count;        /* CR not yet moved into the CE */

    /* Counting element, derived from ticks. */
    bool loaded;            /* the CE holds a count (mode 1/5: triggered) */
    bool running;           /* false: gate stopped it, frozen_d holds d */
    uint32_t count;         /* initial count in the CE */
    uint64_t start_tick;    /* tick at which d was 0 (modular arithmetic) */
    uint64_t frozen_d;
    uint16_t idle_value;    /* what the CE reads while !loaded */

    /* Modes 2/3: a count written while counting is taken at a cycle
     * (mode 2) or half-cycle (mode 3) boundary. */
    bool pending;
    bool pending_into_low;  /* boundary is mode 3's high->low edge */
    uint64_t pending_tick;

    /* Output latches and the read flip-flop. */
    bool read_msb_next;
    bool count_latched;
    uint16_t latch;
    bool status_latched;
    uint8_t status;
};

struct pit {
    struct pit_channel ch[PIT_CHANNELS];
    struct vclock *clock;
    struct vtimer timer;        /* next OUT0 transition */
    struct irq irq0;
    int irq_level;              /* what we last drove on IRQ0 */
    uint64_t irq_last_tick;     /* OUT0 edges accounted up to this tick */
    uint64_t last_edge_ns;      /* last rising edge delivered on IRQ0 */
    bool speaker_data;
    struct iobus *pio;
    struct io_region pit_region;
    struct io_region portb_region;
    const struct logger *log;
    struct ratelimit rl;
};

/* ---- Counting element arithmetic ---- */

static uint32_t ch_modulus(const struct pit_channel *ch)
{
    return ch->bcd ? 10000 : 65536;
}

/* Mode 3 keeps OUT high for the larger half of an odd count. */
static uint32_t half_high(uint32_t n)
{
    return (n + 1) / 2;
}

static uint16_t bin_to_bcd(uint32_t v)
{
    return (uint16_t)((v / 1000 % 10) << 12 | (v / 100 % 10) << 8 | (v / 10 % 10) << 4 | v % 10);
}

static uint64_t ch_elapsed(const struct pit_channel *ch, uint64_t now)
{
    return ch->running ? now - ch->start_tick : ch->frozen_d;
}

static bool ch_counting(const struct pit_channel *ch)
{
    return ch->loaded && ch->running;
}

/* The CE as the guest would read it (BCD-encoded in BCD mode). */
static uint16_t ch_counter(const struct pit_channel *ch, uint64_t now)
{
    if (!ch->loaded)
        return ch->idle_value;
    uint64_t d = ch_elapsed(ch, now);
    uint32_t n = ch->count, m = ch_modulus(ch), v;
    switch (ch->mode) {
    case 2:
        v = n - (uint32_t)(d % n);
        break;
    case 3: {
        /* Decrements by two; odd counts load n-1 in both halves. */
        uint32_t p = (uint32_t)(d % n), h = half_high(n);
        uint32_t t = p < h ? p : p - h;
        v = (n & 1) ? n - 1 - 2 * t : n - 2 * t;
        break;
    }
    default:
        /* One-shot modes keep counting down through zero and wrap. */
        v = (uint32_t)((n + m - d % m) % m);
        break;
    }
    v %= m;     /* an initial count of 65536 (10000 BCD) reads as 0 */
    return ch->bcd ? bin_to_bcd(v) : (uint16_t)v;
}

static int ch_out(const struct pit_channel *ch, uint64_t now)
{
    if (!ch->loaded)
        return ch->mode == 0 ? 0 : 1;   /* level set by the control word */
    uint64_t d = ch_elapsed(ch, now);
    uint64_t n = ch->count;
    switch (ch->mode) {
    case 0:
    case 1:
        return d >= n;
    case 2:
        if (!ch->running)
            return 1;   /* gate low forces OUT high */
        return n < 2 || d % n != n - 1;
    case 3:
        if (!ch->running)
            return 1;
        return n < 2 || d % n < half_high((uint32_t)n);
    default:    /* 4, 5: one-tick low strobe at terminal count */
        return d != n;
    }
}

/* Is there a 0->1 transition of OUT in the ticks (t0, t1]?  Only for a
 * counting channel; t0 < t1 and both at or after start_tick. */
static bool ch_rising_in(const struct pit_channel *ch, uint64_t t0, uint64_t t1)
{
    uint64_t d0 = t0 - ch->start_tick, d1 = t1 - ch->start_tick;
    uint64_t n = ch->count;
    switch (ch->mode) {
    case 0:
    case 1:
        return d0 < n && n <= d1;
    case 2:
    case 3:
        return n >= 2 && d1 / n > d0 / n;
    default:
        return d0 < n + 1 && n + 1 <= d1;
    }
}

/* The tick of the next OUT transition after `now` that matters for IRQ0
 * (mode 2's one-tick low pulse is folded into its rising edge), or the
 * pending reload, or UINT64_MAX. */
static uint64_t ch_next_event(const struct pit_channel *ch, uint64_t now)
{
    if (!ch_counting(ch))
        return UINT64_MAX;
    uint64_t d = now - ch->start_tick, n = ch->count, next = UINT64_MAX;
    switch (ch->mode) {
    case 0:
    case 1:
        if (d < n)
            next = ch->start_tick + n;
        break;
    case 2:
        if (n >= 2)
            next = ch->start_tick + (d / n + 1) * n;
        break;
    case 3:
        if (n >= 2) {
            uint64_t p = d % n, h = half_high((uint32_t)n);
            next = now - p + (p < h ? h : n);
        }
        break;
    default:
        if (d < n)
            next = ch->start_tick + n;
        else if (d < n + 1)
            next = ch->start_tick + n + 1;
        break;
    }
    if (ch->pending && ch->pending_tick < next)
        next = ch->pending_tick;
    return next;
}

/* Moves the CR into the CE now and starts counting (if the gate lets). */
static void ch_load(struct pit_channel *ch, uint64_t now)
{
    ch->count = ch->cr_count;
    ch->loaded = true;
    ch->null_count = false;
    ch->pending = false;
    ch->start_tick = now;
    ch->frozen_d = 0;
    /* Modes 1 and 5 are started by the gate edge and ignore its level. */
    ch->running = ch->gate || ch->mode == 1 || ch->mode == 5;
}

static void ch_apply_pending(struct pit_channel *ch, uint64_t now)
{
    if (!ch->pending || !ch_counting(ch) || now < ch->pending_tick)
        return;
    ch->count = ch->cr_count;
    ch->start_tick = ch->pending_tick;
    if (ch->pending_into_low)
        ch->start_tick -= half_high(ch->count);   /* enter the low half */
    ch->pending = false;
    ch->null_count = false;
}

/* Modes 2/3, a count written while counting: find the boundary. */
static void ch_schedule_pending(struct pit_channel *ch, uint64_t now)
{
    uint64_t d = now - ch->start_tick, n = ch->count;
    if (ch->mode == 2) {
        ch->pending_tick = ch->start_tick + (d / n + 1) * n;
        ch->pending_into_low = false;
    } else {
        uint64_t p = d % n, h = half_high((uint32_t)n);
        ch->pending_into_low = p < h;
        ch->pending_tick = now - p + (p < h ? h : n);
    }
    ch->pending = true;
}

static void ch_set_gate(struct pit_channel *ch, bool level, uint64_t now)
{
    if (level == ch->gate)
        return;
    ch_apply_pending(ch, now);
    ch->gate = level;
    bool retriggers = ch->mode == 1 || ch->mode == 2 || ch->mode == 3 || ch->mode == 5;
    if (level) {
        if (retriggers) {
            if (ch->cr_written)
                ch_load(ch, now);   /* trigger: reload from the CR */
        } else if (ch->loaded && !ch->running) {
            ch->start_tick = now - ch->frozen_d;    /* resume */
            ch->running = true;
        }
    } else if (ch->mode != 1 && ch->mode != 5 && ch_counting(ch)) {
        ch->frozen_d = now - ch->start_tick;
        ch->running = false;
    }
}

/* ---- Channel 0 and IRQ0 ---- */

static uint64_t now_tick_of(uint64_t ns)
{
    return vclock_ns_to_ticks(ns, PIT_FREQ_HZ);
}

static void irq0_drive(struct pit *p, int level)
{
    irq_set(&p->irq0, level);
    p->irq_level = level;
}

/* Brings IRQ0 up to date with OUT0 at `now_ns`.  However many rising
 * edges passed since the last look, the PIC sees at most one: a host
 * that lagged gets one catch-up interrupt, not a burst. */
static void ch0_sync(struct pit *p, uint64_t now_ns)
{
    struct pit_channel *ch = &p->ch[0];
    uint64_t now = now_tick_of(now_ns);
    bool edge = false;
    if (ch->pending && ch_counting(ch) && now >= ch->pending_tick) {
        if (p->irq_last_tick < ch->pending_tick)
            edge |= ch_rising_in(ch, p->irq_last_tick, ch->pending_tick);
        p->irq_last_tick = ch->pending_tick;
        ch_apply_pending(ch, now);
    }
    if (ch_counting(ch) && p->irq_last_tick < now)
        edge |= ch_rising_in(ch, p->irq_last_tick, now);
    p->irq_last_tick = now;

    int out = ch_out(ch, now);
    if (edge) {
        if (p->irq_level)
            irq0_drive(p, 0);
        irq0_drive(p, 1);
        p->last_edge_ns = now_ns;
    }
    if (out != p->irq_level) {
        irq0_drive(p, out);
        if (out)
            p->last_edge_ns = now_ns;
    }
}

static void ch0_arm(struct pit *p, uint64_t now_ns)
{
    const struct pit_channel *ch = &p->ch[0];
    uint64_t next = ch_next_event(ch, now_tick_of(now_ns));
    if (next == UINT64_MAX) {
        vtimer_del(&p->timer);
        return;
    }
    uint64_t deadline = vclock_ticks_to_ns(next, PIT_FREQ_HZ);
    /* Relative to the last edge, not to now, so frequent port reads
     * cannot keep pushing the deadline away. */
    if ((ch->mode == 2 || ch->mode == 3) && deadline < p->last_edge_ns + PIT_MIN_IRQ_INTERVAL_NS)
        deadline = p->last_edge_ns + PIT_MIN_IRQ_INTERVAL_NS;
    vtimer_mod(&p->timer, deadline);
}

static void pit_timer_cb(void *opaque)
{
    struct pit *p = opaque;
    uint64_t now_ns = vclock_ns(p->clock);
    ch0_sync(p, now_ns);
    ch0_arm(p, now_ns);
}

/* Before any access: apply what time has done to every channel. */
static void pit_sync(struct pit *p, uint64_t now_ns)
{
    ch0_sync(p, now_ns);
    for (int i = 1; i < PIT_CHANNELS; i++)
        ch_apply_pending(&p->ch[i], now_tick_of(now_ns));
}

/* After any access: drive IRQ0 to the (possibly new) OUT0 and re-arm. */
static void pit_finish(struct pit *p, uint64_t now_ns)
{
    ch0_sync(p, now_ns);
    ch0_arm(p, now_ns);
}

/* ---- Guest interface: control word, counters ---- */

static uint8_t ch_status(const struct pit_channel *ch, uint64_t now)
{
    return (uint8_t)(ch_out(ch, now) << 7 | ch->null_count << 6 | ch->rw << 4 |
                     ch->ctrl_mode << 1 | ch->bcd);
}

static void ch_latch_count(struct pit_channel *ch, uint64_t now)
{
    if (ch->count_latched)
        return;     /* a second latch before the read is ignored */
    ch->latch = ch_counter(ch, now);
    ch->count_latched = true;
}

static void ch_latch_status(struct pit_channel *ch, uint64_t now)
{
    if (ch->status_latched)
        return;
    ch->status = ch_status(ch, now);
    ch->status_latched = true;
}

static void pit_read_back(struct pit *p, uint8_t val, uint64_t now)
{
    if (val & 1)
        guest_error(p->log, &p->rl, "pit: read-back 0x%02x with reserved bit 0 set", val);
    for (int i = 0; i < PIT_CHANNELS; i++) {
        if (!(val & (2u << i)))
            continue;
        if (!(val & RB_NO_COUNT))
            ch_latch_count(&p->ch[i], now);
        if (!(val & RB_NO_STATUS))
            ch_latch_status(&p->ch[i], now);
    }
}

static void ch_program(struct pit_channel *ch, uint8_t val, uint64_t now)
{
    /* The CE keeps its bits; they read back until a new count loads. */
    ch->idle_value = ch_counter(ch, now);
    ch->ctrl_mode = (uint8_t)CW_MODE(val);
    ch->mode = ch->ctrl_mode >= 6 ? ch->ctrl_mode - 4 : ch->ctrl_mode;
    ch->rw = (uint8_t)CW_RW(val);
    ch->bcd = CW_BCD(val);
    ch->loaded = false;
    ch->running = false;
    ch->pending = false;
    ch->cr_written = false;
    ch->null_count = true;
    ch->write_msb_next = false;
    ch->read_msb_next = false;
    ch->count_latched = false;
    ch->status_latched = false;
}

static void pit_write_control(struct pit *p, uint8_t val, uint64_t now)
{
    unsigned sc = CW_SC(val);
    if (sc == SC_READBACK) {    /* never an index: there is no channel 3 */
        pit_read_back(p, val, now);
        return;
    }
    struct pit_channel *ch = &p->ch[sc];
    if (CW_RW(val) == RW_LATCH)
        ch_latch_count(ch, now);
    else
        ch_program(ch, val, now);
}

static uint32_t ch_decode_count(struct pit *p, struct pit_channel *ch, uint16_t raw)
{
    uint32_t n = raw;
    if (ch->bcd) {
        n = (raw >> 12 & 15) * 1000u + (raw >> 8 & 15) * 100u + (raw >> 4 & 15) * 10u + (raw & 15);
        if (n > 9999) {
            guest_error(p->log, &p->rl, "pit: invalid BCD count 0x%04x", raw);
            n %= 10000;
        }
    }
    return n ? n : ch_modulus(ch);
}

static void ch_commit_count(struct pit *p, struct pit_channel *ch, uint16_t raw, uint64_t now)
{
    ch->cr_count = ch_decode_count(p, ch, raw);
    ch->cr_written = true;
    ch->null_count = true;
    switch (ch->mode) {
    case 0:
    case 4:
        ch_load(ch, now);
        break;
    case 2:
    case 3:
        if (!ch->loaded)
            ch_load(ch, now);
        else if (ch->running && !ch->pending)
            ch_schedule_pending(ch, now);
        /* gated off: the next gate rising edge loads the new count */
        break;
    default:
        break;  /* modes 1/5: the count waits for a gate trigger */
    }
}

static void ch_write_data(struct pit *p, struct pit_channel *ch, uint8_t val, uint64_t now)
{
    switch (ch->rw) {
    case RW_LSB:
        ch_commit_count(p, ch, val, now);
        break;
    case RW_MSB:
        ch_commit_count(p, ch, (uint16_t)(val << 8), now);
        break;
    default:
        if (!ch->write_msb_next) {
            ch->cr_lsb = val;
            ch->write_msb_next = true;
            /* Mode 0: the first byte stops counting and drops OUT. */
            if (ch->mode == 0 && ch->loaded) {
                ch->idle_value = ch_counter(ch, now);
                ch->loaded = false;
                ch->running = false;
            }
            break;
        }
        ch->write_msb_next = false;
        ch_commit_count(p, ch, (uint16_t)(ch->cr_lsb | val << 8), now);
        break;
    }
}

static uint8_t ch_read_data(struct pit_channel *ch, uint64_t now)
{
    if (ch->status_latched) {
        ch->status_latched = false;
        return ch->status;
    }
    bool latched = ch->count_latched;
    uint16_t v = latched ? ch->latch : ch_counter(ch, now);
    bool msb;
    switch (ch->rw) {
    case RW_LSB:
        msb = false;
        ch->count_latched = false;
        break;
    case RW_MSB:
        msb = true;
        ch->count_latched = false;
        break;
    default:
        msb = ch->read_msb_next;
        ch->read_msb_next = !msb;
        if (msb)
            ch->count_latched = false;
        break;
    }
    return (uint8_t)(msb ? v >> 8 : v);
}

static uint64_t pit_io_read(void *opaque, uint64_t offset, unsigned size)
{
    struct pit *p = opaque;
    (void)size;
    if (offset >= PIT_CHANNELS)
        return 0xff;    /* the control register is write-only (floats) */
    uint64_t now_ns = vclock_ns(p->clock);
    pit_sync(p, now_ns);
    uint8_t v = ch_read_data(&p->ch[offset], now_tick_of(now_ns));
    pit_finish(p, now_ns);
    return v;
}

static void pit_io_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    struct pit *p = opaque;
    (void)size;
    if (offset >= PIT_PORT_LEN)
        return;
    uint64_t now_ns = vclock_ns(p->clock);
    uint64_t now = now_tick_of(now_ns);
    pit_sync(p, now_ns);
    if (offset == PIT_PORT_CONTROL)
        pit_write_control(p, (uint8_t)value, now);
    else
        ch_write_data(p, &p->ch[offset], (uint8_t)value, now);
    pit_finish(p, now_ns);
}

/* ---- Port 0x61 ---- */

static uint64_t portb_read(void *opaque, uint64_t offset, unsigned size)
{
    struct pit *p = opaque;
    (void)offset;
    (void)size;
    uint64_t now_ns = vclock_ns(p->clock);
    pit_sync(p, now_ns);
    const struct pit_channel *ch2 = &p->ch[2];
    uint8_t v = 0;
    if (ch2->gate)
        v |= PORTB_GATE2;
    if (p->speaker_data)
        v |= PORTB_SPEAKER;
    if ((now_ns / REFRESH_HALF_PERIOD_NS) & 1)
        v |= PORTB_REFRESH;
    if (ch_out(ch2, now_tick_of(now_ns)))
        v |= PORTB_OUT2;
    return v;
}

static void portb_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    struct pit *p = opaque;
    (void)offset;
    (void)size;
    uint64_t now_ns = vclock_ns(p->clock);
    pit_sync(p, now_ns);
    p->speaker_data = value & PORTB_SPEAKER;
    ch_set_gate(&p->ch[2], value & PORTB_GATE2, now_tick_of(now_ns));
    pit_finish(p, now_ns);
}

static const struct io_ops pit_ops = { pit_io_read, pit_io_write, 1 };
static const struct io_ops portb_ops = { portb_read, portb_write, 1 };

/* ---- Lifecycle ---- */

void pit_reset(struct pit *p)
{
    uint64_t now_ns = vclock_ns(p->clock);
    vtimer_del(&p->timer);
    for (int i = 0; i < PIT_CHANNELS; i++) {
        /* Quiet until programmed: mode 0, no count, OUT low, no IRQ0. */
        p->ch[i] = (struct pit_channel){
            .rw = RW_WORD,
            .gate = i != 2,     /* only gate 2 is wired (port 0x61 bit 0) */
        };
    }
    p->speaker_data = false;
    if (p->irq_level)
        irq0_drive(p, 0);
    p->irq_last_tick = now_tick_of(now_ns);
    p->last_edge_ns = 0;
}

struct pit *pit_create(struct iobus *pio, struct vclock *clock, struct irq irq0,
                       const struct logger *log)
{
    struct pit *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->clock = clock;
    p->irq0 = irq0;
    p->pio = pio;
    p->log = log;
    vtimer_init(&p->timer, clock, pit_timer_cb, p);
    pit_reset(p);
    if (iobus_register(pio, &p->pit_region, PIT_PORT_BASE, PIT_PORT_LEN, &pit_ops, p, "pit") ||
        iobus_register(pio, &p->portb_region, PORTB_PORT, 1, &portb_ops, p, "port61")) {
        log_error(log, "pit: cannot register ports 0x40-0x43/0x61");
        pit_destroy(p);
        return NULL;
    }
    return p;
}

void pit_destroy(struct pit *p)
{
    if (!p)
        return;
    vtimer_del(&p->timer);
    iobus_unmap(p->pio, &p->pit_region);
    iobus_unmap(p->pio, &p->portb_region);
    free(p);
}

uint16_t pit_get_count(struct pit *p, int channel)
{
    if (channel < 0 || channel >= PIT_CHANNELS)
        return 0;
    uint64_t now_ns = vclock_ns(p->clock);
    pit_sync(p, now_ns);
    uint16_t v = ch_counter(&p->ch[channel], now_tick_of(now_ns));
    pit_finish(p, now_ns);
    return v;
}

int pit_get_out(struct pit *p, int channel)
{
    if (channel < 0 || channel >= PIT_CHANNELS)
        return -1;
    uint64_t now_ns = vclock_ns(p->clock);
    pit_sync(p, now_ns);
    int out = ch_out(&p->ch[channel], now_tick_of(now_ns));
    pit_finish(p, now_ns);
    return out;
}
