/* The monitor: a line-oriented control socket (`--monitor unix:PATH`).
 * One command per line; the reply is any number of text lines followed by
 * a final line "ok" or "error: MESSAGE".  Commands are registered by the
 * parts of minus1 that implement them (machine.c, devices' owners), so the
 * monitor itself knows no command but `help`.  Handlers run on the event
 * loop with the machine lock held. */
#ifndef MINUS1_MONITOR_H
#define MINUS1_MONITOR_H

#include <stddef.h>

#include "log.h"

struct loop;
struct monitor;
struct monitor_reply;

/* argv[0..argc-1] are the words after the command name (split on blanks).
 * Return 0 for "ok", -1 for "error: ..." (set with monitor_error()). */
typedef int (*monitor_cmd_fn)(void *opaque, struct monitor_reply *r, int argc, char **argv);

/* spec: "unix:PATH".  Creates the socket (replacing a stale one) and
 * listens.  On failure writes a one-line message into err, returns NULL.
 * spec NULL: a monitor without a socket, driven by monitor_execute(). */
struct monitor *monitor_create(struct loop *loop, const char *spec, const struct logger *log,
                               char *err, size_t errlen);
void monitor_destroy(struct monitor *m);

/* name may have several words ("info status"); the longest registered
 * name that matches the line's leading words wins. */
int monitor_add_command(struct monitor *m, const char *name, const char *help,
                        monitor_cmd_fn fn, void *opaque);

/* Appends one or more lines of reply text; a final newline is added when
 * the text does not end with one. */
void monitor_printf(struct monitor_reply *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void monitor_error(struct monitor_reply *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Runs one command line as if a client sent it; the reply text (including
 * the final ok/error line) is written to out.  For tests and for scripts. */
int monitor_execute(struct monitor *m, const char *line, char *out, size_t outlen);

#endif
