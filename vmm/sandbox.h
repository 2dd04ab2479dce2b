/* The seccomp sandbox: once the machine is built (devices, image files,
 * sockets, the event loop, the aio workers: every thread exists), minus1
 * drops to a filter that allows only the system calls a running machine
 * makes.  The filter is installed on every thread of the process at once
 * (SECCOMP_FILTER_FLAG_TSYNC).  What it allows and why: docs/SANDBOX.md.
 *
 * A refused call fails with EPERM; the calls that only an attacker would
 * make (execve, ptrace, process_vm_*, ...) kill the process. */
#ifndef MINUS1_SANDBOX_H
#define MINUS1_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>

/* --sandbox; SANDBOX_DEFAULT (0) is what an unset vm_config holds. */
enum sandbox_mode {
    SANDBOX_DEFAULT = 0,    /* on where supported, quietly off elsewhere */
    SANDBOX_OFF,
    SANDBOX_ON,             /* on, or refuse to run */
    SANDBOX_LOG,            /* allow everything, log what ON would refuse (audit log) */
};

/* What the running machine may still need besides the fixed list. */
struct sandbox_needs {
    bool host_sockets;      /* --net user: slirp opens TCP/UDP/ICMP sockets for the guest */
    bool open_files;        /* --monitor (screendump, change cdrom, pcap start) or
                             * --kernel (re-read from its file on every reset) */
};

/* Does this build and kernel support the filter? */
bool sandbox_supported(void);

/* Installs the filter on all threads.  SANDBOX_DEFAULT is ON when
 * supported and nothing otherwise; SANDBOX_OFF does nothing.  Returns 0,
 * or -1 with a one-line reason in err (nothing installed). */
int sandbox_apply(enum sandbox_mode mode, const struct sandbox_needs *needs, char *err,
                  size_t errlen);

#endif
