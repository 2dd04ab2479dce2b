/* minus1's x86 emulator (interpreter tier).
 *
 * DESIGN
 *
 * State.  struct emu_cpu holds the architectural state: R0-R15 and RIP
 * (64-bit; 32-bit writes zero-extend), EFLAGS, the six segment registers each with its descriptor cache (base,
 * byte-granular limit, type/S/DPL/P/D/G and precomputed "readable" and
 * "writable" bits), LDTR/TR caches, GDTR/IDTR, CR0/2/3/4, DR0-7, EFER and
 * the few MSRs firmware touches.  Segment caches are only reloaded by
 * segment loads, never by mode switches, which is exactly what makes
 * unreal ("big real") mode work.  The CPL is the DPL of the CS cache in
 * protected mode (0 in real mode).
 *
 * Lazy flags.  Arithmetic instructions do not compute EFLAGS; they record
 * (op kind incl. size, result, both operands) in cpu->lf.  CF/PF/AF/ZF/
 * SF/OF are derived when something reads them (Jcc, SETcc, PUSHF, ADC...).
 * Instructions with odd flag rules (shifts, rotates, MUL, BCD) compute
 * flags eagerly into cpu->eflags and set lf.op = LF_NONE.  INC/DEC keep
 * the old CF in cpu->eflags (materialised before recording).
 *
 * Decoded form.  Capstone (CS_MODE_16/32, CS_OPT_DETAIL) decodes each
 * instruction ONCE; decode.c turns cs_insn into struct emu_insn: a handler
 * pointer, up to three operand descriptors (register / immediate / memory
 * with base, index, scale, displacement, segment), operand and address
 * size, REP/LOCK prefixes, length, a sub-op or condition code, and the
 * immediates.  Handlers never look at Capstone data.
 *
 * Long mode.  EFER.LMA turns on with CR0.PG while EFER.LME (PAE required);
 * code64 = LMA && CS.L picks 64-bit decoding (REX, RIP-relative, 64-bit
 * default stack/branch sizes), no segment limits, FS/GS bases only and
 * canonical checks (#GP/#SS) in seg_lin; LMA without CS.L is
 * compatibility mode.  Interrupts in long mode use 16-byte gates, IST and
 * the 64-bit TSS; so do far CALL/JMP through 16-byte call gates (64-bit
 * targets only, RSPn from the TSS with a null SS, no parameter copy);
 * IRETQ, SYSCALL/SYSRET, SYSENTER/SYSEXIT, SWAPGS and the FS/GS/
 * KERNEL_GS base MSRs are in sys.c.  x87/MMX/SSE..SSSE3 go through
 * the FPU library (fpu_glue.h) from h_fpu, which applies CR0.EM/TS/NE and
 * CR4.OSFXSR/OSXMMEXCPT.
 *
 * Blocks.  Decoded instructions are grouped in blocks keyed by (guest-
 * physical start address, mode bits = CS.D | CS.L << 1 | EFER.LMA << 2).  A block ends at a control
 * transfer, at a page boundary, or after an instruction that changes mode,
 * interrupt state or the memory map (MOV CRn, LxDT, segment loads of SS
 * and CS, POPF, STI/CLI, IN/OUT, HLT, INT...).  Blocks and instructions
 * live in fixed arenas allocated at creation; when an arena is full the
 * whole cache is dropped at a block boundary.  So the run loop never
 * allocates.  An instruction that straddles a page boundary, or code
 * outside RAM/ROM, runs from a one-instruction scratch block that is not
 * cached.
 *
 * Chains.  Each cached block remembers its last two successors as
 * (linear CS:RIP, block, TLB generation).  The next block is taken from
 * there when the linear address matches, the generation is current and
 * the target is still valid and of the same mode; otherwise the TLB +
 * hash lookup runs and refills a slot.  The soft TLB's generation is
 * bumped by every TLB flush (CR3/CR0/CR4 writes, INVLPG, a CPL 3 <->
 * 0-2 switch, EFER) and by every cache flush, so a chain never outlives
 * the translation or the arena it was made under; SMC invalidation
 * clears the target's valid bit.  The CS limit / canonical check still
 * runs per block.  Instructions are counted per block (a fault adds the
 * ones before it), interrupts are still checked between blocks only.
 *
 * Fast forms.  The decoder picks operand-size-specialised handlers for
 * the hottest instructions (MOV load/store, MOVZX/MOVSX from memory,
 * INC/DEC and SHL/SHR/SAR-by-immediate of a register, ALU reg/reg and
 * reg/imm), and fuses a block's closing CMP/TEST/DEC/ALU-register + Jcc
 * into one slot (the pair's handler runs both; the block's `nexec` is
 * then n - 1 while it still counts n instructions).  emu_special_form
 * (ops.c) narrows further where a constant removes a branch: per-op ALU
 * (ADD/OR/AND/SUB/XOR/CMP) and shift handlers, IMUL/TEST/CMOVcc of two
 * registers, CMP r8,imm8, MOVZX r32/r64,r8/r16 and MOVSXD r64,r32, and
 * in 64-bit mode (blocks are keyed by mode) memory moves,
 * ALU reg,[mem] and LEA whose address is base (+ index) without FS/GS:
 * no mode, address-size or segment test is left, only the canonical one.
 *
 * Threaded slots.  Every slot of a block but its last whose handler is a
 * plain data instruction gets a threaded form: it runs the handler, then
 * jumps to the next slot's handler itself (a sibling call), so a block is
 * mostly one chain of indirect jumps rather than call + return + loop
 * test per instruction.  Where the chain ends (the first non-threaded
 * slot) is known at decode time (emu_insn.run): the block loop sets c->at
 * to it before the call and resumes after it.  A threaded slot that can
 * write memory returns early when stop_block is set (SMC), and only then
 * stores itself in c->at; register-only and load forms cannot set it and
 * skip the test.  The one instruction of an STI/MOV SS shadow runs
 * through its unthreaded handler (emu_unthreaded_form).  Counting and fault unwinding
 * are unchanged (per block; the faulting RIP is found by walking lengths).  Jcc/SETcc/CMOVcc
 * evaluate conditions after CMP/SUB/logic ops inline from the lazy-flag
 * record (emu_cond_fast); the rest goes through emu_cond.
 *
 * Invalidation.  Each RAM page has a "holds decoded code" byte.  A page
 * that gets code loses its soft-TLB write permission, so every guest
 * write to it takes the slow path, which invalidates exactly the blocks
 * of that page whose byte range overlaps the write (page -> block chain).
 * A per-page mask of the 64-byte chunks holding code (recomputed from the
 * surviving blocks on each invalidation) lets writes to the data parts of
 * mixed code/data pages skip the chain walk: firmware and iPXE's 16-bit
 * code keep variables and stacks next to their code.
 * If the running block is hit, it stops after the current instruction.
 * Device DMA (another thread) reports writes through guest_mem's
 * ram_written notifier: it marks the page "stale" atomically and raises a
 * flag the vCPU checks between blocks.  Memory-map changes (PAM, BARs)
 * and A20 changes drop the whole cache and the TLB.
 *
 * Strings.  REP MOVS/STOS run in chunks bounded by the current source
 * and destination linear pages (ops.c): each chunk translates its pages
 * once, as its first element would, then moves host memory; MMIO, ROM,
 * straddling elements and segment-limit crossings go element by element,
 * so faults and device accesses are those of the element loop.
 *
 * Single steps.  emu_step() runs one instruction fetched through paging
 * without the cache: the KVM assist (vmm/arch/kvm_assist.c) uses it on
 * state taken from KVM, whose guest writes we never see.
 *
 * Exceptions.  Faults unwind with siglongjmp to the block loop (one
 * sigsetjmp per block entry, not per instruction); EIP still points at
 * the faulting instruction because handlers only commit EIP at their
 * end.  Delivery that faults turns into #DF by the SDM's benign /
 * contributory / page-fault classes; a fault while delivering #DF is a
 * triple fault: the run loop stops with EMU_SHUTDOWN.
 *
 * Capstone 4.0.2 quirks (worked around in decode.c only):
 *  1. Relative branch targets are pre-computed (and in 16-bit mode
 *     truncated inconsistently): we take the rel8/16/32 from the raw bytes
 *     at encoding.imm_offset and add it ourselves.
 *  2. x86_op_mem.segment is only set for explicit overrides and for the
 *     ES of string destinations: default segments (SS for BP/SP bases)
 *     are computed by us from prefix[1] and the base register.
 *  3. Far pointers (ljmp/lcall ptr16:16/32) come as two IMM operands;
 *     ENTER's two immediates likewise; we read them from the raw bytes.
 *  4. Immediates are sign-extended to 64 bits regardless of the operand
 *     size: we mask them to the operand size.
 *  5. Operand sizes of some implicit operands (PUSH/POP of segment
 *     registers, PUSHF, IRET, string ops) are reported inconsistently: the
 *     operand size is computed from CS.D and the 0x66 prefix instead.
 *  6. Some encodings decode to an instruction id with no operands for
 *     their implicit AL/AX/EAX forms (e.g. AAM/AAD immediate, XLAT, IN/OUT
 *     with DX), handlers use the opcode bytes we keep.
 *  7. Capstone accepts LOCK on any instruction; we raise #UD for LOCK on
 *     instructions where it is not allowed.
 *
 * CPUID.  The shared CPU model (vmm/arch/cpuid.c, emulator features)
 * builds the table once at emu_init: vendor, family and brand from the
 * host, every feature bit one this emulator executes (tests/unit/
 * test_cpuid.c probes each against the decoder), leaves 2/4 (caches),
 * 0xD (XSAVE layout) and 0x80000008 our own; maximum leaves 0xD and
 * 0x80000008.  CPUID.1:ECX.OSXSAVE mirrors CR4.OSXSAVE at run time.
 *
 * XSAVE (xsave.c).  XCR0 holds x87|SSE at most (no AVX); XSAVE/XSAVEOPT/
 * XRSTOR in the standard form over the FXSAVE legacy region + header (576
 * bytes, fpu_xsave/fpu_xrstor), every enabled component reported in use;
 * XSAVEC/XSAVES/XRSTORS raise #UD (not advertised).
 *
 * Virtual-8086 mode (sys.c): entered by IRETD at CPL0 with VM in the
 * popped EFLAGS or by a task switch; segment loads build real-mode caches
 * (base sel << 4, 64K, DPL 3) and CPL is 3.  No VME (not advertised):
 * CLI/STI/PUSHF/POPF/INT n/IRET raise #GP(0) at IOPL < 3; IN/OUT always
 * consult the TSS I/O bitmap; LAR/LSL/VERR/VERW/ARPL/SLDT/STR/LLDT/LTR
 * are #UD.  An interrupt or exception leaves v86 mode through a 16/32-bit
 * gate to a non-conforming DPL0 code segment only (#GP(sel) otherwise), on
 * the TSS ring-0 stack, pushing GS FS DS ES SS ESP EFLAGS CS EIP [err] and
 * nulling DS/ES/FS/GS.
 *
 * Task switches (task.c): JMP/CALL far to a TSS or task gate, INT n /
 * exceptions / IRQs through an IDT task gate (error code pushed on the
 * new task's stack), IRET with NT; 32- and 16-bit TSSs.  The new TSS is
 * checked and read completely before anything changes (faults there are
 * the old task's); the new task's LDT and segment descriptors are loaded
 * after the commit, so their #TS/#NP/#SS faults are the new task's.  Not
 * modelled: the TSS T (debug trap) bit.
 *
 * Not implemented: VME/PVI, the TSS T bit, task switches in long mode
 * (IA-32e has none), AVX and the compacted/supervisor XSAVE forms,
 * FSGSBASE/SMEP/SMAP/PCID/POPCNT/MOVBE/SSE4 (none advertised).
 */
