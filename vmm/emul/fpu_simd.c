/* MMX/SSE/SSE2/SSE3/SSSE3 operations over struct emu_fpu.
 *
 * Floating point goes through the host instruction with the guest's
 * MXCSR (all exceptions masked; see fpu.h); everything without rounding
 * (integer SIMD, logic, shuffles, moves) is portable C. */
#include "fpu.h"

#include <string.h>

#if !defined(__x86_64__)
#error "fpu_simd.c executes SSE instructions on the host: x86-64 hosts only"
#endif

typedef long long v2di __attribute__((vector_size(16)));

#define MX_FLAGS 0x3Fu
#define MX_MASKS 0x1F80u
#define MX_PRECOMP 0x7u     /* IE DE ZE */

/* ------------------------------------------- host floating-point stubs */

/* Loads the guest MXCSR (masks forced on, flags clear), runs the
 * instruction on register copies, returns the MXCSR it left. */
#define SSE_STUB(name, insn)                                                 \
    static uint32_t name(fpu_xmm *d, const fpu_xmm *s, uint32_t mx)         \
    {                                                                        \
        v2di a, b;                                                           \
        uint32_t host;                                                       \
        memcpy(&a, d, 16);                                                   \
        memcpy(&b, s, 16);                                                   \
        __asm__ volatile("stmxcsr %[h]\n\t"                                  \
                         "ldmxcsr %[g]\n\t" insn " %[b], %[a]\n\t"           \
                         "stmxcsr %[g]\n\t"                                  \
                         "ldmxcsr %[h]"                                      \
                         : [a] "+x"(a), [g] "+m"(mx), [h] "=m"(host)         \
                         : [b] "x"(b));                                      \
        memcpy(d, &a, 16);                                                   \
        return mx;                                                           \
    }

#define HOST_FP_OPS(X)                                                              \
    X(ADDPS, "addps") X(ADDSS, "addss") X(ADDPD, "addpd") X(ADDSD, "addsd")          \
    X(SUBPS, "subps") X(SUBSS, "subss") X(SUBPD, "subpd") X(SUBSD, "subsd")          \
    X(MULPS, "mulps") X(MULSS, "mulss") X(MULPD, "mulpd") X(MULSD, "mulsd")          \
    X(DIVPS, "divps") X(DIVSS, "divss") X(DIVPD, "divpd") X(DIVSD, "divsd")          \
    X(MINPS, "minps") X(MINSS, "minss") X(MINPD, "minpd") X(MINSD, "minsd")          \
    X(MAXPS, "maxps") X(MAXSS, "maxss") X(MAXPD, "maxpd") X(MAXSD, "maxsd")          \
    X(SQRTPS, "sqrtps") X(SQRTSS, "sqrtss") X(SQRTPD, "sqrtpd") X(SQRTSD, "sqrtsd")  \
    X(RCPPS, "rcpps") X(RCPSS, "rcpss") X(RSQRTPS, "rsqrtps") X(RSQRTSS, "rsqrtss")  \
    X(CVTPS2PD, "cvtps2pd") X(CVTPD2PS, "cvtpd2ps") X(CVTSS2SD, "cvtss2sd")          \
    X(CVTSD2SS, "cvtsd2ss") X(CVTDQ2PS, "cvtdq2ps") X(CVTPS2DQ, "cvtps2dq")          \
    X(CVTTPS2DQ, "cvttps2dq") X(CVTDQ2PD, "cvtdq2pd") X(CVTPD2DQ, "cvtpd2dq")        \
    X(CVTTPD2DQ, "cvttpd2dq")                                                       \
    X(ADDSUBPS, "addsubps") X(ADDSUBPD, "addsubpd") X(HADDPS, "haddps")             \
    X(HADDPD, "haddpd") X(HSUBPS, "hsubps") X(HSUBPD, "hsubpd")

#define DEF_STUB(n, s) SSE_STUB(h_##n, s)
HOST_FP_OPS(DEF_STUB)

