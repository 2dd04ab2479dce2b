/* The CPU model minus1 presents, shared by every backend: which CPUID bits
 * a guest sees.  Only what minus1 (or the backend underneath) really
 * implements is advertised. */
#ifndef MINUS1_CPUID_H
#define MINUS1_CPUID_H

#include <stdint.h>

struct cpuid_regs {
    uint32_t eax, ebx, ecx, edx;
};

/* Edits a leaf the host/KVM offered into the one the guest sees. */
void cpuid_model_filter(uint32_t leaf, uint32_t subleaf, struct cpuid_regs *r);

#endif
