/* Assembles the PC: memory map, buses, chipset, devices and the vCPU
 * backend, wires interrupts, and runs it.  This is the only file in the
 * core that names devices. */
#include "machine.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../firmware/acpi_tables.h"
#include "../firmware/firmware.h"
#include "../firmware/linux_boot.h"
#include "arch/probe.h"
#include "devices/fw_cfg.h"
#include "devices/i440fx.h"
#include "devices/i8042.h"
#include "devices/pic.h"
#include "devices/piix3.h"
#include "devices/piix4_pm.h"
#include "devices/pit.h"
#include "devices/rtc.h"
#include "devices/sysctl.h"
#include "sandbox.h"
#include "trace_io.h"
#include "devices/uart.h"
#include "block/block.h"
#include "devices/ide/ide.h"
#include "devices/ne2k/ne2k.h"
#include "devices/vga/vga.h"
#include "ui/display.h"
#include "ui/vnc.h"
#include "net/net.h"

#define COM1_BASE 0x3F8
#define COM1_IRQ 4

static void lock(struct machine *m) { pthread_mutex_lock(&m->lock); }
static void unlock(struct machine *m) { pthread_mutex_unlock(&m->lock); }

/* ---- requests ---- */

static void wake_vcpu(struct machine *m)
{
    lock(m);
    pthread_cond_broadcast(&m->cond);
    unlock(m);
    if (m->backend && m->backend_priv)
        m->backend->kick(m);
}

void machine_request_reset(struct machine *m)
{
    int none = REQ_NONE;
    atomic_compare_exchange_strong(&m->request, &none, REQ_RESET);
    wake_vcpu(m);
}

void machine_request_exit(struct machine *m, int status)
{
    lock(m);
    if (atomic_load(&m->request) != REQ_EXIT)
        m->exit_status = status;
    atomic_store(&m->request, REQ_EXIT);
    unlock(m);
    wake_vcpu(m);
}

bool machine_should_leave_run(struct machine *m)
{
    return atomic_load(&m->request) != REQ_NONE;
}

/* ---- backend side ---- */

/* One or `count` consecutive accesses (string I/O: KVM hands over a whole
 * REP INS/OUTS batch), under one acquisition of the lock. */
void machine_pio_string(struct machine *m, uint16_t port, unsigned size, uint32_t count,
                        bool is_write, void *data)
{
    uint8_t *p = data;
    size = size > 4 ? 4 : size;
    lock(m);
    for (uint32_t i = 0; i < count; i++, p += size) {
        uint32_t v = 0;
        if (is_write) {
            memcpy(&v, p, size);
            iobus_write(&m->pio, port, size, v);
        } else {
            v = (uint32_t)iobus_read(&m->pio, port, size);
            memcpy(p, &v, size);
        }
    }
    unlock(m);
}

void machine_pio(struct machine *m, uint16_t port, unsigned size, bool is_write, void *data)
{
    machine_pio_string(m, port, size, 1, is_write, data);
}

void machine_mmio(struct machine *m, uint64_t addr, unsigned size, bool is_write, void *data)
{
    if (size == 0 || size > 8)
        return;
    lock(m);
    if (is_write) {
        /* Writes to ROM and to PAM read-only shadow RAM are dropped, as the
         * chipset does; they are normal firmware behaviour, not errors. */
        if (!mem_lookup(&m->mem, addr)) {
            uint64_t v = 0;
            memcpy(&v, data, size);
            iobus_write(&m->mmio, addr, size, v);
        }
    } else {
        uint64_t v = iobus_read(&m->mmio, addr, size);
        memcpy(data, &v, size);
    }
    unlock(m);
}

bool machine_intr_pending(struct machine *m)
{
    return atomic_load(&m->intr_line);
}

int machine_ack_interrupt(struct machine *m)
{
    lock(m);
    int vec = pic_acknowledge(m->pic);
    unlock(m);
    return vec;
}

void machine_vcpu_poll(struct machine *m)
{
    if (!atomic_load(&m->state_wanted))
        return;
    struct x86_state s;
    int rc = m->backend->get_state(m, &s);
    lock(m);
    if (rc == 0)
        m->snapshot = s;
    m->state_ready = true;
    atomic_store(&m->state_wanted, false);
    pthread_cond_broadcast(&m->cond);
    unlock(m);
}

