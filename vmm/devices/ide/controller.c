/* The PIIX3 IDE function: PCI identity, the legacy task-file ports of both
 * channels, the bus-master DMA engine (BAR4) and the hop of every image
 * transfer onto the asynchronous I/O queue. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ide_int.h"

static const uint16_t cmd_base[2] = { 0x1F0, 0x170 };
static const uint16_t ctl_base[2] = { 0x3F6, 0x376 };

struct ide *ide_of(const struct ide_drive *d)
{
    return d->ch->ide;
}

static bool channel_empty(const struct ide_channel *ch)
{
    return ch->drv[0].kind == IDE_NONE && ch->drv[1].kind == IDE_NONE;
}

/* ---- interrupts ---- */

static void update_irq(struct ide_channel *ch)
{
    irq_set(&ch->irq, ch->intrq && !(ch->devctl & DC_NIEN));
}

/* INTRQ from the selected device; the bus master's interrupt bit follows
 * the IDE interrupt line, DMA or not (PIIX datasheet). */
void ide_set_irq(struct ide_channel *ch)
{
    ch->bm_status |= BM_ST_INT;
    ch->intrq = true;
    update_irq(ch);
}

/* ---- PIO data engine ---- */

void ide_pio_start(struct ide_drive *d, uint32_t pos, uint32_t end, bool out, ide_fn end_fn)
{
    /* Callers compute the window from guest values: clamp it here too. */
    if (end > IDE_BUF_SIZE)
        end = IDE_BUF_SIZE;
    if (pos > end)
        pos = end;
    d->pos = pos;
    d->end = end;
    d->pio_out = out;
    d->end_fn = end_fn;
    d->status |= ST_DRQ;
}

void ide_pio_stop(struct ide_drive *d)
{
    d->pos = d->end = 0;
    d->end_fn = NULL;
    d->status &= (uint8_t)~ST_DRQ;
}

static bool pio_ready(const struct ide_drive *d, bool out)
{
    return d->kind != IDE_NONE && (d->status & (ST_DRQ | ST_BSY)) == ST_DRQ &&
           d->pio_out == out && d->end_fn;
}

/* The window is done: leave DRQ and let the command decide what is next. */
static void pio_block_end(struct ide_drive *d)
{
    ide_fn fn = d->end_fn;
    d->status &= (uint8_t)~ST_DRQ;
    d->end_fn = NULL;
    fn(d);
}

static uint64_t data_read(struct ide_channel *ch, unsigned size)
{
    struct ide_drive *d = &ch->drv[ch->cur];
    if (!pio_ready(d, false))
        return size == 4 ? 0xFFFFFFFFu : size == 2 ? 0xFFFF : 0xFF;
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        uint8_t b = 0xFF;
        if (d->pos < d->end && d->pos < IDE_BUF_SIZE)     /* every index checked */
            b = d->buf[d->pos++];
        v |= (uint64_t)b << (8 * i);
    }
    if (d->pos >= d->end)
        pio_block_end(d);
    return v;
}

static void data_write(struct ide_channel *ch, unsigned size, uint64_t v)
{
    struct ide_drive *d = &ch->drv[ch->cur];
    if (!pio_ready(d, true)) {
        guest_error(ch->ide->log, &ch->ide->rl, "ide%d: data port write without DRQ", ch->idx);
        return;
    }
    for (unsigned i = 0; i < size; i++) {
        if (d->pos < d->end && d->pos < IDE_BUF_SIZE)
            d->buf[d->pos++] = (uint8_t)(v >> (8 * i));
    }
    if (d->pos >= d->end)
        pio_block_end(d);
}

/* ---- asynchronous image I/O ---- */

static void finish_reset(struct ide_channel *ch);

static void req_done(struct block_req *r, int ret)
{
    struct ide_channel *ch = r->opaque;
    struct ide_drive *d = ch->aio_drive;
    ide_done_fn done = ch->aio_done;
    ch->busy_aio = false;
    ch->aio_drive = NULL;
    ch->aio_done = NULL;
    /* A reset overtook the command: its result is dropped. */
    if (ch->devctl & DC_SRST)
        return;
    if (ch->reset_pending) {
        finish_reset(ch);
        return;
    }
    if (ret < 0)
        guest_error(ch->ide->log, &ch->ide->rl, "%s: image I/O failed: %s", d->name,
                    strerror(-ret));
    d->status &= (uint8_t)~ST_BSY;
    done(d, ret);
}

