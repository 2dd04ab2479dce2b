#include "probe.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* 20000 iterations of `loop`: microseconds on hardware virtualization,
 * ~15 ms where KVM interprets CPL0 code (~1.2 M iterations/s). */
#define PROBE_ITERATIONS 20000u
/* Anything faster than this is hardware execution (an interpreter in the
 * host kernel manages a few million per second). */
#define NATIVE_ITERATIONS_PER_SEC 50e6

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct probe_vm {
    int kvm, vm, vcpu;
    struct kvm_run *run;
    size_t run_size;
    uint8_t *mem;
};

static void probe_close(struct probe_vm *p)
{
    if (p->run)
        munmap(p->run, p->run_size);
    if (p->mem)
        munmap(p->mem, 4096);
    if (p->vcpu >= 0)
        close(p->vcpu);
    if (p->vm >= 0)
        close(p->vm);
    if (p->kvm >= 0)
        close(p->kvm);
}

static int fail(struct kvm_probe_result *r, const char *what)
{
    snprintf(r->reason, sizeof(r->reason), "%s: %s", what, strerror(errno));
    return -1;
}

/* Real mode at 0000:0000: mov cx, N; l: loop l; hlt */
static void write_code(uint8_t *mem)
{
    const uint8_t code[] = { 0xB9, PROBE_ITERATIONS & 0xFF, PROBE_ITERATIONS >> 8,
                             0xE2, 0xFE, 0xF4 };
    memcpy(mem, code, sizeof(code));
}

static int probe_setup(struct probe_vm *p, struct kvm_probe_result *r)
{
    p->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (p->kvm < 0)
        return fail(r, "/dev/kvm");
    p->vm = ioctl(p->kvm, KVM_CREATE_VM, 0);
    if (p->vm < 0)
        return fail(r, "KVM_CREATE_VM");
    p->mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p->mem == MAP_FAILED) {
        p->mem = NULL;
        return fail(r, "mmap");
    }
    write_code(p->mem);
    struct kvm_userspace_memory_region region = {
        .slot = 0, .guest_phys_addr = 0, .memory_size = 4096,
        .userspace_addr = (uint64_t)(uintptr_t)p->mem,
    };
    if (ioctl(p->vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
        return fail(r, "KVM_SET_USER_MEMORY_REGION");
    (void)ioctl(p->vm, KVM_SET_TSS_ADDR, 0xfffbd000ul);
    p->vcpu = ioctl(p->vm, KVM_CREATE_VCPU, 0);
    if (p->vcpu < 0)
        return fail(r, "KVM_CREATE_VCPU");
    int sz = ioctl(p->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (sz <= 0)
        return fail(r, "KVM_GET_VCPU_MMAP_SIZE");
    p->run_size = (size_t)sz;
    p->run = mmap(NULL, p->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, p->vcpu, 0);
    if (p->run == MAP_FAILED) {
        p->run = NULL;
        return fail(r, "mmap kvm_run");
    }
    struct kvm_sregs sr;
    if (ioctl(p->vcpu, KVM_GET_SREGS, &sr) < 0)
        return fail(r, "KVM_GET_SREGS");
    sr.cs.base = 0;
    sr.cs.selector = 0;
    struct kvm_regs regs = { .rip = 0, .rflags = 2 };
    if (ioctl(p->vcpu, KVM_SET_SREGS, &sr) < 0 || ioctl(p->vcpu, KVM_SET_REGS, &regs) < 0)
        return fail(r, "KVM_SET_REGS");
    return 0;
}

void kvm_probe(struct kvm_probe_result *r)
{
    struct probe_vm p = { .kvm = -1, .vm = -1, .vcpu = -1 };
    memset(r, 0, sizeof(*r));
    r->iterations = PROBE_ITERATIONS;
    if (probe_setup(&p, r) == 0) {
        double t0 = now_s();
        int rc;
        /* Page faults on first touch or signals may exit early: go on. */
        do {
            rc = ioctl(p.vcpu, KVM_RUN, 0);
        } while ((rc < 0 && errno == EINTR) ||
                 (rc == 0 && p.run->exit_reason == KVM_EXIT_INTR));
        r->seconds = now_s() - t0;
        if (rc < 0)
            fail(r, "KVM_RUN");
        else if (p.run->exit_reason != KVM_EXIT_HLT)
            snprintf(r->reason, sizeof(r->reason), "probe VM exited with reason %u",
                     p.run->exit_reason);
        else {
            r->kvm_available = true;
            r->native = (double)PROBE_ITERATIONS / (r->seconds > 0 ? r->seconds : 1e-9) >
                        NATIVE_ITERATIONS_PER_SEC;
        }
    }
    probe_close(&p);
}
