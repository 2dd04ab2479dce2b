/* The PIIX3 PCI-to-ISA bridge (8086:7000, 00:01.0): PIRQ routing
 * registers 0x60-0x63 steer PCI INTx links to ISA IRQs; the reset control
 * register at port 0xCF9 resets the machine. */
#ifndef MINUS1_PIIX3_H
#define MINUS1_PIIX3_H

#include "../irq.h"
#include "pci.h"

struct piix3;

struct piix3_hooks {
    void (*reset)(void *opaque);
    void *opaque;
};

/* isa_irqs[0..15]: the PIC inputs PCI interrupts may be routed to. */
struct piix3 *piix3_create(struct pci_bus *bus, const struct irq isa_irqs[16],
                           const struct piix3_hooks *hooks, const struct logger *log);
void piix3_destroy(struct piix3 *p);
void piix3_reset(struct piix3 *p);

#endif
