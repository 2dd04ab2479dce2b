/* Differential tests: the same instruction bytes run on the host CPU (in a
 * small generated stub) and through the emulator, with random operands
 * and random incoming flags; results and the defined flags must match. */
#include <CUnit/CUnit.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "../../vmm/emul/emul_int.h"

struct regs4 { uint32_t eax, ecx, edx, ebx, fl; };

/* K_SHIFTI: shift by an immediate count (C1 /n ib: the last byte; D1: 1)
 * instead of CL. */
enum fkind { K_ALU, K_LOGIC, K_SHIFT, K_ROT, K_SHXD, K_MUL, K_NONE, K_CF, K_ZF, K_INC, K_SHIFTI };

struct tcase {
    const char *name;
    uint8_t bytes[10];
    unsigned len, size;
    enum fkind kind;
};

static const struct tcase cases[] = {
    { "add32", { 0x01, 0xD8 }, 2, 4, K_ALU }, { "add16", { 0x66, 0x01, 0xD8 }, 3, 2, K_ALU },
    { "add8", { 0x00, 0xD8 }, 2, 1, K_ALU }, { "addh8", { 0x00, 0xFC }, 2, 1, K_ALU },
    { "or32", { 0x09, 0xD8 }, 2, 4, K_LOGIC }, { "or8", { 0x08, 0xD8 }, 2, 1, K_LOGIC },
    { "adc32", { 0x11, 0xD8 }, 2, 4, K_ALU }, { "adc16", { 0x66, 0x11, 0xD8 }, 3, 2, K_ALU },
    { "adc8", { 0x10, 0xD8 }, 2, 1, K_ALU }, { "sbb32", { 0x19, 0xD8 }, 2, 4, K_ALU },
    { "sbb16", { 0x66, 0x19, 0xD8 }, 3, 2, K_ALU }, { "sbb8", { 0x18, 0xD8 }, 2, 1, K_ALU },
    { "and32", { 0x21, 0xD8 }, 2, 4, K_LOGIC }, { "and16", { 0x66, 0x21, 0xD8 }, 3, 2, K_LOGIC },
    { "sub32", { 0x29, 0xD8 }, 2, 4, K_ALU }, { "sub16", { 0x66, 0x29, 0xD8 }, 3, 2, K_ALU },
    { "sub8", { 0x28, 0xD8 }, 2, 1, K_ALU }, { "xor32", { 0x31, 0xD8 }, 2, 4, K_LOGIC },
    { "xor8", { 0x30, 0xD8 }, 2, 1, K_LOGIC }, { "cmp32", { 0x39, 0xD8 }, 2, 4, K_ALU },
    { "cmp16", { 0x66, 0x39, 0xD8 }, 3, 2, K_ALU }, { "cmp8", { 0x38, 0xD8 }, 2, 1, K_ALU },
    { "addi8", { 0x83, 0xC0, 0x85 }, 3, 4, K_ALU }, { "subi16", { 0x66, 0x83, 0xE8, 0x7F }, 4, 2, K_ALU },
    { "test32", { 0x85, 0xD8 }, 2, 4, K_LOGIC }, { "test8", { 0x84, 0xD8 }, 2, 1, K_LOGIC },
    { "inc32", { 0xFF, 0xC0 }, 2, 4, K_INC }, { "inc16", { 0x66, 0xFF, 0xC0 }, 3, 2, K_INC },
    { "inc8", { 0xFE, 0xC0 }, 2, 1, K_INC }, { "dec32", { 0xFF, 0xC8 }, 2, 4, K_INC },
    { "dec8", { 0xFE, 0xC8 }, 2, 1, K_INC }, { "neg32", { 0xF7, 0xD8 }, 2, 4, K_ALU },
    { "neg16", { 0x66, 0xF7, 0xD8 }, 3, 2, K_ALU }, { "neg8", { 0xF6, 0xD8 }, 2, 1, K_ALU },
    { "not32", { 0xF7, 0xD0 }, 2, 4, K_NONE },
    { "rol32", { 0xD3, 0xC0 }, 2, 4, K_ROT }, { "rol16", { 0x66, 0xD3, 0xC0 }, 3, 2, K_ROT },
    { "rol8", { 0xD2, 0xC0 }, 2, 1, K_ROT }, { "ror32", { 0xD3, 0xC8 }, 2, 4, K_ROT },
    { "ror8", { 0xD2, 0xC8 }, 2, 1, K_ROT }, { "ror16", { 0x66, 0xD3, 0xC8 }, 3, 2, K_ROT },
    { "rcl32", { 0xD3, 0xD0 }, 2, 4, K_ROT }, { "rcl16", { 0x66, 0xD3, 0xD0 }, 3, 2, K_ROT },
    { "rcl8", { 0xD2, 0xD0 }, 2, 1, K_ROT }, { "rcr32", { 0xD3, 0xD8 }, 2, 4, K_ROT },
    { "rcr16", { 0x66, 0xD3, 0xD8 }, 3, 2, K_ROT }, { "rcr8", { 0xD2, 0xD8 }, 2, 1, K_ROT },
    { "shl32", { 0xD3, 0xE0 }, 2, 4, K_SHIFT }, { "shl16", { 0x66, 0xD3, 0xE0 }, 3, 2, K_SHIFT },
    { "shl8", { 0xD2, 0xE0 }, 2, 1, K_SHIFT }, { "shr32", { 0xD3, 0xE8 }, 2, 4, K_SHIFT },
    { "shr16", { 0x66, 0xD3, 0xE8 }, 3, 2, K_SHIFT }, { "shr8", { 0xD2, 0xE8 }, 2, 1, K_SHIFT },
    { "sar32", { 0xD3, 0xF8 }, 2, 4, K_SHIFT }, { "sar16", { 0x66, 0xD3, 0xF8 }, 3, 2, K_SHIFT },
    { "sar8", { 0xD2, 0xF8 }, 2, 1, K_SHIFT }, { "shl1", { 0xD1, 0xE0 }, 2, 4, K_SHIFT },
    /* register-by-immediate forms (h_shift_ri) */
    { "shr1", { 0xD1, 0xE8 }, 2, 4, K_SHIFTI }, { "sar1", { 0xD1, 0xF8 }, 2, 4, K_SHIFTI },
    { "shl_i5", { 0xC1, 0xE0, 0x05 }, 3, 4, K_SHIFTI }, { "shr_i31", { 0xC1, 0xE8, 0x1F }, 3, 4, K_SHIFTI },
    { "sar_i7", { 0xC1, 0xF8, 0x07 }, 3, 4, K_SHIFTI }, { "shr_i0", { 0xC1, 0xE8, 0x00 }, 3, 4, K_SHIFTI },
    { "shl_i33", { 0xC1, 0xE0, 0x21 }, 3, 4, K_SHIFTI },
    { "shld32", { 0x0F, 0xA5, 0xD8 }, 3, 4, K_SHXD }, { "shrd32", { 0x0F, 0xAD, 0xD8 }, 3, 4, K_SHXD },
    { "shld16", { 0x66, 0x0F, 0xA5, 0xD8 }, 4, 2, K_SHXD },
    { "shrd16", { 0x66, 0x0F, 0xAD, 0xD8 }, 4, 2, K_SHXD },
    { "mul32", { 0xF7, 0xE3 }, 2, 4, K_MUL }, { "mul16", { 0x66, 0xF7, 0xE3 }, 3, 2, K_MUL },
    { "mul8", { 0xF6, 0xE3 }, 2, 1, K_MUL }, { "imul32", { 0xF7, 0xEB }, 2, 4, K_MUL },
    { "imul16", { 0x66, 0xF7, 0xEB }, 3, 2, K_MUL }, { "imul8", { 0xF6, 0xEB }, 2, 1, K_MUL },
    { "imul2", { 0x0F, 0xAF, 0xC3 }, 3, 4, K_MUL }, { "imul2_16", { 0x66, 0x0F, 0xAF, 0xC3 }, 4, 2, K_MUL },
    { "imul3", { 0x6B, 0xC3, 0x9C }, 3, 4, K_MUL },
    { "bt", { 0x0F, 0xA3, 0xD8 }, 3, 4, K_CF }, { "bts", { 0x0F, 0xAB, 0xD8 }, 3, 4, K_CF },
    { "btr", { 0x0F, 0xB3, 0xD8 }, 3, 4, K_CF }, { "btc", { 0x0F, 0xBB, 0xD8 }, 3, 4, K_CF },
    { "bt16", { 0x66, 0x0F, 0xA3, 0xD8 }, 4, 2, K_CF },
    { "bsf", { 0x0F, 0xBC, 0xC3 }, 3, 4, K_ZF }, { "bsr", { 0x0F, 0xBD, 0xC3 }, 3, 4, K_ZF },
    { "bswap", { 0x0F, 0xC8 }, 2, 4, K_NONE }, { "xadd", { 0x0F, 0xC1, 0xD8 }, 3, 4, K_ALU },
    { "xadd8", { 0x0F, 0xC0, 0xD8 }, 3, 1, K_ALU },
    { "cmpxchg", { 0x0F, 0xB1, 0xD9 }, 3, 4, K_ALU }, { "cwde", { 0x98 }, 1, 4, K_NONE },
    { "cbw", { 0x66, 0x98 }, 2, 2, K_NONE }, { "cdq", { 0x99 }, 1, 4, K_NONE },
    { "cwd", { 0x66, 0x99 }, 2, 2, K_NONE }, { "xchg", { 0x87, 0xD8 }, 2, 4, K_NONE },
    { "movzx", { 0x0F, 0xB6, 0xC7 }, 3, 4, K_NONE }, { "movsx", { 0x0F, 0xBF, 0xC3 }, 3, 4, K_NONE },
    { "lea", { 0x8D, 0x44, 0x59, 0x7F }, 4, 4, K_NONE },
};

