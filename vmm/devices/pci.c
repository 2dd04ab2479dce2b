/* PCI bus 0: configuration mechanism #1, BAR decoding and INTx routing. */
#include "pci.h"

#include <string.h>

#define CONFIG_ADDRESS_PORT 0xCF8
#define CONFIG_DATA_PORT    0xCFC
#define CONFIG_ENABLE       0x80000000u
/* Bits 30:24 are reserved and 1:0 select a type 0/1 cycle we don't do:
 * both read back as zero. */
#define CONFIG_ADDRESS_MASK 0x80fffffcu

#define PCI_COMMAND_INTX_DISABLE 0x400
#define PCI_STATUS_INTERRUPT     0x08
/* Parity error response, SERR#, INTx disable, plus the three decode bits. */
#define COMMAND_WMASK  (PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | 0x0040 | \
                        0x0100 | PCI_COMMAND_INTX_DISABLE)
/* Master data parity error, signaled/received target abort, received
 * master abort, signaled system error, detected parity error. */
#define STATUS_W1C     0xf900
#define ROM_ENABLE     0x1

#define FOUR_GIB   (4 * GiB)
#define IO_LIMIT   0x10000ull
/* A 64-bit BAR must end below what the CPU can address; 40 bits is the
 * physical address width the CPUID model reports. */
#define PHYS_LIMIT (1ull << 40)

/* ---- little-endian config-space accessors ---- */

static uint32_t get_le(const uint8_t *a, unsigned off, unsigned size)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint32_t)a[off + i] << (8 * i);
    return v;
}

static void put_le(uint8_t *a, unsigned off, unsigned size, uint32_t v)
{
    for (unsigned i = 0; i < size; i++)
        a[off + i] = (uint8_t)(v >> (8 * i));
}

static uint32_t ones(unsigned size)
{
    return size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
}

/* Does [off, off+size) touch [reg, reg+len)? */
static bool touches(unsigned off, unsigned size, unsigned reg, unsigned len)
{
    return off < reg + len && reg < off + size;
}

static unsigned bar_reg(int i)
{
    return i == PCI_ROM_SLOT ? PCI_ROM_ADDRESS : PCI_BASE_ADDRESS_0 + 4u * (unsigned)i;
}

static bool bar_index_ok(int i)
{
    return i >= 0 && i <= PCI_ROM_SLOT;
}

static uint16_t command(const struct pci_device *d)
{
    return (uint16_t)get_le(d->config, PCI_COMMAND, 2);
}

/* ---- INTx ---- */

/* Counts the device on its link when it drives INTx and INTx is not
 * disabled in the command register; the router hears only changes of a
 * link's aggregate level. */
static void intx_update(struct pci_device *d)
{
    struct pci_bus *bus = d->bus;
    unsigned pin = d->config[PCI_INTERRUPT_PIN];
    bool want = bus && d->irq_level && pin >= 1 && pin <= 4 &&
                !(command(d) & PCI_COMMAND_INTX_DISABLE);
    int link = want ? (int)(((unsigned)d->devfn >> 3) + pin - 1) & 3 : d->irq_link;

    if (d->irq_asserted && (!want || link != d->irq_link)) {
        d->irq_asserted = false;
        if (--bus->pirq_count[d->irq_link] == 0 && bus->set_pirq)
            bus->set_pirq(bus->pirq_opaque, d->irq_link, 0);
    }
    if (want && !d->irq_asserted) {
        d->irq_asserted = true;
        d->irq_link = link;
        if (bus->pirq_count[link]++ == 0 && bus->set_pirq)
            bus->set_pirq(bus->pirq_opaque, link, 1);
    }
}

void pci_set_irq(struct pci_device *d, int level)
{
    d->irq_level = level != 0;
    /* Status bit 3 shows the device's INTx state even when it is masked. */
    if (d->irq_level)
        d->config[PCI_STATUS] |= PCI_STATUS_INTERRUPT;
    else
        d->config[PCI_STATUS] &= (uint8_t)~PCI_STATUS_INTERRUPT;
    intx_update(d);
}

/* ---- BAR decoding ---- */

