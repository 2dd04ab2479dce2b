# The distro SeaBIOS with no media prints its banner and reaches
# "No bootable device" on the serial console; the monitor answers.
sock="$WORK/mon.sock"
timeout -k 5 300 "$M1" --accel kvm --serial "file:$WORK/serial.log" --monitor "unix:$sock" \
    >"$WORK/stdout" 2>"$WORK/stderr" </dev/null &
pid=$!
ok=0
wait_for "$WORK/serial.log" "SeaBIOS (version" 120 || { fail "no SeaBIOS banner"; ok=1; }
[ $ok = 0 ] && { wait_for "$WORK/serial.log" "No bootable device" 240 || { fail "no 'No bootable device'"; ok=1; }; }
if [ $ok = 0 ]; then
    monitor_cmd "$sock" "info status" > "$WORK/status.txt"
    expect_line "$WORK/status.txt" "accelerator: kvm" || ok=1
    monitor_cmd "$sock" "info registers" > "$WORK/regs.txt"
    expect_line "$WORK/regs.txt" "RIP=" || ok=1
    monitor_cmd "$sock" "info accel" > "$WORK/accel.txt"
    expect_line "$WORK/accel.txt" "exits:" || ok=1
    monitor_cmd "$sock" "frobnicate" > "$WORK/bad.txt"
    expect_line "$WORK/bad.txt" "error: unknown command" || ok=1
    monitor_cmd "$sock" "quit" > /dev/null
fi
STATUS=0
wait $pid || STATUS=$?
[ $ok = 0 ] || { kill $pid 2>/dev/null; return 1; }
expect_status 0