typedef void (*stub_fn)(struct regs4 *);

/* Lays pre + the instruction under test + post out in the executable
 * page; returns the page as code. */
static void *emit_stub(uint8_t *page, const uint8_t *pre, size_t npre, const uint8_t *insn,
                       unsigned len, const uint8_t *post, size_t npost)
{
    memcpy(page, pre, npre);
    memcpy(page + npre, insn, len);
    memcpy(page + npre + len, post, npost);
    return page;
}

static stub_fn make_stub(uint8_t *page, const uint8_t *insn, unsigned len)
{
    static const uint8_t pre[] = { 0x53, 0x57, 0x8B, 0x07, 0x8B, 0x4F, 0x04, 0x8B, 0x57, 0x08,
                                   0x8B, 0x5F, 0x0C, 0xFF, 0x77, 0x10, 0x9D };
    static const uint8_t post[] = { 0x9C, 0x41, 0x5B, 0x48, 0x8B, 0x3C, 0x24, 0x89, 0x07,
                                    0x89, 0x4F, 0x04, 0x89, 0x57, 0x08, 0x89, 0x5F, 0x0C,
                                    0x44, 0x89, 0x5F, 0x10, 0x5F, 0x5B, 0xC3 };
    stub_fn f;
    void *p = emit_stub(page, pre, sizeof(pre), insn, len, post, sizeof(post));
    memcpy(&f, &p, sizeof(f));
    return f;
}

static uint8_t bios[64 * 1024];

struct fixture { struct guest_mem mem; struct emu_cpu cpu; };

