#include <CUnit/CUnit.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../../vmm/loop.h"
#include "../../vmm/monitor.h"

/* What the last handler saw. */
struct seen {
    const char *which;
    int argc;
    char argv[8][64];
};

static void remember(struct seen *s, const char *which, int argc, char **argv)
{
    s->which = which;
    s->argc = argc;
    for (int i = 0; i < argc && i < 8; i++)
        snprintf(s->argv[i], sizeof(s->argv[i]), "%s", argv[i]);
}

static int cmd_info(void *opaque, struct monitor_reply *r, int argc, char **argv)
{
    remember(opaque, "info", argc, argv);
    monitor_printf(r, "info what?");       /* no newline: the monitor adds it */
    return 0;
}

static int cmd_info_status(void *opaque, struct monitor_reply *r, int argc, char **argv)
{
    remember(opaque, "info status", argc, argv);
    monitor_printf(r, "status: running\n");
    return 0;
}

static int cmd_set(void *opaque, struct monitor_reply *r, int argc, char **argv)
{
    remember(opaque, "set", argc, argv);
    if (argc != 2) {
        monitor_error(r, "usage: set NAME VALUE");
        return -1;
    }
    monitor_printf(r, "%s=%s\n", argv[0], argv[1]);
    return 0;
}

static int cmd_fail_silently(void *opaque, struct monitor_reply *r, int argc, char **argv)
{
    remember(opaque, "fail", argc, argv);
    (void)r;
    return -1;
}

/* Prints 100 KiB: lets a test overrun a client that does not read. */
static int cmd_flood(void *opaque, struct monitor_reply *r, int argc, char **argv)
{
    (void)opaque;
    static char line[1025];
    int times = argc > 0 ? atoi(argv[0]) : 1;
    if (times < 1 || times > 10)
        times = 1;
    memset(line, 'f', 1023);
    line[1023] = '\n';
    for (int i = 0; i < 100 * times; i++)
        monitor_printf(r, "%s", line);
    return 0;
}

static void add_test_commands(struct monitor *m, struct seen *s)
{
    CU_ASSERT_EQUAL(monitor_add_command(m, "info", "show things", cmd_info, s), 0);
    CU_ASSERT_EQUAL(monitor_add_command(m, "info status", "run state", cmd_info_status, s), 0);
    CU_ASSERT_EQUAL(monitor_add_command(m, "set", "set NAME VALUE", cmd_set, s), 0);
    CU_ASSERT_EQUAL(monitor_add_command(m, "fail", NULL, cmd_fail_silently, s), 0);
    CU_ASSERT_EQUAL(monitor_add_command(m, "flood", "print 100 KiB", cmd_flood, s), 0);
}