#ifndef MINUS1_EMUL_H
#define MINUS1_EMUL_H

#include <setjmp.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "../memory.h"
#include "../paging/paging.h"
#include "../arch/cpuid.h"
#include "../arch/x86.h"
#include "fpu_glue.h"

struct emu_cpu;
struct emu_insn;

typedef void (*emu_handler)(struct emu_cpu *c, const struct emu_insn *i);

enum emu_opkind { OPK_NONE, OPK_REG, OPK_IMM, OPK_MEM, OPK_SREG, OPK_CR, OPK_DR };

struct emu_operand {
    uint8_t kind;           /* enum emu_opkind; IMM: value in disp (masked) */
    uint8_t size;           /* bytes */
    uint8_t reg;            /* REG: 0-15 (8-bit: 0-15 low byte, EMU_AH+k high byte of
                               0-3, REX-less AH..BH); SREG/CR/DR number */
    uint8_t base, index;    /* MEM: GPR number, EMU_RIPREL (base only) or EMU_NOREG */
    uint8_t scale;          /* shift count 0-3 */
    uint8_t seg;            /* MEM: effective segment */
    int64_t disp;           /* IMM: value (masked to the operand size); MEM: displacement */
};
#define EMU_NOREG 0xFF
#define EMU_AH 16           /* AH, CH, DH, BH = EMU_AH + 0..3 */
#define EMU_RIPREL 20       /* RIP-relative: base is the next instruction's RIP */

