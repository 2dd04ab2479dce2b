# A boot-sector guest sets mode 13h through int 10h, draws colour
# (x + y) & 0xFF and reprograms DAC entries 200-203 (ports and int 10h
# AX=1010h).  The screendump is 320x200 and every pixel has the colour its
# index must have: the EGA colours in entries 0-15 of the VGA BIOS's
# default palette, the grey ramp in 16-31, the reprogrammed entries, and one
# colour per index everywhere else.  Run on both backends.
. "$ROOT/tests/integration/display_lib.sh"
trap stop_vm EXIT
for accel in kvm emu; do
    boot_disk_guest vga13 $accel || return 1
    info=$(mon_ok "info vga") || return 1
    case "$info" in
    *"320x200"*) ;;
    *) fail "$accel: info vga says '$info'"; return 1 ;;
    esac
    mon_ok "screendump $WORK/m13.png" >/dev/null || return 1
    stop_vm
    python3 - "$DISPLAY_PY" "$WORK/m13.png" "$accel" <<'PY' || return 1
import sys
sys.path.insert(0, sys.argv[1].rsplit("/", 1)[0])
from display import png_read, c6
accel = sys.argv[3]
w, h, px = png_read(sys.argv[2])
if (w, h) != (320, 200):
    sys.exit(f"    {accel}: screendump is {w}x{h}, wanted 320x200")
want = {}
# The 16 EGA colours: bit 2 red, 1 green, 0 blue at 2/3, bit 3 adds 1/3;
# brown (6) has half green.
for i in range(16):
    hi = 0x15 if i & 8 else 0
    r, g, b = [(0x2A if i & m else 0) + hi for m in (4, 2, 1)]
    if i == 6:
        g = 0x15
    want[i] = (c6(r), c6(g), c6(b))
for i, v in enumerate([0, 5, 8, 11, 14, 17, 20, 24, 28, 32, 36, 40, 45, 50, 56, 63]):
    want[16 + i] = (c6(v),) * 3
want[200] = (255, 0, 0)
want[201] = (0, 255, 0)
want[202] = (c6(1), c6(2), c6(3))
want[203] = (c6(10), c6(20), c6(30))
seen, bad = {}, []
for y in range(h):
    for x in range(w):
        i, p = (x + y) & 0xFF, px[y][x]
        if i in want and p != want[i]:
            bad.append(f"({x},{y}) index {i}: {p}, wanted {want[i]}")
        elif seen.setdefault(i, p) != p:
            bad.append(f"({x},{y}) index {i}: {p}, elsewhere {seen[i]}")
if bad:
    sys.exit(f"    {accel}: {len(bad)} wrong pixels, e.g. " + "; ".join(bad[:4]))
if len(set(seen.values()) | set(want.values())) < 200:
    sys.exit(f"    {accel}: only {len(set(seen.values()))} distinct colours")
PY
done