/* The address programmed into BAR i (type bits stripped). */
static uint64_t bar_programmed(const struct pci_device *d, int i)
{
    const struct pci_bar *b = &d->bars[i];
    unsigned off = bar_reg(i);
    uint64_t v = get_le(d->config, off, 4);
    if (i == PCI_ROM_SLOT)
        return v & 0xfffff800u;
    if (b->type == PCI_BAR_IO)
        return v & ~3ull;
    v &= ~0xfull;
    if (b->mem64)
        v |= (uint64_t)get_le(d->config, off + 4, 4) << 32;
    return v;
}

static bool iobus_busy(const struct iobus *io, const struct io_region *self, uint64_t base,
                       uint64_t len)
{
    for (unsigned k = 0; k < io->count && k < IOBUS_MAX_REGIONS; k++) {
        const struct io_region *r = io->regions[k];
        if (r != self && base < r->base + r->len && r->base < base + len)
            return true;
    }
    return false;
}

/* Host-memory mappings other than `self_handle`, and the BIOS ROM below
 * 4 GiB, are off limits to a BAR served by handlers. */
static bool mem_busy(const struct guest_mem *m, int self_handle, uint64_t base, uint64_t len)
{
    if (!m)
        return false;
    uint64_t end = base + len;
    if (end > FOUR_GIB - m->bios_size && base < FOUR_GIB)
        return true;
    for (int k = 0; k < MEM_MAX_DEVICE_MAPPINGS; k++) {
        const struct device_mapping *dm = &m->devmaps[k];
        if (k != self_handle && dm->active && base < dm->gpa + dm->size && dm->gpa < end)
            return true;
    }
    return false;
}

static bool overlaps_ram(const struct guest_mem *m, uint64_t base, uint64_t end)
{
    if (!m)
        return false;
    if (base < m->below_4g)
        return true;
    return m->above_4g && end > FOUR_GIB && base < FOUR_GIB + m->above_4g;
}

/* Where BAR i should be decoded now, or 0.  Half-programmed values
 * (sizing patterns, a 64-bit BAR between its two writes) are silently
 * not decoded; a BAR over RAM is refused loudly. */
static uint64_t bar_target(struct pci_device *d, int i)
{
    const struct pci_bar *b = &d->bars[i];
    uint16_t cmd = command(d);
    if (b->type == PCI_BAR_UNUSED || (!b->host && !b->ops))
        return 0;
    if (b->type == PCI_BAR_IO ? !(cmd & PCI_COMMAND_IO) : !(cmd & PCI_COMMAND_MEMORY))
        return 0;
    if (i == PCI_ROM_SLOT && !(d->config[PCI_ROM_ADDRESS] & ROM_ENABLE))
        return 0;
    uint64_t addr = bar_programmed(d, i);
    uint64_t end = addr + b->size;
    /* end == 4 GiB for a 32-bit value is what sizing (all ones) leaves. */
    if (addr == 0 || (addr & (b->size - 1)) || end <= addr || end == FOUR_GIB)
        return 0;
    if (b->type == PCI_BAR_IO)
        return end <= IO_LIMIT ? addr : 0;
    if (end > (b->mem64 ? PHYS_LIMIT : FOUR_GIB))
        return 0;
    if (overlaps_ram(d->bus->mem, addr, end)) {
        guest_error(d->bus->log, &d->bus->rl,
                    "pci: %s BAR%d at 0x%llx+0x%llx overlaps RAM, not decoded", d->name, i,
                    (unsigned long long)addr, (unsigned long long)b->size);
        return 0;
    }
    return addr;
}

static void bar_unmap(struct pci_device *d, int i)
{
    struct pci_bar *b = &d->bars[i];
    if (!b->mapped)
        return;
    if (b->host) {
        if (d->bus->mem)
            mem_move_device(d->bus->mem, b->mem_handle, 0, false);
    } else {
        iobus_unmap(b->type == PCI_BAR_IO ? d->bus->pio : d->bus->mmio, &b->region);
    }
    b->mapped = false;
    b->addr = 0;
}