void machine_halt_wait(struct machine *m, bool if_set)
{
    lock(m);
    while (atomic_load(&m->request) == REQ_NONE && !(if_set && atomic_load(&m->intr_line))) {
        if (atomic_load(&m->state_wanted)) {
            unlock(m);
            machine_vcpu_poll(m);
            lock(m);
            continue;
        }
        pthread_cond_wait(&m->cond, &m->lock);
    }
    unlock(m);
}

/* The PIC's INTR output changed (lock held by whoever raised the IRQ). */
static void intr_changed(void *opaque, int level)
{
    struct machine *m = opaque;
    atomic_store(&m->intr_line, level != 0);
    if (level) {
        pthread_cond_broadcast(&m->cond);
        if (m->backend && m->backend_priv)
            m->backend->kick(m);
    }
}

/* ---- hooks for chipset devices ---- */

static void hook_reset(void *opaque) { machine_request_reset(opaque); }

static void hook_a20(void *opaque, bool enabled)
{
    struct machine *m = opaque;
    /* KVM cannot mask A20; the emulator backend reads m->a20. */
    m->a20 = enabled;
}

static void hook_exit(void *opaque, int status) { machine_request_exit(opaque, status); }

static void hook_quit(void *opaque) { machine_request_exit(opaque, 0); }

/* ACPI S5: the machine is off; minus1 ends with status 0. */
static void hook_poweroff(void *opaque) { machine_request_exit(opaque, 0); }

/* Source n (0 = SCI, 1 = ISA NIC) of the wired-OR ISA IRQ 9. */
static void irq9_or(void *opaque, int n, int level)
{
    struct machine *m = opaque;
    unsigned bit = 1u << (n & 7);
    m->irq9_sources = level ? (m->irq9_sources | bit) : (m->irq9_sources & ~bit);
    pic_set_irq(m->pic, 9, m->irq9_sources != 0);
}

static struct irq irq9_source(struct machine *m, int n)
{
    return (struct irq){ irq9_or, m, n };
}

/* ---- loop callbacks ---- */

