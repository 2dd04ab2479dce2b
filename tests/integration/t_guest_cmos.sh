# The guest reads the RTC; its time must be the host's UTC time (within 5 s).
run_guest cmos_time 60 --accel kvm
expect_status 33 || return 1
line=$(grep 'cmos_time: 2' "$WORK/cmos_time.serial") || { fail "no time line"; return 1; }
guest_time=${line#cmos_time: }
g=$(date -u -d "$guest_time" +%s) || { fail "unparseable time '$guest_time'"; return 1; }
h=$(date -u +%s)
d=$(( h > g ? h - g : g - h ))
[ "$d" -le 5 ] || fail "guest time $guest_time is $d s away from the host's"
