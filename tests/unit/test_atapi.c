/* The ATAPI CD-ROM on the secondary master: PACKET protocol, MMC
 * commands, sense data, media change, PIO byte-count limits and DMA. */
#include <stdio.h>
#include <fcntl.h>
#include <unistd.h>

#include "../../vmm/monitor.h"
#include "ide_harness.h"

#define S 0x170
#define SCTL 0x376
#define CD_SECTORS 64u

static uint8_t cd_pattern(uint32_t lba, unsigned i)
{
    return (uint8_t)(lba * 3 + i * 5 + 1);
}

static struct block_backend *iso_new(uint32_t sectors, uint8_t salt)
{
    struct block_backend *bb = block_open_mem((uint64_t)sectors * 2048, true);
    CU_ASSERT_PTR_NOT_NULL_FATAL(bb);
    uint8_t *d = block_mem_data(bb);
    for (uint32_t s = 0; s < sectors; s++)
        for (unsigned i = 0; i < 2048; i++)
            d[s * 2048 + i] = (uint8_t)(cd_pattern(s, i) + salt);
    return bb;
}

static struct h *with_cd(bool medium)
{
    struct h *h = h_new();
    CU_ASSERT_EQUAL_FATAL(ide_attach(h->ide, 1, 0, IDE_CDROM, medium ? iso_new(CD_SECTORS, 0)
                                                                    : NULL), 0);
    return h;
}

/* Sends a 12-byte packet; returns after the command phase. */
static void packet(struct h *h, const uint8_t *cdb, uint16_t limit, bool dma)
{
    outb(h, S + 6, 0xA0);
    outb(h, S + 1, dma ? 1 : 0);
    outb(h, S + 4, (uint8_t)limit);
    outb(h, S + 5, (uint8_t)(limit >> 8));
    outb(h, S + 7, 0xA0);
    CU_ASSERT_EQUAL(inb(h, SCTL) & 0x88, 0x08);
    CU_ASSERT_EQUAL(inb(h, S + 2) & 3, 1);      /* CoD=1, IO=0 */
    for (int i = 0; i < 6; i++)
        outw(h, S, (uint16_t)(cdb[2 * i] | cdb[2 * i + 1] << 8));
}

/* Reads a data-in reply via PIO into buf (up to max); returns its length,
 * checking each DRQ block's byte count against limit. */
static unsigned pio_in(struct h *h, uint8_t *buf, unsigned max, unsigned limit)
{
    unsigned n = 0;
    for (int guard = 0; guard < 1000; guard++) {
        aio_drain(&h->aio);
        uint8_t st = inb(h, S + 7);
        if (!(st & 0x08))
            break;
        CU_ASSERT_EQUAL(inb(h, S + 2) & 3, 2);  /* IO=1, CoD=0 */
        unsigned cnt = inb(h, S + 4) | inb(h, S + 5) << 8;
        CU_ASSERT(cnt <= limit);
        for (unsigned i = 0; i < cnt; i += 2) {
            uint16_t w = inw(h, S);
            if (n < max)
                buf[n] = (uint8_t)w;
            if (n + 1 < max)
                buf[n + 1] = (uint8_t)(w >> 8);
            n += (cnt - i >= 2) ? 2 : 1;
        }
    }
    return n;
}

static void cdb_clear(uint8_t *c) { memset(c, 0, 12); }

/* Status after the command: returns the error register (0 = success). */
static uint8_t finish(struct h *h)
{
    aio_drain(&h->aio);
    uint8_t st = inb(h, S + 7);
    CU_ASSERT_EQUAL(st & 0x88, 0);
    CU_ASSERT_EQUAL(inb(h, S + 2) & 3, 3);      /* status phase: IO=1, CoD=1 */
    return (st & 1) ? inb(h, S + 1) : 0;
}

