/* PIIX3 IDE with ATA disks, driven through the task-file ports and the
 * bus-master BAR, with memory-backed images and a real aio queue. */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "ide_harness.h"

#define DISK_SECTORS 4096u      /* 2 MiB */
#define P 0x1F0
#define CTL 0x3F6

static uint8_t pattern(uint64_t lba, unsigned i)
{
    return (uint8_t)(lba * 7 + i * 13 + (lba >> 8));
}

static struct block_backend *disk_new(uint64_t sectors, bool ro)
{
    struct block_backend *bb = block_open_mem(sectors * 512, ro);
    CU_ASSERT_PTR_NOT_NULL_FATAL(bb);
    uint8_t *d = block_mem_data(bb);
    for (uint64_t s = 0; s < sectors; s++)
        for (unsigned i = 0; i < 512; i++)
            d[s * 512 + i] = pattern(s, i);
    return bb;
}

static struct h *with_disk(bool ro, struct block_backend **out)
{
    struct h *h = h_new();
    struct block_backend *bb = disk_new(DISK_SECTORS, ro);
    CU_ASSERT_EQUAL_FATAL(ide_attach(h->ide, 0, 0, IDE_DISK, bb), 0);
    if (out)
        *out = bb;
    return h;
}

static void lba28(struct h *h, uint32_t lba, uint8_t count)
{
    outb(h, P + 6, (uint8_t)(0xE0 | ((lba >> 24) & 0xF)));
    outb(h, P + 2, count);
    outb(h, P + 3, (uint8_t)lba);
    outb(h, P + 4, (uint8_t)(lba >> 8));
    outb(h, P + 5, (uint8_t)(lba >> 16));
}

static void lba48(struct h *h, uint64_t lba, uint16_t count)
{
    outb(h, P + 6, 0xE0);
    outb(h, P + 2, (uint8_t)(count >> 8));
    outb(h, P + 3, (uint8_t)(lba >> 24));
    outb(h, P + 4, (uint8_t)(lba >> 32));
    outb(h, P + 5, (uint8_t)(lba >> 40));
    outb(h, P + 2, (uint8_t)count);
    outb(h, P + 3, (uint8_t)lba);
    outb(h, P + 4, (uint8_t)(lba >> 8));
    outb(h, P + 5, (uint8_t)(lba >> 16));
}

static void read_words(struct h *h, uint16_t *w, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        w[i] = inw(h, P);
}

/* Reads one 512-byte DRQ block and checks it against the pattern. */
static int check_sector(struct h *h, uint64_t lba)
{
    int bad = 0;
    for (unsigned i = 0; i < 256; i++) {
        uint16_t w = inw(h, P);
        if ((w & 0xFF) != pattern(lba, 2 * i) || (w >> 8) != pattern(lba, 2 * i + 1))
            bad++;
    }
    return bad;
}

static void test_pci_identity(void)
{
    struct h *h = with_disk(false, NULL);
    CU_ASSERT_EQUAL(pci_config_read(&h->bus, 0x09, 0, 4), 0x70108086u);
    CU_ASSERT_EQUAL(pci_config_read(&h->bus, 0x09, 0x08, 4) >> 8, 0x010180u);
    CU_ASSERT_EQUAL(pci_config_read(&h->bus, 0x09, 0x20, 4), H_BM | 1);
    /* IDETIM is writable (firmware enables decode there). */
    pci_config_write(&h->bus, 0x09, 0x40, 2, 0x8000);
    CU_ASSERT_EQUAL(pci_config_read(&h->bus, 0x09, 0x40, 2), 0x8000);
    h_free(h);
}

