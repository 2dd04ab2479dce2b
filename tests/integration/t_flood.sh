# Resource limits under a hostile guest: minus1's resident memory (VmRSS)
# must not grow by more than 16 MiB during FLOOD_SECONDS (default 10) of
#   1. a guest writing COM1's THR in a tight loop (tests/guests/flood_uart),
#      with --serial none and with --serial file:PATH (that file grows on
#      disk, minus1 must not);
#   2. a guest transmitting NE2000 frames to --net user in a tight loop and
#      never emptying its receive ring (tests/guests/flood_net);
#   3. monitor clients that stream commands and never read the replies, or
#      send one endless line.
# The figures are printed.
SECS=${FLOOD_SECONDS:-10}
LIMIT_KB=$((16 * 1024))

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# flood_start NAME GUEST [flags...]: boots GUEST in the background, PID in $PID.
flood_start() {
    local name=$1 g=$2
    shift 2
    rm -f "$WORK/$name.mon"
    "$M1" --accel kvm --bios "$(guest "$g")" --monitor "unix:$WORK/$name.mon" "$@" \
        >"$WORK/$name.stdout" 2>"$WORK/$name.stderr" </dev/null &
    PID=$!
    local i
    for i in $(seq 100); do [ -S "$WORK/$name.mon" ] && break; sleep 0.1; done
    [ -S "$WORK/$name.mon" ] || { kill -9 $PID; fail "$name: minus1 did not start"; return 1; }
}

# flood_measure NAME: RSS after a 2 s warm-up and after $SECS more; checks the bound.
flood_measure() {
    local name=$1 r0 r1
    sleep 2
    r0=$(rss_kb $PID)
    sleep "$SECS"
    kill -0 $PID 2>/dev/null || { fail "$name: minus1 died: $(tail -n 3 "$WORK/$name.stderr")"; return 1; }
    r1=$(rss_kb $PID)
    echo "    $name: VmRSS $r0 kB -> $r1 kB after ${SECS}s ($((r1 - r0)) kB)"
    [ $((r1 - r0)) -le $LIMIT_KB ] || { kill -9 $PID; fail "$name: RSS grew by $((r1 - r0)) kB"; return 1; }
}

flood_stop() {
    local out
    out=$(monitor_cmd "$WORK/$1.mon" "info status" 2>&1)
    case "$out" in *running*) ;; *) kill -9 $PID; fail "$1: monitor does not answer after the flood: $out"; return 1 ;; esac
    kill $PID
    wait $PID 2>/dev/null
    return 0
}

# 1. UART.
flood_start uart_none flood_uart --serial none || return 1
flood_measure uart_none || return 1
flood_stop uart_none || return 1
flood_start uart_file flood_uart --serial "file:$WORK/uart.out" || return 1
wait_for "$WORK/uart.out" "flood: uart" 10 || { kill -9 $PID; fail "uart guest did not start"; return 1; }
flood_measure uart_file || return 1
echo "    uart_file: the serial file reached $(stat -c %s "$WORK/uart.out") bytes"
flood_stop uart_file || return 1

# 2. NE2000 -> slirp, replies never taken out of the ring.
flood_start net flood_net --nic ne2k-pci --net user --serial "file:$WORK/net.serial" || return 1
wait_for "$WORK/net.serial" "flood: net" 10 || { kill -9 $PID; fail "net guest did not start: $(cat "$WORK/net.serial")"; return 1; }
flood_measure net || return 1
info=$(monitor_cmd "$WORK/net.mon" "info network")
echo "$info" | grep -E '^(tx|rx):' | sed 's/^/    net: /'
echo "$info" | grep -q "queued 256 (max 256)" || echo "    net: (receive queue not full?)"
flood_stop net || return 1

# 3. Monitor: a command stream nobody reads and an endless line.
flood_start mon flood_uart --serial none || return 1
python3 - "$WORK/mon.mon" "$((SECS + 2))" > "$WORK/monflood.out" 2>&1 <<'PY' &
import socket, sys, threading, time
path, secs = sys.argv[1], float(sys.argv[2])
def flood(kind):
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    s.setblocking(False)
    chunk = b"info registers\n" * 4096 if kind == "commands" else b"x" * 65536
    sent, end = 0, time.time() + secs
    while time.time() < end:
        try:
            sent += s.send(chunk)
        except BlockingIOError:
            time.sleep(0.001)
        except OSError:
            print(f"    mon: {kind}: disconnected by minus1 after {sent} bytes")
            return
    print(f"    mon: {kind}: {sent} bytes sent, no reply read")
ts = [threading.Thread(target=flood, args=(k,)) for k in ("commands", "endless line")]
for t in ts: t.start()
for t in ts: t.join()
PY
FL=$!
flood_measure mon || { kill $FL; return 1; }
wait $FL
cat "$WORK/monflood.out"
flood_stop mon || return 1
