/* KVM assist: one instruction of minus1's emulator in place of KVM's.
 *
 * Flow on an emulation failure: read the vCPU state (struct x86_state via
 * the KVM backend), load it into an emu_cpu, run exactly one instruction
 * with emu_step() -- fetched through the guest's paging, RAM touched
 * directly through the memory slots, port I/O and MMIO through the
 * machine's buses, exceptions delivered the way the CPU would -- and write
 * the state back.  The emulator runs uncached here (KVM writes RAM without
 * telling us), so nothing decoded outlives the call.
 *
 * Not handled (returns -1 and the caller reports the failure as before):
 * 64-bit mode, virtual-8086 mode, and instructions our emulator lacks.
 * The x87/SSE register file is not transferred: an assisted FXSAVE would
 * store the emulator's (reset) FPU control words, not KVM's. */
#include "kvm_assist.h"

#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "../emul/emul.h"
#include "../machine.h"
#include "cpu.h"

#define EFER_LMA (1ull << 10)
#define RFLAGS_VM (1ull << 17)

struct kvm_assist {
    struct emu_cpu cpu;
    struct machine *m;
    uint64_t emulated, exceptions, refused, unimplemented_seen;
    char last[sizeof(((struct emu_cpu *)0)->unimpl_msg)];
};

static void env_pio(void *o, uint16_t port, unsigned size, bool is_write, uint32_t *val)
{
    struct kvm_assist *a = o;
    a->m->exits_pio++;
    machine_pio(a->m, port, size, is_write, val);
}

static void env_mmio(void *o, uint64_t addr, unsigned size, bool is_write, uint64_t *val)
{
    struct kvm_assist *a = o;
    a->m->exits_mmio++;
    machine_mmio(a->m, addr, size, is_write, val);
}

static void env_log(void *o, const char *msg)
{
    struct kvm_assist *a = o;
    log_warn(&a->m->log, "KVM assist: emulator lacks %s", msg);
}

static struct kvm_assist *assist_new(struct machine *m)
{
    struct kvm_assist *a = calloc(1, sizeof(*a));
    if (!a)
        return NULL;
    a->m = m;
    struct emu_env env = { .opaque = a, .pio = env_pio, .mmio = env_mmio, .log = env_log,
                           .intr_line = NULL };
    if (emu_init(&a->cpu, &m->mem, &env) < 0) {
        free(a);
        return NULL;
    }
    return a;
}

void kvm_assist_free(struct kvm_assist *a)
{
    if (!a)
        return;
    emu_fini(&a->cpu);
    free(a);
}

/* STI / MOV SS / POP SS emulated: KVM must keep interrupts blocked for
 * one more instruction, as the CPU would. */
static void set_shadow(int vcpu_fd, bool shadow)
{
    struct kvm_vcpu_events ev;
    if (ioctl(vcpu_fd, KVM_GET_VCPU_EVENTS, &ev) < 0)
        return;
    ev.interrupt.shadow = shadow ? KVM_X86_SHADOW_INT_MOV_SS : 0;
    ev.flags = KVM_VCPUEVENT_VALID_SHADOW;
    (void)ioctl(vcpu_fd, KVM_SET_VCPU_EVENTS, &ev);
}

/* Merges the emulator's 32-bit view into the full state, keeping what it
 * does not model (upper register halves, R8-R15, CR8). */
static void merge_state(struct x86_state *s, const struct x86_state *e)
{
    for (int i = 0; i < 8; i++)
        s->gpr[i] = (s->gpr[i] & ~0xFFFFFFFFull) | (e->gpr[i] & 0xFFFFFFFFull);
    s->rip = e->rip;
    s->rflags = e->rflags;
    memcpy(s->seg, e->seg, sizeof(s->seg));
    s->tr = e->tr;
    s->ldt = e->ldt;
    s->gdt = e->gdt;
    s->idt = e->idt;
    s->cr0 = e->cr0;
    s->cr2 = e->cr2;
    s->cr3 = e->cr3;
    s->cr4 = e->cr4;
    s->efer = e->efer;
}

int kvm_assist_emulation_failure(struct machine *m, int vcpu_fd, struct kvm_run *run,
                                 struct kvm_assist **ap)
{
    if (run->internal.suberror != KVM_INTERNAL_ERROR_EMULATION)
        return -1;
    if (!*ap && !(*ap = assist_new(m)))
        return -1;
    struct kvm_assist *a = *ap;
    struct x86_state s;
    if (kvm_backend.get_state(m, &s) < 0)
        return -1;
    if ((s.efer & EFER_LMA) || (s.rflags & RFLAGS_VM)) {
        a->refused++;
        return -1;
    }
    struct emu_cpu *c = &a->cpu;
    emu_set_state(c, &s);
    c->a20 = m->a20;
    c->halted = c->shutdown = c->intr_shadow = false;
    c->delivering = -1;
    uint64_t unimpl = c->st.unimplemented;
    int rc = emu_step(c);
    if (c->st.unimplemented != unimpl) {
        /* #UD for an instruction the CPU has: do not hand that to the
         * guest, report the original failure instead. */
        a->unimplemented_seen++;
        snprintf(a->last, sizeof(a->last), "%s", c->unimpl_msg);
        return -1;
    }
    if (rc < 0) {
        log_info(&m->log, "guest triple fault (shutdown) in an assisted instruction");
        machine_request_reset(m);
        return 0;
    }
    a->emulated++;
    if (rc > 0)
        a->exceptions++;
    struct x86_state e;
    emu_get_state(c, &e);
    merge_state(&s, &e);
    if (kvm_backend.set_state(m, &s) < 0)
        return -1;
    if (c->intr_shadow)
        set_shadow(vcpu_fd, true);
    return 1;
}

size_t kvm_assist_info(const struct kvm_assist *a, char *buf, size_t len)
{
    int n;
    if (!a)
        n = snprintf(buf, len, "assist (minus1 emulator for KVM emulation failures): unused\n");
    else
        n = snprintf(buf, len,
                     "assist (minus1 emulator for KVM emulation failures): %llu instructions "
                     "emulated (%llu raised exceptions), %llu refused (64-bit/v8086), "
                     "%llu unimplemented%s%s\n",
                     (unsigned long long)a->emulated, (unsigned long long)a->exceptions,
                     (unsigned long long)a->refused, (unsigned long long)a->unimplemented_seen,
                     a->last[0] ? ", last: " : "", a->last);
    return n < 0 ? 0 : ((size_t)n >= len ? (len ? len - 1 : 0) : (size_t)n);
}
