/* The monitor: a line protocol on a unix socket, served by the event loop.
 *
 * Every input line gets exactly one reply: the handler's output lines, then
 * "ok" or "error: MESSAGE".  Everything a client controls is bounded: the
 * number of clients, the line length, the words per line, and the output
 * queued for a client that does not read (it is disconnected instead of
 * ever blocking the loop). */
#include "monitor.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "loop.h"

#define MON_MAX_CLIENTS 8
#define MON_LINE_MAX 4096               /* including the terminating NUL */
#define MON_MAX_COMMANDS 128
#define MON_NAME_MAX 64
#define MON_NAME_WORDS 8
#define MON_HELP_MAX 160
#define MON_MAX_ARGS 64
#define MON_ERR_MAX 256
#define MON_REPLY_MAX (256u * 1024)     /* handler output per command */
#define MON_CLIENT_OUT_MAX (1024u * 1024) /* queued for one client */
#define MON_READS_PER_EVENT 16          /* fairness: level-triggered epoll calls back */
#define MON_ACCEPTS_PER_EVENT 16

static const char blanks[] = " \t\r";

struct monitor_reply {
    char *text;
    size_t len, cap;
    bool truncated;
    bool failed;
    char err[MON_ERR_MAX];
};

struct mon_command {
    char name[MON_NAME_MAX];    /* words joined by single spaces */
    int nwords;
    char help[MON_HELP_MAX];
    monitor_cmd_fn fn;
    void *opaque;
};

struct mon_client {
    struct monitor *m;
    int fd;                     /* -1: slot free */
    char in[MON_LINE_MAX];
    size_t inlen;
    bool discarding;            /* skipping the rest of an overlong line */
    bool eof;                   /* peer stopped sending: flush, then close */
    char *out;
    size_t outoff, outlen, outcap;
    uint32_t events;            /* what the loop currently watches */
};

struct monitor {
    struct loop *loop;
    const struct logger *log;
    int listen_fd;
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    struct mon_command cmds[MON_MAX_COMMANDS];
    unsigned ncmds;
    struct mon_client clients[MON_MAX_CLIENTS];
};

/* ---- replies ---------------------------------------------------------- */

/* Handler output is capped at MON_REPLY_MAX; the final status line (final
 * = true) always fits so the client never waits for a reply forever. */
static void reply_append(struct monitor_reply *r, const char *s, size_t n, bool final)
{
    size_t limit = final ? MON_REPLY_MAX + 2 * MON_ERR_MAX : MON_REPLY_MAX;
    if (r->len + n > limit) {
        r->truncated = true;
        n = r->len < limit ? limit - r->len : 0;
    }
    if (r->len + n + 1 > r->cap) {
        size_t cap = r->cap ? r->cap : 256;
        while (cap < r->len + n + 1)
            cap *= 2;
        char *t = realloc(r->text, cap);
        if (!t) {
            r->truncated = true;
            return;
        }
        r->text = t;
        r->cap = cap;
    }
    memcpy(r->text + r->len, s, n);
    r->len += n;
    r->text[r->len] = '\0';
}

void monitor_printf(struct monitor_reply *r, const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;
    va_start(ap, fmt);
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0) {
        r->truncated = true;
        return;
    }
    reply_append(r, s, (size_t)n, false);
    /* Each call is one or more whole lines: callers need not add '\n'. */
    if (n == 0 || s[n - 1] != '\n')
        reply_append(r, "\n", 1, false);
    free(s);
}

void monitor_error(struct monitor_reply *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err, sizeof(r->err), fmt, ap);
    va_end(ap);
    /* The error is one protocol line: no embedded newlines. */
    for (char *p = r->err; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    r->failed = true;
}

/* Appends the final status line; returns 0 for ok, -1 for error. */
static int reply_finish(struct monitor_reply *r, int rc)
{
    if (r->len && r->text[r->len - 1] != '\n')
        reply_append(r, "\n", 1, true);
    if (r->truncated)
        reply_append(r, "(output truncated)\n", 19, true);
    if (rc == 0 && !r->failed) {
        reply_append(r, "ok\n", 3, true);
        return 0;
    }
    char line[MON_ERR_MAX + 16];
    int n = snprintf(line, sizeof(line), "error: %s\n", r->failed ? r->err : "command failed");
    reply_append(r, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1, true);
    return -1;
}

/* ---- commands --------------------------------------------------------- */

