/* QEMU-compatible fw_cfg (see fw_cfg.h).
 *
 * Items live in two tables of "legacy" keys (generic 0x0000-0x001f and
 * arch-local 0x8000-0x801f) plus a table of named files whose selectors
 * start at 0x0020.  Files are kept sorted by name, and a file's selector
 * is always 0x20 + its index in the directory, as QEMU does: adding a
 * file may therefore renumber the ones after it (the directory is all the
 * guest ever uses to find them).
 *
 * Guest interface:
 *   0x510  16-bit write: select an item (bit 15 arch-local, bit 14 the old
 *          write channel, ignored: no item is writable).  8-bit reads at
 *          0x510 or 0x511 return the next data byte, as QEMU's combined
 *          port does.
 *   0x514  DMA address, big endian: a 32-bit write at 0x514 sets the high
 *          half, a 32-bit write at 0x518 the low half and starts the
 *          transfer; a 64-bit write at 0x514 does both.  Reads return the
 *          bytes "QEMU CFG". */
#include "fw_cfg.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define FW_CFG_PORT_CTL   0x510
#define FW_CFG_PORT_DMA   0x514

#define KEY_ARCH          0x8000
#define KEY_WRITE_CHANNEL 0x4000
#define KEY_INDEX_MASK    0x3fff

#define FW_CFG_ID_TRADITIONAL 0x01
#define FW_CFG_ID_DMA         0x02

#define DMA_CTL_ERROR  0x01
#define DMA_CTL_READ   0x02
#define DMA_CTL_SKIP   0x04
#define DMA_CTL_SELECT 0x08
#define DMA_CTL_WRITE  0x10

#define DMA_DESC_SIZE  16       /* be32 control, be32 length, be64 address */
#define FILE_NAME_SIZE 56
#define DIR_ENTRY_SIZE 64       /* be32 size, be16 select, be16 reserved, name */

static const char dma_signature[8] = { 'Q', 'E', 'M', 'U', ' ', 'C', 'F', 'G' };

struct fw_cfg_item {
    uint8_t *data;
    uint32_t len;
    bool present;
};

struct fw_cfg_file {
    char name[FILE_NAME_SIZE];
    struct fw_cfg_item item;
};

struct fw_cfg {
    struct io_region ctl_region, dma_region;
    struct iobus *pio;
    struct guest_mem *mem;
    const struct logger *log;
    struct ratelimit rl;

    struct fw_cfg_item legacy[2][FW_CFG_FILE_FIRST];   /* [arch][index] */
    struct fw_cfg_file files[FW_CFG_MAX_FILES];         /* sorted by name */
    unsigned nfiles;

    uint16_t cur_key;
    bool cur_valid;             /* false: the selected key does not exist */
    uint32_t cur_offset;
    uint64_t dma_addr;          /* latched high half between the two writes */
};

/* ---- byte order helpers (guest structures are big endian) ---- */

static void put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (24 - 8 * i));
}

