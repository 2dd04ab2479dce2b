/* One logging module for all of minus1: levels chosen with --log, and a
 * rate limiter for messages a guest can trigger at will. */
#ifndef MINUS1_LOG_H
#define MINUS1_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

enum log_level { LOG_ERROR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG, LOG_TRACE };

/* A logger belongs to the machine; devices keep a pointer to it.  A NULL
 * logger means "warnings and errors to stderr" (handy in unit tests). */
struct logger {
    enum log_level level;
    int fd;             /* where messages go; stderr by default */
};

/* Guest-triggered messages: at most `burst` per `interval_ns`, then one
 * "suppressed N" line when the window reopens. */
struct ratelimit {
    uint64_t window_start_ns;
    uint32_t count;
    uint32_t suppressed;
};

#define RATELIMIT_BURST 10
#define RATELIMIT_INTERVAL_NS 5000000000ull

void logger_init(struct logger *lg);
/* Parses "error|warn|info|debug|trace"; returns -1 on an unknown name. */
int log_level_parse(const char *name, enum log_level *out);
bool log_enabled(const struct logger *lg, enum log_level level);

void log_msg(const struct logger *lg, enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void log_vmsg(const struct logger *lg, enum log_level level, const char *fmt, va_list ap);

/* Rate-limited variant for anything a guest can provoke. */
void log_guest(const struct logger *lg, struct ratelimit *rl, enum log_level level,
               const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#define log_error(lg, ...) log_msg((lg), LOG_ERROR, __VA_ARGS__)
#define log_warn(lg, ...)  log_msg((lg), LOG_WARN, __VA_ARGS__)
#define log_info(lg, ...)  log_msg((lg), LOG_INFO, __VA_ARGS__)
#define log_debug(lg, ...) log_msg((lg), LOG_DEBUG, __VA_ARGS__)

/* Shorthand for guest errors (unimplemented registers, nonsense values). */
#define guest_error(lg, rl, ...) log_guest((lg), (rl), LOG_WARN, __VA_ARGS__)

#endif