static void request_sense(struct h *h, uint8_t *key, uint8_t *asc)
{
    uint8_t c[12], b[18];
    cdb_clear(c);
    c[0] = 0x03;
    c[4] = 18;
    packet(h, c, 0xFFFE, false);
    CU_ASSERT_EQUAL(pio_in(h, b, sizeof(b), 0xFFFE), 18);
    CU_ASSERT_EQUAL(finish(h), 0);
    CU_ASSERT_EQUAL(b[0], 0x70);
    *key = b[2] & 0x0F;
    *asc = b[12];
}

static uint8_t tur(struct h *h)
{
    uint8_t c[12];
    cdb_clear(c);
    packet(h, c, 0, false);
    return finish(h);
}

static void test_signature_identify(void)
{
    struct h *h = with_cd(true);
    CU_ASSERT_EQUAL(inb(h, S + 4), 0x14);
    CU_ASSERT_EQUAL(inb(h, S + 5), 0xEB);
    CU_ASSERT_EQUAL(inb(h, S + 7), 0x00);
    /* IDENTIFY DEVICE aborts, signature in place. */
    outb(h, S + 4, 0);
    outb(h, S + 7, 0xEC);
    CU_ASSERT_EQUAL(inb(h, S + 7), 0x41);
    CU_ASSERT_EQUAL(inb(h, S + 1), 0x04);
    CU_ASSERT_EQUAL(inb(h, S + 4), 0x14);
    CU_ASSERT_EQUAL(inb(h, S + 5), 0xEB);
    outb(h, S + 7, 0xA1);
    CU_ASSERT_EQUAL(inb(h, S + 7), 0x58);
    uint16_t w[256];
    for (int i = 0; i < 256; i++)
        w[i] = inw(h, S);
    CU_ASSERT_EQUAL(w[0], 0x85C0);
    CU_ASSERT_EQUAL(w[27], ('M' << 8) | 'I');
    CU_ASSERT_EQUAL(w[49] & 0x0100, 0x0100);
    CU_ASSERT_EQUAL(inb(h, S + 7), 0x50);
    /* SRST: ATAPI signature, status 0 (DRDY clear). */
    outb(h, SCTL, 0x04);
    outb(h, SCTL, 0x00);
    CU_ASSERT_EQUAL(inb(h, S + 7), 0x00);
    CU_ASSERT_EQUAL(inb(h, S + 1), 0x01);
    CU_ASSERT_EQUAL(inb(h, S + 2), 0x01);
    CU_ASSERT_EQUAL(inb(h, S + 4), 0x14);
    CU_ASSERT_EQUAL(inb(h, S + 5), 0xEB);
    /* DEVICE RESET: same, no interrupt. */
    int e = h->edges[1];
    outb(h, S + 4, 0);
    outb(h, S + 7, 0x08);
    CU_ASSERT_EQUAL(h->edges[1], e);
    CU_ASSERT_EQUAL(inb(h, S + 4), 0x14);
    h_free(h);
}

static void test_inquiry_byte_limit(void)
{
    struct h *h = with_cd(true);
    uint8_t c[12], b[64];
    cdb_clear(c);
    c[0] = 0x12;
    c[4] = 36;
    packet(h, c, 16, false);
    int e0 = h->edges[1];
    memset(b, 0, sizeof(b));
    CU_ASSERT_EQUAL(pio_in(h, b, sizeof(b), 16), 36);
    CU_ASSERT_EQUAL(h->edges[1] - e0, 3);       /* (16 in packet()), 16, 4, status */
    CU_ASSERT_EQUAL(finish(h), 0);
    CU_ASSERT_EQUAL(b[0], 0x05);
    CU_ASSERT_EQUAL(b[1], 0x80);
    CU_ASSERT_EQUAL(memcmp(b + 8, "MINUS1  ", 8), 0);
    /* Allocation length shorter than the data. */
    c[4] = 5;
    packet(h, c, 0xFFFE, false);
    CU_ASSERT_EQUAL(pio_in(h, b, sizeof(b), 0xFFFE), 5);
    CU_ASSERT_EQUAL(finish(h), 0);
    /* Byte count limit 0 and odd limits are survivable. */
    c[4] = 36;
    packet(h, c, 0, false);
    CU_ASSERT_EQUAL(pio_in(h, b, sizeof(b), 0xFFFE), 36);
    CU_ASSERT_EQUAL(finish(h), 0);
    packet(h, c, 7, false);
    CU_ASSERT_EQUAL(pio_in(h, b, sizeof(b), 6), 36);
    CU_ASSERT_EQUAL(finish(h), 0);
    /* Data port when nothing is pending. */
    CU_ASSERT_EQUAL(inw(h, S), 0xFFFF);
    h_free(h);
}

