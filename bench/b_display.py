"""Display figures, minus1 against QEMU (-vga std, its VNC server) on the
same accelerator, boot-sector guest and VNC client:

 * mode 13h redraw: a guest (bench/guests/disp.asm) redraws the whole
   320x200 screen in a loop through the legacy VGA window, one solid
   colour per frame.  Reported: frames the guest completes per second
   (it writes 'F' on COM1 after each), frames per second a VNC client
   receives with changed content, and the VMM's CPU use meanwhile.
 * text-screen update: the guest (disp.asm -DTEXT, cursor hidden) echoes
   keys with int 10h AH=0Eh; the client, which keeps an update request
   outstanding as viewers do, sends a key event and times the arrival of
   the frame with the echo (key -> guest -> VGA -> render ->
   VNC latency), and the VMM's CPU use while the text screen sits idle
   with a client connected (the cost of polling the screen for changes).

The client is tests/integration/display.py's RFB class (Raw encoding,
32 bpp)."""
import os, random, signal, socket, statistics, subprocess, sys, time

from benchlib import *

sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from display import RFB     # noqa: E402

SECONDS = 3.0 if RUNS == 1 else 5.0
KEYS = 20


def free_display():
    for n in range(70, 100):
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", 5900 + n))
            return n
        except OSError:
            pass
        finally:
            s.close()
    raise RuntimeError("no free VNC port")


def make_disk(path, mbr):
    with open(path, "wb") as f:
        f.write(open(mbr, "rb").read())
        f.truncate(1 << 20)


def start(name, img, serial, accel, n):
    if os.path.exists(serial):
        os.unlink(serial)
    if name == "minus1":
        cmd = [M1, "--accel", accel, "-m", "64M", "--serial", "file:" + serial,
               "--disk", img, "--boot", "disk", "--display", f"vnc:{n}"]
    else:
        cmd = [QEMU, "-accel", accel, "-M", "pc", "-m", "64", "-nodefaults", "-vga", "std",
               "-display", f"vnc=127.0.0.1:{n}", "-monitor", "none", "-serial", "file:" + serial,
               "-drive", f"file={img},format=raw,if=ide", "-boot", "c"]
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    t0 = time.monotonic()
    while time.monotonic() - t0 < 60 and p.poll() is None:
        try:
            if b"disp: ready" in open(serial, "rb").read():
                return p
        except OSError:
            pass
        time.sleep(0.02)
    stop(p)
    return None


def stop(p):
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(5)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def count_f(serial):
    try:
        with open(serial, "rb") as f:
            return f.read().count(b"F")
    except OSError:
        return 0


def redraw_once(name, img, serial, accel):
    """(guest fps, VNC fps, CPU %) or None."""
    n = free_display()
    p = start(name, img, serial, accel, n)
    if not p:
        return None
    try:
        c = RFB(5900 + n)
        c.update(False)
        last = bytes(c.fb)
        f0, cpu0, t0 = count_f(serial), cpu_seconds(p.pid), time.monotonic()
        frames = 0
        while time.monotonic() - t0 < SECONDS:
            c.update(True)
            now = bytes(c.fb)
            if now != last:
                frames += 1
                last = now
        dt = time.monotonic() - t0
        res = ((count_f(serial) - f0) / dt, frames / dt, (cpu_seconds(p.pid) - cpu0) / dt * 100)
        c.close()
        return res
    finally:
        stop(p)


def text_once(name, img, serial, accel):
    """(median latency ms, p90 ms, idle CPU % with a client) or None."""
    n = free_display()
    p = start(name, img, serial, accel, n)
    if not p:
        return None
    try:
        c = RFB(5900 + n)
        c.update(False)
        time.sleep(0.5)
        cpu0, t0 = cpu_seconds(p.pid), time.monotonic()
        time.sleep(SECONDS / 2)
        idle = (cpu_seconds(p.pid) - cpu0) / (time.monotonic() - t0) * 100
        lat = []
        c.s.settimeout(5)
        for i in range(KEYS):
            # Like a viewer: a request is always outstanding.  A random
            # pause keeps the keys out of step with the refresh period.
            before = bytes(c.fb)
            c.request(True)
            time.sleep(0.05 + random.random() * 0.05)
            t = time.monotonic()
            c.tap(ord("a") + i % 26)
            try:
                while True:
                    kind, _ = c.read_message()
                    if kind == "update" and bytes(c.fb) != before:
                        break
                    if kind == "update":
                        c.request(True)
            except socket.timeout:
                continue
            lat.append((time.monotonic() - t) * 1000)
        c.close()
        if not lat:
            return None
        lat.sort()
        return statistics.median(lat), lat[min(len(lat) - 1, int(len(lat) * 0.9))], idle
    finally:
        stop(p)


def best_of(fn, pick, *args):
    runs = [r for r in (fn(*args) for _ in range(RUNS)) if r]
    return pick(runs) if runs else None


def fmt(v, spec=".1f"):
    return format(v, spec) if v is not None else "n/a"


def run(work):
    g_redraw, g_text = build_guest("disp"), build_guest("disp", "TEXT")
    img_r, img_t = os.path.join(work, "redraw.img"), os.path.join(work, "text.img")
    make_disk(img_r, g_redraw)
    make_disk(img_t, g_text)
    serial = os.path.join(work, "serial.log")
    for accel_m1, accel_q in (("kvm", "kvm"), ("emu", "tcg")):
        res = {}
        for name, accel in (("minus1", accel_m1), ("qemu", accel_q)):
            # Best run = the most VNC frames.
            r = best_of(redraw_once, lambda rs: max(rs, key=lambda x: x[1]),
                        name, img_r, serial, accel)
            res[name] = r
            print(f"mode 13h redraw ({accel}): {name} guest {fmt(r and r[0])} frames/s, "
                  f"VNC client {fmt(r and r[1])} changed frames/s, CPU {fmt(r and r[2], '.0f')} %")
        m, q = res["minus1"], res["qemu"]
        print(f"mode 13h redraw ({accel_m1}/{accel_q}) ratios minus1/qemu: guest frames "
              f"{ratio(m and m[0], q and q[0])}, VNC frames {ratio(m and m[1], q and q[1])}")
        res = {}
        for name, accel in (("minus1", accel_m1), ("qemu", accel_q)):
            r = best_of(text_once, lambda rs: min(rs, key=lambda x: x[0]),
                        name, img_t, serial, accel)
            res[name] = r
            print(f"text echo key->VNC frame ({accel}): {name} median {fmt(r and r[0])} ms, "
                  f"p90 {fmt(r and r[1])} ms; idle text screen with a client: "
                  f"CPU {fmt(r and r[2])} %")
        m, q = res["minus1"], res["qemu"]
        print(f"text echo ({accel_m1}/{accel_q}) ratios minus1/qemu: latency "
              f"{ratio(m and m[0], q and q[0])}, idle CPU {ratio(m and m[2], q and q[2])}")
