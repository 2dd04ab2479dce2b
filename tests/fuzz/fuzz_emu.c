/* The emulator (vmm/emul): decode and execute fuzzed instruction bytes in
 * a sandboxed guest: 2 MiB of RAM, a 64 KiB BIOS, and a fake bus that
 * answers port and MMIO reads from the input.  Any crash, sanitizer report
 * or hang is a bug; the instruction budget bounds every run.
 *
 * Input (tests/fuzz/common.h layout):
 *   config byte 0  bits 0-1 mode: real, 16-bit protected, 32-bit
 *                  protected, long mode (64-bit code); bit 2 paging (32-bit
 *                  protected mode; long mode always pages), bit 3 PAE
 *                  instead of 2-level, bit 4 CPL 3 (protected modes),
 *                  bit 5 IF, bit 6 CR4.OSFXSR|OSXMMEXCPT, bit 7 CR0.TS
 *   config byte 1  instruction budget: 16 * (1 + value) (an exception
 *                  delivery counts as one, see emu_run)
 *   config byte 2  bit 0 CR0.WP, bit 1 EFER.NXE, bit 2 CR4.PGE, bit 3
 *                  EFER.SCE, bit 4 CR0.AM + EFLAGS.AC, bit 5 CR0.EM,
 *                  bit 6 CR4.TSD, bit 7 EFLAGS.DF
 *   config byte 3  bit 0 the code also goes into the BIOS image (runs at
 *                  the reset vector in real mode from F000:FFF0)
 *   blob           the code, copied to GPA 0x10000 (the entry point)
 *   records        FZ_OUT: set register (offset % 20: 0-15 GPRs,
 *                    16 RIP offset from the entry, 17 RFLAGS (sanitised),
 *                    18 CR2, 19 CR8) before the run;
 *                  FZ_IN: an answer for port/MMIO reads (used in order,
 *                    cycling; none: all ones);
 *                  during the run, in order: FZ_CLOCK runs value % 1024 + 1
 *                    instructions; FZ_POKE writes RAM as a DMA engine
 *                    would (the emulator is told); FZ_EVENT delivers
 *                    interrupt value & 0xFF when it can be taken, else runs
 *                    one emu_step (the KVM-assist path); FZ_SYNC value bit
 *                    0: memory-map change (PAM segment from value), else
 *                    A20 toggle.
 *   Whatever budget is left runs at the end.
 *
 * Fixed guest structures (the input can overwrite them with FZ_POKE):
 *   0x0000 IVT (every vector -> 0050:0000, an IRET)
 *   0x0500 real-mode IRET; 0x3000 protected/long-mode handler: IRET(Q)
 *   0x1000 GDT: 08 code32, 10 data32, 18 code16, 20 data16, 28 code64,
 *          33 code32 DPL3, 3B data DPL3, 43 code64 DPL3, 48 TSS (16 bytes)
 *   0x2000 IDT (256 gates to 0x3000; long mode: 16-byte gates at 0x2000,
 *          4 KiB)
 *   0x4000 TSS (ring-0 stack 0x60000, IST1 0x68000)
 *   0x5000 2-level page directory (4 MiB pages), 0x6000 PML4, 0x7000
 *          PDPT (long mode), 0x7800 PAE PDPT, 0x8000 PD (2 MiB pages)
 *   0x10000 code, stack top 0x80000
 * FUZZ_EMU_STATS=1 in the environment prints the run's statistics
 * (instructions, exceptions, blocks) per input, to see what a seed does. */
#include <stdatomic.h>
#include <stdlib.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../../vmm/emul/emul.h"
#include "common.h"

#define ENTRY 0x10000u
#define STACK_TOP 0x80000u
#define GDT 0x1000u
#define IDT 0x2000u
#define HANDLER 0x3000u
#define TSS 0x4000u
#define PD32 0x5000u
#define PML4 0x6000u
#define PDPT 0x7000u
#define PDPT_PAE 0x7800u
#define PD 0x8000u
#define MAX_ANSWERS 64

/* One emulator and one guest memory for the whole process, reset for
 * every input: emu_init/emu_fini cost ~25 ms under ASan (large arenas
 * poisoned and quarantined), which would make this harness run at 35
 * inputs/s.  The reset below returns everything an input can reach to
 * the same state (registers, caches, TLB, RAM, PAM, A20, statistics). */
