/* MC146818A real-time clock and CMOS RAM at 0x70/0x71, IRQ8.
 *
 * Nothing ticks.  The chip's divider chain is modelled by an anchor: a
 * virtual-clock instant at which the divider crossed a second boundary
 * (its phase) and the RTC second it had reached there.  Time, UIP and the
 * flags in register C are all computed from that anchor when the guest
 * looks, so an idle guest costs no timer at all.  Timers are armed only to
 * raise IRQ8 on time while an interrupt is enabled and its flag is still
 * clear.
 *
 * While the clock is not updating (SET in register B, or a divider
 * setting other than 010 in register A) the time registers are plain
 * bytes in cmos[], exactly what the guest wrote; when updating resumes
 * they are parsed back into the anchor, so the written time runs on from
 * the next update. */
#include "rtc.h"

#include <stdbool.h>
#include <stdlib.h>

enum {
    REG_SEC = 0x00,
    REG_SEC_ALARM = 0x01,
    REG_MIN = 0x02,
    REG_MIN_ALARM = 0x03,
    REG_HOUR = 0x04,
    REG_HOUR_ALARM = 0x05,
    REG_WDAY = 0x06,
    REG_MDAY = 0x07,
    REG_MONTH = 0x08,
    REG_YEAR = 0x09,
    REG_A = 0x0A,
    REG_B = 0x0B,
    REG_C = 0x0C,
    REG_D = 0x0D,
    REG_CENTURY = 0x32,     /* plain RAM on the chip; PCs keep the century here */
};

#define A_UIP 0x80
#define A_DV_MASK 0x70
#define A_DV_RUN 0x20           /* 010: 32.768 kHz, the only setting that keeps time */
#define A_DV_RESET 0x60         /* 11x: oscillator on, divider chain held in reset */
#define A_RS_MASK 0x0F

#define B_SET 0x80
#define B_PIE 0x40
#define B_AIE 0x20
#define B_UIE 0x10
#define B_SQWE 0x08
#define B_DM_BINARY 0x04
#define B_24H 0x02
#define B_DSE 0x01

/* PF/AF/UF sit at the same bit positions as PIE/AIE/UIE in register B. */
#define C_IRQF 0x80
#define C_PF 0x40
#define C_AF 0x20
#define C_UF 0x10
#define C_FLAGS (C_PF | C_AF | C_UF)

#define D_VRT 0x80

#define RTC_XTAL_HZ 32768ull
/* UIP rises 244 us (8 cycles of the 32.768 kHz crystal) before an update. */
#define RTC_UIP_NS ((8 * NS_PER_SEC + RTC_XTAL_HZ - 1) / RTC_XTAL_HZ)
/* The first update comes half a second after the divider leaves reset. */
#define RTC_DV_RELEASE_NS (NS_PER_SEC / 2)
#define SECS_PER_DAY 86400
#define ALARM_DONT_CARE 0xC0
#define RTC_MAX_BASE_SEC 253402300799ll    /* 9999-12-31 23:59:59 */

struct rtc {
    struct io_region region;
    struct iobus *pio;
    struct vclock *clock;
    struct irq irq;
    const struct logger *log;
    struct ratelimit rl;
    struct vtimer periodic_timer;   /* armed only while PIE is set and PF clear */
    struct vtimer second_timer;     /* armed only while AIE/UIE wait for a flag */

    uint8_t cmos[RTC_CMOS_SIZE];    /* time bytes here are live only while frozen */
    uint8_t index;
    bool nmi_disabled;
    bool irq_level;

    int64_t anchor_ns;      /* vclock instant of a divider second boundary */
    int64_t anchor_sec;     /* RTC time (seconds since 1970-01-01 00:00) at anchor_ns */
    int64_t synced_ns;      /* register C flags are accounted up to here */
    int dow_adjust;         /* the weekday counter is independent: guest's value - computed, 0..6 */
};

struct rtc_tm {
    int64_t year;
    int mon;        /* 1..12 */
    int mday;       /* 1..31 */
    int hour, min, sec;
    int wday;       /* 0 = Sunday */
};