static void test_execute(void)
{
    char err[128] = "", out[4096];
    struct seen s = { 0 };
    struct monitor *m = monitor_create(NULL, NULL, NULL, err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    add_test_commands(m, &s);

    /* Multi-word: the longest registered name wins. */
    CU_ASSERT_EQUAL(monitor_execute(m, "info status", out, sizeof(out)), 0);
    CU_ASSERT_STRING_EQUAL(out, "status: running\nok\n");
    CU_ASSERT_STRING_EQUAL(s.which, "info status");
    CU_ASSERT_EQUAL(s.argc, 0);

    CU_ASSERT_EQUAL(monitor_execute(m, "  info \t status   extra\r\n", out, sizeof(out)), 0);
    CU_ASSERT_STRING_EQUAL(s.which, "info status");
    CU_ASSERT_EQUAL(s.argc, 1);
    CU_ASSERT_STRING_EQUAL(s.argv[0], "extra");

    /* A prefix of a longer name is not enough: "info stat" is "info". */
    CU_ASSERT_EQUAL(monitor_execute(m, "info stat", out, sizeof(out)), 0);
    CU_ASSERT_STRING_EQUAL(out, "info what?\nok\n");
    CU_ASSERT_STRING_EQUAL(s.which, "info");
    CU_ASSERT_EQUAL(s.argc, 1);
    CU_ASSERT_STRING_EQUAL(s.argv[0], "stat");

    CU_ASSERT_EQUAL(monitor_execute(m, "set a b", out, sizeof(out)), 0);
    CU_ASSERT_STRING_EQUAL(out, "a=b\nok\n");
    CU_ASSERT_EQUAL(s.argc, 2);
    CU_ASSERT_STRING_EQUAL(s.argv[1], "b");

    CU_ASSERT_EQUAL(monitor_execute(m, "set a", out, sizeof(out)), -1);
    CU_ASSERT_STRING_EQUAL(out, "error: usage: set NAME VALUE\n");

    CU_ASSERT_EQUAL(monitor_execute(m, "fail", out, sizeof(out)), -1);
    CU_ASSERT_EQUAL(strncmp(out, "error: ", 7), 0);

    /* Unknown commands name the first word, made printable. */
    CU_ASSERT_EQUAL(monitor_execute(m, "frobnicate now", out, sizeof(out)), -1);
    CU_ASSERT_STRING_EQUAL(out, "error: unknown command 'frobnicate'\n");
    CU_ASSERT_EQUAL(monitor_execute(m, "in\x01\x7f", out, sizeof(out)), -1);
    CU_ASSERT_STRING_EQUAL(out, "error: unknown command 'in?\?'\n");
    /* "info" must be a whole word. */
    CU_ASSERT_EQUAL(monitor_execute(m, "informal", out, sizeof(out)), -1);

    /* Blank lines still get their reply. */
    CU_ASSERT_EQUAL(monitor_execute(m, "   ", out, sizeof(out)), 0);
    CU_ASSERT_STRING_EQUAL(out, "ok\n");

    /* help lists every command with its help text. */
    CU_ASSERT_EQUAL(monitor_execute(m, "help", out, sizeof(out)), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "info status"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "run state"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "set NAME VALUE"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "help "));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "fail\n"));
    size_t len = strlen(out);
    CU_ASSERT(len > 3 && strcmp(out + len - 3, "ok\n") == 0);
    CU_ASSERT_EQUAL(monitor_execute(m, "help info", out, sizeof(out)), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "run state"));
    CU_ASSERT_PTR_NULL(strstr(out, "set NAME"));
    CU_ASSERT_EQUAL(monitor_execute(m, "help nothing", out, sizeof(out)), -1);

    /* Registration rules. */
    CU_ASSERT_EQUAL(monitor_add_command(m, "info  status", "dup", cmd_info, &s), -1);
    CU_ASSERT_EQUAL(monitor_add_command(m, "   ", "empty", cmd_info, &s), -1);
    CU_ASSERT_EQUAL(monitor_add_command(m, "x", "no fn", NULL, &s), -1);

    /* Hostile input: too many words, an overlong line, a tiny out buffer. */
    char big[8192];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    CU_ASSERT_EQUAL(monitor_execute(m, big, out, sizeof(out)), -1);
    CU_ASSERT_STRING_EQUAL(out, "error: line too long\n");
    char many[1024] = "set";
    for (int i = 0; i < 100; i++)
        strcat(many, " x");
    CU_ASSERT_EQUAL(monitor_execute(m, many, out, sizeof(out)), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "too many words"));
    char tiny[4];
    CU_ASSERT_EQUAL(monitor_execute(m, "info status", tiny, sizeof(tiny)), 0);
    CU_ASSERT_STRING_EQUAL(tiny, "sta");
    CU_ASSERT_EQUAL(monitor_execute(m, "info status", NULL, 0), 0);

    /* Output beyond the per-reply cap is cut, and says so. */
    static char huge[512 * 1024];
    CU_ASSERT_EQUAL(monitor_execute(m, "flood", huge, sizeof(huge)), 0);
    CU_ASSERT_EQUAL(strlen(huge), 102400 + 3);
    CU_ASSERT_EQUAL(monitor_execute(m, "flood 3", huge, sizeof(huge)), 0);
    CU_ASSERT_EQUAL(strlen(huge), 256 * 1024 + strlen("(output truncated)\nok\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(huge, "ff\n(output truncated)\nok\n"));
    monitor_destroy(m);
}

static void test_create_errors(void)
{
    char err[160];
    struct loop l;
    CU_ASSERT_EQUAL_FATAL(loop_init(&l, NULL, NULL), 0);
    CU_ASSERT_PTR_NULL(monitor_create(&l, "tcp:4444", NULL, err, sizeof(err)));
    CU_ASSERT_STRING_EQUAL(err, "--monitor: expected unix:PATH");
    CU_ASSERT_PTR_NULL(monitor_create(&l, "unix:", NULL, err, sizeof(err)));
    CU_ASSERT_STRING_EQUAL(err, "--monitor: expected unix:PATH");
    CU_ASSERT_PTR_NULL(monitor_create(&l, "", NULL, err, sizeof(err)));
    char longpath[300] = "unix:/tmp/";
    memset(longpath + 10, 'p', 200);
    longpath[210] = '\0';
    CU_ASSERT_PTR_NULL(monitor_create(&l, longpath, NULL, err, sizeof(err)));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "too long"));

    /* A regular file at the path is not ours to delete. */
    char path[64], spec[80];
    snprintf(path, sizeof(path), "/tmp/minus1-test-mon-file-%d", (int)getpid());
    snprintf(spec, sizeof(spec), "unix:%s", path);
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fclose(f);
    CU_ASSERT_PTR_NULL(monitor_create(&l, spec, NULL, err, sizeof(err)));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "not a socket"));
    struct stat st;
    CU_ASSERT_EQUAL(stat(path, &st), 0);
    unlink(path);
    loop_destroy(&l);
}

