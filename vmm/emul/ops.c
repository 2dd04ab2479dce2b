/* Instruction handlers.  Each one runs with c->eip at the instruction and
 * commits the next EIP only at its end, after every access that can
 * fault, so a fault restarts the instruction cleanly. */
#include "ops.h"

#include <stdio.h>

#include "emul_int.h"

/* ---- operand access ---- */

/* Effective address.  RIP-relative operands are relative to the next
 * instruction (i->len). */
static inline uint64_t ea_i(const struct emu_cpu *c, const struct emu_operand *o, unsigned adsz,
                            unsigned len)
{
    uint64_t a = (uint64_t)o->disp;
    if (o->base != EMU_NOREG)
        a += o->base == EMU_RIPREL ? c->rip + len : c->r[o->base];
    if (o->index != EMU_NOREG)
        a += c->r[o->index] << o->scale;
    return adsz == 8 ? a : adsz == 4 ? (uint32_t)a : a & 0xFFFF;
}
#define ea(c, o, adsz) ea_i((c), (o), (adsz), i->len)

EMU_INLINE uint64_t rd_op(struct emu_cpu *c, const struct emu_insn *i, unsigned k)
{
    const struct emu_operand *o = &i->op[k];
    switch (o->kind) {
    case OPK_REG: return get_reg(c, o->reg, o->size);
    case OPK_IMM: return (uint64_t)o->disp;
    case OPK_MEM: return rd_mem(c, o->seg, ea(c, o, i->adsz), o->size);
    case OPK_SREG: return c->seg[o->reg].sel;
    default: return 0;
    }
}

static inline void wr_op(struct emu_cpu *c, const struct emu_insn *i, unsigned k, uint64_t v)
{
    const struct emu_operand *o = &i->op[k];
    if (o->kind == OPK_REG)
        set_reg(c, o->reg, o->size, v);
    else if (o->kind == OPK_MEM)
        wr_mem(c, o->seg, ea(c, o, i->adsz), o->size, v);
}

/* Read-modify-write destination: resolves the address once. */
struct rmw { bool mem; uint64_t lin; };

static inline uint64_t rmw_read(struct emu_cpu *c, const struct emu_insn *i, struct rmw *w,
                                bool write)
{
    const struct emu_operand *o = &i->op[0];
    if (o->kind == OPK_REG) {
        w->mem = false;
        w->lin = 0;         /* never used; keeps -O3's uninitialised-use analysis quiet */
        return get_reg(c, o->reg, o->size);
    }
    w->mem = true;
    w->lin = seg_lin(c, o->seg, ea(c, o, i->adsz), o->size, write);
    return lin_read(c, w->lin, o->size);
}

static inline void rmw_write(struct emu_cpu *c, const struct emu_insn *i, const struct rmw *w,
                             uint64_t v)
{
    if (w->mem)
        lin_write(c, w->lin, i->op[0].size, v);
    else
        set_reg(c, i->op[0].reg, i->op[0].size, v);
}

static inline void next(struct emu_cpu *c, const struct emu_insn *i)
{
    c->rip = (c->rip + i->len) & c->ip_mask;
}

static inline uint64_t next_eip(const struct emu_cpu *c, const struct emu_insn *i)
{
    return (c->rip + i->len) & c->ip_mask;
}

/* Near branch target check: canonical in 64-bit mode, else the CS limit. */
static inline void check_target(struct emu_cpu *c, uint64_t target)
{
    if (c->code64) {
        if (unlikely(!canonical(target)))
            RAISE_GP(c, 0);
    } else if (c->pe && target > c->seg[CS_].limit) {
        RAISE_GP(c, 0);
    }
}

static inline uint64_t branch_mask(const struct emu_insn *i, uint64_t target)
{
    return i->opsz == 2 ? target & 0xFFFF : i->opsz == 4 ? (uint32_t)target : target;
}

static inline void jump_to(struct emu_cpu *c, const struct emu_insn *i, uint64_t target)
{
    target = branch_mask(i, target);
    check_target(c, target);
    c->rip = target;
}

static inline uint64_t sext(uint64_t v, unsigned size)
{
    return size == 1 ? (uint64_t)(int64_t)(int8_t)v
         : size == 2 ? (uint64_t)(int64_t)(int16_t)v
         : size == 4 ? (uint64_t)(int64_t)(int32_t)v : v;
}

EMU_INLINE void set_szp(struct emu_cpu *c, uint64_t res, unsigned sz, bool cf, bool of, bool af)
{
    /* All six arithmetic flags are replaced and the other EFLAGS bits are
     * authoritative in c->eflags even while lazy flags are pending, so the
     * pending ones need not be computed first (shifts and IMUL in Linux's
     * crypto code spent ~10% of their time folding flags nobody read). */
    c->lf.op = LF_NONE;
    uint64_t f = c->eflags & ~F_ARITH;
    res &= size_mask(sz);
    f |= cf ? F_CF : 0;
    f |= of ? F_OF : 0;
    f |= af ? F_AF : 0;
    f |= res == 0 ? F_ZF : 0;
    f |= (res >> (sz * 8 - 1)) & 1 ? F_SF : 0;
    f |= parity8(res) ? F_PF : 0;
    c->eflags = f;
}

/* Writes a register used as an address (count/index) of mask m's size:
 * 16-bit merges, 32-bit zero-extends. */
static inline void set_sp_like(struct emu_cpu *c, int reg, uint64_t m, uint64_t v)
{
    c->r[reg] = m == 0xFFFF ? (c->r[reg] & ~m) | (v & m) : v & m;
}

static inline void set_flag(struct emu_cpu *c, uint64_t flag, bool v)
{
    emu_flags_fold(c);
    c->eflags = v ? c->eflags | flag : c->eflags & ~flag;
}

/* ---- ALU ---- */

static inline uint64_t alu(struct emu_cpu *c, unsigned op, unsigned sz, uint64_t a, uint64_t b)
{
    uint64_t r, m = size_mask(sz);
    switch (op) {
    case ALU_ADD: r = (a + b) & m; set_lf(c, LF_ADD, sz, r, a, b); break;
    case ALU_OR:  r = a | b; set_lf(c, LF_LOGIC, sz, r, a, b); break;
    case ALU_ADC: {
        uint64_t cf = emu_cf(c);
        r = (a + b + cf) & m;
        set_lf(c, LF_ADC, sz, r, a, b);
        break;
    }
    case ALU_SBB: {
        uint64_t cf = emu_cf(c);
        r = (a - b - cf) & m;
        set_lf(c, LF_SBB, sz, r, a, b);
        break;
    }
    case ALU_AND: r = a & b; set_lf(c, LF_LOGIC, sz, r, a, b); break;
    case ALU_XOR: r = a ^ b; set_lf(c, LF_LOGIC, sz, r, a, b); break;
    default:      r = (a - b) & m; set_lf(c, LF_SUB, sz, r, a, b); break;    /* SUB, CMP */
    }
    return r;
}

H(h_alu)
{
    unsigned sz = i->op[0].size;
    uint64_t b = rd_op(c, i, 1) & size_mask(sz);
    struct rmw w;
    uint64_t a = rmw_read(c, i, &w, i->sub != ALU_CMP);
    uint64_t r = alu(c, i->sub, sz, a, b);
    if (i->sub != ALU_CMP)
        rmw_write(c, i, &w, r);
    next(c, i);
}

/* Fast forms: register destination, register, immediate or (read-only)
 * memory source.  The bodies take the ALU op as an argument: the generic
 * handlers pass i->sub (ADC/SBB use those), and the per-op handlers below
 * pass a constant, which folds alu()'s switch away and keeps them leaf
 * functions (no CF materialisation call, no saved registers). */
EMU_INLINE void alu_rr(struct emu_cpu *c, const struct emu_insn *i, unsigned op, unsigned sz)
{
    uint64_t a = c->r[i->op[0].reg], b = c->r[i->op[1].reg];
    if (sz == 4)
        a = (uint32_t)a, b = (uint32_t)b;
    uint64_t r = alu(c, op, sz, a, b);
    if (op != ALU_CMP)
        c->r[i->op[0].reg] = r;
    c->rip += i->len;
}

EMU_INLINE void alu_ri(struct emu_cpu *c, const struct emu_insn *i, unsigned op, unsigned sz)
{
    uint64_t a = c->r[i->op[0].reg], b = (uint64_t)i->op[1].disp;
    if (sz == 4)
        a = (uint32_t)a, b = (uint32_t)b;
    uint64_t r = alu(c, op, sz, a, b);
    if (op != ALU_CMP)
        c->r[i->op[0].reg] = r;
    c->rip += i->len;
}

/* ALU reg, [mem] of 32/64 bits: the source is only read, the
 * destination is a register (CMP leaves it). */
EMU_INLINE void alu_rm(struct emu_cpu *c, const struct emu_insn *i, unsigned op, unsigned sz)
{
    uint64_t b = rd_mem(c, i->op[1].seg, ea(c, &i->op[1], i->adsz), sz);
    uint64_t a = sz == 8 ? c->r[i->op[0].reg] : (uint32_t)c->r[i->op[0].reg];
    uint64_t r = alu(c, op, sz, a, b);
    if (op != ALU_CMP)
        c->r[i->op[0].reg] = r;
    next(c, i);
}

/* 64-bit mode, 64-bit address of a base register (no RIP-relative) with
 * an optional index and a segment without a base (not FS/GS): the
 * decoder knows all that (blocks are keyed by mode), so only the
 * canonical check (#GP, #SS for SS) is left at run time. */
EMU_INLINE uint64_t lin64(struct emu_cpu *c, const struct emu_operand *o, bool ix)
{
    uint64_t a = (uint64_t)o->disp + c->r[o->base];
    if (ix)
        a += c->r[o->index] << o->scale;
    if (unlikely(!canonical(a)))
        emu_seg_fault(c, o->seg);
    return a;
}

/* ALU reg, [mem] in 64-bit mode with such an address (ix: indexed). */
EMU_INLINE void alu_rmq(struct emu_cpu *c, const struct emu_insn *i, unsigned op, unsigned sz,
                        bool ix)
{
    uint64_t b = lin_read(c, lin64(c, &i->op[1], ix), sz);
    uint64_t a = sz == 8 ? c->r[i->op[0].reg] : (uint32_t)c->r[i->op[0].reg];
    uint64_t r = alu(c, op, sz, a, b);
    if (op != ALU_CMP)
        c->r[i->op[0].reg] = r;
    c->rip += i->len;
}
EMU_INLINE void alu_rm32b(struct emu_cpu *c, const struct emu_insn *i, unsigned op, unsigned sz)
{
    alu_rmq(c, i, op, sz, false);
}
EMU_INLINE void alu_rm32x(struct emu_cpu *c, const struct emu_insn *i, unsigned op, unsigned sz)
{
    alu_rmq(c, i, op, sz, true);
}
#define alu_rm64b alu_rm32b
#define alu_rm64x alu_rm32x

H(h_alu_rr32) { alu_rr(c, i, i->sub, 4); }
H(h_alu_ri32) { alu_ri(c, i, i->sub, 4); }
H(h_alu_rr64) { alu_rr(c, i, i->sub, 8); }
H(h_alu_ri64) { alu_ri(c, i, i->sub, 8); }
H(h_alu_rm32) { alu_rm(c, i, i->sub, 4); }
H(h_alu_rm64) { alu_rm(c, i, i->sub, 8); }

/* The per-op forms: (form, size) x (ADD, OR, AND, SUB, XOR, CMP). */
#define ALU_FORMS(X)                                                                    \
    X(rr, 4, rr32) X(ri, 4, ri32) X(rr, 8, rr64) X(ri, 8, ri64) X(rm, 4, rm32) X(rm, 8, rm64) \
    X(rm32b, 4, rm32b) X(rm32x, 4, rm32x) X(rm64b, 8, rm64b) X(rm64x, 8, rm64x)
#define ALU_FAST_OPS(X, form, sz, tag)                                                  \
    X(form, sz, tag, add, ALU_ADD) X(form, sz, tag, or, ALU_OR)                         \
    X(form, sz, tag, and, ALU_AND) X(form, sz, tag, sub, ALU_SUB)                       \
    X(form, sz, tag, xor, ALU_XOR) X(form, sz, tag, cmp, ALU_CMP)
#define ALU_OP_HANDLER(form, sz, tag, opn, op)                                          \
    static void h_##opn##_##tag(struct emu_cpu *c, const struct emu_insn *i)            \
    {                                                                                   \
        alu_##form(c, i, op, sz);                                                       \
    }
#define ALU_OP_HANDLERS(form, sz, tag) ALU_FAST_OPS(ALU_OP_HANDLER, form, sz, tag)
ALU_FORMS(ALU_OP_HANDLERS)

