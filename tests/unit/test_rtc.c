/* MC146818 RTC: driven through ports 0x70/0x71 like a guest, with a manual
 * virtual clock and a fixed wall-clock base of 2026-11-25 10:59:58 UTC
 * (a Wednesday: weekday register 4). */
#include <CUnit/CUnit.h>
#include <stdbool.h>
#include <stdlib.h>

#include "../../vmm/devices/rtc.h"

#define BASE_TIME ((time_t)1795604398)  /* 2026-11-25 10:59:58 UTC */
#define MS 1000000ull
#define US 1000ull

struct fixture {
    struct iobus pio;
    struct vclock clock;
    struct rtc *rtc;
    int level;
    int edges;
};

static void irq_cb(void *opaque, int n, int level)
{
    struct fixture *f = opaque;
    (void)n;
    if (level && !f->level)
        f->edges++;
    f->level = level;
}

static struct fixture *setup(void)
{
    struct fixture *f = calloc(1, sizeof(*f));
    iobus_init(&f->pio, "pio", NULL);
    vclock_init(&f->clock);
    vclock_set_manual(&f->clock, 0);
    struct irq irq8 = { irq_cb, f, 8 };
    f->rtc = rtc_create(&f->pio, &f->clock, irq8, BASE_TIME, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f->rtc);
    return f;
}

static void teardown(struct fixture *f)
{
    rtc_destroy(f->rtc);
    free(f);
}

static uint8_t rd(struct fixture *f, uint8_t index)
{
    iobus_write(&f->pio, 0x70, 1, index);
    return (uint8_t)iobus_read(&f->pio, 0x71, 1);
}

static void wr(struct fixture *f, uint8_t index, uint8_t v)
{
    iobus_write(&f->pio, 0x70, 1, index);
    iobus_write(&f->pio, 0x71, 1, v);
}

static void advance(struct fixture *f, uint64_t ns)
{
    vclock_advance(&f->clock, ns);
}

/* Advances to absolute virtual time t. */
static void advance_to(struct fixture *f, uint64_t t)
{
    CU_ASSERT_FATAL(t >= vclock_ns(&f->clock));
    vclock_advance(&f->clock, t - vclock_ns(&f->clock));
}

/* Bytes of registers 0,2,4,6,7,8,9 and 0x32. */
static void expect_time(struct fixture *f, uint8_t sec, uint8_t min, uint8_t hour, uint8_t wday,
                        uint8_t mday, uint8_t mon, uint8_t year, uint8_t century)
{
    CU_ASSERT_EQUAL(rd(f, 0x00), sec);
    CU_ASSERT_EQUAL(rd(f, 0x02), min);
    CU_ASSERT_EQUAL(rd(f, 0x04), hour);
    CU_ASSERT_EQUAL(rd(f, 0x06), wday);
    CU_ASSERT_EQUAL(rd(f, 0x07), mday);
    CU_ASSERT_EQUAL(rd(f, 0x08), mon);
    CU_ASSERT_EQUAL(rd(f, 0x09), year);
    CU_ASSERT_EQUAL(rd(f, 0x32), century);
}

/* Sets the date and time the way an OS does: SET, write, clear SET.
 * Values are bytes in the current format. */
static void set_time(struct fixture *f, uint8_t sec, uint8_t min, uint8_t hour, uint8_t wday,
                     uint8_t mday, uint8_t mon, uint8_t year, uint8_t century)
{
    uint8_t b = rd(f, 0x0B);
    wr(f, 0x0B, b | 0x80);
    wr(f, 0x00, sec);
    wr(f, 0x02, min);
    wr(f, 0x04, hour);
    wr(f, 0x06, wday);
    wr(f, 0x07, mday);
    wr(f, 0x08, mon);
    wr(f, 0x09, year);
    wr(f, 0x32, century);
    wr(f, 0x0B, b & 0x7F);
}

/* Steps time in small slices, acknowledging the interrupt (reading
 * register C) whenever the line is up, like an interrupt handler.
 * Returns how many register C reads showed `flag`. */
