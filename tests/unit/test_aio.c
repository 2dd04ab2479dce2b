#include <CUnit/CUnit.h>
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../vmm/aio.h"
#include "../../vmm/loop.h"

#define NREQ 100

struct jobs;

struct job {
    struct aio_req req;
    struct jobs *owner;
    int index;
    pthread_t work_thread;
    pthread_t done_thread;
    int64_t done_result;
    int done_calls;
    int lock_held_in_done;
    int lock_held_in_work;
    unsigned sleep_us;
};

struct jobs {
    struct job j[NREQ];
    pthread_mutex_t *lock;      /* machine lock, if any */
    /* Start order seen by the workers (FIFO check with one worker). */
    pthread_mutex_t order_lock;
    int order[NREQ];
    int norder;
    int done_total;
};

static int64_t job_work(struct aio_req *r)
{
    struct job *j = r->opaque;
    struct jobs *js = j->owner;
    j->work_thread = pthread_self();
    if (js->lock) {
        /* Work runs without the machine lock. */
        int e = pthread_mutex_trylock(js->lock);
        j->lock_held_in_work = e == EBUSY;
        if (e == 0)
            pthread_mutex_unlock(js->lock);
    }
    pthread_mutex_lock(&js->order_lock);
    if (js->norder < NREQ)
        js->order[js->norder++] = j->index;
    pthread_mutex_unlock(&js->order_lock);
    if (j->sleep_us)
        usleep(j->sleep_us);
    return (int64_t)j->index * 1000 - 7;
}

static void job_done(struct aio_req *r)
{
    struct job *j = r->opaque;
    struct jobs *js = j->owner;
    j->done_thread = pthread_self();
    j->done_result = r->result;
    j->done_calls++;
    if (js->lock)
        j->lock_held_in_done = pthread_mutex_trylock(js->lock) == EBUSY;
    js->done_total++;
}

static void jobs_init(struct jobs *js, pthread_mutex_t *lock, unsigned sleep_us)
{
    memset(js, 0, sizeof(*js));
    js->lock = lock;
    pthread_mutex_init(&js->order_lock, NULL);
    for (int i = 0; i < NREQ; i++) {
        struct job *j = &js->j[i];
        j->index = i;
        j->owner = js;
        j->sleep_us = sleep_us;
        j->req.work = job_work;
        j->req.done = job_done;
        j->req.opaque = j;
        j->req.result = -12345;
    }
}

static void test_hundred_requests(void)
{
    static struct jobs js;
    struct aio a;
    jobs_init(&js, NULL, 0);
    CU_ASSERT_EQUAL_FATAL(aio_init(&a, NULL, 4), 0);
    CU_ASSERT_EQUAL(a.nworkers, 4);
    for (int i = 0; i < NREQ; i++)
        aio_submit(&a, &js.j[i].req);
    aio_drain(&a);
    CU_ASSERT_EQUAL(js.done_total, NREQ);
    CU_ASSERT_EQUAL(a.inflight, 0);
    int on_worker = 0, done_here = 0, results_ok = 0, once = 0;
    for (int i = 0; i < NREQ; i++) {
        struct job *j = &js.j[i];
        on_worker += !pthread_equal(j->work_thread, pthread_self());
        done_here += pthread_equal(j->done_thread, pthread_self());
        results_ok += j->done_result == (int64_t)i * 1000 - 7 && j->req.result == j->done_result;
        once += j->done_calls == 1;
    }
    CU_ASSERT_EQUAL(on_worker, NREQ);
    CU_ASSERT_EQUAL(done_here, NREQ);
    CU_ASSERT_EQUAL(results_ok, NREQ);
    CU_ASSERT_EQUAL(once, NREQ);
    /* Nothing left: polling again runs nothing. */
    CU_ASSERT_EQUAL(aio_poll_completions(&a), 0);
    aio_destroy(&a);
}