/* ---- a real client on the socket ---------------------------------------- */

static uint64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int connect_to(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void send_all(int fd, const char *s, size_t n)
{
    while (n) {
        ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

/* Runs the loop (this thread is both server and client) and reads until
 * the text received so far ends with `until`, EOF, or 2 s pass.  Returns
 * the length read; *eof tells whether the server closed the connection. */
static size_t converse(struct loop *l, int fd, char *buf, size_t size, const char *until,
                       bool *eof)
{
    size_t len = 0, ulen = until ? strlen(until) : 0;
    uint64_t start = wall_ms();
    *eof = false;
    buf[0] = '\0';
    while (wall_ms() - start < 2000) {
        loop_run_once(l, 5);
        for (;;) {
            if (len + 1 >= size)
                return len;
            ssize_t n = recv(fd, buf + len, size - 1 - len, MSG_DONTWAIT);
            if (n > 0) {
                len += (size_t)n;
                buf[len] = '\0';
                continue;
            }
            if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
                *eof = true;
            break;
        }
        if (*eof || (ulen && len >= ulen && strcmp(buf + len - ulen, until) == 0))
            return len;
    }
    return len;
}

struct sock_env {
    struct loop l;
    struct monitor *m;
    struct seen s;
    char path[64];
};

static bool env_up(struct sock_env *e)
{
    char err[160] = "", spec[80];
    memset(&e->s, 0, sizeof(e->s));
    snprintf(e->path, sizeof(e->path), "/tmp/minus1-test-mon-%d.sock", (int)getpid());
    snprintf(spec, sizeof(spec), "unix:%s", e->path);
    if (loop_init(&e->l, NULL, NULL) < 0)
        return false;
    e->m = monitor_create(&e->l, spec, NULL, err, sizeof(err));
    if (!e->m) {
        fprintf(stderr, "monitor_create: %s\n", err);
        loop_destroy(&e->l);
        return false;
    }
    add_test_commands(e->m, &e->s);
    return true;
}

static void env_down(struct sock_env *e)
{
    monitor_destroy(e->m);
    loop_destroy(&e->l);
    struct stat st;
    CU_ASSERT_EQUAL(stat(e->path, &st), -1);    /* destroy removed the socket */
}

static void test_socket_client(void)
{
    static struct sock_env e;
    char buf[8192];
    bool eof;
    CU_ASSERT_FATAL(env_up(&e));
    int fd = connect_to(e.path);
    CU_ASSERT_FATAL(fd >= 0);

    send_all(fd, "info status\n", 12);
    converse(&e.l, fd, buf, sizeof(buf), "ok\n", &eof);
    CU_ASSERT_STRING_EQUAL(buf, "status: running\nok\n");
    CU_ASSERT_FALSE(eof);

    /* An overlong line: one error, the rest of it is skipped, the
     * connection keeps working. */
    static char longline[6001];
    memset(longline, 'z', 6000);
    longline[6000] = '\n';
    send_all(fd, longline, sizeof(longline));
    converse(&e.l, fd, buf, sizeof(buf), "\n", &eof);
    CU_ASSERT_STRING_EQUAL(buf, "error: line too long\n");
    send_all(fd, "info status\r\n", 13);
    converse(&e.l, fd, buf, sizeof(buf), "ok\n", &eof);
    CU_ASSERT_STRING_EQUAL(buf, "status: running\nok\n");

    /* Two commands in one write, and one split across writes. */
    send_all(fd, "set a 1\nbogus\n", 14);
    converse(&e.l, fd, buf, sizeof(buf), "'bogus'\n", &eof);
    CU_ASSERT_STRING_EQUAL(buf, "a=1\nok\nerror: unknown command 'bogus'\n");
    send_all(fd, "set b", 5);
    for (int i = 0; i < 10; i++)
        loop_run_once(&e.l, 2);
    CU_ASSERT_EQUAL(recv(fd, buf, sizeof(buf), MSG_DONTWAIT), -1);   /* no reply yet */
    send_all(fd, " 2\n", 3);
    converse(&e.l, fd, buf, sizeof(buf), "ok\n", &eof);
    CU_ASSERT_STRING_EQUAL(buf, "b=2\nok\n");
    CU_ASSERT_STRING_EQUAL(e.s.argv[1], "2");

    /* A reply is still delivered after the client shuts its sending side. */
    send_all(fd, "info status\n", 12);
    shutdown(fd, SHUT_WR);
    converse(&e.l, fd, buf, sizeof(buf), NULL, &eof);
    CU_ASSERT_STRING_EQUAL(buf, "status: running\nok\n");
    CU_ASSERT(eof);
    close(fd);
    env_down(&e);
}

/* Clients are bounded; a closed client frees its slot. */
static void test_client_limit(void)
{
    static struct sock_env e;
    char buf[256];
    bool eof;
    CU_ASSERT_FATAL(env_up(&e));
    int first = connect_to(e.path);
    CU_ASSERT_FATAL(first >= 0);
    send_all(first, "info status\n", 12);
    converse(&e.l, first, buf, sizeof(buf), "ok\n", &eof);
    close(first);
    for (int i = 0; i < 5; i++)
        loop_run_once(&e.l, 5);

    int fds[8];
    int ok = 0;
    for (int i = 0; i < 8; i++) {
        fds[i] = connect_to(e.path);
        send_all(fds[i], "info status\n", 12);
        converse(&e.l, fds[i], buf, sizeof(buf), "ok\n", &eof);
        ok += strcmp(buf, "status: running\nok\n") == 0;
    }
    CU_ASSERT_EQUAL(ok, 8);
    int extra = connect_to(e.path);
    CU_ASSERT_FATAL(extra >= 0);
    converse(&e.l, extra, buf, sizeof(buf), NULL, &eof);
    CU_ASSERT_STRING_EQUAL(buf, "error: too many clients\n");
    CU_ASSERT(eof);
    close(extra);
    /* The others are unaffected. */
    send_all(fds[7], "set x y\n", 8);
    converse(&e.l, fds[7], buf, sizeof(buf), "ok\n", &eof);
    CU_ASSERT_STRING_EQUAL(buf, "x=y\nok\n");
    for (int i = 0; i < 8; i++)
        close(fds[i]);
    env_down(&e);
}

/* A client that sends commands but never reads is dropped once its queued
 * output hits the cap; the loop never blocks on it. */
static void test_slow_reader_dropped(void)
{
    static struct sock_env e;
    static char buf[64 * 1024];
    bool eof = false;
    CU_ASSERT_FATAL(env_up(&e));
    int fd = connect_to(e.path);
    CU_ASSERT_FATAL(fd >= 0);
    char cmds[40 * 6 + 1] = "";
    for (int i = 0; i < 40; i++)
        strcat(cmds, "flood\n");       /* 40 x 100 KiB, far beyond the cap */
    send_all(fd, cmds, strlen(cmds));
    uint64_t start = wall_ms();
    for (int i = 0; i < 50; i++)
        loop_run_once(&e.l, 5);         /* never blocks: we are not reading */
    CU_ASSERT(wall_ms() - start < 2000);
    /* Now read: what was sent arrives, then EOF (not the 4 MB). */
    size_t total = 0;
    start = wall_ms();
    while (!eof && wall_ms() - start < 3000) {
        loop_run_once(&e.l, 1);
        ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n > 0)
            total += (size_t)n;
        else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
            eof = true;
    }
    CU_ASSERT(eof);
    CU_ASSERT(total < 40u * 102400);
    close(fd);

    /* A new client is served normally. */
    fd = connect_to(e.path);
    send_all(fd, "info status\n", 12);
    converse(&e.l, fd, buf, sizeof(buf), "ok\n", &eof);
    CU_ASSERT_STRING_EQUAL(buf, "status: running\nok\n");
    close(fd);
    env_down(&e);
}

/* A socket left behind by a dead process is replaced. */
static void test_stale_socket(void)
{
    static struct sock_env e;
    char path[64];
    snprintf(path, sizeof(path), "/tmp/minus1-test-mon-%d.sock", (int)getpid());
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    unlink(path);
    CU_ASSERT_EQUAL_FATAL(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
    close(s);   /* the file stays, nobody listens */
    CU_ASSERT_FATAL(env_up(&e));

    /* A second monitor on a live socket is refused, the first survives. */
    char err[160], spec[80];
    snprintf(spec, sizeof(spec), "unix:%s", path);
    CU_ASSERT_PTR_NULL(monitor_create(&e.l, spec, NULL, err, sizeof(err)));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "in use"));
    int fd = connect_to(e.path);
    char buf[256];
    bool eof;
    send_all(fd, "info status\n", 12);
    converse(&e.l, fd, buf, sizeof(buf), "ok\n", &eof);
    CU_ASSERT_STRING_EQUAL(buf, "status: running\nok\n");
    close(fd);
    env_down(&e);
}

void suite_monitor(void)
{
    CU_pSuite s = CU_add_suite("monitor", NULL, NULL);
    CU_add_test(s, "monitor_execute: commands, errors, help", test_execute);
    CU_add_test(s, "monitor_create errors", test_create_errors);
    CU_add_test(s, "unix socket client", test_socket_client);
    CU_add_test(s, "client limit and slot reuse", test_client_limit);
    CU_add_test(s, "non-reading client is dropped", test_slow_reader_dropped);
    CU_add_test(s, "stale socket replaced, live one kept", test_stale_socket);
}