/* ---- calendar arithmetic (proleptic Gregorian, 400-year eras) ---- */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if (a % b != 0 && (a < 0) != (b < 0))
        q--;
    return q;
}

static int64_t floor_mod(int64_t a, int64_t b)
{
    return a - floor_div(a, b) * b;
}

static bool is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int mon)
{
    static const uint8_t days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (mon == 2 && is_leap(y))
        return 29;
    return days[(mon - 1) % 12];
}

/* Days since 1970-01-01.  Years are counted from March so that the leap
 * day falls at the end of a year; an era is 400 years = 146097 days. */
static int64_t days_from_date(int64_t y, int mon, int mday)
{
    y -= mon <= 2;
    int64_t era = floor_div(y, 400);
    int64_t yoe = y - era * 400;
    int64_t mp = (mon + 9) % 12;
    int64_t doy = (153 * mp + 2) / 5 + mday - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;        /* 719468: 0000-03-01 to 1970-01-01 */
}

static void date_from_days(int64_t days, struct rtc_tm *tm)
{
    int64_t z = days + 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    tm->mday = (int)(doy - (153 * mp + 2) / 5 + 1);
    tm->mon = (int)(mp < 10 ? mp + 3 : mp - 9);
    tm->year = era * 400 + yoe + (tm->mon <= 2);
}

static void tm_from_seconds(int64_t t, struct rtc_tm *tm)
{
    int64_t days = floor_div(t, SECS_PER_DAY);
    int sod = (int)(t - days * SECS_PER_DAY);
    tm->hour = sod / 3600;
    tm->min = sod / 60 % 60;
    tm->sec = sod % 60;
    date_from_days(days, tm);
    tm->wday = (int)floor_mod(days + 4, 7);     /* 1970-01-01 was a Thursday */
}

/* ---- register formats (BCD or binary, 12 or 24 hours) ---- */

static bool binary_mode(const struct rtc *r)
{
    return r->cmos[REG_B] & B_DM_BINARY;
}

static uint8_t encode(const struct rtc *r, int v)
{
    if (binary_mode(r))
        return (uint8_t)v;
    return (uint8_t)((v / 10) << 4 | v % 10);
}

/* -1 for a byte that is not a valid number in the current format. */
static int decode(const struct rtc *r, uint8_t b)
{
    if (binary_mode(r))
        return b;
    if ((b >> 4) > 9 || (b & 0xF) > 9)
        return -1;
    return (b >> 4) * 10 + (b & 0xF);
}

static uint8_t encode_hour(const struct rtc *r, int hour)
{
    if (r->cmos[REG_B] & B_24H)
        return encode(r, hour);
    int h12 = hour % 12 ? hour % 12 : 12;
    return encode(r, h12) | (hour >= 12 ? 0x80 : 0);
}

/* Clamps a field into range (flagging it) so a nonsense byte still yields
 * a time; the real chip would count on from garbage in its own way. */
static int clamp_field(int v, int lo, int hi, bool *bad)
{
    if (v < lo || v > hi) {
        *bad = true;
        return v < lo ? lo : hi;
    }
    return v;
}

static int parse_hour(const struct rtc *r, uint8_t b, bool *bad)
{
    if (r->cmos[REG_B] & B_24H)
        return clamp_field(decode(r, b), 0, 23, bad);
    int h12 = clamp_field(decode(r, b & 0x7F), 1, 12, bad);
    return h12 % 12 + (b & 0x80 ? 12 : 0);
}

static uint8_t time_byte(const struct rtc *r, unsigned reg, int64_t secs)
{
    struct rtc_tm tm;
    tm_from_seconds(secs, &tm);
    switch (reg) {
    case REG_SEC: return encode(r, tm.sec);
    case REG_MIN: return encode(r, tm.min);
    case REG_HOUR: return encode_hour(r, tm.hour);
    case REG_WDAY: return encode(r, (tm.wday + r->dow_adjust) % 7 + 1);
    case REG_MDAY: return encode(r, tm.mday);
    case REG_MONTH: return encode(r, tm.mon);
    case REG_YEAR: return encode(r, (int)floor_mod(tm.year, 100));
    case REG_CENTURY: return encode(r, (int)floor_mod(floor_div(tm.year, 100), 100));
    default: return 0xFF;
    }
}

