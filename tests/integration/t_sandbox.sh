# The seccomp sandbox (docs/SANDBOX.md): with --sandbox on, and by default,
# every thread of a running minus1 is under a filter (/proc/PID/status:
# Seccomp 2, at least one filter), the machine still boots and does disk
# DMA, and the monitor still works; --sandbox off installs nothing.  That a
# forbidden call is refused is shown by tests/unit/test_sandbox.c.

# seccomp_of PID: "MODE FILTERS" of the process and the mode of each thread.
seccomp_of() {
    awk '/^Seccomp:/ { m = $2 } /^Seccomp_filters:/ { f = $2 } END { print m, f }' "/proc/$1/status"
}

threads_filtered() {
    local t
    for t in /proc/"$1"/task/*; do
        grep -q '^Seccomp:[[:space:]]*2' "$t/status" || return 1
    done
}

# boot_mon MODE...: SeaBIOS without media, a monitor, running in the background.
boot_mon() {
    rm -f "$WORK/mon.sock"
    "$M1" --accel kvm --monitor "unix:$WORK/mon.sock" --serial "file:$WORK/sb.serial" "$@" \
        >"$WORK/sb.stdout" 2>"$WORK/sb.stderr" </dev/null &
    PID=$!
    local i
    for i in $(seq 100); do [ -S "$WORK/mon.sock" ] && break; sleep 0.1; done
    [ -S "$WORK/mon.sock" ] || { kill -9 "$PID"; fail "no monitor socket: $(cat "$WORK/sb.stderr")"; return 1; }
    sleep 0.5
}

stop_mon() {
    monitor_cmd "$WORK/mon.sock" quit >/dev/null 2>&1
    local i
    for i in $(seq 50); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$PID" 2>/dev/null && { kill -9 "$PID"; fail "minus1 did not quit under the sandbox"; return 1; }
    wait "$PID"
    [ $? = 0 ] || { fail "exit status $? after quit; stderr: $(tail -n 3 "$WORK/sb.stderr")"; return 1; }
}

for mode in on default; do
    if [ $mode = default ]; then boot_mon || return 1; else boot_mon --sandbox on || return 1; fi
    set -- $(seccomp_of "$PID")
    [ "$1" = 2 ] || { kill -9 "$PID"; fail "--sandbox $mode: Seccomp: $1, wanted 2"; return 1; }
    [ "${2:-0}" -ge 1 ] || { kill -9 "$PID"; fail "--sandbox $mode: Seccomp_filters: $2"; return 1; }
    threads_filtered "$PID" || { kill -9 "$PID"; fail "--sandbox $mode: a thread is not filtered"; return 1; }
    # The monitor works, including a command that writes a file.
    out=$(monitor_cmd "$WORK/mon.sock" "info status")
    case "$out" in *running*) ;; *) kill -9 "$PID"; fail "info status under the sandbox: $out"; return 1 ;; esac
    out=$(monitor_cmd "$WORK/mon.sock" "screendump $WORK/s.png")
    case "$out" in *ok*) ;; *) kill -9 "$PID"; fail "screendump under the sandbox: $out"; return 1 ;; esac
    [ -s "$WORK/s.png" ] || { kill -9 "$PID"; fail "no screendump file"; return 1; }
    rm -f "$WORK/s.png"
    stop_mon || return 1
done

boot_mon --sandbox off || return 1
set -- $(seccomp_of "$PID")
[ "$1" = 0 ] || { kill -9 "$PID"; fail "--sandbox off: Seccomp: $1"; return 1; }
stop_mon || return 1

# A guest doing WRITE DMA / READ DMA / FLUSH CACHE under the filter.
make_disk "$WORK/disk.img" "$(guest diskboot)" 4
run_seabios disk 120 --accel kvm --disk "$WORK/disk.img" --boot disk --sandbox on
expect_status 33 || return 1
expect_line "$WORK/disk.serial" "diskboot: DMA write, read back and flush ok" || return 1

# A bad value is a usage error.
"$M1" --sandbox maybe >/dev/null 2>"$WORK/bad.stderr" </dev/null
[ $? = 2 ] || { fail "--sandbox maybe: wanted exit 2"; return 1; }
expect_line "$WORK/bad.stderr" "--sandbox" || return 1
