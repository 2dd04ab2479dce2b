/* SSE/SSE2/SSE3/SSSE3/MMX differential tests: every fpu_simd op against
 * the host instruction run from generated code with the same MXCSR,
 * random and special operands; the destination and MXCSR must match
 * bit for bit.  For the integer/shuffle ops (portable C) this is an
 * independent check; for the FP ops it checks the MXCSR/flag plumbing.
 * Unmasked exceptions, conversions to/from GPRs and COMIS* separately. */
#include <CUnit/CUnit.h>
#include <string.h>
#include <sys/mman.h>

#include "../../vmm/emul/fpu.h"

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* How to encode an op on the host.  esc: 0x0F, 0x38 (0F 38), 0x3A (0F 3A).
 * ext >= 0: group form with ModRM /ext, rm = register 0 (shift by imm).
 * mem: the source is [rsi] (MOVLPS/MOVHPS/PINSRW/loads).
 * mmx: 1 when the op has an MMX form (no prefix).  kind: operand
 * generator (0 float32, 1 float64, 2 integers, 3 int32s for conversions). */
struct enc {
    enum fpu_simd_op op;
    uint8_t pfx, esc, opc;
    int8_t ext;
    uint8_t imm, mem, mmx, kind;
};

#define R(o, p, e, c, mmx, kind) { S_##o, p, e, c, -1, 0, 0, mmx, kind }
#define I(o, p, e, c, mmx, kind) { S_##o, p, e, c, -1, 1, 0, mmx, kind }
#define G(o, p, c, ext, mmx) { S_##o, p, 0x0F, c, ext, 1, 0, mmx, 2 }
#define M(o, p, e, c, kind) { S_##o, p, e, c, -1, 0, 1, 0, kind }

