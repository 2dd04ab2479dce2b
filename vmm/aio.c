/* The asynchronous I/O queue: a FIFO of requests served by worker threads,
 * and a list of finished requests whose `done` runs on the event loop.
 * One mutex guards both lists; one condition variable (broadcast) tells
 * workers about new work and aio_drain about inflight reaching zero. */
#include "aio.h"

#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "loop.h"

static void signal_completion(struct aio *a)
{
    uint64_t one = 1;
    /* EAGAIN only if the counter is saturated: the loop wakes anyway. */
    ssize_t r = write(a->efd, &one, sizeof(one));
    (void)r;
}

static void *aio_worker(void *opaque)
{
    struct aio *a = opaque;
    pthread_mutex_lock(&a->lock);
    for (;;) {
        while (!a->head && !a->stop)
            pthread_cond_wait(&a->cond, &a->lock);
        struct aio_req *r = a->head;
        if (!r)
            break;              /* stop requested and the queue is empty */
        a->head = r->next;
        if (!a->head)
            a->tail = NULL;
        pthread_mutex_unlock(&a->lock);

        /* The slow part, with no lock held. */
        r->result = r->work ? r->work(r) : 0;
        r->next = NULL;

        pthread_mutex_lock(&a->lock);
        if (a->done_tail)
            a->done_tail->next = r;
        else
            a->done_head = r;
        a->done_tail = r;
        a->inflight--;
        if (a->inflight == 0)
            pthread_cond_broadcast(&a->cond);
        signal_completion(a);
    }
    pthread_mutex_unlock(&a->lock);
    return NULL;
}

static void aio_efd_ready(void *opaque, uint32_t events)
{
    (void)events;
    aio_poll_completions(opaque);
}

int aio_init(struct aio *a, struct loop *loop, int nworkers)
{
    memset(a, 0, sizeof(*a));
    a->loop = loop;
    if (nworkers < 1)
        nworkers = 1;
    if (nworkers > AIO_MAX_WORKERS)
        nworkers = AIO_MAX_WORKERS;
    a->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (a->efd < 0)
        return -1;
    if (pthread_mutex_init(&a->lock, NULL) != 0)
        goto fail_efd;
    if (pthread_cond_init(&a->cond, NULL) != 0)
        goto fail_mutex;
    if (loop && loop_add_fd(loop, a->efd, EPOLLIN, aio_efd_ready, a) < 0)
        goto fail_cond;
    for (int i = 0; i < nworkers; i++) {
        if (pthread_create(&a->workers[i], NULL, aio_worker, a) != 0)
            break;
        a->nworkers++;
    }
    if (a->nworkers == 0) {
        if (loop)
            loop_del_fd(loop, a->efd);
        goto fail_cond;
    }
    return 0;

fail_cond:
    pthread_cond_destroy(&a->cond);
fail_mutex:
    pthread_mutex_destroy(&a->lock);
fail_efd:
    close(a->efd);
    a->efd = -1;
    return -1;
}

/* Workers finish everything already queued before they exit; completions
 * still pending are run here so no request is left without its `done`
 * (the caller holds the machine lock, as for aio_poll_completions). */
void aio_destroy(struct aio *a)
{
    if (a->efd < 0)
        return;
    pthread_mutex_lock(&a->lock);
    a->stop = true;
    pthread_cond_broadcast(&a->cond);
    pthread_mutex_unlock(&a->lock);
    for (int i = 0; i < a->nworkers; i++)
        pthread_join(a->workers[i], NULL);
    a->nworkers = 0;
    if (a->loop)
        loop_del_fd(a->loop, a->efd);
    aio_poll_completions(a);
    pthread_cond_destroy(&a->cond);
    pthread_mutex_destroy(&a->lock);
    close(a->efd);
    a->efd = -1;
}

void aio_submit(struct aio *a, struct aio_req *r)
{
    r->next = NULL;
    pthread_mutex_lock(&a->lock);
    if (a->tail)
        a->tail->next = r;
    else
        a->head = r;
    a->tail = r;
    a->inflight++;
    /* Broadcast: the cond is shared with aio_drain, so a signal could wake
     * a drainer instead of a worker. */
    pthread_cond_broadcast(&a->cond);
    pthread_mutex_unlock(&a->lock);
}

unsigned aio_poll_completions(struct aio *a)
{
    uint64_t v;
    /* Clear the eventfd before taking the list: a completion that lands
     * after the swap signals again, so none is missed. */
    ssize_t rd = read(a->efd, &v, sizeof(v));
    (void)rd;

    pthread_mutex_lock(&a->lock);
    struct aio_req *r = a->done_head;
    a->done_head = a->done_tail = NULL;
    pthread_mutex_unlock(&a->lock);

    unsigned n = 0;
    while (r) {
        struct aio_req *next = r->next;   /* done() may free or resubmit r */
        r->next = NULL;
        if (r->done)
            r->done(r);
        r = next;
        n++;
    }
    return n;
}

void aio_drain(struct aio *a)
{
    pthread_mutex_lock(&a->lock);
    while (a->inflight)
        pthread_cond_wait(&a->cond, &a->lock);
    pthread_mutex_unlock(&a->lock);
    aio_poll_completions(a);
}