static int service_for(struct fixture *f, uint64_t total, uint64_t step, uint8_t flag)
{
    int seen = 0;
    for (uint64_t t = 0; t < total; t += step) {
        advance(f, step);
        if (f->level) {
            uint8_t c = rd(f, 0x0C);
            CU_ASSERT(c & 0x80);
            if (c & flag)
                seen++;
            CU_ASSERT_EQUAL(f->level, 0);
        }
    }
    return seen;
}

static void test_power_on_state(void)
{
    struct fixture *f = setup();
    CU_ASSERT_EQUAL(rd(f, 0x0A), 0x26);
    CU_ASSERT_EQUAL(rd(f, 0x0B), 0x02);
    CU_ASSERT_EQUAL(rd(f, 0x0C), 0x00);
    CU_ASSERT_EQUAL(rd(f, 0x0D), 0x80);
    /* Nothing enabled: no timer may be running. */
    CU_ASSERT_EQUAL(vclock_next_deadline(&f->clock), UINT64_MAX);
    teardown(f);
}

static void test_bcd_fields(void)
{
    struct fixture *f = setup();
    expect_time(f, 0x58, 0x59, 0x10, 0x04, 0x25, 0x11, 0x26, 0x20);
    advance(f, 2 * NS_PER_SEC);
    expect_time(f, 0x00, 0x00, 0x11, 0x04, 0x25, 0x11, 0x26, 0x20);
    teardown(f);
}

static void test_binary_fields(void)
{
    struct fixture *f = setup();
    wr(f, 0x0B, 0x06);      /* binary, 24 h: the running clock reformats at once */
    expect_time(f, 58, 59, 10, 4, 25, 11, 26, 20);
    advance(f, NS_PER_SEC);
    CU_ASSERT_EQUAL(rd(f, 0x00), 59);
    wr(f, 0x0B, 0x02);
    CU_ASSERT_EQUAL(rd(f, 0x00), 0x59);
    teardown(f);
}

static void test_12h_mode(void)
{
    struct fixture *f = setup();
    wr(f, 0x0B, 0x00);      /* BCD, 12 h */
    CU_ASSERT_EQUAL(rd(f, 0x04), 0x10);            /* 10 AM */
    advance(f, 62 * NS_PER_SEC);                  /* 11:01:00 */
    CU_ASSERT_EQUAL(rd(f, 0x04), 0x11);
    advance(f, 3600 * NS_PER_SEC);                /* 12:01 PM */
    CU_ASSERT_EQUAL(rd(f, 0x04), 0x92);
    advance(f, 3600 * NS_PER_SEC);                /* 13:01 = 1 PM */
    CU_ASSERT_EQUAL(rd(f, 0x04), 0x81);
    wr(f, 0x0B, 0x04);                            /* binary 12 h */
    CU_ASSERT_EQUAL(rd(f, 0x04), 0x81);
    advance(f, 10 * 3600 * NS_PER_SEC);           /* 23:01 = 11 PM */
    CU_ASSERT_EQUAL(rd(f, 0x04), 0x8B);
    advance(f, 3600 * NS_PER_SEC);                /* 00:01 = 12 AM, next day */
    CU_ASSERT_EQUAL(rd(f, 0x04), 12);
    CU_ASSERT_EQUAL(rd(f, 0x07), 26);
    CU_ASSERT_EQUAL(rd(f, 0x06), 5);              /* Thursday */
    wr(f, 0x0B, 0x00);
    CU_ASSERT_EQUAL(rd(f, 0x04), 0x12);
    /* Setting 12 h time: 0x87 = 7 PM. */
    set_time(f, 0x00, 0x30, 0x87, 0x05, 0x26, 0x11, 0x26, 0x20);
    wr(f, 0x0B, 0x02);
    CU_ASSERT_EQUAL(rd(f, 0x04), 0x19);
    CU_ASSERT_EQUAL(rd(f, 0x02), 0x30);
    /* 12 AM is hour 0, 12 PM is hour 12. */
    wr(f, 0x0B, 0x00);
    set_time(f, 0x00, 0x30, 0x12, 0x05, 0x26, 0x11, 0x26, 0x20);
    wr(f, 0x0B, 0x02);
    CU_ASSERT_EQUAL(rd(f, 0x04), 0x00);
    wr(f, 0x0B, 0x00);
    set_time(f, 0x00, 0x30, 0x92, 0x05, 0x26, 0x11, 0x26, 0x20);
    wr(f, 0x0B, 0x02);
    CU_ASSERT_EQUAL(rd(f, 0x04), 0x12);
    teardown(f);
}