static void on_signal(void *opaque, uint32_t events)
{
    struct machine *m = opaque;
    struct signalfd_siginfo si;
    (void)events;
    while (read(m->signal_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        log_info(&m->log, "terminating on signal %u", si.ssi_signo);
        machine_request_exit(m, 0);
    }
}

/* The serial chardev pauses reading when the UART is full (pipes and
 * files): stop polling then, or a readable stdin would spin the loop. */
static void serial_watch(void *opaque, bool want)
{
    struct machine *m = opaque;
    if (m->serial.in_fd >= 0)
        loop_mod_fd(&m->loop, m->serial.in_fd, want ? EPOLLIN : 0);
}

static void on_serial_input(void *opaque, uint32_t events)
{
    struct machine *m = opaque;
    (void)events;
    int fd = m->serial.in_fd;
    chardev_read_ready(&m->serial);
    if (m->serial.in_fd < 0)         /* EOF: stop watching */
        loop_del_fd(&m->loop, fd);
}

/* ---- construction ---- */

static int load_bios(struct machine *m, const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        snprintf(err, errlen, "cannot read BIOS '%s': %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    uint64_t size = (uint64_t)st.st_size;
    if (size < 64 * KiB || size > 16 * MiB || size % (64 * KiB)) {
        snprintf(err, errlen, "BIOS '%s' is %llu bytes: it must be a multiple of 64 KiB "
                 "between 64 KiB and 16 MiB", path, (unsigned long long)size);
        close(fd);
        return -1;
    }
    /* A private copy: the guest can never write through to the file, and
     * if KVM lacks read-only slots only this copy is at stake. */
    /* Page-aligned, as KVM memory slots require. */
    void *buf = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    m->bios = buf == MAP_FAILED ? NULL : buf;
    if (!m->bios) {
        snprintf(err, errlen, "out of memory loading BIOS");
        close(fd);
        return -1;
    }
    uint64_t done = 0;
    while (done < size) {
        ssize_t n = read(fd, m->bios + done, size - done);
        if (n <= 0) {
            snprintf(err, errlen, "cannot read BIOS '%s': %s", path,
                     n < 0 ? strerror(errno) : "file shrank while reading");
            close(fd);
            return -1;
        }
        done += (uint64_t)n;
    }
    close(fd);
    m->bios_size = size;
    return 0;
}

/* Opens a chardev and names the option in any error. */
static int open_chardev(struct machine *m, struct chardev *c, const char *flag, const char *spec,
                        char *err, size_t errlen)
{
    char why[400];
    if (chardev_open(c, spec, &m->log, why, sizeof(why)) == 0)
        return 0;
    snprintf(err, errlen, "%s: %s", flag, why);
    return -1;
}

static int open_chardevs(struct machine *m, char *err, size_t errlen)
{
    const char *serial = m->cfg.serial ? m->cfg.serial : "stdio";
    if (open_chardev(m, &m->serial, "--serial", serial, err, errlen) < 0)
        return -1;
    if (m->cfg.debugcon) {
        if (open_chardev(m, &m->debugcon, "--debugcon", m->cfg.debugcon, err, errlen) < 0)
            return -1;
        m->debugcon_open = true;
    }
    return 0;
}

static void create_isa_devices(struct machine *m)
{
    struct irq isa[16];
    for (int i = 0; i < 16; i++)
        isa[i] = pic_irq_line(m->pic, i);
    m->pit = pit_create(&m->pio, &m->clock, isa[0], &m->log);
    m->rtc = rtc_create(&m->pio, &m->clock, isa[8], time(NULL), &m->log);
    m->uart = uart_create(&m->pio, COM1_BASE, isa[COM1_IRQ], &m->clock, &m->serial, &m->log);
    chardev_set_handlers(&m->serial, uart_can_receive, uart_receive, m->uart);
    chardev_set_quit_handler(&m->serial, hook_quit, m);
    struct i8042_hooks kh = { hook_reset, hook_a20, m };
    m->kbc = i8042_create(&m->pio, isa[1], isa[12], &kh, &m->log);
    struct sysctl_hooks sh = { hook_reset, hook_a20, hook_exit, m };
    m->sysctl = sysctl_create(&m->pio, &sh, m->debugcon_open ? &m->debugcon : NULL, &m->log);
    struct piix3_hooks ph = { hook_reset, m };
    pci_bus_init(&m->pci, &m->pio, &m->mmio, &m->mem, &m->log);
    m->i440fx = i440fx_create(&m->pci, &m->mem);
    m->piix3 = piix3_create(&m->pci, isa, &ph, &m->log);
    struct piix4_pm_hooks pmh = { hook_poweroff, m };
    m->pm = piix4_pm_create(&m->pci, PIIX4_PM_DEVFN, irq9_source(m, 0), &m->clock, &pmh,
                            &m->log);
}

/* The VGA's source of "which framebuffer pages did the guest write" (KVM's
 * dirty log); backends without one make the VGA compare scanlines. */
static int vga_dirty_log(void *opaque, int slot_id, uint64_t *bitmap)
{
    struct machine *m = opaque;
    if (!m->backend || !m->backend->get_dirty_log)
        return -1;
    return m->backend->get_dirty_log(m, slot_id, bitmap);
}

/* The VGA adapter is always there, as on a PC (screendump and vga-text
 * work without a VNC client); VNC only when asked for. */
static int create_display(struct machine *m, char *err, size_t errlen)
{
    m->vga = vga_create(&m->pci, &m->pio, &m->mmio, VGA_DEFAULT_BIOS, &m->log, err, errlen);
    if (!m->vga)
        return -1;
    vga_set_clock(m->vga, &m->clock);
    vga_set_dirty_source(m->vga, vga_dirty_log, m);
    if (m->cfg.display == DISPLAY_VNC) {
        m->vnc = vnc_create(&m->loop, m->vga, m->kbc, m->cfg.vnc_listen, m->cfg.vnc_display,
                            m->cfg.vnc_password, &m->log, err, errlen);
        if (!m->vnc)
            return -1;
    }
    return 0;
}

/* IDE positions for --disk in order (QEMU's -hda..-hdd), the CD-ROM
 * taking the secondary master. */
static const int disk_slots[4][2] = { { 0, 0 }, { 0, 1 }, { 1, 1 }, { 1, 0 } };

static int attach_drive(struct machine *m, int ch, int unit, enum ide_kind kind,
                        const char *path, bool readonly, const char *flag, char *err,
                        size_t errlen)
{
    struct block_backend *bb = NULL;
    if (path) {
        char why[400];
        unsigned flags = (readonly ? BLOCK_RDONLY : 0) | (kind == IDE_CDROM ? BLOCK_CDROM : 0);
        bb = block_open_raw(path, flags, why, sizeof(why));
        if (!bb) {
            snprintf(err, errlen, "%s: %s", flag, why);
            return -1;
        }
    }
    if (ide_attach(m->ide, ch, unit, kind, bb) < 0) {
        snprintf(err, errlen, "%s: cannot attach the drive", flag);
        if (bb)
            block_close(bb);
        return -1;
    }
    return 0;
}

static int create_storage(struct machine *m, char *err, size_t errlen)
{
    m->ide = ide_create(&m->pci, &m->pio, &m->mem, &m->aio, pic_irq_line(m->pic, 14),
                        pic_irq_line(m->pic, 15), &m->log);
    if (!m->ide) {
        snprintf(err, errlen, "cannot create the IDE controller");
        return -1;
    }
    unsigned used = 0;
    for (unsigned i = 0; i < m->cfg.ndisks; i++) {
        /* Skip the secondary master when a CD-ROM wants it. */
        if (m->cfg.cdrom && disk_slots[used][0] == 1 && disk_slots[used][1] == 0)
            used++;
        const struct disk_config *d = &m->cfg.disks[i];
        if (attach_drive(m, disk_slots[used][0], disk_slots[used][1], IDE_DISK, d->path,
                         d->readonly, "--disk", err, errlen) < 0)
            return -1;
        used++;
    }
    /* A CD-ROM drive is there even without a disc, as on a PC (and QEMU),
     * so `change cdrom PATH` works later. */
    if (ide_drive_kind(m->ide, 1, 0) == IDE_NONE)
        return attach_drive(m, 1, 0, IDE_CDROM, m->cfg.cdrom, true, "--cdrom", err, errlen);
    return 0;
}

/* What SeaBIOS must know of the drives: boot paths and disk geometry. */
static void describe_drives(struct machine *m, struct firmware_opts *fo)
{
    for (int ch = 0; ch < 2; ch++) {
        for (int unit = 0; unit < 2; unit++) {
            enum ide_kind kind = ide_drive_kind(m->ide, ch, unit);
            if (kind == IDE_NONE || fo->n_ide == FW_MAX_IDE_DRIVES)
                continue;
            struct fw_ide_drive *d = &fo->ide[fo->n_ide++];
            memset(d, 0, sizeof(*d));
            d->channel = (uint8_t)ch;
            d->unit = (uint8_t)unit;
            d->cdrom = kind == IDE_CDROM;
            if (!d->cdrom && ide_disk_geometry(m->ide, ch, unit, &d->cylinders, &d->heads,
                                               &d->sectors) == 0)
                d->translation = firmware_ata_auto_translation(d->cylinders, d->heads,
                                                               d->sectors);
        }
    }
}

/* The NIC, its frame port, the backend and the capture. */
static int create_network(struct machine *m, char *err, size_t errlen)
{
    if (m->cfg.nic == NIC_NONE)
        return 0;
    m->net = net_port_create(&m->log);
    if (!m->net) {
        snprintf(err, errlen, "out of memory creating the network port");
        return -1;
    }
    if (m->cfg.pcap && net_pcap_start(m->net, m->cfg.pcap, err, errlen) < 0)
        return -1;
    if (m->cfg.net == NET_USER) {
        struct net_user_opts uo = { m->cfg.hostfwd, m->cfg.nhostfwd, false };
        if (net_user_create(m->net, &m->loop, &m->clock, &uo, err, errlen) < 0)
            return -1;
    } else if (m->cfg.net == NET_TAP &&
               net_tap_create(m->net, &m->loop, m->cfg.tap_ifname, err, errlen) < 0) {
        return -1;
    }
    const uint8_t *mac = m->cfg.mac_set ? m->cfg.mac : NULL;
    if (m->cfg.nic == NIC_NE2K_PCI)
        m->nic = ne2k_create_pci(&m->pci, m->net, mac, &m->log);
    else
        m->nic = ne2k_create_isa(&m->pio, NE2K_ISA_DEFAULT_BASE,
                                 NE2K_ISA_DEFAULT_IRQ == 9 ? irq9_source(m, 1)
                                                           : pic_irq_line(m->pic,
                                                                          NE2K_ISA_DEFAULT_IRQ),
                                 m->net, mac, &m->log);
    if (!m->nic) {
        snprintf(err, errlen, "--nic: cannot create the NE2000");
        return -1;
    }
    return 0;
}

/* KVM's real-mode TSS and identity-map pages (see vmm/arch/kvm.c): the
 * e820 map says so both to SeaBIOS and to a directly booted kernel. */
static const struct fw_e820_range kvm_reserved[] = { { 0xfffbc000ull, 0x4000 } };
#define N_KVM_RESERVED (sizeof(kvm_reserved) / sizeof(kvm_reserved[0]))

/* --kernel: loads the kernel, initrd and command line into RAM and gives
 * the 32-bit entry state (SeaBIOS is not run). */
static int prepare_linux(struct machine *m, struct x86_state *s, char *err, size_t errlen)
{
    return linux_boot_prepare(&m->mem, m->cfg.kernel, m->cfg.initrd, m->cfg.append,
                              kvm_reserved, N_KVM_RESERVED, s, err, errlen);
}

static int setup_firmware(struct machine *m, char *err, size_t errlen)
{
    m->fw_cfg = fw_cfg_create(&m->pio, &m->mem, &m->log);
    if (!m->fw_cfg) {
        snprintf(err, errlen, "cannot create fw_cfg");
        return -1;
    }
    struct firmware_opts fo;
    memset(&fo, 0, sizeof(fo));
    fo.ncpus = 1;
    fo.nographic = m->cfg.display == DISPLAY_NONE;
    fo.irq0_override = false;   /* no IOAPIC: IRQ0 is PIC input 0 */
    fo.ide_pci_slot = 1;
    fo.ide_pci_fn = 1;
    memcpy(fo.reserved, kvm_reserved, sizeof(kvm_reserved));
    fo.n_reserved = N_KVM_RESERVED;
    describe_drives(m, &fo);
    fo.boot_device = m->cfg.boot == BOOT_CD     ? FW_BOOT_CD
                     : m->cfg.boot == BOOT_DISK ? FW_BOOT_DISK
                                                : FW_BOOT_DEFAULT;
    fo.sercon_port = COM1_BASE;
    if (firmware_setup_fw_cfg(m->fw_cfg, &m->mem, &fo) < 0) {
        snprintf(err, errlen, "cannot build the firmware configuration");
        return -1;
    }
    firmware_setup_cmos(m->rtc, &m->mem, &fo);
    struct acpi_board ab;
    acpi_board_default(&ab, ACPI_PM_BASE_DEFAULT);
    if (!m->pm || firmware_setup_acpi(m->fw_cfg, &ab) < 0) {
        snprintf(err, errlen, "cannot build the ACPI tables");
        return -1;
    }
    return 0;
}

static int setup_signals(struct machine *m, char *err, size_t errlen)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    /* Blocked in every thread (threads inherit the mask); read via signalfd. */
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    m->signal_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (m->signal_fd < 0 || loop_add_fd(&m->loop, m->signal_fd, EPOLLIN, on_signal, m) < 0) {
        snprintf(err, errlen, "cannot set up signal handling: %s", strerror(errno));
        return -1;
    }
    return 0;
}

/* --accel auto: KVM only where it runs guest kernel code in hardware;
 * elsewhere (no /dev/kvm, or a KVM that interprets CPL0 code, as on our
 * hosts) minus1's emulator is the faster path.  Said once on stderr. */
static const struct cpu_backend *pick_auto(struct machine *m)
{
    struct kvm_probe_result *p = &m->probe;
    kvm_probe(p);
    m->probed = true;
    const struct cpu_backend *b = p->kvm_available && p->native ? &kvm_backend : &emu_backend;
    if (!p->kvm_available)
        snprintf(m->accel_reason, sizeof(m->accel_reason), "KVM unavailable (%s)", p->reason);
    else
        snprintf(m->accel_reason, sizeof(m->accel_reason),
                 "KVM ran a %llu-iteration kernel-mode loop in %.3f ms (%s)",
                 (unsigned long long)p->iterations, p->seconds * 1e3,
                 p->native ? "hardware speed" : "interpreted by the host");
    fprintf(stderr, "minus1: --accel auto: %s: using %s\n", m->accel_reason,
            b == &kvm_backend ? "kvm" : "the emulator");
    return b;
}

static const struct cpu_backend *pick_backend(struct machine *m)
{
    switch (m->cfg.accel) {
    case ACCEL_EMU:
        return &emu_backend;
    case ACCEL_KVM:
        return &kvm_backend;
    case ACCEL_AUTO:
    default:
        return pick_auto(m);
    }
}

void machine_monitor_commands(struct machine *m);

static int machine_init_locked(struct machine *m, char *err, size_t errlen)
{
    const char *bios = m->cfg.bios ? m->cfg.bios : "/usr/share/seabios/bios-256k.bin";
    if (load_bios(m, bios, err, errlen) < 0)
        return -1;
    if (mem_init(&m->mem, m->cfg.ram_size, m->bios, m->bios_size) < 0) {
        snprintf(err, errlen, "cannot allocate %llu MiB of guest RAM: %s",
                 (unsigned long long)(m->cfg.ram_size >> 20), strerror(errno));
        return -1;
    }
    iobus_init(&m->pio, "pio", &m->log);
    iobus_init(&m->mmio, "mmio", &m->log);
    if (m->cfg.trace_io) {
        m->trace_io = trace_io_open(m->cfg.trace_io, &m->clock, err, errlen);
        if (!m->trace_io)
            return -1;
        iobus_set_trace(&m->pio, trace_io_bus_hook, m->trace_io, false);
        iobus_set_trace(&m->mmio, trace_io_bus_hook, m->trace_io, true);
    }
    if (loop_init(&m->loop, &m->lock, &m->clock) < 0) {
        snprintf(err, errlen, "cannot create the event loop: %s", strerror(errno));
        return -1;
    }
    m->loop_ready = true;
    /* Before the first thread starts: threads inherit the blocked mask, and
     * a SIGTERM taken by an I/O worker would kill minus1 instead of ending
     * it through the loop (exit 0, files flushed). */
    if (setup_signals(m, err, errlen) < 0)
        return -1;
    if (aio_init(&m->aio, &m->loop, 2) < 0) {
        snprintf(err, errlen, "cannot start I/O workers: %s", strerror(errno));
        return -1;
    }
    m->aio_ready = true;
    if (open_chardevs(m, err, errlen) < 0)
        return -1;
    m->pic = pic_create(&m->pio, &m->log);
    pic_set_intr_callback(m->pic, intr_changed, m);
    create_isa_devices(m);
    if (create_storage(m, err, errlen) < 0 || create_display(m, err, errlen) < 0 ||
        create_network(m, err, errlen) < 0 ||
        setup_firmware(m, err, errlen) < 0)
        return -1;
    /* A bad --kernel/--initrd/--append is a usage error (exit 2): find out
     * now rather than at the first reset. */
    struct x86_state entry;
    if (m->cfg.kernel && prepare_linux(m, &entry, err, errlen) < 0)
        return -1;
    /* stdin may be something epoll refuses (a regular file, /dev/null):
     * then there is simply no serial input. */
    if (m->serial.in_fd >= 0 &&
        loop_add_fd(&m->loop, m->serial.in_fd, EPOLLIN, on_serial_input, m) == 0)
        chardev_set_watch(&m->serial, serial_watch, m);
    if (m->cfg.monitor) {
        m->monitor = monitor_create(&m->loop, m->cfg.monitor, &m->log, err, errlen);
        if (!m->monitor)
            return -1;
        machine_monitor_commands(m);
        ide_register_monitor(m->ide, m->monitor);
        m->vga_mon = vga_monitor_register(m->monitor, m->vga, m->kbc);
        if (m->net)
            net_register_monitor(m->monitor, m->net);
    }
    m->backend = pick_backend(m);
    if (m->backend->create(m, err, errlen) < 0)
        return -1;
    return 0;
}

int machine_create(struct machine *m, const struct vm_config *cfg, char *err, size_t errlen)
{
    memset(m, 0, sizeof(*m));
    m->cfg = *cfg;
    logger_init(&m->log);
    m->log.level = cfg->log_level;
    m->signal_fd = -1;
    m->serial.in_fd = m->serial.out_fd = -1;
    m->a20 = true;
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    /* Recursive: request helpers lock too, and are called both from device
     * handlers (lock held) and from elsewhere. */
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&m->lock, &attr);
    pthread_mutexattr_destroy(&attr);
    pthread_cond_init(&m->cond, NULL);
    vclock_init(&m->clock);
    lock(m);
    int rc = machine_init_locked(m, err, errlen);
    unlock(m);
    return rc;
}