H(h_test)
{
    unsigned sz = i->op[0].size;
    uint64_t r = rd_op(c, i, 0) & rd_op(c, i, 1) & size_mask(sz);
    set_lf(c, LF_LOGIC, sz, r, 0, 0);
    next(c, i);
}

H(h_incdec)
{
    unsigned sz = i->op[0].size;
    struct rmw w;
    uint64_t a = rmw_read(c, i, &w, true);
    bool cf = emu_cf(c);
    uint64_t r = (i->sub ? a - 1 : a + 1) & size_mask(sz);
    rmw_write(c, i, &w, r);
    c->eflags = (c->eflags & ~F_CF) | (cf ? F_CF : 0);
    set_lf(c, i->sub ? LF_DEC : LF_INC, sz, r, a, 1);
    next(c, i);
}

H(h_neg)
{
    unsigned sz = i->op[0].size;
    struct rmw w;
    uint64_t a = rmw_read(c, i, &w, true);
    uint64_t r = (0u - a) & size_mask(sz);
    rmw_write(c, i, &w, r);
    set_lf(c, LF_SUB, sz, r, 0, a);
    next(c, i);
}

H(h_not)
{
    struct rmw w;
    uint64_t a = rmw_read(c, i, &w, true);
    rmw_write(c, i, &w, ~a);
    next(c, i);
}

/* ---- shifts and rotates ---- */

static unsigned shift_count(struct emu_cpu *c, const struct emu_insn *i)
{
    if (i->nops < 2)
        return 1;
    return (unsigned)rd_op(c, i, 1) & (i->op[0].size == 8 ? 0x3F : 0x1F);
}

H(h_shift)
{
    unsigned sz = i->op[0].size, bits = sz * 8, n = shift_count(c, i);
    uint64_t m = size_mask(sz);
    struct rmw w;
    uint64_t a = rmw_read(c, i, &w, true) & m, r;
    if (n == 0) {
        next(c, i);
        return;
    }
    bool cf, of;
    /* Rotates keep SF/ZF/AF/PF, so pending lazy flags are folded first;
     * SHL/SHR/SAR replace all six (set_szp) and skip that work. */
    if (i->sub <= SH_RCR)
        emu_flags_fold(c);
    switch (i->sub) {
    case SH_ROL: {
        unsigned k = n % bits;
        r = k ? ((a << k) | (a >> (bits - k))) & m : a;
        cf = r & 1;
        of = ((r >> (bits - 1)) & 1) ^ cf;
        rmw_write(c, i, &w, r);
        c->eflags = (c->eflags & ~(F_CF | F_OF)) | (cf ? F_CF : 0) | (of ? F_OF : 0);
        next(c, i);
        return;
    }
    case SH_ROR: {
        unsigned k = n % bits;
        r = k ? ((a >> k) | (a << (bits - k))) & m : a;
        cf = (r >> (bits - 1)) & 1;
        of = cf ^ ((r >> (bits - 2)) & 1);
        rmw_write(c, i, &w, r);
        c->eflags = (c->eflags & ~(F_CF | F_OF)) | (cf ? F_CF : 0) | (of ? F_OF : 0);
        next(c, i);
        return;
    }
    case SH_RCL: case SH_RCR: {
        unsigned k = n % (bits + 1);
        uint64_t v = a, carry = c->eflags & F_CF;
        for (unsigned t = 0; t < k; t++) {
            if (i->sub == SH_RCL) {
                uint64_t out = (v >> (bits - 1)) & 1;
                v = ((v << 1) | carry) & m;
                carry = out;
            } else {
                uint64_t out = v & 1;
                v = (v >> 1) | (carry << (bits - 1));
                carry = out;
            }
        }
        r = (uint64_t)v;
        cf = carry;
        if (i->sub == SH_RCL)
            of = ((r >> (bits - 1)) & 1) ^ cf;
        else
            of = ((r >> (bits - 1)) ^ (r >> (bits - 2))) & 1;
        rmw_write(c, i, &w, r);
        c->eflags = (c->eflags & ~(F_CF | F_OF)) | (cf ? F_CF : 0) | (of ? F_OF : 0);
        next(c, i);
        return;
    }
    case SH_SHL:
        r = n < 64 ? (a << n) & m : 0;
        cf = n <= bits ? (a >> (bits - n)) & 1 : 0;
        of = ((r >> (bits - 1)) & 1) ^ cf;
        break;
    case SH_SHR:
        r = n < 64 ? a >> n : 0;
        cf = (a >> (n - 1)) & 1;
        of = (a >> (bits - 1)) & 1;
        break;
    default: {  /* SAR */
        int64_t s = (int64_t)sext(a, sz);
        r = (uint64_t)(s >> (n < 64 ? n : 63)) & m;
        cf = (s >> (n - 1 < 63 ? n - 1 : 63)) & 1;
        of = false;
        break;
    }
    }
    rmw_write(c, i, &w, r);
    set_szp(c, r, sz, cf, of, false);
    next(c, i);
}

/* SHL/SHR/SAR of a 32/64-bit register by an immediate (the decoder's
 * pick for those): same results and flags as h_shift. */
EMU_INLINE void shift_ri(struct emu_cpu *c, const struct emu_insn *i, unsigned op, unsigned sz)
{
    unsigned bits = sz * 8, reg = i->op[0].reg;
    unsigned n = (unsigned)i->op[1].disp & (sz == 8 ? 0x3F : 0x1F);
    if (n == 0) {
        next(c, i);
        return;
    }
    uint64_t m = size_mask(sz), a = c->r[reg] & m, r;
    bool cf, of;
    if (op == SH_SHL) {
        r = (a << n) & m;
        cf = (a >> (bits - n)) & 1;
        of = ((r >> (bits - 1)) & 1) ^ cf;
    } else if (op == SH_SHR) {
        r = a >> n;
        cf = (a >> (n - 1)) & 1;
        of = (a >> (bits - 1)) & 1;
    } else {
        int64_t v = sz == 8 ? (int64_t)a : (int64_t)(int32_t)a;
        r = (uint64_t)(v >> n) & m;
        cf = (v >> (n - 1)) & 1;
        of = false;
    }
    c->r[reg] = r;
    set_szp(c, r, sz, cf, of, false);
    next(c, i);
}

H(h_shift_ri) { shift_ri(c, i, i->sub, i->op[0].size); }

/* Per op and size, the op and size constants: branch-free but for the
 * zero count. */
#define SHIFT_RI_FORMS(X)                                                               \
    X(h_shl_ri32, SH_SHL, 4) X(h_shr_ri32, SH_SHR, 4) X(h_sar_ri32, SH_SAR, 4)          \
    X(h_shl_ri64, SH_SHL, 8) X(h_shr_ri64, SH_SHR, 8) X(h_sar_ri64, SH_SAR, 8)
#define SHIFT_RI_DEF(name, op, sz)                                                      \
    static void name(struct emu_cpu *c, const struct emu_insn *i) { shift_ri(c, i, op, sz); }
SHIFT_RI_FORMS(SHIFT_RI_DEF)

H(h_shxd)
{
    typedef unsigned __int128 u128;
    unsigned sz = i->op[0].size, bits = sz * 8;
    unsigned n = (unsigned)rd_op(c, i, 2) & (sz == 8 ? 0x3F : 0x1F);
    uint64_t m = size_mask(sz);
    uint64_t src = rd_op(c, i, 1) & m;
    struct rmw w;
    uint64_t a = rmw_read(c, i, &w, true) & m, r;
    if (n == 0) {
        next(c, i);
        return;
    }
    bool cf;
    if (i->sub == 0) {      /* SHLD */
        u128 v = ((u128)a << bits) | src;
        if (n > bits) {     /* undefined for 16-bit; mimic a 32-bit funnel */
            v = ((u128)src << bits) | a;
            n -= bits;
        }
        r = (uint64_t)(v >> (bits - n)) & m;
        cf = (v >> (2 * bits - n)) & 1;
    } else {                /* SHRD */
        u128 v = ((u128)src << bits) | a;
        if (n > bits) {
            v = ((u128)a << bits) | src;
            n -= bits;
        }
        r = (uint64_t)(v >> n) & m;
        cf = (v >> (n - 1)) & 1;
    }
    bool of = ((r ^ a) >> (bits - 1)) & 1;
    rmw_write(c, i, &w, r);
    set_szp(c, r, sz, cf, of, false);
    next(c, i);
}

/* ---- multiply / divide ---- */

typedef unsigned __int128 u128;
typedef __int128 s128;

H(h_mul1)   /* MUL / IMUL with one operand (sub: 0 MUL, 1 IMUL) */
{
    unsigned sz = i->op[0].size, bits = sz * 8;
    uint64_t b = rd_op(c, i, 0);
    uint64_t m = size_mask(sz);
    u128 r;
    bool ovf;
    if (i->sub == 0) {
        r = (u128)(get_reg(c, EAX_, sz) & m) * (b & m);
        ovf = (r >> bits) != 0;
    } else {
        s128 p = (s128)(int64_t)sext(get_reg(c, EAX_, sz), sz) * (int64_t)sext(b, sz);
        r = (u128)p;
        s128 lo = (int64_t)sext((uint64_t)p & m, sz);
        ovf = lo != p;
    }
    if (sz == 1) {
        set_reg(c, EAX_, 2, (uint64_t)r);
    } else {
        set_reg(c, EAX_, sz, (uint64_t)r);
        set_reg(c, EDX_, sz, (uint64_t)(r >> bits));
    }
    set_szp(c, (uint64_t)r, sz, ovf, ovf, false);
    next(c, i);
}

H(h_imul)   /* IMUL r, r/m [, imm] */
{
    unsigned sz = i->op[0].size;
    int64_t a, b;
    if (i->nops == 3) {
        a = (int64_t)sext(rd_op(c, i, 1), sz);
        b = (int64_t)sext(rd_op(c, i, 2), sz);
    } else {
        a = (int64_t)sext(rd_op(c, i, 0), sz);
        b = (int64_t)sext(rd_op(c, i, 1), sz);
    }
    s128 p = (s128)a * b;
    uint64_t r = (uint64_t)p & size_mask(sz);
    bool ovf = (s128)(int64_t)sext(r, sz) != p;
    set_reg(c, i->op[0].reg, sz, r);
    set_szp(c, r, sz, ovf, ovf, false);
    next(c, i);
}

/* IMUL r, r and IMUL r, r, imm of 32/64 bits (the decoder's pick for
 * those): the same products and flags as h_imul. */
EMU_INLINE void imul_regs(struct emu_cpu *c, const struct emu_insn *i, unsigned sz, bool imm)
{
    int64_t a = (int64_t)sext(c->r[i->op[imm ? 1 : 0].reg], sz);
    int64_t b = (int64_t)sext(imm ? (uint64_t)i->op[2].disp : c->r[i->op[1].reg], sz);
    s128 p = (s128)a * b;
    uint64_t r = (uint64_t)p & size_mask(sz);
    bool ovf = (s128)(int64_t)sext(r, sz) != p;
    c->r[i->op[0].reg] = r;
    set_szp(c, r, sz, ovf, ovf, false);
    c->rip += i->len;
}
static void h_imul_rr32(struct emu_cpu *c, const struct emu_insn *i) { imul_regs(c, i, 4, false); }
static void h_imul_rr64(struct emu_cpu *c, const struct emu_insn *i) { imul_regs(c, i, 8, false); }
static void h_imul_rri32(struct emu_cpu *c, const struct emu_insn *i) { imul_regs(c, i, 4, true); }
static void h_imul_rri64(struct emu_cpu *c, const struct emu_insn *i) { imul_regs(c, i, 8, true); }

H(h_div)    /* sub: 0 DIV, 1 IDIV */
{
    unsigned sz = i->op[0].size, bits = sz * 8;
    uint64_t m = size_mask(sz);
    uint64_t d = rd_op(c, i, 0) & m;
    if (d == 0)
        emu_raise(c, EXC_DE, 0, false);
    u128 n = sz == 1 ? get_reg(c, EAX_, 2)
           : ((u128)get_reg(c, EDX_, sz) << bits) | get_reg(c, EAX_, sz);
    uint64_t q, rem;
    if (i->sub == 0) {
        u128 uq = n / d;
        rem = (uint64_t)(n % d);
        if (uq > m)
            emu_raise(c, EXC_DE, 0, false);
        q = (uint64_t)uq;
    } else {
        s128 sn = (s128)(n << (128 - 2 * bits)) >> (128 - 2 * bits);
        s128 sd = (int64_t)sext(d, sz);
        s128 sq = sn / sd, sr = sn % sd;
        s128 lim = (s128)1 << (bits - 1);
        if (sq >= lim || sq < -lim)
            emu_raise(c, EXC_DE, 0, false);
        q = (uint64_t)sq;
        rem = (uint64_t)sr;
    }
    if (sz == 1) {
        set_reg(c, EAX_, 1, q);
        set_reg(c, EMU_AH, 1, rem);
    } else {
        set_reg(c, EAX_, sz, q);
        set_reg(c, EDX_, sz, rem);
    }
    next(c, i);
}

