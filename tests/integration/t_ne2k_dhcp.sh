# A test guest drives the NE2000 (PCI RTL8029, then ISA at 0x300) and gets a
# DHCP OFFER from the user-mode NAT; the pcap holds the exchange.
run_guest ne2k_dhcp 60 --accel kvm --nic ne2k-pci --net user --pcap "$WORK/pci.pcap"
expect_status 33 || return 1
expect_line "$WORK/ne2k_dhcp.serial" "ne2k_dhcp: RTL8029 on PCI" || return 1
expect_line "$WORK/ne2k_dhcp.serial" "ne2k_dhcp: offer 10.0.2.15" || return 1
tshark -r "$WORK/pci.pcap" -Y dhcp -T fields -e dhcp.option.dhcp > "$WORK/dhcp.txt" 2>"$WORK/tshark.err" ||
    { fail "tshark cannot read the pcap: $(cat "$WORK/tshark.err")"; return 1; }
# (tshark's notice about running as root is not a warning about the file)
grep -v 'Running as user' "$WORK/tshark.err" > "$WORK/tshark.warn"
[ -s "$WORK/tshark.warn" ] && { fail "tshark warned: $(cat "$WORK/tshark.warn")"; return 1; }
grep -qx 1 "$WORK/dhcp.txt" || { fail "no DISCOVER in the pcap: $(cat "$WORK/dhcp.txt")"; return 1; }
grep -qx 2 "$WORK/dhcp.txt" || { fail "no OFFER in the pcap: $(cat "$WORK/dhcp.txt")"; return 1; }
run_guest ne2k_dhcp 60 --accel kvm --nic ne2k-isa --net user
expect_status 33 || return 1
expect_line "$WORK/ne2k_dhcp.serial" "using ISA 0x300" || return 1
expect_line "$WORK/ne2k_dhcp.serial" "ne2k_dhcp: offer 10.0.2.15"
