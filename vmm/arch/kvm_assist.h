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

/* Delivers external interrupt vec (already acknowledged at the PIC) with
 * minus1's emulator when the vCPU is in 32-bit protected mode (see
 * kvm_assist.c for why KVM_INTERRUPT cannot be trusted there).  Returns
 * 1 when delivered, 0 on a triple fault (reset requested), -1 when the
 * caller must inject it through KVM (real, long or virtual-8086 mode, or
 * the emulator cannot help); nothing was changed then. */
int kvm_assist_interrupt(struct machine *m, int vec, struct kvm_assist **ap);

/* A KVM_EXIT_MMIO: when it comes from a REP MOVS/STOS (and continues
 * the previous MMIO exit), carries out the exit's own access and the
 * instruction's remaining elements in userspace (vmm/arch/rep_string.h)
 * and updates the registers; for a read exit the last element is handed
 * back to KVM through run->mmio.data.  Returns 1 when the exit was
 * handled so, 0 when the caller must handle it as usual (nothing was
 * done), -1 on a fatal error. */
int kvm_assist_rep_mmio(struct machine *m, int vcpu_fd, struct kvm_run *run,
                        struct kvm_assist **ap);

/* Releases the assist (NULL is fine). */
void kvm_assist_free(struct kvm_assist *a);

/* One line for `info accel`: how many instructions were emulated. */
size_t kvm_assist_info(const struct kvm_assist *a, char *buf, size_t len);

#endif
