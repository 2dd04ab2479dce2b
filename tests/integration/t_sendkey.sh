# The monitor's sendkey types into the PS/2 keyboard: a boot-sector guest
# reads the keys with int 16h and reports scancode/ASCII on COM1 (set 1
# scancodes, as the BIOS translates them): a = 1E/61, shift-b = 30/42,
# ret = 1C/0D, and echoes them on the text screen.  Unknown key names are
# refused without typing anything.
. "$ROOT/tests/integration/display_lib.sh"
trap stop_vm EXIT
boot_disk_guest keys emu || return 1
mon_ok "sendkey a" >/dev/null || return 1
wait_for "$WORK/keys.serial" "key 1e61" 10 || { fail "no 'key 1e61' for 'a'"; return 1; }
mon_ok "sendkey shift-b" >/dev/null || return 1
wait_for "$WORK/keys.serial" "key 3042" 10 || { fail "no 'key 3042' for shift-b"; return 1; }
monitor_cmd "$MON" "sendkey nosuchkey" | grep -q "^error:" ||
    { fail "sendkey nosuchkey was accepted"; return 1; }
mon_ok "sendkey ret" >/dev/null || return 1
wait_for "$WORK/keys.serial" "key 1c0d" 10 || { fail "no 'key 1c0d' for ret"; return 1; }
mon_ok "sendkey ctrl-c" >/dev/null || return 1
wait_for "$WORK/keys.serial" "key 2e03" 10 || { fail "no 'key 2e03' for ctrl-c"; return 1; }
# (SeaBIOS mirrors the screen on COM1, so the echoes are in the log too.)
keys=$(grep -o "key [0-9a-f]\{4\}" "$WORK/keys.serial" | tr '\n' ' ')
[ "$keys" = "key 1e61 key 3042 key 1c0d key 2e03 " ] ||
    { fail "keys seen: $keys (nosuchkey must type nothing)"; return 1; }
text=$(mon_ok vga-text) || return 1
printf '%s\n' "$text" | grep -qx "aB" || { fail "no 'aB' line on the screen: $text"; return 1; }
