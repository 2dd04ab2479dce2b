# End to end (issue 8): Debian's kernel and busybox on an ISO built here
# from the packages (tests/linux/make-e2e-iso: tests/linux/e2e.init and the
# kernel's own modules for our disk, CD-ROM, NIC, file systems, power
# button and display), booted by SeaBIOS from our IDE CD-ROM under --accel
# auto, with a raw ext2 disk and user networking.  The guest mounts the
# disk and hashes a known file, mounts the CD-ROM (Linux's sr driver, the
# drive forced into PIO mode while the disk runs multiword DMA), writes a
# file and syncs, gets a DHCP lease, fetches a file from an HTTP
# server on the host's loopback through 10.0.2.2, answers a connection the
# test makes through a host port forward, reads the CMOS clock, loads the
# bochs DRM driver (framebuffer console on our Bochs VBE) and reads a line
# typed through the monitor's sendkey (i8042), then waits for the ACPI
# power button (the monitor's system_powerdown) and powers off (S5).
# Checked on the host: the serial log, the VGA text screen, the
# framebuffer screendump, the pcap (the DHCP ACK, the HTTP GET, the
# forwarded connection), the guest's file in the image (debugfs), the
# guest's clock, and exit status 0.
iso="$WORK/e2e.iso"
rc=0
"$ROOT/tests/linux/make-e2e-iso" "$iso" >"$WORK/mk.log" 2>&1 || rc=$?
[ $rc -ne 3 ] || { echo "packages not downloadable: $(tail -n 2 "$WORK/mk.log")"; return 77; }
[ $rc -eq 0 ] || { fail "make-linux-iso failed ($rc): $(tail -n 5 "$WORK/mk.log")"; return 1; }

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
HTTP_PORT=$(free_port)
FWD_PORT=$(free_port)
mkdir -p "$WORK/fs" "$WORK/www"
# Known contents, different every run, so a stale image cannot pass.
head -c 300000 /dev/urandom > "$WORK/fs/known.bin"
head -c 250000 /dev/urandom > "$WORK/www/payload.bin"
cat > "$WORK/fs/e2e.conf" <<EOC
KNOWN=known.bin
CDROM=1
WRITE=guest.txt
URL=http://10.0.2.2:$HTTP_PORT/payload.bin
SERVE=7777
SERVE_TEXT="hello from the guest"
RTC=1
FB=1
BUTTON=1
EOC
mkfs.ext2 -q -F -d "$WORK/fs" "$WORK/disk.img" 16M >"$WORK/mkfs.log" 2>&1 ||
    { fail "mkfs.ext2: $(cat "$WORK/mkfs.log")"; return 1; }
known_sum=$(sha256sum < "$WORK/fs/known.bin" | cut -d' ' -f1)
payload_sum=$(sha256sum < "$WORK/www/payload.bin" | cut -d' ' -f1)

python3 -m http.server --bind 127.0.0.1 --directory "$WORK/www" "$HTTP_PORT" \
    >"$WORK/http.log" 2>&1 &
HTTP_PID=$!
SERIAL="$WORK/serial.log"
MON="$WORK/monitor.sock"
STATUS=0
t0=$(date +%s)
timeout -k 5 900 "$M1" --accel auto --log info -m 512M --cdrom "$iso" --boot cd --disk "$WORK/disk.img" \
    --nic ne2k-pci --net "user,hostfwd=tcp::$FWD_PORT-:7777" --pcap "$WORK/net.pcap" \
    --serial "file:$SERIAL" --monitor "unix:$MON" >"$WORK/stdout" 2>"$WORK/stderr" </dev/null &
PID=$!

stop_all() {
    kill "$HTTP_PID" 2>/dev/null
    wait "$HTTP_PID" 2>/dev/null
}
serial_tail() { tr -d '\r' < "$SERIAL" 2>/dev/null | tail -n 8; }

if ! wait_for "$SERIAL" "E2E: serving 7777" 800; then
    kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; stop_all
    fail "guest never got to its service: $(serial_tail); stderr: $(tail -n 3 "$WORK/stderr")"
    return 1
fi
boot_secs=$(( $(date +%s) - t0 ))
monitor_cmd "$MON" vga-text > "$WORK/vga.txt" 2>&1
# The guest's nc may not listen yet when the line is printed: retry.
python3 - "$FWD_PORT" >"$WORK/client.out" 2>&1 <<'PY'
import socket, sys, time
for attempt in range(60):
    try:
        s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=30)
        s.sendall(b"hello from the host\n")
        got = b""
        while not got.endswith(b"\n"):
            chunk = s.recv(4096)
            if not chunk:
                break
            got += chunk
        s.close()
        if got:
            print("reply:", got.decode(errors="replace").strip())
            sys.exit(0)
    except OSError as e:
        print("attempt", attempt, e)
    time.sleep(1)
sys.exit(1)
PY
client=$?
# The display driver's step: Linux's bochs DRM driver on our Bochs VBE,
# fbcon drawing on it, then a line typed on the i8042 keyboard.
fb_ok=0
if wait_for "$SERIAL" "E2E: type a line" 300; then
    monitor_cmd "$MON" "info vga" > "$WORK/info_vga.txt" 2>&1
    monitor_cmd "$MON" "screendump $WORK/fb.png" >/dev/null 2>&1
    for k in o k ret; do monitor_cmd "$MON" "sendkey $k" >/dev/null 2>&1; done