static void test_rollover(void)
{
    struct fixture *f = setup();
    /* Year end (and the weekday across it). */
    set_time(f, 0x59, 0x59, 0x23, 0x05, 0x31, 0x12, 0x26, 0x20);
    advance(f, NS_PER_SEC);
    expect_time(f, 0x00, 0x00, 0x00, 0x06, 0x01, 0x01, 0x27, 0x20);
    /* Month end in a 30-day month. */
    set_time(f, 0x59, 0x59, 0x23, 0x02, 0x30, 0x11, 0x26, 0x20);
    advance(f, NS_PER_SEC);
    expect_time(f, 0x00, 0x00, 0x00, 0x03, 0x01, 0x12, 0x26, 0x20);
    /* Leap year 2028, not-leap 2100, century change 1999 -> 2000. */
    set_time(f, 0x59, 0x59, 0x23, 0x02, 0x28, 0x02, 0x28, 0x20);
    advance(f, NS_PER_SEC);
    expect_time(f, 0x00, 0x00, 0x00, 0x03, 0x29, 0x02, 0x28, 0x20);
    set_time(f, 0x59, 0x59, 0x23, 0x01, 0x28, 0x02, 0x00, 0x21);
    advance(f, NS_PER_SEC);
    expect_time(f, 0x00, 0x00, 0x00, 0x02, 0x01, 0x03, 0x00, 0x21);
    set_time(f, 0x59, 0x59, 0x23, 0x06, 0x31, 0x12, 0x99, 0x19);
    advance(f, NS_PER_SEC);
    expect_time(f, 0x00, 0x00, 0x00, 0x07, 0x01, 0x01, 0x00, 0x20);
    /* A long run: 400 days later, in binary. */
    wr(f, 0x0B, 0x06);
    advance(f, 400ull * 86400 * NS_PER_SEC);
    expect_time(f, 0, 0, 0, 1, 4, 2, 1, 20);   /* 2001-02-04, a Sunday */
    teardown(f);
}

static void test_uip_window(void)
{
    struct fixture *f = setup();
    advance_to(f, NS_PER_SEC - 245 * US);
    CU_ASSERT_EQUAL(rd(f, 0x0A) & 0x80, 0);
    advance_to(f, NS_PER_SEC - 243 * US);
    CU_ASSERT_EQUAL(rd(f, 0x0A), 0xA6);
    CU_ASSERT_EQUAL(rd(f, 0x00), 0x58);            /* not updated yet */
    advance_to(f, NS_PER_SEC);
    CU_ASSERT_EQUAL(rd(f, 0x0A), 0x26);
    CU_ASSERT_EQUAL(rd(f, 0x00), 0x59);
    advance_to(f, 2 * NS_PER_SEC - 100 * US);
    CU_ASSERT_EQUAL(rd(f, 0x0A), 0xA6);
    /* SET clears UIP: no update is coming. */
    wr(f, 0x0B, 0x82);
    CU_ASSERT_EQUAL(rd(f, 0x0A), 0x26);
    /* The guest cannot set UIP. */
    wr(f, 0x0B, 0x02);
    advance_to(f, 2 * NS_PER_SEC + 500 * MS);
    wr(f, 0x0A, 0xA6);
    CU_ASSERT_EQUAL(rd(f, 0x0A), 0x26);
    teardown(f);
}

