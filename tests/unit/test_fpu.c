/* x87 differential tests: random instruction sequences run back-to-back
 * on the host CPU (generated code) and one by one through vmm/emul/fpu.c
 * starting from the same FRSTOR image; the final FNSAVE images (all but
 * the instruction/data pointer fields), every stored memory operand,
 * FCOMI flags and FNSTSW AX values must be identical.  Plus the image
 * layouts (FSAVE 16/32, FXSAVE) against the host's own output. */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "../../vmm/emul/fpu.h"

/* --------------------------------------------------------- tiny PRNG */

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* -------------------------------------------------- code generation */

struct jit {
    uint8_t *code;
    size_t len, cap;
};

static void jit_open(struct jit *j)
{
    j->cap = 1 << 16;
    j->code = mmap(NULL, j->cap, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS,
                   -1, 0);
    CU_ASSERT_FATAL(j->code != MAP_FAILED);
    j->len = 0;
}

static void jit_close(struct jit *j) { munmap(j->code, j->cap); }
static void emit(struct jit *j, const uint8_t *b, size_t n)
{
    CU_ASSERT_FATAL(j->len + n <= j->cap);
    memcpy(j->code + j->len, b, n);
    j->len += n;
}
static void emit1(struct jit *j, uint8_t b) { emit(j, &b, 1); }
static void emit32(struct jit *j, uint32_t v) { emit(j, (uint8_t *)&v, 4); }

typedef void (*jit_fn)(void *data, void *save, const void *init);

/* --------------------------------------------------- operand values */

static const uint32_t sp_f32[] = { 0, 0x80000000, 0x3F800000, 0xBF800000, 0x00000001, 0x807FFFFF,
                                   0x7F800000, 0xFF800000, 0x7FC00000, 0x7F800001, 0xFFC00000,
                                   0x7F7FFFFF, 0x00800000, 0x40490FDB, 0x4F000000, 0xCF000000 };
static const uint64_t sp_f64[] = { 0, 0x8000000000000000, 0x3FF0000000000000, 0xBFF0000000000000,
                                   1, 0x800FFFFFFFFFFFFF, 0x7FF0000000000000, 0xFFF0000000000000,
                                   0x7FF8000000000000, 0x7FF0000000000001, 0xFFF8000000000000,
                                   0x7FEFFFFFFFFFFFFF, 0x0010000000000000, 0x400921FB54442D18,
                                   0x43E0000000000000, 0xC3E0000000000000, 0x41DFFFFFFFC00000 };
struct v80 { uint64_t m; uint16_t se; };
static const struct v80 sp_f80[] = {
    { 0, 0 }, { 0, 0x8000 }, { 1ull << 63, 0x3FFF }, { 1ull << 63, 0xBFFF },
    { 1, 0 }, { 0x7FFFFFFFFFFFFFFF, 0x8000 },                   /* denormals */
    { 0x8000000000000001, 0 },                                  /* pseudo-denormal */
    { 1ull << 63, 0x7FFF }, { 1ull << 63, 0xFFFF },             /* infinities */
    { 0xC000000000000000, 0x7FFF }, { 0x8000000000000001, 0x7FFF }, /* QNaN, SNaN */
    { 0xC000000000000000, 0xFFFF },                             /* indefinite */
    { 0, 0x7FFF }, { 0x4000000000000000, 0x3FFF },              /* pseudo-inf, unnormal */
    { ~0ull, 0x7FFE }, { 1ull << 63, 0x0001 },                  /* max, min normal */
    { 0xC90FDAA22168C235, 0x4000 }, { 0xC90FDAA22168C235, 0x403E }, /* pi, 2^63*pi/2 */
    { 0xFFFFFFFFFFFFFFFF, 0x403D }, { 0x8000000000000000, 0x401E },
};

static void rnd_f80(uint64_t *s, uint8_t *p)
{
    struct v80 v;
    uint64_t k = rnd(s) % 4;
    if (k == 0) {
        v = sp_f80[rnd(s) % (sizeof(sp_f80) / sizeof(sp_f80[0]))];
    } else if (k == 1) {
        v.m = rnd(s);
        v.se = (uint16_t)rnd(s);
    } else {
        /* "Reasonable" normals around 1, so arithmetic is meaningful. */
        v.m = rnd(s) | 1ull << 63;
        v.se = (uint16_t)((0x3FFF + (int)(rnd(s) % 80) - 40) | (rnd(s) & 0x8000));
    }
    memcpy(p, &v.m, 8);
    memcpy(p + 8, &v.se, 2);
}

