/* ATAPI CD-ROM: the PACKET protocol (command phase, byte-count-limited
 * PIO data phases, DMA, interrupt reason) and the MMC commands guests
 * use, with sense data and media-change reporting. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ide_int.h"

#define CD_SECTOR BLOCK_CD_SECTOR

/* Sense keys and additional sense codes */
#define SK_NOT_READY       0x02
#define SK_ILLEGAL_REQUEST 0x05
#define SK_UNIT_ATTENTION  0x06
#define ASC_INVALID_OPCODE 0x20
#define ASC_LBA_RANGE      0x21
#define ASC_INVALID_FIELD  0x24
#define ASC_MEDIUM_CHANGED 0x28
#define ASC_SAVE_NOT_SUPP  0x39
#define ASC_NO_MEDIUM      0x3A
#define ASC_REMOVAL_PREVENTED 0x53

/* GESN media event codes */
#define MEV_NONE    0
#define MEV_NEW     2
#define MEV_REMOVAL 3

static void put16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}
static uint32_t get16(const uint8_t *p) { return (uint32_t)p[0] << 8 | p[1]; }
static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static bool medium_ready(const struct ide_drive *d)
{
    return d->bb && !d->tray_open;
}

static uint32_t cd_sectors(const struct ide_drive *d)
{
    uint64_t n = d->bb ? d->bb->size / CD_SECTOR : 0;
    return n > 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t)n;
}

void atapi_power_on(struct ide_drive *d)
{
    d->sense_key = d->asc = d->ascq = 0;
    d->locked = false;
    d->tray_open = false;
    d->xfer_mode = 0;
    d->wcache = false;
    /* No power-on UNIT ATTENTION: firmware boot code polls TEST UNIT
     * READY and should find an inserted disc ready at once. */
    d->ua_pending = false;
    d->media_event = MEV_NONE;
}

void atapi_medium_changed(struct ide_drive *d)
{
    d->tray_open = false;
    d->ua_pending = true;
    d->media_event = MEV_NEW;
}

void atapi_medium_removed(struct ide_drive *d)
{
    d->ua_pending = false;
    d->media_event = MEV_REMOVAL;
}

/* ---- completion ---- */

static void atapi_ok(struct ide_drive *d)
{
    d->nsector = IR_IO | IR_COD;
    d->error = 0;
    d->status = ST_DRDY | ST_DSC;
    ide_set_irq(d->ch);
}

static void atapi_fail(struct ide_drive *d, uint8_t key, uint8_t asc, uint8_t ascq)
{
    d->sense_key = key;
    d->asc = asc;
    d->ascq = ascq;
    d->nsector = IR_IO | IR_COD;
    d->error = (uint8_t)(key << 4 | (key == SK_ILLEGAL_REQUEST ? ER_ABRT : 0));
    d->status = ST_DRDY | ST_DSC | ST_ERR;
    ide_set_irq(d->ch);
}

static void fail_no_medium(struct ide_drive *d)
{
    atapi_fail(d, SK_NOT_READY, ASC_NO_MEDIUM, d->tray_open ? 0x02 : 0x01);
}