void ide_submit(struct ide_drive *d, enum block_op op, uint64_t off, const struct iovec *iov,
                int iovcnt, ide_done_fn done)
{
    struct ide_channel *ch = d->ch;
    struct block_req *r = &ch->req;
    memset(r, 0, sizeof(*r));
    r->bb = d->bb;
    r->op = op;
    r->offset = off;
    r->iov = iov;
    r->iovcnt = iovcnt;
    r->fua = op == BLOCK_WRITE && !d->wcache;
    r->done = req_done;
    r->opaque = ch;
    int ret = block_submit(ch->ide->aio, r);
    if (ret < 0) {
        /* Refused up front (range, read-only): report it as the command's
         * failure, without a trip through the queue. */
        d->status &= (uint8_t)~ST_BSY;
        done(d, ret);
        return;
    }
    ch->busy_aio = true;
    ch->aio_drive = d;
    ch->aio_done = done;
    d->status = (uint8_t)((d->status & ~ST_DRQ) | ST_BSY);
}

void ide_fetch(struct ide_drive *d, uint64_t off, uint32_t len, ide_done_fn done)
{
    struct iovec *v = &d->ch->iov[0];
    v->iov_base = d->buf;
    v->iov_len = len > IDE_BUF_SIZE ? IDE_BUF_SIZE : len;
    ide_submit(d, BLOCK_READ, off, v, 1, done);
}

/* ---- bus-master DMA ---- */

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Turns the guest's PRD table into host iovecs for `bytes` bytes.  Every
 * entry is read once into a local copy and checked there: the region must
 * be guest RAM, a byte count of 0 means 64 KiB, the table ends at the EOT
 * bit or after IDE_MAX_PRD entries.  Returns the iovec count, or -1 with
 * a reason for the log. */
static int prd_build(struct ide_channel *ch, uint64_t bytes, const char **why)
{
    struct ide *ide = ch->ide;
    uint64_t need = bytes;
    int n = 0;
    ch->prd_exhausted = false;
    for (unsigned i = 0; i < IDE_MAX_PRD; i++) {
        uint8_t e[8];
        uint32_t at = (uint32_t)((ch->bm_prd & ~3u) + 8u * i);   /* 32-bit bus address */
        if (mem_read(ide->mem, at, e, sizeof(e)) < 0) {
            *why = "PRD table outside RAM";
            return -1;
        }
        uint32_t base = le32(e) & ~1u;
        uint32_t cnt = (uint32_t)(e[4] | e[5] << 8) & 0xFFFEu;
        bool eot = e[7] & 0x80;
        if (cnt == 0)
            cnt = 0x10000;
        uint32_t take = need < cnt ? (uint32_t)need : cnt;
        void *p = mem_ptr(ide->mem, base, take);
        if (!p) {
            *why = "PRD region outside RAM";
            return -1;
        }
        ch->iov[n].iov_base = p;
        ch->iov[n].iov_len = take;
        ch->iov_gpa[n] = base;
        n++;
        need -= take;
        if (need == 0) {
            ch->prd_exhausted = eot && take == cnt;
            return n;
        }
        if (eot) {
            *why = "PRD table shorter than the transfer";
            return -1;
        }
    }
    *why = "PRD table without an end-of-table bit";
    return -1;
}

static void dma_finish(struct ide_drive *d, int ret)
{
    struct ide_channel *ch = d->ch;
    /* Guest RAM changed behind the CPU's back: tell whoever caches it
     * (the emulator's decoded code). */
    if (d->dma_tomem)
        for (int i = 0; i < ch->niov; i++)
            mem_notify_write(ch->ide->mem, ch->iov_gpa[i], ch->iov[i].iov_len);
    if (ch->prd_exhausted)
        ch->bm_status &= (uint8_t)~BM_ST_ACTIVE;
    d->dma_pending = false;
    d->dma_done(d, ret);
}

static struct ide_drive *dma_drive(struct ide_channel *ch)
{
    for (int u = 0; u < 2; u++)
        if (ch->drv[u].dma_pending)
            return &ch->drv[u];
    return NULL;
}

