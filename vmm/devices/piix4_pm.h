/* PIIX4-style power management function (8086:7113 rev 3, class 0x0680,
 * normally 00:01.3): the ACPI fixed-feature hardware.
 *
 * Configuration space: PMBA (0x40, I/O base, 64 bytes) and PMREGMISC
 * (0x80, bit 0 enables the PM I/O space), as SeaBIOS programs them.
 * No SMM: DEVACTB (0x58) reads APMC_EN (bit 25) set and read-only,
 * which tells SeaBIOS that SMM set-up is done (it would otherwise raise
 * an SMI through port 0xB2 and wait for it forever).
 * The SMBus controller is not implemented: its base (0x90) and host
 * configuration (0xD2) read 0, so drivers see it disabled.
 *
 * I/O space at PMBA (82371AB datasheet, section 11):
 *   +0x00 PM1_STS  (16) TMROF_STS, PWRBTN_STS, RTC_STS, WAK_STS... (w1c)
 *   +0x02 PM1_EN   (16) TMROF_EN, GBL_EN, PWRBTN_EN, RTC_EN
 *   +0x04 PM1_CNT  (16) SCI_EN, SLP_TYP (12:10), SLP_EN (13, write-only)
 *   +0x08 PM_TMR   (32) 24-bit 3.579545 MHz counter, read-only
 *   +0x0C GPE0_STS (16) w1c;  +0x0E GPE0_EN (16)   (no GPE sources)
 *   +0x10..0x3F    processor control and global registers: storage
 *
 * There is no SMM: SCI_EN is set from reset (the FADT has SMI_CMD 0) and
 * every enabled event asserts the SCI line (level, active high). */
#ifndef MINUS1_PIIX4_PM_H
#define MINUS1_PIIX4_PM_H

#include "../irq.h"
#include "../log.h"
#include "../vclock.h"
#include "pci.h"

#define PIIX4_PM_DEVFN ((1 << 3) | 3)       /* 00:01.3 */
#define PIIX4_PM_IO_SIZE 64

/* Register offsets in the PM I/O space. */
#define PIIX4_PM1_STS   0x00
#define PIIX4_PM1_EN    0x02
#define PIIX4_PM1_CNT   0x04
#define PIIX4_PM_TMR    0x08
#define PIIX4_GPE0_STS  0x0c
#define PIIX4_GPE0_EN   0x0e

/* PM1_STS / PM1_EN bits. */
#define PIIX4_PM1_TMR       (1u << 0)
#define PIIX4_PM1_BM        (1u << 4)       /* status only */
#define PIIX4_PM1_GBL       (1u << 5)
#define PIIX4_PM1_PWRBTN    (1u << 8)
#define PIIX4_PM1_RTC       (1u << 10)
#define PIIX4_PM1_PWRBTNOR  (1u << 11)      /* status only */
#define PIIX4_PM1_WAK       (1u << 15)      /* status only */

/* PM1_CNT bits. */
#define PIIX4_CNT_SCI_EN    (1u << 0)
#define PIIX4_CNT_SLP_TYP_SHIFT 10
#define PIIX4_CNT_SLP_TYP_MASK  (7u << 10)
#define PIIX4_CNT_SLP_EN    (1u << 13)

/* SLP_TYP (SUS_TYP) 0 is "soft off": the DSDT's \_S5 says so too. */
#define PIIX4_SLP_TYP_S5    0

#define PIIX4_PM_TIMER_HZ 3579545ull

struct piix4_pm;

struct piix4_pm_hooks {
    /* S5 entered: the machine turns off (minus1 exits with status 0). */
    void (*poweroff)(void *opaque);
    void *opaque;
};

/* Registers the function at devfn (PIIX4_PM_DEVFN) on bus; sci is the
 * ISA IRQ 9 input.  The PM I/O space is decoded on bus->pio once the
 * guest sets PMBA and PMREGMISC. */
struct piix4_pm *piix4_pm_create(struct pci_bus *bus, int devfn, struct irq sci,
                                 struct vclock *clock, const struct piix4_pm_hooks *hooks,
                                 const struct logger *log);
void piix4_pm_destroy(struct piix4_pm *pm);
/* Power-on state: PMBA 0, I/O space off, SCI_EN set, events cleared. */
void piix4_pm_reset(struct piix4_pm *pm);

/* The power button was pressed (monitor `system_powerdown`): sets
 * PWRBTN_STS and, if PWRBTN_EN, asserts the SCI. */
void piix4_pm_power_button(struct piix4_pm *pm);

/* Current PM1 status (tests, monitor). */
uint16_t piix4_pm_status(struct piix4_pm *pm);

#endif