static void test_identify(void)
{
    struct h *h = with_disk(false, NULL);
    uint16_t w[256];
    outb(h, P + 6, 0xA0);
    outb(h, P + 7, 0xEC);
    CU_ASSERT_EQUAL(inb(h, CTL), 0x58);         /* DRDY DSC DRQ */
    CU_ASSERT_EQUAL(h->edges[0], 1);
    CU_ASSERT_EQUAL(inb(h, P + 7), 0x58);       /* acknowledges INTRQ */
    CU_ASSERT_EQUAL(h->level[0], 0);
    read_words(h, w, 256);
    CU_ASSERT_EQUAL(inb(h, P + 7), 0x50);
    CU_ASSERT_EQUAL(w[0], 0x0040);
    CU_ASSERT_EQUAL(w[1], DISK_SECTORS / (16 * 63));
    CU_ASSERT_EQUAL(w[3], 16);
    CU_ASSERT_EQUAL(w[6], 63);
    char model[41];
    for (int i = 0; i < 20; i++) {
        model[2 * i] = (char)(w[27 + i] >> 8);
        model[2 * i + 1] = (char)w[27 + i];
    }
    model[40] = 0;
    CU_ASSERT_STRING_EQUAL(model, "MINUS1 HARDDISK                         ");
    CU_ASSERT_EQUAL(w[60] | (uint32_t)w[61] << 16, DISK_SECTORS);
    CU_ASSERT_EQUAL(w[100], DISK_SECTORS);
    CU_ASSERT_EQUAL(w[101] | w[102] | w[103], 0);
    CU_ASSERT_EQUAL(w[49] & 0x0300, 0x0300);    /* LBA + DMA */
    CU_ASSERT_EQUAL(w[63] & 0x07, 0x07);        /* MWDMA 0-2 */
    CU_ASSERT_EQUAL(w[83] & 0x0400, 0x0400);    /* LBA48 */
    CU_ASSERT_EQUAL(w[47] & 0xFF, 16);
    uint8_t sum = 0;
    for (int i = 0; i < 256; i++)
        sum = (uint8_t)(sum + (w[i] & 0xFF) + (w[i] >> 8));
    CU_ASSERT_EQUAL(w[255] & 0xFF, 0xA5);
    CU_ASSERT_EQUAL(sum, 0);
    /* Past the end of the data: no DRQ, all ones. */
    CU_ASSERT_EQUAL(inw(h, P), 0xFFFF);
    uint16_t c;
    uint8_t hd, s;
    CU_ASSERT_EQUAL(ide_disk_geometry(h->ide, 0, 0, &c, &hd, &s), 0);
    CU_ASSERT_EQUAL(c, w[1]);
    CU_ASSERT_EQUAL(ide_disk_geometry(h->ide, 1, 0, &c, &hd, &s), -1);
    /* SET FEATURES transfer mode MWDMA2 shows in word 63; nonsense aborts. */
    outb(h, P + 1, 0x03);
    outb(h, P + 2, 0x22);
    outb(h, P + 7, 0xEF);
    CU_ASSERT_EQUAL(inb(h, P + 7), 0x50);
    outb(h, P + 7, 0xEC);
    read_words(h, w, 256);
    CU_ASSERT_EQUAL(w[63], 0x0407);
    outb(h, P + 2, 0x50);
    outb(h, P + 7, 0xEF);
    CU_ASSERT_EQUAL(inb(h, P + 7), 0x51);
    CU_ASSERT_EQUAL(inb(h, P + 1), 0x04);
    h_free(h);
}

static void test_pio_read(void)
{
    struct h *h = with_disk(false, NULL);
    lba28(h, 100, 3);
    outb(h, P + 7, 0x20);
    CU_ASSERT_EQUAL(inb(h, CTL) & 0x88, 0x80);  /* BSY: the image is being read */
    CU_ASSERT_EQUAL(inw(h, P), 0xFFFF);          /* no DRQ: nothing to read */
    outb(h, P + 7, 0x20);                        /* command while BSY: ignored */
    aio_drain(&h->aio);
    for (int s = 0; s < 3; s++) {
        CU_ASSERT_EQUAL(inb(h, P + 7), 0x58);
        CU_ASSERT_EQUAL(check_sector(h, 100 + s), 0);
    }
    CU_ASSERT_EQUAL(h->edges[0], 3);            /* one interrupt per DRQ block */
    CU_ASSERT_EQUAL(inb(h, P + 7), 0x50);
    /* 32-bit data port accesses work too. */
    lba28(h, 7, 1);
    outb(h, P + 7, 0x20);
    aio_drain(&h->aio);
    uint32_t v = inl(h, P);
    CU_ASSERT_EQUAL(v & 0xFF, pattern(7, 0));
    CU_ASSERT_EQUAL(v >> 24, pattern(7, 3));
    h_free(h);
}

static void test_pio_count_zero_is_256(void)
{
    struct h *h = with_disk(false, NULL);
    lba28(h, 1000, 0);
    outb(h, P + 7, 0x20);
    int bad = 0, blocks = 0;
    for (int s = 0; s < 300; s++) {
        aio_drain(&h->aio);
        if (!(inb(h, P + 7) & 0x08))
            break;
        bad += check_sector(h, 1000 + s);
        blocks++;
    }
    CU_ASSERT_EQUAL(blocks, 256);
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(inb(h, P + 7), 0x50);
    h_free(h);
}

