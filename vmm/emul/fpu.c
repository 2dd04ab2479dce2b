/* x87 state, control instructions, environment images and the host
 * execution of x87 data instructions.  See fpu.h for the why. */
#include "fpu.h"

#include <string.h>

#if !defined(__x86_64__)
#error "fpu.c executes x87/SSE instructions on the host: x86-64 hosts only"
#endif

/* ------------------------------------------------------------ helpers */

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const uint8_t *p) { return rd16(p) | (uint32_t)rd16(p + 2) << 16; }
static uint64_t rd64(const uint8_t *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }
static void wr16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void wr32(uint8_t *p, uint32_t v) { wr16(p, (uint16_t)v); wr16(p + 2, (uint16_t)(v >> 16)); }
static void wr64(uint8_t *p, uint64_t v) { wr32(p, (uint32_t)v); wr32(p + 4, (uint32_t)(v >> 32)); }

/* Bits of the control word that exist (bit 6 reads as 1 on 387+). */
static uint16_t cw_norm(uint16_t v) { return (uint16_t)((v & 0x1F3F) | 0x40); }

/* ES and B mirror "some unmasked exception flag is set": recomputed
 * whenever flags or masks change (that is what FLDCW/FNSTENV/FLDENV do
 * on the host too). */
static void sw_fix(struct emu_fpu *f)
{
    if (f->sw & ~f->cw & 0x3F)
        f->sw |= FPU_SW_ES | FPU_SW_B;
    else
        f->sw &= (uint16_t)~(FPU_SW_ES | FPU_SW_B);
}

static unsigned phys(const struct emu_fpu *f, unsigned i) { return (fpu_top(f) + i) & 7; }

static void reg_to10(const struct fpu_reg80 *r, uint8_t *p)
{
    wr64(p, r->mant);
    wr16(p + 8, r->se);
}

static void reg_from10(struct fpu_reg80 *r, const uint8_t *p)
{
    r->mant = rd64(p);
    r->se = rd16(p + 8);
}

void fpu_finit(struct emu_fpu *f)
{
    f->cw = 0x37F;
    f->sw = 0;
    f->tag = 0;
    f->fop = 0;
    f->fip = f->fdp = 0;
    f->fcs = f->fds = 0;
}

void fpu_reset(struct emu_fpu *f)
{
    memset(f, 0, sizeof(*f));
    fpu_finit(f);
    f->mxcsr = 0x1F80;
    f->mxcsr_mask = 0xFFFF;
}

/* The tag an FSTENV reports for a non-empty register: derived from the
 * contents, like the hardware (which keeps only the abridged tag). */
static unsigned tag_of(const struct fpu_reg80 *r)
{
    unsigned e = r->se & 0x7FFF;
    if (e == 0x7FFF)
        return 2;
    if (e == 0)
        return r->mant ? 2 : 1;
    return (r->mant >> 63) ? 0 : 2;        /* unnormal: special */
}

uint16_t fpu_full_tag(const struct emu_fpu *f)
{
    uint16_t tw = 0;
    for (unsigned p = 0; p < 8; p++)
        tw |= (uint16_t)((f->tag >> p & 1 ? tag_of(&f->r[p]) : 3u) << (2 * p));
    return tw;
}

static uint8_t tag_abridge(uint16_t tw)
{
    uint8_t t = 0;
    for (unsigned p = 0; p < 8; p++)
        if (((tw >> (2 * p)) & 3) != 3)
            t |= (uint8_t)(1u << p);
    return t;
}

long double fpu_st(const struct emu_fpu *f, unsigned i)
{
    long double v;
    uint8_t b[16] = { 0 };
    reg_to10(&f->r[phys(f, i & 7)], b);
    memcpy(&v, b, sizeof(v) < 16 ? sizeof(v) : 16);
    return v;
}

/* ------------------------------------------------ environment images */

static bool layout32(enum fpu_layout l) { return l == FPU_REAL32 || l == FPU_PROT32; }

