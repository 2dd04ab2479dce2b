# The test guests under minus1's own emulator (--accel emu): PIT interrupts
# with HLT, CMOS, the three reset paths (each reset re-runs the firmware
# from the power-on state), the interrupt-driven UART and a DHCP exchange
# over the NE2000.
run_guest pit_irq 60 --accel emu
expect_status 33 || return 1
expect_line "$WORK/pit_irq.serial" "pit_irq: ticks=0x0064" || return 1
run_guest cmos_time 60 --accel emu
expect_status 33 || return 1
run_guest reset 60 --accel emu
expect_status 33 || return 1
expect_line "$WORK/reset.serial" "reset: boot 4" || return 1
expect_line "$WORK/reset.serial" "reset: all reset paths work" || return 1
run_guest uart_irq 60 --accel emu
expect_status 33 || return 1
expect_line "$WORK/uart_irq.serial" "uart_irq: hello from an interrupt-driven UART" || return 1
expect_line "$WORK/uart_irq.serial" "uart_irq: loopback ok" || return 1
run_guest ne2k_dhcp 60 --accel emu --nic ne2k-pci --net user
expect_status 33 || return 1
expect_line "$WORK/ne2k_dhcp.serial" "ne2k_dhcp: offer 10.0.2.15"