static void test_set_freezes(void)
{
    struct fixture *f = setup();
    advance_to(f, 500 * MS);
    wr(f, 0x0B, 0x82);
    advance(f, 3 * NS_PER_SEC);
    CU_ASSERT_EQUAL(rd(f, 0x00), 0x58);            /* frozen */
    CU_ASSERT_EQUAL(rd(f, 0x0C) & 0x10, 0);        /* and no update-ended flag */
    wr(f, 0x00, 0x59);
    wr(f, 0x02, 0x59);
    wr(f, 0x04, 0x23);
    wr(f, 0x06, 0x04);
    CU_ASSERT_EQUAL(rd(f, 0x04), 0x23);            /* reads back what was written */
    advance_to(f, 3500 * MS);
    wr(f, 0x0B, 0x02);                             /* runs from the written time */
    CU_ASSERT_EQUAL(rd(f, 0x00), 0x59);
    CU_ASSERT_EQUAL(rd(f, 0x04), 0x23);
    advance_to(f, 4 * NS_PER_SEC - 1);             /* the divider kept its phase */
    CU_ASSERT_EQUAL(rd(f, 0x00), 0x59);
    advance_to(f, 4 * NS_PER_SEC);
    expect_time(f, 0x00, 0x00, 0x00, 0x05, 0x26, 0x11, 0x26, 0x20);
    teardown(f);
}

static void test_write_without_set(void)
{
    struct fixture *f = setup();
    advance_to(f, 300 * MS);
    wr(f, 0x02, 0x30);      /* minutes into the running clock */
    CU_ASSERT_EQUAL(rd(f, 0x02), 0x30);
    CU_ASSERT_EQUAL(rd(f, 0x00), 0x58);
    advance_to(f, NS_PER_SEC);
    CU_ASSERT_EQUAL(rd(f, 0x00), 0x59);
    CU_ASSERT_EQUAL(rd(f, 0x02), 0x30);
    /* The century register moves the running clock too. */
    wr(f, 0x32, 0x21);
    CU_ASSERT_EQUAL(rd(f, 0x32), 0x21);
    CU_ASSERT_EQUAL(rd(f, 0x09), 0x26);
    CU_ASSERT_EQUAL(rd(f, 0x06), 0x04);            /* the guest's weekday is kept */
    teardown(f);
}

static void test_divider(void)
{
    struct fixture *f = setup();
    advance_to(f, 200 * MS);
    CU_ASSERT_EQUAL(rd(f, 0x0C), 0x40);            /* PF from the running divider */
    wr(f, 0x0A, 0x76);      /* DV = 111: divider held in reset */
    advance(f, 5 * NS_PER_SEC);
    CU_ASSERT_EQUAL(rd(f, 0x00), 0x58);
    CU_ASSERT_EQUAL(rd(f, 0x0A), 0x76);            /* no UIP while stopped */
    CU_ASSERT_EQUAL(rd(f, 0x0C), 0x00);            /* no PF, no UF */
    advance_to(f, 5200 * MS);
    wr(f, 0x0A, 0x26);      /* first update 500 ms later */
    advance_to(f, 5700 * MS - 1);
    CU_ASSERT_EQUAL(rd(f, 0x00), 0x58);
    advance_to(f, 5700 * MS);
    CU_ASSERT_EQUAL(rd(f, 0x00), 0x59);
    advance_to(f, 6700 * MS);
    CU_ASSERT_EQUAL(rd(f, 0x00), 0x00);
    /* An oscillator-off setting stops the clock as well. */
    wr(f, 0x0A, 0x06);
    advance(f, 3 * NS_PER_SEC);
    CU_ASSERT_EQUAL(rd(f, 0x00), 0x00);
    teardown(f);
}