unsigned fpu_fstenv(struct emu_fpu *f, uint8_t *b, enum fpu_layout l)
{
    uint16_t tw = fpu_full_tag(f);
    if (layout32(l)) {
        memset(b, 0xFF, 28);       /* reserved halves read as ones */
        wr16(b, f->cw);
        wr16(b + 4, f->sw);
        wr16(b + 8, tw);
        if (l == FPU_PROT32) {
            wr32(b + 12, (uint32_t)f->fip);
            wr32(b + 16, f->fcs | (uint32_t)(f->fop & 0x7FF) << 16);
            wr32(b + 20, (uint32_t)f->fdp);
            wr16(b + 24, f->fds);
        } else {
            /* Real mode: 32-bit linear pointers split 16 / 16<<12. */
            wr32(b + 12, (uint32_t)f->fip & 0xFFFF);
            wr32(b + 16, ((uint32_t)f->fip >> 16) << 12 | (f->fop & 0x7FF));
            wr32(b + 20, (uint32_t)f->fdp & 0xFFFF);
            wr32(b + 24, ((uint32_t)f->fdp >> 16) << 12);
        }
    } else {
        wr16(b, f->cw);
        wr16(b + 2, f->sw);
        wr16(b + 4, tw);
        if (l == FPU_PROT16) {
            wr16(b + 6, (uint16_t)f->fip);
            wr16(b + 8, f->fcs);
            wr16(b + 10, (uint16_t)f->fdp);
            wr16(b + 12, f->fds);
        } else {
            wr16(b + 6, (uint16_t)f->fip);
            wr16(b + 8, (uint16_t)(((f->fip >> 16) & 0xF) << 12 | (f->fop & 0x7FF)));
            wr16(b + 10, (uint16_t)f->fdp);
            wr16(b + 12, (uint16_t)(((f->fdp >> 16) & 0xF) << 12));
        }
    }
    f->cw |= 0x3F;                  /* FNSTENV masks everything afterwards */
    sw_fix(f);
    return layout32(l) ? 28 : 14;
}

unsigned fpu_fldenv(struct emu_fpu *f, const uint8_t *b, enum fpu_layout l)
{
    uint16_t tw;
    if (layout32(l)) {
        f->cw = cw_norm(rd16(b));
        f->sw = rd16(b + 4);
        tw = rd16(b + 8);
        if (l == FPU_PROT32) {
            f->fip = rd32(b + 12);
            f->fcs = rd16(b + 16);
            f->fop = rd16(b + 18) & 0x7FF;
            f->fdp = rd32(b + 20);
            f->fds = rd16(b + 24);
        } else {
            f->fip = (rd32(b + 12) & 0xFFFF) | ((rd32(b + 16) >> 12) & 0xFFFF) << 16;
            f->fop = rd16(b + 16) & 0x7FF;
            f->fdp = (rd32(b + 20) & 0xFFFF) | ((rd32(b + 24) >> 12) & 0xFFFF) << 16;
            f->fcs = f->fds = 0;
        }
    } else {
        f->cw = cw_norm(rd16(b));
        f->sw = rd16(b + 2);
        tw = rd16(b + 4);
        f->fip = rd16(b + 6);
        f->fdp = rd16(b + 10);
        if (l == FPU_PROT16) {
            f->fcs = rd16(b + 8);
            f->fds = rd16(b + 12);
        } else {
            f->fip |= (uint64_t)(rd16(b + 8) >> 12) << 16;
            f->fop = rd16(b + 8) & 0x7FF;
            f->fdp |= (uint64_t)(rd16(b + 12) >> 12) << 16;
            f->fcs = f->fds = 0;
        }
    }
    f->tag = tag_abridge(tw);
    sw_fix(f);
    return layout32(l) ? 28 : 14;
}

unsigned fpu_fsave(struct emu_fpu *f, uint8_t *b, enum fpu_layout l)
{
    /* The image holds the state before FNSTENV's masking. */
    uint16_t cw = f->cw;
    unsigned n = fpu_fstenv(f, b, l);
    f->cw = cw;
    for (unsigned i = 0; i < 8; i++)
        reg_to10(&f->r[phys(f, i)], b + n + 10 * i);
    fpu_finit(f);
    return n + 80;
}

