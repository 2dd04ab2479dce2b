/* Internals shared by the emulator's files: memory access fast paths,
 * lazy flags, exceptions.  Not for use outside vmm/emul/. */
#ifndef MINUS1_EMUL_INT_H
#define MINUS1_EMUL_INT_H

#include <string.h>

#include "emul.h"

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
/* The memory fast paths must melt into each handler (their size argument
 * is a constant there); GCC otherwise outlines them in the big handlers. */
#define EMU_INLINE static inline __attribute__((always_inline))

enum { ES_ = 0, CS_ = 1, SS_ = 2, DS_ = 3, FS_ = 4, GS_ = 5 };
enum { EAX_, ECX_, EDX_, EBX_, ESP_, EBP_, ESI_, EDI_ };

#define F_CF 0x0001u
#define F_PF 0x0004u
#define F_AF 0x0010u
#define F_ZF 0x0040u
#define F_SF 0x0080u
#define F_TF 0x0100u
#define F_IF 0x0200u
#define F_DF 0x0400u
#define F_OF 0x0800u
#define F_IOPL 0x3000u
#define F_NT 0x4000u
#define F_RF 0x10000u
#define F_VM 0x20000u
#define F_AC 0x40000u
#define F_ID 0x200000u
#define F_ARITH (F_CF | F_PF | F_AF | F_ZF | F_SF | F_OF)

enum { EXC_DE = 0, EXC_DB = 1, EXC_BP = 3, EXC_OF = 4, EXC_BR = 5, EXC_UD = 6, EXC_NM = 7,
       EXC_DF = 8, EXC_TS = 10, EXC_NP = 11, EXC_SS = 12, EXC_GP = 13, EXC_PF = 14,
       EXC_MF = 16, EXC_AC = 17, EXC_XM = 19 };

/* ---- exceptions (cpu.c) ---- */
_Noreturn void emu_raise(struct emu_cpu *c, int vec, uint32_t err, bool has_err);
#define RAISE_GP(c, e) emu_raise((c), EXC_GP, (e), true)
#define RAISE_UD(c) emu_raise((c), EXC_UD, 0, false)
_Noreturn void emu_unimplemented(struct emu_cpu *c, const char *what);

/* ---- memory (cpu.c) ---- */
uint64_t emu_lin_read_slow(struct emu_cpu *c, uint64_t lin, unsigned size, unsigned acc);
void emu_lin_write_slow(struct emu_cpu *c, uint64_t lin, unsigned size, uint64_t val);
_Noreturn void emu_seg_fault(struct emu_cpu *c, int seg);
/* Host address for a bulk string access inside one page (cpu.c), or NULL. */
uint8_t *emu_lin_host(struct emu_cpu *c, uint64_t lin, uint64_t lo, uint64_t len, bool write);
/* System (descriptor table, TSS) accesses: always supervisor. */
uint64_t emu_sys_read(struct emu_cpu *c, uint64_t lin, unsigned size);
void emu_sys_write(struct emu_cpu *c, uint64_t lin, unsigned size, uint64_t val);