static void test_read_capacity_and_read10(void)
{
    struct h *h = with_cd(true);
    uint8_t c[12], b[8];
    cdb_clear(c);
    c[0] = 0x25;
    packet(h, c, 0xFFFE, false);
    CU_ASSERT_EQUAL(pio_in(h, b, sizeof(b), 0xFFFE), 8);
    CU_ASSERT_EQUAL(finish(h), 0);
    CU_ASSERT_EQUAL(b[3], CD_SECTORS - 1);
    CU_ASSERT_EQUAL(b[6], 0x08);
    /* READ(10) of 3 sectors at 5 with a 4 KiB byte count limit. */
    static uint8_t data[3 * 2048];
    cdb_clear(c);
    c[0] = 0x28;
    c[5] = 5;
    c[8] = 3;
    packet(h, c, 0x1000, false);
    CU_ASSERT_EQUAL(inb(h, SCTL) & 0x80, 0x80); /* reading the image */
    int e0 = h->edges[1];
    CU_ASSERT_EQUAL(pio_in(h, data, sizeof(data), 0x1000), sizeof(data));
    CU_ASSERT_EQUAL(h->edges[1] - e0, 3);       /* DRQ 4096, DRQ 2048, status */
    CU_ASSERT_EQUAL(finish(h), 0);
    int bad = 0;
    for (unsigned i = 0; i < sizeof(data); i++)
        bad += data[i] != cd_pattern(5 + i / 2048, i % 2048);
    CU_ASSERT_EQUAL(bad, 0);
    /* READ(12) of the whole disc: more than the internal buffer. */
    static uint8_t all[CD_SECTORS * 2048];
    cdb_clear(c);
    c[0] = 0xA8;
    c[9] = CD_SECTORS;
    packet(h, c, 0xFFFF, false);
    CU_ASSERT_EQUAL(pio_in(h, all, sizeof(all), 0xFFFE), sizeof(all));
    CU_ASSERT_EQUAL(finish(h), 0);
    bad = 0;
    for (unsigned i = 0; i < sizeof(all); i++)
        bad += all[i] != cd_pattern(i / 2048, i % 2048);
    CU_ASSERT_EQUAL(bad, 0);
    /* Past the end: ILLEGAL REQUEST / LBA out of range. */
    cdb_clear(c);
    c[0] = 0x28;
    c[5] = CD_SECTORS - 1;
    c[8] = 2;
    packet(h, c, 0xFFFE, false);
    CU_ASSERT_EQUAL(finish(h), 0x54);           /* key 5 << 4 | ABRT */
    uint8_t key, asc;
    request_sense(h, &key, &asc);
    CU_ASSERT_EQUAL(key, 5);
    CU_ASSERT_EQUAL(asc, 0x21);
    /* Sense is consumed: the next REQUEST SENSE says NO SENSE. */
    request_sense(h, &key, &asc);
    CU_ASSERT_EQUAL(key, 0);
    cdb_clear(c);
    c[0] = 0x28;
    c[2] = 0xFF;                                /* huge LBA */
    c[7] = 0xFF;
    c[8] = 0xFF;
    packet(h, c, 0xFFFE, false);
    CU_ASSERT_EQUAL(finish(h), 0x54);
    /* Unknown opcode. */
    cdb_clear(c);
    c[0] = 0xFF;
    packet(h, c, 0xFFFE, false);
    CU_ASSERT_EQUAL(finish(h), 0x54);
    request_sense(h, &key, &asc);
    CU_ASSERT_EQUAL(asc, 0x20);
    h_free(h);
}