static void test_periodic_rates(void)
{
    static const struct { uint8_t rs; int hz; } rates[] = {
        { 6, 1024 }, { 15, 2 }, { 1, 256 }, { 2, 128 }, { 3, 8192 }, { 13, 8 },
    };
    for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
        struct fixture *f = setup();
        wr(f, 0x0A, 0x20 | rates[i].rs);
        wr(f, 0x0B, 0x42);  /* PIE */
        uint64_t step = rates[i].hz > 1024 ? 20 * US : 100 * US;
        int seen = service_for(f, NS_PER_SEC, step, 0x40);
        CU_ASSERT_EQUAL(seen, rates[i].hz);
        CU_ASSERT_EQUAL(f->edges, rates[i].hz);
        teardown(f);
    }
}

static void test_periodic_without_pie(void)
{
    struct fixture *f = setup();
    /* PF is set regardless of PIE, but no IRQ and no timer. */
    advance(f, 2 * MS);
    CU_ASSERT_EQUAL(vclock_next_deadline(&f->clock), UINT64_MAX);
    CU_ASSERT_EQUAL(f->edges, 0);
    CU_ASSERT_EQUAL(rd(f, 0x0C), 0x40);
    CU_ASSERT_EQUAL(rd(f, 0x0C), 0x00);
    advance(f, 900 * US);                          /* 2.9 ms: crossed 2.93 ms? no */
    CU_ASSERT_EQUAL(rd(f, 0x0C), 0x00);
    advance(f, 100 * US);
    CU_ASSERT_EQUAL(rd(f, 0x0C), 0x40);
    /* RS = 0 disables the periodic flag. */
    wr(f, 0x0A, 0x20);
    advance(f, 10 * MS);
    CU_ASSERT_EQUAL(rd(f, 0x0C), 0x00);
    /* Enabling PIE while PF is pending raises the line at once. */
    wr(f, 0x0A, 0x26);
    advance(f, 2 * MS);
    wr(f, 0x0B, 0x42);
    CU_ASSERT_EQUAL(f->level, 1);
    CU_ASSERT_EQUAL(f->edges, 1);
    /* While PF is pending no timer is needed either. */
    CU_ASSERT_EQUAL(vclock_next_deadline(&f->clock), UINT64_MAX);
    /* Disabling PIE drops IRQF and the line. */
    wr(f, 0x0B, 0x02);
    CU_ASSERT_EQUAL(f->level, 0);
    CU_ASSERT_EQUAL(rd(f, 0x0C), 0x40);
    teardown(f);
}

static void test_reg_c_clears(void)
{
    struct fixture *f = setup();
    wr(f, 0x0B, 0x12);      /* UIE */
    advance(f, NS_PER_SEC);
    CU_ASSERT_EQUAL(f->level, 1);
    uint8_t c = rd(f, 0x0C);
    CU_ASSERT_EQUAL(c & 0x90, 0x90);               /* IRQF | UF */
    CU_ASSERT_EQUAL(f->level, 0);
    CU_ASSERT_EQUAL(rd(f, 0x0C), 0x00);
    /* Not acknowledged: the line stays up, no second edge. */
    advance(f, 3 * NS_PER_SEC);
    CU_ASSERT_EQUAL(f->level, 1);
    CU_ASSERT_EQUAL(f->edges, 2);
    teardown(f);
}

static void test_update_interrupt(void)
{
    struct fixture *f = setup();
    wr(f, 0x0A, 0x20);      /* no periodic flag to muddle the count */
    wr(f, 0x0B, 0x12);
    advance_to(f, 100 * MS);
    int seen = service_for(f, 5 * NS_PER_SEC, 10 * MS, 0x10);
    CU_ASSERT_EQUAL(seen, 5);
    CU_ASSERT_EQUAL(f->edges, 5);
    /* SET clears UIE and stops updates. */
    wr(f, 0x0B, 0x92);
    CU_ASSERT_EQUAL(rd(f, 0x0B), 0x82);
    advance(f, 3 * NS_PER_SEC);
    CU_ASSERT_EQUAL(f->edges, 5);
    CU_ASSERT_EQUAL(vclock_next_deadline(&f->clock), UINT64_MAX);
    teardown(f);
}

