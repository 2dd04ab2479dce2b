# The system test guests (tests/guests/sys_*.asm): mode switches, unreal
# mode, A20, paging faults, privilege changes, exceptions, double faults,
# PIT interrupts in protected mode, self-modifying code.  Each prints a
# deterministic transcript; the checked-in sys_NAME.expected beside it is
# the architecturally correct one (made with QEMU TCG and with hardware
# KVM where TCG skips a check, e.g. data-segment limits).
#   --accel emu: must equal the expected transcript, always.
#   --accel kvm: must equal it too, when KVM on this host can run the
#   guest; where KVM stops ("KVM internal error"), hangs, or takes an
#   exception the guest never provokes (this host's KVM injects #UD/#GP
#   for what its own instruction emulator declines), a note says KVM could
#   not serve as the oracle and only the emu check counts.
# Lines starting "a20off" (A20 masked) are left out of those comparisons;
# emu's are checked against the expected file on their own.

# Known emulator bugs, skipped with their reason (lead: hand these to the
# emulator owner; drop an entry when the bug is fixed).  GUEST:LINE:REASON,
# LINE = line number in sys_GUEST.expected, or "a20off" for those lines.
# A guest with an entry also ends with "failures NN" and exit status 35
# instead of "done" and 33; both are then tolerated.
KNOWN_EMU_FAILURES=(
)

SYS_GUESTS="sys_modes sys_paging sys_priv sys_exc sys_pit_pm sys_irq_ssbase sys_smc sys_task sys_task_df sys_v86"

# Guests this host's KVM cannot run correctly, GUEST:REASON; they run
# under emu only, against their .expected transcript.  Those transcripts
# were cross-checked line by line: sys_v86 against QEMU TCG (all lines
# but the two data/stack segment-limit faults, which TCG does not check)
# and against this KVM for the lines it gets right (entry by IRETD,
# segment arithmetic, the I/O bitmap, CLI/STI, HLT, MOV CR0, both limit
# faults); sys_task_df against QEMU TCG for the #NP-while-#GP double
# fault (TCG skips the stack-limit fault of the first one).
KVM_UNUSABLE=(
    "sys_v86:this host's KVM intercepts #GP and INT n in virtual-8086 mode and hands them to its own instruction emulator, which injects #UD for INT n at IOPL 3, PUSHF/POPF/IRET/INT at IOPL 0 and INT3, and #GP for LLDT"
    "sys_task_df:this host's KVM does not deliver a #DF through an IDT task gate (a stack-fault #DF resets the guest, a #NP-while-#GP #DF injects #UD at EIP 0); the CALL/JMP/INT/IRET task switches of sys_task are KVM-checked"
)
EXPECTED_DIR="$ROOT/tests/guests"

# known_lines GUEST: the expected-file line numbers (or "a20off") known
# to fail under emu, one a line.
known_lines() {
    local e
    for e in "${KNOWN_EMU_FAILURES[@]}"; do
        [ "${e%%:*}" = "$1" ] || continue
        e=${e#*:}
        echo "${e%%:*}"
    done
}

# filtered FILE [LINES...]: FILE without "a20off" lines, then without the
# listed line numbers (of the unfiltered file) and, if any are listed, the
# verdict line; each kept line prefixed with its number.
filtered() {
    local file=$1
    shift
    awk -v skip=" $* " '
        { n = NR }
        /^a20off/ { next }
        skip != "  " && (/^done$/ || /^failures /) { next }
        index(skip, " " n " ") { next }
        { print n ": " $0 }' "$file"
}

rc=0
kvm_ok=0
[ -w /dev/kvm ] && kvm_ok=1
[ $kvm_ok = 1 ] || echo "    note: no /dev/kvm: KVM not used as an oracle"
for g in $SYS_GUESTS; do
    exp="$EXPECTED_DIR/$g.expected"
    known=$(known_lines "$g" | grep -v '^a20off$' | tr '\n' ' ')
    for e in "${KNOWN_EMU_FAILURES[@]}"; do
        [ "${e%%:*}" = "$g" ] && echo "    SKIP $g line ${e#*:}"
    done

    # emu against the expected transcript.
    run_guest "$g" 60 --accel emu
    cp "$WORK/$g.serial" "$WORK/$g.emu" 2>/dev/null || : > "$WORK/$g.emu"
    want_status=33
    [ -n "$known" ] && want_status=35
    if [ "$STATUS" != 33 ] && [ "$STATUS" != "$want_status" ]; then
        echo "    $g emu: exit status $STATUS, wanted 33; stderr: $(head -c 300 "$WORK/$g.stderr")"
        rc=1
    fi
    if ! diff <(filtered "$exp" $known) <(filtered "$WORK/$g.emu" $known) > "$WORK/$g.emu.diff"; then
        echo "    $g emu differs from $g.expected (< expected, > emu):"
        sed 's/^/      /' "$WORK/$g.emu.diff" | head -n 20
        rc=1
    fi
    if ! known_lines "$g" | grep -qx a20off; then
        if ! diff <(grep '^a20off' "$exp") <(grep '^a20off' "$WORK/$g.emu") > "$WORK/$g.a20.diff"; then
            echo "    $g emu A20-masked lines differ (< expected, > emu):"
            sed 's/^/      /' "$WORK/$g.a20.diff"
            rc=1
        fi
    fi

    # kvm against the same transcript, where this host's KVM can run it.
    [ $kvm_ok = 1 ] || continue
    unusable=""
    for e in "${KVM_UNUSABLE[@]}"; do
        [ "${e%%:*}" = "$g" ] && unusable=${e#*:}
    done
    if [ -n "$unusable" ]; then
        echo "    note: KVM not used as the oracle for $g: $unusable"
        continue
    fi
    run_guest "$g" 30 --accel kvm
    cp "$WORK/$g.serial" "$WORK/$g.kvm" 2>/dev/null || : > "$WORK/$g.kvm"
    why=""
    if [ "$STATUS" = 124 ] || [ "$STATUS" = 137 ]; then
        why="it did not finish in 30 s"
    elif grep -q "KVM internal error" "$WORK/$g.stderr"; then
        why="$(grep -m1 "KVM internal error" "$WORK/$g.stderr")"
    elif grep -q "UNEXPECTED" "$WORK/$g.kvm"; then
        why="the guest took an exception it never provokes: $(grep -m1 UNEXPECTED "$WORK/$g.kvm")"
    fi
    if [ -n "$why" ]; then
        echo "    note: KVM could not serve as the oracle for $g ($why); emu checked against $g.expected only"
        continue
    fi
    if [ "$STATUS" != 33 ]; then
        echo "    $g kvm: exit status $STATUS, wanted 33"
        rc=1
    fi
    if ! diff <(filtered "$exp") <(filtered "$WORK/$g.kvm") > "$WORK/$g.kvm.diff"; then
        echo "    $g kvm differs from $g.expected (< expected, > kvm):"
        sed 's/^/      /' "$WORK/$g.kvm.diff" | head -n 20
        rc=1
    fi
    # emu and kvm against each other too (all lines but the known ones).
    if ! diff <(filtered "$WORK/$g.kvm" $known) <(filtered "$WORK/$g.emu" $known) >/dev/null; then
        echo "    $g emu and kvm transcripts differ"
        rc=1
    fi
done
return $rc
