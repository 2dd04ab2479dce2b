/* Raw image files: the image is the file, byte for byte.  Reads and
 * writes are preadv/pwritev straight into the caller's iovecs (guest RAM
 * for DMA); flush is fdatasync. */
#include "block.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* preadv/pwritev may transfer less than asked (signals, huge requests):
 * continue from where they stopped, advancing through the iovec list on
 * a local copy so the caller's list is left alone. */
static int raw_rw(struct block_backend *bb, uint64_t off, const struct iovec *iov, int n,
                  bool write)
{
    struct iovec local[64];
    while (n > 0) {
        int cnt = n < 64 ? n : 64;
        memcpy(local, iov, (size_t)cnt * sizeof(*iov));
        struct iovec *v = local;
        int left = cnt;
        while (left > 0) {
            ssize_t r = write ? pwritev(bb->fd, v, left, (off_t)off)
                              : preadv(bb->fd, v, left, (off_t)off);
            if (r < 0) {
                if (errno == EINTR)
                    continue;
                return -errno;
            }
            if (r == 0)
                return -EIO;        /* the file shrank under us */
            off += (uint64_t)r;
            while (left > 0 && (size_t)r >= v->iov_len) {
                r -= (ssize_t)v->iov_len;
                v++;
                left--;
            }
            if (left > 0) {
                v->iov_base = (uint8_t *)v->iov_base + r;
                v->iov_len -= (size_t)r;
            }
        }
        iov += cnt;
        n -= cnt;
    }
    return 0;
}

static int raw_readv(struct block_backend *bb, uint64_t off, const struct iovec *iov, int n)
{
    return raw_rw(bb, off, iov, n, false);
}

static int raw_writev(struct block_backend *bb, uint64_t off, const struct iovec *iov, int n)
{
    return raw_rw(bb, off, iov, n, true);
}

static int raw_flush(struct block_backend *bb)
{
    if (bb->readonly)
        return 0;
    return fdatasync(bb->fd) < 0 ? -errno : 0;
}

static void raw_close(struct block_backend *bb)
{
    if (bb->fd >= 0)
        close(bb->fd);
    bb->fd = -1;
}

static const struct block_ops raw_ops = {
    .format = "raw",
    .readv = raw_readv,
    .writev = raw_writev,
    .flush = raw_flush,
    .close = raw_close,
};

/* Size of a regular file or a block device; -1 with a message otherwise. */
static int64_t raw_size(int fd, const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (fstat(fd, &st) < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: is a directory, not a disk image", path);
        return -1;
    }
    off_t end = lseek(fd, 0, SEEK_END);
    if (end < 0) {
        snprintf(err, errlen, "%s: cannot find its size: %s", path, strerror(errno));
        return -1;
    }
    return end;
}

struct block_backend *block_open_raw(const char *path, unsigned flags, char *err, size_t errlen)
{
    bool ro = flags & BLOCK_RDONLY;
    int fd = open(path, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        if (!ro && (e == EACCES || e == EROFS || e == EPERM))
            snprintf(err, errlen, "%s: %s (add ,readonly to use it read-only)", path,
                     strerror(e));
        else
            snprintf(err, errlen, "%s: %s", path, strerror(e));
        return NULL;
    }
    int64_t size = raw_size(fd, path, err, errlen);
    unsigned unit = (flags & BLOCK_CDROM) ? BLOCK_CD_SECTOR : BLOCK_SECTOR;
    if (size == 0)
        snprintf(err, errlen, "%s: the image is empty", path);
    else if (size > 0 && size % unit)
        snprintf(err, errlen, "%s: size %lld is not a multiple of %u bytes%s", path,
                 (long long)size, unit,
                 (flags & BLOCK_CDROM) ? " (not an ISO image?)" : "");
    if (size <= 0 || size % unit) {
        close(fd);
        return NULL;
    }
    struct block_backend *bb = calloc(1, sizeof(*bb));
    char *p = strdup(path);
    if (!bb || !p) {
        snprintf(err, errlen, "%s: out of memory", path);
        free(bb);
        free(p);
        close(fd);
        return NULL;
    }
    bb->ops = &raw_ops;
    bb->fd = fd;
    bb->size = (uint64_t)size;
    bb->readonly = ro;
    bb->path = p;
    return bb;
}
