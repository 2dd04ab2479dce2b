"""Emulator figures (issue 6): the CPU-bound protected-mode loop under
minus1 --accel emu vs QEMU TCG (MIPS), and Debian's ipxe.iso to its DHCP
ACK under minus1 --accel emu vs QEMU TCG (seconds).  Nothing is asserted."""
import os, signal, subprocess, time

from benchlib import *

ITER = 80_000_000           # 8 instructions each: 640 M instructions
IPXE_ISO = "/usr/lib/ipxe/ipxe.iso"


def bench_cpu(work):
    g_big = build_guest("cpu_loop", f"ITER={ITER}")
    g_nil = build_guest("cpu_loop", "ITER=1")
    serial = os.path.join(work, "cpu.log")
    insns = 8 * ITER
    res = {}
    for name, mk, accel in (("minus1 emu", m1_cmd, "emu"), ("qemu tcg", qemu_cmd, "tcg")):
        full = [time_to_exit(mk(serial, accel=accel, bios=g_big)) for _ in range(RUNS)]
        if any(rc != 33 for _, rc in full):
            print(f"cpu loop: {name} exited with {[rc for _, rc in full]} (wanted 33)")
            res[name] = None
            continue
        empty = best([time_to_exit(mk(serial, accel=accel, bios=g_nil))[0] for _ in range(RUNS)])
        loop = max(best([t for t, _ in full]) - empty, 1e-6)
        res[name] = insns / loop / 1e6
        print(f"cpu loop (32-bit PM, {insns / 1e6:.0f} M instructions): {name} "
              f"{loop:.2f} s ({empty:.2f} s start-up subtracted) = {res[name]:.0f} MIPS")
    m, q = res.get("minus1 emu"), res.get("qemu tcg")
    print(f"cpu loop MIPS: minus1 emu {m and f'{m:.0f}'}, qemu tcg {q and f'{q:.0f}'}, "
          f"ratio minus1/qemu {ratio(m, q)} (issue target: >= 100 MIPS; the ratio is reported)")


def has_dhcp_ack(data):
    """A DHCP message (magic cookie) carrying option 53 = 5 (ACK)."""
    at = data.find(b"\x63\x82\x53\x63")
    while at >= 0:
        # options follow the cookie; a bounded look is enough for iPXE/slirp
        if b"\x35\x01\x05" in data[at + 4:at + 4 + 64]:
            return True
        at = data.find(b"\x63\x82\x53\x63", at + 4)
    return False


def time_to_ack(cmd, pcap, limit=120.0):
    if os.path.exists(pcap):
        os.unlink(pcap)
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    found = None
    while time.monotonic() - t0 < limit and p.poll() is None:
        try:
            with open(pcap, "rb") as f:
                if has_dhcp_ack(f.read()):
                    found = time.monotonic() - t0
                    break
        except OSError:
            pass
        time.sleep(0.02)
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(5)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    return found


def bench_ipxe(work):
    if not os.path.exists(IPXE_ISO):
        print(f"ipxe to DHCP ACK: skipped (no {IPXE_ISO})")
        return
    serial = os.path.join(work, "ipxe.log")
    pcap = os.path.join(work, "ipxe.pcap")
    m1 = m1_cmd(serial, accel="emu") + ["--cdrom", IPXE_ISO, "--boot", "cd", "--nic", "ne2k-pci",
                                         "--net", "user", "--pcap", pcap]
    qm = qemu_cmd(serial, accel="tcg") + ["-cdrom", IPXE_ISO, "-boot", "d",
                                          "-netdev", "user,id=n", "-device", "ne2k_pci,netdev=n",
                                          "-object", f"filter-dump,id=f,netdev=n,file={pcap}"]
    tm = best([time_to_ack(m1, pcap) for _ in range(RUNS)])
    tq = best([time_to_ack(qm, pcap) for _ in range(RUNS)])
    print(f"ipxe.iso to DHCP ACK (ne2k-pci + user net): minus1 emu {tm and f'{tm:.2f}'} s, "
          f"qemu tcg {tq and f'{tq:.2f}'} s, ratio minus1/qemu {ratio(tm, tq)} "
          f"(issue target <= 2.00x)")


def run(work):
    bench_cpu(work)
    bench_ipxe(work)
