/* The XSAVE feature set in the emulator.  Differential part: random
 * x87/SSE states go through XRSTOR then XSAVE (both the REX.W and the
 * 32-bit-pointer forms, several requested-feature bitmaps, XSTATE_BV
 * with components cleared) on the host CPU and in the emulator (64-bit
 * mode, XCR0 = x87|SSE); the areas must match byte for byte, except that
 * the emulator reports every enabled component as in use (XSTATE_BV bits
 * the host may clear after an init).  Then the rules the host cannot be
 * asked about safely: #UD/#NM/#GP conditions, XCR0 validation, RFBM
 * limited by XCR0, 32-bit mode's eight XMM registers, CPUID OSXSAVE. */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

#include "emu_harness.h"

#define A_IN 0x20000u       /* guest areas (64-byte aligned) */
#define A_OUT 0x21000u

/* 64-bit mode (long64) or 32-bit protected mode, flat, CPL0, CR4 with
 * OSFXSR/OSXMMEXCPT/OSXSAVE, XCR0 still at its reset value 1. */
static void setup(struct emu_h *f, bool long64)
{
    emu_h_open(f, 4 * MiB, NULL);
    struct x86_state s;
    emu_h_state(&s, true);
    s.cr0 = 0x33;                               /* PE MP ET NE */
    s.cr4 = 0x600 | CR4_OSXSAVE;
    if (long64) {
        s.seg[X86_CS].l = true;
        s.seg[X86_CS].db = false;
        s.cr0 |= PG_CR0_PG;
        s.cr4 |= PG_CR4_PAE;
        s.efer = 0x500;                         /* LME LMA */
        s.cr3 = 0x10000;
        emu_h_put64(f, 0x10000, 0x11000 | 3);
        emu_h_put64(f, 0x11000, 0x12000 | 3);
        emu_h_put64(f, 0x12000, 0x83);
        emu_h_put64(f, 0x12008, 0x200083);
    }
    emu_reset(&f->cpu, &s);
    f->cpu.idt.limit = 0;                       /* faults end in shutdown: only the vector counts */
}

/* One instruction; returns 0 or the exception vector + 1. */
static int step(struct emu_h *f, const uint8_t *b, unsigned n)
{
    uint64_t rip = f->cpu.rip;
    int rc = emu_step_bytes(&f->cpu, b, n);
    if (rc) {
        f->cpu.shutdown = false;
        f->cpu.rip = rip;
    }
    return rc;
}

static const uint8_t xsetbv[] = { 0x0F, 0x01, 0xD1 }, xgetbv[] = { 0x0F, 0x01, 0xD0 };
/* [rsi] / [esi] forms; 48 = REX.W */
static const uint8_t xsave64[] = { 0x48, 0x0F, 0xAE, 0x26 }, xrstor64[] = { 0x48, 0x0F, 0xAE, 0x2E };
static const uint8_t xsave32[] = { 0x0F, 0xAE, 0x26 }, xrstor32[] = { 0x0F, 0xAE, 0x2E };
static const uint8_t xsaveopt64[] = { 0x48, 0x0F, 0xAE, 0x36 };

static int set_xcr0(struct emu_h *f, uint64_t v)
{
    f->cpu.r[ECX_] = 0;
    f->cpu.r[EAX_] = (uint32_t)v;
    f->cpu.r[EDX_] = v >> 32;
    return step(f, xsetbv, sizeof(xsetbv));
}

/* XRSTOR/XSAVE of the area at `at` with RFBM request `rfbm`. */
static int emu_x(struct emu_h *f, const uint8_t *insn, unsigned n, uint32_t at, uint64_t rfbm)
{
    f->cpu.r[ESI_] = at;
    f->cpu.r[EAX_] = (uint32_t)rfbm;
    f->cpu.r[EDX_] = rfbm >> 32;
    return step(f, insn, n);
}

/* ---- the host ---- */

static bool host_has_xsave(void)
{
    uint32_t a, b, c, d;
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
    if (!(c & (1u << 27)))                      /* OSXSAVE: the OS enabled it */
        return false;
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (lo & 3) == 3;
}

