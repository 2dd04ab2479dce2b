/* IRQ lines: a device holds a `struct irq` and sets its level; whoever
 * sits at the other end (PIC input, PCI interrupt router, CPU INTR pin)
 * supplied the handler.  Edge-triggered inputs see a 0->1 transition. */
#ifndef MINUS1_IRQ_H
#define MINUS1_IRQ_H

typedef void (*irq_handler)(void *opaque, int n, int level);

struct irq {
    irq_handler handler;
    void *opaque;
    int n;
};

static inline void irq_set(const struct irq *irq, int level)
{
    if (irq && irq->handler)
        irq->handler(irq->opaque, irq->n, level);
}

static inline void irq_raise(const struct irq *irq) { irq_set(irq, 1); }
static inline void irq_lower(const struct irq *irq) { irq_set(irq, 0); }

/* An edge for edge-triggered inputs that leaves the line low. */
static inline void irq_pulse(const struct irq *irq)
{
    irq_set(irq, 1);
    irq_set(irq, 0);
}

#endif
