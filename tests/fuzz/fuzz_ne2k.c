/* NE2000: the DP8390 register pages, remote DMA through the data port,
 * the reset port, transmit to a memory backend and reception of fuzzed
 * frames (0 to 2047 bytes: runts, oversize, broadcast/multicast, any
 * destination) through the net_port queue.
 * Config byte 0 bit 0: the PCI RTL8029 (BAR0 at 0xC100, reachable through
 * 0xCF8) instead of the ISA card at 0x300.  Byte 1: memory backend
 * capacity (frames kept). */
#include <stdlib.h>
#include <stddef.h>
#include <stdint.h>

#include "../../vmm/devices/ne2k/ne2k.h"
#include "../../vmm/devices/pci.h"
#include "../../vmm/net/net.h"
#include "common.h"

#define PCI_IO 0xC100

struct h {
    struct pci_bus bus;
    struct net_port *port;
    struct net_memory *back;
    struct ne2k *nic;
    struct fz_irq_sink irq;
};

static void pirq(void *opaque, int link, int level)
{
    fz_irq_handler(opaque, link, level);
}

static void event(struct fz_ctx *c, const struct fz_op *op)
{
    struct h *h = c->h;
    struct ne2k_stats st;
    uint8_t frame[2048];
    switch (op->raw_off & 3) {
    case 0: {
        size_t len = (size_t)(op->value & 0x7FF);
        fz_blob_copy(c, op->value >> 16, frame, len);
        if (len >= 6 && (op->value & 0x800)) {      /* to us, so RCR does not drop it */
            static const uint8_t mac[6] = NE2K_DEFAULT_MAC;
            for (int i = 0; i < 6; i++)
                frame[i] = mac[i];
        }
        net_port_deliver(h->port, frame, len);
        break;
    }
    case 1:
        net_port_rx_ready(h->port);
        break;
    case 2:
        ne2k_get_stats(h->nic, &st);
        break;
    default:
        net_memory_pop(h->back, frame, sizeof(frame));
        break;
    }
}

static void reset(struct fz_ctx *c)
{
    ne2k_reset(((struct h *)c->h)->nic);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz_ctx c;
    struct h *h = calloc(1, sizeof(*h));
    fz_init(&c, data, size);
    if (!h || fz_mem_init(&c) < 0)
        goto out;
    c.h = h;
    bool pci = c.config[0] & 1;
    h->port = net_port_create(&c.log);
    if (!h->port)
        goto out;
    h->back = net_memory_attach(h->port, 1 + c.config[1] % 8);
    if (!h->back)
        goto out;
    if (pci) {
        pci_bus_init(&h->bus, &c.pio, &c.mmio, &c.mem, &c.log);
        pci_bus_set_router(&h->bus, pirq, &h->irq);
        h->nic = ne2k_create_pci(&h->bus, h->port, NULL, &c.log);
    } else {
        h->nic = ne2k_create_isa(&c.pio, NE2K_ISA_DEFAULT_BASE,
                                 (struct irq){ fz_irq_handler, &h->irq, 9 }, h->port, NULL,
                                 &c.log);
    }
    if (h->nic) {
        if (pci) {
            struct pci_device *d = ne2k_pci_device(h->nic);
            pci_config_write(&h->bus, d->devfn, 0x10, 4, PCI_IO);
            pci_config_write(&h->bus, d->devfn, PCI_COMMAND, 2, PCI_COMMAND_IO);
            fz_add_window(&c, &c.pio, PCI_IO, NE2K_IO_SIZE);
            fz_add_window(&c, &c.pio, 0xCF8, 8);
        } else {
            fz_add_window(&c, &c.pio, NE2K_ISA_DEFAULT_BASE, NE2K_IO_SIZE);
        }
        static const struct fz_hooks hooks = { event, reset, NULL };
        fz_run(&c, &hooks);
        ne2k_destroy(h->nic);
    }
out:
    if (h)
        net_port_destroy(h->port);      /* destroys the memory backend too */
    fz_fini(&c);
    free(h);
    return 0;
}