struct h {
    struct guest_mem mem;
    uint8_t *bios;
    struct emu_cpu cpu;
    uint64_t answers[MAX_ANSWERS];
    unsigned nanswers, next_answer;
    uint64_t budget_left;
    atomic_bool intr;
};

/* ---- the fake bus ---- */

static uint64_t answer(struct h *h)
{
    if (!h->nanswers)
        return ~0ull;
    uint64_t v = h->answers[h->next_answer];
    h->next_answer = (h->next_answer + 1) % h->nanswers;
    return v;
}

static void env_pio(void *o, uint16_t port, unsigned size, bool is_write, uint32_t *val)
{
    struct h *h = o;
    (void)port;
    if (!is_write)
        *val = (uint32_t)answer(h) & (size >= 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1);
}

static void env_mmio(void *o, uint64_t addr, unsigned size, bool is_write, uint64_t *val)
{
    struct h *h = o;
    (void)addr;
    if (!is_write)
        *val = answer(h) & (size >= 8 ? ~0ull : (1ull << (8 * size)) - 1);
}

static void slot_changed(void *o, const struct mem_slot *s)
{
    (void)s;
    emu_map_changed(&((struct h *)o)->cpu);
}

static void ram_written(void *o, uint64_t gpa, uint64_t len)
{
    emu_ram_written(&((struct h *)o)->cpu, gpa, len);
}

/* ---- guest structures ---- */

static void put(struct guest_mem *m, uint64_t gpa, const void *p, size_t n)
{
    mem_write(m, gpa, p, n);
}

static void put64(struct guest_mem *m, uint64_t gpa, uint64_t v)
{
    put(m, gpa, &v, 8);
}

/* A code/data descriptor: base 0, limit 4 GiB (or 64 KiB for 16-bit). */
static uint64_t desc(unsigned type, unsigned dpl, bool db, bool l, bool big)
{
    uint64_t limit = big ? 0xFFFFF : 0xFFFF;
    return (limit & 0xFFFF) | ((limit >> 16) & 0xF) << 48 | (uint64_t)(type | 0x10) << 40 |
           (uint64_t)dpl << 45 | 1ull << 47 | (uint64_t)l << 53 | (uint64_t)db << 54 |
           (uint64_t)big << 55;
}

static void build_tables(struct guest_mem *c, bool long_mode)
{
    for (unsigned v = 0; v < 256; v++) {
        uint32_t ivt = 0x00500000u;     /* 0050:0000 */
        put(c, v * 4, &ivt, 4);
    }
    static const uint8_t iret16[] = { 0xCF };
    static const uint8_t iret[] = { 0x48, 0xCF };    /* IRETQ (REX.W IRET in 64-bit code) */
    put(c, 0x500, iret16, 1);
    put(c, HANDLER, long_mode ? iret : iret + 1, long_mode ? 2 : 1);
    put64(c, GDT + 0x08, desc(0xB, 0, true, false, true));
    put64(c, GDT + 0x10, desc(0x3, 0, true, false, true));
    put64(c, GDT + 0x18, desc(0xB, 0, false, false, false));
    put64(c, GDT + 0x20, desc(0x3, 0, false, false, false));
    put64(c, GDT + 0x28, desc(0xB, 0, false, true, true));
    put64(c, GDT + 0x30, desc(0xB, 3, true, false, true));
    put64(c, GDT + 0x38, desc(0x3, 3, true, false, true));
    put64(c, GDT + 0x40, desc(0xB, 3, false, true, true));
    /* 64-bit / 32-bit available TSS, limit 0x67 */
    put64(c, GDT + 0x48, 0x67 | (uint64_t)TSS << 16 | 0x89ull << 40);
    put64(c, GDT + 0x50, 0);
    uint32_t esp0 = 0x60000, ss0 = 0x10;
    put(c, TSS + 4, &esp0, 4);          /* 32-bit: ESP0; 64-bit: RSP0 low half */
    put(c, TSS + 8, &ss0, 4);
    put64(c, TSS + 0x24, 0x68000);      /* IST1 */
    for (unsigned v = 0; v < 256; v++) {
        if (long_mode) {
            uint64_t lo = (HANDLER & 0xFFFF) | 0x28ull << 16 | 0x8Eull << 40 | 3ull << 45 |
                          (uint64_t)(HANDLER >> 16) << 48;
            put64(c, IDT + 16 * v, lo);
            put64(c, IDT + 16 * v + 8, 0);
        } else {
            uint64_t g = (HANDLER & 0xFFFF) | 0x08ull << 16 | 0x8Eull << 40 | 3ull << 45 |
                         (uint64_t)(HANDLER >> 16) << 48;
            put64(c, IDT + 8 * v, g);
        }
    }
    /* Identity maps, user-accessible and writable. */
    for (unsigned i = 0; i < 1024; i++) {
        uint32_t pde = (i << 22) | 0x87;
        put(c, PD32 + 4 * i, &pde, 4);
    }
    put64(c, PML4, PDPT | 7);
    put64(c, PDPT, PD | 7);
    for (unsigned i = 0; i < 4; i++)
        put64(c, PDPT_PAE + 8 * i, (PD + 0x1000ull * i) | 1);
    for (unsigned i = 0; i < 4 * 512; i++)
        put64(c, PD + 8 * i, ((uint64_t)i << 21) | 0x87);
}