static void test_read10_dma(void)
{
    struct h *h = with_cd(true);
    uint8_t c[12];
    const uint32_t tbl = 0x9000;
    h_prd(h, tbl, 0, 0x200000, 2048, false);
    h_prd(h, tbl, 1, 0x300000, 4096, true);
    h_bm_setup(h, 1, tbl, true);
    cdb_clear(c);
    c[0] = 0x28;
    c[5] = 10;
    c[8] = 3;
    packet(h, c, 0, true);
    h_bm_start(h, 1, true);
    CU_ASSERT_EQUAL(finish(h), 0);
    CU_ASSERT_EQUAL(inb(h, bmbase(1) + 2) & 0x07, 0x04);
    uint8_t *ram = h->mem.ram;
    int bad = 0;
    for (unsigned i = 0; i < 2048; i++) {
        bad += ram[0x200000 + i] != cd_pattern(10, i);
        bad += ram[0x300000 + i] != cd_pattern(11, i);
        bad += ram[0x300800 + i] != cd_pattern(12, i);
    }
    CU_ASSERT_EQUAL(bad, 0);
    outb(h, bmbase(1), 0);
    /* INQUIRY by DMA too (reply from the drive's buffer). */
    h_bm_setup(h, 1, tbl, true);
    cdb_clear(c);
    c[0] = 0x12;
    c[4] = 36;
    packet(h, c, 0, true);
    h_bm_start(h, 1, true);
    CU_ASSERT_EQUAL(finish(h), 0);
    CU_ASSERT_EQUAL(ram[0x200000], 0x05);
    CU_ASSERT_EQUAL(memcmp(ram + 0x200008, "MINUS1", 6), 0);
    outb(h, bmbase(1), 0);
    /* A PRD outside RAM: bus-master error, CHECK CONDITION. */
    h_prd(h, tbl, 0, 0xFFFF0000u, 2048, true);
    h_bm_setup(h, 1, tbl, true);
    cdb_clear(c);
    c[0] = 0x28;
    c[8] = 1;
    packet(h, c, 0, true);
    h_bm_start(h, 1, true);
    CU_ASSERT_NOT_EQUAL(finish(h), 0);
    CU_ASSERT_EQUAL(inb(h, bmbase(1) + 2) & 0x02, 0x02);
    h_free(h);
}

static void test_no_medium(void)
{
    struct h *h = with_cd(false);
    CU_ASSERT_EQUAL(tur(h), 0x20);              /* NOT READY */
    uint8_t key, asc;
    request_sense(h, &key, &asc);
    CU_ASSERT_EQUAL(key, 2);
    CU_ASSERT_EQUAL(asc, 0x3A);
    uint8_t c[12];
    cdb_clear(c);
    c[0] = 0x25;
    packet(h, c, 0xFFFE, false);
    CU_ASSERT_EQUAL(finish(h), 0x20);
    /* INQUIRY works without a medium. */
    uint8_t b[36];
    cdb_clear(c);
    c[0] = 0x12;
    c[4] = 36;
    packet(h, c, 0xFFFE, false);
    CU_ASSERT_EQUAL(pio_in(h, b, sizeof(b), 0xFFFE), 36);
    CU_ASSERT_EQUAL(finish(h), 0);
    h_free(h);
}