#define CMP_STUBS(X, op) X(op, 0) X(op, 1) X(op, 2) X(op, 3) X(op, 4) X(op, 5) X(op, 6) X(op, 7)
#define DEF_CMP(op, p) SSE_STUB(h_##op##_##p, #op " $" #p ",")
CMP_STUBS(DEF_CMP, cmpps)
CMP_STUBS(DEF_CMP, cmpss)
CMP_STUBS(DEF_CMP, cmppd)
CMP_STUBS(DEF_CMP, cmpsd)

typedef uint32_t (*sse_stub)(fpu_xmm *, const fpu_xmm *, uint32_t);
#define ENT_CMP(op, p) h_##op##_##p,
static const sse_stub cmp_stubs[4][8] = {
    { CMP_STUBS(ENT_CMP, cmpps) }, { CMP_STUBS(ENT_CMP, cmpss) },
    { CMP_STUBS(ENT_CMP, cmppd) }, { CMP_STUBS(ENT_CMP, cmpsd) },
};

static sse_stub host_stub(enum fpu_simd_op op, uint8_t imm)
{
    switch (op) {
#define CASE_STUB(n, s) case S_##n: return h_##n;
        HOST_FP_OPS(CASE_STUB)
    case S_CMPPS: return cmp_stubs[0][imm & 7];
    case S_CMPSS: return cmp_stubs[1][imm & 7];
    case S_CMPPD: return cmp_stubs[2][imm & 7];
    case S_CMPSD: return cmp_stubs[3][imm & 7];
    default: return NULL;
    }
}

/* Applies the masked run's flags to the guest MXCSR; FPU_XM when one of
 * them is unmasked (the caller then leaves the destination alone). */
static int mx_commit(struct emu_fpu *f, uint32_t out)
{
    uint32_t fl = out & MX_FLAGS;
    uint32_t unmasked = fl & ~(f->mxcsr >> 7) & MX_FLAGS;
    if (unmasked & MX_PRECOMP)
        fl &= MX_PRECOMP;       /* post-computation exceptions not reached */
    f->mxcsr |= fl;
    return unmasked ? FPU_XM : FPU_OK;
}

static uint32_t run_mx(const struct emu_fpu *f) { return (f->mxcsr & ~MX_FLAGS) | MX_MASKS; }

static int host_fp(struct emu_fpu *f, sse_stub fn, fpu_xmm *dst, const fpu_xmm *src)
{
    fpu_xmm r = *dst;
    int rc = mx_commit(f, fn(&r, src, run_mx(f)));
    if (rc == FPU_OK)
        *dst = r;
    return rc;
}

/* The MMX-side conversions are the XMM ones on the low half: the zero
 * upper lanes raise no flags. */
static int mmx_cvt(struct emu_fpu *f, enum fpu_simd_op op, fpu_xmm *dst, const fpu_xmm *src)
{
    fpu_xmm t = { .q = { src->q[0], 0 } }, r = { .q = { 0, 0 } };
    sse_stub fn;
    switch (op) {
    case S_CVTPI2PS: fn = h_CVTDQ2PS; break;
    case S_CVTPI2PD: fn = h_CVTDQ2PD; break;
    case S_CVTPS2PI: fn = h_CVTPS2DQ; break;
    case S_CVTTPS2PI: fn = h_CVTTPS2DQ; break;
    case S_CVTPD2PI: fn = h_CVTPD2DQ; t = *src; break;
    default: fn = h_CVTTPD2DQ; t = *src; break;
    }
    int rc = mx_commit(f, fn(&r, &t, run_mx(f)));
    if (rc != FPU_OK)
        return rc;
    if (op == S_CVTPI2PD)
        *dst = r;
    else
        dst->q[0] = r.q[0];     /* CVTPI2PS keeps dst's high half; MMX dsts are 64-bit */
    return FPU_OK;
}

