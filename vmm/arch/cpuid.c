#include "cpuid.h"

#include <string.h>

/* The emulator's XSAVE components: what vmm/emul executes (x87 and SSE,
 * no AVX).  Leaf 0xD below describes exactly this layout. */
#define EMU_XCR0 (CPUID_XCR0_X87 | CPUID_XCR0_SSE)
_Static_assert((EMU_XCR0 & ~(CPUID_XCR0_X87 | CPUID_XCR0_SSE)) == 0,
               "leaf 0xD of the emulator describes only the legacy region");

static const struct cpuid_features features[] = {
    /* KVM executes the instruction set itself: everything it offers,
     * minus what needs a device minus1 does not model.  There is no
     * local APIC (our PIC is the only interrupt controller, so Linux runs
     * on the PIT and 8259), hence no x2APIC and no TSC-deadline timer;
     * no MONITOR/MWAIT, no VMX/SMX, no AMD extended APIC space. */
    [CPUID_BACKEND_KVM] = {
        .l1_ecx = ~(CPUID_1_ECX_MONITOR | CPUID_1_ECX_VMX | CPUID_1_ECX_SMX |
                    CPUID_1_ECX_X2APIC | CPUID_1_ECX_TSCDEADLINE),
        .l1_edx = ~CPUID_1_EDX_APIC,
        .l7_ebx = ~0u, .l7_ecx = ~0u, .l7_edx = ~0u,
        .xsave_ext = ~0u,
        .e1_ecx = ~(1u << 3),
        .e1_edx = ~0u,
        .xcr0 = ~0ull,
        .max_basic = ~0u, .max_ext = ~0u,
    },
    /* The emulator: only what vmm/emul executes (tests/unit/test_cpuid.c
     * probes every bit against the decoder and the system code). */
    [CPUID_BACKEND_EMU] = {
        /* SSE3 SSSE3 CMPXCHG16B XSAVE */
        .l1_ecx = CPUID_1_ECX_SSE3 | CPUID_1_ECX_SSSE3 | CPUID_1_ECX_CX16 | CPUID_1_ECX_XSAVE,
        /* FPU PSE TSC MSR PAE CX8 SEP PGE CMOV PAT PSE36 MMX FXSR SSE SSE2
         * (no VME, DE, MCE/MCA, APIC, MTRR, CLFLUSH) */
        .l1_edx = (1u << 0) | (1u << 3) | (1u << 4) | (1u << 5) | (1u << 6) | (1u << 8) |
                  (1u << 11) | (1u << 13) | (1u << 15) | (1u << 16) | (1u << 17) |
                  (1u << 23) | (1u << 24) | (1u << 25) | (1u << 26),
        .l7_ebx = 0, .l7_ecx = 0, .l7_edx = 0,
        .xsave_ext = CPUID_D1_EAX_XSAVEOPT,
        .e1_ecx = 1u << 0,                                      /* LAHF/SAHF in 64-bit mode */
        .e1_edx = (1u << 11) | (1u << 20) | (1u << 27) | (1u << 29), /* SYSCALL NX RDTSCP LM */
        .xcr0 = EMU_XCR0,
        .max_basic = 0xD, .max_ext = 0x80000008u,
    },
};

const struct cpuid_features *cpuid_backend_features(enum cpuid_backend b)
{
    return &features[b == CPUID_BACKEND_EMU ? CPUID_BACKEND_EMU : CPUID_BACKEND_KVM];
}

const struct cpuid_entry *cpuid_find(const struct cpuid_table *t, uint32_t leaf, uint32_t sub)
{
    unsigned n = t->n < CPUID_MAX_ENTRIES ? t->n : CPUID_MAX_ENTRIES;
    for (unsigned k = 0; k < n; k++) {
        const struct cpuid_entry *e = &t->e[k];
        if (e->leaf == leaf && (!e->indexed || e->sub == sub))
            return e;
    }
    return NULL;
}

