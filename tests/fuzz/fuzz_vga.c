/* Standard VGA + Bochs VBE: the register file at 0x3B0-0x3DF, the dispi
 * ports 0x1CE/0x1CF, the legacy window 0xA0000-0xBFFFF, the PCI function
 * (LFB BAR0, MMIO BAR2, expansion ROM) and the renderer.
 *
 * Memory accesses take the path a vCPU takes (the "gmem" bus below): an
 * address covered by a memory slot (RAM, the VGA window while it is mapped
 * straight onto VRAM, the LFB, the option ROM) is read or written through
 * the slot's host pointer (writes to read-only slots are dropped, as
 * machine_mmio does); anything else goes to the MMIO bus, so the planar
 * window logic and BAR2 run as they do for a guest.  Renders, text dumps
 * and mode descriptions run as events, between any two accesses.
 *
 * Config byte 0: bit 0 no PCI function (legacy ports and window only),
 * bit 1 no option ROM, bit 2 a dirty-page source that answers from the
 * input (bitmaps or failures), bit 3 leave the PCI command register at 0.
 * Windows: see add_windows().  Event (raw_off & 7): 0 render, 1 text dump
 * into a buffer of value % 4096 bytes, 2 describe the mode, 3 write 8
 * bytes of value at LFB offset (value >> 32) % VRAM, 4 invalidate,
 * 5 next dirty-source answer = value (bit 63 set: fail), 6 fill
 * (value >> 8) % 64 KiB bytes of VRAM at (value >> 32) % VRAM with a
 * pattern, 7 detach the memory map (value bit 0) or attach it again. */
#include <stdlib.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "../../vmm/devices/pci.h"
#include "../../vmm/devices/vga/vga.h"
#include "common.h"

#define LFB_BASE 0xE0000000u
#define BAR2_BASE 0xE1000000u
#define ROM_BASE 0xE1100000u
#define MAX_RENDERS 6           /* a 8192x2048 frame costs ~100 ms under ASan */

struct h {
    struct pci_bus bus;
    struct iobus gmem;          /* what a vCPU's memory accesses reach */
    struct io_region all;
    struct vga *v;
    struct fz_ctx *c;
    uint64_t dirty_answer;
    unsigned renders;
    bool attached;
};

/* ---- the vCPU's view of physical memory ---- */

static uint64_t gmem_read(void *opaque, uint64_t addr, unsigned size)
{
    struct h *h = opaque;
    const struct mem_slot *s = mem_lookup(&h->c->mem, addr);
    if (s && addr - s->gpa + size <= s->size) {
        uint64_t v = 0;
        memcpy(&v, s->host + (addr - s->gpa), size);
        return v;
    }
    if (s || (size > 1 && mem_lookup(&h->c->mem, addr + size - 1))) {
        uint64_t v = 0;         /* straddles a slot edge: byte by byte */
        for (unsigned i = 0; i < size; i++)
            v |= (gmem_read(h, addr + i, 1) & 0xFF) << (8 * i);
        return v;
    }
    return iobus_read(&h->c->mmio, addr, size);
}

static void gmem_write(void *opaque, uint64_t addr, unsigned size, uint64_t value)
{
    struct h *h = opaque;
    const struct mem_slot *s = mem_lookup(&h->c->mem, addr);
    if (s && addr - s->gpa + size <= s->size) {
        if (!s->readonly)
            memcpy(s->host + (addr - s->gpa), &value, size);
        return;
    }
    if (s || (size > 1 && mem_lookup(&h->c->mem, addr + size - 1))) {
        for (unsigned i = 0; i < size; i++)
            gmem_write(h, addr + i, 1, value >> (8 * i));
        return;
    }
    iobus_write(&h->c->mmio, addr, size, value);
}

static const struct io_ops gmem_ops = { gmem_read, gmem_write, 8 };

/* ---- host side ---- */

static int dirty_source(void *opaque, int slot_id, uint64_t *bitmap)
{
    struct h *h = opaque;
    if (h->dirty_answer >> 63)
        return -1;
    /* The bitmap has room for exactly the slot's pages (vga.h). */
    const struct guest_mem *m = &h->c->mem;
    for (unsigned i = 0; i < m->nslots; i++) {
        if (m->slots[i].id != slot_id)
            continue;
        uint64_t words = (m->slots[i].size / 4096 + 63) / 64;
        for (uint64_t w = 0; w < words; w++)
            bitmap[w] = h->dirty_answer << (w & 7) | h->dirty_answer >> (64 - (w & 7) - 1) >> 1;
        return 0;
    }
    return -1;
}

static void check_frame(struct h *h)
{
    if (h->renders >= MAX_RENDERS)
        return;
    h->renders++;
    struct vga_update upd;
    const uint32_t *fb = vga_render(h->v, &upd);
    int w = 0, ht = 0;
    vga_frame_size(h->v, &w, &ht);
    if (!fb || w != upd.width || ht != upd.height || w < 1 || ht < 1)
        abort();
    if (upd.y0 < upd.y1 && (upd.y0 < 0 || upd.y1 > ht))
        abort();
    /* Every reported span lies in the frame; every pixel is readable. */
    uint32_t sum = 0;
    for (int y = 0; y < ht; y++) {
        if (upd.x0[y] < upd.x1[y] && (upd.x0[y] < 0 || upd.x1[y] > w))
            abort();
        sum += fb[(size_t)y * (size_t)w] + fb[(size_t)y * (size_t)w + (size_t)w - 1];
    }
    if (sum == 0x5A5A5A5Au)     /* keep the reads */
        h->dirty_answer ^= 1;
}