/* The host runs XRSTOR64 base (everything), XRSTOR(64) in, XSAVE(64)
 * out, with its own x87/SSE state saved and restored around (nothing
 * else is requested, so AVX and the rest of the host's state are not
 * touched). */
static void host_roundtrip(const uint8_t *base, const uint8_t *in, uint8_t *out,
                           uint32_t rfbm_in, uint32_t rfbm_out, bool w)
{
    _Alignas(64) uint8_t save[1024];
    memset(save, 0, sizeof(save));
    if (w)
        __asm__ volatile("mov $3, %%eax\n\txor %%edx, %%edx\n\txsave64 (%0)\n\t"
                         "xrstor64 (%5)\n\t"
                         "mov %3, %%eax\n\txrstor64 (%1)\n\t"
                         "mov %4, %%eax\n\txsave64 (%2)\n\t"
                         "mov $3, %%eax\n\txrstor64 (%0)"
                         : : "r"(save), "r"(in), "r"(out), "r"(rfbm_in), "r"(rfbm_out), "r"(base)
                         : "rax", "rdx", "memory");
    else
        __asm__ volatile("mov $3, %%eax\n\txor %%edx, %%edx\n\txsave64 (%0)\n\t"
                         "xrstor64 (%5)\n\t"
                         "mov %3, %%eax\n\txrstor (%1)\n\t"
                         "mov %4, %%eax\n\txsave (%2)\n\t"
                         "mov $3, %%eax\n\txrstor64 (%0)"
                         : : "r"(save), "r"(in), "r"(out), "r"(rfbm_in), "r"(rfbm_out), "r"(base)
                         : "rax", "rdx", "memory");
}

static uint64_t rnd64(void) { return (uint64_t)rand() << 40 ^ (uint64_t)rand() << 20 ^ (uint64_t)rand(); }

/* Host CPUs that set CPUID.(7,0):EBX[13] store FCS and FDS as zero; the
 * emulator's model does not advertise that, so inputs keep them zero. */
static bool host_zeroes_fcs_fds(void)
{
    uint32_t a, b, c, d;
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(7), "c"(0));
    return (b >> 13) & 1;
}

/* A random legacy region the host accepts: MXCSR without reserved bits,
 * a valid header with XSTATE_BV = bv.  FIP and FDP hold linear addresses:
 * canonical 48-bit ones (a host with 5-level paging keeps 57 bits). */
static void random_area(uint8_t *a, uint64_t bv)
{
    for (unsigned k = 0; k < 512; k += 8) {
        uint64_t v = rnd64();
        memcpy(a + k, &v, 8);
    }
    uint32_t mxcsr = (uint32_t)rand() & 0xFFFF;
    memcpy(a + 24, &mxcsr, 4);
    for (unsigned k = 8; k <= 16; k += 8) {
        uint64_t p;
        memcpy(&p, a + k, 8);
        p = (uint64_t)((int64_t)(p << 16) >> 16);
        if (host_zeroes_fcs_fds())
            p = (uint32_t)p;        /* FCS/FDS (or FIP/FDP bits 32-63) zero */
        memcpy(a + k, &p, 8);
    }
    memset(a + 512, 0, 64);
    memcpy(a + 512, &bv, 8);
}

