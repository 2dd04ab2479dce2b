/* vmm/net: the NIC<->backend port and its queue, pcap capture read back
 * with libpcap, the monitor commands, and libslirp answering DHCP. */
#include <CUnit/CUnit.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../../vmm/loop.h"
#include "../../vmm/monitor.h"
#include "../../vmm/net/net.h"
#include "../../vmm/vclock.h"

static const uint8_t MAC[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

/* A NIC with a fixed number of free slots. */
struct fake_nic {
    unsigned room;
    unsigned got, dropped;
    uint8_t last[NET_MAX_FRAME];
    size_t last_len;
    uint8_t seq[512];           /* first payload byte of each accepted frame */
    bool offer_seen;
};

static enum net_rx_result fake_receive(void *opaque, const uint8_t *frame, size_t len)
{
    struct fake_nic *n = opaque;
    if (!n->room)
        return NET_RX_BUSY;
    n->room--;
    if (n->got < sizeof(n->seq))
        n->seq[n->got] = frame[14];
    n->got++;
    memcpy(n->last, frame, len);
    n->last_len = len;
    return NET_RX_DONE;
}

static void fake_dropped(void *opaque)
{
    ((struct fake_nic *)opaque)->dropped++;
}

static const struct net_nic_ops fake_ops = { .receive = fake_receive, .dropped = fake_dropped };

static struct logger lg = { LOG_ERROR, STDERR_FILENO };

static void frame(uint8_t *fr, size_t len, uint8_t tag)
{
    memset(fr, 0, len);
    memcpy(fr, MAC, 6);
    fr[6] = 0x02;
    fr[12] = 0x08;
    fr[14] = tag;
}

static void test_queue_order_and_drops(void)
{
    struct net_port *p = net_port_create(&lg);
    struct fake_nic nic = { .room = 2 };
    net_port_attach_nic(p, &fake_ops, &nic, "fake", MAC);
    uint8_t fr[100];
    for (unsigned i = 0; i < NET_RX_QUEUE + 2 + 5; i++) {
        frame(fr, sizeof(fr), (uint8_t)i);
        net_port_deliver(p, fr, sizeof(fr));
    }
    struct net_stats st;
    net_port_get_stats(p, &st);
    CU_ASSERT_EQUAL(nic.got, 2);
    CU_ASSERT_EQUAL(st.rx_queued, NET_RX_QUEUE);
    CU_ASSERT_EQUAL(st.rx_queue_drops, 5);
    CU_ASSERT_EQUAL(nic.dropped, 5);
    /* Room for 10: exactly the next 10, in order. */
    nic.room = 10;
    net_port_rx_ready(p);
    CU_ASSERT_EQUAL(nic.got, 12);
    /* A new frame while others wait goes behind them. */
    nic.room = 0;
    frame(fr, sizeof(fr), 0xEE);
    net_port_deliver(p, fr, sizeof(fr));       /* queue has room again */
    nic.room = 1000;
    net_port_rx_ready(p);
    CU_ASSERT_EQUAL(nic.got, 2 + NET_RX_QUEUE + 1);
    for (unsigned i = 0; i < 2 + NET_RX_QUEUE; i++)
        CU_ASSERT_EQUAL(nic.seq[i], (uint8_t)i);
    CU_ASSERT_EQUAL(nic.seq[2 + NET_RX_QUEUE], 0xEE);
    /* Oversize and empty frames from a backend. */
    static uint8_t big[9000];
    net_port_deliver(p, big, sizeof(big));
    net_port_deliver(p, big, 0);
    net_port_deliver(p, big, NET_MAX_FRAME + 1);
    net_port_get_stats(p, &st);
    CU_ASSERT_EQUAL(st.rx_oversize_drops, 3);
    CU_ASSERT_EQUAL(st.rx_queued, 0);
    net_port_destroy(p);
}

static void test_send_to_memory_backend(void)
{
    struct net_port *p = net_port_create(&lg);
    struct net_memory *m = net_memory_attach(p, 2);
    uint8_t fr[64], got[64];
    for (unsigned i = 0; i < 3; i++) {
        frame(fr, sizeof(fr), (uint8_t)i);
        net_send(p, fr, sizeof(fr));
    }
    net_send(p, fr, 0);
    CU_ASSERT_EQUAL(net_memory_count(m), 2);   /* keeps the newest */
    CU_ASSERT_EQUAL(net_memory_pop(m, got, sizeof(got)), 64);
    CU_ASSERT_EQUAL(got[14], 1);
    struct net_stats st;
    net_port_get_stats(p, &st);
    CU_ASSERT_EQUAL(st.tx_frames, 3);
    CU_ASSERT_EQUAL(st.tx_backend_drops, 2);    /* ring overwrite + empty frame */
    net_port_destroy(p);
}

static void test_pcap_roundtrip(void)
{
    char path[] = "/tmp/minus1-test-XXXXXX.pcap";
    int fd = mkstemps(path, 5);
    CU_ASSERT_FATAL(fd >= 0);
    close(fd);
    struct net_port *p = net_port_create(&lg);
    net_memory_attach(p, 4);
    char err[256];
    CU_ASSERT_EQUAL_FATAL(net_pcap_start(p, path, err, sizeof(err)), 0);
    CU_ASSERT(net_pcap_active(p));
    uint8_t a[60], b[1514], c[42];
    frame(a, sizeof(a), 1);
    frame(b, sizeof(b), 2);
    frame(c, sizeof(c), 3);
    time_t t0 = time(NULL);
    net_send(p, a, sizeof(a));
    net_port_deliver(p, b, sizeof(b));          /* no NIC: still on the wire */
    net_send(p, c, sizeof(c));
    /* Readable while open (flushed per frame). */
    char perr[PCAP_ERRBUF_SIZE];
    pcap_t *rd = pcap_open_offline(path, perr);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rd);
    CU_ASSERT_EQUAL(pcap_datalink(rd), DLT_EN10MB);
    const uint8_t *want[3] = { a, b, c };
    size_t lens[3] = { sizeof(a), sizeof(b), sizeof(c) };
    struct pcap_pkthdr *h;
    const u_char *data;
    for (unsigned i = 0; i < 3; i++) {
        CU_ASSERT_EQUAL_FATAL(pcap_next_ex(rd, &h, &data), 1);
        CU_ASSERT_EQUAL(h->caplen, lens[i]);
        CU_ASSERT_EQUAL(h->len, lens[i]);
        CU_ASSERT_EQUAL(memcmp(data, want[i], lens[i]), 0);
        CU_ASSERT(h->ts.tv_sec >= t0 && h->ts.tv_sec <= t0 + 5);
        CU_ASSERT(h->ts.tv_usec < 1000000);     /* libpcap scales ns to us */
    }
    CU_ASSERT_EQUAL(pcap_next_ex(rd, &h, &data), PCAP_ERROR_BREAK);
    pcap_close(rd);
    net_pcap_stop(p);
    CU_ASSERT(!net_pcap_active(p));
    net_send(p, a, sizeof(a));                  /* not captured any more */
    rd = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, perr);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rd);
    unsigned n = 0;
    while (pcap_next_ex(rd, &h, &data) == 1)
        n++;
    CU_ASSERT_EQUAL(n, 3);
    pcap_close(rd);
    /* An unwritable path is a clear error. */
    CU_ASSERT_EQUAL(net_pcap_start(p, "/nonexistent-dir/x.pcap", err, sizeof(err)), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "/nonexistent-dir/x.pcap"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "No such file"));
    CU_ASSERT(!net_pcap_active(p));
    net_port_destroy(p);
    unlink(path);
}

