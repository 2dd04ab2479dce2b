/* The CPU side of VGA memory: the 0xA0000-0xBFFFF window, the graphics
 * controller's read modes 0-1 and write modes 0-3 with the latches, data
 * rotate, logical function, set/reset and bit mask, and the sequencer's
 * chain-4 / odd-even addressing.  Also the VBE banked window.
 *
 * This is the slow path (one call per byte, every access traps).  When the
 * window is a plain byte view of VRAM -- chain-4 with the identity write
 * path, or a VBE bank -- vga_update_window() maps that VRAM straight into
 * the guest memory map instead, so mode 13h and banked VBE drawing run
 * without exits (QEMU maps the same "chain4 alias"). */
#include "vga_int.h"

/* Offset inside the 128 KiB window -> offset inside the memory map the
 * graphics controller selects, or -1 when the map does not decode it. */
static int64_t window_decode(const struct vga *v, uint32_t off)
{
    switch ((v->gr[GR_MISC] >> 2) & 3) {
    case 0:
        return off;                                         /* A0000, 128K */
    case 1:
        return off < 0x10000 ? (int64_t)off : -1;           /* A0000, 64K */
    case 2:
        return off >= 0x10000 && off < 0x18000 ? (int64_t)off - 0x10000 : -1;
    default:
        return off >= 0x18000 ? (int64_t)off - 0x18000 : -1;  /* B8000, 32K */
    }
}

/* VBE banked access: the 64 KiB window shows VRAM at the bank offset.
 * vbe.c keeps vbe_bank + 64 KiB inside VRAM; checked again here anyway. */
static bool vbe_banked(const struct vga *v)
{
    return vbe_enabled(v) && v->vbe[VBE_BPP] != 4;
}

/* Chain-4 accesses that equal plain memory: every plane enabled for
 * writes, write mode 0 with no set/reset, rotate, logical function or bit
 * mask, read mode 0 (no colour compare).  Anything else keeps the planar
 * path.  (Reads through the mapping do not load the latches; they only
 * matter again after a register write, which unmaps first -- but a
 * latch value loaded before is then stale, as on QEMU.) */
static bool chain4_identity(const struct vga *v)
{
    return (v->seq[SEQ_MEMMODE] & 0x08) && (v->seq[SEQ_MAP_MASK] & 0x0F) == 0x0F &&
           (v->gr[GR_MODE] & 0x0B) == 0 && (v->gr[GR_ENABLE_SR] & 0x0F) == 0 &&
           (v->gr[GR_ROTATE] & 0x1F) == 0 && v->gr[GR_BIT_MASK] == 0xFF;
}

/* Where the window must be mapped now (*size 0: not at all). */
static void window_target(const struct vga *v, uint64_t *gpa, uint64_t *size, uint32_t *off)
{
    static const uint32_t base[4] = { 0xA0000, 0xA0000, 0xB0000, 0xB8000 };
    static const uint32_t len[4] = { 0x20000, 0x10000, 0x8000, 0x8000 };
    unsigned map = (v->gr[GR_MISC] >> 2) & 3;
    *gpa = base[map];
    *size = len[map];
    *off = 0;
    if (vbe_banked(v)) {
        /* vga_mem_read/write: only the first 64 KiB of the map decode. */
        if (*size > 0x10000)
            *size = 0x10000;
        *off = v->vbe_bank;
    } else if (!chain4_identity(v)) {
        *size = 0;
    }
    if ((uint64_t)*off + *size > v->vram_size || (*off & 4095))
        *size = 0;
}

void vga_update_window(struct vga *v)
{
    if (!v->mem || v->win_handle < 0)
        return;
    uint64_t gpa, size;
    uint32_t off;
    window_target(v, &gpa, &size, &off);
    bool on = size != 0;
    if (on == v->win_mapped &&
        (!on || (gpa == v->win_gpa && size == v->win_size && off == v->win_off)))
        return;
    if (on && mem_set_device(v->mem, v->win_handle, v->vram + off, size, gpa, true) < 0) {
        /* Something else sits there: stay on the trapping path. */
        guest_error(v->log, &v->rl, "vga: cannot map the window at 0x%llx",
                    (unsigned long long)gpa);
        on = false;
    }
    if (!on)
        mem_set_device(v->mem, v->win_handle, v->vram, 0x10000, 0xA0000, false);
    v->win_mapped = on;
    v->win_gpa = gpa;
    v->win_size = size;
    v->win_off = off;
}

static uint8_t expand_bit(unsigned v, unsigned bit)
{
    return (v >> bit) & 1 ? 0xFF : 0x00;
}

static uint8_t rotate_right(uint8_t v, unsigned n)
{
    n &= 7;
    return (uint8_t)((v >> n) | (v << ((8 - n) & 7)));
}

static void load_latches(struct vga *v, uint32_t off)
{
    for (unsigned p = 0; p < 4; p++)
        v->latch[p] = vga_plane_byte(v, off, p);
}

/* Read mode 1: a 1 for every pixel whose colour, over the planes not
 * masked by Color Don't Care, equals Color Compare. */
