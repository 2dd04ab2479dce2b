/* The CPU model (vmm/arch/cpuid.c): the KVM backend's table from a KVM-like
 * offer, the emulator's table from the host, lookup rules, and a probe of
 * every feature bit the emulator advertises against what the emulator
 * really executes (decoder handlers, CR4/EFER bits, MSRs, the page
 * walker): a bit without a passing probe fails the suite. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>

#include "../../vmm/arch/cpuid.h"
#include "../../vmm/emul/ops.h"
#include "emu_harness.h"

static void regs(struct cpuid_table *t, uint32_t leaf, uint32_t sub, bool idx, uint32_t a,
                 uint32_t b, uint32_t c, uint32_t d)
{
    struct cpuid_regs r = { a, b, c, d };
    CU_ASSERT_FATAL(cpuid_set(t, leaf, sub, idx, &r));
}

/* What a KVM on a generous host might offer: every feature bit set. */
static void kvm_like_offer(struct cpuid_table *t)
{
    memset(t, 0, sizeof(*t));
    regs(t, 0, 0, false, 0x1F, 0x756E6547u, 0x6C65746Eu, 0x49656E69u);    /* GenuineIntel */
    regs(t, 1, 0, false, 0x000806F8u, 0x12345678u, ~0u, ~0u);
    regs(t, 4, 0, true, 0x121, 0x1C0003F, 0x3F, 0);
    regs(t, 4, 1, true, 0, 0, 0, 0);
    regs(t, 7, 0, true, 1, ~0u, ~0u, ~0u);
    regs(t, 7, 1, true, 0x30, 0, 0, 0);
    regs(t, 0xD, 0, true, 0xE7, 0xA88, 0xA88, 0);
    regs(t, 0xD, 1, true, 0xF, 0, 0, 0);
    regs(t, 0xD, 2, true, 0x100, 0x240, 0, 0);
    regs(t, 0x40000000u, 0, false, 0x40000001u, 0x4B4D564Bu, 0x564B4D56u, 0x4D);   /* KVMKVMKVM */
    regs(t, 0x40000001u, 0, false, 0x01007AFBu, 0, 0, 0);
    regs(t, 0x80000000u, 0, false, 0x80000008u, 0, 0, 0);
    regs(t, 0x80000001u, 0, false, 0, 0, ~0u, ~0u);
    regs(t, 0x80000008u, 0, false, 0x3028, 0, 0, 0);
}

static void test_kvm_model(void)
{
    static struct cpuid_table off, t;
    kvm_like_offer(&off);
    cpuid_build(&t, &off, CPUID_BACKEND_KVM);
    struct cpuid_regs r0 = cpuid_lookup(&t, 0, 0);
    CU_ASSERT_EQUAL(r0.eax, 0x1F);
    CU_ASSERT(r0.ebx == 0x756E6547u && r0.ecx == 0x6C65746Eu && r0.edx == 0x49656E69u);
    struct cpuid_regs r1 = cpuid_lookup(&t, 1, 0);
    CU_ASSERT_EQUAL(r1.eax, 0x000806F8u);
    CU_ASSERT_FALSE(r1.edx & CPUID_1_EDX_APIC);
    CU_ASSERT_FALSE(r1.ecx & (CPUID_1_ECX_MONITOR | CPUID_1_ECX_VMX | CPUID_1_ECX_SMX |
                              CPUID_1_ECX_X2APIC | CPUID_1_ECX_TSCDEADLINE));
    CU_ASSERT_FALSE(r1.ecx & CPUID_1_ECX_OSXSAVE);          /* KVM mirrors CR4 itself */
    CU_ASSERT(r1.ecx & CPUID_1_ECX_HYPERVISOR);
    CU_ASSERT(r1.ecx & CPUID_1_ECX_XSAVE);                  /* KVM runs XSAVE natively */
    CU_ASSERT_EQUAL(r1.ebx, 0x00015678u);                   /* one logical CPU, APIC ID 0 */
    /* what KVM executes itself passes: leaf 7, XSAVE layout, PV leaves */
    CU_ASSERT_EQUAL(cpuid_lookup(&t, 7, 0).ebx, ~0u);
    CU_ASSERT_EQUAL(cpuid_lookup(&t, 7, 1).eax, 0x30);
    CU_ASSERT_EQUAL(cpuid_lookup(&t, 0xD, 0).eax, 0xE7);
    CU_ASSERT_EQUAL(cpuid_lookup(&t, 0xD, 2).eax, 0x100);
    CU_ASSERT_EQUAL(cpuid_lookup(&t, 0x40000000u, 0).ebx, 0x4B4D564Bu);
    CU_ASSERT_EQUAL(cpuid_lookup(&t, 0x40000001u, 0).eax, 0x01007AFBu);
    CU_ASSERT_EQUAL(cpuid_lookup(&t, 0x80000001u, 0).ecx, ~(1u << 3));
    CU_ASSERT_EQUAL(cpuid_lookup(&t, 0x80000000u, 0).eax, 0x80000008u);
    CU_ASSERT_EQUAL(t.n, off.n);
    /* Intel rule above the maxima: the highest basic leaf (here absent: zeros) */
    regs(&t, 0x1F, 0, true, 1, 2, 3, 4);
    CU_ASSERT_EQUAL(cpuid_lookup(&t, 0x20, 0).edx, 4);
    CU_ASSERT_EQUAL(cpuid_lookup(&t, 0x80000009u, 0).edx, 4);
    CU_ASSERT_EQUAL(cpuid_lookup(&t, 0x40000002u, 0).edx, 4);
    CU_ASSERT_EQUAL(cpuid_lookup(&t, 5, 0).eax, 0);        /* in range, not offered */
    /* another vendor: zeros */
    regs(&t, 0, 0, false, 0x1F, 0x68747541u, 0x444D4163u, 0x69746E65u);   /* AuthenticAMD */
    CU_ASSERT_EQUAL(cpuid_lookup(&t, 0x20, 0).edx, 0);
}