unsigned fpu_frstor(struct emu_fpu *f, const uint8_t *b, enum fpu_layout l)
{
    unsigned n = fpu_fldenv(f, b, l);
    for (unsigned i = 0; i < 8; i++)
        reg_from10(&f->r[phys(f, i)], b + n + 10 * i);
    return n + 80;
}

/* ------------------------------------------------------ FXSAVE/FXRSTOR */

/* The legacy region (FXSAVE image, and bytes 0-511 of an XSAVE area) by
 * state component: x87 is bytes 0-23 and 32-159, SSE is MXCSR/MXCSR_MASK
 * (24-31) and the XMM registers (160-415).  FXSAVE/FXRSTOR use both;
 * XSAVE/XRSTOR each one its RFBM bit asks for. */

static void x87_save(const struct emu_fpu *f, uint8_t *img, bool rex_w)
{
    memset(img, 0, 24);         /* reserved bytes are written as zeros */
    memset(img + 32, 0, 128);
    wr16(img, f->cw);
    wr16(img + 2, f->sw);
    img[4] = f->tag;
    wr16(img + 6, f->fop & 0x7FF);
    if (rex_w) {
        wr64(img + 8, f->fip);
        wr64(img + 16, f->fdp);
    } else {
        wr32(img + 8, (uint32_t)f->fip);
        wr16(img + 12, f->fcs);
        wr32(img + 16, (uint32_t)f->fdp);
        wr16(img + 20, f->fds);
    }
    for (unsigned i = 0; i < 8; i++)
        reg_to10(&f->r[phys(f, i)], img + 32 + 16 * i);
}

static void x87_load(struct emu_fpu *f, const uint8_t *img, bool rex_w)
{
    f->cw = cw_norm(rd16(img));
    f->sw = rd16(img + 2);
    f->tag = img[4];
    f->fop = rd16(img + 6) & 0x7FF;
    if (rex_w) {
        f->fip = rd64(img + 8);
        f->fdp = rd64(img + 16);
        f->fcs = f->fds = 0;
    } else {
        f->fip = rd32(img + 8);
        f->fcs = rd16(img + 12);
        f->fdp = rd32(img + 16);
        f->fds = rd16(img + 20);
    }
    for (unsigned i = 0; i < 8; i++)
        reg_from10(&f->r[phys(f, i)], img + 32 + 16 * i);
}

static void mxcsr_save(const struct emu_fpu *f, uint8_t *img)
{
    wr32(img + 24, f->mxcsr);
    wr32(img + 28, f->mxcsr_mask);
}

static void xmm_save(const struct emu_fpu *f, uint8_t *img, unsigned nxmm)
{
    for (unsigned i = 0; i < nxmm && i < 16; i++)
        memcpy(img + 160 + 16 * i, f->xmm[i].b, 16);
}

static void xmm_load(struct emu_fpu *f, const uint8_t *img, unsigned nxmm)
{
    for (unsigned i = 0; i < nxmm && i < 16; i++)
        memcpy(f->xmm[i].b, img + 160 + 16 * i, 16);
}

void fpu_fxsave(const struct emu_fpu *f, uint8_t img[512], bool rex_w, unsigned nxmm)
{
    /* Bytes 288/416..511 are reserved/available: left alone like the CPU. */
    x87_save(f, img, rex_w);
    memset(img + 24, 0, 8);
    if (nxmm)
        mxcsr_save(f, img);
    xmm_save(f, img, nxmm);
}

int fpu_fxrstor(struct emu_fpu *f, const uint8_t img[512], bool rex_w, unsigned nxmm)
{
    if (nxmm && (rd32(img + 24) & ~f->mxcsr_mask))
        return FPU_GP;
    x87_load(f, img, rex_w);
    if (nxmm) {
        f->mxcsr = rd32(img + 24);
        xmm_load(f, img, nxmm);
    }
    sw_fix(f);
    return FPU_OK;
}

/* ------------------------------------------------------- XSAVE/XRSTOR */

