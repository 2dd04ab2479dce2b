# --trace-io: SeaBIOS (no media) under the emulator, recorded until its
# "No bootable device".  The trace (format in vmm/trace_io.h) must hold the
# serial port writes that spell the banner the serial log shows, the fw_cfg
# signature read (selector 0 written to 0x510, then "QEMU" read from
# 0x511), and nothing malformed; tools/trace2corpus must turn it into
# well-formed seeds for the harnesses (UART: THR writes in window 0).
trace="$WORK/io.trace"
"$M1" --accel emu --serial "file:$WORK/serial.log" --trace-io "$trace" \
    >"$WORK/stdout" 2>"$WORK/stderr" </dev/null &
pid=$!
ok=0
wait_for "$WORK/serial.log" "No bootable device" 240 || { fail "no 'No bootable device'"; ok=1; }
kill -TERM $pid 2>/dev/null     # SIGTERM: minus1 exits 0, flushing the trace
STATUS=0
wait $pid || STATUS=$?
[ $ok = 0 ] || return 1
expect_status 0 || return 1
python3 - "$trace" "$WORK/serial.log" <<'PY' || return 1
import struct, sys
data = open(sys.argv[1], "rb").read()
serial = open(sys.argv[2], "rb").read()
assert data[:8] == b"M1IOTRC1", "bad magic %r" % data[:8]
assert struct.unpack("<I", data[8:12])[0] == 24, "record size"
body = data[16:]
assert len(body) % 24 == 0, "truncated record"
recs = [struct.unpack("<BBHIQQ", body[i:i + 24]) for i in range(0, len(body), 24)]
assert len(recs) > 1000, "only %d records" % len(recs)
for flags, size, pad, dt, addr, val in recs:
    assert flags < 4 and size in (1, 2, 4, 8) and pad == 0, "bad record"
    assert flags & 2 or addr <= 0xFFFF, "port above 0xFFFF"
# THR writes (DLAB writes of the divisor land there too: a handful).
thr = bytes(v & 0xFF for f, s, _, _, a, v in recs if f == 1 and a == 0x3F8 and s == 1)
banner = serial[serial.index(b"SeaBIOS (version"):].split(b"\n")[0]
assert banner in thr, "banner %r not in the 0x3F8 writes" % banner
assert b"No bootable device" in thr, "'No bootable device' not in the 0x3F8 writes"
# fw_cfg signature: a 16-bit 0 to the selector, then Q E M U from 0x511.
sig = False
for i, (f, s, _, _, a, v) in enumerate(recs):
    if f == 1 and a == 0x510 and s == 2 and v == 0:
        got = bytes(r[5] & 0xFF for r in recs[i + 1:i + 5] if r[0] == 0 and r[4] == 0x511)
        sig = sig or got == b"QEMU"
assert sig, "no fw_cfg signature read"
# Time moves forward: some records carry a gap.
assert sum(r[3] for r in recs) > 0, "no time deltas"
print("records", len(recs))
PY
"$ROOT/tools/trace2corpus" "$trace" "$WORK/corpus" --max-seeds 3 > "$WORK/t2c.txt" || \
    { fail "trace2corpus failed: $(tail -n 3 "$WORK/t2c.txt")"; return 1; }
for n in uart fw_cfg pic pit rtc pci vga; do
    set -- "$WORK/corpus/$n"/trace-*
    [ -e "$1" ] || { fail "no $n seeds: $(cat "$WORK/t2c.txt")"; return 1; }
done
python3 - "$WORK/corpus" <<'PY' || return 1
import os, struct, sys
root = sys.argv[1]
for name in os.listdir(root):
    for f in os.listdir(os.path.join(root, name)):
        d = open(os.path.join(root, name, f), "rb").read()
        assert len(d) >= 6 and struct.unpack("<H", d[4:6])[0] == 0, f
        assert (len(d) - 6) % 12 == 0, "%s/%s: not whole records" % (name, f)
        assert len(d) <= 8192, "%s/%s: over max_len" % (name, f)
u = open(os.path.join(root, "uart", "trace-0000"), "rb").read()[6:]
outs = [u[i:i + 12] for i in range(0, len(u), 12) if u[i] & 7 == 1]
assert any(r[1] == 0 and struct.unpack("<H", r[2:4])[0] == 0 for r in outs), "no THR writes"
PY