static int bar_map_host(struct pci_device *d, struct pci_bar *b, uint64_t addr)
{
    struct pci_bus *bus = d->bus;
    if (!bus->mem || (bus->mmio && iobus_busy(bus->mmio, NULL, addr, b->size)))
        return -1;
    if (b->mem_handle < 0)
        b->mem_handle = mem_add_device(bus->mem, b->host, b->size, b->host_readonly,
                                       b->dirty_log);
    if (b->mem_handle < 0)
        return -1;
    return mem_move_device(bus->mem, b->mem_handle, addr, true);
}

static int bar_map_ops(struct pci_device *d, struct pci_bar *b, uint64_t addr)
{
    struct iobus *io = b->type == PCI_BAR_IO ? d->bus->pio : d->bus->mmio;
    if (!io || iobus_busy(io, &b->region, addr, b->size))
        return -1;
    if (b->type == PCI_BAR_MEM && mem_busy(d->bus->mem, -1, addr, b->size))
        return -1;
    return iobus_map(io, &b->region, addr);
}

/* Brings BAR i in line with its registers.  Returns true when it left an
 * address (which may let another BAR that was refused there map now). */
static bool bar_update(struct pci_device *d, int i)
{
    struct pci_bar *b = &d->bars[i];
    uint64_t want = bar_target(d, i);
    if (b->mapped && b->addr == want)
        return false;
    bool freed = b->mapped;
    if (want == 0) {
        bar_unmap(d, i);
        return freed;
    }
    int rc = b->host ? bar_map_host(d, b, want) : bar_map_ops(d, b, want);
    if (rc < 0) {
        guest_error(d->bus->log, &d->bus->rl,
                    "pci: %s BAR%d at 0x%llx+0x%llx conflicts with another mapping", d->name,
                    i, (unsigned long long)want, (unsigned long long)b->size);
        bar_unmap(d, i);
        return freed;
    }
    b->mapped = true;
    b->addr = want;
    return freed;
}

static bool device_update(struct pci_device *d)
{
    bool freed = false;
    for (int i = 0; i <= PCI_ROM_SLOT; i++)
        freed |= bar_update(d, i);
    return freed;
}

/* A BAR that moved away may have been blocking another one: give every
 * device one more look (bounded: one pass over the bus). */
static void bus_update(struct pci_bus *bus)
{
    for (int devfn = 0; devfn < PCI_MAX_DEVFN; devfn++)
        if (bus->devs[devfn])
            device_update(bus->devs[devfn]);
}

/* ---- config space ---- */

static struct pci_device *find(struct pci_bus *bus, int devfn)
{
    if (devfn < 0 || devfn >= PCI_MAX_DEVFN)
        return NULL;
    return bus->devs[devfn];
}

static bool access_ok(struct pci_bus *bus, unsigned off, unsigned size)
{
    if ((size == 1 || size == 2 || size == 4) && off < 256 && off + size <= 256)
        return true;
    guest_error(bus->log, &bus->rl, "pci: bad config access off 0x%x size %u", off, size);
    return false;
}

uint32_t pci_config_read(struct pci_bus *bus, int devfn, unsigned off, unsigned size)
{
    struct pci_device *d = find(bus, devfn);
    if (!access_ok(bus, off, size))
        return ones(size);
    if (!d)
        return ones(size);
    if (d->config_read)
        return d->config_read(d, off, size) & ones(size);
    return get_le(d->config, off, size);
}

void pci_config_write(struct pci_bus *bus, int devfn, unsigned off, unsigned size, uint32_t val)
{
    struct pci_device *d = find(bus, devfn);
    if (!d || !access_ok(bus, off, size))
        return;
    for (unsigned k = 0; k < size; k++) {
        unsigned a = off + k;
        uint8_t v = (uint8_t)(val >> (8 * k));
        d->config[a] = (uint8_t)((d->config[a] & ~d->wmask[a]) | (v & d->wmask[a]));
        d->config[a] &= (uint8_t)~(v & d->w1cmask[a]);
    }
    bool cmd = touches(off, size, PCI_COMMAND, 2);
    if (cmd || touches(off, size, PCI_BASE_ADDRESS_0, 4 * PCI_NUM_BARS) ||
        touches(off, size, PCI_ROM_ADDRESS, 4)) {
        if (device_update(d))
            bus_update(bus);
    }
    if (cmd)
        intx_update(d);
    if (d->config_write)
        d->config_write(d, off, size, val);
}

/* ---- mechanism #1 ports ---- */

