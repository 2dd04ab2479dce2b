"""Foundation figures: SeaBIOS boot time, VMM memory, port-I/O exit cost."""
import os

from benchlib import *


def bench_boot(work):
    serial = os.path.join(work, "boot.log")
    marker = b"No bootable device"
    m1 = [time_to_marker(m1_cmd(serial), serial, marker) for _ in range(RUNS)]
    qm = [time_to_marker(qemu_cmd(serial), serial, marker) for _ in range(RUNS)]
    tm, tq = best([t for t, _ in m1]), best([t for t, _ in qm])
    rm, rq = best([r for t, r in m1 if t]), best([r for t, r in qm if t])
    print(f"boot to 'No bootable device' (kvm): minus1 {tm and f'{tm:.2f}'} s, "
          f"qemu {tq and f'{tq:.2f}'} s, ratio minus1/qemu {ratio(tm, tq)}")
    print(f"RSS with a 256 MiB guest at that point: minus1 {rm} KiB, qemu {rq} KiB, "
          f"ratio {ratio(rm, rq)} (target < 0.50x)")


def bench_pio(work):
    iters = 20000
    g_io = build_guest("pio_loop", f"ITER={iters}")
    g_no = build_guest("pio_loop", f"ITER={iters}", "NO_IO")
    serial = os.path.join(work, "pio.log")
    res = {}
    for name, mk in (("minus1", m1_cmd), ("qemu", qemu_cmd)):
        with_io = best([time_to_exit(mk(serial, bios=g_io))[0] for _ in range(RUNS)])
        without = best([time_to_exit(mk(serial, bios=g_no))[0] for _ in range(RUNS)])
        res[name] = max(with_io - without, 0) / iters * 1e6
        print(f"port-I/O exit round trip: {name} {res[name]:.2f} us "
              f"({iters} OUTs: {with_io:.2f} s with, {without:.2f} s without)")
    print(f"port-I/O exit cost ratio minus1/qemu {ratio(res['minus1'], res['qemu'])} "
          f"(target <= 1.00x)")




def run(work):
    bench_boot(work)
    bench_pio(work)
