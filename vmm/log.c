#include "log.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *const level_names[] = { "error", "warn", "info", "debug", "trace" };

void logger_init(struct logger *lg)
{
    lg->level = LOG_WARN;
    lg->fd = STDERR_FILENO;
}

int log_level_parse(const char *name, enum log_level *out)
{
    for (unsigned i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
        if (strcmp(name, level_names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    if (strcmp(name, "warning") == 0) {
        *out = LOG_WARN;
        return 0;
    }
    return -1;
}

bool log_enabled(const struct logger *lg, enum log_level level)
{
    enum log_level max = lg ? lg->level : LOG_WARN;
    return level <= max;
}

void log_vmsg(const struct logger *lg, enum log_level level, const char *fmt, va_list ap)
{
    if (!log_enabled(lg, level))
        return;
    /* Format into one buffer and emit it with one write(), so lines from
     * different threads never interleave and nothing sits in a stdio buffer. */
    char buf[1024];
    int n = snprintf(buf, sizeof(buf), "minus1: %s: ", level_names[level]);
    int m = vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof(buf) - 2)
        len = sizeof(buf) - 2;
    if (len == 0 || buf[len - 1] != '\n')
        buf[len++] = '\n';
    int fd = lg ? lg->fd : STDERR_FILENO;
    ssize_t w = write(fd, buf, len);
    (void)w;
}

void log_msg(const struct logger *lg, enum log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vmsg(lg, level, fmt, ap);
    va_end(ap);
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void log_guest(const struct logger *lg, struct ratelimit *rl, enum log_level level,
               const char *fmt, ...)
{
    if (!log_enabled(lg, level))
        return;
    if (rl) {
        uint64_t now = mono_ns();
        if (now - rl->window_start_ns >= RATELIMIT_INTERVAL_NS) {
            if (rl->suppressed)
                log_msg(lg, level, "(%u similar guest messages suppressed)", rl->suppressed);
            rl->window_start_ns = now;
            rl->count = 0;
            rl->suppressed = 0;
        }
        if (rl->count >= RATELIMIT_BURST) {
            rl->suppressed++;
            return;
        }
        rl->count++;
    }
    va_list ap;
    va_start(ap, fmt);
    log_vmsg(lg, level, fmt, ap);
    va_end(ap);
}