int fpu_cvt2si(struct emu_fpu *f, enum fpu_cvt_op op, const fpu_xmm *src, unsigned size,
               uint64_t *out)
{
    uint32_t mx = run_mx(f), host;
    uint64_t r = 0;
    v2di s;
    memcpy(&s, src, 16);
#define CVT2SI(insn)                                                                      \
    __asm__ volatile("stmxcsr %[h]\n\tldmxcsr %[g]\n\t" insn " %[s], %[r]\n\t"             \
                     "stmxcsr %[g]\n\tldmxcsr %[h]"                                      \
                     : [r] "=r"(r), [g] "+m"(mx), [h] "=m"(host)                          \
                     : [s] "x"(s))
    if (size == 8) {
        switch (op) {
        case C_CVTSS2SI: CVT2SI("cvtss2si"); break;
        case C_CVTTSS2SI: CVT2SI("cvttss2si"); break;
        case C_CVTSD2SI: CVT2SI("cvtsd2si"); break;
        default: CVT2SI("cvttsd2si"); break;
        }
    } else {
        uint32_t r32 = 0;
#define CVT2SI32(insn)                                                                    \
    __asm__ volatile("stmxcsr %[h]\n\tldmxcsr %[g]\n\t" insn " %[s], %[r]\n\t"             \
                     "stmxcsr %[g]\n\tldmxcsr %[h]"                                      \
                     : [r] "=r"(r32), [g] "+m"(mx), [h] "=m"(host)                        \
                     : [s] "x"(s))
        switch (op) {
        case C_CVTSS2SI: CVT2SI32("cvtss2si"); break;
        case C_CVTTSS2SI: CVT2SI32("cvttss2si"); break;
        case C_CVTSD2SI: CVT2SI32("cvtsd2si"); break;
        default: CVT2SI32("cvttsd2si"); break;
        }
        r = r32;
    }
    int rc = mx_commit(f, mx);
    if (rc == FPU_OK)
        *out = r;
    return rc;
}

int fpu_cvtsi2s(struct emu_fpu *f, bool dbl, fpu_xmm *dst, uint64_t v, unsigned size)
{
    uint32_t mx = run_mx(f), host;
    v2di d;
    memcpy(&d, dst, 16);
#define CVTSI(insn, val)                                                                  \
    __asm__ volatile("stmxcsr %[h]\n\tldmxcsr %[g]\n\t" insn " %[v], %[d]\n\t"             \
                     "stmxcsr %[g]\n\tldmxcsr %[h]"                                      \
                     : [d] "+x"(d), [g] "+m"(mx), [h] "=m"(host)                          \
                     : [v] "r"(val))
    uint32_t v32 = (uint32_t)v;
    if (dbl) {
        if (size == 8)
            CVTSI("cvtsi2sdq", v);
        else
            CVTSI("cvtsi2sdl", v32);
    } else {
        if (size == 8)
            CVTSI("cvtsi2ssq", v);
        else
            CVTSI("cvtsi2ssl", v32);
    }
    int rc = mx_commit(f, mx);
    if (rc == FPU_OK)
        memcpy(dst, &d, 16);
    return rc;
}

int fpu_comis(struct emu_fpu *f, bool dbl, bool quiet, const fpu_xmm *a, const fpu_xmm *b,
              uint32_t *eflags)
{
    uint32_t mx = run_mx(f), host;
    uint8_t z, p, c;
    v2di x, y;
    memcpy(&x, a, 16);
    memcpy(&y, b, 16);
#define COMIS(insn)                                                                       \
    __asm__ volatile("stmxcsr %[h]\n\tldmxcsr %[g]\n\t" insn " %[y], %[x]\n\t"             \
                     "setz %[z]\n\tsetp %[p]\n\tsetc %[c]\n\t"                            \
                     "stmxcsr %[g]\n\tldmxcsr %[h]"                                      \
                     : [z] "=q"(z), [p] "=q"(p), [c] "=q"(c), [g] "+m"(mx), [h] "=m"(host) \
                     : [x] "x"(x), [y] "x"(y)                                             \
                     : "cc")
    if (dbl) {
        if (quiet)
            COMIS("ucomisd");
        else
            COMIS("comisd");
    } else {
        if (quiet)
            COMIS("ucomiss");
        else
            COMIS("comiss");
    }
    int rc = mx_commit(f, mx);
    if (rc == FPU_OK)
        *eflags = (*eflags & ~0x8D5u) | (z ? 0x40u : 0) | (p ? 0x4u : 0) | (c ? 0x1u : 0);
    return rc;
}

/* ---------------------------------------------------- integer helpers */

