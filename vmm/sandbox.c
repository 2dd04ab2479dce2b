/* seccomp filter for the running machine (libseccomp).  The allow lists
 * come from running real guests under `strace -f -c` and then under
 * --sandbox log until nothing was missing: SeaBIOS alone, iPXE with
 * --net user, the test guests, the monitor (screendump, change cdrom,
 * pcap), VNC clients.  docs/SANDBOX.md explains each group. */
#include "sandbox.h"

#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <linux/seccomp.h>

/* Always: memory, threads, time, the event loop, I/O on descriptors that
 * are already open (images, sockets, the log, the terminal). */
static const char *const base_calls[] = {
    /* descriptors already open */
    "read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev",
    "preadv2", "pwritev2", "lseek", "fsync", "fdatasync", "close", "fstat", "newfstatat",
    "statx", "fcntl", "dup",
    /* the event loop and its timers */
    "epoll_wait", "epoll_pwait", "epoll_ctl", "poll", "ppoll", "select", "pselect6",
    "timerfd_settime", "timerfd_gettime",
    /* sockets that exist: monitor, VNC, slirp's, a tap */
    "accept", "accept4", "recvfrom", "recvmsg", "sendto", "sendmsg", "shutdown",
    "getsockopt", "setsockopt", "getsockname", "getpeername",
    /* memory (malloc, thread stacks) */
    "brk", "mmap", "munmap", "mremap", "madvise", "mprotect",
    /* threads and signals (the vCPU kick is a tgkill) */
    "futex", "set_robust_list", "rseq", "sched_yield", "rt_sigreturn", "rt_sigprocmask",
    "rt_sigaction", "rt_sigtimedwait", "sigaltstack", "tgkill", "getpid", "gettid",
    "restart_syscall", "exit", "exit_group",
    /* time */
    "clock_gettime", "clock_getres", "clock_nanosleep", "nanosleep", "gettimeofday", "time",
    /* glibc/glib odds and ends */
    "getrandom", "uname", "prlimit64", "sched_getaffinity", "sysinfo",
};

/* A monitor can open files after start-up: screendump PATH (written to
 * PATH.tmp, renamed into place), change cdrom PATH, pcap start PATH; it
 * removes its socket at exit. */
static const char *const file_calls[] = {
    "openat", "open", "unlink", "rename", "renameat", "renameat2", "ftruncate",
};

/* --net user: slirp connects guest TCP/UDP flows with host sockets. */
static const char *const socket_calls[] = {
    "connect", "bind", "listen",
};

/* Only an attacker makes these: the process dies instead of getting EPERM. */
static const char *const kill_calls[] = {
    "execve", "execveat", "ptrace", "process_vm_readv", "process_vm_writev", "fork", "vfork",
    "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
    "mount", "umount2", "pivot_root", "chroot", "setns", "unshare", "bpf", "perf_event_open",
    "userfaultfd", "keyctl", "add_key", "request_key",
};

#define KVM_IOCTL_TYPE 0xAEu

/* ioctl: KVM's (type 0xAE, on the VM and vCPU fds) and the few terminal
 * and socket requests stdio and slirp make.  TUNSETIFF is not among them:
 * the tap is configured before the filter goes in. */
static const unsigned long tty_ioctls[] = { TCGETS, TCSETS, TCSETSW, TIOCGWINSZ, FIONBIO, FIONREAD };

static int add_list(scmp_filter_ctx ctx, uint32_t action, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int nr = seccomp_syscall_resolve_name(names[i]);
        if (nr == __NR_SCMP_ERROR)
            continue;                       /* not on this architecture */
        if (seccomp_rule_add(ctx, action, nr, 0) < 0)
            return -1;
    }
    return 0;
}

static int add_ioctls(scmp_filter_ctx ctx)
{
    /* _IOC: type in bits 8-15. */
    if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
                         SCMP_A1(SCMP_CMP_MASKED_EQ, 0xFF00u, KVM_IOCTL_TYPE << 8)) < 0)
        return -1;
    for (size_t i = 0; i < sizeof(tty_ioctls) / sizeof(tty_ioctls[0]); i++)
        if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
                             SCMP_A1(SCMP_CMP_EQ, tty_ioctls[i])) < 0)
            return -1;
    return 0;
}

/* socket(): only the internet families slirp uses, never AF_UNIX, raw
 * packet or netlink sockets. */
static int add_socket(scmp_filter_ctx ctx)
{
    static const int families[] = { AF_INET, AF_INET6 };
    for (size_t i = 0; i < 2; i++)
        if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
                             SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)families[i])) < 0)
            return -1;
    return add_list(ctx, SCMP_ACT_ALLOW, socket_calls, sizeof(socket_calls) / sizeof(socket_calls[0]));
}

bool sandbox_supported(void)
{
    /* PR_GET_SECCOMP answers 0 when the kernel has seccomp and we are not
     * already filtered in a way that forbids prctl (EINVAL: no seccomp). */
    return prctl(PR_GET_SECCOMP, 0, 0, 0, 0) >= 0 && seccomp_api_get() >= 1;
}

static int build_and_load(enum sandbox_mode mode, const struct sandbox_needs *needs,
                          const char **why)
{
    bool log_only = mode == SANDBOX_LOG;
    scmp_filter_ctx ctx = seccomp_init(log_only ? SCMP_ACT_LOG : SCMP_ACT_ERRNO(EPERM));
    if (!ctx) {
        *why = "seccomp_init failed";
        return -1;
    }
    int ok = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1) == 0;
    *why = "cannot build the filter";
    ok = ok && add_list(ctx, SCMP_ACT_ALLOW, base_calls, sizeof(base_calls) / sizeof(base_calls[0])) == 0;
    ok = ok && add_ioctls(ctx) == 0;
    if (needs && needs->open_files)
        ok = ok && add_list(ctx, SCMP_ACT_ALLOW, file_calls, sizeof(file_calls) / sizeof(file_calls[0])) == 0;
    if (needs && needs->host_sockets)
        ok = ok && add_socket(ctx) == 0;
    if (!log_only)
        ok = ok && add_list(ctx, SCMP_ACT_KILL_PROCESS, kill_calls,
                            sizeof(kill_calls) / sizeof(kill_calls[0])) == 0;
    if (ok) {
        int rc = seccomp_load(ctx);     /* sets no_new_privs, syncs all threads */
        if (rc < 0) {
            *why = rc == -ESRCH ? "a thread could not be synchronised" : "seccomp_load failed";
            ok = 0;
        }
    }
    seccomp_release(ctx);
    return ok ? 0 : -1;
}

int sandbox_apply(enum sandbox_mode mode, const struct sandbox_needs *needs, char *err,
                  size_t errlen)
{
    if (mode == SANDBOX_OFF)
        return 0;
    if (!sandbox_supported()) {
        if (mode == SANDBOX_DEFAULT)
            return 0;
        snprintf(err, errlen, "--sandbox: seccomp filters are not supported here");
        return -1;
    }
    const char *why = "";
    if (build_and_load(mode, needs, &why) < 0) {
        snprintf(err, errlen, "--sandbox: %s", why);
        return -1;
    }
    return 0;
}