static void rnd_mem(uint64_t *s, uint8_t opc, unsigned reg, uint8_t *p)
{
    uint64_t k = rnd(s) % 3;
    uint64_t r = rnd(s);
    memcpy(p, &r, 8);
    r = rnd(s);
    memcpy(p + 8, &r, 8);
    switch (opc) {
    case 0xD8: case 0xD9:
        if (k == 0) {
            uint32_t v = sp_f32[rnd(s) % (sizeof(sp_f32) / 4)];
            memcpy(p, &v, 4);
        } else if (k == 1) {
            uint32_t v = (uint32_t)((0x3F800000 + (rnd(s) % 0x8000000)) - 0x4000000) |
                         (uint32_t)(rnd(s) & 0x80000000);
            memcpy(p, &v, 4);
        }
        break;
    case 0xDC: case 0xDD:
        if (k == 0) {
            uint64_t v = sp_f64[rnd(s) % (sizeof(sp_f64) / 8)];
            memcpy(p, &v, 8);
        } else if (k == 1) {
            uint64_t v = ((0x3FF0000000000000 + (rnd(s) % 0x0200000000000000)) -
                          0x0100000000000000) | (rnd(s) & 0x8000000000000000);
            memcpy(p, &v, 8);
        }
        break;
    case 0xDB:
        if (reg == 5)
            rnd_f80(s, p);
        else if (k == 0)
            memset(p, rnd(s) & 1 ? 0xFF : 0, 4);
        else if (k == 1) {
            int32_t v = (int32_t)(rnd(s) % 2001) - 1000;
            memcpy(p, &v, 4);
        }
        break;
    case 0xDF:
        if (reg == 4) {             /* BCD: mostly valid digits */
            for (unsigned i = 0; i < 9; i++)
                p[i] = (uint8_t)((rnd(s) % 10) | (rnd(s) % 10) << 4);
            p[9] = rnd(s) & 1 ? 0x80 : 0;
            if (k == 0)
                p[rnd(s) % 10] = 0xAB;
        } else if (k == 0) {
            memset(p, rnd(s) & 1 ? 0xFF : 0, 8);
        } else if (k == 1) {
            int16_t v = (int16_t)(rnd(s) % 201 - 100);
            memcpy(p, &v, 2);
        }
        break;
    default:
        if (k == 1) {
            int16_t v = (int16_t)(rnd(s) % 201 - 100);
            memcpy(p, &v, 2);
        }
        break;
    }
}

/* ------------------------------------------------ sequence machinery */

struct step {
    uint8_t opc, modrm;
    uint32_t eflags;        /* FCMOV input */
    unsigned slot;          /* data slot (32 bytes each) */
};

#define MAXSTEPS 12
#define SLOT 32

/* Encodings random sequences draw from: every valid one except the
 * environment/save forms (whose pointer fields legitimately differ). */
static unsigned valid_forms(uint8_t (*out)[2])
{
    unsigned n = 0;
    for (unsigned o = 0xD8; o <= 0xDF; o++)
        for (unsigned m = 0; m < 72; m++) {
            uint8_t modrm = (uint8_t)(m < 8 ? (m << 3) | 0x80 | 7 : 0xC0 + (m - 8));
            struct fpu_x87_info in = fpu_x87_classify((uint8_t)o, modrm, FPU_PROT32);
            if (!in.valid || (in.size > 10 && in.dir != FPU_MEM_NONE))
                continue;
            out[n][0] = (uint8_t)o;
            out[n][1] = modrm;
            n++;
        }
    return n;
}