static void test_alarm(void)
{
    struct fixture *f = setup();
    wr(f, 0x0A, 0x20);
    wr(f, 0x01, 0x05);
    wr(f, 0x03, 0x00);
    wr(f, 0x05, 0x11);      /* 11:00:05 */
    wr(f, 0x0B, 0x22);      /* AIE */
    advance_to(f, 6 * NS_PER_SEC);                 /* 11:00:04 */
    CU_ASSERT_EQUAL(f->edges, 0);
    uint8_t c = rd(f, 0x0C);
    CU_ASSERT_EQUAL(c, 0x10);                      /* UF without UIE, no IRQF */
    advance_to(f, 7 * NS_PER_SEC - 1);
    CU_ASSERT_EQUAL(f->edges, 0);
    advance_to(f, 7 * NS_PER_SEC);                 /* 11:00:05 */
    CU_ASSERT_EQUAL(f->edges, 1);
    CU_ASSERT_EQUAL(rd(f, 0x0C), 0xB0);            /* IRQF | AF | UF */
    advance(f, 2 * NS_PER_SEC);
    CU_ASSERT_EQUAL(f->edges, 1);
    CU_ASSERT_EQUAL(rd(f, 0x0C), 0x10);
    teardown(f);
}

static void test_alarm_dont_care(void)
{
    struct fixture *f = setup();
    wr(f, 0x0A, 0x20);
    wr(f, 0x01, 0x10);
    wr(f, 0x03, 0xC0);
    wr(f, 0x05, 0xFF);      /* every minute at :10 */
    wr(f, 0x0B, 0x22);
    /* 10:59:58 + 132 s = 11:02:10: alarms at 10:59:10 (past), 11:00:10, 11:01:10, 11:02:10. */
    int seen = service_for(f, 132 * NS_PER_SEC, 50 * MS, 0x20);
    CU_ASSERT_EQUAL(seen, 3);
    CU_ASSERT_EQUAL(f->edges, 3);
    /* All don't-care: every second. */
    wr(f, 0x01, 0xC0);
    seen = service_for(f, 4 * NS_PER_SEC, 50 * MS, 0x20);
    CU_ASSERT_EQUAL(seen, 4);
    teardown(f);
}

static void test_alarm_lazy(void)
{
    struct fixture *f = setup();
    /* No interrupt enabled: the flags appear when register C is read,
     * even after a long silence, and no timer ran meanwhile. */
    wr(f, 0x01, 0x00);
    wr(f, 0x03, 0x30);
    wr(f, 0x05, 0x07);      /* 07:30:00 */
    advance(f, 3ull * 86400 * NS_PER_SEC);
    CU_ASSERT_EQUAL(vclock_next_deadline(&f->clock), UINT64_MAX);
    CU_ASSERT_EQUAL(rd(f, 0x0C), 0x70);            /* PF | AF | UF */
    CU_ASSERT_EQUAL(rd(f, 0x07), 0x28);
    /* An hour later the alarm has not matched again. */
    advance(f, 3600 * NS_PER_SEC);
    CU_ASSERT_EQUAL(rd(f, 0x0C), 0x50);
    /* 12-hour mode: 7 PM is 0x87, which 19:00:00 matches. */
    wr(f, 0x0B, 0x00);
    wr(f, 0x05, 0x87);
    wr(f, 0x03, 0x00);
    advance(f, 8 * 3600 * NS_PER_SEC);             /* from 11:59:58 to 19:59:58 */
    CU_ASSERT_EQUAL(rd(f, 0x0C), 0x70);
    teardown(f);
}

static void test_vrt_and_readonly(void)
{
    struct fixture *f = setup();
    wr(f, 0x0D, 0x00);
    CU_ASSERT_EQUAL(rd(f, 0x0D), 0x80);
    wr(f, 0x0C, 0xFF);
    CU_ASSERT_EQUAL(rd(f, 0x0C), 0x00);
    CU_ASSERT_EQUAL(f->edges, 0);
    teardown(f);
}

