# REP MOVS/STOS over MMIO (tests/guests/rep_mmio.asm: 45056 element
# accesses to the trapping legacy VGA window).  Under --accel emu the
# transcript checks the guest itself; under --accel kvm every element
# would be one KVM_EXIT_MMIO, and minus1 instead finishes each REP in
# userspace from its second exit: the data and registers must still be
# right, and the MMIO exits must be a handful per instruction.
want="rep_mmio
rep stosd into mmio ok
rep movsd ram to mmio ok
rep movsd mmio to ram ok
rep movsd mmio to ram, pattern ok
std rep movsw mmio to mmio, registers ok
std rep movsw mmio to mmio, data ok
a32 rep stosb and movsb ok
done"
rc=0
for accel in emu kvm; do
    if [ $accel = kvm ] && [ ! -w /dev/kvm ]; then
        echo "    note: no /dev/kvm: only the emu run checked"
        break
    fi
    sock="$WORK/$accel.sock"
    timeout -k 5 60 "$M1" --bios "$(guest rep_mmio)" --accel $accel \
        --serial "file:$WORK/$accel.serial" --monitor "unix:$sock" \
        >"$WORK/$accel.stdout" 2>"$WORK/$accel.stderr" </dev/null &
    pid=$!
    wait_for "$WORK/$accel.serial" "done" 50 || wait_for "$WORK/$accel.serial" "failures" 1 ||
        { fail "$accel: the guest did not finish: $(tail -c 300 "$WORK/$accel.serial")"; rc=1; }
    monitor_cmd "$sock" "info accel" > "$WORK/$accel.accel"
    monitor_cmd "$sock" "quit" > /dev/null
    wait $pid 2>/dev/null
    [ "$(cat "$WORK/$accel.serial")" = "$want" ] ||
        { fail "$accel transcript: $(cat "$WORK/$accel.serial")"; rc=1; }
    [ $accel = kvm ] || continue
    mmio=$(sed -n 's/^exits: [0-9]* (pio [0-9]*, mmio \([0-9]*\),.*/\1/p' "$WORK/kvm.accel")
    elems=$(sed -n 's/^REP MOVS\/STOS over MMIO: \([0-9]*\) taken over, \([0-9]*\) elements.*/\2/p' "$WORK/kvm.accel")
    echo "    note: kvm: $mmio MMIO exits, ${elems:-?} elements done in userspace"
    # 8 REP instructions: 2 exits each for writes (KVM's first element,
    # then the takeover), up to 3 for MMIO -> MMIO; 45056 without.
    [ -n "$mmio" ] && [ "$mmio" -le 40 ] ||
        { fail "kvm: ${mmio:-no} MMIO exits (wanted <= 40): $(cat "$WORK/kvm.accel")"; rc=1; }
    [ -n "$elems" ] && [ "$elems" -ge 28000 ] ||
        { fail "kvm: ${elems:-no} elements done in userspace: $(cat "$WORK/kvm.accel")"; rc=1; }
done
return $rc