static void noop_pio(void *o, uint16_t p, unsigned s, bool w, uint32_t *v)
{
    (void)o; (void)p; (void)s; (void)w; *v = 0xFFFFFFFF;
}
static void noop_mmio(void *o, uint64_t a, unsigned s, bool w, uint64_t *v)
{
    (void)o; (void)a; (void)s; (void)w; *v = ~0ull;
}

/* Flat 32-bit protected mode, CPL0. */
static void flat32(struct emu_cpu *c)
{
    struct x86_state s;
    x86_reset_state(&s);
    s.cr0 |= 1;
    for (int k = 0; k < X86_NSREG; k++) {
        s.seg[k] = (struct x86_seg){ .base = 0, .limit = 0xFFFFFFFF, .selector = 0x10,
                                     .type = 3, .present = true, .s = true, .db = true, .g = true };
    }
    s.seg[X86_CS].type = 0xB;
    s.seg[X86_CS].selector = 0x08;
    s.rip = 0x1000;
    s.gpr[X86_RSP] = 0x8000;
    emu_set_state(c, &s);
}

static int fixture_init(struct fixture *f)
{
    if (mem_init(&f->mem, 4 * MiB, bios, sizeof(bios)) < 0)
        return -1;
    struct emu_env env = { .pio = noop_pio, .mmio = noop_mmio };
    if (emu_init(&f->cpu, &f->mem, &env) < 0)
        return -1;
    flat32(&f->cpu);
    return 0;
}

static void fixture_fini(struct fixture *f)
{
    emu_fini(&f->cpu);
    mem_destroy(&f->mem);
}

static uint32_t rnd32(void)
{
    uint32_t v = ((uint32_t)rand() << 16) ^ (uint32_t)rand();
    switch (rand() % 8) {   /* bias towards edge values */
    case 0: return 0;
    case 1: return 0xFFFFFFFFu;
    case 2: return 0x80000000u ^ (v & 0xFF);
    case 3: return v & 0xFF;
    default: return v;
    }
}

/* The count of a K_SHIFTI case, masked like the CPU does. */
static unsigned imm_count(const struct tcase *t)
{
    bool d1 = t->bytes[0] == 0xD1 || (t->bytes[0] == 0x48 && t->bytes[1] == 0xD1);
    return (d1 ? 1u : t->bytes[t->len - 1]) & (t->size == 8 ? 0x3F : 0x1F);
}

/* Which flags are architecturally defined for this case and operands. */
static uint32_t defined_flags(const struct tcase *t, const struct regs4 *in)
{
    unsigned cnt = t->kind == K_SHIFTI ? imm_count(t) : in->ecx & 0x1F;
    switch (t->kind) {
    case K_ALU: return F_ARITH;
    case K_INC: return F_ARITH;
    case K_LOGIC: return F_ARITH & ~F_AF;
    case K_SHIFT: case K_SHIFTI:
        if (cnt == 0)
            return F_ARITH;
        return (F_CF | F_SF | F_ZF | F_PF | (cnt == 1 ? F_OF : 0));
    case K_ROT:
        if (cnt == 0)
            return F_ARITH;
        return F_SF | F_ZF | F_PF | F_AF | F_CF | (cnt == 1 ? F_OF : 0);
    case K_SHXD:
        if (cnt == 0)
            return F_ARITH;
        return F_CF | F_SF | F_ZF | F_PF | (cnt == 1 ? F_OF : 0);
    case K_MUL: return F_CF | F_OF;
    case K_CF: return F_CF;
    case K_ZF: return F_ZF;
    default: return F_ARITH;
    }
}

static void test_diff(void)
{
    uint8_t *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CU_ASSERT_FATAL(page != MAP_FAILED);
    struct fixture f;
    CU_ASSERT_FATAL(fixture_init(&f) == 0);
    srand(12345);
    unsigned failures = 0, runs = 0;
    for (size_t t = 0; t < sizeof(cases) / sizeof(cases[0]); t++) {
        const struct tcase *tc = &cases[t];
        stub_fn fn = make_stub(page, tc->bytes, tc->len);
        for (int it = 0; it < 3000; it++) {
            struct regs4 in = { rnd32(), rnd32(), rnd32(), rnd32(), 0 };
            in.fl = 0x202 | ((uint32_t)rand() & F_ARITH);
            if (tc->kind == K_SHXD && tc->size == 2 && (in.ecx & 0x1F) > 16)
                in.ecx &= ~0x10u;   /* 16-bit counts above 16 are undefined */
            if (tc->kind == K_ZF && (in.ebx == 0))
                in.ebx = 1;
            struct regs4 host = in;
            fn(&host);
            struct emu_cpu *c = &f.cpu;
            c->r[EAX_] = in.eax;
            c->r[ECX_] = in.ecx;
            c->r[EDX_] = in.edx;
            c->r[EBX_] = in.ebx;
            c->lf.op = LF_NONE;
            c->eflags = in.fl;
            c->eip = 0x1000;
            int exc = emu_step_bytes(c, tc->bytes, tc->len);
            uint32_t fl = emu_get_eflags(c);
            uint32_t mask = defined_flags(tc, &in);
            bool bad = exc != 0 || c->r[EAX_] != host.eax || c->r[ECX_] != host.ecx ||
                       c->r[EDX_] != host.edx || c->r[EBX_] != host.ebx ||
                       ((fl ^ host.fl) & mask) != 0 || c->eip != 0x1000 + tc->len;
            runs++;
            if (bad && failures++ < 10)
                fprintf(stderr, "\n%s: in eax=%08x ecx=%08x edx=%08x ebx=%08x fl=%03x -> host "
                        "%08x %08x %08x %08x fl=%03x, emu %08x %08x %08x %08x fl=%03x (mask %03x) exc %d",
                        tc->name, in.eax, in.ecx, in.edx, in.ebx, in.fl, host.eax, host.ecx,
                        host.edx, host.ebx, host.fl & F_ARITH, (uint32_t)c->r[EAX_],
                        (uint32_t)c->r[ECX_], (uint32_t)c->r[EDX_], (uint32_t)c->r[EBX_],
                        fl & F_ARITH, mask, exc);
        }
    }
    CU_ASSERT_EQUAL(failures, 0);
    CU_ASSERT(runs > 100000);
    fixture_fini(&f);
    munmap(page, 4096);
}