static void test_media_change(void)
{
    struct h *h = with_cd(true);
    CU_ASSERT_EQUAL(tur(h), 0);                 /* no power-on UNIT ATTENTION */
    char path[] = "/tmp/minus1-iso-XXXXXX";
    int fd = mkstemp(path);
    CU_ASSERT_FATAL(fd >= 0);
    static uint8_t sec[2048];
    memset(sec, 0xC3, sizeof(sec));
    for (int i = 0; i < 4; i++)
        CU_ASSERT_EQUAL(write(fd, sec, sizeof(sec)), (ssize_t)sizeof(sec));
    close(fd);

    char err[256], out[2048];
    struct monitor *mon = monitor_create(NULL, NULL, &h->lg, err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(mon);
    ide_register_monitor(h->ide, mon);
    char line[300];
    snprintf(line, sizeof(line), "change cdrom %s", path);
    CU_ASSERT_EQUAL(monitor_execute(mon, line, out, sizeof(out)), 0);
    CU_ASSERT_EQUAL(tur(h), 0x60);              /* UNIT ATTENTION */
    uint8_t key, asc;
    request_sense(h, &key, &asc);
    CU_ASSERT_EQUAL(key, 6);
    CU_ASSERT_EQUAL(asc, 0x28);
    CU_ASSERT_EQUAL(tur(h), 0);
    /* The new disc: 4 sectors of 0xC3. */
    uint8_t c[12], b[8];
    cdb_clear(c);
    c[0] = 0x25;
    packet(h, c, 0xFFFE, false);
    CU_ASSERT_EQUAL(pio_in(h, b, sizeof(b), 0xFFFE), 8);
    CU_ASSERT_EQUAL(finish(h), 0);
    CU_ASSERT_EQUAL(b[3], 3);
    cdb_clear(c);
    c[0] = 0x28;
    c[5] = 2;
    c[8] = 1;
    packet(h, c, 0xFFFE, false);
    static uint8_t d[2048];
    CU_ASSERT_EQUAL(pio_in(h, d, sizeof(d), 0xFFFE), 2048);
    CU_ASSERT_EQUAL(finish(h), 0);
    CU_ASSERT_EQUAL(d[0], 0xC3);
    CU_ASSERT_EQUAL(d[2047], 0xC3);
    monitor_execute(mon, "info block", out, sizeof(out));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, path));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "ide1-cd0"));
    /* Locked by the guest: eject refused, -f works. */
    cdb_clear(c);
    c[0] = 0x1E;
    c[4] = 1;
    packet(h, c, 0, false);
    CU_ASSERT_EQUAL(finish(h), 0);
    CU_ASSERT_NOT_EQUAL(monitor_execute(mon, "eject cdrom", out, sizeof(out)), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "locked"));
    CU_ASSERT_EQUAL(monitor_execute(mon, "eject -f cdrom", out, sizeof(out)), 0);
    CU_ASSERT_EQUAL(tur(h), 0x20);
    request_sense(h, &key, &asc);
    CU_ASSERT_EQUAL(asc, 0x3A);
    /* Bad images are refused with a message; the drive stays empty. */
    CU_ASSERT_NOT_EQUAL(monitor_execute(mon, "change cdrom /nonexistent/x.iso", out,
                                        sizeof(out)), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "error"));
    fd = open(path, O_WRONLY | O_TRUNC);
    CU_ASSERT_EQUAL(write(fd, sec, 1000), 1000);
    close(fd);
    CU_ASSERT_NOT_EQUAL(monitor_execute(mon, line, out, sizeof(out)), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "2048"));
    CU_ASSERT_NOT_EQUAL(monitor_execute(mon, "eject ide0-hd0", out, sizeof(out)), 0);
    CU_ASSERT_EQUAL(tur(h), 0x20);
    monitor_destroy(mon);
    unlink(path);
    h_free(h);
}

