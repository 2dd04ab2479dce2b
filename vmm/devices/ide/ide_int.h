/* Internals shared by the IDE controller, ATA and ATAPI code. */
#ifndef MINUS1_IDE_INT_H
#define MINUS1_IDE_INT_H

#include <stdint.h>

#include "../pci.h"
#include "ide.h"

#ifndef MINUS1_VERSION
#define MINUS1_VERSION "0.1.0"
#endif

/* Status register */
#define ST_ERR  0x01
#define ST_DRQ  0x08
#define ST_DSC  0x10
#define ST_DF   0x20
#define ST_DRDY 0x40
#define ST_BSY  0x80

/* Error register */
#define ER_ABRT 0x04
#define ER_IDNF 0x10
#define ER_UNC  0x40

/* Device control */
#define DC_NIEN 0x02
#define DC_SRST 0x04
#define DC_HOB  0x80

/* Bus master */
#define BM_CMD_START 0x01
#define BM_CMD_TOMEM 0x08       /* "read/write control": 1 = device to memory */
#define BM_ST_ACTIVE 0x01
#define BM_ST_ERR    0x02
#define BM_ST_INT    0x04
#define BM_ST_CAP    0x60       /* drive 0/1 DMA capable (software flags) */

/* ATAPI interrupt reason (sector count register) */
#define IR_COD 0x01
#define IR_IO  0x02

#define IDE_BUF_SIZE (128u * 1024)
#define IDE_MAX_PRD 512         /* entries read from one table, at most */
#define IDE_MAX_MULT 16         /* READ/WRITE MULTIPLE block size limit */

struct ide_channel;
struct ide_drive;

typedef void (*ide_fn)(struct ide_drive *d);
typedef void (*ide_done_fn)(struct ide_drive *d, int ret);

struct ide_drive {
    struct ide_channel *ch;
    int unit;
    enum ide_kind kind;
    struct block_backend *bb;
    char name[16];

    /* Task file as this drive sees it (writes go to both drives). */
    uint8_t feature, nsector, sector, lcyl, hcyl;
    uint8_t hob_feature, hob_nsector, hob_sector, hob_lcyl, hob_hcyl;
    uint8_t status, error;

    /* Disk geometry and settings. */
    uint64_t nsectors;          /* 512-byte sectors (disk) */
    uint16_t cyls;
    uint8_t heads, secs;        /* physical */
    uint16_t lcyls;
    uint8_t lheads, lsecs;      /* current, INITIALIZE DEVICE PARAMETERS */
    unsigned mult;              /* sectors per DRQ block for *MULTIPLE, 0 = off */
    bool wcache;
    uint8_t xfer_mode;          /* SET FEATURES 03h value */

    /* PIO data engine: the guest reads/writes buf[pos, end). */
    uint8_t *buf;
    uint32_t pos, end, len;     /* len: valid bytes in buf (reads) */
    bool pio_out;
    ide_fn end_fn;

    /* Current ATA transfer. */
    uint64_t lba;               /* next sector to deliver/write */
    uint32_t left;              /* sectors still to deliver/write */
    uint64_t fetch_lba;
    uint32_t fetch_left;        /* sectors not yet read into buf */
    uint32_t blk;               /* sectors per DRQ block */
    uint32_t cur_blk;           /* sectors in the block being transferred */

    /* DMA waiting for the bus master. */
    bool dma_pending;
    bool dma_tomem;
    bool dma_from_buf;          /* source/target is buf, not the image */
    uint64_t dma_off, dma_bytes;
    ide_done_fn dma_done;

    /* ATAPI */
    uint8_t cdb[12];
    uint8_t sense_key, asc, ascq;
    bool ua_pending, tray_open, locked;
    uint8_t media_event;        /* GESN media event code still to report */
    bool cd_dma;
    uint32_t byte_limit;
    uint64_t cd_lba;
    uint32_t cd_left;           /* 2048-byte sectors still to read (PIO) */
};

struct ide_channel {
    struct ide *ide;
    int idx;
    struct ide_drive drv[2];
    unsigned cur;               /* selected unit */
    uint8_t select, devctl;
    bool intrq;
    struct irq irq;

    uint8_t bm_cmd, bm_status;
    uint32_t bm_prd;

    /* One request in flight per channel, at most. */
    bool busy_aio, reset_pending;
    struct block_req req;
    struct ide_drive *aio_drive;
    ide_done_fn aio_done;
    bool prd_exhausted;         /* last transfer ended exactly at the EOT entry */
    struct iovec iov[IDE_MAX_PRD];
    int niov;                   /* entries of iov in use */
    uint32_t iov_gpa[IDE_MAX_PRD];     /* guest address of each iov (write notices) */

    struct io_region cmd_region, ctl_region;
};

struct ide {
    struct pci_device pci;
    struct ide_channel ch[2];
    struct pci_bus *bus;
    struct iobus *pio;
    struct guest_mem *mem;
    struct aio *aio;
    const struct logger *log;
    struct ratelimit rl;
    struct monitor *mon;
};

/* controller.c */
void ide_set_irq(struct ide_channel *ch);
void ide_pio_start(struct ide_drive *d, uint32_t pos, uint32_t end, bool out, ide_fn end_fn);
void ide_pio_stop(struct ide_drive *d);
/* Queue image I/O for d (bytes at off <-> iov); BSY is set until done. */
void ide_submit(struct ide_drive *d, enum block_op op, uint64_t off, const struct iovec *iov,
                int iovcnt, ide_done_fn done);
/* Queue a read of len bytes at off into d->buf. */
void ide_fetch(struct ide_drive *d, uint64_t off, uint32_t len, ide_done_fn done);
/* Arm a DMA transfer; it starts when the bus master is started too. */
void ide_dma_arm(struct ide_drive *d, bool tomem, bool from_buf, uint64_t off, uint64_t bytes,
                 ide_done_fn done);
void ide_set_signature(struct ide_drive *d);
struct ide *ide_of(const struct ide_drive *d);

/* ata.c */
void ata_exec(struct ide_drive *d, uint8_t cmd);
void ata_setup_disk(struct ide_drive *d);
void ata_identify_packet(struct ide_drive *d, uint16_t *w);
void ata_pio_identify_end(struct ide_drive *d);
void ide_words_to_buf(struct ide_drive *d, const uint16_t *w);
void ata_power_on(struct ide_drive *d);
void ata_cmd_ok(struct ide_drive *d);
void ata_cmd_abort(struct ide_drive *d);
void ide_put_string(uint16_t *words, const char *s, unsigned nwords);

/* atapi.c */
void atapi_exec(struct ide_drive *d, uint8_t cmd);
void atapi_power_on(struct ide_drive *d);
void atapi_medium_changed(struct ide_drive *d);
void atapi_medium_removed(struct ide_drive *d);

#endif
