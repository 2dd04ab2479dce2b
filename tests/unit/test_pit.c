/* 8254 PIT and port 0x61, driven through the ports like a guest, with a
 * manual virtual clock and a fake IRQ0 input that records edges. */
#include <CUnit/CUnit.h>
#include <string.h>

#include "../../vmm/devices/pit.h"

#define MAX_EDGES 4096

struct recorder {
    int level;
    int calls;
    unsigned rising;
    unsigned falling;
    uint64_t rise_ns[MAX_EDGES];
    const struct vclock *clock;
};

struct fixture {
    struct iobus pio;
    struct vclock clock;
    struct logger log;
    struct recorder rec;
    struct pit *pit;
};

static void rec_irq(void *opaque, int n, int level)
{
    struct recorder *r = opaque;
    CU_ASSERT_EQUAL(n, 0);
    r->calls++;
    if (!r->level && level) {
        if (r->rising < MAX_EDGES)
            r->rise_ns[r->rising] = vclock_ns(r->clock);
        r->rising++;
    } else if (r->level && !level) {
        r->falling++;
    }
    r->level = level;
}

static void setup(struct fixture *f)
{
    memset(f, 0, sizeof(*f));
    f->log.level = LOG_ERROR;   /* the hostile tests provoke guest warnings */
    f->log.fd = 2;
    iobus_init(&f->pio, "pio", &f->log);
    vclock_init(&f->clock);
    vclock_set_manual(&f->clock, 0);
    f->rec.clock = &f->clock;
    struct irq irq0 = { rec_irq, &f->rec, 0 };
    f->pit = pit_create(&f->pio, &f->clock, irq0, &f->log);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f->pit);
}

static void teardown(struct fixture *f)
{
    pit_destroy(f->pit);
    CU_ASSERT_PTR_NULL(iobus_find(&f->pio, 0x40));
    CU_ASSERT_PTR_NULL(iobus_find(&f->pio, 0x61));
    CU_ASSERT_EQUAL(vclock_next_deadline(&f->clock), UINT64_MAX);
}

static void outb(struct fixture *f, uint16_t port, uint8_t v)
{
    iobus_write(&f->pio, port, 1, v);
}

static uint8_t inb(struct fixture *f, uint16_t port)
{
    return (uint8_t)iobus_read(&f->pio, port, 1);
}

static void program(struct fixture *f, uint8_t cw, uint16_t count)
{
    unsigned ch = cw >> 6;
    outb(f, 0x43, cw);
    outb(f, (uint16_t)(0x40 + ch), (uint8_t)count);
    outb(f, (uint16_t)(0x40 + ch), (uint8_t)(count >> 8));
}

static uint16_t read_word(struct fixture *f, unsigned ch)
{
    uint8_t lo = inb(f, (uint16_t)(0x40 + ch));
    uint8_t hi = inb(f, (uint16_t)(0x40 + ch));
    return (uint16_t)(lo | hi << 8);
}

static uint16_t latch_and_read(struct fixture *f, unsigned ch)
{
    outb(f, 0x43, (uint8_t)(ch << 6));
    return read_word(f, ch);
}

static uint64_t tick_ns(uint64_t t)
{
    return vclock_ticks_to_ns(t, PIT_FREQ_HZ);
}

/* Moves the clock to the start of absolute tick t (running timers). */
static void to_tick(struct fixture *f, uint64_t t)
{
    uint64_t ns = tick_ns(t);
    CU_ASSERT_FATAL(ns >= vclock_ns(&f->clock));
    vclock_advance(&f->clock, ns - vclock_ns(&f->clock));
}

static uint8_t read_back_status(struct fixture *f, unsigned ch)
{
    outb(f, 0x43, (uint8_t)(0xE0 | 2u << ch));  /* status only */
    return inb(f, (uint16_t)(0x40 + ch));
}

