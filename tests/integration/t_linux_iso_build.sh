# tools/make-linux-iso builds the Linux test ISO from Debian's packages:
# an El Torito ISO with ISOLINUX, the kernel, and an initramfs whose /init,
# /dev/console and busybox are where the kernel looks for them; the same
# inputs give the same bytes; --modules pulls in dependencies in load
# order and --init-script replaces /init.  Booting it is the emulator's
# test (issue 7), not this one.  The .debs are cached in build/linux-cache
# (the first run downloads ~70 MB).
mk="$ROOT/tools/make-linux-iso"
iso="$WORK/linux.iso"
rc=0
"$mk" "$iso" --kernel-out "$WORK/vmlinuz" --initrd-out "$WORK/initrd.gz" \
    >"$WORK/mk1.log" 2>&1 || rc=$?
[ $rc -ne 3 ] || { echo "packages not downloadable: $(tail -n 2 "$WORK/mk1.log")"; return 77; }
[ $rc -eq 0 ] || { fail "make-linux-iso failed ($rc): $(tail -n 5 "$WORK/mk1.log")"; return 1; }
[ -s "$iso" ] || { fail "no ISO written"; return 1; }

# ISO 9660 with an El Torito no-emulation boot image that gets a boot info
# table (what ISOLINUX needs to find itself on the disc).
xorriso -indev "$iso" -toc >"$WORK/toc" 2>&1 || { fail "xorriso cannot read the ISO"; return 1; }
expect_line "$WORK/toc" "Boot catalog : '/isolinux/boot.cat'" || return 1
expect_line "$WORK/toc" "Boot image   : '/isolinux/isolinux.bin' , boot_info_table=on" || return 1
# The primary volume descriptor at sector 16 says CD001.
[ "$(dd if="$iso" bs=1 skip=$((16 * 2048 + 1)) count=5 status=none)" = CD001 ] ||
    { fail "no ISO 9660 volume descriptor"; return 1; }

xorriso -osirrox on -indev "$iso" -extract / "$WORK/tree" >/dev/null 2>&1 ||
    { fail "cannot extract the ISO"; return 1; }
for f in isolinux/isolinux.bin isolinux/ldlinux.c32 isolinux/isolinux.cfg boot/vmlinuz boot/initrd.gz; do
    [ -s "$WORK/tree/$f" ] || { fail "$f missing on the ISO"; return 1; }
done
cmp -s "$WORK/tree/boot/vmlinuz" "$WORK/vmlinuz" || { fail "--kernel-out differs from the ISO's"; return 1; }
cmp -s "$WORK/tree/boot/initrd.gz" "$WORK/initrd.gz" || { fail "--initrd-out differs from the ISO's"; return 1; }
expect_line "$WORK/tree/isolinux/isolinux.cfg" "SERIAL 0 115200" || return 1
expect_line "$WORK/tree/isolinux/isolinux.cfg" "APPEND console=ttyS0" || return 1
# A bzImage: "HdrS" boot protocol magic at 0x202.
[ "$(dd if="$WORK/vmlinuz" bs=1 skip=$((0x202)) count=4 status=none)" = HdrS ] ||
    { fail "kernel is not a bzImage"; return 1; }

# The initramfs, as the kernel will unpack it.
gzip -dc "$WORK/initrd.gz" > "$WORK/initrd.cpio" || { fail "initrd is not gzip"; return 1; }
(cd "$WORK" && mkdir ird && cd ird && cpio -id --quiet --no-absolute-filenames < ../initrd.cpio 2>/dev/null)
# GNU cpio stops at the first archive's trailer; the kernel reads on
# through concatenated archives (and the NUL padding between them), so
# list the entries the way the kernel walks them: "MODE(octal) RDEV NAME".
python3 - "$WORK/initrd.cpio" > "$WORK/ird.list" <<'PY' || { fail "initramfs is not valid newc"; return 1; }
import sys
d = open(sys.argv[1], "rb").read()
i = 0
while i < len(d):
    if d[i] == 0:
        i += 1
        continue
    assert d[i:i + 6] == b"070701", "bad magic at %d" % i
    f = [int(d[i + 6 + 8 * k:i + 14 + 8 * k], 16) for k in range(13)]
    namesize, filesize = f[11], f[6]
    name = d[i + 110:i + 110 + namesize - 1].decode()
    i = (i + 110 + namesize + 3) & ~3
    i = (i + filesize + 3) & ~3
    if name != "TRAILER!!!":
        print("%o %d:%d %s" % (f[1], f[9], f[10], name))
