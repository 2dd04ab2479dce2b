"""The end-to-end Linux guest (issue 8) under minus1 and under QEMU, each on
its software emulator (minus1 --accel emu, qemu -accel tcg), with the same
machine shape: PIIX3 IDE CD-ROM + disk, ne2k_pci with user networking,
std VGA, 512 MiB.  The guest is tests/linux/make-e2e-iso's ISO; what it does
comes from /e2e.conf on its ext2 disk:
  - boot: power-on to MINUS1-LINUX-BOOTED (the first line of its /init),
  - dd: 64 MiB read from the raw disk with dd, host time between the
    guest's "dd start" and "dd end" lines,
  - tcp: 32 MiB sent by the guest with nc to a host listener through slirp,
    host time from the first byte to the last,
  - peak RSS of the VMM minus guest RAM, from /proc/PID/smaps sampled
    through the run: every mapping's RSS except the guest RAM's.
QEMU under -accel kvm is also timed to the boot marker (limited: this
host's KVM interprets kernel code).  Nothing is asserted."""
import os, socket, subprocess, threading, time

from benchlib import *

RAM_MB = 512
DD_MB = 64
SEND_MB = 32


def make_iso(work):
    iso = os.path.join(work, "e2e.iso")
    r = subprocess.run([os.path.join(ROOT, "tests", "linux", "make-e2e-iso"), iso],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        print(f"linux: cannot build the ISO ({r.returncode}): {r.stderr.strip()[-200:]}")
        return None
    return iso


def make_disk(work, conf):
    root = os.path.join(work, "fs")
    os.makedirs(root, exist_ok=True)
    with open(os.path.join(root, "e2e.conf"), "w") as f:
        f.write(conf)
    disk = os.path.join(work, "disk.img")
    # Larger than DD_MB: dd reads the raw device from its start.
    subprocess.run(["mkfs.ext2", "-q", "-F", "-d", root, disk, f"{DD_MB + 8}M"], check=True)
    return disk


class Sink:
    """A TCP listener that counts bytes and times the first to the last."""
    def __init__(self):
        self.srv = socket.socket()
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(1)
        self.port = self.srv.getsockname()[1]
        self.bytes, self.first, self.last = 0, None, None
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        try:
            c, _ = self.srv.accept()
        except OSError:
            return
        with c:
            while True:
                data = c.recv(1 << 16)
                if not data:
                    break
                now = time.monotonic()
                self.first = self.first or now
                self.last = now
                self.bytes += len(data)

    def close(self):
        self.srv.close()


def run_guest(cmd, serial, markers, limit):
    """Runs cmd to its exit (or limit); returns {marker: host seconds since
    start}, the peak non-RAM RSS (KiB) and the serial text."""
    if os.path.exists(serial):
        os.unlink(serial)
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    seen, peak, text = {}, 0, b""
    next_rss = 0.0
    while p.poll() is None and time.monotonic() - t0 < limit:
        now = time.monotonic()
        try:
            with open(serial, "rb") as f:
                text = f.read()
        except OSError:
            pass
        for m in markers:
            if m not in seen and m.encode() in text:
                seen[m] = now - t0
        if now >= next_rss:
            r = rss_minus_ram_kib(p.pid, RAM_MB * 1024)
            peak = max(peak, r or 0)
            next_rss = now + 0.25
        time.sleep(0.02)
    if p.poll() is None:
        p.terminate()
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    try:
        with open(serial, "rb") as f:
            text = f.read()
    except OSError:
        pass
    return seen, peak, text.decode(errors="replace")


def m1_linux(serial, iso, disk, accel="emu"):
    return [M1, "--accel", accel, "-m", f"{RAM_MB}M", "--cdrom", iso, "--boot", "cd",
            "--disk", disk, "--nic", "ne2k-pci", "--net", "user", "--serial", "file:" + serial,
            "--no-reboot"]


def qemu_linux(serial, iso, disk, accel="tcg"):
    return [QEMU, "-accel", accel, "-M", "pc", "-m", str(RAM_MB), "-nodefaults",
            "-display", "none", "-vga", "std", "-monitor", "none",
            "-serial", "file:" + serial, "-no-reboot",
            "-drive", f"file={iso},media=cdrom,if=ide,index=2",
            "-drive", f"file={disk},format=raw,if=ide,index=0", "-boot", "d",
            "-netdev", "user,id=n0", "-device", "ne2k_pci,netdev=n0"]


def one_run(name, mk, work, iso, accel, limit):
    sink = Sink()
    disk = make_disk(work, f'DD_MB={DD_MB}\nSEND_MB={SEND_MB}\nSEND_TO="10.0.2.2 {sink.port}"\n')
    serial = os.path.join(work, name.replace(" ", "_") + ".serial")
    marks = ["MINUS1-LINUX-BOOTED", "E2E: dd start", "E2E: dd end", "E2E: done"]
    seen, peak, _ = run_guest(mk(serial, iso, disk, accel), serial, marks, limit)
    sink.close()
    res = {"boot": seen.get("MINUS1-LINUX-BOOTED"), "rss": peak / 1024 if peak else None}
    if "E2E: dd start" in seen and "E2E: dd end" in seen:
        res["dd"] = DD_MB * 1048576 / 1e6 / max(seen["E2E: dd end"] - seen["E2E: dd start"], 1e-6)
    if sink.bytes >= SEND_MB * 1048576 and sink.first and sink.last > sink.first:
        res["tcp"] = sink.bytes / 1e6 / (sink.last - sink.first)
    res["done"] = "E2E: done" in seen
    return res


def fmt(v, unit):
    return f"{v:.1f} {unit}" if v else "n/a"


def run(work):
    iso = make_iso(work)
    if not iso:
        return
    runs = {"minus1 emu": [], "qemu tcg": []}
    for _ in range(RUNS):
        runs["minus1 emu"].append(one_run("minus1 emu", m1_linux, work, iso, "emu", 900))
        runs["qemu tcg"].append(one_run("qemu tcg", qemu_linux, work, iso, "tcg", 900))
    agg = {}
    for name, rs in runs.items():
        agg[name] = {
            "boot": best([r["boot"] for r in rs]),
            "dd": max([r.get("dd") or 0 for r in rs]) or None,
            "tcp": max([r.get("tcp") or 0 for r in rs]) or None,
            "rss": best([r["rss"] for r in rs]),
        }
        a = agg[name]
        print(f"linux {name}: boot to marker {fmt(a['boot'], 's')}, dd {DD_MB} MiB "
              f"{fmt(a['dd'], 'MB/s')}, tcp guest->host "
              f"{SEND_MB} MiB {fmt(a['tcp'], 'MB/s')}, peak RSS minus guest RAM "
              f"{fmt(a['rss'], 'MiB')}, finished: {all(r['done'] for r in rs)}")
    m, q = agg["minus1 emu"], agg["qemu tcg"]
    print(f"linux boot ratio minus1/qemu-tcg {ratio(m['boot'], q['boot'])} (target <= 2.00x)")
    print(f"linux dd ratio minus1/qemu-tcg {ratio(m['dd'], q['dd'])} (target >= 1.00x)")
    print(f"linux tcp ratio minus1/qemu-tcg {ratio(m['tcp'], q['tcp'])} (target >= 1.00x)")
    print(f"linux RSS-minus-RAM ratio minus1/qemu-tcg {ratio(m['rss'], q['rss'])} (target <= 0.50x)")
    # QEMU's hardware path on this host, to the boot marker only.
    disk = make_disk(work, "")
    serial = os.path.join(work, "qemu_kvm.serial")
    seen, _, _ = run_guest(qemu_linux(serial, iso, disk, "kvm"), serial,
                           ["MINUS1-LINUX-BOOTED"], 300 if RUNS > 1 else 120)
    k = seen.get("MINUS1-LINUX-BOOTED")
    print(f"linux boot qemu -accel kvm: {fmt(k, 's') if k else 'no marker within the limit'}; "
          f"minus1 emu / qemu kvm {ratio(m['boot'], k)}")
