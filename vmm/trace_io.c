/* --trace-io: see trace_io.h for the file format. */
#include "trace_io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct trace_io {
    int fd;
    const struct vclock *clock;
    uint64_t last_ns;
    bool failed;                /* a write failed: stop trying (logged once by the caller) */
    size_t used;                /* bytes in buf */
    uint8_t buf[TRACE_IO_BUF_RECORDS * TRACE_IO_RECORD_SIZE];
};

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

struct trace_io *trace_io_open(const char *path, const struct vclock *clock, char *err,
                               size_t errlen)
{
    struct trace_io *t = calloc(1, sizeof(*t));
    if (!t) {
        snprintf(err, errlen, "--trace-io: out of memory");
        return NULL;
    }
    t->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (t->fd < 0) {
        snprintf(err, errlen, "--trace-io: cannot create %s: %s", path, strerror(errno));
        free(t);
        return NULL;
    }
    uint8_t hdr[TRACE_IO_HEADER_SIZE] = { 0 };
    memcpy(hdr, TRACE_IO_MAGIC, 8);
    put_le(hdr + 8, TRACE_IO_RECORD_SIZE, 4);
    if (write_all(t->fd, hdr, sizeof(hdr)) < 0) {
        snprintf(err, errlen, "--trace-io: cannot write %s: %s", path, strerror(errno));
        close(t->fd);
        free(t);
        return NULL;
    }
    t->clock = clock;
    t->last_ns = clock ? vclock_ns(clock) : 0;
    return t;
}

void trace_io_flush(struct trace_io *t)
{
    if (!t->failed && t->used && write_all(t->fd, t->buf, t->used) < 0)
        t->failed = true;       /* disk full: the trace just ends there */
    t->used = 0;
}

void trace_io_record(struct trace_io *t, unsigned flags, uint64_t addr, unsigned size,
                     uint64_t value)
{
    uint64_t now = t->clock ? vclock_ns(t->clock) : 0;
    uint64_t dt = now >= t->last_ns ? now - t->last_ns : 0;
    t->last_ns = now;
    uint8_t *r = t->buf + t->used;
    r[0] = (uint8_t)flags;
    r[1] = (uint8_t)size;
    r[2] = r[3] = 0;
    put_le(r + 4, dt > UINT32_MAX ? UINT32_MAX : dt, 4);
    put_le(r + 8, addr, 8);
    put_le(r + 16, value, 8);
    t->used += TRACE_IO_RECORD_SIZE;
    if (t->used == sizeof(t->buf))
        trace_io_flush(t);
}

void trace_io_bus_hook(void *opaque, bool mmio, bool write, uint64_t addr, unsigned size,
                       uint64_t value)
{
    trace_io_record(opaque, (write ? TRACE_IO_WRITE : 0) | (mmio ? TRACE_IO_MMIO : 0), addr,
                    size, value);
}

void trace_io_close(struct trace_io *t)
{
    if (!t)
        return;
    trace_io_flush(t);
    close(t->fd);
    free(t);
}

void trace_io_decode(const uint8_t rec[TRACE_IO_RECORD_SIZE], struct trace_io_rec *out)
{
    out->flags = rec[0];
    out->size = rec[1];
    out->dt_ns = (uint32_t)get_le(rec + 4, 4);
    out->addr = get_le(rec + 8, 8);
    out->value = get_le(rec + 16, 8);
}
