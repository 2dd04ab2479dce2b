# Resets through the i8042, port 0x92 and 0xCF9 each re-run the firmware;
# CMOS NVRAM survives them.
run_guest reset 60 --accel kvm
expect_status 33 || return 1
expect_line "$WORK/reset.serial" "reset: boot 4" || return 1
expect_line "$WORK/reset.serial" "reset: all reset paths work" || return 1
# With --no-reboot the first reset ends minus1 with status 0.
run_guest reset 60 --accel kvm --no-reboot
expect_status 0 || return 1
grep -q "reset: boot 2" "$WORK/reset.serial" && fail "rebooted despite --no-reboot"
return 0