bool cpuid_set(struct cpuid_table *t, uint32_t leaf, uint32_t sub, bool indexed,
               const struct cpuid_regs *r)
{
    for (unsigned k = 0; k < t->n; k++) {
        struct cpuid_entry *e = &t->e[k];
        if (e->leaf == leaf && e->sub == (indexed ? sub : 0)) {
            e->indexed = indexed;
            e->r = *r;
            return true;
        }
    }
    if (t->n >= CPUID_MAX_ENTRIES)
        return false;
    t->e[t->n++] = (struct cpuid_entry){ .leaf = leaf, .sub = indexed ? sub : 0,
                                         .indexed = indexed, .r = *r };
    return true;
}

static bool is_intel(const struct cpuid_regs *leaf0)
{
    /* "GenuineIntel" in EBX, EDX, ECX */
    return leaf0->ebx == 0x756E6547u && leaf0->edx == 0x49656E69u && leaf0->ecx == 0x6C65746Eu;
}

struct cpuid_regs cpuid_lookup(const struct cpuid_table *t, uint32_t leaf, uint32_t sub)
{
    static const struct cpuid_regs zero = { 0, 0, 0, 0 };
    const struct cpuid_entry *z = cpuid_find(t, 0, 0);
    if (!z)
        return zero;
    const struct cpuid_entry *x = cpuid_find(t, 0x80000000u, 0);
    const struct cpuid_entry *h = cpuid_find(t, 0x40000000u, 0);
    uint32_t maxb = z->r.eax, maxe = x ? x->r.eax : 0;
    bool in_range = leaf <= maxb || (leaf >= 0x80000000u && leaf <= maxe) ||
                    (h && leaf >= 0x40000000u && leaf <= h->r.eax && h->r.eax < 0x50000000u);
    if (!in_range) {
        /* Intel answers with the highest basic leaf (SDM, CPUID: "If a
         * value entered for CPUID.EAX is higher than the maximum input
         * value ..."); AMD returns zeros. */
        if (!is_intel(&z->r))
            return zero;
        leaf = maxb;
    }
    const struct cpuid_entry *e = cpuid_find(t, leaf, sub);
    return e ? e->r : zero;
}

/* ---- the host's CPUID ---- */

static struct cpuid_regs host_cpuid(uint32_t leaf, uint32_t sub)
{
    struct cpuid_regs r;
    __asm__ volatile("cpuid" : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
                     : "a"(leaf), "c"(sub));
    return r;
}

static bool indexed_leaf(uint32_t leaf)
{
    switch (leaf) {
    case 4: case 7: case 0xB: case 0xD: case 0xF: case 0x10: case 0x12: case 0x14:
    case 0x17: case 0x18: case 0x1D: case 0x1E: case 0x1F: case 0x20:
        return true;
    default:
        return false;
    }
}

void cpuid_host_table(struct cpuid_table *t)
{
    t->n = 0;
    struct cpuid_regs r0 = host_cpuid(0, 0);
    uint32_t maxb = r0.eax > 0x20 ? 0x20 : r0.eax;
    for (uint32_t leaf = 0; leaf <= maxb; leaf++) {
        struct cpuid_regs r = host_cpuid(leaf, 0);
        bool idx = indexed_leaf(leaf);
        (void)cpuid_set(t, leaf, 0, idx, &r);
        if (leaf == 7) {
            uint32_t subs = r.eax > 4 ? 4 : r.eax;
            for (uint32_t s = 1; s <= subs; s++) {
                struct cpuid_regs rs = host_cpuid(7, s);
                (void)cpuid_set(t, 7, s, true, &rs);
            }
        } else if (leaf == 0xD) {
            uint64_t comps = r.eax | (uint64_t)r.edx << 32;
            for (uint32_t s = 1; s < 64; s++) {
                if (s >= 2 && !((comps >> s) & 1))
                    continue;
                struct cpuid_regs rs = host_cpuid(0xD, s);
                (void)cpuid_set(t, 0xD, s, true, &rs);
            }
        }
    }
    struct cpuid_regs re = host_cpuid(0x80000000u, 0);
    if (re.eax < 0x80000000u || re.eax > 0x8000FFFFu)
        return;
    uint32_t maxe = re.eax > 0x80000020u ? 0x80000020u : re.eax;
    for (uint32_t leaf = 0x80000000u; leaf <= maxe; leaf++) {
        struct cpuid_regs r = host_cpuid(leaf, 0);
        (void)cpuid_set(t, leaf, 0, false, &r);
    }
}