static bool is_time_reg(unsigned reg)
{
    return reg == REG_SEC || reg == REG_MIN || reg == REG_HOUR || reg == REG_WDAY ||
           reg == REG_MDAY || reg == REG_MONTH || reg == REG_YEAR || reg == REG_CENTURY;
}

/* ---- the divider chain and the anchor ---- */

static bool divider_running(const struct rtc *r)
{
    return (r->cmos[REG_A] & A_DV_MASK) == A_DV_RUN;
}

static bool clock_updating(const struct rtc *r)
{
    return divider_running(r) && !(r->cmos[REG_B] & B_SET);
}

static int64_t now_ns(const struct rtc *r)
{
    return (int64_t)vclock_ns(r->clock);
}

static uint64_t since_anchor(const struct rtc *r, int64_t t)
{
    return t > r->anchor_ns ? (uint64_t)(t - r->anchor_ns) : 0;
}

static int64_t rtc_seconds(const struct rtc *r, int64_t now)
{
    return r->anchor_sec + (int64_t)(since_anchor(r, now) / NS_PER_SEC);
}

/* Periodic rate in crystal cycles: RS 3..15 divide by 2^(RS-1); RS 1 and
 * 2 repeat the 256 Hz and 128 Hz taps (datasheet table). */
static uint64_t periodic_cycles(unsigned rs)
{
    if (rs <= 2)
        return 1ull << (rs + 6);
    return 1ull << (rs - 1);
}

static uint64_t periodic_count(const struct rtc *r, int64_t t, unsigned rs)
{
    return vclock_ns_to_ticks(since_anchor(r, t), RTC_XTAL_HZ) / periodic_cycles(rs);
}

static void snapshot_time(struct rtc *r, int64_t now)
{
    static const uint8_t regs[] = { REG_SEC, REG_MIN, REG_HOUR, REG_WDAY,
                                    REG_MDAY, REG_MONTH, REG_YEAR, REG_CENTURY };
    int64_t secs = rtc_seconds(r, now);
    for (size_t i = 0; i < sizeof(regs); i++)
        r->cmos[regs[i]] = time_byte(r, regs[i], secs);
}

/* Parses the time bytes in the current format; clears the sub-second phase
 * to the last divider boundary so the next update comes on schedule. */
static void load_time(struct rtc *r, int64_t now)
{
    bool bad = false;
    int sec = clamp_field(decode(r, r->cmos[REG_SEC]), 0, 59, &bad);
    int min = clamp_field(decode(r, r->cmos[REG_MIN]), 0, 59, &bad);
    int hour = parse_hour(r, r->cmos[REG_HOUR], &bad);
    int mon = clamp_field(decode(r, r->cmos[REG_MONTH]), 1, 12, &bad);
    int64_t year = clamp_field(decode(r, r->cmos[REG_CENTURY]), 0, 99, &bad) * 100 +
                   clamp_field(decode(r, r->cmos[REG_YEAR]), 0, 99, &bad);
    int mday = clamp_field(decode(r, r->cmos[REG_MDAY]), 1, days_in_month(year, mon), &bad);
    int wday = clamp_field(decode(r, r->cmos[REG_WDAY]), 1, 7, &bad);
    if (bad)
        guest_error(r->log, &r->rl, "rtc: invalid time/date bytes %02x %02x %02x %02x %02x %02x %02x %02x (b=%02x), clamped",
                    r->cmos[REG_SEC], r->cmos[REG_MIN], r->cmos[REG_HOUR], r->cmos[REG_WDAY],
                    r->cmos[REG_MDAY], r->cmos[REG_MONTH], r->cmos[REG_YEAR],
                    r->cmos[REG_CENTURY], r->cmos[REG_B]);
    int64_t days = days_from_date(year, mon, mday);
    r->dow_adjust = (int)floor_mod(wday - 1 - floor_mod(days + 4, 7), 7);
    r->anchor_ns = now - (int64_t)(since_anchor(r, now) % NS_PER_SEC);
    r->anchor_sec = days * SECS_PER_DAY + hour * 3600 + min * 60 + sec;
}

