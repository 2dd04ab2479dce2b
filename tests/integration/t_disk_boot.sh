# SeaBIOS boots our MBR from an ATA disk; it writes a pattern with WRITE DMA,
# reads it back with READ DMA, flushes, exits; the image file on the host
# holds the pattern.  A readonly disk refuses the write and stays unchanged.
make_disk "$WORK/disk.img" "$(guest diskboot)" 4
run_seabios disk 120 --accel kvm --disk "$WORK/disk.img" --boot disk
expect_status 33 || return 1
expect_line "$WORK/disk.serial" "diskboot: DMA write, read back and flush ok" || return 1
python3 - "$WORK/disk.img" <<'PY' || { fail "pattern not in the image at LBA 100"; return 1; }
import sys
d = open(sys.argv[1], "rb").read()[100 * 512:108 * 512]
sys.exit(0 if all(b == (i * 7 + 3) & 0xFF for i, b in enumerate(d)) else 1)
PY
make_disk "$WORK/ro.img" "$(guest diskboot)" 4
sum_before=$(sha256sum < "$WORK/ro.img")
run_seabios disk 120 --accel kvm --disk "$WORK/ro.img,readonly" --boot disk
expect_status 35 || return 1
expect_line "$WORK/disk.serial" "diskboot: failed" || return 1
[ "$(sha256sum < "$WORK/ro.img")" = "$sum_before" ] || fail "a readonly image was modified"