static const struct enc encs[] = {
    R(ADDPS, 0, 0x0F, 0x58, 0, 0), R(ADDSS, 0xF3, 0x0F, 0x58, 0, 0), R(ADDPD, 0x66, 0x0F, 0x58, 0, 1),
    R(ADDSD, 0xF2, 0x0F, 0x58, 0, 1), R(SUBPS, 0, 0x0F, 0x5C, 0, 0), R(SUBSS, 0xF3, 0x0F, 0x5C, 0, 0),
    R(SUBPD, 0x66, 0x0F, 0x5C, 0, 1), R(SUBSD, 0xF2, 0x0F, 0x5C, 0, 1), R(MULPS, 0, 0x0F, 0x59, 0, 0),
    R(MULSS, 0xF3, 0x0F, 0x59, 0, 0), R(MULPD, 0x66, 0x0F, 0x59, 0, 1), R(MULSD, 0xF2, 0x0F, 0x59, 0, 1),
    R(DIVPS, 0, 0x0F, 0x5E, 0, 0), R(DIVSS, 0xF3, 0x0F, 0x5E, 0, 0), R(DIVPD, 0x66, 0x0F, 0x5E, 0, 1),
    R(DIVSD, 0xF2, 0x0F, 0x5E, 0, 1), R(MINPS, 0, 0x0F, 0x5D, 0, 0), R(MINSS, 0xF3, 0x0F, 0x5D, 0, 0),
    R(MINPD, 0x66, 0x0F, 0x5D, 0, 1), R(MINSD, 0xF2, 0x0F, 0x5D, 0, 1), R(MAXPS, 0, 0x0F, 0x5F, 0, 0),
    R(MAXSS, 0xF3, 0x0F, 0x5F, 0, 0), R(MAXPD, 0x66, 0x0F, 0x5F, 0, 1), R(MAXSD, 0xF2, 0x0F, 0x5F, 0, 1),
    R(SQRTPS, 0, 0x0F, 0x51, 0, 0), R(SQRTSS, 0xF3, 0x0F, 0x51, 0, 0), R(SQRTPD, 0x66, 0x0F, 0x51, 0, 1),
    R(SQRTSD, 0xF2, 0x0F, 0x51, 0, 1), R(RCPPS, 0, 0x0F, 0x53, 0, 0), R(RCPSS, 0xF3, 0x0F, 0x53, 0, 0),
    R(RSQRTPS, 0, 0x0F, 0x52, 0, 0), R(RSQRTSS, 0xF3, 0x0F, 0x52, 0, 0),
    I(CMPPS, 0, 0x0F, 0xC2, 0, 0), I(CMPSS, 0xF3, 0x0F, 0xC2, 0, 0), I(CMPPD, 0x66, 0x0F, 0xC2, 0, 1),
    I(CMPSD, 0xF2, 0x0F, 0xC2, 0, 1),
    R(CVTPS2PD, 0, 0x0F, 0x5A, 0, 0), R(CVTPD2PS, 0x66, 0x0F, 0x5A, 0, 1),
    R(CVTSS2SD, 0xF3, 0x0F, 0x5A, 0, 0), R(CVTSD2SS, 0xF2, 0x0F, 0x5A, 0, 1),
    R(CVTDQ2PS, 0, 0x0F, 0x5B, 0, 3), R(CVTPS2DQ, 0x66, 0x0F, 0x5B, 0, 0),
    R(CVTTPS2DQ, 0xF3, 0x0F, 0x5B, 0, 0), R(CVTDQ2PD, 0xF3, 0x0F, 0xE6, 0, 3),
    R(CVTPD2DQ, 0xF2, 0x0F, 0xE6, 0, 1), R(CVTTPD2DQ, 0x66, 0x0F, 0xE6, 0, 1),
    R(ADDSUBPS, 0xF2, 0x0F, 0xD0, 0, 0), R(ADDSUBPD, 0x66, 0x0F, 0xD0, 0, 1),
    R(HADDPS, 0xF2, 0x0F, 0x7C, 0, 0), R(HADDPD, 0x66, 0x0F, 0x7C, 0, 1),
    R(HSUBPS, 0xF2, 0x0F, 0x7D, 0, 0), R(HSUBPD, 0x66, 0x0F, 0x7D, 0, 1),
    R(AND, 0x66, 0x0F, 0xDB, 1, 2), R(ANDN, 0x66, 0x0F, 0xDF, 1, 2), R(OR, 0x66, 0x0F, 0xEB, 1, 2),
    R(XOR, 0x66, 0x0F, 0xEF, 1, 2), R(MOVSS, 0xF3, 0x0F, 0x10, 0, 2), R(MOVSD, 0xF2, 0x0F, 0x10, 0, 2),
    M(MOVSS_LOAD, 0xF3, 0x0F, 0x10, 2), M(MOVSD_LOAD, 0xF2, 0x0F, 0x10, 2), M(MOVLPS, 0, 0x0F, 0x12, 2),
    M(MOVHPS, 0, 0x0F, 0x16, 2), R(MOVHLPS, 0, 0x0F, 0x12, 0, 2), R(MOVLHPS, 0, 0x0F, 0x16, 0, 2),
    R(MOVQ_XMM, 0xF3, 0x0F, 0x7E, 0, 2), R(MOVDDUP, 0xF2, 0x0F, 0x12, 0, 2),
    R(MOVSHDUP, 0xF3, 0x0F, 0x16, 0, 2), R(MOVSLDUP, 0xF3, 0x0F, 0x12, 0, 2),
    I(SHUFPS, 0, 0x0F, 0xC6, 0, 2), I(SHUFPD, 0x66, 0x0F, 0xC6, 0, 2), R(UNPCKLPS, 0, 0x0F, 0x14, 0, 2),
    R(UNPCKHPS, 0, 0x0F, 0x15, 0, 2), R(UNPCKLPD, 0x66, 0x0F, 0x14, 0, 2),
    R(UNPCKHPD, 0x66, 0x0F, 0x15, 0, 2),
    R(PADDB, 0x66, 0x0F, 0xFC, 1, 2), R(PADDW, 0x66, 0x0F, 0xFD, 1, 2), R(PADDD, 0x66, 0x0F, 0xFE, 1, 2),
    R(PADDQ, 0x66, 0x0F, 0xD4, 1, 2), R(PADDSB, 0x66, 0x0F, 0xEC, 1, 2), R(PADDSW, 0x66, 0x0F, 0xED, 1, 2),
    R(PADDUSB, 0x66, 0x0F, 0xDC, 1, 2), R(PADDUSW, 0x66, 0x0F, 0xDD, 1, 2),
    R(PSUBB, 0x66, 0x0F, 0xF8, 1, 2), R(PSUBW, 0x66, 0x0F, 0xF9, 1, 2), R(PSUBD, 0x66, 0x0F, 0xFA, 1, 2),
    R(PSUBQ, 0x66, 0x0F, 0xFB, 1, 2), R(PSUBSB, 0x66, 0x0F, 0xE8, 1, 2), R(PSUBSW, 0x66, 0x0F, 0xE9, 1, 2),
    R(PSUBUSB, 0x66, 0x0F, 0xD8, 1, 2), R(PSUBUSW, 0x66, 0x0F, 0xD9, 1, 2),
    R(PMULLW, 0x66, 0x0F, 0xD5, 1, 2), R(PMULHW, 0x66, 0x0F, 0xE5, 1, 2),
    R(PMULHUW, 0x66, 0x0F, 0xE4, 1, 2), R(PMULUDQ, 0x66, 0x0F, 0xF4, 1, 2),
    R(PMADDWD, 0x66, 0x0F, 0xF5, 1, 2), R(PSADBW, 0x66, 0x0F, 0xF6, 1, 2),
    R(PAVGB, 0x66, 0x0F, 0xE0, 1, 2), R(PAVGW, 0x66, 0x0F, 0xE3, 1, 2),
    R(PMINUB, 0x66, 0x0F, 0xDA, 1, 2), R(PMAXUB, 0x66, 0x0F, 0xDE, 1, 2),
    R(PMINSW, 0x66, 0x0F, 0xEA, 1, 2), R(PMAXSW, 0x66, 0x0F, 0xEE, 1, 2),
    R(PCMPEQB, 0x66, 0x0F, 0x74, 1, 2), R(PCMPEQW, 0x66, 0x0F, 0x75, 1, 2),
    R(PCMPEQD, 0x66, 0x0F, 0x76, 1, 2), R(PCMPGTB, 0x66, 0x0F, 0x64, 1, 2),
    R(PCMPGTW, 0x66, 0x0F, 0x65, 1, 2), R(PCMPGTD, 0x66, 0x0F, 0x66, 1, 2),
    R(PACKSSWB, 0x66, 0x0F, 0x63, 1, 2), R(PACKSSDW, 0x66, 0x0F, 0x6B, 1, 2),
    R(PACKUSWB, 0x66, 0x0F, 0x67, 1, 2), R(PUNPCKLBW, 0x66, 0x0F, 0x60, 1, 2),
    R(PUNPCKLWD, 0x66, 0x0F, 0x61, 1, 2), R(PUNPCKLDQ, 0x66, 0x0F, 0x62, 1, 2),
    R(PUNPCKLQDQ, 0x66, 0x0F, 0x6C, 0, 2), R(PUNPCKHBW, 0x66, 0x0F, 0x68, 1, 2),
    R(PUNPCKHWD, 0x66, 0x0F, 0x69, 1, 2), R(PUNPCKHDQ, 0x66, 0x0F, 0x6A, 1, 2),
    R(PUNPCKHQDQ, 0x66, 0x0F, 0x6D, 0, 2),
    R(PSLLW, 0x66, 0x0F, 0xF1, 1, 4), R(PSLLD, 0x66, 0x0F, 0xF2, 1, 4), R(PSLLQ, 0x66, 0x0F, 0xF3, 1, 4),
    R(PSRLW, 0x66, 0x0F, 0xD1, 1, 4), R(PSRLD, 0x66, 0x0F, 0xD2, 1, 4), R(PSRLQ, 0x66, 0x0F, 0xD3, 1, 4),
    R(PSRAW, 0x66, 0x0F, 0xE1, 1, 4), R(PSRAD, 0x66, 0x0F, 0xE2, 1, 4),
    G(PSLLW_I, 0x66, 0x71, 6, 1), G(PSLLD_I, 0x66, 0x72, 6, 1), G(PSLLQ_I, 0x66, 0x73, 6, 1),
    G(PSRLW_I, 0x66, 0x71, 2, 1), G(PSRLD_I, 0x66, 0x72, 2, 1), G(PSRLQ_I, 0x66, 0x73, 2, 1),
    G(PSRAW_I, 0x66, 0x71, 4, 1), G(PSRAD_I, 0x66, 0x72, 4, 1),
    G(PSLLDQ, 0x66, 0x73, 7, 0), G(PSRLDQ, 0x66, 0x73, 3, 0),
    I(PSHUFD, 0x66, 0x0F, 0x70, 0, 2), I(PSHUFHW, 0xF3, 0x0F, 0x70, 0, 2),
    I(PSHUFLW, 0xF2, 0x0F, 0x70, 0, 2), I(PSHUFW, 0, 0x0F, 0x70, 2, 2), /* mmx 2: MMX only */
    { S_PINSRW, 0x66, 0x0F, 0xC4, -1, 1, 1, 1, 2 },
    R(PSHUFB, 0x66, 0x38, 0x00, 1, 2), R(PHADDW, 0x66, 0x38, 0x01, 1, 2),
    R(PHADDD, 0x66, 0x38, 0x02, 1, 2), R(PHADDSW, 0x66, 0x38, 0x03, 1, 2),
    R(PMADDUBSW, 0x66, 0x38, 0x04, 1, 2), R(PHSUBW, 0x66, 0x38, 0x05, 1, 2),
    R(PHSUBD, 0x66, 0x38, 0x06, 1, 2), R(PHSUBSW, 0x66, 0x38, 0x07, 1, 2),
    R(PSIGNB, 0x66, 0x38, 0x08, 1, 2), R(PSIGNW, 0x66, 0x38, 0x09, 1, 2),
    R(PSIGND, 0x66, 0x38, 0x0A, 1, 2), R(PMULHRSW, 0x66, 0x38, 0x0B, 1, 2),
    R(PABSB, 0x66, 0x38, 0x1C, 1, 2), R(PABSW, 0x66, 0x38, 0x1D, 1, 2),
    R(PABSD, 0x66, 0x38, 0x1E, 1, 2), I(PALIGNR, 0x66, 0x3A, 0x0F, 1, 2),
};

