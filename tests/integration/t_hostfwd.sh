# The host reaches a guest TCP service through user networking's port
# forward: ne2k_hostfwd echoes on 10.0.2.15:7, minus1 forwards a free host
# port to it, python3 connects over loopback and gets its line back; after
# the close the guest sees the FIN, answers and exits.  The pcap holds the
# handshake and both data segments with good checksums.
NAME=ne2k_hostfwd
SERIAL="$WORK/$NAME.serial"
MON="$WORK/monitor.sock"
PCAP="$WORK/fwd.pcap"
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

timeout -k 5 60 "$M1" --accel kvm --bios "$(guest $NAME)" --serial "file:$SERIAL" \
    --nic ne2k-pci --net "user,hostfwd=tcp::$PORT-:7" --pcap "$PCAP" --monitor "unix:$MON" \
    >"$WORK/$NAME.stdout" 2>"$WORK/$NAME.stderr" </dev/null &
PID=$!

# stop_vm: asks the monitor to quit (the guest did not finish by itself).
stop_vm() {
    monitor_cmd "$MON" quit >/dev/null 2>&1 || kill "$PID" 2>/dev/null
    wait "$PID" 2>/dev/null
}

wait_for "$SERIAL" "listening on 10.0.2.15:7" 20 ||
    { stop_vm; fail "guest never listened: $(cat "$SERIAL" "$WORK/$NAME.stderr" 2>/dev/null | tail -n 5)"; return 1; }

python3 - "$PORT" >"$WORK/client.out" 2>&1 <<'PY'
import socket, sys
msg = b"hello minus1\n"
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
s.sendall(msg)
got = b""
while len(got) < len(msg):
    chunk = s.recv(4096)
    if not chunk:
        break
    got += chunk
s.close()
print("echo:", repr(got))
sys.exit(0 if got == msg else 1)
PY
CLIENT=$?
if [ "$CLIENT" != 0 ]; then
    stop_vm
    fail "no echo from the guest: $(cat "$WORK/client.out"); serial: $(tail -n 3 "$SERIAL")"
    return 1
fi

# The guest exits by itself once the FIN exchange is done.
i=0
while kill -0 "$PID" 2>/dev/null && [ $i -lt 200 ]; do
    sleep 0.1
    i=$((i + 1))
done
if kill -0 "$PID" 2>/dev/null; then
    stop_vm
    fail "guest did not finish after the close: $(tail -n 3 "$SERIAL")"
    return 1
fi
STATUS=0
wait "$PID" || STATUS=$?
expect_status 33 || return 1
expect_line "$SERIAL" "ne2k_hostfwd: SYN" || return 1
expect_line "$SERIAL" "ne2k_hostfwd: echoed 0x000d bytes, closed" || return 1

# The capture: SYN, SYN-ACK, the line both ways, FIN both ways; tshark
# checks every IP and TCP checksum.
tshark -r "$PCAP" -Y tcp -o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE \
    -T fields -e tcp.srcport -e tcp.flags -e tcp.len -e ip.checksum.status -e tcp.checksum.status \
    >"$WORK/tcp.txt" 2>"$WORK/tshark.err" ||
    { fail "tshark cannot read the pcap: $(cat "$WORK/tshark.err")"; return 1; }
grep -v 'Running as user' "$WORK/tshark.err" >"$WORK/tshark.warn"
[ -s "$WORK/tshark.warn" ] && { fail "tshark warned: $(cat "$WORK/tshark.warn")"; return 1; }
has() {
    awk -v p="$1" -v f="$2" -v l="$3" '$1 == p && $2 == f && $3 == l { n++ } END { exit !n }' "$WORK/tcp.txt" ||
        { fail "no '$4' in the pcap: $(tr '\n' ';' <"$WORK/tcp.txt")"; return 1; }
}
# (slirp's side of the connection has an ephemeral port, ours is 7)
awk '$1 != 7 && $2 == "0x0002" { n++ } END { exit !n }' "$WORK/tcp.txt" ||
    { fail "no SYN to the guest in the pcap: $(tr '\n' ';' <"$WORK/tcp.txt")"; return 1; }
has 7 0x0012 0 "SYN-ACK from the guest" || return 1
has 7 0x0018 13 "echo from the guest" || return 1
has 7 0x0011 0 "FIN-ACK from the guest" || return 1
awk '$1 != 7 && $3 == 13 { n++ } END { exit !n }' "$WORK/tcp.txt" ||
    { fail "no data to the guest in the pcap"; return 1; }
# Checksum status 0 = bad (1 good, 2 unverified).
awk '$4 == 0 || $5 == 0 { n++ } END { exit !!n }' "$WORK/tcp.txt" ||
    { fail "bad checksums in the pcap: $(tr '\n' ';' <"$WORK/tcp.txt")"; return 1; }
