/* The event loop: epoll over registered fds, a timerfd that follows the
 * virtual clock's earliest deadline and an eventfd for wake-ups.  See
 * loop.h for the threading contract. */
#include "loop.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

/* epoll data for our own fds; registered fds carry (fd << 32 | slot). */
#define TAG_TIMER UINT64_MAX
#define TAG_WAKE (UINT64_MAX - 1)

#define LOOP_EVENTS_PER_WAIT 32

static uint64_t fd_tag(int fd, unsigned slot)
{
    return ((uint64_t)(uint32_t)fd << 32) | slot;
}

static void lock_machine(struct loop *l)
{
    if (l->lock)
        pthread_mutex_lock(l->lock);
}

static void unlock_machine(struct loop *l)
{
    if (l->lock)
        pthread_mutex_unlock(l->lock);
}

/* Reads and discards an eventfd/timerfd counter (both are non-blocking). */
static void drain_counter(int fd)
{
    uint64_t v;
    ssize_t r = read(fd, &v, sizeof(v));
    (void)r;
}

static void wake(struct loop *l)
{
    uint64_t one = 1;
    /* EAGAIN means the counter is already non-zero: the loop will wake. */
    ssize_t r = write(l->wakefd, &one, sizeof(one));
    (void)r;
}

static int epoll_add_tag(int epfd, int fd, uint32_t events, uint64_t tag)
{
    struct epoll_event ev = { .events = events, .data.u64 = tag };
    return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

int loop_init(struct loop *l, pthread_mutex_t *machine_lock, struct vclock *clock)
{
    memset(l, 0, sizeof(*l));
    l->lock = machine_lock;
    l->clock = clock;
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    l->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    l->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (l->epfd < 0 || l->timerfd < 0 || l->wakefd < 0 ||
        epoll_add_tag(l->epfd, l->timerfd, EPOLLIN, TAG_TIMER) < 0 ||
        epoll_add_tag(l->epfd, l->wakefd, EPOLLIN, TAG_WAKE) < 0 ||
        pthread_mutex_init(&l->calls_lock, NULL) != 0) {
        int e = errno;
        if (l->epfd >= 0)
            close(l->epfd);
        if (l->timerfd >= 0)
            close(l->timerfd);
        if (l->wakefd >= 0)
            close(l->wakefd);
        l->epfd = l->timerfd = l->wakefd = -1;
        errno = e;
        return -1;
    }
    if (clock) {
        clock->notify = loop_clock_changed;
        clock->notify_opaque = l;
        loop_clock_changed(l);   /* timers armed before the loop existed */
    }
    return 0;
}

void loop_destroy(struct loop *l)
{
    if (l->epfd < 0)
        return;
    loop_stop(l);
    if (l->clock && l->clock->notify == loop_clock_changed && l->clock->notify_opaque == l) {
        l->clock->notify = NULL;
        l->clock->notify_opaque = NULL;
    }
    close(l->epfd);
    close(l->timerfd);
    close(l->wakefd);
    l->epfd = l->timerfd = l->wakefd = -1;
    pthread_mutex_destroy(&l->calls_lock);
}

static int find_fd(const struct loop *l, int fd)
{
    for (int i = 0; i < LOOP_MAX_FDS; i++)
        if (l->fds[i].used && l->fds[i].fd == fd)
            return i;
    return -1;
}

int loop_add_fd(struct loop *l, int fd, uint32_t events, loop_fd_cb cb, void *opaque)
{
    if (fd < 0 || !cb || find_fd(l, fd) >= 0)
        return -1;
    for (unsigned i = 0; i < LOOP_MAX_FDS; i++) {
        if (l->fds[i].used)
            continue;
        if (epoll_add_tag(l->epfd, fd, events, fd_tag(fd, i)) < 0)
            return -1;
        l->fds[i] = (struct loop_fd){ .fd = fd, .cb = cb, .opaque = opaque, .used = true };
        return 0;
    }
    return -1;
}

int loop_mod_fd(struct loop *l, int fd, uint32_t events)
{
    int i = find_fd(l, fd);
    if (i < 0)
        return -1;
    struct epoll_event ev = { .events = events, .data.u64 = fd_tag(fd, (unsigned)i) };
    return epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev);
}

void loop_del_fd(struct loop *l, int fd)
{
    int i = find_fd(l, fd);
    if (i < 0)
        return;
    epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
    l->fds[i].used = false;
}

int loop_post(struct loop *l, loop_call_fn fn, void *opaque)
{
    if (!fn)
        return -1;
    pthread_mutex_lock(&l->calls_lock);
    if (l->ncalls >= LOOP_MAX_CALLS) {
        pthread_mutex_unlock(&l->calls_lock);
        return -1;
    }
    l->calls[l->ncalls++] = (struct loop_call){ .fn = fn, .opaque = opaque };
    pthread_mutex_unlock(&l->calls_lock);
    wake(l);
    return 0;
}

