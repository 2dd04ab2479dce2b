"""Shared helpers for minus1's benchmarks (bench/b_*.py): run minus1 and
QEMU on the same host in the same run, time them, compare."""
import os, shutil, signal, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
M1 = os.path.join(ROOT, "build", "minus1")
QEMU = shutil.which("qemu-system-x86_64")
BIOS = "/usr/share/seabios/bios-256k.bin"
RUNS = 1 if "--quick" in sys.argv else 3


def ensure_qemu():
    global QEMU
    if QEMU:
        return
    print("bench: installing qemu-system-x86 (the peer we measure against)")
    subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends",
                    "qemu-system-x86"], check=True, stdout=subprocess.DEVNULL)
    QEMU = shutil.which("qemu-system-x86_64")


def build_guest(name, *defines):
    out = os.path.join(ROOT, "build", "bench", name + "".join(d.replace("=", "_") for d in defines) + ".bin")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    subprocess.run(["nasm", "-f", "bin", "-I", os.path.join(ROOT, "tests", "guests") + "/",
                    *[f"-D{d}" for d in defines], "-o", out,
                    os.path.join(ROOT, "bench", "guests", name + ".asm")], check=True)
    return out


def m1_cmd(serial, accel="kvm", bios=None):
    cmd = [M1, "--accel", accel, "-m", "256M", "--serial", "file:" + serial]
    if bios:
        cmd += ["--bios", bios]
    return cmd


def qemu_cmd(serial, accel="kvm", bios=None):
    cmd = [QEMU, "-accel", accel, "-M", "pc", "-m", "256", "-nodefaults", "-nographic",
           "-monitor", "none", "-serial", "file:" + serial, "-no-reboot"]
    if bios:
        cmd += ["-bios", bios, "-cpu", "qemu64,-apic",
                "-device", "isa-debug-exit,iobase=0xf4,iosize=1"]
    return cmd


def proc_status_kib(pid, key):
    """A KiB field of /proc/PID/status (VmRSS, VmHWM...), 0 if gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def rss_kib(pid):
    return proc_status_kib(pid, "VmRSS")


def rss_minus_ram_kib(pid, ram_kib):
    """RSS of every mapping but the guest RAM (the largest mapping at least
    ram_kib long: minus1's and QEMU's RAM are one anonymous mapping each),
    None if the process is gone.  What the VMM itself costs."""
    total = ram = size = rss = 0
    try:
        with open(f"/proc/{pid}/smaps") as f:
            for line in f:
                if line.startswith("Size:"):
                    size = int(line.split()[1])
                elif line.startswith("Rss:"):
                    rss = int(line.split()[1])
                    total += rss
                    if size >= ram_kib:
                        ram = max(ram, rss)
    except OSError:
        return None
    return total - ram


def time_to_marker(cmd, serial, marker, limit=120.0):
    """Seconds from process start until `marker` shows in the serial log,
    and the process's RSS at that moment."""
    if os.path.exists(serial):
        os.unlink(serial)
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    found, rss = None, 0
    while time.monotonic() - t0 < limit and p.poll() is None:
        try:
            with open(serial, "rb") as f:
                if marker in f.read():
                    found = time.monotonic() - t0
                    rss = rss_kib(p.pid)
                    break
        except OSError:
            pass
        time.sleep(0.01)
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(5)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    return found, rss


def time_to_exit(cmd, limit=300.0):
    t0 = time.monotonic()
    r = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=limit)
    return time.monotonic() - t0, r.returncode


def best(values):
    values = [v for v in values if v is not None]
    return min(values) if values else None


def ratio(a, b):
    return f"{a / b:.2f}x" if a and b else "n/a"