struct emu_insn {
    emu_handler fn;
    uint8_t len;
    uint8_t opsz, adsz;     /* 2, 4 or 8 */
    uint8_t rep;            /* 0, EMU_REP (F3), EMU_REPNE (F2) */
    uint8_t seg;            /* segment override or default DS */
    uint8_t sub;            /* ALU op / condition code / misc */
    uint8_t nops;
    uint8_t op0;            /* first opcode byte (after 0F if two-byte) */
    uint8_t ends;           /* the block ends after this instruction */
    uint8_t run;            /* threaded slots after this one that it runs on
                               into: the block loop's resume point is this + run */
    uint16_t id;            /* Capstone instruction id, for diagnostics */
    /* x87/MMX/SSE instructions (h_fpu) use op[0] only, for their memory
     * operand: the FPU library's decoded form shares the space of op[1..2],
     * which keeps every decoded instruction 24 bytes smaller (88, was 112)
     * for the block loop's cache footprint. */
    union {
        struct emu_operand op[3];
        struct {
            struct emu_operand fpu_mem_op_;     /* = op[0] */
            struct fpu_glue_insn fg;
        };
    };
    uint64_t imm;           /* immediate (masked) / branch displacement (sign-extended) */
    uint32_t imm2;          /* far segment / ENTER level */
};
_Static_assert(sizeof(struct fpu_glue_insn) <= 2 * sizeof(struct emu_operand),
               "the FPU glue form must fit in op[1..2]");