/* ---- flags, IRQ and timers ---- */

static bool alarm_byte_matches(uint8_t alarm, uint8_t now)
{
    return (alarm & ALARM_DONT_CARE) == ALARM_DONT_CARE || alarm == now;
}

static bool alarm_matches(const struct rtc *r, int64_t secs)
{
    int sod = (int)floor_mod(secs, SECS_PER_DAY);
    return alarm_byte_matches(r->cmos[REG_SEC_ALARM], encode(r, sod % 60)) &&
           alarm_byte_matches(r->cmos[REG_MIN_ALARM], encode(r, sod / 60 % 60)) &&
           alarm_byte_matches(r->cmos[REG_HOUR_ALARM], encode_hour(r, sod / 3600));
}

/* Did any update in [first, last] match the alarm?  The alarm only sees
 * the time of day, so a day's worth of updates covers every case. */
static bool alarm_hit(const struct rtc *r, int64_t first, int64_t last)
{
    if (last - first >= SECS_PER_DAY)
        first = last - SECS_PER_DAY + 1;
    for (int64_t s = first; s <= last; s++)
        if (alarm_matches(r, s))
            return true;
    return false;
}

/* Sets the flags the chip would have set in register C since synced_ns.
 * Called before anything that changes how flags are produced. */
static void sync_flags(struct rtc *r, int64_t now)
{
    int64_t from = r->synced_ns;
    if (now <= from)
        return;
    r->synced_ns = now;
    if (!divider_running(r))
        return;
    unsigned rs = r->cmos[REG_A] & A_RS_MASK;
    if (rs && periodic_count(r, now, rs) > periodic_count(r, from, rs))
        r->cmos[REG_C] |= C_PF;
    if (r->cmos[REG_B] & B_SET)
        return;
    int64_t s0 = (int64_t)(since_anchor(r, from) / NS_PER_SEC);
    int64_t s1 = (int64_t)(since_anchor(r, now) / NS_PER_SEC);
    if (s1 == s0)
        return;
    r->cmos[REG_C] |= C_UF;
    if (!(r->cmos[REG_C] & C_AF) &&
        alarm_hit(r, r->anchor_sec + s0 + 1, r->anchor_sec + s1))
        r->cmos[REG_C] |= C_AF;
}

/* IRQF = PF.PIE + AF.AIE + UF.UIE, and the IRQ pin follows IRQF. */
static void update_irq(struct rtc *r)
{
    bool level = (r->cmos[REG_C] & r->cmos[REG_B] & C_FLAGS) != 0;
    if (level)
        r->cmos[REG_C] |= C_IRQF;
    else
        r->cmos[REG_C] &= (uint8_t)~C_IRQF;
    if (level != r->irq_level) {
        r->irq_level = level;
        irq_set(&r->irq, level);
    }
}

/* A timer is needed only where an enabled flag is still clear: once set,
 * a flag stays set until register C is read, which re-arms. */
static void arm_timers(struct rtc *r, int64_t now)
{
    uint8_t b = r->cmos[REG_B], c = r->cmos[REG_C];
    unsigned rs = r->cmos[REG_A] & A_RS_MASK;

    if ((b & B_PIE) && !(c & C_PF) && rs && divider_running(r)) {
        uint64_t cycles = (periodic_count(r, now, rs) + 1) * periodic_cycles(rs);
        vtimer_mod(&r->periodic_timer,
                   (uint64_t)(r->anchor_ns + (int64_t)vclock_ticks_to_ns(cycles, RTC_XTAL_HZ)));
    } else {
        vtimer_del(&r->periodic_timer);
    }

    bool want_uf = (b & B_UIE) && !(c & C_UF);
    bool want_af = (b & B_AIE) && !(c & C_AF);
    if ((want_uf || want_af) && clock_updating(r)) {
        uint64_t next = (since_anchor(r, now) / NS_PER_SEC + 1) * NS_PER_SEC;
        vtimer_mod(&r->second_timer, (uint64_t)(r->anchor_ns + (int64_t)next));
    } else {
        vtimer_del(&r->second_timer);
    }
}

