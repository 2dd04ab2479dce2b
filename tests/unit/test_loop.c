#include <CUnit/CUnit.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "../../vmm/loop.h"

static uint64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct call_log {
    int order[LOOP_MAX_CALLS + 1];
    int n;
};

struct call_arg {
    struct call_log *log;
    int id;
};

static void record_call(void *opaque)
{
    struct call_arg *a = opaque;
    a->log->order[a->log->n++] = a->id;
}

static void test_posted_calls(void)
{
    struct loop l;
    struct call_log log = { .n = 0 };
    static struct call_arg args[LOOP_MAX_CALLS + 1];
    CU_ASSERT_EQUAL_FATAL(loop_init(&l, NULL, NULL), 0);

    args[0] = (struct call_arg){ &log, 0 };
    CU_ASSERT_EQUAL(loop_post(&l, record_call, &args[0]), 0);
    CU_ASSERT_EQUAL(log.n, 0);          /* only on the loop */
    loop_run_once(&l, 1000);
    CU_ASSERT_EQUAL(log.n, 1);
    loop_run_once(&l, 0);
    CU_ASSERT_EQUAL(log.n, 1);          /* runs once, not again */

    /* The queue is bounded; order is preserved. */
    log.n = 0;
    for (int i = 0; i < LOOP_MAX_CALLS; i++) {
        args[i] = (struct call_arg){ &log, i };
        CU_ASSERT_EQUAL(loop_post(&l, record_call, &args[i]), 0);
    }
    CU_ASSERT_EQUAL(loop_post(&l, record_call, &args[0]), -1);
    CU_ASSERT_EQUAL(loop_post(&l, NULL, NULL), -1);
    loop_run_once(&l, 1000);
    CU_ASSERT_EQUAL(log.n, LOOP_MAX_CALLS);
    for (int i = 0; i < log.n; i++)
        CU_ASSERT_EQUAL(log.order[i], i);
    /* Room again after the queue ran. */
    CU_ASSERT_EQUAL(loop_post(&l, record_call, &args[0]), 0);
    loop_run_once(&l, 1000);
    CU_ASSERT_EQUAL(log.n, LOOP_MAX_CALLS + 1);
    loop_destroy(&l);
}

struct pipe_ctx {
    int fd;
    int calls;
    uint32_t events;
    char got;
};

static void pipe_cb(void *opaque, uint32_t events)
{
    struct pipe_ctx *p = opaque;
    p->calls++;
    p->events = events;
    ssize_t r = read(p->fd, &p->got, 1);
    (void)r;
}

