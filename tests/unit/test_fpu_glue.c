/* fpu_glue: byte sequences decoded by Capstone, run through the glue on
 * a mock memory/GPR interface, results checked against known values. */
#include <CUnit/CUnit.h>
#include <string.h>

#include "../../vmm/emul/fpu_glue.h"

struct mock {
    uint8_t mem[512] __attribute__((aligned(16)));
    uint64_t addr;          /* pretend address of the operand (alignment) */
    uint64_t gpr[X86_REG_ENDING];
    uint32_t eflags;
    unsigned reads, writes;
    bool fault;
};

static bool m_read(void *o, void *buf, unsigned len)
{
    struct mock *m = o;
    if (m->fault || len > sizeof(m->mem))
        return false;
    memcpy(buf, m->mem, len);
    m->reads++;
    return true;
}

static bool m_write(void *o, const void *buf, unsigned len)
{
    struct mock *m = o;
    if (m->fault || len > sizeof(m->mem))
        return false;
    memcpy(m->mem, buf, len);
    m->writes++;
    return true;
}

static uint64_t m_addr(void *o) { return ((struct mock *)o)->addr; }
static uint64_t m_get(void *o, uint16_t r) { return ((struct mock *)o)->gpr[r]; }
static void m_set(void *o, uint16_t r, uint64_t v) { ((struct mock *)o)->gpr[r] = v; }


static int run(struct emu_fpu *f, struct mock *m, bool mode64, const uint8_t *code, size_t len,
               struct fpu_glue_insn *out)
{
    csh h;
    CU_ASSERT_FATAL(cs_open(CS_ARCH_X86, mode64 ? CS_MODE_64 : CS_MODE_32, &h) == CS_ERR_OK);
    cs_option(h, CS_OPT_DETAIL, CS_OPT_ON);
    cs_insn *ci;
    size_t n = cs_disasm(h, code, len, 0x1000, 1, &ci);
    CU_ASSERT_FATAL(n == 1);
    struct fpu_glue_insn g;
    bool ok = fpu_glue_decode(ci, mode64, &g);
    cs_free(ci, n);
    cs_close(&h);
    CU_ASSERT(ok);
    if (!ok)
        return -1;
    if (out)
        *out = g;
    struct fpu_glue_env env = { .opaque = m, .mem_read = m_read, .mem_write = m_write,
                                .mem_addr = m_addr, .gpr_get = m_get, .gpr_set = m_set,
                                .eflags = &m->eflags, .layout = FPU_PROT32 };
    return fpu_glue_exec(f, &g, &env);
}

#define RUN64(f, m, ...) ({ static const uint8_t c_[] = { __VA_ARGS__ }; run(f, m, true, c_, sizeof(c_), NULL); })
#define RUN32(f, m, ...) ({ static const uint8_t c_[] = { __VA_ARGS__ }; run(f, m, false, c_, sizeof(c_), NULL); })

static void test_glue_x87(void)
{
    static struct mock m;
    struct emu_fpu f;
    fpu_reset(&f);
    double d = 1.5;
    float fl = 2.25f;
    memcpy(m.mem, &d, 8);
    CU_ASSERT_EQUAL(RUN32(&f, &m, 0xDD, 0x00), FPU_OK);                  /* fld qword [eax] */
    memcpy(m.mem, &fl, 4);
    CU_ASSERT_EQUAL(RUN32(&f, &m, 0xD8, 0x00), FPU_OK);                  /* fadd dword [eax] */
    CU_ASSERT_EQUAL(RUN64(&f, &m, 0xDD, 0x18), FPU_OK);                  /* fstp qword [rax] */
    memcpy(&d, m.mem, 8);
    CU_ASSERT(d == 3.75);
    CU_ASSERT_EQUAL(f.tag, 0);
    CU_ASSERT_EQUAL(RUN64(&f, &m, 0xD9, 0xE8), FPU_OK);                  /* fld1 */
    CU_ASSERT_EQUAL(RUN64(&f, &m, 0xD9, 0xEB), FPU_OK);                  /* fldpi */
    m.eflags = 0x8D5;
    CU_ASSERT_EQUAL(RUN64(&f, &m, 0xDB, 0xF1), FPU_OK);                  /* fcomi st1: pi > 1 */
    CU_ASSERT_EQUAL(m.eflags, 0);
    CU_ASSERT_EQUAL(RUN64(&f, &m, 0xDF, 0xE0), FPU_OK);                  /* fnstsw ax */
    CU_ASSERT_EQUAL(m.gpr[X86_REG_AX], f.sw);
    CU_ASSERT_EQUAL((m.gpr[X86_REG_AX] >> 11) & 7, 6);
    /* A faulting store leaves the state alone (restartable). */
    struct emu_fpu before = f;
    m.fault = true;
    CU_ASSERT_EQUAL(RUN64(&f, &m, 0xDD, 0x18), FPU_GLUE_FAULT);
    CU_ASSERT_EQUAL(memcmp(&f, &before, sizeof(f)), 0);
    m.fault = false;
}

