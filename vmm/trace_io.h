/* --trace-io FILE: a record of every port I/O and MMIO access the guest
 * makes, taken at the bus layer (iobus_read/iobus_write as the backends
 * call them, before an access is split for a narrow device), for turning
 * real guest behaviour into fuzzing seeds (tools/trace2corpus).
 *
 * FILE FORMAT (binary, little-endian, no padding):
 *
 *   header, 16 bytes:
 *     0  char[8]  magic "M1IOTRC1"
 *     8  u32      record size (24)
 *    12  u32      0 (reserved)
 *   records, 24 bytes each, in the order the guest made the accesses:
 *     0  u8       flags: bit 0 write (else read), bit 1 MMIO (else port I/O)
 *     1  u8       size in bytes: 1, 2, 4 or 8
 *     2  u16      0 (reserved)
 *     4  u32      virtual-clock nanoseconds since the previous record
 *                 (saturates at 0xFFFFFFFF)
 *     8  u64      port number or guest-physical address
 *    16  u64      value written, or the value the read returned
 *
 * Accesses that never reach a bus (RAM, ROM, the mapped VGA window, the
 * linear framebuffer) are not in it.  A run cut short (SIGKILL) loses at
 * most the last buffer (TRACE_IO_BUF_RECORDS records).
 *
 * Cost: off, one predicted branch per access in iobus.c; on, a 24-byte
 * copy into a buffer and one write() per TRACE_IO_BUF_RECORDS records.
 * Called with the machine lock held (every bus access is). */
#ifndef MINUS1_TRACE_IO_H
#define MINUS1_TRACE_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vclock.h"

#define TRACE_IO_MAGIC "M1IOTRC1"
#define TRACE_IO_HEADER_SIZE 16
#define TRACE_IO_RECORD_SIZE 24
#define TRACE_IO_WRITE 0x01
#define TRACE_IO_MMIO 0x02
#define TRACE_IO_BUF_RECORDS 4096

struct trace_io;

/* Creates (truncates) path and writes the header.  NULL with a one-line
 * message in err on failure. */
struct trace_io *trace_io_open(const char *path, const struct vclock *clock, char *err,
                               size_t errlen);
/* Appends one record (flags as above). */
void trace_io_record(struct trace_io *t, unsigned flags, uint64_t addr, unsigned size,
                     uint64_t value);
/* Writes out what is buffered. */
void trace_io_flush(struct trace_io *t);
/* Flushes, closes and frees; NULL is fine. */
void trace_io_close(struct trace_io *t);

/* The iobus tracing hook (iobus_set_trace): opaque is the trace_io. */
void trace_io_bus_hook(void *opaque, bool mmio, bool write, uint64_t addr, unsigned size,
                       uint64_t value);

/* Decodes one record (for readers: tests and tools). */
struct trace_io_rec {
    uint8_t flags, size;
    uint32_t dt_ns;
    uint64_t addr, value;
};
void trace_io_decode(const uint8_t rec[TRACE_IO_RECORD_SIZE], struct trace_io_rec *out);

#endif