static uint64_t cf8_read(void *opaque, uint64_t off, unsigned size)
{
    struct pci_bus *bus = opaque;
    if (off == 0 && size == 4)
        return bus->config_address;
    if (off == 1 && size == 1 && bus->cf9_ops && bus->cf9_ops->read)
        return bus->cf9_ops->read(bus->cf9_opaque, 0, 1) & 0xff;
    return ones(size);
}

static void cf8_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
    struct pci_bus *bus = opaque;
    if (off == 0 && size == 4) {
        bus->config_address = (uint32_t)val & CONFIG_ADDRESS_MASK;
        return;
    }
    if (off == 1 && size == 1 && bus->cf9_ops && bus->cf9_ops->write) {
        bus->cf9_ops->write(bus->cf9_opaque, 0, 1, val & 0xff);
        return;
    }
    /* Narrow writes here are how OSes tell mechanism #1 from #2 (Linux's
     * pci_check_type1/2 write 0xCF8, 0xCFA, 0xCFB): ordinary probing, so
     * only a debug line. */
    log_guest(bus->log, &bus->rl, LOG_DEBUG, "pci: write%u to 0x%llx ignored", size * 8,
              (unsigned long long)(CONFIG_ADDRESS_PORT + off));
}

/* The function and register CONFIG_ADDRESS selects, if any: only bus 0
 * exists, and a clear enable bit means a plain (unclaimed) I/O cycle. */
static bool decode(const struct pci_bus *bus, int *devfn, unsigned *reg)
{
    uint32_t a = bus->config_address;
    if (!(a & CONFIG_ENABLE) || ((a >> 16) & 0xff) != 0)
        return false;
    *devfn = (int)((a >> 8) & 0xff);
    *reg = a & 0xfc;
    return true;
}

static uint64_t cfc_read(void *opaque, uint64_t off, unsigned size)
{
    struct pci_bus *bus = opaque;
    int devfn;
    unsigned reg;
    if (off + size > 4 || !decode(bus, &devfn, &reg))
        return ones(size);
    return pci_config_read(bus, devfn, reg + (unsigned)off, size);
}

static void cfc_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
    struct pci_bus *bus = opaque;
    int devfn;
    unsigned reg;
    if (off + size > 4 || !decode(bus, &devfn, &reg))
        return;
    pci_config_write(bus, devfn, reg + (unsigned)off, size, (uint32_t)val);
}

static const struct io_ops cf8_ops = { cf8_read, cf8_write, 4 };
static const struct io_ops cfc_ops = { cfc_read, cfc_write, 4 };

void pci_bus_init(struct pci_bus *bus, struct iobus *pio, struct iobus *mmio,
                  struct guest_mem *mem, const struct logger *log)
{
    memset(bus, 0, sizeof(*bus));
    bus->pio = pio;
    bus->mmio = mmio;
    bus->mem = mem;
    bus->log = log;
    iobus_register(pio, &bus->cf8_region, CONFIG_ADDRESS_PORT, 4, &cf8_ops, bus, "pci-addr");
    iobus_register(pio, &bus->cfc_region, CONFIG_DATA_PORT, 4, &cfc_ops, bus, "pci-data");
}

void pci_bus_set_router(struct pci_bus *bus, pci_pirq_fn fn, void *opaque)
{
    bus->set_pirq = fn;
    bus->pirq_opaque = opaque;
}

void pci_bus_set_cf9_handler(struct pci_bus *bus, const struct io_ops *ops, void *opaque)
{
    bus->cf9_ops = ops;
    bus->cf9_opaque = opaque;
}

/* Clears the bits software may change: hardwired command bits (a host
 * bridge that always decodes memory) and BAR type bits stay. */
static void device_reset(struct pci_device *d)
{
    for (int i = 0; i <= PCI_ROM_SLOT; i++)
        bar_unmap(d, i);
    for (unsigned a = PCI_COMMAND; a < PCI_COMMAND + 2; a++)
        d->config[a] &= (uint8_t)~d->wmask[a];
    for (unsigned a = PCI_STATUS; a < PCI_STATUS + 2; a++)
        d->config[a] &= (uint8_t)~d->w1cmask[a];
    for (unsigned a = PCI_BASE_ADDRESS_0; a < PCI_BASE_ADDRESS_0 + 4 * PCI_NUM_BARS; a++)
        d->config[a] &= (uint8_t)~d->wmask[a];
    for (unsigned a = PCI_ROM_ADDRESS; a < PCI_ROM_ADDRESS + 4; a++)
        d->config[a] &= (uint8_t)~d->wmask[a];
    pci_set_irq(d, 0);
}

