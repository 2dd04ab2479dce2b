/* Block backends: what a disk or CD-ROM model reads its sectors from.
 *
 * A backend is an image of `size` bytes behind one small interface
 * (vectored read, vectored write, flush), so formats other than raw
 * (qcow2) can come later without touching the device models.  Every data
 * transfer is asynchronous: the device fills a struct block_req and
 * block_submit() queues it on the struct aio; the backend's work runs on
 * an I/O worker (no machine lock), the request's `done` runs later on the
 * event loop with the machine lock held.  Requests take host iovecs, so
 * a DMA transfer goes straight between the image and guest RAM.
 *
 * Backends: raw image files (block_open_raw) and a memory-backed image
 * for tests (block_open_mem). */
#ifndef MINUS1_BLOCK_H
#define MINUS1_BLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "../aio.h"

/* block_open_raw flags. */
#define BLOCK_RDONLY 0x1u   /* open read-only; guest writes are refused */
#define BLOCK_CDROM  0x2u   /* image must be a multiple of 2048 bytes (ISO) */

#define BLOCK_SECTOR 512u
#define BLOCK_CD_SECTOR 2048u

struct block_backend;

/* Format-specific operations; all run on an I/O worker thread.  Each
 * returns 0 or a negative errno. */
struct block_ops {
    const char *format;     /* "raw", "mem" */
    int (*readv)(struct block_backend *bb, uint64_t off, const struct iovec *iov, int iovcnt);
    int (*writev)(struct block_backend *bb, uint64_t off, const struct iovec *iov, int iovcnt);
    int (*flush)(struct block_backend *bb);
    void (*close)(struct block_backend *bb);
};

struct block_backend {
    const struct block_ops *ops;
    uint64_t size;          /* bytes */
    bool readonly;
    char *path;             /* for messages and `info block`; "mem" for memory images */
    int fd;                 /* raw files */
    uint8_t *data;          /* memory images */
};

enum block_op { BLOCK_READ, BLOCK_WRITE, BLOCK_FLUSH };

/* One request.  The caller owns it (typically embedded in the device) and
 * must keep it and the iovecs' memory alive until `done` has run. */
struct block_req {
    struct aio_req aio;     /* private to the block layer */
    struct block_backend *bb;
    enum block_op op;
    uint64_t offset;        /* bytes, for READ/WRITE */
    const struct iovec *iov;
    int iovcnt;
    bool fua;               /* WRITE: on stable storage before done (no write cache) */
    /* Runs on the event loop, machine lock held; ret is 0 or -errno. */
    void (*done)(struct block_req *r, int ret);
    void *opaque;
};

/* Opens a raw image file.  On error returns NULL with a one-line message
 * (naming the file) in err: missing or unreadable file, empty file, size
 * not a multiple of 512 bytes (2048 with BLOCK_CDROM). */
struct block_backend *block_open_raw(const char *path, unsigned flags, char *err, size_t errlen);
/* A zero-filled image of `size` bytes in memory (tests); NULL on failure. */
struct block_backend *block_open_mem(uint64_t size, bool readonly);
/* The memory image's bytes (NULL for other backends): tests look at them. */
uint8_t *block_mem_data(struct block_backend *bb);

void block_close(struct block_backend *bb);     /* NULL is fine */
uint64_t block_size(const struct block_backend *bb);
bool block_readonly(const struct block_backend *bb);
const char *block_path(const struct block_backend *bb);
const char *block_format(const struct block_backend *bb);

/* Total bytes an iovec list covers. */
uint64_t block_iov_bytes(const struct iovec *iov, int iovcnt);

/* Queues r on aio.  Returns 0 (done will run), or a negative errno if the
 * request is refused up front (done will NOT run): -EROFS for a write to
 * a read-only backend, -EINVAL for a range outside the image or a bad
 * iovec count. */
int block_submit(struct aio *aio, struct block_req *r);

/* Synchronous variants for tools and tests (run on the caller's thread). */
int block_read_sync(struct block_backend *bb, uint64_t off, void *buf, size_t len);
int block_write_sync(struct block_backend *bb, uint64_t off, const void *buf, size_t len);

#endif
