# Durability: tests/guests/durable.asm writes 32 distinct sectors at LBA 200
# with WRITE DMA, FLUSH CACHE, says "durable: flushed", then keeps writing
# (never flushing) sectors 1000-1063.  minus1 is killed with SIGKILL as soon
# as the line appears: every flushed sector must be in the image, and
# nothing outside the MBR and the two written ranges may have changed.
# Also: the image fd is O_RDWR for a normal disk and O_RDONLY for a
# readonly one (/proc/PID/fdinfo flags while it runs).

# acc_mode PID IMAGE: the access mode (0 rdonly, 1 wronly, 2 rdwr) of the
# fd PID has open on IMAGE, or nothing.
acc_mode() {
    local fd
    for fd in /proc/"$1"/fd/*; do
        [ "$(readlink "$fd")" = "$2" ] || continue
        local flags
        flags=$(awk '/^flags:/ { print $2 }' "/proc/$1/fdinfo/${fd##*/}")
        echo $(( 8#$flags % 4 ))
        return
    done
}

for round in 1 2 3; do
    make_disk "$WORK/d.img" "$(guest durable)" 4
    rm -f "$WORK/d.serial"
    "$M1" --accel kvm --disk "$WORK/d.img" --boot disk --serial "file:$WORK/d.serial" \
        >"$WORK/d.stdout" 2>"$WORK/d.stderr" </dev/null &
    PID=$!
    i=0
    while ! grep -q "durable: " "$WORK/d.serial" 2>/dev/null; do
        i=$((i + 1))
        [ $i -lt 3000 ] || { kill -9 $PID; fail "no 'durable:' line in 30 s"; return 1; }
        kill -0 $PID 2>/dev/null || { fail "minus1 ended early: $(tail -n 3 "$WORK/d.stderr")"; return 1; }
        sleep 0.01
    done
    # Kill first, look afterwards: the line is the flush's completion.
    kill -9 $PID
    wait $PID 2>/dev/null
    expect_line "$WORK/d.serial" "durable: flushed" || return 1
    python3 - "$WORK/d.img" "$(guest durable)" <<'PY' || return 1
import sys
img = open(sys.argv[1], "rb").read()
mbr = open(sys.argv[2], "rb").read()
S = 512
bad = []
for lba in range(200, 232):
    want = bytearray(((lba * 5) + i) & 0xFF for i in range(S))
    want[0:2] = lba.to_bytes(2, "little")
    if img[lba * S:(lba + 1) * S] != want:
        bad.append(lba)
if bad:
    sys.exit(f"    flushed sectors missing or wrong: {bad[:8]}")
if img[:S] != mbr:
    sys.exit("    the MBR changed")
for lba in range(1, len(img) // S):
    if 200 <= lba < 232 or 1000 <= lba < 1064:
        continue
    if any(img[lba * S:(lba + 1) * S]):
        sys.exit(f"    sector {lba}, outside every written range, changed")
unfl = sum(1 for lba in range(1000, 1064) if any(img[lba * S:(lba + 1) * S]))
print(f"    round ok: 32 flushed sectors present, {unfl}/64 unflushed sectors written at the kill")
PY
done

# The flush is real: under strace, the image's fdatasync completes after
# the data's pwrite and before the guest can print "flushed" (a kill -9
# cannot lose page-cache data, a power cut can: this is the part that
# protects against that).
if command -v strace >/dev/null; then
    make_disk "$WORK/s.img" "$(guest durable)" 4
    rm -f "$WORK/s.serial"
    strace -f -qq -e trace=openat,pwrite64,pwritev,pwritev2,fdatasync,fsync,write -o "$WORK/s.trace" \
        "$M1" --accel kvm --disk "$WORK/s.img" --boot disk --serial "file:$WORK/s.serial" \
        >/dev/null 2>"$WORK/s.stderr" </dev/null &
    PID=$!
    # Killing strace alone would leave minus1 (its tracee) running: kill both.
    kill_traced() { kill -9 $(pgrep -P "$PID") "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; }
    wait_for "$WORK/s.serial" "durable: flushed" 30 || { kill_traced; fail "no flush under strace"; return 1; }
    sleep 0.2
    kill_traced
    python3 - "$WORK/s.trace" "$WORK/s.img" "$WORK/s.serial" <<'PY' || return 1
import re, sys
lines = open(sys.argv[1]).read().splitlines()
img_fd = ser_fd = None
pw = sync = said = None
text = ""
for n, l in enumerate(lines):
    m = re.search(r'openat\(AT_FDCWD, "([^"]*)".* = (\d+)$', l)
    if m and m.group(1) == sys.argv[2]:
        img_fd = m.group(2)
    elif m and m.group(1) == sys.argv[3]:
        ser_fd = m.group(2)
    if img_fd and pw is None and re.search(r'pwrite(64|v2?)\(%s, .*, 102400\)' % img_fd, l):
        pw = n
    if img_fd and pw is not None and sync is None and re.search(r'f(data)?sync\(%s\)\s+= 0' % img_fd, l):
        sync = n
    if img_fd and pw is not None and sync is None and re.search(r'f(data)?sync resumed>\)\s+= 0', l):
        sync = n
    m = re.search(r'write\(%s, "(.*)", \d+\)' % ser_fd, l) if ser_fd else None
    if m and said is None:
        text += m.group(1)
        if "durable: f" in text:
            said = n
if None in (img_fd, ser_fd, pw, sync, said):
    sys.exit(f"    strace order check: image fd {img_fd}, serial fd {ser_fd}, pwrite {pw}, sync {sync}, 'flushed' {said}")
if not pw < sync < said:
    sys.exit(f"    wrong order: pwrite at {pw}, fdatasync at {sync}, 'flushed' printed at {said}")
print("    strace: pwrite(LBA 200) -> fdatasync -> 'flushed' in that order")
PY
fi

# Access modes while running: a normal disk read-write, a readonly one
# read-only (SeaBIOS finds nothing to boot on a zeroed disk and waits).
head -c 1048576 /dev/zero > "$WORK/ro.img"
make_disk "$WORK/rw.img" "$(guest durable)" 4
"$M1" --accel kvm --disk "$WORK/rw.img" --disk "$WORK/ro.img,readonly" --boot disk \
    --serial "file:$WORK/m.serial" >"$WORK/m.stdout" 2>"$WORK/m.stderr" </dev/null &
PID=$!
wait_for "$WORK/m.serial" "durable: flushed" 30 || { kill -9 $PID; fail "guest did not flush"; return 1; }
rw=$(acc_mode $PID "$WORK/rw.img")
ro=$(acc_mode $PID "$WORK/ro.img")
kill -9 $PID
wait $PID 2>/dev/null
[ "$rw" = 2 ] || { fail "read-write disk opened with access mode '$rw', wanted 2 (O_RDWR)"; return 1; }
[ "$ro" = 0 ] || { fail "readonly disk opened with access mode '$ro', wanted 0 (O_RDONLY)"; return 1; }
echo "    fdinfo: disk O_RDWR, readonly disk O_RDONLY"