static void test_monitor_commands(void)
{
    char err[128], out[2048];
    struct monitor *m = monitor_create(NULL, NULL, &lg, err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    struct net_port *p = net_port_create(&lg);
    struct fake_nic nic = { .room = 100 };
    net_port_attach_nic(p, &fake_ops, &nic, "ne2k-test", MAC);
    net_memory_attach(p, 4);
    net_register_monitor(m, p);
    uint8_t fr[70];
    frame(fr, sizeof(fr), 1);
    net_send(p, fr, sizeof(fr));
    net_port_deliver(p, fr, sizeof(fr));
    CU_ASSERT_EQUAL(monitor_execute(m, "info network", out, sizeof(out)), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "52:54:00:12:34:56"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "ne2k-test"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "tx: 1 frames 70 bytes"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "rx: 1 frames"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "pcap: off"));
    char cmd[128];
    char path[] = "/tmp/minus1-mon-XXXXXX";
    int fd = mkstemp(path);
    CU_ASSERT_FATAL(fd >= 0);
    close(fd);
    snprintf(cmd, sizeof(cmd), "pcap start %s", path);
    CU_ASSERT_EQUAL(monitor_execute(m, cmd, out, sizeof(out)), 0);
    CU_ASSERT(net_pcap_active(p));
    CU_ASSERT_EQUAL(monitor_execute(m, "pcap stop", out, sizeof(out)), 0);
    CU_ASSERT(!net_pcap_active(p));
    CU_ASSERT_NOT_EQUAL(monitor_execute(m, "pcap start /nonexistent-dir/y", out, sizeof(out)), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "error"));
    unlink(path);
    monitor_destroy(m);
    net_port_destroy(p);
}

