/* The generic part of the block layer: request validation, the hop onto
 * the asynchronous I/O queue, and the memory-backed image used by tests. */
#include "block.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

uint64_t block_iov_bytes(const struct iovec *iov, int iovcnt)
{
    uint64_t n = 0;
    for (int i = 0; i < iovcnt; i++)
        n += iov[i].iov_len;
    return n;
}

uint64_t block_size(const struct block_backend *bb) { return bb ? bb->size : 0; }
bool block_readonly(const struct block_backend *bb) { return bb && bb->readonly; }
const char *block_path(const struct block_backend *bb) { return bb ? bb->path : ""; }
const char *block_format(const struct block_backend *bb) { return bb ? bb->ops->format : ""; }

void block_close(struct block_backend *bb)
{
    if (!bb)
        return;
    if (bb->ops->close)
        bb->ops->close(bb);
    free(bb->path);
    free(bb);
}

/* Worker side: no machine lock, may block on the file. */
static int64_t block_work(struct aio_req *a)
{
    struct block_req *r = a->opaque;
    struct block_backend *bb = r->bb;
    switch (r->op) {
    case BLOCK_READ:
        return bb->ops->readv(bb, r->offset, r->iov, r->iovcnt);
    case BLOCK_WRITE: {
        int ret = bb->ops->writev(bb, r->offset, r->iov, r->iovcnt);
        if (ret == 0 && r->fua && bb->ops->flush)
            ret = bb->ops->flush(bb);
        return ret;
    }
    case BLOCK_FLUSH:
        return bb->ops->flush ? bb->ops->flush(bb) : 0;
    }
    return -EINVAL;
}

/* Loop side, machine lock held. */
static void block_done(struct aio_req *a)
{
    struct block_req *r = a->opaque;
    if (r->done)
        r->done(r, (int)a->result);
}

int block_submit(struct aio *aio, struct block_req *r)
{
    struct block_backend *bb = r->bb;
    if (!bb)
        return -ENOMEDIUM;
    if (r->op == BLOCK_WRITE && bb->readonly)
        return -EROFS;
    if (r->op != BLOCK_FLUSH) {
        if (r->iovcnt < 0 || r->iovcnt > IOV_MAX || (r->iovcnt > 0 && !r->iov))
            return -EINVAL;
        uint64_t len = block_iov_bytes(r->iov, r->iovcnt);
        /* Never a byte outside the image, whatever the caller computed. */
        if (r->offset > bb->size || len > bb->size - r->offset)
            return -EINVAL;
    }
    memset(&r->aio, 0, sizeof(r->aio));
    r->aio.work = block_work;
    r->aio.done = block_done;
    r->aio.opaque = r;
    aio_submit(aio, &r->aio);
    return 0;
}

int block_read_sync(struct block_backend *bb, uint64_t off, void *buf, size_t len)
{
    if (off > bb->size || len > bb->size - off)
        return -EINVAL;
    struct iovec iov = { buf, len };
    return bb->ops->readv(bb, off, &iov, 1);
}

int block_write_sync(struct block_backend *bb, uint64_t off, const void *buf, size_t len)
{
    if (bb->readonly)
        return -EROFS;
    if (off > bb->size || len > bb->size - off)
        return -EINVAL;
    struct iovec iov = { (void *)buf, len };
    return bb->ops->writev(bb, off, &iov, 1);
}

/* ---- memory-backed images ---- */

static int mem_readv(struct block_backend *bb, uint64_t off, const struct iovec *iov, int n)
{
    for (int i = 0; i < n; i++) {
        memcpy(iov[i].iov_base, bb->data + off, iov[i].iov_len);
        off += iov[i].iov_len;
    }
    return 0;
}

static int mem_writev(struct block_backend *bb, uint64_t off, const struct iovec *iov, int n)
{
    for (int i = 0; i < n; i++) {
        memcpy(bb->data + off, iov[i].iov_base, iov[i].iov_len);
        off += iov[i].iov_len;
    }
    return 0;
}

static void mem_close(struct block_backend *bb)
{
    free(bb->data);
}

static const struct block_ops mem_ops = {
    .format = "mem",
    .readv = mem_readv,
    .writev = mem_writev,
    .flush = NULL,
    .close = mem_close,
};

struct block_backend *block_open_mem(uint64_t size, bool readonly)
{
    struct block_backend *bb = calloc(1, sizeof(*bb));
    if (!bb)
        return NULL;
    bb->data = calloc(1, size ? size : 1);
    bb->path = strdup("mem");
    if (!bb->data || !bb->path) {
        free(bb->data);
        free(bb->path);
        free(bb);
        return NULL;
    }
    bb->ops = &mem_ops;
    bb->size = size;
    bb->readonly = readonly;
    bb->fd = -1;
    return bb;
}

uint8_t *block_mem_data(struct block_backend *bb)
{
    return bb && bb->ops == &mem_ops ? bb->data : NULL;
}
