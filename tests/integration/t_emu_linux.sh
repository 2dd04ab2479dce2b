# Debian's Linux kernel under the emulator: the test ISO from
# tools/make-linux-iso (kernel, busybox initramfs whose /init prints
# MINUS1-LINUX-BOOTED and reboots) booted directly with --kernel/--initrd
# under --accel emu: long mode, SSE, the PIT/8259 clock without ACPI or a
# local APIC, the 8250 console from user space (glibc's CPUID cache probe
# once looped forever here), then "reboot -f" through the keyboard
# controller, which --no-reboot turns into exit status 0.
# M1_EMU_LINUX_CD=1 also boots the ISO itself through SeaBIOS and ISOLINUX
# (several minutes longer: ISOLINUX reads the kernel through INT 13h).
mk="$ROOT/tools/make-linux-iso"
iso="$ROOT/build/linux.iso"
kern="$ROOT/build/linux-vmlinuz"
ird="$ROOT/build/linux-initrd.gz"
append="console=ttyS0 earlyprintk=serial,ttyS0,115200 nokaslr mitigations=off panic=-1 noapic nolapic 8250.nr_uarts=1"
rc=0
"$mk" --kernel-out "$kern" --initrd-out "$ird" "$iso" >"$WORK/mk.log" 2>&1 || rc=$?
[ $rc -ne 3 ] || { echo "packages not downloadable: $(tail -n 2 "$WORK/mk.log")"; return 77; }
[ $rc -eq 0 ] || { fail "make-linux-iso failed ($rc): $(tail -n 5 "$WORK/mk.log")"; return 1; }

# boot NAME LIMIT FLAGS...: runs minus1, sets STATUS and SECS.
boot() {
    local name=$1 limit=$2 t0
    shift 2
    STATUS=0
    t0=$(date +%s)
    timeout -k 5 "$limit" "$M1" --accel emu -m 512M --serial "file:$WORK/$name.serial" \
        --no-reboot "$@" >"$WORK/$name.stdout" 2>"$WORK/$name.stderr" </dev/null || STATUS=$?
    SECS=$(( $(date +%s) - t0 ))
}

boot direct 900 --kernel "$kern" --initrd "$ird" --append "$append"
expect_line "$WORK/direct.serial" "MINUS1-LINUX-BOOTED" || return 1
expect_status 0 || return 1
echo "    direct boot: marker and exit in ${SECS}s wall ($(grep -a 'init: uptime' "$WORK/direct.serial" | tr -d '\r'))"

if [ "${M1_EMU_LINUX_CD:-0}" = 1 ]; then
    boot cd 1800 --cdrom "$iso" --boot cd
    expect_line "$WORK/cd.serial" "MINUS1-LINUX-BOOTED" || return 1
    expect_status 0 || return 1
    echo "    CD boot (SeaBIOS + ISOLINUX): ${SECS}s wall"
fi
return 0