#define EMU_REP 1
#define EMU_REPNE 2

/* Lazy flag ops; the size is kept separately. */
enum lf_op { LF_NONE, LF_ADD, LF_ADC, LF_SUB, LF_SBB, LF_LOGIC, LF_INC, LF_DEC, LF_NEG };

struct emu_seg {
    uint64_t base;                        /* 64-bit for FS/GS (MSRs), else 32-bit */
    uint32_t limit;
    uint16_t sel;
    uint8_t type, dpl;
    bool present, s, db, l, g, avl, valid; /* valid: usable (not a null selector in PM) */
    bool rd, wr;                          /* precomputed access rights */
    uint32_t lo, hi;                      /* valid offsets [lo, hi] (expand-down aware) */
};

/* Where the emulator meets the machine. */
struct emu_env {
    void *opaque;
    void (*pio)(void *opaque, uint16_t port, unsigned size, bool is_write, uint32_t *val);
    void (*mmio)(void *opaque, uint64_t addr, unsigned size, bool is_write, uint64_t *val);
    void (*log)(void *opaque, const char *msg);
    atomic_bool *intr_line;     /* INTR from the PIC: stop between blocks when takeable */
};

struct emu_block;

/* Why emu_run() returned. */
enum emu_exit { EMU_BUDGET, EMU_HLT, EMU_SHUTDOWN, EMU_STOP, EMU_IRQ_CHECK };

struct emu_stats {
    uint64_t insns, blocks_run, blocks_decoded, insns_decoded, cache_hits, cache_misses,
        cache_flushes, smc_invalidations, exceptions, interrupts, v86_entries,
        task_switches, uncached_insns, unimplemented,
        str_bulk, str_single;   /* REP MOVS/STOS elements: in page chunks / one by one */
};

struct emu_cpu {
    /* ---- hot state ---- */
    uint64_t r[16];
    union { uint64_t rip; uint64_t eip; };
    uint64_t ip_mask;       /* 0xFFFF, 0xFFFFFFFF or ~0 by the code size */
    uint32_t eflags;        /* authoritative except the 6 arithmetic flags when lf.op != LF_NONE */
    struct { uint64_t res, a, b; uint8_t op, size; } lf;
    struct emu_seg seg[6];
    uint8_t cpl;
    bool pe, pg;
    bool lma;               /* EFER.LMA */
    bool code64;            /* 64-bit mode: LMA and CS.L */
    bool stop_block;        /* the current block must end after this insn */
    /* The slot the block loop or a threaded handler last dispatched to:
     * where the loop resumes when a chain of threaded handlers returns
     * (see emu_threaded_form in ops.c). */
    const struct emu_insn *at;
    bool intr_shadow;       /* STI / MOV SS / POP SS */
    bool halted;
    bool a20;
    struct soft_tlb tlb;
    atomic_bool kick;
    atomic_bool dma_pending;

