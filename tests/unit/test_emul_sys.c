/* Emulator system behaviour through emu_run(): real-mode interrupts via
 * the IVT, self-modifying code, triple fault, and a hot-loop MIPS figure. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "emu_harness.h"

static void test_real_int(void)
{
    struct emu_h f;
    emu_h_setup(&f, false);
    /* IVT[0x21] -> 0000:2000: mov ax,0x1234; iret.  Main: int 0x21; hlt */
    static const uint8_t handler[] = { 0xB8, 0x34, 0x12, 0xCF };
    static const uint8_t code[] = { 0xCD, 0x21, 0xF4 };
    uint32_t vec = 0x2000;
    emu_h_put(&f, 0x21 * 4, &vec, 4);
    emu_h_put(&f, 0x2000, handler, sizeof(handler));
    emu_h_put(&f, 0x1000, code, sizeof(code));
    CU_ASSERT_EQUAL(emu_run(&f.cpu, 1000), EMU_HLT);
    CU_ASSERT_EQUAL(f.cpu.r[EAX_] & 0xFFFF, 0x1234);
    CU_ASSERT_EQUAL(f.cpu.eip, 0x1003);
    CU_ASSERT_EQUAL(f.cpu.r[ESP_], 0x8000);
    /* #DE in real mode goes through IVT[0] with IP of the faulting insn */
    static const uint8_t de[] = { 0xF6, 0xF3 };      /* div bl (bl = 0) */
    static const uint8_t h0[] = { 0xF4 };
    vec = 0x3000;
    emu_h_put(&f, 0, &vec, 4);
    emu_h_put(&f, 0x3000, h0, 1);
    emu_h_put(&f, 0x1100, de, 2);
    f.cpu.eip = 0x1100;
    f.cpu.halted = false;
    f.cpu.r[EBX_] = 0;
    CU_ASSERT_EQUAL(emu_run(&f.cpu, 1000), EMU_HLT);
    CU_ASSERT_EQUAL(f.cpu.eip, 0x3001);
    uint16_t ip;
    memcpy(&ip, f.mem.ram + f.cpu.r[ESP_], 2);
    CU_ASSERT_EQUAL(ip, 0x1100);
    emu_h_done(&f);
}

static void test_smc(void)
{
    struct emu_h f;
    emu_h_setup(&f, true);
    /* mov byte [0x100B], 0x42 ; mov eax, 0x11111111 (imm patched) ; hlt
     * The store hits the same block's next instruction. */
    static const uint8_t code[] = { 0xC6, 0x05, 0x0B, 0x10, 0x00, 0x00, 0x42,
                                    0xB8, 0x11, 0x11, 0x11, 0x11, 0xF4 };
    emu_h_put(&f, 0x1000, code, sizeof(code));
    CU_ASSERT_EQUAL(emu_run(&f.cpu, 100), EMU_HLT);
    CU_ASSERT_EQUAL(f.cpu.r[EAX_], 0x42111111u);     /* byte 0x100B = top imm byte */
    CU_ASSERT(f.cpu.st.smc_invalidations >= 1);
    /* run again from the start: DMA-style overwrite through mem_write +
     * the notifier is simulated with emu_ram_written */
    f.cpu.eip = 0x1000;
    f.cpu.halted = false;
    static const uint8_t nop_mov[] = { 0xB8, 0x77, 0x77, 0x77, 0x77, 0xF4 };
    emu_h_put(&f, 0x1000, nop_mov, sizeof(nop_mov));
    emu_ram_written(&f.cpu, 0x1000, sizeof(nop_mov));
    CU_ASSERT_EQUAL(emu_run(&f.cpu, 100), EMU_HLT);
    CU_ASSERT_EQUAL(f.cpu.r[EAX_], 0x77777777u);
    emu_h_done(&f);
}