/* Starts the transfer once both the drive (command issued) and the bus
 * master (start bit) are ready, in whichever order the guest did them. */
static void dma_kick(struct ide_channel *ch)
{
    struct ide *ide = ch->ide;
    struct ide_drive *d = dma_drive(ch);
    if (!d || !(ch->bm_cmd & BM_CMD_START) || ch->busy_aio)
        return;
    if (!!(ch->bm_cmd & BM_CMD_TOMEM) != d->dma_tomem)
        guest_error(ide->log, &ide->rl, "ide%d: bus-master direction does not match the command",
                    ch->idx);
    const char *why = "";
    int n = prd_build(ch, d->dma_bytes, &why);
    ch->niov = n > 0 ? n : 0;
    if (n < 0) {
        guest_error(ide->log, &ide->rl, "ide%d: DMA aborted: %s (table at 0x%x)", ch->idx, why,
                    ch->bm_prd);
        ch->bm_status = (uint8_t)((ch->bm_status | BM_ST_ERR) & ~BM_ST_ACTIVE);
        d->dma_pending = false;
        d->status &= (uint8_t)~ST_BSY;
        d->dma_done(d, -EFAULT);
        return;
    }
    if (d->dma_from_buf) {
        /* Command data already in buf (ATAPI replies): copy it now. */
        uint64_t off = 0;
        for (int i = 0; i < n; i++) {
            if (off + ch->iov[i].iov_len > IDE_BUF_SIZE)
                break;
            if (d->dma_tomem)
                memcpy(ch->iov[i].iov_base, d->buf + off, ch->iov[i].iov_len);
            else
                memcpy(d->buf + off, ch->iov[i].iov_base, ch->iov[i].iov_len);
            off += ch->iov[i].iov_len;
        }
        dma_finish(d, 0);
        return;
    }
    ide_submit(d, d->dma_tomem ? BLOCK_READ : BLOCK_WRITE, d->dma_off, ch->iov, n, dma_finish);
}

void ide_dma_arm(struct ide_drive *d, bool tomem, bool from_buf, uint64_t off, uint64_t bytes,
                 ide_done_fn done)
{
    if (from_buf && bytes > IDE_BUF_SIZE)
        bytes = IDE_BUF_SIZE;
    d->dma_pending = true;
    d->dma_tomem = tomem;
    d->dma_from_buf = from_buf;
    d->dma_off = off;
    d->dma_bytes = bytes;
    d->dma_done = done;
    /* QEMU-like: DRQ up while the drive waits for the bus master. */
    d->status = ST_DRDY | ST_DSC | ST_DRQ;
    d->pos = d->end = 0;        /* no PIO window: data port reads get all ones */
    d->end_fn = NULL;
    dma_kick(d->ch);
}

static uint64_t bm_read(void *opaque, uint64_t off, unsigned size)
{
    struct ide *ide = opaque;
    (void)size;
    struct ide_channel *ch = &ide->ch[(off >> 3) & 1];
    switch (off & 7) {
    case 0: return ch->bm_cmd;
    case 2: return ch->bm_status;
    case 4: case 5: case 6: case 7:
        return (ch->bm_prd >> (8 * ((off & 7) - 4))) & 0xFF;
    default: return 0;
    }
}

static void bm_write(void *opaque, uint64_t off, unsigned size, uint64_t v)
{
    struct ide *ide = opaque;
    (void)size;
    struct ide_channel *ch = &ide->ch[(off >> 3) & 1];
    switch (off & 7) {
    case 0: {
        uint8_t old = ch->bm_cmd;
        ch->bm_cmd = (uint8_t)(v & (BM_CMD_START | BM_CMD_TOMEM));
        if (!(old & BM_CMD_START) && (ch->bm_cmd & BM_CMD_START)) {
            ch->bm_status |= BM_ST_ACTIVE;
            dma_kick(ch);
        } else if ((old & BM_CMD_START) && !(ch->bm_cmd & BM_CMD_START)) {
            /* Stopping the engine; a transfer already queued still
             * completes the drive's command. */
            ch->bm_status &= (uint8_t)~BM_ST_ACTIVE;
        }
        break;
    }
    case 2:
        ch->bm_status = (uint8_t)((ch->bm_status & ~(v & (BM_ST_ERR | BM_ST_INT)) & ~BM_ST_CAP) |
                                  (v & BM_ST_CAP));
        break;
    case 4: case 5: case 6: case 7: {
        unsigned sh = 8 * (unsigned)((off & 7) - 4);
        ch->bm_prd = (ch->bm_prd & ~(0xFFu << sh)) | (uint32_t)(v & 0xFF) << sh;
        ch->bm_prd &= ~3u;
        break;
    }
    default:
        break;
    }
}

