/* The port between a NIC and its backend: transmit tee, the bounded
 * receive queue, counters, and the memory backend used by tests. */
#include "net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NET_MAX_SEND 65536

struct rx_slot {
    uint16_t len;
    uint8_t data[NET_MAX_FRAME];
};

struct net_port {
    const struct logger *log;
    struct ratelimit rl;

    const struct net_nic_ops *nic;
    void *nic_opaque;
    char model[32];
    uint8_t mac[NET_MAC_LEN];

    const struct net_backend_ops *be;
    void *be_opaque;

    struct net_pcap *pcap;
    char pcap_path[256];

    /* Frames the NIC had no room for, oldest at head. */
    struct rx_slot *queue;
    unsigned head, count;
    bool draining;              /* no re-entry from a NIC callback */

    struct net_stats st;
};

struct net_port *net_port_create(const struct logger *log)
{
    struct net_port *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->queue = calloc(NET_RX_QUEUE, sizeof(*p->queue));
    if (!p->queue) {
        free(p);
        return NULL;
    }
    p->log = log;
    snprintf(p->model, sizeof(p->model), "none");
    return p;
}

void net_port_destroy(struct net_port *p)
{
    if (!p)
        return;
    net_port_set_backend(p, NULL, NULL);
    net_pcap_stop(p);
    free(p->queue);
    free(p);
}

void net_port_attach_nic(struct net_port *p, const struct net_nic_ops *ops, void *opaque,
                         const char *model, const uint8_t mac[NET_MAC_LEN])
{
    p->nic = ops;
    p->nic_opaque = opaque;
    snprintf(p->model, sizeof(p->model), "%s", model ? model : "nic");
    if (mac)
        memcpy(p->mac, mac, NET_MAC_LEN);
}

void net_port_detach_nic(struct net_port *p)
{
    p->nic = NULL;
    p->nic_opaque = NULL;
    snprintf(p->model, sizeof(p->model), "none");
    net_port_rx_flush(p);
}

void net_port_set_backend(struct net_port *p, const struct net_backend_ops *ops, void *opaque)
{
    if (p->be && p->be->destroy)
        p->be->destroy(p->be_opaque);
    p->be = ops;
    p->be_opaque = opaque;
}

const struct logger *net_port_logger(const struct net_port *p)
{
    return p->log;
}

void net_port_count_tx_drop(struct net_port *p)
{
    p->st.tx_backend_drops++;
}

static void tee(struct net_port *p, const uint8_t *frame, size_t len)
{
    if (!p->pcap)
        return;
    net_pcap_write(p->pcap, frame, len);
    p->st.pcap_frames++;
}

void net_send(struct net_port *p, const uint8_t *frame, size_t len)
{
    if (!p)
        return;
    if (len == 0 || len > NET_MAX_SEND) {
        p->st.tx_backend_drops++;
        return;
    }
    p->st.tx_frames++;
    p->st.tx_bytes += len;
    tee(p, frame, len);
    if (p->be && p->be->send)
        p->be->send(p->be_opaque, frame, len);
}

static enum net_rx_result offer(struct net_port *p, const uint8_t *frame, size_t len)
{
    /* No NIC: the frame falls off the end of the cable. */
    if (!p->nic || !p->nic->receive)
        return NET_RX_DONE;
    enum net_rx_result r = p->nic->receive(p->nic_opaque, frame, len);
    if (r == NET_RX_DONE) {
        p->st.rx_frames++;
        p->st.rx_bytes += len;
    }
    return r;
}

/* Offers queued frames in order until the NIC is busy; at most one pass
 * over the queue. */
static void drain(struct net_port *p)
{
    if (p->draining)
        return;
    p->draining = true;
    while (p->count) {
        struct rx_slot *s = &p->queue[p->head];
        if (offer(p, s->data, s->len) == NET_RX_BUSY)
            break;
        p->head = (p->head + 1) % NET_RX_QUEUE;
        p->count--;
    }
    p->draining = false;
}

void net_port_deliver(struct net_port *p, const uint8_t *frame, size_t len)
{
    if (!p)
        return;
    if (len == 0 || len > NET_MAX_FRAME) {
        p->st.rx_oversize_drops++;
        log_guest(p->log, &p->rl, LOG_DEBUG, "net: dropped a %zu-byte frame from the backend", len);
        return;
    }
    tee(p, frame, len);
    /* Keep the order: only go straight to the NIC if nothing waits. */
    if (p->count == 0 && !p->draining && offer(p, frame, len) == NET_RX_DONE)
        return;
    if (p->count >= NET_RX_QUEUE) {
        p->st.rx_queue_drops++;
        if (p->nic && p->nic->dropped)
            p->nic->dropped(p->nic_opaque);
        return;
    }
    struct rx_slot *s = &p->queue[(p->head + p->count) % NET_RX_QUEUE];
    memcpy(s->data, frame, len);
    s->len = (uint16_t)len;
    p->count++;
    if (p->count > p->st.rx_queued_max)
        p->st.rx_queued_max = p->count;
}

void net_port_rx_ready(struct net_port *p)
{
    if (p && p->count)
        drain(p);
}

void net_port_rx_flush(struct net_port *p)
{
    if (!p)
        return;
    p->head = 0;
    p->count = 0;
}

void net_port_get_stats(const struct net_port *p, struct net_stats *out)
{
    *out = p->st;
    out->rx_queued = p->count;
}

int net_pcap_start(struct net_port *p, const char *path, char *err, size_t errlen)
{
    struct net_pcap *pc = net_pcap_open(path, err, errlen);
    if (!pc)
        return -1;
    net_pcap_stop(p);
    p->pcap = pc;
    snprintf(p->pcap_path, sizeof(p->pcap_path), "%s", path);
    return 0;
}