static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get_be64(const uint8_t *p)
{
    return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

static uint32_t bswap32(uint32_t v)
{
    return __builtin_bswap32(v);
}

/* ---- item storage ---- */

static void item_free(struct fw_cfg_item *it)
{
    free(it->data);
    memset(it, 0, sizeof(*it));
}

static int item_set(struct fw_cfg_item *it, const void *data, uint32_t len)
{
    uint8_t *copy = NULL;
    if (len) {
        if (!data)
            return -1;
        copy = malloc(len);
        if (!copy)
            return -1;
        memcpy(copy, data, len);
    }
    item_free(it);
    it->data = copy;
    it->len = len;
    it->present = true;
    return 0;
}

/* The item a selector names, or NULL.  Only the index bits choose the
 * item: the write-channel bit is ignored, as in QEMU. */
static struct fw_cfg_item *item_for_key(struct fw_cfg *f, uint16_t key)
{
    unsigned arch = (key & KEY_ARCH) ? 1 : 0;
    unsigned index = key & KEY_INDEX_MASK;
    struct fw_cfg_item *it = NULL;
    if (index < FW_CFG_FILE_FIRST)
        it = &f->legacy[arch][index];
    else if (!arch && index - FW_CFG_FILE_FIRST < f->nfiles)
        it = &f->files[index - FW_CFG_FILE_FIRST].item;
    return it && it->present ? it : NULL;
}

static struct fw_cfg_item *current_item(struct fw_cfg *f)
{
    return f->cur_valid ? item_for_key(f, f->cur_key) : NULL;
}

/* Rebuilds the directory item (key 0x19) from the file table. */
static int rebuild_directory(struct fw_cfg *f)
{
    uint32_t len = 4 + DIR_ENTRY_SIZE * f->nfiles;
    uint8_t *dir = calloc(1, len);
    if (!dir)
        return -1;
    put_be32(dir, f->nfiles);
    for (unsigned i = 0; i < f->nfiles; i++) {
        uint8_t *e = dir + 4 + DIR_ENTRY_SIZE * i;
        put_be32(e, f->files[i].item.len);
        put_be16(e + 4, (uint16_t)(FW_CFG_FILE_FIRST + i));
        memcpy(e + 8, f->files[i].name, FILE_NAME_SIZE);
    }
    int rc = item_set(&f->legacy[0][FW_CFG_FILE_DIR], dir, len);
    free(dir);
    return rc;
}

/* ---- guest side: selector and data port ---- */

static void select_key(struct fw_cfg *f, uint16_t key)
{
    f->cur_key = key;
    f->cur_offset = 0;
    f->cur_valid = (key & KEY_INDEX_MASK) < FW_CFG_FILE_FIRST + FW_CFG_MAX_FILES;
}

static uint8_t data_read_byte(struct fw_cfg *f)
{
    struct fw_cfg_item *it = current_item(f);
    if (!it || f->cur_offset >= it->len)
        return 0;           /* missing item or past its end */
    return it->data[f->cur_offset++];
}

static uint64_t ctl_read(void *opaque, uint64_t offset, unsigned size)
{
    struct fw_cfg *f = opaque;
    if (size != 1) {
        /* QEMU refuses wide reads of the combined port. */
        guest_error(f->log, &f->rl, "fw_cfg: %u-byte read at 0x%x ignored", size,
                    (unsigned)(FW_CFG_PORT_CTL + offset));
        return 0;
    }
    return data_read_byte(f);
}

static void ctl_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    struct fw_cfg *f = opaque;
    if (size == 2 && offset == 0) {
        select_key(f, (uint16_t)value);
        return;
    }
    /* Byte writes would go to the old write channel: no item is writable. */
    guest_error(f->log, &f->rl, "fw_cfg: %u-byte write 0x%llx at 0x%x ignored", size,
                (unsigned long long)value, (unsigned)(FW_CFG_PORT_CTL + offset));
}

/* ---- DMA ---- */

/* Copies what is left of the item to guest memory and zero-fills the rest
 * of the buffer, as QEMU does.  The whole target must be guest RAM:
 * otherwise nothing is written.  Returns the control status. */
static uint32_t dma_do_read(struct fw_cfg *f, uint64_t addr, uint32_t len)
{
    if (len == 0)
        return 0;
    uint8_t *dst = mem_ptr(f->mem, addr, len);
    if (!dst) {
        guest_error(f->log, &f->rl, "fw_cfg: DMA read target 0x%llx+0x%x is not RAM",
                    (unsigned long long)addr, len);
        return DMA_CTL_ERROR;
    }
    struct fw_cfg_item *it = current_item(f);
    uint32_t avail = (it && f->cur_offset < it->len) ? it->len - f->cur_offset : 0;
    uint32_t n = len < avail ? len : avail;
    if (n)
        memcpy(dst, it->data + f->cur_offset, n);
    memset(dst + n, 0, len - n);
    mem_notify_write(f->mem, addr, len);
    f->cur_offset += n;
    return 0;
}

