# Interrupt-driven UART transmit (THRE on IRQ4) and loopback.
run_guest uart_irq 60 --accel kvm
expect_status 33 || return 1
expect_line "$WORK/uart_irq.serial" "uart_irq: hello from an interrupt-driven UART" || return 1
expect_line "$WORK/uart_irq.serial" "uart_irq: loopback ok"