static void test_glue_sse(void)
{
    static struct mock m;
    struct emu_fpu f;
    fpu_reset(&f);
    f.xmm[1] = (fpu_xmm){ .f = { 1, 2, 3, 4 } };
    f.xmm[2] = (fpu_xmm){ .f = { 10, 20, 30, 40 } };
    CU_ASSERT_EQUAL(RUN64(&f, &m, 0x0F, 0x58, 0xCA), FPU_OK);            /* addps xmm1, xmm2 */
    CU_ASSERT(f.xmm[1].f[0] == 11 && f.xmm[1].f[3] == 44);
    CU_ASSERT_EQUAL(RUN64(&f, &m, 0x0F, 0xC2, 0xD1, 0x01), FPU_OK);      /* cmpltps xmm2, xmm1 */
    CU_ASSERT_EQUAL(f.xmm[2].d[0], 0xFFFFFFFF);                          /* 10 < 11 */
    CU_ASSERT_EQUAL(RUN64(&f, &m, 0x0F, 0xC2, 0xCA, 0x01), FPU_OK);      /* cmpltps xmm1, xmm2 */
    CU_ASSERT_EQUAL(f.xmm[1].d[0], 0);                                   /* 11 < NaN-pattern: false */
    f.xmm[1] = (fpu_xmm){ .d = { 0, 1, 2, 3 } };
    CU_ASSERT_EQUAL(RUN64(&f, &m, 0x66, 0x0F, 0x70, 0xC1, 0x1B), FPU_OK); /* pshufd xmm0, xmm1, 1b */
    CU_ASSERT(f.xmm[0].d[0] == 3 && f.xmm[0].d[3] == 0);
    CU_ASSERT_EQUAL(RUN64(&f, &m, 0x66, 0x45, 0x0F, 0xFE, 0xC0), FPU_OK); /* paddd xmm8, xmm8 */
    CU_ASSERT_EQUAL(RUN64(&f, &m, 0x66, 0x0F, 0x71, 0xD1, 0x01), FPU_OK); /* psrlw xmm1, 1 */
    CU_ASSERT(f.xmm[1].d[3] == 1 && f.xmm[1].d[2] == 1 && f.xmm[1].d[1] == 0);
    /* movdqa: misaligned #GP, aligned load; movups: no check. */
    for (unsigned i = 0; i < 16; i++)
        m.mem[i] = (uint8_t)i;
    m.addr = 0x1008;
    CU_ASSERT_EQUAL(RUN64(&f, &m, 0x66, 0x0F, 0x6F, 0x18), FPU_GP);       /* movdqa xmm3, [rax] */
    CU_ASSERT_EQUAL(RUN64(&f, &m, 0x0F, 0x10, 0x18), FPU_OK);             /* movups xmm3, [rax] */
    CU_ASSERT_EQUAL(f.xmm[3].b[15], 15);
    CU_ASSERT_EQUAL(RUN64(&f, &m, 0x66, 0x0F, 0x58, 0x18), FPU_GP);       /* addpd xmm3, [rax] */
    m.addr = 0x1000;
    CU_ASSERT_EQUAL(RUN64(&f, &m, 0x66, 0x0F, 0x6F, 0x20), FPU_OK);       /* movdqa xmm4, [rax] */
    CU_ASSERT_EQUAL(f.xmm[4].q[1], f.xmm[3].q[1]);
    /* movss xmm5, [rax]: upper zeroed; movhps [rax], xmm4: high half. */
    f.xmm[5] = (fpu_xmm){ .q = { ~0ull, ~0ull } };
    CU_ASSERT_EQUAL(RUN64(&f, &m, 0xF3, 0x0F, 0x10, 0x28), FPU_OK);
    CU_ASSERT(f.xmm[5].d[0] == 0x03020100 && f.xmm[5].d[1] == 0 && f.xmm[5].q[1] == 0);
    memset(m.mem, 0, 16);
    CU_ASSERT_EQUAL(RUN64(&f, &m, 0x0F, 0x17, 0x20), FPU_OK);             /* movhps [rax], xmm4 */
    CU_ASSERT_EQUAL(m.mem[0], 8);
    CU_ASSERT_EQUAL(RUN64(&f, &m, 0x0F, 0x16, 0xEC), FPU_OK);             /* movlhps xmm5, xmm4 */
    CU_ASSERT_EQUAL(f.xmm[5].q[1], f.xmm[4].q[0]);
    /* GPR moves and conversions. */
    m.gpr[X86_REG_RAX] = 0x1122334455667788;
    CU_ASSERT_EQUAL(RUN64(&f, &m, 0x66, 0x48, 0x0F, 0x6E, 0xC0), FPU_OK); /* movq xmm0, rax */
    CU_ASSERT(f.xmm[0].q[0] == 0x1122334455667788 && f.xmm[0].q[1] == 0);
    m.gpr[X86_REG_EAX] = 0x55667788;            /* the mock keys GPRs by Capstone id */
    CU_ASSERT_EQUAL(RUN64(&f, &m, 0x66, 0x0F, 0x6E, 0xC8), FPU_OK);       /* movd xmm1, eax */
    CU_ASSERT_EQUAL(f.xmm[1].q[0], 0x55667788);
    f.xmm[0] = (fpu_xmm){ .df = { -7.9, 0 } };
    CU_ASSERT_EQUAL(RUN64(&f, &m, 0xF2, 0x0F, 0x2C, 0xC0), FPU_OK);       /* cvttsd2si eax, xmm0 */
    CU_ASSERT_EQUAL((uint32_t)m.gpr[X86_REG_EAX], (uint32_t)-7);
    m.gpr[X86_REG_RAX] = (uint64_t)-3;
    CU_ASSERT_EQUAL(RUN64(&f, &m, 0xF2, 0x48, 0x0F, 0x2A, 0xC0), FPU_OK); /* cvtsi2sd xmm0, rax */
    CU_ASSERT(f.xmm[0].df[0] == -3.0);
    m.eflags = 0;
    f.xmm[1] = (fpu_xmm){ .df = { -3.0, 0 } };
    CU_ASSERT_EQUAL(RUN64(&f, &m, 0x66, 0x0F, 0x2E, 0xC1), FPU_OK);       /* ucomisd xmm0, xmm1 */
    CU_ASSERT_EQUAL(m.eflags, 0x40);
    f.xmm[0] = (fpu_xmm){ .q = { 0x8000000000000080, 0x80 } };
    CU_ASSERT_EQUAL(RUN64(&f, &m, 0x66, 0x0F, 0xD7, 0xC0), FPU_OK);       /* pmovmskb eax, xmm0 */
    CU_ASSERT_EQUAL(m.gpr[X86_REG_EAX], 0x181);
    /* SSSE3 */
    f.xmm[1] = (fpu_xmm){ .b = { 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0x80 } };
    f.xmm[0] = (fpu_xmm){ .b = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 } };
    CU_ASSERT_EQUAL(RUN64(&f, &m, 0x66, 0x0F, 0x38, 0x00, 0xC1), FPU_OK); /* pshufb xmm0, xmm1 */
    CU_ASSERT(f.xmm[0].b[0] == 15 && f.xmm[0].b[14] == 1 && f.xmm[0].b[15] == 0);
    CU_ASSERT_EQUAL(RUN64(&f, &m, 0x66, 0x0F, 0x3A, 0x0F, 0xC1, 0x05), FPU_OK); /* palignr */
    CU_ASSERT_EQUAL(f.xmm[0].b[0], 10);
    /* Unmasked #XM: divss by zero with ZM clear. */
    f.mxcsr = 0x1D80;
    f.xmm[1] = (fpu_xmm){ .f = { 0 } };
    f.xmm[2] = (fpu_xmm){ .f = { 1 } };
    CU_ASSERT_EQUAL(RUN64(&f, &m, 0xF3, 0x0F, 0x5E, 0xD1), FPU_XM);       /* divss xmm2, xmm1 */
    CU_ASSERT(f.xmm[2].f[0] == 1);
    CU_ASSERT(f.mxcsr & 4);
    /* LDMXCSR with a reserved bit: #GP. */
    uint32_t bad = 0x10000;
    memcpy(m.mem, &bad, 4);
    CU_ASSERT_EQUAL(RUN64(&f, &m, 0x0F, 0xAE, 0x10), FPU_GP);             /* ldmxcsr [rax] */
}