static void dma_do_skip(struct fw_cfg *f, uint32_t len)
{
    struct fw_cfg_item *it = current_item(f);
    uint32_t avail = (it && f->cur_offset < it->len) ? it->len - f->cur_offset : 0;
    f->cur_offset += len < avail ? len : avail;
}

static void dma_write_status(struct fw_cfg *f, uint64_t desc, uint32_t status)
{
    uint8_t be[4];
    put_be32(be, status);
    /* If the control word is not in RAM there is nowhere to report. */
    mem_write(f->mem, desc, be, sizeof(be));
}

/* Runs the request whose descriptor is at guest address `desc`.  The
 * descriptor is read once into a local copy; only that copy is used. */
static void dma_transfer(struct fw_cfg *f, uint64_t desc)
{
    uint8_t raw[DMA_DESC_SIZE];
    if (mem_read(f->mem, desc, raw, sizeof(raw)) < 0) {
        guest_error(f->log, &f->rl, "fw_cfg: DMA descriptor at 0x%llx is not RAM",
                    (unsigned long long)desc);
        dma_write_status(f, desc, DMA_CTL_ERROR);
        return;
    }
    uint32_t control = get_be32(raw);
    uint32_t length = get_be32(raw + 4);
    uint64_t address = get_be64(raw + 8);

    if (control & DMA_CTL_SELECT)
        select_key(f, (uint16_t)(control >> 16));

    uint32_t status = 0;
    /* QEMU's precedence when several operation bits are set. */
    if (control & DMA_CTL_READ) {
        status = dma_do_read(f, address, length);
    } else if (control & DMA_CTL_WRITE) {
        if (length) {
            guest_error(f->log, &f->rl, "fw_cfg: DMA write to key 0x%x refused", f->cur_key);
            status = DMA_CTL_ERROR;
        }
    } else if (control & DMA_CTL_SKIP) {
        dma_do_skip(f, length);
    }
    dma_write_status(f, desc, status);
}

static uint64_t dma_read(void *opaque, uint64_t offset, unsigned size)
{
    (void)opaque;
    /* The register reads as the bytes "QEMU CFG" in address order. */
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        uint64_t b = offset + i < sizeof(dma_signature) ? (uint8_t)dma_signature[offset + i] : 0;
        v |= b << (8 * i);
    }
    return v;
}

static void dma_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    struct fw_cfg *f = opaque;
    /* The register is big endian: the guest stores the address's most
     * significant byte at the lowest port. */
    if (size == 4 && offset == 0) {
        f->dma_addr = (uint64_t)bswap32((uint32_t)value) << 32;
    } else if (size == 4 && offset == 4) {
        uint64_t desc = f->dma_addr | bswap32((uint32_t)value);
        f->dma_addr = 0;
        dma_transfer(f, desc);
    } else if (size == 8 && offset == 0) {
        f->dma_addr = 0;
        dma_transfer(f, __builtin_bswap64(value));
    } else {
        guest_error(f->log, &f->rl, "fw_cfg: %u-byte DMA register write at 0x%x ignored",
                    size, (unsigned)(FW_CFG_PORT_DMA + offset));
    }
}

static const struct io_ops ctl_ops = { ctl_read, ctl_write, 2 };
static const struct io_ops dma_ops = { dma_read, dma_write, 8 };

/* ---- host side ---- */

int fw_cfg_add_bytes(struct fw_cfg *f, uint16_t key, const void *data, uint32_t len)
{
    unsigned index = key & KEY_INDEX_MASK;
    /* Files have their own call; the directory belongs to the device. */
    if ((key & KEY_WRITE_CHANNEL) || index >= FW_CFG_FILE_FIRST || key == FW_CFG_FILE_DIR)
        return -1;
    return item_set(&f->legacy[(key & KEY_ARCH) ? 1 : 0][index], data, len);
}