static void build_seq(struct jit *j, const struct step *st, unsigned n)
{
    j->len = 0;
    static const uint8_t frstor_rdx[] = { 0xDD, 0x22 };
    emit(j, frstor_rdx, 2);
    for (unsigned k = 0; k < n; k++) {
        struct fpu_x87_info in = fpu_x87_classify(st[k].opc, st[k].modrm, FPU_PROT32);
        if (in.reads_eflags) {
            emit1(j, 0x68);                     /* push imm32; popfq */
            emit32(j, st[k].eflags);
            emit1(j, 0x9D);
        }
        emit1(j, st[k].opc);
        emit1(j, st[k].modrm);
        if ((st[k].modrm >> 6) != 3)
            emit32(j, st[k].slot * SLOT);       /* [rdi + disp32] */
        if (in.writes_eflags) {
            /* pushfq; pop rax; and eax, 0x8D5; mov [rdi+d], eax */
            static const uint8_t pf[] = { 0x9C, 0x58, 0x25, 0xD5, 0x08, 0x00, 0x00, 0x89, 0x87 };
            emit(j, pf, sizeof(pf));
            emit32(j, st[k].slot * SLOT);
        }
        if (in.writes_ax) {
            static const uint8_t st_ax[] = { 0x66, 0x89, 0x87 };
            emit(j, st_ax, 3);
            emit32(j, st[k].slot * SLOT);
        }
    }
    static const uint8_t tail[] = { 0xDD, 0x36, 0xC3 };   /* fnsave [rsi]; ret */
    emit(j, tail, 3);
}

/* Same steps through the library, one fpu_x87_exec() each. */
static void run_lib(struct emu_fpu *f, const struct step *st, unsigned n, uint8_t *data)
{
    for (unsigned k = 0; k < n; k++) {
        struct fpu_x87_info in = fpu_x87_classify(st[k].opc, st[k].modrm, FPU_PROT32);
        struct fpu_x87_args a = { .opc = st[k].opc, .modrm = st[k].modrm, .layout = FPU_PROT32,
                                  .eflags = st[k].eflags, .ip = 0x1000 + k };
        uint8_t *p = data + st[k].slot * SLOT;
        if (in.dir == FPU_MEM_READ)
            memcpy(a.mem, p, in.size);
        int rc = fpu_x87_exec(f, &a);
        CU_ASSERT_EQUAL(rc, FPU_OK);
        if (a.store)
            memcpy(p, a.mem, in.size);
        if (in.writes_eflags) {
            uint32_t v = a.eflags & 0x8D5;
            memcpy(p, &v, 4);
        }
        if (in.writes_ax)
            memcpy(p, &a.ax, 2);
    }
}

static void make_init(uint64_t *s, uint8_t *img, bool unmasked)
{
    memset(img, 0, 108);
    uint16_t cw = (uint16_t)(0x3F | (rnd(s) % 4) << 8 | (rnd(s) % 4) << 10);
    if (rnd(s) % 8 == 0)
        cw = (uint16_t)(0x37F);
    if (unmasked)
        cw &= (uint16_t)~(rnd(s) & 0x3F);
    unsigned top = rnd(s) % 8;
    uint16_t sw = (uint16_t)(top << 11 | (rnd(s) & 0x4700));
    sw |= (uint16_t)(rnd(s) & cw & 0x3F);       /* masked sticky flags only: nothing pending */
    uint16_t tw = 0;
    unsigned nvalid = (unsigned)(rnd(s) % 9);
    for (unsigned p = 0; p < 8; p++) {
        unsigned i = (p - top) & 7;               /* ST index of physical p */
        tw |= (uint16_t)((i < nvalid ? 0 : 3) << (2 * p));
    }
    memcpy(img, &cw, 2);
    memcpy(img + 4, &sw, 2);
    memcpy(img + 8, &tw, 2);
    for (unsigned i = 0; i < 8; i++)
        rnd_f80(s, img + 28 + 10 * i);
}

static unsigned cmp_save(const uint8_t *host, const uint8_t *lib)
{
    /* Bytes 12..27: FIP, FCS/FOP, FDP, FDS: the host's point at our code. */
    unsigned bad = 0;
    for (unsigned i = 0; i < 108; i++)
        if ((i < 12 || i >= 28) && host[i] != lib[i])
            bad++;
    return bad;
}

static void dump_fail(const struct step *st, unsigned n, const uint8_t *init, const uint8_t *h,
                      const uint8_t *l)
{
    fprintf(stderr, "\nx87 mismatch; steps:");
    for (unsigned k = 0; k < n; k++)
        fprintf(stderr, " %02X %02X", st[k].opc, st[k].modrm);
    fprintf(stderr, "\n init:");
    for (unsigned i = 0; i < 28; i++)
        fprintf(stderr, "%02x", init[i]);
    fprintf(stderr, "\n host:");
    for (unsigned i = 0; i < 108; i++)
        fprintf(stderr, "%02x", h[i]);
    fprintf(stderr, "\n lib :");
    for (unsigned i = 0; i < 108; i++)
        fprintf(stderr, "%02x", l[i]);
    fprintf(stderr, "\n");
}