static void test_fd_callback(void)
{
    struct loop l;
    int pfd[2];
    CU_ASSERT_EQUAL_FATAL(loop_init(&l, NULL, NULL), 0);
    CU_ASSERT_EQUAL_FATAL(pipe2(pfd, O_CLOEXEC | O_NONBLOCK), 0);
    struct pipe_ctx p = { .fd = pfd[0] };

    CU_ASSERT_EQUAL(loop_add_fd(&l, pfd[0], EPOLLIN, pipe_cb, &p), 0);
    CU_ASSERT_EQUAL(loop_add_fd(&l, pfd[0], EPOLLIN, pipe_cb, &p), -1);   /* twice */
    CU_ASSERT_EQUAL(loop_add_fd(&l, -1, EPOLLIN, pipe_cb, &p), -1);
    CU_ASSERT_EQUAL(loop_mod_fd(&l, pfd[1], EPOLLIN), -1);                /* unknown */

    loop_run_once(&l, 0);
    CU_ASSERT_EQUAL(p.calls, 0);
    CU_ASSERT_EQUAL(write(pfd[1], "x", 1), 1);
    loop_run_once(&l, 1000);
    CU_ASSERT_EQUAL(p.calls, 1);
    CU_ASSERT(p.events & EPOLLIN);
    CU_ASSERT_EQUAL(p.got, 'x');

    /* Watching nothing: data stays unread, no callback. */
    CU_ASSERT_EQUAL(loop_mod_fd(&l, pfd[0], 0), 0);
    CU_ASSERT_EQUAL(write(pfd[1], "y", 1), 1);
    loop_run_once(&l, 0);
    CU_ASSERT_EQUAL(p.calls, 1);
    CU_ASSERT_EQUAL(loop_mod_fd(&l, pfd[0], EPOLLIN), 0);
    loop_run_once(&l, 1000);
    CU_ASSERT_EQUAL(p.calls, 2);
    CU_ASSERT_EQUAL(p.got, 'y');

    loop_del_fd(&l, pfd[0]);
    CU_ASSERT_EQUAL(write(pfd[1], "z", 1), 1);
    loop_run_once(&l, 0);
    CU_ASSERT_EQUAL(p.calls, 2);

    /* The table is bounded. */
    int dups[LOOP_MAX_FDS + 1];
    int added = 0;
    for (int i = 0; i < LOOP_MAX_FDS + 1; i++) {
        dups[i] = fcntl(pfd[0], F_DUPFD_CLOEXEC, 0);
        if (loop_add_fd(&l, dups[i], EPOLLIN, pipe_cb, &p) == 0)
            added++;
    }
    CU_ASSERT_EQUAL(added, LOOP_MAX_FDS);
    for (int i = 0; i < LOOP_MAX_FDS + 1; i++) {
        loop_del_fd(&l, dups[i]);
        close(dups[i]);
    }
    close(pfd[0]);
    close(pfd[1]);
    loop_destroy(&l);
}

struct timer_ctx {
    struct vtimer t;
    struct vclock *clock;
    volatile int fired;
    int rearm;
};

static void timer_cb(void *opaque)
{
    struct timer_ctx *tc = opaque;
    __atomic_add_fetch(&tc->fired, 1, __ATOMIC_SEQ_CST);
    if (tc->rearm-- > 0)
        vtimer_mod(&tc->t, vclock_ns(tc->clock) + 5 * 1000000ull);
}

/* A real (host) clock: the timerfd must wake a loop that would otherwise
 * sleep for much longer than the test allows. */
static void test_timer_real_clock(void)
{
    struct vclock c;
    struct loop l;
    struct timer_ctx tc = { .clock = &c, .rearm = 2 };
    vclock_init(&c);
    CU_ASSERT_EQUAL_FATAL(loop_init(&l, NULL, &c), 0);
    CU_ASSERT_PTR_EQUAL(c.notify, loop_clock_changed);
    vtimer_init(&tc.t, &c, timer_cb, &tc);
    vtimer_mod(&tc.t, vclock_ns(&c) + 10 * 1000000ull);

    uint64_t start = wall_ms();
    /* Each iteration may sleep 10 s if nothing wakes it; the timer (and
     * its two re-arms) must get us out far sooner. */
    while (tc.fired < 3 && wall_ms() - start < 5000)
        loop_run_once(&l, 10000);
    CU_ASSERT_EQUAL(tc.fired, 3);
    CU_ASSERT(wall_ms() - start < 5000);
    CU_ASSERT_FALSE(vtimer_pending(&tc.t));

    /* A deleted timer leaves no wake-up behind that runs it. */
    vtimer_mod(&tc.t, vclock_ns(&c) + 1000000ull);
    vtimer_del(&tc.t);
    loop_run_once(&l, 50);
    CU_ASSERT_EQUAL(tc.fired, 3);
    loop_destroy(&l);
    CU_ASSERT_PTR_NULL(c.notify);
}