static int8_t sat8s(int v) { return (int8_t)(v > 127 ? 127 : v < -128 ? -128 : v); }
static uint8_t sat8u(int v) { return (uint8_t)(v > 255 ? 255 : v < 0 ? 0 : v); }
static int16_t sat16s(int v) { return (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v); }
static uint16_t sat16u(int v) { return (uint16_t)(v > 65535 ? 65535 : v < 0 ? 0 : v); }

/* Shift by a 64-bit count: counts beyond the element width zero the
 * element (or fill it with the sign for arithmetic shifts). */
static void shift(fpu_xmm *r, const fpu_xmm *d, uint64_t cnt, unsigned esz, int kind,
                  unsigned n)
{
    unsigned bits = esz * 8;
    for (unsigned i = 0; i < n / esz; i++) {
        uint64_t v, out;
        switch (esz) {
        case 2: v = d->w[i]; break;
        case 4: v = d->d[i]; break;
        default: v = d->q[i]; break;
        }
        if (kind == 0)
            out = cnt >= bits ? 0 : v << cnt;
        else if (kind == 1)
            out = cnt >= bits ? 0 : v >> cnt;
        else {
            int64_t sv = esz == 2 ? (int16_t)v : (int32_t)v;
            out = (uint64_t)(sv >> (cnt >= bits ? bits - 1 : cnt));
        }
        switch (esz) {
        case 2: r->w[i] = (uint16_t)out; break;
        case 4: r->d[i] = (uint32_t)out; break;
        default: r->q[i] = out; break;
        }
    }
}

/* Horizontal add/sub of adjacent pairs: the dst pairs fill the low
 * half of the result, the src pairs the high half. */
static void hop(fpu_xmm *r, const fpu_xmm *d, const fpu_xmm *s, unsigned esz, int kind,
                unsigned n)
{
    unsigned per = n / esz / 2;         /* results per operand */
    for (unsigned k = 0; k < 2; k++) {
        const fpu_xmm *x = k ? s : d;
        for (unsigned i = 0; i < per; i++) {
            if (esz == 2) {
                int a = x->sw[2 * i], b = x->sw[2 * i + 1];
                int v = kind == 0 ? a + b : kind == 1 ? a - b : kind == 2 ? sat16s(a + b)
                                                                          : sat16s(a - b);
                r->w[k * per + i] = (uint16_t)v;
            } else {
                uint32_t a = x->d[2 * i], b = x->d[2 * i + 1];
                r->d[k * per + i] = kind == 0 ? a + b : a - b;
            }
        }
    }
}

static void unpack(fpu_xmm *r, const fpu_xmm *d, const fpu_xmm *s, unsigned esz, bool high,
                   unsigned n)
{
    unsigned cnt = n / esz / 2, base = high ? cnt : 0;
    for (unsigned i = 0; i < cnt; i++) {
        memcpy(r->b + (2 * i) * esz, d->b + (base + i) * esz, esz);
        memcpy(r->b + (2 * i + 1) * esz, s->b + (base + i) * esz, esz);
    }
}

static bool xmm_only(enum fpu_simd_op op)
{
    switch (op) {
    case S_PUNPCKLQDQ: case S_PUNPCKHQDQ: case S_PSLLDQ: case S_PSRLDQ:
    case S_PSHUFD: case S_PSHUFHW: case S_PSHUFLW:
        return true;
    default:
        return op < S_PADDB && !(op >= S_AND && op <= S_XOR);
    }
}