/* ---- slirp ---- */

static uint16_t ip_checksum(const uint8_t *p, size_t len)
{
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    while (sum >> 16)
        sum = (sum & 0xFFFF) + (sum >> 16);
    return (uint16_t)~sum;
}

/* Ethernet + IPv4 + UDP 68->67 + BOOTP with a 312-byte options area. */
static size_t build_discover(uint8_t *f)
{
    const size_t bootp_len = 236 + 312, udp_len = 8 + bootp_len, ip_len = 20 + udp_len;
    memset(f, 0, 14 + ip_len);
    memset(f, 0xFF, 6);
    memcpy(f + 6, MAC, 6);
    f[12] = 0x08;
    uint8_t *ip = f + 14;
    ip[0] = 0x45;
    ip[2] = (uint8_t)(ip_len >> 8);
    ip[3] = (uint8_t)ip_len;
    ip[8] = 64;
    ip[9] = 17;
    memset(ip + 16, 0xFF, 4);                   /* 0.0.0.0 -> 255.255.255.255 */
    uint16_t cs = ip_checksum(ip, 20);
    ip[10] = (uint8_t)(cs >> 8);
    ip[11] = (uint8_t)cs;
    uint8_t *udp = ip + 20;
    udp[1] = 68;
    udp[3] = 67;
    udp[4] = (uint8_t)(udp_len >> 8);
    udp[5] = (uint8_t)udp_len;                  /* checksum 0: none */
    uint8_t *bp = udp + 8;
    bp[0] = 1;                                  /* BOOTREQUEST */
    bp[1] = 1;
    bp[2] = 6;
    bp[4] = 0x12; bp[5] = 0x34; bp[6] = 0x56; bp[7] = 0x78;
    bp[10] = 0x80;                              /* broadcast flag */
    memcpy(bp + 28, MAC, 6);
    uint8_t *opt = bp + 236;
    opt[0] = 0x63; opt[1] = 0x82; opt[2] = 0x53; opt[3] = 0x63;
    opt[4] = 53; opt[5] = 1; opt[6] = 1;        /* DHCPDISCOVER */
    opt[7] = 255;
    return 14 + ip_len;
}

struct dhcp_nic {
    bool offer;
    uint8_t yiaddr[4];
    unsigned frames, arp_or_syn;
};