static void refresh(struct rtc *r, int64_t now)
{
    update_irq(r);
    arm_timers(r, now);
}

static void rtc_timer_cb(void *opaque)
{
    struct rtc *r = opaque;
    int64_t now = now_ns(r);
    sync_flags(r, now);
    refresh(r, now);
}

/* ---- register access ---- */

static uint8_t read_reg_a(const struct rtc *r, int64_t now)
{
    uint8_t a = r->cmos[REG_A];
    if (clock_updating(r) && since_anchor(r, now) % NS_PER_SEC >= NS_PER_SEC - RTC_UIP_NS)
        a |= A_UIP;
    return a;
}

/* side_effects: a guest read of register C clears it; the machine's
 * rtc_cmos_get() only looks. */
static uint8_t read_reg(struct rtc *r, unsigned reg, bool side_effects)
{
    int64_t now = now_ns(r);
    if (is_time_reg(reg))
        return clock_updating(r) ? time_byte(r, reg, rtc_seconds(r, now)) : r->cmos[reg];
    switch (reg) {
    case REG_A:
        return read_reg_a(r, now);
    case REG_C: {
        sync_flags(r, now);
        update_irq(r);
        uint8_t c = r->cmos[REG_C];
        if (side_effects) {
            r->cmos[REG_C] = 0;
            refresh(r, now);
        }
        return c;
    }
    case REG_D:
        return D_VRT;
    default:
        return r->cmos[reg];
    }
}

/* Registers A and B together decide whether the divider runs and whether
 * the time updates; handle the transitions in one place. */
static void write_control(struct rtc *r, uint8_t a, uint8_t b, int64_t now)
{
    bool was_dividing = divider_running(r);
    bool was_updating = clock_updating(r);
    sync_flags(r, now);
    if (was_updating && ((a & A_DV_MASK) != A_DV_RUN || (b & B_SET)))
        snapshot_time(r, now);      /* freeze in the format the clock ran in */
    r->cmos[REG_A] = a;
    r->cmos[REG_B] = b;
    if (!was_dividing && divider_running(r))
        r->anchor_ns = now - (int64_t)RTC_DV_RELEASE_NS;
    if (!was_updating && clock_updating(r))
        load_time(r, now);
    refresh(r, now);
}

static void write_reg_a(struct rtc *r, uint8_t v, int64_t now)
{
    uint8_t dv = v & A_DV_MASK;
    if (dv != A_DV_RUN && (dv & A_DV_RESET) != A_DV_RESET)
        guest_error(r->log, &r->rl, "rtc: divider setting %x (not 32.768 kHz), clock stopped",
                    dv >> 4);
    write_control(r, v & (uint8_t)~A_UIP, r->cmos[REG_B], now);
}

static void write_reg_b(struct rtc *r, uint8_t v, int64_t now)
{
    if (v & B_SET)
        v &= (uint8_t)~B_UIE;       /* the chip clears UIE while SET is high */
    write_control(r, r->cmos[REG_A], v, now);
}

static void write_time_reg(struct rtc *r, unsigned reg, uint8_t v, int64_t now)
{
    if (!clock_updating(r)) {
        r->cmos[reg] = v;
        return;
    }
    /* Without SET the write lands in the running clock: rebuild the time
     * from the current bytes with this one replaced.  The divider phase is
     * untouched, as on the chip. */
    sync_flags(r, now);
    snapshot_time(r, now);
    r->cmos[reg] = v;
    load_time(r, now);
    refresh(r, now);
}

