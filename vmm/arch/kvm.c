/* The KVM backend: one VM, one vCPU, no in-kernel irqchip.  Our PIC is in
 * userspace, so interrupts are injected with KVM_INTERRUPT when KVM says the
 * guest can take one (interrupt window), and HLT comes back to us. */
#include "cpu.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../machine.h"
#include "cpuid.h"
#include "kvm_assist.h"

#define KICK_SIGNAL SIGUSR1

struct kvm_priv {
    int kvm_fd, vm_fd, vcpu_fd;
    struct kvm_run *run;
    size_t run_size;
    bool readonly_mem;
    bool vcpu_thread_known;
    pthread_t vcpu_thread;
    uint64_t exits, internal_errors;
    bool io_pending;                /* last exit was port I/O or MMIO: KVM owes its completion */
    struct kvm_assist *assist;      /* minus1's emulator where KVM falls short (kvm_assist.h) */
    struct machine *m;
};

static struct kvm_priv *priv(struct machine *m) { return m->backend_priv; }

static void set_err(char *err, size_t len, const char *what)
{
    snprintf(err, len, "KVM: %s: %s", what, strerror(errno));
}

/* ---- memory map ---- */

static void set_region(struct kvm_priv *k, const struct mem_slot *s, bool present)
{
    struct kvm_userspace_memory_region r = {
        .slot = (uint32_t)s->id,
        .flags = 0,
        .guest_phys_addr = s->gpa,
        .memory_size = present ? s->size : 0,
        .userspace_addr = (uint64_t)(uintptr_t)s->host,
    };
    if (present && s->readonly && k->readonly_mem)
        r.flags |= KVM_MEM_READONLY;
    if (present && s->dirty_log)
        r.flags |= KVM_MEM_LOG_DIRTY_PAGES;
    if (ioctl(k->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
        log_error(&k->m->log, "KVM_SET_USER_MEMORY_REGION slot %d at 0x%llx: %s", s->id,
                  (unsigned long long)s->gpa, strerror(errno));
}

static void slot_added(void *opaque, const struct mem_slot *s) { set_region(opaque, s, true); }
static void slot_removed(void *opaque, const struct mem_slot *s) { set_region(opaque, s, false); }

/* Pages written through a dirty-logged slot since the last call (the VGA
 * renders only what changed in its framebuffer).  KVM clears the log and
 * write-protects the pages again as it returns it. */
static int kvm_get_dirty_log(struct machine *m, int slot_id, uint64_t *bitmap)
{
    struct kvm_priv *k = priv(m);
    if (!k || slot_id < 0)
        return -1;
    struct kvm_dirty_log d = { .slot = (uint32_t)slot_id, .dirty_bitmap = bitmap };
    return ioctl(k->vm_fd, KVM_GET_DIRTY_LOG, &d) < 0 ? -1 : 0;
}

/* ---- state conversion ---- */

static void seg_from_kvm(struct x86_seg *d, const struct kvm_segment *s)
{
    *d = (struct x86_seg){ .base = s->base, .limit = s->limit, .selector = s->selector,
                           .type = s->type, .present = s->present, .s = s->s, .db = s->db,
                           .l = s->l, .g = s->g, .avl = s->avl, .unusable = s->unusable,
                           .dpl = s->dpl };
}

static void seg_to_kvm(struct kvm_segment *d, const struct x86_seg *s)
{
    *d = (struct kvm_segment){ .base = s->base, .limit = s->limit, .selector = s->selector,
                               .type = s->type, .present = s->present, .s = s->s, .db = s->db,
                               .l = s->l, .g = s->g, .avl = s->avl, .unusable = s->unusable,
                               .dpl = s->dpl };
}

static struct kvm_segment *sreg_ptr(struct kvm_sregs *sr, int i)
{
    switch (i) {
    case X86_ES: return &sr->es;
    case X86_CS: return &sr->cs;
    case X86_SS: return &sr->ss;
    case X86_DS: return &sr->ds;
    case X86_FS: return &sr->fs;
    default:     return &sr->gs;
    }
}

static int kvm_get_state(struct machine *m, struct x86_state *s)
{
    struct kvm_priv *k = priv(m);
    struct kvm_regs r;
    struct kvm_sregs sr;
    if (ioctl(k->vcpu_fd, KVM_GET_REGS, &r) < 0 || ioctl(k->vcpu_fd, KVM_GET_SREGS, &sr) < 0)
        return -1;
    const uint64_t g[X86_NGPR] = { r.rax, r.rcx, r.rdx, r.rbx, r.rsp, r.rbp, r.rsi, r.rdi,
                                   r.r8, r.r9, r.r10, r.r11, r.r12, r.r13, r.r14, r.r15 };
    memcpy(s->gpr, g, sizeof(g));
    s->rip = r.rip;
    s->rflags = r.rflags;
    for (int i = 0; i < X86_NSREG; i++)
        seg_from_kvm(&s->seg[i], sreg_ptr(&sr, i));
    seg_from_kvm(&s->tr, &sr.tr);
    seg_from_kvm(&s->ldt, &sr.ldt);
    s->gdt = (struct x86_dtable){ sr.gdt.base, sr.gdt.limit };
    s->idt = (struct x86_dtable){ sr.idt.base, sr.idt.limit };
    s->cr0 = sr.cr0;
    s->cr2 = sr.cr2;
    s->cr3 = sr.cr3;
    s->cr4 = sr.cr4;
    s->cr8 = sr.cr8;
    s->efer = sr.efer;
    return 0;
}

static int kvm_set_state(struct machine *m, const struct x86_state *s)
{
    struct kvm_priv *k = priv(m);
    struct kvm_regs r = {
        .rax = s->gpr[X86_RAX], .rcx = s->gpr[X86_RCX], .rdx = s->gpr[X86_RDX],
        .rbx = s->gpr[X86_RBX], .rsp = s->gpr[X86_RSP], .rbp = s->gpr[X86_RBP],
        .rsi = s->gpr[X86_RSI], .rdi = s->gpr[X86_RDI], .r8 = s->gpr[X86_R8],
        .r9 = s->gpr[X86_R9], .r10 = s->gpr[X86_R10], .r11 = s->gpr[X86_R11],
        .r12 = s->gpr[X86_R12], .r13 = s->gpr[X86_R13], .r14 = s->gpr[X86_R14],
        .r15 = s->gpr[X86_R15], .rip = s->rip, .rflags = s->rflags,
    };
    struct kvm_sregs sr;
    /* Start from KVM's view so fields we do not model (APIC base,
     * pending interrupt bitmap) keep sane values. */
    if (ioctl(k->vcpu_fd, KVM_GET_SREGS, &sr) < 0)
        return -1;
    for (int i = 0; i < X86_NSREG; i++)
        seg_to_kvm(sreg_ptr(&sr, i), &s->seg[i]);
    seg_to_kvm(&sr.tr, &s->tr);
    seg_to_kvm(&sr.ldt, &s->ldt);
    sr.gdt.base = s->gdt.base;
    sr.gdt.limit = s->gdt.limit;
    sr.idt.base = s->idt.base;
    sr.idt.limit = s->idt.limit;
    sr.cr0 = s->cr0;
    sr.cr2 = s->cr2;
    sr.cr3 = s->cr3;
    sr.cr4 = s->cr4;
    sr.cr8 = s->cr8;
    sr.efer = s->efer;
    memset(sr.interrupt_bitmap, 0, sizeof(sr.interrupt_bitmap));
    if (ioctl(k->vcpu_fd, KVM_SET_SREGS, &sr) < 0 || ioctl(k->vcpu_fd, KVM_SET_REGS, &r) < 0)
        return -1;
    return 0;
}

/* Power-on: besides registers, drop whatever event KVM still holds (the
 * exception that caused a triple fault, an interrupt shadow, NMIs). */
static int kvm_reset(struct machine *m, const struct x86_state *s)
{
    struct kvm_priv *k = priv(m);
    struct kvm_vcpu_events ev;
    memset(&ev, 0, sizeof(ev));
    ev.flags = KVM_VCPUEVENT_VALID_SHADOW | KVM_VCPUEVENT_VALID_NMI_PENDING;
    if (ioctl(k->vcpu_fd, KVM_SET_VCPU_EVENTS, &ev) < 0)
        log_warn(&m->log, "KVM_SET_VCPU_EVENTS: %s", strerror(errno));
    struct kvm_fpu fpu;
    memset(&fpu, 0, sizeof(fpu));
    fpu.fcw = 0x37f;
    fpu.mxcsr = 0x1f80;
    if (ioctl(k->vcpu_fd, KVM_SET_FPU, &fpu) < 0)
        log_warn(&m->log, "KVM_SET_FPU: %s", strerror(errno));
    return kvm_set_state(m, s);
}

/* ---- creation ---- */

static void kick_handler(int sig) { (void)sig; }

/* The guest's CPUID: KVM's supported list through the shared CPU model
 * (cpuid.c, KVM backend features). */
static int setup_cpuid(struct kvm_priv *k, char *err, size_t errlen)
{
    int n = CPUID_MAX_ENTRIES;
    struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + (size_t)n * sizeof(c->entries[0]));
    struct cpuid_table *offered = calloc(1, sizeof(*offered));
    struct cpuid_table *model = calloc(1, sizeof(*model));
    int rc = -1;
    if (!c || !offered || !model) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    c->nent = (uint32_t)n;
    if (ioctl(k->kvm_fd, KVM_GET_SUPPORTED_CPUID, c) < 0) {
        set_err(err, errlen, "KVM_GET_SUPPORTED_CPUID");
        goto out;
    }
    for (uint32_t i = 0; i < c->nent && i < CPUID_MAX_ENTRIES; i++) {
        const struct kvm_cpuid_entry2 *e = &c->entries[i];
        struct cpuid_regs r = { e->eax, e->ebx, e->ecx, e->edx };
        (void)cpuid_set(offered, e->function, e->index,
                        (e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) != 0, &r);
    }
    cpuid_build(model, offered, CPUID_BACKEND_KVM);
    memset(c->entries, 0, (size_t)n * sizeof(c->entries[0]));
    c->nent = model->n;
    for (unsigned i = 0; i < model->n; i++) {
        const struct cpuid_entry *e = &model->e[i];
        c->entries[i] = (struct kvm_cpuid_entry2){
            .function = e->leaf, .index = e->sub,
            .flags = e->indexed ? KVM_CPUID_FLAG_SIGNIFCANT_INDEX : 0,
            .eax = e->r.eax, .ebx = e->r.ebx, .ecx = e->r.ecx, .edx = e->r.edx };
    }
    if (ioctl(k->vcpu_fd, KVM_SET_CPUID2, c) < 0) {
        set_err(err, errlen, "KVM_SET_CPUID2");
        goto out;
    }
    rc = 0;
out:
    free(c);
    free(offered);
    free(model);
    return rc;
}

static int open_vm(struct kvm_priv *k, char *err, size_t errlen)
{
    k->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (k->kvm_fd < 0) {
        set_err(err, errlen, "cannot open /dev/kvm");
        return -1;
    }
    if (ioctl(k->kvm_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
        snprintf(err, errlen, "KVM: unsupported API version");
        return -1;
    }
    k->vm_fd = ioctl(k->kvm_fd, KVM_CREATE_VM, 0);
    if (k->vm_fd < 0) {
        set_err(err, errlen, "KVM_CREATE_VM");
        return -1;
    }
    k->readonly_mem = ioctl(k->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_READONLY_MEM) > 0;
    /* Intel VT needs these pages for real mode; other KVMs ignore them. */
    (void)ioctl(k->vm_fd, KVM_SET_TSS_ADDR, 0xfffbd000ul);
    uint64_t ident = 0xfffbc000ull;
    (void)ioctl(k->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &ident);
    return 0;
}

static int open_vcpu(struct kvm_priv *k, char *err, size_t errlen)
{
    k->vcpu_fd = ioctl(k->vm_fd, KVM_CREATE_VCPU, 0);
    if (k->vcpu_fd < 0) {
        set_err(err, errlen, "KVM_CREATE_VCPU");
        return -1;
    }
    int sz = ioctl(k->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (sz <= 0) {
        set_err(err, errlen, "KVM_GET_VCPU_MMAP_SIZE");
        return -1;
    }
    k->run_size = (size_t)sz;
    k->run = mmap(NULL, k->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, k->vcpu_fd, 0);
    if (k->run == MAP_FAILED) {
        k->run = NULL;
        set_err(err, errlen, "mmap of kvm_run");
        return -1;
    }
    return setup_cpuid(k, err, errlen);
}

static void kvm_destroy(struct machine *m)
{
    struct kvm_priv *k = priv(m);
    if (!k)
        return;
    kvm_assist_free(k->assist);
    if (k->run)
        munmap(k->run, k->run_size);
    if (k->vcpu_fd >= 0)
        close(k->vcpu_fd);
    if (k->vm_fd >= 0)
        close(k->vm_fd);
    if (k->kvm_fd >= 0)
        close(k->kvm_fd);
    free(k);
    m->backend_priv = NULL;
}

static int kvm_create(struct machine *m, char *err, size_t errlen)
{
    struct kvm_priv *k = calloc(1, sizeof(*k));
    if (!k) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    k->kvm_fd = k->vm_fd = k->vcpu_fd = -1;
    k->m = m;
    m->backend_priv = k;
    if (open_vm(k, err, errlen) < 0 || open_vcpu(k, err, errlen) < 0) {
        kvm_destroy(m);
        return -1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = kick_handler;     /* no SA_RESTART: KVM_RUN returns EINTR */
    sigaction(KICK_SIGNAL, &sa, NULL);
    struct mem_listener l = { slot_removed, slot_added, k };
    mem_set_listener(&m->mem, &l);
    return 0;
}

/* ---- running ---- */

static void kvm_kick(struct machine *m)
{
    struct kvm_priv *k = priv(m);
    if (!k || !k->run)
        return;
    __atomic_store_n(&k->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
    if (k->vcpu_thread_known && !pthread_equal(pthread_self(), k->vcpu_thread))
        pthread_kill(k->vcpu_thread, KICK_SIGNAL);
}

static void handle_pio(struct machine *m, struct kvm_run *run)
{
    uint8_t *data = (uint8_t *)run + run->io.data_offset;
    machine_pio_string(m, run->io.port, run->io.size, run->io.count,
                       run->io.direction == KVM_EXIT_IO_OUT, data);
}

static void report_internal_error(struct machine *m, struct kvm_priv *k)
{
    struct kvm_run *run = k->run;
    struct x86_state s;
    char regs[2048], dis[160] = "";
    uint8_t bytes[16];
    size_t nbytes = 0;
    if (kvm_get_state(m, &s) < 0)
        memset(&s, 0, sizeof(s));
    x86_format_state(&s, regs, sizeof(regs));
    if (run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION &&
        (run->emulation_failure.flags & KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES)) {
        nbytes = run->emulation_failure.insn_size;
        if (nbytes > sizeof(bytes))
            nbytes = sizeof(bytes);
        memcpy(bytes, run->emulation_failure.insn_bytes, nbytes);
    } else {
        /* Fetch from guest memory through KVM's own translation. */
        struct kvm_translation t = { .linear_address = s.seg[X86_CS].base + s.rip };
        if (ioctl(k->vcpu_fd, KVM_TRANSLATE, &t) == 0 && t.valid &&
            mem_read(&m->mem, t.physical_address, bytes, sizeof(bytes)) == 0)
            nbytes = sizeof(bytes);
    }
    if (nbytes)
        x86_disasm_one(&s, bytes, nbytes, s.seg[X86_CS].base + s.rip, dis, sizeof(dis));
    char hex[64] = "";
    for (size_t i = 0, p = 0; i < nbytes && p + 3 < sizeof(hex); i++)
        p += (size_t)snprintf(hex + p, sizeof(hex) - p, "%02x ", bytes[i]);
    log_error(&m->log, "KVM internal error, suberror %u (%s) at %04x:%llx: %s [%s]",
              run->internal.suberror,
              run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION ? "emulation failure"
                                                                     : "other",
              s.seg[X86_CS].selector, (unsigned long long)s.rip,
              dis[0] ? dis : "(undecodable)", hex);
    log_error(&m->log, "registers:\n%s", regs);
}

/* --log trace: where each interrupt goes in (mode, CS:RIP, flags). */
static void trace_injection(struct machine *m, int vec)
{
    struct x86_state s;
    if (!log_enabled(&m->log, LOG_TRACE) || kvm_get_state(m, &s) < 0)
        return;
    log_msg(&m->log, LOG_TRACE,
            "KVM inject vector 0x%02x at %04x:%llx (cs base %llx db%d) cr0 %llx rflags %llx "
            "ss %04x:%llx",
            vec, s.seg[X86_CS].selector, (unsigned long long)s.rip,
            (unsigned long long)s.seg[X86_CS].base, s.seg[X86_CS].db,
            (unsigned long long)s.cr0, (unsigned long long)s.rflags, s.seg[X86_SS].selector,
            (unsigned long long)s.gpr[X86_RSP]);
}

static int handle_exit(struct machine *m, struct kvm_priv *k);

/* After a port-I/O or MMIO exit KVM still owes the instruction's end (an
 * IN's register write, the rest of an emulated instruction): it does that
 * at the start of the next KVM_RUN, with the state it had.  Before we
 * change the state ourselves, KVM_RUN with immediate_exit set lets it
 * finish without running guest code.  Returns 0 when done, 1 when
 * finishing produced a new exit (exit_reason set; not handled yet), -1 on
 * error. */
static int finish_pending_io(struct machine *m, struct kvm_priv *k)
{
    struct kvm_run *run = k->run;
    __atomic_store_n(&run->immediate_exit, 1, __ATOMIC_SEQ_CST);
    int rc = ioctl(k->vcpu_fd, KVM_RUN, 0);
    __atomic_store_n(&run->immediate_exit, 0, __ATOMIC_SEQ_CST);
    if (rc < 0 && (errno == EINTR || errno == EAGAIN)) {
        k->io_pending = false;
        return 0;
    }
    if (rc < 0) {
        log_error(&m->log, "KVM_RUN (finishing I/O): %s", strerror(errno));
        return -1;
    }
    k->exits++;
    return 1;
}

/* Injects a pending PIC interrupt if the guest can take it now, else asks
 * KVM to exit as soon as it can.  In 32-bit protected mode the assist
 * delivers it (kvm_assist_interrupt), which rewrites the vCPU state: any
 * I/O KVM still owes is finished first.  Returns 1 to go on into KVM_RUN,
 * 2 when an exit was handled instead (look at the machine again first),
 * 0 or -1 as handle_exit. */
static int inject_interrupts(struct machine *m, struct kvm_run *run, struct kvm_priv *k)
{
    run->request_interrupt_window = 0;
    if (!machine_intr_pending(m))
        return 1;
    if (!run->ready_for_interrupt_injection || !run->if_flag) {
        run->request_interrupt_window = 1;
        return 1;
    }
    if (k->io_pending) {
        int rc = finish_pending_io(m, k);
        if (rc < 0)
            return -1;
        if (rc > 0) {
            rc = handle_exit(m, k);
            return rc <= 0 ? rc : 2;
        }
        return 2;   /* if_flag / ready_for_interrupt_injection are fresh now */
    }
    int vec = machine_ack_interrupt(m);
    if (vec < 0)
        return 1;
    trace_injection(m, vec);
    m->exits_irq_injected++;
    if (kvm_assist_interrupt(m, vec, &k->assist) >= 0)
        return 1;
    struct kvm_interrupt irq = { .irq = (uint32_t)vec };
    if (ioctl(k->vcpu_fd, KVM_INTERRUPT, &irq) < 0)
        log_warn(&m->log, "KVM_INTERRUPT: %s", strerror(errno));
    return 1;
}

/* Returns 1 to keep running, 0 to leave run(), -1 on fatal error. */
static int handle_exit(struct machine *m, struct kvm_priv *k)
{
    struct kvm_run *run = k->run;
    k->io_pending = run->exit_reason == KVM_EXIT_IO || run->exit_reason == KVM_EXIT_MMIO;
    switch (run->exit_reason) {
    case KVM_EXIT_IO:
        m->exits_pio++;
        handle_pio(m, run);
        return 1;
    case KVM_EXIT_MMIO: {
        m->exits_mmio++;
        int rc = kvm_assist_rep_mmio(m, k->vcpu_fd, run, &k->assist);
        if (rc < 0)
            return -1;
        if (rc == 0)
            machine_mmio(m, run->mmio.phys_addr, run->mmio.len, run->mmio.is_write,
                         run->mmio.data);
        return 1;
    }
    case KVM_EXIT_HLT:
        m->exits_hlt++;
        machine_halt_wait(m, run->if_flag);
        return 1;
    case KVM_EXIT_IRQ_WINDOW_OPEN:
    case KVM_EXIT_INTR:
        return 1;
    case KVM_EXIT_SHUTDOWN:
        log_info(&m->log, "guest triple fault (shutdown)");
        machine_request_reset(m);
        return 0;
    case KVM_EXIT_INTERNAL_ERROR: {
        k->internal_errors++;
        int rc = kvm_assist_emulation_failure(m, k->vcpu_fd, run, &k->assist);
        if (rc >= 0)
            return rc;
        report_internal_error(m, k);
        return -1;
    }
    case KVM_EXIT_FAIL_ENTRY:
        log_error(&m->log, "KVM entry failed, hardware reason 0x%llx",
                  (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
        return -1;
    case KVM_EXIT_SYSTEM_EVENT:
        machine_request_reset(m);
        return 0;
    default:
        log_error(&m->log, "unexpected KVM exit reason %u", run->exit_reason);
        return -1;
    }
}

static int kvm_run_vcpu(struct machine *m)
{
    struct kvm_priv *k = priv(m);
    struct kvm_run *run = k->run;
    k->vcpu_thread = pthread_self();
    k->vcpu_thread_known = true;
    for (;;) {
        __atomic_store_n(&run->immediate_exit, 0, __ATOMIC_SEQ_CST);
        machine_vcpu_poll(m);
        if (machine_should_leave_run(m))
            return 0;
        int irc = inject_interrupts(m, run, k);
        if (irc <= 0)
            return irc;
        if (irc == 2)
            continue;
        if (ioctl(k->vcpu_fd, KVM_RUN, 0) < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                k->io_pending = false;  /* KVM finishes pending I/O before it checks */
                continue;
            }
            log_error(&m->log, "KVM_RUN: %s", strerror(errno));
            return -1;
        }
        k->exits++;
        int rc = handle_exit(m, k);
        if (rc <= 0)
            return rc;
    }
}

static size_t kvm_info(struct machine *m, char *buf, size_t len)
{
    struct kvm_priv *k = priv(m);
    int n = snprintf(buf, len,
                     "accelerator: kvm\nexits: %llu (pio %llu, mmio %llu, hlt %llu)\n"
                     "interrupts injected: %llu\nread-only memory slots: %s\n",
                     (unsigned long long)k->exits, (unsigned long long)m->exits_pio,
                     (unsigned long long)m->exits_mmio, (unsigned long long)m->exits_hlt,
                     (unsigned long long)m->exits_irq_injected, k->readonly_mem ? "yes" : "no");
    size_t pos = n < 0 ? 0 : ((size_t)n < len ? (size_t)n : len);
    if (k->assist && pos < len)
        pos += kvm_assist_info(k->assist, buf + pos, len - pos);
    return pos;
}

const struct cpu_backend kvm_backend = {
    .name = "kvm",
    .create = kvm_create,
    .destroy = kvm_destroy,
    .run = kvm_run_vcpu,
    .kick = kvm_kick,
    .get_state = kvm_get_state,
    .set_state = kvm_set_state,
    .reset = kvm_reset,
    .info = kvm_info,
    .get_dirty_log = kvm_get_dirty_log,
};
