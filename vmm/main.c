/* minus1's command line.  Parses flags into a vm_config, builds the
 * machine and runs it.  Any bad input ends here with one line on stderr
 * and exit status 2. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "machine.h"
#include "sandbox.h"

#define EXIT_USAGE 2

static const char usage_text[] =
    "usage: minus1 [options]\n"
    "  -m, --memory SIZE        guest RAM (K/M/G suffix; plain number = MiB), default 256M\n"
    "      --cdrom PATH         ISO image on the secondary IDE master\n"
    "      --disk PATH[,format=raw][,readonly]   raw disk image (repeatable, up to 4)\n"
    "      --boot cd|disk       boot device\n"
    "      --accel auto|kvm|emu execution backend (default auto)\n"
    "      --nic ne2k-pci|ne2k-isa|none[,mac=XX:XX:XX:XX:XX:XX]\n"
    "      --net user[,hostfwd=tcp::HOSTPORT-:GUESTPORT]|tap,ifname=NAME|none\n"
    "      --pcap PATH          capture every guest frame\n"
    "      --serial stdio|file:PATH|none   COM1 backend (default stdio)\n"
    "      --display none|vnc[:N]|vnc=ADDR:N[,password=SECRET]   VNC server (127.0.0.1:5900+N)\n"
    "      --monitor unix:PATH  control socket\n"
    "      --no-reboot          exit instead of resetting the guest\n"
    "      --sandbox on|off     seccomp filter after start-up (default on where supported)\n"
    "      --bios PATH          firmware image (default /usr/share/seabios/bios-256k.bin)\n"
    "      --debugcon SPEC      port 0x402 output (file:PATH, stdio)\n"
    "      --trace-io FILE      record every guest port/MMIO access (vmm/trace_io.h)\n"
    "      --kernel PATH --initrd PATH --append TEXT   direct Linux boot\n"
    "      --log error|warn|info|debug|trace\n"
    "  -h, --help               this text\n"
    "  -V, --version            version\n";

static void die_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die_usage(const char *fmt, ...)
{
    va_list ap;
    fputs("minus1: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(EXIT_USAGE);
}

void config_defaults(struct vm_config *c)
{
    memset(c, 0, sizeof(*c));
    c->ram_size = 256ull << 20;
    c->accel = ACCEL_AUTO;
    c->nic = NIC_NONE;
    c->net = NET_NONE;
    c->serial = "stdio";
    c->display = DISPLAY_NONE;
    c->log_level = LOG_WARN;
}

static uint64_t parse_size(const char *s)
{
    char *end;
    errno = 0;
    uint64_t v = strtoull(s, &end, 10);
    if (errno || end == s || s[0] == '-')
        die_usage("--memory: '%s' is not a size", s);
    uint64_t mul = 1ull << 20;
    switch (*end) {
    case 'k': case 'K': mul = 1ull << 10; end++; break;
    case 'm': case 'M': mul = 1ull << 20; end++; break;
    case 'g': case 'G': mul = 1ull << 30; end++; break;
    case 't': case 'T': mul = 1ull << 40; end++; break;
    case '\0': break;
    default: die_usage("--memory: '%s' is not a size", s);
    }
    if (*end == 'B' || *end == 'b')
        end++;
    if (*end)
        die_usage("--memory: '%s' is not a size", s);
    if (v > (1ull << 40) / mul)
        die_usage("--memory: '%s' is too large (at most 1T)", s);
    v *= mul;
    if (v < (8ull << 20))
        die_usage("--memory: '%s' is too small (at least 8M)", s);
    if (v % 4096)
        die_usage("--memory: '%s' is not a multiple of 4 KiB", s);
    return v;
}

static void check_readable_file(const char *flag, const char *path)
{
    struct stat st;
    if (!path[0])
        die_usage("%s: empty path", flag);
    if (stat(path, &st) < 0)
        die_usage("%s: cannot open '%s': %s", flag, path, strerror(errno));
    if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
        die_usage("%s: '%s' is not a regular file", flag, path);
}

static void parse_disk(struct vm_config *c, char *arg)
{
    if (c->ndisks == CONFIG_MAX_DISKS)
        die_usage("--disk: at most %d disks", CONFIG_MAX_DISKS);
    struct disk_config *d = &c->disks[c->ndisks++];
    char *save = NULL;
    d->path = strtok_r(arg, ",", &save);
    if (!d->path)
        die_usage("--disk: missing path");
    for (char *o = strtok_r(NULL, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
        if (strcmp(o, "readonly") == 0 || strcmp(o, "readonly=on") == 0)
            d->readonly = true;
        else if (strcmp(o, "format=raw") == 0)
            ;
        else if (strncmp(o, "format=", 7) == 0)
            die_usage("--disk: format '%s' is not supported (only raw)", o + 7);
        else
            die_usage("--disk: unknown option '%s'", o);
    }
    check_readable_file("--disk", d->path);
}

static int parse_mac(const char *s, uint8_t mac[6])
{
    unsigned b[6];
    char tail;
    if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
               &tail) != 6 || strlen(s) != 17)
        return -1;
    for (int i = 0; i < 6; i++)
        mac[i] = (uint8_t)b[i];
    /* A multicast source address would make the guest's frames bogus. */
    return (mac[0] & 1) ? -1 : 0;
}

