/* The Bochs VBE "dispi" interface (index 0x1CE, data 0x1CF).
 *
 * Every geometry the guest programs is checked against VRAM when it is
 * written: a mode whose visible area does not fit is refused, a bank or
 * an x/y offset that would put the window or the screen past VRAM is
 * ignored (the CVE-2016-3710/3712 class of bugs), so the renderer and the
 * banked window can trust vbe_start, vbe_pitch and vbe_bank. */
#include <string.h>

#include "vga_int.h"

unsigned vbe_bytes_per_pixel(unsigned bpp)
{
    return bpp == 15 ? 2 : (bpp + 7) / 8;
}

bool vbe_enabled(const struct vga *v)
{
    return v->vbe[VBE_ENABLE] & VBE_ENABLED;
}

static bool bpp_valid(unsigned bpp)
{
    return bpp == 4 || bpp == 8 || bpp == 15 || bpp == 16 || bpp == 24 || bpp == 32;
}

/* Bytes per scan line for a virtual width (4 bpp is planar: one bit per
 * pixel in each of four planes, which take 4 VRAM bytes per 8 pixels). */
static uint64_t pitch_for(unsigned width, unsigned bpp)
{
    return bpp == 4 ? (uint64_t)width / 2 : (uint64_t)width * vbe_bytes_per_pixel(bpp);
}

void vbe_reset(struct vga *v)
{
    memset(v->vbe, 0, sizeof(v->vbe));
    v->vbe[VBE_ID] = VBE_ID5;
    v->vbe[VBE_BPP] = 8;
    v->vbe_index = 0;
    v->vbe_pitch = 0;
    v->vbe_start = 0;
    v->vbe_bank = 0;
}

/* Does a screen of the current xres/yres with this pitch and start fit? */
static bool fits(const struct vga *v, uint64_t pitch, uint64_t start)
{
    uint64_t xres = v->vbe[VBE_XRES], yres = v->vbe[VBE_YRES];
    uint64_t line = pitch_for((unsigned)xres, v->vbe[VBE_BPP]);
    if (yres == 0 || line == 0 || pitch < line)
        return false;
    return start + (yres - 1) * pitch + line <= v->vram_size;
}

static uint64_t start_for(const struct vga *v, uint64_t x, uint64_t y, uint64_t pitch)
{
    unsigned bpp = v->vbe[VBE_BPP];
    uint64_t xb = bpp == 4 ? x / 2 : x * vbe_bytes_per_pixel(bpp);
    return y * pitch + xb;
}

static void set_virt_height(struct vga *v)
{
    uint64_t h = v->vbe_pitch ? v->vram_size / v->vbe_pitch : 0;
    v->vbe[VBE_VIRT_HEIGHT] = (uint16_t)(h > 0xFFFF ? 0xFFFF : h);
}

/* Makes the legacy parts agree with a VBE mode: graphics, A0000 64K
 * window, chain-4 (the banked window is linear), 8-bit attribute path. */
static void enter_vbe(struct vga *v)
{
    v->gr[GR_MISC] = (uint8_t)((v->gr[GR_MISC] & ~0x0C) | 0x05);
    v->seq[SEQ_MEMMODE] |= 0x08;
    v->seq[SEQ_MAP_MASK] = 0x0F;
    v->ar_index |= AR_PAS;
}

static void enable(struct vga *v, uint16_t val)
{
    unsigned bpp = v->vbe[VBE_BPP];
    unsigned xres = v->vbe[VBE_XRES], yres = v->vbe[VBE_YRES];
    uint64_t pitch = pitch_for(xres, bpp);
    if (!bpp_valid(bpp) || xres == 0 || yres == 0 || (bpp == 4 && xres % 8) ||
        pitch * yres > v->vram_size) {
        guest_error(v->log, &v->rl, "vga: VBE mode %ux%ux%u refused (VRAM %zu KiB)", xres,
                    yres, bpp, v->vram_size / 1024);
        return;
    }
    v->vbe_pitch = (uint32_t)pitch;
    v->vbe_start = 0;
    v->vbe_bank = 0;
    v->vbe[VBE_VIRT_WIDTH] = (uint16_t)xres;
    v->vbe[VBE_X_OFFSET] = v->vbe[VBE_Y_OFFSET] = v->vbe[VBE_BANK] = 0;
    set_virt_height(v);
    if (!(val & VBE_NOCLEARMEM)) {
        memset(v->vram, 0, pitch * yres);
        vga_mark_dirty_range(v, 0, pitch * yres);
    }
    enter_vbe(v);
    v->vbe[VBE_ENABLE] = val & (VBE_ENABLED | VBE_GETCAPS | VBE_8BIT_DAC | VBE_LFB_ENABLED |
                                VBE_NOCLEARMEM);
}

