# ACPI power-off: SeaBIOS installs minus1's tables from etc/table-loader;
# a boot sector walks them as an OS does (RSDP in the BIOS area, RSDT,
# FACP, DSDT's \_S5, all checksummed) and writes SLP_TYP|SLP_EN to the
# FADT's PM1a_CNT: minus1 exits with status 0.
make_disk "$WORK/disk.img" "$(guest acpi_s5)" 1
run_seabios acpi 120 --accel emu --disk "$WORK/disk.img" --boot disk
expect_status 0 || return 1
expect_line "$WORK/acpi.serial" "acpi_s5: RSDP ok" || return 1
expect_line "$WORK/acpi.serial" "acpi_s5: PM1a_CNT=0604 SLP_TYP=0" || return 1
! grep -qF "acpi_s5: failed" "$WORK/acpi.serial" || fail "the guest was still running after S5"
