/* The machine: one PC, assembled from the configuration.  It owns every
 * piece of mutable state in minus1 (devices, buses, memory, loop, vCPU
 * backend), and the one lock that serialises device access. */
#ifndef MINUS1_MACHINE_H
#define MINUS1_MACHINE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "aio.h"
#include "arch/cpu.h"
#include "arch/probe.h"
#include "chardev.h"
#include "config.h"
#include "iobus.h"
#include "log.h"
#include "loop.h"
#include "memory.h"
#include "monitor.h"
#include "vclock.h"
#include "devices/pci.h"

struct pic;
struct pit;
struct rtc;
struct uart;
struct i8042;
struct sysctl;
struct fw_cfg;
struct i440fx;
struct piix3;
struct ne2k;
struct ide;
struct piix4_pm;
struct vga;
struct vnc;
struct vga_monitor;
struct net_port;

/* Why run() came back. */
enum machine_request { REQ_NONE = 0, REQ_RESET = 1, REQ_EXIT = 2 };

struct machine {
    struct vm_config cfg;
    struct logger log;
    pthread_mutex_t lock;
    pthread_cond_t cond;            /* HLT wake-ups, state snapshots */

    struct vclock clock;
    struct guest_mem mem;
    uint8_t *bios;
    uint64_t bios_size;
    struct iobus pio, mmio;
    struct trace_io *trace_io;      /* --trace-io, or NULL */
    struct loop loop;
    bool loop_ready;
    struct aio aio;
    bool aio_ready;
    struct monitor *monitor;
    struct chardev serial, debugcon;
    bool debugcon_open;
    int signal_fd;

    struct pci_bus pci;
    struct pic *pic;
    struct pit *pit;
    struct rtc *rtc;
    struct uart *uart;
    struct i8042 *kbc;
    struct sysctl *sysctl;
    struct fw_cfg *fw_cfg;
    struct i440fx *i440fx;
    struct piix3 *piix3;
    struct ide *ide;
    struct piix4_pm *pm;
    /* ISA IRQ 9 is wired-OR between the ACPI SCI and an ISA NE2000 left at
     * its default IRQ: each source keeps its own level. */
    unsigned irq9_sources;
    struct vga *vga;
    struct vnc *vnc;
    struct vga_monitor *vga_mon;
    struct net_port *net;
    struct ne2k *nic;

    const struct cpu_backend *backend;
    bool probed;                    /* --accel auto ran the KVM probe */
    struct kvm_probe_result probe;
    char accel_reason[200];
    void *backend_priv;
    pthread_t vcpu_thread;
    bool a20;

    atomic_int request;             /* enum machine_request */
    int exit_status;
    atomic_bool intr_line;          /* the PIC's INTR output */
    unsigned resets;

    /* `info registers` from the loop thread: the vCPU thread fills the
     * snapshot when asked. */
    atomic_bool state_wanted;
    bool state_ready;
    struct x86_state snapshot;
    uint64_t exits_pio, exits_mmio, exits_hlt, exits_irq_injected;
};

/* Builds the machine; on error writes a one-line message into err and
 * returns -1 (caller exits with status 2 for configuration errors). */
int machine_create(struct machine *m, const struct vm_config *cfg, char *err, size_t errlen);
/* Runs until the guest or the user ends it; returns the exit status. */
int machine_run(struct machine *m);
void machine_destroy(struct machine *m);

/* Requests from devices, monitor and signals (any thread, lock held or not). */
void machine_request_reset(struct machine *m);
void machine_request_exit(struct machine *m, int status);

/* ---- backend side: called on the vCPU thread without the lock held ---- */
/* Port I/O and MMIO dispatch (takes the lock). */
void machine_pio(struct machine *m, uint16_t port, unsigned size, bool is_write, void *data);
void machine_pio_string(struct machine *m, uint16_t port, unsigned size, uint32_t count,
                        bool is_write, void *data);
void machine_mmio(struct machine *m, uint64_t addr, unsigned size, bool is_write, void *data);
/* Is the PIC asserting INTR? */
bool machine_intr_pending(struct machine *m);
/* INTA cycle: the vector to inject (takes the lock). */
int machine_ack_interrupt(struct machine *m);
/* HLT: sleeps until INTR is asserted (if_set) or a request comes in. */
void machine_halt_wait(struct machine *m, bool if_set);
/* True when run() should return (reset or exit requested). */
bool machine_should_leave_run(struct machine *m);
/* Called at safe points by the backend to serve monitor state requests. */
void machine_vcpu_poll(struct machine *m);

#endif