/* Writes into a page that holds decoded code: only blocks they overlap
 * are dropped, and after one block of the page is dropped the others stay
 * protected (the per-page chunk mask is recomputed, not cleared). */
static void test_smc_mixed_page(void)
{
    struct emu_h f;
    emu_h_setup(&f, true);
    static const uint8_t a[] = { 0xEB, 0x3E };                          /* 0x1000: jmp 0x1040 */
    static const uint8_t b[] = { 0xB8, 0x11, 0x11, 0x11, 0x11, 0xF4 };  /* 0x1040: mov eax,..; hlt */
    emu_h_put(&f, 0x1000, a, sizeof(a));
    emu_h_put(&f, 0x1040, b, sizeof(b));
    CU_ASSERT_EQUAL(emu_run(&f.cpu, 100), EMU_HLT);
    CU_ASSERT_EQUAL(f.cpu.r[EAX_], 0x11111111u);
    uint64_t decoded = f.cpu.st.blocks_decoded;
    /* data writes next to the code (same page, other chunks): nothing dropped */
    static const uint8_t data_wr[] = { 0xC7, 0x05, 0x00, 0x18, 0x00, 0x00, 1, 2, 3, 4 };
    f.cpu.eip = 0x5000;
    CU_ASSERT_EQUAL(emu_step_bytes(&f.cpu, data_wr, sizeof(data_wr)), 0);
    CU_ASSERT_EQUAL(f.cpu.st.smc_invalidations, 0);
    /* a write into block A drops A only */
    static const uint8_t wr_a[] = { 0xC6, 0x05, 0x01, 0x10, 0x00, 0x00, 0x3E };
    CU_ASSERT_EQUAL(emu_step_bytes(&f.cpu, wr_a, sizeof(wr_a)), 0);
    CU_ASSERT_EQUAL(f.cpu.st.smc_invalidations, 1);
    /* block B must still be protected: patch its immediate */
    static const uint8_t wr_b[] = { 0xC6, 0x05, 0x44, 0x10, 0x00, 0x00, 0x22 };
    CU_ASSERT_EQUAL(emu_step_bytes(&f.cpu, wr_b, sizeof(wr_b)), 0);
    CU_ASSERT_EQUAL(f.cpu.st.smc_invalidations, 2);
    f.cpu.eip = 0x1000;
    f.cpu.halted = false;
    CU_ASSERT_EQUAL(emu_run(&f.cpu, 100), EMU_HLT);
    CU_ASSERT_EQUAL(f.cpu.r[EAX_], 0x22111111u);
    CU_ASSERT_EQUAL(f.cpu.st.blocks_decoded, decoded + 2);
    emu_h_done(&f);
}

static void test_triple_fault(void)
{
    struct emu_h f;
    emu_h_setup(&f, true);
    /* Empty IDT: #UD -> #GP (IDT limit) -> #DF -> shutdown */
    static const uint8_t ud2[] = { 0x0F, 0x0B };
    emu_h_put(&f, 0x1000, ud2, 2);
    f.cpu.idt.limit = 0;
    CU_ASSERT_EQUAL(emu_run(&f.cpu, 100), EMU_SHUTDOWN);
    CU_ASSERT(f.cpu.shutdown);
    emu_h_done(&f);
}

/* Real mode checks limits, never access rights: ISOLINUX stores through
 * CS ("mov [cs:0x3008], sp") while the CS cache holds a code type (reset
 * state, or after a return from protected mode).  Protected mode with the
 * same cache must refuse the write. */