/* done() must not run on the worker: before a poll, nothing completed. */
static void test_done_only_when_polled(void)
{
    static struct jobs js;
    struct aio a;
    jobs_init(&js, NULL, 0);
    CU_ASSERT_EQUAL_FATAL(aio_init(&a, NULL, 2), 0);
    for (int i = 0; i < 10; i++)
        aio_submit(&a, &js.j[i].req);
    /* Wait for the workers without polling. */
    for (int t = 0; t < 2000; t++) {
        pthread_mutex_lock(&a.lock);
        unsigned n = a.inflight;
        pthread_mutex_unlock(&a.lock);
        if (!n)
            break;
        usleep(1000);
    }
    CU_ASSERT_EQUAL(js.done_total, 0);
    CU_ASSERT_EQUAL(aio_poll_completions(&a), 10);
    CU_ASSERT_EQUAL(js.done_total, 10);
    aio_destroy(&a);
}

static void test_fifo_one_worker(void)
{
    static struct jobs js;
    struct aio a;
    jobs_init(&js, NULL, 0);
    CU_ASSERT_EQUAL_FATAL(aio_init(&a, NULL, 1), 0);
    for (int i = 0; i < NREQ; i++)
        aio_submit(&a, &js.j[i].req);
    aio_drain(&a);
    CU_ASSERT_EQUAL(js.norder, NREQ);
    int in_order = 0;
    for (int i = 0; i < js.norder; i++)
        in_order += js.order[i] == i;
    CU_ASSERT_EQUAL(in_order, NREQ);
    aio_destroy(&a);
    /* Hostile worker counts are clamped, not trusted. */
    CU_ASSERT_EQUAL_FATAL(aio_init(&a, NULL, 1000), 0);
    CU_ASSERT_EQUAL(a.nworkers, AIO_MAX_WORKERS);
    aio_destroy(&a);
    CU_ASSERT_EQUAL_FATAL(aio_init(&a, NULL, -3), 0);
    CU_ASSERT_EQUAL(a.nworkers, 1);
    aio_destroy(&a);
}

/* With a loop: completions arrive through the eventfd and run on the loop
 * thread under the machine lock; work runs without it. */
static void test_with_loop(void)
{
    static struct jobs js;
    pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    struct loop l;
    struct aio a;
    jobs_init(&js, &lock, 0);
    CU_ASSERT_EQUAL_FATAL(loop_init(&l, &lock, NULL), 0);
    CU_ASSERT_EQUAL_FATAL(aio_init(&a, &l, 3), 0);
    for (int i = 0; i < NREQ; i++)
        aio_submit(&a, &js.j[i].req);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do {
        loop_run_once(&l, 100);
        clock_gettime(CLOCK_MONOTONIC, &t1);
    } while (js.done_total < NREQ && t1.tv_sec - t0.tv_sec < 3);
    CU_ASSERT_EQUAL(js.done_total, NREQ);
    int held_done = 0, held_work = 0, here = 0;
    for (int i = 0; i < NREQ; i++) {
        held_done += js.j[i].lock_held_in_done;
        held_work += js.j[i].lock_held_in_work;
        here += pthread_equal(js.j[i].done_thread, pthread_self());
    }
    CU_ASSERT_EQUAL(held_done, NREQ);
    CU_ASSERT_EQUAL(here, NREQ);
    /* The loop only holds the lock while dispatching, and the workers are
     * not the ones holding it: most of the time it is free. */
    CU_ASSERT(held_work < NREQ);
    aio_destroy(&a);
    loop_destroy(&l);
}

/* Destroy finishes queued work and runs the completions. */
static void test_destroy_finishes_work(void)
{
    static struct jobs js;
    struct aio a;
    jobs_init(&js, NULL, 500);
    CU_ASSERT_EQUAL_FATAL(aio_init(&a, NULL, 2), 0);
    for (int i = 0; i < 20; i++)
        aio_submit(&a, &js.j[i].req);
    aio_destroy(&a);
    CU_ASSERT_EQUAL(js.norder, 20);
    CU_ASSERT_EQUAL(js.done_total, 20);
    CU_ASSERT_EQUAL(js.j[19].done_result, 19 * 1000 - 7);
}

void suite_aio(void)
{
    CU_pSuite s = CU_add_suite("aio", NULL, NULL);
    CU_add_test(s, "100 requests complete with their results", test_hundred_requests);
    CU_add_test(s, "done runs only when polled", test_done_only_when_polled);
    CU_add_test(s, "FIFO order, worker count clamped", test_fifo_one_worker);
    CU_add_test(s, "completions through the loop, lock held", test_with_loop);
    CU_add_test(s, "destroy finishes queued work", test_destroy_finishes_work);
}
