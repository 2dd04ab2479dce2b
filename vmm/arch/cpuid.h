/* The CPU model minus1 presents: the one place that decides which CPUID
 * leaves and feature bits a guest sees, for every backend.
 *
 * A backend hands in what the layer underneath offers (KVM's
 * KVM_GET_SUPPORTED_CPUID list, or the host's own CPUID for the
 * emulator) and gets the guest's leaf table back.  Each backend has an
 * explicit feature set (struct cpuid_features): the KVM backend may show
 * whatever KVM executes except what needs a device minus1 does not have
 * (local APIC, x2APIC, TSC-deadline timer, MONITOR/MWAIT, VMX/SMX); the
 * emulator shows only what it executes, and its descriptive leaves
 * (caches, XSAVE layout, address sizes) are built here rather than copied
 * from the host.  Dynamic bits (CPUID.1:ECX.OSXSAVE, which mirrors
 * CR4.OSXSAVE) are left clear in the table: the backend ORs them in. */
#ifndef MINUS1_CPUID_H
#define MINUS1_CPUID_H

#include <stdbool.h>
#include <stdint.h>

struct cpuid_regs {
    uint32_t eax, ebx, ecx, edx;
};

struct cpuid_entry {
    uint32_t leaf, sub;
    bool indexed;               /* ECX selects among subleaves (leaf 4, 7, 0xB, 0xD...) */
    struct cpuid_regs r;
};

#define CPUID_MAX_ENTRIES 128

struct cpuid_table {
    unsigned n;
    struct cpuid_entry e[CPUID_MAX_ENTRIES];
};

enum cpuid_backend { CPUID_BACKEND_KVM, CPUID_BACKEND_EMU };

/* What a backend may advertise: a bit clear here is clear in the guest's
 * table whatever the host or KVM offers. */
struct cpuid_features {
    uint32_t l1_ecx, l1_edx;            /* leaf 1 */
    uint32_t l7_ebx, l7_ecx, l7_edx;    /* leaf 7, subleaf 0 */
    uint32_t xsave_ext;                 /* leaf 0xD subleaf 1 EAX: XSAVEOPT, XSAVEC, XGETBV1, XSAVES */
    uint32_t e1_ecx, e1_edx;            /* leaf 0x80000001 */
    uint64_t xcr0;                      /* XSAVE state components (leaf 0xD) */
    uint32_t max_basic, max_ext;        /* caps on the maximum leaves */
};

/* Feature bits the rest of minus1 names. */
#define CPUID_1_ECX_SSE3       (1u << 0)
#define CPUID_1_ECX_MONITOR    (1u << 3)
#define CPUID_1_ECX_VMX        (1u << 5)
#define CPUID_1_ECX_SMX        (1u << 6)
#define CPUID_1_ECX_SSSE3      (1u << 9)
#define CPUID_1_ECX_CX16       (1u << 13)
#define CPUID_1_ECX_X2APIC     (1u << 21)
#define CPUID_1_ECX_TSCDEADLINE (1u << 24)
#define CPUID_1_ECX_XSAVE      (1u << 26)
#define CPUID_1_ECX_OSXSAVE    (1u << 27)
#define CPUID_1_ECX_HYPERVISOR (1u << 31)
#define CPUID_1_EDX_APIC       (1u << 9)
#define CPUID_D1_EAX_XSAVEOPT  (1u << 0)
#define CPUID_XCR0_X87         (1ull << 0)
#define CPUID_XCR0_SSE         (1ull << 1)
#define CPUID_XCR0_AVX         (1ull << 2)

/* Size of the standard-format XSAVE area for the x87 and SSE components:
 * the 512-byte legacy region and the 64-byte header. */
#define CPUID_XSAVE_LEGACY_SIZE 576u

const struct cpuid_features *cpuid_backend_features(enum cpuid_backend b);

/* The host's CPUID: every basic and extended leaf with the subleaves of
 * the indexed leaves the model reads (the emulator's source). */
void cpuid_host_table(struct cpuid_table *t);

/* Builds the guest's table for backend b from what the layer underneath
 * offers.  `offered` must hold leaf 0 (vendor, maximum leaf). */
void cpuid_build(struct cpuid_table *out, const struct cpuid_table *offered,
                 enum cpuid_backend b);

/* A guest's CPUID instruction: the entry for (leaf, sub) with the CPU's
 * rules for leaves above the maximum (Intel: the highest basic leaf's
 * answer; other vendors: zeros); leaves inside the range that the table
 * does not hold read as zeros. */
struct cpuid_regs cpuid_lookup(const struct cpuid_table *t, uint32_t leaf, uint32_t sub);

/* The stored entry, or NULL. */
const struct cpuid_entry *cpuid_find(const struct cpuid_table *t, uint32_t leaf, uint32_t sub);

/* Adds or replaces an entry; false when the table is full. */
bool cpuid_set(struct cpuid_table *t, uint32_t leaf, uint32_t sub, bool indexed,
               const struct cpuid_regs *r);

#endif