    /* ---- system state ---- */
    struct emu_seg ldtr, tr;
    struct { uint64_t base; uint16_t limit; } gdt, idt;
    uint64_t cr0, cr2, cr3, cr4, cr8;
    uint64_t efer;
    uint64_t dr[8];
    uint64_t tsc_offset, apic_base, pat, mtrr_def, sysenter_cs, sysenter_esp, sysenter_eip;
    uint64_t misc_enable;
    uint64_t xcr0;          /* XSETBV/XGETBV; XSAVE components enabled (x87 always) */
    struct cpuid_table cpuid;   /* the CPU model's answers (vmm/arch/cpuid.c, emulator features) */
    uint64_t star, lstar, cstar, sfmask, kernel_gs_base, tsc_aux;
    struct emu_fpu fpu;     /* x87/MMX/SSE state (fpu.h) */

    /* ---- exceptions ---- */
    sigjmp_buf jb;
    int exc_vec;            /* exception being raised */
    uint32_t exc_err;
    bool exc_has_err;
    int delivering;         /* vector being delivered (-1 none), for #DF rules */
    bool shutdown;

    /* ---- environment ---- */
    struct guest_mem *mem;
    struct emu_env env;
    uint64_t ram_pages;
    uint8_t *code_page;               /* per RAM page: decoded code present */
    _Atomic uint8_t *stale_page;      /* per RAM page: written by DMA */
    void *cache;                      /* struct emu_cache (decode.c / block cache) */
    uint64_t map_gen, seen_map_gen;   /* memory map changes to apply */
    struct emu_block *cur_block;
    uint64_t blk_rip;                 /* RIP the current block started at */
    bool cur_block_dead;
    bool str_elementwise;             /* tests: REP MOVS/STOS one element at a time (the
                                         reference the bulk path is compared with) */
    struct emu_stats st;
    char unimpl_msg[128];
};

/* Creation: allocates the decode cache arenas and the per-page tables.
 * Returns 0 or -1. */
int emu_init(struct emu_cpu *c, struct guest_mem *mem, const struct emu_env *env);
void emu_fini(struct emu_cpu *c);

/* Architectural state in and out (the x86_state format the machine uses). */
void emu_set_state(struct emu_cpu *c, const struct x86_state *s);
void emu_get_state(struct emu_cpu *c, struct x86_state *s);
void emu_reset(struct emu_cpu *c, const struct x86_state *s);

/* Runs until about `budget` instructions ran (exception deliveries count
 * too, so a fault storm that retires nothing still returns), HLT,
 * shutdown, or a kick.
 * Interrupts are not taken here: the caller checks emu_can_take_intr()
 * between calls and uses emu_interrupt(). */
enum emu_exit emu_run(struct emu_cpu *c, uint64_t budget);
bool emu_can_take_intr(const struct emu_cpu *c);
/* Delivers external interrupt `vec` (un-halts).  Returns false on triple fault. */
bool emu_interrupt(struct emu_cpu *c, int vec);

/* Memory-map changed (slot added/removed, A20): flush TLB and decode cache
 * at the next block boundary.  vCPU thread. */
void emu_map_changed(struct emu_cpu *c);
/* Any thread: RAM [gpa, gpa+len) was written behind the CPU's back. */
void emu_ram_written(struct emu_cpu *c, uint64_t gpa, uint64_t len);

/* Flags materialised (lazy flags folded in). */
uint32_t emu_get_eflags(struct emu_cpu *c);

/* Runs exactly one instruction fetched from CS:EIP through paging,
 * without the decode cache (the KVM assist: RAM changes behind our back
 * between calls).  Faults are delivered to the guest.  Returns 0, the
 * vector + 1 of a delivered exception, or -1 on triple fault (shutdown). */
int emu_step(struct emu_cpu *c);

/* Run exactly one instruction from a byte buffer at the current CS:EIP,
 * bypassing the cache (tests).  Returns 0, or the exception vector + 1
 * that was raised (and delivered). */
int emu_step_bytes(struct emu_cpu *c, const uint8_t *bytes, unsigned len);

#endif
