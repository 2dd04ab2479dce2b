# A boot-sector guest looks up 800x600x32 in the VGA BIOS's VBE mode list,
# sets it with the linear framebuffer (int 10h 4F00h/4F01h/4F02h) and draws
# R = x & FF, G = y & FF, B = ((x + y) >> 2) & FF through the LFB address
# 4F01h reported.  The screendump is 800x600 with exactly those pixels.
. "$ROOT/tests/integration/display_lib.sh"
trap stop_vm EXIT
boot_disk_guest vbe emu || return 1
info=$(mon_ok "info vga") || return 1
case "$info" in
*"800x600"*) ;;
*) fail "info vga says '$info'"; return 1 ;;
esac
mon_ok "screendump $WORK/vbe.png" >/dev/null || return 1
stop_vm
grep -q "vbe: failed" "$WORK/vbe.serial" && { fail "the guest's VBE calls failed"; return 1; }
python3 - "$DISPLAY_PY" "$WORK/vbe.png" <<'PY' || return 1
import sys
sys.path.insert(0, sys.argv[1].rsplit("/", 1)[0])
from display import png_read
w, h, px = png_read(sys.argv[2])
if (w, h) != (800, 600):
    sys.exit(f"    screendump is {w}x{h}, wanted 800x600")
bad = [(x, y, px[y][x]) for y in range(h) for x in range(w)
       if px[y][x] != (x & 0xFF, y & 0xFF, ((x + y) >> 2) & 0xFF)]
if bad:
    sys.exit(f"    {len(bad)} wrong pixels, e.g. {bad[:4]}")
PY