static void write_sector_words(struct h *h, uint8_t seed)
{
    for (unsigned i = 0; i < 256; i++)
        outw(h, P, (uint16_t)((seed + 2 * i) & 0xFF) | (uint16_t)(((seed + 2 * i + 1) & 0xFF) << 8));
}

static void test_pio_write(void)
{
    struct block_backend *bb;
    struct h *h = with_disk(false, &bb);
    uint8_t *img = block_mem_data(bb);
    lba28(h, 50, 2);
    outb(h, P + 7, 0x30);
    CU_ASSERT_EQUAL(inb(h, CTL), 0x58);         /* first block: DRQ, no interrupt */
    CU_ASSERT_EQUAL(h->edges[0], 0);
    write_sector_words(h, 0x11);
    CU_ASSERT_EQUAL(inb(h, CTL) & 0x88, 0x80);  /* BSY while it is written */
    aio_drain(&h->aio);
    CU_ASSERT_EQUAL(inb(h, P + 7), 0x58);
    CU_ASSERT_EQUAL(h->edges[0], 1);
    write_sector_words(h, 0x22);
    aio_drain(&h->aio);
    CU_ASSERT_EQUAL(inb(h, P + 7), 0x50);
    CU_ASSERT_EQUAL(h->edges[0], 2);
    CU_ASSERT_EQUAL(img[50 * 512], 0x11);
    CU_ASSERT_EQUAL(img[50 * 512 + 511], (uint8_t)(0x11 + 511));
    CU_ASSERT_EQUAL(img[51 * 512 + 5], (uint8_t)(0x22 + 5));
    CU_ASSERT_EQUAL(img[52 * 512], pattern(52, 0));  /* nothing beyond */
    CU_ASSERT_EQUAL(img[49 * 512 + 511], pattern(49, 511));
    /* Extra data-port writes after the command are dropped. */
    outw(h, P, 0xDEAD);
    CU_ASSERT_EQUAL(img[52 * 512], pattern(52, 0));
    h_free(h);
}