static void test_mode2_rate(void)
{
    struct fixture f;
    setup(&f);
    program(&f, 0x34, 1193);    /* ch0, lobyte/hibyte, mode 2: ~1000 Hz */
    CU_ASSERT_EQUAL(f.rec.level, 1);    /* mode 2 OUT is high from the start */
    unsigned base = f.rec.rising;
    for (int ms = 0; ms < 1000; ms++)
        vclock_advance(&f.clock, 1000000);
    CU_ASSERT_EQUAL(f.rec.rising - base, 1000);
    /* Edges land on the tick where the counter reloads. */
    CU_ASSERT_EQUAL(f.rec.rise_ns[base], tick_ns(1193));
    CU_ASSERT_EQUAL(f.rec.rise_ns[base + 999], tick_ns(1193ull * 1000));
    CU_ASSERT_EQUAL(f.rec.level, 1);
    CU_ASSERT_TRUE(vclock_next_deadline(&f.clock) <= tick_ns(1193ull * 1001));
    teardown(&f);
}

static void test_mode2_count_values(void)
{
    struct fixture f;
    setup(&f);
    program(&f, 0x34, 100);
    unsigned base = f.rec.rising;
    CU_ASSERT_EQUAL(pit_get_count(f.pit, 0), 100);
    to_tick(&f, 1);
    CU_ASSERT_EQUAL(latch_and_read(&f, 0), 99);
    to_tick(&f, 99);
    CU_ASSERT_EQUAL(latch_and_read(&f, 0), 1);
    CU_ASSERT_EQUAL(pit_get_out(f.pit, 0), 0);  /* the one-tick low pulse */
    to_tick(&f, 100);
    CU_ASSERT_EQUAL(latch_and_read(&f, 0), 100);
    CU_ASSERT_EQUAL(pit_get_out(f.pit, 0), 1);
    CU_ASSERT_EQUAL(f.rec.rising, base + 1);
    teardown(&f);
}

static void test_mode0_oneshot(void)
{
    struct fixture f;
    setup(&f);
    program(&f, 0x30, 1000);    /* ch0, mode 0 */
    CU_ASSERT_EQUAL(f.rec.level, 0);
    CU_ASSERT_EQUAL(pit_get_out(f.pit, 0), 0);
    vclock_advance(&f.clock, tick_ns(1000) - 1);
    CU_ASSERT_EQUAL(f.rec.rising, 0);
    CU_ASSERT_EQUAL(latch_and_read(&f, 0), 1);
    to_tick(&f, 1000);
    CU_ASSERT_EQUAL(f.rec.rising, 1);
    CU_ASSERT_EQUAL(f.rec.rise_ns[0], tick_ns(1000));
    CU_ASSERT_EQUAL(f.rec.level, 1);
    /* The counter wrapped and keeps counting down. */
    to_tick(&f, 1001);
    CU_ASSERT_EQUAL(latch_and_read(&f, 0), 0xFFFF);
    vclock_advance(&f.clock, 200000000);    /* 200 ms: no more edges */
    CU_ASSERT_EQUAL(f.rec.rising, 1);
    CU_ASSERT_EQUAL(f.rec.level, 1);
    CU_ASSERT_EQUAL(vclock_next_deadline(&f.clock), UINT64_MAX);
    /* A new count re-arms: OUT drops, rises again after the count. */
    program(&f, 0x30, 10);
    CU_ASSERT_EQUAL(f.rec.level, 0);
    CU_ASSERT_EQUAL(f.rec.falling, 1);
    vclock_advance(&f.clock, tick_ns(9));
    CU_ASSERT_EQUAL(f.rec.rising, 1);
    vclock_advance(&f.clock, tick_ns(2));
    CU_ASSERT_EQUAL(f.rec.rising, 2);
    teardown(&f);
}

static void test_mode0_first_byte_stops(void)
{
    struct fixture f;
    setup(&f);
    program(&f, 0x70, 500);     /* ch1, mode 0 */
    to_tick(&f, 100);
    CU_ASSERT_EQUAL(latch_and_read(&f, 1), 400);
    outb(&f, 0x41, 0x10);       /* first byte: counting stops */
    to_tick(&f, 200);
    CU_ASSERT_EQUAL(pit_get_count(f.pit, 1), 400);
    CU_ASSERT_EQUAL(pit_get_out(f.pit, 1), 0);
    outb(&f, 0x41, 0x00);       /* second byte loads 0x0010 */
    CU_ASSERT_EQUAL(pit_get_count(f.pit, 1), 0x10);
    to_tick(&f, 216);
    CU_ASSERT_EQUAL(pit_get_out(f.pit, 1), 1);
    teardown(&f);
}