/* DIV/IDIV with operands that do not overflow, against the host. */
static void test_div(void)
{
    uint8_t *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CU_ASSERT_FATAL(page != MAP_FAILED);
    struct fixture f;
    CU_ASSERT_FATAL(fixture_init(&f) == 0);
    static const struct tcase divs[] = {
        { "div32", { 0xF7, 0xF3 }, 2, 4, K_NONE }, { "idiv32", { 0xF7, 0xFB }, 2, 4, K_NONE },
        { "div16", { 0x66, 0xF7, 0xF3 }, 3, 2, K_NONE }, { "div8", { 0xF6, 0xF3 }, 2, 1, K_NONE },
        { "idiv8", { 0xF6, 0xFB }, 2, 1, K_NONE },
    };
    unsigned failures = 0;
    for (size_t t = 0; t < 5; t++) {
        stub_fn fn = make_stub(page, divs[t].bytes, divs[t].len);
        for (int it = 0; it < 5000; it++) {
            struct regs4 in = { rnd32(), rnd32(), 0, rnd32() | 1, 0x202 };
            bool sgn = divs[t].bytes[divs[t].len - 1] == 0xFB;
            if (divs[t].size == 4) {
                if (sgn) {
                    in.eax &= 0x7FFFFFFF;
                    in.edx = 0;
                    if (in.ebx == 0xFFFFFFFF) in.ebx = 3;
                } else {
                    in.edx = in.edx % in.ebx;
                    in.edx = rnd32() % in.ebx;
                }
            } else if (divs[t].size == 2) {
                in.ebx = (in.ebx & 0xFFFF) | 1;
                in.edx = (rnd32() & 0xFFFF) % (in.ebx & 0xFFFF);
            } else {
                in.ebx = (in.ebx & 0xFF) | 1;
                in.eax = (in.eax & 0xFFFF0000u) | (sgn ? (in.eax & 0x3F) : ((rnd32() & 0xFF) << 0) |
                         (((rnd32() & 0xFF) % (in.ebx & 0xFF)) << 8));
                if (sgn && (in.ebx & 0xFF) == 0xFF) in.ebx = 3;
            }
            struct regs4 host = in;
            fn(&host);
            struct emu_cpu *c = &f.cpu;
            c->r[EAX_] = in.eax; c->r[ECX_] = in.ecx; c->r[EDX_] = in.edx; c->r[EBX_] = in.ebx;
            c->eflags = in.fl; c->lf.op = LF_NONE; c->eip = 0x1000;
            int exc = emu_step_bytes(c, divs[t].bytes, divs[t].len);
            if ((exc || c->r[EAX_] != host.eax || c->r[EDX_] != host.edx) && failures++ < 5)
                fprintf(stderr, "\n%s: %08x:%08x / %08x: host %08x %08x emu %08x %08x exc %d",
                        divs[t].name, in.edx, in.eax, in.ebx, host.eax, host.edx,
                        (uint32_t)c->r[EAX_], (uint32_t)c->r[EDX_], exc);
        }
    }
    CU_ASSERT_EQUAL(failures, 0);
    /* Division by zero and quotient overflow raise #DE (vector 0). */
    struct emu_cpu *c = &f.cpu;
    static const uint8_t div_ebx[] = { 0xF7, 0xF3 };
    c->r[EBX_] = 0; c->eip = 0x1000;
    CU_ASSERT_EQUAL(emu_step_bytes(c, div_ebx, 2), EXC_DE + 1);
    flat32(c);
    c->r[EBX_] = 2; c->r[EDX_] = 5; c->r[EAX_] = 0; c->eip = 0x1000;
    CU_ASSERT_EQUAL(emu_step_bytes(c, div_ebx, 2), EXC_DE + 1);
    fixture_fini(&f);
    munmap(page, 4096);
}

/* ---- 64-bit mode: the same comparison with 64-bit registers ---- */

struct regs8 { uint64_t rax, rcx, rdx, rbx, fl; };
typedef void (*stub8_fn)(struct regs8 *);

