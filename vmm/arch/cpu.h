/* Execution backends behind one interface.  The machine owns one vCPU and
 * one backend (KVM today, the emulator next); the backend runs guest code
 * on the vCPU thread and calls back into the machine for port I/O, MMIO,
 * interrupts and halts (see machine.h, "backend side"). */
#ifndef MINUS1_CPU_H
#define MINUS1_CPU_H

#include <stdbool.h>
#include <stddef.h>

#include "x86.h"

struct machine;

struct cpu_backend {
    const char *name;
    /* Creates the VM/vCPU and subscribes to the memory map.  On failure a
     * one-line reason is written to err. */
    int (*create)(struct machine *m, char *err, size_t errlen);
    void (*destroy)(struct machine *m);
    /* Runs guest code on the calling thread until the machine asks to stop
     * or reset (machine_should_leave_run()).  Returns 0, or -1 on a fatal
     * error (already reported). */
    int (*run)(struct machine *m);
    /* Any thread: make run() look at pending interrupts/requests soon. */
    void (*kick)(struct machine *m);
    /* vCPU thread only (inside run, or while it is not running). */
    int (*get_state)(struct machine *m, struct x86_state *s);
    int (*set_state)(struct machine *m, const struct x86_state *s);
    /* Power-on/INIT: state s plus clearing pending events, FPU, etc. */
    int (*reset)(struct machine *m, const struct x86_state *s);
    /* Text for `info accel`. */
    size_t (*info)(struct machine *m, char *buf, size_t len);
    /* Optional (NULL: not supported).  Any thread, machine lock held:
     * fills bitmap with the pages of memory slot slot_id (struct
     * mem_slot.id, a slot with dirty_log set) written since the previous
     * call, one bit per 4 KiB page (page i = bit i % 64 of word i / 64;
     * the caller provides (size / 4096 + 63) / 64 words) and restarts the
     * log.  Returns 0, or -1 (unknown slot, no logging: treat all dirty). */
    int (*get_dirty_log)(struct machine *m, int slot_id, uint64_t *bitmap);
};

extern const struct cpu_backend kvm_backend;
extern const struct cpu_backend emu_backend;   /* vmm/arch/emu.c */

#endif