void net_pcap_stop(struct net_port *p)
{
    if (!p->pcap)
        return;
    net_pcap_close(p->pcap);
    p->pcap = NULL;
    p->pcap_path[0] = '\0';
}

bool net_pcap_active(const struct net_port *p)
{
    return p->pcap != NULL;
}

/* ---- Monitor ---------------------------------------------------------- */

#include "../monitor.h"

static int cmd_info_network(void *opaque, struct monitor_reply *r, int argc, char **argv)
{
    struct net_port *p = opaque;
    (void)argc;
    (void)argv;
    const uint8_t *m = p->mac;
    char binfo[160] = "";
    if (p->be && p->be->info)
        p->be->info(p->be_opaque, binfo, sizeof(binfo));
    monitor_printf(r, "nic: %s mac %02x:%02x:%02x:%02x:%02x:%02x link %s", p->model, m[0], m[1],
                   m[2], m[3], m[4], m[5], p->be ? "up" : "down");
    monitor_printf(r, "backend: %s%s%s", p->be ? p->be->name : "none", binfo[0] ? " " : "", binfo);
    if (p->nic && p->nic->info) {
        char ninfo[160] = "";
        p->nic->info(p->nic_opaque, ninfo, sizeof(ninfo));
        monitor_printf(r, "nic state: %s", ninfo);
    }
    monitor_printf(r, "tx: %llu frames %llu bytes, %llu dropped by backend",
                   (unsigned long long)p->st.tx_frames, (unsigned long long)p->st.tx_bytes,
                   (unsigned long long)p->st.tx_backend_drops);
    monitor_printf(r, "rx: %llu frames %llu bytes, queued %u (max %u), dropped %llu queue-full %llu oversize",
                   (unsigned long long)p->st.rx_frames, (unsigned long long)p->st.rx_bytes, p->count,
                   p->st.rx_queued_max, (unsigned long long)p->st.rx_queue_drops,
                   (unsigned long long)p->st.rx_oversize_drops);
    if (p->pcap)
        monitor_printf(r, "pcap: %s (%llu frames)", p->pcap_path, (unsigned long long)p->st.pcap_frames);
    else
        monitor_printf(r, "pcap: off");
    return 0;
}

static int cmd_pcap_start(void *opaque, struct monitor_reply *r, int argc, char **argv)
{
    struct net_port *p = opaque;
    char err[256];
    if (argc != 1) {
        monitor_error(r, "usage: pcap start PATH");
        return -1;
    }
    if (net_pcap_start(p, argv[0], err, sizeof(err)) < 0) {
        monitor_error(r, "%s", err);
        return -1;
    }
    return 0;
}

static int cmd_pcap_stop(void *opaque, struct monitor_reply *r, int argc, char **argv)
{
    struct net_port *p = opaque;
    (void)argv;
    if (argc != 0) {
        monitor_error(r, "usage: pcap stop");
        return -1;
    }
    net_pcap_stop(p);
    return 0;
}

void net_register_monitor(struct monitor *m, struct net_port *p)
{
    if (!m || !p)
        return;
    monitor_add_command(m, "info network", "NIC, backend, counters and drops", cmd_info_network, p);
    monitor_add_command(m, "pcap start", "pcap start PATH: capture every frame to PATH",
                        cmd_pcap_start, p);
    monitor_add_command(m, "pcap stop", "stop the capture", cmd_pcap_stop, p);
}

/* ---- Memory backend (tests) ------------------------------------------ */

struct net_memory {
    struct net_port *port;
    unsigned capacity, head, count;
    struct mem_frame {
        size_t len;
        uint8_t *data;
    } *frames;
};

static void memory_send(void *opaque, const uint8_t *frame, size_t len)
{
    struct net_memory *m = opaque;
    uint8_t *copy = malloc(len);
    if (!copy) {
        net_port_count_tx_drop(m->port);
        return;
    }
    memcpy(copy, frame, len);
    if (m->count == m->capacity) {       /* keep the newest */
        free(m->frames[m->head].data);
        m->head = (m->head + 1) % m->capacity;
        m->count--;
        net_port_count_tx_drop(m->port);
    }
    m->frames[(m->head + m->count) % m->capacity] = (struct mem_frame){ len, copy };
    m->count++;
}

static void memory_destroy(void *opaque)
{
    struct net_memory *m = opaque;
    while (m->count) {
        free(m->frames[m->head].data);
        m->head = (m->head + 1) % m->capacity;
        m->count--;
    }
    free(m->frames);
    free(m);
}

static void memory_info(void *opaque, char *buf, size_t len)
{
    struct net_memory *m = opaque;
    snprintf(buf, len, "(%u frames held)", m->count);
}

static const struct net_backend_ops memory_ops = {
    .name = "memory",
    .send = memory_send,
    .info = memory_info,
    .destroy = memory_destroy,
};

struct net_memory *net_memory_attach(struct net_port *p, unsigned capacity)
{
    struct net_memory *m = calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    m->capacity = capacity ? capacity : 1;
    m->frames = calloc(m->capacity, sizeof(*m->frames));
    if (!m->frames) {
        free(m);
        return NULL;
    }
    m->port = p;
    net_port_set_backend(p, &memory_ops, m);
    return m;
}

unsigned net_memory_count(const struct net_memory *m)
{
    return m->count;
}

size_t net_memory_pop(struct net_memory *m, uint8_t *buf, size_t cap)
{
    if (!m->count)
        return 0;
    struct mem_frame *f = &m->frames[m->head];
    size_t len = f->len;
    memcpy(buf, f->data, len < cap ? len : cap);
    free(f->data);
    m->head = (m->head + 1) % m->capacity;
    m->count--;
    return len;
}