static void test_real_cs_write(void)
{
    struct emu_h f;
    emu_h_setup(&f, false);
    CU_ASSERT_EQUAL(f.cpu.seg[CS_].type & 8, 8);
    static const uint8_t code[] = { 0x2E, 0x89, 0x26, 0x08, 0x30, 0xF4 };
    emu_h_put(&f, 0x1000, code, sizeof(code));
    CU_ASSERT_EQUAL(emu_run(&f.cpu, 100), EMU_HLT);
    CU_ASSERT_EQUAL(f.cpu.st.exceptions, 0);
    uint16_t v;
    memcpy(&v, f.mem.ram + 0x3008, 2);
    CU_ASSERT_EQUAL(v, 0x8000);
    /* PE on, PE off (mov cr0, eax): the write through CS works again */
    static const uint8_t mov_cr0[] = { 0x0F, 0x22, 0xC0 };
    static const uint8_t cs_write[] = { 0x2E, 0x89, 0x1E, 0x0A, 0x30 };  /* mov [cs:0x300a], bx */
    f.cpu.r[EAX_] = 0x11;
    CU_ASSERT_EQUAL(emu_step_bytes(&f.cpu, mov_cr0, 3), 0);
    f.cpu.r[EAX_] = 0x10;
    CU_ASSERT_EQUAL(emu_step_bytes(&f.cpu, mov_cr0, 3), 0);
    f.cpu.r[EBX_] = 0xBEEF;
    CU_ASSERT_EQUAL(emu_step_bytes(&f.cpu, cs_write, sizeof(cs_write)), 0);
    memcpy(&v, f.mem.ram + 0x300A, 2);
    CU_ASSERT_EQUAL(v, 0xBEEF);
    /* protected mode: CS is a code segment, not writable -> #GP */
    f.cpu.r[EAX_] = 0x11;
    CU_ASSERT_EQUAL(emu_step_bytes(&f.cpu, mov_cr0, 3), 0);
    f.cpu.idt.limit = 0;
    f.cpu.r[EBX_] = 0x1111;
    CU_ASSERT_EQUAL(emu_step_bytes(&f.cpu, cs_write, sizeof(cs_write)), EXC_GP + 1);
    memcpy(&v, f.mem.ram + 0x300A, 2);
    CU_ASSERT_EQUAL(v, 0xBEEF);
    emu_h_done(&f);
}

/* Runs one instruction expecting exception vec; delivery into the empty
 * IDT shuts down, which we clear: only the vector matters here. */
static void expect_exc(struct emu_h *f, const uint8_t *b, unsigned n, int vec)
{
    uint32_t eip = f->cpu.eip;
    CU_ASSERT_EQUAL(emu_step_bytes(&f->cpu, b, n), vec + 1);
    f->cpu.shutdown = false;
    f->cpu.eip = eip;
}

/* FXSAVE/FXRSTOR (iPXE's librm uses them around every real-mode call):
 * image layout, alignment, MXCSR reserved bits, CR0.EM/TS; CPUID says FXSR
 * and CR4.OSFXSR can be set. */
