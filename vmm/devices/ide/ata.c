/* ATA disks: IDENTIFY, PIO and DMA reads/writes with LBA28/LBA48/CHS
 * addressing, multiple mode, flush, features, power management. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ide_int.h"


/* ATA strings: space padded, two characters per word, first one in the
 * high byte. */
void ide_put_string(uint16_t *words, const char *s, unsigned nwords)
{
    size_t n = strlen(s);
    for (unsigned i = 0; i < nwords * 2; i++) {
        uint8_t c = i < n ? (uint8_t)s[i] : ' ';
        if (i & 1)
            words[i / 2] = (uint16_t)((words[i / 2] & 0xFF00) | c);
        else
            words[i / 2] = (uint16_t)((words[i / 2] & 0x00FF) | c << 8);
    }
}

/* Word 255: signature A5h and a checksum making all 512 bytes sum to 0. */
static void identify_checksum(uint16_t *w)
{
    uint8_t sum = 0xA5;
    for (int i = 0; i < 255; i++)
        sum = (uint8_t)(sum + (w[i] & 0xFF) + (w[i] >> 8));
    w[255] = (uint16_t)(0x00A5 | (uint8_t)(-sum) << 8);
}

/* Selected-mode bits of words 63 and 88 from the SET FEATURES value. */
static void identify_modes(const struct ide_drive *d, uint16_t *w)
{
    w[63] = 0x0007;
    w[88] = 0x003F;
    if ((d->xfer_mode & 0xF8) == 0x20)
        w[63] |= (uint16_t)(0x100 << (d->xfer_mode & 7));
    else if ((d->xfer_mode & 0xF8) == 0x40)
        w[88] |= (uint16_t)(0x100 << (d->xfer_mode & 7));
}

static void serial_of(const struct ide_drive *d, char *s, size_t n)
{
    snprintf(s, n, "MN%04d%d%d", 1, d->ch->idx, d->unit);
}

static void identify_disk(const struct ide_drive *d, uint16_t *w)
{
    char serial[21];
    memset(w, 0, 512);
    serial_of(d, serial, sizeof(serial));
    w[0] = 0x0040;                      /* fixed, non-removable ATA device */
    w[1] = d->cyls;
    w[3] = d->heads;
    w[6] = d->secs;
    ide_put_string(&w[10], serial, 10);
    ide_put_string(&w[23], MINUS1_VERSION, 4);
    ide_put_string(&w[27], "MINUS1 HARDDISK", 20);
    w[47] = 0x8000 | IDE_MAX_MULT;
    w[49] = 0x0B00;                     /* IORDY, LBA, DMA */
    w[50] = 0x4000;
    w[51] = 0x0200;
    w[52] = 0x0200;
    w[53] = 0x0007;                     /* words 54-58, 64-70, 88 valid */
    w[54] = d->lcyls;
    w[55] = d->lheads;
    w[56] = d->lsecs;
    uint32_t chs = (uint32_t)d->lcyls * d->lheads * d->lsecs;
    w[57] = (uint16_t)chs;
    w[58] = (uint16_t)(chs >> 16);
    if (d->mult)
        w[59] = (uint16_t)(0x100 | d->mult);
    uint64_t lba28 = d->nsectors > 0x0FFFFFFF ? 0x0FFFFFFF : d->nsectors;
    w[60] = (uint16_t)lba28;
    w[61] = (uint16_t)(lba28 >> 16);
    identify_modes(d, w);
    w[64] = 0x0003;                     /* PIO 3 and 4 */
    w[65] = w[66] = w[67] = w[68] = 120;
    w[80] = 0x007E;                     /* ATA-1 .. ATA-6 */
    w[82] = 0x0020;                     /* write cache */
    w[83] = 0x7400;                     /* LBA48, FLUSH CACHE, FLUSH CACHE EXT */
    w[84] = 0x4000;
    w[85] = d->wcache ? 0x0020 : 0;
    w[86] = 0x3400;
    w[87] = 0x4000;
    w[93] = d->unit ? 0x4B00 : 0x407F;  /* hardware reset result, as masters/slaves report */
    w[100] = (uint16_t)d->nsectors;
    w[101] = (uint16_t)(d->nsectors >> 16);
    w[102] = (uint16_t)(d->nsectors >> 32);
    w[103] = (uint16_t)(d->nsectors >> 48);
    identify_checksum(w);
}