static void test_nmi_bit(void)
{
    struct fixture *f = setup();
    CU_ASSERT_FALSE(rtc_nmi_disabled(f->rtc));
    iobus_write(&f->pio, 0x70, 1, 0x8D);
    CU_ASSERT_TRUE(rtc_nmi_disabled(f->rtc));
    CU_ASSERT_EQUAL(iobus_read(&f->pio, 0x71, 1), 0x80);   /* register D */
    wr(f, 0x80 | 0x20, 0x5A);
    CU_ASSERT_EQUAL(rtc_cmos_get(f->rtc, 0x20), 0x5A);
    CU_ASSERT_EQUAL(rd(f, 0x20), 0x5A);
    CU_ASSERT_FALSE(rtc_nmi_disabled(f->rtc));
    CU_ASSERT_EQUAL(rd(f, 0x80), 0x58);            /* seconds */
    teardown(f);
}

static void test_cmos_ram(void)
{
    struct fixture *f = setup();
    rtc_cmos_set(f->rtc, 0x15, 0x80);     /* base memory low byte */
    rtc_cmos_set(f->rtc, 0x7F, 0x33);
    CU_ASSERT_EQUAL(rd(f, 0x15), 0x80);
    CU_ASSERT_EQUAL(rd(f, 0x7F), 0x33);
    wr(f, 0x40, 0x12);
    CU_ASSERT_EQUAL(rtc_cmos_get(f->rtc, 0x40), 0x12);
    /* Out-of-range indexes from the machine are refused. */
    rtc_cmos_set(f->rtc, 128, 0x77);
    rtc_cmos_set(f->rtc, 0xFFFFFFFFu, 0x77);
    CU_ASSERT_EQUAL(rtc_cmos_get(f->rtc, 128), 0xFF);
    CU_ASSERT_EQUAL(rtc_cmos_get(f->rtc, 0xFFFFFFFFu), 0xFF);
    CU_ASSERT_EQUAL(rd(f, 0x00), 0x58);
    /* rtc_cmos_get of register C looks without clearing. */
    advance(f, NS_PER_SEC);
    CU_ASSERT_EQUAL(rtc_cmos_get(f->rtc, 0x0C), 0x50);
    CU_ASSERT_EQUAL(rd(f, 0x0C), 0x50);
    teardown(f);
}

static void test_reset(void)
{
    struct fixture *f = setup();
    wr(f, 0x0B, 0x7A);      /* PIE AIE UIE SQWE, 24 h */
    advance(f, NS_PER_SEC);
    CU_ASSERT_EQUAL(f->level, 1);
    rtc_reset(f->rtc);
    CU_ASSERT_EQUAL(f->level, 0);
    CU_ASSERT_EQUAL(rd(f, 0x0B), 0x02);
    CU_ASSERT_EQUAL(rd(f, 0x0C), 0x00);
    CU_ASSERT_EQUAL(rd(f, 0x00), 0x59);            /* time survives */
    CU_ASSERT_EQUAL(vclock_next_deadline(&f->clock), UINT64_MAX);
    teardown(f);
}