static void text_dump(struct h *h, uint64_t value)
{
    size_t len = value % 4096;
    char *buf = malloc(len ? len : 1);
    if (!buf)
        return;
    ssize_t n = vga_text_dump(h->v, buf, len);
    if (len && strnlen(buf, len) == len)
        abort();                /* not NUL-terminated */
    if (n >= 0 && (size_t)n < len && strlen(buf) != (size_t)n)
        abort();                /* the full text fitted but its length is off */
    free(buf);
}

static void event(struct fz_ctx *c, const struct fz_op *op)
{
    struct h *h = c->h;
    size_t vsize;
    uint8_t *vram = vga_vram(h->v, &vsize);
    size_t off = (size_t)(op->value >> 32) % vsize;
    char desc[128];
    switch (op->raw_off & 7) {
    case 0:
        check_frame(h);
        break;
    case 1:
        text_dump(h, op->value);
        break;
    case 2:
        vga_describe_mode(h->v, desc, sizeof(desc));
        if (strnlen(desc, sizeof(desc)) == sizeof(desc))
            abort();
        break;
    case 3:
        for (unsigned i = 0; i < 8 && off + i < vsize; i++)
            vram[off + i] = (uint8_t)(op->value >> (8 * i));
        vga_invalidate(h->v);
        break;
    case 4:
        vga_invalidate(h->v);
        break;
    case 5:
        h->dirty_answer = op->value;
        break;
    case 6: {
        size_t n = (size_t)(op->value >> 8) % (64 * KiB);
        if (n > vsize - off)
            n = vsize - off;
        for (size_t i = 0; i < n; i++)
            vram[off + i] = (uint8_t)(op->value + i * 7);
        vga_invalidate(h->v);
        break;
    }
    default:
        h->attached = !(op->value & 1);
        vga_set_memory(h->v, h->attached ? &c->mem : NULL);
        break;
    }
}

static void reset(struct fz_ctx *c)
{
    vga_reset(((struct h *)c->h)->v);
}

static void sync_render(struct fz_ctx *c)
{
    check_frame(c->h);
}

/* What SeaBIOS does with the function: BARs where the gmem windows look,
 * memory decoding on (the fuzzer can move or disable them through 0xCF8). */
static void program_bars(struct fz_ctx *c, struct h *h)
{
    struct pci_device *d = vga_pci_device(h->v);
    if (!d)
        return;
    pci_config_write(&h->bus, d->devfn, PCI_BASE_ADDRESS_0, 4, LFB_BASE);
    pci_config_write(&h->bus, d->devfn, PCI_BASE_ADDRESS_0 + 8, 4, BAR2_BASE);
    pci_config_write(&h->bus, d->devfn, PCI_ROM_ADDRESS, 4, ROM_BASE | 1);
    if (!(c->config[0] & 8))
        pci_config_write(&h->bus, d->devfn, PCI_COMMAND, 2, PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
}

static void add_windows(struct fz_ctx *c, struct h *h)
{
    fz_add_window(c, &c->pio, 0x3B0, 0x30);             /* 0: VGA ports */
    fz_add_window(c, &c->pio, 0x1CE, 4);                /* 1: VBE index/data */
    fz_add_window(c, &h->gmem, 0xA0000, 0x10000);       /* 2: window, low half */
    fz_add_window(c, &h->gmem, 0xB0000, 0x10000);       /* 3: window, high half */
    fz_add_window(c, &h->gmem, LFB_BASE, 0x10000);      /* 4: LFB, first 64 KiB */
    fz_add_window(c, &h->gmem, BAR2_BASE, 0x1000);      /* 5: BAR2 */
    fz_add_window(c, &h->gmem, ROM_BASE, 0x10000);      /* 6: option ROM */
    fz_add_window(c, &c->pio, 0xCF8, 8);                /* 7: PCI config */
    fz_add_window(c, &h->gmem, LFB_BASE + 0xFF0000, 0x10000); /* 8: LFB, last 64 KiB */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz_ctx c;
    struct h *h = calloc(1, sizeof(*h));
    fz_init(&c, data, size);
    if (!h || fz_mem_init(&c) < 0)
        goto out;
    c.h = h;
    h->c = &c;
    iobus_init(&h->gmem, "gmem", &c.log);
    iobus_register(&h->gmem, &h->all, 0, 1ull << 32, &gmem_ops, h, "gmem");
    pci_bus_init(&h->bus, &c.pio, &c.mmio, &c.mem, &c.log);
    bool rom = !(c.config[0] & 2) && access(VGA_DEFAULT_BIOS, R_OK) == 0;
    char err[160];
    h->v = vga_create((c.config[0] & 1) ? NULL : &h->bus, &c.pio, &c.mmio,
                      rom ? VGA_DEFAULT_BIOS : NULL, &c.log, err, sizeof(err));
    if (h->v) {
        vga_set_clock(h->v, &c.clock);
        vga_set_memory(h->v, &c.mem);
        h->attached = true;
        if (c.config[0] & 4)
            vga_set_dirty_source(h->v, dirty_source, h);
        program_bars(&c, h);
        add_windows(&c, h);
        static const struct fz_hooks hooks = { event, reset, sync_render };
        fz_run(&c, &hooks);
        check_frame(h);         /* every input ends with a frame */
    }
    vga_destroy(h->v);
out:
    fz_fini(&c);
    free(h);
    return 0;
}
