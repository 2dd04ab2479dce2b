"""Emulator figures (issues 6 and 7): the CPU-bound loop in 32-bit
protected mode and in 64-bit mode under minus1 --accel emu vs QEMU TCG
(MIPS); Debian's ipxe.iso to its DHCP ACK (seconds); the Linux test ISO
(tools/make-linux-iso) through SeaBIOS + ISOLINUX to its init marker under
minus1 emu vs QEMU TCG and QEMU KVM (capped: this host's KVM interprets
kernel code), with minus1's peak RSS minus guest RAM.  Nothing is
asserted."""
import os, signal, subprocess, time

from benchlib import *

ITER = 80_000_000           # 8 instructions each: 640 M instructions
IPXE_ISO = "/usr/lib/ipxe/ipxe.iso"


def run_timed(cmd, limit=300.0):
    """(wall seconds, user+sys CPU seconds, exit status) of one run.  The
    CPU figure is what the host being shared does not distort."""
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)     # reaped here, not by Popen
    return time.monotonic() - t0, ru.ru_utime + ru.ru_stime, p.returncode


def bench_cpu(work, guest="cpu_loop", label="32-bit PM", target=100):
    g_big = build_guest(guest, f"ITER={ITER}")
    g_nil = build_guest(guest, "ITER=1")
    serial = os.path.join(work, "cpu.log")
    insns = 8 * ITER
    res = {}
    for name, mk, accel in (("minus1 emu", m1_cmd, "emu"), ("qemu tcg", qemu_cmd, "tcg")):
        full = [run_timed(mk(serial, accel=accel, bios=g_big)) for _ in range(RUNS)]
        if any(rc != 33 for _, _, rc in full):
            print(f"cpu loop: {name} exited with {[rc for _, _, rc in full]} (wanted 33)")
            res[name] = None
            continue
        nil = [run_timed(mk(serial, accel=accel, bios=g_nil)) for _ in range(RUNS)]
        loop = max(best([t for t, _, _ in full]) - best([t for t, _, _ in nil]), 1e-6)
        cpu = max(best([u for _, u, _ in full]) - best([u for _, u, _ in nil]), 1e-6)
        res[name] = insns / loop / 1e6
        print(f"cpu loop ({label}, {insns / 1e6:.0f} M instructions): {name} "
              f"{loop:.2f} s wall = {res[name]:.0f} MIPS; {cpu:.2f} s CPU = "
              f"{insns / cpu / 1e6:.0f} MIPS per CPU-second (start-up run subtracted)")
    m, q = res.get("minus1 emu"), res.get("qemu tcg")
    print(f"cpu loop {label} MIPS (wall): minus1 emu {m and f'{m:.0f}'}, qemu tcg {q and f'{q:.0f}'}, "
          f"ratio minus1/qemu {ratio(m, q)} (issue target: >= {target} MIPS; the ratio is reported)")


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


LINUX_ISO = os.path.join(ROOT, "build", "linux.iso")
LINUX_MARKER = b"MINUS1-LINUX-BOOTED"
LINUX_RAM_MIB = 512


def linux_boot(cmd, serial, limit, watch_rss=False):
    """Seconds to the marker (None if not within limit); with watch_rss,
    (VmHWM, peak of RSS minus the guest-RAM mapping's RSS) in KiB."""
    if os.path.exists(serial):
        os.unlink(serial)
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    found, hwm, peak_other = None, 0, 0
    while time.monotonic() - t0 < limit and p.poll() is None:
        if watch_rss:
            peak_other = max(peak_other, rss_minus_ram_kib(p.pid, LINUX_RAM_MIB * 1024) or 0)
            hwm = max(hwm, proc_status_kib(p.pid, "VmHWM"))
        try:
            with open(serial, "rb") as f:
                if LINUX_MARKER in f.read():
                    found = time.monotonic() - t0
                    break
        except OSError:
            pass
        time.sleep(0.05)
    p.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 5
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            p.kill()
            pid, status, ru = os.wait4(p.pid, 0)
            break
        time.sleep(0.05)
    p.returncode = os.waitstatus_to_exitcode(status)     # reaped here, not by Popen
    return found, hwm, peak_other, ru.ru_utime + ru.ru_stime


def bench_linux(work):
    if not os.path.exists(LINUX_ISO):
        print(f"linux ISO to marker: skipped (no {LINUX_ISO}: tools/make-linux-iso "
              "--kernel-out build/linux-vmlinuz --initrd-out build/linux-initrd.gz build/linux.iso)")
        return
    serial = os.path.join(work, "linux.log")
    # Same devices on both: PIIX3 IDE CD-ROM, standard VGA, no NIC, serial.
    m1 = [M1, "--accel", "emu", "-m", f"{LINUX_RAM_MIB}M", "--serial", "file:" + serial,
          "--no-reboot", "--cdrom", LINUX_ISO, "--boot", "cd"]

    def qm(accel):
        return [QEMU, "-accel", accel, "-M", "pc", "-m", str(LINUX_RAM_MIB), "-nodefaults",
                "-display", "none", "-monitor", "none", "-serial", "file:" + serial,
                "-no-reboot", "-device", "VGA", "-cdrom", LINUX_ISO, "-boot", "d"]
    runs = [linux_boot(m1, serial, 300, watch_rss=True) for _ in range(RUNS)]
    tm = best([r[0] for r in runs])
    cm = best([r[3] for r in runs if r[0]])
    hwm = max(r[1] for r in runs)
    other = max(r[2] for r in runs)
    qruns = [linux_boot(qm("tcg"), serial, 300) for _ in range(RUNS)]
    tq = best([r[0] for r in qruns])
    cq = best([r[3] for r in qruns if r[0]])
    tk = linux_boot(qm("kvm"), serial, 60)[0] if os.path.exists("/dev/kvm") else None
    print(f"linux ISO (SeaBIOS + ISOLINUX + kernel) to marker: minus1 emu {tm and f'{tm:.2f}'} s "
          f"({cm and f'{cm:.2f}'} s CPU), qemu tcg {tq and f'{tq:.2f}'} s ({cq and f'{cq:.2f}'} s CPU), "
          f"qemu kvm {f'{tk:.2f} s' if tk else 'not within 60 s'}; ratio minus1/qemu-tcg "
          f"{ratio(tm, tq)} wall, {ratio(cm, cq)} CPU (issue target <= 3.00x)")
    print(f"linux ISO boot: minus1 peak RSS (VmHWM) {hwm / 1024:.0f} MiB, peak RSS minus guest-RAM "
          f"RSS {other / 1024:.0f} MiB (issue target < 64 MiB; guest RAM {LINUX_RAM_MIB} MiB)")


def run(work):
    bench_cpu(work)
    bench_cpu(work, "cpu_loop64", "64-bit", 150)
    bench_ipxe(work)
    bench_linux(work)