static const struct tcase cases64[] = {
    { "add64", { 0x48, 0x01, 0xD8 }, 3, 8, K_ALU }, { "adc64", { 0x48, 0x11, 0xD8 }, 3, 8, K_ALU },
    { "sbb64", { 0x48, 0x19, 0xD8 }, 3, 8, K_ALU }, { "sub64", { 0x48, 0x29, 0xD8 }, 3, 8, K_ALU },
    { "cmp64", { 0x48, 0x39, 0xD8 }, 3, 8, K_ALU }, { "and64", { 0x48, 0x21, 0xD8 }, 3, 8, K_LOGIC },
    { "or64", { 0x48, 0x09, 0xD8 }, 3, 8, K_LOGIC }, { "xor64", { 0x48, 0x31, 0xD8 }, 3, 8, K_LOGIC },
    { "test64", { 0x48, 0x85, 0xD8 }, 3, 8, K_LOGIC },
    { "addi64", { 0x48, 0x83, 0xC0, 0x85 }, 4, 8, K_ALU },
    { "subi32x", { 0x48, 0x2D, 0x01, 0x00, 0x00, 0x80 }, 6, 8, K_ALU },
    { "add32zx", { 0x01, 0xD8 }, 2, 4, K_ALU }, { "inc32zx", { 0xFF, 0xC0 }, 2, 4, K_INC },
    { "inc64", { 0x48, 0xFF, 0xC0 }, 3, 8, K_INC }, { "dec64", { 0x48, 0xFF, 0xC8 }, 3, 8, K_INC },
    { "neg64", { 0x48, 0xF7, 0xD8 }, 3, 8, K_ALU }, { "not64", { 0x48, 0xF7, 0xD0 }, 3, 8, K_NONE },
    { "shl64", { 0x48, 0xD3, 0xE0 }, 3, 8, K_SHIFT }, { "shr64", { 0x48, 0xD3, 0xE8 }, 3, 8, K_SHIFT },
    { "sar64", { 0x48, 0xD3, 0xF8 }, 3, 8, K_SHIFT }, { "rol64", { 0x48, 0xD3, 0xC0 }, 3, 8, K_ROT },
    { "shl64_i63", { 0x48, 0xC1, 0xE0, 0x3F }, 4, 8, K_SHIFTI },
    { "shr64_i33", { 0x48, 0xC1, 0xE8, 0x21 }, 4, 8, K_SHIFTI },
    { "sar64_i1", { 0x48, 0xC1, 0xF8, 0x01 }, 4, 8, K_SHIFTI },
    { "ror64", { 0x48, 0xD3, 0xC8 }, 3, 8, K_ROT }, { "rcl64", { 0x48, 0xD3, 0xD0 }, 3, 8, K_ROT },
    { "rcr64", { 0x48, 0xD3, 0xD8 }, 3, 8, K_ROT },
    { "shld64", { 0x48, 0x0F, 0xA5, 0xD8 }, 4, 8, K_SHXD },
    { "shrd64", { 0x48, 0x0F, 0xAD, 0xD8 }, 4, 8, K_SHXD },
    { "mul64", { 0x48, 0xF7, 0xE3 }, 3, 8, K_MUL }, { "imul64", { 0x48, 0xF7, 0xEB }, 3, 8, K_MUL },
    { "imul2_64", { 0x48, 0x0F, 0xAF, 0xC3 }, 4, 8, K_MUL },
    { "imul3_64", { 0x48, 0x6B, 0xC3, 0x9C }, 4, 8, K_MUL },
    { "bt64", { 0x48, 0x0F, 0xA3, 0xD8 }, 4, 8, K_CF }, { "bts64", { 0x48, 0x0F, 0xAB, 0xD8 }, 4, 8, K_CF },
    { "btr64", { 0x48, 0x0F, 0xB3, 0xD8 }, 4, 8, K_CF }, { "btc64", { 0x48, 0x0F, 0xBB, 0xD8 }, 4, 8, K_CF },
    { "bsf64", { 0x48, 0x0F, 0xBC, 0xC3 }, 4, 8, K_ZF }, { "bsr64", { 0x48, 0x0F, 0xBD, 0xC3 }, 4, 8, K_ZF },
    { "bswap64", { 0x48, 0x0F, 0xC8 }, 3, 8, K_NONE },
    { "xadd64", { 0x48, 0x0F, 0xC1, 0xD8 }, 4, 8, K_ALU },
    { "cmpxchg64", { 0x48, 0x0F, 0xB1, 0xD9 }, 4, 8, K_ALU },
    { "cdqe", { 0x48, 0x98 }, 2, 8, K_NONE }, { "cqo", { 0x48, 0x99 }, 2, 8, K_NONE },
    { "cdq64m", { 0x99 }, 1, 4, K_NONE }, { "movsxd", { 0x48, 0x63, 0xC3 }, 3, 8, K_NONE },
    { "movzx64", { 0x48, 0x0F, 0xB6, 0xC3 }, 4, 8, K_NONE },     /* movzx rax, bl */
    { "mov32zx", { 0x89, 0xD8 }, 2, 4, K_NONE }, { "xchg64", { 0x48, 0x87, 0xD8 }, 3, 8, K_NONE },
    { "lea64", { 0x48, 0x8D, 0x44, 0x59, 0x7F }, 5, 8, K_NONE },
    { "lea32", { 0x8D, 0x44, 0x59, 0x7F }, 4, 4, K_NONE },
    { "setne_rex", { 0x40, 0x0F, 0x95, 0xC3 }, 4, 1, K_NONE },
    { "movabs", { 0x48, 0xBB, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11 }, 10, 8, K_NONE },
};

static stub8_fn make_stub64(uint8_t *page, const uint8_t *insn, unsigned len)
{
    static const uint8_t pre[] = { 0x53, 0x57, 0x48, 0x8B, 0x07, 0x48, 0x8B, 0x4F, 0x08,
                                   0x48, 0x8B, 0x57, 0x10, 0x48, 0x8B, 0x5F, 0x18,
                                   0xFF, 0x77, 0x20, 0x9D };
    static const uint8_t post[] = { 0x9C, 0x41, 0x5B, 0x48, 0x8B, 0x3C, 0x24, 0x48, 0x89, 0x07,
                                    0x48, 0x89, 0x4F, 0x08, 0x48, 0x89, 0x57, 0x10,
                                    0x48, 0x89, 0x5F, 0x18, 0x4C, 0x89, 0x5F, 0x20,
                                    0x5F, 0x5B, 0xC3 };
    stub8_fn f;
    void *p = emit_stub(page, pre, sizeof(pre), insn, len, post, sizeof(post));
    memcpy(&f, &p, sizeof(f));
    return f;
}

/* 64-bit mode, CPL0: EFER.LME/LMA with a flat L=1 code segment.  Paging is
 * left off: the walker then maps linear = physical, which is all these
 * register-only tests need. */