static void diff_run(uint64_t seed, unsigned iters, bool unmasked, unsigned maxlen)
{
    static uint8_t forms[8 * 72][2];
    unsigned nforms = valid_forms(forms);
    struct jit j;
    jit_open(&j);
    uint64_t s = seed;
    unsigned fails = 0;
    for (unsigned it = 0; it < iters && fails < 5; it++) {
        struct step st[MAXSTEPS];
        unsigned n = 1 + (unsigned)(rnd(&s) % maxlen);
        uint8_t init[108], data_h[MAXSTEPS * SLOT], data_l[MAXSTEPS * SLOT];
        make_init(&s, init, unmasked);
        for (unsigned k = 0; k < n; k++) {
            const uint8_t *fm = forms[rnd(&s) % nforms];
            st[k].opc = fm[0];
            st[k].modrm = fm[1];
            st[k].slot = k;
            st[k].eflags = 0x202 | (uint32_t)(rnd(&s) & 0x8D5);
            /* FLDCW values keep everything masked in sequences. */
            rnd_mem(&s, fm[0], (fm[1] >> 3) & 7, data_h + k * SLOT);
            if (fm[0] == 0xD9 && (fm[1] >> 6) != 3 && ((fm[1] >> 3) & 7) == 5) {
                uint16_t cw = (uint16_t)(rnd(&s) & 0xFFFF);
                if (!unmasked)
                    cw |= 0x3F;
                memcpy(data_h + k * SLOT, &cw, 2);
            }
        }
        memcpy(data_l, data_h, sizeof(data_l));
        build_seq(&j, st, n);
        uint8_t save_h[108], save_l[108];
        ((jit_fn)(void *)j.code)(data_h, save_h, init);

        struct emu_fpu f;
        fpu_reset(&f);
        fpu_frstor(&f, init, FPU_PROT32);
        run_lib(&f, st, n, data_l);
        fpu_fsave(&f, save_l, FPU_PROT32);
        unsigned bad = cmp_save(save_h, save_l) + (memcmp(data_h, data_l, n * SLOT) != 0);
        CU_ASSERT_EQUAL(bad, 0);
        if (bad) {
            dump_fail(st, n, init, save_h, save_l);
            fails++;
        }
    }
    jit_close(&j);
}

static void test_x87_sequences(void) { diff_run(0x1234567, 20000, false, MAXSTEPS); }
static void test_x87_single(void) { diff_run(0xBADC0FFEE, 20000, false, 1); }
/* One instruction with some exceptions unmasked: bias-adjusted results,
 * suppressed stores, ES/B, all as the CPU does. */
static void test_x87_unmasked(void) { diff_run(0x5EED, 20000, true, 1); }

/* Every valid encoding, at least once, with random operands. */
static void test_x87_every_form(void)
{
    static uint8_t forms[8 * 72][2];
    unsigned nforms = valid_forms(forms);
    CU_ASSERT(nforms > 400);
    struct jit j;
    jit_open(&j);
    uint64_t s = 77;
    for (unsigned fi = 0; fi < nforms; fi++)
        for (unsigned rep = 0; rep < 40; rep++) {
            struct step st = { forms[fi][0], forms[fi][1], 0x202 | (uint32_t)(rnd(&s) & 0x8D5), 0 };
            uint8_t init[108], dh[SLOT], dl[SLOT], sh[108], sl[108];
            make_init(&s, init, false);
            rnd_mem(&s, st.opc, (st.modrm >> 3) & 7, dh);
            if (st.opc == 0xD9 && (st.modrm >> 6) != 3 && ((st.modrm >> 3) & 7) == 5)
                dh[0] |= 0x3F;
            memcpy(dl, dh, SLOT);
            build_seq(&j, &st, 1);
            ((jit_fn)(void *)j.code)(dh, sh, init);
            struct emu_fpu f;
            fpu_reset(&f);
            fpu_frstor(&f, init, FPU_PROT32);
            run_lib(&f, &st, 1, dl);
            fpu_fsave(&f, sl, FPU_PROT32);
            unsigned bad = cmp_save(sh, sl) + (memcmp(dh, dl, SLOT) != 0);
            CU_ASSERT_EQUAL(bad, 0);
            if (bad) {
                dump_fail(&st, 1, init, sh, sl);
                break;
            }
        }
    jit_close(&j);
}