static void write_reg(struct rtc *r, unsigned reg, uint8_t v)
{
    int64_t now = now_ns(r);
    if (is_time_reg(reg)) {
        write_time_reg(r, reg, v, now);
        return;
    }
    switch (reg) {
    case REG_SEC_ALARM:
    case REG_MIN_ALARM:
    case REG_HOUR_ALARM:
        sync_flags(r, now);         /* past updates are judged by the old alarm */
        r->cmos[reg] = v;
        refresh(r, now);
        break;
    case REG_A:
        write_reg_a(r, v, now);
        break;
    case REG_B:
        write_reg_b(r, v, now);
        break;
    case REG_C:
    case REG_D:
        guest_error(r->log, &r->rl, "rtc: write %02x to read-only register %c ignored", v,
                    reg == REG_C ? 'C' : 'D');
        break;
    default:
        r->cmos[reg] = v;
        break;
    }
}

static uint64_t rtc_io_read(void *opaque, uint64_t offset, unsigned size)
{
    struct rtc *r = opaque;
    (void)size;
    if (offset == 0)
        return 0xFF;        /* the index port is write-only */
    return read_reg(r, r->index, true);
}

static void rtc_io_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    struct rtc *r = opaque;
    (void)size;
    if (offset == 0) {
        r->nmi_disabled = value & 0x80;     /* the NMI mask shares the index port */
        r->index = value & 0x7F;
        return;
    }
    write_reg(r, r->index, (uint8_t)value);
}

static const struct io_ops rtc_io_ops = {
    .read = rtc_io_read,
    .write = rtc_io_write,
    .max_size = 1,
};

/* ---- lifecycle and machine interface ---- */

struct rtc *rtc_create(struct iobus *pio, struct vclock *clock, struct irq irq8,
                       time_t base_time, const struct logger *log)
{
    struct rtc *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->pio = pio;
    r->clock = clock;
    r->irq = irq8;
    r->log = log;
    vtimer_init(&r->periodic_timer, clock, rtc_timer_cb, r);
    vtimer_init(&r->second_timer, clock, rtc_timer_cb, r);
    r->cmos[REG_A] = A_DV_RUN | 0x06;       /* running, 1024 Hz periodic rate */
    r->cmos[REG_B] = B_24H;                 /* BCD, 24 hours */
    r->cmos[REG_D] = D_VRT;
    r->anchor_ns = 0;                       /* base_time is the time at virtual 0 */
    /* Keep the arithmetic far from overflow: 1970 .. 9999-12-31. */
    int64_t base = (int64_t)base_time;
    r->anchor_sec = base < 0 ? 0 : base > RTC_MAX_BASE_SEC ? RTC_MAX_BASE_SEC : base;
    r->synced_ns = now_ns(r);
    if (iobus_register(pio, &r->region, 0x70, 2, &rtc_io_ops, r, "rtc") < 0) {
        free(r);
        return NULL;
    }
    return r;
}

void rtc_destroy(struct rtc *r)
{
    if (!r)
        return;
    vtimer_del(&r->periodic_timer);
    vtimer_del(&r->second_timer);
    iobus_unmap(r->pio, &r->region);
    free(r);
}

/* The chip's RESET pin: interrupt enables and flags clear, time and the
 * other control bits survive (the clock is battery-backed). */
void rtc_reset(struct rtc *r)
{
    int64_t now = now_ns(r);
    sync_flags(r, now);
    r->cmos[REG_B] &= (uint8_t)~(B_PIE | B_AIE | B_UIE | B_SQWE);
    r->cmos[REG_C] = 0;
    refresh(r, now);
}

/* Clock registers go through the guest's write path so they stay
 * consistent (e.g. setting the century moves the running clock). */
void rtc_cmos_set(struct rtc *r, unsigned index, uint8_t value)
{
    if (index >= RTC_CMOS_SIZE) {
        log_warn(r->log, "rtc: CMOS index %u out of range", index);
        return;
    }
    if (is_time_reg(index) || index <= REG_D)
        write_reg(r, index, value);
    else
        r->cmos[index] = value;
}

uint8_t rtc_cmos_get(struct rtc *r, unsigned index)
{
    if (index >= RTC_CMOS_SIZE)
        return 0xFF;
    return read_reg(r, index, false);
}

bool rtc_nmi_disabled(const struct rtc *r)
{
    return r->nmi_disabled;
}