static void flat64(struct emu_cpu *c)
{
    struct x86_state s;
    x86_reset_state(&s);
    s.cr0 |= 1;
    s.cr4 |= 0x20;
    s.efer = (1u << 8) | (1u << 10);
    for (int k = 0; k < X86_NSREG; k++)
        s.seg[k] = (struct x86_seg){ .limit = 0xFFFFFFFF, .selector = 0x10, .type = 3,
                                     .present = true, .s = true, .db = true, .g = true };
    s.seg[X86_CS] = (struct x86_seg){ .limit = 0xFFFFFFFF, .selector = 0x08, .type = 0xB,
                                      .present = true, .s = true, .l = true, .g = true };
    s.rip = 0x1000;
    s.gpr[X86_RSP] = 0x8000;
    emu_set_state(c, &s);
}

static uint64_t rnd64(void)
{
    uint64_t v = ((uint64_t)rnd32() << 32) | rnd32();
    switch (rand() % 8) {
    case 0: return v & 0xFFFFFFFFu;
    case 1: return ~0ull;
    case 2: return 0x8000000000000000ull ^ (v & 0xFF);
    case 3: return v & 0x3F;
    default: return v;
    }
}

static uint32_t defined_flags64(const struct tcase *t, const struct regs8 *in)
{
    struct regs4 r4 = { 0, (uint32_t)(in->rcx & (t->size == 8 ? 0x3F : 0x1F)), 0, 0, 0 };
    if (t->kind == K_SHIFT || t->kind == K_ROT || t->kind == K_SHXD || t->kind == K_SHIFTI) {
        unsigned cnt = t->kind == K_SHIFTI ? imm_count(t) : r4.ecx;
        if (cnt == 0)
            return F_ARITH;
        uint32_t of = cnt == 1 ? F_OF : 0;
        if (t->kind == K_ROT)
            return F_SF | F_ZF | F_PF | F_AF | F_CF | of;
        return F_CF | F_SF | F_ZF | F_PF | of;
    }
    return defined_flags(t, &r4);
}

static void test_diff64(void)
{
    uint8_t *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CU_ASSERT_FATAL(page != MAP_FAILED);
    struct fixture f;
    CU_ASSERT_FATAL(fixture_init(&f) == 0);
    struct emu_cpu *c = &f.cpu;
    flat64(c);
    CU_ASSERT_FATAL(c->code64);
    srand(4242);
    unsigned failures = 0, runs = 0;
    for (size_t t = 0; t < sizeof(cases64) / sizeof(cases64[0]); t++) {
        const struct tcase *tc = &cases64[t];
        stub8_fn fn = make_stub64(page, tc->bytes, tc->len);
        for (int it = 0; it < 3000; it++) {
            struct regs8 in = { rnd64(), rnd64(), rnd64(), rnd64(), 0 };
            in.fl = 0x202 | ((uint32_t)rand() & F_ARITH);
            if (tc->kind == K_ZF && in.rbx == 0)
                in.rbx = 1;
            struct regs8 host = in;
            fn(&host);
            c->r[EAX_] = in.rax;
            c->r[ECX_] = in.rcx;
            c->r[EDX_] = in.rdx;
            c->r[EBX_] = in.rbx;
            c->lf.op = LF_NONE;
            c->eflags = (uint32_t)in.fl;
            c->rip = 0x1000;
            int exc = emu_step_bytes(c, tc->bytes, tc->len);
            uint32_t fl = emu_get_eflags(c);
            uint32_t mask = defined_flags64(tc, &in);
            bool bad = exc != 0 || c->r[EAX_] != host.rax || c->r[ECX_] != host.rcx ||
                       c->r[EDX_] != host.rdx || c->r[EBX_] != host.rbx ||
                       ((fl ^ host.fl) & mask) != 0 || c->rip != 0x1000 + tc->len;
            runs++;
            if (bad && failures++ < 10)
                fprintf(stderr, "\n%s: in %016llx %016llx %016llx %016llx fl=%03x -> host "
                        "%016llx %016llx %016llx %016llx fl=%03x, emu %016llx %016llx %016llx "
                        "%016llx fl=%03x exc %d", tc->name, (unsigned long long)in.rax,
                        (unsigned long long)in.rcx, (unsigned long long)in.rdx,
                        (unsigned long long)in.rbx, (unsigned)in.fl,
                        (unsigned long long)host.rax, (unsigned long long)host.rcx,
                        (unsigned long long)host.rdx, (unsigned long long)host.rbx,
                        (unsigned)host.fl & F_ARITH, (unsigned long long)c->r[EAX_],
                        (unsigned long long)c->r[ECX_], (unsigned long long)c->r[EDX_],
                        (unsigned long long)c->r[EBX_], fl & F_ARITH, exc);
        }
    }
    CU_ASSERT_EQUAL(failures, 0);
    CU_ASSERT(runs > 100000);
    /* 64-bit DIV/IDIV: quotient fits; #DE on overflow and by zero. */
    static const uint8_t div64[] = { 0x48, 0xF7, 0xF3 }, idiv64[] = { 0x48, 0xF7, 0xFB };
    unsigned dfail = 0;
    for (int it = 0; it < 20000; it++) {
        bool sgn = it & 1;
        struct regs8 in = { rnd64(), 0, 0, rnd64() | 1, 0x202 };
        if (sgn) {
            in.rdx = (in.rax >> 63) ? ~0ull : 0;    /* sign extension: never overflows */
            if (in.rbx == ~0ull)
                in.rbx = 3;
        } else {
            in.rdx = rnd64() % in.rbx;
        }
        stub8_fn fn = make_stub64(page, sgn ? idiv64 : div64, 3);
        struct regs8 host = in;
        fn(&host);
        c->r[EAX_] = in.rax; c->r[EDX_] = in.rdx; c->r[EBX_] = in.rbx; c->rip = 0x1000;
        int exc = emu_step_bytes(c, sgn ? idiv64 : div64, 3);
        if ((exc || c->r[EAX_] != host.rax || c->r[EDX_] != host.rdx) && dfail++ < 5)
            fprintf(stderr, "\n%s: %016llx:%016llx / %016llx: host %016llx %016llx emu %016llx "
                    "%016llx exc %d", sgn ? "idiv64" : "div64", (unsigned long long)in.rdx,
                    (unsigned long long)in.rax, (unsigned long long)in.rbx,
                    (unsigned long long)host.rax, (unsigned long long)host.rdx,
                    (unsigned long long)c->r[EAX_], (unsigned long long)c->r[EDX_], exc);
    }
    CU_ASSERT_EQUAL(dfail, 0);
    c->r[EBX_] = 0; c->rip = 0x1000;
    CU_ASSERT_EQUAL(emu_step_bytes(c, div64, 3), EXC_DE + 1);
    flat64(c);
    c->r[EBX_] = 2; c->r[EDX_] = 5; c->r[EAX_] = 0; c->rip = 0x1000;
    CU_ASSERT_EQUAL(emu_step_bytes(c, div64, 3), EXC_DE + 1);
    fixture_fini(&f);
    munmap(page, 4096);
}