static enum net_rx_result dhcp_receive(void *opaque, const uint8_t *f, size_t len)
{
    struct dhcp_nic *n = opaque;
    n->frames++;
    if (len >= 14 && f[12] == 0x08 && f[13] == 0x06)
        n->arp_or_syn++;
    if (len >= 14 + 20 + 20 && f[12] == 0x08 && f[13] == 0x00 && f[14 + 9] == 6)
        n->arp_or_syn++;
    if (len < 14 + 20 + 8 + 240 || f[12] != 0x08 || f[13] != 0x00 || f[14 + 9] != 17)
        return NET_RX_DONE;
    const uint8_t *udp = f + 14 + (f[14] & 0xF) * 4;
    if (udp[1] != 67 || udp[3] != 68)
        return NET_RX_DONE;
    const uint8_t *bp = udp + 8;
    if (bp[0] != 2 || memcmp(bp + 4, "\x12\x34\x56\x78", 4))
        return NET_RX_DONE;
    const uint8_t *o = bp + 240, *end = f + len;
    while (o + 2 <= end && *o != 255) {
        if (*o == 0) {
            o++;
            continue;
        }
        if (o[0] == 53 && o[1] == 1 && o + 3 <= end && o[2] == 2) {
            n->offer = true;
            memcpy(n->yiaddr, bp + 16, 4);
        }
        o += 2 + o[1];
    }
    return NET_RX_DONE;
}

static void dhcp_dropped(void *opaque) { (void)opaque; }
static const struct net_nic_ops dhcp_ops = { .receive = dhcp_receive, .dropped = dhcp_dropped };

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void test_slirp_dhcp_and_hostfwd(void)
{
    struct vclock clock;
    struct loop l;
    vclock_init(&clock);
    CU_ASSERT_EQUAL_FATAL(loop_init(&l, NULL, &clock), 0);
    struct net_port *p = net_port_create(&lg);
    struct dhcp_nic nic = { 0 };
    net_port_attach_nic(p, &dhcp_ops, &nic, "fake", MAC);
    uint16_t hport = (uint16_t)(20000 + getpid() % 20000);
    struct hostfwd fwd = { .udp = false, .host_port = hport, .guest_port = 22 };
    struct net_user_opts opts = { .hostfwd = &fwd, .nhostfwd = 1 };
    char err[256];
    int rc = net_user_create(p, &l, &clock, &opts, err, sizeof(err));
    if (rc < 0)
        fprintf(stderr, "net_user_create: %s\n", err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);

    uint8_t f[1024];
    size_t len = build_discover(f);
    net_send(p, f, len);
    uint64_t t0 = now_ms();
    while (!nic.offer && now_ms() - t0 < 3000)
        loop_run_once(&l, 20);
    CU_ASSERT(nic.offer);
    CU_ASSERT_EQUAL(memcmp(nic.yiaddr, "\x0a\x00\x02\x0f", 4), 0);    /* 10.0.2.15 */

    /* hostfwd: a host connection makes slirp reach for the guest (ARP
     * request or SYN towards 10.0.2.15:22), through the epoll'd fds. */
    int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(hport) };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int c = connect(s, (struct sockaddr *)&sa, sizeof(sa));
    CU_ASSERT(c == 0 || errno == EINPROGRESS);
    t0 = now_ms();
    while (!nic.arp_or_syn && now_ms() - t0 < 3000)
        loop_run_once(&l, 20);
    CU_ASSERT(nic.arp_or_syn > 0);
    close(s);

    char out[2048];
    char merr[128];
    struct monitor *m = monitor_create(NULL, NULL, &lg, merr, sizeof(merr));
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    net_register_monitor(m, p);
    CU_ASSERT_EQUAL(monitor_execute(m, "info network", out, sizeof(out)), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "backend: user"));
    monitor_destroy(m);
    net_port_destroy(p);
    loop_destroy(&l);
}

void suite_net(void)
{
    CU_pSuite s = CU_add_suite("net", NULL, NULL);
    CU_add_test(s, "receive queue: order, rx_ready, drops", test_queue_order_and_drops);
    CU_add_test(s, "send into the memory backend", test_send_to_memory_backend);
    CU_add_test(s, "pcap written and read back with libpcap", test_pcap_roundtrip);
    CU_add_test(s, "monitor: info network, pcap start/stop", test_monitor_commands);
    CU_add_test(s, "slirp answers DHCP DISCOVER; hostfwd reaches the guest",
                test_slirp_dhcp_and_hostfwd);
}
