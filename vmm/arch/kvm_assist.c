/* KVM assist: minus1's emulator where the KVM on our hosts falls short.
 *
 * 1. Emulation failures: read the vCPU state (struct x86_state via the
 *    KVM backend), load it into an emu_cpu, run exactly one instruction
 *    with emu_step() -- fetched through the guest's paging, RAM touched
 *    directly through the memory slots, port I/O and MMIO through the
 *    machine's buses, exceptions delivered the way the CPU would -- and
 *    write the state back.  The emulator runs uncached here (KVM writes
 *    RAM without telling us), so nothing decoded outlives the call.
 *    Not handled (the caller reports the failure as before): 64-bit
 *    mode, virtual-8086 mode, and instructions our emulator lacks.  The
 *    x87/SSE register file is not transferred: an assisted FXSAVE would
 *    store the emulator's (reset) FPU control words, not KVM's.
 * 2. External interrupts in 32-bit protected mode (kvm_assist_interrupt,
 *    see there for the KVM bug it avoids).
 * 3. REP MOVS/STOS over MMIO (kvm_assist_rep_mmio): the remaining
 *    elements in one go instead of one exit each (rep_string.c). */
#include "kvm_assist.h"

#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "../emul/emul.h"
#include "../machine.h"
#include "cpu.h"
#include "rep_string.h"

#define EFER_LMA (1ull << 10)
#define RFLAGS_VM (1ull << 17)
/* Elements of one REP instruction done per MMIO exit: bounds the time
 * before the vCPU loop looks at requests again (the engine also stops
 * for a takeable interrupt). */
#define REP_MAX_ELEMS 65536
/* After a streak exit that was not a REP string instruction (a loop of
 * MOVs), the next few are not looked at: bounds the cost of the state
 * fetch and decode for such loops to about 1/REP_COOLDOWN of their exits. */
#define REP_COOLDOWN 16

