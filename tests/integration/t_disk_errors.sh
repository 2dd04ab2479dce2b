# Bad disk and CD images are refused at startup, before the guest runs:
# one line on stderr naming the file, exit status 2.  A read-only file is
# refused without ,readonly and accepted with it.
# de_refused WHAT FLAGS...: minus1 FLAGS must fail that way; the line must
# contain WHAT (the file name or the reason).
de_refused() {
    local what=$1 err rc=0
    shift
    err=$(timeout 20 "$M1" --accel kvm --serial none "$@" 2>&1 >/dev/null </dev/null) || rc=$?
    [ "$rc" = 2 ] || { fail "'$*' exited $rc, wanted 2: $err"; return 1; }
    [ "$(printf '%s\n' "$err" | wc -l)" = 1 ] || { fail "'$*' printed more than one line: $err"; return 1; }
    case "$err" in minus1:*"$what"*) ;; *) fail "'$*': '$err' lacks '$what'"; return 1;; esac
}
ok=0
: > "$WORK/empty.img"
head -c 1000 /dev/zero > "$WORK/odd.img"
head -c 3072 /dev/zero > "$WORK/odd.iso"        # 6 sectors of 512, not of 2048
head -c 65536 /dev/zero > "$WORK/good.img"
mkdir "$WORK/dir.img"
de_refused "missing.img" --disk "$WORK/missing.img" || ok=1
de_refused "missing.iso" --cdrom "$WORK/missing.iso" || ok=1
de_refused "empty" --disk "$WORK/empty.img" || ok=1
de_refused "empty" --cdrom "$WORK/empty.img" || ok=1
de_refused "not a multiple of 512" --disk "$WORK/odd.img" || ok=1
de_refused "not a multiple of 2048" --cdrom "$WORK/odd.iso" || ok=1
de_refused "dir.img" --disk "$WORK/dir.img" || ok=1
de_refused "dir.img" --cdrom "$WORK/dir.img" || ok=1
de_refused "missing.img" --disk "$WORK/good.img" --disk "$WORK/missing.img" || ok=1

# A file we cannot write.  chmod 0444 means nothing to root, so use a
# read-only bind mount (EROFS, and the message suggests ,readonly), else
# an immutable file (EPERM); skip the case when neither is possible.
mkdir "$WORK/ro"
ro=""
if mount --bind "$WORK" "$WORK/ro" 2>/dev/null; then
    if mount -o remount,bind,ro "$WORK/ro" 2>/dev/null; then
        ro="$WORK/ro/good.img"
        de_refused ",readonly" --disk "$ro" || ok=1
    fi
fi
if [ -z "$ro" ] && chattr +i "$WORK/good.img" 2>/dev/null; then
    ro="$WORK/good.img"
    de_refused "good.img" --disk "$ro" || ok=1
fi
if [ -n "$ro" ]; then
    # With ,readonly the same file is fine: the guest runs to its exit.
    run_guest pit_irq 30 --accel kvm --disk "$ro,readonly"
    expect_status 33 || ok=1
else
    echo "    (no read-only bind mount or chattr +i here: read-only case skipped)"
fi
mountpoint -q "$WORK/ro" && umount "$WORK/ro"
chattr -i "$WORK/good.img" 2>/dev/null
return $ok
