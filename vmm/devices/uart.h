/* A 16550A UART (COM1 at 0x3F8/IRQ4 on a PC) connected to a chardev. */
#ifndef MINUS1_UART_H
#define MINUS1_UART_H

#include <stdint.h>

#include "../chardev.h"
#include "../iobus.h"
#include "../irq.h"
#include "../log.h"
#include "../vclock.h"

struct uart;

/* chr may be NULL (output discarded, no input). */
struct uart *uart_create(struct iobus *pio, uint16_t base, struct irq irq, struct vclock *clock,
                         struct chardev *chr, const struct logger *log);
void uart_destroy(struct uart *u);
void uart_reset(struct uart *u);

/* Input from the host side (tests call these directly as well). */
size_t uart_can_receive(void *uart);
void uart_receive(void *uart, const uint8_t *buf, size_t len);

#endif
