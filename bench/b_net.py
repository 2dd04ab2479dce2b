"""Network figures: frames per second a test guest transmits through
ne2k-pci + user networking (minus1 against QEMU, minus1 with and without
--pcap), and the rate of a TCP echo through a host port forward (the guest
receives every byte and sends it back)."""
import os, resource, socket, subprocess, threading, time

from benchlib import *

FRAMES = 100 if RUNS == 1 else 300
FRAME_LEN = 1024
ECHO_BYTES = 16384


def free_port(kind=socket.SOCK_STREAM):
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class UdpSink:
    """Counts the datagrams the guest's frames become on the host side."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.count = 0
        self.stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop:
            try:
                self.sock.recv(65536)
                self.count += 1
            except socket.timeout:
                pass

    def take(self):
        """Datagrams since the last call (waits for stragglers first)."""
        time.sleep(0.3)
        n, self.count = self.count, 0
        return n

    def close(self):
        self.stop = True
        self.thread.join()
        self.sock.close()


def m1_net(serial, bios, pcap=None, fwd=None):
    net = "user" + (f",hostfwd=tcp::{fwd}-:7" if fwd else "")
    cmd = m1_cmd(serial, bios=bios) + ["--nic", "ne2k-pci", "--net", net]
    return cmd + (["--pcap", pcap] if pcap else [])


def qemu_net(serial, bios, fwd=None):
    net = "user,id=n0" + (f",hostfwd=tcp:127.0.0.1:{fwd}-:7" if fwd else "")
    return qemu_cmd(serial, bios=bios) + ["-netdev", net, "-device", "ne2k_pci,netdev=n0"]


def run_timed(cmd, limit=300.0):
    """Wall seconds, CPU seconds (user + system, all threads: the
    children's rusage grows by the run's once it is reaped) and the exit
    status of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    try:
        p.wait(limit)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, p.returncode


def bench_tx(work):
    """The rounds interleave the configurations, so that load from other
    work on the host hits them alike; best of RUNS for each."""
    sink = UdpSink()
    serial = os.path.join(work, "tx.log")
    pcap = os.path.join(work, "tx.pcap")
    configs = (("minus1", lambda g: m1_net(serial, g)),
               ("minus1+pcap", lambda g: m1_net(serial, g, pcap=pcap)),
               ("qemu", lambda g: qemu_net(serial, g)))
    try:
        for width, defs in ((16, ()), (32, ("NE_DWORD_IO",))):
            common = (f"ITER={FRAMES}", f"LEN={FRAME_LEN}", f"DPORT={sink.port}", *defs)
            g_tx = build_guest("ne2k_tx", *common)
            g_base = build_guest("ne2k_tx", *common, "NO_TX")
            res = {name: {"w": [], "c": [], "bw": [], "bc": [], "got": []} for name, _ in configs}
            for _ in range(RUNS):
                for name, mk in configs:
                    r = res[name]
                    w, c, _ = run_timed(mk(g_base))
                    r["bw"].append(w)
                    r["bc"].append(c)
                    sink.take()
                    w, c, rc = run_timed(mk(g_tx))
                    r["w"].append(w if rc == 33 else None)
                    r["c"].append(c if rc == 33 else None)
                    r["got"].append(sink.take())
            fps, cpu = {}, {}
            for name, _ in configs:
                r = res[name]
                t, b, tc, bc = best(r["w"]), best(r["bw"]), best(r["c"]), best(r["bc"])
                fps[name] = FRAMES / max(t - b, 1e-6) if t and b is not None else None
                cpu[name] = max(tc - bc, 0) / FRAMES * 1e6 if tc is not None and bc is not None else None
                print(f"tx {FRAME_LEN}-byte UDP frames, {width}-bit data port: {name} "
                      f"{fps[name] and f'{fps[name]:.0f}'} frames/s, "
                      f"{cpu[name] and f'{cpu[name]:.0f}'} us CPU/frame ({FRAMES} frames in "
                      f"{t and f'{t:.2f}'} s, baseline {b and f'{b:.2f}'} s; the host got "
                      f"{min(r['got'])}/{FRAMES} at worst)")
            m, p, q = fps["minus1"], fps["minus1+pcap"], fps["qemu"]
            print(f"tx rate ({width}-bit) ratio minus1/qemu {ratio(m, q)} (target >= 1.00x); "
                  f"CPU per frame minus1/qemu {ratio(cpu['minus1'], cpu['qemu'])}")
            cost = f"{(1 - p / m) * 100:.1f}%" if m and p else "n/a"
            ccost = (f"{(cpu['minus1+pcap'] / cpu['minus1'] - 1) * 100:.1f}%"
                     if cpu["minus1"] and cpu["minus1+pcap"] else "n/a")
            print(f"tx rate ({width}-bit) cost of --pcap: {cost} of the frame rate, {ccost} more CPU "
                  f"per frame (target < 10%)")
    finally:
        sink.close()


def echo_once(cmd, serial, port, limit=60.0):
    """Bytes per second of the guest's echo, or None."""
    if os.path.exists(serial):
        os.unlink(serial)
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    rate = None
    try:
        t0 = time.monotonic()
        while time.monotonic() - t0 < 20 and p.poll() is None:
            try:
                with open(serial, "rb") as f:
                    if b"listening" in f.read():
                        break
            except OSError:
                pass
            time.sleep(0.01)
        s = socket.create_connection(("127.0.0.1", port), timeout=limit)
        data = bytes(i & 0xFF for i in range(ECHO_BYTES))
        t0 = time.monotonic()
        sender = threading.Thread(target=s.sendall, args=(data,), daemon=True)
        sender.start()
        got = bytearray()
        while len(got) < len(data):
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
        dt = time.monotonic() - t0
        sender.join(5)
        s.close()
        if bytes(got) == data:
            rate = len(data) / dt
    except OSError:
        pass
    finally:
        try:
            p.wait(10)              # the guest exits after the FIN
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    return rate


def bench_echo(work):
    guest = build_guest("ne2k_echo")
    serial = os.path.join(work, "echo.log")
    res = {}
    for name, mk in (("minus1", lambda port: m1_net(serial, guest, fwd=port)),
                     ("qemu", lambda port: qemu_net(serial, guest, fwd=port))):
        rates = []
        for _ in range(RUNS):
            port = free_port()
            rates.append(echo_once(mk(port), serial, port))
        rates = [r for r in rates if r]
        res[name] = max(rates) if rates else None
        print(f"tcp echo through hostfwd ({ECHO_BYTES} bytes each way, 32-bit data port): {name} "
              f"{res[name] and f'{res[name] / 1024:.1f}'} KiB/s")
    print(f"tcp echo rate ratio minus1/qemu {ratio(res['minus1'], res['qemu'])} (target >= 1.00x)")


def run(work):
    bench_tx(work)
    bench_echo(work)