void fpu_xsave(const struct emu_fpu *f, uint8_t img[FPU_XSAVE_SIZE], uint64_t rfbm,
               uint64_t xinuse, bool rex_w, unsigned nxmm)
{
    if (rfbm & FPU_XSTATE_X87)
        x87_save(f, img, rex_w);
    if (rfbm & FPU_XSTATE_SSE) {
        mxcsr_save(f, img);
        xmm_save(f, img, nxmm);
    }
    /* XSTATE_BV: bits outside RFBM keep their value; the rest say which
     * components are in use (not in their initial configuration). */
    uint64_t bv = rd64(img + 512);
    wr64(img + 512, (bv & ~rfbm) | (xinuse & rfbm));
}

int fpu_xrstor(struct emu_fpu *f, const uint8_t img[FPU_XSAVE_SIZE], uint64_t rfbm,
               uint64_t xcr0, bool rex_w, unsigned nxmm)
{
    uint64_t bv = rd64(img + 512);
    /* Without XSAVEC: XCOMP_BV and the next 8 header bytes must be zero
     * (the compacted form does not exist), XSTATE_BV within XCR0, and an
     * MXCSR to load without reserved bits.  Checked before anything
     * changes. */
    for (unsigned k = 8; k < 24; k++)
        if (img[512 + k])
            return FPU_GP;
    if (bv & ~xcr0)
        return FPU_GP;
    if ((rfbm & FPU_XSTATE_SSE) && (rd32(img + 24) & ~f->mxcsr_mask))
        return FPU_GP;
    if (rfbm & FPU_XSTATE_X87) {
        if (bv & FPU_XSTATE_X87) {
            x87_load(f, img, rex_w);
        } else {
            /* initial configuration: FNINIT's state with ST0-7 zeroed */
            fpu_finit(f);
            memset(f->r, 0, sizeof(f->r));
        }
    }
    if (rfbm & FPU_XSTATE_SSE) {
        /* The standard form loads MXCSR whenever RFBM[1] is set, even
         * when XSTATE_BV[1] asks for the XMM registers' initial state. */
        f->mxcsr = rd32(img + 24);
        if (bv & FPU_XSTATE_SSE)
            xmm_load(f, img, nxmm);
        else
            memset(f->xmm, 0, sizeof(f->xmm[0]) * (nxmm < 16 ? nxmm : 16));
    }
    sw_fix(f);
    return FPU_OK;
}

int fpu_ldmxcsr(struct emu_fpu *f, uint32_t v)
{
    if (v & ~f->mxcsr_mask)
        return FPU_GP;
    f->mxcsr = v;
    return FPU_OK;
}

/* ---------------------------------------------------------------- MMX */

void fpu_mmx_enter(struct emu_fpu *f)
{
    f->sw &= (uint16_t)~0x3800;
    f->tag = 0xFF;
}

uint64_t fpu_mmx_get(struct emu_fpu *f, unsigned n)
{
    fpu_mmx_enter(f);
    return f->r[n & 7].mant;
}

void fpu_mmx_set(struct emu_fpu *f, unsigned n, uint64_t v)
{
    fpu_mmx_enter(f);
    f->r[n & 7].mant = v;
    f->r[n & 7].se = 0xFFFF;
}

void fpu_emms(struct emu_fpu *f) { f->tag = 0; }

int fpu_fwait(const struct emu_fpu *f) { return fpu_pending(f) ? FPU_MF : FPU_OK; }

/* ------------------------------------------------------ classification */