/* Every entry of an emulator table inside the advertised maxima and every
 * feature register within the emulator's features. */
static void check_emu_table(const struct cpuid_table *t)
{
    const struct cpuid_features *f = cpuid_backend_features(CPUID_BACKEND_EMU);
    uint32_t maxb = cpuid_lookup(t, 0, 0).eax, maxe = cpuid_lookup(t, 0x80000000u, 0).eax;
    CU_ASSERT_EQUAL(maxb, 0xD);
    CU_ASSERT_EQUAL(maxe, 0x80000008u);
    for (unsigned k = 0; k < t->n; k++) {
        uint32_t l = t->e[k].leaf;
        CU_ASSERT(l <= maxb || (l >= 0x80000000u && l <= maxe));
    }
    struct cpuid_regs r = cpuid_lookup(t, 1, 0);
    CU_ASSERT_EQUAL(r.ecx & ~f->l1_ecx, CPUID_1_ECX_HYPERVISOR);
    CU_ASSERT_EQUAL(r.edx & ~f->l1_edx, 0);
    CU_ASSERT(r.ecx & CPUID_1_ECX_XSAVE);
    CU_ASSERT_FALSE(r.ecx & CPUID_1_ECX_OSXSAVE);
    CU_ASSERT_EQUAL((r.ebx >> 16) & 0xFF, 1);
    CU_ASSERT_EQUAL(r.ebx >> 24, 0);
    r = cpuid_lookup(t, 7, 0);
    CU_ASSERT(r.eax == 0 && r.ebx == 0 && r.ecx == 0 && r.edx == 0);
    /* XSAVE: x87 + SSE, 512-byte legacy region + 64-byte header, XSAVEOPT only */
    r = cpuid_lookup(t, 0xD, 0);
    CU_ASSERT(r.eax == 3 && r.ebx == 576 && r.ecx == 576 && r.edx == 0);
    CU_ASSERT_EQUAL(r.ecx, FPU_XSAVE_SIZE);
    r = cpuid_lookup(t, 0xD, 1);
    CU_ASSERT(r.eax == CPUID_D1_EAX_XSAVEOPT && r.ebx == 0 && r.ecx == 0 && r.edx == 0);
    r = cpuid_lookup(t, 0xD, 2);
    CU_ASSERT(r.eax == 0 && r.ebx == 0);                    /* no AVX component */
    /* leaf 4 describes leaf 2's caches and ends */
    unsigned sub = 0, kb[3] = { 0 };
    for (; sub < 8; sub++) {
        r = cpuid_lookup(t, 4, sub);
        if ((r.eax & 0x1F) == 0)
            break;
        if (sub < 3)
            kb[sub] = ((r.ebx >> 22) + 1) * (((r.ebx >> 12) & 0x3FF) + 1) *
                      ((r.ebx & 0xFFF) + 1) * (r.ecx + 1) / 1024;
    }
    CU_ASSERT_EQUAL(sub, 3);
    CU_ASSERT(kb[0] == 32 && kb[1] == 32 && kb[2] == 2048);
    CU_ASSERT_EQUAL(cpuid_lookup(t, 2, 0).eax, 0x7D302C01u);
    r = cpuid_lookup(t, 0x80000001u, 0);
    CU_ASSERT_EQUAL(r.ecx & ~f->e1_ecx, 0);
    CU_ASSERT_EQUAL(r.edx & ~f->e1_edx, 0);
    CU_ASSERT_EQUAL(cpuid_lookup(t, 0x80000008u, 0).eax, 40 | 48 << 8);
}