/* ------------------------------------------------------- layouts */

/* FSAVE16 (data16 fnsave) and FXSAVE images of a host state vs ours. */
static void test_layouts_vs_host(void)
{
    struct jit j;
    jit_open(&j);
    uint64_t s = 99;
    for (unsigned it = 0; it < 500; it++) {
        uint8_t init[108];
        make_init(&s, init, false);
        /* frstor [rdx]; fxsave [rsi]; data16 fnsave [rdi]; ret
         * (xmm registers: load from [rdx+128..] first) */
        j.len = 0;
        static const uint8_t pre[] = { 0xDD, 0x22 };
        emit(&j, pre, 2);
        for (unsigned x = 0; x < 16; x++) {
            if (x >= 8) {
                static const uint8_t p[] = { 0xF3, 0x44, 0x0F, 0x6F };
                emit(&j, p, 4);
            } else {
                static const uint8_t p[] = { 0xF3, 0x0F, 0x6F };
                emit(&j, p, 3);
            }
            emit1(&j, (uint8_t)(0x82 | (x & 7) << 3));      /* [rdx + disp32] */
            emit32(&j, 128 + 16 * x);
        }
        static const uint8_t tail[] = { 0x0F, 0xAE, 0x06, 0x66, 0xDD, 0x37, 0xC3 };
        emit(&j, tail, sizeof(tail));
        uint8_t buf[128 + 256] __attribute__((aligned(16)));
        memcpy(buf, init, 108);
        for (unsigned i = 128; i < sizeof(buf); i++)
            buf[i] = (uint8_t)rnd(&s);
        uint8_t fx_h[512] __attribute__((aligned(16))), fs16_h[94];
        memset(fx_h, 0xA5, sizeof(fx_h));
        /* The host's MXCSR collects sticky flags from any float arithmetic
         * earlier in the process (other suites): start from the value the
         * library state below holds. */
        __builtin_ia32_ldmxcsr(0x1F80);
        ((jit_fn)(void *)j.code)(fs16_h, fx_h, buf);

        struct emu_fpu f;
        fpu_reset(&f);
        fpu_frstor(&f, init, FPU_PROT32);
        memcpy(f.xmm, buf + 128, 256);
        f.mxcsr = 0x1F80;
        uint8_t fx_l[512];
        memset(fx_l, 0xA5, sizeof(fx_l));
        fpu_fxsave(&f, fx_l, false, 16);
        unsigned bad = 0;
        for (unsigned i = 0; i < 512; i++)
            if ((i < 6 || i >= 24) && fx_h[i] != fx_l[i])
                bad++;
        CU_ASSERT_EQUAL(bad, 0);

        uint8_t fs16_l[94];
        fpu_fsave(&f, fs16_l, FPU_PROT16);
        bad = 0;
        for (unsigned i = 0; i < 94; i++)
            if ((i < 6 || i >= 14) && fs16_h[i] != fs16_l[i])
                bad++;
        CU_ASSERT_EQUAL(bad, 0);
        CU_ASSERT_EQUAL(f.tag, 0);              /* FNSAVE re-initialised */
        CU_ASSERT_EQUAL(f.cw, 0x37F);

        /* FXRSTOR of the host's image, FSAVE again: same state. */
        struct emu_fpu g;
        fpu_reset(&g);
        CU_ASSERT_EQUAL(fpu_fxrstor(&g, fx_h, false, 16), FPU_OK);
        uint8_t s1[108];
        fpu_fsave(&g, s1, FPU_PROT32);
        CU_ASSERT_EQUAL(memcmp(fx_h, s1, 2), 0);
        CU_ASSERT_EQUAL(memcmp(init + 4, s1 + 4, 2), 0);
        CU_ASSERT_EQUAL(memcmp(init + 28, s1 + 28, 80), 0);
        CU_ASSERT_EQUAL(memcmp(g.xmm, buf + 128, 256), 0);
    }
    jit_close(&j);
}