/* Host stub: fn(dst, src, mxcsr_pair): saves MXCSR to [rdx+4], loads
 * [rdx], loads xmm0/mm0 from [rdi] and xmm1/mm1 from [rsi], runs the
 * instruction, stores the destination back, [rdx] = MXCSR, restores. */
typedef void (*stub_fn)(void *d, const void *s, uint32_t *mx);

static size_t build(uint8_t *c, const struct enc *e, unsigned width, uint8_t imm)
{
    size_t n = 0;
    bool x = width == 16;
#define B(v) c[n++] = (uint8_t)(v)
    B(0x0F); B(0xAE); B(0x5A); B(0x04);         /* stmxcsr [rdx+4] */
    B(0x0F); B(0xAE); B(0x12);                  /* ldmxcsr [rdx] */
    if (x) {
        B(0xF3); B(0x0F); B(0x6F); B(0x07);     /* movdqu xmm0, [rdi] */
        B(0xF3); B(0x0F); B(0x6F); B(0x0E);     /* movdqu xmm1, [rsi] */
    } else {
        B(0x0F); B(0x6F); B(0x07);              /* movq mm0, [rdi] */
        B(0x0F); B(0x6F); B(0x0E);              /* movq mm1, [rsi] */
    }
    if (x && e->pfx)
        B(e->pfx);
    B(0x0F);
    if (e->esc != 0x0F)
        B(e->esc);
    B(e->opc);
    if (e->ext >= 0)
        B(0xC0 | e->ext << 3);
    else if (e->mem)
        B(0x06);                                /* reg 0, [rsi] */
    else
        B(0xC1);
    if (e->imm)
        B(imm);
    if (x) {
        B(0xF3); B(0x0F); B(0x7F); B(0x07);     /* movdqu [rdi], xmm0 */
    } else {
        B(0x0F); B(0x7F); B(0x07);              /* movq [rdi], mm0 */
        B(0x0F); B(0x77);                       /* emms */
    }
    B(0x0F); B(0xAE); B(0x1A);                  /* stmxcsr [rdx] */
    B(0x0F); B(0xAE); B(0x52); B(0x04);         /* ldmxcsr [rdx+4] */
    B(0xC3);
#undef B
    return n;
}