/* The integer / logic / shuffle part (no MXCSR involvement). */
static int simd_int(enum fpu_simd_op op, fpu_xmm *dst, const fpu_xmm *s, uint8_t imm, unsigned n)
{
    const fpu_xmm d = *dst;
    fpu_xmm r = d;
    unsigned i;
    switch (op) {
    case S_AND: for (i = 0; i < 2; i++) r.q[i] = d.q[i] & s->q[i]; break;
    case S_ANDN: for (i = 0; i < 2; i++) r.q[i] = ~d.q[i] & s->q[i]; break;
    case S_OR: for (i = 0; i < 2; i++) r.q[i] = d.q[i] | s->q[i]; break;
    case S_XOR: for (i = 0; i < 2; i++) r.q[i] = d.q[i] ^ s->q[i]; break;
    case S_MOVSS: r.d[0] = s->d[0]; break;
    case S_MOVSD: r.q[0] = s->q[0]; break;
    case S_MOVSS_LOAD: r.q[0] = s->d[0]; r.q[1] = 0; break;
    case S_MOVSD_LOAD: case S_MOVQ_XMM: r.q[0] = s->q[0]; r.q[1] = 0; break;
    case S_MOVLPS: r.q[0] = s->q[0]; break;
    case S_MOVHPS: case S_MOVLHPS: r.q[1] = s->q[0]; break;
    case S_MOVHLPS: r.q[0] = s->q[1]; break;
    case S_MOVDDUP: r.q[0] = r.q[1] = s->q[0]; break;
    case S_MOVSHDUP: r.d[0] = r.d[1] = s->d[1]; r.d[2] = r.d[3] = s->d[3]; break;
    case S_MOVSLDUP: r.d[0] = r.d[1] = s->d[0]; r.d[2] = r.d[3] = s->d[2]; break;
    case S_SHUFPS:
        r.d[0] = d.d[imm & 3]; r.d[1] = d.d[(imm >> 2) & 3];
        r.d[2] = s->d[(imm >> 4) & 3]; r.d[3] = s->d[(imm >> 6) & 3];
        break;
    case S_SHUFPD: r.q[0] = d.q[imm & 1]; r.q[1] = s->q[(imm >> 1) & 1]; break;
    case S_UNPCKLPS: case S_PUNPCKLDQ: unpack(&r, &d, s, 4, false, n); break;
    case S_UNPCKHPS: case S_PUNPCKHDQ: unpack(&r, &d, s, 4, true, n); break;
    case S_UNPCKLPD: case S_PUNPCKLQDQ: unpack(&r, &d, s, 8, false, n); break;
    case S_UNPCKHPD: case S_PUNPCKHQDQ: unpack(&r, &d, s, 8, true, n); break;
    case S_PUNPCKLBW: unpack(&r, &d, s, 1, false, n); break;
    case S_PUNPCKHBW: unpack(&r, &d, s, 1, true, n); break;
    case S_PUNPCKLWD: unpack(&r, &d, s, 2, false, n); break;
    case S_PUNPCKHWD: unpack(&r, &d, s, 2, true, n); break;
    case S_PADDB: for (i = 0; i < n; i++) r.b[i] = (uint8_t)(d.b[i] + s->b[i]); break;
    case S_PADDW: for (i = 0; i < n / 2; i++) r.w[i] = (uint16_t)(d.w[i] + s->w[i]); break;
    case S_PADDD: for (i = 0; i < n / 4; i++) r.d[i] = d.d[i] + s->d[i]; break;
    case S_PADDQ: for (i = 0; i < n / 8; i++) r.q[i] = d.q[i] + s->q[i]; break;
    case S_PSUBB: for (i = 0; i < n; i++) r.b[i] = (uint8_t)(d.b[i] - s->b[i]); break;
    case S_PSUBW: for (i = 0; i < n / 2; i++) r.w[i] = (uint16_t)(d.w[i] - s->w[i]); break;
    case S_PSUBD: for (i = 0; i < n / 4; i++) r.d[i] = d.d[i] - s->d[i]; break;
    case S_PSUBQ: for (i = 0; i < n / 8; i++) r.q[i] = d.q[i] - s->q[i]; break;
    case S_PADDSB: for (i = 0; i < n; i++) r.sb[i] = sat8s(d.sb[i] + s->sb[i]); break;
    case S_PSUBSB: for (i = 0; i < n; i++) r.sb[i] = sat8s(d.sb[i] - s->sb[i]); break;
    case S_PADDUSB: for (i = 0; i < n; i++) r.b[i] = sat8u(d.b[i] + s->b[i]); break;
    case S_PSUBUSB: for (i = 0; i < n; i++) r.b[i] = sat8u(d.b[i] - s->b[i]); break;
    case S_PADDSW: for (i = 0; i < n / 2; i++) r.sw[i] = sat16s(d.sw[i] + s->sw[i]); break;
    case S_PSUBSW: for (i = 0; i < n / 2; i++) r.sw[i] = sat16s(d.sw[i] - s->sw[i]); break;
    case S_PADDUSW: for (i = 0; i < n / 2; i++) r.w[i] = sat16u(d.w[i] + s->w[i]); break;
    case S_PSUBUSW: for (i = 0; i < n / 2; i++) r.w[i] = sat16u(d.w[i] - s->w[i]); break;
    case S_PMULLW:
        for (i = 0; i < n / 2; i++) r.w[i] = (uint16_t)((int32_t)d.sw[i] * s->sw[i]);
        break;
    case S_PMULHW:
        for (i = 0; i < n / 2; i++) r.w[i] = (uint16_t)(((int32_t)d.sw[i] * s->sw[i]) >> 16);
        break;
    case S_PMULHUW:
        for (i = 0; i < n / 2; i++) r.w[i] = (uint16_t)(((uint32_t)d.w[i] * s->w[i]) >> 16);
        break;
    case S_PMULUDQ:
        for (i = 0; i < n / 8; i++) r.q[i] = (uint64_t)d.d[2 * i] * s->d[2 * i];
        break;
    case S_PMADDWD:
        for (i = 0; i < n / 4; i++)
            r.d[i] = (uint32_t)((int64_t)d.sw[2 * i] * s->sw[2 * i] +
                                (int64_t)d.sw[2 * i + 1] * s->sw[2 * i + 1]);
        break;
    case S_PSADBW:
        for (i = 0; i < n / 8; i++) {
            unsigned sum = 0;
            for (unsigned k = 0; k < 8; k++) {
                int df = d.b[8 * i + k] - s->b[8 * i + k];
                sum += (unsigned)(df < 0 ? -df : df);
            }
            r.q[i] = sum;
        }
        break;
    case S_PAVGB: for (i = 0; i < n; i++) r.b[i] = (uint8_t)((d.b[i] + s->b[i] + 1) >> 1); break;
    case S_PAVGW:
        for (i = 0; i < n / 2; i++) r.w[i] = (uint16_t)((d.w[i] + s->w[i] + 1u) >> 1);
        break;
    case S_PMINUB: for (i = 0; i < n; i++) r.b[i] = d.b[i] < s->b[i] ? d.b[i] : s->b[i]; break;
    case S_PMAXUB: for (i = 0; i < n; i++) r.b[i] = d.b[i] > s->b[i] ? d.b[i] : s->b[i]; break;
    case S_PMINSW: for (i = 0; i < n / 2; i++) r.sw[i] = d.sw[i] < s->sw[i] ? d.sw[i] : s->sw[i]; break;
    case S_PMAXSW: for (i = 0; i < n / 2; i++) r.sw[i] = d.sw[i] > s->sw[i] ? d.sw[i] : s->sw[i]; break;
    case S_PCMPEQB: for (i = 0; i < n; i++) r.b[i] = d.b[i] == s->b[i] ? 0xFF : 0; break;
    case S_PCMPEQW: for (i = 0; i < n / 2; i++) r.w[i] = d.w[i] == s->w[i] ? 0xFFFF : 0; break;
    case S_PCMPEQD: for (i = 0; i < n / 4; i++) r.d[i] = d.d[i] == s->d[i] ? ~0u : 0; break;
    case S_PCMPGTB: for (i = 0; i < n; i++) r.b[i] = d.sb[i] > s->sb[i] ? 0xFF : 0; break;
    case S_PCMPGTW: for (i = 0; i < n / 2; i++) r.w[i] = d.sw[i] > s->sw[i] ? 0xFFFF : 0; break;
    case S_PCMPGTD: for (i = 0; i < n / 4; i++) r.d[i] = d.sd[i] > s->sd[i] ? ~0u : 0; break;
    case S_PACKSSWB:
        for (i = 0; i < n / 2; i++) {
            r.sb[i] = sat8s(d.sw[i]);
            r.sb[n / 2 + i] = sat8s(s->sw[i]);
        }
        break;
    case S_PACKUSWB:
        for (i = 0; i < n / 2; i++) {
            r.b[i] = sat8u(d.sw[i]);
            r.b[n / 2 + i] = sat8u(s->sw[i]);
        }
        break;
    case S_PACKSSDW:
        for (i = 0; i < n / 4; i++) {
            int32_t a = d.sd[i], b = s->sd[i];
            r.sw[i] = (int16_t)(a > 32767 ? 32767 : a < -32768 ? -32768 : a);
            r.sw[n / 4 + i] = (int16_t)(b > 32767 ? 32767 : b < -32768 ? -32768 : b);
        }
        break;
    case S_PSLLW: case S_PSLLD: case S_PSLLQ: case S_PSRLW: case S_PSRLD: case S_PSRLQ:
    case S_PSRAW: case S_PSRAD: {
        static const uint8_t esz[] = { 2, 4, 8, 2, 4, 8, 2, 4 };
        unsigned k = (unsigned)(op - S_PSLLW);
        shift(&r, &d, s->q[0], esz[k], k / 3, n);
        break;
    }
    case S_PSLLW_I: case S_PSLLD_I: case S_PSLLQ_I: case S_PSRLW_I: case S_PSRLD_I:
    case S_PSRLQ_I: case S_PSRAW_I: case S_PSRAD_I: {
        static const uint8_t esz[] = { 2, 4, 8, 2, 4, 8, 2, 4 };
        unsigned k = (unsigned)(op - S_PSLLW_I);
        shift(&r, &d, imm, esz[k], k / 3, n);
        break;
    }
    case S_PSLLDQ:
        for (i = 0; i < 16; i++) r.b[i] = i >= imm ? d.b[i - imm] : 0;
        break;
    case S_PSRLDQ:
        for (i = 0; i < 16; i++) r.b[i] = i + imm < 16 ? d.b[i + imm] : 0;
        break;
    case S_PSHUFD: for (i = 0; i < 4; i++) r.d[i] = s->d[(imm >> (2 * i)) & 3]; break;
    case S_PSHUFW: for (i = 0; i < 4; i++) r.w[i] = s->w[(imm >> (2 * i)) & 3]; break;
    case S_PSHUFLW:
        for (i = 0; i < 4; i++) r.w[i] = s->w[(imm >> (2 * i)) & 3];
        r.q[1] = s->q[1];
        break;
    case S_PSHUFHW:
        r.q[0] = s->q[0];
        for (i = 0; i < 4; i++) r.w[4 + i] = s->w[4 + ((imm >> (2 * i)) & 3)];
        break;
    case S_PINSRW: r.w[imm & (n / 2 - 1)] = s->w[0]; break;
    case S_PSHUFB:
        for (i = 0; i < n; i++) r.b[i] = (s->b[i] & 0x80) ? 0 : d.b[s->b[i] & (n - 1)];
        break;
    case S_PALIGNR: {
        uint8_t cat[32];
        memcpy(cat, s->b, n);
        memcpy(cat + n, d.b, n);
        for (i = 0; i < n; i++) r.b[i] = i + imm < 2 * n ? cat[i + imm] : 0;
        break;
    }
    case S_PHADDW: hop(&r, &d, s, 2, 0, n); break;
    case S_PHSUBW: hop(&r, &d, s, 2, 1, n); break;
    case S_PHADDSW: hop(&r, &d, s, 2, 2, n); break;
    case S_PHSUBSW: hop(&r, &d, s, 2, 3, n); break;
    case S_PHADDD: hop(&r, &d, s, 4, 0, n); break;
    case S_PHSUBD: hop(&r, &d, s, 4, 1, n); break;
    case S_PMADDUBSW:
        for (i = 0; i < n / 2; i++)
            r.sw[i] = sat16s(d.b[2 * i] * s->sb[2 * i] + d.b[2 * i + 1] * s->sb[2 * i + 1]);
        break;
    case S_PMULHRSW:
        for (i = 0; i < n / 2; i++)
            r.w[i] = (uint16_t)((((int32_t)d.sw[i] * s->sw[i] >> 14) + 1) >> 1);
        break;
    case S_PSIGNB:
        for (i = 0; i < n; i++)
            r.b[i] = s->sb[i] < 0 ? (uint8_t)-d.b[i] : s->sb[i] ? d.b[i] : 0;
        break;
    case S_PSIGNW:
        for (i = 0; i < n / 2; i++)
            r.w[i] = s->sw[i] < 0 ? (uint16_t)-d.w[i] : s->sw[i] ? d.w[i] : 0;
        break;
    case S_PSIGND:
        for (i = 0; i < n / 4; i++)
            r.d[i] = s->sd[i] < 0 ? -d.d[i] : s->sd[i] ? d.d[i] : 0;
        break;
    case S_PABSB: for (i = 0; i < n; i++) r.b[i] = (uint8_t)(s->sb[i] < 0 ? -s->sb[i] : s->sb[i]); break;
    case S_PABSW:
        for (i = 0; i < n / 2; i++) r.w[i] = (uint16_t)(s->sw[i] < 0 ? -s->sw[i] : s->sw[i]);
        break;
    case S_PABSD:
        for (i = 0; i < n / 4; i++) r.d[i] = s->sd[i] < 0 ? 0u - s->d[i] : s->d[i];
        break;
    default:
        return FPU_UD;
    }
    if (n == 8)
        r.q[1] = d.q[1];        /* MMX: the upper half is not part of the register */
    *dst = r;
    return FPU_OK;
}

