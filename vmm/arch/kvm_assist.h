/* KVM assist: when KVM's in-kernel instruction emulator gives up
 * (KVM_EXIT_INTERNAL_ERROR, emulation failure -- on our hosts e.g. IRETD
 * in 32-bit protected mode or BSWAP inside ISOLINUX), minus1's own
 * emulator runs the faulting instruction on the vCPU state and guest
 * memory, and KVM resumes after it. */
#ifndef MINUS1_KVM_ASSIST_H
#define MINUS1_KVM_ASSIST_H

#include <stddef.h>
#include <stdint.h>

struct machine;
struct kvm_run;
struct kvm_assist;

/* Handles an emulation-failure exit of the vCPU vcpu_fd.  *ap holds the
 * assist, created on first use (NULL before).  Returns 1 when the
 * instruction was emulated and the guest can resume, 0 when the guest
 * triple-faulted (a reset was requested; leave run()), -1 when the
 * assist cannot help (64-bit or virtual-8086 code, an instruction our
 * emulator lacks, out of memory): the caller reports the failure. */
int kvm_assist_emulation_failure(struct machine *m, int vcpu_fd, struct kvm_run *run,
                                 struct kvm_assist **ap);

/* Releases the assist (NULL is fine). */
void kvm_assist_free(struct kvm_assist *a);

/* One line for `info accel`: how many instructions were emulated. */
size_t kvm_assist_info(const struct kvm_assist *a, char *buf, size_t len);

#endif