static const uint32_t sp32[] = { 0, 0x80000000, 0x3F800000, 0xBF800000, 0x00000001, 0x807FFFFF,
                                 0x7F800000, 0xFF800000, 0x7FC00000, 0x7F800001, 0xFFC00000,
                                 0x7F7FFFFF, 0x00800000, 0x4F000000, 0xCF000000, 0x3EAAAAAB };
static const uint64_t sp64[] = { 0, 0x8000000000000000, 0x3FF0000000000000, 0xBFF0000000000000, 1,
                                 0x800FFFFFFFFFFFFF, 0x7FF0000000000000, 0xFFF0000000000000,
                                 0x7FF8000000000000, 0x7FF0000000000001, 0xFFF8000000000000,
                                 0x7FEFFFFFFFFFFFFF, 0x0010000000000000, 0x41E0000000000000,
                                 0xC1E0000000200000, 0x3FD5555555555555 };

static void gen(uint64_t *s, fpu_xmm *v, unsigned kind)
{
    for (unsigned i = 0; i < 2; i++)
        v->q[i] = rnd(s);
    for (unsigned i = 0; i < 4; i++) {
        uint64_t k = rnd(s) % 4;
        switch (kind) {
        case 0:
            if (k == 0)
                v->d[i] = sp32[rnd(s) % 16];
            else if (k == 1)
                v->d[i] = (uint32_t)(0x3F000000 + rnd(s) % 0x02000000) | (uint32_t)(rnd(s) & 1) << 31;
            break;
        case 1:
            if (i < 2 && k == 0)
                v->q[i] = sp64[rnd(s) % 16];
            else if (i < 2 && k == 1)
                v->q[i] = (0x3FE0000000000000 + rnd(s) % 0x0040000000000000) | (rnd(s) & 1) << 63;
            break;
        case 2: {
            static const uint32_t sp[] = { 0, 0xFFFFFFFF, 0x80008000, 0x7FFF7FFF, 0x80808080,
                                           0x7F7F7F7F, 0x00010001, 0x01010101 };
            if (k == 0)
                v->d[i] = sp[rnd(s) % 8];
            break;
        }
        case 3:
            if (k == 0)
                v->d[i] = (uint32_t)(rnd(s) % 2001) - 1000;
            break;
        case 4:                     /* shift counts: low qword small mostly */
            if (i == 0 && k != 0)
                v->q[0] = rnd(s) % 70;
            break;
        }
    }
}

