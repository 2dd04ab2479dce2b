/* What the command line asks for.  main.c fills it, machine.c builds the
 * PC from it; nothing else reads argv. */
#ifndef MINUS1_CONFIG_H
#define MINUS1_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "log.h"

#define CONFIG_MAX_DISKS 4
#define CONFIG_MAX_HOSTFWD 8

enum accel_kind { ACCEL_AUTO, ACCEL_KVM, ACCEL_EMU };
enum boot_kind { BOOT_DEFAULT, BOOT_CD, BOOT_DISK };
enum nic_kind { NIC_NONE, NIC_NE2K_PCI, NIC_NE2K_ISA };
enum net_kind { NET_NONE, NET_USER, NET_TAP };
enum display_kind { DISPLAY_NONE, DISPLAY_VNC };

struct disk_config {
    const char *path;
    bool readonly;
};

struct hostfwd {
    bool udp;
    uint16_t host_port, guest_port;
};

struct vm_config {
    uint64_t ram_size;
    const char *cdrom;
    struct disk_config disks[CONFIG_MAX_DISKS];
    unsigned ndisks;
    enum boot_kind boot;
    enum accel_kind accel;
    enum nic_kind nic;
    uint8_t mac[6];
    bool mac_set;               /* else the NIC's default 52:54:00:12:34:56 */
    enum net_kind net;
    struct hostfwd hostfwd[CONFIG_MAX_HOSTFWD];
    const char *tap_ifname;     /* --net tap,ifname=X */
    unsigned nhostfwd;
    const char *pcap;
    const char *trace_io;       /* --trace-io FILE or NULL */
    const char *serial;         /* chardev spec */
    enum display_kind display;
    int vnc_display;
    const char *vnc_listen;     /* NULL = 127.0.0.1 */
    const char *vnc_password;   /* NULL = no authentication */
    const char *monitor;        /* "unix:PATH" or NULL */
    bool no_reboot;
    int sandbox;                /* enum sandbox_mode (sandbox.h); 0 = on where supported */
    const char *bios;
    const char *debugcon;       /* chardev spec or NULL */
    const char *kernel, *initrd, *append;
    enum log_level log_level;
};

void config_defaults(struct vm_config *c);

#endif