static const struct io_ops bm_ops = { bm_read, bm_write, 1 };

/* ---- reset and signatures ---- */

void ide_set_signature(struct ide_drive *d)
{
    d->nsector = 1;
    d->sector = 1;
    if (d->kind == IDE_CDROM) {
        d->lcyl = 0x14;
        d->hcyl = 0xEB;
    } else {
        d->lcyl = 0;
        d->hcyl = 0;
    }
    d->hob_nsector = d->hob_sector = d->hob_lcyl = d->hob_hcyl = 0;
    d->feature = d->hob_feature = 0;
}

static void drive_soft_reset(struct ide_drive *d)
{
    ide_pio_stop(d);
    d->dma_pending = false;
    d->left = d->fetch_left = 0;
    d->cd_left = 0;
    if (d->kind == IDE_NONE)
        return;
    ide_set_signature(d);
    d->error = 0x01;            /* diagnostic code: no error */
    d->status = d->kind == IDE_DISK ? (ST_DRDY | ST_DSC) : 0;
}

static void finish_reset(struct ide_channel *ch)
{
    ch->reset_pending = false;
    ch->select = 0xA0;
    ch->cur = 0;
    for (int u = 0; u < 2; u++)
        drive_soft_reset(&ch->drv[u]);
}

/* ---- task-file registers ---- */

static uint8_t reg_read(struct ide_channel *ch, unsigned reg)
{
    if (channel_empty(ch))
        return 0xFF;            /* nothing drives the bus */
    struct ide_drive *d = &ch->drv[ch->cur];
    bool hob = ch->devctl & DC_HOB;
    if (reg == 6)
        return ch->select;
    if (d->kind == IDE_NONE)
        return 0;               /* absent slave: reads as zeros, never ready */
    switch (reg) {
    case 1: return hob ? d->hob_feature : d->error;
    case 2: return hob ? d->hob_nsector : d->nsector;
    case 3: return hob ? d->hob_sector : d->sector;
    case 4: return hob ? d->hob_lcyl : d->lcyl;
    case 5: return hob ? d->hob_hcyl : d->hcyl;
    case 7:
        ch->intrq = false;      /* reading Status acknowledges INTRQ */
        update_irq(ch);
        return d->status;
    }
    return 0;
}

static void exec_cmd(struct ide_channel *ch, uint8_t cmd)
{
    struct ide *ide = ch->ide;
    struct ide_drive *d = &ch->drv[ch->cur];
    if (d->kind == IDE_NONE)
        return;                 /* no device answers */
    if ((d->status & ST_BSY) || ch->busy_aio || (ch->devctl & DC_SRST)) {
        guest_error(ide->log, &ide->rl, "%s: command 0x%02x while busy, ignored", d->name, cmd);
        return;
    }
    ch->intrq = false;
    update_irq(ch);
    ide_pio_stop(d);
    d->dma_pending = false;
    d->error = 0;
    if (d->kind == IDE_CDROM)
        atapi_exec(d, cmd);
    else
        ata_exec(d, cmd);
}

static void reg_write(struct ide_channel *ch, unsigned reg, uint8_t v)
{
    if (reg >= 1 && reg <= 5) {
        ch->devctl &= (uint8_t)~DC_HOB;     /* a task-file write clears HOB */
        for (int u = 0; u < 2; u++) {
            struct ide_drive *d = &ch->drv[u];
            uint8_t *cur[] = { &d->feature, &d->nsector, &d->sector, &d->lcyl, &d->hcyl };
            uint8_t *old[] = { &d->hob_feature, &d->hob_nsector, &d->hob_sector, &d->hob_lcyl,
                               &d->hob_hcyl };
            *old[reg - 1] = *cur[reg - 1];
            *cur[reg - 1] = v;
        }
    } else if (reg == 6) {
        ch->select = v | 0xA0;
        ch->cur = (v >> 4) & 1;
    } else if (reg == 7) {
        exec_cmd(ch, v);
    }
}