void ata_identify_packet(struct ide_drive *d, uint16_t *w)
{
    char serial[21];
    memset(w, 0, 512);
    serial_of(d, serial, sizeof(serial));
    w[0] = 0x85C0;                      /* ATAPI, CD-ROM, removable, 50us DRQ, 12-byte CDB */
    ide_put_string(&w[10], serial, 10);
    ide_put_string(&w[23], MINUS1_VERSION, 4);
    ide_put_string(&w[27], "MINUS1 CD-ROM", 20);
    w[49] = 0x0B00;                     /* IORDY, LBA, DMA */
    w[53] = 0x0006;
    identify_modes(d, w);
    w[64] = 0x0003;
    w[65] = w[66] = w[67] = w[68] = 120;
    w[71] = 30;
    w[72] = 30;
    w[80] = 0x001E;                     /* ATA/ATAPI-1 .. 4 */
    w[93] = d->unit ? 0x4B00 : 0x407F;
    identify_checksum(w);
}

/* Translation geometry IDENTIFY reports: 16 heads and 63 sectors as
 * every BIOS expects, capped at 16383 cylinders; tiny images shrink. */
void ata_setup_disk(struct ide_drive *d)
{
    uint64_t n = d->bb->size / BLOCK_SECTOR;
    d->nsectors = n;
    unsigned heads = 16, secs = 63;
    uint64_t cyls = n / (heads * secs);
    if (cyls == 0) {
        heads = 1;
        cyls = n / secs;
        if (cyls == 0) {
            secs = (unsigned)n;
            cyls = 1;
        }
    }
    if (cyls > 16383)
        cyls = 16383;
    d->cyls = (uint16_t)cyls;
    d->heads = (uint8_t)heads;
    d->secs = (uint8_t)secs;
}

void ata_power_on(struct ide_drive *d)
{
    d->lcyls = d->cyls;
    d->lheads = d->heads;
    d->lsecs = d->secs;
    d->mult = 0;
    d->wcache = true;
    d->xfer_mode = 0;
}

/* ---- completion helpers ---- */

void ata_cmd_ok(struct ide_drive *d)
{
    d->status = ST_DRDY | ST_DSC;
    ide_set_irq(d->ch);
}

static void cmd_error(struct ide_drive *d, uint8_t err)
{
    d->error = err;
    d->status = ST_DRDY | ST_DSC | ST_ERR;
    ide_set_irq(d->ch);
}

void ata_cmd_abort(struct ide_drive *d)
{
    cmd_error(d, ER_ABRT);
}

/* ---- addressing ---- */

/* The command's first sector and count; false (IDNF already reported)
 * if the address is invalid or the range runs past the end. */
