# VNC: an RFB 3.8 client (tests/integration/display.py, no auth, 32 bpp,
# Raw) sees what screendump sees, follows incremental updates and mode
# changes, and its key events reach the guest as PS/2 keys.  A server with a
# password offers no unauthenticated access.
. "$ROOT/tests/integration/display_lib.sh"
trap stop_vm EXIT
N=$(free_vnc_display)
[ -n "$N" ] || { fail "no free VNC port"; return 1; }
PORT=$((5900 + N))

# 1. Mode 13h with reprogrammed DAC entries: the full frame equals the
# screendump pixel for pixel.
boot_disk_guest vga13 emu --display "vnc:$N" || return 1
mon_ok "screendump $WORK/m13.png" >/dev/null || return 1
python3 - "$DISPLAY_PY" "$PORT" "$WORK/m13.png" <<'PY' || return 1
import sys
sys.path.insert(0, sys.argv[1].rsplit("/", 1)[0])
from display import RFB, png_read
w, h, px = png_read(sys.argv[3])
c = RFB(int(sys.argv[2]))
c.update(False)
if (c.width, c.height) != (w, h):
    sys.exit(f"    VNC frame {c.width}x{c.height}, screendump {w}x{h}")
got = c.rgb_rows()
bad = [(x, y) for y in range(h) for x in range(w) if got[y][x] != px[y][x]]
if bad:
    x, y = bad[0]
    sys.exit(f"    {len(bad)} pixels differ, e.g. ({x},{y}) vnc {got[y][x]} png {px[y][x]}")
PY
stop_vm

# 2. Keys from the client: x, shift+Y, Return.  The echo reaches the client
# as an incremental update and the frame then equals a screendump (but for
# the blinking cursor's cell).
boot_disk_guest keys emu --display "vnc:$N" || return 1
python3 - "$DISPLAY_PY" "$PORT" "$WORK/keys.serial" "$MON" "$WORK" <<'PY' || return 1
import os, socket, sys, time
sys.path.insert(0, sys.argv[1].rsplit("/", 1)[0])
from display import RFB, png_read
serial, mon, work = sys.argv[3], sys.argv[4], sys.argv[5]

def wait_serial(text, secs=10):
    end = time.monotonic() + secs
    while time.monotonic() < end:
        if text in open(serial).read():
            return True
        time.sleep(0.05)
    return False

def monitor(line):
    s = socket.socket(socket.AF_UNIX)
    s.connect(mon)
    s.sendall(line.encode() + b"\n")
    buf = b""
    while not (buf.endswith(b"ok\n") or b"error:" in buf):
        buf += s.recv(4096)
    s.close()
    return buf.decode()

c = RFB(int(sys.argv[2]))
if (c.width, c.height) != (720, 400):
    sys.exit(f"    text mode frame is {c.width}x{c.height}")
c.update(False)
before = bytes(c.fb)
c.tap(0x78)                                     # x
c.key(0xFFE1, True)                             # Shift_L
c.tap(0x59)                                     # Y
c.key(0xFFE1, False)
c.tap(0xFF0D)                                   # Return
for want in ("key 2d78", "key 1559", "key 1c0d"):
    if not wait_serial(want):
        sys.exit(f"    no '{want}' on COM1 after the VNC key events")
# Incremental updates until "xY" shows (or 5 s).
end = time.monotonic() + 5
while time.monotonic() < end:
    c.update(True)
    if "xY" in monitor("vga-text").split("\n") and bytes(c.fb) != before:
        break
else:
    sys.exit("    the echo never reached the VNC client")
time.sleep(0.2)
c.update(True)
monitor(f"screendump {work}/keys.png")
c.update(True)
w, h, px = png_read(f"{work}/keys.png")
got = c.rgb_rows()
bad = [(x, y) for y in range(h) for x in range(w) if got[y][x] != px[y][x]]
cells = {(x // 9, y // 16) for x, y in bad}
if len(cells) > 1:
    sys.exit(f"    VNC frame and screendump differ in {len(cells)} cells, e.g. {sorted(cells)[:4]}")
PY
stop_vm

# 3. With a password the server offers VNC authentication only.
start_vm pw --accel emu --display "vnc=127.0.0.1:$N,password=secret" || return 1
python3 - "$DISPLAY_PY" "$PORT" <<'PY' || return 1
import sys
sys.path.insert(0, sys.argv[1].rsplit("/", 1)[0])
from display import RFB
try:
    RFB(int(sys.argv[2]))
except ValueError as e:
    if "2" not in str(e):
        sys.exit(f"    unexpected refusal: {e}")
else:
    sys.exit("    a password-protected server let the client in without one")
PY
