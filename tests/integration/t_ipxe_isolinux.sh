# Debian's ipxe.iso boots through SeaBIOS from our CD-ROM to ISOLINUX's
# banner on the serial console under --accel kvm.  Where KVM cannot
# emulate an instruction, the KVM assist (minus1's emulator) takes it; if
# minus1 stops anyway, the report must name the instruction (Capstone) and
# dump the registers.
iso=/usr/lib/ipxe/ipxe.iso
[ -f "$iso" ] || { echo "no $iso"; return 77; }
timeout -k 5 180 "$M1" --accel kvm --cdrom "$iso" --boot cd --serial "file:$WORK/serial.log" \
    >"$WORK/stdout" 2>"$WORK/stderr" </dev/null &
pid=$!
ok=0
wait_for "$WORK/serial.log" "ISOLINUX" 170 || { fail "no ISOLINUX banner: $(tail -c 300 "$WORK/serial.log")"; ok=1; }
# Give it a few seconds to either go on or stop.
for _ in $(seq 50); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
if kill -0 $pid 2>/dev/null; then
    kill $pid
    wait $pid 2>/dev/null
else
    STATUS=0
    wait $pid || STATUS=$?
    if [ "$STATUS" != 0 ]; then
        expect_line "$WORK/stderr" "KVM internal error" || ok=1
        grep -Eq 'at [0-9a-f]{4}:[0-9a-f]+: [a-z]' "$WORK/stderr" || { fail "no disassembly: $(head -c 300 "$WORK/stderr")"; ok=1; }
        expect_line "$WORK/stderr" "RIP=" || ok=1
    fi
fi
return $ok