static bool get_range(struct ide_drive *d, bool lba48, uint64_t *lba, uint32_t *count)
{
    uint64_t a;
    uint32_t n;
    if (lba48) {
        a = (uint64_t)d->sector | (uint64_t)d->lcyl << 8 | (uint64_t)d->hcyl << 16 |
            (uint64_t)d->hob_sector << 24 | (uint64_t)d->hob_lcyl << 32 |
            (uint64_t)d->hob_hcyl << 40;
        n = (uint32_t)(d->nsector | d->hob_nsector << 8);
        if (n == 0)
            n = 65536;
    } else {
        n = d->nsector ? d->nsector : 256;
        uint8_t sel = d->ch->select;
        if (sel & 0x40) {
            a = (uint64_t)d->sector | (uint64_t)d->lcyl << 8 | (uint64_t)d->hcyl << 16 |
                (uint64_t)(sel & 0x0F) << 24;
        } else {
            unsigned cyl = d->lcyl | d->hcyl << 8, head = sel & 0x0F, s = d->sector;
            if (s == 0 || s > d->lsecs || head >= d->lheads || cyl >= d->lcyls) {
                guest_error(ide_of(d)->log, &ide_of(d)->rl, "%s: bad CHS %u/%u/%u", d->name,
                            cyl, head, s);
                cmd_error(d, ER_IDNF | ER_ABRT);
                return false;
            }
            a = ((uint64_t)cyl * d->lheads + head) * d->lsecs + (s - 1);
        }
    }
    if (a >= d->nsectors || n > d->nsectors - a) {
        guest_error(ide_of(d)->log, &ide_of(d)->rl, "%s: sectors %llu+%u past the end (%llu)",
                    d->name, (unsigned long long)a, n, (unsigned long long)d->nsectors);
        cmd_error(d, ER_IDNF);
        return false;
    }
    *lba = a;
    *count = n;
    return true;
}

/* ---- PIO reads ---- */

static void pio_read_next(struct ide_drive *d);

static void pio_read_fetched(struct ide_drive *d, int ret)
{
    if (ret < 0) {
        d->left = 0;
        cmd_error(d, ER_UNC);
        return;
    }
    uint32_t n = d->ch->req.iov[0].iov_len / BLOCK_SECTOR;
    d->fetch_lba += n;
    d->fetch_left -= n;
    d->len = n * BLOCK_SECTOR;
    d->pos = 0;
    pio_read_next(d);
}

static void pio_read_block_end(struct ide_drive *d)
{
    d->left -= d->cur_blk;
    d->lba += d->cur_blk;
    pio_read_next(d);
}

/* Presents the next DRQ block (one interrupt per block), reading more of
 * the image into the buffer first if it ran dry.  The last block ends the
 * command without a further interrupt. */
static void pio_read_next(struct ide_drive *d)
{
    if (d->left == 0) {
        d->status = ST_DRDY | ST_DSC;
        return;
    }
    if (d->pos >= d->len) {
        uint32_t per_buf = (IDE_BUF_SIZE / BLOCK_SECTOR / d->blk) * d->blk;
        uint32_t n = d->fetch_left < per_buf ? d->fetch_left : per_buf;
        ide_fetch(d, d->fetch_lba * BLOCK_SECTOR, n * BLOCK_SECTOR, pio_read_fetched);
        return;
    }
    d->cur_blk = d->left < d->blk ? d->left : d->blk;
    d->status = ST_DRDY | ST_DSC;
    ide_pio_start(d, d->pos, d->pos + d->cur_blk * BLOCK_SECTOR, false, pio_read_block_end);
    ide_set_irq(d->ch);
}

static void start_pio_read(struct ide_drive *d, bool lba48, uint32_t blk)
{
    uint64_t lba;
    uint32_t n;
    if (!get_range(d, lba48, &lba, &n))
        return;
    d->lba = d->fetch_lba = lba;
    d->left = d->fetch_left = n;
    d->blk = blk;
    d->pos = d->len = 0;
    pio_read_next(d);
}

/* ---- PIO writes ---- */

static void pio_write_next(struct ide_drive *d, bool irq);

static void pio_write_done(struct ide_drive *d, int ret)
{
    if (ret < 0) {
        d->left = 0;
        cmd_error(d, ER_ABRT);
        return;
    }
    d->lba += d->cur_blk;
    d->left -= d->cur_blk;
    if (d->left == 0) {
        ata_cmd_ok(d);
        return;
    }
    pio_write_next(d, true);
}

static void pio_write_block_end(struct ide_drive *d)
{
    struct iovec *v = &d->ch->iov[0];
    v->iov_base = d->buf;
    v->iov_len = d->cur_blk * BLOCK_SECTOR;
    ide_submit(d, BLOCK_WRITE, d->lba * BLOCK_SECTOR, v, 1, pio_write_done);
}