void pci_bus_reset(struct pci_bus *bus)
{
    for (int devfn = 0; devfn < PCI_MAX_DEVFN; devfn++)
        if (bus->devs[devfn])
            device_reset(bus->devs[devfn]);
    bus->config_address = 0;
}

/* ---- device construction ---- */

void pci_device_init(struct pci_device *d, const char *name, uint16_t vendor, uint16_t device,
                     uint8_t revision, uint32_t class_code)
{
    memset(d, 0, sizeof(*d));
    d->name = name;
    d->devfn = -1;
    for (int i = 0; i <= PCI_ROM_SLOT; i++)
        d->bars[i].mem_handle = -1;
    put_le(d->config, PCI_VENDOR_ID, 2, vendor);
    put_le(d->config, PCI_DEVICE_ID, 2, device);
    d->config[PCI_REVISION_ID] = revision;
    put_le(d->config, PCI_CLASS_PROG, 3, class_code & 0xffffff);
    put_le(d->wmask, PCI_COMMAND, 2, COMMAND_WMASK);
    put_le(d->w1cmask, PCI_STATUS, 2, STATUS_W1C);
    d->wmask[0x0c] = 0xff;                  /* cache line size */
    d->wmask[0x0d] = 0xff;                  /* latency timer */
    d->wmask[PCI_INTERRUPT_LINE] = 0xff;
}

void pci_device_set_subsystem(struct pci_device *d, uint16_t vendor, uint16_t id)
{
    put_le(d->config, PCI_SUBSYSTEM_VENDOR_ID, 2, vendor);
    put_le(d->config, PCI_SUBSYSTEM_ID, 2, id);
}

void pci_device_set_irq_pin(struct pci_device *d, int pin)
{
    d->config[PCI_INTERRUPT_PIN] = (pin >= 0 && pin <= 4) ? (uint8_t)pin : 0;
    intx_update(d);
}

/* Type bits and writable address bits of BAR i's register(s): writing all
 * ones then reads back ~(size - 1) with the type bits, as sizing expects. */
static void bar_setup(struct pci_device *d, int i)
{
    const struct pci_bar *b = &d->bars[i];
    unsigned off = bar_reg(i);
    uint64_t mask = ~(b->size - 1);
    uint32_t type, wm;
    if (i == PCI_ROM_SLOT) {
        type = 0;
        wm = ((uint32_t)mask & 0xfffff800u) | ROM_ENABLE;
    } else if (b->type == PCI_BAR_IO) {
        type = 1;
        wm = (uint32_t)mask & ~3u;
    } else {
        type = (b->mem64 ? 0x4u : 0) | (b->prefetch ? 0x8u : 0);
        wm = (uint32_t)mask & ~0xfu;
    }
    put_le(d->config, off, 4, type);
    put_le(d->wmask, off, 4, wm);
    if (b->mem64) {
        put_le(d->config, off + 4, 4, 0);
        put_le(d->wmask, off + 4, 4, (uint32_t)(mask >> 32));
    }
}

static uint64_t round_pow2(uint64_t size, uint64_t min)
{
    uint64_t p = min;
    while (p < size)
        p <<= 1;
    return p;
}

/* Common checks for declaring BAR i; board bugs, not guest errors. */
static bool bar_declare_ok(struct pci_device *d, int i, uint64_t size, uint64_t max)
{
    if (!bar_index_ok(i) || d->bus || size > max) {
        log_error(NULL, "pci: %s: bad BAR%d declaration (size 0x%llx)", d->name, i,
                  (unsigned long long)size);
        return false;
    }
    if (i > 0 && i < PCI_ROM_SLOT && d->bars[i - 1].mem64) {
        log_error(NULL, "pci: %s: BAR%d is the upper half of BAR%d", d->name, i, i - 1);
        return false;
    }
    return true;
}