static void test_emu_model(void)
{
    static struct cpuid_table host, t, off;
    cpuid_host_table(&host);
    cpuid_build(&t, &host, CPUID_BACKEND_EMU);
    check_emu_table(&t);
    struct cpuid_regs h0 = cpuid_lookup(&host, 0, 0), e0 = cpuid_lookup(&t, 0, 0);
    CU_ASSERT(h0.ebx == e0.ebx && h0.ecx == e0.ecx && h0.edx == e0.edx);    /* vendor */
    CU_ASSERT_EQUAL(cpuid_lookup(&host, 1, 0).eax, cpuid_lookup(&t, 1, 0).eax);
    CU_ASSERT_EQUAL(cpuid_lookup(&host, 0x80000002u, 0).eax,
                    cpuid_lookup(&t, 0x80000002u, 0).eax);                  /* brand */
    /* host-independent: a host offering everything gives the same features */
    kvm_like_offer(&off);
    cpuid_build(&t, &off, CPUID_BACKEND_EMU);
    check_emu_table(&t);
    const struct cpuid_features *f = cpuid_backend_features(CPUID_BACKEND_EMU);
    CU_ASSERT_EQUAL(cpuid_lookup(&t, 1, 0).ecx, f->l1_ecx | CPUID_1_ECX_HYPERVISOR);
    CU_ASSERT_EQUAL(cpuid_lookup(&t, 1, 0).edx, f->l1_edx);
}

/* ---- the emulator's features against the emulator ---- */

struct fx { struct emu_h h; struct emu_decoder *dec; };

enum probe_kind { P_INSN, P_CR4, P_EFER, P_MSR, P_PSE36, P_INFO };

struct probe {
    const char *what;
    uint8_t reg;            /* 0 l1_ecx, 1 l1_edx, 2 e1_ecx, 3 e1_edx, 4 xsave_ext, 5-7 l7 */
    uint8_t bit;
    uint8_t kind;
    uint8_t mode;           /* P_INSN: 0 16-bit, 1 32-bit, 2 64-bit */
    uint8_t len;
    uint8_t bytes[8];
    uint32_t arg;           /* CR4/EFER bit, MSR index */
};