static int tokenize(char *line, char **argv, int max)
{
    int n = 0;
    char *save = NULL;
    for (char *t = strtok_r(line, blanks, &save); t; t = strtok_r(NULL, blanks, &save)) {
        if (n == max)
            return -1;
        argv[n++] = t;
    }
    return n;
}

/* Are the first nwords words of `name` (single-space separated) equal to
 * tok[0..nwords-1]?  The caller guarantees name has at least nwords words. */
static bool words_match(const char *name, char **tok, int nwords)
{
    const char *p = name;
    for (int i = 0; i < nwords; i++) {
        const char *end = strchr(p, ' ');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (strlen(tok[i]) != len || memcmp(tok[i], p, len) != 0)
            return false;
        p += len + (end ? 1 : 0);
    }
    return true;
}

static bool name_matches(const struct mon_command *c, char **tok, int ntok)
{
    return c->nwords <= ntok && words_match(c->name, tok, c->nwords);
}

static const struct mon_command *find_command(const struct monitor *m, char **tok, int ntok)
{
    const struct mon_command *best = NULL;
    for (unsigned i = 0; i < m->ncmds; i++) {
        const struct mon_command *c = &m->cmds[i];
        if (name_matches(c, tok, ntok) && (!best || c->nwords > best->nwords))
            best = c;
    }
    return best;
}

/* Unknown words are echoed back: keep them short and printable. */
static void sanitize(char *dst, size_t size, const char *src)
{
    size_t i = 0;
    for (; src[i] && i + 1 < size; i++)
        dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? src[i] : '?';
    dst[i] = '\0';
}

/* Runs one line (modified in place) and fills r including the status line. */
static int run_line(struct monitor *m, char *line, struct monitor_reply *r)
{
    char *tok[MON_MAX_ARGS];
    int ntok = tokenize(line, tok, MON_MAX_ARGS);
    if (ntok < 0) {
        monitor_error(r, "too many words (at most %d)", MON_MAX_ARGS);
        return reply_finish(r, -1);
    }
    if (ntok == 0)
        return reply_finish(r, 0);   /* a blank line still gets its "ok" */
    const struct mon_command *c = find_command(m, tok, ntok);
    if (!c) {
        char word[65];
        sanitize(word, sizeof(word), tok[0]);
        monitor_error(r, "unknown command '%s'", word);
        return reply_finish(r, -1);
    }
    int rc = c->fn(c->opaque, r, ntok - c->nwords, tok + c->nwords);
    return reply_finish(r, rc);
}

static int cmd_help(void *opaque, struct monitor_reply *r, int argc, char **argv)
{
    struct monitor *m = opaque;
    int shown = 0;
    for (unsigned i = 0; i < m->ncmds; i++) {
        const struct mon_command *c = &m->cmds[i];
        /* "help info" lists the commands whose name starts with "info". */
        if (argc > c->nwords || !words_match(c->name, argv, argc))
            continue;
        if (c->help[0])
            monitor_printf(r, "%-24s %s\n", c->name, c->help);
        else
            monitor_printf(r, "%s\n", c->name);
        shown++;
    }
    if (!shown) {
        monitor_error(r, "no command matches");
        return -1;
    }
    return 0;
}

int monitor_add_command(struct monitor *m, const char *name, const char *help,
                        monitor_cmd_fn fn, void *opaque)
{
    if (!name || !fn || m->ncmds >= MON_MAX_COMMANDS || strlen(name) >= MON_NAME_MAX)
        return -1;
    char copy[MON_NAME_MAX];
    char *words[MON_NAME_WORDS];
    strcpy(copy, name);
    int n = tokenize(copy, words, MON_NAME_WORDS);
    if (n <= 0)
        return -1;
    struct mon_command c = { .nwords = n, .fn = fn, .opaque = opaque };
    size_t len = 0;
    for (int i = 0; i < n; i++) {
        /* Fits: the joined name is never longer than the original. */
        len += (size_t)snprintf(c.name + len, sizeof(c.name) - len, "%s%s", i ? " " : "", words[i]);
    }
    for (unsigned i = 0; i < m->ncmds; i++)
        if (strcmp(m->cmds[i].name, c.name) == 0)
            return -1;
    snprintf(c.help, sizeof(c.help), "%s", help ? help : "");
    m->cmds[m->ncmds++] = c;
    return 0;
}

