/* The NE2000's two front ends: the PCI RTL8029 (10ec:8029, one 32-byte
 * I/O BAR, INTA) and the ISA card at a fixed port and IRQ. */
#include <stdlib.h>

#include "ne2k_internal.h"

#define RTL_VENDOR 0x10ec
#define RTL8029_DEVICE 0x8029
#define PCI_CLASS_ETHERNET 0x020000

struct ne2k *ne2k_create_pci(struct pci_bus *bus, struct net_port *port, const uint8_t mac[6],
                             const struct logger *log)
{
    struct ne2k *n = calloc(1, sizeof(*n));
    if (!n)
        return NULL;
    n->is_pci = true;
    pci_device_init(&n->pci, "ne2k-pci", RTL_VENDOR, RTL8029_DEVICE, 0, PCI_CLASS_ETHERNET);
    pci_device_set_subsystem(&n->pci, RTL_VENDOR, RTL8029_DEVICE);
    pci_device_set_irq_pin(&n->pci, 1);
    pci_bar_io(&n->pci, 0, NE2K_IO_SIZE, &ne2k_io_ops, n);
    n->pci.opaque = n;
    ne2k_core_init(n, port, mac, log, true);
    if (pci_register(bus, &n->pci, -1) < 0) {
        log_error(log, "ne2k-pci: no free PCI slot");
        ne2k_core_fini(n);
        free(n);
        return NULL;
    }
    return n;
}

struct ne2k *ne2k_create_isa(struct iobus *pio, uint16_t base, struct irq irq,
                             struct net_port *port, const uint8_t mac[6], const struct logger *log)
{
    struct ne2k *n = calloc(1, sizeof(*n));
    if (!n)
        return NULL;
    n->irq = irq;
    n->pio = pio;
    ne2k_core_init(n, port, mac, log, false);
    if (iobus_register(pio, &n->region, base, NE2K_IO_SIZE, &ne2k_io_ops, n, "ne2k-isa") < 0) {
        ne2k_core_fini(n);
        free(n);
        return NULL;
    }
    return n;
}

void ne2k_destroy(struct ne2k *n)
{
    if (!n)
        return;
    if (n->is_pci)
        pci_unregister(&n->pci);
    else
        iobus_unmap(n->pio, &n->region);
    ne2k_core_fini(n);
    free(n);
}

struct pci_device *ne2k_pci_device(struct ne2k *n)
{
    return n->is_pci ? &n->pci : NULL;
}