static void write_enable(struct vga *v, uint16_t val)
{
    if ((val & VBE_ENABLED) && !vbe_enabled(v)) {
        enable(v, val);
        return;
    }
    /* Disabling, or changing the flags of a running mode. */
    v->vbe[VBE_ENABLE] = val & (VBE_ENABLED | VBE_GETCAPS | VBE_8BIT_DAC | VBE_LFB_ENABLED |
                                VBE_NOCLEARMEM);
    if (!(val & VBE_ENABLED))
        v->vbe_bank = 0;
}

static void write_virt_width(struct vga *v, uint16_t val)
{
    unsigned w = val < v->vbe[VBE_XRES] ? v->vbe[VBE_XRES] : val;
    uint64_t pitch = pitch_for(w, v->vbe[VBE_BPP]);
    if (!vbe_enabled(v)) {
        v->vbe[VBE_VIRT_WIDTH] = (uint16_t)w;
        return;
    }
    if (!fits(v, pitch, 0)) {
        guest_error(v->log, &v->rl, "vga: VBE virtual width %u does not fit VRAM", val);
        return;
    }
    v->vbe[VBE_VIRT_WIDTH] = (uint16_t)w;
    v->vbe_pitch = (uint32_t)pitch;
    v->vbe[VBE_X_OFFSET] = v->vbe[VBE_Y_OFFSET] = 0;
    v->vbe_start = 0;
    set_virt_height(v);
}

static void write_offset(struct vga *v, unsigned index, uint16_t val)
{
    uint64_t x = index == VBE_X_OFFSET ? val : v->vbe[VBE_X_OFFSET];
    uint64_t y = index == VBE_Y_OFFSET ? val : v->vbe[VBE_Y_OFFSET];
    if (!vbe_enabled(v)) {
        v->vbe[index] = val;
        return;
    }
    uint64_t start = start_for(v, x, y, v->vbe_pitch);
    if (!fits(v, v->vbe_pitch, start)) {
        guest_error(v->log, &v->rl, "vga: VBE offset %llu,%llu past VRAM ignored",
                    (unsigned long long)x, (unsigned long long)y);
        return;
    }
    v->vbe[index] = val;
    v->vbe_start = (uint32_t)start;
}

static void write_bank(struct vga *v, uint16_t val)
{
    uint64_t off = (uint64_t)val * 0x10000;
    if (off + 0x10000 > v->vram_size) {
        guest_error(v->log, &v->rl, "vga: VBE bank %u past VRAM ignored", val);
        return;
    }
    v->vbe[VBE_BANK] = val;
    v->vbe_bank = (uint32_t)off;
}

uint16_t vbe_read(struct vga *v, unsigned index)
{
    bool caps = v->vbe[VBE_ENABLE] & VBE_GETCAPS;
    switch (index) {
    case VBE_XRES:
        return caps ? VBE_MAX_XRES : v->vbe[index];
    case VBE_YRES:
        return caps ? VBE_MAX_YRES : v->vbe[index];
    case VBE_BPP:
        return caps ? VBE_MAX_BPP : v->vbe[index];
    case VBE_VIDEO_MEMORY_64K:
        return (uint16_t)(v->vram_size >> 16);
    default:
        return index < VBE_NREGS ? v->vbe[index] : 0;
    }
}

static void vbe_write_reg(struct vga *v, unsigned index, uint16_t val)
{
    switch (index) {
    case VBE_ID:
        if (val >= VBE_ID0 && val <= VBE_ID5)
            v->vbe[VBE_ID] = val;
        return;
    case VBE_XRES:
    case VBE_YRES:
    case VBE_BPP:
        /* Geometry only changes while the mode is off, as on Bochs. */
        if (vbe_enabled(v)) {
            guest_error(v->log, &v->rl, "vga: VBE register %u written while enabled", index);
            return;
        }
        if (index == VBE_BPP && val == 0)
            val = 8;
        if ((index == VBE_BPP && !bpp_valid(val)) ||
            (index == VBE_XRES && val > VBE_MAX_XRES) ||
            (index == VBE_YRES && val > VBE_MAX_YRES)) {
            guest_error(v->log, &v->rl, "vga: VBE register %u = %u ignored", index, val);
            return;
        }
        v->vbe[index] = val;
        return;
    case VBE_ENABLE:
        write_enable(v, val);
        return;
    case VBE_BANK:
        write_bank(v, val);
        return;
    case VBE_VIRT_WIDTH:
        write_virt_width(v, val);
        return;
    case VBE_X_OFFSET:
    case VBE_Y_OFFSET:
        write_offset(v, index, val);
        return;
    default:                    /* VIRT_HEIGHT and memory size are derived */
        return;
    }
}

void vbe_write(struct vga *v, unsigned index, uint16_t val)
{
    vbe_write_reg(v, index, val);
    /* Enable and bank decide what the window shows. */
    vga_update_window(v);
}