/* Swaps the queue out first so a call that posts another call (or a worker
 * posting meanwhile) never waits on calls_lock held by us. */
static void run_posted_calls(struct loop *l)
{
    struct loop_call batch[LOOP_MAX_CALLS];
    pthread_mutex_lock(&l->calls_lock);
    unsigned n = l->ncalls;
    memcpy(batch, l->calls, n * sizeof(batch[0]));
    l->ncalls = 0;
    pthread_mutex_unlock(&l->calls_lock);
    for (unsigned i = 0; i < n; i++)
        batch[i].fn(batch[i].opaque);
}

/* Points the timerfd at the clock's earliest deadline.  Callers hold the
 * machine lock (devices through vtimer_mod on the vCPU thread, the loop
 * after running timers), which guards armed_ns; timerfd_settime itself is
 * thread-safe, so the vCPU thread may call this while the loop waits. */
void loop_clock_changed(void *opaque)
{
    struct loop *l = opaque;
    struct vclock *c = l->clock;
    struct itimerspec its = { 0 };
    uint64_t deadline = c ? vclock_next_deadline(c) : UINT64_MAX;
    uint64_t host_ns = 0;

    if (deadline != UINT64_MAX) {
        if (!c->manual) {
            host_ns = deadline + c->offset_ns;
            if (host_ns < deadline)          /* overflow: effectively never */
                host_ns = UINT64_MAX;
        } else if (deadline <= c->manual_ns) {
            /* A manual clock only moves when a test advances it; a timer
             * already due should still run on the next iteration. */
            host_ns = 1;
        }
    }
    if (l->armed_valid && l->armed_ns == host_ns)
        return;
    l->armed_ns = host_ns;
    l->armed_valid = true;
    if (host_ns) {
        /* Absolute time in the past fires at once, which is what we want. */
        its.it_value.tv_sec = (time_t)(host_ns / NS_PER_SEC);
        its.it_value.tv_nsec = (long)(host_ns % NS_PER_SEC);
        if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
            its.it_value.tv_nsec = 1;   /* all-zero would disarm */
    }
    timerfd_settime(l->timerfd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void dispatch(struct loop *l, const struct epoll_event *ev)
{
    uint64_t tag = ev->data.u64;
    if (tag == TAG_TIMER) {
        drain_counter(l->timerfd);
        /* Expired, so disarmed: the next loop_clock_changed must set it
         * even to the same deadline (a timer the vclock does not yet
         * consider due). */
        l->armed_valid = false;
        return;
    }
    if (tag == TAG_WAKE) {
        drain_counter(l->wakefd);
        return;
    }
    unsigned slot = (unsigned)(tag & 0xffffffffu);
    int fd = (int)(tag >> 32);
    /* An earlier callback in this batch may have removed this fd. */
    if (slot >= LOOP_MAX_FDS || !l->fds[slot].used || l->fds[slot].fd != fd)
        return;
    l->fds[slot].cb(l->fds[slot].opaque, ev->events);
}

void loop_run_once(struct loop *l, int timeout_ms)
{
    struct epoll_event evs[LOOP_EVENTS_PER_WAIT];
    int n = epoll_wait(l->epfd, evs, LOOP_EVENTS_PER_WAIT, timeout_ms);
    if (n < 0)
        n = 0;   /* EINTR: still run calls and timers below */

    lock_machine(l);
    for (int i = 0; i < n; i++)
        dispatch(l, &evs[i]);
    run_posted_calls(l);
    if (l->clock)
        vclock_run_timers(l->clock);
    /* The timer list may have changed in any way (deleted, re-armed
     * later): follow it exactly, not only when it got earlier. */
    loop_clock_changed(l);
    unlock_machine(l);
}

static bool stop_requested(struct loop *l)
{
    return __atomic_load_n(&l->stop, __ATOMIC_ACQUIRE);
}

static void *loop_thread(void *opaque)
{
    struct loop *l = opaque;
    while (!stop_requested(l))
        loop_run_once(l, -1);
    return NULL;
}

int loop_start(struct loop *l)
{
    if (l->thread_started)
        return -1;
    __atomic_store_n(&l->stop, false, __ATOMIC_RELEASE);
    if (pthread_create(&l->thread, NULL, loop_thread, l) != 0)
        return -1;
    l->thread_started = true;
    return 0;
}

void loop_stop(struct loop *l)
{
    if (!l->thread_started)
        return;
    __atomic_store_n(&l->stop, true, __ATOMIC_RELEASE);
    wake(l);
    pthread_join(l->thread, NULL);
    l->thread_started = false;
    __atomic_store_n(&l->stop, false, __ATOMIC_RELEASE);
}
