/* Shared input decoding for the libFuzzer harnesses in tests/fuzz/.
 *
 * One input is a small machine run, laid out as:
 *
 *   offset 0   4 config bytes     harness-specific (which drives, PCI or
 *                                 ISA, base time ...); missing bytes are 0
 *   offset 4   u16 LE blob_len    capped to what is left of the input
 *   offset 6   blob[blob_len]     copied to guest RAM at GPA 0 (harnesses
 *                                 with DMA), and the source of frames,
 *                                 key bytes and REP OUT data
 *   then       records of FZ_REC_SIZE (12) bytes, until the input ends:
 *                byte 0     op: bits 0-2 kind (enum fz_kind), bits 3-4
 *                           size code (1 << code bytes: 1, 2, 4, 8)
 *                byte 1     window index (mod the harness's window count)
 *                bytes 2-3  offset inside the window, LE (mod its length)
 *                bytes 4-11 value, LE 64-bit
 *
 * Every harness declares a fixed table of windows (a bus, a base and a
 * length: "0x1F0, 8 ports on pio").  A guest access is therefore (window,
 * offset), never a raw address, so the fuzzer does not waste its time on
 * unassigned ports.  A recorded trace of guest port/MMIO accesses
 * (minus1 --trace-io FILE, format in vmm/trace_io.h) converts to records
 * one-for-one, which tools/trace2corpus does: find the window that holds
 * the address, emit FZ_IN/FZ_OUT with offset = addr - base and the access
 * size; the time between accesses becomes FZ_CLOCK records (DMA memory is
 * not in a trace: the blob stays empty).  fz_encode() below builds such a
 * record.  tools/trace2corpus keeps a copy of every harness's window
 * table: change both together.
 *
 * Work per input is bounded (FZ_MAX_ACCESSES port accesses including REP
 * repeats, FZ_MAX_VTIME of virtual time) so a single input cannot make a
 * harness slow. */
#ifndef MINUS1_FUZZ_COMMON_H
#define MINUS1_FUZZ_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../vmm/iobus.h"
#include "../../vmm/log.h"
#include "../../vmm/memory.h"
#include "../../vmm/vclock.h"

#define FZ_CONFIG_BYTES 4
#define FZ_HEADER_SIZE (FZ_CONFIG_BYTES + 2)
#define FZ_REC_SIZE 12
#define FZ_MAX_WINDOWS 16
#define FZ_MAX_ACCESSES 8192u
#define FZ_MAX_REP 1024u
#define FZ_MAX_CLOCK_STEP (1ull << 27)              /* ~134 ms per record */
#define FZ_MAX_VTIME (4ull * NS_PER_SEC)
#define FZ_RAM_SIZE (2 * MiB)
#define FZ_BIOS_SIZE (64 * KiB)

enum fz_kind {
    FZ_IN = 0,          /* one read of `size` at (window, offset) */
    FZ_OUT = 1,         /* one write of value */
    FZ_REP_IN = 2,      /* 1 + (value % FZ_MAX_REP) reads (rep insb/insw/insd) */
    FZ_REP_OUT = 3,     /* 1 + (value % FZ_MAX_REP) writes, data from the blob at
                           offset value >> 16, wrapping (rep outs) */
    FZ_CLOCK = 4,       /* advance virtual time by value % FZ_MAX_CLOCK_STEP ns */
    FZ_POKE = 5,        /* write `size` bytes of value >> 32 to guest RAM at
                           GPA (uint32_t)value (refused outside RAM) */
    FZ_EVENT = 6,       /* harness-specific host-side event (frame, key ...) */
    FZ_SYNC = 7,        /* value bit 0: device reset; else complete I/O */
};

struct fz_op {
    enum fz_kind kind;
    unsigned size;      /* 1, 2, 4 or 8 */
    unsigned win;       /* already reduced modulo the window count */
    uint16_t raw_off;   /* as in the input */
    uint64_t addr;      /* bus address (window base + offset) */
    uint64_t value;
};

struct fz_window {
    struct iobus *bus;
    uint64_t base, len;
};

struct fz_ctx;

/* FZ_EVENT and FZ_SYNC go to the harness. */
struct fz_hooks {
    void (*event)(struct fz_ctx *c, const struct fz_op *op);
    void (*reset)(struct fz_ctx *c);
    void (*sync)(struct fz_ctx *c);
};

/* What every harness has: buses, a manual clock, a logger, optional RAM. */
struct fz_ctx {
    struct logger log;
    struct iobus pio, mmio;
    struct vclock clock;
    struct guest_mem mem;
    uint8_t *bios;
    bool has_mem;
    uint8_t config[FZ_CONFIG_BYTES];
    const uint8_t *blob;
    size_t blob_len;
    const uint8_t *recs;
    size_t recs_len;
    struct fz_window win[FZ_MAX_WINDOWS];
    unsigned nwin;
    unsigned accesses;
    uint64_t vtime;
    void *h;            /* the harness's own state */
};

/* Parses the header, sets up buses, logger (to /dev/null unless the
 * environment has FUZZ_LOG=1) and a manual clock at 0. */
void fz_init(struct fz_ctx *c, const uint8_t *data, size_t size);
/* Guest RAM of FZ_RAM_SIZE with the blob copied at GPA 0.  0 or -1. */
int fz_mem_init(struct fz_ctx *c);
void fz_fini(struct fz_ctx *c);
void fz_add_window(struct fz_ctx *c, struct iobus *bus, uint64_t base, uint64_t len);
/* Decodes and executes every record. */
void fz_run(struct fz_ctx *c, const struct fz_hooks *hooks);

/* `n` bytes of the blob starting at `off` (wrapping); zeros if empty. */
void fz_blob_copy(const struct fz_ctx *c, uint64_t off, void *dst, size_t n);

/* Builds one record (for seed generators and trace converters). */
void fz_encode(uint8_t rec[FZ_REC_SIZE], enum fz_kind kind, unsigned size, unsigned win,
               uint16_t off, uint64_t value);

/* An IRQ line sink that counts rising edges and remembers the level. */
struct fz_irq_sink {
    int level[16];
    unsigned edges[16];
};
void fz_irq_handler(void *sink, int n, int level);

#endif