void pci_bar_io(struct pci_device *d, int i, uint64_t size, const struct io_ops *ops,
                void *opaque)
{
    /* I/O BARs are at most 256 bytes (PCI 2.2, 6.2.5.1); no I/O ROM. */
    if (i == PCI_ROM_SLOT || !bar_declare_ok(d, i, size, 256))
        return;
    struct pci_bar *b = &d->bars[i];
    memset(b, 0, sizeof(*b));
    b->type = PCI_BAR_IO;
    b->size = round_pow2(size, 4);
    b->ops = ops;
    b->opaque = opaque;
    b->mem_handle = -1;
    bar_setup(d, i);
}

static struct pci_bar *declare_mem(struct pci_device *d, int i, uint64_t size, bool prefetch)
{
    /* Anything from 2 GiB up needs a 64-bit BAR to be placeable. */
    if (!bar_declare_ok(d, i, size, i == PCI_ROM_SLOT ? 16 * MiB : PHYS_LIMIT / 2))
        return NULL;
    struct pci_bar *b = &d->bars[i];
    memset(b, 0, sizeof(*b));
    b->type = PCI_BAR_MEM;
    b->size = round_pow2(size, i == PCI_ROM_SLOT ? 2 * KiB : 16);
    b->prefetch = prefetch && i != PCI_ROM_SLOT;
    b->mem_handle = -1;
    return b;
}

void pci_bar_mmio(struct pci_device *d, int i, uint64_t size, bool prefetch,
                  const struct io_ops *ops, void *opaque)
{
    struct pci_bar *b = declare_mem(d, i, size, prefetch);
    if (!b)
        return;
    b->ops = ops;
    b->opaque = opaque;
    bar_setup(d, i);
}

void pci_bar_host(struct pci_device *d, int i, uint64_t size, bool prefetch, uint8_t *host,
                  bool readonly, bool dirty_log)
{
    struct pci_bar *b = declare_mem(d, i, size, prefetch);
    if (!b)
        return;
    b->host = host;
    b->host_readonly = readonly;
    b->dirty_log = dirty_log;
    bar_setup(d, i);
}

void pci_bar_set_mem64(struct pci_device *d, int i)
{
    if (i < 0 || i >= PCI_NUM_BARS - 1 || d->bus || d->bars[i].type != PCI_BAR_MEM ||
        d->bars[i + 1].type != PCI_BAR_UNUSED) {
        log_error(NULL, "pci: %s: BAR%d cannot be 64-bit", d->name, i);
        return;
    }
    d->bars[i].mem64 = true;
    bar_setup(d, i);
}

int pci_register(struct pci_bus *bus, struct pci_device *d, int devfn)
{
    if (devfn == -1) {
        for (int slot = 0; slot < PCI_MAX_DEVFN / 8 && devfn < 0; slot++)
            if (!bus->devs[slot << 3])
                devfn = slot << 3;
    }
    if (devfn < 0 || devfn >= PCI_MAX_DEVFN || bus->devs[devfn] || d->bus) {
        log_error(bus->log, "pci: cannot register %s at devfn %d", d->name, devfn);
        return -1;
    }
    for (int i = 0; i <= PCI_ROM_SLOT; i++) {
        struct pci_bar *b = &d->bars[i];
        if (b->type == PCI_BAR_UNUSED || b->host)
            continue;
        b->region = (struct io_region){ 0, b->size, b->ops, b->opaque, d->name, false };
    }
    d->bus = bus;
    d->devfn = devfn;
    bus->devs[devfn] = d;
    device_update(d);
    intx_update(d);
    return devfn;
}

void pci_unregister(struct pci_device *d)
{
    struct pci_bus *bus = d->bus;
    if (!bus)
        return;
    for (int i = 0; i <= PCI_ROM_SLOT; i++)
        bar_unmap(d, i);
    pci_set_irq(d, 0);
    if (find(bus, d->devfn) == d)
        bus->devs[d->devfn] = NULL;
    d->bus = NULL;
    bus_update(bus);
}

uint64_t pci_bar_address(const struct pci_device *d, int i)
{
    if (!bar_index_ok(i) || !d->bars[i].mapped)
        return 0;
    return d->bars[i].addr;
}
