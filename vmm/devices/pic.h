/* The 8259A pair of a PC (master at 0x20, slave at 0xA0 cascaded on IRQ2)
 * with the PIIX3 edge/level control registers (ELCR) at 0x4D0/0x4D1. */
#ifndef MINUS1_PIC_H
#define MINUS1_PIC_H

#include <stdbool.h>

#include "../iobus.h"
#include "../irq.h"
#include "../log.h"

struct pic;

struct pic *pic_create(struct iobus *pio, const struct logger *log);
void pic_destroy(struct pic *p);
void pic_reset(struct pic *p);

/* ISA IRQ input n (0..15) as an IRQ line for devices. */
struct irq pic_irq_line(struct pic *p, int n);
/* The same, as a plain function (irq_handler signature). */
void pic_set_irq(void *pic, int n, int level);

/* The INTR output to the CPU: cb(opaque, level) whenever it changes. */
void pic_set_intr_callback(struct pic *p, void (*cb)(void *opaque, int level), void *opaque);
bool pic_intr_pending(struct pic *p);
/* The CPU's interrupt-acknowledge cycle: returns the vector to deliver
 * (spurious IRQ7/IRQ15 vectors when the request went away). */
int pic_acknowledge(struct pic *p);

/* For `info pic`-style dumps and tests. */
void pic_get_regs(struct pic *p, int chip, unsigned *irr, unsigned *isr, unsigned *imr);

#endif
