# The KVM assist: on hosts whose KVM cannot emulate IRETD in 32-bit
# protected mode (ours stop inside ISOLINUX with "KVM internal error,
# emulation failure"), minus1's emulator runs the instruction and KVM goes
# on: ISOLINUX reads its config and starts loading ipxe.krn.  On hosts
# where KVM runs the code natively the same lines appear without help.
[ -w /dev/kvm ] || { echo "no /dev/kvm"; return 77; }

# Interrupts in 32-bit protected mode with an SS base other than 0: our
# hosts' KVM pushes an injected interrupt's frame without the SS base, so
# minus1 delivers those interrupts with its emulator.  The transcript
# must be the architectural one (tests/guests/sys_irq_ssbase.expected).
run_guest sys_irq_ssbase 60 --accel kvm
expect_status 33 || return 1
diff "$ROOT/tests/guests/sys_irq_ssbase.expected" "$WORK/sys_irq_ssbase.serial" >"$WORK/irq.diff" ||
    { fail "sys_irq_ssbase under kvm: $(head -c 400 "$WORK/irq.diff")"; return 1; }

iso=/usr/lib/ipxe/ipxe.iso
[ -f "$iso" ] || { echo "no $iso"; return 77; }
timeout -k 5 120 "$M1" --accel kvm --cdrom "$iso" --boot cd --serial "file:$WORK/serial.log" \
    >"$WORK/stdout" 2>"$WORK/stderr" </dev/null &
pid=$!
ok=0
wait_for_text "$WORK/serial.log" "Loading ipxe.krn" 100 ||
    { fail "ISOLINUX did not get to loading ipxe.krn: $(tail -c 300 "$WORK/serial.log"); stderr: $(head -c 400 "$WORK/stderr")"; ok=1; }
kill $pid 2>/dev/null
wait $pid 2>/dev/null
grep -q "KVM internal error" "$WORK/stderr" && { fail "KVM stopped: $(head -c 400 "$WORK/stderr")"; ok=1; }
return $ok