/* ---- building the guest's table ---- */

/* The feature registers through the backend's mask.  Returns false for
 * an entry the guest must not see at all. */
static bool apply_features(const struct cpuid_features *f, struct cpuid_entry *e)
{
    struct cpuid_regs *r = &e->r;
    switch (e->leaf) {
    case 1:
        /* OSXSAVE mirrors CR4 and is the backend's to set at run time;
         * the hypervisor bit is always on. */
        r->ecx = (r->ecx & f->l1_ecx & ~CPUID_1_ECX_OSXSAVE) | CPUID_1_ECX_HYPERVISOR;
        r->edx &= f->l1_edx;
        /* One logical processor, initial APIC ID 0. */
        r->ebx = (r->ebx & 0x0000FFFFu) | (1u << 16);
        return true;
    case 7:
        if (e->sub == 0) {
            r->ebx &= f->l7_ebx;
            r->ecx &= f->l7_ecx;
            r->edx &= f->l7_edx;
        }
        return true;
    case 0xD:
        if (e->sub == 0) {
            r->eax &= (uint32_t)f->xcr0;
            r->edx &= (uint32_t)(f->xcr0 >> 32);
        } else if (e->sub == 1) {
            r->eax &= f->xsave_ext;
        } else if (e->sub < 64 && !((f->xcr0 >> e->sub) & 1) && !(f->xsave_ext & (1u << 3))) {
            /* a component the guest cannot enable (with XSAVES hidden,
             * IA32_XSS components are out of reach too) */
            return false;
        }
        return true;
    case 0x80000001u:
        r->ecx &= f->e1_ecx;
        r->edx &= f->e1_edx;
        return true;
    default:
        return true;
    }
}

static uint32_t offered_max(const struct cpuid_table *offered, uint32_t leaf)
{
    const struct cpuid_entry *e = cpuid_find(offered, leaf, 0);
    return e ? e->r.eax : 0;
}

/* KVM: its list filtered through the mask; leaves we know nothing about
 * (KVM's paravirtual leaves, topology, ...) pass as KVM offers them. */
static void build_kvm(struct cpuid_table *out, const struct cpuid_table *offered,
                      const struct cpuid_features *f)
{
    uint32_t maxb = offered_max(offered, 0), maxe = offered_max(offered, 0x80000000u);
    if (maxb > f->max_basic)
        maxb = f->max_basic;
    if (maxe > f->max_ext)
        maxe = f->max_ext;
    for (unsigned k = 0; k < offered->n && k < CPUID_MAX_ENTRIES; k++) {
        struct cpuid_entry e = offered->e[k];
        if (e.leaf < 0x40000000u && e.leaf > maxb)
            continue;
        if (e.leaf >= 0x80000000u && e.leaf > maxe)
            continue;
        if (e.leaf == 0)
            e.r.eax = maxb;
        if (e.leaf == 0x80000000u)
            e.r.eax = maxe;
        if (apply_features(f, &e))
            (void)cpuid_set(out, e.leaf, e.sub, e.indexed, &e.r);
    }
}

static void put(struct cpuid_table *t, uint32_t leaf, uint32_t sub, bool indexed, uint32_t a,
                uint32_t b, uint32_t c, uint32_t d)
{
    struct cpuid_regs r = { a, b, c, d };
    (void)cpuid_set(t, leaf, sub, indexed, &r);
}

/* Leaf 4 subleaf for a cache: type 1 data / 2 instruction / 3 unified,
 * self-initialising, 64-byte lines, one partition, no sharing. */
