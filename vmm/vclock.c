#include "vclock.h"

#include <stddef.h>
#include <time.h>

static uint64_t host_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

void vclock_init(struct vclock *c)
{
    c->manual = false;
    c->manual_ns = 0;
    c->offset_ns = host_mono_ns();
    c->timers = NULL;
    c->notify = NULL;
    c->notify_opaque = NULL;
}

void vclock_set_manual(struct vclock *c, uint64_t ns)
{
    c->manual = true;
    c->manual_ns = ns;
}

uint64_t vclock_ns(const struct vclock *c)
{
    if (c->manual)
        return c->manual_ns;
    return host_mono_ns() - c->offset_ns;
}

void vtimer_init(struct vtimer *t, struct vclock *c, void (*cb)(void *), void *opaque)
{
    t->deadline_ns = 0;
    t->cb = cb;
    t->opaque = opaque;
    t->armed = false;
    t->next = NULL;
    t->clock = c;
}

static void unlink_timer(struct vtimer *t)
{
    struct vtimer **pp = &t->clock->timers;
    while (*pp && *pp != t)
        pp = &(*pp)->next;
    if (*pp)
        *pp = t->next;
    t->next = NULL;
    t->armed = false;
}

void vtimer_del(struct vtimer *t)
{
    if (t->armed)
        unlink_timer(t);
}

void vtimer_mod(struct vtimer *t, uint64_t deadline_ns)
{
    struct vclock *c = t->clock;
    uint64_t old_first = c->timers ? c->timers->deadline_ns : UINT64_MAX;
    vtimer_del(t);
    t->deadline_ns = deadline_ns;
    t->armed = true;
    /* Sorted insert; timers with equal deadlines fire in arming order. */
    struct vtimer **pp = &c->timers;
    while (*pp && (*pp)->deadline_ns <= deadline_ns)
        pp = &(*pp)->next;
    t->next = *pp;
    *pp = t;
    if (c->timers == t && deadline_ns < old_first && c->notify)
        c->notify(c->notify_opaque);
}

uint64_t vclock_next_deadline(const struct vclock *c)
{
    return c->timers ? c->timers->deadline_ns : UINT64_MAX;
}

/* Fires timers due at `now`.  A callback that re-arms in the past is run
 * again, but at most a bounded number of times per call so a misbehaving
 * periodic timer cannot hang the loop. */
static void run_due(struct vclock *c, uint64_t now)
{
    for (unsigned budget = 100000; budget && c->timers && c->timers->deadline_ns <= now;
         budget--) {
        struct vtimer *t = c->timers;
        unlink_timer(t);
        t->cb(t->opaque);
    }
}

uint64_t vclock_run_timers(struct vclock *c)
{
    run_due(c, vclock_ns(c));
    return vclock_next_deadline(c);
}

void vclock_advance(struct vclock *c, uint64_t delta_ns)
{
    uint64_t target = c->manual_ns + delta_ns;
    /* Step to each deadline in turn so callbacks see the time they expect. */
    while (c->timers && c->timers->deadline_ns <= target) {
        if (c->timers->deadline_ns > c->manual_ns)
            c->manual_ns = c->timers->deadline_ns;
        run_due(c, c->manual_ns);
    }
    c->manual_ns = target;
}

uint64_t vclock_ns_to_ticks(uint64_t ns, uint64_t hz)
{
    return (uint64_t)(((unsigned __int128)ns * hz) / NS_PER_SEC);
}

uint64_t vclock_ticks_to_ns(uint64_t ticks, uint64_t hz)
{
    return (uint64_t)(((unsigned __int128)ticks * NS_PER_SEC + hz - 1) / hz);
}
