/* Emulator system behaviour through emu_run(): real-mode interrupts via
 * the IVT, self-modifying code, triple fault, and a hot-loop MIPS figure. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../../vmm/emul/emul_int.h"

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

static void setup(struct fx *f, bool pm32)
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
    s.rip = 0x1000;
    s.gpr[X86_RSP] = 0x8000;
    emu_reset(&f->cpu, &s);
}

static void done(struct fx *f)
{
    emu_fini(&f->cpu);
    mem_destroy(&f->mem);
}

static void put(struct fx *f, uint32_t at, const void *b, size_t n) { memcpy(f->mem.ram + at, b, n); }

static void test_real_int(void)
{
    struct fx f;
    setup(&f, false);
    /* IVT[0x21] -> 0000:2000: mov ax,0x1234; iret.  Main: int 0x21; hlt */
    static const uint8_t handler[] = { 0xB8, 0x34, 0x12, 0xCF };
    static const uint8_t code[] = { 0xCD, 0x21, 0xF4 };
    uint32_t vec = 0x2000;
    put(&f, 0x21 * 4, &vec, 4);
    put(&f, 0x2000, handler, sizeof(handler));
    put(&f, 0x1000, code, sizeof(code));
    CU_ASSERT_EQUAL(emu_run(&f.cpu, 1000), EMU_HLT);
    CU_ASSERT_EQUAL(f.cpu.r[EAX_] & 0xFFFF, 0x1234);
    CU_ASSERT_EQUAL(f.cpu.eip, 0x1003);
    CU_ASSERT_EQUAL(f.cpu.r[ESP_], 0x8000);
    /* #DE in real mode goes through IVT[0] with IP of the faulting insn */
    static const uint8_t de[] = { 0xF6, 0xF3 };      /* div bl (bl = 0) */
    static const uint8_t h0[] = { 0xF4 };
    vec = 0x3000;
    put(&f, 0, &vec, 4);
    put(&f, 0x3000, h0, 1);
    put(&f, 0x1100, de, 2);
    f.cpu.eip = 0x1100;
    f.cpu.halted = false;
    f.cpu.r[EBX_] = 0;
    CU_ASSERT_EQUAL(emu_run(&f.cpu, 1000), EMU_HLT);
    CU_ASSERT_EQUAL(f.cpu.eip, 0x3001);
    uint16_t ip;
    memcpy(&ip, f.mem.ram + f.cpu.r[ESP_], 2);
    CU_ASSERT_EQUAL(ip, 0x1100);
    done(&f);
}

static void test_smc(void)
{
    struct fx f;
    setup(&f, true);
    /* mov byte [0x100B], 0x42 ; mov eax, 0x11111111 (imm patched) ; hlt
     * The store hits the same block's next instruction. */
    static const uint8_t code[] = { 0xC6, 0x05, 0x0B, 0x10, 0x00, 0x00, 0x42,
                                    0xB8, 0x11, 0x11, 0x11, 0x11, 0xF4 };
    put(&f, 0x1000, code, sizeof(code));
    CU_ASSERT_EQUAL(emu_run(&f.cpu, 100), EMU_HLT);
    CU_ASSERT_EQUAL(f.cpu.r[EAX_], 0x42111111u);     /* byte 0x100B = top imm byte */
    CU_ASSERT(f.cpu.st.smc_invalidations >= 1);
    /* run again from the start: DMA-style overwrite through mem_write +
     * the notifier is simulated with emu_ram_written */
    f.cpu.eip = 0x1000;
    f.cpu.halted = false;
    static const uint8_t nop_mov[] = { 0xB8, 0x77, 0x77, 0x77, 0x77, 0xF4 };
    put(&f, 0x1000, nop_mov, sizeof(nop_mov));
    emu_ram_written(&f.cpu, 0x1000, sizeof(nop_mov));
    CU_ASSERT_EQUAL(emu_run(&f.cpu, 100), EMU_HLT);
    CU_ASSERT_EQUAL(f.cpu.r[EAX_], 0x77777777u);
    done(&f);
}

static void test_triple_fault(void)
{
    struct fx f;
    setup(&f, true);
    /* Empty IDT: #UD -> #GP (IDT limit) -> #DF -> shutdown */
    static const uint8_t ud2[] = { 0x0F, 0x0B };
    put(&f, 0x1000, ud2, 2);
    f.cpu.idt.limit = 0;
    CU_ASSERT_EQUAL(emu_run(&f.cpu, 100), EMU_SHUTDOWN);
    CU_ASSERT(f.cpu.shutdown);
    done(&f);
}

static void test_mips(void)
{
    struct fx f;
    setup(&f, true);
    /* loop: add eax,[esi]; mov [edi],eax; xor edx,eax; add esi,4; and esi,0xFFF;
     *       dec ecx; jnz loop; hlt   (7 instructions per iteration) */
    static const uint8_t code[] = { 0x03, 0x06, 0x89, 0x07, 0x31, 0xC2, 0x83, 0xC6, 0x04,
                                    0x81, 0xE6, 0xFF, 0x0F, 0x00, 0x00, 0x49, 0x75, 0xEE,
                                    0xF4 };
    put(&f, 0x1000, code, sizeof(code));
    f.cpu.r[ECX_] = 20000000;
    f.cpu.r[EDI_] = 0x9000;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    enum emu_exit e;
    do {
        e = emu_run(&f.cpu, 1000000);
    } while (e == EMU_BUDGET);
    clock_gettime(CLOCK_MONOTONIC, &b);
    CU_ASSERT_EQUAL(e, EMU_HLT);
    CU_ASSERT_EQUAL(f.cpu.r[ECX_], 0);
    double s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    printf("\n    hot loop: %llu instructions in %.3f s = %.1f MIPS\n",
           (unsigned long long)f.cpu.st.insns, s, (double)f.cpu.st.insns / s / 1e6);
    done(&f);
}

void suite_emul_sys(void)
{
    CU_pSuite s = CU_add_suite("emul_sys", NULL, NULL);
    CU_add_test(s, "real-mode INT/IRET and #DE through the IVT", test_real_int);
    CU_add_test(s, "self-modifying code and DMA invalidation", test_smc);
    CU_add_test(s, "triple fault", test_triple_fault);
    CU_add_test(s, "hot loop MIPS", test_mips);
}
