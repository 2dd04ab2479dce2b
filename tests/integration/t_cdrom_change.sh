# CD-ROM media change through the monitor, seen by the user (`info block`)
# and by the guest (ATAPI sense data).  SeaBIOS boots our MBR
# (tests/guests/cdchange.asm) from a disk; the CD drive starts empty.  The
# guest polls TEST UNIT READY / REQUEST SENSE: NOT READY (no medium), then
# after `change cdrom` UNIT ATTENTION (06/28) and GOOD with the ISO's
# volume descriptor readable, after `eject cdrom` NOT READY again, after a
# second `change cdrom` UNIT ATTENTION and GOOD again, and exits.  Bad `change` arguments get `error: ...` and minus1 goes on.
make_iso "$(guest cdboot)" "$WORK/test.iso" || { fail "xorriso failed"; return 1; }
make_disk "$WORK/disk.img" "$(guest cdchange)" 1
head -c 1000 /dev/zero > "$WORK/odd.iso"
sock="$WORK/mon.sock"
serial="$WORK/cc.serial"
timeout -k 5 120 "$M1" --accel kvm --serial "file:$serial" --monitor "unix:$sock" \
    --disk "$WORK/disk.img" --boot disk >"$WORK/cc.stdout" 2>"$WORK/cc.stderr" </dev/null &
pid=$!
# cc_mon WANT LINE: runs a monitor command, its reply must contain WANT.
cc_mon() {
    monitor_cmd "$sock" "$2" > "$WORK/reply" 2>&1
    grep -qF -- "$1" "$WORK/reply" || fail "'$2' answered '$(tr '\n' '|' < "$WORK/reply")', wanted '$1'"
}
cc_abort() {
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    return 1
}
i=0
while [ ! -S "$sock" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -S "$sock" ] || { fail "no monitor socket; stderr: $(tail -n 3 "$WORK/cc.stderr")"; cc_abort; return 1; }

cc_mon "ide1-cd0: cdrom, no medium" "info block" || { cc_abort; return 1; }
cc_mon "error: /nonexistent" "change cdrom /nonexistent" || { cc_abort; return 1; }
cc_mon "not a multiple of 2048" "change cdrom $WORK/odd.iso" || { cc_abort; return 1; }
cc_mon "error:" "change cdrom" || { cc_abort; return 1; }
cc_mon "error:" "eject nosuchdrive" || { cc_abort; return 1; }
kill -0 "$pid" 2>/dev/null || { fail "minus1 ended after a bad change command"; return 1; }
cc_mon "ide1-cd0: cdrom, no medium" "info block" || { cc_abort; return 1; }

wait_for "$serial" "cdchange: no medium" 60 || { fail "guest never saw the empty drive: $(tail -n 3 "$serial")"; cc_abort; return 1; }
cc_mon "ok" "change cdrom $WORK/test.iso" || { cc_abort; return 1; }
cc_mon "ide1-cd0: cdrom, $WORK/test.iso, raw" "info block" || { cc_abort; return 1; }
wait_for "$serial" "cdchange: ready" 30 || { fail "guest never saw the new medium: $(tail -n 3 "$serial")"; cc_abort; return 1; }
cc_mon "ok" "eject cdrom" || { cc_abort; return 1; }
wait_for "$serial" "cdchange: removed" 30 || { fail "guest never saw the eject: $(tail -n 3 "$serial")"; cc_abort; return 1; }
cc_mon "ide1-cd0: cdrom, no medium" "info block" || { cc_abort; return 1; }
# The same medium again: a new change, a new unit attention, then the
# guest exits.
cc_mon "ok" "change cdrom $WORK/test.iso" || { cc_abort; return 1; }

STATUS=0
wait "$pid" || STATUS=$?
expect_status 33 || return 1
# The guest's view, in order.
seq=$(grep -o 'cdchange: [a-z ]*' "$serial" | tr '\n' '|')
want="cdchange: no medium|cdchange: attention|cdchange: ready|cdchange: removed|"
want="${want}cdchange: attention|cdchange: ready|"
[ "$seq" = "$want" ] || fail "guest saw '$seq'"
