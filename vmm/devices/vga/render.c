/* Rendering: the current mode -> a 32-bit XRGB host framebuffer.
 *
 * Dirty tracking works by comparison, not by trapping writes: the linear
 * framebuffer is host memory the guest writes without exits, so for every
 * output line we gather the bytes it is drawn from (the "key": VRAM bytes,
 * plus the cursor and blink state for text lines) and compare them with
 * what the line was last drawn from.  Only lines whose key changed are
 * re-rendered; a re-rendered line is compared pixel by pixel with the old
 * frame to report the exact changed span.  Anything that changes how
 * every line looks (registers, palette, fonts) forces a full redraw.
 * The cost is one memcpy + memcmp of the visible VRAM per frame (about
 * 2 MB for 800x600x32, well under a millisecond). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vga_int.h"

#define MAX_W 8192
#define MAX_H 8192
#define BLANK_W 640
#define BLANK_H 480
#define PAN_SLACK 16            /* extra pixels rendered for horizontal panning */
#define CURSOR_HALF_PERIOD_NS 266666666ull  /* 16 frames at 60 Hz */
#define BLINK_HALF_PERIOD_NS 533333333ull   /* 32 frames */

enum kind { K_BLANK, K_TEXT, K_PLANAR, K_CGA, K_256, K_VBE };

/* Everything needed to find and draw one output line. */
struct geom {
    enum kind kind;
    int width, height;
    /* VGA (CRTC) modes */
    uint32_t start, pitch;      /* in CRTC address units (MA) */
    unsigned mas;               /* MAs fetched per line (incl. panning slack) */
    unsigned ppm;               /* pixels per MA */
    unsigned rowlines;          /* output lines per character row */
    unsigned collapse;          /* physical scanlines per output line */
    int split;                  /* first output line after line compare */
    unsigned pan;               /* pixels skipped at the left */
    unsigned cw, ch;            /* text cell */
    /* VBE */
    unsigned bpp;
    size_t line_bytes;
};

