/* Lazy flags: derived from (op, size, result, operands) on demand.  The
 * carry/borrow vectors give CF (top bit), AF (bit 3) and OF at once and
 * also hold for ADC/SBB, whose carry-in is folded into the result. */
#include "emul_int.h"

static inline unsigned msb_shift(const struct emu_cpu *c) { return c->lf.size * 8u - 1; }

static inline uint64_t carry_vec(const struct emu_cpu *c)
{
    uint64_t a = c->lf.a, b = c->lf.b, r = c->lf.res;
    switch (c->lf.op) {
    case LF_ADD: case LF_ADC: case LF_INC:
        return (a & b) | ((a ^ b) & ~r);
    case LF_SUB: case LF_SBB: case LF_DEC:
        return (~a & b) | (~(a ^ b) & r);
    default:
        return 0;
    }
}

bool emu_cf(const struct emu_cpu *c)
{
    switch (c->lf.op) {
    case LF_NONE: case LF_INC: case LF_DEC:
        return c->eflags & F_CF;
    case LF_LOGIC:
        return false;
    default:
        return (carry_vec(c) >> msb_shift(c)) & 1;
    }
}

bool emu_zf(const struct emu_cpu *c)
{
    if (c->lf.op == LF_NONE)
        return c->eflags & F_ZF;
    return (c->lf.res & size_mask(c->lf.size)) == 0;
}

bool emu_sf(const struct emu_cpu *c)
{
    if (c->lf.op == LF_NONE)
        return c->eflags & F_SF;
    return (c->lf.res >> msb_shift(c)) & 1;
}

bool emu_pf(const struct emu_cpu *c)
{
    if (c->lf.op == LF_NONE)
        return c->eflags & F_PF;
    return parity8(c->lf.res);
}

bool emu_af(const struct emu_cpu *c)
{
    if (c->lf.op == LF_NONE)
        return c->eflags & F_AF;
    if (c->lf.op == LF_LOGIC)
        return false;
    return ((c->lf.a ^ c->lf.b ^ c->lf.res) >> 4) & 1;
}

bool emu_of(const struct emu_cpu *c)
{
    uint64_t a = c->lf.a, b = c->lf.b, r = c->lf.res;
    switch (c->lf.op) {
    case LF_NONE:
        return c->eflags & F_OF;
    case LF_ADD: case LF_ADC: case LF_INC:
        return (((a ^ r) & (b ^ r)) >> msb_shift(c)) & 1;
    case LF_SUB: case LF_SBB: case LF_DEC:
        return (((a ^ b) & (a ^ r)) >> msb_shift(c)) & 1;
    default:
        return false;
    }
}

bool emu_cond(const struct emu_cpu *c, unsigned cc)
{
    bool v;
    switch (cc >> 1) {
    case 0: v = emu_of(c); break;                               /* O */
    case 1: v = emu_cf(c); break;                               /* B */
    case 2: v = emu_zf(c); break;                               /* Z */
    case 3: v = emu_cf(c) || emu_zf(c); break;                  /* BE */
    case 4: v = emu_sf(c); break;                               /* S */
    case 5: v = emu_pf(c); break;                               /* P */
    case 6: v = emu_sf(c) != emu_of(c); break;                  /* L */
    default: v = emu_zf(c) || (emu_sf(c) != emu_of(c)); break;  /* LE */
    }
    return v ^ (cc & 1);
}

void emu_flags_fold(struct emu_cpu *c)
{
    if (c->lf.op == LF_NONE)
        return;
    uint32_t f = c->eflags & ~F_ARITH;
    f |= emu_cf(c) ? F_CF : 0;
    f |= emu_pf(c) ? F_PF : 0;
    f |= emu_af(c) ? F_AF : 0;
    f |= emu_zf(c) ? F_ZF : 0;
    f |= emu_sf(c) ? F_SF : 0;
    f |= emu_of(c) ? F_OF : 0;
    c->eflags = f;
    c->lf.op = LF_NONE;
}

uint32_t emu_get_eflags(struct emu_cpu *c)
{
    emu_flags_fold(c);
    return c->eflags;
}

void emu_write_eflags(struct emu_cpu *c, uint32_t v, uint32_t mask)
{
    emu_flags_fold(c);
    c->eflags = ((c->eflags & ~mask) | (v & mask)) | 2u;
    c->eflags &= ~(0x8u | 0x20u | 0x8000u);
}