static void test_fxsr(void)
{
    struct emu_h f;
    emu_h_setup(&f, true);
    f.cpu.idt.limit = 0;
    memset(f.mem.ram + 0x2000, 0xAA, 512);
    static const uint8_t fninit[] = { 0xDB, 0xE3 };
    static const uint8_t fxsave[] = { 0x0F, 0xAE, 0x05, 0x00, 0x20, 0x00, 0x00 };
    static const uint8_t fxsave_odd[] = { 0x0F, 0xAE, 0x05, 0x08, 0x20, 0x00, 0x00 };
    static const uint8_t fxrstor[] = { 0x0F, 0xAE, 0x0D, 0x00, 0x24, 0x00, 0x00 };
    static const uint8_t fnstcw[] = { 0xD9, 0x3D, 0x00, 0x30, 0x00, 0x00 };
    CU_ASSERT_EQUAL(emu_step_bytes(&f.cpu, fninit, 2), 0);
    CU_ASSERT_EQUAL(emu_step_bytes(&f.cpu, fxsave, sizeof(fxsave)), 0);
    uint8_t *img = f.mem.ram + 0x2000;
    uint32_t w;
    memcpy(&w, img, 4);
    CU_ASSERT_EQUAL(w, 0x037F);                 /* FCW 37F, FSW 0 */
    memcpy(&w, img + 24, 4);
    CU_ASSERT_EQUAL(w, 0x1F80);                 /* MXCSR */
    memcpy(&w, img + 28, 4);
    CU_ASSERT_EQUAL(w, 0xFFFF);                 /* MXCSR_MASK: DAZ supported */
    CU_ASSERT_EQUAL(img[4], 0);                 /* all tags empty */
    CU_ASSERT_EQUAL(img[32], 0);                /* ST0 */
    CU_ASSERT_EQUAL(img[287], 0);
    CU_ASSERT_EQUAL(img[288], 0xAA);            /* beyond the 32-bit image: untouched */
    expect_exc(&f, fxsave_odd, sizeof(fxsave_odd), EXC_GP);
    CU_ASSERT_EQUAL(f.mem.ram[0x2008 + 287], 0xAA);
    /* FXRSTOR loads FCW/FSW/MXCSR */
    uint8_t src[512] = { 0 };
    src[0] = 0x7F; src[1] = 0x02;               /* FCW 027F */
    src[24] = 0x80; src[25] = 0x1F;
    memcpy(f.mem.ram + 0x2400, src, sizeof(src));
    CU_ASSERT_EQUAL(emu_step_bytes(&f.cpu, fxrstor, sizeof(fxrstor)), 0);
    CU_ASSERT_EQUAL(emu_step_bytes(&f.cpu, fnstcw, sizeof(fnstcw)), 0);
    CU_ASSERT_EQUAL(f.mem.ram[0x3000] | f.mem.ram[0x3001] << 8, 0x027F);
    /* a reserved MXCSR bit: #GP, nothing loaded */
    f.mem.ram[0x2400 + 26] = 0x01;              /* bit 16 */
    f.mem.ram[0x2400] = 0x7F; f.mem.ram[0x2401] = 0x03;
    expect_exc(&f, fxrstor, sizeof(fxrstor), EXC_GP);
    CU_ASSERT_EQUAL(f.cpu.fpu.cw, 0x027F);
    /* CR0.EM: #UD; CR0.TS: #NM */
    f.cpu.cr0 |= 4;
    expect_exc(&f, fxsave, sizeof(fxsave), EXC_UD);
    f.cpu.cr0 = (f.cpu.cr0 & ~4u) | 8;
    expect_exc(&f, fxsave, sizeof(fxsave), EXC_NM);
    f.cpu.cr0 &= ~8u;
    /* CPUID.1:EDX.FXSR and CR4.OSFXSR */
    static const uint8_t cpuid[] = { 0x0F, 0xA2 };
    static const uint8_t mov_cr4[] = { 0x0F, 0x22, 0xE0 };
    f.cpu.r[EAX_] = 1;
    CU_ASSERT_EQUAL(emu_step_bytes(&f.cpu, cpuid, 2), 0);
    CU_ASSERT(f.cpu.r[EDX_] & (1u << 24));
    CU_ASSERT(f.cpu.r[EDX_] & (1u << 25));          /* SSE */
    CU_ASSERT(f.cpu.r[EDX_] & (1u << 26));          /* SSE2 */
    CU_ASSERT_FALSE(f.cpu.r[EDX_] & (1u << 9));     /* no APIC */
    f.cpu.r[EAX_] = 0x200;
    CU_ASSERT_EQUAL(emu_step_bytes(&f.cpu, mov_cr4, 3), 0);
    CU_ASSERT_EQUAL(f.cpu.cr4, 0x200);
    emu_h_done(&f);
}

/* emu_step() (the KVM assist's engine): exactly one instruction from
 * memory, nothing cached (memory changed without notice between steps is
 * seen), faults delivered and reported as vector + 1. */