static void test_hostile(void)
{
    struct fixture *f = setup();
    /* Index 0xFF: NMI bit plus index 0x7F. */
    wr(f, 0xFF, 0xA5);
    CU_ASSERT_EQUAL(rtc_cmos_get(f->rtc, 0x7F), 0xA5);
    CU_ASSERT_EQUAL(rd(f, 0xFF), 0xA5);
    /* The index port reads as open bus; wide accesses split bytewise. */
    CU_ASSERT_EQUAL(iobus_read(&f->pio, 0x70, 1), 0xFF);
    iobus_write(&f->pio, 0x70, 2, 0x1140);          /* index 0x40, data 0x11 */
    CU_ASSERT_EQUAL(rtc_cmos_get(f->rtc, 0x40), 0x11);
    CU_ASSERT_EQUAL(iobus_read(&f->pio, 0x70, 2), 0x11FF);
    /* Garbage time bytes: the clock keeps running from something sane. */
    wr(f, 0x0B, 0x82);
    wr(f, 0x00, 0xFF);
    wr(f, 0x04, 0x3A);
    wr(f, 0x07, 0x31);      /* Nov 31st */
    wr(f, 0x08, 0x00);      /* month 0 */
    wr(f, 0x32, 0xAA);
    CU_ASSERT_EQUAL(rd(f, 0x00), 0xFF);            /* frozen bytes read back */
    wr(f, 0x0B, 0x02);
    uint8_t sec = rd(f, 0x00), mon = rd(f, 0x08), mday = rd(f, 0x07), hour = rd(f, 0x04);
    CU_ASSERT(sec <= 0x59 && (sec & 0xF) <= 9);
    CU_ASSERT(mon >= 0x01 && mon <= 0x12);
    CU_ASSERT(mday >= 0x01 && mday <= 0x31);
    CU_ASSERT(hour <= 0x23);
    advance(f, 5 * NS_PER_SEC);
    CU_ASSERT(rd(f, 0x00) <= 0x59);
    /* Binary mode nonsense and 12 h hour 0. */
    wr(f, 0x0B, 0x84);
    wr(f, 0x00, 200);
    wr(f, 0x04, 0x80);
    wr(f, 0x0B, 0x04);
    CU_ASSERT(rd(f, 0x00) < 60);
    uint8_t h = rd(f, 0x04);
    CU_ASSERT((h & 0x7F) >= 1 && (h & 0x7F) <= 12);
    /* Every divider and rate setting, with every interrupt on. */
    wr(f, 0x0B, 0x72);
    for (unsigned a = 0; a < 0x80; a++) {
        wr(f, 0x0A, (uint8_t)a);
        advance(f, 3 * MS);
        rd(f, 0x0C);
        CU_ASSERT_EQUAL(rd(f, 0x0A) & 0x7F, a);
    }
    /* Fastest rate with PIE never acknowledged: timers stop once PF is set. */
    wr(f, 0x0A, 0x23);
    wr(f, 0x0B, 0x42);
    advance(f, 10 * MS);
    CU_ASSERT_EQUAL(f->level, 1);
    CU_ASSERT_EQUAL(vclock_next_deadline(&f->clock), UINT64_MAX);
    teardown(f);
}

void suite_rtc(void)
{
    CU_pSuite s = CU_add_suite("rtc", NULL, NULL);
    CU_add_test(s, "power-on register state, no idle timer", test_power_on_state);
    CU_add_test(s, "BCD time and date fields", test_bcd_fields);
    CU_add_test(s, "binary time and date fields", test_binary_fields);
    CU_add_test(s, "12-hour mode with PM bit", test_12h_mode);
    CU_add_test(s, "rollover: midnight, month, year, leap, century", test_rollover);
    CU_add_test(s, "UIP in the 244 us before an update", test_uip_window);
    CU_add_test(s, "SET freezes; written time runs on", test_set_freezes);
    CU_add_test(s, "time write without SET keeps phase", test_write_without_set);
    CU_add_test(s, "divider reset and release (+500 ms)", test_divider);
    CU_add_test(s, "periodic interrupt rates", test_periodic_rates);
    CU_add_test(s, "PF without PIE is lazy", test_periodic_without_pie);
    CU_add_test(s, "reading C clears it and lowers IRQ8", test_reg_c_clears);
    CU_add_test(s, "update interrupt once per second", test_update_interrupt);
    CU_add_test(s, "alarm at the matching second", test_alarm);
    CU_add_test(s, "alarm don't-care bytes", test_alarm_dont_care);
    CU_add_test(s, "alarm flag computed lazily", test_alarm_lazy);
    CU_add_test(s, "VRT set, C and D read-only", test_vrt_and_readonly);
    CU_add_test(s, "NMI bit not part of the index", test_nmi_bit);
    CU_add_test(s, "CMOS RAM set/get", test_cmos_ram);
    CU_add_test(s, "reset clears enables and flags", test_reset);
    CU_add_test(s, "hostile indexes and values", test_hostile);
}
