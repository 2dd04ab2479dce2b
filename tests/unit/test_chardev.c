/* Character backends: specs, file output, escapes, flow control. */
#include <CUnit/CUnit.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "../../vmm/chardev.h"

/* A stand-in device that takes at most `budget` bytes. */
struct sink {
    uint8_t got[16384];
    size_t len;
    size_t budget;
    unsigned quits;
    unsigned watch_calls;
    bool watch_last;
};

static size_t sink_can_receive(void *opaque)
{
    struct sink *s = opaque;
    return s->budget;
}

static void sink_receive(void *opaque, const uint8_t *buf, size_t len)
{
    struct sink *s = opaque;
    CU_ASSERT(len <= s->budget);
    if (len > sizeof(s->got) - s->len)
        len = sizeof(s->got) - s->len;
    memcpy(s->got + s->len, buf, len);
    s->len += len;
    s->budget -= len;
}

static void sink_quit(void *opaque) { ((struct sink *)opaque)->quits++; }

static void sink_watch(void *opaque, bool want)
{
    struct sink *s = opaque;
    s->watch_calls++;
    s->watch_last = want;
}

static void test_bad_specs(void)
{
    static const char *const bad[] = { "foo", "file:", "", "stdio2", "File:/tmp/x", "nonex",
                                       "file:/tmp", "file:/nonexistent-minus1-dir/x" };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct chardev c;
        char err[256] = { 0 };
        CU_ASSERT_EQUAL(chardev_open(&c, bad[i], NULL, err, sizeof(err)), -1);
        CU_ASSERT(strlen(err) > 0);
        CU_ASSERT_PTR_NULL(strchr(err, '\n'));      /* one line */
    }
    struct chardev c;
    char err[256];
    CU_ASSERT_EQUAL(chardev_open(&c, NULL, NULL, err, sizeof(err)), -1);
    CU_ASSERT_EQUAL(chardev_open(&c, "file:/nonexistent-minus1-dir/x", NULL, err, sizeof(err)), -1);
    CU_ASSERT_STRING_EQUAL(err, "cannot open '/nonexistent-minus1-dir/x': No such file or directory");
    CU_ASSERT_EQUAL(chardev_open(&c, "file:/tmp", NULL, err, sizeof(err)), -1);
    CU_ASSERT_STRING_EQUAL(err, "cannot open '/tmp': Is a directory");
    CU_ASSERT_EQUAL(chardev_open(&c, "foo", NULL, err, sizeof(err)), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "'foo'"));
    /* A tiny or missing error buffer is not overrun. */
    char small[4] = { 'x', 'x', 'x', 'x' };
    CU_ASSERT_EQUAL(chardev_open(&c, "foo", NULL, small, 3), -1);
    CU_ASSERT_EQUAL(small[2], 0);
    CU_ASSERT_EQUAL(small[3], 'x');
    CU_ASSERT_EQUAL(chardev_open(&c, "foo", NULL, NULL, 0), -1);
}