static void test_step(void)
{
    struct emu_h f;
    emu_h_setup(&f, false);
    /* IVT[6] (#UD) -> 0000:3000 */
    uint32_t vec = 0x3000;
    emu_h_put(&f, 6 * 4, &vec, 4);
    static const uint8_t two[] = { 0x40, 0x40 };        /* inc ax; inc ax */
    emu_h_put(&f, 0x1000, two, 2);
    f.cpu.r[EAX_] = 0;
    CU_ASSERT_EQUAL(emu_step(&f.cpu), 0);
    CU_ASSERT_EQUAL(f.cpu.r[EAX_], 1);                  /* one instruction, not the block */
    CU_ASSERT_EQUAL(f.cpu.eip, 0x1001);
    /* rewrite the next instruction behind the emulator's back */
    static const uint8_t bswap[] = { 0x66, 0x0F, 0xC8 }; /* bswap eax */
    emu_h_put(&f, 0x1001, bswap, 3);
    f.cpu.r[EAX_] = 0x11223344;
    CU_ASSERT_EQUAL(emu_step(&f.cpu), 0);
    CU_ASSERT_EQUAL(f.cpu.r[EAX_], 0x44332211u);
    CU_ASSERT_EQUAL(f.cpu.eip, 0x1004);
    /* a fault is delivered: ud2 -> IVT[6] */
    static const uint8_t ud2[] = { 0x0F, 0x0B };
    emu_h_put(&f, 0x1004, ud2, 2);
    CU_ASSERT_EQUAL(emu_step(&f.cpu), EXC_UD + 1);
    CU_ASSERT_EQUAL(f.cpu.eip, 0x3000);
    uint16_t ip;
    memcpy(&ip, f.mem.ram + f.cpu.r[ESP_], 2);
    CU_ASSERT_EQUAL(ip, 0x1004);
    CU_ASSERT_EQUAL(f.cpu.st.blocks_decoded, 0);
    /* 32-bit protected mode IRETD to the same privilege (the instruction
     * our hosts' KVM stops on in ISOLINUX) */
    emu_h_done(&f);
    emu_h_setup(&f, true);
    static const uint8_t iretd[] = { 0xCF };
    emu_h_put(&f, 0x1000, iretd, 1);
    uint32_t frame[3] = { 0x2345, 0x08, 0x246 };
    emu_h_put(&f, 0x7000, frame, sizeof(frame));
    f.cpu.r[ESP_] = 0x7000;
    /* GDT with the flat code (0x08) and data (0x10) descriptors */
    static const uint32_t gdt[6] = { 0, 0, 0x0000FFFF, 0x00CF9A00, 0x0000FFFF, 0x00CF9200 };
    emu_h_put(&f, 0x500, gdt, sizeof(gdt));
    f.cpu.gdt.base = 0x500;
    f.cpu.gdt.limit = sizeof(gdt) - 1;
    CU_ASSERT_EQUAL(emu_step(&f.cpu), 0);
    CU_ASSERT_EQUAL(f.cpu.eip, 0x2345);
    CU_ASSERT_EQUAL(f.cpu.r[ESP_], 0x700C);
    CU_ASSERT_EQUAL(emu_get_eflags(&f.cpu), 0x246);
    /* a triple fault: -1 */
    static const uint8_t ud2b[] = { 0x0F, 0x0B };
    emu_h_put(&f, 0x2345, ud2b, 2);
    f.cpu.idt.limit = 0;
    CU_ASSERT_EQUAL(emu_step(&f.cpu), -1);
    CU_ASSERT(f.cpu.shutdown);
    emu_h_done(&f);
}

