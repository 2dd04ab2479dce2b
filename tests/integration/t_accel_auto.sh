# --accel auto probes KVM once, says on stderr what it chose and why, and
# `info accel` reports the same backend (emu on hosts whose KVM interprets
# kernel code, kvm where it runs it in hardware).
sock="$WORK/mon.sock"
timeout -k 5 120 "$M1" --serial "file:$WORK/serial.log" --monitor "unix:$sock" \
    >"$WORK/stdout" 2>"$WORK/stderr" </dev/null &
pid=$!
ok=0
wait_for "$WORK/serial.log" "No bootable device" 100 || { fail "SeaBIOS did not reach 'No bootable device'"; ok=1; }
monitor_cmd "$sock" "info accel" > "$WORK/accel.txt"
monitor_cmd "$sock" "quit" >/dev/null
wait $pid
[ $ok = 0 ] || return 1
[ "$(grep -c -- '--accel auto:' "$WORK/stderr")" = 1 ] || { fail "auto's choice not said exactly once: $(cat "$WORK/stderr")"; return 1; }
expect_line "$WORK/accel.txt" "chosen by --accel auto" || return 1
if grep -q 'using kvm' "$WORK/stderr"; then want=kvm; else want=emu; fi
expect_line "$WORK/accel.txt" "accelerator: $want"
