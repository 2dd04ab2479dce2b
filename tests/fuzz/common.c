/* Input decoding and the op interpreter shared by the harnesses; see
 * common.h for the input format. */
#include "common.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint64_t get_le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

void fz_init(struct fz_ctx *c, const uint8_t *data, size_t size)
{
    memset(c, 0, sizeof(*c));
    memcpy(c->config, data, size < FZ_CONFIG_BYTES ? size : FZ_CONFIG_BYTES);
    size_t pos = size < FZ_CONFIG_BYTES ? size : FZ_CONFIG_BYTES;
    if (size >= FZ_HEADER_SIZE) {
        size_t blen = (size_t)get_le(data + FZ_CONFIG_BYTES, 2);
        pos = FZ_HEADER_SIZE;
        if (blen > size - pos)
            blen = size - pos;
        c->blob = data + pos;
        c->blob_len = blen;
        pos += blen;
    } else {
        pos = size;
    }
    c->recs = data + pos;
    c->recs_len = size - pos;

    /* Guest errors are formatted (their arguments are guest values, worth
     * running under UBSan) but go nowhere unless asked for. */
    const char *dbg = getenv("FUZZ_LOG");
    c->log.level = LOG_WARN;
    c->log.fd = (dbg && *dbg == '1') ? STDERR_FILENO : open("/dev/null", O_WRONLY | O_CLOEXEC);
    iobus_init(&c->pio, "pio", &c->log);
    iobus_init(&c->mmio, "mmio", &c->log);
    vclock_init(&c->clock);
    vclock_set_manual(&c->clock, 0);
}

int fz_mem_init(struct fz_ctx *c)
{
    c->bios = calloc(1, FZ_BIOS_SIZE);
    if (!c->bios)
        return -1;
    if (mem_init(&c->mem, FZ_RAM_SIZE, c->bios, FZ_BIOS_SIZE) < 0) {
        free(c->bios);
        c->bios = NULL;
        return -1;
    }
    c->has_mem = true;
    if (c->blob_len)
        mem_write(&c->mem, 0, c->blob, c->blob_len);
    return 0;
}

void fz_fini(struct fz_ctx *c)
{
    if (c->has_mem)
        mem_destroy(&c->mem);
    free(c->bios);
    if (c->log.fd > STDERR_FILENO)
        close(c->log.fd);
    c->has_mem = false;
    c->bios = NULL;
}

void fz_add_window(struct fz_ctx *c, struct iobus *bus, uint64_t base, uint64_t len)
{
    if (c->nwin < FZ_MAX_WINDOWS && len)
        c->win[c->nwin++] = (struct fz_window){ bus, base, len };
}

void fz_blob_copy(const struct fz_ctx *c, uint64_t off, void *dst, size_t n)
{
    uint8_t *d = dst;
    if (!c->blob_len) {
        memset(d, 0, n);
        return;
    }
    off %= c->blob_len;
    for (size_t i = 0; i < n; i++) {
        d[i] = c->blob[off++];
        if (off == c->blob_len)
            off = 0;
    }
}

void fz_encode(uint8_t rec[FZ_REC_SIZE], enum fz_kind kind, unsigned size, unsigned win,
               uint16_t off, uint64_t value)
{
    unsigned code = size >= 8 ? 3 : size >= 4 ? 2 : size >= 2 ? 1 : 0;
    rec[0] = (uint8_t)(kind | code << 3);
    rec[1] = (uint8_t)win;
    rec[2] = (uint8_t)off;
    rec[3] = (uint8_t)(off >> 8);
    for (unsigned i = 0; i < 8; i++)
        rec[4 + i] = (uint8_t)(value >> (8 * i));
}

void fz_irq_handler(void *sink, int n, int level)
{
    struct fz_irq_sink *s = sink;
    unsigned i = (unsigned)n & 15;
    if (level && !s->level[i])
        s->edges[i]++;
    s->level[i] = level;
}

static bool budget(struct fz_ctx *c, unsigned n)
{
    if (c->accesses + n > FZ_MAX_ACCESSES)
        return false;
    c->accesses += n;
    return true;
}

static void do_rep(struct fz_ctx *c, const struct fz_op *op)
{
    unsigned count = 1 + (unsigned)(op->value & (FZ_MAX_REP - 1));
    if (!budget(c, count))
        return;
    struct iobus *bus = c->win[op->win].bus;
    uint64_t src = op->value >> 16;
    for (unsigned i = 0; i < count; i++) {
        if (op->kind == FZ_REP_IN) {
            iobus_read(bus, op->addr, op->size);
        } else {
            uint8_t b[8];
            fz_blob_copy(c, src, b, op->size);
            src += op->size;
            iobus_write(bus, op->addr, op->size, get_le(b, op->size));
        }
    }
}

static void do_op(struct fz_ctx *c, const struct fz_hooks *hooks, const struct fz_op *op)
{
    switch (op->kind) {
    case FZ_IN:
        if (budget(c, 1))
            iobus_read(c->win[op->win].bus, op->addr, op->size);
        break;
    case FZ_OUT:
        if (budget(c, 1))
            iobus_write(c->win[op->win].bus, op->addr, op->size, op->value);
        break;
    case FZ_REP_IN:
    case FZ_REP_OUT:
        do_rep(c, op);
        break;
    case FZ_CLOCK: {
        uint64_t d = op->value % FZ_MAX_CLOCK_STEP;
        if (c->vtime + d > FZ_MAX_VTIME)
            d = FZ_MAX_VTIME - c->vtime;
        c->vtime += d;
        vclock_advance(&c->clock, d);
        break;
    }
    case FZ_POKE:
        if (c->has_mem) {
            uint8_t b[8];
            for (unsigned i = 0; i < 8; i++)
                b[i] = (uint8_t)(op->value >> (32 + 8 * (i & 3)));
            mem_write(&c->mem, (uint32_t)op->value, b, op->size);
        }
        break;
    case FZ_EVENT:
        if (hooks->event)
            hooks->event(c, op);
        break;
    case FZ_SYNC:
        if ((op->value & 1) && hooks->reset)
            hooks->reset(c);
        else if (!(op->value & 1) && hooks->sync)
            hooks->sync(c);
        break;
    }
}

void fz_run(struct fz_ctx *c, const struct fz_hooks *hooks)
{
    if (!c->nwin)
        return;
    for (size_t pos = 0; pos + FZ_REC_SIZE <= c->recs_len; pos += FZ_REC_SIZE) {
        const uint8_t *r = c->recs + pos;
        struct fz_op op;
        op.kind = (enum fz_kind)(r[0] & 7);
        op.size = 1u << ((r[0] >> 3) & 3);
        op.win = r[1] % c->nwin;
        op.raw_off = (uint16_t)get_le(r + 2, 2);
        op.addr = c->win[op.win].base + op.raw_off % c->win[op.win].len;
        op.value = get_le(r + 4, 8);
        do_op(c, hooks, &op);
        if (c->accesses >= FZ_MAX_ACCESSES)
            break;
    }
}