static void test_toc_and_friends(void)
{
    struct h *h = with_cd(true);
    uint8_t c[12], b[128];
    /* READ TOC format 0, LBA: track 1 at 0, lead-out at the end. */
    cdb_clear(c);
    c[0] = 0x43;
    c[8] = 100;
    packet(h, c, 0xFFFE, false);
    CU_ASSERT_EQUAL(pio_in(h, b, sizeof(b), 0xFFFE), 20);
    CU_ASSERT_EQUAL(finish(h), 0);
    CU_ASSERT_EQUAL(b[1], 18);
    CU_ASSERT_EQUAL(b[2], 1);
    CU_ASSERT_EQUAL(b[6], 1);
    CU_ASSERT_EQUAL(b[14], 0xAA);
    CU_ASSERT_EQUAL(b[19], CD_SECTORS);
    /* MSF: lead-out at 64 + 150 frames = 00:02:64. */
    c[1] = 0x02;
    packet(h, c, 0xFFFE, false);
    pio_in(h, b, sizeof(b), 0xFFFE);
    CU_ASSERT_EQUAL(finish(h), 0);
    CU_ASSERT_EQUAL(b[17], 0);
    CU_ASSERT_EQUAL(b[18], 2);
    CU_ASSERT_EQUAL(b[19], 64);
    /* Format 1 (sessions) and 2 (raw: 4 descriptors of 11 bytes). */
    c[1] = 0;
    c[2] = 1;
    packet(h, c, 0xFFFE, false);
    CU_ASSERT_EQUAL(pio_in(h, b, sizeof(b), 0xFFFE), 12);
    CU_ASSERT_EQUAL(finish(h), 0);
    CU_ASSERT_EQUAL(b[1], 10);
    c[2] = 2;
    packet(h, c, 0xFFFE, false);
    CU_ASSERT_EQUAL(pio_in(h, b, sizeof(b), 0xFFFE), 48);
    CU_ASSERT_EQUAL(finish(h), 0);
    CU_ASSERT_EQUAL(b[4 + 3], 0xA0);
    CU_ASSERT_EQUAL(b[4 + 33 + 3], 0x01);
    c[2] = 7;                                   /* unsupported format */
    packet(h, c, 0xFFFE, false);
    CU_ASSERT_EQUAL(finish(h), 0x54);
    /* MODE SENSE(10) capabilities page. */
    cdb_clear(c);
    c[0] = 0x5A;
    c[2] = 0x2A;
    c[8] = 128;
    packet(h, c, 0xFFFE, false);
    CU_ASSERT_EQUAL(pio_in(h, b, sizeof(b), 0xFFFE), 30);
    CU_ASSERT_EQUAL(finish(h), 0);
    CU_ASSERT_EQUAL(b[1], 28);
    CU_ASSERT_EQUAL(b[8], 0x2A);
    CU_ASSERT_EQUAL(b[8 + 6] & 0x09, 0x09);     /* lock + eject supported */
    c[2] = 0x05;                                /* page we do not have */
    packet(h, c, 0xFFFE, false);
    CU_ASSERT_EQUAL(finish(h), 0x54);
    /* GET CONFIGURATION: current profile CD-ROM. */
    cdb_clear(c);
    c[0] = 0x46;
    c[8] = 128;
    packet(h, c, 0xFFFE, false);
    unsigned n = pio_in(h, b, sizeof(b), 0xFFFE);
    CU_ASSERT(n >= 16);
    CU_ASSERT_EQUAL(finish(h), 0);
    CU_ASSERT_EQUAL(b[7], 0x08);
    CU_ASSERT_EQUAL((unsigned)(b[3] + 4), n);
    /* GESN: polled only; media class. */
    cdb_clear(c);
    c[0] = 0x4A;
    c[4] = 0x10;
    c[8] = 8;
    packet(h, c, 0xFFFE, false);
    CU_ASSERT_EQUAL(finish(h), 0x54);           /* not polled */
    c[1] = 1;
    packet(h, c, 0xFFFE, false);
    CU_ASSERT_EQUAL(pio_in(h, b, sizeof(b), 0xFFFE), 8);
    CU_ASSERT_EQUAL(finish(h), 0);
    CU_ASSERT_EQUAL(b[2], 0x04);
    CU_ASSERT_EQUAL(b[5] & 0x02, 0x02);         /* medium present */
    /* READ DISC INFORMATION, SET CD SPEED, MECHANISM STATUS. */
    cdb_clear(c);
    c[0] = 0x51;
    c[8] = 34;
    packet(h, c, 0xFFFE, false);
    CU_ASSERT_EQUAL(pio_in(h, b, sizeof(b), 0xFFFE), 34);
    CU_ASSERT_EQUAL(finish(h), 0);
    CU_ASSERT_EQUAL(b[1], 32);
    cdb_clear(c);
    c[0] = 0xBB;
    packet(h, c, 0xFFFE, false);
    CU_ASSERT_EQUAL(finish(h), 0);
    /* START STOP UNIT: eject opens the tray, load gives UNIT ATTENTION. */
    cdb_clear(c);
    c[0] = 0x1B;
    c[4] = 0x02;
    packet(h, c, 0, false);
    CU_ASSERT_EQUAL(finish(h), 0);
    CU_ASSERT_EQUAL(tur(h), 0x20);
    uint8_t key, asc;
    request_sense(h, &key, &asc);
    CU_ASSERT_EQUAL(asc, 0x3A);
    cdb_clear(c);
    c[0] = 0xBD;
    c[9] = 8;
    packet(h, c, 0xFFFE, false);
    CU_ASSERT_EQUAL(pio_in(h, b, sizeof(b), 0xFFFE), 8);
    CU_ASSERT_EQUAL(finish(h), 0);
    CU_ASSERT_EQUAL(b[1] & 0x10, 0x10);         /* door open */
    cdb_clear(c);
    c[0] = 0x1B;
    c[4] = 0x03;
    packet(h, c, 0, false);
    CU_ASSERT_EQUAL(finish(h), 0);
    CU_ASSERT_EQUAL(tur(h), 0x60);
    CU_ASSERT_EQUAL(tur(h), 0);
    /* Locked: the guest cannot eject either. */
    cdb_clear(c);
    c[0] = 0x1E;
    c[4] = 1;
    packet(h, c, 0, false);
    finish(h);
    cdb_clear(c);
    c[0] = 0x1B;
    c[4] = 0x02;
    packet(h, c, 0, false);
    CU_ASSERT_EQUAL(finish(h), 0x54);
    CU_ASSERT_EQUAL(tur(h), 0);
    h_free(h);
}

