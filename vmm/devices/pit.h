/* The 8254 programmable interval timer at 0x40-0x43 (channel 0 drives
 * IRQ0, channel 2 the speaker) and the "system control port B" at 0x61
 * (gate 2, speaker enable, OUT2 and the refresh toggle bit). */
#ifndef MINUS1_PIT_H
#define MINUS1_PIT_H

#include <stdint.h>

#include "../iobus.h"
#include "../irq.h"
#include "../log.h"
#include "../vclock.h"

#define PIT_FREQ_HZ 1193182ull

struct pit;

struct pit *pit_create(struct iobus *pio, struct vclock *clock, struct irq irq0,
                       const struct logger *log);
void pit_destroy(struct pit *p);
void pit_reset(struct pit *p);

/* For tests and dumps: the current count and OUT pin of a channel. */
uint16_t pit_get_count(struct pit *p, int channel);
int pit_get_out(struct pit *p, int channel);

#endif
