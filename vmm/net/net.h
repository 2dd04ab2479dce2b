/* The network plumbing between a NIC model and a backend.
 *
 * A `struct net_port` is the wire: the NIC transmits with net_send()
 * (frame goes to the backend and to the pcap tee), the backend delivers
 * with net_port_deliver().  Delivery offers the frame to the NIC at once;
 * if the NIC has no room (its receive ring is full) the frame waits in a
 * bounded queue and is offered again when the NIC calls
 * net_port_rx_ready() (the guest freed ring space).  Only when that queue
 * is full is a frame dropped: counted, and the NIC told (an NE2000 sets
 * OVW then).  Nothing here blocks.
 *
 * Threads: everything runs with the machine lock held.  The NIC side
 * (net_send, net_port_rx_ready) runs on the vCPU thread, backends deliver
 * from the event loop.  The slirp backend moves transmitted frames to the
 * loop thread before touching libslirp. */
#ifndef MINUS1_NET_H
#define MINUS1_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../config.h"
#include "../log.h"

struct loop;
struct vclock;
struct monitor;

#define NET_MAC_LEN 6
#define NET_MIN_FRAME 60        /* without FCS; shorter frames are runts */
#define NET_MAX_FRAME 1518      /* largest frame a backend may deliver */
#define NET_RX_QUEUE 256        /* frames waiting for room in the NIC */

/* Answers of net_nic_ops.receive. */
enum net_rx_result {
    NET_RX_DONE = 0,    /* consumed: stored, filtered out or lost by the NIC */
    NET_RX_BUSY = 1,    /* no room now: keep it, offer it again later */
};

struct net_nic_ops {
    enum net_rx_result (*receive)(void *opaque, const uint8_t *frame, size_t len);
    /* The queue in front of the NIC overflowed and dropped a frame. */
    void (*dropped)(void *opaque);
    /* Optional: one line (no newline) of NIC state for `info network`. */
    void (*info)(void *opaque, char *buf, size_t len);
};

struct net_backend_ops {
    const char *name;
    /* A frame from the guest; the backend copies what it keeps. */
    void (*send)(void *opaque, const uint8_t *frame, size_t len);
    /* Optional: one line (no newline) for `info network`. */
    void (*info)(void *opaque, char *buf, size_t len);
    void (*destroy)(void *opaque);
};

struct net_stats {
    uint64_t tx_frames, tx_bytes;
    uint64_t rx_frames, rx_bytes;       /* accepted by the NIC */
    uint64_t rx_queue_drops;            /* queue full */
    uint64_t rx_oversize_drops;         /* backend frame over NET_MAX_FRAME or empty */
    uint64_t tx_backend_drops;          /* the backend could not take a frame */
    uint64_t pcap_frames;
    unsigned rx_queued;                 /* waiting now */
    unsigned rx_queued_max;             /* high-water mark */
};

struct net_port;

struct net_port *net_port_create(const struct logger *log);
/* Destroys the backend and closes the capture file too. */
void net_port_destroy(struct net_port *p);

/* The NIC: model name and MAC are shown by `info network`. */
void net_port_attach_nic(struct net_port *p, const struct net_nic_ops *ops, void *opaque,
                         const char *model, const uint8_t mac[NET_MAC_LEN]);
void net_port_detach_nic(struct net_port *p);
/* Replaces (and destroys) the previous backend; ops NULL = none. */
void net_port_set_backend(struct net_port *p, const struct net_backend_ops *ops, void *opaque);

/* NIC -> wire.  Frames of 0 bytes or over 64 KiB are refused. */
void net_send(struct net_port *p, const uint8_t *frame, size_t len);
/* Backend -> NIC (queued if the NIC is busy). */
void net_port_deliver(struct net_port *p, const uint8_t *frame, size_t len);
/* The NIC has room again: offer queued frames until it is busy. */
void net_port_rx_ready(struct net_port *p);
/* Forget queued frames (NIC reset). */
void net_port_rx_flush(struct net_port *p);

void net_port_get_stats(const struct net_port *p, struct net_stats *out);
/* Also counts for the backend side, for drops it sees. */
void net_port_count_tx_drop(struct net_port *p);
const struct logger *net_port_logger(const struct net_port *p);

/* Capture: every frame sent or delivered, Ethernet link type, nanosecond
 * host-clock timestamps, flushed after each frame.  Returns 0, or -1 with
 * a one-line reason in err (e.g. an unwritable path). */
int net_pcap_start(struct net_port *p, const char *path, char *err, size_t errlen);
void net_pcap_stop(struct net_port *p);
bool net_pcap_active(const struct net_port *p);

/* Low-level capture file (pcap.c), used by the port. */
struct net_pcap;
struct net_pcap *net_pcap_open(const char *path, char *err, size_t errlen);
void net_pcap_write(struct net_pcap *pc, const uint8_t *frame, size_t len);
void net_pcap_close(struct net_pcap *pc);

/* Backends. */

/* Memory backend for tests: keeps the last `capacity` frames sent. */
struct net_memory;
struct net_memory *net_memory_attach(struct net_port *p, unsigned capacity);
unsigned net_memory_count(const struct net_memory *m);
/* Oldest frame first; returns its length (copied up to cap), 0 if none. */
size_t net_memory_pop(struct net_memory *m, uint8_t *buf, size_t cap);

/* User networking (libslirp): 10.0.2.0/24, gateway 10.0.2.2, DNS
 * 10.0.2.3, DHCP from 10.0.2.15.  Driven from `loop` (slirp fds and
 * timers); must be created and used with the machine lock held. */
struct net_user_opts {
    const struct hostfwd *hostfwd;
    unsigned nhostfwd;
    bool restricted;            /* guest may not reach the host's network */
};
int net_user_create(struct net_port *p, struct loop *loop, struct vclock *clock,
                    const struct net_user_opts *opts, char *err, size_t errlen);

/* The TAP backend: attaches to an existing or new tap interface IFNAME
 * (needs CAP_NET_ADMIN).  -1 with a one-line message on failure. */
int net_tap_create(struct net_port *p, struct loop *loop, const char *ifname, char *err,
                   size_t errlen);

/* Monitor commands `info network`, `pcap start PATH`, `pcap stop`. */
void net_register_monitor(struct monitor *m, struct net_port *p);

#endif
