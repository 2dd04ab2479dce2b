# The long-mode system test guest (tests/guests/sys_long.asm): reset ->
# protected mode -> long mode, 4-level paging faults with error codes and
# CR2, NX, a non-canonical #GP, an IST stack, SYSCALL/SYSRET through CPL3,
# a CPL3 #PF, a compatibility-mode code segment taking an interrupt.  Its
# transcript must equal sys_long.expected (made under QEMU TCG) under
# --accel emu.  Under --accel kvm it is compared too when this host's KVM
# can run it; where KVM stops ("KVM internal error": this host's KVM
# interprets 64-bit CPL0 code and declines e.g. INT through an IST gate)
# only a note is printed.
# Then tests/guests/sys_gate64.asm: 16-byte call gates in long mode (far
# CALL/JMP at CPL0, the gate checks and their error codes, CPL3 -> CPL0
# through a gate onto TSS.RSP0 with a null SS and RETFQ back, a gate to
# conforming code).  sys_gate64.expected is QEMU 7.2 TCG's transcript
# except one line: through a gate to conforming code QEMU leaves CS.RPL 0
# where the SDM says CS(RPL) <- CPL (3): "conforming: cs 00b3".  This
# host's KVM stops on the first far CALL (emulation failure): emu only.
exp="$ROOT/tests/guests/sys_long.expected"
run_guest sys_long 60 --accel emu
expect_status 33 || return 1
diff -u "$exp" "$WORK/sys_long.serial" >"$WORK/sys_long.diff" ||
    fail "emu transcript differs: $(head -n 20 "$WORK/sys_long.diff")" || return 1
if [ -w /dev/kvm ]; then
    run_guest sys_long 20 --accel kvm
    if [ "$STATUS" = 33 ] && cmp -s "$exp" "$WORK/sys_long.serial"; then
        :
    elif grep -q "KVM internal error" "$WORK/sys_long.stderr"; then
        echo "    note: KVM stopped on sys_long ($(head -n 1 "$WORK/sys_long.stderr" | cut -c1-100)); emu check only"
    else
        fail "kvm: status $STATUS, transcript: $(diff "$exp" "$WORK/sys_long.serial" | head -n 10)" ||
            return 1
    fi
fi
gexp="$ROOT/tests/guests/sys_gate64.expected"
run_guest sys_gate64 60 --accel emu
expect_status 33 || return 1
diff -u "$gexp" "$WORK/sys_gate64.serial" >"$WORK/sys_gate64.diff" ||
    fail "emu sys_gate64 transcript differs: $(head -n 20 "$WORK/sys_gate64.diff")" || return 1
return 0