static void test_mode3_square(void)
{
    struct fixture f;
    setup(&f);
    program(&f, 0x36, 1000);    /* ch0, mode 3, even count */
    unsigned base = f.rec.rising;
    CU_ASSERT_EQUAL(pit_get_count(f.pit, 0), 1000);
    to_tick(&f, 1);
    CU_ASSERT_EQUAL(latch_and_read(&f, 0), 998);    /* decrements by two */
    to_tick(&f, 499);
    CU_ASSERT_EQUAL(pit_get_out(f.pit, 0), 1);
    CU_ASSERT_EQUAL(f.rec.level, 1);
    to_tick(&f, 500);
    CU_ASSERT_EQUAL(pit_get_out(f.pit, 0), 0);
    CU_ASSERT_EQUAL(f.rec.level, 0);    /* IRQ0 follows OUT at the half period */
    CU_ASSERT_EQUAL(latch_and_read(&f, 0), 1000);
    to_tick(&f, 999);
    CU_ASSERT_EQUAL(f.rec.level, 0);
    to_tick(&f, 1000);
    CU_ASSERT_EQUAL(f.rec.level, 1);
    CU_ASSERT_EQUAL(f.rec.rising, base + 1);
    to_tick(&f, 10000);
    CU_ASSERT_EQUAL(f.rec.rising, base + 10);
    CU_ASSERT_EQUAL(f.rec.falling, 10);

    /* Odd count: high for (n+1)/2 ticks, low for (n-1)/2. */
    uint64_t s = 20000;
    to_tick(&f, s);
    program(&f, 0x36, 1001);
    CU_ASSERT_EQUAL(pit_get_count(f.pit, 0), 1000);
    to_tick(&f, s + 500);
    CU_ASSERT_EQUAL(pit_get_out(f.pit, 0), 1);
    CU_ASSERT_EQUAL(latch_and_read(&f, 0), 0);
    to_tick(&f, s + 501);
    CU_ASSERT_EQUAL(pit_get_out(f.pit, 0), 0);
    CU_ASSERT_EQUAL(latch_and_read(&f, 0), 1000);
    to_tick(&f, s + 1000);
    CU_ASSERT_EQUAL(pit_get_out(f.pit, 0), 0);
    unsigned r = f.rec.rising;
    to_tick(&f, s + 1001);
    CU_ASSERT_EQUAL(pit_get_out(f.pit, 0), 1);
    CU_ASSERT_EQUAL(f.rec.rising, r + 1);
    teardown(&f);
}

static void test_byte_access_modes(void)
{
    struct fixture f;
    setup(&f);
    outb(&f, 0x43, 0x50);       /* ch1, LSB only, mode 0 */
    outb(&f, 0x41, 0x34);
    CU_ASSERT_EQUAL(pit_get_count(f.pit, 1), 0x0034);
    CU_ASSERT_EQUAL(inb(&f, 0x41), 0x34);
    CU_ASSERT_EQUAL(inb(&f, 0x41), 0x34);   /* no flip-flop in LSB mode */
    outb(&f, 0x43, 0x60);       /* ch1, MSB only */
    outb(&f, 0x41, 0x12);
    CU_ASSERT_EQUAL(pit_get_count(f.pit, 1), 0x1200);
    CU_ASSERT_EQUAL(inb(&f, 0x41), 0x12);
    CU_ASSERT_EQUAL(inb(&f, 0x41), 0x12);
    outb(&f, 0x43, 0x70);       /* lobyte/hibyte */
    outb(&f, 0x41, 0xCD);
    outb(&f, 0x41, 0xAB);
    CU_ASSERT_EQUAL(pit_get_count(f.pit, 1), 0xABCD);
    CU_ASSERT_EQUAL(inb(&f, 0x41), 0xCD);
    CU_ASSERT_EQUAL(inb(&f, 0x41), 0xAB);
    CU_ASSERT_EQUAL(inb(&f, 0x41), 0xCD);
    /* A control word resets the read flip-flop mid-word. */
    outb(&f, 0x43, 0x70);
    outb(&f, 0x41, 0x02);
    outb(&f, 0x41, 0x01);
    CU_ASSERT_EQUAL(inb(&f, 0x41), 0x02);
    CU_ASSERT_EQUAL(inb(&f, 0x41), 0x01);
    /* Each channel has its own flip-flops. */
    program(&f, 0x30, 0x5566);
    outb(&f, 0x43, 0x70);
    outb(&f, 0x41, 0x11);       /* ch1 half written */
    outb(&f, 0x40, 0x77);       /* ch0 unaffected: this is its LSB */
    outb(&f, 0x40, 0x88);
    CU_ASSERT_EQUAL(pit_get_count(f.pit, 0), 0x8877);
    outb(&f, 0x41, 0x22);
    CU_ASSERT_EQUAL(pit_get_count(f.pit, 1), 0x2211);
    teardown(&f);
}