EMU_INLINE uint64_t ld_host(const uint8_t *p, unsigned size)
{
    if (size == 1)
        return *p;
    if (size == 2) {
        uint16_t v;
        memcpy(&v, p, 2);
        return v;
    }
    if (size == 4) {
        uint32_t v;
        memcpy(&v, p, 4);
        return v;
    }
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

EMU_INLINE void st_host(uint8_t *p, unsigned size, uint64_t v)
{
    if (size == 1) {
        *p = (uint8_t)v;
    } else if (size == 2) {
        uint16_t w = (uint16_t)v;
        memcpy(p, &w, 2);
    } else if (size == 4) {
        uint32_t w = (uint32_t)v;
        memcpy(p, &w, 4);
    } else {
        memcpy(p, &v, 8);
    }
}

EMU_INLINE uint64_t lin_read(struct emu_cpu *c, uint64_t lin, unsigned size)
{
    struct tlb_entry *e = tlb_slot(&c->tlb, lin);
    if (likely(e->tag_read == (lin & ~0xFFFull) && (lin & 0xFFF) <= 4096 - size))
        return ld_host((const uint8_t *)(uintptr_t)(lin + e->addend), size);
    return emu_lin_read_slow(c, lin, size, 0);
}

EMU_INLINE void lin_write(struct emu_cpu *c, uint64_t lin, unsigned size, uint64_t v)
{
    struct tlb_entry *e = tlb_slot(&c->tlb, lin);
    if (likely(e->tag_write == (lin & ~0xFFFull) && (lin & 0xFFF) <= 4096 - size)) {
        st_host((uint8_t *)(uintptr_t)(lin + e->addend), size, v);
        return;
    }
    emu_lin_write_slow(c, lin, size, v);
}

static inline bool canonical(uint64_t a)
{
    return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

/* Segment:offset -> linear.  64-bit mode: no limits, only FS/GS have a
 * base, and the address must be canonical (#SS for stack accesses). */
EMU_INLINE uint64_t seg_lin(struct emu_cpu *c, int seg, uint64_t off, unsigned size,
                               bool write)
{
    const struct emu_seg *s = &c->seg[seg];
    if (c->code64) {
        uint64_t lin = seg >= FS_ ? off + s->base : off;
        if (unlikely(!canonical(lin)))
            emu_seg_fault(c, seg);
        return lin;
    }
    uint32_t o = (uint32_t)off;
    if (unlikely(!(write ? s->wr : s->rd) || o < s->lo || (uint64_t)o + size - 1 > s->hi))
        emu_seg_fault(c, seg);
    return (uint32_t)(s->base + o);
}

EMU_INLINE uint64_t rd_mem(struct emu_cpu *c, int seg, uint64_t off, unsigned size)
{
    return lin_read(c, seg_lin(c, seg, off, size, false), size);
}

EMU_INLINE void wr_mem(struct emu_cpu *c, int seg, uint64_t off, unsigned size, uint64_t v)
{
    lin_write(c, seg_lin(c, seg, off, size, true), size, v);
}

/* ---- registers ---- */
static inline uint64_t size_mask(unsigned size)
{
    return size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
}

EMU_INLINE uint64_t get_reg(const struct emu_cpu *c, unsigned reg, unsigned size)
{
    if (size == 8)
        return c->r[reg];
    if (size == 4)
        return (uint32_t)c->r[reg];
    if (size == 2)
        return (uint16_t)c->r[reg];
    return reg < EMU_AH ? (uint8_t)c->r[reg] : (uint8_t)(c->r[reg - EMU_AH] >> 8);
}

/* 32-bit writes zero-extend (64-bit mode rule; harmless elsewhere). */
EMU_INLINE void set_reg(struct emu_cpu *c, unsigned reg, unsigned size, uint64_t v)
{
    if (size == 8)
        c->r[reg] = v;
    else if (size == 4)
        c->r[reg] = (uint32_t)v;
    else if (size == 2)
        c->r[reg] = (c->r[reg] & ~0xFFFFull) | (v & 0xFFFF);
    else if (reg < EMU_AH)
        c->r[reg] = (c->r[reg] & ~0xFFull) | (v & 0xFF);
    else
        c->r[reg - EMU_AH] = (c->r[reg - EMU_AH] & ~0xFF00ull) | ((v & 0xFF) << 8);
}

/* ---- lazy flags (flags.c) ---- */
static inline void set_lf(struct emu_cpu *c, uint8_t op, unsigned size, uint64_t res,
                          uint64_t a, uint64_t b)
{
    c->lf.op = op;
    c->lf.size = (uint8_t)size;
    c->lf.res = res;
    c->lf.a = a;
    c->lf.b = b;
}
bool emu_cf(const struct emu_cpu *c);
bool emu_zf(const struct emu_cpu *c);
bool emu_sf(const struct emu_cpu *c);
bool emu_of(const struct emu_cpu *c);
bool emu_pf(const struct emu_cpu *c);
bool emu_af(const struct emu_cpu *c);
bool emu_cond(const struct emu_cpu *c, unsigned cc);

/* Condition cc with the common lazy cases inline: after CMP/SUB the
 * unsigned and signed orders come straight from the operands, after
 * TEST/AND/OR/XOR from the result (CF = OF = 0), ZF from the result of
 * any recorded op (DEC/JNZ loops); the rest goes to emu_cond.  The
 * operands are compared shifted to the top of 64 bits, so whatever the
 * handlers left above the operand size does not matter. */
EMU_INLINE bool emu_cond_fast(const struct emu_cpu *c, unsigned cc)
{
    unsigned op = c->lf.op;
    if (op != LF_SUB && op != LF_LOGIC) {
        if (op == LF_NONE || (cc >> 1) != 2)
            return emu_cond(c, cc);
    }
    unsigned sh = 64 - c->lf.size * 8u;
    uint64_t r = c->lf.res << sh;
    bool v;
    if (op == LF_LOGIC) {                               /* CF = OF = 0 */
        switch (cc >> 1) {
        case 0: case 1: v = false; break;               /* O, B */
        case 2: case 3: v = r == 0; break;              /* Z, BE */
        case 4: case 6: v = (int64_t)r < 0; break;      /* S, L */
        case 7: v = r == 0 || (int64_t)r < 0; break;    /* LE */
        default: return emu_cond(c, cc);                /* P */
        }
        return v ^ (cc & 1);
    }
    uint64_t a = c->lf.a << sh, b = c->lf.b << sh;
    switch (cc >> 1) {
    case 1: v = a < b; break;                           /* B */
    case 2: v = r == 0; break;                          /* Z (any recorded op) */
    case 3: v = a <= b; break;                          /* BE */
    case 4: v = (int64_t)r < 0; break;                  /* S */
    case 6: v = (int64_t)a < (int64_t)b; break;         /* L */
    case 7: v = (int64_t)a <= (int64_t)b; break;        /* LE */
    default: return emu_cond(c, cc);                    /* O, P */
    }
    return v ^ (cc & 1);
}

/* Folds lazy flags into c->eflags (lf.op becomes LF_NONE). */
void emu_flags_fold(struct emu_cpu *c);
/* Writes EFLAGS as POPF/IRET do, with the mask of bits allowed to change. */
void emu_write_eflags(struct emu_cpu *c, uint32_t v, uint32_t mask);
static inline bool parity8(uint64_t v) { return !__builtin_parity(v & 0xFF); }

/* ---- system (sys.c) ---- */
void emu_load_seg(struct emu_cpu *c, int sreg, uint16_t sel);
void emu_seg_from_desc(struct emu_seg *s, uint16_t sel, uint32_t lo, uint32_t hi);
void emu_seg_real(struct emu_seg *s, uint16_t sel);
void emu_seg_update_rights(struct emu_seg *s);
void emu_refresh_seg_rights(struct emu_cpu *c);
void emu_far_jump(struct emu_cpu *c, uint16_t sel, uint64_t off, unsigned opsz, bool call,
                  uint64_t ret_eip);
void emu_far_return(struct emu_cpu *c, unsigned opsz, uint16_t pop_bytes);
/* next_eip: saved in the old TSS when IRET returns to another task (NT). */
void emu_iret(struct emu_cpu *c, unsigned opsz, uint64_t next_eip);
/* Delivers vector vec; ret_eip is what is pushed.  soft: INT n (DPL check). */
void emu_do_interrupt(struct emu_cpu *c, int vec, bool soft, bool has_err, uint32_t err,
                      uint64_t ret_eip);
/* Recomputes code64/ip_mask after CS, CR0 or EFER changed. */
void emu_update_mode(struct emu_cpu *c);
void emu_syscall(struct emu_cpu *c, uint64_t next_rip);
void emu_sysret(struct emu_cpu *c, unsigned opsz);
void emu_sysenter(struct emu_cpu *c);
void emu_sysexit(struct emu_cpu *c, unsigned opsz);
void emu_set_cpl(struct emu_cpu *c, uint8_t cpl);
void emu_write_cr(struct emu_cpu *c, int n, uint64_t v);
bool emu_rdmsr(struct emu_cpu *c, uint32_t idx, uint64_t *v);
bool emu_wrmsr(struct emu_cpu *c, uint32_t idx, uint64_t v);
void emu_cpuid(struct emu_cpu *c);
/* Fills c->cpuid_tab from the host (emu_init). */
void emu_cpuid_init(struct emu_cpu *c);
bool emu_io_allowed(struct emu_cpu *c, uint16_t port, unsigned size);
/* A virtual-8086 segment cache for selector sel. */
void emu_seg_v86(struct emu_seg *s, uint16_t sel);
/* Descriptor read (vector exc outside the table) / accessed bit, for task.c. */
void emu_read_desc(struct emu_cpu *c, uint16_t sel, uint32_t *lo, uint32_t *hi, int exc);
void emu_set_accessed(struct emu_cpu *c, uint16_t sel, uint32_t hi);

/* ---- task switches (task.c) ---- */
enum emu_task_src { EMU_TASK_JMP, EMU_TASK_CALL, EMU_TASK_INT, EMU_TASK_IRET };
/* Switches to the task of TSS selector sel; the old task resumes at
 * ret_eip.  INT: an error code is pushed on the new task's stack; ext is
 * the EXT bit for error codes. */
void emu_task_switch(struct emu_cpu *c, uint16_t sel, enum emu_task_src src, uint64_t ret_eip,
                     bool has_err, uint32_t err, uint32_t ext);
/* JMP/CALL far to a TSS descriptor or task gate (lo/hi: the descriptor). */
void emu_task_far(struct emu_cpu *c, uint16_t sel, uint32_t lo, uint32_t hi, bool call,
                  uint64_t ret_eip);
/* IRET with EFLAGS.NT: back to the previous task. */
void emu_task_return(struct emu_cpu *c, uint64_t ret_eip);

/* ---- XSAVE (xsave.c) ---- */
#define CR4_OSXSAVE (1u << 18)
/* The CPU model advertises XSAVE (CPUID.1:ECX.XSAVE): CR4.OSXSAVE may be set. */
bool emu_has_xsave(const struct emu_cpu *c);

/* ---- stack helpers (ops.c uses; sys.c too) ---- */
static inline uint64_t sp_mask(const struct emu_cpu *c)
{
    return c->code64 ? ~0ull : c->seg[SS_].db ? 0xFFFFFFFFull : 0xFFFF;
}
static inline void set_sp(struct emu_cpu *c, uint64_t m, uint64_t sp)
{
    c->r[ESP_] = m == 0xFFFF ? (c->r[ESP_] & ~m) | (sp & m) : sp & m;
}
static inline void push(struct emu_cpu *c, unsigned size, uint64_t v)
{
    uint64_t m = sp_mask(c), sp = (c->r[ESP_] - size) & m;
    wr_mem(c, SS_, sp, size, v);
    set_sp(c, m, sp);
}
static inline uint64_t pop(struct emu_cpu *c, unsigned size)
{
    uint64_t m = sp_mask(c), sp = c->r[ESP_] & m;
    uint64_t v = rd_mem(c, SS_, sp, size);
    set_sp(c, m, sp + size);
    return v;
}

/* GPR operands of FPU-glue instructions: decode.c replaces the Capstone
 * register ids in fpu_glue_insn.dgpr/sgpr with these handles. */
#define EMU_FPU_GPR_TAG 0x8000u
#define EMU_FPU_GPR(num, size) ((uint16_t)(EMU_FPU_GPR_TAG | ((size) << 8) | (num)))

/* ---- decoding (decode.c) ---- */
struct emu_decoder;
struct emu_decoder *emu_decoder_new(void);
void emu_decoder_free(struct emu_decoder *d);
/* Decodes one instruction of bytes[0..len) at address eip; mode is the
 * code size: 0 16-bit, 1 32-bit, 2 64-bit.  Returns the length, 0 if
 * undecodable (the insn then raises #UD). */
unsigned emu_decode(struct emu_decoder *d, const uint8_t *bytes, unsigned len, uint64_t eip,
                    unsigned mode, struct emu_insn *out);
/* Fuses a block's closing compare + Jcc into one dispatch (emu_insn n-2
 * gets a pair handler).  Returns how many slots the block loop runs. */
unsigned emu_fuse_tail(struct emu_insn *insns, unsigned n);
/* Gives slots 0..nexec-2 of a cached block their threaded forms (each
 * jumps to the next slot's handler; see ops.c). */
void emu_thread_block(struct emu_insn *insns, unsigned nexec);
/* The base handler of a threaded form (f itself if it is none). */
emu_handler emu_unthreaded_form(emu_handler f);
/* Ends a block after this instruction? */
bool emu_insn_ends_block(const struct emu_insn *i);

/* Handlers referenced by decode.c (ops.c). */
#define H(name) void name(struct emu_cpu *c, const struct emu_insn *i)
H(h_ud);

#endif
