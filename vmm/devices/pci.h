/* The PCI bus: configuration mechanism #1 (0xCF8/0xCFC), BAR sizing and
 * mapping, and INTx routing through the PIIX3 PIRQ links.
 *
 * A PCI function embeds (or owns) a struct pci_device, fills in identity
 * and BARs with the helpers below, and registers it on the bus.  The bus
 * maps a BAR on the port or MMIO bus (or, for host-memory BARs such as a
 * framebuffer or a ROM, in the guest memory map) whenever the guest
 * writes an address and the command register enables that decode. */
#ifndef MINUS1_PCI_H
#define MINUS1_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "../iobus.h"
#include "../irq.h"
#include "../log.h"
#include "../memory.h"

#define PCI_NUM_BARS 6
#define PCI_ROM_SLOT 6          /* bars[6] is the expansion ROM BAR (0x30) */
#define PCI_MAX_DEVFN 256

/* Standard config-space offsets used across devices. */
#define PCI_VENDOR_ID       0x00
#define PCI_DEVICE_ID       0x02
#define PCI_COMMAND         0x04
#define PCI_STATUS          0x06
#define PCI_REVISION_ID     0x08
#define PCI_CLASS_PROG      0x09
#define PCI_CLASS_DEVICE    0x0a
#define PCI_HEADER_TYPE     0x0e
#define PCI_BASE_ADDRESS_0  0x10
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c
#define PCI_SUBSYSTEM_ID    0x2e
#define PCI_ROM_ADDRESS     0x30
#define PCI_INTERRUPT_LINE  0x3c
#define PCI_INTERRUPT_PIN   0x3d

#define PCI_COMMAND_IO      0x1
#define PCI_COMMAND_MEMORY  0x2
#define PCI_COMMAND_MASTER  0x4

enum pci_bar_type { PCI_BAR_UNUSED = 0, PCI_BAR_IO, PCI_BAR_MEM };

struct pci_bar {
    enum pci_bar_type type;
    uint64_t size;              /* power of two */
    bool prefetch;
    bool mem64;                 /* takes two BAR registers */
    /* Backing, one of: handlers on the port/MMIO bus ... */
    const struct io_ops *ops;
    void *opaque;
    /* ... or host memory mapped straight into the guest (fast path for
     * framebuffers and ROMs). */
    uint8_t *host;
    bool host_readonly;
    bool dirty_log;

    /* Bus-private state. */
    struct io_region region;
    int mem_handle;
    uint64_t addr;              /* where it is mapped (valid if mapped) */
    bool mapped;
};

struct pci_bus;

struct pci_device {
    const char *name;
    uint8_t config[256];
    uint8_t wmask[256];         /* bits the guest may write */
    uint8_t w1cmask[256];       /* write-1-to-clear bits (status) */
    struct pci_bar bars[PCI_NUM_BARS + 1];
    int devfn;
    struct pci_bus *bus;
    void *opaque;               /* the device model */
    /* Optional hooks for device-specific registers (PAM, PIRQ routing...).
     * config_read, when set, supplies the whole value of every read (it
     * may return bytes of config[] itself); off + size never passes 256.
     * config_write runs after the generic handling has stored the value. */
    uint32_t (*config_read)(struct pci_device *d, unsigned off, unsigned size);
    void (*config_write)(struct pci_device *d, unsigned off, unsigned size, uint32_t val);
    int irq_level;              /* what the device drives on INTx */
    bool irq_asserted;          /* counted in the bus's pirq_count */
    int irq_link;               /* the link it was counted on */
};

/* Interrupt router: the PIIX3 supplies it.  pirq 0..3 = PIRQA..D; level
 * is the OR of every device wired to that link. */
typedef void (*pci_pirq_fn)(void *opaque, int pirq, int level);

struct pci_bus {
    struct pci_device *devs[PCI_MAX_DEVFN];
    uint32_t config_address;    /* latch at 0xCF8 */
    struct iobus *pio;
    struct iobus *mmio;
    struct guest_mem *mem;
    const struct logger *log;
    struct ratelimit rl;
    struct io_region cf8_region, cfc_region;
    pci_pirq_fn set_pirq;
    void *pirq_opaque;
    int pirq_count[4];          /* devices asserting each link */
    /* A byte access to 0xCF9 is not CONFIG_ADDRESS: the PIIX3's reset
     * control register lives there (pci_bus_set_cf9_handler). */
    const struct io_ops *cf9_ops;
    void *cf9_opaque;
};

/* Registers 0xCF8 (dword) and 0xCFC-0xCFF on pio. */
void pci_bus_init(struct pci_bus *bus, struct iobus *pio, struct iobus *mmio,
                  struct guest_mem *mem, const struct logger *log);
void pci_bus_set_router(struct pci_bus *bus, pci_pirq_fn fn, void *opaque);
/* Byte accesses to port 0xCF9 go to ops (offset 0, size 1); NULL ops
 * detaches.  Other non-dword accesses to 0xCF8-0xCFB read all ones. */
void pci_bus_set_cf9_handler(struct pci_bus *bus, const struct io_ops *ops, void *opaque);
/* Unmaps every BAR, clears the writable command bits (hardwired ones,
 * like a host bridge's memory enable, stay), BAR addresses (type bits
 * stay), status w1c bits, and drops every INTx level. */
void pci_bus_reset(struct pci_bus *bus);

/* Identity and header type 0 defaults; wmask set for command, latency,
 * interrupt line; status bits w1c.  Clears all of *d (call it first, then
 * set opaque and the hooks). */
void pci_device_init(struct pci_device *d, const char *name, uint16_t vendor,
                     uint16_t device, uint8_t revision, uint32_t class_code /* class<<16|sub<<8|prog */);
void pci_device_set_subsystem(struct pci_device *d, uint16_t vendor, uint16_t id);
/* pin 1..4 = INTA..INTD, 0 = none. */
void pci_device_set_irq_pin(struct pci_device *d, int pin);

/* Declare BAR `i` (0..5, or PCI_ROM_SLOT).  size is rounded up to a power
 * of two (at least 4 for I/O, 16 for memory, 2 KiB for the ROM). */
void pci_bar_io(struct pci_device *d, int i, uint64_t size, const struct io_ops *ops, void *opaque);
void pci_bar_mmio(struct pci_device *d, int i, uint64_t size, bool prefetch,
                  const struct io_ops *ops, void *opaque);
void pci_bar_host(struct pci_device *d, int i, uint64_t size, bool prefetch, uint8_t *host,
                  bool readonly, bool dirty_log);

/* Make memory BAR i (0..4, declared already) a 64-bit BAR: it then also
 * takes register i + 1, which must be unused. */
void pci_bar_set_mem64(struct pci_device *d, int i);

/* devfn = slot << 3 | function; -1 picks the next free slot's function 0.
 * Returns the devfn used, or -1. */
int pci_register(struct pci_bus *bus, struct pci_device *d, int devfn);
/* Takes a device off the bus: BARs unmapped, INTx dropped. */
void pci_unregister(struct pci_device *d);

/* INTx from the device (level-triggered); routed (slot + pin - 1) & 3. */
void pci_set_irq(struct pci_device *d, int level);

/* Config access as if through mechanism #1, for tests and firmware code. */
uint32_t pci_config_read(struct pci_bus *bus, int devfn, unsigned off, unsigned size);
void pci_config_write(struct pci_bus *bus, int devfn, unsigned off, unsigned size, uint32_t val);

/* Guest address a BAR is currently decoded at, or 0 when it is not. */
uint64_t pci_bar_address(const struct pci_device *d, int i);

#endif