static void test_host_diff(void)
{
    if (!host_has_xsave()) {
        CU_PASS("host without XSAVE: differential part skipped");
        return;
    }
    struct emu_h f;
    setup(&f, true);
    CU_ASSERT_EQUAL_FATAL(set_xcr0(&f, 3), 0);
    srand(7);
    _Alignas(64) uint8_t in[FPU_XSAVE_SIZE], hout[FPU_XSAVE_SIZE], base[FPU_XSAVE_SIZE];
    static const uint32_t rfbms[] = { 3, 1, 2, 7 };    /* 7: bit 2 masked off by XCR0 in the emulator */
    unsigned mismatches = 0, runs = 0;
    for (unsigned it = 0; it < 400; it++) {
        bool w = it & 1;
        uint64_t bv = it < 200 ? 3 : (it >> 1) & 3;      /* then: components in init */
        uint32_t rin = it < 300 ? 3 : rfbms[(it >> 2) & 3] & 3;
        uint32_t rout = rfbms[(it >> 3) & 3];
        random_area(base, 3);               /* what the components not requested hold */
        random_area(in, bv);
        /* the out area starts with a pattern; XSTATE_BV with bit 2 (AVX)
         * set which both must keep (outside RFBM) */
        memset(hout, 0xA5, sizeof(hout));
        memset(hout + 512, 0, 64);
        hout[512] = 4;
        memcpy(f.mem.ram + A_OUT, hout, sizeof(hout));
        memcpy(f.mem.ram + A_IN, base, sizeof(base));
        CU_ASSERT_EQUAL(emu_x(&f, xrstor64, 4, A_IN, 3), 0);
        memcpy(f.mem.ram + A_IN, in, sizeof(in));
        host_roundtrip(base, in, hout, rin, rout & 3, w);
        CU_ASSERT_EQUAL(emu_x(&f, w ? xrstor64 : xrstor32, w ? 4 : 3, A_IN, rin), 0);
        CU_ASSERT_EQUAL(emu_x(&f, w ? xsave64 : xsave32, w ? 4 : 3, A_OUT, rout), 0);
        const uint8_t *eout = f.mem.ram + A_OUT;
        runs++;
        if (memcmp(eout, hout, 512) || memcmp(eout + 520, hout + 520, 56)) {
            if (mismatches++ < 3) {
                fprintf(stderr, "\n  it %u (w %d bv %lu rin %u rout %u):", it, w, (unsigned long)bv, rin, rout);
                for (unsigned k = 0; k < 576; k++)
                    if (eout[k] != hout[k])
                        fprintf(stderr, " %u:%02x/%02x", k, eout[k], hout[k]);
            }
        }
        uint64_t ebv, hbv;
        memcpy(&ebv, eout + 512, 8);
        memcpy(&hbv, hout + 512, 8);
        /* both keep bit 2 (outside RFBM); ours reports every requested
         * component in use, the host may report an initialised one as not */
        CU_ASSERT_EQUAL(ebv, 4 | (rout & 3));
        CU_ASSERT_EQUAL(hbv & ~ebv, 0);
    }
    CU_ASSERT_EQUAL(mismatches, 0);
    CU_ASSERT_EQUAL(runs, 400);
    emu_h_done(&f);
}

/* XRSTOR with a component's XSTATE_BV bit clear initialises it; MXCSR is
 * loaded with RFBM[1] either way; RFBM[i] clear leaves it alone. */
static void test_init_semantics(void)
{
    struct emu_h f;
    setup(&f, true);
    CU_ASSERT_EQUAL_FATAL(set_xcr0(&f, 3), 0);
    uint8_t *a = f.mem.ram + A_IN;
    srand(3);
    random_area(a, 3);
    uint32_t mx = 0x1F80 | 0x6000;              /* RC = toward zero */
    memcpy(a + 24, &mx, 4);
    CU_ASSERT_EQUAL(emu_x(&f, xrstor64, 4, A_IN, 3), 0);
    CU_ASSERT(f.cpu.fpu.xmm[15].q[0] || f.cpu.fpu.xmm[15].q[1]);
    /* XSTATE_BV = x87 only, RFBM both: XMM zeroed, MXCSR loaded, x87 loaded */
    uint16_t cw = 0x027F;
    memcpy(a, &cw, 2);
    mx = 0x1F80 | 0x2000;
    memcpy(a + 24, &mx, 4);
    a[512] = 1;
    CU_ASSERT_EQUAL(emu_x(&f, xrstor64, 4, A_IN, 3), 0);
    bool zero = true;
    for (int k = 0; k < 16; k++)
        zero = zero && !f.cpu.fpu.xmm[k].q[0] && !f.cpu.fpu.xmm[k].q[1];
    CU_ASSERT(zero);
    CU_ASSERT_EQUAL(f.cpu.fpu.mxcsr, 0x3F80);
    CU_ASSERT_EQUAL(f.cpu.fpu.cw, 0x027F);
    /* XSTATE_BV = 0, RFBM x87 only: x87 initialised, SSE untouched */
    f.cpu.fpu.xmm[3].q[0] = 0x1234;
    a[512] = 0;
    CU_ASSERT_EQUAL(emu_x(&f, xrstor64, 4, A_IN, 1), 0);
    CU_ASSERT_EQUAL(f.cpu.fpu.cw, 0x037F);
    CU_ASSERT_EQUAL(f.cpu.fpu.sw, 0);
    CU_ASSERT_EQUAL(f.cpu.fpu.tag, 0);
    CU_ASSERT(f.cpu.fpu.r[5].mant == 0 && f.cpu.fpu.r[5].se == 0);
    CU_ASSERT_EQUAL(f.cpu.fpu.xmm[3].q[0], 0x1234);
    CU_ASSERT_EQUAL(f.cpu.fpu.mxcsr, 0x3F80);
    /* a reserved MXCSR bit does not matter when SSE is not requested */
    mx = 0x10000;
    memcpy(a + 24, &mx, 4);
    CU_ASSERT_EQUAL(emu_x(&f, xrstor64, 4, A_IN, 1), 0);
    CU_ASSERT_EQUAL(emu_x(&f, xrstor64, 4, A_IN, 3), EXC_GP + 1);
    emu_h_done(&f);
}

