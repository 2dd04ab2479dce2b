# Helpers for the display tests (t_vga_*, t_vnc*, t_sendkey), sourced by
# them after lib.sh: a machine that keeps running in the background while
# the test drives it through the monitor and VNC.

DISPLAY_PY="$ROOT/tests/integration/display.py"

# free_vnc_display: prints a display number N whose port 5900+N is free.
free_vnc_display() {
    python3 - <<'PY'
import os, socket
for i in range(100):
    n = 40 + (os.getpid() + i) % 60
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", 5900 + n))
        print(n)
        break
    except OSError:
        pass
    finally:
        s.close()
PY
}

# start_vm NAME [minus1 flags...]: minus1 in the background with the serial
# log in $WORK/NAME.serial and the monitor on $MON; sets VM_PID.
start_vm() {
    local name=$1
    shift
    MON="$WORK/monitor.sock"
    rm -f "$MON"
    timeout -k 5 120 "$M1" --serial "file:$WORK/$name.serial" --monitor "unix:$MON" "$@" \
        >"$WORK/$name.stdout" 2>"$WORK/$name.stderr" </dev/null &
    VM_PID=$!
    local i=0
    while [ ! -S "$MON" ] && [ $i -lt 100 ]; do
        kill -0 "$VM_PID" 2>/dev/null || break
        sleep 0.05
        i=$((i + 1))
    done
    [ -S "$MON" ] || fail "minus1 did not open its monitor: $(tail -n 3 "$WORK/$name.stderr")"
}

# stop_vm: quits through the monitor, kills if that does not work.
stop_vm() {
    [ -n "${VM_PID:-}" ] || return 0
    monitor_cmd "$MON" quit >/dev/null 2>&1
    local i=0
    while kill -0 "$VM_PID" 2>/dev/null && [ $i -lt 50 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    kill "$VM_PID" 2>/dev/null
    wait "$VM_PID" 2>/dev/null
    VM_PID=
}

# mon_ok LINE: runs a monitor command that must answer "ok"; prints the
# reply without the "ok".
mon_ok() {
    local out
    out=$(monitor_cmd "$MON" "$1") || { fail "monitor: '$1' failed"; return 1; }
    case "$out" in
    *$'\n'ok|ok) printf '%s\n' "${out%ok}" ;;
    *) fail "monitor: '$1' answered: $out"; return 1 ;;
    esac
}

# boot_disk_guest NAME IMAGE [flags...]: SeaBIOS boots the boot-sector
# guest NAME from a 1 MiB disk and the test waits for "NAME: ready".
boot_disk_guest() {
    local name=$1 accel=$2
    shift 2
    make_disk "$WORK/$name.img" "$(guest "$name")" 1
    start_vm "$name" --accel "$accel" --disk "$WORK/$name.img" --boot disk "$@" || return 1
    wait_for "$WORK/$name.serial" "$name: ready" 60 || {
        stop_vm
        fail "no '$name: ready' on COM1: $(tail -n 3 "$WORK/$name.serial")"
        return 1
    }
}