/* A manual clock: a timer already due runs on the next iteration. */
static void test_timer_manual_clock(void)
{
    struct vclock c;
    struct loop l;
    struct timer_ctx tc = { .clock = &c };
    vclock_init(&c);
    vclock_set_manual(&c, 1000);
    CU_ASSERT_EQUAL_FATAL(loop_init(&l, NULL, &c), 0);
    vtimer_init(&tc.t, &c, timer_cb, &tc);
    vtimer_mod(&tc.t, 5000);
    loop_run_once(&l, 0);
    CU_ASSERT_EQUAL(tc.fired, 0);
    /* Re-armed to "now": the notify hook must make the loop wake. */
    vtimer_mod(&tc.t, 1000);
    uint64_t start = wall_ms();
    loop_run_once(&l, 10000);
    CU_ASSERT_EQUAL(tc.fired, 1);
    CU_ASSERT(wall_ms() - start < 5000);
    loop_destroy(&l);
}

struct thread_ctx {
    pthread_t ran_on;
    volatile int ran;
    pthread_mutex_t *lock;
    int lock_held;
};

static void thread_call(void *opaque)
{
    struct thread_ctx *t = opaque;
    t->ran_on = pthread_self();
    /* The machine lock is held around callbacks. */
    t->lock_held = pthread_mutex_trylock(t->lock) == EBUSY;
    __atomic_store_n(&t->ran, 1, __ATOMIC_SEQ_CST);
}

static bool wait_flag(volatile int *flag, int want, uint64_t ms)
{
    uint64_t start = wall_ms();
    while (__atomic_load_n(flag, __ATOMIC_SEQ_CST) < want && wall_ms() - start < ms)
        usleep(1000);
    return __atomic_load_n(flag, __ATOMIC_SEQ_CST) >= want;
}

static void test_start_stop(void)
{
    pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    struct vclock c;
    struct loop l;
    struct thread_ctx t = { .lock = &lock };
    struct timer_ctx tc = { .clock = &c };
    vclock_init(&c);
    CU_ASSERT_EQUAL_FATAL(loop_init(&l, &lock, &c), 0);
    CU_ASSERT_EQUAL_FATAL(loop_start(&l), 0);
    CU_ASSERT(l.thread_started);
    CU_ASSERT_EQUAL(loop_start(&l), -1);   /* already running */

    CU_ASSERT_EQUAL(loop_post(&l, thread_call, &t), 0);
    CU_ASSERT(wait_flag(&t.ran, 1, 2000));
    CU_ASSERT_FALSE(pthread_equal(t.ran_on, pthread_self()));
    CU_ASSERT(t.lock_held);

    /* Arming a timer from "the vCPU thread" (this one, lock held) must wake
     * the loop thread that is blocked in epoll_wait with no timeout. */
    vtimer_init(&tc.t, &c, timer_cb, &tc);
    pthread_mutex_lock(&lock);
    vtimer_mod(&tc.t, vclock_ns(&c) + 10 * 1000000ull);
    pthread_mutex_unlock(&lock);
    CU_ASSERT(wait_flag(&tc.fired, 1, 2000));

    loop_stop(&l);
    CU_ASSERT_FALSE(l.thread_started);
    /* Stopped: posted calls wait for the next iteration. */
    t.ran = 0;
    CU_ASSERT_EQUAL(loop_post(&l, thread_call, &t), 0);
    usleep(20000);
    CU_ASSERT_EQUAL(t.ran, 0);
    /* And the loop can be started again. */
    CU_ASSERT_EQUAL(loop_start(&l), 0);
    CU_ASSERT(wait_flag(&t.ran, 1, 2000));
    loop_destroy(&l);
    CU_ASSERT_FALSE(l.thread_started);
}

void suite_loop(void)
{
    CU_pSuite s = CU_add_suite("loop", NULL, NULL);
    CU_add_test(s, "posted calls, bounded queue", test_posted_calls);
    CU_add_test(s, "fd callback on a pipe", test_fd_callback);
    CU_add_test(s, "vtimer on the host clock wakes the loop", test_timer_real_clock);
    CU_add_test(s, "vtimer on a manual clock", test_timer_manual_clock);
    CU_add_test(s, "start/stop from another thread", test_start_stop);
}