struct kvm_assist {
    struct emu_cpu cpu;
    struct machine *m;
    uint64_t emulated, exceptions, refused, unimplemented_seen;
    uint64_t interrupts;            /* external interrupts delivered by us */
    /* REP MOVS/STOS over MMIO: the previous MMIO exit per direction (a
     * REP is considered only when an exit continues the previous one),
     * and what was done. */
    uint64_t last_gpa[2];
    uint32_t last_len[2];
    unsigned rep_cooldown;          /* streak exits to skip after a non-REP one */
    uint64_t rep_takeovers, rep_elements, rep_completed;
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

/* The emulator takes over the vCPU state s for one step. */
static struct emu_cpu *load_state(struct kvm_assist *a, const struct x86_state *s)
{
    struct emu_cpu *c = &a->cpu;
    emu_set_state(c, s);
    c->a20 = a->m->a20;
    c->halted = c->shutdown = c->intr_shadow = false;
    c->delivering = -1;
    return c;
}

/* --log debug: one line per assisted instruction with the state that
 * decides how it runs (mode, CS/SS caches, flags). */
static void trace_insn(struct machine *m, const struct x86_state *s, const struct kvm_run *run,
                       const char *what)
{
    if (!log_enabled(&m->log, LOG_DEBUG))
        return;
    char dis[160] = "?";
    const struct x86_seg *cs = &s->seg[X86_CS], *ss = &s->seg[X86_SS];
    if (run->emulation_failure.flags & KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES) {
        size_t n = run->emulation_failure.insn_size;
        if (n > sizeof(run->emulation_failure.insn_bytes))
            n = sizeof(run->emulation_failure.insn_bytes);
        if (!x86_disasm_one(s, run->emulation_failure.insn_bytes, n, cs->base + s->rip, dis,
                            sizeof(dis)))
            snprintf(dis, sizeof(dis), "(undecodable)");
    }
    log_debug(&m->log,
              "KVM assist %s: %04x:%llx %s | cr0 %llx efer %llx rflags %llx | cs base %llx "
              "lim %x type %x s%d dpl%d p%d db%d u%d | ss %04x base %llx db%d dpl%d u%d esp %llx",
              what, cs->selector, (unsigned long long)s->rip, dis, (unsigned long long)s->cr0,
              (unsigned long long)s->efer, (unsigned long long)s->rflags,
              (unsigned long long)cs->base, cs->limit, cs->type, cs->s, cs->dpl, cs->present,
              cs->db, cs->unusable, ss->selector, (unsigned long long)ss->base, ss->db, ss->dpl,
              ss->unusable, (unsigned long long)s->gpr[X86_RSP]);
}

/* --log debug, on a refusal: the top of the stack (an IRET frame) when
 * paging is off, so linear is physical. */
static void trace_stack(struct machine *m, const struct x86_state *s)
{
    uint32_t w[10];
    if (!log_enabled(&m->log, LOG_DEBUG) || (s->cr0 & X86_CR0_PG))
        return;
    uint64_t lin = (s->seg[X86_SS].base + (s->gpr[X86_RSP] & 0xFFFFFFFFu)) & 0xFFFFFFFFu;
    if (mem_read(&m->mem, lin, w, sizeof(w)) < 0)
        return;
    log_debug(&m->log, "KVM assist: stack at %llx: %08x %08x %08x %08x %08x %08x %08x %08x %08x %08x",
              (unsigned long long)lin, w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7], w[8], w[9]);
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
    trace_insn(m, &s, run, "in");
    if ((s.efer & EFER_LMA) || (s.rflags & RFLAGS_VM)) {
        a->refused++;
        return -1;
    }
    struct emu_cpu *c = load_state(a, &s);
    uint64_t unimpl = c->st.unimplemented;
    int rc = emu_step(c);
    if (c->st.unimplemented != unimpl) {
        /* #UD for an instruction the CPU has: do not hand that to the
         * guest, report the original failure instead. */
        a->unimplemented_seen++;
        snprintf(a->last, sizeof(a->last), "%s", c->unimpl_msg);
        log_debug(&m->log, "KVM assist declines: %s", c->unimpl_msg);
        trace_stack(m, &s);
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
    trace_insn(m, &s, run, rc > 0 ? "out (exception)" : "out");
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
        n = snprintf(buf, len, "KVM assist (minus1's emulator on KVM's behalf): unused\n");
    else
        n = snprintf(buf, len,
                     "KVM assist (minus1's emulator on KVM's behalf): %llu instructions "
                     "emulated (%llu raised exceptions), %llu refused (64-bit/v8086), "
                     "%llu unimplemented, %llu protected-mode interrupts delivered%s%s\n"
                     "REP MOVS/STOS over MMIO: %llu taken over, %llu elements done in "
                     "userspace, %llu run to the end\n",
                     (unsigned long long)a->emulated, (unsigned long long)a->exceptions,
                     (unsigned long long)a->refused, (unsigned long long)a->unimplemented_seen,
                     (unsigned long long)a->interrupts, a->last[0] ? ", last: " : "", a->last,
                     (unsigned long long)a->rep_takeovers, (unsigned long long)a->rep_elements,
                     (unsigned long long)a->rep_completed);
    return n < 0 ? 0 : ((size_t)n >= len ? (len ? len - 1 : 0) : (size_t)n);
}

/* Why not KVM_INTERRUPT in protected mode: the KVM on our hosts pushes
 * the interrupt frame of an injected interrupt at linear address ESP,
 * ignoring the SS base (measured with iPXE, whose stack segment has base
 * 0x0feaf000: the frame landed at physical ESP and the handler's IRETD
 * popped stale stack words).  Real mode and long mode (where the SS base
 * is 0 for the frame anyway) are left to KVM. */
int kvm_assist_interrupt(struct machine *m, int vec, struct kvm_assist **ap)
{
    if (!*ap && !(*ap = assist_new(m)))
        return -1;
    struct kvm_assist *a = *ap;
    struct x86_state s;
    if (kvm_backend.get_state(m, &s) < 0)
        return -1;
    if (!(s.cr0 & X86_CR0_PE) || (s.efer & EFER_LMA) || (s.rflags & RFLAGS_VM))
        return -1;
    struct emu_cpu *c = load_state(a, &s);
    uint64_t unimpl = c->st.unimplemented;
    bool ok = emu_interrupt(c, vec);
    if (c->st.unimplemented != unimpl)
        return -1;      /* e.g. a task gate: nothing was written back yet */
    if (!ok) {
        log_info(&m->log, "guest triple fault (shutdown) delivering interrupt 0x%02x", vec);
        machine_request_reset(m);
        return 0;
    }
    a->interrupts++;
    struct x86_state e;
    emu_get_state(c, &e);
    merge_state(&s, &e);
    if (kvm_backend.set_state(m, &s) < 0)
        return -1;
    return 1;
}

/* ---- REP MOVS/STOS over MMIO ---- */

struct rep_glue {
    struct machine *m;
    uint64_t rflags;
};

static void rep_mmio(void *o, uint64_t gpa, unsigned size, bool is_write, uint64_t *val)
{
    struct rep_glue *g = o;
    machine_mmio(g->m, gpa, size, is_write, val);
}

/* Stop for an interrupt the guest would take, or a reset/exit request. */
static bool rep_should_stop(void *o)
{
    struct rep_glue *g = o;
    return ((g->rflags & X86_RFLAGS_IF) && machine_intr_pending(g->m)) ||
           machine_should_leave_run(g->m);
}

/* Only GPRs and RIP changed: KVM_SET_REGS alone, so KVM's pending
 * emulation state (segments, events) is left alone. */
static int put_regs(int vcpu_fd, const struct x86_state *s)
{
    struct kvm_regs r;
    if (ioctl(vcpu_fd, KVM_GET_REGS, &r) < 0)
        return -1;
    r.rcx = s->gpr[X86_RCX];
    r.rsi = s->gpr[X86_RSI];
    r.rdi = s->gpr[X86_RDI];
    r.rip = s->rip;
    return ioctl(vcpu_fd, KVM_SET_REGS, &r) < 0 ? -1 : 0;
}

/* A cheap filter before fetching any state: this exit continues the
 * previous one of the same direction (next or previous element). */
static bool continues_streak(struct kvm_assist *a, uint64_t gpa, uint32_t len, bool w)
{
    bool seq = a->last_len[w] == len &&
               (gpa == a->last_gpa[w] + len || gpa + len == a->last_gpa[w]);
    a->last_gpa[w] = gpa;
    a->last_len[w] = len;
    return seq;
}

int kvm_assist_rep_mmio(struct machine *m, int vcpu_fd, struct kvm_run *run,
                        struct kvm_assist **ap)
{
    bool w = run->mmio.is_write;
    uint64_t gpa = run->mmio.phys_addr;
    uint32_t len = run->mmio.len;
    if (!*ap && !(*ap = assist_new(m)))
        return 0;
    struct kvm_assist *a = *ap;
    if (!continues_streak(a, gpa, len, w))
        return 0;
    if (a->rep_cooldown) {
        a->rep_cooldown--;
        return 0;
    }
    struct x86_state s;
    if (kvm_backend.get_state(m, &s) < 0)
        return 0;
    struct rep_glue g = { m, s.rflags };
    struct rep_env env = { &m->mem, &g, rep_mmio, rep_should_stop };
    uint8_t bytes[15];
    size_t n = rep_fetch(&env, &s, bytes, sizeof(bytes));
    struct rep_insn ri;
    uint64_t el;
    /* A write exit comes after KVM did the element (registers already
     * past it); a read exit before it (KVM waits for the data). */
    if (rep_decode(bytes, n, x86_code_bits(&s), &ri) < 0 || ri.size != len ||
        (!w && ri.kind != REP_MOVS) || rep_element_gpa(&env, &s, &ri, w, w ? 1 : 0, &el) < 0 ||
        el != gpa) {
        a->rep_cooldown = REP_COOLDOWN;
        return 0;
    }
    if (w)
        machine_mmio(m, gpa, len, true, run->mmio.data);
    struct rep_result res;
    rep_run(&env, &s, &ri, REP_MAX_ELEMS, !w, &res);
    if (!w && !res.handed_back)
        return 0;       /* nothing done: the exit is handled as usual */
    if (res.done && put_regs(vcpu_fd, &s) < 0) {
        /* Cannot happen short of a dead vCPU; the guest state is lost. */
        log_error(&m->log, "KVM assist: KVM_SET_REGS after a REP over MMIO failed");
        return -1;
    }
    if (!w) {
        memcpy(run->mmio.data, &res.read_val, len);
        /* The next read exit of this REP continues from the element
         * handed back. */
        if (rep_element_gpa(&env, &s, &ri, false, 0, &el) == 0)
            a->last_gpa[0] = el;
    }
    a->rep_takeovers++;
    a->rep_elements += res.done;
    a->rep_completed += res.finished;
    if (log_enabled(&m->log, LOG_DEBUG))
        log_debug(&m->log, "KVM assist: REP %s%u over MMIO at %04x:%llx, %s exit at 0x%llx: "
                  "%llu elements, %s",
                  ri.kind == REP_MOVS ? "MOVS" : "STOS", ri.size * 8, s.seg[X86_CS].selector,
                  (unsigned long long)s.rip, w ? "write" : "read", (unsigned long long)gpa,
                  (unsigned long long)res.done,
                  res.finished ? "finished" : res.handed_back ? "exit's element handed back"
                                                               : "stopped early");
    return 1;
}