/* Bugs found by the system test guests and by Linux's user space. */
static void test_wbinvd_msr_cpuid(void)
{
    struct emu_h f;
    emu_h_setup(&f, true);
    static const uint8_t wbinvd[] = { 0x0F, 0x09 }, invd[] = { 0x0F, 0x08 };
    static const uint8_t rdmsr[] = { 0x0F, 0x32 }, wrmsr[] = { 0x0F, 0x30 };
    static const uint8_t cpuid[] = { 0x0F, 0xA2 };
    CU_ASSERT_EQUAL(emu_step_bytes(&f.cpu, wbinvd, 2), 0);
    f.cpu.cpl = 3;
    expect_exc(&f, wbinvd, 2, EXC_GP);
    expect_exc(&f, invd, 2, EXC_GP);
    f.cpu.cpl = 0;
    /* IA32_BIOS_SIGN_ID: Linux writes 0, runs CPUID 1 and reads it back */
    f.cpu.r[ECX_] = 0x8B;
    f.cpu.r[EAX_] = f.cpu.r[EDX_] = 0;
    CU_ASSERT_EQUAL(emu_step_bytes(&f.cpu, wrmsr, 2), 0);
    f.cpu.r[EAX_] = f.cpu.r[EDX_] = 0x55;
    CU_ASSERT_EQUAL(emu_step_bytes(&f.cpu, rdmsr, 2), 0);
    CU_ASSERT_EQUAL(f.cpu.r[EAX_], 0);
    CU_ASSERT_EQUAL(f.cpu.r[EDX_], 0);
    f.cpu.r[ECX_] = 0x8C;                       /* a neighbour still faults */
    expect_exc(&f, rdmsr, 2, EXC_GP);
    /* glibc's cache probe: a 0xFF descriptor in leaf 2 sends it to leaf
     * 4, which it walks until a null cache type (it looped forever when
     * leaf 4 was above the maximum leaf and answered with leaf 2). */
    f.cpu.r[EAX_] = 2;
    CU_ASSERT_EQUAL(emu_step_bytes(&f.cpu, cpuid, 2), 0);
    CU_ASSERT_EQUAL(f.cpu.r[EAX_] & 0xFF, 1);
    /* Leaf 4 is in range now (maximum leaf 0xD): its list must end
     * whether or not leaf 2 points there (Linux walks it either way). */
    {
        int sub = 0;
        for (; sub < 16; sub++) {
            f.cpu.r[EAX_] = 4;
            f.cpu.r[ECX_] = (uint64_t)sub;
            CU_ASSERT_EQUAL(emu_step_bytes(&f.cpu, cpuid, 2), 0);
            if ((f.cpu.r[EAX_] & 0x1F) == 0)
                break;
        }
        CU_ASSERT(sub < 16);
    }
    /* answers come from the model's table: above the basic maximum =
     * the maximum leaf's data (Intel); above the extended maximum = the
     * same on Intel, zeros elsewhere.  The maximum leaf now covers 0xD
     * (XSAVE layout), so leaf 4 above must have ended its list. */
    f.cpu.r[EAX_] = 0;
    CU_ASSERT_EQUAL(emu_step_bytes(&f.cpu, cpuid, 2), 0);
    uint32_t maxb = (uint32_t)f.cpu.r[EAX_];
    bool intel = f.cpu.r[EBX_] == 0x756E6547u && f.cpu.r[EDX_] == 0x49656E69u &&
                 f.cpu.r[ECX_] == 0x6C65746Eu;
    CU_ASSERT_EQUAL(maxb, 0xD);
    f.cpu.r[EAX_] = maxb;
    f.cpu.r[ECX_] = 0;
    CU_ASSERT_EQUAL(emu_step_bytes(&f.cpu, cpuid, 2), 0);
    uint64_t top[4] = { f.cpu.r[EAX_], f.cpu.r[EBX_], f.cpu.r[ECX_], f.cpu.r[EDX_] };
    uint32_t above[] = { 0x40000000u, 0xFFFFFFFFu, 0x80000009u };
    for (unsigned k = 0; k < 3; k++) {
        f.cpu.r[EAX_] = above[k];
        f.cpu.r[ECX_] = 0;
        CU_ASSERT_EQUAL(emu_step_bytes(&f.cpu, cpuid, 2), 0);
        bool same = f.cpu.r[EAX_] == top[0] && f.cpu.r[EBX_] == top[1] &&
                    f.cpu.r[ECX_] == top[2] && f.cpu.r[EDX_] == top[3];
        bool zero = !f.cpu.r[EAX_] && !f.cpu.r[EBX_] && !f.cpu.r[ECX_] && !f.cpu.r[EDX_];
        CU_ASSERT(intel ? same : zero);
    }
    f.cpu.r[EAX_] = 0x80000001u;
    CU_ASSERT_EQUAL(emu_step_bytes(&f.cpu, cpuid, 2), 0);
    CU_ASSERT(f.cpu.r[EDX_] & (1u << 29));          /* LM */
    emu_h_done(&f);
}

