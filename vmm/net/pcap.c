/* Capture file: libpcap's dump API on a "dead" Ethernet handle, with
 * nanosecond timestamps from the host's wall clock (what Wireshark shows),
 * flushed after every frame so the file is complete at any moment. */
#include "net.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct net_pcap {
    pcap_t *dead;
    pcap_dumper_t *dump;
};

#define PCAP_SNAPLEN 65535

struct net_pcap *net_pcap_open(const char *path, char *err, size_t errlen)
{
    if (!path || !*path) {
        snprintf(err, errlen, "pcap: empty file name");
        return NULL;
    }
    struct net_pcap *pc = calloc(1, sizeof(*pc));
    if (!pc) {
        snprintf(err, errlen, "pcap: out of memory");
        return NULL;
    }
    pc->dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, PCAP_SNAPLEN,
                                                    PCAP_TSTAMP_PRECISION_NANO);
    if (!pc->dead) {
        snprintf(err, errlen, "pcap: cannot create a capture handle");
        free(pc);
        return NULL;
    }
    /* Open the file ourselves first: fopen's errno is a clearer message
     * than libpcap's. */
    FILE *f = fopen(path, "wb");
    if (!f) {
        snprintf(err, errlen, "cannot write pcap file %s: %s", path, strerror(errno));
        pcap_close(pc->dead);
        free(pc);
        return NULL;
    }
    pc->dump = pcap_dump_fopen(pc->dead, f);
    if (!pc->dump) {
        snprintf(err, errlen, "cannot write pcap file %s: %s", path, pcap_geterr(pc->dead));
        fclose(f);
        pcap_close(pc->dead);
        free(pc);
        return NULL;
    }
    pcap_dump_flush(pc->dump);      /* the header is there even if no frame ever is */
    return pc;
}

void net_pcap_write(struct net_pcap *pc, const uint8_t *frame, size_t len)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct pcap_pkthdr h = { 0 };
    h.ts.tv_sec = ts.tv_sec;
    h.ts.tv_usec = (suseconds_t)ts.tv_nsec;    /* nanoseconds: the handle says so */
    h.len = (bpf_u_int32)len;
    h.caplen = (bpf_u_int32)(len < PCAP_SNAPLEN ? len : PCAP_SNAPLEN);
    pcap_dump((u_char *)pc->dump, &h, frame);
    pcap_dump_flush(pc->dump);
}

void net_pcap_close(struct net_pcap *pc)
{
    if (!pc)
        return;
    pcap_dump_close(pc->dump);
    pcap_close(pc->dead);
    free(pc);
}