int monitor_execute(struct monitor *m, const char *line, char *out, size_t outlen)
{
    struct monitor_reply r = { 0 };
    char buf[MON_LINE_MAX];
    size_t len = strcspn(line, "\n");
    int rc;
    if (len >= sizeof(buf)) {
        monitor_error(&r, "line too long");
        rc = reply_finish(&r, -1);
    } else {
        memcpy(buf, line, len);
        buf[len] = '\0';
        rc = run_line(m, buf, &r);
    }
    if (out && outlen) {
        size_t n = r.len < outlen - 1 ? r.len : outlen - 1;
        if (n)
            memcpy(out, r.text, n);
        out[n] = '\0';
    }
    free(r.text);
    return rc;
}

/* ---- clients ---------------------------------------------------------- */

static void client_close(struct mon_client *c)
{
    if (c->fd < 0)
        return;
    if (c->m->loop)
        loop_del_fd(c->m->loop, c->fd);
    close(c->fd);
    free(c->out);
    c->fd = -1;
    c->out = NULL;
    c->outoff = c->outlen = c->outcap = 0;
    c->inlen = 0;
    c->discarding = c->eof = false;
}

static void client_update_events(struct mon_client *c)
{
    bool pending = c->outoff < c->outlen;
    uint32_t want = (c->eof ? 0 : EPOLLIN) | (pending ? EPOLLOUT : 0);
    if (want != c->events && c->m->loop && loop_mod_fd(c->m->loop, c->fd, want) == 0)
        c->events = want;
}

/* Writes what the socket takes now.  Returns false if the client is gone. */
static bool client_flush(struct mon_client *c)
{
    while (c->outoff < c->outlen) {
        ssize_t n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            c->outoff += (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            break;
        } else {
            client_close(c);
            return false;
        }
    }
    if (c->outoff == c->outlen) {
        c->outoff = c->outlen = 0;
        if (c->eof) {
            client_close(c);
            return false;
        }
    }
    client_update_events(c);
    return true;
}

/* Queues reply text.  A client whose backlog would pass the cap is not
 * reading: drop it rather than grow without bound or block the loop. */
static bool client_queue(struct mon_client *c, const char *s, size_t n)
{
    if (c->outlen - c->outoff + n > MON_CLIENT_OUT_MAX) {
        if (!client_flush(c))
            return false;
        if (c->outlen - c->outoff + n > MON_CLIENT_OUT_MAX) {
            log_warn(c->m->log, "monitor: client does not read its replies, disconnecting");
            client_close(c);
            return false;
        }
    }
    if (c->outoff) {
        memmove(c->out, c->out + c->outoff, c->outlen - c->outoff);
        c->outlen -= c->outoff;
        c->outoff = 0;
    }
    if (c->outlen + n > c->outcap) {
        size_t cap = c->outcap ? c->outcap : 4096;
        while (cap < c->outlen + n)
            cap *= 2;
        char *t = realloc(c->out, cap);
        if (!t) {
            client_close(c);
            return false;
        }
        c->out = t;
        c->outcap = cap;
    }
    memcpy(c->out + c->outlen, s, n);
    c->outlen += n;
    return true;
}

static bool client_run_line(struct mon_client *c)
{
    struct monitor_reply r = { 0 };
    run_line(c->m, c->in, &r);
    bool alive = client_queue(c, r.text ? r.text : "", r.len);
    free(r.text);
    return alive;
}

static const char too_long[] = "error: line too long\n";

/* Splits received bytes into lines.  Returns false if the client is gone. */
static bool client_feed(struct mon_client *c, const char *p, size_t n)
{
    while (n) {
        const char *nl = memchr(p, '\n', n);
        size_t chunk = nl ? (size_t)(nl - p) : n;
        if (c->discarding) {
            if (nl)
                c->discarding = false;
        } else if (c->inlen + chunk >= MON_LINE_MAX) {
            /* Report once, as soon as we know, then skip to the newline. */
            c->inlen = 0;
            c->discarding = !nl;
            if (!client_queue(c, too_long, sizeof(too_long) - 1))
                return false;
        } else {
            memcpy(c->in + c->inlen, p, chunk);
            c->inlen += chunk;
            if (nl) {
                c->in[c->inlen] = '\0';
                c->inlen = 0;
                if (!client_run_line(c))
                    return false;
            }
        }
        size_t used = chunk + (nl ? 1 : 0);
        p += used;
        n -= used;
    }
    return true;
}

static void client_readable(struct mon_client *c)
{
    char buf[4096];
    for (int i = 0; i < MON_READS_PER_EVENT; i++) {
        ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n > 0) {
            if (!client_feed(c, buf, (size_t)n))
                return;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n < 0) {
            client_close(c);
            return;
        }
        c->eof = true;          /* orderly EOF: deliver what is queued */
        break;
    }
    client_flush(c);
}