/* A dword write straddling into a not-present page: #PF with CR2 = the
 * first byte of the missing page and nothing written to the present one. */
static void test_cross_page_cr2(void)
{
    struct emu_h f;
    emu_h_setup(&f, true);
    uint32_t pde = 0x11000 | 7, pte_ok = 0x200000 | 7, pte_absent = 0;
    emu_h_put(&f, 0x10000 + 4 * 1, &pde, 4);                    /* 4-8 MiB */
    emu_h_put(&f, 0x11000 + 4 * 4, &pte_ok, 4);                 /* 0x404000 -> 0x200000 */
    emu_h_put(&f, 0x11000 + 4 * 5, &pte_absent, 4);             /* 0x405000 absent */
    uint32_t pde0 = 0x12000 | 7;
    emu_h_put(&f, 0x10000, &pde0, 4);
    for (uint32_t k = 0; k < 1024; k++) {                 /* identity 0-4 MiB */
        uint32_t e = (k << 12) | 7;
        emu_h_put(&f, 0x12000 + 4 * k, &e, 4);
    }
    f.cpu.cr3 = 0x10000;
    static const uint8_t mov_cr0[] = { 0x0F, 0x22, 0xC0 };
    f.cpu.r[EAX_] = f.cpu.cr0 | PG_CR0_PG;
    CU_ASSERT_EQUAL(emu_step_bytes(&f.cpu, mov_cr0, 3), 0);
    CU_ASSERT(f.cpu.pg);
    static const uint8_t st[] = { 0xC7, 0x05, 0xFE, 0x4F, 0x40, 0x00, 0x01, 0x00, 0x00, 0x00 };
    f.mem.ram[0x200FFE] = 0xAA;
    expect_exc(&f, st, sizeof(st), EXC_PF);
    CU_ASSERT_EQUAL(f.cpu.cr2, 0x405000);
    CU_ASSERT_EQUAL(f.mem.ram[0x200FFE], 0xAA);
    /* a read straddling the same way reports the same address */
    static const uint8_t ld[] = { 0x8B, 0x05, 0xFD, 0x4F, 0x40, 0x00 };
    f.cpu.cr2 = 0;
    expect_exc(&f, ld, sizeof(ld), EXC_PF);
    CU_ASSERT_EQUAL(f.cpu.cr2, 0x405000);
    emu_h_done(&f);
}

/* A20 off: physical addresses wrap bit 20, and turning it back on is seen
 * by code whose TLB entries were filled while it was off. */
