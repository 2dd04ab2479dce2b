# Every bad command line gets exactly one line on stderr and exit status 2.
check_usage_error() {
    local err rc=0
    err=$("$M1" "$@" 2>&1 >/dev/null </dev/null) || rc=$?
    [ "$rc" = 2 ] || { fail "'$*' exited $rc, wanted 2"; return 1; }
    [ "$(printf '%s\n' "$err" | wc -l)" = 1 ] || { fail "'$*' printed more than one line: $err"; return 1; }
    case "$err" in minus1:*) ;; *) fail "'$*' message does not start with minus1: $err"; return 1;; esac
}
ok=0
check_usage_error --bogus || ok=1
check_usage_error --memory || ok=1
check_usage_error -m 12Q || ok=1
check_usage_error -m 1M || ok=1
check_usage_error -m 99999T || ok=1
check_usage_error --accel warp || ok=1
check_usage_error --boot floppy || ok=1
check_usage_error --serial tcp:1234 || ok=1
check_usage_error --serial file: || ok=1
check_usage_error --monitor tcp:1 || ok=1
check_usage_error --display sdl || ok=1
check_usage_error --nic e1000 || ok=1
check_usage_error --nic ne2k-pci,mac=zz || ok=1
check_usage_error --net user,hostfwd=tcp::x-:22 || ok=1
check_usage_error --disk /nonexistent/disk.img || ok=1
check_usage_error --disk "$WORK",format=qcow2 || ok=1
check_usage_error --cdrom /nonexistent.iso || ok=1
check_usage_error --log loud || ok=1
check_usage_error --bios /nonexistent/bios.bin || ok=1
check_usage_error --trace-io /nonexistent/dir/trace || ok=1
check_usage_error --trace-io || ok=1
check_usage_error extra-argument || ok=1
# A BIOS file of the wrong size is refused before anything runs.
head -c 1000 /dev/zero > "$WORK/short.bin"
check_usage_error --bios "$WORK/short.bin" || ok=1
# An unwritable serial log.
check_usage_error --bios "$(guest pit_irq)" --serial file:/nonexistent/dir/log || ok=1
# Direct Linux boot: --append needs --kernel; a file that is no bzImage.
check_usage_error --append "console=ttyS0" || ok=1
printf 'not a kernel' > "$WORK/notakernel"
check_usage_error --kernel "$WORK/notakernel" || ok=1
# Help and version succeed.
"$M1" --help | grep -q -- '--accel' || { fail "--help lacks --accel"; ok=1; }
"$M1" --version | grep -q '^minus1 ' || { fail "--version output"; ok=1; }
return $ok
