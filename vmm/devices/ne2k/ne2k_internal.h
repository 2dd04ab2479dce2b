/* State shared by the DP8390 core (dp8390.c) and the bus front ends
 * (ne2k_bus.c).  Private to vmm/devices/ne2k. */
#ifndef MINUS1_NE2K_INTERNAL_H
#define MINUS1_NE2K_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "ne2k.h"

#define NE2K_PROM_SIZE 32
#define NE2K_RAM_BASE 0x4000
#define NE2K_RAM_SIZE 0x4000
#define NE2K_RAM_START_PAGE (NE2K_RAM_BASE >> 8)
#define NE2K_RAM_END_PAGE ((NE2K_RAM_BASE + NE2K_RAM_SIZE) >> 8)

struct ne2k {
    const struct logger *log;
    struct ratelimit rl;
    struct net_port *port;
    bool rtl8029;               /* PCI: Realtek ID bytes and page 3 */

    /* Front end. */
    struct pci_device pci;
    bool is_pci;
    struct io_region region;    /* ISA */
    struct iobus *pio;
    struct irq irq;             /* ISA */

    /* DP8390 registers. */
    uint8_t cr, isr, imr, dcr, tcr, rcr, tsr, rsr;
    uint8_t pstart, pstop, bnry, curr, tpsr;
    uint16_t tbcr, rsar, rbcr, clda;
    uint8_t rnpp, lnpp;         /* page 2 diagnostics, read back only */
    uint8_t par[6], mar[8];
    uint8_t cntr[3];
    /* RTL8029 page 3. */
    uint8_t cr9346, bpage, config[4];

    uint8_t mac[6];
    uint8_t prom[NE2K_PROM_SIZE];
    uint8_t ram[NE2K_RAM_SIZE];
    struct ne2k_stats st;
};

extern const struct io_ops ne2k_io_ops;

void ne2k_core_init(struct ne2k *n, struct net_port *port, const uint8_t mac[6],
                    const struct logger *log, bool rtl8029);
void ne2k_core_fini(struct ne2k *n);
/* The chip's reset (reset port or hardware): registers only. */
void ne2k_chip_reset(struct ne2k *n);

#endif