static void test_env_real_layouts(void)
{
    struct emu_fpu f;
    fpu_reset(&f);
    f.cw = 0x27F;
    f.sw = 0x3800 | FPU_SW_C0;
    f.fip = 0x9ABCD;
    f.fdp = 0x5432F;
    f.fop = 0x5EA;
    uint8_t b[28];
    CU_ASSERT_EQUAL(fpu_fstenv(&f, b, FPU_REAL16), 14);
    CU_ASSERT_EQUAL(b[0] | b[1] << 8, 0x27F);
    CU_ASSERT_EQUAL(b[4] | b[5] << 8, 0xFFFF);              /* all empty */
    CU_ASSERT_EQUAL(b[6] | b[7] << 8, 0xABCD);
    CU_ASSERT_EQUAL(b[8] | b[9] << 8, 0x9000 | 0x5EA);
    CU_ASSERT_EQUAL(b[10] | b[11] << 8, 0x432F);
    CU_ASSERT_EQUAL(b[12] | b[13] << 8, 0x5000);
    CU_ASSERT_EQUAL(f.cw, 0x27F | 0x3F);                    /* masked afterwards */
    struct emu_fpu g;
    fpu_reset(&g);
    fpu_fldenv(&g, b, FPU_REAL16);
    CU_ASSERT_EQUAL(g.fip, 0x9ABCD);
    CU_ASSERT_EQUAL(g.fdp, 0x5432F);
    CU_ASSERT_EQUAL(g.fop, 0x5EA);
    CU_ASSERT_EQUAL(g.sw, f.sw);

    f.fip = 0x12345678;
    f.fdp = 0x0ABCDEF0;
    CU_ASSERT_EQUAL(fpu_fstenv(&f, b, FPU_REAL32), 28);
    uint32_t w;
    memcpy(&w, b + 12, 4);
    CU_ASSERT_EQUAL(w, 0x5678);
    memcpy(&w, b + 16, 4);
    CU_ASSERT_EQUAL(w, 0x1234u << 12 | 0x5EA);
    memcpy(&w, b + 24, 4);
    CU_ASSERT_EQUAL(w, 0x0ABCu << 12);
    fpu_reset(&g);
    fpu_fldenv(&g, b, FPU_REAL32);
    CU_ASSERT_EQUAL(g.fip, 0x12345678);
    CU_ASSERT_EQUAL(g.fdp, 0x0ABCDEF0);
    CU_ASSERT_EQUAL(g.fop, 0x5EA);
}