/* The packet phase takes exactly 12 bytes; extra writes are dropped. */
static void test_hostile_packet_phase(void)
{
    struct h *h = with_cd(true);
    outb(h, S + 4, 0);
    outb(h, S + 5, 0);
    outb(h, S + 7, 0xA0);
    for (int i = 0; i < 5; i++)
        outw(h, S, 0x0000);                     /* 10 bytes: not yet */
    CU_ASSERT_EQUAL(inb(h, S + 7) & 0x08, 0x08);
    outl(h, S, 0);                              /* 4 more: 2 of them used */
    CU_ASSERT_EQUAL(finish(h), 0);              /* TEST UNIT READY ran */
    for (int i = 0; i < 100; i++)
        outw(h, S, 0xFFFF);
    CU_ASSERT_EQUAL(inb(h, S + 7), 0x50);
    /* Commands an ATAPI device does not take. */
    outb(h, S + 7, 0x20);
    CU_ASSERT_EQUAL(inb(h, S + 7) & 0x01, 0x01);
    CU_ASSERT_EQUAL(inb(h, S + 1), 0x04);
    h_free(h);
}

void suite_atapi(void)
{
    CU_pSuite s = CU_add_suite("atapi", NULL, NULL);
    CU_add_test(s, "signature, IDENTIFY PACKET, resets", test_signature_identify);
    CU_add_test(s, "INQUIRY and byte count limits", test_inquiry_byte_limit);
    CU_add_test(s, "READ CAPACITY, READ(10)/(12) PIO, errors", test_read_capacity_and_read10);
    CU_add_test(s, "READ(10) and INQUIRY by DMA", test_read10_dma);
    CU_add_test(s, "no medium", test_no_medium);
    CU_add_test(s, "media change via monitor", test_media_change);
    CU_add_test(s, "TOC, mode sense, config, GESN, tray", test_toc_and_friends);
    CU_add_test(s, "hostile packet phase", test_hostile_packet_phase);
}
