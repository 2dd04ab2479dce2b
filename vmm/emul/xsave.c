/* The XSAVE feature set: XGETBV/XSETBV and XSAVE/XSAVEOPT/XRSTOR (standard
 * form) of the components the FPU library holds, x87 and SSE.  The area
 * layout is fpu.c's (the FXSAVE legacy region plus the header); CPUID
 * leaf 0xD (vmm/arch/cpuid.c) describes the same 576 bytes.
 *
 * XINUSE is reported as XCR0: every enabled component counts as "in use"
 * (the SDM allows a CPU to track a component as in use when it is in its
 * initial configuration), so XSAVE writes XSTATE_BV = RFBM there.
 * XSAVEOPT is XSAVE without the optional init/modified optimisations.
 * XSAVEC, XSAVES and XRSTORS are not advertised and raise #UD (decode.c). */
#include "ops.h"

#define CR0_TS 0x8u

bool emu_has_xsave(const struct emu_cpu *c)
{
    const struct cpuid_entry *e = cpuid_find(&c->cpuid, 1, 0);
    return e && (e->r.ecx & CPUID_1_ECX_XSAVE);
}

/* XCR0 bits the model supports (CPUID.(EAX=0DH,ECX=0):EDX:EAX). */
static uint64_t xcr0_supported(const struct emu_cpu *c)
{
    const struct cpuid_entry *e = cpuid_find(&c->cpuid, 0xD, 0);
    return e ? e->r.eax | (uint64_t)e->r.edx << 32 : 0;
}

static void xs_next(struct emu_cpu *c, const struct emu_insn *i)
{
    c->rip = (c->rip + i->len) & c->ip_mask;
}

/* CR4.OSXSAVE can only be set when CPUID says XSAVE: it gates them all. */
static void need_osxsave(struct emu_cpu *c)
{
    if (!(c->cr4 & CR4_OSXSAVE))
        RAISE_UD(c);
}

H(h_xgetbv)
{
    need_osxsave(c);
    /* XCR1 (XINUSE) exists only with CPUID.(0xD,1):EAX[2], not offered. */
    if ((uint32_t)c->r[ECX_] != 0)
        RAISE_GP(c, 0);
    c->r[EAX_] = (uint32_t)c->xcr0;
    c->r[EDX_] = (uint32_t)(c->xcr0 >> 32);
    xs_next(c, i);
}

H(h_xsetbv)
{
    need_osxsave(c);
    if (c->cpl != 0 || (c->eflags & F_VM))
        RAISE_GP(c, 0);
    if ((uint32_t)c->r[ECX_] != 0)
        RAISE_GP(c, 0);
    uint64_t v = (uint32_t)c->r[EAX_] | (c->r[EDX_] & 0xFFFFFFFFull) << 32;
    /* x87 must stay enabled, nothing the model lacks, AVX only with SSE. */
    if (!(v & CPUID_XCR0_X87) || (v & ~xcr0_supported(c)) ||
        ((v & CPUID_XCR0_AVX) && !(v & CPUID_XCR0_SSE)))
        RAISE_GP(c, 0);
    c->xcr0 = v;
    xs_next(c, i);
}

/* The area: 8-byte pieces through the segment and the TLB; a fault
 * unwinds before the FPU state changes (XRSTOR reads everything first;
 * XSAVE's output depends only on the state, so a restart after a partial
 * write writes the same bytes). */
static void area_read(struct emu_cpu *c, int seg, uint64_t off, uint64_t amask, uint8_t *b)
{
    for (unsigned k = 0; k < FPU_XSAVE_SIZE; k += 8) {
        uint64_t v = rd_mem(c, seg, (off + k) & amask, 8);
        memcpy(b + k, &v, 8);
    }
}

static void area_write(struct emu_cpu *c, int seg, uint64_t off, uint64_t amask, const uint8_t *b)
{
    for (unsigned k = 0; k < FPU_XSAVE_SIZE; k += 8) {
        uint64_t v;
        memcpy(&v, b + k, 8);
        wr_mem(c, seg, (off + k) & amask, 8, v);
    }
}

/* sub: XSAVE_OP_* | XSAVE_REXW */
H(h_xsave)
{
    need_osxsave(c);
    if (c->cr0 & CR0_TS)
        emu_raise(c, EXC_NM, 0, false);
    const struct emu_operand *o = &i->op[0];
    if (i->nops < 1 || o->kind != OPK_MEM)
        RAISE_UD(c);
    uint64_t amask = size_mask(i->adsz);
    uint64_t off = (uint64_t)o->disp;
    if (o->base != EMU_NOREG)
        off += o->base == EMU_RIPREL ? c->rip + i->len : c->r[o->base];
    if (o->index != EMU_NOREG)
        off += c->r[o->index] << o->scale;
    off &= amask;
    bool store = (i->sub & 3) != XSAVE_OP_RSTOR;
    if (seg_lin(c, o->seg, off, FPU_XSAVE_SIZE, store) & 63)
        RAISE_GP(c, 0);
    uint64_t rfbm = ((uint32_t)c->r[EAX_] | (c->r[EDX_] & 0xFFFFFFFFull) << 32) & c->xcr0;
    bool rex_w = (i->sub & XSAVE_REXW) != 0;
    unsigned nxmm = c->code64 ? 16 : 8;
    uint8_t img[FPU_XSAVE_SIZE];
    area_read(c, o->seg, off, amask, img);
    if (store) {
        fpu_xsave(&c->fpu, img, rfbm, c->xcr0, rex_w, nxmm);
        area_write(c, o->seg, off, amask, img);
    } else if (fpu_xrstor(&c->fpu, img, rfbm, c->xcr0, rex_w, nxmm) != FPU_OK) {
        RAISE_GP(c, 0);
    }
    xs_next(c, i);
}