static void test_a20(void)
{
    struct emu_h f;
    emu_h_setup(&f, true);
    static const uint8_t code[] = { 0xA1, 0x00, 0x06, 0x10, 0x00, 0xF4 };  /* mov eax,[0x100600]; hlt */
    emu_h_put(&f, 0x1000, code, sizeof(code));
    uint32_t lo = 0x11111111, hi = 0x22222222;
    emu_h_put(&f, 0x600, &lo, 4);
    emu_h_put(&f, 0x100600, &hi, 4);
    f.cpu.a20 = false;
    emu_map_changed(&f.cpu);
    CU_ASSERT_EQUAL(emu_run(&f.cpu, 100), EMU_HLT);
    CU_ASSERT_EQUAL(f.cpu.r[EAX_], lo);
    f.cpu.a20 = true;
    emu_map_changed(&f.cpu);
    f.cpu.eip = 0x1000;
    f.cpu.halted = false;
    CU_ASSERT_EQUAL(emu_run(&f.cpu, 100), EMU_HLT);
    CU_ASSERT_EQUAL(f.cpu.r[EAX_], hi);
    f.cpu.a20 = false;
    emu_map_changed(&f.cpu);
    f.cpu.eip = 0x1000;
    f.cpu.halted = false;
    CU_ASSERT_EQUAL(emu_run(&f.cpu, 100), EMU_HLT);
    CU_ASSERT_EQUAL(f.cpu.r[EAX_], lo);
    emu_h_done(&f);
}

static void test_mips(void)
{
    struct emu_h f;
    emu_h_setup(&f, true);
    /* loop: add eax,[esi]; mov [edi],eax; xor edx,eax; add esi,4; and esi,0xFFF;
     *       dec ecx; jnz loop; hlt   (7 instructions per iteration) */
    static const uint8_t code[] = { 0x03, 0x06, 0x89, 0x07, 0x31, 0xC2, 0x83, 0xC6, 0x04,
                                    0x81, 0xE6, 0xFF, 0x0F, 0x00, 0x00, 0x49, 0x75, 0xEE,
                                    0xF4 };
    emu_h_put(&f, 0x1000, code, sizeof(code));
    f.cpu.r[ECX_] = 20000000;
    f.cpu.r[EDI_] = 0x9000;
    /* CPU time as well as wall time: on a loaded host the wall-clock
     * figure mostly measures the scheduler. */
    struct timespec a, b, ca, cb;
    clock_gettime(CLOCK_MONOTONIC, &a);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ca);
    enum emu_exit e;
    do {
        e = emu_run(&f.cpu, 1000000);
    } while (e == EMU_BUDGET);
    clock_gettime(CLOCK_MONOTONIC, &b);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cb);
    CU_ASSERT_EQUAL(e, EMU_HLT);
    CU_ASSERT_EQUAL(f.cpu.r[ECX_], 0);
    double s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    double cs = (double)(cb.tv_sec - ca.tv_sec) + (double)(cb.tv_nsec - ca.tv_nsec) / 1e9;
    printf("\n    hot loop: %llu instructions in %.3f s = %.1f MIPS (%.3f s CPU = %.1f MIPS)\n",
           (unsigned long long)f.cpu.st.insns, s, (double)f.cpu.st.insns / s / 1e6, cs,
           (double)f.cpu.st.insns / cs / 1e6);
    emu_h_done(&f);
}

void suite_emul_sys(void)
{
    CU_pSuite s = CU_add_suite("emul_sys", NULL, NULL);
    CU_add_test(s, "real-mode INT/IRET and #DE through the IVT", test_real_int);
    CU_add_test(s, "self-modifying code and DMA invalidation", test_smc);
    CU_add_test(s, "code and data in one page (chunk mask)", test_smc_mixed_page);
    CU_add_test(s, "triple fault", test_triple_fault);
    CU_add_test(s, "real mode writes through CS (no rights checks)", test_real_cs_write);
    CU_add_test(s, "FXSAVE/FXRSTOR", test_fxsr);
    CU_add_test(s, "emu_step: one uncached instruction (KVM assist)", test_step);
    CU_add_test(s, "WBINVD/INVD privilege, MSR 0x8B, CPUID leaf 2/4", test_wbinvd_msr_cpuid);
    CU_add_test(s, "CR2 of a write straddling into a missing page", test_cross_page_cr2);
    CU_add_test(s, "A20 masking and its TLB flush", test_a20);
    CU_add_test(s, "hot loop MIPS", test_mips);
}