static void pio_write_next(struct ide_drive *d, bool irq)
{
    d->cur_blk = d->left < d->blk ? d->left : d->blk;
    d->status = ST_DRDY | ST_DSC;
    ide_pio_start(d, 0, d->cur_blk * BLOCK_SECTOR, true, pio_write_block_end);
    if (irq)
        ide_set_irq(d->ch);
}

static void start_pio_write(struct ide_drive *d, bool lba48, uint32_t blk)
{
    uint64_t lba;
    uint32_t n;
    if (block_readonly(d->bb)) {
        guest_error(ide_of(d)->log, &ide_of(d)->rl, "%s: write to a read-only disk", d->name);
        ata_cmd_abort(d);
        return;
    }
    if (!get_range(d, lba48, &lba, &n))
        return;
    d->lba = lba;
    d->left = n;
    d->blk = blk;
    pio_write_next(d, false);   /* the first block needs no interrupt */
}

/* ---- DMA ---- */

static void dma_done(struct ide_drive *d, int ret)
{
    if (ret == -EFAULT)
        ata_cmd_abort(d);       /* bus-master error: the PRD table was bad */
    else if (ret < 0)
        cmd_error(d, d->dma_tomem ? ER_UNC : ER_ABRT);
    else
        ata_cmd_ok(d);
}

static void start_dma(struct ide_drive *d, bool lba48, bool write)
{
    uint64_t lba;
    uint32_t n;
    if (write && block_readonly(d->bb)) {
        guest_error(ide_of(d)->log, &ide_of(d)->rl, "%s: write to a read-only disk", d->name);
        ata_cmd_abort(d);
        return;
    }
    if (!get_range(d, lba48, &lba, &n))
        return;
    ide_dma_arm(d, !write, false, lba * BLOCK_SECTOR, (uint64_t)n * BLOCK_SECTOR, dma_done);
}

/* ---- other commands ---- */

static void flush_done(struct ide_drive *d, int ret)
{
    if (ret < 0)
        cmd_error(d, ER_ABRT);
    else
        ata_cmd_ok(d);
}

static void set_features(struct ide_drive *d)
{
    switch (d->feature) {
    case 0x02: d->wcache = true; break;
    case 0x82: d->wcache = false; break;
    case 0x03: {
        uint8_t m = d->nsector;
        bool ok = m <= 0x01 || (m >= 0x08 && m <= 0x0C) || (m >= 0x20 && m <= 0x22) ||
                  (m >= 0x40 && m <= 0x45);
        if (!ok) {
            ata_cmd_abort(d);
            return;
        }
        d->xfer_mode = m;
        break;
    }
    case 0x55: case 0xAA: case 0x66: case 0xCC:   /* look-ahead, defaults: nothing to do */
        break;
    default:
        ata_cmd_abort(d);
        return;
    }
    ata_cmd_ok(d);
}

static void init_dev_params(struct ide_drive *d)
{
    unsigned heads = (d->ch->select & 0x0F) + 1u, secs = d->nsector;
    if (secs == 0) {
        ata_cmd_abort(d);
        return;
    }
    uint64_t cyls = d->nsectors / (heads * secs);
    d->lheads = (uint8_t)heads;
    d->lsecs = (uint8_t)secs;
    d->lcyls = (uint16_t)(cyls > 65535 ? 65535 : cyls);
    ata_cmd_ok(d);
}

static void set_multiple(struct ide_drive *d)
{
    unsigned n = d->nsector;
    /* 0 disables; otherwise a power of two up to the advertised limit. */
    if (n > IDE_MAX_MULT || (n & (n - 1))) {
        ata_cmd_abort(d);
        return;
    }
    d->mult = n;
    ata_cmd_ok(d);
}

static void read_verify(struct ide_drive *d, bool lba48)
{
    uint64_t lba;
    uint32_t n;
    if (get_range(d, lba48, &lba, &n))
        ata_cmd_ok(d);
}