static void test_counter_latch(void)
{
    struct fixture f;
    setup(&f);
    program(&f, 0x34, 0x1000);
    to_tick(&f, 100);
    outb(&f, 0x43, 0x00);       /* latch ch0 */
    to_tick(&f, 300);
    outb(&f, 0x43, 0x00);       /* ignored: the first latch is unread */
    to_tick(&f, 400);
    CU_ASSERT_EQUAL(read_word(&f, 0), 0x1000 - 100);
    /* Counting went on underneath; the next read is live. */
    CU_ASSERT_EQUAL(read_word(&f, 0), 0x1000 - 400);
    CU_ASSERT_EQUAL(latch_and_read(&f, 0), 0x1000 - 400);
    /* Partially read latch holds across time until the MSB is read. */
    outb(&f, 0x43, 0x00);
    CU_ASSERT_EQUAL(inb(&f, 0x40), (0x1000 - 400) & 0xff);
    to_tick(&f, 0x500);
    CU_ASSERT_EQUAL(inb(&f, 0x40), (0x1000 - 400) >> 8);
    teardown(&f);
}

static void test_read_back_status(void)
{
    struct fixture f;
    setup(&f);
    outb(&f, 0x43, 0xB6);       /* ch2, lobyte/hibyte, mode 3, binary */
    /* OUT high, null count, RW=3, mode 3, binary */
    CU_ASSERT_EQUAL(read_back_status(&f, 2), 0xF6);
    outb(&f, 0x42, 0x00);
    CU_ASSERT_EQUAL(read_back_status(&f, 2), 0xF6);     /* half a count */
    outb(&f, 0x42, 0x10);
    /* Gate 2 is low: the count is in the CE but frozen, OUT high. */
    CU_ASSERT_EQUAL(read_back_status(&f, 2), 0xB6);

    program(&f, 0x30, 50);      /* ch0 mode 0: OUT low, count loaded */
    CU_ASSERT_EQUAL(read_back_status(&f, 0), 0x30);
    to_tick(&f, 50);
    CU_ASSERT_EQUAL(read_back_status(&f, 0), 0xB0);

    outb(&f, 0x43, 0x7D);       /* ch1, word, mode 6 (= 2), BCD */
    CU_ASSERT_EQUAL(read_back_status(&f, 1), 0xFD);

    /* Status and count latched together: status first, then the count. */
    program(&f, 0x74, 0x2000);
    to_tick(&f, 60);
    outb(&f, 0x43, 0xC4);       /* count + status, ch1 */
    to_tick(&f, 80);
    CU_ASSERT_EQUAL(inb(&f, 0x41), 0xB4);
    CU_ASSERT_EQUAL(read_word(&f, 1), 0x2000 - 10);
    /* All channels at once; a second read-back does not overwrite. */
    outb(&f, 0x43, 0xCE);
    to_tick(&f, 90);
    outb(&f, 0x43, 0xCE);
    CU_ASSERT_EQUAL(inb(&f, 0x40), 0xB0);
    CU_ASSERT_EQUAL(read_word(&f, 0), (uint16_t)(50 - 80));
    CU_ASSERT_EQUAL(inb(&f, 0x41), 0xB4);
    CU_ASSERT_EQUAL(read_word(&f, 1), 0x2000 - 30);
    CU_ASSERT_EQUAL(inb(&f, 0x42), 0xB6);
    CU_ASSERT_EQUAL(read_word(&f, 2), 0x1000);
    /* Count-only read-back, then live again. */
    outb(&f, 0x43, 0xD2);
    to_tick(&f, 100);
    CU_ASSERT_EQUAL(read_word(&f, 0), (uint16_t)(50 - 90));
    CU_ASSERT_EQUAL(read_word(&f, 0), (uint16_t)(50 - 100));
    teardown(&f);
}

