/* The emulator's fast paths against their slow references: inline
 * condition evaluation vs emu_cond, block chains vs INVLPG and
 * self-modifying code, per-block instruction counting across a fault. */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

#include "../../vmm/emul/emul_int.h"
#include "../../vmm/emul/ops.h"

static uint8_t bios[64 * 1024];
struct fx { struct guest_mem mem; struct emu_cpu cpu; };

static void pio(void *o, uint16_t p, unsigned s, bool w, uint32_t *v)
{
    (void)o; (void)p; (void)s;
    if (!w)
        *v = 0xFF;
}

static void mmio(void *o, uint64_t a, unsigned s, bool w, uint64_t *v)
{
    (void)o; (void)a; (void)s;
    if (!w)
        *v = ~0ull;
}

static void put(struct fx *f, uint32_t at, const void *b, size_t n) { memcpy(f->mem.ram + at, b, n); }

static void put32(struct fx *f, uint32_t at, uint32_t v) { memcpy(f->mem.ram + at, &v, 4); }

/* Flat 32-bit protected mode at CPL0, optionally with 2-level paging
 * (page directory 0x10000, one page table 0x11000 identity-mapping 4 MiB). */
static void setup(struct fx *f, bool pm32, bool paging)
{
    CU_ASSERT_FATAL(mem_init(&f->mem, 4 * MiB, bios, sizeof(bios)) == 0);
    struct emu_env env = { .pio = pio, .mmio = mmio };
    CU_ASSERT_FATAL(emu_init(&f->cpu, &f->mem, &env) == 0);
    struct x86_state s;
    x86_reset_state(&s);
    for (int k = 0; k < X86_NSREG; k++)
        s.seg[k].base = 0, s.seg[k].selector = 0;
    if (pm32) {
        s.cr0 |= 1;
        for (int k = 0; k < X86_NSREG; k++)
            s.seg[k] = (struct x86_seg){ .limit = 0xFFFFFFFF, .selector = 0x10, .type = 3,
                                         .present = true, .s = true, .db = true, .g = true };
        s.seg[X86_CS].type = 0xB;
        s.seg[X86_CS].selector = 0x08;
    }
    if (paging) {
        put32(f, 0x10000, 0x11000 | 3);
        for (uint32_t p = 0; p < 1024; p++)
            put32(f, 0x11000 + 4 * p, (p << 12) | 3);
        s.cr0 |= PG_CR0_PG;
        s.cr3 = 0x10000;
    }
    s.rip = 0x1000;
    s.gpr[X86_RSP] = 0x8000;
    emu_reset(&f->cpu, &s);
}

static void done(struct fx *f)
{
    emu_fini(&f->cpu);
    mem_destroy(&f->mem);
}

