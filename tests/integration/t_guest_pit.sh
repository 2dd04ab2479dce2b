# PIT channel 0 at 1 kHz through the master 8259: 100 interrupts with HLT.
run_guest pit_irq 60 --accel kvm
expect_status 33 || return 1
expect_line "$WORK/pit_irq.serial" "pit_irq: ticks=0x0064"
