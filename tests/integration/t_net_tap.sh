# The TAP backend, inside a private network namespace: the test guest's
# DHCP DISCOVER comes out of the tap interface, and an OFFER written into
# the interface reaches the guest through the NE2000.
[ "$(id -u)" = 0 ] || { echo "needs root for a network namespace"; return 77; }
command -v ip >/dev/null || { echo "no iproute2"; return 77; }
ns="m1tap$$"
ip netns add "$ns" || { fail "cannot create a network namespace"; return 1; }
trap 'ip netns del "$ns" 2>/dev/null' RETURN
ip -n "$ns" tuntap add dev m1tap0 mode tap || { fail "cannot create the tap"; return 1; }
ip -n "$ns" link set m1tap0 up
ip netns exec "$ns" python3 - <<'PY' > "$WORK/dhcpd.log" 2>&1 &
import socket, struct, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
s.bind(("m1tap0", 0))
s.settimeout(60)
while True:
    f = s.recv(2048)
    if len(f) > 300 and f[12:14] == b"\x08\x00" and f[23] == 17 and f[36:38] == b"\x00\x43":
        break
print("got DISCOVER from", f[6:12].hex(":"), flush=True)
mac, xid = f[6:12], f[14 + 20 + 8 + 4:14 + 20 + 8 + 8]
bootp = bytes([2, 1, 6, 0]) + xid + b"\x00\x00\x80\x00" + bytes(4) + bytes([10, 0, 2, 15]) \
    + bytes([10, 0, 2, 2]) + bytes(4) + mac + bytes(10) + bytes(192) \
    + b"\x63\x82\x53\x63" + bytes([53, 1, 2, 255])
bootp += bytes(300 - len(bootp))
udp = struct.pack("!HHHH", 67, 68, 8 + len(bootp), 0) + bootp
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                 bytes([10, 0, 2, 2]), bytes([255, 255, 255, 255]))
c = sum(struct.unpack("!10H", ip))
c = (c & 0xFFFF) + (c >> 16)
c = (c & 0xFFFF) + (c >> 16)
ip = ip[:10] + struct.pack("!H", ~c & 0xFFFF) + ip[12:]
s.send(mac + bytes.fromhex("525400aabbcc") + b"\x08\x00" + ip + udp)
print("sent OFFER", flush=True)
PY
srv=$!
sleep 0.3
STATUS=0
ip netns exec "$ns" timeout -k 5 60 "$M1" --accel kvm --bios "$(guest ne2k_dhcp)" \
    --nic ne2k-pci --net tap,ifname=m1tap0 --serial "file:$WORK/tap.serial" \
    >"$WORK/tap.stdout" 2>"$WORK/tap.stderr" </dev/null || STATUS=$?
wait $srv
expect_status 33 || { cat "$WORK/dhcpd.log"; return 1; }
expect_line "$WORK/dhcpd.log" "got DISCOVER from 52:54:00:12:34:56" || return 1
expect_line "$WORK/tap.serial" "ne2k_dhcp: offer 10.0.2.15" || return 1
# A tap that cannot be attached is a startup error.
STATUS=0
"$M1" --nic ne2k-pci --net tap,ifname=this-name-is-far-too-long-for-linux 2>"$WORK/err" </dev/null || STATUS=$?
expect_status 2