static void fail_field(struct ide_drive *d)
{
    atapi_fail(d, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
}

/* ---- data phases ---- */

/* Even byte counts per DRQ block: the guest reads words.  A limit of 0
 * is a guest bug; treat it as the largest even count. */
static uint32_t drq_limit(const struct ide_drive *d)
{
    uint32_t lim = d->byte_limit;
    if (lim == 0 || lim > 0xFFFE)
        lim = 0xFFFE;
    lim &= ~1u;
    return lim ? lim : 2;
}

static void pio_next(struct ide_drive *d);

static void pio_fetched(struct ide_drive *d, int ret)
{
    if (ret < 0) {
        d->cd_left = 0;
        atapi_fail(d, 0x03 /* MEDIUM ERROR */, 0x11 /* unrecovered read error */, 0);
        return;
    }
    uint32_t n = (uint32_t)(d->ch->req.iov[0].iov_len / CD_SECTOR);
    d->cd_lba += n;
    d->cd_left -= n;
    d->len = n * CD_SECTOR;
    d->pos = 0;
    pio_next(d);
}

/* Next DRQ block of a data-in command: at most byte_limit bytes of what
 * the buffer holds, its size in the cylinder registers, IO=1 CoD=0.  When
 * everything has been read, the status phase (IO=1 CoD=1) ends it. */
static void pio_next(struct ide_drive *d)
{
    if (d->pos >= d->len) {
        if (d->cd_left == 0) {
            atapi_ok(d);
            return;
        }
        uint32_t max = IDE_BUF_SIZE / CD_SECTOR;
        uint32_t n = d->cd_left < max ? d->cd_left : max;
        ide_fetch(d, d->cd_lba * CD_SECTOR, n * CD_SECTOR, pio_fetched);
        return;
    }
    uint32_t n = d->len - d->pos, lim = drq_limit(d);
    if (n > lim)
        n = lim;
    d->lcyl = (uint8_t)n;
    d->hcyl = (uint8_t)(n >> 8);
    d->nsector = IR_IO;
    d->status = ST_DRDY | ST_DSC;
    ide_pio_start(d, d->pos, d->pos + n, false, pio_next);
    ide_set_irq(d->ch);
}

static void dma_done(struct ide_drive *d, int ret)
{
    if (ret == -EFAULT)
        atapi_fail(d, SK_ILLEGAL_REQUEST, 0x00, 0);   /* bus-master error reported in BM status */
    else if (ret < 0)
        atapi_fail(d, 0x03, 0x11, 0);
    else
        atapi_ok(d);
}

/* Sends len bytes prepared in buf (at most the allocation length). */
static void send_buf(struct ide_drive *d, uint32_t len, uint32_t alloc)
{
    if (len > alloc)
        len = alloc;
    if (len > IDE_BUF_SIZE)
        len = IDE_BUF_SIZE;
    if (len == 0) {
        atapi_ok(d);
        return;
    }
    if (d->cd_dma) {
        ide_dma_arm(d, true, true, 0, len, dma_done);
        return;
    }
    d->cd_left = 0;
    d->len = len;
    d->pos = 0;
    pio_next(d);
}

/* ---- commands ---- */

static void cmd_request_sense(struct ide_drive *d, uint8_t key, uint8_t asc, uint8_t ascq)
{
    memset(d->buf, 0, 18);
    d->buf[0] = 0x70;
    d->buf[2] = key;
    d->buf[7] = 10;
    d->buf[12] = asc;
    d->buf[13] = ascq;
    send_buf(d, 18, d->cdb[4]);
}

static void cmd_inquiry(struct ide_drive *d)
{
    uint8_t *b = d->buf;
    if (d->cdb[1] & 0x01) {     /* EVPD pages are not implemented */
        fail_field(d);
        return;
    }
    memset(b, 0, 36);
    b[0] = 0x05;                /* CD/DVD device */
    b[1] = 0x80;                /* removable */
    b[2] = 0x00;
    b[3] = 0x21;                /* ATAPI, response format 1 */
    b[4] = 31;
    memcpy(b + 8, "MINUS1  ", 8);
    memcpy(b + 16, "CD-ROM          ", 16);
    memset(b + 32, ' ', 4);
    size_t vl = strlen(MINUS1_VERSION);
    memcpy(b + 32, MINUS1_VERSION, vl < 4 ? vl : 4);
    send_buf(d, 36, get16(d->cdb + 3));
}

static void cmd_read_capacity(struct ide_drive *d)
{
    put32(d->buf, cd_sectors(d) - 1);
    put32(d->buf + 4, CD_SECTOR);
    send_buf(d, 8, 8);
}

static void cmd_read(struct ide_drive *d, uint64_t lba, uint32_t count)
{
    if (lba > cd_sectors(d) || count > cd_sectors(d) - lba) {
        guest_error(ide_of(d)->log, &ide_of(d)->rl, "%s: read of %u sectors at %llu past the end",
                    d->name, count, (unsigned long long)lba);
        atapi_fail(d, SK_ILLEGAL_REQUEST, ASC_LBA_RANGE, 0);
        return;
    }
    if (count == 0) {
        atapi_ok(d);
        return;
    }
    if (d->cd_dma) {
        ide_dma_arm(d, true, false, lba * CD_SECTOR, (uint64_t)count * CD_SECTOR, dma_done);
        return;
    }
    d->cd_lba = lba;
    d->cd_left = count;
    d->pos = d->len = 0;
    pio_next(d);
}

static void put_msf(uint8_t *p, uint32_t lba)
{
    uint32_t f = lba + 150;
    p[0] = 0;
    p[1] = (uint8_t)(f / (75 * 60));
    p[2] = (uint8_t)((f / 75) % 60);
    p[3] = (uint8_t)(f % 75);
}

static void put_addr(uint8_t *p, uint32_t lba, bool msf)
{
    if (msf)
        put_msf(p, lba);
    else
        put32(p, lba);
}

/* One data track starting at LBA 0, lead-out at the end of the image. */
static void cmd_read_toc(struct ide_drive *d)
{
    const uint8_t *c = d->cdb;
    bool msf = c[1] & 0x02;
    unsigned format = c[2] & 0x0F, start = c[6];
    uint32_t alloc = get16(c + 7);
    uint8_t *b = d->buf;
    uint32_t n = 4;
    if (format == 0 && c[9] >> 6)
        format = c[9] >> 6;     /* SFF-8020 placed the format here */
    memset(b, 0, 64);
    switch (format) {
    case 0:
        if (start > 1 && start != 0xAA) {
            fail_field(d);
            return;
        }
        b[2] = 1;
        b[3] = 1;
        if (start <= 1) {
            b[n + 1] = 0x14;    /* ADR 1, data track */
            b[n + 2] = 1;
            put_addr(b + n + 4, 0, msf);
            n += 8;
        }
        b[n + 1] = 0x14;
        b[n + 2] = 0xAA;
        put_addr(b + n + 4, cd_sectors(d), msf);
        n += 8;
        break;
    case 1:                     /* multi-session info: one session */
        b[2] = 1;
        b[3] = 1;
        b[n + 1] = 0x14;
        b[n + 2] = 1;
        put_addr(b + n + 4, 0, msf);
        n += 8;
        break;
    case 2: {                   /* raw TOC: A0, A1, A2, track 1 */
        b[2] = 1;
        b[3] = 1;
        static const uint8_t points[] = { 0xA0, 0xA1, 0xA2, 0x01 };
        for (unsigned i = 0; i < 4; i++) {
            uint8_t *e = b + n;
            e[0] = 1;           /* session */
            e[1] = 0x14;
            e[3] = points[i];
            if (points[i] == 0xA0) {
                e[8] = 1;       /* first track; disc type 0 (CD-ROM) */
            } else if (points[i] == 0xA1) {
                e[8] = 1;       /* last track */
            } else {
                uint8_t m[4];
                put_msf(m, points[i] == 0xA2 ? cd_sectors(d) : 0);
                e[8] = m[1];
                e[9] = m[2];
                e[10] = m[3];
            }
            n += 11;
        }
        break;
    }
    default:
        fail_field(d);
        return;
    }
    put16(b, n - 2);
    send_buf(d, n, alloc);
}

static uint32_t page_caps(const struct ide_drive *d, uint8_t *p)
{
    memset(p, 0, 22);
    p[0] = 0x2A;
    p[1] = 0x14;
    p[2] = 0x00;                /* reads CD-ROM only */
    p[4] = 0x71;                /* audio play, mode 2 form 1/2, multi-session */
    p[5] = 0x00;
    p[6] = (uint8_t)(0x29 | (d->locked ? 0x02 : 0));   /* tray, eject, lock (state) */
    put16(p + 8, 706);          /* max speed, KB/s (4x) */
    put16(p + 10, 2);
    put16(p + 12, 512);
    put16(p + 14, 706);
    return 22;
}

static uint32_t page_error_recovery(uint8_t *p)
{
    memset(p, 0, 8);
    p[0] = 0x01;
    p[1] = 0x06;
    return 8;
}

static void cmd_mode_sense10(struct ide_drive *d)
{
    unsigned pc = d->cdb[2] >> 6, page = d->cdb[2] & 0x3F;
    uint8_t *b = d->buf;
    uint32_t n = 8;
    if (pc == 3) {
        atapi_fail(d, SK_ILLEGAL_REQUEST, ASC_SAVE_NOT_SUPP, 0);
        return;
    }
    memset(b, 0, 8);
    b[2] = medium_ready(d) ? 0x01 : 0x70;   /* 120 mm data CD / no disc */
    if (page == 0x01 || page == 0x3F)
        n += page_error_recovery(b + n);
    if (page == 0x2A || page == 0x3F)
        n += page_caps(d, b + n);
    if (n == 8) {
        fail_field(d);
        return;
    }
    put16(b, n - 2);
    send_buf(d, n, get16(d->cdb + 7));
}

/* Features: profile list, core, removable medium. */
static void cmd_get_configuration(struct ide_drive *d)
{
    unsigned rt = d->cdb[1] & 3, first = get16(d->cdb + 2);
    bool cur = medium_ready(d);
    uint8_t *b = d->buf;
    uint32_t n = 8;
    if (rt == 3) {
        fail_field(d);
        return;
    }
    memset(b, 0, 64);
    put16(b + 6, cur ? 0x0008 : 0);     /* current profile: CD-ROM */
    struct { unsigned code; bool current; } feats[] = { { 0, true }, { 1, true }, { 3, true } };
    for (unsigned i = 0; i < 3; i++) {
        unsigned code = feats[i].code;
        if ((rt == 2 && code != first) || code < first)
            continue;
        uint8_t *f = b + n;
        put16(f, code);
        f[2] = (uint8_t)(code ? 0x03 : 0x03);   /* persistent, current */
        if (code == 0) {
            f[3] = 4;
            put16(f + 4, 0x0008);
            f[6] = cur ? 0x01 : 0;
            n += 8;
        } else if (code == 1) {
            f[2] = 0x07;        /* version 1, persistent, current */
            f[3] = 8;
            put32(f + 4, 2);    /* ATAPI */
            n += 12;
        } else {
            f[3] = 4;
            f[4] = 0x29;        /* tray, eject, lock */
            n += 8;
        }
    }
    put32(b, n - 4);
    send_buf(d, n, get16(d->cdb + 7));
}

static void cmd_gesn(struct ide_drive *d)
{
    uint8_t *b = d->buf;
    if (!(d->cdb[1] & 0x01)) {  /* asynchronous notification: not supported */
        fail_field(d);
        return;
    }
    memset(b, 0, 8);
    b[3] = 0x10;                /* supported classes: media */
    uint32_t n;
    if (d->cdb[4] & 0x10) {
        put16(b, 6);
        b[2] = 0x04;            /* media class */
        b[4] = d->media_event;
        b[5] = (uint8_t)((medium_ready(d) ? 0x02 : 0) | (d->tray_open ? 0x01 : 0));
        d->media_event = MEV_NONE;
        n = 8;
    } else {
        put16(b, 2);
        b[2] = 0x80;            /* no event available */
        n = 4;
    }
    send_buf(d, n, get16(d->cdb + 7));
}

static void cmd_read_disc_info(struct ide_drive *d)
{
    uint8_t *b = d->buf;
    if (d->cdb[1] & 0x07) {     /* only the standard disc information */
        fail_field(d);
        return;
    }
    memset(b, 0, 34);
    put16(b, 32);
    b[2] = 0x0E;                /* complete disc, last session complete */
    b[3] = 1;
    b[4] = 1;
    b[5] = 1;
    b[6] = 1;
    b[7] = 0x20;                /* unrestricted use */
    b[8] = 0x00;                /* CD-DA or CD-ROM */
    memset(b + 16, 0xFF, 8);    /* no lead-in/out start times */
    send_buf(d, 34, get16(d->cdb + 7));
}

static void cmd_start_stop(struct ide_drive *d)
{
    bool loej = d->cdb[4] & 0x02, start = d->cdb[4] & 0x01;
    if (!loej) {
        atapi_ok(d);
        return;
    }
    if (!start) {
        if (d->locked) {
            atapi_fail(d, SK_ILLEGAL_REQUEST, ASC_REMOVAL_PREVENTED, 0x02);
            return;
        }
        if (!d->tray_open && d->bb)
            d->media_event = MEV_REMOVAL;
        d->tray_open = true;
    } else if (d->tray_open) {
        d->tray_open = false;
        if (d->bb)
            atapi_medium_changed(d);
    }
    atapi_ok(d);
}

static void cmd_mechanism_status(struct ide_drive *d)
{
    memset(d->buf, 0, 8);
    d->buf[1] = d->tray_open ? 0x10 : 0;
    send_buf(d, 8, get16(d->cdb + 8));
}

/* Commands that work without a medium and despite a pending UNIT
 * ATTENTION (MMC: INQUIRY, REQUEST SENSE, GET EVENT STATUS NOTIFICATION). */
static bool ua_exempt(uint8_t op)
{
    return op == 0x12 || op == 0x03 || op == 0x4A;
}

static bool needs_medium(uint8_t op)
{
    switch (op) {
    case 0x00: case 0x25: case 0x28: case 0xA8: case 0x43: case 0x51: case 0x2B:
        return true;
    default:
        return false;
    }
}

static void dispatch(struct ide_drive *d)
{
    const uint8_t *c = d->cdb;
    uint8_t op = c[0];
    uint8_t key = d->sense_key, asc = d->asc, ascq = d->ascq;
    if (op != 0x03)
        d->sense_key = d->asc = d->ascq = 0;    /* sense describes the last command */
    if (d->ua_pending && !ua_exempt(op)) {
        d->ua_pending = false;
        atapi_fail(d, SK_UNIT_ATTENTION, ASC_MEDIUM_CHANGED, 0);
        return;
    }
    if (needs_medium(op) && !medium_ready(d)) {
        fail_no_medium(d);
        return;
    }
    switch (op) {
    case 0x00: atapi_ok(d); return;                         /* TEST UNIT READY */
    case 0x03:                                              /* REQUEST SENSE */
        if (d->ua_pending) {
            d->ua_pending = false;
            key = SK_UNIT_ATTENTION;
            asc = ASC_MEDIUM_CHANGED;
            ascq = 0;
        } else if (!key && !medium_ready(d)) {
            key = SK_NOT_READY;
            asc = ASC_NO_MEDIUM;
            ascq = d->tray_open ? 0x02 : 0x01;
        }
        d->sense_key = d->asc = d->ascq = 0;
        cmd_request_sense(d, key, asc, ascq);
        return;
    case 0x12: cmd_inquiry(d); return;
    case 0x25: cmd_read_capacity(d); return;
    case 0x28: cmd_read(d, get32(c + 2), get16(c + 7)); return;
    case 0xA8: cmd_read(d, get32(c + 2), get32(c + 6)); return;
    case 0x43: cmd_read_toc(d); return;
    case 0x5A: cmd_mode_sense10(d); return;
    case 0x46: cmd_get_configuration(d); return;
    case 0x4A: cmd_gesn(d); return;
    case 0x51: cmd_read_disc_info(d); return;
    case 0x1B: cmd_start_stop(d); return;
    case 0x1E: d->locked = c[4] & 0x01; atapi_ok(d); return;  /* PREVENT ALLOW */
    case 0xBB: atapi_ok(d); return;                         /* SET CD SPEED */
    case 0x2B:                                              /* SEEK(10) */
        if (get32(c + 2) >= cd_sectors(d))
            atapi_fail(d, SK_ILLEGAL_REQUEST, ASC_LBA_RANGE, 0);
        else
            atapi_ok(d);
        return;
    case 0xBD: cmd_mechanism_status(d); return;
    default:
        guest_error(ide_of(d)->log, &ide_of(d)->rl, "%s: unsupported packet command 0x%02x",
                    d->name, op);
        atapi_fail(d, SK_ILLEGAL_REQUEST, ASC_INVALID_OPCODE, 0);
        return;
    }
}

static void packet_received(struct ide_drive *d)
{
    memcpy(d->cdb, d->buf, sizeof(d->cdb));
    d->pos = d->end = d->len = 0;
    dispatch(d);
}

/* PACKET: DRQ for the 12-byte command (CoD=1, IO=0), no interrupt. */
static void cmd_packet(struct ide_drive *d)
{
    d->cd_dma = d->feature & 0x01;
    d->byte_limit = d->lcyl | d->hcyl << 8;
    d->nsector = IR_COD;
    d->status = ST_DRDY | ST_DSC;
    ide_pio_start(d, 0, sizeof(d->cdb), true, packet_received);
}

static void identify_packet_end(struct ide_drive *d)
{
    d->status = ST_DRDY | ST_DSC;
}

static void cmd_identify_packet(struct ide_drive *d)
{
    uint16_t w[256];
    ata_identify_packet(d, w);
    ide_words_to_buf(d, w);
    d->status = ST_DRDY | ST_DSC;
    ide_pio_start(d, 0, 512, false, identify_packet_end);
    ide_set_irq(d->ch);
}

/* ATA commands an ATAPI device accepts; everything else aborts.  IDENTIFY
 * DEVICE aborts with the ATAPI signature in place, which is how drivers
 * tell a CD-ROM from a disk. */
void atapi_exec(struct ide_drive *d, uint8_t cmd)
{
    switch (cmd) {
    case 0xA0: cmd_packet(d); return;
    case 0xA1: cmd_identify_packet(d); return;
    case 0x08:                  /* DEVICE RESET: no interrupt, DRDY stays clear */
        ide_set_signature(d);
        d->error = 0x01;
        d->status = 0;
        return;
    case 0x90:                  /* EXECUTE DEVICE DIAGNOSTIC */
        ata_exec(d, cmd);
        return;
    case 0xEF: case 0xE0: case 0xE1: case 0xE5: case 0xE7:
        if (cmd == 0xEF) {
            if (d->feature == 0x03) {
                uint8_t m = d->nsector;
                if (!(m <= 0x01 || (m >= 0x08 && m <= 0x0C) || (m >= 0x20 && m <= 0x22) ||
                      (m >= 0x40 && m <= 0x45))) {
                    ata_cmd_abort(d);
                    return;
                }
                d->xfer_mode = m;
            }
        } else if (cmd == 0xE5) {
            d->nsector = 0xFF;
        }
        ata_cmd_ok(d);
        return;
    case 0xEC:
        ide_set_signature(d);
        /* fall through */
    default:
        d->error = ER_ABRT;
        d->status = ST_DRDY | ST_ERR;
        ide_set_irq(d->ch);
        return;
    }
}
