# Helpers for integration tests; sourced by tests/integration/run.
# Each test is a shell function body in a t_*.sh file: it returns 0 on
# pass and prints why on failure.

M1="$ROOT/build/minus1"
GUESTS="$ROOT/build/guests"

fail() {
    echo "    $*"
    return 1
}

# guest NAME: path of a test guest image, assembled from tests/guests.
guest() {
    echo "$GUESTS/$1.bin"
}

# run_guest NAME TIMEOUT [minus1 flags...]: runs a test guest as BIOS with
# the serial log in $WORK/NAME.serial; sets $STATUS.
run_guest() {
    local name=$1 limit=$2
    shift 2
    STATUS=0
    timeout -k 5 "$limit" "$M1" --bios "$(guest "$name")" --serial "file:$WORK/$name.serial" \
        "$@" >"$WORK/$name.stdout" 2>"$WORK/$name.stderr" </dev/null || STATUS=$?
}

# expect_status WANT: compares $STATUS.
expect_status() {
    [ "$STATUS" = "$1" ] || fail "exit status $STATUS, wanted $1; stderr: $(head -c 600 "$WORK"/*.stderr 2>/dev/null | tail -n 5)"
}

# expect_line FILE TEXT: FILE has a line containing TEXT.
expect_line() {
    grep -qF -- "$2" "$1" || fail "'$2' not found in $(basename "$1"): $(tail -n 5 "$1" 2>/dev/null)"
}

# wait_for FILE TEXT SECONDS: polls until FILE contains TEXT.
wait_for() {
    local i=0
    while [ "$i" -lt "$(( $3 * 10 ))" ]; do
        grep -qF -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}

# wait_for_text FILE TEXT SECONDS: like wait_for, on FILE's text without
# ANSI escape sequences (SeaBIOS's serial console inserts cursor moves
# wherever a timer tick happens to flush them).
wait_for_text() {
    local i=0
    while [ "$i" -lt "$(( $3 * 10 ))" ]; do
        sed 's/\x1b\[[0-9;?]*[A-Za-z]//g' "$1" 2>/dev/null | grep -qF -- "$2" && return 0
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}

# monitor_cmd SOCKET LINE: sends one command, prints the reply up to ok/error.
monitor_cmd() {
    python3 - "$1" "$2" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(sys.argv[1])
s.sendall((sys.argv[2] + "\n").encode())
buf = b""
while True:
    chunk = s.recv(4096)
    if not chunk:
        break
    buf += chunk
    lines = buf.decode(errors="replace").split("\n")
    if any(l == "ok" or l.startswith("error:") for l in lines):
        break
sys.stdout.write(buf.decode(errors="replace"))
PY
}

# make_iso BOOTIMAGE ISO: an El Torito (no emulation) ISO with one file.
make_iso() {
    mkdir -p "$WORK/isoroot"
    cp "$1" "$WORK/isoroot/boot.bin"
    xorriso -as mkisofs -quiet -o "$2" -b boot.bin -no-emul-boot -boot-load-size 4 \
        "$WORK/isoroot" >/dev/null 2>&1
}

# make_disk IMAGE MBR SIZE_MIB: a zeroed raw disk with our boot sector.
make_disk() {
    head -c "$(( $3 * 1048576 ))" /dev/zero > "$1"
    dd if="$2" of="$1" conv=notrunc status=none
}

# run_seabios NAME TIMEOUT [flags...]: SeaBIOS boot with the serial log in
# $WORK/NAME.serial; sets $STATUS.
run_seabios() {
    local name=$1 limit=$2
    shift 2
    STATUS=0
    timeout -k 5 "$limit" "$M1" --serial "file:$WORK/$name.serial" "$@" \
        >"$WORK/$name.stdout" 2>"$WORK/$name.stderr" </dev/null || STATUS=$?
}