static struct x86_seg seg(uint16_t sel, unsigned type, unsigned dpl, bool db, bool l, bool big)
{
    return (struct x86_seg){ .base = 0, .limit = big ? 0xFFFFFFFF : 0xFFFF, .selector = sel,
                             .type = (uint8_t)type, .present = true, .s = true, .db = db,
                             .l = l, .g = big, .dpl = (uint8_t)dpl };
}

static void initial_state(const struct fz_ctx *c, struct x86_state *s)
{
    unsigned mode = c->config[0] & 3;
    bool cpl3 = mode && (c->config[0] & 0x10);
    unsigned rpl = cpl3 ? 3 : 0;
    x86_reset_state(s);
    s->rip = ENTRY;
    s->gpr[X86_RSP] = STACK_TOP;
    s->rflags = 0x2 | ((c->config[0] & 0x20) ? X86_RFLAGS_IF : 0) |
                ((c->config[2] & 0x80) ? 0x400 : 0) | ((c->config[2] & 0x10) ? 0x40000 : 0);
    s->gdt = (struct x86_dtable){ GDT, 0x57 };
    s->idt = (struct x86_dtable){ IDT, mode == 3 ? 0xFFF : 0x7FF };
    s->tr = (struct x86_seg){ .base = TSS, .limit = 0x67, .selector = 0x48, .type = 0xB,
                              .present = true };
    s->cr0 = X86_CR0_ET | X86_CR0_NE;
    if (mode == 0) {
        s->idt = (struct x86_dtable){ 0, 0x3FF };
        for (int k = 0; k < X86_NSREG; k++)
            s->seg[k] = seg(0, 3, 0, false, false, false);
        s->seg[X86_CS].type = 0xB;
        s->seg[X86_CS].selector = ENTRY >> 4;
        s->seg[X86_CS].base = ENTRY;
        s->rip = 0;
        if (c->config[3] & 1) {     /* the reset vector */
            s->seg[X86_CS].selector = 0xF000;
            s->seg[X86_CS].base = 0xFFFF0000;
            s->rip = 0xFFF0;
        }
    } else if (mode == 1) {
        s->cr0 |= X86_CR0_PE;
        for (int k = 0; k < X86_NSREG; k++)
            s->seg[k] = seg(0x20, 3, 0, false, false, false);
        s->seg[X86_CS] = seg(0x18, 0xB, 0, false, false, false);
        s->seg[X86_CS].base = ENTRY;
        s->rip = 0;
    } else {
        s->cr0 |= X86_CR0_PE;
        for (int k = 0; k < X86_NSREG; k++)
            s->seg[k] = seg((uint16_t)(cpl3 ? 0x3B : 0x10), 3, rpl, true, false, true);
        if (mode == 2)
            s->seg[X86_CS] = cpl3 ? seg(0x33, 0xB, 3, true, false, true)
                                  : seg(0x08, 0xB, 0, true, false, true);
        else
            s->seg[X86_CS] = cpl3 ? seg(0x43, 0xB, 3, false, true, true)
                                  : seg(0x28, 0xB, 0, false, true, true);
    }
    if (mode == 3) {
        s->cr0 |= X86_CR0_PG;
        s->cr4 |= 0x20;                         /* PAE */
        s->cr3 = PML4;
        s->efer |= 0x500;                       /* LME | LMA */
        s->tr.type = 0xB;
    } else if (mode == 2 && (c->config[0] & 4)) {
        s->cr0 |= X86_CR0_PG;
        if (c->config[0] & 8) {
            s->cr4 |= 0x20;
            s->cr3 = PDPT_PAE;
        } else {
            s->cr4 |= 0x10;                     /* PSE */
            s->cr3 = PD32;
        }
    }
    if (c->config[0] & 0x40)
        s->cr4 |= 0x600;                        /* OSFXSR | OSXMMEXCPT */
    if (c->config[0] & 0x80)
        s->cr0 |= 0x8;                          /* TS */
    if (c->config[2] & 1)
        s->cr0 |= 1ull << 16;                   /* WP */
    if (c->config[2] & 2)
        s->efer |= 0x800;                       /* NXE */
    if ((c->config[2] & 4) && (s->cr4 & 0x30))
        s->cr4 |= 0x80;                         /* PGE */
    if (c->config[2] & 8)
        s->efer |= 1;                           /* SCE */
    if (c->config[2] & 0x10)
        s->cr0 |= 1ull << 18;                   /* AM */
    if (c->config[2] & 0x20)
        s->cr0 |= 0x4;                          /* EM */
    if (c->config[2] & 0x40)
        s->cr4 |= 0x4;                          /* TSD */
}

