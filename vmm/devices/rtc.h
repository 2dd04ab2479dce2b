/* The MC146818 real-time clock and CMOS RAM at 0x70/0x71 (IRQ8).  The
 * machine stores the PC's CMOS configuration bytes (memory sizes, boot
 * order, equipment) with rtc_cmos_set() before power-on. */
#ifndef MINUS1_RTC_H
#define MINUS1_RTC_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "../iobus.h"
#include "../irq.h"
#include "../log.h"
#include "../vclock.h"

#define RTC_CMOS_SIZE 128

struct rtc;

/* base_time: the wall-clock time (UTC seconds) at virtual time 0; pass
 * time(NULL) for the host's clock. */
struct rtc *rtc_create(struct iobus *pio, struct vclock *clock, struct irq irq8,
                       time_t base_time, const struct logger *log);
void rtc_destroy(struct rtc *r);
void rtc_reset(struct rtc *r);

void rtc_cmos_set(struct rtc *r, unsigned index, uint8_t value);
uint8_t rtc_cmos_get(struct rtc *r, unsigned index);

/* Bit 7 of the last byte written to port 0x70: the PC's NMI mask. */
bool rtc_nmi_disabled(const struct rtc *r);

#endif
