/* The virtual clock and its timers.
 *
 * Every time-driven device (PIT, RTC, UART) reads time from here and arms
 * timers here.  The clock follows the host's CLOCK_MONOTONIC, or a manual
 * time that unit tests advance with vclock_set_manual()/vclock_advance().
 *
 * Timers fire from vclock_run_timers(), which the event loop calls with the
 * machine lock held (and unit tests call directly).  A callback may re-arm
 * its own timer or others. */
#ifndef MINUS1_VCLOCK_H
#define MINUS1_VCLOCK_H

#include <stdbool.h>
#include <stdint.h>

#define NS_PER_SEC 1000000000ull

struct vclock;

struct vtimer {
    uint64_t deadline_ns;
    void (*cb)(void *opaque);
    void *opaque;
    bool armed;
    struct vtimer *next;        /* in the clock's list, sorted by deadline */
    struct vclock *clock;
};

struct vclock {
    bool manual;
    uint64_t manual_ns;
    uint64_t offset_ns;             /* host monotonic time at machine start */
    struct vtimer *timers;          /* armed timers, earliest first */
    /* Called when the earliest deadline changes, so the event loop can
     * re-arm its timerfd.  May be NULL. */
    void (*notify)(void *opaque);
    void *notify_opaque;
};

void vclock_init(struct vclock *c);
/* Tests: freeze time at `ns` and advance it by hand. */
void vclock_set_manual(struct vclock *c, uint64_t ns);
/* Advances a manual clock and runs the timers that expire on the way, in
 * deadline order, each with the clock set to its deadline. */
void vclock_advance(struct vclock *c, uint64_t delta_ns);

/* Nanoseconds since the machine was created. */
uint64_t vclock_ns(const struct vclock *c);

void vtimer_init(struct vtimer *t, struct vclock *c, void (*cb)(void *), void *opaque);
void vtimer_mod(struct vtimer *t, uint64_t deadline_ns);   /* (re)arm, absolute */
void vtimer_del(struct vtimer *t);
static inline bool vtimer_pending(const struct vtimer *t) { return t->armed; }

/* Runs expired timers; returns the next deadline or UINT64_MAX. */
uint64_t vclock_run_timers(struct vclock *c);
uint64_t vclock_next_deadline(const struct vclock *c);

/* Helpers for tick arithmetic: ns -> ticks of a `hz` clock and back,
 * without overflow for any 64-bit ns. */
uint64_t vclock_ns_to_ticks(uint64_t ns, uint64_t hz);
uint64_t vclock_ticks_to_ns(uint64_t ticks, uint64_t hz);

#endif
