# The distro SeaBIOS under --accel emu reaches "No bootable device"; the
# monitor reports the emulator's statistics.
sock="$WORK/mon.sock"
timeout -k 5 120 "$M1" --accel emu --serial "file:$WORK/serial.log" --monitor "unix:$sock" \
    >"$WORK/stdout" 2>"$WORK/stderr" </dev/null &
pid=$!
ok=0
wait_for "$WORK/serial.log" "SeaBIOS (version" 60 || { fail "no SeaBIOS banner"; ok=1; }
[ $ok = 0 ] && { wait_for "$WORK/serial.log" "No bootable device" 90 || { fail "no 'No bootable device'"; ok=1; }; }
if [ $ok = 0 ]; then
    monitor_cmd "$sock" "info accel" > "$WORK/accel.txt"
    expect_line "$WORK/accel.txt" "accelerator: emu" || ok=1
    expect_line "$WORK/accel.txt" "unimplemented instructions hit: 0" || ok=1
    monitor_cmd "$sock" "info registers" > "$WORK/regs.txt"
    expect_line "$WORK/regs.txt" "RIP=" || ok=1
    monitor_cmd "$sock" "quit" > /dev/null
fi
STATUS=0
wait $pid || STATUS=$?
[ $ok = 0 ] || { kill $pid 2>/dev/null; return 1; }
expect_status 0