struct fpu_x87_info fpu_x87_classify(uint8_t opc, uint8_t modrm, enum fpu_layout layout)
{
    struct fpu_x87_info in = { .valid = true, .waiting = true };
    unsigned o = (unsigned)(opc - 0xD8), reg = (modrm >> 3) & 7, lo = modrm & 0x3F;
    unsigned envsz = layout32(layout) ? 28 : 14;
    if (opc < 0xD8 || opc > 0xDF) {
        in.valid = false;
        return in;
    }
    if ((modrm >> 6) != 3) {
        static const uint8_t rsz[8] = { 4, 4, 4, 8, 8, 8, 2, 2 };  /* arithmetic forms */
        in.dir = FPU_MEM_READ;
        switch (o) {
        case 0: case 2: case 4: case 6:
            in.size = rsz[o];
            if (o == 6)
                in.size = 2;
            break;
        case 1:
            switch (reg) {
            case 0: in.size = 4; break;
            case 1: in.valid = false; break;
            case 2: case 3: in.size = 4; in.dir = FPU_MEM_WRITE; break;
            case 4: in.size = (uint8_t)envsz; in.control = true; break;
            case 5: in.size = 2; in.control = true; break;
            case 6: in.size = (uint8_t)envsz; in.dir = FPU_MEM_WRITE;
                in.control = true; in.waiting = false; break;
            case 7: in.size = 2; in.dir = FPU_MEM_WRITE; in.control = true; in.waiting = false; break;
            }
            break;
        case 3:
            switch (reg) {
            case 0: in.size = 4; break;
            case 1: case 2: case 3: in.size = 4; in.dir = FPU_MEM_WRITE; break;
            case 5: in.size = 10; break;
            case 7: in.size = 10; in.dir = FPU_MEM_WRITE; break;
            default: in.valid = false; break;
            }
            break;
        case 5:
            switch (reg) {
            case 0: in.size = 8; break;
            case 1: case 2: case 3: in.size = 8; in.dir = FPU_MEM_WRITE; break;
            case 4: in.size = (uint8_t)(envsz + 80); in.control = true; break;
            case 6: in.size = (uint8_t)(envsz + 80); in.dir = FPU_MEM_WRITE;
                in.control = true; in.waiting = false; break;
            case 7: in.size = 2; in.dir = FPU_MEM_WRITE; in.control = true; in.waiting = false; break;
            default: in.valid = false; break;
            }
            break;
        case 7:
            switch (reg) {
            case 0: in.size = 2; break;
            case 1: case 2: case 3: in.size = 2; in.dir = FPU_MEM_WRITE; break;
            case 4: in.size = 10; break;
            case 5: in.size = 8; break;
            case 6: in.size = 10; in.dir = FPU_MEM_WRITE; break;
            case 7: in.size = 8; in.dir = FPU_MEM_WRITE; break;
            }
            break;
        }
        if (!in.valid)
            in.dir = FPU_MEM_NONE, in.size = 0;
        return in;
    }
    /* Register forms: the undocumented aliases (FXCH4/7, FSTP1/8/9,
     * FCOM2, FCOMP3/5, FFREEP) are valid on Intel and AMD alike. */
    switch (o) {
    case 0: case 4:
        break;
    case 1:
        if ((lo >= 0x11 && lo <= 0x17) || lo == 0x22 || lo == 0x23 || lo == 0x26 ||
            lo == 0x27 || lo == 0x2F)
            in.valid = false;
        break;
    case 2:
        if (lo < 0x20)
            in.reads_eflags = true;
        else if (lo != 0x29)
            in.valid = false;
        break;
    case 3:
        if (lo < 0x20)
            in.reads_eflags = true;
        else if (lo >= 0x20 && lo <= 0x24) {
            in.control = true;
            in.waiting = false;        /* FNCLEX, FNINIT and the 287 no-ops */
        } else if (lo >= 0x28 && lo <= 0x37)
            in.writes_eflags = true;
        else
            in.valid = false;
        break;
    case 5:
        if (lo >= 0x30)
            in.valid = false;
        break;
    case 6:
        if (lo >= 0x18 && lo < 0x20 && lo != 0x19)
            in.valid = false;
        break;
    case 7:
        if (lo == 0x20) {
            in.writes_ax = true;
            in.control = true;
            in.waiting = false;
        } else if (lo > 0x20 && lo < 0x28)
            in.valid = false;
        else if (lo >= 0x28 && lo < 0x38)
            in.writes_eflags = true;
        else if (lo >= 0x38)
            in.valid = false;
        break;
    }
    return in;
}

/* ------------------------------------------------ host execution stubs */

struct hx {
    uint8_t img[108];
    uint16_t hcw;
    uint64_t fl;
    uint8_t mem[16];
};

/* FRSTOR the guest image, run the guest's two opcode bytes with the
 * memory operand at [rdi] (ModRM rm=7, mod=0), FNSAVE (non-waiting, so a
 * freshly raised unmasked exception stays pending in the image and never
 * reaches the host), restore the host control word.  EFLAGS go through
 * the stack below the red zone. */