/* Pending exceptions: waiting instructions stop, FN* ones do not. */
static void test_pending(void)
{
    struct emu_fpu f;
    fpu_reset(&f);
    struct fpu_x87_args a = { .opc = 0xD9, .modrm = 0xE8 };         /* FLD1 */
    CU_ASSERT_EQUAL(fpu_x87_exec(&f, &a), FPU_OK);
    a = (struct fpu_x87_args){ .opc = 0xD9, .modrm = 0xEE };        /* FLDZ */
    CU_ASSERT_EQUAL(fpu_x87_exec(&f, &a), FPU_OK);
    /* Unmask ZE; FDIV ST(1), ST(0) = 1/0. */
    a = (struct fpu_x87_args){ .opc = 0xD9, .modrm = 0x2F };        /* FLDCW */
    a.mem[0] = 0x7B;
    a.mem[1] = 0x03;
    CU_ASSERT_EQUAL(fpu_x87_exec(&f, &a), FPU_OK);
    a = (struct fpu_x87_args){ .opc = 0xDC, .modrm = 0xF9 };        /* FDIVR? DC F8+i = FDIV ST(i),ST0 */
    CU_ASSERT_EQUAL(fpu_x87_exec(&f, &a), FPU_OK);
    CU_ASSERT(a.raised);
    CU_ASSERT(fpu_pending(&f));
    CU_ASSERT(f.sw & FPU_SW_ZE);
    CU_ASSERT(f.sw & FPU_SW_B);
    CU_ASSERT(fpu_st(&f, 1) == 1.0L);                               /* unmasked ZE: dst untouched */
    CU_ASSERT_EQUAL(fpu_fwait(&f), FPU_MF);
    a = (struct fpu_x87_args){ .opc = 0xD9, .modrm = 0xE8 };
    CU_ASSERT_EQUAL(fpu_x87_exec(&f, &a), FPU_MF);                  /* waiting: stops */
    CU_ASSERT_EQUAL(fpu_top(&f), 6);
    a = (struct fpu_x87_args){ .opc = 0xDF, .modrm = 0xE0 };        /* FNSTSW AX */
    CU_ASSERT_EQUAL(fpu_x87_exec(&f, &a), FPU_OK);
    CU_ASSERT_EQUAL(a.ax, f.sw);
    a = (struct fpu_x87_args){ .opc = 0xD9, .modrm = 0xE8, .ignne = true };
    CU_ASSERT_EQUAL(fpu_x87_exec(&f, &a), FPU_OK);                  /* IGNNE#: runs */
    a = (struct fpu_x87_args){ .opc = 0xDB, .modrm = 0xE2 };        /* FNCLEX */
    CU_ASSERT_EQUAL(fpu_x87_exec(&f, &a), FPU_OK);
    CU_ASSERT(!fpu_pending(&f));
    CU_ASSERT_EQUAL(f.sw & 0x80FF, 0);
    /* FISTP m16 of a huge value with IE unmasked: nothing stored. */
    fpu_reset(&f);
    f.cw = 0x37E;
    a = (struct fpu_x87_args){ .opc = 0xDD, .modrm = 0x07 };        /* FLD m64 */
    double big = 1e10;
    memcpy(a.mem, &big, 8);
    CU_ASSERT_EQUAL(fpu_x87_exec(&f, &a), FPU_OK);
    a = (struct fpu_x87_args){ .opc = 0xDF, .modrm = 0x1F };        /* FISTP m16 */
    CU_ASSERT_EQUAL(fpu_x87_exec(&f, &a), FPU_OK);
    CU_ASSERT(!a.store);
    CU_ASSERT_EQUAL(fpu_top(&f), 7);                                /* not popped */
    CU_ASSERT(f.sw & FPU_SW_IE);
    /* Masked: integer indefinite stored and popped. */
    fpu_reset(&f);
    a = (struct fpu_x87_args){ .opc = 0xDD, .modrm = 0x07 };
    memcpy(a.mem, &big, 8);
    fpu_x87_exec(&f, &a);
    a = (struct fpu_x87_args){ .opc = 0xDF, .modrm = 0x1F };
    CU_ASSERT_EQUAL(fpu_x87_exec(&f, &a), FPU_OK);
    CU_ASSERT(a.store);
    CU_ASSERT_EQUAL(a.mem[0] | a.mem[1] << 8, 0x8000);
    CU_ASSERT_EQUAL(f.tag, 0);
}

static void test_invalid_and_control(void)
{
    static const uint8_t bad[][2] = { { 0xD9, 0xD1 }, { 0xD9, 0xE2 }, { 0xD9, 0xEF }, { 0xDA, 0xE0 },
                                      { 0xDB, 0xE5 }, { 0xDB, 0xF8 }, { 0xDD, 0xF0 }, { 0xDE, 0xD8 },
                                      { 0xDF, 0xE1 }, { 0xDF, 0xF8 }, { 0xD9, 0x0F }, { 0xDB, 0x27 },
                                      { 0xDB, 0x37 }, { 0xDD, 0x2F }, { 0xD7, 0x00 } };
    struct emu_fpu f;
    fpu_reset(&f);
    struct emu_fpu before = f;
    for (unsigned k = 0; k < sizeof(bad) / 2; k++) {
        struct fpu_x87_args a = { .opc = bad[k][0], .modrm = bad[k][1] };
        CU_ASSERT_EQUAL(fpu_x87_exec(&f, &a), FPU_UD);
        CU_ASSERT(!a.store);
    }
    CU_ASSERT_EQUAL(memcmp(&f, &before, sizeof(f)), 0);
    /* FLDCW normalises like the host: reserved bits dropped, bit 6 set. */
    struct fpu_x87_args a = { .opc = 0xD9, .modrm = 0x2F };
    a.mem[0] = 0xFF;
    a.mem[1] = 0xFF;
    fpu_x87_exec(&f, &a);
    CU_ASSERT_EQUAL(f.cw, 0x1F7F);
    a = (struct fpu_x87_args){ .opc = 0xD9, .modrm = 0x3F };        /* FNSTCW */
    fpu_x87_exec(&f, &a);
    CU_ASSERT(a.store);
    CU_ASSERT_EQUAL(a.mem[0] | a.mem[1] << 8, 0x1F7F);
    /* Classification sizes the decoder relies on. */
    CU_ASSERT_EQUAL(fpu_x87_classify(0xDD, 0x30, FPU_PROT32).size, 108);
    CU_ASSERT_EQUAL(fpu_x87_classify(0xDD, 0x30, FPU_REAL16).size, 94);
    CU_ASSERT_EQUAL(fpu_x87_classify(0xD9, 0x20, FPU_PROT16).size, 14);
    CU_ASSERT_EQUAL(fpu_x87_classify(0xDB, 0x38, FPU_PROT32).size, 10);
    CU_ASSERT(!fpu_x87_classify(0xD9, 0x30, FPU_PROT32).waiting);
    CU_ASSERT(fpu_x87_classify(0xDA, 0xC3, FPU_PROT32).reads_eflags);
    CU_ASSERT(fpu_x87_classify(0xDF, 0xF1, FPU_PROT32).writes_eflags);
}