static uint64_t cmd_read(void *opaque, uint64_t off, unsigned size)
{
    struct ide_channel *ch = opaque;
    if (off == 0)
        return channel_empty(ch) ? (size == 4 ? 0xFFFFFFFFu : size == 2 ? 0xFFFFu : 0xFFu)
                                 : data_read(ch, size);
    uint64_t v = 0;
    for (unsigned i = 0; i < size && off + i < 8; i++)
        v |= (uint64_t)reg_read(ch, (unsigned)(off + i)) << (8 * i);
    return v;
}

static void cmd_write(void *opaque, uint64_t off, unsigned size, uint64_t v)
{
    struct ide_channel *ch = opaque;
    if (off == 0) {
        if (!channel_empty(ch))
            data_write(ch, size, v);
        return;
    }
    for (unsigned i = 0; i < size && off + i < 8; i++)
        reg_write(ch, (unsigned)(off + i), (uint8_t)(v >> (8 * i)));
}

static uint64_t ctl_read(void *opaque, uint64_t off, unsigned size)
{
    struct ide_channel *ch = opaque;
    (void)off;
    (void)size;
    if (channel_empty(ch))
        return 0xFF;
    struct ide_drive *d = &ch->drv[ch->cur];
    return d->kind == IDE_NONE ? 0 : d->status;     /* alternate status: no ack */
}

static void ctl_write(void *opaque, uint64_t off, unsigned size, uint64_t v)
{
    struct ide_channel *ch = opaque;
    (void)off;
    (void)size;
    uint8_t old = ch->devctl;
    ch->devctl = (uint8_t)v;
    if (!(old & DC_SRST) && (v & DC_SRST)) {
        for (int u = 0; u < 2; u++) {
            struct ide_drive *d = &ch->drv[u];
            ide_pio_stop(d);
            d->dma_pending = false;
            if (d->kind != IDE_NONE)
                d->status = ST_BSY;
        }
        ch->intrq = false;
    } else if ((old & DC_SRST) && !(v & DC_SRST)) {
        /* A request still in flight keeps BSY up until it lands. */
        if (ch->busy_aio)
            ch->reset_pending = true;
        else
            finish_reset(ch);
    }
    update_irq(ch);
}

static const struct io_ops cmd_ops = { cmd_read, cmd_write, 4 };
static const struct io_ops ctl_ops = { ctl_read, ctl_write, 1 };

/* ---- lifecycle ---- */

void ide_reset(struct ide *ide)
{
    for (int c = 0; c < 2; c++) {
        struct ide_channel *ch = &ide->ch[c];
        ch->devctl = 0;
        ch->intrq = false;
        ch->bm_cmd = 0;
        ch->bm_prd = 0;
        ch->bm_status = 0;
        for (int u = 0; u < 2; u++) {
            struct ide_drive *d = &ch->drv[u];
            if (d->kind == IDE_DISK)
                ata_power_on(d);
            else if (d->kind == IDE_CDROM)
                atapi_power_on(d);
            if (d->kind != IDE_NONE)
                ch->bm_status |= (uint8_t)(0x20 << u);
        }
        if (ch->busy_aio) {
            ch->reset_pending = true;
            for (int u = 0; u < 2; u++)
                if (ch->drv[u].kind != IDE_NONE)
                    ch->drv[u].status = ST_BSY;
        } else {
            finish_reset(ch);
        }
        update_irq(ch);
    }
}