static uint8_t gen_imm(uint64_t *s, enum fpu_simd_op op)
{
    if (op >= S_CMPPS && op <= S_CMPSD)
        return (uint8_t)(rnd(s) % 8);
    if ((op >= S_PSLLW_I && op <= S_PSRLDQ) || op == S_PALIGNR)
        return (uint8_t)(rnd(s) % 4 == 0 ? rnd(s) : rnd(s) % 40);
    return (uint8_t)rnd(s);
}

static void test_simd_vs_host(void)
{
    uint8_t *code = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS,
                         -1, 0);
    CU_ASSERT_FATAL(code != MAP_FAILED);
    uint64_t s = 0xC0FFEE;
    unsigned covered = 0, checks = 0;
    bool seen[S_NUM_OPS] = { false };
    for (size_t k = 0; k < sizeof(encs) / sizeof(encs[0]); k++) {
        const struct enc *e = &encs[k];
        for (unsigned width = 8; width <= 16; width += 8) {
            if ((width == 8 && !e->mmx) || (width == 16 && e->mmx == 2))
                continue;
            unsigned fails = 0;
            for (unsigned it = 0; it < 3000 && fails < 3; it++) {
                fpu_xmm d, src, dh, sh;
                gen(&s, &d, e->kind == 4 ? 2 : e->kind);
                gen(&s, &src, e->kind);
                uint8_t imm = gen_imm(&s, e->op);
                /* Random rounding, DAZ, FTZ; all masked; some flags set. */
                uint32_t mx = 0x1F80 | (uint32_t)(rnd(&s) % 4) << 13 | (uint32_t)(rnd(&s) & 0x8040) |
                              (uint32_t)(rnd(&s) % 8 == 0 ? rnd(&s) & 0x3F : 0);
                build(code, e, width, imm);
                dh = d;
                sh = src;
                uint32_t mxp[2] = { mx, 0 };
                ((stub_fn)(void *)code)(dh.b, sh.b, mxp);

                struct emu_fpu f;
                fpu_reset(&f);
                f.mxcsr = mx;
                fpu_xmm r = d;
                int rc = fpu_simd(&f, e->op, &r, &src, imm, width);
                bool ok = rc == FPU_OK && memcmp(r.b, dh.b, width) == 0 && f.mxcsr == mxp[0];
                CU_ASSERT(ok);
                checks++;
                if (!ok) {
                    fails++;
                    fprintf(stderr, "\n%s/%u imm %02x mx %04x rc %d: host %016llx%016llx mx %04x lib "
                            "%016llx%016llx mx %04x (d %016llx%016llx s %016llx%016llx)\n",
                            fpu_simd_name(e->op), width, imm, mx, rc,
                            (unsigned long long)dh.q[1], (unsigned long long)dh.q[0], mxp[0],
                            (unsigned long long)r.q[1], (unsigned long long)r.q[0], f.mxcsr,
                            (unsigned long long)d.q[1], (unsigned long long)d.q[0],
                            (unsigned long long)src.q[1], (unsigned long long)src.q[0]);
                }
            }
        }
        if (!seen[e->op])
            covered++;
        seen[e->op] = true;
    }
    /* Every op but the six MMX conversions (tested below) has a host twin. */
    CU_ASSERT_EQUAL(covered, S_NUM_OPS - 6);
    munmap(code, 4096);
    fprintf(stderr, "  [%u ops, %u checks] ", covered, checks);
}