static void test_faults(void)
{
    struct emu_h f;
    setup(&f, true);
    uint8_t *a = f.mem.ram + A_IN;
    memset(a, 0, FPU_XSAVE_SIZE);
    /* XCR0 validation */
    CU_ASSERT_EQUAL(f.cpu.xcr0, 1);
    CU_ASSERT_EQUAL(set_xcr0(&f, 0), EXC_GP + 1);           /* x87 must be set */
    CU_ASSERT_EQUAL(set_xcr0(&f, 2), EXC_GP + 1);
    CU_ASSERT_EQUAL(set_xcr0(&f, 5), EXC_GP + 1);           /* AVX without SSE */
    CU_ASSERT_EQUAL(set_xcr0(&f, 7), EXC_GP + 1);           /* AVX: not in the model */
    CU_ASSERT_EQUAL(set_xcr0(&f, 1ull << 32 | 3), EXC_GP + 1);
    f.cpu.r[ECX_] = 1;
    f.cpu.r[EAX_] = 3;
    f.cpu.r[EDX_] = 0;
    CU_ASSERT_EQUAL(step(&f, xsetbv, 3), EXC_GP + 1);       /* only XCR0 exists */
    CU_ASSERT_EQUAL(set_xcr0(&f, 3), 0);
    f.cpu.r[ECX_] = 0;
    f.cpu.r[EAX_] = f.cpu.r[EDX_] = 0xFF;
    CU_ASSERT_EQUAL(step(&f, xgetbv, 3), 0);
    CU_ASSERT(f.cpu.r[EAX_] == 3 && f.cpu.r[EDX_] == 0);
    f.cpu.r[ECX_] = 1;                                      /* XINUSE: not advertised */
    CU_ASSERT_EQUAL(step(&f, xgetbv, 3), EXC_GP + 1);
    /* XSETBV is CPL0-only, XGETBV is not */
    f.cpu.cpl = 3;
    CU_ASSERT_EQUAL(set_xcr0(&f, 3), EXC_GP + 1);
    f.cpu.r[ECX_] = 0;
    CU_ASSERT_EQUAL(step(&f, xgetbv, 3), 0);
    f.cpu.cpl = 0;
    /* alignment: 64 bytes */
    CU_ASSERT_EQUAL(emu_x(&f, xsave64, 4, A_OUT + 16, 3), EXC_GP + 1);
    CU_ASSERT_EQUAL(emu_x(&f, xrstor64, 4, A_IN + 32, 3), EXC_GP + 1);
    /* the header: XCOMP_BV, bytes 16-23, XSTATE_BV outside XCR0 */
    CU_ASSERT_EQUAL(emu_x(&f, xrstor64, 4, A_IN, 3), 0);
    a[512 + 15] = 0x80;                                     /* compacted form: no XSAVEC */
    CU_ASSERT_EQUAL(emu_x(&f, xrstor64, 4, A_IN, 3), EXC_GP + 1);
    a[512 + 15] = 0;
    a[512 + 20] = 1;
    CU_ASSERT_EQUAL(emu_x(&f, xrstor64, 4, A_IN, 3), EXC_GP + 1);
    a[512 + 20] = 0;
    a[512 + 24] = 1;                                        /* bytes 24-63: not checked */
    CU_ASSERT_EQUAL(emu_x(&f, xrstor64, 4, A_IN, 3), 0);
    a[512] = 4;
    CU_ASSERT_EQUAL(emu_x(&f, xrstor64, 4, A_IN, 3), EXC_GP + 1);
    a[512] = 0;
    /* CR0.TS: #NM; CR0.EM does not matter */
    f.cpu.cr0 |= 8;
    CU_ASSERT_EQUAL(emu_x(&f, xsave64, 4, A_OUT, 3), EXC_NM + 1);
    CU_ASSERT_EQUAL(emu_x(&f, xrstor64, 4, A_IN, 3), EXC_NM + 1);
    f.cpu.cr0 = (f.cpu.cr0 & ~8ull) | 4;
    CU_ASSERT_EQUAL(emu_x(&f, xsave64, 4, A_OUT, 3), 0);
    f.cpu.cr0 &= ~4ull;
    /* XSAVEC/XSAVES/XRSTORS are not advertised */
    static const uint8_t xsavec[] = { 0x0F, 0xC7, 0x26 }, xsaves[] = { 0x0F, 0xC7, 0x2E };
    CU_ASSERT_EQUAL(emu_x(&f, xsavec, 3, A_OUT, 3), EXC_UD + 1);
    CU_ASSERT_EQUAL(emu_x(&f, xsaves, 3, A_OUT, 3), EXC_UD + 1);
    /* CPUID.1:ECX.OSXSAVE mirrors CR4.OSXSAVE; clearing it: all #UD */
    static const uint8_t cpuid[] = { 0x0F, 0xA2 };
    f.cpu.r[EAX_] = 1;
    CU_ASSERT_EQUAL(step(&f, cpuid, 2), 0);
    CU_ASSERT(f.cpu.r[ECX_] & (1u << 27));
    CU_ASSERT(f.cpu.r[ECX_] & (1u << 26));
    f.cpu.cr4 &= ~(uint64_t)CR4_OSXSAVE;
    f.cpu.r[EAX_] = 1;
    CU_ASSERT_EQUAL(step(&f, cpuid, 2), 0);
    CU_ASSERT_FALSE(f.cpu.r[ECX_] & (1u << 27));
    CU_ASSERT(f.cpu.r[ECX_] & (1u << 26));
    CU_ASSERT_EQUAL(step(&f, xgetbv, 3), EXC_UD + 1);
    CU_ASSERT_EQUAL(set_xcr0(&f, 3), EXC_UD + 1);
    CU_ASSERT_EQUAL(emu_x(&f, xsave64, 4, A_OUT, 3), EXC_UD + 1);
    CU_ASSERT_EQUAL(emu_x(&f, xrstor64, 4, A_IN, 3), EXC_UD + 1);
    CU_ASSERT_EQUAL(emu_x(&f, xsaveopt64, 4, A_OUT, 3), EXC_UD + 1);
    /* and setting it again through MOV CR4 (the model says XSAVE) */
    static const uint8_t mov_cr4[] = { 0x0F, 0x22, 0xE0 };
    f.cpu.r[EAX_] = f.cpu.cr4 | CR4_OSXSAVE;
    CU_ASSERT_EQUAL(step(&f, mov_cr4, 3), 0);
    CU_ASSERT_EQUAL(f.cpu.xcr0, 3);                         /* XCR0 survives CR4 changes */
    emu_h_done(&f);
}

