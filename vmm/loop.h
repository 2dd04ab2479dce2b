/* The event loop: one thread, epoll on file descriptors (monitor socket,
 * stdin, VNC, slirp, async I/O completions) and a timerfd that follows the
 * earliest virtual-clock deadline.  Every callback runs with the machine
 * lock held, so device code never sees two threads at once. */
#ifndef MINUS1_LOOP_H
#define MINUS1_LOOP_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "vclock.h"

#define LOOP_MAX_FDS 64

typedef void (*loop_fd_cb)(void *opaque, uint32_t events);
typedef void (*loop_call_fn)(void *opaque);

struct loop_fd {
    int fd;
    loop_fd_cb cb;
    void *opaque;
    bool used;
};

struct loop_call {
    loop_call_fn fn;
    void *opaque;
};

#define LOOP_MAX_CALLS 256

struct loop {
    int epfd;
    int timerfd;
    int wakefd;             /* eventfd: stop requests and cross-thread calls */
    pthread_mutex_t *lock;  /* the machine lock */
    struct vclock *clock;
    /* What the timerfd was last set to (host ns, 0 = disarmed), valid
     * until it fires: re-arming at the same deadline is skipped, which
     * saves a syscall on most timer changes.  Machine lock. */
    uint64_t armed_ns;
    bool armed_valid;
    struct loop_fd fds[LOOP_MAX_FDS];
    /* Calls posted from other threads (workers), run on the loop. */
    pthread_mutex_t calls_lock;
    struct loop_call calls[LOOP_MAX_CALLS];
    unsigned ncalls;
    volatile bool stop;
    pthread_t thread;
    bool thread_started;
};

int loop_init(struct loop *l, pthread_mutex_t *machine_lock, struct vclock *clock);
void loop_destroy(struct loop *l);

/* events are EPOLLIN/EPOLLOUT bits.  Returns 0 or -1. */
int loop_add_fd(struct loop *l, int fd, uint32_t events, loop_fd_cb cb, void *opaque);
int loop_mod_fd(struct loop *l, int fd, uint32_t events);
void loop_del_fd(struct loop *l, int fd);

/* Thread-safe: run fn(opaque) on the loop thread, under the machine lock.
 * Returns -1 if the queue is full (the caller retries or drops). */
int loop_post(struct loop *l, loop_call_fn fn, void *opaque);

/* Runs the loop on a new thread / stops and joins it. */
int loop_start(struct loop *l);
void loop_stop(struct loop *l);

/* One iteration with a timeout (ms, -1 = block); for tests and for
 * running the loop on the caller's thread. */
void loop_run_once(struct loop *l, int timeout_ms);

/* The clock's notify hook: re-arms the timerfd (any thread, lock held). */
void loop_clock_changed(void *opaque);

#endif
