# The test guests under minus1's own emulator (--accel emu): PIT interrupts
# with HLT, CMOS, and the three reset paths (each reset re-runs the
# firmware from the power-on state).
run_guest pit_irq 60 --accel emu
expect_status 33 || return 1
expect_line "$WORK/pit_irq.serial" "pit_irq: ticks=0x0064" || return 1
run_guest cmos_time 60 --accel emu
expect_status 33 || return 1
run_guest reset 60 --accel emu
expect_status 33 || return 1
expect_line "$WORK/reset.serial" "reset: boot 4" || return 1
expect_line "$WORK/reset.serial" "reset: all reset paths work" || return 1
return 0