int fpu_simd(struct emu_fpu *f, enum fpu_simd_op op, fpu_xmm *dst, const fpu_xmm *src,
             uint8_t imm, unsigned width)
{
    if ((unsigned)op >= S_NUM_OPS || (width != 8 && width != 16))
        return FPU_UD;
    if (op >= S_CVTPI2PS && op <= S_CVTTPD2PI)
        return mmx_cvt(f, op, dst, src);
    if (width == 8 && xmm_only(op))
        return FPU_UD;
    if (width == 16 && op == S_PSHUFW)
        return FPU_UD;
    sse_stub fn = host_stub(op, imm);
    if (fn)
        return host_fp(f, fn, dst, src);
    return simd_int(op, dst, src, imm, width);
}

unsigned fpu_simd_srcsize(enum fpu_simd_op op, unsigned width)
{
    switch (op) {
    case S_ADDSS: case S_SUBSS: case S_MULSS: case S_DIVSS: case S_MINSS: case S_MAXSS:
    case S_SQRTSS: case S_RCPSS: case S_RSQRTSS: case S_CMPSS: case S_CVTSS2SD:
    case S_MOVSS_LOAD:
        return 4;
    case S_ADDSD: case S_SUBSD: case S_MULSD: case S_DIVSD: case S_MINSD: case S_MAXSD:
    case S_SQRTSD: case S_CMPSD: case S_CVTSD2SS: case S_MOVSD_LOAD: case S_MOVLPS:
    case S_MOVHPS: case S_MOVQ_XMM: case S_MOVDDUP: case S_CVTPS2PD: case S_CVTDQ2PD:
    case S_CVTPI2PS: case S_CVTPI2PD: case S_CVTPS2PI: case S_CVTTPS2PI:
        return 8;
    case S_PINSRW:
        return 2;
    case S_CVTPD2PI: case S_CVTTPD2PI:
        return 16;
    default:
        return width;
    }
}

const char *fpu_simd_name(enum fpu_simd_op op)
{
    static const char *const names[] = {
#define NAME_ENT(n) #n,
        FPU_SIMD_OPS(NAME_ENT)
    };
    return (unsigned)op < S_NUM_OPS ? names[op] : "?";
}

uint32_t fpu_movmskps(const fpu_xmm *x)
{
    uint32_t m = 0;
    for (unsigned i = 0; i < 4; i++)
        m |= (x->d[i] >> 31) << i;
    return m;
}

uint32_t fpu_movmskpd(const fpu_xmm *x) { return (uint32_t)(x->q[0] >> 63 | (x->q[1] >> 63) << 1); }

uint32_t fpu_pmovmskb(const fpu_xmm *x, unsigned width)
{
    uint32_t m = 0;
    for (unsigned i = 0; i < width && i < 16; i++)
        m |= (uint32_t)(x->b[i] >> 7) << i;
    return m;
}

uint32_t fpu_pextrw(const fpu_xmm *x, uint8_t imm, unsigned width)
{
    return x->w[imm & (width == 8 ? 3 : 7)];
}

uint32_t fpu_maskmov(const fpu_xmm *mask, unsigned width) { return fpu_pmovmskb(mask, width); }
