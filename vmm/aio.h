/* The asynchronous I/O queue: slow work (image reads and writes, fsync)
 * runs on a small pool of worker threads, never on a vCPU.  A request's
 * `work` runs on a worker without the machine lock; its `done` runs later
 * on the event loop with the lock held, where it may touch device state
 * and raise interrupts. */
#ifndef MINUS1_AIO_H
#define MINUS1_AIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct loop;

struct aio_req {
    /* Runs on a worker; returns a result code stored in `result`. */
    int64_t (*work)(struct aio_req *r);
    /* Runs on the loop thread, machine lock held. */
    void (*done)(struct aio_req *r);
    void *opaque;
    int64_t result;
    struct aio_req *next;
};

#define AIO_MAX_WORKERS 8

struct aio {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct aio_req *head, *tail;        /* submitted, not started */
    struct aio_req *done_head, *done_tail;  /* finished, completion pending */
    int efd;                            /* eventfd the loop watches */
    pthread_t workers[AIO_MAX_WORKERS];
    int nworkers;
    bool stop;
    unsigned inflight;
    struct loop *loop;
};

/* Starts `nworkers` threads and registers the completion eventfd with the
 * loop (loop may be NULL in tests: call aio_poll_completions()). */
int aio_init(struct aio *a, struct loop *loop, int nworkers);
/* Waits for in-flight work, then runs the pending completions on the
 * caller's thread: call it before destroying the devices that submit. */
void aio_destroy(struct aio *a);

void aio_submit(struct aio *a, struct aio_req *r);
/* Runs pending completions on the calling thread (lock held by caller). */
unsigned aio_poll_completions(struct aio *a);
/* Tests: block until nothing is in flight, then run completions. */
void aio_drain(struct aio *a);

#endif