#define X87_STUB(o, m)                                                              \
    static void x87_##o##_##m(struct hx *h)                                        \
    {                                                                               \
        uint64_t fl = h->fl;                                                        \
        __asm__ volatile("fnstcw (%[cw])\n\t"                                       \
                         "frstor (%[img])\n\t"                                      \
                         "sub $128, %%rsp\n\t"                                      \
                         "push %[fl]\n\t"                                           \
                         "popfq\n\t"                                                \
                         ".byte 0x" #o ", 0x" #m "\n\t"                             \
                         "pushfq\n\t"                                               \
                         "pop %[fl]\n\t"                                            \
                         "add $128, %%rsp\n\t"                                      \
                         "fnsave (%[img])\n\t"                                      \
                         "fldcw (%[cw])"                                            \
                         : [fl] "+r"(fl)                                            \
                         : [img] "r"(h->img), [cw] "r"(&h->hcw), "D"(h->mem)        \
                         : "memory", "cc", "st", "st(1)", "st(2)", "st(3)", "st(4)", \
                           "st(5)", "st(6)", "st(7)");                              \
        h->fl = fl;                                                                 \
    }

#define MEMFORMS(X, o) X(o, 07) X(o, 0F) X(o, 17) X(o, 1F) X(o, 27) X(o, 2F) X(o, 37) X(o, 3F)
#define REGFORMS(X, o)                                                               \
    X(o, C0) X(o, C1) X(o, C2) X(o, C3) X(o, C4) X(o, C5) X(o, C6) X(o, C7)         \
    X(o, C8) X(o, C9) X(o, CA) X(o, CB) X(o, CC) X(o, CD) X(o, CE) X(o, CF)         \
    X(o, D0) X(o, D1) X(o, D2) X(o, D3) X(o, D4) X(o, D5) X(o, D6) X(o, D7)         \
    X(o, D8) X(o, D9) X(o, DA) X(o, DB) X(o, DC) X(o, DD) X(o, DE) X(o, DF)         \
    X(o, E0) X(o, E1) X(o, E2) X(o, E3) X(o, E4) X(o, E5) X(o, E6) X(o, E7)         \
    X(o, E8) X(o, E9) X(o, EA) X(o, EB) X(o, EC) X(o, ED) X(o, EE) X(o, EF)         \
    X(o, F0) X(o, F1) X(o, F2) X(o, F3) X(o, F4) X(o, F5) X(o, F6) X(o, F7)         \
    X(o, F8) X(o, F9) X(o, FA) X(o, FB) X(o, FC) X(o, FD) X(o, FE) X(o, FF)
#define ALLFORMS(X, o) MEMFORMS(X, o) REGFORMS(X, o)
#define ALLOPS(X) ALLFORMS(X, D8) ALLFORMS(X, D9) ALLFORMS(X, DA) ALLFORMS(X, DB) \
    ALLFORMS(X, DC) ALLFORMS(X, DD) ALLFORMS(X, DE) ALLFORMS(X, DF)

ALLOPS(X87_STUB)

#define X87_ENT(o, m) x87_##o##_##m,
static void (*const x87_stubs[8 * 72])(struct hx *) = { ALLOPS(X87_ENT) };

/* ------------------------------------------------------------- execute */

static int x87_control(struct emu_fpu *f, struct fpu_x87_args *a)
{
    unsigned o = (unsigned)(a->opc - 0xD8), reg = (a->modrm >> 3) & 7;
    if ((a->modrm >> 6) == 3) {
        if (o == 7) {                               /* FNSTSW AX */
            a->ax = f->sw;
        } else if (a->modrm == 0xE2) {              /* FNCLEX */
            f->sw &= (uint16_t)~(0x7F | FPU_SW_ES | FPU_SW_B);
        } else if (a->modrm == 0xE3) {
            fpu_finit(f);
        }                                           /* FENI/FDISI/FSETPM: no-ops */
        return FPU_OK;
    }
    if (o == 1) {
        switch (reg) {
        case 4: fpu_fldenv(f, a->mem, a->layout); break;
        case 5: f->cw = cw_norm(rd16(a->mem)); sw_fix(f); break;
        case 6: fpu_fstenv(f, a->mem, a->layout); a->store = true; break;
        case 7: wr16(a->mem, f->cw); a->store = true; break;
        }
    } else {
        switch (reg) {
        case 4: fpu_frstor(f, a->mem, a->layout); break;
        case 6: fpu_fsave(f, a->mem, a->layout); a->store = true; break;
        case 7: wr16(a->mem, f->sw); a->store = true; break;
        }
    }
    return FPU_OK;
}