/* Width checks: XMM-only ops refuse MMX and vice versa. */
static void test_widths(void)
{
    struct emu_fpu f;
    fpu_reset(&f);
    fpu_xmm a = { .q = { 1, 2 } }, b = { .q = { 3, 4 } };
    CU_ASSERT_EQUAL(fpu_simd(&f, S_ADDPS, &a, &b, 0, 8), FPU_UD);
    CU_ASSERT_EQUAL(fpu_simd(&f, S_PSHUFD, &a, &b, 0, 8), FPU_UD);
    CU_ASSERT_EQUAL(fpu_simd(&f, S_PSHUFW, &a, &b, 0, 16), FPU_UD);
    CU_ASSERT_EQUAL(fpu_simd(&f, S_PADDB, &a, &b, 0, 4), FPU_UD);
    CU_ASSERT_EQUAL(fpu_simd(&f, (enum fpu_simd_op)S_NUM_OPS, &a, &b, 0, 16), FPU_UD);
    CU_ASSERT_EQUAL(fpu_simd(&f, S_PADDQ, &a, &b, 0, 8), FPU_OK);
    CU_ASSERT_EQUAL(a.q[0], 4);
    CU_ASSERT_EQUAL(a.q[1], 2);                     /* MMX: high half untouched */
    fpu_xmm w = { .q = { 0x0004000300020001, 0 } }, z = { .q = { 0, 0 } };
    CU_ASSERT_EQUAL(fpu_simd(&f, S_PSHUFW, &z, &w, 0x1B, 8), FPU_OK);
    CU_ASSERT_EQUAL(z.q[0], 0x0001000200030004);
    CU_ASSERT_EQUAL(fpu_simd_srcsize(S_ADDSS, 16), 4);
    CU_ASSERT_EQUAL(fpu_simd_srcsize(S_PINSRW, 8), 2);
    CU_ASSERT_EQUAL(fpu_simd_srcsize(S_PADDB, 8), 8);
}

/* Unmasked SIMD exceptions: FPU_XM, destination unchanged, flags set. */
static void test_unmasked(void)
{
    struct emu_fpu f;
    fpu_reset(&f);
    f.mxcsr = 0x1F80 & ~0x200u;                     /* ZM clear */
    fpu_xmm a = { .f = { 1.0f, 2.0f, 3.0f, 4.0f } }, b = { .f = { 1.0f, 0.0f, 1.0f, 1.0f } };
    fpu_xmm keep = a;
    CU_ASSERT_EQUAL(fpu_simd(&f, S_DIVPS, &a, &b, 0, 16), FPU_XM);
    CU_ASSERT_EQUAL(memcmp(&a, &keep, 16), 0);
    CU_ASSERT_EQUAL(f.mxcsr & 0x3F, FPU_SW_ZE);
    /* Masked again: inf and the flag. */
    f.mxcsr = 0x1F80;
    CU_ASSERT_EQUAL(fpu_simd(&f, S_DIVPS, &a, &b, 0, 16), FPU_OK);
    CU_ASSERT_EQUAL(a.d[1], 0x7F800000);
    CU_ASSERT_EQUAL(f.mxcsr, 0x1F84);
    /* PE unmasked (post-computation): 1/3. */
    f.mxcsr = 0x1F80 & ~0x1000u;
    fpu_xmm c = { .f = { 1.0f } }, d3 = { .f = { 3.0f } };
    CU_ASSERT_EQUAL(fpu_simd(&f, S_DIVSS, &c, &d3, 0, 16), FPU_XM);
    CU_ASSERT(c.f[0] == 1.0f);
    CU_ASSERT_EQUAL(f.mxcsr & 0x3F, 0x20);
    /* Invalid + inexact in different lanes, IE unmasked: only IE kept. */
    f.mxcsr = 0x1F80 & ~0x80u;
    fpu_xmm p = { .f = { -1.0f, 2.0f, 1.0f, 1.0f } };
    fpu_xmm q = p;
    CU_ASSERT_EQUAL(fpu_simd(&f, S_SQRTPS, &q, &p, 0, 16), FPU_XM);
    CU_ASSERT_EQUAL(f.mxcsr & 0x3F, FPU_SW_IE);
    /* Conversions with GPRs under an unmasked IE. */
    fpu_xmm n = { .d = { 0x7FC00000 } };
    uint64_t out = 77;
    CU_ASSERT_EQUAL(fpu_cvt2si(&f, C_CVTTSS2SI, &n, 4, &out), FPU_XM);
    CU_ASSERT_EQUAL(out, 77);
}

