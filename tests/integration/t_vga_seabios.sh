# SeaBIOS runs the VGA BIOS from the adapter's ROM BAR and prints its banner
# through int 10h into the text screen: vga-text shows it, info vga says
# 80x25 text, and screendump writes a 720x400 PNG (9x16 cells) with the
# banner's pixels in it: light grey on black, on the first text row only.
. "$ROOT/tests/integration/display_lib.sh"
trap stop_vm EXIT
start_vm seabios --accel kvm || return 1
wait_for "$WORK/seabios.serial" "No bootable device" 60 || {
    fail "SeaBIOS did not reach 'No bootable device'"; return 1; }
text=$(mon_ok vga-text) || return 1
first=$(printf '%s\n' "$text" | head -n 1)
case "$first" in
"SeaBIOS (version "*) ;;
*) fail "first text row is '$first', wanted the SeaBIOS banner"; return 1 ;;
esac
printf '%s\n' "$text" | grep -q "^No bootable device" || {
    fail "vga-text lacks 'No bootable device': $text"; return 1; }
info=$(mon_ok "info vga") || return 1
case "$info" in
*"80x25"*"720x400"*) ;;
*) fail "info vga says '$info'"; return 1 ;;
esac
mon_ok "screendump $WORK/text.png" >/dev/null || return 1
mon_ok "screendump $WORK/../no-such-dir-$$/x.png" >/dev/null 2>&1 &&
    { fail "screendump into a missing directory succeeded"; return 1; }
python3 - "$DISPLAY_PY" "$WORK/text.png" <<'PY' || return 1
import sys
sys.path.insert(0, sys.argv[1].rsplit("/", 1)[0])
from display import png_read
w, h, px = png_read(sys.argv[2])
if (w, h) != (720, 400):
    sys.exit(f"    screendump is {w}x{h}, wanted 720x400")
colours = {}
for row in px:
    for p in row:
        colours[p] = colours.get(p, 0) + 1
# Attribute 07: foreground DAC entry 7 = 2A2A2A (6-bit) -> AAAAAA.
fg = colours.get((0xAA, 0xAA, 0xAA), 0)
bg = colours.get((0, 0, 0), 0)
if fg < 500 or bg < w * h // 2 or fg + bg != w * h:
    sys.exit(f"    screendump colours unexpected: {sorted(colours.items(), key=lambda c: -c[1])[:5]}")
# "SeaBIOS" starts at column 0: the first cell (S) has lit pixels, the row
# of cells below the last text line is blank.
if not any(px[y][x] != (0, 0, 0) for y in range(16) for x in range(9)):
    sys.exit("    no glyph in the first character cell")
if any(p != (0, 0, 0) for y in range(384, 400) for p in px[y]):
    sys.exit("    the last text row is not blank")
PY