static uint64_t rnd(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

/* Operands that hit the interesting edges (0, 1, sign bits, all ones). */
static uint64_t operand(uint64_t *x, unsigned size)
{
    static const uint64_t edge[] = { 0, 1, 2, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF,
                                     0x7FFFFFFF, 0x80000000u, 0xFFFFFFFFu,
                                     0x7FFFFFFFFFFFFFFFull, 0x8000000000000000ull, ~0ull };
    uint64_t v = rnd(x) % 3 ? rnd(x) : edge[rnd(x) % (sizeof(edge) / sizeof(edge[0]))];
    return v & size_mask(size);
}

/* emu_cond_fast must agree with emu_cond for every condition after every
 * lazy op, size and operand pair (the handlers record masked operands). */
static void test_cond_fast(void)
{
    static struct emu_cpu c;
    static const uint8_t ops[] = { LF_NONE, LF_ADD, LF_ADC, LF_SUB, LF_SBB, LF_LOGIC, LF_INC,
                                   LF_DEC, LF_NEG };
    static const unsigned sizes[] = { 1, 2, 4, 8 };
    uint64_t x = 0x9E3779B97F4A7C15ull;
    unsigned bad = 0, n = 0;
    for (unsigned k = 0; k < 200000; k++) {
        uint8_t op = ops[rnd(&x) % (sizeof(ops) / sizeof(ops[0]))];
        unsigned sz = sizes[rnd(&x) % 4];
        uint64_t a = operand(&x, sz), b = operand(&x, sz), m = size_mask(sz);
        uint64_t r = op == LF_SUB ? (a - b) & m : op == LF_ADD ? (a + b) & m
                   : op == LF_INC ? (a + 1) & m : op == LF_DEC ? (a - 1) & m : rnd(&x) & m;
        if (op == LF_INC || op == LF_DEC)
            b = 1;
        memset(&c, 0, sizeof(c));
        c.eflags = (uint32_t)rnd(&x) & (F_ARITH | F_IF);
        c.lf.op = op;
        c.lf.size = (uint8_t)sz;
        c.lf.res = r;
        c.lf.a = a;
        c.lf.b = b;
        for (unsigned cc = 0; cc < 16; cc++, n++)
            if (emu_cond_fast(&c, cc) != emu_cond(&c, cc))
                bad++;
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(n, 200000u * 16);
}

/* A block remembers its successor by linear address; after INVLPG maps
 * that page elsewhere the chain must not lead to the old code. */
static void test_chain_invlpg(void)
{
    struct fx f;
    setup(&f, true, true);
    static const uint8_t jmp3000[] = { 0xE9, 0xFB, 0x1F, 0x00, 0x00 };     /* 0x1000: jmp 0x3000 */
    static const uint8_t one[] = { 0xB8, 0x01, 0x00, 0x00, 0x00, 0xF4 };  /* mov eax,1; hlt */
    static const uint8_t two[] = { 0xB8, 0x02, 0x00, 0x00, 0x00, 0xF4 };  /* mov eax,2; hlt */
    /* 0x1200: invlpg [0x3000]; jmp 0x1000 */
    static const uint8_t inv[] = { 0x0F, 0x01, 0x3D, 0x00, 0x30, 0x00, 0x00,
                                   0xE9, 0xF4, 0xFD, 0xFF, 0xFF };
    put(&f, 0x1000, jmp3000, sizeof(jmp3000));
    put(&f, 0x3000, one, sizeof(one));
    put(&f, 0x5000, two, sizeof(two));
    put(&f, 0x1200, inv, sizeof(inv));
    CU_ASSERT_EQUAL(emu_run(&f.cpu, 100), EMU_HLT);
    CU_ASSERT_EQUAL(f.cpu.r[EAX_], 1);
    /* again through the chain: still the same page */
    f.cpu.eip = 0x1000;
    f.cpu.halted = false;
    f.cpu.r[EAX_] = 0;
    /* blocks that did not come through the hash lookup came by chain */
    uint64_t chained = f.cpu.st.blocks_run - f.cpu.st.cache_hits - f.cpu.st.cache_misses;
    CU_ASSERT_EQUAL(emu_run(&f.cpu, 100), EMU_HLT);
    CU_ASSERT_EQUAL(f.cpu.r[EAX_], 1);
    CU_ASSERT(f.cpu.st.blocks_run - f.cpu.st.cache_hits - f.cpu.st.cache_misses > chained);
    /* remap linear 0x3000 -> physical 0x5000, INVLPG, come back through 0x1000 */
    put32(&f, 0x11000 + 3 * 4, 0x5000 | 3);
    f.cpu.eip = 0x1200;
    f.cpu.halted = false;
    CU_ASSERT_EQUAL(emu_run(&f.cpu, 100), EMU_HLT);
    CU_ASSERT_EQUAL(f.cpu.r[EAX_], 2);
    CU_ASSERT_EQUAL(f.cpu.eip, 0x3006);
    done(&f);
}

/* A chained-to block that the guest rewrites is re-decoded. */
static void test_chain_smc(void)
{
    struct fx f;
    setup(&f, true, false);
    static const uint8_t a[] = { 0xE9, 0xFB, 0x00, 0x00, 0x00 };         /* 0x1000: jmp 0x1100 */
    static const uint8_t b[] = { 0xB8, 0x01, 0x00, 0x00, 0x00, 0xF4 };   /* 0x1100: mov eax,1; hlt */
    /* 0x1200: mov byte [0x1101], 5; jmp 0x1000 */
    static const uint8_t w[] = { 0xC6, 0x05, 0x01, 0x11, 0x00, 0x00, 0x05,
                                 0xE9, 0xF4, 0xFD, 0xFF, 0xFF };
    put(&f, 0x1000, a, sizeof(a));
    put(&f, 0x1100, b, sizeof(b));
    put(&f, 0x1200, w, sizeof(w));
    CU_ASSERT_EQUAL(emu_run(&f.cpu, 100), EMU_HLT);
    CU_ASSERT_EQUAL(f.cpu.r[EAX_], 1);
    f.cpu.eip = 0x1200;
    f.cpu.halted = false;
    CU_ASSERT_EQUAL(emu_run(&f.cpu, 100), EMU_HLT);
    CU_ASSERT_EQUAL(f.cpu.r[EAX_], 5);
    done(&f);
}

/* Instructions are counted per block; a fault in the middle of a block
 * still counts exactly the instructions that completed before it. */
static void test_count_across_fault(void)
{
    struct fx f;
    setup(&f, false, false);
    /* IVT[0] -> 0000:3000: hlt.  0x1000: nop; nop; div bl (bl = 0); hlt */
    static const uint8_t code[] = { 0x90, 0x90, 0xF6, 0xF3, 0xF4 };
    static const uint8_t h0[] = { 0xF4 };
    uint32_t vec = 0x3000;
    put(&f, 0, &vec, 4);
    put(&f, 0x3000, h0, 1);
    put(&f, 0x1000, code, sizeof(code));
    f.cpu.r[EBX_] = 0;
    uint64_t before = f.cpu.st.insns;
    CU_ASSERT_EQUAL(emu_run(&f.cpu, 1000), EMU_HLT);
    CU_ASSERT_EQUAL(f.cpu.eip, 0x3001);
    CU_ASSERT_EQUAL(f.cpu.st.insns - before, 3);     /* nop, nop, hlt; the DIV faulted */
    CU_ASSERT_EQUAL(f.cpu.st.exceptions, 1);
    done(&f);
}

/* A block's closing DEC/CMP + Jcc run as one fused slot: results and
 * the instruction count are those of two instructions. */
static void test_fused_jcc(void)
{
    struct fx f;
    setup(&f, true, false);
    static const uint8_t code[] = {
        0xB9, 0x05, 0x00, 0x00, 0x00,   /* 0x1000: mov ecx, 5 */
        0x40,                           /* 0x1005: inc eax */
        0x49,                           /* 0x1006: dec ecx */
        0x75, 0xFC,                     /* 0x1007: jnz 0x1005 */
        0x83, 0xF8, 0x05,               /* 0x1009: cmp eax, 5 */
        0x74, 0x02,                     /* 0x100C: je 0x1010 */
        0xF4, 0xF4,                     /* 0x100E: hlt (not taken) */
        0xF4 };                         /* 0x1010: hlt */
    put(&f, 0x1000, code, sizeof(code));
    f.cpu.r[EAX_] = 0;
    uint64_t before = f.cpu.st.insns;
    CU_ASSERT_EQUAL(emu_run(&f.cpu, 1000), EMU_HLT);
    CU_ASSERT_EQUAL(f.cpu.r[EAX_], 5);
    CU_ASSERT_EQUAL(f.cpu.r[ECX_], 0);
    CU_ASSERT_EQUAL(f.cpu.eip, 0x1011);
    CU_ASSERT_EQUAL(f.cpu.st.insns - before, 1 + 5 * 3 + 2 + 1);
    CU_ASSERT_EQUAL(emu_get_eflags(&f.cpu) & F_ZF, F_ZF);   /* from the CMP */
    done(&f);
}

/* ALU reg, [mem] fast forms: results and flags, CMP leaves the register,
 * and a fused CMP reg,[mem] + Jcc. */
static void test_alu_rm(void)
{
    struct fx f;
    setup(&f, true, false);
    static const uint8_t code[] = {
        0x2B, 0x05, 0x00, 0x20, 0x00, 0x00,     /* 0x1000: sub eax, [0x2000] */
        0x03, 0x1D, 0x04, 0x20, 0x00, 0x00,     /* 0x1006: add ebx, [0x2004] */
        0x3B, 0x0D, 0x00, 0x20, 0x00, 0x00,     /* 0x100C: cmp ecx, [0x2000] */
        0x74, 0x01,                             /* 0x1012: je 0x1015 */
        0xF4,                                   /* 0x1014: hlt (not reached) */
        0xF4 };                                 /* 0x1015: hlt */
    put(&f, 0x1000, code, sizeof(code));
    put32(&f, 0x2000, 7);
    put32(&f, 0x2004, 0x80000000u);
    f.cpu.r[EAX_] = 5;
    f.cpu.r[EBX_] = 0x80000000u;
    f.cpu.r[ECX_] = 7;
    uint64_t before = f.cpu.st.insns;
    CU_ASSERT_EQUAL(emu_run(&f.cpu, 100), EMU_HLT);
    CU_ASSERT_EQUAL(f.cpu.r[EAX_], 0xFFFFFFFEu);
    CU_ASSERT_EQUAL(f.cpu.r[EBX_], 0);                          /* carry out dropped */
    CU_ASSERT_EQUAL(f.cpu.r[ECX_], 7);                          /* CMP writes nothing */
    CU_ASSERT_EQUAL(f.cpu.eip, 0x1016);
    CU_ASSERT_EQUAL(f.cpu.st.insns - before, 5);
    uint32_t fl = emu_get_eflags(&f.cpu);
    CU_ASSERT_EQUAL(fl & (F_ZF | F_CF | F_SF | F_OF), F_ZF);   /* from CMP 7, 7 */
    /* the flags of ADD 0x80000000 + 0x80000000: CF, OF, ZF */
    f.cpu.eip = 0x1006;
    f.cpu.halted = false;
    f.cpu.r[EBX_] = 0x80000000u;
    f.cpu.r[ECX_] = 0;                                          /* CMP 0, 7: not equal */
    CU_ASSERT_EQUAL(emu_run(&f.cpu, 100), EMU_HLT);
    CU_ASSERT_EQUAL(f.cpu.eip, 0x1015);
    fl = emu_get_eflags(&f.cpu);
    CU_ASSERT_EQUAL(fl & (F_ZF | F_CF | F_SF), F_CF | F_SF);    /* 0 - 7: borrow, negative */
    done(&f);
}

/* STI's shadow covers exactly one instruction even when that one opens a
 * fused compare + Jcc: a pending interrupt is taken before the Jcc. */
static void test_shadow_fused(void)
{
    struct fx f;
    setup(&f, false, false);
    atomic_bool line = true;
    f.cpu.env.intr_line = &line;
    /* 0x1000: sti ; 0x1001: cmp ax, ax ; 0x1003: je 0x1010 */
    static const uint8_t code[] = { 0xFB, 0x39, 0xC0, 0x74, 0x0B };
    put(&f, 0x1000, code, sizeof(code));
    /* warm the cache with the [cmp, je] block (fused) from a run without IF */
    f.cpu.eip = 0x1001;
    static const uint8_t hlt = 0xF4;
    put(&f, 0x1010, &hlt, 1);
    CU_ASSERT_EQUAL(emu_run(&f.cpu, 100), EMU_HLT);
    CU_ASSERT_EQUAL(f.cpu.eip, 0x1011);
    f.cpu.eip = 0x1000;
    f.cpu.halted = false;
    uint64_t before = f.cpu.st.insns;
    CU_ASSERT_EQUAL(emu_run(&f.cpu, 100), EMU_IRQ_CHECK);
    CU_ASSERT_EQUAL(f.cpu.eip, 0x1003);               /* after the CMP, before the JE */
    CU_ASSERT_EQUAL(f.cpu.st.insns - before, 2);      /* STI, CMP */
    done(&f);
}

/* Threaded slots (each jumps to the next slot's handler): a store in the
 * middle of a block that rewrites the block's next instruction stops the
 * chain there, and the rewritten instruction runs in its new form. */
static void test_threaded_smc(void)
{
    struct fx f;
    setup(&f, true, false);
    static const uint8_t code[] = {
        0xC6, 0x05, 0x08, 0x10, 0x00, 0x00, 0x05,   /* 0x1000: mov byte [0x1008], 5 */
        0xB8, 0x01, 0x00, 0x00, 0x00,               /* 0x1007: mov eax, 1 */
        0x43,                                       /* 0x100C: inc ebx */
        0x89, 0xC1,                                 /* 0x100D: mov ecx, eax */
        0xF4 };                                     /* 0x100F: hlt */
    put(&f, 0x1000, code, sizeof(code));
    f.cpu.r[EBX_] = 0;
    uint64_t before = f.cpu.st.insns;
    CU_ASSERT_EQUAL(emu_run(&f.cpu, 100), EMU_HLT);
    CU_ASSERT_EQUAL(f.cpu.r[EAX_], 5);
    CU_ASSERT_EQUAL(f.cpu.r[EBX_], 1);
    CU_ASSERT_EQUAL(f.cpu.r[ECX_], 5);
    CU_ASSERT_EQUAL(f.cpu.eip, 0x1010);
    CU_ASSERT_EQUAL(f.cpu.st.insns - before, 5);
    done(&f);
}

/* A fault in the middle of a chain of threaded slots: the instructions
 * before it count and have their effects, none after it run. */
static void test_threaded_fault(void)
{
    struct fx f;
    setup(&f, false, false);
    /* IVT[0] -> 0000:3000: hlt.
     * 0x1000: mov ax, bx; add ax, 1; div cl (cl = 0); mov dx, 7; hlt */
    static const uint8_t code[] = { 0x89, 0xD8, 0x83, 0xC0, 0x01, 0xF6, 0xF1,
                                    0xBA, 0x07, 0x00, 0xF4 };
    static const uint8_t h0[] = { 0xF4 };
    uint32_t vec = 0x3000;
    put(&f, 0, &vec, 4);
    put(&f, 0x3000, h0, 1);
    put(&f, 0x1000, code, sizeof(code));
    f.cpu.r[EBX_] = 0x41;
    f.cpu.r[ECX_] = 0;
    f.cpu.r[EDX_] = 0;
    uint64_t before = f.cpu.st.insns;
    CU_ASSERT_EQUAL(emu_run(&f.cpu, 1000), EMU_HLT);
    CU_ASSERT_EQUAL(f.cpu.eip, 0x3001);
    CU_ASSERT_EQUAL(f.cpu.r[EAX_] & 0xFFFF, 0x42);
    CU_ASSERT_EQUAL(f.cpu.r[EDX_], 0);                 /* never reached */
    CU_ASSERT_EQUAL(f.cpu.st.insns - before, 3);       /* mov, add, hlt */
    /* the pushed return address is the DIV's */
    uint16_t ret;
    memcpy(&ret, f.mem.ram + (f.cpu.r[ESP_] & 0xFFFF), 2);
    CU_ASSERT_EQUAL(ret, 0x1005);
    done(&f);
}

/* STI's shadow covers one instruction also when that one is a threaded
 * slot that would run on to the next by itself. */
static void test_shadow_threaded(void)
{
    struct fx f;
    setup(&f, false, false);
    atomic_bool line = true;
    f.cpu.env.intr_line = &line;
    /* 0x1000: sti ; 0x1001: mov ax, bx ; 0x1003: mov cx, dx ; 0x1005: hlt */
    static const uint8_t code[] = { 0xFB, 0x89, 0xD8, 0x89, 0xD1, 0xF4 };
    put(&f, 0x1000, code, sizeof(code));
    f.cpu.eip = 0x1001;             /* warm the cache with the threaded block */
    CU_ASSERT_EQUAL(emu_run(&f.cpu, 100), EMU_HLT);
    f.cpu.eip = 0x1000;
    f.cpu.halted = false;
    f.cpu.r[EBX_] = 0x1234;
    f.cpu.r[EDX_] = 0x5678;
    f.cpu.r[EAX_] = f.cpu.r[ECX_] = 0;
    uint64_t before = f.cpu.st.insns;
    CU_ASSERT_EQUAL(emu_run(&f.cpu, 100), EMU_IRQ_CHECK);
    CU_ASSERT_EQUAL(f.cpu.eip, 0x1003);               /* after the first MOV only */
    CU_ASSERT_EQUAL(f.cpu.r[EAX_], 0x1234);
    CU_ASSERT_EQUAL(f.cpu.r[ECX_], 0);
    CU_ASSERT_EQUAL(f.cpu.st.insns - before, 2);      /* STI, MOV */
    done(&f);
}

/* The same over threaded forms that skip the stop_block test (register
 * moves, loads, ALU with a register destination): the shadow's one
 * instruction still runs alone, through its unthreaded handler. */
static void test_shadow_threaded_nc(void)
{
    struct fx f;
    setup(&f, true, false);
    atomic_bool line = true;
    f.cpu.env.intr_line = &line;
    /* 0x1000: sti ; mov eax, ebx ; mov ecx, [0x2000] ; add edx, 1 ; hlt */
    static const uint8_t code[] = { 0xFB, 0x89, 0xD8, 0x8B, 0x0D, 0x00, 0x20, 0x00, 0x00,
                                    0x83, 0xC2, 0x01, 0xF4 };
    put(&f, 0x1000, code, sizeof(code));
    put32(&f, 0x2000, 0xCAFE);
    f.cpu.eip = 0x1001;             /* warm the cache with the threaded block */
    CU_ASSERT_EQUAL(emu_run(&f.cpu, 100), EMU_HLT);
    f.cpu.eip = 0x1000;
    f.cpu.halted = false;
    f.cpu.r[EBX_] = 0x1234;
    f.cpu.r[EAX_] = f.cpu.r[ECX_] = f.cpu.r[EDX_] = 0;
    uint64_t before = f.cpu.st.insns;
    CU_ASSERT_EQUAL(emu_run(&f.cpu, 100), EMU_IRQ_CHECK);
    CU_ASSERT_EQUAL(f.cpu.eip, 0x1003);               /* after the first MOV only */
    CU_ASSERT_EQUAL(f.cpu.r[EAX_], 0x1234);
    CU_ASSERT_EQUAL(f.cpu.r[ECX_], 0);
    CU_ASSERT_EQUAL(f.cpu.r[EDX_], 0);
    CU_ASSERT_EQUAL(f.cpu.st.insns - before, 2);      /* STI, MOV */
    /* the rest of the block runs on (no interrupt taken here) */
    line = false;
    CU_ASSERT_EQUAL(emu_run(&f.cpu, 100), EMU_HLT);
    CU_ASSERT_EQUAL(f.cpu.r[ECX_], 0xCAFE);
    CU_ASSERT_EQUAL(f.cpu.r[EDX_], 1);
    CU_ASSERT_EQUAL(f.cpu.st.insns - before, 5);
    done(&f);
}

/* 64-bit mode, CPL0, paging off (the walker maps linear = physical): a
 * GDT at 0x500 (null, 64-bit code 0x08, data 0x10) and an IDT at 0x600
 * whose #SS and #GP gates lead to a HLT at 0x3000 + vector. */
static void setup64(struct fx *f)
{
    setup(f, true, false);
    static const uint64_t gdt[] = { 0, 0x00209A0000000000ull, 0x00CF92000000FFFFull };
    put(f, 0x500, gdt, sizeof(gdt));
    for (unsigned v = EXC_SS; v <= EXC_GP; v++) {
        uint32_t off = 0x3000 + v;
        uint32_t gate[4] = { 0x00080000u | (off & 0xFFFF), (off & 0xFFFF0000u) | 0x8E00u, 0, 0 };
        put(f, 0x600 + 16 * v, gate, sizeof(gate));
        static const uint8_t hlt = 0xF4;
        put(f, off, &hlt, 1);
    }
    struct x86_state s;
    emu_get_state(&f->cpu, &s);
    s.cr4 |= 0x20;
    s.efer = (1u << 8) | (1u << 10);
    s.seg[X86_CS] = (struct x86_seg){ .limit = 0xFFFFFFFF, .selector = 0x08, .type = 0xB,
                                      .present = true, .s = true, .l = true, .g = true };
    s.gdt = (struct x86_dtable){ 0x500, sizeof(gdt) - 1 };
    s.idt = (struct x86_dtable){ 0x600, 16 * 14 - 1 };
    emu_set_state(&f->cpu, &s);
}

/* The 64-bit mode memory moves (base / base + index forms): values, sizes
 * and extension, and a non-canonical address faults (#GP, #SS through
 * RSP/RBP) on that instruction after the ones before it completed. */
static void test_mem64_forms(void)
{
    static const uint8_t code[] = {
        0x48, 0x8B, 0x43, 0x08,                 /* 0x1000: mov rax, [rbx+8] */
        0x0F, 0xB6, 0x4C, 0x73, 0x01,           /* 0x1004: movzx ecx, byte [rbx+rsi*2+1] */
        0x89, 0x44, 0xB3, 0x10,                 /* 0x1009: mov [rbx+rsi*4+0x10], eax */
        0x48, 0x0F, 0xBF, 0x13,                 /* 0x100D: movsx rdx, word [rbx] */
        0x66, 0xC7, 0x43, 0x20, 0x34, 0x12,     /* 0x1011: mov word [rbx+0x20], 0x1234 */
        0x4C, 0x8B, 0x07,                       /* 0x1017: mov r8, [rdi] */
        0xF4 };                                 /* 0x101A: hlt */
    for (int pass = 0; pass < 3; pass++) {
        struct fx f;
        setup64(&f);
        put(&f, 0x1000, code, sizeof(code));
        static const uint8_t data[] = { 0x80, 0xFF, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
                                        0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x88 };
        put(&f, 0x2000, data, sizeof(data));
        f.cpu.r[EBX_] = 0x2000;
        f.cpu.r[ESI_] = 1;
        f.cpu.r[EDX_] = 0;
        f.cpu.r[8] = 0x55;
        /* pass 0: a canonical RDI (runs through); 1: non-canonical (#GP);
         * 2: the last load through RBP instead, non-canonical (#SS) */
        f.cpu.r[EDI_] = pass == 0 ? 0x2000 : 0x0000800000000000ull;
        if (pass == 2) {
            f.mem.ram[0x1019] = 0x45;           /* mov r8, [rbp+0] */
            f.mem.ram[0x101A] = 0x00;
            f.mem.ram[0x101B] = 0xF4;
            f.cpu.r[EBP_] = 0xFFFF7FFFFFFFFFF0ull;
        }
        uint64_t before = f.cpu.st.insns;
        CU_ASSERT_EQUAL(emu_run(&f.cpu, 100), EMU_HLT);
        CU_ASSERT_EQUAL(f.cpu.r[EAX_], 0x8807060504030201ull);
        CU_ASSERT_EQUAL(f.cpu.r[ECX_], 0x44);                     /* [0x2003] */
        uint32_t st;
        memcpy(&st, f.mem.ram + 0x2014, 4);
        CU_ASSERT_EQUAL(st, 0x04030201u);
        CU_ASSERT_EQUAL(f.cpu.r[EDX_], 0xFFFFFFFFFFFFFF80ull);   /* sign-extended 0xFF80 */
        uint16_t w;
        memcpy(&w, f.mem.ram + 0x2020, 2);
        CU_ASSERT_EQUAL(w, 0x1234);
        if (pass == 0) {
            CU_ASSERT_EQUAL(f.cpu.r[8], 0x887766554433FF80ull);
            CU_ASSERT_EQUAL(f.cpu.rip, 0x101B);
            CU_ASSERT_EQUAL(f.cpu.st.insns - before, 7);
        } else {
            CU_ASSERT_EQUAL(f.cpu.r[8], 0x55);                    /* the load never happened */
            CU_ASSERT_EQUAL(f.cpu.rip, 0x3001 + (pass == 1 ? EXC_GP : EXC_SS));
            CU_ASSERT_EQUAL(f.cpu.st.insns - before, 6);          /* 5 moves + the HLT */
            uint64_t ret;
            memcpy(&ret, f.mem.ram + f.cpu.r[ESP_] + 8, 8);       /* above the error code */
            CU_ASSERT_EQUAL(ret, 0x1017);
        }
        done(&f);
    }
}

/* 64-bit mode LEA forms (base, base + index) truncate to the operand
 * size like any register write: 16-bit merges, 32-bit zero-extends; a
 * non-canonical result is no fault (nothing is accessed). */
static void test_lea64_forms(void)
{
    struct fx f;
    setup64(&f);
    static const uint8_t code[] = {
        0x48, 0x8D, 0x44, 0xF3, 0x10,   /* 0x1000: lea rax, [rbx+rsi*8+0x10] */
        0x8D, 0x4B, 0xFF,               /* 0x1005: lea ecx, [rbx-1] */
        0x66, 0x8D, 0x14, 0x33,         /* 0x1008: lea dx, [rbx+rsi] */
        0x48, 0x8D, 0x7D, 0x00,         /* 0x100C: lea rdi, [rbp+0] */
        0xF4 };                         /* 0x1010: hlt */
    put(&f, 0x1000, code, sizeof(code));
    f.cpu.r[EBX_] = 0x0000000100000000ull;
    f.cpu.r[ESI_] = 0x20;
    f.cpu.r[EDX_] = 0xAAAAAAAAAAAAAAAAull;
    f.cpu.r[EBP_] = 0x0000800000000000ull;
    CU_ASSERT_EQUAL(emu_run(&f.cpu, 100), EMU_HLT);
    CU_ASSERT_EQUAL(f.cpu.r[EAX_], 0x0000000100000110ull);
    CU_ASSERT_EQUAL(f.cpu.r[ECX_], 0xFFFFFFFFu);
    CU_ASSERT_EQUAL(f.cpu.r[EDX_], 0xAAAAAAAAAAAA0020ull);
    CU_ASSERT_EQUAL(f.cpu.r[EDI_], 0x0000800000000000ull);
    CU_ASSERT_EQUAL(f.cpu.rip, 0x1011);
    done(&f);
}

/* TEST r,r (fused with a Jcc), CMOVcc r,r taken and not (a 32-bit one
 * zero-extends either way) and the 64-bit mode ALU reg,[mem] forms,
 * whose non-canonical address is #GP on that instruction. */
static void test_rr_and_rm64_forms(void)
{
    static const uint8_t code[] = {
        0x48, 0x85, 0xC9,               /* 0x1000: test rcx, rcx */
        0x0F, 0x44, 0xC2,               /* 0x1003: cmove eax, edx */
        0x4D, 0x0F, 0x45, 0xC1,         /* 0x1006: cmovne r8, r9 */
        0x45, 0x0F, 0x45, 0xD3,         /* 0x100A: cmovne r10d, r11d */
        0x33, 0x04, 0xB3,               /* 0x100E: xor eax, [rbx+rsi*4] */
        0x48, 0x3B, 0x0B,               /* 0x1011: cmp rcx, [rbx] */
        0x85, 0xC0,                     /* 0x1014: test eax, eax */
        0x74, 0x01,                     /* 0x1016: je 0x1019 */
        0xF4,                           /* 0x1018: hlt */
        0xF4 };                         /* 0x1019: hlt */
    for (int pass = 0; pass < 3; pass++) {
        struct fx f;
        setup64(&f);
        put(&f, 0x1000, code, sizeof(code));
        put32(&f, 0x2004, pass == 1 ? 0x11223345u : 0x11223344u);
        f.cpu.r[EAX_] = ~0ull;
        f.cpu.r[ECX_] = 0;
        f.cpu.r[EDX_] = 0xFFFFFFFF11223344ull;
        f.cpu.r[EBX_] = pass == 2 ? 0x0000800000000000ull : 0x2000;
        f.cpu.r[ESI_] = 1;
        f.cpu.r[8] = 0x8888888888888888ull;
        f.cpu.r[9] = 1;
        f.cpu.r[10] = 0xAAAAAAAAAAAAAAAAull;
        f.cpu.r[11] = 5;
        uint64_t before = f.cpu.st.insns;
        CU_ASSERT_EQUAL(emu_run(&f.cpu, 100), EMU_HLT);
        CU_ASSERT_EQUAL(f.cpu.r[8], 0x8888888888888888ull);
        CU_ASSERT_EQUAL(f.cpu.r[10], 0xAAAAAAAAu);
        if (pass == 2) {
            CU_ASSERT_EQUAL(f.cpu.r[EAX_], 0x11223344u);
            CU_ASSERT_EQUAL(f.cpu.rip, 0x3001 + EXC_GP);
            CU_ASSERT_EQUAL(f.cpu.st.insns - before, 5);
        } else {
            CU_ASSERT_EQUAL(f.cpu.r[EAX_], pass == 0 ? 0 : 1);
            CU_ASSERT_EQUAL(f.cpu.rip, pass == 0 ? 0x101A : 0x1019);
            CU_ASSERT_EQUAL(f.cpu.st.insns - before, 9);
            CU_ASSERT_EQUAL(emu_get_eflags(&f.cpu) & F_ZF, pass == 0 ? F_ZF : 0);
        }
        done(&f);
    }
}

/* CMP r8, imm8, MOVZX r32/r64, r8/r16 and MOVSXD r64, r32 fast forms
 * (threaded before a HLT) against the generic handlers (h_alu, h_movx)
 * on the same decoded instruction: every register and the flags; then
 * CMP AH, imm8 fused with a JB. */
static void test_byte_cmp_movx_forms(void)
{
    static const struct { uint8_t len, b[4]; bool alu; } ins[] = {
        { 3, { 0x80, 0xFC, 0x7F }, true },          /* cmp ah, 0x7f */
        { 2, { 0x3C, 0x80 }, true },                /* cmp al, 0x80 */
        { 4, { 0x40, 0x80, 0xFE, 0x05 }, true },    /* cmp sil, 5 */
        { 4, { 0x41, 0x80, 0xF8, 0xFF }, true },    /* cmp r8b, 0xff */
        { 3, { 0x0F, 0xB6, 0xC4 }, false },         /* movzx eax, ah */
        { 3, { 0x0F, 0xB6, 0xC3 }, false },         /* movzx eax, bl */
        { 4, { 0x48, 0x0F, 0xB6, 0xFB }, false },   /* movzx rdi, bl */
        { 3, { 0x0F, 0xB7, 0xC3 }, false },         /* movzx eax, bx */
        { 4, { 0x4C, 0x0F, 0xB7, 0xCB }, false },   /* movzx r9, bx */
        { 3, { 0x48, 0x63, 0xC3 }, false },         /* movsxd rax, ebx */
        { 3, { 0x4D, 0x63, 0xC8 }, false } };       /* movsxd r9, r8d */
    struct emu_decoder *d = emu_decoder_new();
    CU_ASSERT_FATAL(d != NULL);
    struct fx f;
    setup64(&f);
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (unsigned o = 0; o < sizeof(ins) / sizeof(ins[0]); o++) {
        uint64_t at = 0x1000 + 16 * o;
        uint8_t code[5];
        memcpy(code, ins[o].b, ins[o].len);
        code[ins[o].len] = 0xF4;                                    /* hlt */
        put(&f, (uint32_t)at, code, ins[o].len + 1u);
        struct emu_insn in;
        CU_ASSERT_FATAL(emu_decode(d, code, ins[o].len, at, 2, &in) == ins[o].len);
        CU_ASSERT(in.fn != h_alu && in.fn != h_movx);              /* a fast form was picked */
        in.fn = ins[o].alu ? h_alu : h_movx;
        for (unsigned t = 0; t < 300; t++) {
            uint64_t r0[16];
            for (unsigned k = 0; k < 16; k++)
                r0[k] = operand(&x, 8);
            r0[ESP_] = 0x8000;
            uint32_t fl0 = (uint32_t)(rnd(&x) & (F_CF | F_PF | F_AF | F_ZF | F_SF | F_OF)) | 2;
            memcpy(f.cpu.r, r0, sizeof(r0));
            f.cpu.rip = at;
            f.cpu.halted = false;
            f.cpu.eflags = fl0;
            f.cpu.lf.op = LF_NONE;
            CU_ASSERT_EQUAL_FATAL(emu_run(&f.cpu, 10), EMU_HLT);
            uint64_t fast[16];
            memcpy(fast, f.cpu.r, sizeof(fast));
            uint32_t fast_fl = emu_get_eflags(&f.cpu);
            CU_ASSERT_EQUAL(f.cpu.rip, at + ins[o].len + 1);
            memcpy(f.cpu.r, r0, sizeof(r0));
            f.cpu.rip = at;
            f.cpu.eflags = fl0;
            f.cpu.lf.op = LF_NONE;
            in.fn(&f.cpu, &in);
            CU_ASSERT(memcmp(fast, f.cpu.r, sizeof(fast)) == 0);
            CU_ASSERT_EQUAL(fast_fl, emu_get_eflags(&f.cpu));
            CU_ASSERT_EQUAL(f.cpu.rip, at + ins[o].len);
        }
    }
    /* cmp ah, 0x7f + jb (fused): taken exactly when AH < 0x7F unsigned */
    static const uint8_t br[] = { 0x80, 0xFC, 0x7F, 0x72, 0x01, 0xF4, 0xF4 };
    put(&f, 0x1800, br, sizeof(br));
    for (unsigned ah = 0; ah < 256; ah += 3) {
        f.cpu.rip = 0x1800;
        f.cpu.halted = false;
        f.cpu.r[EAX_] = 0xFFFF0000u | ah << 8 | 0x7F;
        uint64_t before = f.cpu.st.insns;
        CU_ASSERT_EQUAL_FATAL(emu_run(&f.cpu, 10), EMU_HLT);
        CU_ASSERT_EQUAL(f.cpu.rip, ah < 0x7F ? 0x1807u : 0x1806u);
        CU_ASSERT_EQUAL(f.cpu.st.insns - before, 3);
        CU_ASSERT_EQUAL(!!(emu_get_eflags(&f.cpu) & F_ZF), ah == 0x7F);
    }
    done(&f);
    emu_decoder_free(d);
}

void suite_emul_perf(void)
{
    CU_pSuite s = CU_add_suite("emul_perf", NULL, NULL);
    CU_add_test(s, "inline conditions agree with emu_cond", test_cond_fast);
    CU_add_test(s, "block chain dropped by INVLPG", test_chain_invlpg);
    CU_add_test(s, "block chain to rewritten code", test_chain_smc);
    CU_add_test(s, "instruction count across a mid-block fault", test_count_across_fault);
    CU_add_test(s, "fused compare + Jcc", test_fused_jcc);
    CU_add_test(s, "ALU reg, [mem] fast forms", test_alu_rm);
    CU_add_test(s, "STI shadow before a fused compare + Jcc", test_shadow_fused);
    CU_add_test(s, "threaded slots stop at a store to the next instruction", test_threaded_smc);
    CU_add_test(s, "fault in a chain of threaded slots", test_threaded_fault);
    CU_add_test(s, "STI shadow over a threaded slot", test_shadow_threaded);
    CU_add_test(s, "STI shadow over threaded register/load slots", test_shadow_threaded_nc);
    CU_add_test(s, "64-bit mode memory move forms", test_mem64_forms);
    CU_add_test(s, "64-bit mode LEA forms", test_lea64_forms);
    CU_add_test(s, "TEST/CMOVcc r,r and 64-bit mode ALU reg,[mem] forms", test_rr_and_rm64_forms);
    CU_add_test(s, "CMP r8,imm and MOVZX/MOVSXD r,r forms vs h_alu/h_movx", test_byte_cmp_movx_forms);
}
