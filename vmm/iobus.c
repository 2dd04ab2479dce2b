#include "iobus.h"

#include <string.h>

void iobus_init(struct iobus *bus, const char *name, const struct logger *log)
{
    memset(bus, 0, sizeof(*bus));
    bus->name = name;
    bus->log = log;
}

static bool overlaps(const struct io_region *r, uint64_t base, uint64_t len)
{
    return base < r->base + r->len && r->base < base + len;
}

int iobus_map(struct iobus *bus, struct io_region *r, uint64_t base)
{
    if (r->mapped && r->base == base)
        return 0;
    iobus_unmap(bus, r);
    if (r->len == 0 || base + r->len < base)
        return -1;
    unsigned pos = 0;
    for (unsigned i = 0; i < bus->count; i++) {
        if (overlaps(bus->regions[i], base, r->len)) {
            log_warn(bus->log, "%s: %s at 0x%llx+0x%llx overlaps %s", bus->name, r->name,
                     (unsigned long long)base, (unsigned long long)r->len,
                     bus->regions[i]->name);
            return -1;
        }
        if (bus->regions[i]->base < base)
            pos = i + 1;
    }
    if (bus->count == IOBUS_MAX_REGIONS) {
        log_error(bus->log, "%s: region table full registering %s", bus->name, r->name);
        return -1;
    }
    memmove(&bus->regions[pos + 1], &bus->regions[pos],
            (bus->count - pos) * sizeof(bus->regions[0]));
    bus->regions[pos] = r;
    bus->count++;
    r->base = base;
    r->mapped = true;
    return 0;
}

void iobus_unmap(struct iobus *bus, struct io_region *r)
{
    if (!r->mapped)
        return;
    for (unsigned i = 0; i < bus->count; i++) {
        if (bus->regions[i] == r) {
            memmove(&bus->regions[i], &bus->regions[i + 1],
                    (bus->count - i - 1) * sizeof(bus->regions[0]));
            bus->count--;
            break;
        }
    }
    r->mapped = false;
}

int iobus_register(struct iobus *bus, struct io_region *r, uint64_t base, uint64_t len,
                   const struct io_ops *ops, void *opaque, const char *name)
{
    r->base = base;
    r->len = len;
    r->ops = ops;
    r->opaque = opaque;
    r->name = name;
    r->mapped = false;
    return iobus_map(bus, r, base);
}

struct io_region *iobus_find(struct iobus *bus, uint64_t addr)
{
    unsigned lo = 0, hi = bus->count;
    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;
        struct io_region *r = bus->regions[mid];
        if (addr < r->base)
            hi = mid;
        else if (addr - r->base >= r->len)
            lo = mid + 1;
        else
            return r;
    }
    return NULL;
}

static unsigned piece_size(const struct io_region *r, unsigned size)
{
    unsigned max = r->ops->max_size ? r->ops->max_size : 8;
    return size < max ? size : max;
}

void iobus_set_trace(struct iobus *bus, iobus_trace_fn fn, void *opaque, bool mmio)
{
    bus->trace = fn;
    bus->trace_opaque = opaque;
    bus->trace_mmio = mmio;
}

/* Reads byte-lane by byte-lane group when the device is narrower than the
 * access, or when the access straddles two regions. */
static uint64_t bus_read(struct iobus *bus, uint64_t addr, unsigned size)
{
    struct io_region *r = iobus_find(bus, addr);
    if (r && r->ops->read && piece_size(r, size) == size && addr - r->base + size <= r->len)
        return r->ops->read(r->opaque, addr - r->base, size);
    if (!r) {
        log_guest(bus->log, &bus->rl, LOG_DEBUG, "%s: read%u from unassigned 0x%llx", bus->name, size * 8,
                    (unsigned long long)addr);
        if (size == 1)
            return 0xff;
        uint64_t v = 0;
        for (unsigned i = 0; i < size; i++)
            v |= (uint64_t)0xff << (i * 8);
        return v;
    }
    if (!r->ops->read)
        return size == 8 ? ~0ull : (1ull << (size * 8)) - 1;
    if (size == 1)
        return r->ops->read(r->opaque, addr - r->base, 1);
    uint64_t v = 0;
    unsigned step = piece_size(r, size);
    if (addr - r->base + step > r->len)
        step = 1;
    for (unsigned done = 0; done < size; done += step) {
        uint64_t part = bus_read(bus, addr + done, step);
        v |= (part & ((step == 8) ? ~0ull : ((1ull << (step * 8)) - 1))) << (done * 8);
    }
    return v;
}

static void bus_write(struct iobus *bus, uint64_t addr, unsigned size, uint64_t value)
{
    struct io_region *r = iobus_find(bus, addr);
    if (r && piece_size(r, size) == size && addr - r->base + size <= r->len) {
        if (r->ops->write)
            r->ops->write(r->opaque, addr - r->base, size, value);
        return;
    }
    if (!r) {
        log_guest(bus->log, &bus->rl, LOG_DEBUG, "%s: write%u to unassigned 0x%llx = 0x%llx", bus->name,
                    size * 8, (unsigned long long)addr, (unsigned long long)value);
        if (size == 1)
            return;
    }
    unsigned step = r ? piece_size(r, size) : 1;
    if (r && addr - r->base + step > r->len)
        step = 1;
    for (unsigned done = 0; done < size; done += step)
        bus_write(bus, addr + done, step, value >> (done * 8));
}

/* The guest-facing entry points: the split pieces above recurse through
 * bus_read/bus_write, so a trace holds the access the guest made. */
uint64_t iobus_read(struct iobus *bus, uint64_t addr, unsigned size)
{
    uint64_t v = bus_read(bus, addr, size);
    if (__builtin_expect(bus->trace != NULL, 0))
        bus->trace(bus->trace_opaque, bus->trace_mmio, false, addr, size, v);
    return v;
}

void iobus_write(struct iobus *bus, uint64_t addr, unsigned size, uint64_t value)
{
    if (__builtin_expect(bus->trace != NULL, 0))
        bus->trace(bus->trace_opaque, bus->trace_mmio, true, addr, size, value);
    bus_write(bus, addr, size, value);
}
