/* Does this host's KVM run guest kernel-mode code natively?  Some KVMs
 * (e.g. PVM-style ones) interpret CPL0 and real-mode code in software at a
 * few million instructions per second, far slower than minus1's emulator.
 * The probe runs a short real-mode loop in a scratch VM and times it. */
#ifndef MINUS1_PROBE_H
#define MINUS1_PROBE_H

#include <stdbool.h>
#include <stdint.h>

struct kvm_probe_result {
    bool kvm_available;     /* /dev/kvm opened and a VM ran */
    bool native;            /* the loop ran at hardware speed */
    uint64_t iterations;
    double seconds;         /* time the loop took inside KVM_RUN */
    char reason[160];       /* why KVM is unavailable, if it is */
};

/* Takes well under 50 ms on both kinds of host. */
void kvm_probe(struct kvm_probe_result *r);

#endif