static uint64_t now_ns(const struct vga *v)
{
    if (v->clock)
        return vclock_ns(v->clock);
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static unsigned vde(const struct vga *v)
{
    return (v->crtc[0x12] | ((v->crtc[0x07] & 0x02) << 7) | ((v->crtc[0x07] & 0x40) << 3)) + 1u;
}

static unsigned line_compare(const struct vga *v)
{
    return v->crtc[0x18] | ((v->crtc[0x07] & 0x10) << 4) | ((v->crtc[0x09] & 0x40) << 3);
}

/* CRTC address counter -> plane offset, following word/dword mode and the
 * CGA-compatibility substitution of row-scan bits into address bits 13/14. */
static uint32_t crtc_addr(const struct vga *v, uint32_t ma, unsigned rowscan, bool chain4_256)
{
    uint32_t a;
    if (v->crtc[0x14] & 0x40) {
        /* Dword mode.  With chain-4, our layout already packs the four
         * pixels of an address into consecutive bytes, so no shift. */
        a = chain4_256 ? ma : (ma << 2) | ((ma >> 14) & 3);
    } else if (!(v->crtc[0x17] & 0x40)) {
        a = (ma << 1) | ((ma >> ((v->crtc[0x17] & 0x20) ? 15 : 13)) & 1);
    } else {
        a = ma;
    }
    if (!(v->crtc[0x17] & 0x01))
        a = (a & ~0x2000u) | ((rowscan & 1u) << 13);
    if (!(v->crtc[0x17] & 0x02))
        a = (a & ~0x4000u) | ((rowscan & 2u) << 13);
    return a & VGA_PLANE_MASK;
}

static void geom_vbe(const struct vga *v, struct geom *g)
{
    g->kind = K_VBE;
    g->width = v->vbe[VBE_XRES];
    g->height = v->vbe[VBE_YRES];
    g->bpp = v->vbe[VBE_BPP];
    g->line_bytes = g->bpp == 4 ? (size_t)g->width / 2
                                : (size_t)g->width * vbe_bytes_per_pixel(g->bpp);
}

static void geom_vga(const struct vga *v, struct geom *g)
{
    unsigned msl = (v->crtc[0x09] & 0x1F) + 1;
    unsigned dbl = (v->crtc[0x09] & 0x80) ? 1 : 0;
    unsigned chars = v->crtc[0x01] + 1u;
    unsigned lines = vde(v) >> dbl;
    g->start = ((uint32_t)v->crtc[0x0C] << 8) | v->crtc[0x0D];
    g->pitch = (uint32_t)v->crtc[0x13] * 2;
    g->collapse = 1u << dbl;
    if (!(v->gr[GR_MISC] & 1)) {
        g->kind = K_TEXT;
        g->cw = (v->seq[SEQ_CLOCKING] & 1) ? 8 : 9;
        g->ch = msl;
        g->ppm = g->cw;
        g->rowlines = msl;
        g->mas = chars;
        g->height = (int)(lines / msl * msl);
    } else {
        g->kind = (v->gr[GR_MODE] & 0x40) ? K_256 : (v->gr[GR_MODE] & 0x20) ? K_CGA : K_PLANAR;
        g->ppm = g->kind == K_256 ? 4 : 8;
        g->mas = chars + 1;     /* one more for panning */
        g->pan = g->kind == K_256 ? (v->ar[AR_PANNING] >> 1) & 3
                                  : (v->ar[AR_PANNING] < 8 ? v->ar[AR_PANNING] : 0);
        /* When the row-scan counter does not feed the address (no CGA
         * interleave), the msl+1 scanlines of a row are identical:
         * show each once (mode 13h is 320x200, not 320x400). */
        if ((v->crtc[0x17] & 3) == 3) {
            g->collapse *= msl;
            g->rowlines = 1;
            g->height = (int)(lines / msl);
        } else {
            g->rowlines = msl;
            g->height = (int)lines;
        }
    }
    g->width = (int)(chars * g->ppm);
    unsigned lc = line_compare(v);
    g->split = (int)(lc / g->collapse) + 1;
}

static void geometry(const struct vga *v, struct geom *g)
{
    memset(g, 0, sizeof(*g));
    if (vbe_enabled(v))
        geom_vbe(v, g);
    else if (!(v->ar_index & AR_PAS) || (v->seq[SEQ_CLOCKING] & 0x20))
        g->kind = K_BLANK;      /* palette being programmed, or screen off */
    else
        geom_vga(v, g);
    if (g->kind == K_BLANK || g->width < 1 || g->height < 1 || g->width > MAX_W ||
        g->height > MAX_H) {
        bool keep = g->kind == K_BLANK && v->r.width > 0;
        memset(g, 0, sizeof(*g));
        g->kind = K_BLANK;
        g->width = keep ? v->r.width : BLANK_W;
        g->height = keep ? v->r.height : BLANK_H;
    }
}

/* --- colours ----------------------------------------------------------- */

static uint32_t dac_rgb(const struct vga *v, unsigned i)
{
    const uint8_t *c = v->dac[i & 0xFF];
    if (v->vbe[VBE_ENABLE] & VBE_8BIT_DAC)
        return (uint32_t)c[0] << 16 | (uint32_t)c[1] << 8 | c[2];
    uint32_t r = (c[0] & 0x3Fu), g = (c[1] & 0x3Fu), b = (c[2] & 0x3Fu);
    r = (r << 2) | (r >> 4);
    g = (g << 2) | (g >> 4);
    b = (b << 2) | (b >> 4);
    return r << 16 | g << 8 | b;
}

/* colors[0..15]: 4-bit pixel values through the attribute controller;
 * colors[16..271]: 8-bit values straight to the DAC. */
static void compute_colors(const struct vga *v, uint32_t *colors)
{
    for (unsigned i = 0; i < 16; i++) {
        unsigned p = v->ar[i & v->ar[AR_PLANE_ENABLE] & 0x0F];
        if (v->ar[AR_MODE] & 0x80)
            p = (p & 0x0F) | ((v->ar[AR_COLOR_SELECT] & 0x03u) << 4);
        p = (p & 0x3F) | ((v->ar[AR_COLOR_SELECT] & 0x0Cu) << 4);
        colors[i] = dac_rgb(v, p & v->pel_mask);
    }
    for (unsigned i = 0; i < 256; i++)
        colors[16 + i] = dac_rgb(v, i & v->pel_mask);
}

/* --- keys: the bytes a line is drawn from ------------------------------ */

static const uint16_t font_base[8] = { 0x0000, 0x4000, 0x8000, 0xC000,
                                       0x2000, 0x6000, 0xA000, 0xE000 };

/* Character map used when attribute bit 3 is 1 (A) or 0 (B). */
static unsigned charmap_a(const struct vga *v)
{
    uint8_t s = v->seq[SEQ_CHARMAP];
    return ((s >> 3) & 4) | ((s >> 2) & 3);
}

static unsigned charmap_b(const struct vga *v)
{
    uint8_t s = v->seq[SEQ_CHARMAP];
    return ((s >> 2) & 4) | (s & 3);
}

/* Which MA and row-scan an output line shows. */
static void line_source(const struct geom *g, int y, uint32_t *ma, unsigned *rowscan)
{
    uint32_t base = g->start;
    int yy = y;
    if (y >= g->split) {        /* line compare: the bottom part starts at 0 */
        base = 0;
        yy = y - g->split;
    }
    unsigned row = (unsigned)yy / g->rowlines;
    *rowscan = (unsigned)yy % g->rowlines;
    *ma = base + row * g->pitch;
}

static size_t key_text(struct vga *v, const struct geom *g, int y, uint8_t *key, uint64_t t)
{
    uint32_t ma;
    unsigned scan;
    line_source(g, y, &ma, &scan);
    size_t n = 0;
    for (unsigned c = 0; c < g->mas; c++) {
        uint32_t a = crtc_addr(v, ma + c, scan, false);
        key[n++] = vga_plane_byte(v, a, 0);
        key[n++] = vga_plane_byte(v, a, 1);
    }
    /* Cursor: on this line if its address is in the row and the scanline
     * is within start..end, and in the visible half of its blink. */
    uint32_t cur = ((uint32_t)v->crtc[0x0E] << 8) | v->crtc[0x0F];
    unsigned cs = v->crtc[0x0A] & 0x1F, ce = v->crtc[0x0B] & 0x1F;
    bool on = !(v->crtc[0x0A] & 0x20) && cur >= ma && cur < ma + g->mas && scan >= cs &&
              scan <= ce && ((t / CURSOR_HALF_PERIOD_NS) & 1) == 0;
    uint32_t col = on ? cur - ma : 0xFFFF;
    key[n++] = (uint8_t)scan;
    key[n++] = (uint8_t)col;
    key[n++] = (uint8_t)(col >> 8);
    key[n++] = (uint8_t)((t / BLINK_HALF_PERIOD_NS) & 1);
    return n;
}

static size_t key_planes(struct vga *v, const struct geom *g, int y, uint8_t *key)
{
    uint32_t ma;
    unsigned scan;
    line_source(g, y, &ma, &scan);
    bool c4 = g->kind == K_256;
    for (unsigned k = 0; k < g->mas; k++) {
        uint32_t a = crtc_addr(v, ma + k, scan, c4);
        memcpy(key + 4 * k, v->vram + ((size_t)a << 2), 4);
    }
    return 4 * (size_t)g->mas;
}

static size_t key_vbe(struct vga *v, const struct geom *g, int y, uint8_t *key)
{
    /* vbe.c keeps the whole screen inside VRAM; clamp again all the same. */
    uint64_t off = (uint64_t)v->vbe_start + (uint64_t)y * v->vbe_pitch;
    size_t n = g->line_bytes;
    if (off >= v->vram_size)
        memset(key, 0, n);
    else if (off + n > v->vram_size) {
        memcpy(key, v->vram + off, v->vram_size - off);
        memset(key + (v->vram_size - off), 0, n - (v->vram_size - off));
    } else {
        memcpy(key, v->vram + off, n);
    }
    return n;
}

static size_t key_size(const struct geom *g)
{
    switch (g->kind) {
    case K_TEXT:
        return 2 * (size_t)g->mas + 4;
    case K_PLANAR:
    case K_CGA:
    case K_256:
        return 4 * (size_t)g->mas;
    case K_VBE:
        return g->line_bytes;
    default:
        return 1;
    }
}

static size_t make_key(struct vga *v, const struct geom *g, int y, uint8_t *key, uint64_t t)
{
    switch (g->kind) {
    case K_TEXT:
        return key_text(v, g, y, key, t);
    case K_PLANAR:
    case K_CGA:
    case K_256:
        return key_planes(v, g, y, key);
    case K_VBE:
        return key_vbe(v, g, y, key);
    default:
        key[0] = 0;
        return 1;
    }
}

/* --- drawing a line from its key --------------------------------------- */

static void draw_text(struct vga *v, const struct geom *g, const uint8_t *key, uint32_t *out,
                      const uint32_t *colors)
{
    size_t n = 2 * (size_t)g->mas;
    unsigned scan = key[n];
    unsigned col = key[n + 1] | (unsigned)key[n + 2] << 8;
    bool blink_off = key[n + 3];
    bool blink_en = v->ar[AR_MODE] & 0x08;
    bool line_gfx = v->ar[AR_MODE] & 0x04;
    unsigned ul = v->crtc[0x14] & 0x1F;
    unsigned fa = font_base[charmap_a(v)], fb = font_base[charmap_b(v)];
    for (unsigned c = 0; c < g->mas; c++) {
        uint8_t ch = key[2 * c], at = key[2 * c + 1];
        unsigned fg = at & 0x0F;
        unsigned bg = (at >> 4) & (blink_en ? 7 : 15);
        if (blink_en && (at & 0x80) && blink_off)
            fg = bg;
        uint32_t base = (at & 0x08) ? fa : fb;
        uint8_t bits = vga_plane_byte(v, base + ch * 32u + scan, 2);
        if (scan == ul && (at & 0x77) == 0x01)
            bits = 0xFF;        /* underline attribute */
        if (c == col)
            bits = 0xFF;        /* cursor */
        uint32_t f = colors[fg], b = colors[bg];
        uint32_t *o = out + c * g->cw;
        for (unsigned x = 0; x < 8; x++)
            o[x] = (bits & (0x80 >> x)) ? f : b;
        if (g->cw == 9)         /* 9th column repeats the 8th for line-drawing chars */
            o[8] = (line_gfx && ch >= 0xC0 && ch <= 0xDF && (bits & 1)) || c == col ? f : b;
    }
}

static void draw_planes(const struct geom *g, const uint8_t *key, uint32_t *out,
                        const uint32_t *colors)
{
    for (unsigned k = 0; k < g->mas; k++) {
        const uint8_t *p = key + 4 * k;
        uint32_t *o = out + 8 * k;
        if (g->kind == K_CGA) {
            /* Interleaved shift: 2-bit pixels, plane 0 then plane 1. */
            for (unsigned x = 0; x < 4; x++) {
                o[x] = colors[(p[0] >> (6 - 2 * x)) & 3];
                o[4 + x] = colors[(p[1] >> (6 - 2 * x)) & 3];
            }
            continue;
        }
        for (unsigned x = 0; x < 8; x++) {
            unsigned b = 7 - x;
            unsigned i = ((p[0] >> b) & 1) | ((p[1] >> b) & 1) << 1 | ((p[2] >> b) & 1) << 2 |
                         ((p[3] >> b) & 1) << 3;
            o[x] = colors[i];
        }
    }
}

static void draw_256(const struct geom *g, const uint8_t *key, uint32_t *out,
                     const uint32_t *colors)
{
    for (unsigned i = 0; i < 4 * g->mas; i++)
        out[i] = colors[16 + key[i]];
}

static void draw_vbe(const struct geom *g, const uint8_t *key, uint32_t *out,
                     const uint32_t *colors)
{
    int w = g->width;
    switch (g->bpp) {
    case 4:
        for (int x = 0; x < w; x++) {
            const uint8_t *p = key + (x / 8) * 4;
            unsigned b = 7 - (x & 7);
            unsigned i = ((p[0] >> b) & 1) | ((p[1] >> b) & 1) << 1 |
                         ((p[2] >> b) & 1) << 2 | ((p[3] >> b) & 1) << 3;
            out[x] = colors[i];
        }
        break;
    case 8:
        for (int x = 0; x < w; x++)
            out[x] = colors[16 + key[x]];
        break;
    case 15:
    case 16:
        for (int x = 0; x < w; x++) {
            unsigned p = key[2 * x] | (unsigned)key[2 * x + 1] << 8;
            unsigned r, gg, b;
            if (g->bpp == 15) {
                r = (p >> 10) & 31;
                gg = ((p >> 5) & 31) << 1;
                gg |= gg >> 5;
            } else {
                r = (p >> 11) & 31;
                gg = (p >> 5) & 63;
            }
            b = p & 31;
            out[x] = ((r << 3) | (r >> 2)) << 16 | ((gg << 2) | (gg >> 4)) << 8 |
                     ((b << 3) | (b >> 2));
        }
        break;
    case 24:
        for (int x = 0; x < w; x++)
            out[x] = (uint32_t)key[3 * x + 2] << 16 | (uint32_t)key[3 * x + 1] << 8 | key[3 * x];
        break;
    default:
        for (int x = 0; x < w; x++)
            out[x] = (uint32_t)key[4 * x + 2] << 16 | (uint32_t)key[4 * x + 1] << 8 | key[4 * x];
        break;
    }
}

/* Draws into r.line; returns where the visible pixels start. */
static const uint32_t *draw_line(struct vga *v, const struct geom *g, const uint8_t *key,
                                 const uint32_t *colors)
{
    uint32_t *line = v->r.line;
    switch (g->kind) {
    case K_TEXT:
        draw_text(v, g, key, line, colors);
        return line;
    case K_PLANAR:
    case K_CGA:
        draw_planes(g, key, line, colors);
        return line + g->pan;
    case K_256:
        draw_256(g, key, line, colors);
        return line + g->pan;
    case K_VBE:
        draw_vbe(g, key, line, colors);
        return line;
    default:
        memset(line, 0, (size_t)g->width * sizeof(*line));
        return line;
    }
}

/* --- dirty pages -------------------------------------------------------- */

void vga_mark_dirty_range(struct vga *v, size_t off, size_t len)
{
    if (off >= v->vram_size || len == 0)
        return;
    if (len > v->vram_size - off)
        len = v->vram_size - off;
    size_t last = (off + len - 1) >> VGA_PAGE_SHIFT;
    for (size_t p = off >> VGA_PAGE_SHIFT; p <= last; p++)
        v->dirty[p / 64] |= 1ull << (p % 64);
}

static bool page_range_dirty(const struct vga *v, size_t off, size_t len)
{
    if (len == 0)
        return false;
    if (off >= v->vram_size)
        return true;            /* not VRAM: be safe */
    if (len > v->vram_size - off)
        len = v->vram_size - off;
    size_t last = (off + len - 1) >> VGA_PAGE_SHIFT;
    for (size_t p = off >> VGA_PAGE_SHIFT; p <= last; p++)
        if (v->dirty[p / 64] & (1ull << (p % 64)))
            return true;
    return false;
}

/* ORs the log of the slot at gpa (which must show VRAM) into v->dirty.
 * Returns false if the log could not be had. */
static bool fetch_slot_log(struct vga *v, uint64_t gpa)
{
    const struct mem_slot *s = mem_lookup(v->mem, gpa);
    if (!s || s->gpa != gpa || !s->dirty_log || s->host < v->vram ||
        s->size > v->vram_size || (size_t)(s->host - v->vram) > v->vram_size - s->size ||
        ((size_t)(s->host - v->vram) & 4095))
        return false;
    size_t pages = s->size >> VGA_PAGE_SHIFT;
    size_t words = (pages + 63) / 64;
    memset(v->dirty_tmp, 0, words * sizeof(uint64_t));
    if (v->dirty_fn(v->dirty_opaque, s->id, v->dirty_tmp) < 0)
        return false;
    size_t first = (size_t)(s->host - v->vram) >> VGA_PAGE_SHIFT;
    for (size_t i = 0; i < pages; i++)
        if (v->dirty_tmp[i / 64] & (1ull << (i % 64)))
            v->dirty[(first + i) / 64] |= 1ull << ((first + i) % 64);
    return true;
}

/* Reads the logs of every slot that maps VRAM.  True when v->dirty now
 * holds every VRAM page written since the previous frame. */
static bool collect_dirty(struct vga *v)
{
    if (!v->dirty_fn || !v->mem)
        return false;
    bool ok = v->dirty_primed && v->dirty_gen == v->mem->generation;
    uint64_t lfb = v->pci_on ? pci_bar_address(&v->pci, 0) : 0;
    if (lfb && !fetch_slot_log(v, lfb))
        ok = false;
    if (v->win_mapped && !fetch_slot_log(v, v->win_gpa))
        ok = false;
    v->dirty_gen = v->mem->generation;
    v->dirty_primed = true;
    return ok;
}

/* May line y be left alone (the dirty log says its bytes did not change)? */
static bool line_clean(const struct vga *v, const struct geom *g, int y, bool planes_dirty)
{
    switch (g->kind) {
    case K_VBE:
        return !page_range_dirty(v, (size_t)v->vbe_start + (size_t)y * v->vbe_pitch,
                                 g->line_bytes);
    case K_PLANAR:
    case K_CGA:
    case K_256:
        return !planes_dirty;
    default:
        return false;           /* text: cursor and blink change with time */
    }
}

/* --- frame ------------------------------------------------------------- */

static int grow(void *pp, size_t *cap, size_t want)
{
    void **p = pp;
    if (want <= *cap)
        return 0;
    void *n = realloc(*p, want);
    if (!n)
        return -1;
    *p = n;
    *cap = want;
    return 0;
}

static int resize(struct vga *v, const struct geom *g, size_t stride)
{
    struct vga_render_state *r = &v->r;
    size_t w = (size_t)g->width, h = (size_t)g->height;
    if (grow(&r->fb, &r->fb_cap, w * h * sizeof(uint32_t)) < 0 ||
        grow(&r->x0, &r->x0_cap, h * sizeof(int)) < 0 ||
        grow(&r->x1, &r->x1_cap, h * sizeof(int)) < 0 ||
        grow(&r->shadow_valid, &r->valid_cap, h * sizeof(bool)) < 0 ||
        grow(&r->shadow, &r->shadow_cap, h * stride) < 0 ||
        grow(&r->key, &r->key_cap, stride) < 0 ||
        grow(&r->line, &r->line_cap, (w + 2 * PAN_SLACK + 16) * sizeof(uint32_t)) < 0)
        return -1;
    if (w != (size_t)r->width || h != (size_t)r->height)
        memset(r->fb, 0, w * h * sizeof(uint32_t));
    r->width = g->width;
    r->height = g->height;
    r->shadow_stride = stride;
    return 0;
}

/* The register state that changes every line at once. */
static void layout_key(const struct vga *v, const struct geom *g, uint8_t *k)
{
    uint32_t geo[] = { g->kind, (uint32_t)g->width, (uint32_t)g->height, g->pitch, g->mas,
                       g->ppm, g->rowlines, g->collapse, (uint32_t)g->split, g->pan, g->cw,
                       g->ch, g->bpp, v->vbe_pitch };
    memset(k, 0, 128);
    memcpy(k, geo, sizeof(geo));        /* 56 bytes */
    memcpy(k + 60, v->crtc, 0x19);
    k[60 + 0x0C] = k[60 + 0x0D] = k[60 + 0x0E] = k[60 + 0x0F] = 0;   /* in the line keys */
    k[90] = v->seq[SEQ_CLOCKING];
    k[91] = v->seq[SEQ_CHARMAP];
    k[92] = v->gr[GR_MODE] & 0x60;
    k[93] = v->gr[GR_MISC] & 1;
    k[94] = v->ar[AR_MODE];
    k[95] = v->ar[AR_PANNING];
    k[96] = v->ar_index & AR_PAS;
    k[97] = v->misc;
    k[98] = (uint8_t)v->vbe[VBE_ENABLE];
}

static void font_key(const struct vga *v, uint8_t *f)
{
    unsigned maps[2] = { font_base[charmap_a(v)], font_base[charmap_b(v)] };
    for (unsigned m = 0; m < 2; m++)
        for (unsigned i = 0; i < 256 * 32; i++)
            f[m * 256 * 32 + i] = vga_plane_byte(v, maps[m] + i, 2);
}

void vga_frame_size(struct vga *v, int *width, int *height)
{
    *width = v->r.width;
    *height = v->r.height;
}

void vga_invalidate(struct vga *v)
{
    v->r.invalid = true;
}

static void check_invalid(struct vga *v, const struct geom *g, const uint32_t *colors)
{
    struct vga_render_state *r = &v->r;
    uint8_t layout[128];
    layout_key(v, g, layout);
    if (memcmp(layout, r->layout, sizeof(layout))) {
        memcpy(r->layout, layout, sizeof(layout));
        r->invalid = true;
    }
    if (memcmp(colors, r->colors, sizeof(r->colors))) {
        memcpy(r->colors, colors, sizeof(r->colors));
        r->invalid = true;
    }
    if (g->kind == K_TEXT) {
        font_key(v, r->font_now);
        if (memcmp(r->font_now, r->font, sizeof(r->font))) {
            memcpy(r->font, r->font_now, sizeof(r->font));
            r->invalid = true;
        }
    }
}

/* Re-renders line y if what it is drawn from changed, and widens the
 * line's pending changed span by the pixels that really differ. */
static void update_line(struct vga *v, const struct geom *g, int y, const uint32_t *colors,
                        uint64_t t)
{
    struct vga_render_state *r = &v->r;
    uint8_t *sh = r->shadow + (size_t)y * r->shadow_stride;
    size_t n = make_key(v, g, y, r->key, t);
    if (r->shadow_valid[y] && !memcmp(sh, r->key, n))
        return;
    memcpy(sh, r->key, n);
    r->shadow_valid[y] = true;
    const uint32_t *px = draw_line(v, g, r->key, colors);
    uint32_t *dst = r->fb + (size_t)y * (size_t)g->width;
    int w = g->width, x0 = 0, x1 = w;
    while (x0 < w && dst[x0] == px[x0])
        x0++;
    if (x0 == w)
        return;
    while (x1 > x0 && dst[x1 - 1] == px[x1 - 1])
        x1--;
    memcpy(dst + x0, px + x0, (size_t)(x1 - x0) * sizeof(uint32_t));
    if (x0 < r->x0[y])
        r->x0[y] = x0;
    if (x1 > r->x1[y])
        r->x1[y] = x1;
}

/* Changes are reported to the caller that passes upd; renders without
 * upd (a screendump) keep them pending, so a VNC client misses nothing. */
const uint32_t *vga_render(struct vga *v, struct vga_update *upd)
{
    struct vga_render_state *r = &v->r;
    struct geom g;
    uint32_t colors[256 + 16];
    geometry(v, &g);
    compute_colors(v, colors);
    bool resized = g.width != r->width || g.height != r->height;
    size_t stride = key_size(&g);
    if (resize(v, &g, stride) < 0) {
        /* Out of memory: keep showing the previous frame. */
        if (upd)
            *upd = (struct vga_update){ r->width, r->height, false, 0, 0, r->x0, r->x1 };
        return r->fb;
    }
    check_invalid(v, &g, colors);
    if (r->invalid || resized) {
        memset(r->shadow_valid, 0, (size_t)g.height * sizeof(bool));
        r->invalid = false;
    }
    if (resized)
        r->pending_resize = true;
    for (int y = 0; y < g.height; y++) {
        if (r->pending_resize) {
            r->x0[y] = 0;
            r->x1[y] = g.width;
        } else if (!r->pending) {
            r->x0[y] = g.width;
            r->x1[y] = 0;
        }
    }
    uint64_t t = now_ns(v);
    bool trust = collect_dirty(v);
    /* CRTC modes read planes at offsets < 64K: VRAM's first 256 KiB. */
    bool planes_dirty = page_range_dirty(v, 0, (size_t)(VGA_PLANE_MASK + 1) << 2);
    for (int y = 0; y < g.height; y++) {
        if (trust && r->shadow_valid[y] && line_clean(v, &g, y, planes_dirty))
            continue;
        update_line(v, &g, y, colors, t);
    }
    memset(v->dirty, 0, sizeof(v->dirty));
    r->pending = true;
    if (!upd)
        return r->fb;
    int y0 = g.height, y1 = 0;
    for (int y = 0; y < g.height; y++) {
        if (r->x0[y] < r->x1[y]) {
            if (y < y0)
                y0 = y;
            y1 = y + 1;
        }
    }
    *upd = (struct vga_update){ g.width, g.height, r->pending_resize, y0, y1, r->x0, r->x1 };
    r->pending = false;
    r->pending_resize = false;
    return r->fb;
}

void vga_render_free(struct vga *v)
{
    struct vga_render_state *r = &v->r;
    free(r->fb);
    free(r->x0);
    free(r->x1);
    free(r->shadow);
    free(r->shadow_valid);
    free(r->key);
    free(r->line);
    memset(r, 0, sizeof(*r));
}

/* --- text dump --------------------------------------------------------- */

static char cp437_plain(uint8_t c)
{
    if (c >= 0x20 && c < 0x7F)
        return (char)c;
    switch (c) {
    case 0x00:
    case 0xFF:
        return ' ';
    case 0xB3:
    case 0xBA:
        return '|';
    case 0xC4:
        return '-';
    case 0xCD:
        return '=';
    case 0xB4: case 0xB9: case 0xBB: case 0xBC: case 0xBF: case 0xC0: case 0xC1: case 0xC2:
    case 0xC3: case 0xC5: case 0xC8: case 0xC9: case 0xCA: case 0xCB: case 0xCC: case 0xCE:
    case 0xD9: case 0xDA:
        return '+';
    default:
        return '?';
    }
}

static void put(char *buf, size_t len, size_t *pos, char c)
{
    if (*pos + 1 < len)
        buf[*pos] = c;
    (*pos)++;
}

ssize_t vga_text_dump(struct vga *v, char *buf, size_t len)
{
    struct geom g;
    if (len)
        buf[0] = '\0';
    memset(&g, 0, sizeof(g));
    if (vbe_enabled(v) || (v->gr[GR_MISC] & 1))
        return -1;
    geom_vga(v, &g);
    if (g.kind != K_TEXT || g.height < 1)
        return -1;
    unsigned rows = (unsigned)g.height / g.ch;
    size_t pos = 0;
    char line[256];
    for (unsigned row = 0; row < rows; row++) {
        uint32_t ma;
        unsigned scan;
        line_source(&g, (int)(row * g.ch), &ma, &scan);
        unsigned n = 0;
        for (unsigned c = 0; c < g.mas && c < sizeof(line); c++)
            line[n++] = cp437_plain(vga_plane_byte(v, crtc_addr(v, ma + c, 0, false), 0));
        while (n > 0 && line[n - 1] == ' ')
            n--;
        if (row)
            put(buf, len, &pos, '\n');
        for (unsigned c = 0; c < n; c++)
            put(buf, len, &pos, line[c]);
    }
    if (len)
        buf[pos < len ? pos : len - 1] = '\0';
    return (ssize_t)pos;
}

void vga_describe_mode(struct vga *v, char *buf, size_t len)
{
    struct geom g;
    geometry(v, &g);
    static const char *const names[] = { "blank", "text", "planar 16-colour", "CGA 4-colour",
                                         "256-colour", "VBE" };
    if (g.kind == K_VBE)
        snprintf(buf, len, "VBE %dx%dx%u", g.width, g.height, g.bpp);
    else if (g.kind == K_TEXT)
        snprintf(buf, len, "text %ux%u (%dx%d pixels)", g.mas, (unsigned)g.height / g.ch,
                 g.width, g.height);
    else
        snprintf(buf, len, "%s %dx%d", names[g.kind], g.width, g.height);
}