static void test_bcd(void)
{
    struct fixture f;
    setup(&f);
    program(&f, 0x71, 0x0100);  /* ch1, mode 0, BCD 100 */
    CU_ASSERT_EQUAL(pit_get_count(f.pit, 1), 0x0100);
    to_tick(&f, 1);
    CU_ASSERT_EQUAL(latch_and_read(&f, 1), 0x0099);
    to_tick(&f, 58);
    CU_ASSERT_EQUAL(latch_and_read(&f, 1), 0x0042);
    to_tick(&f, 100);
    CU_ASSERT_EQUAL(latch_and_read(&f, 1), 0x0000);
    CU_ASSERT_EQUAL(pit_get_out(f.pit, 1), 1);
    to_tick(&f, 101);
    CU_ASSERT_EQUAL(latch_and_read(&f, 1), 0x9999);

    /* BCD count 0 means 10000: mode 2 on ch0 then has a 10000-tick period. */
    uint64_t s = 200;
    to_tick(&f, s);
    program(&f, 0x35, 0x0000);
    unsigned r = f.rec.rising;
    CU_ASSERT_EQUAL(pit_get_count(f.pit, 0), 0x0000);
    to_tick(&f, s + 1);
    CU_ASSERT_EQUAL(latch_and_read(&f, 0), 0x9999);
    to_tick(&f, s + 9999);
    CU_ASSERT_EQUAL(f.rec.rising, r);
    to_tick(&f, s + 10000);
    CU_ASSERT_EQUAL(f.rec.rising, r + 1);
    to_tick(&f, s + 50000);
    CU_ASSERT_EQUAL(f.rec.rising, r + 5);

    /* Binary count 0 means 65536 (the 18.2 Hz BIOS tick). */
    s = 60000;
    to_tick(&f, s);
    program(&f, 0x34, 0x0000);
    r = f.rec.rising;
    to_tick(&f, s + 65535);
    CU_ASSERT_EQUAL(f.rec.rising, r);
    CU_ASSERT_EQUAL(latch_and_read(&f, 0), 1);
    to_tick(&f, s + 65536);
    CU_ASSERT_EQUAL(f.rec.rising, r + 1);
    teardown(&f);
}