/* MMX aliasing against the host: movq mm3, [rdi]; fnsave [rsi]. */
static void test_mmx_alias(void)
{
    struct jit j;
    jit_open(&j);
    static const uint8_t code[] = { 0xDD, 0x22, 0x0F, 0x6F, 0x1F, 0xDD, 0x36, 0xC3 };
    emit(&j, code, sizeof(code));
    uint64_t s = 5;
    for (unsigned it = 0; it < 200; it++) {
        uint8_t init[108], sh[108], sl[108];
        make_init(&s, init, false);
        uint64_t v = rnd(&s);
        ((jit_fn)(void *)j.code)(&v, sh, init);
        struct emu_fpu f;
        fpu_reset(&f);
        fpu_frstor(&f, init, FPU_PROT32);
        fpu_mmx_set(&f, 3, v);
        fpu_fsave(&f, sl, FPU_PROT32);
        CU_ASSERT_EQUAL(cmp_save(sh, sl), 0);
    }
    jit_close(&j);
    struct emu_fpu f;
    fpu_reset(&f);
    fpu_mmx_set(&f, 0, 42);
    CU_ASSERT_EQUAL(f.tag, 0xFF);
    CU_ASSERT_EQUAL(fpu_mmx_get(&f, 0), 42);
    fpu_emms(&f);
    CU_ASSERT_EQUAL(fpu_full_tag(&f), 0xFFFF);
}

static void test_fxrstor_mxcsr(void)
{
    struct emu_fpu f;
    fpu_reset(&f);
    uint8_t img[512];
    fpu_fxsave(&f, img, true, 16);
    CU_ASSERT_EQUAL(img[24] | img[25] << 8, 0x1F80);
    CU_ASSERT_EQUAL(img[28] | img[29] << 8, 0xFFFF);
    img[26] = 1;                                        /* MXCSR bit 16: reserved */
    f.cw = 0x123;
    CU_ASSERT_EQUAL(fpu_fxrstor(&f, img, true, 16), FPU_GP);
    CU_ASSERT_EQUAL(f.cw, 0x123);                       /* nothing loaded */
    f.mxcsr_mask = 0xFFBF;                              /* a model without DAZ */
    CU_ASSERT_EQUAL(fpu_ldmxcsr(&f, 0x1FC0), FPU_GP);
    CU_ASSERT_EQUAL(fpu_ldmxcsr(&f, 0x9F80), FPU_OK);
    CU_ASSERT_EQUAL(fpu_stmxcsr(&f), 0x9F80);
}

void suite_fpu(void)
{
    CU_pSuite s = CU_add_suite("fpu", NULL, NULL);
    CU_add_test(s, "x87 random sequences vs host", test_x87_sequences);
    CU_add_test(s, "x87 single instructions vs host", test_x87_single);
    CU_add_test(s, "x87 unmasked exceptions vs host", test_x87_unmasked);
    CU_add_test(s, "x87 every valid encoding vs host", test_x87_every_form);
    CU_add_test(s, "FSAVE16/FXSAVE/FXRSTOR layouts vs host", test_layouts_vs_host);
    CU_add_test(s, "FSTENV/FLDENV real-mode layouts", test_env_real_layouts);
    CU_add_test(s, "pending exceptions, #MF, IGNNE, store suppression", test_pending);
    CU_add_test(s, "invalid encodings, FLDCW/FNSTCW, classification", test_invalid_and_control);
    CU_add_test(s, "MMX aliasing vs host", test_mmx_alias);
    CU_add_test(s, "FXRSTOR/LDMXCSR reserved bits", test_fxrstor_mxcsr);
}