/* Little-endian words on the data port, whatever the host. */
void ide_words_to_buf(struct ide_drive *d, const uint16_t *w)
{
    for (int i = 0; i < 256; i++) {
        d->buf[2 * i] = (uint8_t)w[i];
        d->buf[2 * i + 1] = (uint8_t)(w[i] >> 8);
    }
}

static void identify(struct ide_drive *d)
{
    uint16_t w[256];
    identify_disk(d, w);
    ide_words_to_buf(d, w);
    d->status = ST_DRDY | ST_DSC;
    d->left = 0;
    ide_pio_start(d, 0, 512, false, ata_pio_identify_end);
    ide_set_irq(d->ch);
}

void ata_pio_identify_end(struct ide_drive *d)
{
    d->status = ST_DRDY | ST_DSC;
}

static void exec_diag(struct ide_drive *d)
{
    struct ide_channel *ch = d->ch;
    for (int u = 0; u < 2; u++) {
        struct ide_drive *x = &ch->drv[u];
        if (x->kind == IDE_NONE)
            continue;
        ide_set_signature(x);
        x->error = 0x01;
        x->status = x->kind == IDE_DISK ? (ST_DRDY | ST_DSC) : 0;
    }
    ch->select = 0xA0;
    ch->cur = 0;
    ide_set_irq(ch);
}

void ata_exec(struct ide_drive *d, uint8_t cmd)
{
    switch (cmd) {
    case 0xEC: identify(d); return;
    case 0x20: case 0x21: start_pio_read(d, false, 1); return;
    case 0x24: start_pio_read(d, true, 1); return;
    case 0x30: case 0x31: start_pio_write(d, false, 1); return;
    case 0x34: start_pio_write(d, true, 1); return;
    case 0xC4: case 0x29: case 0xC5: case 0x39:
        if (!d->mult) {
            ata_cmd_abort(d);   /* multiple mode not enabled */
            return;
        }
        if (cmd == 0xC4 || cmd == 0x29)
            start_pio_read(d, cmd == 0x29, d->mult);
        else
            start_pio_write(d, cmd == 0x39, d->mult);
        return;
    case 0xC6: set_multiple(d); return;
    case 0xC8: case 0xC9: start_dma(d, false, false); return;
    case 0x25: start_dma(d, true, false); return;
    case 0xCA: case 0xCB: start_dma(d, false, true); return;
    case 0x35: start_dma(d, true, true); return;
    case 0x40: case 0x41: read_verify(d, false); return;
    case 0x42: read_verify(d, true); return;
    case 0xE7: case 0xEA:
        ide_submit(d, BLOCK_FLUSH, 0, NULL, 0, flush_done);
        return;
    case 0xEF: set_features(d); return;
    case 0x91: init_dev_params(d); return;
    case 0x90: exec_diag(d); return;
    case 0x70:                                  /* SEEK */
    case 0xE0: case 0xE1: case 0xE2: case 0xE3: /* STANDBY/IDLE (immediate) */
    case 0x94: case 0x95: case 0x96: case 0x97:
        ata_cmd_ok(d);
        return;
    case 0xA0: case 0xA1:
        /* PACKET / IDENTIFY PACKET DEVICE: a disk aborts them (ATA-6
         * 8.15, 8.23), which is how drivers tell it from an ATAPI device
         * (Linux's libata probe sends 0xA1): a normal answer, no error. */
        ata_cmd_abort(d);
        return;
    case 0xE5: case 0x98:                       /* CHECK POWER MODE: active */
        d->nsector = 0xFF;
        ata_cmd_ok(d);
        return;
    default:
        if (cmd >= 0x10 && cmd <= 0x1F) {       /* RECALIBRATE */
            ata_cmd_ok(d);
            return;
        }
        guest_error(ide_of(d)->log, &ide_of(d)->rl, "%s: unsupported ATA command 0x%02x",
                    d->name, cmd);
        ata_cmd_abort(d);
        return;
    }
}
