# SeaBIOS boots an El Torito ISO from our ATAPI CD-ROM; the boot image reads
# the ISO's volume descriptor through INT 13h (ATAPI READ(10) underneath).
make_iso "$(guest cdboot)" "$WORK/test.iso" || { fail "xorriso failed"; return 1; }
run_seabios cd 120 --accel kvm --cdrom "$WORK/test.iso" --boot cd
expect_status 33 || return 1
expect_line "$WORK/cd.serial" "cdboot: booted from the CD-ROM" || return 1
expect_line "$WORK/cd.serial" "cdboot: read the volume descriptor via INT 13h"
