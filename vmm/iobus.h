/* Port-I/O and MMIO dispatch by registered address ranges.
 *
 * A machine has two buses (ports and memory-mapped I/O).  A device
 * registers a range with a pair of handlers; the bus passes the offset
 * inside the range.  Accesses wider than a device's max_size are split
 * into little-endian pieces, so an 8-bit device answers `inw` the way an
 * ISA card would.  Unassigned reads return all ones, writes are dropped
 * (with a rate-limited log line). */
#ifndef MINUS1_IOBUS_H
#define MINUS1_IOBUS_H

#include <stdbool.h>
#include <stdint.h>

#include "log.h"

struct io_ops {
    /* size is 1, 2, 4 or 8 and never above max_size; offset + size may
     * run past the range end only if the device registered it that way. */
    uint64_t (*read)(void *opaque, uint64_t offset, unsigned size);
    void (*write)(void *opaque, uint64_t offset, unsigned size, uint64_t value);
    unsigned max_size;  /* 0 means any size up to 8 */
};

struct io_region {
    uint64_t base;
    uint64_t len;
    const struct io_ops *ops;
    void *opaque;
    const char *name;
    bool mapped;
};

#define IOBUS_MAX_REGIONS 128

typedef void (*iobus_trace_fn)(void *opaque, bool mmio, bool write, uint64_t addr,
                               unsigned size, uint64_t value);

struct iobus {
    const char *name;           /* "pio" or "mmio", for log lines */
    struct io_region *regions[IOBUS_MAX_REGIONS];  /* mapped, sorted by base */
    unsigned count;
    const struct logger *log;
    struct ratelimit rl;
    /* --trace-io (vmm/trace_io.h): told of every access that comes in
     * through iobus_read/iobus_write (not of the pieces it is split into);
     * NULL when off. */
    iobus_trace_fn trace;
    void *trace_opaque;
    bool trace_mmio;            /* tell the hook this is the MMIO bus */
};

void iobus_init(struct iobus *bus, const char *name, const struct logger *log);

/* Initialises *r and maps it.  Returns 0, or -1 if it overlaps a mapped
 * region or the table is full (a board-construction bug, logged). */
int iobus_register(struct iobus *bus, struct io_region *r, uint64_t base, uint64_t len,
                   const struct io_ops *ops, void *opaque, const char *name);
/* Map an initialised region at a (new) base, e.g. when a guest moves a
 * PCI BAR; unmap takes it off the bus.  Both are idempotent. */
int iobus_map(struct iobus *bus, struct io_region *r, uint64_t base);
void iobus_unmap(struct iobus *bus, struct io_region *r);

/* The region that holds addr, or NULL. */
struct io_region *iobus_find(struct iobus *bus, uint64_t addr);

/* Sets (or with fn NULL clears) the tracing hook. */
void iobus_set_trace(struct iobus *bus, iobus_trace_fn fn, void *opaque, bool mmio);

uint64_t iobus_read(struct iobus *bus, uint64_t addr, unsigned size);
void iobus_write(struct iobus *bus, uint64_t addr, unsigned size, uint64_t value);

#endif
