#include "cpuid.h"

/* Leaf 1 bits we take away: there is no local APIC (our PIC is the only
 * interrupt controller, so Linux runs on the PIT and 8259), hence no
 * x2APIC and no TSC-deadline timer; no MONITOR/MWAIT, no VMX/SMX. */
#define L1_EDX_APIC   (1u << 9)
#define L1_ECX_MONITOR (1u << 3)
#define L1_ECX_VMX    (1u << 5)
#define L1_ECX_SMX    (1u << 6)
#define L1_ECX_X2APIC (1u << 21)
#define L1_ECX_TSCDL  (1u << 24)
#define L1_ECX_HYPERVISOR (1u << 31)

void cpuid_model_filter(uint32_t leaf, uint32_t subleaf, struct cpuid_regs *r)
{
    (void)subleaf;
    switch (leaf) {
    case 1:
        r->edx &= ~L1_EDX_APIC;
        r->ecx &= ~(L1_ECX_MONITOR | L1_ECX_VMX | L1_ECX_SMX | L1_ECX_X2APIC | L1_ECX_TSCDL);
        r->ecx |= L1_ECX_HYPERVISOR;
        /* One logical processor, APIC ID 0. */
        r->ebx &= 0x0000FFFFu;
        r->ebx |= 1u << 16;
        break;
    case 0x80000001:
        r->ecx &= ~(1u << 3);   /* no AMD x2APIC-style extended APIC */
        break;
    default:
        break;
    }
}
