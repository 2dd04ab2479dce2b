# Debian's Linux kernel under the emulator, booted directly with
# --kernel/--initrd (tools/make-linux-iso's kernel and busybox initramfs,
# whose /init prints MINUS1-LINUX-BOOTED): long mode, SSE, the PIT/8259
# clock without a local APIC, the 8250 console from user space (glibc's
# CPUID cache probe once looped forever here).  With minus1.end=reboot the
# init then reboots (reboot -f: the ACPI reset register or the keyboard
# controller), which --no-reboot turns into exit status 0; the log says
# which way the VM ended.  Booting the ISO from the CD-ROM, and power-off,
# are t_linux_e2e's.
mk="$ROOT/tools/make-linux-iso"
iso="$ROOT/build/linux.iso"
kern="$ROOT/build/linux-vmlinuz"
ird="$ROOT/build/linux-initrd.gz"
append="console=ttyS0 earlyprintk=serial,ttyS0,115200 nokaslr mitigations=off panic=-1 noapic nolapic 8250.nr_uarts=1 minus1.end=reboot"
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
    timeout -k 5 "$limit" "$M1" --accel emu --log info -m 512M --serial "file:$WORK/$name.serial" \
        --no-reboot "$@" >"$WORK/$name.stdout" 2>"$WORK/$name.stderr" </dev/null || STATUS=$?
    SECS=$(( $(date +%s) - t0 ))
}

boot direct 900 --kernel "$kern" --initrd "$ird" --append "$append"
expect_line "$WORK/direct.serial" "MINUS1-LINUX-BOOTED" || return 1
expect_status 0 || return 1
expect_line "$WORK/direct.stderr" "guest reset with --no-reboot: exiting" || return 1
echo "    direct boot: marker and exit in ${SECS}s wall ($(grep -a 'init: uptime' "$WORK/direct.serial" | tr -d '\r'))"

return 0
