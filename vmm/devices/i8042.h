/* The i8042 keyboard controller at 0x60/0x64 with its PS/2 keyboard
 * (IRQ1) and auxiliary (mouse) port (IRQ12).  Output port bits drive the
 * A20 gate and the system reset line. */
#ifndef MINUS1_I8042_H
#define MINUS1_I8042_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../iobus.h"
#include "../irq.h"
#include "../log.h"

struct i8042;

struct i8042_hooks {
    void (*reset)(void *opaque);                /* pulse on output port bit 0 */
    void (*set_a20)(void *opaque, bool enabled);
    void *opaque;
};

struct i8042 *i8042_create(struct iobus *pio, struct irq kbd_irq, struct irq aux_irq,
                           const struct i8042_hooks *hooks, const struct logger *log);
void i8042_destroy(struct i8042 *k);
void i8042_reset(struct i8042 *k);

/* Host key events as PS/2 scancode set 2 bytes (make, or 0xF0-prefixed
 * break, 0xE0-prefixed extended keys); the controller translates to set 1
 * when the command byte asks for it. */
void i8042_keyboard_bytes(struct i8042 *k, const uint8_t *codes, size_t len);
/* Relative mouse motion and buttons (bit0 left, bit1 right, bit2 middle).
 * Screen conventions, as VNC and SDL report them: dx > 0 is right, dy > 0
 * is DOWN (the device negates it, PS/2 wants up positive), dz > 0 is the
 * wheel turned toward the user (scroll down), which is what an IntelliMouse
 * sends as a positive Z.  Only reported in stream mode with data reporting
 * enabled (F4); in remote mode the motion accumulates until the guest
 * reads it with EB. */
void i8042_mouse_event(struct i8042 *k, int dx, int dy, int dz, unsigned buttons);

#endif