/* RFBM = EDX:EAX & XCR0; XSAVEOPT saves like XSAVE; outside 64-bit mode
 * only XMM0-7 are saved and restored. */
static void test_rfbm_and_modes(void)
{
    struct emu_h f;
    setup(&f, true);
    uint8_t *o = f.mem.ram + A_OUT;
    memset(o, 0xA5, FPU_XSAVE_SIZE);
    memset(o + 512, 0, 64);
    o[512] = 2;                                             /* SSE bit from an earlier save */
    for (int k = 0; k < 16; k++)
        f.cpu.fpu.xmm[k].q[0] = f.cpu.fpu.xmm[k].q[1] = 0x1111111111111111ull * (k + 1);
    /* XCR0 = 1: EDX:EAX = 3 saves only x87; SSE bytes and XSTATE_BV[1] stay */
    CU_ASSERT_EQUAL(emu_x(&f, xsave64, 4, A_OUT, 3), 0);
    CU_ASSERT_EQUAL(o[0] | o[1] << 8, 0x037F);
    CU_ASSERT_EQUAL(o[24], 0xA5);                           /* MXCSR not written */
    CU_ASSERT_EQUAL(o[160], 0xA5);
    CU_ASSERT_EQUAL(o[512], 3);                             /* 2 kept, 1 added */
    CU_ASSERT_EQUAL(o[464], 0xA5);                          /* available bytes untouched */
    /* XSAVEOPT with SSE enabled */
    CU_ASSERT_EQUAL(set_xcr0(&f, 3), 0);
    o[512] = 0;
    CU_ASSERT_EQUAL(emu_x(&f, xsaveopt64, 4, A_OUT, 2), 0);
    CU_ASSERT_EQUAL(o[24] | o[25] << 8, 0x1F80);
    CU_ASSERT_EQUAL(o[28] | o[29] << 8, 0xFFFF);            /* MXCSR_MASK */
    CU_ASSERT_EQUAL(o[160], 0x11);
    CU_ASSERT_EQUAL(o[400], 0x10);                          /* XMM15 */
    CU_ASSERT_EQUAL(o[512], 2);
    CU_ASSERT_EQUAL(o[416], 0xA5);
    emu_h_done(&f);
    /* 32-bit protected mode: XMM8-15 neither saved nor restored */
    setup(&f, false);
    o = f.mem.ram + A_OUT;
    CU_ASSERT_EQUAL(set_xcr0(&f, 3), 0);
    memset(o, 0xA5, FPU_XSAVE_SIZE);
    memset(o + 512, 0, 64);
    for (int k = 0; k < 16; k++)
        f.cpu.fpu.xmm[k].q[0] = f.cpu.fpu.xmm[k].q[1] = 0x0101010101010101ull * (k + 1);
    CU_ASSERT_EQUAL(emu_x(&f, xsave32, 3, A_OUT, 3), 0);
    CU_ASSERT_EQUAL(o[160 + 16 * 7], 8);
    CU_ASSERT_EQUAL(o[160 + 16 * 8], 0xA5);
    CU_ASSERT_EQUAL(o[512], 3);
    memset(o + 160, 0, 256);
    o[512] = 3;
    CU_ASSERT_EQUAL(emu_x(&f, xrstor32, 3, A_OUT, 3), 0);
    CU_ASSERT_EQUAL(f.cpu.fpu.xmm[7].q[0], 0);
    CU_ASSERT_EQUAL(f.cpu.fpu.xmm[8].q[0], 0x0909090909090909ull);
    o[512] = 1;                                             /* SSE init: XMM0-7 only */
    f.cpu.fpu.xmm[0].q[0] = 5;
    CU_ASSERT_EQUAL(emu_x(&f, xrstor32, 3, A_OUT, 3), 0);
    CU_ASSERT_EQUAL(f.cpu.fpu.xmm[0].q[0], 0);
    CU_ASSERT_EQUAL(f.cpu.fpu.xmm[8].q[0], 0x0909090909090909ull);
    emu_h_done(&f);
}

void suite_xsave(void)
{
    CU_pSuite s = CU_add_suite("xsave", NULL, NULL);
    CU_add_test(s, "XRSTOR/XSAVE round trips against the host CPU", test_host_diff);
    CU_add_test(s, "XRSTOR initialises components with XSTATE_BV clear", test_init_semantics);
    CU_add_test(s, "#UD/#NM/#GP rules, XCR0 validation, CPUID OSXSAVE", test_faults);
    CU_add_test(s, "RFBM limited by XCR0, XSAVEOPT, 32-bit mode", test_rfbm_and_modes);
}