static void test_gate2_port61(void)
{
    struct fixture f;
    setup(&f);
    CU_ASSERT_EQUAL(inb(&f, 0x61) & 0x03, 0);
    program(&f, 0xB6, 1000);    /* ch2, mode 3: the speaker tone */
    CU_ASSERT_EQUAL(inb(&f, 0x61) & 0x20, 0x20);    /* OUT2 high */
    to_tick(&f, 700);
    CU_ASSERT_EQUAL(pit_get_count(f.pit, 2), 1000);   /* gate low: frozen */
    CU_ASSERT_EQUAL(inb(&f, 0x61) & 0x20, 0x20);

    outb(&f, 0x61, 0x03);       /* gate on, speaker on */
    CU_ASSERT_EQUAL(inb(&f, 0x61) & 0x03, 0x03);
    to_tick(&f, 700 + 499);
    CU_ASSERT_EQUAL(inb(&f, 0x61) & 0x20, 0x20);
    to_tick(&f, 700 + 500);
    CU_ASSERT_EQUAL(inb(&f, 0x61) & 0x20, 0);
    CU_ASSERT_EQUAL(latch_and_read(&f, 2), 1000);
    to_tick(&f, 700 + 600);
    CU_ASSERT_EQUAL(latch_and_read(&f, 2), 800);
    outb(&f, 0x61, 0x02);       /* gate off: OUT high at once, counter stops */
    CU_ASSERT_EQUAL(inb(&f, 0x61) & 0x23, 0x22);
    to_tick(&f, 2000);
    CU_ASSERT_EQUAL(latch_and_read(&f, 2), 800);
    outb(&f, 0x61, 0x01);       /* rising gate reloads the full count */
    CU_ASSERT_EQUAL(latch_and_read(&f, 2), 1000);
    to_tick(&f, 2000 + 500);
    CU_ASSERT_EQUAL(inb(&f, 0x61) & 0x20, 0);
    CU_ASSERT_EQUAL(f.rec.calls, 0);    /* channel 2 never touches IRQ0 */

    /* Mode 0 on ch2: gate low suspends, high resumes where it was. */
    outb(&f, 0x61, 0x00);
    program(&f, 0xB0, 300);
    outb(&f, 0x61, 0x01);
    to_tick(&f, 2600);
    outb(&f, 0x61, 0x00);
    CU_ASSERT_EQUAL(latch_and_read(&f, 2), 200);
    to_tick(&f, 5000);
    CU_ASSERT_EQUAL(latch_and_read(&f, 2), 200);
    CU_ASSERT_EQUAL(inb(&f, 0x61) & 0x20, 0);
    outb(&f, 0x61, 0x01);
    to_tick(&f, 5199);
    CU_ASSERT_EQUAL(inb(&f, 0x61) & 0x20, 0);
    to_tick(&f, 5200);
    CU_ASSERT_EQUAL(inb(&f, 0x61) & 0x20, 0x20);

    /* Mode 1: the count waits for a gate trigger, OUT low for n ticks. */
    outb(&f, 0x61, 0x00);
    program(&f, 0xB2, 100);
    to_tick(&f, 6000);
    CU_ASSERT_EQUAL(inb(&f, 0x61) & 0x20, 0x20);
    CU_ASSERT_EQUAL(read_back_status(&f, 2) & 0x40, 0x40);  /* null count */
    outb(&f, 0x61, 0x01);
    CU_ASSERT_EQUAL(inb(&f, 0x61) & 0x20, 0);
    CU_ASSERT_EQUAL(read_back_status(&f, 2) & 0x40, 0);
    to_tick(&f, 6100);
    CU_ASSERT_EQUAL(inb(&f, 0x61) & 0x20, 0x20);
    outb(&f, 0x61, 0x00);       /* retrigger */
    outb(&f, 0x61, 0x01);
    CU_ASSERT_EQUAL(inb(&f, 0x61) & 0x20, 0);

    /* Mode 5: strobe n ticks after the trigger. */
    outb(&f, 0x61, 0x00);
    program(&f, 0xBA, 10);
    to_tick(&f, 7000);
    outb(&f, 0x61, 0x01);
    to_tick(&f, 7009);
    CU_ASSERT_EQUAL(inb(&f, 0x61) & 0x20, 0x20);
    to_tick(&f, 7010);
    CU_ASSERT_EQUAL(inb(&f, 0x61) & 0x20, 0);
    to_tick(&f, 7011);
    CU_ASSERT_EQUAL(inb(&f, 0x61) & 0x20, 0x20);

    /* Mode 2: gate low during the low pulse sets OUT high at once. */
    program(&f, 0xB4, 10);
    to_tick(&f, 7011 + 9);
    CU_ASSERT_EQUAL(inb(&f, 0x61) & 0x20, 0);
    outb(&f, 0x61, 0x00);
    CU_ASSERT_EQUAL(inb(&f, 0x61) & 0x20, 0x20);
    CU_ASSERT_EQUAL(latch_and_read(&f, 2), 1);
    teardown(&f);
}

static void test_refresh_bit(void)
{
    struct fixture f;
    setup(&f);
    vclock_advance(&f.clock, 1000);
    uint8_t a = inb(&f, 0x61) & 0x10;
    vclock_advance(&f.clock, 15085);
    uint8_t b = inb(&f, 0x61) & 0x10;
    vclock_advance(&f.clock, 15085);
    uint8_t c = inb(&f, 0x61) & 0x10;
    CU_ASSERT_NOT_EQUAL(a, b);
    CU_ASSERT_EQUAL(a, c);
    /* A BIOS-style wait: count toggles over 1 ms of virtual time. */
    unsigned toggles = 0;
    uint8_t prev = inb(&f, 0x61) & 0x10;
    for (int i = 0; i < 1000; i++) {
        vclock_advance(&f.clock, 1000);
        uint8_t cur = inb(&f, 0x61) & 0x10;
        toggles += cur != prev;
        prev = cur;
    }
    CU_ASSERT_TRUE(toggles >= 65 && toggles <= 67);
    /* Only bits 0 and 1 are writable; 2, 3, 6, 7 read as 0. */
    outb(&f, 0x61, 0xFF);
    CU_ASSERT_EQUAL(inb(&f, 0x61) & 0xCF, 0x03);
    teardown(&f);
}