/* FZ_OUT records before the run: registers.  RFLAGS keeps only bits a
 * guest can have (no VM: virtual-8086 mode is not emulated). */
static void set_register(struct x86_state *s, const struct fz_op *op, unsigned mode)
{
    unsigned r = (unsigned)op->raw_off % 20;    /* not op->win: there is one window */
    if (r < 16)
        s->gpr[r] = op->value;
    else if (r == 16)
        s->rip += op->value & (mode == 3 ? 0xFFFFF : 0xFFFF);
    else if (r == 17)
        s->rflags = (op->value & 0x2C7FD5) | 2;  /* CF..OF, TF, IF, DF, IOPL, NT, RF, AC, ID */
    else if (r == 18)
        s->cr2 = op->value;
    else
        s->cr8 = op->value & 15;
}

/* ---- the run ---- */

static void run(struct h *h, uint64_t n)
{
    if (n > h->budget_left)
        n = h->budget_left;
    h->budget_left -= n;
    /* Nothing kicks, INTR stays low: one call runs the slice (or stops
     * at HLT / shutdown).  It must come back: a hang here is a bug. */
    if (n && !h->cpu.shutdown)
        emu_run(&h->cpu, n);
}

static void run_op(struct h *h, const struct fz_op *op, const uint8_t kind)
{
    switch (kind) {
    case FZ_CLOCK:
        run(h, op->value % 1024 + 1);
        break;
    case FZ_POKE: {
        uint8_t b[8];
        for (unsigned i = 0; i < 8; i++)
            b[i] = (uint8_t)(op->value >> (32 + 8 * (i & 3)));
        mem_write(&h->mem, (uint32_t)op->value % FZ_RAM_SIZE, b, op->size);
        break;
    }
    case FZ_EVENT:
        if (h->budget_left == 0 || h->cpu.shutdown)
            break;
        if (emu_can_take_intr(&h->cpu)) {
            emu_interrupt(&h->cpu, (int)(op->value & 0xFF));
        } else {
            h->budget_left--;
            emu_step(&h->cpu);
        }
        break;
    case FZ_SYNC:
        if (op->value & 1) {
            mem_set_pam(&h->mem, (unsigned)(op->value >> 8) % PAM_SEGMENTS,
                        (enum pam_mode)((op->value >> 16) & 3));
        } else {
            h->cpu.a20 = !h->cpu.a20;
            emu_map_changed(&h->cpu);
        }
        break;
    default:
        break;
    }
}