struct ide *ide_create(struct pci_bus *bus, struct iobus *pio, struct guest_mem *mem,
                       struct aio *aio, struct irq irq14, struct irq irq15,
                       const struct logger *log)
{
    struct ide *ide = calloc(1, sizeof(*ide));
    if (!ide) {
        log_error(log, "ide: out of memory");
        return NULL;
    }
    ide->bus = bus;
    ide->pio = pio;
    ide->mem = mem;
    ide->aio = aio;
    ide->log = log;
    pci_device_init(&ide->pci, "piix3-ide", 0x8086, 0x7010, 0x00, 0x010180);
    ide->pci.opaque = ide;
    /* IDETIM/SIDETIM: firmware sets the decode-enable bits there and
     * drivers (Linux ata_piix) check them. */
    for (unsigned o = 0x40; o < 0x48; o++)
        ide->pci.wmask[o] = 0xFF;
    pci_bar_io(&ide->pci, 4, 16, &bm_ops, ide);
    for (int c = 0; c < 2; c++) {
        struct ide_channel *ch = &ide->ch[c];
        ch->ide = ide;
        ch->idx = c;
        ch->irq = c == 0 ? irq14 : irq15;
        for (int u = 0; u < 2; u++) {
            ch->drv[u].ch = ch;
            ch->drv[u].unit = u;
        }
        if (iobus_register(pio, &ch->cmd_region, cmd_base[c], 8, &cmd_ops, ch,
                           c ? "ide1" : "ide0") < 0 ||
            iobus_register(pio, &ch->ctl_region, ctl_base[c], 1, &ctl_ops, ch,
                           c ? "ide1-ctl" : "ide0-ctl") < 0)
            goto fail;
    }
    if (pci_register(bus, &ide->pci, IDE_PCI_DEVFN) < 0) {
        log_error(log, "ide: PCI function 00:01.1 is taken");
        goto fail;
    }
    ide_reset(ide);
    return ide;

fail:
    for (int c = 0; c < 2; c++) {
        iobus_unmap(pio, &ide->ch[c].cmd_region);
        iobus_unmap(pio, &ide->ch[c].ctl_region);
    }
    free(ide);
    return NULL;
}

void ide_destroy(struct ide *ide)
{
    if (!ide)
        return;
    for (int c = 0; c < 2; c++)
        if (ide->ch[c].busy_aio)
            aio_drain(ide->aio);    /* safety net: requests point into us */
    pci_unregister(&ide->pci);
    for (int c = 0; c < 2; c++) {
        struct ide_channel *ch = &ide->ch[c];
        iobus_unmap(ide->pio, &ch->cmd_region);
        iobus_unmap(ide->pio, &ch->ctl_region);
        for (int u = 0; u < 2; u++) {
            block_close(ch->drv[u].bb);
            free(ch->drv[u].buf);
        }
    }
    free(ide);
}

int ide_attach(struct ide *ide, int channel, int unit, enum ide_kind kind,
               struct block_backend *bb)
{
    if (channel < 0 || channel > 1 || unit < 0 || unit > 1)
        return -1;
    if ((kind != IDE_DISK && kind != IDE_CDROM) || (kind == IDE_DISK && !bb))
        return -1;
    if (kind == IDE_DISK && (bb->size < BLOCK_SECTOR || bb->size % BLOCK_SECTOR))
        return -1;
    if (kind == IDE_CDROM && bb && bb->size % BLOCK_CD_SECTOR)
        return -1;
    struct ide_channel *ch = &ide->ch[channel];
    struct ide_drive *d = &ch->drv[unit];
    if (d->kind != IDE_NONE)
        return -1;
    d->buf = calloc(1, IDE_BUF_SIZE);
    if (!d->buf)
        return -1;
    d->kind = kind;
    d->bb = bb;
    snprintf(d->name, sizeof(d->name), "ide%d-%s%d", channel, kind == IDE_DISK ? "hd" : "cd",
             unit);
    if (kind == IDE_DISK) {
        ata_setup_disk(d);
        ata_power_on(d);
    } else {
        atapi_power_on(d);
    }
    ch->bm_status |= (uint8_t)(0x20 << unit);
    if (!ch->busy_aio && !(ch->devctl & DC_SRST))
        drive_soft_reset(d);
    return 0;
}

static const struct ide_drive *slot(const struct ide *ide, int channel, int unit)
{
    if (channel < 0 || channel > 1 || unit < 0 || unit > 1)
        return NULL;
    return &ide->ch[channel].drv[unit];
}

enum ide_kind ide_drive_kind(const struct ide *ide, int channel, int unit)
{
    const struct ide_drive *d = slot(ide, channel, unit);
    return d ? d->kind : IDE_NONE;
}

int ide_disk_geometry(const struct ide *ide, int channel, int unit, uint16_t *cylinders,
                      uint8_t *heads, uint8_t *sectors)
{
    const struct ide_drive *d = slot(ide, channel, unit);
    if (!d || d->kind != IDE_DISK)
        return -1;
    *cylinders = d->cyls;
    *heads = d->heads;
    *sectors = d->secs;
    return 0;
}