/* Power-on state for everything: devices, chipset mapping, CPU. */
static int machine_reset_all(struct machine *m)
{
    lock(m);
    mem_reset(&m->mem);
    pci_bus_reset(&m->pci);
    i440fx_reset(m->i440fx);
    piix3_reset(m->piix3);
    piix4_pm_reset(m->pm);
    pic_reset(m->pic);
    pit_reset(m->pit);
    rtc_reset(m->rtc);
    uart_reset(m->uart);
    i8042_reset(m->kbc);
    sysctl_reset(m->sysctl);
    fw_cfg_reset(m->fw_cfg);
    if (m->nic)
        ne2k_reset(m->nic);
    ide_reset(m->ide);
    vga_reset(m->vga);
    m->a20 = true;
    atomic_store(&m->intr_line, pic_intr_pending(m->pic));
    unlock(m);
    struct x86_state s;
    x86_reset_state(&s);
    /* Every reset reloads the kernel: the guest may have overwritten it. */
    char err[512];
    if (m->cfg.kernel && prepare_linux(m, &s, err, sizeof(err)) < 0) {
        log_error(&m->log, "%s", err);
        return -1;
    }
    return m->backend->reset(m, &s);
}

int machine_run(struct machine *m)
{
    if (machine_reset_all(m) < 0) {
        log_error(&m->log, "cannot set the initial CPU state");
        return 1;
    }
    if (loop_start(&m->loop) < 0) {
        log_error(&m->log, "cannot start the event loop");
        return 1;
    }
    /* Every thread, file and socket exists now: drop to the seccomp filter
     * (docs/SANDBOX.md) before the first guest instruction. */
    struct sandbox_needs needs = {
        .host_sockets = m->cfg.net == NET_USER,
        .open_files = m->cfg.monitor != NULL || m->cfg.kernel != NULL,
    };
    char why[256];
    if (sandbox_apply((enum sandbox_mode)m->cfg.sandbox, &needs, why, sizeof(why)) < 0) {
        log_error(&m->log, "--sandbox: %s", why);
        loop_stop(&m->loop);
        return 2;
    }
    int status = 0;
    for (;;) {
        if (m->backend->run(m) < 0) {
            status = 1;
            break;
        }
        int req = atomic_load(&m->request);
        if (req == REQ_EXIT) {
            status = m->exit_status;
            break;
        }
        if (req == REQ_RESET) {
            if (m->cfg.no_reboot) {
                log_info(&m->log, "guest reset with --no-reboot: exiting");
                break;
            }
            m->resets++;
            atomic_store(&m->request, REQ_NONE);
            if (machine_reset_all(m) < 0) {
                status = 1;
                break;
            }
        }
    }
    loop_stop(&m->loop);
    return status;
}