static void decode_op(const struct fz_ctx *c, size_t pos, struct fz_op *op)
{
    const uint8_t *r = c->recs + pos;
    op->kind = (enum fz_kind)(r[0] & 7);
    op->size = 1u << ((r[0] >> 3) & 3);
    op->win = 0;
    op->raw_off = (uint16_t)(r[2] | r[3] << 8);
    op->addr = op->raw_off;
    op->value = 0;
    for (unsigned i = 0; i < 8; i++)
        op->value |= (uint64_t)r[4 + i] << (8 * i);
}

static struct h *world(void)
{
    static struct h *w;         /* see struct h: kept across inputs */
    if (w)
        return w;
    w = calloc(1, sizeof(*w));
    if (!w || !(w->bios = calloc(1, FZ_BIOS_SIZE)) ||
        mem_init(&w->mem, FZ_RAM_SIZE, w->bios, FZ_BIOS_SIZE) < 0)
        abort();
    struct emu_env env = { .opaque = w, .pio = env_pio, .mmio = env_mmio,
                           .intr_line = &w->intr };
    if (emu_init(&w->cpu, &w->mem, &env) < 0)
        abort();
    const struct mem_listener l = { slot_changed, slot_changed, w };
    mem_set_listener(&w->mem, &l);
    w->mem.ram_written = ram_written;
    w->mem.ram_written_opaque = w;
    return w;
}

/* Everything back to power-on, then the input's memory image. */
static void reset_world(struct h *h, const struct fz_ctx *c, const struct x86_state *s)
{
    memset(h->mem.ram, 0, FZ_RAM_SIZE);
    memset(h->bios, 0, FZ_BIOS_SIZE);
    if ((c->config[3] & 1) && c->blob_len)
        memcpy(h->bios + FZ_BIOS_SIZE - 16, c->blob, c->blob_len < 16 ? c->blob_len : 16);
    mem_reset(&h->mem);
    if (c->blob_len)
        put(&h->mem, ENTRY, c->blob, c->blob_len);
    build_tables(&h->mem, (c->config[0] & 3) == 3);
    emu_reset(&h->cpu, s);
    h->cpu.a20 = true;
    atomic_store(&h->cpu.kick, false);
    /* Apply the map change emu_reset posted now (cache and TLB flush, the
     * DMA-stale pages) instead of at the first block: a halted CPU leaves
     * emu_run right after that. */
    h->cpu.halted = true;
    emu_run(&h->cpu, 1);
    h->cpu.halted = false;
    memset(&h->cpu.st, 0, sizeof(h->cpu.st));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz_ctx c;
    struct h *h = world();
    fz_init(&c, data, size);
    unsigned mode = c.config[0] & 3;
    struct x86_state s;
    initial_state(&c, &s);
    h->nanswers = h->next_answer = 0;
    struct fz_op op;
    for (size_t pos = 0; pos + FZ_REC_SIZE <= c.recs_len; pos += FZ_REC_SIZE) {
        decode_op(&c, pos, &op);
        if (op.kind == FZ_OUT)
            set_register(&s, &op, mode);
        else if (op.kind == FZ_IN && h->nanswers < MAX_ANSWERS)
            h->answers[h->nanswers++] = op.value;
    }
    reset_world(h, &c, &s);
    h->budget_left = 16ull * (1 + c.config[1]);
    for (size_t pos = 0; pos + FZ_REC_SIZE <= c.recs_len && h->budget_left; pos += FZ_REC_SIZE) {
        decode_op(&c, pos, &op);
        run_op(h, &op, (uint8_t)op.kind);
    }
    run(h, h->budget_left);
    /* What the monitor's `info registers` does after a run. */
    emu_get_state(&h->cpu, &s);
    (void)emu_get_eflags(&h->cpu);
    if (getenv("FUZZ_EMU_STATS"))
        fprintf(stderr, "insns %llu exc %llu ints %llu blocks %llu decoded %llu flushes %llu uncached %llu\n", (unsigned long long)h->cpu.st.insns, (unsigned long long)h->cpu.st.exceptions, (unsigned long long)h->cpu.st.interrupts, (unsigned long long)h->cpu.st.blocks_run, (unsigned long long)h->cpu.st.insns_decoded, (unsigned long long)h->cpu.st.cache_flushes, (unsigned long long)h->cpu.st.uncached_insns);
    fz_fini(&c);
    return 0;
}