static const struct probe probes[] = {
    { "FPU fld1", 1, 0, P_INSN, 1, 2, { 0xD9, 0xE8 }, 0 },
    { "PSE CR4.PSE", 1, 3, P_CR4, 0, 0, { 0 }, 1u << 4 },
    { "PSE 4M page walk", 1, 3, P_PSE36, 0, 0, { 0 }, 0 },
    { "TSC rdtsc", 1, 4, P_INSN, 1, 2, { 0x0F, 0x31 }, 0 },
    { "MSR rdmsr", 1, 5, P_INSN, 1, 2, { 0x0F, 0x32 }, 0 },
    { "MSR wrmsr", 1, 5, P_INSN, 1, 2, { 0x0F, 0x30 }, 0 },
    { "PAE CR4.PAE", 1, 6, P_CR4, 0, 0, { 0 }, 1u << 5 },
    { "CX8 cmpxchg8b", 1, 8, P_INSN, 1, 3, { 0x0F, 0xC7, 0x0E }, 0 },
    { "SEP sysenter", 1, 11, P_INSN, 1, 2, { 0x0F, 0x34 }, 0 },
    { "SEP sysexit", 1, 11, P_INSN, 1, 2, { 0x0F, 0x35 }, 0 },
    { "SEP MSR", 1, 11, P_MSR, 0, 0, { 0 }, 0x174 },
    { "PGE CR4.PGE", 1, 13, P_CR4, 0, 0, { 0 }, 1u << 7 },
    { "CMOV cmove", 1, 15, P_INSN, 1, 3, { 0x0F, 0x44, 0xC1 }, 0 },
    { "PAT MSR", 1, 16, P_MSR, 0, 0, { 0 }, 0x277 },
    { "PSE36 page walk", 1, 17, P_PSE36, 0, 0, { 0 }, 0 },
    { "MMX paddb", 1, 23, P_INSN, 1, 3, { 0x0F, 0xFC, 0xC1 }, 0 },
    { "FXSR fxsave", 1, 24, P_INSN, 1, 3, { 0x0F, 0xAE, 0x06 }, 0 },
    { "FXSR fxrstor", 1, 24, P_INSN, 1, 3, { 0x0F, 0xAE, 0x0E }, 0 },
    { "FXSR CR4.OSFXSR", 1, 24, P_CR4, 0, 0, { 0 }, 1u << 9 },
    { "SSE addps", 1, 25, P_INSN, 1, 3, { 0x0F, 0x58, 0xC1 }, 0 },
    { "SSE CR4.OSXMMEXCPT", 1, 25, P_CR4, 0, 0, { 0 }, 1u << 10 },
    { "SSE2 addpd", 1, 26, P_INSN, 1, 4, { 0x66, 0x0F, 0x58, 0xC1 }, 0 },
    { "SSE3 haddps", 0, 0, P_INSN, 1, 4, { 0xF2, 0x0F, 0x7C, 0xC1 }, 0 },
    { "SSSE3 pshufb", 0, 9, P_INSN, 1, 5, { 0x66, 0x0F, 0x38, 0x00, 0xC1 }, 0 },
    { "CX16 cmpxchg16b", 0, 13, P_INSN, 2, 4, { 0x48, 0x0F, 0xC7, 0x0E }, 0 },
    { "XSAVE xsave", 0, 26, P_INSN, 1, 3, { 0x0F, 0xAE, 0x26 }, 0 },
    { "XSAVE xrstor", 0, 26, P_INSN, 1, 3, { 0x0F, 0xAE, 0x2E }, 0 },
    { "XSAVE xsave64", 0, 26, P_INSN, 2, 4, { 0x48, 0x0F, 0xAE, 0x26 }, 0 },
    { "XSAVE xgetbv", 0, 26, P_INSN, 1, 3, { 0x0F, 0x01, 0xD0 }, 0 },
    { "XSAVE xsetbv", 0, 26, P_INSN, 1, 3, { 0x0F, 0x01, 0xD1 }, 0 },
    { "XSAVE CR4.OSXSAVE", 0, 26, P_CR4, 0, 0, { 0 }, 1u << 18 },
    { "hypervisor bit", 0, 31, P_INFO, 0, 0, { 0 }, 0 },
    { "LAHF-LM lahf", 2, 0, P_INSN, 2, 1, { 0x9F }, 0 },
    { "LAHF-LM sahf", 2, 0, P_INSN, 2, 1, { 0x9E }, 0 },
    { "SYSCALL syscall", 3, 11, P_INSN, 2, 2, { 0x0F, 0x05 }, 0 },
    { "SYSCALL sysret", 3, 11, P_INSN, 2, 3, { 0x48, 0x0F, 0x07 }, 0 },
    { "SYSCALL EFER.SCE", 3, 11, P_EFER, 0, 0, { 0 }, 1u << 0 },
    { "NX EFER.NXE", 3, 20, P_EFER, 0, 0, { 0 }, 1u << 11 },
    { "RDTSCP rdtscp", 3, 27, P_INSN, 1, 3, { 0x0F, 0x01, 0xF9 }, 0 },
    { "RDTSCP MSR TSC_AUX", 3, 27, P_MSR, 0, 0, { 0 }, 0xC0000103u },
    { "LM EFER.LME", 3, 29, P_EFER, 0, 0, { 0 }, 1u << 8 },
    { "LM swapgs", 3, 29, P_INSN, 2, 3, { 0x0F, 0x01, 0xF8 }, 0 },
    { "XSAVEOPT xsaveopt", 4, 0, P_INSN, 1, 3, { 0x0F, 0xAE, 0x36 }, 0 },
};

static bool pse36_walk(void *o, uint64_t pa, unsigned size, uint64_t *v)
{
    (void)size;
    *v = pa == 0x1000 ? (0x00400000u | (1u << 13) | 0x83) : 0;  /* 4M page, PA bit 32 */
    (void)o;
    return true;
}
static void pse36_write(void *o, uint64_t pa, unsigned size, uint64_t v)
{
    (void)o; (void)pa; (void)size; (void)v;
}