PY
grep -qx '20600 5:1 dev/console' "$WORK/ird.list" || { fail "no /dev/console char device 5:1: $(grep console "$WORK/ird.list")"; return 1; }
grep -qx '100755 0:0 init' "$WORK/ird.list" || { fail "no executable /init"; return 1; }
expect_line "$WORK/ird/init" "echo MINUS1-LINUX-BOOTED" || return 1
[ -x "$WORK/ird/bin/busybox" ] || { fail "no busybox"; return 1; }
[ "$(readlink "$WORK/ird/bin/sh")" = /bin/busybox ] || { fail "/bin/sh is not busybox"; return 1; }
# Static: the initramfs has no libc.
file_out=$(head -c 4 "$WORK/ird/bin/busybox" | od -An -c | tr -d ' ')
[ "$file_out" = 177ELF ] || { fail "busybox is not ELF"; return 1; }
! grep -qE '\.so(\.[0-9]+)*$' "$WORK/ird.list" || { fail "shared libraries in the initramfs"; return 1; }

# Deterministic: a second build from the same cache gives the same bytes.
"$mk" "$WORK/again.iso" >"$WORK/mk2.log" 2>&1 || { fail "second build failed"; return 1; }
cmp -s "$iso" "$WORK/again.iso" || { fail "two builds differ"; return 1; }

# --modules with dependencies in load order, --init-script, --append.
printf '#!/bin/sh\necho CUSTOM-INIT\n' > "$WORK/custom-init"
"$mk" --modules "ata_piix,ne2k-pci,ext4" --init-script "$WORK/custom-init" --append "extra=1" \
    --initrd-out "$WORK/mod.gz" "$WORK/mod.iso" >"$WORK/mk3.log" 2>&1 ||
    { fail "build with modules failed: $(tail -n 3 "$WORK/mk3.log")"; return 1; }
mkdir "$WORK/mod" && (cd "$WORK/mod" && gzip -dc ../mod.gz | cpio -id --quiet 2>/dev/null)
cmp -s "$WORK/mod/init" "$WORK/custom-init" || { fail "--init-script not used as /init"; return 1; }
order=$(cat "$WORK"/mod/lib/modules/*/load-order 2>/dev/null | sed 's|.*/||; s|\.ko$||' | tr '\n' ' ')
pos() { echo "$order" | tr ' ' '\n' | grep -nx "$1" | cut -d: -f1; }
for m in ata_piix libata scsi_mod ne2k-pci 8390 ext4 jbd2 mbcache crc16; do
    [ -n "$(pos "$m")" ] || { fail "module $m missing from load order: $order"; return 1; }
done
[ "$(pos scsi_mod)" -lt "$(pos libata)" ] && [ "$(pos libata)" -lt "$(pos ata_piix)" ] &&
    [ "$(pos 8390)" -lt "$(pos ne2k-pci)" ] && [ "$(pos jbd2)" -lt "$(pos ext4)" ] ||
    { fail "dependencies not loaded first: $order"; return 1; }
# Like depmod's: every dependency, indirect ones too (busybox modprobe
# does not recurse), the one to load last first.
grep -qx 'kernel/drivers/ata/ata_piix.ko: kernel/drivers/ata/libata.ko kernel/drivers/scsi/scsi_mod.ko kernel/drivers/scsi/scsi_common.ko' \
    "$WORK"/mod/lib/modules/*/modules.dep ||
    { fail "modules.dep lacks ata_piix's dependencies: $(grep ata_piix "$WORK"/mod/lib/modules/*/modules.dep)"; return 1; }
xorriso -osirrox on -indev "$WORK/mod.iso" -extract /isolinux/isolinux.cfg "$WORK/mod.cfg" >/dev/null 2>&1
expect_line "$WORK/mod.cfg" " extra=1" || return 1

# Nonsense is refused, not silently built.
! "$mk" --modules no_such_module "$WORK/bad.iso" >/dev/null 2>&1 || { fail "unknown module accepted"; return 1; }
[ ! -e "$WORK/bad.iso" ] || { fail "ISO written despite an error"; return 1; }
return 0