else
    fb_ok=1
fi
host_now=$(date +%s)
# The end: the ACPI power button from the monitor; the guest powers off.
button_ok=0
if wait_for "$SERIAL" "E2E: waiting for the power button (event" 120; then
    monitor_cmd "$MON" system_powerdown >/dev/null 2>&1
else
    button_ok=1
fi
wait "$PID" || STATUS=$?
secs=$(( $(date +%s) - t0 ))
stop_all
ok=0
[ $client -eq 0 ] || { fail "no reply through the port forward: $(tail -n 3 "$WORK/client.out")"; ok=1; }
grep -q "reply: hello from the guest" "$WORK/client.out" ||
    { fail "wrong reply through the port forward: $(tail -n 2 "$WORK/client.out")"; ok=1; }
tr -d '\r' < "$SERIAL" > "$WORK/serial.txt"
expect_line "$WORK/serial.txt" "E2E: known $known_sum  /mnt/known.bin" || ok=1
expect_line "$WORK/serial.txt" "E2E: cdrom SERIAL 0 115200; transfer modes: cd XFER_PIO_4, disk XFER_MW_DMA_2" || ok=1
expect_line "$WORK/serial.txt" "E2E: wrote guest.txt" || ok=1
expect_line "$WORK/serial.txt" "E2E: fetched $payload_sum  /tmp/fetched" || ok=1
expect_line "$WORK/serial.txt" "E2E: served, peer said: hello from the host" || ok=1
expect_line "$WORK/serial.txt" "E2E: done" || ok=1
[ $button_ok -eq 0 ] || { fail "no power button input device: $(grep -a 'power button' "$WORK/serial.txt")"; ok=1; }
expect_line "$WORK/serial.txt" "E2E: power button pressed" || ok=1
expect_line "$WORK/stderr" "S5 (soft off) requested by the guest" || ok=1
[ $fb_ok -eq 0 ] || { fail "the framebuffer step never asked for a line: $(grep -a 'E2E: fb0' "$WORK/serial.txt")"; ok=1; }
expect_line "$WORK/serial.txt" "E2E: fb0 bochs-drmdrmfb 1024,768 bpp 32" || ok=1
expect_line "$WORK/info_vga.txt" "VBE 1024x768x32" || ok=1
expect_line "$WORK/serial.txt" "E2E: keyboard said 'ok'" || ok=1
# fbcon's text on the framebuffer: a 1024x768 screendump with thousands of
# lit pixels (the console's kernel messages).
python3 - "$ROOT/tests/integration" "$WORK/fb.png" > "$WORK/fb.check" 2>&1 <<'PY' ||
import sys
sys.path.insert(0, sys.argv[1])
from display import png_read
w, h, px = png_read(sys.argv[2])
lit = sum(1 for row in px for p in row if p != (0, 0, 0))
print(w, h, lit)
sys.exit(0 if (w, h) == (1024, 768) and lit > 5000 else 1)
PY
    { fail "framebuffer screendump: $(cat "$WORK/fb.check" | tail -n 2)"; ok=1; }
# The CMOS clock as Linux reads it: the host's time (it was read a few
# seconds before the keyboard step).
rtc=$(sed -n 's/^E2E: rtc \([0-9]*\)$/\1/p' "$WORK/serial.txt")
if [ -z "$rtc" ] || [ $((host_now - rtc)) -gt 120 ] || [ $((rtc - host_now)) -gt 5 ]; then
    fail "guest RTC '$rtc' vs host $host_now"; ok=1
fi
expect_line "$WORK/vga.txt" "E2E: hello VGA" || ok=1
expect_status 0 || ok=1
# The disk image holds what the guest wrote (it synced, then unmounted).
debugfs -R "cat /guest.txt" "$WORK/disk.img" > "$WORK/guest.txt" 2>"$WORK/debugfs.err"
grep -q "written by the guest" "$WORK/guest.txt" ||
    { fail "guest.txt not in the image: $(cat "$WORK/guest.txt" "$WORK/debugfs.err" | head -n 3)"; ok=1; }
# The pcap: the DHCP ACK, the HTTP request, the forwarded connection.
count() { tshark -r "$WORK/net.pcap" -Y "$1" 2>/dev/null | wc -l; }
[ "$(count 'dhcp.option.dhcp == 5')" -ge 1 ] || { fail "no DHCP ACK in the pcap"; ok=1; }
[ "$(count 'http.request.uri == "/payload.bin"')" -ge 1 ] || { fail "no HTTP GET in the pcap"; ok=1; }
[ "$(count 'tcp.port == 7777 && tcp.len > 0')" -ge 2 ] ||
    { fail "the forwarded connection's data is not in the pcap"; ok=1; }
grep -q "GET /payload.bin" "$WORK/http.log" || { fail "HTTP server saw no GET"; ok=1; }
echo "    boot to service ${boot_secs}s, power-off at ${secs}s wall ($(grep -m1 -o 'accel auto:.*' "$WORK/stderr" | cut -c1-60))"
return $ok