static bool run_probe(struct fx *f, const struct probe *p)
{
    struct emu_cpu *c = &f->h.cpu;
    switch (p->kind) {
    case P_INSN: {
        struct emu_insn in;
        if (emu_decode(f->dec, p->bytes, p->len, 0x1000, p->mode, &in) != p->len)
            return false;
        return in.fn && in.fn != h_unimpl && in.fn != h_ud;
    }
    case P_CR4: {
        static const uint8_t mov_cr4[] = { 0x0F, 0x22, 0xE0 };
        c->r[EAX_] = p->arg;
        c->eip = 0x1000;
        int rc = emu_step_bytes(c, mov_cr4, sizeof(mov_cr4));
        bool ok = rc == 0 && c->cr4 == p->arg;
        c->cr4 = 0;
        return ok;
    }
    case P_EFER:
        return emu_wrmsr(c, 0xC0000080u, p->arg) && (c->efer & p->arg) &&
               emu_wrmsr(c, 0xC0000080u, 0);
    case P_MSR: {
        uint64_t v;
        return emu_rdmsr(c, p->arg, &v) && emu_wrmsr(c, p->arg, v);
    }
    case P_PSE36: {
        struct pg_regs r = { .cr0 = 0x80000011u, .cr3 = 0x1000, .cr4 = PG_CR4_PSE };
        struct pg_phys m = { .read = pse36_walk, .write = pse36_write };
        struct pg_result res;
        uint32_t err;
        return pg_walk(&r, &m, 0x123456, 0, &res, &err) == 0 &&
               res.pa == (0x100000000ull | 0x00400000u | 0x123456u) && res.page_size == 4u << 20;
    }
    default:
        return true;
    }
}

static void test_emu_features_implemented(void)
{
    static struct fx f;
    emu_h_open(&f.h, 4 * MiB, NULL);
    f.dec = emu_decoder_new();
    CU_ASSERT_FATAL(f.dec != NULL);
    const struct cpuid_features *ft = cpuid_backend_features(CPUID_BACKEND_EMU);
    const uint32_t masks[8] = { ft->l1_ecx, ft->l1_edx, ft->e1_ecx, ft->e1_edx, ft->xsave_ext,
                                ft->l7_ebx, ft->l7_ecx, ft->l7_edx };
    unsigned checked = 0;
    for (unsigned reg = 0; reg < 8; reg++) {
        for (unsigned bit = 0; bit < 32; bit++) {
            bool adv = (masks[reg] >> bit) & 1;
            if (reg == 0 && bit == 31)
                adv = true;                         /* the hypervisor bit is always set */
            if (!adv)
                continue;
            unsigned n = 0;
            for (size_t k = 0; k < sizeof(probes) / sizeof(probes[0]); k++) {
                if (probes[k].reg != reg || probes[k].bit != bit)
                    continue;
                n++;
                bool ok = run_probe(&f, &probes[k]);
                if (!ok)
                    fprintf(stderr, "\n  advertised but not implemented: %s\n", probes[k].what);
                CU_ASSERT(ok);
            }
            if (!n)
                fprintf(stderr, "\n  advertised without a probe: register %u bit %u\n", reg, bit);
            CU_ASSERT(n > 0);
            checked++;
        }
    }
    CU_ASSERT(checked >= 20);
    /* and XCR0: exactly the components the FPU library saves */
    CU_ASSERT_EQUAL(ft->xcr0, FPU_XSTATE_X87 | FPU_XSTATE_SSE);
    /* a feature not advertised is refused: CR4.SMEP, CR4.FSGSBASE */
    static const uint8_t mov_cr4[] = { 0x0F, 0x22, 0xE0 };
    f.h.cpu.r[EAX_] = 1u << 20;
    f.h.cpu.eip = 0x1000;
    CU_ASSERT_EQUAL(emu_step_bytes(&f.h.cpu, mov_cr4, 3), EXC_GP + 1);
    emu_decoder_free(f.dec);
    emu_h_done(&f.h);
}

void suite_cpuid(void)
{
    CU_pSuite s = CU_add_suite("cpuid", NULL, NULL);
    CU_add_test(s, "KVM backend: KVM's offer minus devices we lack", test_kvm_model);
    CU_add_test(s, "emulator backend: own leaves, features within the mask", test_emu_model);
    CU_add_test(s, "every advertised emulator feature is implemented",
                test_emu_features_implemented);
}