static void destroy_devices(struct machine *m)
{
    if (m->ide)
        ide_destroy(m->ide);
    if (m->vga)
        vga_destroy(m->vga);
    if (m->nic)
        ne2k_destroy(m->nic);
    if (m->net)
        net_port_destroy(m->net);
    if (m->fw_cfg)
        fw_cfg_destroy(m->fw_cfg);
    if (m->pm)
        piix4_pm_destroy(m->pm);
    if (m->piix3)
        piix3_destroy(m->piix3);
    if (m->i440fx)
        i440fx_destroy(m->i440fx);
    if (m->sysctl)
        sysctl_destroy(m->sysctl);
    if (m->kbc)
        i8042_destroy(m->kbc);
    if (m->uart)
        uart_destroy(m->uart);
    if (m->rtc)
        rtc_destroy(m->rtc);
    if (m->pit)
        pit_destroy(m->pit);
    if (m->pic)
        pic_destroy(m->pic);
}

void machine_destroy(struct machine *m)
{
    /* Devices unmap BARs while they go: the backend must not hear of it. */
    static const struct mem_listener none = { NULL, NULL, NULL };
    if (m->mem.ram)
        mem_set_listener(&m->mem, &none);
    if (m->backend && m->backend_priv)
        m->backend->destroy(m);
    if (m->vnc)
        vnc_destroy(m->vnc);
    if (m->monitor)
        monitor_destroy(m->monitor);
    if (m->vga_mon)
        vga_monitor_free(m->vga_mon);
    /* aio_destroy runs pending completions, which touch devices. */
    if (m->aio_ready)
        aio_destroy(&m->aio);
    destroy_devices(m);
    if (m->loop_ready)
        loop_destroy(&m->loop);
    chardev_close(&m->serial);
    if (m->debugcon_open)
        chardev_close(&m->debugcon);
    if (m->signal_fd >= 0)
        close(m->signal_fd);
    trace_io_close(m->trace_io);
    mem_destroy(&m->mem);
    if (m->bios)
        munmap(m->bios, m->bios_size);
}