/* ---- BCD adjustments: invalid in 64-bit mode, so run on the host in
 * 32-bit compatibility mode ----
 *
 * A 64-bit Linux process may far-jump into compatibility mode: the GDT
 * x86-64 Linux sets up has a 32-bit user code segment, selector 0x23
 * (__USER32_CS), beside the 64-bit one, 0x33 (__USER_CS).  The stub lives
 * in a MAP_32BIT mapping (below 2 GiB) so that EIP, ESP and the pointers
 * it uses fit in 32 bits; it switches to a stack inside that mapping,
 * RETFQs to 0x23:compat, loads DS/ES with SS (null DS/ES fault in
 * compatibility mode), runs the instruction between the usual register
 * loads/stores, and RETFs to 0x33:back64, which restores RSP and the
 * callee-saved registers (their upper halves are undefined after
 * compatibility mode). */

#define C32_SIZE 0x10000u            /* code, save slot, regs, then the stack */
#define C32_COMPAT 0x100u
#define C32_SAVE 0x800u
#define C32_REGS 0x810u

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

static stub_fn make_stub_compat(uint8_t *page, const uint8_t *insn, unsigned len)
{
    uint32_t base = (uint32_t)(uintptr_t)page;
    uint8_t *p = page;
    static const uint8_t save[] = { 0x53, 0x55, 0x41, 0x54, 0x41, 0x55, 0x41, 0x56, 0x41, 0x57 };
    memcpy(p, save, sizeof(save)); p += sizeof(save);
    *p++ = 0x48; *p++ = 0x89; *p++ = 0x24; *p++ = 0x25;              /* mov [save], rsp */
    put32(p, base + C32_SAVE); p += 4;
    *p++ = 0x48; *p++ = 0xC7; *p++ = 0xC4;                           /* mov rsp, top */
    put32(p, base + C32_SIZE - 16); p += 4;
    *p++ = 0x6A; *p++ = 0x23;                                        /* push 0x23 */
    *p++ = 0x68; put32(p, base + C32_COMPAT); p += 4;                /* push compat */
    *p++ = 0x48; *p++ = 0xCB;                                        /* retfq */
    uint32_t back64 = base + (uint32_t)(p - page);
    *p++ = 0x48; *p++ = 0x8B; *p++ = 0x24; *p++ = 0x25;              /* mov rsp, [save] */
    put32(p, base + C32_SAVE); p += 4;
    static const uint8_t restore[] = { 0x41, 0x5F, 0x41, 0x5E, 0x41, 0x5D, 0x41, 0x5C,
                                       0x5D, 0x5B, 0xC3 };
    memcpy(p, restore, sizeof(restore));
    /* compatibility mode: EDI = the register block (passed in RDI) */
    static const uint8_t pre[] = { 0x8C, 0xD0, 0x8E, 0xD8, 0x8E, 0xC0,     /* ds = es = ss */
                                   0x57, 0x8B, 0x07, 0x8B, 0x4F, 0x04, 0x8B, 0x57, 0x08,
                                   0x8B, 0x5F, 0x0C, 0xFF, 0x77, 0x10, 0x9D };
    static const uint8_t post[] = { 0x9C, 0x87, 0x7C, 0x24, 0x04, 0x8F, 0x47, 0x10,
                                    0x89, 0x07, 0x89, 0x4F, 0x04, 0x89, 0x57, 0x08,
                                    0x89, 0x5F, 0x0C, 0x5F,
                                    0x31, 0xC0, 0x8E, 0xD8, 0x8E, 0xC0,   /* ds = es = 0 */
                                    0x6A, 0x33, 0x68 };                   /* push 0x33, back64 */
    p = page + C32_COMPAT;
    memcpy(p, pre, sizeof(pre)); p += sizeof(pre);
    memcpy(p, insn, len); p += len;
    memcpy(p, post, sizeof(post)); p += sizeof(post);
    put32(p, back64); p += 4;
    *p = 0xCB;                                                       /* retf */
    stub_fn f;
    void *v = page;
    memcpy(&f, &v, sizeof(f));
    return f;
}

static sigjmp_buf fpe_jb;
static void on_fpe(int sig) { (void)sig; siglongjmp(fpe_jb, 1); }

/* Runs the compat stub on the register block inside the mapping; returns
 * false if the host raised #DE (SIGFPE). */
static bool run_compat(uint8_t *page, stub_fn fn, struct regs4 *r)
{
    struct regs4 *low = (struct regs4 *)(void *)(page + C32_REGS);
    *low = *r;
    if (sigsetjmp(fpe_jb, 1))
        return false;
    fn(low);
    *r = *low;
    return true;
}