static void test_none(void)
{
    struct chardev c;
    char err[64];
    CU_ASSERT_EQUAL_FATAL(chardev_open(&c, "none", NULL, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(c.kind, CHARDEV_NONE);
    CU_ASSERT_EQUAL(c.in_fd, -1);
    CU_ASSERT_EQUAL(c.out_fd, -1);
    CU_ASSERT_FALSE(chardev_wants_input(&c));
    chardev_write(&c, (const uint8_t *)"discard", 7);
    chardev_read_ready(&c);
    chardev_accept_input(&c);
    chardev_close(&c);
    chardev_close(&c);
}

static void test_file(void)
{
    char path[] = "/tmp/minus1-chardev-XXXXXX";
    int fd = mkstemp(path);
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_EQUAL(write(fd, "old contents here", 17), 17);
    close(fd);
    char spec[64], err[64];
    snprintf(spec, sizeof(spec), "file:%s", path);
    struct chardev c;
    CU_ASSERT_EQUAL_FATAL(chardev_open(&c, spec, NULL, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(c.kind, CHARDEV_FILE);
    CU_ASSERT_EQUAL(c.in_fd, -1);                   /* no input */
    CU_ASSERT_FALSE(chardev_wants_input(&c));
    CU_ASSERT(fcntl(c.out_fd, F_GETFD) & FD_CLOEXEC);
    chardev_write(&c, (const uint8_t *)"abc", 3);
    chardev_write(&c, (const uint8_t *)"", 0);
    chardev_write(&c, (const uint8_t *)"\0\xff", 2);    /* binary-safe */
    struct stat st;
    CU_ASSERT_EQUAL(stat(path, &st), 0);
    CU_ASSERT_EQUAL(st.st_size, 5);                 /* truncated, then unbuffered */
    chardev_close(&c);
    chardev_close(&c);
    char buf[16];
    fd = open(path, O_RDONLY);
    CU_ASSERT_EQUAL(read(fd, buf, sizeof(buf)), 5);
    CU_ASSERT_EQUAL(memcmp(buf, "abc\0\xff", 5), 0);
    close(fd);

    /* Created with 0644 (less the umask). */
    unlink(path);
    mode_t mask = umask(0);
    umask(mask);
    CU_ASSERT_EQUAL_FATAL(chardev_open(&c, spec, NULL, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(stat(path, &st), 0);
    CU_ASSERT_EQUAL(st.st_mode & 0777, 0644 & ~mask);
    chardev_close(&c);
    unlink(path);
}

static void test_stdio_fds(void)
{
    /* Only when stdin is not a terminal: a test must not change the tty. */
    if (isatty(STDIN_FILENO))
        return;
    struct chardev c;
    char err[64];
    CU_ASSERT_EQUAL_FATAL(chardev_open(&c, "stdio", NULL, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(c.kind, CHARDEV_STDIO);
    CU_ASSERT_EQUAL(c.in_fd, STDIN_FILENO);
    CU_ASSERT_EQUAL(c.out_fd, STDOUT_FILENO);
    CU_ASSERT_FALSE(c.tty_raw);
    CU_ASSERT_TRUE(c.escapes);
    chardev_close(&c);
    CU_ASSERT(fcntl(STDOUT_FILENO, F_GETFD) >= 0);  /* stdio is not closed */
}

/* stdio on a pseudo-terminal standing in for fd 0: raw mode while open,
 * the old settings back after close, and C-a x works even when the
 * device never takes input. */
static void test_stdio_tty(void)
{
    int master = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK);
    CU_ASSERT_FATAL(master >= 0);
    CU_ASSERT_FATAL(grantpt(master) == 0 && unlockpt(master) == 0);
    int slave = open(ptsname(master), O_RDWR | O_NOCTTY);
    CU_ASSERT_FATAL(slave >= 0);
    struct termios before;
    CU_ASSERT_FATAL(tcgetattr(slave, &before) == 0);
    CU_ASSERT(before.c_lflag & ICANON);
    int saved_stdin = dup(STDIN_FILENO);
    CU_ASSERT_FATAL(saved_stdin >= 0);
    CU_ASSERT_FATAL(dup2(slave, STDIN_FILENO) == STDIN_FILENO);

    static struct sink s;
    memset(&s, 0, sizeof(s));
    struct chardev c;
    char err[64];
    int rc = chardev_open(&c, "stdio", NULL, err, sizeof(err));
    CU_ASSERT_EQUAL(rc, 0);
    if (rc == 0) {
        CU_ASSERT_TRUE(c.tty_raw);
        struct termios t;
        tcgetattr(slave, &t);
        CU_ASSERT_FALSE(t.c_lflag & (ICANON | ECHO | ISIG));
        CU_ASSERT_FALSE(t.c_iflag & ICRNL);
        /* A second stdio chardev must not take over the restore. */
        struct chardev c2;
        CU_ASSERT_EQUAL(chardev_open(&c2, "stdio", NULL, err, sizeof(err)), 0);
        CU_ASSERT_FALSE(c2.tty_raw);
        chardev_close(&c2);
        tcgetattr(slave, &t);
        CU_ASSERT_FALSE(t.c_lflag & ICANON);
        c.out_fd = -1;                      /* keep help text off the test's stdout */
        chardev_set_handlers(&c, sink_can_receive, sink_receive, &s);
        chardev_set_quit_handler(&c, sink_quit, &s);
        /* Fill the input buffer; the device takes nothing. */
        static char junk[512];
        memset(junk, 'j', sizeof(junk));
        for (int i = 0; i < 12; i++) {
            CU_ASSERT_EQUAL(write(master, junk, sizeof(junk)), (ssize_t)sizeof(junk));
            chardev_read_ready(&c);
        }
        CU_ASSERT_EQUAL(c.in_len, CHARDEV_INBUF);
        CU_ASSERT_TRUE(chardev_wants_input(&c));
        CU_ASSERT_EQUAL(write(master, "\x01x", 2), 2);
        chardev_read_ready(&c);
        CU_ASSERT_EQUAL(s.quits, 1);
        chardev_close(&c);
        struct termios after;
        tcgetattr(slave, &after);
        CU_ASSERT_EQUAL(after.c_lflag, before.c_lflag);
        CU_ASSERT_EQUAL(after.c_iflag, before.c_iflag);
        CU_ASSERT_EQUAL(after.c_oflag, before.c_oflag);
    }
    dup2(saved_stdin, STDIN_FILENO);
    close(saved_stdin);
    close(slave);
    close(master);
}

static void feed(int fd, const char *s, size_t n)
{
    CU_ASSERT_EQUAL(write(fd, s, n), (ssize_t)n);
}

static void test_escapes(void)
{
    int p[2];
    CU_ASSERT_FATAL(pipe2(p, O_NONBLOCK) == 0);
    int o[2];
    CU_ASSERT_FATAL(pipe2(o, O_NONBLOCK) == 0);
    static struct sink s;
    memset(&s, 0, sizeof(s));
    s.budget = 1000;
    struct chardev c;
    chardev_open_fds(&c, p[0], o[1], true, NULL);
    chardev_set_handlers(&c, sink_can_receive, sink_receive, &s);
    chardev_set_quit_handler(&c, sink_quit, &s);
    /* C-a C-a -> C-a; C-a z swallowed; plain bytes pass. */
    feed(p[1], "a\x01\x01" "b\x01zc", 7);
    chardev_read_ready(&c);
    CU_ASSERT_EQUAL(s.len, 4);
    CU_ASSERT_EQUAL(memcmp(s.got, "a\x01" "bc", 4), 0);
    CU_ASSERT_EQUAL(s.quits, 0);
    /* An escape split across two reads still works. */
    feed(p[1], "\x01", 1);
    chardev_read_ready(&c);
    CU_ASSERT_EQUAL(s.len, 4);
    feed(p[1], "h", 1);                     /* help goes to the output */
    chardev_read_ready(&c);
    char buf[256];
    CU_ASSERT(read(o[0], buf, sizeof(buf)) > 10);
    CU_ASSERT_EQUAL(s.len, 4);
    /* C-a x quits; what follows in the same read is dropped. */
    feed(p[1], "d\x01xe", 4);
    chardev_read_ready(&c);
    CU_ASSERT_EQUAL(s.quits, 1);
    CU_ASSERT_EQUAL(s.len, 5);
    CU_ASSERT_EQUAL(s.got[4], 'd');
    CU_ASSERT_EQUAL(c.in_len, 0);
    chardev_close(&c);

    /* Without escapes (a plain fd chardev) C-a is data. */
    memset(&s, 0, sizeof(s));
    s.budget = 1000;
    chardev_open_fds(&c, p[0], -1, false, NULL);
    chardev_set_handlers(&c, sink_can_receive, sink_receive, &s);
    chardev_set_quit_handler(&c, sink_quit, &s);
    feed(p[1], "\x01x", 2);
    chardev_read_ready(&c);
    CU_ASSERT_EQUAL(s.quits, 0);
    CU_ASSERT_EQUAL(s.len, 2);
    chardev_close(&c);
    close(p[0]);
    close(p[1]);
    close(o[0]);
    close(o[1]);
}

static void test_flow_control_and_watch(void)
{
    int p[2];
    CU_ASSERT_FATAL(pipe2(p, O_NONBLOCK) == 0);
    static struct sink s;
    memset(&s, 0, sizeof(s));
    struct chardev c;
    chardev_open_fds(&c, p[0], -1, false, NULL);
    chardev_set_handlers(&c, sink_can_receive, sink_receive, &s);
    chardev_set_watch(&c, sink_watch, &s);
    CU_ASSERT_EQUAL(s.watch_calls, 1);
    CU_ASSERT_TRUE(s.watch_last);
    /* 6000 bytes; the device takes none: 4096 wait, the rest stays in the pipe. */
    static char data[6000];
    for (int i = 0; i < 6000; i++)
        data[i] = (char)(i % 251);
    feed(p[1], data, sizeof(data));
    chardev_read_ready(&c);
    CU_ASSERT_EQUAL(c.in_len, CHARDEV_INBUF);
    CU_ASSERT_FALSE(s.watch_last);          /* stop polling, don't spin */
    CU_ASSERT_EQUAL(s.watch_calls, 2);
    chardev_read_ready(&c);                 /* a spurious call reads nothing */
    CU_ASSERT_EQUAL(c.in_len, CHARDEV_INBUF);
    /* The device takes 3000: polling resumes, the ring wraps. */
    s.budget = 3000;
    chardev_accept_input(&c);
    CU_ASSERT_EQUAL(s.len, 3000);
    CU_ASSERT_EQUAL(c.in_len, CHARDEV_INBUF - 3000);
    CU_ASSERT_TRUE(s.watch_last);
    chardev_read_ready(&c);
    CU_ASSERT_EQUAL(c.in_len, 6000 - 3000);
    s.budget = 100000;
    chardev_accept_input(&c);
    CU_ASSERT_EQUAL(s.len, 6000);
    CU_ASSERT_EQUAL(memcmp(s.got, data, 6000), 0);
    CU_ASSERT_EQUAL(c.in_len, 0);
    /* End of file: stop watching for good. */
    close(p[1]);
    chardev_read_ready(&c);
    CU_ASSERT_TRUE(c.in_eof);
    CU_ASSERT_EQUAL(c.in_fd, -1);           /* what the event loop checks */
    CU_ASSERT_FALSE(chardev_wants_input(&c));
    CU_ASSERT_FALSE(s.watch_last);
    chardev_close(&c);
    close(p[0]);

    /* Without a device, input waits (bounded) until one appears. */
    CU_ASSERT_FATAL(pipe2(p, O_NONBLOCK) == 0);
    memset(&s, 0, sizeof(s));
    chardev_open_fds(&c, p[0], -1, false, NULL);
    feed(p[1], "late", 4);
    chardev_read_ready(&c);
    CU_ASSERT_EQUAL(c.in_len, 4);
    s.budget = 10;
    chardev_set_handlers(&c, sink_can_receive, sink_receive, &s);
    chardev_accept_input(&c);
    CU_ASSERT_EQUAL(s.len, 4);
    chardev_close(&c);
    close(p[0]);
    close(p[1]);
}

static void test_write_errors(void)
{
    /* Output to a descriptor that refuses writes: logged once, dropped,
     * never a hang. */
    int devnull = open("/dev/null", O_WRONLY);
    struct logger lg = { LOG_WARN, devnull };
    int ro = open("/dev/null", O_RDONLY);
    CU_ASSERT_FATAL(ro >= 0 && devnull >= 0);
    struct chardev c;
    chardev_open_fds(&c, -1, ro, false, &lg);
    chardev_write(&c, (const uint8_t *)"x", 1);
    CU_ASSERT_TRUE(c.out_error_logged);
    chardev_write(&c, (const uint8_t *)"y", 1);
    chardev_close(&c);
    CU_ASSERT(fcntl(ro, F_GETFD) >= 0);     /* caller-owned fds stay open */
    close(ro);
    close(devnull);

    /* A full non-blocking pipe: gives up after a bounded wait. */
    int p[2];
    CU_ASSERT_FATAL(pipe2(p, O_NONBLOCK) == 0);
    fcntl(p[1], F_SETPIPE_SZ, 4096);
    static uint8_t big[1 << 17];
    devnull = open("/dev/null", O_WRONLY);
    lg.fd = devnull;
    chardev_open_fds(&c, -1, p[1], false, &lg);
    chardev_write(&c, big, sizeof(big));
    CU_ASSERT_TRUE(c.out_error_logged);
    chardev_close(&c);
    close(p[0]);
    close(p[1]);
    close(devnull);
}

void suite_chardev(void)
{
    CU_pSuite s = CU_add_suite("chardev", NULL, NULL);
    CU_add_test(s, "bad specs fail with a one-line message", test_bad_specs);
    CU_add_test(s, "none discards", test_none);
    CU_add_test(s, "file: truncates, writes through, 0644", test_file);
    CU_add_test(s, "stdio uses fds 0 and 1", test_stdio_fds);
    CU_add_test(s, "stdio on a terminal: raw mode, restore, C-a x", test_stdio_tty);
    CU_add_test(s, "Ctrl-A escapes", test_escapes);
    CU_add_test(s, "flow control, ring wrap, watch hook, EOF", test_flow_control_and_watch);
    CU_add_test(s, "write errors are dropped, bounded", test_write_errors);
}