static void test_mode2_new_count_at_cycle_end(void)
{
    struct fixture f;
    setup(&f);
    program(&f, 0x34, 1000);
    unsigned base = f.rec.rising;
    to_tick(&f, 300);
    outb(&f, 0x40, 500 & 0xff);
    outb(&f, 0x40, 500 >> 8);
    CU_ASSERT_EQUAL(read_back_status(&f, 0) & 0x40, 0x40);  /* null count until reload */
    CU_ASSERT_EQUAL(latch_and_read(&f, 0), 700);             /* current cycle continues */
    to_tick(&f, 1600);
    CU_ASSERT_EQUAL(f.rec.rising, base + 2);
    CU_ASSERT_EQUAL(f.rec.rise_ns[base], tick_ns(1000));
    CU_ASSERT_EQUAL(f.rec.rise_ns[base + 1], tick_ns(1500));
    CU_ASSERT_EQUAL(read_back_status(&f, 0) & 0x40, 0);
    teardown(&f);
}

static void test_mode4_strobe(void)
{
    struct fixture f;
    setup(&f);
    program(&f, 0x38, 200);     /* ch0, mode 4 */
    CU_ASSERT_EQUAL(f.rec.level, 1);
    unsigned r = f.rec.rising;
    to_tick(&f, 200);
    CU_ASSERT_EQUAL(f.rec.level, 0);
    to_tick(&f, 201);
    CU_ASSERT_EQUAL(f.rec.rising, r + 1);
    vclock_advance(&f.clock, 100000000);
    CU_ASSERT_EQUAL(f.rec.rising, r + 1);
    teardown(&f);
}

/* A host that fell far behind gets one catch-up edge, not a burst, and
 * the timer is re-armed for the next future edge. */
static void test_no_backlog_burst(void)
{
    struct fixture f;
    setup(&f);
    program(&f, 0x34, 1193);
    unsigned base = f.rec.rising;
    to_tick(&f, 1193);
    CU_ASSERT_EQUAL(f.rec.rising, base + 1);
    vclock_set_manual(&f.clock, 1000000000);    /* 1 s late, timers not run */
    vclock_run_timers(&f.clock);
    CU_ASSERT_EQUAL(f.rec.rising, base + 2);
    uint64_t next = vclock_next_deadline(&f.clock);
    CU_ASSERT_TRUE(next > 1000000000 && next <= 1000000000 + 1000000);
    vclock_advance(&f.clock, 10000000);
    CU_ASSERT_TRUE(f.rec.rising >= base + 11 && f.rec.rising <= base + 13);
    teardown(&f);
}

/* A tiny periodic count cannot make the host fire a timer per tick. */
static void test_fast_rate_capped(void)
{
    struct fixture f;
    setup(&f);
    program(&f, 0x34, 2);
    unsigned base = f.rec.rising;
    vclock_advance(&f.clock, 1000000);
    unsigned n = f.rec.rising - base;
    CU_ASSERT_TRUE(n >= 45 && n <= 51);
    /* A polling guest sees edges as it looks (its own exits pace them),
     * and its reads never push the timer away. */
    base = f.rec.rising;
    for (int i = 0; i < 1000; i++) {
        vclock_advance(&f.clock, 1000);
        (void)inb(&f, 0x40);
    }
    n = f.rec.rising - base;
    CU_ASSERT_TRUE(n >= 45 && n <= 1001);
    teardown(&f);
}

