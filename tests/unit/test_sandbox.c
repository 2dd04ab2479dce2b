/* The seccomp sandbox (vmm/sandbox.c): a forked child installs the filter
 * and tries what a compromised minus1 would; the parent checks the answers
 * and how the child ended.  The child leaves with _exit() (exit_group):
 * no atexit handlers, no leak checker, which would make calls the filter
 * refuses. */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../vmm/sandbox.h"

/* Bits of the child's exit status: each is one failed expectation. */
enum {
    BAD_APPLY = 1 << 0,
    BAD_ALLOWED = 1 << 1,       /* an allowed call failed */
    BAD_INET = 1 << 2,          /* socket(AF_INET) not refused with EPERM */
    BAD_UNIX = 1 << 3,          /* socket(AF_UNIX) not refused */
    BAD_OPEN = 1 << 4,          /* openat not refused */
    BAD_IOCTL = 1 << 5,         /* a non-KVM, non-tty ioctl not refused */
    BAD_INET_NEEDED = 1 << 6,   /* host_sockets: socket(AF_INET) refused */
};

static int refused(long rc)
{
    return rc == -1 && errno == EPERM;
}

/* The child: filter on, then probes.  Never returns. */
static void child(const struct sandbox_needs *needs, int sync_w, int go_r, bool try_exec)
{
    char err[160];
    int bad = 0;
    if (sandbox_apply(SANDBOX_ON, needs, err, sizeof(err)) < 0)
        _exit(BAD_APPLY);
    char c = 'x';
    /* Allowed: I/O on descriptors that exist, memory, time. */
    if (write(sync_w, &c, 1) != 1 || read(go_r, &c, 1) != 1)
        bad |= BAD_ALLOWED;
    void *p = malloc(1 << 20);          /* mmap */
    struct timespec ts;
    if (!p || clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
        bad |= BAD_ALLOWED;
    free(p);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (needs->host_sockets) {
        if (s < 0)
            bad |= BAD_INET_NEEDED;
    } else if (!refused(s)) {
        bad |= BAD_INET;
    }
    if (!refused(socket(AF_UNIX, SOCK_STREAM, 0)))
        bad |= BAD_UNIX;
    if (!needs->open_files && !refused(open("/etc/hostname", O_RDONLY)))
        bad |= BAD_OPEN;
    int n = 0;
    if (!refused(ioctl(sync_w, TIOCSTI, &n)))   /* terminal input injection */
        bad |= BAD_IOCTL;
    if (try_exec) {
        char *argv[] = { "/bin/true", NULL };
        execve("/bin/true", argv, NULL);        /* the filter kills us here */
    }
    _exit(bad);
}

/* Runs child() in a fork; returns its wait status and the parent's view of
 * /proc/PID/status while the filter was on. */
static int run_child(const struct sandbox_needs *needs, bool try_exec, int *seccomp_mode,
                     int *filters)
{
    int sync[2], go[2];
    CU_ASSERT_FATAL(pipe(sync) == 0 && pipe(go) == 0);
    fflush(NULL);
    pid_t pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        close(sync[0]);
        close(go[1]);
        child(needs, sync[1], go[0], try_exec);
    }
    close(sync[1]);
    close(go[0]);
    char c;
    *seccomp_mode = *filters = -1;
    if (read(sync[0], &c, 1) == 1) {
        char path[64], line[256];
        snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
        FILE *f = fopen(path, "r");
        while (f && fgets(line, sizeof(line), f)) {
            sscanf(line, "Seccomp: %d", seccomp_mode);
            sscanf(line, "Seccomp_filters: %d", filters);
        }
        if (f)
            fclose(f);
    }
    CU_ASSERT(write(go[1], "g", 1) == 1);
    int st = 0;
    CU_ASSERT(waitpid(pid, &st, 0) == pid);
    close(sync[0]);
    close(go[1]);
    return st;
}

static void test_forbidden_calls_refused(void)
{
    if (!sandbox_supported()) {
        fprintf(stderr, "(seccomp not supported here: skipped) ");
        return;
    }
    struct sandbox_needs needs = { false, false };
    int mode, filters;
    int st = run_child(&needs, false, &mode, &filters);
    CU_ASSERT(WIFEXITED(st));
    CU_ASSERT_EQUAL(WEXITSTATUS(st), 0);
    CU_ASSERT_EQUAL(mode, 2);                   /* SECCOMP_MODE_FILTER */
    CU_ASSERT(filters >= 1);
}

static void test_needs_widen_the_filter(void)
{
    if (!sandbox_supported())
        return;
    struct sandbox_needs needs = { true, true };
    int mode, filters;
    int st = run_child(&needs, false, &mode, &filters);
    CU_ASSERT(WIFEXITED(st));
    CU_ASSERT_EQUAL(WEXITSTATUS(st), 0);
    CU_ASSERT_EQUAL(mode, 2);
}

static void test_execve_kills(void)
{
    if (!sandbox_supported())
        return;
    struct sandbox_needs needs = { true, true };
    int mode, filters;
    int st = run_child(&needs, true, &mode, &filters);
    CU_ASSERT(WIFSIGNALED(st));
    CU_ASSERT_EQUAL(WIFSIGNALED(st) ? WTERMSIG(st) : 0, SIGSYS);
}

static void test_off_installs_nothing(void)
{
    char err[160] = "";
    pid_t pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        if (sandbox_apply(SANDBOX_OFF, NULL, err, sizeof(err)) < 0)
            _exit(1);
        int s = socket(AF_UNIX, SOCK_STREAM, 0);  /* still allowed */
        _exit(s >= 0 ? 0 : 2);
    }
    int st = 0;
    CU_ASSERT(waitpid(pid, &st, 0) == pid);
    CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

void suite_sandbox(void)
{
    CU_pSuite s = CU_add_suite("sandbox", NULL, NULL);
    CU_add_test(s, "forbidden calls fail with EPERM, Seccomp: 2", test_forbidden_calls_refused);
    CU_add_test(s, "host sockets and files when needed", test_needs_widen_the_filter);
    CU_add_test(s, "execve kills the process (SIGSYS)", test_execve_kills);
    CU_add_test(s, "--sandbox off installs nothing", test_off_installs_nothing);
}