static void put_cache(struct cpuid_table *t, uint32_t sub, unsigned type, unsigned level,
                      unsigned ways, uint32_t bytes)
{
    uint32_t sets = bytes / (ways * 64u);
    put(t, 4, sub, true, type | level << 5 | 1u << 8, 63u | (ways - 1) << 22, sets - 1, 0);
}

/* The emulator: identity (vendor, family/model/stepping, brand string)
 * from the host, features through the mask, every descriptive leaf our
 * own, so that what the guest reads does not depend on the host beyond
 * its name. */
static void build_emu(struct cpuid_table *out, const struct cpuid_table *host,
                      const struct cpuid_features *f)
{
    static const struct cpuid_regs none = { 0, 0, 0, 0 };
    const struct cpuid_entry *h0 = cpuid_find(host, 0, 0);
    struct cpuid_regs v = h0 ? h0->r : none;
    put(out, 0, 0, false, f->max_basic, v.ebx, v.ecx, v.edx);

    struct cpuid_entry e = { .leaf = 1 };
    const struct cpuid_entry *h = cpuid_find(host, 1, 0);
    e.r = h ? h->r : none;
    (void)apply_features(f, &e);
    (void)cpuid_set(out, 1, 0, false, &e.r);

    /* Leaf 2: one iteration, 0x2C L1d 32K 8-way, 0x30 L1i 32K 8-way, 0x7D
     * L2 2M 8-way (64-byte lines, SDM table 3-12) -- no 0xFF "see leaf 4"
     * byte; leaf 4 below describes the same caches. */
    put(out, 2, 0, false, 0x7D302C01u, 0, 0, 0);
    put_cache(out, 0, 1, 1, 8, 32 * 1024);
    put_cache(out, 1, 2, 1, 8, 32 * 1024);
    put_cache(out, 2, 3, 2, 8, 2 * 1024 * 1024);
    put(out, 4, 3, true, 0, 0, 0, 0);          /* null type: end of the list */

    e = (struct cpuid_entry){ .leaf = 7, .sub = 0, .indexed = true };
    h = cpuid_find(host, 7, 0);
    e.r = h ? h->r : none;
    e.r.eax = 0;                                /* subleaf 0 is the only one */
    (void)apply_features(f, &e);
    (void)cpuid_set(out, 7, 0, true, &e.r);

    /* Leaf 0xD: the components in f->xcr0, all in the legacy region. */
    put(out, 0xD, 0, true, (uint32_t)f->xcr0, CPUID_XSAVE_LEGACY_SIZE, CPUID_XSAVE_LEGACY_SIZE,
        (uint32_t)(f->xcr0 >> 32));
    put(out, 0xD, 1, true, f->xsave_ext, 0, 0, 0);

    uint32_t hmaxe = offered_max(host, 0x80000000u);
    h = cpuid_find(host, 0x80000000u, 0);
    put(out, 0x80000000u, 0, false, f->max_ext, h ? h->r.ebx : 0, h ? h->r.ecx : 0,
        h ? h->r.edx : 0);
    e = (struct cpuid_entry){ .leaf = 0x80000001u };
    h = hmaxe >= 0x80000001u ? cpuid_find(host, 0x80000001u, 0) : NULL;
    e.r = h ? h->r : none;
    (void)apply_features(f, &e);
    (void)cpuid_set(out, 0x80000001u, 0, false, &e.r);
    for (uint32_t leaf = 0x80000002u; leaf <= 0x80000004u; leaf++) {
        h = hmaxe >= leaf ? cpuid_find(host, leaf, 0) : NULL;
        (void)cpuid_set(out, leaf, 0, false, h ? &h->r : &none);
    }
    /* 40 physical, 48 linear address bits (what the page walker does). */
    put(out, 0x80000008u, 0, false, 40 | 48 << 8, 0, 0, 0);
}

void cpuid_build(struct cpuid_table *out, const struct cpuid_table *offered,
                 enum cpuid_backend b)
{
    memset(out, 0, sizeof(*out));
    const struct cpuid_features *f = cpuid_backend_features(b);
    if (b == CPUID_BACKEND_EMU)
        build_emu(out, offered, f);
    else
        build_kvm(out, offered, f);
}