static uint8_t color_compare(const struct vga *v)
{
    uint8_t diff = 0;
    for (unsigned p = 0; p < 4; p++) {
        if (v->gr[GR_DONT_CARE] & (1u << p))
            diff |= v->latch[p] ^ expand_bit(v->gr[GR_COLOR_CMP], p);
    }
    return (uint8_t)~diff;
}

uint8_t vga_mem_read(struct vga *v, uint32_t addr)
{
    int64_t a = window_decode(v, addr);
    if (a < 0)
        return 0xFF;
    if (vbe_banked(v)) {
        uint64_t o = (uint64_t)v->vbe_bank + (uint64_t)a;
        return a < 0x10000 && o < v->vram_size ? v->vram[o] : 0xFF;
    }
    uint32_t off;
    unsigned plane;
    if (v->seq[SEQ_MEMMODE] & 0x08) {
        /* Chain-4: the low two address bits pick the plane; the layout
         * makes that VRAM[A]. */
        off = (uint32_t)a >> 2;
        plane = (uint32_t)a & 3;
    } else if (v->gr[GR_MODE] & 0x10) {
        /* Host odd/even: A0 picks plane 0/1 (or 2/3 with read map bit 1). */
        off = (uint32_t)a & ~1u;
        plane = (v->gr[GR_READ_MAP] & 2) | ((uint32_t)a & 1);
    } else {
        off = (uint32_t)a;
        plane = v->gr[GR_READ_MAP] & 3;
    }
    load_latches(v, off);
    if (v->gr[GR_MODE] & 0x08)
        return color_compare(v);
    return v->latch[plane];
}

static uint8_t alu(unsigned fn, uint8_t data, uint8_t latch)
{
    switch (fn & 3) {
    case 1:
        return data & latch;
    case 2:
        return data | latch;
    case 3:
        return data ^ latch;
    default:
        return data;
    }
}

/* The four plane values a write produces (before the map mask). */
static void write_pipeline(const struct vga *v, uint8_t val, uint8_t out[4])
{
    unsigned mode = v->gr[GR_MODE] & 3;
    unsigned fn = (v->gr[GR_ROTATE] >> 3) & 3;
    uint8_t mask = v->gr[GR_BIT_MASK];
    uint8_t rot = rotate_right(val, v->gr[GR_ROTATE] & 7);

    if (mode == 1) {            /* latches copied as they are */
        for (unsigned p = 0; p < 4; p++)
            out[p] = v->latch[p];
        return;
    }
    if (mode == 3)              /* rotated data ANDed into the bit mask */
        mask &= rot;
    for (unsigned p = 0; p < 4; p++) {
        uint8_t d;
        if (mode == 0)
            d = (v->gr[GR_ENABLE_SR] & (1u << p)) ? expand_bit(v->gr[GR_SET_RESET], p) : rot;
        else if (mode == 2)
            d = expand_bit(val, p);
        else
            d = expand_bit(v->gr[GR_SET_RESET], p);
        d = alu(fn, d, v->latch[p]);
        out[p] = (uint8_t)((d & mask) | (v->latch[p] & ~mask));
    }
}

void vga_mem_write(struct vga *v, uint32_t addr, uint8_t val)
{
    int64_t a = window_decode(v, addr);
    if (a < 0)
        return;
    if (vbe_banked(v)) {
        uint64_t o = (uint64_t)v->vbe_bank + (uint64_t)a;
        if (a < 0x10000 && o < v->vram_size) {
            v->vram[o] = val;
            vga_mark_dirty(v, o);
        }
        return;
    }
    uint8_t planes = v->seq[SEQ_MAP_MASK] & 0x0F;
    if (v->seq[SEQ_MEMMODE] & 0x08) {
        unsigned p = (uint32_t)a & 3;
        if ((planes & (1u << p)) && (uint64_t)a < v->vram_size) {
            v->vram[a] = val;
            vga_mark_dirty(v, (size_t)a);
        }
        return;
    }
    uint32_t off = (uint32_t)a;
    if (!(v->seq[SEQ_MEMMODE] & 0x04)) {
        /* Odd/even: even addresses reach planes 0 and 2, odd ones 1 and 3. */
        planes &= (a & 1) ? 0x0A : 0x05;
        off &= ~1u;
    }
    uint8_t out[4];
    write_pipeline(v, val, out);
    for (unsigned p = 0; p < 4; p++) {
        if (planes & (1u << p))
            v->vram[((off & VGA_PLANE_MASK) << 2) | p] = out[p];
    }
    vga_mark_dirty(v, (size_t)(off & VGA_PLANE_MASK) << 2);
}

static uint64_t window_read(void *opaque, uint64_t offset, unsigned size)
{
    (void)size;                 /* max_size 1: the bus splits wider accesses */
    return vga_mem_read(opaque, (uint32_t)offset);
}

static void window_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    (void)size;
    vga_mem_write(opaque, (uint32_t)offset, (uint8_t)value);
}

const struct io_ops vga_window_ops = {
    .read = window_read,
    .write = window_write,
    .max_size = 1,
};