static void test_gpr_conversions(void)
{
    uint64_t s = 31;
    for (unsigned it = 0; it < 20000; it++) {
        fpu_xmm v;
        gen(&s, &v, it & 1);
        uint32_t mx = 0x1F80 | (uint32_t)(rnd(&s) % 4) << 13 | (uint32_t)(rnd(&s) & 0x8040);
        unsigned size = rnd(&s) & 1 ? 8 : 4;
        enum fpu_cvt_op op = (enum fpu_cvt_op)(rnd(&s) % 4);
        if ((op == C_CVTSS2SI || op == C_CVTTSS2SI) != !(it & 1))
            op = (enum fpu_cvt_op)(op ^ 2);
        uint64_t r = 0, host = 0;
        uint32_t hm = mx, save;
        __asm__ volatile("stmxcsr %0" : "=m"(save));
        __asm__ volatile("ldmxcsr %0" ::"m"(hm));
        double dv;
        float fv;
        memcpy(&dv, &v.q[0], 8);
        memcpy(&fv, &v.d[0], 4);
        switch (op * 2 + (size == 8)) {
        case 0: { uint32_t t; __asm__ volatile("cvtss2si %1, %0" : "=r"(t) : "x"(fv)); host = t; break; }
        case 1: __asm__ volatile("cvtss2si %1, %0" : "=r"(host) : "x"(fv)); break;
        case 2: { uint32_t t; __asm__ volatile("cvttss2si %1, %0" : "=r"(t) : "x"(fv)); host = t; break; }
        case 3: __asm__ volatile("cvttss2si %1, %0" : "=r"(host) : "x"(fv)); break;
        case 4: { uint32_t t; __asm__ volatile("cvtsd2si %1, %0" : "=r"(t) : "x"(dv)); host = t; break; }
        case 5: __asm__ volatile("cvtsd2si %1, %0" : "=r"(host) : "x"(dv)); break;
        case 6: { uint32_t t; __asm__ volatile("cvttsd2si %1, %0" : "=r"(t) : "x"(dv)); host = t; break; }
        default: __asm__ volatile("cvttsd2si %1, %0" : "=r"(host) : "x"(dv)); break;
        }
        __asm__ volatile("stmxcsr %0" : "=m"(hm));
        __asm__ volatile("ldmxcsr %0" ::"m"(save));
        struct emu_fpu f;
        fpu_reset(&f);
        f.mxcsr = mx;
        CU_ASSERT_EQUAL(fpu_cvt2si(&f, op, &v, size, &r), FPU_OK);
        CU_ASSERT_EQUAL(r, host);
        CU_ASSERT_EQUAL(f.mxcsr, hm);
    }
    /* CVTSI2SS/SD: rounding of big integers follows MXCSR.RC. */
    struct emu_fpu f;
    fpu_reset(&f);
    fpu_xmm d = { .q = { 0x1111111122222222, 0x3333333344444444 } };
    CU_ASSERT_EQUAL(fpu_cvtsi2s(&f, false, &d, 0x7FFFFFFFFFFFFFFF, 8), FPU_OK);
    CU_ASSERT_EQUAL(d.d[0], 0x5F000000);
    CU_ASSERT_EQUAL(d.d[1], 0x11111111);
    CU_ASSERT_EQUAL(f.mxcsr, 0x1FA0);
    f.mxcsr = 0x1F80 | 0x6000;                      /* truncate */
    CU_ASSERT_EQUAL(fpu_cvtsi2s(&f, false, &d, 0x7FFFFFFFFFFFFFFF, 8), FPU_OK);
    CU_ASSERT_EQUAL(d.d[0], 0x5EFFFFFF);
    CU_ASSERT_EQUAL(fpu_cvtsi2s(&f, true, &d, (uint64_t)-5, 4), FPU_OK);
    CU_ASSERT(d.df[0] == -5.0);
    CU_ASSERT_EQUAL(d.q[1], 0x3333333344444444);
}

