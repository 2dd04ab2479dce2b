/* Character backends: stdio (raw terminal, Ctrl-A escapes), file:PATH and
 * none.  Output goes straight to write(2); input is read when the event
 * loop says in_fd is readable and waits in a bounded ring until the device
 * has room for it. */
#include "chardev.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* How long chardev_write waits for a non-blocking fd that keeps saying
 * EAGAIN before it gives up on the chunk: the caller holds the machine
 * lock, so a stuck terminal must not stall the guest forever. */
#define WRITE_STALL_POLL_MS 100
#define WRITE_STALL_MAX 10

static void __attribute__((format(printf, 3, 4)))
set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static void init_common(struct chardev *c, enum chardev_kind kind, const struct logger *log)
{
    memset(c, 0, sizeof(*c));
    c->kind = kind;
    c->in_fd = -1;
    c->out_fd = -1;
    c->tty_fd = -1;
    c->log = log;
}

/* Raw input so every key reaches the guest (Ctrl-C included: Ctrl-A x is
 * the way out), but output post-processing stays on so a guest that sends
 * bare '\n' still produces readable lines on the host terminal. */
static void make_raw(struct chardev *c)
{
    struct termios t;
    if (tcgetattr(c->in_fd, &t) != 0)
        return;
    /* Already raw (e.g. serial and debugcon both on stdio): whoever made it
     * so restores it; saving raw settings here would leave the terminal
     * raw if we were the last to restore. */
    if (!(t.c_lflag & (ICANON | ECHO)))
        return;
    c->saved_termios = t;
    t.c_iflag &= ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
    t.c_oflag |= OPOST;
    t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
    t.c_cflag &= ~(tcflag_t)(CSIZE | PARENB);
    t.c_cflag |= CS8;
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    if (tcsetattr(c->in_fd, TCSANOW, &t) == 0) {
        c->tty_raw = true;
        c->tty_fd = c->in_fd;
    }
}

int chardev_open(struct chardev *c, const char *spec, const struct logger *log, char *err,
                 size_t errlen)
{
    init_common(c, CHARDEV_NONE, log);
    if (!spec || !*spec) {
        set_err(err, errlen, "empty chardev (expected stdio, file:PATH or none)");
        return -1;
    }
    if (strcmp(spec, "none") == 0)
        return 0;
    if (strcmp(spec, "stdio") == 0) {
        c->kind = CHARDEV_STDIO;
        c->in_fd = STDIN_FILENO;
        c->out_fd = STDOUT_FILENO;
        c->escapes = true;
        if (isatty(c->in_fd)) {
            make_raw(c);
            /* A human is typing: never stop reading, so Ctrl-A x works
             * even when the guest ignores its serial port. */
            c->in_drop_when_full = true;
        }
        return 0;
    }
    if (strncmp(spec, "file:", 5) == 0) {
        const char *path = spec + 5;
        if (!*path) {
            set_err(err, errlen, "file: needs a path (file:PATH)");
            return -1;
        }
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) {
            set_err(err, errlen, "cannot open '%s': %s", path, strerror(errno));
            return -1;
        }
        c->kind = CHARDEV_FILE;
        c->out_fd = fd;
        c->owns_out_fd = true;
        return 0;
    }
    set_err(err, errlen, "unknown chardev '%s' (expected stdio, file:PATH or none)", spec);
    return -1;
}

void chardev_open_fds(struct chardev *c, int in_fd, int out_fd, bool escapes,
                      const struct logger *log)
{
    init_common(c, CHARDEV_FD, log);
    c->in_fd = in_fd;
    c->out_fd = out_fd;
    c->escapes = escapes;
}

void chardev_close(struct chardev *c)
{
    if (c->tty_raw) {
        tcsetattr(c->tty_fd, TCSANOW, &c->saved_termios);
        c->tty_raw = false;
    }
    if (c->owns_out_fd && c->out_fd >= 0)
        close(c->out_fd);
    c->owns_out_fd = false;
    c->in_fd = -1;
    c->out_fd = -1;
    c->in_len = 0;
    c->in_head = 0;
}

void chardev_set_handlers(struct chardev *c, size_t (*can_receive)(void *),
                          void (*receive)(void *, const uint8_t *, size_t), void *opaque)
{
    c->can_receive = can_receive;
    c->receive = receive;
    c->dev_opaque = opaque;
}

void chardev_set_quit_handler(struct chardev *c, void (*quit)(void *), void *opaque)
{
    c->quit = quit;
    c->quit_opaque = opaque;
}

bool chardev_wants_input(const struct chardev *c)
{
    if (c->in_fd < 0 || c->in_eof)
        return false;
    return c->in_drop_when_full || c->in_len < CHARDEV_INBUF;
}

static void update_watch(struct chardev *c)
{
    bool want = chardev_wants_input(c);
    if (c->watch && want != c->watch_state) {
        c->watch_state = want;
        c->watch(c->watch_opaque, want);
    }
}

