/* Monitor commands for the IDE drives: info block, eject, change. */
#include <stdio.h>
#include <string.h>

#include "../../monitor.h"
#include "ide_int.h"

static struct ide_drive *cd_slot(struct ide *ide, int channel, int unit, char *err,
                                 size_t errlen)
{
    if (channel < 0 || channel > 1 || unit < 0 || unit > 1 ||
        ide->ch[channel].drv[unit].kind != IDE_CDROM) {
        snprintf(err, errlen, "no CD-ROM drive at ide%d unit %d", channel, unit);
        return NULL;
    }
    struct ide_drive *d = &ide->ch[channel].drv[unit];
    /* A request in flight still uses the image: it lands within a few
     * milliseconds, the user can retry. */
    if (d->ch->busy_aio && d->ch->aio_drive == d) {
        snprintf(err, errlen, "%s is busy, try again", d->name);
        return NULL;
    }
    return d;
}

int ide_cd_eject(struct ide *ide, int channel, int unit, bool force, char *err, size_t errlen)
{
    struct ide_drive *d = cd_slot(ide, channel, unit, err, errlen);
    if (!d)
        return -1;
    if (d->locked && !force) {
        snprintf(err, errlen, "%s: the guest has locked the medium (use eject -f)", d->name);
        return -1;
    }
    if (!d->bb)
        return 0;
    block_close(d->bb);
    d->bb = NULL;
    d->dma_pending = false;
    atapi_medium_removed(d);
    return 0;
}

int ide_cd_change(struct ide *ide, int channel, int unit, const char *path, char *err,
                  size_t errlen)
{
    struct ide_drive *d = cd_slot(ide, channel, unit, err, errlen);
    if (!d)
        return -1;
    struct block_backend *bb = block_open_raw(path, BLOCK_RDONLY | BLOCK_CDROM, err, errlen);
    if (!bb)
        return -1;
    block_close(d->bb);
    d->bb = bb;
    d->dma_pending = false;
    atapi_medium_changed(d);
    return 0;
}

/* "cdrom" = the first CD-ROM drive; otherwise a drive's name. */
static struct ide_drive *find(struct ide *ide, const char *name)
{
    for (int c = 0; c < 2; c++)
        for (int u = 0; u < 2; u++) {
            struct ide_drive *d = &ide->ch[c].drv[u];
            if (d->kind == IDE_NONE)
                continue;
            if (strcmp(name, d->name) == 0 || (d->kind == IDE_CDROM && !strcmp(name, "cdrom")))
                return d;
        }
    return NULL;
}

static int cmd_info_block(void *opaque, struct monitor_reply *r, int argc, char **argv)
{
    struct ide *ide = opaque;
    (void)argc;
    (void)argv;
    for (int c = 0; c < 2; c++)
        for (int u = 0; u < 2; u++) {
            struct ide_drive *d = &ide->ch[c].drv[u];
            if (d->kind == IDE_NONE)
                continue;
            if (!d->bb) {
                monitor_printf(r, "%s: %s, no medium%s", d->name,
                               d->kind == IDE_DISK ? "disk" : "cdrom",
                               d->tray_open ? ", tray open" : "");
                continue;
            }
            monitor_printf(r, "%s: %s, %s, %s, %llu bytes%s%s", d->name,
                           d->kind == IDE_DISK ? "disk" : "cdrom", block_path(d->bb),
                           block_format(d->bb), (unsigned long long)block_size(d->bb),
                           block_readonly(d->bb) ? ", read-only" : "",
                           d->kind == IDE_CDROM && d->tray_open ? ", tray open" :
                           d->kind == IDE_CDROM && d->locked ? ", locked" : "");
        }
    return 0;
}

static int cmd_eject(void *opaque, struct monitor_reply *r, int argc, char **argv)
{
    struct ide *ide = opaque;
    bool force = argc >= 1 && strcmp(argv[0], "-f") == 0;
    if (argc != 1 + force) {
        monitor_error(r, "usage: eject [-f] DEVICE");
        return -1;
    }
    struct ide_drive *d = find(ide, argv[force]);
    if (!d || d->kind != IDE_CDROM) {
        monitor_error(r, "%s: no such CD-ROM drive", argv[force]);
        return -1;
    }
    char err[256];
    if (ide_cd_eject(ide, d->ch->idx, d->unit, force, err, sizeof(err)) < 0) {
        monitor_error(r, "%s", err);
        return -1;
    }
    return 0;
}

static int cmd_change(void *opaque, struct monitor_reply *r, int argc, char **argv)
{
    struct ide *ide = opaque;
    if (argc != 2) {
        monitor_error(r, "usage: change DEVICE PATH");
        return -1;
    }
    struct ide_drive *d = find(ide, argv[0]);
    if (!d || d->kind != IDE_CDROM) {
        monitor_error(r, "%s: no such CD-ROM drive", argv[0]);
        return -1;
    }
    char err[512];
    if (ide_cd_change(ide, d->ch->idx, d->unit, argv[1], err, sizeof(err)) < 0) {
        monitor_error(r, "%s", err);
        return -1;
    }
    return 0;
}

void ide_register_monitor(struct ide *ide, struct monitor *mon)
{
    ide->mon = mon;
    monitor_add_command(mon, "info block", "IDE drives and their images", cmd_info_block, ide);
    monitor_add_command(mon, "eject", "eject [-f] DEVICE: remove a CD-ROM's medium", cmd_eject,
                        ide);
    monitor_add_command(mon, "change", "change DEVICE PATH: insert an ISO image", cmd_change,
                        ide);
}