static void test_multiple(void)
{
    struct block_backend *bb;
    struct h *h = with_disk(false, &bb);
    outb(h, P + 6, 0xE0);
    outb(h, P + 7, 0xC4);                       /* READ MULTIPLE without SET MULTIPLE */
    CU_ASSERT_EQUAL(inb(h, P + 7), 0x51);
    CU_ASSERT_EQUAL(inb(h, P + 1), 0x04);
    outb(h, P + 2, 3);                          /* not a power of two */
    outb(h, P + 7, 0xC6);
    CU_ASSERT_EQUAL(inb(h, P + 7), 0x51);
    outb(h, P + 2, 32);                         /* above the IDENTIFY limit */
    outb(h, P + 7, 0xC6);
    CU_ASSERT_EQUAL(inb(h, P + 7), 0x51);
    outb(h, P + 2, 4);
    outb(h, P + 7, 0xC6);
    CU_ASSERT_EQUAL(inb(h, P + 7), 0x50);
    h->edges[0] = 0;
    lba28(h, 200, 10);
    outb(h, P + 7, 0xC4);
    aio_drain(&h->aio);
    int bad = 0;
    for (int s = 0; s < 10; s++) {
        if (s % 4 == 0)
            CU_ASSERT_EQUAL(inb(h, P + 7), 0x58);
        bad += check_sector(h, 200 + s);
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(h->edges[0], 3);            /* blocks of 4, 4, 2 */
    CU_ASSERT_EQUAL(inb(h, P + 7), 0x50);
    /* WRITE MULTIPLE EXT: 5 sectors in blocks of 4 + 1. */
    lba48(h, 300, 5);
    outb(h, P + 7, 0x39);
    for (int s = 0; s < 5; s++)
        write_sector_words(h, (uint8_t)s);
    CU_ASSERT_EQUAL(inb(h, CTL) & 0x88, 0x80);
    aio_drain(&h->aio);
    CU_ASSERT_EQUAL(inb(h, P + 7), 0x58);       /* second block */
    uint8_t *img = block_mem_data(bb);
    CU_ASSERT_EQUAL(img[303 * 512 + 1], 4);     /* block 1 landed, sector 303 = seed 3 */
    CU_ASSERT_EQUAL(img[304 * 512], pattern(304, 0));
    write_sector_words(h, 9);
    aio_drain(&h->aio);
    CU_ASSERT_EQUAL(inb(h, P + 7), 0x50);
    CU_ASSERT_EQUAL(img[304 * 512], 9);
    h_free(h);
}

static void test_lba48_and_range(void)
{
    struct h *h = with_disk(false, NULL);
    /* Last sector: fine. */
    lba48(h, DISK_SECTORS - 1, 1);
    outb(h, P + 7, 0x24);
    aio_drain(&h->aio);
    CU_ASSERT_EQUAL(inb(h, P + 7), 0x58);
    CU_ASSERT_EQUAL(check_sector(h, DISK_SECTORS - 1), 0);
    /* HOB readback: the previous (high) bytes. */
    lba48(h, 0x0000ABCD12345678ull, 0x0102);
    outb(h, CTL, 0x80);
    CU_ASSERT_EQUAL(inb(h, P + 2), 0x01);
    CU_ASSERT_EQUAL(inb(h, P + 3), 0x12);
    CU_ASSERT_EQUAL(inb(h, P + 5), 0xAB);
    outb(h, CTL, 0x00);
    CU_ASSERT_EQUAL(inb(h, P + 3), 0x78);
    /* Runs past the end by one sector: IDNF. */
    lba48(h, DISK_SECTORS - 1, 2);
    outb(h, P + 7, 0x24);
    CU_ASSERT_EQUAL(inb(h, P + 7), 0x51);
    CU_ASSERT_EQUAL(inb(h, P + 1), 0x10);
    /* A huge LBA48 address, and LBA28 just past the end. */
    lba48(h, 0xFFFFFFFFFFFFull, 0);
    outb(h, P + 7, 0x25);
    CU_ASSERT_EQUAL(inb(h, P + 7), 0x51);
    lba28(h, DISK_SECTORS, 1);
    outb(h, P + 7, 0x20);
    CU_ASSERT_EQUAL(inb(h, P + 7), 0x51);
    CU_ASSERT_EQUAL(inb(h, P + 1), 0x10);
    lba28(h, DISK_SECTORS, 1);
    outb(h, P + 7, 0x40);                       /* READ VERIFY past the end */
    CU_ASSERT_EQUAL(inb(h, P + 7), 0x51);
    lba28(h, 10, 5);
    outb(h, P + 7, 0x40);
    CU_ASSERT_EQUAL(inb(h, P + 7), 0x50);
    h_free(h);
}

/* A sparse raw file just above the LBA28 limit: capacity words and a
 * read beyond sector 2^28. */
static void test_lba48_large(void)
{
    char path[] = "/tmp/minus1-ide-XXXXXX";
    int fd = mkstemp(path);
    CU_ASSERT_FATAL(fd >= 0);
    uint64_t sectors = (1ull << 28) + 64;
    if (ftruncate(fd, (off_t)(sectors * 512)) != 0) {
        close(fd);
        unlink(path);
        return;                 /* filesystem without sparse files */
    }
    uint8_t mark[512];
    memset(mark, 0x5A, sizeof(mark));
    CU_ASSERT_EQUAL(pwrite(fd, mark, 512, (off_t)((1ull << 28) + 3) * 512), 512);
    close(fd);
    char err[256];
    struct block_backend *bb = block_open_raw(path, 0, err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(bb);
    struct h *h = h_new();
    CU_ASSERT_EQUAL_FATAL(ide_attach(h->ide, 0, 0, IDE_DISK, bb), 0);
    uint16_t w[256];
    outb(h, P + 6, 0xA0);
    outb(h, P + 7, 0xEC);
    read_words(h, w, 256);
    CU_ASSERT_EQUAL(w[60] | (uint32_t)w[61] << 16, 0x0FFFFFFFu);
    CU_ASSERT_EQUAL(w[100] | (uint64_t)w[101] << 16 | (uint64_t)w[102] << 32, sectors);
    CU_ASSERT_EQUAL(w[1], 16383);
    lba48(h, (1ull << 28) + 3, 1);
    outb(h, P + 7, 0x24);
    aio_drain(&h->aio);
    CU_ASSERT_EQUAL(inb(h, P + 7), 0x58);
    CU_ASSERT_EQUAL(inw(h, P), 0x5A5A);
    h_free(h);
    unlink(path);
}

static void test_chs(void)
{
    struct h *h = with_disk(false, NULL);
    /* C/H/S 1/2/3 with 16 heads, 63 sectors: LBA (1*16+2)*63+2. */
    outb(h, P + 6, 0xA2);
    outb(h, P + 2, 1);
    outb(h, P + 3, 3);
    outb(h, P + 4, 1);
    outb(h, P + 5, 0);
    outb(h, P + 7, 0x20);
    aio_drain(&h->aio);
    CU_ASSERT_EQUAL(check_sector(h, (1 * 16 + 2) * 63 + 2), 0);
    /* Sector 0 does not exist in CHS. */
    outb(h, P + 3, 0);
    outb(h, P + 7, 0x20);
    CU_ASSERT_EQUAL(inb(h, P + 7) & 0x01, 0x01);
    CU_ASSERT_EQUAL(inb(h, P + 1) & 0x10, 0x10);
    /* INITIALIZE DEVICE PARAMETERS: 4 heads, 17 sectors. */
    outb(h, P + 6, 0xA3);
    outb(h, P + 2, 17);
    outb(h, P + 7, 0x91);
    CU_ASSERT_EQUAL(inb(h, P + 7), 0x50);
    outb(h, P + 6, 0xA1);
    outb(h, P + 2, 1);
    outb(h, P + 3, 5);
    outb(h, P + 4, 2);
    outb(h, P + 7, 0x20);
    aio_drain(&h->aio);
    CU_ASSERT_EQUAL(check_sector(h, (2 * 4 + 1) * 17 + 4), 0);
    h_free(h);
}

/* A disk aborts the packet commands; the ATA signature stays, so a
 * driver's ATAPI probe sees a disk. */
static void test_packet_commands_abort_on_disk(void)
{
    struct h *h = with_disk(false, NULL);
    for (unsigned k = 0; k < 2; k++) {
        outb(h, P + 6, 0xA0);
        outb(h, P + 7, k ? 0xA0 : 0xA1);
        CU_ASSERT_EQUAL(inb(h, P + 7), 0x51);           /* DRDY DSC ERR */
        CU_ASSERT_EQUAL(inb(h, P + 1), 0x04);           /* ABRT */
        CU_ASSERT_EQUAL(inb(h, P + 4), 0x00);           /* not 0x14/0xEB */
        CU_ASSERT_EQUAL(inb(h, P + 5), 0x00);
    }
    h_free(h);
}

static void test_dma_read(void)
{
    struct h *h = with_disk(false, NULL);
    const uint32_t tbl = 0x10000;
    /* 4 sectors over three regions of 512, 1024 and 512 bytes. */
    h_prd(h, tbl, 0, 0x20000, 512, false);
    h_prd(h, tbl, 1, 0x30200, 1024, false);
    h_prd(h, tbl, 2, 0x40000, 512, true);
    h_bm_setup(h, 0, tbl, true);
    lba28(h, 10, 4);
    outb(h, P + 7, 0xC8);
    CU_ASSERT_EQUAL(inb(h, bmbase(0) + 2) & 0x07, 0);
    h_bm_start(h, 0, true);
    CU_ASSERT_EQUAL(inb(h, bmbase(0) + 2) & 0x01, 0x01);   /* active */
    CU_ASSERT_EQUAL(h->edges[0], 0);
    aio_drain(&h->aio);
    CU_ASSERT_EQUAL(h->edges[0], 1);
    CU_ASSERT_EQUAL(inb(h, bmbase(0) + 2) & 0x07, 0x04);   /* INT, not active: exact fit */
    CU_ASSERT_EQUAL(inb(h, P + 7), 0x50);
    uint8_t *ram = h->mem.ram;
    int bad = 0;
    for (unsigned i = 0; i < 512; i++) {
        bad += ram[0x20000 + i] != pattern(10, i);
        bad += ram[0x30200 + i] != pattern(11, i);
        bad += ram[0x30400 + i] != pattern(12, i);
        bad += ram[0x40000 + i] != pattern(13, i);
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(ram[0x40200], 0);           /* nothing past the transfer */
    outb(h, bmbase(0) + 2, 0x04);               /* write 1 to clear INT */
    CU_ASSERT_EQUAL(inb(h, bmbase(0) + 2) & 0x04, 0);
    outb(h, bmbase(0), 0x00);

    /* Start the engine first, then the command; PRD larger than the
     * transfer leaves ACTIVE set.  Byte count 0 means 64 KiB. */
    h_prd(h, tbl, 0, 0x100000, 0, true);
    h_bm_setup(h, 0, tbl, true);
    h_bm_start(h, 0, true);
    lba28(h, 0, 0x40);                          /* 32 KiB */
    outb(h, P + 7, 0xC8);
    aio_drain(&h->aio);
    CU_ASSERT_EQUAL(inb(h, bmbase(0) + 2) & 0x07, 0x05);
    CU_ASSERT_EQUAL(ram[0x100000 + 0x40 * 512 - 1], pattern(0x3F, 511));
    CU_ASSERT_EQUAL(ram[0x100000 + 0x40 * 512], 0);
    outb(h, bmbase(0), 0x00);
    CU_ASSERT_EQUAL(inb(h, bmbase(0) + 2) & 0x01, 0);
    lba28(h, 0, 0x80);                          /* exactly 64 KiB */
    outb(h, P + 7, 0xC8);
    h_bm_start(h, 0, true);
    aio_drain(&h->aio);
    CU_ASSERT_EQUAL(inb(h, bmbase(0) + 2) & 0x07, 0x04);
    CU_ASSERT_EQUAL(ram[0x100000 + 0xFFFF], pattern(0x7F, 511));
    h_free(h);
}

static void test_dma_write(void)
{
    struct block_backend *bb;
    struct h *h = with_disk(false, &bb);
    const uint32_t tbl = 0x8000;
    uint8_t *ram = h->mem.ram;
    for (unsigned i = 0; i < 1024; i++)
        ram[0x50000 + i] = (uint8_t)(i ^ 0xA5);
    h_prd(h, tbl, 0, 0x50000, 256, false);
    h_prd(h, tbl, 1, 0x50100, 768, true);
    h_bm_setup(h, 0, tbl, false);
    lba48(h, 20, 2);
    outb(h, P + 7, 0x35);
    h_bm_start(h, 0, false);
    aio_drain(&h->aio);
    CU_ASSERT_EQUAL(inb(h, P + 7), 0x50);
    CU_ASSERT_EQUAL(inb(h, bmbase(0) + 2) & 0x07, 0x04);
    CU_ASSERT_EQUAL(memcmp(block_mem_data(bb) + 20 * 512, ram + 0x50000, 1024), 0);
    CU_ASSERT_EQUAL(block_mem_data(bb)[22 * 512], pattern(22, 0));
    /* FLUSH CACHE goes through the queue. */
    outb(h, P + 7, 0xE7);
    CU_ASSERT_EQUAL(inb(h, CTL) & 0x80, 0x80);
    aio_drain(&h->aio);
    CU_ASSERT_EQUAL(inb(h, P + 7), 0x50);
    h_free(h);
}

/* Starts a 4-sector DMA read at lba 0 with the table at tbl. */
static void dma_read_with(struct h *h, uint32_t tbl, uint8_t count)
{
    h_bm_setup(h, 0, tbl, true);
    lba28(h, 0, count);
    outb(h, P + 7, 0xC8);
    h_bm_start(h, 0, true);
    aio_drain(&h->aio);
}

static void test_dma_errors(void)
{
    struct h *h = with_disk(false, NULL);
    const uint32_t tbl = 0x10000;
    uint8_t *ram = h->mem.ram;
    /* Region outside RAM (16 MiB guest). */
    h_prd(h, tbl, 0, 0x20000, 512, false);
    h_prd(h, tbl, 1, 0x00FFFF00, 1536, true);   /* crosses the end of RAM */
    dma_read_with(h, tbl, 4);
    CU_ASSERT_EQUAL(inb(h, bmbase(0) + 2) & 0x07, 0x06);   /* ERR + INT, not active */
    CU_ASSERT_EQUAL(inb(h, P + 7), 0x51);
    CU_ASSERT_EQUAL(inb(h, P + 1), 0x04);
    CU_ASSERT_EQUAL(ram[0x20000], 0);           /* nothing transferred */
    outb(h, bmbase(0), 0);
    /* Table itself outside RAM. */
    dma_read_with(h, 0xFFFFFFF8u, 1);
    CU_ASSERT_EQUAL(inb(h, bmbase(0) + 2) & 0x02, 0x02);
    CU_ASSERT_EQUAL(inb(h, P + 7), 0x51);
    outb(h, bmbase(0), 0);
    /* No end-of-table bit: 512 entries of 2 bytes cover 1 KiB of 2 KiB. */
    for (unsigned i = 0; i < 600; i++)
        h_prd(h, tbl, i, 0x30000 + 2 * i, 2, false);
    dma_read_with(h, tbl, 4);
    CU_ASSERT_EQUAL(inb(h, bmbase(0) + 2) & 0x07, 0x06);
    CU_ASSERT_EQUAL(inb(h, P + 7), 0x51);
    CU_ASSERT_EQUAL(ram[0x30000], 0);
    outb(h, bmbase(0), 0);
    /* Table shorter than the transfer. */
    h_prd(h, tbl, 0, 0x20000, 512, true);
    dma_read_with(h, tbl, 2);
    CU_ASSERT_EQUAL(inb(h, bmbase(0) + 2) & 0x07, 0x06);
    CU_ASSERT_EQUAL(inb(h, P + 7), 0x51);
    outb(h, bmbase(0), 0);
    /* The drive still works afterwards. */
    h_prd(h, tbl, 0, 0x20000, 512, true);
    dma_read_with(h, tbl, 1);
    CU_ASSERT_EQUAL(inb(h, P + 7), 0x50);
    CU_ASSERT_EQUAL(ram[0x20001], pattern(0, 1));
    h_free(h);
}

static void test_readonly(void)
{
    struct block_backend *bb;
    struct h *h = with_disk(true, &bb);
    lba28(h, 5, 1);
    outb(h, P + 7, 0x30);
    CU_ASSERT_EQUAL(inb(h, P + 7), 0x51);
    CU_ASSERT_EQUAL(inb(h, P + 1), 0x04);
    outw(h, P, 0x1234);                         /* no DRQ: dropped */
    h_prd(h, 0x10000, 0, 0x20000, 512, true);
    h_bm_setup(h, 0, 0x10000, false);
    lba28(h, 5, 1);
    outb(h, P + 7, 0xCA);
    h_bm_start(h, 0, false);
    aio_drain(&h->aio);
    CU_ASSERT_EQUAL(inb(h, P + 7), 0x51);
    CU_ASSERT_EQUAL(inb(h, P + 1), 0x04);
    CU_ASSERT_EQUAL(block_mem_data(bb)[5 * 512], pattern(5, 0));
    /* Reads still work. */
    lba28(h, 5, 1);
    outb(h, P + 7, 0x20);
    aio_drain(&h->aio);
    CU_ASSERT_EQUAL(check_sector(h, 5), 0);
    h_free(h);
}

static void test_srst(void)
{
    struct h *h = with_disk(false, NULL);
    lba28(h, 77, 9);
    outb(h, P + 7, 0x20);                       /* in flight when the reset comes */
    outb(h, CTL, 0x04);
    CU_ASSERT_EQUAL(inb(h, CTL), 0x80);
    outb(h, CTL, 0x00);
    CU_ASSERT_EQUAL(inb(h, CTL) & 0x80, 0x80);  /* still busy: request not back yet */
    aio_drain(&h->aio);
    CU_ASSERT_EQUAL(inb(h, P + 7), 0x50);
    CU_ASSERT_EQUAL(inb(h, P + 1), 0x01);
    CU_ASSERT_EQUAL(inb(h, P + 2), 0x01);
    CU_ASSERT_EQUAL(inb(h, P + 3), 0x01);
    CU_ASSERT_EQUAL(inb(h, P + 4), 0x00);
    CU_ASSERT_EQUAL(inb(h, P + 5), 0x00);
    CU_ASSERT_EQUAL(inw(h, P), 0xFFFF);         /* the old data is gone */
    /* Absent slave reads zeros; the empty secondary channel floats. */
    outb(h, P + 6, 0xB0);
    CU_ASSERT_EQUAL(inb(h, P + 7), 0x00);
    CU_ASSERT_EQUAL(inb(h, P + 4), 0x00);
    outb(h, P + 7, 0xEC);                       /* nobody answers */
    CU_ASSERT_EQUAL(h->edges[0], 0);
    CU_ASSERT_EQUAL(inb(h, 0x177), 0xFF);
    CU_ASSERT_EQUAL(inb(h, 0x376), 0xFF);
    h_free(h);
}

static void test_nien_and_misc(void)
{
    struct h *h = with_disk(false, NULL);
    outb(h, CTL, 0x02);                         /* nIEN */
    outb(h, P + 6, 0xA0);
    outb(h, P + 7, 0xE5);                       /* CHECK POWER MODE */
    CU_ASSERT_EQUAL(h->edges[0], 0);
    CU_ASSERT_EQUAL(inb(h, P + 2), 0xFF);
    CU_ASSERT_EQUAL(inb(h, P + 7), 0x50);
    outb(h, CTL, 0x00);
    outb(h, P + 7, 0x00);                       /* NOP: unsupported, ABRT */
    CU_ASSERT_EQUAL(h->edges[0], 1);
    CU_ASSERT_EQUAL(inb(h, P + 7), 0x51);
    CU_ASSERT_EQUAL(inb(h, P + 1), 0x04);
    outb(h, P + 7, 0xE1);                       /* IDLE IMMEDIATE */
    CU_ASSERT_EQUAL(inb(h, P + 7), 0x50);
    outb(h, P + 7, 0xA0);                       /* PACKET on a disk */
    CU_ASSERT_EQUAL(inb(h, P + 7), 0x51);
    /* A pending interrupt shows once nIEN is cleared again. */
    outb(h, CTL, 0x02);
    outb(h, P + 7, 0xE1);
    CU_ASSERT_EQUAL(h->level[0], 0);
    outb(h, CTL, 0x00);
    CU_ASSERT_EQUAL(h->level[0], 1);
    /* Bus-master registers: PRD pointer is dword aligned, INT/ERR are
     * write-1-to-clear, ACTIVE is read-only, capable bits stick. */
    outl(h, bmbase(0) + 4, 0x12345677);
    CU_ASSERT_EQUAL(inl(h, bmbase(0) + 4), 0x12345674);
    outb(h, bmbase(0) + 2, 0xFF);
    CU_ASSERT_EQUAL(inb(h, bmbase(0) + 2), 0x60);
    outb(h, bmbase(0) + 2, 0x01);
    CU_ASSERT_EQUAL(inb(h, bmbase(0) + 2), 0x00);
    outb(h, bmbase(0), 0xFF);
    CU_ASSERT_EQUAL(inb(h, bmbase(0)), 0x09);
    CU_ASSERT_EQUAL(inb(h, bmbase(0) + 2), 0x01);
    outb(h, bmbase(0), 0x00);
    /* Attach rules. */
    CU_ASSERT_EQUAL(ide_attach(h->ide, 0, 0, IDE_CDROM, NULL), -1);   /* taken */
    CU_ASSERT_EQUAL(ide_attach(h->ide, 2, 0, IDE_CDROM, NULL), -1);
    CU_ASSERT_EQUAL(ide_attach(h->ide, 1, 1, IDE_DISK, NULL), -1);
    CU_ASSERT_EQUAL(ide_drive_kind(h->ide, 0, 0), IDE_DISK);
    CU_ASSERT_EQUAL(ide_drive_kind(h->ide, 1, 1), IDE_NONE);
    h_free(h);
}

void suite_ide(void)
{
    CU_pSuite s = CU_add_suite("ide", NULL, NULL);
    CU_add_test(s, "PCI identity", test_pci_identity);
    CU_add_test(s, "IDENTIFY DEVICE", test_identify);
    CU_add_test(s, "packet commands abort on a disk", test_packet_commands_abort_on_disk);
    CU_add_test(s, "PIO read", test_pio_read);
    CU_add_test(s, "PIO sector count 0 = 256", test_pio_count_zero_is_256);
    CU_add_test(s, "PIO write", test_pio_write);
    CU_add_test(s, "READ/WRITE MULTIPLE", test_multiple);
    CU_add_test(s, "LBA48 and range checks", test_lba48_and_range);
    CU_add_test(s, "LBA48 beyond 2^28", test_lba48_large);
    CU_add_test(s, "CHS addressing", test_chs);
    CU_add_test(s, "DMA read", test_dma_read);
    CU_add_test(s, "DMA write and flush", test_dma_write);
    CU_add_test(s, "DMA errors", test_dma_errors);
    CU_add_test(s, "read-only disk", test_readonly);
    CU_add_test(s, "SRST", test_srst);
    CU_add_test(s, "nIEN, misc commands, BM registers", test_nien_and_misc);
}
