/* NE2000-compatible Ethernet card: a National DP8390 core with 16 KiB of
 * buffer RAM at 0x4000-0x7FFF and the 32-byte station-address PROM, as the
 * PCI Realtek RTL8029 (10ec:8029, one 32-byte I/O BAR, INTA) or as an ISA
 * card (default 0x300, IRQ 9).  Register window: 0x00-0x0F the DP8390
 * (pages 0-3 selected by CR.PS), 0x10-0x17 the remote-DMA data port, 0x18-
 * 0x1F the reset port.  Frames go through a struct net_port (vmm/net). */
#ifndef MINUS1_NE2K_H
#define MINUS1_NE2K_H

#include <stdint.h>

#include "../../iobus.h"
#include "../../irq.h"
#include "../../log.h"
#include "../pci.h"

struct net_port;
struct ne2k;

#define NE2K_IO_SIZE 0x20
#define NE2K_ISA_DEFAULT_BASE 0x300
#define NE2K_ISA_DEFAULT_IRQ 9
#define NE2K_DEFAULT_MAC { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 }
#define NE2K_MAX_TX 1522        /* 1518 + a VLAN tag; longer TBCR is refused */

/* mac NULL = the default.  port may be NULL (no cable: frames vanish).
 * The NIC attaches itself to the port as its NIC side. */
struct ne2k *ne2k_create_pci(struct pci_bus *bus, struct net_port *port, const uint8_t mac[6],
                             const struct logger *log);
struct ne2k *ne2k_create_isa(struct iobus *pio, uint16_t base, struct irq irq,
                             struct net_port *port, const uint8_t mac[6], const struct logger *log);
/* Machine reset: the chip's hardware reset; frames queued in the port are
 * forgotten. */
void ne2k_reset(struct ne2k *n);
/* Takes the card off its bus and detaches it from the port. */
void ne2k_destroy(struct ne2k *n);

/* The PCI function (NULL for the ISA card), for tests and the machine. */
struct pci_device *ne2k_pci_device(struct ne2k *n);

/* Things the chip has no register for; for `info` and tests. */
struct ne2k_stats {
    uint64_t tx_frames, tx_refused;         /* TBCR 0 or too long */
    uint64_t rx_frames, rx_filtered, rx_runts, rx_missed, rx_bad_ring;
};
void ne2k_get_stats(const struct ne2k *n, struct ne2k_stats *out);

#endif