static void test_comis_and_mmx_cvt(void)
{
    struct emu_fpu f;
    fpu_reset(&f);
    fpu_xmm a = { .f = { 1.0f } }, b = { .f = { 2.0f } }, nan = { .d = { 0x7FC00000 } },
            snan = { .d = { 0x7F800001 } };
    uint32_t fl = 0x8D5 | 0x2;
    CU_ASSERT_EQUAL(fpu_comis(&f, false, false, &a, &b, &fl), FPU_OK);
    CU_ASSERT_EQUAL(fl, 0x3);                      /* CF: less; ZF PF OF SF AF clear */
    CU_ASSERT_EQUAL(fpu_comis(&f, false, true, &a, &a, &fl), FPU_OK);
    CU_ASSERT_EQUAL(fl, 0x42);
    CU_ASSERT_EQUAL(fpu_comis(&f, false, true, &a, &nan, &fl), FPU_OK);
    CU_ASSERT_EQUAL(fl, 0x47);
    CU_ASSERT_EQUAL(f.mxcsr & 1, 0);               /* UCOMISS: QNaN is quiet */
    CU_ASSERT_EQUAL(fpu_comis(&f, false, false, &a, &nan, &fl), FPU_OK);
    CU_ASSERT_EQUAL(f.mxcsr & 1, 1);               /* COMISS: QNaN signals */
    f.mxcsr = 0x1F80 & ~0x80u;
    fl = 0x2;
    CU_ASSERT_EQUAL(fpu_comis(&f, false, true, &a, &snan, &fl), FPU_XM);
    CU_ASSERT_EQUAL(fl, 0x2);                      /* not written */
    fpu_xmm dd = { .d = { 0x1234, 0x5678, 0x9ABC, 0xDEF0 } };
    CU_ASSERT_EQUAL(fpu_comis(&f, true, true, &dd, &dd, &fl), FPU_OK);

    /* MMX-side conversions. */
    fpu_reset(&f);
    fpu_xmm x = { .q = { 0xAAAAAAAABBBBBBBB, 0xCCCCCCCCDDDDDDDD } }, m = { .sd = { 3, -7 } };
    CU_ASSERT_EQUAL(fpu_simd(&f, S_CVTPI2PS, &x, &m, 0, 16), FPU_OK);
    CU_ASSERT(x.f[0] == 3.0f && x.f[1] == -7.0f);
    CU_ASSERT_EQUAL(x.q[1], 0xCCCCCCCCDDDDDDDD);
    CU_ASSERT_EQUAL(fpu_simd(&f, S_CVTPI2PD, &x, &m, 0, 16), FPU_OK);
    CU_ASSERT(x.df[0] == 3.0 && x.df[1] == -7.0);
    fpu_xmm ps = { .f = { 2.5f, -3.5f, 9.0f, 9.0f } }, mm = { .q = { 0, 0 } };
    CU_ASSERT_EQUAL(fpu_simd(&f, S_CVTPS2PI, &mm, &ps, 0, 8), FPU_OK);
    CU_ASSERT(mm.sd[0] == 2 && mm.sd[1] == -4);     /* round to nearest even */
    CU_ASSERT_EQUAL(fpu_simd(&f, S_CVTTPS2PI, &mm, &ps, 0, 8), FPU_OK);
    CU_ASSERT(mm.sd[0] == 2 && mm.sd[1] == -3);
    fpu_xmm pd = { .df = { 1e10, -2.5 } };
    CU_ASSERT_EQUAL(fpu_simd(&f, S_CVTPD2PI, &mm, &pd, 0, 8), FPU_OK);
    CU_ASSERT(mm.d[0] == 0x80000000u && mm.sd[1] == -2);
    CU_ASSERT(f.mxcsr & 1);                         /* out of range: IE, indefinite */
    CU_ASSERT_EQUAL(fpu_simd(&f, S_CVTTPD2PI, &mm, &pd, 0, 8), FPU_OK);
    CU_ASSERT_EQUAL(mm.sd[1], -2);

    /* Extractions. */
    fpu_xmm v = { .q = { 0x8000000000008001, 0x0080000080000000 } };
    CU_ASSERT_EQUAL(fpu_movmskps(&v), 0x6);
    CU_ASSERT_EQUAL(fpu_movmskpd(&v), 0x1);
    CU_ASSERT_EQUAL(fpu_pmovmskb(&v, 16), 0x4882);
    CU_ASSERT_EQUAL(fpu_pmovmskb(&v, 8), 0x82);
    CU_ASSERT_EQUAL(fpu_pextrw(&v, 0, 16), 0x8001);
    CU_ASSERT_EQUAL(fpu_pextrw(&v, 7, 16), 0x0080);
    CU_ASSERT_EQUAL(fpu_pextrw(&v, 7, 8), 0x8000);  /* MMX: index & 3 */
}

void suite_sse(void)
{
    CU_pSuite s = CU_add_suite("sse", NULL, NULL);
    CU_add_test(s, "every SIMD op vs host instruction", test_simd_vs_host);
    CU_add_test(s, "MMX/XMM width rules", test_widths);
    CU_add_test(s, "unmasked SIMD exceptions", test_unmasked);
    CU_add_test(s, "CVT*2SI / CVTSI2S* vs host", test_gpr_conversions);
    CU_add_test(s, "COMIS*, MMX conversions, extractions", test_comis_and_mmx_cvt);
}