static void test_bcd(void)
{
    uint8_t *page = mmap(NULL, C32_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
    CU_ASSERT_FATAL(page != MAP_FAILED);
    struct sigaction sa = { .sa_handler = on_fpe }, old;
    sigemptyset(&sa.sa_mask);
    CU_ASSERT_FATAL(sigaction(SIGFPE, &sa, &old) == 0);
    struct fixture f;
    CU_ASSERT_FATAL(fixture_init(&f) == 0);
    struct emu_cpu *c = &f.cpu;
    /* Defined flags (SDM): DAA/DAS all but OF; AAA/AAS only AF and CF;
     * AAM/AAD only SF, ZF, PF. */
    const uint32_t szp = F_SF | F_ZF | F_PF;
    static const struct { const char *name; uint8_t b[2]; unsigned len; uint32_t flags; } bcd[] = {
        { "daa", { 0x27 }, 1, 0 }, { "das", { 0x2F }, 1, 0 }, { "aaa", { 0x37 }, 1, 1 },
        { "aas", { 0x3F }, 1, 1 }, { "aam10", { 0xD4, 10 }, 2, 2 },
        { "aam16", { 0xD4, 16 }, 2, 2 }, { "aam7", { 0xD4, 7 }, 2, 2 },
        { "aam255", { 0xD4, 255 }, 2, 2 }, { "aam1", { 0xD4, 1 }, 2, 2 },
        { "aad10", { 0xD5, 10 }, 2, 2 }, { "aad16", { 0xD5, 16 }, 2, 2 },
        { "aad0", { 0xD5, 0 }, 2, 2 }, { "aad255", { 0xD5, 255 }, 2, 2 },
        { "aad3", { 0xD5, 3 }, 2, 2 },
    };
    srand(777);
    unsigned failures = 0, runs = 0;
    for (size_t t = 0; t < sizeof(bcd) / sizeof(bcd[0]); t++) {
        stub_fn fn = make_stub_compat(page, bcd[t].b, bcd[t].len);
        uint32_t mask = bcd[t].flags == 0 ? F_ARITH & ~F_OF
                      : bcd[t].flags == 1 ? F_AF | F_CF : szp;
        for (int it = 0; it < 4000; it++) {
            struct regs4 in = { rnd32(), rnd32(), rnd32(), rnd32(), 0 };
            in.fl = 0x202 | ((uint32_t)rand() & F_ARITH);
            struct regs4 host = in;
            bool ok = run_compat(page, fn, &host);
            CU_ASSERT_FATAL(ok);
            c->r[EAX_] = in.eax; c->r[ECX_] = in.ecx; c->r[EDX_] = in.edx; c->r[EBX_] = in.ebx;
            c->lf.op = LF_NONE;
            c->eflags = in.fl;
            c->eip = 0x1000;
            int exc = emu_step_bytes(c, bcd[t].b, bcd[t].len);
            uint32_t fl = emu_get_eflags(c);
            bool bad = exc != 0 || (uint32_t)c->r[EAX_] != host.eax ||
                       (uint32_t)c->r[EBX_] != host.ebx || ((fl ^ host.fl) & mask) != 0 ||
                       c->eip != 0x1000 + bcd[t].len;
            runs++;
            if (bad && failures++ < 10)
                fprintf(stderr, "\n%s: in eax=%08x fl=%03x -> host eax=%08x fl=%03x, emu "
                        "eax=%08x fl=%03x (mask %03x) exc %d", bcd[t].name, in.eax, in.fl,
                        host.eax, host.fl & F_ARITH, (uint32_t)c->r[EAX_], fl & F_ARITH,
                        mask, exc);
        }
    }
    CU_ASSERT_EQUAL(failures, 0);
    CU_ASSERT_EQUAL(runs, 14 * 4000);
    /* AAM 0 divides by zero: #DE on the host (SIGFPE) and in the emulator,
     * AX unchanged. */
    static const uint8_t aam0[] = { 0xD4, 0x00 };
    stub_fn fn = make_stub_compat(page, aam0, 2);
    struct regs4 r = { 0x1234, 0, 0, 0, 0x202 };
    CU_ASSERT_FALSE(run_compat(page, fn, &r));
    c->r[EAX_] = 0x1234;
    c->eip = 0x1000;
    CU_ASSERT_EQUAL(emu_step_bytes(c, aam0, 2), EXC_DE + 1);
    CU_ASSERT_EQUAL(c->r[EAX_] & 0xFFFF, 0x1234);
    /* ...and the host is still sane afterwards (DS/ES as left by the fault). */
    static const uint8_t daa[] = { 0x27 };
    fn = make_stub_compat(page, daa, 1);
    r = (struct regs4){ 0x0F, 0, 0, 0, 0x202 };
    CU_ASSERT(run_compat(page, fn, &r));
    CU_ASSERT_EQUAL(r.eax & 0xFF, 0x15);
    /* All of them are #UD in 64-bit mode. */
    flat64(c);
    c->rip = 0x1000;
    CU_ASSERT_EQUAL(emu_step_bytes(c, daa, 1), EXC_UD + 1);
    fixture_fini(&f);
    sigaction(SIGFPE, &old, NULL);
    munmap(page, C32_SIZE);
}

void suite_emul_diff(void)
{
    CU_pSuite s = CU_add_suite("emul_diff", NULL, NULL);
    CU_add_test(s, "ALU/shift/mul/bit ops vs host CPU", test_diff);
    CU_add_test(s, "DIV/IDIV vs host CPU, #DE", test_div);
    CU_add_test(s, "64-bit mode: ALU/shift/mul/bit/REX forms and DIV vs host", test_diff64);
    CU_add_test(s, "BCD: DAA/DAS/AAA/AAS/AAM/AAD vs host (compatibility mode), AAM 0 #DE",
                test_bcd);
}