static void client_event(void *opaque, uint32_t events)
{
    struct mon_client *c = opaque;
    if (c->fd < 0)
        return;
    if ((events & EPOLLOUT) && !client_flush(c))
        return;
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        if (c->eof)
            client_close(c);    /* hung up while we still had output */
        else
            client_readable(c);
    }
}

static void accept_one(struct monitor *m, int fd)
{
    struct mon_client *c = NULL;
    for (int i = 0; i < MON_MAX_CLIENTS && !c; i++)
        if (m->clients[i].fd < 0)
            c = &m->clients[i];
    if (!c) {
        static const char busy[] = "error: too many clients\n";
        ssize_t w = send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
        (void)w;
        close(fd);
        log_warn(m->log, "monitor: too many clients, connection refused");
        return;
    }
    c->fd = fd;
    c->events = EPOLLIN;
    c->inlen = c->outoff = c->outlen = c->outcap = 0;
    c->discarding = c->eof = false;
    c->out = NULL;
    if (loop_add_fd(m->loop, fd, EPOLLIN, client_event, c) < 0) {
        close(fd);
        c->fd = -1;
        log_warn(m->log, "monitor: cannot watch a new client");
    }
}

static void listen_event(void *opaque, uint32_t events)
{
    struct monitor *m = opaque;
    (void)events;
    for (int i = 0; i < MON_ACCEPTS_PER_EVENT; i++) {
        int fd = accept4(m->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0)
            accept_one(m, fd);
        else if (errno != EINTR && errno != ECONNABORTED)
            return;
    }
}

/* ---- socket ----------------------------------------------------------- */

/* A socket file left by a dead minus1 is removed; a live one (someone
 * accepts connections) or a non-socket file is left alone. */
static int remove_stale(const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (lstat(path, &st) < 0)
        return 0;
    if (!S_ISSOCK(st.st_mode)) {
        snprintf(err, errlen, "--monitor: %s exists and is not a socket", path);
        return -1;
    }
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
        close(fd);
        snprintf(err, errlen, "--monitor: %s is in use by another process", path);
        return -1;
    }
    if (fd >= 0)
        close(fd);
    unlink(path);
    return 0;
}

static int open_listener(struct monitor *m, const char *spec, char *err, size_t errlen)
{
    if (strncmp(spec, "unix:", 5) != 0 || spec[5] == '\0') {
        snprintf(err, errlen, "--monitor: expected unix:PATH");
        return -1;
    }
    const char *path = spec + 5;
    if (strlen(path) >= sizeof(m->path)) {
        snprintf(err, errlen, "--monitor: socket path too long (at most %zu bytes)",
                 sizeof(m->path) - 1);
        return -1;
    }
    if (remove_stale(path, err, errlen) < 0)
        return -1;
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 8) < 0) {
        snprintf(err, errlen, "--monitor: %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    strcpy(m->path, path);   /* from here on, destroy unlinks it */
    m->listen_fd = fd;
    if (m->loop && loop_add_fd(m->loop, fd, EPOLLIN, listen_event, m) < 0) {
        snprintf(err, errlen, "--monitor: cannot watch the socket");
        return -1;
    }
    return 0;
}

struct monitor *monitor_create(struct loop *loop, const char *spec, const struct logger *log,
                               char *err, size_t errlen)
{
    struct monitor *m = calloc(1, sizeof(*m));
    if (!m) {
        snprintf(err, errlen, "--monitor: out of memory");
        return NULL;
    }
    m->loop = loop;
    m->log = log;
    m->listen_fd = -1;
    for (int i = 0; i < MON_MAX_CLIENTS; i++) {
        m->clients[i].m = m;
        m->clients[i].fd = -1;
    }
    monitor_add_command(m, "help", "list commands (help WORDS: those starting with WORDS)",
                        cmd_help, m);
    if (spec && open_listener(m, spec, err, errlen) < 0) {
        monitor_destroy(m);
        return NULL;
    }
    return m;
}

void monitor_destroy(struct monitor *m)
{
    if (!m)
        return;
    for (int i = 0; i < MON_MAX_CLIENTS; i++)
        client_close(&m->clients[i]);
    if (m->listen_fd >= 0) {
        if (m->loop)
            loop_del_fd(m->loop, m->listen_fd);
        close(m->listen_fd);
    }
    if (m->path[0])
        unlink(m->path);
    free(m);
}