static void img_build(const struct emu_fpu *f, uint8_t *img)
{
    memset(img, 0, 28);
    wr16(img, f->cw);
    /* Sticky flags, ES and B cleared: the host must not see a pending
     * exception (they are OR-ed back afterwards). */
    wr16(img + 4, f->sw & (uint16_t)~(0x7F | FPU_SW_ES | FPU_SW_B));
    wr16(img + 8, fpu_full_tag(f));
    for (unsigned i = 0; i < 8; i++)
        reg_to10(&f->r[phys(f, i)], img + 28 + 10 * i);
}

static void img_parse(struct emu_fpu *f, const uint8_t *img, uint16_t old_sw)
{
    f->cw = rd16(img);
    f->sw = rd16(img + 4) | (old_sw & 0x7F);
    f->tag = tag_abridge(rd16(img + 8));
    for (unsigned i = 0; i < 8; i++)
        reg_from10(&f->r[phys(f, i)], img + 28 + 10 * i);
    sw_fix(f);
}

#define EFL_ARITH 0x8D5u

int fpu_x87_exec(struct emu_fpu *f, struct fpu_x87_args *a)
{
    struct fpu_x87_info in = fpu_x87_classify(a->opc, a->modrm, a->layout);
    a->store = false;
    a->raised = false;
    if (!in.valid)
        return FPU_UD;
    if (in.waiting && fpu_pending(f) && !a->ignne)
        return FPU_MF;
    if (in.control)
        return x87_control(f, a);

    bool reg = (a->modrm >> 6) == 3;
    unsigned idx = (unsigned)(a->opc - 0xD8) * 72 +
                   (reg ? 8 + (a->modrm & 0x3F) : (a->modrm >> 3) & 7);
    struct hx h;
    uint16_t old_sw = f->sw;
    img_build(f, h.img);
    h.fl = 0x202 | (a->eflags & EFL_ARITH);
    memset(h.mem, 0, sizeof(h.mem));
    if (in.dir == FPU_MEM_READ)
        memcpy(h.mem, a->mem, in.size);
    uint8_t img0[108];
    memcpy(img0, h.img, sizeof(img0));
    x87_stubs[idx](&h);

    uint16_t fresh = rd16(h.img + 4) & 0x3F;
    if (in.dir == FPU_MEM_WRITE) {
        bool stored = true;
        if (fresh & ~f->cw & 0x3F) {
            /* An unmasked exception on a store: whether the CPU wrote
             * anything is found out by running it again over a different
             * background (rare path). */
            struct hx h2 = h;
            memcpy(h2.img, img0, sizeof(img0));
            memset(h2.mem, 0xFF, sizeof(h2.mem));
            h2.fl = 0x202 | (a->eflags & EFL_ARITH);
            x87_stubs[idx](&h2);
            static const uint8_t zero[16], ones[16] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                                         0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                                         0xFF, 0xFF, 0xFF, 0xFF };
            stored = memcmp(h.mem, zero, in.size) || memcmp(h2.mem, ones, in.size);
        }
        if (stored) {
            memcpy(a->mem, h.mem, in.size);
            a->store = true;
        }
    }
    img_parse(f, h.img, old_sw);
    if (in.writes_eflags)
        a->eflags = (a->eflags & ~EFL_ARITH) | ((uint32_t)h.fl & EFL_ARITH);
    a->raised = !(old_sw & FPU_SW_ES) && (f->sw & FPU_SW_ES);
    f->fop = (uint16_t)(((a->opc & 7) << 8) | a->modrm);
    f->fip = a->ip;
    f->fcs = a->cs;
    if (!reg) {
        f->fdp = a->dp;
        f->fds = a->ds;
    }
    return FPU_OK;
}