/* ---- data movement ---- */

H(h_mov) { wr_op(c, i, 0, rd_op(c, i, 1)); next(c, i); }

H(h_mov_rr32) { c->r[i->op[0].reg] = (uint32_t)c->r[i->op[1].reg]; c->rip += i->len; }
H(h_mov_rr64) { c->r[i->op[0].reg] = c->r[i->op[1].reg]; c->rip += i->len; }

H(h_mov_load)   /* mov reg, [mem] */
{
    set_reg(c, i->op[0].reg, i->op[0].size,
            rd_mem(c, i->op[1].seg, ea(c, &i->op[1], i->adsz), i->op[1].size));
    next(c, i);
}

/* Size-specialised forms of the hottest memory moves (the decoder picks
 * them): with the size a constant, the register and host-memory
 * accessors reduce to single moves. */
#define MOV_LOAD(sz)                                                                    \
    H(h_mov_load##sz)                                                                   \
    {                                                                                   \
        set_reg(c, i->op[0].reg, sz, rd_mem(c, i->op[1].seg, ea(c, &i->op[1], i->adsz), sz)); \
        next(c, i);                                                                     \
    }
#define MOV_STORE(sz)                                                                   \
    H(h_mov_store##sz)                                                                  \
    {                                                                                   \
        const struct emu_operand *o = &i->op[1];                                        \
        uint64_t v = o->kind == OPK_REG ? get_reg(c, o->reg, sz) : (uint64_t)o->disp;   \
        wr_mem(c, i->op[0].seg, ea(c, &i->op[0], i->adsz), sz, v);                      \
        next(c, i);                                                                     \
    }
/* MOVZX/MOVSX from memory: source size ssz, any destination size. */
#define MOVX_LOAD(name, ssz, ext)                                                       \
    H(name)                                                                             \
    {                                                                                   \
        uint64_t v = rd_mem(c, i->op[1].seg, ea(c, &i->op[1], i->adsz), ssz);           \
        set_reg(c, i->op[0].reg, i->op[0].size, ext);                                   \
        next(c, i);                                                                     \
    }
MOV_LOAD(1) MOV_LOAD(2) MOV_LOAD(4) MOV_LOAD(8)
MOV_STORE(1) MOV_STORE(2) MOV_STORE(4) MOV_STORE(8)
MOVX_LOAD(h_movzx_load1, 1, v)
MOVX_LOAD(h_movzx_load2, 2, v)
MOVX_LOAD(h_movsx_load1, 1, (uint64_t)(int64_t)(int8_t)v)
MOVX_LOAD(h_movsx_load2, 2, (uint64_t)(int64_t)(int16_t)v)
MOVX_LOAD(h_movsx_load4, 4, (uint64_t)(int64_t)(int32_t)v)

/* 64-bit mode forms of the memory moves above, for a lin64() address:
 * no mode, size or segment tests left.  RIP advances without the IP mask
 * (all ones in 64-bit mode). */

#define MEM64_LOAD(name, ssz, ix, ext)                                                  \
    static void name(struct emu_cpu *c, const struct emu_insn *i)                       \
    {                                                                                   \
        uint64_t v = lin_read(c, lin64(c, &i->op[1], ix), ssz);                         \
        set_reg(c, i->op[0].reg, i->op[0].size, ext);                                   \
        c->rip += i->len;                                                               \
    }
#define MEM64_STORE(name, sz, ix)                                                       \
    static void name(struct emu_cpu *c, const struct emu_insn *i)                       \
    {                                                                                   \
        const struct emu_operand *o = &i->op[1];                                        \
        uint64_t v = o->kind == OPK_REG ? get_reg(c, o->reg, sz) : (uint64_t)o->disp;   \
        lin_write(c, lin64(c, &i->op[0], ix), sz, v);                                   \
        c->rip += i->len;                                                               \
    }
/* (generic handler, its 64-bit base form, its 64-bit base + index form,
 * the memory operand's index, kind, size) */
#define MEM64_FORMS(X)                                                                  \
    X(h_mov_load1, h_mov_load1_b, h_mov_load1_x, 1, LOAD, 1, v)                        \
    X(h_mov_load2, h_mov_load2_b, h_mov_load2_x, 1, LOAD, 2, v)                        \
    X(h_mov_load4, h_mov_load4_b, h_mov_load4_x, 1, LOAD, 4, v)                        \
    X(h_mov_load8, h_mov_load8_b, h_mov_load8_x, 1, LOAD, 8, v)                        \
    X(h_movzx_load1, h_movzx_load1_b, h_movzx_load1_x, 1, LOAD, 1, v)                  \
    X(h_movzx_load2, h_movzx_load2_b, h_movzx_load2_x, 1, LOAD, 2, v)                  \
    X(h_movsx_load1, h_movsx_load1_b, h_movsx_load1_x, 1, LOAD, 1, (uint64_t)(int64_t)(int8_t)v) \
    X(h_movsx_load2, h_movsx_load2_b, h_movsx_load2_x, 1, LOAD, 2, (uint64_t)(int64_t)(int16_t)v) \
    X(h_movsx_load4, h_movsx_load4_b, h_movsx_load4_x, 1, LOAD, 4, (uint64_t)(int64_t)(int32_t)v) \
    X(h_mov_store1, h_mov_store1_b, h_mov_store1_x, 0, STORE, 1, v)                    \
    X(h_mov_store2, h_mov_store2_b, h_mov_store2_x, 0, STORE, 2, v)                    \
    X(h_mov_store4, h_mov_store4_b, h_mov_store4_x, 0, STORE, 4, v)                    \
    X(h_mov_store8, h_mov_store8_b, h_mov_store8_x, 0, STORE, 8, v)
#define MEM64_DEF_LOAD(b, x, sz, ext) MEM64_LOAD(b, sz, false, ext) MEM64_LOAD(x, sz, true, ext)
#define MEM64_DEF_STORE(b, x, sz, ext) MEM64_STORE(b, sz, false) MEM64_STORE(x, sz, true)
#define MEM64_DEF(gen, b, x, k, knd, sz, ext) MEM64_DEF_##knd(b, x, sz, ext)
MEM64_FORMS(MEM64_DEF)

/* LEA of a 64-bit base (+ index) address in 64-bit mode: no memory access,
 * so no canonical check either. */
EMU_INLINE void lea64(struct emu_cpu *c, const struct emu_insn *i, bool ix)
{
    const struct emu_operand *o = &i->op[1];
    uint64_t a = (uint64_t)o->disp + c->r[o->base];
    if (ix)
        a += c->r[o->index] << o->scale;
    set_reg(c, i->op[0].reg, i->op[0].size, a);
    c->rip += i->len;
}
static void h_lea_b(struct emu_cpu *c, const struct emu_insn *i) { lea64(c, i, false); }
static void h_lea_x(struct emu_cpu *c, const struct emu_insn *i) { lea64(c, i, true); }

emu_handler emu_mem64_form(emu_handler f, const struct emu_insn *i)
{
#define PICK_MEM64(gen, b, x, k, knd, sz, ext)                                         \
    if (f == gen) {                                                                     \
        const struct emu_operand *o = &i->op[k];                                        \
        if (i->adsz != 8 || o->kind != OPK_MEM || o->base == EMU_NOREG ||               \
            o->base == EMU_RIPREL || o->seg == FS_ || o->seg == GS_)                    \
            return f;                                                                   \
        return o->index == EMU_NOREG ? b : x;                                           \
    }
    MEM64_FORMS(PICK_MEM64)
#undef PICK_MEM64
    return f;
}

static void h_test_rr32(struct emu_cpu *c, const struct emu_insn *i);
static void h_test_rr64(struct emu_cpu *c, const struct emu_insn *i);
static void h_cmov_rr32(struct emu_cpu *c, const struct emu_insn *i);
static void h_cmov_rr64(struct emu_cpu *c, const struct emu_insn *i);
static void h_cmp_ri8(struct emu_cpu *c, const struct emu_insn *i);
static void h_movzx_rr1(struct emu_cpu *c, const struct emu_insn *i);
static void h_movzx_rr2(struct emu_cpu *c, const struct emu_insn *i);
static void h_movsxd_rr(struct emu_cpu *c, const struct emu_insn *i);

emu_handler emu_special_form(emu_handler f, const struct emu_insn *i, unsigned mode)
{
    if (f == h_shift_ri) {
        bool q = i->op[0].size == 8;
        return i->sub == SH_SHL ? (q ? h_shl_ri64 : h_shl_ri32)
             : i->sub == SH_SHR ? (q ? h_shr_ri64 : h_shr_ri32)
             : i->sub == SH_SAR ? (q ? h_sar_ri64 : h_sar_ri32) : f;
    }
    if (f == h_alu && i->sub == ALU_CMP && i->op[0].kind == OPK_REG && i->op[0].size == 1 &&
        i->op[1].kind == OPK_IMM)
        return h_cmp_ri8;
    if (f == h_movx && i->op[0].kind == OPK_REG && i->op[1].kind == OPK_REG &&
        (i->op[0].size == 4 || i->op[0].size == 8)) {
        unsigned ss = i->op[1].size;
        if (!i->sub)
            return ss == 1 ? h_movzx_rr1 : ss == 2 ? h_movzx_rr2 : f;
        return ss == 4 && i->op[0].size == 8 ? h_movsxd_rr : f;
    }
    if (f == h_imul && i->op[0].kind == OPK_REG && (i->op[0].size == 4 || i->op[0].size == 8)) {
        bool q = i->op[0].size == 8;
        if (i->nops == 2 && i->op[1].kind == OPK_REG)
            return q ? h_imul_rr64 : h_imul_rr32;
        if (i->nops == 3 && i->op[1].kind == OPK_REG && i->op[2].kind == OPK_IMM)
            return q ? h_imul_rri64 : h_imul_rri32;
        return f;
    }
    if ((f == h_test || f == h_cmovcc) && i->op[0].kind == OPK_REG &&
        i->op[1].kind == OPK_REG && i->op[0].size == i->op[1].size &&
        (i->op[0].size == 4 || i->op[0].size == 8)) {
        bool q = i->op[0].size == 8;
        if (f == h_test)
            return q ? h_test_rr64 : h_test_rr32;
        return q ? h_cmov_rr64 : h_cmov_rr32;
    }
    if (mode != 2)
        return f;
    {
        const struct emu_operand *o = &i->op[1];
        bool q64 = i->adsz == 8 && o->kind == OPK_MEM && o->base != EMU_NOREG &&
                   o->base != EMU_RIPREL && o->seg != FS_ && o->seg != GS_;
        bool ix = o->index != EMU_NOREG;
#define PICK_RMQ(form, sz, tag, opn, op)                                                \
        if (f == h_##opn##_##tag)                                                       \
            return !q64 ? f : ix ? h_##opn##_##tag##x : h_##opn##_##tag##b;
#define PICK_RMQS(form, sz, tag) ALU_FAST_OPS(PICK_RMQ, form, sz, tag)
        PICK_RMQS(rm, 4, rm32) PICK_RMQS(rm, 8, rm64)
#undef PICK_RMQ
#undef PICK_RMQS
    }
    if (f == h_lea) {
        const struct emu_operand *o = &i->op[1];
        if (i->adsz != 8 || o->base == EMU_NOREG || o->base == EMU_RIPREL)
            return f;
        return o->index == EMU_NOREG ? h_lea_b : h_lea_x;
    }
    return emu_mem64_form(f, i);
}

/* INC/DEC of a 32/64-bit register. */
H(h_incdec_r)
{
    unsigned sz = i->op[0].size, reg = i->op[0].reg;
    uint64_t a = sz == 8 ? c->r[reg] : (uint32_t)c->r[reg];
    if (c->lf.op != LF_NONE && c->lf.op != LF_INC && c->lf.op != LF_DEC) {
        bool cf = emu_cf(c);
        c->eflags = (c->eflags & ~F_CF) | (cf ? F_CF : 0);
    }
    uint64_t r = (i->sub ? a - 1 : a + 1) & size_mask(sz);
    c->r[reg] = r;
    set_lf(c, i->sub ? LF_DEC : LF_INC, sz, r, a, 1);
    c->rip += i->len;
}

H(h_mov_store)  /* mov [mem], reg/imm */
{
    const struct emu_operand *o = &i->op[1];
    uint64_t v = o->kind == OPK_REG ? get_reg(c, o->reg, o->size) : (uint64_t)o->disp;
    wr_mem(c, i->op[0].seg, ea(c, &i->op[0], i->adsz), i->op[0].size, v);
    next(c, i);
}

H(h_mov_to_sreg)
{
    unsigned s = i->op[0].reg;
    if (s == CS_)
        RAISE_UD(c);
    emu_load_seg(c, (int)s, (uint16_t)rd_op(c, i, 1));
    if (s == SS_)
        c->intr_shadow = true;
    next(c, i);
}

H(h_mov_from_sreg)
{
    uint64_t v = c->seg[i->op[1].reg].sel;
    if (i->op[0].kind == OPK_REG)
        set_reg(c, i->op[0].reg, i->op[0].size, v);   /* r32: upper bits zero */
    else
        wr_mem(c, i->op[0].seg, ea(c, &i->op[0], i->adsz), 2, v);
    next(c, i);
}

H(h_movx)   /* sub: 0 MOVZX, 1 MOVSX */
{
    uint64_t v = rd_op(c, i, 1);
    if (i->sub)
        v = sext(v, i->op[1].size);
    set_reg(c, i->op[0].reg, i->op[0].size, v);
    next(c, i);
}

H(h_lea)
{
    set_reg(c, i->op[0].reg, i->op[0].size, ea(c, &i->op[1], i->adsz));
    next(c, i);
}

H(h_xchg)
{
    uint64_t b = rd_op(c, i, 1);
    struct rmw w;
    uint64_t a = rmw_read(c, i, &w, true);
    rmw_write(c, i, &w, b);
    wr_op(c, i, 1, a);
    next(c, i);
}

H(h_xadd)
{
    unsigned sz = i->op[0].size;
    uint64_t b = rd_op(c, i, 1);
    struct rmw w;
    uint64_t a = rmw_read(c, i, &w, true);
    uint64_t r = (a + b) & size_mask(sz);
    rmw_write(c, i, &w, r);
    wr_op(c, i, 1, a);
    set_lf(c, LF_ADD, sz, r, a, b);
    next(c, i);
}

H(h_cmpxchg)
{
    unsigned sz = i->op[0].size;
    uint64_t m = size_mask(sz);
    struct rmw w;
    uint64_t a = rmw_read(c, i, &w, true) & m, acc = get_reg(c, EAX_, sz);
    set_lf(c, LF_SUB, sz, (acc - a) & m, acc, a);
    if (acc == a) {
        rmw_write(c, i, &w, rd_op(c, i, 1));
    } else {
        rmw_write(c, i, &w, a);     /* the CPU always writes */
        set_reg(c, EAX_, sz, a);
    }
    next(c, i);
}

H(h_cmpxchg8b)
{
    const struct emu_operand *o = &i->op[0];
    if (o->kind != OPK_MEM)
        RAISE_UD(c);
    unsigned h = i->sub ? 8 : 4;     /* CMPXCHG16B: two qwords, 16-byte aligned */
    uint64_t off = ea(c, o, i->adsz);
    if (i->sub && (seg_lin(c, o->seg, off, 16, true) & 15))
        RAISE_GP(c, 0);
    uint64_t lo = rd_mem(c, o->seg, off, h), hi = rd_mem(c, o->seg, off + h, h);
    emu_flags_fold(c);
    if (lo == get_reg(c, EAX_, h) && hi == get_reg(c, EDX_, h)) {
        wr_mem(c, o->seg, off, h, c->r[EBX_]);
        wr_mem(c, o->seg, off + h, h, c->r[ECX_]);
        c->eflags |= F_ZF;
    } else {
        wr_mem(c, o->seg, off, h, lo);
        wr_mem(c, o->seg, off + h, h, hi);
        set_reg(c, EAX_, h, lo);
        set_reg(c, EDX_, h, hi);
        c->eflags &= ~F_ZF;
    }
    next(c, i);
}

H(h_bswap)
{
    unsigned r = i->op[0].reg;
    if (i->op[0].size == 8)
        c->r[r] = __builtin_bswap64(c->r[r]);
    else if (i->op[0].size == 4)
        c->r[r] = __builtin_bswap32((uint32_t)c->r[r]);
    else
        set_reg(c, r, 2, 0);    /* 16-bit BSWAP is undefined; zero like most CPUs */
    next(c, i);
}

H(h_cbw)
{
    /* CBW / CWDE / CDQE */
    set_reg(c, EAX_, i->opsz, sext(get_reg(c, EAX_, i->opsz / 2), i->opsz / 2));
    next(c, i);
}

H(h_cwd)
{
    /* CWD / CDQ / CQO */
    unsigned sz = i->opsz;
    set_reg(c, EDX_, sz, ((get_reg(c, EAX_, sz) >> (sz * 8 - 1)) & 1) ? ~0ull : 0);
    next(c, i);
}

H(h_xlat)
{
    uint64_t off = (c->r[EBX_] + (c->r[EAX_] & 0xFF)) & size_mask(i->adsz);
    set_reg(c, EAX_, 1, rd_mem(c, i->seg, off, 1));
    next(c, i);
}

H(h_lxs)    /* LDS/LES/LFS/LGS/LSS: sub = segment */
{
    const struct emu_operand *o = &i->op[1];
    if (o->kind != OPK_MEM)
        RAISE_UD(c);
    unsigned sz = i->opsz;
    uint64_t off = ea(c, o, i->adsz);
    uint64_t v = rd_mem(c, o->seg, off, sz);
    uint16_t sel = (uint16_t)rd_mem(c, o->seg, off + sz, 2);
    emu_load_seg(c, i->sub, sel);
    set_reg(c, i->op[0].reg, sz, v);
    next(c, i);
}

/* ---- stack ---- */

H(h_push)
{
    const struct emu_operand *o = &i->op[0];
    uint64_t v;
    if (o->kind == OPK_SREG)
        v = c->seg[o->reg].sel;
    else if (o->kind == OPK_REG && o->reg == ESP_ && o->size >= 4)
        v = c->r[ESP_];
    else
        v = rd_op(c, i, 0);
    push(c, i->opsz, v);
    next(c, i);
}

/* PUSH/POP of a 32/64-bit GPR at the natural size (not ESP for PUSH). */
H(h_push_r) { push(c, i->opsz, c->r[i->op[0].reg]); c->rip += i->len; }
H(h_pop_r) { set_reg(c, i->op[0].reg, i->opsz, pop(c, i->opsz)); c->rip += i->len; }

H(h_pop)
{
    const struct emu_operand *o = &i->op[0];
    unsigned sz = i->opsz;
    uint64_t m = sp_mask(c), sp = c->r[ESP_] & m;
    uint64_t v = rd_mem(c, SS_, sp, sz);
    uint64_t old = c->r[ESP_];
    set_sp(c, m, sp + sz);
    if (o->kind == OPK_SREG) {
        if (o->reg == CS_)
            RAISE_UD(c);
        c->r[ESP_] = old;
        emu_load_seg(c, o->reg, (uint16_t)v);
        set_sp(c, m, sp + sz);
        if (o->reg == SS_)
            c->intr_shadow = true;
    } else if (o->kind == OPK_MEM) {
        /* ESP-relative destinations use the incremented ESP */
        wr_mem(c, o->seg, ea(c, o, i->adsz), sz, v);
    } else {
        set_reg(c, o->reg, sz, v);
    }
    next(c, i);
}

H(h_pusha)
{
    unsigned sz = i->opsz;
    uint64_t m = sp_mask(c), sp = c->r[ESP_];
    for (int r = 0; r < 8; r++)
        wr_mem(c, SS_, (sp - (uint64_t)(r + 1) * sz) & m, sz, c->r[r]);
    set_sp(c, m, sp - 8 * sz);
    next(c, i);
}

H(h_popa)
{
    unsigned sz = i->opsz;
    uint64_t m = sp_mask(c), sp = c->r[ESP_];
    uint64_t v[8];
    for (int r = 0; r < 8; r++)
        v[7 - r] = rd_mem(c, SS_, (sp + (uint64_t)r * sz) & m, sz);
    for (int r = 0; r < 8; r++)
        if (r != ESP_)
            set_reg(c, (unsigned)r, sz, v[r]);
    set_sp(c, m, sp + 8 * sz);
    next(c, i);
}

H(h_pushf)
{
    if ((c->eflags & F_VM) && ((c->eflags & F_IOPL) >> 12) < 3)
        RAISE_GP(c, 0);
    uint64_t f = emu_get_eflags(c) & ~(F_VM | F_RF);
    push(c, i->opsz, f);
    next(c, i);
}

H(h_popf)
{
    if ((c->eflags & F_VM) && ((c->eflags & F_IOPL) >> 12) < 3)
        RAISE_GP(c, 0);
    unsigned sz = i->opsz;
    uint64_t v = pop(c, sz);
    uint64_t mask = F_ARITH | F_TF | F_DF | F_NT;
    if (sz >= 4)
        mask |= F_AC | F_ID;
    if (!c->pe || c->cpl == 0)
        mask |= F_IOPL;
    if (!c->pe || c->cpl <= ((c->eflags & F_IOPL) >> 12))
        mask |= F_IF;
    if (sz == 2)
        mask &= 0xFFFF;
    emu_write_eflags(c, v, mask);
    next(c, i);
}

H(h_enter)
{
    unsigned sz = i->opsz, level = i->imm2 & 31;
    uint64_t m = sp_mask(c);
    uint64_t frame_ptr, ebp = c->r[EBP_];
    uint64_t sp = c->r[ESP_];
    sp = (sp - sz) & m;
    wr_mem(c, SS_, sp, sz, ebp);
    frame_ptr = sp;
    for (unsigned l = 1; l < level; l++) {
        ebp = (ebp - sz) & m;
        uint64_t v = rd_mem(c, SS_, ebp, sz);
        sp = (sp - sz) & m;
        wr_mem(c, SS_, sp, sz, v);
    }
    if (level > 0) {
        sp = (sp - sz) & m;
        wr_mem(c, SS_, sp, sz, frame_ptr);
    }
    sp = (sp - i->imm) & m;
    /* the new stack top must be writable */
    (void)seg_lin(c, SS_, sp, 1, true);
    set_reg(c, EBP_, sz, frame_ptr);
    set_sp(c, m, sp);
    next(c, i);
}

H(h_leave)
{
    uint64_t m = sp_mask(c);
    uint64_t sp = c->r[EBP_] & m;
    uint64_t v = rd_mem(c, SS_, sp, i->opsz);
    set_sp(c, m, sp + i->opsz);
    set_reg(c, EBP_, i->opsz, v);
    next(c, i);
}

/* ---- control transfer ---- */

H(h_jmp) { jump_to(c, i, next_eip(c, i) + i->imm); }

static inline void jcc_exec(struct emu_cpu *c, const struct emu_insn *i)
{
    if (emu_cond_fast(c, i->sub))
        jump_to(c, i, next_eip(c, i) + i->imm);
    else
        next(c, i);
}

H(h_jcc) { jcc_exec(c, i); }

/* Compare-and-branch pairs: the decoder puts one of these on the
 * instruction before a block-ending Jcc (i + 1, still in the block) when
 * that instruction cannot write memory, and the block loop then stops one
 * slot early.  One dispatch instead of two; the first instruction has
 * committed RIP before the Jcc runs, so a fault in either reports the
 * right instruction. */
#define FUSED_JCC(name, first) H(name) { first(c, i); jcc_exec(c, i + 1); }
FUSED_JCC(h_alu_rr32_jcc, h_alu_rr32)
FUSED_JCC(h_alu_ri32_jcc, h_alu_ri32)
FUSED_JCC(h_alu_rr64_jcc, h_alu_rr64)
FUSED_JCC(h_alu_ri64_jcc, h_alu_ri64)
FUSED_JCC(h_alu_rm32_jcc, h_alu_rm32)
FUSED_JCC(h_alu_rm64_jcc, h_alu_rm64)
FUSED_JCC(h_cmp_jcc, h_alu)
FUSED_JCC(h_test_jcc, h_test)
FUSED_JCC(h_incdec_r_jcc, h_incdec_r)
#define ALU_OP_FUSED(form, sz, tag, opn, op) FUSED_JCC(h_##opn##_##tag##_jcc, h_##opn##_##tag)
#define ALU_OP_FUSEDS(form, sz, tag) ALU_FAST_OPS(ALU_OP_FUSED, form, sz, tag)
ALU_FORMS(ALU_OP_FUSEDS)

emu_handler emu_alu_form(emu_handler f, unsigned sub)
{
#define PICK_OP(form, sz, tag, opn, op) if (f == h_alu_##tag && sub == op) return h_##opn##_##tag;
#define PICK_OPS(form, sz, tag) ALU_FAST_OPS(PICK_OP, form, sz, tag)
    PICK_OPS(rr, 4, rr32) PICK_OPS(ri, 4, ri32) PICK_OPS(rr, 8, rr64) PICK_OPS(ri, 8, ri64)
    PICK_OPS(rm, 4, rm32) PICK_OPS(rm, 8, rm64)
#undef PICK_OP
#undef PICK_OPS
    return f;
}

/* TEST r, r and CMOVcc r, r of 32/64 bits. */
EMU_INLINE void test_rr(struct emu_cpu *c, const struct emu_insn *i, unsigned sz)
{
    uint64_t r = c->r[i->op[0].reg] & c->r[i->op[1].reg] & size_mask(sz);
    set_lf(c, LF_LOGIC, sz, r, 0, 0);
    c->rip += i->len;
}
static void h_test_rr32(struct emu_cpu *c, const struct emu_insn *i) { test_rr(c, i, 4); }
static void h_test_rr64(struct emu_cpu *c, const struct emu_insn *i) { test_rr(c, i, 8); }
FUSED_JCC(h_test_rr32_jcc, h_test_rr32)
FUSED_JCC(h_test_rr64_jcc, h_test_rr64)

EMU_INLINE void cmov_rr(struct emu_cpu *c, const struct emu_insn *i, unsigned sz)
{
    unsigned d = i->op[0].reg;
    uint64_t v = emu_cond_fast(c, i->sub) ? c->r[i->op[1].reg] : c->r[d];
    c->r[d] = sz == 4 ? (uint32_t)v : v;     /* zero-extends either way */
    c->rip += i->len;
}
static void h_cmov_rr32(struct emu_cpu *c, const struct emu_insn *i) { cmov_rr(c, i, 4); }
static void h_cmov_rr64(struct emu_cpu *c, const struct emu_insn *i) { cmov_rr(c, i, 8); }

/* CMP r8, imm8 (any byte register, AH..BH included): the decompressor's
 * byte compares; same record as h_alu's. */
static void h_cmp_ri8(struct emu_cpu *c, const struct emu_insn *i)
{
    uint64_t a = get_reg(c, i->op[0].reg, 1), b = (uint64_t)i->op[1].disp & 0xFF;
    set_lf(c, LF_SUB, 1, (a - b) & 0xFF, a, b);
    next(c, i);
}
FUSED_JCC(h_cmp_ri8_jcc, h_cmp_ri8)

/* MOVZX r32/r64, r8/r16 and MOVSXD r64, r32: a 32-bit destination
 * zero-extends, and a zero-extended byte or word fits it either way. */
static void h_movzx_rr1(struct emu_cpu *c, const struct emu_insn *i)
{
    c->r[i->op[0].reg] = get_reg(c, i->op[1].reg, 1);
    next(c, i);
}
static void h_movzx_rr2(struct emu_cpu *c, const struct emu_insn *i)
{
    c->r[i->op[0].reg] = (uint16_t)c->r[i->op[1].reg];
    next(c, i);
}
static void h_movsxd_rr(struct emu_cpu *c, const struct emu_insn *i)
{
    c->r[i->op[0].reg] = (uint64_t)(int64_t)(int32_t)c->r[i->op[1].reg];
    next(c, i);
}

emu_handler emu_alu_fused(emu_handler f)
{
    if (f == h_cmp_ri8)
        return h_cmp_ri8_jcc;
    if (f == h_test_rr32)
        return h_test_rr32_jcc;
    if (f == h_test_rr64)
        return h_test_rr64_jcc;
#define PICK_OP(form, sz, tag, opn, op) if (f == h_##opn##_##tag) return h_##opn##_##tag##_jcc;
#define PICK_OPS(form, sz, tag) ALU_FAST_OPS(PICK_OP, form, sz, tag)
    ALU_FORMS(PICK_OPS)
#undef PICK_OP
#undef PICK_OPS
    return NULL;
}

H(h_jmp_ind) { jump_to(c, i, rd_op(c, i, 0)); }

H(h_call)
{
    uint64_t ret = next_eip(c, i), t = branch_mask(i, ret + i->imm);
    check_target(c, t);
    push(c, i->opsz, ret);
    c->rip = t;
}

H(h_call_ind)
{
    uint64_t t = branch_mask(i, rd_op(c, i, 0));
    check_target(c, t);
    push(c, i->opsz, next_eip(c, i));
    c->rip = t;
}

H(h_ret)
{
    uint64_t m = sp_mask(c), sp = c->r[ESP_] & m;
    uint64_t t = rd_mem(c, SS_, sp, i->opsz);
    check_target(c, t);
    set_sp(c, m, sp + i->opsz + i->imm);
    c->rip = t;
}

H(h_retf) { emu_far_return(c, i->opsz, (uint16_t)i->imm); }

H(h_iret) { emu_iret(c, i->opsz, next_eip(c, i)); }

H(h_ljmp_ptr) { emu_far_jump(c, (uint16_t)i->imm2, i->imm, i->opsz, i->sub, next_eip(c, i)); }

H(h_ljmp_mem)   /* sub: 1 for CALL */
{
    const struct emu_operand *o = &i->op[0];
    if (o->kind != OPK_MEM)
        RAISE_UD(c);
    uint64_t off = ea(c, o, i->adsz);
    uint64_t t = rd_mem(c, o->seg, off, i->opsz);
    uint16_t sel = (uint16_t)rd_mem(c, o->seg, off + i->opsz, 2);
    emu_far_jump(c, sel, t, i->opsz, i->sub, next_eip(c, i));
}

H(h_loop)   /* sub: 0 LOOP, 1 LOOPE, 2 LOOPNE, 3 JCXZ */
{
    uint64_t m = size_mask(i->adsz);
    uint64_t cx = c->r[ECX_] & m;
    bool take;
    if (i->sub == 3) {
        take = cx == 0;
    } else {
        cx = (cx - 1) & m;
        set_sp_like(c, ECX_, m, cx);
        take = cx != 0;
        if (i->sub == 1)
            take = take && emu_zf(c);
        else if (i->sub == 2)
            take = take && !emu_zf(c);
    }
    if (take)
        jump_to(c, i, next_eip(c, i) + i->imm);
    else
        next(c, i);
}

H(h_int)
{
    if ((c->eflags & F_VM) && ((c->eflags & F_IOPL) >> 12) < 3)
        RAISE_GP(c, 0);
    emu_do_interrupt(c, (int)(i->imm & 0xFF), true, false, 0, next_eip(c, i));
}

H(h_int3) { emu_do_interrupt(c, EXC_BP, true, false, 0, next_eip(c, i)); }

H(h_into)
{
    if (emu_of(c))
        emu_do_interrupt(c, EXC_OF, true, false, 0, next_eip(c, i));
    else
        next(c, i);
}

H(h_bound)
{
    const struct emu_operand *o = &i->op[1];
    if (o->kind != OPK_MEM)
        RAISE_UD(c);
    unsigned sz = i->op[0].size;
    uint64_t off = ea(c, o, i->adsz);
    int32_t lo = (int32_t)sext(rd_mem(c, o->seg, off, sz), sz);
    int32_t hi = (int32_t)sext(rd_mem(c, o->seg, off + sz, sz), sz);
    int32_t v = (int32_t)sext(get_reg(c, i->op[0].reg, sz), sz);
    if (v < lo || v > hi)
        emu_raise(c, EXC_BR, 0, false);
    next(c, i);
}

H(h_setcc) { wr_op(c, i, 0, emu_cond_fast(c, i->sub)); next(c, i); }

H(h_cmovcc)
{
    uint64_t v = rd_op(c, i, 1);    /* the source is read (and may fault) either way */
    if (emu_cond_fast(c, i->sub))
        set_reg(c, i->op[0].reg, i->op[0].size, v);
    else if (i->op[0].size == 4)
        c->r[i->op[0].reg] = (uint32_t)c->r[i->op[0].reg];   /* zero-extends either way */
    next(c, i);
}

/* ---- bit ops ---- */

H(h_bt)     /* sub: 0 BT, 1 BTS, 2 BTR, 3 BTC */
{
    unsigned sz = i->op[0].size, bits = sz * 8;
    uint64_t bit = rd_op(c, i, 1);
    const struct emu_operand *o = &i->op[0];
    uint64_t v, lin = 0;
    bool mem = o->kind == OPK_MEM;
    if (mem) {
        int64_t sbit = i->op[1].kind == OPK_IMM ? (int64_t)(bit & (bits - 1))
                                                : (int64_t)sext(bit, sz);
        int64_t disp = (sbit >> (sz == 2 ? 4 : sz == 4 ? 5 : 6)) * (int64_t)sz;
        uint64_t off = (ea(c, o, i->adsz) + (uint64_t)disp) & size_mask(i->adsz);
        lin = seg_lin(c, o->seg, off, sz, i->sub != 0);
        v = lin_read(c, lin, sz);
    } else {
        v = get_reg(c, o->reg, sz);
    }
    bit &= bits - 1;
    bool cf = (v >> bit) & 1;
    uint64_t nv = v;
    if (i->sub == 1) nv |= 1ull << bit;
    else if (i->sub == 2) nv &= ~(1ull << bit);
    else if (i->sub == 3) nv ^= 1ull << bit;
    if (i->sub) {
        if (mem)
            lin_write(c, lin, sz, nv);
        else
            set_reg(c, o->reg, sz, nv);
    }
    set_flag(c, F_CF, cf);
    next(c, i);
}

H(h_bsf)    /* sub: 0 BSF, 1 BSR */
{
    unsigned sz = i->op[0].size;
    uint64_t v = rd_op(c, i, 1) & size_mask(sz);
    emu_flags_fold(c);
    if (v == 0) {
        c->eflags |= F_ZF;      /* destination unchanged, as real CPUs do */
    } else {
        c->eflags &= ~F_ZF;
        set_reg(c, i->op[0].reg, sz, i->sub ? 63u - (unsigned)__builtin_clzll(v)
                                             : (unsigned)__builtin_ctzll(v));
    }
    next(c, i);
}

/* ---- flags ---- */

H(h_flagop) /* sub: 0 CLC 1 STC 2 CMC 3 CLD 4 STD */
{
    emu_flags_fold(c);
    switch (i->sub) {
    case 0: c->eflags &= ~F_CF; break;
    case 1: c->eflags |= F_CF; break;
    case 2: c->eflags ^= F_CF; break;
    case 3: c->eflags &= ~F_DF; break;
    default: c->eflags |= F_DF; break;
    }
    next(c, i);
}

static bool iopl_ok(const struct emu_cpu *c)
{
    return !c->pe || c->cpl <= ((c->eflags & F_IOPL) >> 12);
}

H(h_cli)
{
    if (!iopl_ok(c))
        RAISE_GP(c, 0);
    c->eflags &= ~F_IF;
    next(c, i);
}

H(h_sti)
{
    if (!iopl_ok(c))
        RAISE_GP(c, 0);
    if (!(c->eflags & F_IF))
        c->intr_shadow = true;
    c->eflags |= F_IF;
    next(c, i);
}

H(h_lahf)
{
    set_reg(c, EMU_AH, 1, emu_get_eflags(c) & 0xFF);
    next(c, i);
}

H(h_sahf)
{
    emu_write_eflags(c, (c->r[EAX_] >> 8) & 0xFF, F_CF | F_PF | F_AF | F_ZF | F_SF);
    next(c, i);
}

/* ---- BCD ---- */

H(h_daa)    /* sub: 0 DAA, 1 DAS */
{
    emu_flags_fold(c);
    uint64_t al = c->r[EAX_] & 0xFF, old = al;
    bool cf = c->eflags & F_CF, af = false, ncf = false;
    if ((al & 0xF) > 9 || (c->eflags & F_AF)) {
        af = true;
        if (i->sub == 0) {
            ncf = cf || al > 0xF9;
            al = (al + 6) & 0xFF;
        } else {
            ncf = cf || al < 6;
            al = (al - 6) & 0xFF;
        }
    }
    if (old > 0x99 || cf) {
        al = i->sub == 0 ? (al + 0x60) & 0xFF : (al - 0x60) & 0xFF;
        ncf = true;
    }
    set_reg(c, EAX_, 1, al);
    set_szp(c, al, 1, ncf, false, af);
    next(c, i);
}

H(h_aaa)    /* sub: 0 AAA, 1 AAS */
{
    emu_flags_fold(c);
    bool adj = (c->r[EAX_] & 0xF) > 9 || (c->eflags & F_AF);
    uint64_t ax = c->r[EAX_] & 0xFFFF;
    if (adj) {
        if (i->sub == 0)
            ax = ((ax + 0x106) & 0xFF00) | ((ax + 6) & 0xFF);
        else
            ax = ((ax - 0x106) & 0xFF00) | ((ax - 6) & 0xFF);
    }
    ax = (ax & 0xFF00) | (ax & 0x0F);
    set_reg(c, EAX_, 2, ax);
    set_szp(c, ax & 0xFF, 1, adj, false, adj);
    next(c, i);
}

H(h_aam)
{
    uint64_t base = i->imm & 0xFF, al = c->r[EAX_] & 0xFF;
    if (base == 0)
        emu_raise(c, EXC_DE, 0, false);
    uint64_t ax = ((al / base) << 8) | (al % base);
    set_reg(c, EAX_, 2, ax);
    set_szp(c, ax & 0xFF, 1, false, false, false);
    next(c, i);
}

H(h_aad)
{
    uint64_t base = i->imm & 0xFF;
    uint64_t al = ((c->r[EAX_] & 0xFF) + ((c->r[EAX_] >> 8) & 0xFF) * base) & 0xFF;
    set_reg(c, EAX_, 2, al);
    set_szp(c, al, 1, false, false, false);
    next(c, i);
}

/* ---- string instructions ---- */

/* Iterations per handler call; then re-execute.  The fuzz build
 * (tests/fuzz/fuzz.mk) lowers it so its instruction budget bounds the work. */
#ifndef STR_CAP
#define STR_CAP 0x100000u
#endif

static inline uint64_t amask(const struct emu_insn *i) { return size_mask(i->adsz); }

static inline void str_adv(struct emu_cpu *c, int reg, const struct emu_insn *i, int32_t d)
{
    uint64_t m = amask(i);
    set_sp_like(c, reg, m, c->r[reg] + (uint64_t)d);
}

/* Common REP driver: returns after finishing (EIP advanced) or when the
 * cap is reached (EIP unchanged so the instruction resumes). */
#define REP_LOOP(body, cond)                                                   \
    do {                                                                       \
        uint64_t m_ = amask(i);                                                \
        int32_t d_ = (c->eflags & F_DF) ? -(int32_t)sz : (int32_t)sz;          \
        (void)d_;                                                              \
        if (!i->rep) {                                                         \
            body;                                                              \
            next(c, i);                                                        \
            return;                                                            \
        }                                                                      \
        for (uint64_t n_ = 0; n_ < STR_CAP; n_++) {                            \
            if ((c->r[ECX_] & m_) == 0) {                                      \
                next(c, i);                                                    \
                return;                                                        \
            }                                                                  \
            body;                                                              \
            set_sp_like(c, ECX_, m_, c->r[ECX_] - 1);                         \
            if (!(cond)) {                                                     \
                next(c, i);                                                    \
                return;                                                        \
            }                                                                  \
        }                                                                      \
        c->stop_block = true;                                                  \
    } while (0)

/* One MOVS / STOS element: the architectural definition, and the
 * reference the bulk path below must match. */
static void movs_one(struct emu_cpu *c, const struct emu_insn *i, unsigned sz)
{
    uint64_t m = amask(i);
    int32_t d = (c->eflags & F_DF) ? -(int32_t)sz : (int32_t)sz;
    uint64_t v = rd_mem(c, i->seg, c->r[ESI_] & m, sz);
    wr_mem(c, ES_, c->r[EDI_] & m, sz, v);
    str_adv(c, ESI_, i, d);
    str_adv(c, EDI_, i, d);
}

static void stos_one(struct emu_cpu *c, const struct emu_insn *i, unsigned sz)
{
    uint64_t m = amask(i);
    int32_t d = (c->eflags & F_DF) ? -(int32_t)sz : (int32_t)sz;
    wr_mem(c, ES_, c->r[EDI_] & m, sz, get_reg(c, EAX_, sz));
    str_adv(c, EDI_, i, d);
}

/* ---- bulk REP MOVS / STOS ----
 * Linux clears and copies pages with REP STOS/MOVS (clear_page_erms,
 * copy_page, ERMS memcpy/memset, copy_user): element by element each one
 * costs a segment check, a TLB probe and a call.  Instead the remaining
 * count is cut into chunks whose elements all lie inside the current
 * source and destination pages (linear 4 KiB pages: paging is respected),
 * inside the address-size wrap and inside the segment limits; each chunk
 * translates its pages once, as its first element would (emu_lin_host:
 * a #PF is raised with the registers at the chunk start, which is the
 * faulting element), then moves host memory in one go.  Anything else --
 * an element straddling a page, MMIO or ROM, a chunk crossing a segment
 * limit -- runs through movs_one/stos_one, which raise faults at the
 * exact element. */

static inline uint64_t min_u64(uint64_t a, uint64_t b) { return a < b ? a : b; }

/* seg_lin without the checks: the chunk's checks are str_range_ok's. */
static inline uint64_t str_lin(const struct emu_cpu *c, int seg, uint64_t off)
{
    const struct emu_seg *s = &c->seg[seg];
    if (c->code64)
        return seg >= FS_ ? off + s->base : off;
    return (uint32_t)(s->base + (uint32_t)off);
}

/* Elements of size sz from offset off (linear lin) going up (or down)
 * that stay inside lin's page and whose offsets do not wrap the address
 * size (mask m); an element starting just below the wrap reads linear-
 * contiguous bytes (seg_lin) but is left to the element path anyway. */
static uint64_t str_span(uint64_t off, uint64_t lin, uint64_t m, unsigned sz, bool down)
{
    uint64_t pg = lin & 0xFFF, n;
    if (!down) {
        n = (4096 - pg) / sz;
        if (m != ~0ull)
            n = min_u64(n, (m + 1 - off) / sz);
        return n;
    }
    if (pg + sz > 4096)
        return 0;
    n = pg / sz + 1;
    if (m != ~0ull)
        n = min_u64(n, off / sz + 1);
    return n;
}

/* Would every element of the chunk [off, off+bytes) pass seg_lin?  (The
 * offsets do not wrap: str_span.) */
static bool str_range_ok(const struct emu_cpu *c, int seg, uint64_t off, uint64_t bytes,
                         bool write)
{
    if (c->code64) {
        uint64_t lin = str_lin(c, seg, off);
        return canonical(lin) && canonical(lin + bytes - 1);
    }
    const struct emu_seg *s = &c->seg[seg];
    return (write ? s->wr : s->rd) && off >= s->lo && off + bytes - 1 <= s->hi;
}

/* MOVS of n elements between host ranges d and s (lowest addresses).
 * memmove is the element loop unless the destination overlaps the part of
 * the source still to be read (dst ahead of src in the copy's direction:
 * "rep movsb" with dst = src + 1 replicates a byte), then element order
 * it is.  Host addresses, so two linear aliases of one page are caught. */
static void str_copy(uint8_t *d, const uint8_t *s, uint64_t n, unsigned sz, bool down)
{
    uint64_t bytes = n * sz;
    bool ahead = down ? (d < s && s < d + bytes) : (s < d && d < s + bytes);
    if (!ahead) {
        memmove(d, s, bytes);
        return;
    }
    for (uint64_t k = 0; k < n; k++) {
        uint64_t at = (down ? n - 1 - k : k) * sz;
        st_host(d + at, sz, ld_host(s + at, sz));
    }
}

static void str_fill(uint8_t *d, uint64_t n, unsigned sz, uint64_t v)
{
    uint64_t rep = (v & 0xFF) * 0x0101010101010101ull;
    if (sz == 1 || (v & size_mask(sz)) == (rep & size_mask(sz))) {
        memset(d, (int)(v & 0xFF), n * sz);
        return;
    }
    for (uint64_t k = 0; k < n; k++)
        st_host(d + k * sz, sz, v);
}

/* One chunk of REP MOVS (movs) or STOS, at most max elements.  Returns the
 * elements done; 0 with *slow = how many must go element by element. */
static uint64_t str_chunk(struct emu_cpu *c, const struct emu_insn *i, unsigned sz, bool movs,
                          uint64_t max, uint64_t *slow)
{
    uint64_t m = amask(i);
    bool down = c->eflags & F_DF;
    uint64_t offd = c->r[EDI_] & m, offs = c->r[ESI_] & m;
    uint64_t lind = str_lin(c, ES_, offd), lins = movs ? str_lin(c, i->seg, offs) : 0;
    uint64_t n = min_u64(max, str_span(offd, lind, m, sz, down));
    if (movs)
        n = min_u64(n, str_span(offs, lins, m, sz, down));
    *slow = 1;
    if (n < 2)
        return 0;
    uint64_t back = down ? (n - 1) * sz : 0, bytes = n * sz;
    *slow = n;
    if ((movs && !str_range_ok(c, i->seg, offs - back, bytes, false)) ||
        !str_range_ok(c, ES_, offd - back, bytes, true))
        return 0;
    /* the first element's order: source read, then destination write */
    const uint8_t *src = NULL;
    if (movs && !(src = emu_lin_host(c, lins, lins - back, bytes, false)))
        return 0;
    uint8_t *dst = emu_lin_host(c, lind, lind - back, bytes, true);
    if (!dst)
        return 0;
    if (movs)
        str_copy(dst, src, n, sz, down);
    else
        str_fill(dst, n, sz, get_reg(c, EAX_, sz));
    uint64_t delta = down ? -bytes : bytes;
    set_sp_like(c, EDI_, m, c->r[EDI_] + delta);
    if (movs)
        set_sp_like(c, ESI_, m, c->r[ESI_] + delta);
    set_sp_like(c, ECX_, m, c->r[ECX_] - n);
    c->st.str_bulk += n;
    return n;
}

/* REP MOVS/STOS: REP_LOOP's contract (STR_CAP elements per call, then
 * the instruction re-executes) with chunks where it can. */
static void rep_bulk(struct emu_cpu *c, const struct emu_insn *i, unsigned sz, bool movs)
{
    uint64_t m = amask(i);
    for (uint64_t left = STR_CAP; left > 0;) {
        uint64_t cx = c->r[ECX_] & m;
        if (cx == 0) {
            next(c, i);
            return;
        }
        uint64_t slow, n = str_chunk(c, i, sz, movs, min_u64(cx, left), &slow);
        if (n == 0) {
            n = min_u64(slow, min_u64(cx, left));
            for (uint64_t k = 0; k < n; k++) {
                if (movs)
                    movs_one(c, i, sz);
                else
                    stos_one(c, i, sz);
                set_sp_like(c, ECX_, m, c->r[ECX_] - 1);
                c->st.str_single++;
            }
        }
        left -= n;
    }
    c->stop_block = true;
}

H(h_movs)
{
    unsigned sz = i->sub;
    if (i->rep && !c->str_elementwise) {
        rep_bulk(c, i, sz, true);
        return;
    }
    REP_LOOP(movs_one(c, i, sz), true);
}

H(h_stos)
{
    unsigned sz = i->sub;
    if (i->rep && !c->str_elementwise) {
        rep_bulk(c, i, sz, false);
        return;
    }
    REP_LOOP(stos_one(c, i, sz), true);
}

H(h_lods)
{
    unsigned sz = i->sub;
    REP_LOOP({
        set_reg(c, EAX_, sz, rd_mem(c, i->seg, c->r[ESI_] & m_, sz));
        str_adv(c, ESI_, i, d_);
    }, true);
}

H(h_cmps)
{
    unsigned sz = i->sub;
    REP_LOOP({
        uint64_t a = rd_mem(c, i->seg, c->r[ESI_] & m_, sz);
        uint64_t b = rd_mem(c, ES_, c->r[EDI_] & m_, sz);
        set_lf(c, LF_SUB, sz, (a - b) & size_mask(sz), a, b);
        str_adv(c, ESI_, i, d_);
        str_adv(c, EDI_, i, d_);
    }, i->rep == EMU_REP ? emu_zf(c) : !emu_zf(c));
}

H(h_scas)
{
    unsigned sz = i->sub;
    REP_LOOP({
        uint64_t a = get_reg(c, EAX_, sz);
        uint64_t b = rd_mem(c, ES_, c->r[EDI_] & m_, sz);
        set_lf(c, LF_SUB, sz, (a - b) & size_mask(sz), a, b);
        str_adv(c, EDI_, i, d_);
    }, i->rep == EMU_REP ? emu_zf(c) : !emu_zf(c));
}

static uint64_t io_in(struct emu_cpu *c, uint16_t port, unsigned sz)
{
    uint32_t v = 0;
    c->env.pio(c->env.opaque, port, sz, false, &v);
    return v & size_mask(sz);
}

static void io_out(struct emu_cpu *c, uint16_t port, unsigned sz, uint64_t v)
{
    uint32_t w = (uint32_t)(v & size_mask(sz));
    c->env.pio(c->env.opaque, port, sz, true, &w);
}

static void io_check(struct emu_cpu *c, uint16_t port, unsigned sz)
{
    if (!emu_io_allowed(c, port, sz))
        RAISE_GP(c, 0);
}

H(h_ins)
{
    unsigned sz = i->sub;
    uint16_t port = (uint16_t)c->r[EDX_];
    io_check(c, port, sz);
    REP_LOOP({
        uint64_t off = c->r[EDI_] & m_;
        (void)seg_lin(c, ES_, off, sz, true);   /* fault before the port read */
        wr_mem(c, ES_, off, sz, io_in(c, port, sz));
        str_adv(c, EDI_, i, d_);
    }, true);
}

H(h_outs)
{
    unsigned sz = i->sub;
    uint16_t port = (uint16_t)c->r[EDX_];
    io_check(c, port, sz);
    REP_LOOP({
        io_out(c, port, sz, rd_mem(c, i->seg, c->r[ESI_] & m_, sz));
        str_adv(c, ESI_, i, d_);
    }, true);
}

H(h_in)     /* sub = size; op[1] is the port (imm) or absent for DX */
{
    unsigned sz = i->sub;
    uint16_t port = i->imm2 ? (uint16_t)i->imm : (uint16_t)c->r[EDX_];
    io_check(c, port, sz);
    set_reg(c, EAX_, sz, io_in(c, port, sz));
    next(c, i);
}

H(h_out)
{
    unsigned sz = i->sub;
    uint16_t port = i->imm2 ? (uint16_t)i->imm : (uint16_t)c->r[EDX_];
    io_check(c, port, sz);
    io_out(c, port, sz, get_reg(c, EAX_, sz));
    next(c, i);
}

/* ---- system ---- */

static void need_cpl0(struct emu_cpu *c)
{
    if (c->pe && c->cpl != 0)
        RAISE_GP(c, 0);
}

H(h_nop) { next(c, i); }

/* WBINVD/INVD are privileged (no caches to flush here). */
H(h_wbinvd)
{
    need_cpl0(c);
    next(c, i);
}

H(h_ud) { (void)i; RAISE_UD(c); }

H(h_hlt)
{
    need_cpl0(c);
    c->halted = true;
    next(c, i);
}

H(h_lgdt)   /* sub: 0 LGDT, 1 LIDT */
{
    need_cpl0(c);
    const struct emu_operand *o = &i->op[0];
    if (o->kind != OPK_MEM)
        RAISE_UD(c);
    uint64_t off = ea(c, o, i->adsz);
    uint16_t limit = (uint16_t)rd_mem(c, o->seg, off, 2);
    /* 64-bit mode: always an 8-byte base */
    uint64_t base = rd_mem(c, o->seg, off + 2, c->code64 ? 8 : 4);
    if (i->opsz == 2 && !c->code64)
        base &= 0xFFFFFF;
    if (i->sub) {
        c->idt.base = base;
        c->idt.limit = limit;
    } else {
        c->gdt.base = base;
        c->gdt.limit = limit;
    }
    next(c, i);
}

H(h_sgdt)
{
    const struct emu_operand *o = &i->op[0];
    if (o->kind != OPK_MEM)
        RAISE_UD(c);
    uint64_t off = ea(c, o, i->adsz);
    uint64_t base = i->sub ? c->idt.base : c->gdt.base;
    uint16_t limit = i->sub ? c->idt.limit : c->gdt.limit;
    wr_mem(c, o->seg, off, 2, limit);
    if (c->code64)
        wr_mem(c, o->seg, off + 2, 8, base);
    else
        wr_mem(c, o->seg, off + 2, 4, i->opsz == 2 ? base & 0xFFFFFF : base);
    next(c, i);
}

static void load_sys_seg(struct emu_cpu *c, bool tr, uint16_t sel)
{
    if (!c->pe || (c->eflags & F_VM))
        RAISE_UD(c);
    need_cpl0(c);
    struct emu_seg *s = tr ? &c->tr : &c->ldtr;
    if ((sel & 0xFFFC) == 0) {
        if (tr)
            RAISE_GP(c, 0);
        s->sel = sel;
        s->valid = false;
        return;
    }
    if (sel & 4)
        RAISE_GP(c, sel & 0xFFFC);
    if ((uint64_t)(sel | 7) > c->gdt.limit)
        RAISE_GP(c, sel & 0xFFFC);
    uint64_t a = c->gdt.base + (sel & ~7u);
    uint64_t lo = emu_sys_read(c, a, 4), hi = emu_sys_read(c, a + 4, 4);
    unsigned type = (hi >> 8) & 0x1F;
    if (tr ? (type != 9 && (type != 1 || c->lma)) : type != 2)
        RAISE_GP(c, sel & 0xFFFC);
    /* Long mode: 16-byte descriptors, base bits 63:32 in the third dword. */
    uint64_t upper = 0;
    if (c->lma) {
        if ((uint64_t)(sel | 7) + 8 > c->gdt.limit)
            RAISE_GP(c, sel & 0xFFFC);
        upper = emu_sys_read(c, a + 8, 4);
    }
    if (!(hi & 0x8000))
        emu_raise(c, EXC_NP, sel & 0xFFFC, true);
    if (tr) {
        hi |= 0x200;    /* busy */
        emu_sys_write(c, a + 4, 4, hi);
    }
    emu_seg_from_desc(s, sel, (uint32_t)lo, (uint32_t)hi);
    s->base |= upper << 32;
}

H(h_lldt) { load_sys_seg(c, false, (uint16_t)rd_op(c, i, 0)); next(c, i); }
H(h_ltr) { load_sys_seg(c, true, (uint16_t)rd_op(c, i, 0)); next(c, i); }

H(h_sldt)   /* sub: 0 SLDT, 1 STR */
{
    if (!c->pe || (c->eflags & F_VM))    /* #UD in real and v86 mode */
        RAISE_UD(c);
    uint64_t v = i->sub ? c->tr.sel : c->ldtr.sel;
    if (i->op[0].kind == OPK_REG)
        set_reg(c, i->op[0].reg, i->op[0].size, v);
    else
        wr_mem(c, i->op[0].seg, ea(c, &i->op[0], i->adsz), 2, v);
    next(c, i);
}

H(h_smsw)
{
    if (i->op[0].kind == OPK_REG)
        set_reg(c, i->op[0].reg, i->op[0].size, c->cr0);
    else
        wr_mem(c, i->op[0].seg, ea(c, &i->op[0], i->adsz), 2, c->cr0);
    next(c, i);
}

H(h_lmsw)
{
    need_cpl0(c);
    uint64_t v = rd_op(c, i, 0) & 0xF;
    /* LMSW can set PE but never clear it */
    uint64_t cr0 = (c->cr0 & ~0xEull) | v | (c->cr0 & 1);
    emu_write_cr(c, 0, cr0);
    next(c, i);
}

H(h_clts)
{
    need_cpl0(c);
    c->cr0 &= ~8u;
    next(c, i);
}

H(h_mov_cr)     /* sub: 0 load CRn (op0 is CR), 1 store */
{
    need_cpl0(c);
    /* Outside 64-bit mode the GPR side is 32 bits. */
    uint64_t m = c->code64 ? ~0ull : 0xFFFFFFFFull;
    if (i->sub == 0) {
        emu_write_cr(c, i->op[0].reg, c->r[i->op[1].reg] & m);
    } else {
        unsigned n = i->op[1].reg;
        uint64_t v = n == 0 ? c->cr0 : n == 2 ? c->cr2 : n == 3 ? c->cr3 : n == 4 ? c->cr4
                   : c->cr8;
        if (n == 1 || (n > 4 && n != 8) || (n == 8 && !c->code64))
            RAISE_UD(c);
        c->r[i->op[0].reg] = v & m;
    }
    next(c, i);
}

H(h_mov_dr)
{
    need_cpl0(c);
    uint64_t m = c->code64 ? ~0ull : 0xFFFFFFFFull;
    if (i->sub == 0) {
        unsigned n = i->op[0].reg & 7;
        c->dr[n] = c->r[i->op[1].reg] & m;
    } else {
        unsigned n = i->op[1].reg & 7;
        c->r[i->op[0].reg] = c->dr[n] & m;
    }
    next(c, i);
}

H(h_invlpg)
{
    need_cpl0(c);
    const struct emu_operand *o = &i->op[0];
    tlb_flush_page(&c->tlb, seg_lin(c, o->seg, ea(c, o, i->adsz), 1, false));
    next(c, i);
}

H(h_cpuid) { emu_cpuid(c); next(c, i); }

H(h_rdtsc)
{
    if (c->pe && c->cpl != 0 && (c->cr4 & 4))
        RAISE_GP(c, 0);
    uint64_t v;
    emu_rdmsr(c, 0x10, &v);
    c->r[EAX_] = (uint32_t)v;
    c->r[EDX_] = (uint32_t)(v >> 32);
    next(c, i);
}

H(h_rdtscp)
{
    if (c->pe && c->cpl != 0 && (c->cr4 & 4))
        RAISE_GP(c, 0);
    uint64_t v;
    emu_rdmsr(c, 0x10, &v);
    c->r[EAX_] = (uint32_t)v;
    c->r[EDX_] = (uint32_t)(v >> 32);
    c->r[ECX_] = (uint32_t)c->tsc_aux;
    next(c, i);
}

H(h_rdmsr)
{
    need_cpl0(c);
    uint64_t v;
    if (!emu_rdmsr(c, (uint32_t)c->r[ECX_], &v))
        RAISE_GP(c, 0);
    c->r[EAX_] = (uint32_t)v;
    c->r[EDX_] = (uint32_t)(v >> 32);
    next(c, i);
}

H(h_wrmsr)
{
    need_cpl0(c);
    if (!emu_wrmsr(c, (uint32_t)c->r[ECX_], ((uint64_t)(uint32_t)c->r[EDX_] << 32) |
                                             (uint32_t)c->r[EAX_]))
        RAISE_GP(c, 0);
    next(c, i);
}

/* LAR / LSL / VERR / VERW: ZF tells whether the selector passes. */
static bool desc_visible(struct emu_cpu *c, uint16_t sel, uint64_t *lo, uint64_t *hi)
{
    if ((sel & 0xFFFC) == 0)
        return false;
    uint64_t base = (sel & 4) ? c->ldtr.base : c->gdt.base;
    uint64_t limit = (sel & 4) ? (c->ldtr.valid ? c->ldtr.limit : 0) : c->gdt.limit;
    if ((sel & 4) && !c->ldtr.valid)
        return false;
    if ((uint64_t)(sel | 7) > limit)
        return false;
    *lo = emu_sys_read(c, base + (sel & ~7u), 4);
    *hi = emu_sys_read(c, base + (sel & ~7u) + 4, 4);
    unsigned dpl = (*hi >> 13) & 3, type = (*hi >> 8) & 0xF;
    bool conforming_code = ((*hi >> 12) & 1) && (type & 0xC) == 0xC;
    return conforming_code || (dpl >= c->cpl && dpl >= (sel & 3u));
}

H(h_larlsl)     /* sub: 0 LAR, 1 LSL */
{
    if (!c->pe || (c->eflags & F_VM))    /* #UD in real and v86 mode */
        RAISE_UD(c);
    uint16_t sel = (uint16_t)rd_op(c, i, 1);
    uint64_t lo, hi;
    bool ok = desc_visible(c, sel, &lo, &hi);
    if (ok && !((hi >> 12) & 1)) {
        unsigned t = (hi >> 8) & 0xF;
        static const uint16_t lar_ok = (1u << 1) | (1u << 2) | (1u << 3) | (1u << 4) |
                                       (1u << 5) | (1u << 9) | (1u << 11) | (1u << 12);
        static const uint16_t lsl_ok = (1u << 1) | (1u << 2) | (1u << 3) | (1u << 9) |
                                       (1u << 11);
        ok = ((i->sub ? lsl_ok : lar_ok) >> t) & 1;
    }
    set_flag(c, F_ZF, ok);
    if (ok) {
        uint64_t v;
        if (i->sub) {
            v = (lo & 0xFFFF) | (hi & 0xF0000);
            if (hi & (1u << 23))
                v = (v << 12) | 0xFFF;
        } else {
            v = hi & 0x00F0FF00u;
        }
        set_reg(c, i->op[0].reg, i->op[0].size, v);
    }
    next(c, i);
}

H(h_verrw)      /* sub: 0 VERR, 1 VERW */
{
    if (!c->pe || (c->eflags & F_VM))    /* #UD in real and v86 mode */
        RAISE_UD(c);
    uint16_t sel = (uint16_t)rd_op(c, i, 0);
    uint64_t lo, hi;
    bool ok = desc_visible(c, sel, &lo, &hi) && ((hi >> 12) & 1);
    if (ok) {
        unsigned t = (hi >> 8) & 0xF;
        ok = i->sub ? !(t & 8) && (t & 2) : !(t & 8) || (t & 2);
    }
    set_flag(c, F_ZF, ok);
    next(c, i);
}

H(h_arpl)
{
    if (!c->pe || (c->eflags & F_VM))    /* #UD in real and v86 mode */
        RAISE_UD(c);
    struct rmw w;
    uint64_t d = rmw_read(c, i, &w, true), s = get_reg(c, i->op[1].reg, 2);
    bool z = (d & 3) < (s & 3);
    if (z)
        rmw_write(c, i, &w, (d & ~3u) | (s & 3));
    set_flag(c, F_ZF, z);
    next(c, i);
}

/* ---- x87 / MMX / SSE through the FPU library (fpu_glue.h) ---- */

#define CR0_MP 0x2u
#define CR0_EM 0x4u
#define CR0_TS 0x8u
#define CR0_NE 0x20u
#define CR4_OSFXSR 0x200u
#define CR4_OSXMMEXCPT 0x400u

H(h_fwait)
{
    if ((c->cr0 & CR0_TS) && (c->cr0 & CR0_MP))
        emu_raise(c, EXC_NM, 0, false);
    if (fpu_fwait(&c->fpu) == FPU_MF && (c->cr0 & CR0_NE))
        emu_raise(c, EXC_MF, 0, false);
    next(c, i);
}

/* What the library's callbacks need: the instruction's memory operand. */
struct fpu_ctx {
    struct emu_cpu *c;
    const struct emu_insn *i;
    uint64_t off;
};

/* Memory callbacks: faults unwind with emu_raise (siglongjmp) from here,
 * before the library commits anything, so the instruction restarts. */
static bool fm_read(void *o, void *buf, unsigned len)
{
    struct fpu_ctx *x = o;
    uint8_t *b = buf;
    if (!x->i->nops)
        RAISE_UD(x->c);
    for (unsigned k = 0; k < len;) {
        unsigned n = len - k >= 8 ? 8 : len - k >= 4 ? 4 : len - k >= 2 ? 2 : 1;
        uint64_t v = rd_mem(x->c, x->i->op[0].seg, (x->off + k) & size_mask(x->i->adsz), n);
        memcpy(b + k, &v, n);
        k += n;
    }
    return true;
}

static bool fm_write(void *o, const void *buf, unsigned len)
{
    struct fpu_ctx *x = o;
    const uint8_t *b = buf;
    if (!x->i->nops)
        RAISE_UD(x->c);
    /* Both ends first: a fault leaves memory untouched in the common case. */
    (void)seg_lin(x->c, x->i->op[0].seg, x->off, len, true);
    for (unsigned k = 0; k < len;) {
        unsigned n = len - k >= 8 ? 8 : len - k >= 4 ? 4 : len - k >= 2 ? 2 : 1;
        uint64_t v = 0;
        memcpy(&v, b + k, n);
        wr_mem(x->c, x->i->op[0].seg, (x->off + k) & size_mask(x->i->adsz), n, v);
        k += n;
    }
    return true;
}

static uint64_t fm_addr(void *o)
{
    struct fpu_ctx *x = o;
    return x->i->nops ? seg_lin(x->c, x->i->op[0].seg, x->off, 1, false) : 0;
}

/* GPR handles: decode.c stores EMU_FPU_GPR(num, size) in the glue's
 * dgpr/sgpr; the library itself only ever names X86_REG_AX (FNSTSW AX). */
static void fm_gpr_decode(uint16_t r, unsigned *num, unsigned *size)
{
    if (r & EMU_FPU_GPR_TAG) {
        *num = r & 0xFF;
        *size = (r >> 8) & 0xF;
    } else {
        *num = EAX_;
        *size = 2;
    }
}

static uint64_t fm_gpr_get(void *o, uint16_t r)
{
    struct fpu_ctx *x = o;
    unsigned num, size;
    fm_gpr_decode(r, &num, &size);
    return get_reg(x->c, num, size);
}

static void fm_gpr_set(void *o, uint16_t r, uint64_t v)
{
    struct fpu_ctx *x = o;
    unsigned num, size;
    fm_gpr_decode(r, &num, &size);
    set_reg(x->c, num, size, v);
}

H(h_fpu)
{
    const struct fpu_glue_insn *g = &i->fg;
    bool x87 = g->kind == G_X87;
    bool sse = !x87 && !g->mmx && g->kind != G_FXSAVE && g->kind != G_FXRSTOR;
    if (c->cr0 & CR0_EM) {
        if (x87)
            emu_raise(c, EXC_NM, 0, false);
        RAISE_UD(c);
    }
    if (sse && !(c->cr4 & CR4_OSFXSR))
        RAISE_UD(c);
    if (c->cr0 & CR0_TS)
        emu_raise(c, EXC_NM, 0, false);
    struct fpu_ctx x = { c, i, i->nops ? ea(c, &i->op[0], i->adsz) : 0 };
    emu_flags_fold(c);
    bool real = !c->pe || (c->eflags & F_VM);
    struct fpu_glue_env env = {
        .opaque = &x, .mem_read = fm_read, .mem_write = fm_write, .mem_addr = fm_addr,
        .gpr_get = fm_gpr_get, .gpr_set = fm_gpr_set, .eflags = &c->eflags,
        .layout = real ? (i->opsz == 2 ? FPU_REAL16 : FPU_REAL32)
                       : (i->opsz == 2 ? FPU_PROT16 : FPU_PROT32),
        .ignne = !(c->cr0 & CR0_NE),
        .cs = c->seg[CS_].sel, .ds = i->nops ? c->seg[i->op[0].seg].sel : 0,
        .ip = c->rip, .dp = x.off,
        /* Intel CPUs save XMM/MXCSR whatever CR4.OSFXSR says (iPXE's librm
         * relies on that); only the register count depends on the mode. */
        .legacy = !c->code64,
    };
    switch (fpu_glue_exec(&c->fpu, g, &env)) {
    case FPU_OK:
        break;
    case FPU_MF:
        emu_raise(c, EXC_MF, 0, false);
    case FPU_XM:
        if (c->cr4 & CR4_OSXMMEXCPT)
            emu_raise(c, EXC_XM, 0, false);
        RAISE_UD(c);
    case FPU_GP:
        RAISE_GP(c, 0);
    default:
        RAISE_UD(c);
    }
    next(c, i);
}

/* ---- fast system calls ---- */

H(h_syscall) { emu_syscall(c, next_eip(c, i)); }
H(h_sysret) { emu_sysret(c, i->opsz); }
H(h_sysenter) { (void)i; emu_sysenter(c); }
H(h_sysexit) { emu_sysexit(c, i->opsz); }

H(h_swapgs)
{
    if (!c->code64)
        RAISE_UD(c);
    need_cpl0(c);
    uint64_t t = c->seg[GS_].base;
    c->seg[GS_].base = c->kernel_gs_base;
    c->kernel_gs_base = t;
    next(c, i);
}

H(h_unimpl)
{
    char what[48];
    snprintf(what, sizeof(what), "instruction (capstone id %u)", i->id);
    emu_unimplemented(c, what);
}

/* ---- threaded forms ----
 *
 * A block slot that is not the block's last runs its handler and then
 * jumps straight to the next slot's handler (a sibling call, so a chain
 * of them is a sequence of indirect jumps, not call + return + loop test
 * per instruction, and each handler's jump has its own predictor entry).
 * The block loop knows where the chain ends (the first slot without a
 * threaded form, which returns to it: emu_insn.run) and sets c->at to it
 * beforehand; a slot that sees stop_block (SMC, STI/MOV SS shadow) stops
 * the chain and stores itself in c->at instead.  Only
 * plain data instructions get a threaded form: anything that can change
 * the mode, the memory map or interrupt state ends its block anyway. */
#define DISPATCH_NEXT(c, i)                                                             \
    do {                                                                                \
        if (unlikely((c)->stop_block)) {                                                \
            (c)->at = (i);                                                              \
            return;                                                                     \
        }                                                                               \
        const struct emu_insn *n_ = (i) + 1;                                            \
        n_->fn((c), n_);                                                                \
    } while (0)

#define THREADED(name)                                                                  \
    static __attribute__((flatten)) void name##_t(struct emu_cpu *c,                   \
                                                  const struct emu_insn *i)             \
    {                                                                                   \
        name(c, i);                                                                     \
        DISPATCH_NEXT(c, i);                                                            \
    }

/* Register-only and load forms cannot set stop_block: only guest writes
 * (SMC), string instructions, mode changes and memory-map changes (port
 * I/O, MMIO or slot writes) do, and none of those is done by a register
 * move, an ALU op with a register destination or a load.  The STI/MOV SS
 * shadow runs its instruction through the unthreaded form (run_shadow).
 * So these jump on without the test. */
#define THREADED_NC(name)                                                               \
    static __attribute__((flatten)) void name##_t(struct emu_cpu *c,                   \
                                                  const struct emu_insn *i)             \
    {                                                                                   \
        name(c, i);                                                                     \
        const struct emu_insn *n_ = i + 1;                                              \
        n_->fn(c, n_);                                                                  \
    }

#define THREADED_FORMS(X)                                                               \
    X(h_mov_store1) X(h_mov_store2) X(h_mov_store4) X(h_mov_store8)                    \
    X(h_mov) X(h_mov_load) X(h_mov_store) X(h_movx)                                     \
    X(h_alu) X(h_test) X(h_incdec_r) X(h_incdec) X(h_neg) X(h_not)                     \
    X(h_shift_ri) X(h_shift) X(h_shxd) X(h_imul) X(h_mul1)                              \
    X(h_lea) X(h_xchg) X(h_cmovcc) X(h_setcc) X(h_push_r) X(h_pop_r)
/* never write memory (see THREADED_NC) */
#define THREADED_NC_FORMS(X)                                                            \
    X(h_mov_load1) X(h_mov_load2) X(h_mov_load4) X(h_mov_load8)                        \
    X(h_movzx_load1) X(h_movzx_load2)                                                   \
    X(h_movsx_load1) X(h_movsx_load2) X(h_movsx_load4)                                  \
    X(h_mov_rr32) X(h_mov_rr64)                                                         \
    X(h_alu_rr32) X(h_alu_ri32) X(h_alu_rr64) X(h_alu_ri64) X(h_alu_rm32) X(h_alu_rm64) \
    X(h_test_rr32) X(h_test_rr64) X(h_cmov_rr32) X(h_cmov_rr64)                        \
    X(h_imul_rr32) X(h_imul_rr64) X(h_imul_rri32) X(h_imul_rri64)                      \
    X(h_lea_b) X(h_lea_x)                                                               \
    X(h_cmp_ri8) X(h_movzx_rr1) X(h_movzx_rr2) X(h_movsxd_rr)

THREADED_FORMS(THREADED)
THREADED_NC_FORMS(THREADED_NC)
#define SHIFT_RI_THREADED(name, op, sz) THREADED_NC(name)
SHIFT_RI_FORMS(SHIFT_RI_THREADED)
#define MEM64_THREADED_LOAD(b, x) THREADED_NC(b) THREADED_NC(x)
#define MEM64_THREADED_STORE(b, x) THREADED(b) THREADED(x)
#define MEM64_THREADED(gen, b, x, k, knd, sz, ext) MEM64_THREADED_##knd(b, x)
MEM64_FORMS(MEM64_THREADED)
#define ALU_OP_THREADED(form, sz, tag, opn, op) THREADED_NC(h_##opn##_##tag)
#define ALU_OP_THREADEDS(form, sz, tag) ALU_FAST_OPS(ALU_OP_THREADED, form, sz, tag)
ALU_FORMS(ALU_OP_THREADEDS)

/* Every threaded form's base handler: `unthread` turns f back. */
#define EMU_ALL_THREADED(PICK)                                                          \
    THREADED_FORMS(PICK)                                                                \
    THREADED_NC_FORMS(PICK)                                                             \
    SHIFT_RI_FORMS(PICK_SHIFT_RI)                                                       \
    MEM64_FORMS(PICK_MEM64)                                                             \
    ALU_FORMS(PICK_OPS)
#define PICK_SHIFT_RI(name, op, sz) PICK(name)
#define PICK_MEM64(gen, b, x, k, knd, sz, ext) PICK(b) PICK(x)
#define PICK_OP(form, sz, tag, opn, op) PICK(h_##opn##_##tag)
#define PICK_OPS(form, sz, tag) ALU_FAST_OPS(PICK_OP, form, sz, tag)

emu_handler emu_threaded_form(emu_handler f)
{
#define PICK(name) if (f == name) return name##_t;
    EMU_ALL_THREADED(PICK)
#undef PICK
    return NULL;
}

emu_handler emu_unthreaded_form(emu_handler f)
{
#define PICK(name) if (f == name##_t) return name;
    EMU_ALL_THREADED(PICK)
#undef PICK
    return f;
}
