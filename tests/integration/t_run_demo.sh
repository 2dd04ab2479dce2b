# `make run`'s guest (tools/run-demo): the README promises a newcomer a
# Linux shell on the serial console with the disk and the network up, and
# that `poweroff` ends minus1.  Driven through a pseudo-terminal like a
# person at a terminal: wait for the prompt, look at the disk, power off.
demo_disk="$ROOT/build/demo-disk.img"
python3 - "$ROOT" "$WORK" <<'PY' > "$WORK/demo.out" 2>&1
import os, pty, select, sys, time
root, work = sys.argv[1], sys.argv[2]
log = open(os.path.join(work, "console.log"), "wb")
pid, fd = pty.fork()
if pid == 0:
    os.execv(os.path.join(root, "tools", "run-demo"), ["run-demo"])
buf = b""
def wait_for(text, limit):
    global buf
    end = time.monotonic() + limit
    while time.monotonic() < end:
        r, _, _ = select.select([fd], [], [], 0.5)
        if r:
            try:
                data = os.read(fd, 4096)
            except OSError:
                return False
            if not data:
                return False
            log.write(data); log.flush()
            buf += data
            if text in buf:
                return True
    return False
def send(line):
    global buf
    buf = b""
    os.write(fd, line + b"\r")
ok = wait_for(b"minus1-linux:/# ", 900)
print("prompt:", ok)
if ok:
    send(b"cat /mnt/README; echo ETH0=$(ifconfig eth0 | grep -o 'inet addr:[0-9.]*')")
    ok = wait_for(b"ETH0=inet addr:10.0.2.15", 120) and b"lives in" in buf
    print("disk and network:", ok)
    send(b"poweroff")
    wait_for(b"\x00never", 120)
_, status = os.waitpid(pid, 0)
code = os.waitstatus_to_exitcode(status)
print("exit:", code)
sys.exit(0 if ok and code == 0 else 1)
PY
rc=$?
tr -d '\r' < "$WORK/console.log" > "$WORK/console.txt" 2>/dev/null
grep -q "booting iPXE instead" "$WORK/console.txt" &&
    { echo "Linux packages not downloadable: $(grep -m1 'could not build' "$WORK/console.txt")"; return 77; }
[ $rc -eq 0 ] || { fail "demo: $(cat "$WORK/demo.out" | tr '\n' ' '); console: $(tail -n 6 "$WORK/console.txt")"; return 1; }
grep -q "demo: eth0 has 10.0.2.15" "$WORK/console.txt" || { fail "no DHCP line: $(grep demo: "$WORK/console.txt")"; return 1; }
[ -f "$demo_disk" ] || { fail "no $demo_disk"; return 1; }
return 0