int fw_cfg_add_i16(struct fw_cfg *f, uint16_t key, uint16_t v)
{
    uint8_t le[2] = { (uint8_t)v, (uint8_t)(v >> 8) };
    return fw_cfg_add_bytes(f, key, le, sizeof(le));
}

int fw_cfg_add_i32(struct fw_cfg *f, uint16_t key, uint32_t v)
{
    uint8_t le[4];
    for (int i = 0; i < 4; i++)
        le[i] = (uint8_t)(v >> (8 * i));
    return fw_cfg_add_bytes(f, key, le, sizeof(le));
}

int fw_cfg_add_i64(struct fw_cfg *f, uint16_t key, uint64_t v)
{
    uint8_t le[8];
    for (int i = 0; i < 8; i++)
        le[i] = (uint8_t)(v >> (8 * i));
    return fw_cfg_add_bytes(f, key, le, sizeof(le));
}

int fw_cfg_add_file(struct fw_cfg *f, const char *name, const void *data, uint32_t len)
{
    if (!name || !name[0] || strlen(name) >= FILE_NAME_SIZE)
        return -1;
    unsigned pos = 0;
    while (pos < f->nfiles && strcmp(f->files[pos].name, name) < 0)
        pos++;
    if (pos < f->nfiles && strcmp(f->files[pos].name, name) == 0) {
        if (item_set(&f->files[pos].item, data, len) < 0)
            return -1;
        return rebuild_directory(f);
    }
    if (f->nfiles == FW_CFG_MAX_FILES)
        return -1;
    struct fw_cfg_item it = { 0 };
    if (item_set(&it, data, len) < 0)
        return -1;
    memmove(&f->files[pos + 1], &f->files[pos], (f->nfiles - pos) * sizeof(f->files[0]));
    memset(&f->files[pos], 0, sizeof(f->files[pos]));
    strcpy(f->files[pos].name, name);
    f->files[pos].item = it;
    f->nfiles++;
    return rebuild_directory(f);
}

void fw_cfg_reset(struct fw_cfg *f)
{
    select_key(f, FW_CFG_SIGNATURE);
    f->dma_addr = 0;
}

struct fw_cfg *fw_cfg_create(struct iobus *pio, struct guest_mem *mem,
                             const struct logger *log)
{
    struct fw_cfg *f = calloc(1, sizeof(*f));
    if (!f)
        return NULL;
    f->pio = pio;
    f->mem = mem;
    f->log = log;
    static const char sig[4] = { 'Q', 'E', 'M', 'U' };
    if (fw_cfg_add_bytes(f, FW_CFG_SIGNATURE, sig, sizeof(sig)) < 0 ||
        fw_cfg_add_i32(f, FW_CFG_ID, FW_CFG_ID_TRADITIONAL | FW_CFG_ID_DMA) < 0 ||
        rebuild_directory(f) < 0)
        goto fail;
    fw_cfg_reset(f);
    if (iobus_register(pio, &f->ctl_region, FW_CFG_PORT_CTL, 2, &ctl_ops, f, "fw_cfg") < 0)
        goto fail;
    if (iobus_register(pio, &f->dma_region, FW_CFG_PORT_DMA, 8, &dma_ops, f, "fw_cfg-dma") < 0)
        goto fail;
    return f;
fail:
    log_error(log, "fw_cfg: cannot create the device");
    fw_cfg_destroy(f);
    return NULL;
}

void fw_cfg_destroy(struct fw_cfg *f)
{
    if (!f)
        return;
    iobus_unmap(f->pio, &f->ctl_region);
    iobus_unmap(f->pio, &f->dma_region);
    for (unsigned a = 0; a < 2; a++)
        for (unsigned i = 0; i < FW_CFG_FILE_FIRST; i++)
            item_free(&f->legacy[a][i]);
    for (unsigned i = 0; i < f->nfiles; i++)
        item_free(&f->files[i].item);
    free(f);
}