static void parse_nic(struct vm_config *c, char *arg)
{
    char *save = NULL;
    char *model = strtok_r(arg, ",", &save);
    if (!model || strcmp(model, "none") == 0)
        c->nic = NIC_NONE;
    else if (strcmp(model, "ne2k-pci") == 0)
        c->nic = NIC_NE2K_PCI;
    else if (strcmp(model, "ne2k-isa") == 0)
        c->nic = NIC_NE2K_ISA;
    else
        die_usage("--nic: unknown model '%s' (ne2k-pci, ne2k-isa or none)", model);
    for (char *o = strtok_r(NULL, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
        if (strncmp(o, "mac=", 4) != 0 || parse_mac(o + 4, c->mac) < 0)
            die_usage("--nic: bad option '%s' (mac=XX:XX:XX:XX:XX:XX, unicast)", o);
        c->mac_set = true;
    }
}

static void parse_hostfwd(struct vm_config *c, const char *spec)
{
    char proto[4];
    unsigned hp, gp;
    char tail;
    if (c->nhostfwd == CONFIG_MAX_HOSTFWD)
        die_usage("--net: at most %d hostfwd rules", CONFIG_MAX_HOSTFWD);
    if (sscanf(spec, "%3[a-z]::%u-:%u%c", proto, &hp, &gp, &tail) != 3 ||
        (strcmp(proto, "tcp") && strcmp(proto, "udp")) || hp == 0 || hp > 65535 ||
        gp == 0 || gp > 65535)
        die_usage("--net: bad hostfwd '%s' (tcp::HOSTPORT-:GUESTPORT)", spec);
    c->hostfwd[c->nhostfwd++] = (struct hostfwd){ strcmp(proto, "udp") == 0, (uint16_t)hp,
                                                  (uint16_t)gp };
}

static void parse_net(struct vm_config *c, char *arg)
{
    char *save = NULL;
    char *kind = strtok_r(arg, ",", &save);
    if (!kind || strcmp(kind, "none") == 0) {
        c->net = NET_NONE;
        return;
    }
    if (strcmp(kind, "tap") == 0) {
        c->net = NET_TAP;
        for (char *o = strtok_r(NULL, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
            if (strncmp(o, "ifname=", 7) != 0 || !o[7])
                die_usage("--net: tap takes ifname=NAME, not '%s'", o);
            c->tap_ifname = o + 7;
        }
        if (!c->tap_ifname)
            die_usage("--net: tap needs ifname=NAME");
        return;
    }
    if (strcmp(kind, "user") != 0)
        die_usage("--net: unknown backend '%s' (user, tap or none)", kind);
    c->net = NET_USER;
    for (char *o = strtok_r(NULL, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
        if (strncmp(o, "hostfwd=", 8) != 0)
            die_usage("--net: unknown option '%s'", o);
        parse_hostfwd(c, o + 8);
    }
}

/* none | vnc | vnc:N | vnc=ADDR:N, then optional ,password=SECRET. */
static void parse_display(struct vm_config *c, char *arg)
{
    char *save = NULL;
    char *kind = strtok_r(arg, ",", &save);
    char tail;
    if (!kind || strcmp(kind, "none") == 0) {
        c->display = DISPLAY_NONE;
        return;
    }
    c->display = DISPLAY_VNC;
    if (strncmp(kind, "vnc=", 4) == 0) {
        char *colon = strrchr(kind + 4, ':');
        if (!colon || colon == kind + 4)
            die_usage("--display: expected vnc=ADDRESS:N, got '%s'", kind);
        *colon = '\0';
        c->vnc_listen = kind + 4;
        if (sscanf(colon + 1, "%d%c", &c->vnc_display, &tail) != 1)
            c->vnc_display = -1;
    } else if (strcmp(kind, "vnc") != 0 &&
               sscanf(kind, "vnc:%d%c", &c->vnc_display, &tail) != 1) {
        die_usage("--display: expected none, vnc, vnc:N or vnc=ADDRESS:N, got '%s'", kind);
    }
    if (c->vnc_display < 0 || c->vnc_display > 99)
        die_usage("--display: VNC display number must be 0-99");
    for (char *o = strtok_r(NULL, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
        if (strncmp(o, "password=", 9) != 0 || !o[9] || strlen(o + 9) > 8)
            die_usage("--display: bad option '%s' (password=SECRET, at most 8 characters)", o);
        c->vnc_password = o + 9;
    }
}

static void check_chardev_spec(const char *flag, const char *spec)
{
    if (strcmp(spec, "stdio") && strcmp(spec, "none") && strncmp(spec, "file:", 5))
        die_usage("%s: expected stdio, file:PATH or none, got '%s'", flag, spec);
    if (strncmp(spec, "file:", 5) == 0 && !spec[5])
        die_usage("%s: file: needs a path", flag);
}

enum {
    OPT_CDROM = 256, OPT_DISK, OPT_BOOT, OPT_ACCEL, OPT_NIC, OPT_NET, OPT_PCAP, OPT_SERIAL,
    OPT_DISPLAY, OPT_MONITOR, OPT_NO_REBOOT, OPT_BIOS, OPT_DEBUGCON, OPT_KERNEL, OPT_INITRD,
    OPT_APPEND, OPT_LOG, OPT_SANDBOX, OPT_TRACE_IO,
};

static const struct option long_opts[] = {
    { "memory", required_argument, NULL, 'm' },
    { "cdrom", required_argument, NULL, OPT_CDROM },
    { "disk", required_argument, NULL, OPT_DISK },
    { "boot", required_argument, NULL, OPT_BOOT },
    { "accel", required_argument, NULL, OPT_ACCEL },
    { "nic", required_argument, NULL, OPT_NIC },
    { "net", required_argument, NULL, OPT_NET },
    { "pcap", required_argument, NULL, OPT_PCAP },
    { "serial", required_argument, NULL, OPT_SERIAL },
    { "display", required_argument, NULL, OPT_DISPLAY },
    { "monitor", required_argument, NULL, OPT_MONITOR },
    { "no-reboot", no_argument, NULL, OPT_NO_REBOOT },
    { "bios", required_argument, NULL, OPT_BIOS },
    { "debugcon", required_argument, NULL, OPT_DEBUGCON },
    { "kernel", required_argument, NULL, OPT_KERNEL },
    { "initrd", required_argument, NULL, OPT_INITRD },
    { "append", required_argument, NULL, OPT_APPEND },
    { "log", required_argument, NULL, OPT_LOG },
    { "sandbox", required_argument, NULL, OPT_SANDBOX },
    { "trace-io", required_argument, NULL, OPT_TRACE_IO },
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, 'V' },
    { NULL, 0, NULL, 0 },
};

static void parse_option(struct vm_config *c, int opt, char *arg)
{
    switch (opt) {
    case 'm': c->ram_size = parse_size(arg); break;
    case OPT_CDROM: check_readable_file("--cdrom", arg); c->cdrom = arg; break;
    case OPT_DISK: parse_disk(c, arg); break;
    case OPT_BOOT:
        if (strcmp(arg, "cd") == 0 || strcmp(arg, "d") == 0)
            c->boot = BOOT_CD;
        else if (strcmp(arg, "disk") == 0 || strcmp(arg, "c") == 0)
            c->boot = BOOT_DISK;
        else
            die_usage("--boot: expected cd or disk, got '%s'", arg);
        break;
    case OPT_ACCEL:
        if (strcmp(arg, "auto") == 0)
            c->accel = ACCEL_AUTO;
        else if (strcmp(arg, "kvm") == 0)
            c->accel = ACCEL_KVM;
        else if (strcmp(arg, "emu") == 0)
            c->accel = ACCEL_EMU;
        else
            die_usage("--accel: expected auto, kvm or emu, got '%s'", arg);
        break;
    case OPT_NIC: parse_nic(c, arg); break;
    case OPT_NET: parse_net(c, arg); break;
    case OPT_PCAP: if (!arg[0]) die_usage("--pcap: empty path"); c->pcap = arg; break;
    case OPT_SERIAL: check_chardev_spec("--serial", arg); c->serial = arg; break;
    case OPT_DISPLAY: parse_display(c, arg); break;
    case OPT_MONITOR:
        if (strncmp(arg, "unix:", 5) != 0 || !arg[5])
            die_usage("--monitor: expected unix:PATH, got '%s'", arg);
        c->monitor = arg;
        break;
    case OPT_NO_REBOOT: c->no_reboot = true; break;
    case OPT_BIOS: check_readable_file("--bios", arg); c->bios = arg; break;
    case OPT_DEBUGCON: check_chardev_spec("--debugcon", arg); c->debugcon = arg; break;
    case OPT_TRACE_IO: if (!arg[0]) die_usage("--trace-io: empty path"); c->trace_io = arg; break;
    case OPT_KERNEL: check_readable_file("--kernel", arg); c->kernel = arg; break;
    case OPT_INITRD: check_readable_file("--initrd", arg); c->initrd = arg; break;
    case OPT_APPEND: c->append = arg; break;
    case OPT_LOG:
        if (log_level_parse(arg, &c->log_level) < 0)
            die_usage("--log: unknown level '%s' (error, warn, info, debug, trace)", arg);
        break;
    case OPT_SANDBOX:
        if (strcmp(arg, "on") == 0)
            c->sandbox = SANDBOX_ON;
        else if (strcmp(arg, "off") == 0)
            c->sandbox = SANDBOX_OFF;
        else if (strcmp(arg, "log") == 0)       /* development: find what is missing */
            c->sandbox = SANDBOX_LOG;
        else
            die_usage("--sandbox: expected on or off, got '%s'", arg);
        break;
    default: die_usage("bad option (try --help)");
    }
}

/* Flags that parse but whose devices are not in this build yet. */
static void reject_unbuilt(const struct vm_config *c)
{
    /* Four IDE positions; the CD-ROM takes the secondary master. */
    if (c->cdrom && c->ndisks > 3)
        die_usage("--disk: at most 3 disks next to a --cdrom (4 IDE positions)");
    if (c->pcap && c->nic == NIC_NONE)
        die_usage("--pcap: there is no NIC to capture from (add --nic ne2k-pci)");
    if ((c->initrd || c->append) && !c->kernel)
        die_usage("--initrd/--append: only with --kernel");
}

int main(int argc, char **argv)
{
    struct vm_config cfg;
    config_defaults(&cfg);
    opterr = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, ":m:hV", long_opts, NULL)) != -1) {
        if (opt == 'h') {
            fputs(usage_text, stdout);
            return 0;
        }
        if (opt == 'V') {
            printf("minus1 %s\n", MINUS1_VERSION);
            return 0;
        }
        if (opt == '?')
            die_usage("unknown option '%s' (try --help)", argv[optind - 1]);
        if (opt == ':')
            die_usage("option '%s' needs a value", argv[optind - 1]);
        parse_option(&cfg, opt, optarg);
    }
    if (optind < argc)
        die_usage("unexpected argument '%s' (try --help)", argv[optind]);
    reject_unbuilt(&cfg);

    struct machine *m = calloc(1, sizeof(*m));
    if (!m) {
        fputs("minus1: out of memory\n", stderr);
        return 1;
    }
    char err[512];
    if (machine_create(m, &cfg, err, sizeof(err)) < 0) {
        fprintf(stderr, "minus1: %s\n", err);
        machine_destroy(m);
        free(m);
        return EXIT_USAGE;
    }
    int status = machine_run(m);
    machine_destroy(m);
    free(m);
    return status;
}