void chardev_set_watch(struct chardev *c, void (*watch)(void *, bool), void *opaque)
{
    c->watch = watch;
    c->watch_opaque = opaque;
    c->watch_state = chardev_wants_input(c);
    if (watch)
        watch(opaque, c->watch_state);
}

/* Writes all of buf or gives up on it (logged once per chardev). */
static void write_all(struct chardev *c, int fd, const uint8_t *buf, size_t len)
{
    size_t done = 0;
    unsigned stalls = 0;
    while (done < len) {
        ssize_t n = write(fd, buf + done, len - done);
        if (n > 0) {
            done += (size_t)n;
            stalls = 0;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && ++stalls <= WRITE_STALL_MAX) {
            struct pollfd p = { .fd = fd, .events = POLLOUT };
            poll(&p, 1, WRITE_STALL_POLL_MS);
            continue;
        }
        if (!c->out_error_logged) {
            c->out_error_logged = true;
            log_warn(c->log, "chardev: output dropped: %s",
                     n < 0 ? strerror(errno) : "write returned 0");
        }
        return;
    }
}

void chardev_write(struct chardev *c, const uint8_t *buf, size_t len)
{
    if (!c || c->out_fd < 0 || !buf || len == 0)
        return;
    write_all(c, c->out_fd, buf, len);
}

/* Hands waiting input to the device while it has room.  Each round moves
 * at least one byte, so the loop is bounded by in_len. */
static void deliver(struct chardev *c)
{
    if (c->delivering || !c->can_receive || !c->receive)
        return;
    c->delivering = true;
    while (c->in_len > 0) {
        size_t n = c->can_receive(c->dev_opaque);
        if (n == 0)
            break;
        size_t chunk = c->in_len;
        if (chunk > CHARDEV_INBUF - c->in_head)
            chunk = CHARDEV_INBUF - c->in_head;   /* up to the ring's end */
        if (chunk > n)
            chunk = n;
        c->receive(c->dev_opaque, c->inbuf + c->in_head, chunk);
        c->in_head = (c->in_head + chunk) % CHARDEV_INBUF;
        c->in_len -= chunk;
    }
    if (c->in_len == 0)
        c->in_head = 0;
    c->delivering = false;
}

static void push_byte(struct chardev *c, uint8_t b)
{
    if (c->in_len == CHARDEV_INBUF) {
        if (!c->in_drop_logged) {
            c->in_drop_logged = true;
            log_debug(c->log, "chardev: input buffer full, dropping typed input");
        }
        return;
    }
    c->inbuf[(c->in_head + c->in_len) % CHARDEV_INBUF] = b;
    c->in_len++;
}

static void print_help(struct chardev *c)
{
    static const char help[] = "\r\nC-a h    print this help\r\n"
                               "C-a x    exit minus1\r\n"
                               "C-a C-a  send C-a\r\n";
    chardev_write(c, (const uint8_t *)help, sizeof(help) - 1);
}

/* Filters one input byte through the escape state machine.  Returns false
 * when the user asked to quit (the rest of the input is dropped). */
static bool input_byte(struct chardev *c, uint8_t b)
{
    if (!c->escapes) {
        push_byte(c, b);
        return true;
    }
    if (c->escape_pending) {
        c->escape_pending = false;
        switch (b) {
        case CHARDEV_ESCAPE:
            push_byte(c, b);
            break;
        case 'x':
            if (c->quit) {
                c->quit(c->quit_opaque);
                return false;
            }
            break;
        case 'h':
        case '?':
            print_help(c);
            break;
        default:
            break;      /* unknown escapes are swallowed, like QEMU */
        }
        return true;
    }
    if (b == CHARDEV_ESCAPE)
        c->escape_pending = true;
    else
        push_byte(c, b);
    return true;
}

void chardev_read_ready(struct chardev *c)
{
    if (c->in_fd < 0 || c->in_eof)
        return;
    deliver(c);
    size_t room = CHARDEV_INBUF - c->in_len;
    size_t want = c->in_drop_when_full ? CHARDEV_INBUF : room;
    if (want == 0) {
        update_watch(c);
        return;
    }
    uint8_t tmp[CHARDEV_INBUF];
    ssize_t n = read(c->in_fd, tmp, want);
    if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
        return;
    if (n <= 0) {
        if (n < 0 && !c->in_error_logged) {
            c->in_error_logged = true;
            log_warn(c->log, "chardev: input read failed: %s", strerror(errno));
        }
        /* Stop polling a descriptor that has nothing more: callers see
         * in_fd < 0 (or a watch(false)) and take it off the event loop. */
        c->in_eof = true;
        c->in_fd = -1;
        update_watch(c);
        return;
    }
    for (ssize_t i = 0; i < n; i++)
        if (!input_byte(c, tmp[i]))
            break;
    deliver(c);
    update_watch(c);
}

void chardev_accept_input(struct chardev *c)
{
    if (!c)
        return;
    deliver(c);
    update_watch(c);
}
