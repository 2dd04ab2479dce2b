# Debian's ipxe.iso under minus1's emulator (--accel emu): SeaBIOS boots
# ISOLINUX from the CD, ISOLINUX loads ipxe.krn, iPXE prints its banner,
# finds the NE2000 PCI (rtl8029) and gets a DHCP lease from the user-mode
# NAT.  Checked on the console and in the pcap (DHCP ACK = option 53 value 5).
# (iPXE prints the lease only after ~13 s more: it waits for an IPv6 router
# advertisement our slirp, configured without IPv6, never sends.)
iso=/usr/lib/ipxe/ipxe.iso
[ -f "$iso" ] || { echo "no $iso"; return 77; }
sock="$WORK/mon.sock"
timeout -k 5 240 "$M1" --accel emu --cdrom "$iso" --boot cd --nic ne2k-pci --net user \
    --pcap "$WORK/ipxe.pcap" --serial "file:$WORK/serial.log" --monitor "unix:$sock" \
    >"$WORK/stdout" 2>"$WORK/stderr" </dev/null &
pid=$!
ok=0
wait_for "$WORK/serial.log" "Open Source Network Boot Firmware" 90 ||
    { fail "no iPXE banner: $(tail -c 400 "$WORK/serial.log")"; ok=1; }
[ $ok = 0 ] && { expect_line "$WORK/serial.log" "iPXE 1." || ok=1; }
[ $ok = 0 ] && { wait_for "$WORK/serial.log" "using rtl8029" 30 ||
    { fail "iPXE did not find the rtl8029: $(tail -c 400 "$WORK/serial.log")"; ok=1; }; }
[ $ok = 0 ] && { wait_for "$WORK/serial.log" "net0: 10.0.2.15/255.255.255.0" 120 ||
    { fail "no DHCP lease: $(tail -c 400 "$WORK/serial.log")"; ok=1; }; }
if [ $ok = 0 ]; then
    monitor_cmd "$sock" "info accel" > "$WORK/accel.txt"
    expect_line "$WORK/accel.txt" "accelerator: emu" || ok=1
    monitor_cmd "$sock" "quit" > /dev/null
fi
STATUS=0
wait $pid || STATUS=$?
[ $ok = 0 ] || { kill $pid 2>/dev/null; return 1; }
expect_status 0 || return 1
tshark -r "$WORK/ipxe.pcap" -Y dhcp -T fields -e dhcp.option.dhcp > "$WORK/dhcp.txt" 2>"$WORK/tshark.err" ||
    { fail "tshark cannot read the pcap: $(cat "$WORK/tshark.err")"; return 1; }
grep -v 'Running as user' "$WORK/tshark.err" > "$WORK/tshark.warn"
[ -s "$WORK/tshark.warn" ] && { fail "tshark warned: $(cat "$WORK/tshark.warn")"; return 1; }
grep -qx 1 "$WORK/dhcp.txt" || { fail "no DISCOVER in the pcap: $(cat "$WORK/dhcp.txt")"; return 1; }
grep -qx 5 "$WORK/dhcp.txt" || { fail "no ACK in the pcap: $(cat "$WORK/dhcp.txt")"; return 1; }