static void test_glue_mmx_fxsave(void)
{
    static struct mock m;
    struct emu_fpu f;
    fpu_reset(&f);
    uint64_t a = 0x0001000200030004, b = 0x7FFF000100010001;
    memcpy(m.mem, &a, 8);
    CU_ASSERT_EQUAL(RUN32(&f, &m, 0x0F, 0x6F, 0x00), FPU_OK);             /* movq mm0, [eax] */
    memcpy(m.mem, &b, 8);
    CU_ASSERT_EQUAL(RUN32(&f, &m, 0x0F, 0x6F, 0x08), FPU_OK);             /* movq mm1, [eax] */
    CU_ASSERT_EQUAL(RUN32(&f, &m, 0x0F, 0xED, 0xC1), FPU_OK);             /* paddsw mm0, mm1 */
    CU_ASSERT_EQUAL(f.r[0].mant, 0x7FFF000300040005);
    CU_ASSERT_EQUAL(f.r[0].se, 0xFFFF);
    CU_ASSERT_EQUAL(f.tag, 0xFF);
    CU_ASSERT_EQUAL(RUN32(&f, &m, 0x0F, 0x70, 0xC0, 0x00), FPU_OK);       /* pshufw mm0, mm0, 0 */
    CU_ASSERT_EQUAL(f.r[0].mant, 0x0005000500050005);
    m.addr = 0x2000;
    memset(m.mem, 0xEE, sizeof(m.mem));
    CU_ASSERT_EQUAL(RUN32(&f, &m, 0x0F, 0xAE, 0x00), FPU_OK);             /* fxsave [eax] */
    CU_ASSERT_EQUAL(m.mem[4], 0xFF);                                       /* abridged tags */
    CU_ASSERT_EQUAL(m.mem[511], 0xEE);                                     /* available bytes kept */
    CU_ASSERT_EQUAL(RUN32(&f, &m, 0x0F, 0x77), FPU_OK);                   /* emms */
    CU_ASSERT_EQUAL(f.tag, 0);
    CU_ASSERT_EQUAL(RUN32(&f, &m, 0x0F, 0xAE, 0x08), FPU_OK);             /* fxrstor [eax] */
    CU_ASSERT_EQUAL(f.tag, 0xFF);
    m.addr = 0x2004;
    CU_ASSERT_EQUAL(RUN32(&f, &m, 0x0F, 0xAE, 0x00), FPU_GP);             /* misaligned */
    /* MMX with a pending x87 exception: #MF before anything happens. */
    f.cw = 0x37B;
    f.sw |= FPU_SW_ZE | FPU_SW_ES | FPU_SW_B;
    CU_ASSERT_EQUAL(RUN32(&f, &m, 0x0F, 0xED, 0xC1), FPU_MF);
    /* Not ours: a plain integer instruction. */
    csh h;
    cs_open(CS_ARCH_X86, CS_MODE_32, &h);
    cs_option(h, CS_OPT_DETAIL, CS_OPT_ON);
    cs_insn *ci;
    static const uint8_t add[] = { 0x01, 0xD8 }, movsd_str[] = { 0xA5 };
    struct fpu_glue_insn g;
    CU_ASSERT_EQUAL(cs_disasm(h, add, 2, 0, 1, &ci), 1);
    CU_ASSERT(!fpu_glue_decode(ci, false, &g));
    cs_free(ci, 1);
    CU_ASSERT_EQUAL(cs_disasm(h, movsd_str, 1, 0, 1, &ci), 1);             /* string MOVSD */
    CU_ASSERT(!fpu_glue_decode(ci, false, &g));
    cs_free(ci, 1);
    cs_close(&h);
}

void suite_fpu_glue(void)
{
    CU_pSuite s = CU_add_suite("fpu_glue", NULL, NULL);
    CU_add_test(s, "x87 through Capstone + glue", test_glue_x87);
    CU_add_test(s, "SSE/SSE2/SSSE3 through Capstone + glue", test_glue_sse);
    CU_add_test(s, "MMX, FXSAVE/FXRSTOR, EMMS, #MF", test_glue_mmx_fxsave);
}