static void test_hostile(void)
{
    struct fixture f;
    setup(&f);
    /* Never-programmed channels read defined values and raise nothing. */
    for (uint16_t port = 0x40; port <= 0x42; port++)
        for (int i = 0; i < 3; i++)
            CU_ASSERT_EQUAL(inb(&f, port), 0);
    CU_ASSERT_EQUAL(inb(&f, 0x43), 0xFF);   /* control register is write-only */
    CU_ASSERT_EQUAL(iobus_read(&f.pio, 0x40, 4), 0xFF000000u);
    CU_ASSERT_EQUAL(pit_get_count(f.pit, 3), 0);
    CU_ASSERT_EQUAL(pit_get_count(f.pit, -1), 0);
    CU_ASSERT_EQUAL(pit_get_out(f.pit, 3), -1);
    CU_ASSERT_EQUAL(pit_get_out(f.pit, 0), 0);
    CU_ASSERT_EQUAL(f.rec.calls, 0);

    /* SC=3 with nothing selected or nothing to latch is a no-op. */
    program(&f, 0x34, 1000);
    uint8_t st = read_back_status(&f, 0);
    outb(&f, 0x43, 0xFF);
    outb(&f, 0x43, 0xF1);
    outb(&f, 0x43, 0xC0);
    outb(&f, 0x43, 0xC1);
    CU_ASSERT_EQUAL(read_back_status(&f, 0), st);
    CU_ASSERT_EQUAL(latch_and_read(&f, 0), 1000);
    /* Invalid BCD digits do not escape the 4-digit range. */
    program(&f, 0x71, 0xFFFF);
    to_tick(&f, 5);
    uint16_t v = latch_and_read(&f, 1);
    for (int d = 0; d < 16; d += 4)
        CU_ASSERT_TRUE(((v >> d) & 15) <= 9);
    /* Word-sized port writes split into bytes like on ISA. */
    outb(&f, 0x43, 0x70);
    iobus_write(&f.pio, 0x41, 2, 0x0000);   /* 0x41 then 0x42 */
    CU_ASSERT_EQUAL(read_back_status(&f, 1) & 0x40, 0x40);

    /* Every control word followed by junk, over time: no crash, and the
     * reset state is clean afterwards. */
    uint32_t x = 12345;
    for (int cw = 0; cw < 256; cw++) {
        outb(&f, 0x43, (uint8_t)cw);
        for (int k = 0; k < 6; k++) {
            x = x * 1103515245u + 12345u;
            uint16_t port = (uint16_t)(0x40 + (x >> 16) % 4);
            if ((x >> 8) & 1)
                outb(&f, port, (uint8_t)(x >> 24));
            else
                (void)inb(&f, port);
        }
        outb(&f, 0x61, (uint8_t)x);
        vclock_advance(&f.clock, (x >> 12) % 200000);
    }
    for (int i = 0; i < 3; i++)
        CU_ASSERT_TRUE(pit_get_out(f.pit, i) == 0 || pit_get_out(f.pit, i) == 1);
    pit_reset(f.pit);
    CU_ASSERT_EQUAL(f.rec.level, 0);
    CU_ASSERT_EQUAL(vclock_next_deadline(&f.clock), UINT64_MAX);
    CU_ASSERT_EQUAL(inb(&f, 0x61) & 0x23, 0);
    vclock_advance(&f.clock, 100000000);
    CU_ASSERT_EQUAL(f.rec.level, 0);
    teardown(&f);
}

void suite_pit(void)
{
    CU_pSuite s = CU_add_suite("pit", NULL, NULL);
    CU_add_test(s, "mode 2 at 1000 Hz: N edges in N ms", test_mode2_rate);
    CU_add_test(s, "mode 2 count values and low pulse", test_mode2_count_values);
    CU_add_test(s, "mode 0 one-shot raises once", test_mode0_oneshot);
    CU_add_test(s, "mode 0 first byte stops counting", test_mode0_first_byte_stops);
    CU_add_test(s, "mode 3 square wave, even and odd", test_mode3_square);
    CU_add_test(s, "LSB/MSB/word access and flip-flops", test_byte_access_modes);
    CU_add_test(s, "counter latch freezes the read value", test_counter_latch);
    CU_add_test(s, "read-back status and count", test_read_back_status);
    CU_add_test(s, "BCD counting and count 0", test_bcd);
    CU_add_test(s, "gate 2 via port 0x61, OUT2 at bit 5", test_gate2_port61);
    CU_add_test(s, "refresh toggle bit", test_refresh_bit);
    CU_add_test(s, "mode 2 new count at cycle end", test_mode2_new_count_at_cycle_end);
    CU_add_test(s, "mode 4 software strobe", test_mode4_strobe);
    CU_add_test(s, "host lag: one catch-up edge", test_no_backlog_burst);
    CU_add_test(s, "tiny periodic count is rate capped", test_fast_rate_capped);
    CU_add_test(s, "hostile sequences", test_hostile);
}
