/* VGA rendering: registers programmed through the ports as the VGA BIOS
 * would, memory written through the window (or the LFB), expected pixels
 * computed from the DAC values and font bits by hand. */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../vmm/devices/vga/vga.h"

struct fx {
    struct logger log;
    struct iobus pio, mmio;
    struct vclock clock;
    struct vga *v;
};

static void fx_init(struct fx *f)
{
    char err[128];
    memset(f, 0, sizeof(*f));
    f->log.level = LOG_ERROR;
    f->log.fd = STDERR_FILENO;
    iobus_init(&f->pio, "pio", &f->log);
    iobus_init(&f->mmio, "mmio", &f->log);
    vclock_init(&f->clock);
    vclock_set_manual(&f->clock, 0);
    f->v = vga_create(NULL, &f->pio, &f->mmio, NULL, &f->log, err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(f->v);
    vga_set_clock(f->v, &f->clock);
}

static void outb(struct fx *f, unsigned port, uint8_t v) { iobus_write(&f->pio, port, 1, v); }
static void seq(struct fx *f, unsigned i, uint8_t v) { outb(f, 0x3C4, i); outb(f, 0x3C5, v); }
static void gr(struct fx *f, unsigned i, uint8_t v) { outb(f, 0x3CE, i); outb(f, 0x3CF, v); }
static void crtc(struct fx *f, unsigned i, uint8_t v) { outb(f, 0x3D4, i); outb(f, 0x3D5, v); }
static void wb(struct fx *f, uint32_t a, uint8_t v) { iobus_write(&f->mmio, a, 1, v); }

static void ar(struct fx *f, unsigned i, uint8_t v)
{
    (void)iobus_read(&f->pio, 0x3DA, 1);
    outb(f, 0x3C0, (uint8_t)i);
    outb(f, 0x3C0, v);
}

static void dac(struct fx *f, unsigned i, uint8_t r, uint8_t g, uint8_t b)
{
    outb(f, 0x3C8, (uint8_t)i);
    outb(f, 0x3C9, r);
    outb(f, 0x3C9, g);
    outb(f, 0x3C9, b);
}

static uint32_t rgb6(uint8_t r, uint8_t g, uint8_t b)
{
    /* 6-bit DAC -> 8 bits: replicate the top bits into the bottom. */
    uint32_t R = (uint32_t)(r << 2 | r >> 4), G = (uint32_t)(g << 2 | g >> 4),
             B = (uint32_t)(b << 2 | b >> 4);
    return R << 16 | G << 8 | B;
}

/* Attribute palette identity, PAS set, and distinct DAC colours 0-15. */
static void palette(struct fx *f, uint8_t mode_ctl)
{
    for (unsigned i = 0; i < 16; i++)
        ar(f, i, (uint8_t)i);
    ar(f, 0x10, mode_ctl);
    ar(f, 0x12, 0x0F);
    ar(f, 0x13, 0x00);
    ar(f, 0x14, 0x00);
    (void)iobus_read(&f->pio, 0x3DA, 1);
    outb(f, 0x3C0, 0x20);                   /* PAS: display on */
    for (unsigned i = 0; i < 16; i++)
        dac(f, i, (uint8_t)(i * 4), (uint8_t)(63 - i * 4), (uint8_t)(i * 2 + 1));
}

static uint32_t color16(unsigned i)
{
    return rgb6((uint8_t)(i * 4), (uint8_t)(63 - i * 4), (uint8_t)(i * 2 + 1));
}

/* 80x25 text, 9x16 cells, as mode 3 (register values from the VGA docs). */
static void text_mode(struct fx *f)
{
    outb(f, 0x3C2, 0x67);
    seq(f, 1, 0x00);
    seq(f, 2, 0x03);
    seq(f, 3, 0x00);
    seq(f, 4, 0x02);
    gr(f, 5, 0x10);
    gr(f, 6, 0x0E);
    gr(f, 8, 0xFF);
    crtc(f, 0x11, 0x00);
    crtc(f, 0x01, 0x4F);
    crtc(f, 0x07, 0x1F);
    crtc(f, 0x09, 0x4F);
    crtc(f, 0x0A, 0x0D);
    crtc(f, 0x0B, 0x0E);
    crtc(f, 0x0C, 0);
    crtc(f, 0x0D, 0);
    crtc(f, 0x0E, 0);
    crtc(f, 0x0F, 0x50);                    /* cursor at row 1, col 0 */
    crtc(f, 0x12, 0x8F);
    crtc(f, 0x13, 0x28);
    crtc(f, 0x14, 0x1F);
    crtc(f, 0x17, 0xA3);
    crtc(f, 0x18, 0xFF);
    palette(f, 0x0C);
}

/* Loads glyph rows into plane 2, the way the BIOS does (sequential
 * addressing, map mask plane 2), then restores text addressing. */
static void load_glyph(struct fx *f, uint8_t ch, const uint8_t rows[16])
{
    seq(f, 2, 0x04);
    seq(f, 4, 0x06);
    gr(f, 5, 0x00);
    gr(f, 6, 0x04);
    for (unsigned i = 0; i < 16; i++)
        wb(f, 0xA0000 + ch * 32u + i, rows[i]);
    seq(f, 2, 0x03);
    seq(f, 4, 0x02);
    gr(f, 5, 0x10);
    gr(f, 6, 0x0E);
}

static void put_char(struct fx *f, unsigned row, unsigned col, uint8_t ch, uint8_t attr)
{
    uint32_t a = 0xB8000 + (row * 80 + col) * 2;
    wb(f, a, ch);
    wb(f, a + 1, attr);
}

static const uint8_t glyph_a[16] = { 0x00, 0x00, 0x10, 0x38, 0x6C, 0xC6, 0xC6, 0xFE,
                                     0xC6, 0xC6, 0xC6, 0xC6, 0x00, 0x00, 0x00, 0x00 };

static uint32_t px(const uint32_t *fb, int w, int x, int y) { return fb[(size_t)y * w + x]; }

static void test_text_glyph_and_attributes(void)
{
    struct fx f;
    struct vga_update u;
    fx_init(&f);
    text_mode(&f);
    load_glyph(&f, 'A', glyph_a);
    put_char(&f, 0, 0, 'A', 0x1E);          /* yellow(14) on blue(1) */
    put_char(&f, 2, 5, 'A', 0x4F);
    const uint32_t *fb = vga_render(f.v, &u);
    CU_ASSERT_EQUAL_FATAL(u.width, 720);
    CU_ASSERT_EQUAL_FATAL(u.height, 400);
    CU_ASSERT(u.resized);
    for (int y = 0; y < 16; y++)
        for (int x = 0; x < 8; x++) {
            bool on = glyph_a[y] & (0x80 >> x);
            CU_ASSERT_EQUAL(px(fb, 720, x, y), on ? color16(14) : color16(1));
        }
    CU_ASSERT_EQUAL(px(fb, 720, 8, 7), color16(1));        /* 9th column: background */
    /* Row 2, column 5: 'A' white(15) on red(4); row 7 of the glyph is 0xFE. */
    CU_ASSERT_EQUAL(px(fb, 720, 5 * 9 + 0, 2 * 16 + 7), color16(15));
    CU_ASSERT_EQUAL(px(fb, 720, 5 * 9 + 7, 2 * 16 + 7), color16(4));
    /* An empty cell (char 0, attr 0) is colour 0. */
    CU_ASSERT_EQUAL(px(fb, 720, 700, 300), color16(0));
    vga_destroy(f.v);
}

static void test_text_cursor_and_blink(void)
{
    struct fx f;
    struct vga_update u;
    fx_init(&f);
    text_mode(&f);
    load_glyph(&f, 'A', glyph_a);
    put_char(&f, 1, 0, ' ', 0x07);          /* cursor cell: grey on black */
    put_char(&f, 3, 0, 'A', 0x9E);          /* blinking yellow on blue */
    const uint32_t *fb = vga_render(f.v, &u);
    /* Cursor at row 1 col 0, scanlines 13-14 in the foreground colour. */
    CU_ASSERT_EQUAL(px(fb, 720, 3, 16 + 13), color16(7));
    CU_ASSERT_EQUAL(px(fb, 720, 3, 16 + 14), color16(7));
    CU_ASSERT_EQUAL(px(fb, 720, 3, 16 + 12), color16(0));
    CU_ASSERT_EQUAL(px(fb, 720, 3, 16 + 15), color16(0));
    CU_ASSERT_EQUAL(px(fb, 720, 3, 3 * 16 + 7), color16(14));     /* blink: visible */
    /* 300 ms later the cursor is in its off half; 600 ms, the char too. */
    vclock_advance(&f.clock, 300000000);
    fb = vga_render(f.v, &u);
    CU_ASSERT_EQUAL(px(fb, 720, 3, 16 + 13), color16(0));
    CU_ASSERT(u.y0 <= 16 + 13 && u.y1 >= 16 + 15);
    vclock_advance(&f.clock, 300000000);
    fb = vga_render(f.v, &u);
    CU_ASSERT_EQUAL(px(fb, 720, 3, 3 * 16 + 7), color16(1));
    /* Blink disabled: bit 7 is background intensity (1 | 8 = 9). */
    ar(&f, 0x10, 0x04);
    (void)iobus_read(&f.pio, 0x3DA, 1);
    outb(&f, 0x3C0, 0x20);
    fb = vga_render(f.v, &u);
    CU_ASSERT_EQUAL(px(fb, 720, 3, 3 * 16 + 7), color16(14));
    CU_ASSERT_EQUAL(px(fb, 720, 7, 3 * 16 + 7), color16(9));
    /* Cursor disabled (CR0A bit 5): never drawn. */
    crtc(&f, 0x0A, 0x2D);
    vclock_advance(&f.clock, 266666666ull * 4 - 600000000);
    fb = vga_render(f.v, &u);
    CU_ASSERT_EQUAL(px(fb, 720, 3, 16 + 13), color16(0));
    vga_destroy(f.v);
}

static void test_text_dirty_tracking(void)
{
    struct fx f;
    struct vga_update u;
    fx_init(&f);
    text_mode(&f);
    crtc(&f, 0x0A, 0x20);                   /* no cursor: nothing blinks */
    load_glyph(&f, 'A', glyph_a);
    vga_render(f.v, &u);
    vga_render(f.v, &u);
    CU_ASSERT(u.y0 >= u.y1);                /* nothing changed */
    CU_ASSERT(!u.resized);
    put_char(&f, 10, 20, 'A', 0x0F);
    vga_render(f.v, &u);
    /* Exactly the glyph's lit rows 2-11 of text row 10, in column 20. */
    CU_ASSERT_EQUAL(u.y0, 160 + 2);
    CU_ASSERT_EQUAL(u.y1, 160 + 12);
    for (int y = 0; y < 400; y++) {
        if (y < 162 || y >= 172) {
            CU_ASSERT(u.x0[y] >= u.x1[y]);
        } else {
            CU_ASSERT(u.x0[y] >= 180 && u.x1[y] <= 189 && u.x0[y] < u.x1[y]);
        }
    }
    CU_ASSERT_EQUAL(u.x0[162], 180 + 3);    /* 0x10: only pixel 3 */
    CU_ASSERT_EQUAL(u.x1[162], 180 + 4);
    /* A screendump-style render without an update record keeps changes
     * pending for the next one. */
    put_char(&f, 0, 0, 'A', 0x0F);
    vga_render(f.v, NULL);
    vga_render(f.v, &u);
    CU_ASSERT_EQUAL(u.y0, 2);
    /* A palette change redraws everything that uses it. */
    dac(&f, 0, 10, 10, 10);
    vga_render(f.v, &u);
    CU_ASSERT_EQUAL(u.y0, 0);
    CU_ASSERT_EQUAL(u.y1, 400);
    vga_destroy(f.v);
}

static void test_text_dump_follows_start(void)
{
    struct fx f;
    char buf[4096];
    fx_init(&f);
    text_mode(&f);
    const char *l0 = "HELLO", *l1 = "WORLD  x";
    for (unsigned i = 0; l0[i]; i++)
        put_char(&f, 0, i, (uint8_t)l0[i], 7);
    for (unsigned i = 0; l1[i]; i++)
        put_char(&f, 1, i, (uint8_t)l1[i], 7);
    put_char(&f, 2, 3, 0xC4, 7);            /* a CP437 line: '-' */
    ssize_t n = vga_text_dump(f.v, buf, sizeof(buf));
    CU_ASSERT(n > 0);
    CU_ASSERT_EQUAL(strncmp(buf, "HELLO\nWORLD  x\n   -\n\n", 21), 0);
    /* 25 rows: 24 newlines. */
    unsigned nl = 0;
    for (char *p = buf; *p; p++)
        nl += *p == '\n';
    CU_ASSERT_EQUAL(nl, 24);
    crtc(&f, 0x0C, 0);
    crtc(&f, 0x0D, 80);                     /* start at row 1 */
    vga_text_dump(f.v, buf, sizeof(buf));
    CU_ASSERT_EQUAL(strncmp(buf, "WORLD  x\n   -\n", 14), 0);
    /* A tiny buffer still NUL-terminates and reports the full length. */
    char small[4];
    ssize_t full = vga_text_dump(f.v, small, sizeof(small));
    CU_ASSERT_EQUAL(strcmp(small, "WOR"), 0);
    CU_ASSERT(full > 4);
    /* Not a text mode. */
    gr(&f, 6, 0x05);
    CU_ASSERT_EQUAL(vga_text_dump(f.v, buf, sizeof(buf)), -1);
    vga_destroy(f.v);
}

/* Mode 13h: 320x200, chain-4, 256 colours, double-scanned. */
static void mode13(struct fx *f)
{
    outb(f, 0x3C2, 0x63);
    seq(f, 1, 0x01);
    seq(f, 2, 0x0F);
    seq(f, 4, 0x0E);
    gr(f, 5, 0x40);
    gr(f, 6, 0x05);
    gr(f, 8, 0xFF);
    crtc(f, 0x11, 0x00);
    crtc(f, 0x01, 0x4F);
    crtc(f, 0x07, 0x1F);
    crtc(f, 0x09, 0x41);
    crtc(f, 0x0C, 0);
    crtc(f, 0x0D, 0);
    crtc(f, 0x12, 0x8F);
    crtc(f, 0x13, 0x28);
    crtc(f, 0x14, 0x40);
    crtc(f, 0x17, 0xA3);
    crtc(f, 0x18, 0xFF);
    palette(f, 0x41);
}

static void test_mode13h(void)
{
    struct fx f;
    struct vga_update u;
    fx_init(&f);
    mode13(&f);
    dac(&f, 0x42, 63, 0, 32);
    vga_render(f.v, &u);
    CU_ASSERT_EQUAL_FATAL(u.width, 320);
    CU_ASSERT_EQUAL_FATAL(u.height, 200);
    wb(&f, 0xA0000 + 10 * 320 + 7, 0x42);
    const uint32_t *fb = vga_render(f.v, &u);
    CU_ASSERT_EQUAL(px(fb, 320, 7, 10), 0xFF0082);
    CU_ASSERT_EQUAL(px(fb, 320, 8, 10), rgb6(0, 63, 1));   /* DAC 0 */
    CU_ASSERT_EQUAL(u.y0, 10);
    CU_ASSERT_EQUAL(u.y1, 11);
    CU_ASSERT_EQUAL(u.x0[10], 7);
    CU_ASSERT_EQUAL(u.x1[10], 8);
    /* PEL mask 0x0F: index 0x42 shows DAC entry 2. */
    outb(&f, 0x3C6, 0x0F);
    fb = vga_render(f.v, &u);
    CU_ASSERT_EQUAL(px(fb, 320, 7, 10), color16(2));
    outb(&f, 0x3C6, 0xFF);
    /* Start address moves the picture: start = 80 MAs = one line. */
    crtc(&f, 0x0D, 80);
    fb = vga_render(f.v, &u);
    CU_ASSERT_EQUAL(px(fb, 320, 7, 9), 0xFF0082);
    /* Line compare splits the screen: from output line 50 (scanline 100)
     * on, the picture starts at address 0 again. */
    crtc(&f, 0x18, 99);
    crtc(&f, 0x07, 0x0F);                   /* line compare bit 8 = 0 */
    crtc(&f, 0x09, 0x01);                   /* bit 9 = 0 */
    fb = vga_render(f.v, &u);
    CU_ASSERT_EQUAL(px(fb, 320, 7, 9), 0xFF0082);
    CU_ASSERT_EQUAL(px(fb, 320, 7, 60), 0xFF0082);
    vga_destroy(f.v);
}

static void test_planar_mode12h(void)
{
    struct fx f;
    struct vga_update u;
    fx_init(&f);
    outb(&f, 0x3C2, 0xE3);
    seq(&f, 1, 0x01);
    seq(&f, 2, 0x0F);
    seq(&f, 4, 0x06);
    gr(&f, 5, 0x02);                        /* write mode 2 */
    gr(&f, 6, 0x05);
    crtc(&f, 0x01, 0x4F);
    crtc(&f, 0x07, 0x3E);
    crtc(&f, 0x09, 0x40);
    crtc(&f, 0x12, 0xDF);
    crtc(&f, 0x13, 0x28);
    crtc(&f, 0x14, 0x00);
    crtc(&f, 0x17, 0xE3);
    crtc(&f, 0x18, 0xFF);
    palette(&f, 0x01);
    /* Pixel (3, 100) colour 9: bit mask selects pixel 3 of byte 0. */
    gr(&f, 8, 0x10);
    (void)iobus_read(&f.mmio, 0xA0000 + 100 * 80, 1);
    wb(&f, 0xA0000 + 100 * 80, 9);
    const uint32_t *fb = vga_render(f.v, &u);
    CU_ASSERT_EQUAL_FATAL(u.width, 640);
    CU_ASSERT_EQUAL_FATAL(u.height, 480);
    CU_ASSERT_EQUAL(px(fb, 640, 3, 100), color16(9));
    CU_ASSERT_EQUAL(px(fb, 640, 2, 100), color16(0));
    CU_ASSERT_EQUAL(px(fb, 640, 4, 100), color16(0));
    /* Colour plane enable 0x07 drops bit 3: 9 shows as 1. */
    ar(&f, 0x12, 0x07);
    (void)iobus_read(&f.pio, 0x3DA, 1);
    outb(&f, 0x3C0, 0x20);
    fb = vga_render(f.v, &u);
    CU_ASSERT_EQUAL(px(fb, 640, 3, 100), color16(1));
    /* Horizontal panning by 2 pixels. */
    ar(&f, 0x12, 0x0F);
    ar(&f, 0x13, 0x02);
    (void)iobus_read(&f.pio, 0x3DA, 1);
    outb(&f, 0x3C0, 0x20);
    fb = vga_render(f.v, &u);
    CU_ASSERT_EQUAL(px(fb, 640, 1, 100), color16(9));
    vga_destroy(f.v);
}

static void vbe(struct fx *f, unsigned idx, uint16_t v)
{
    iobus_write(&f->pio, 0x1CE, 2, idx);
    iobus_write(&f->pio, 0x1CF, 2, v);
}

static void test_vbe_lfb_render(void)
{
    struct fx f;
    struct vga_update u;
    size_t size;
    fx_init(&f);
    uint8_t *vram = vga_vram(f.v, &size);
    vbe(&f, 1, 800);
    vbe(&f, 2, 600);
    vbe(&f, 3, 32);
    vbe(&f, 4, 0x41);
    const uint32_t *fb = vga_render(f.v, &u);
    CU_ASSERT_EQUAL_FATAL(u.width, 800);
    CU_ASSERT_EQUAL_FATAL(u.height, 600);
    /* The guest writes the LFB: BGRX bytes of pixel (10, 20). */
    uint8_t *p = vram + (20 * 800 + 10) * 4;
    p[0] = 0x56;
    p[1] = 0x34;
    p[2] = 0x12;
    fb = vga_render(f.v, &u);
    CU_ASSERT_EQUAL(px(fb, 800, 10, 20), 0x123456);
    CU_ASSERT_EQUAL(u.y0, 20);
    CU_ASSERT_EQUAL(u.y1, 21);
    CU_ASSERT_EQUAL(u.x0[20], 10);
    CU_ASSERT_EQUAL(u.x1[20], 11);
    /* Y offset 20: that pixel moves to the top line. */
    vbe(&f, 9, 20);
    fb = vga_render(f.v, &u);
    CU_ASSERT_EQUAL(px(fb, 800, 10, 0), 0x123456);
    /* 16 bpp (RGB565) and 8 bpp through the DAC. */
    vbe(&f, 4, 0);
    vbe(&f, 3, 16);
    vbe(&f, 4, 0x41);
    vram[0] = 0x00;
    vram[1] = 0xF8;                         /* pure red */
    vram[2] = 0x1F;
    vram[3] = 0x00;                         /* pure blue */
    fb = vga_render(f.v, &u);
    CU_ASSERT_EQUAL(px(fb, 800, 0, 0), 0xFF0000);
    CU_ASSERT_EQUAL(px(fb, 800, 1, 0), 0x0000FF);
    vbe(&f, 4, 0);
    vbe(&f, 3, 8);
    vbe(&f, 1, 640);
    vbe(&f, 2, 480);
    vbe(&f, 4, 0x41);
    dac(&f, 7, 63, 63, 0);
    vram[5] = 7;
    fb = vga_render(f.v, &u);
    CU_ASSERT(u.resized);
    CU_ASSERT_EQUAL(u.width, 640);
    CU_ASSERT_EQUAL(px(fb, 640, 5, 0), 0xFFFF00);
    /* 8-bit DAC: components taken as they are. */
    vbe(&f, 4, 0x41 | 0x80 | 0x20);
    dac(&f, 7, 0x12, 0x34, 0x56);
    fb = vga_render(f.v, &u);
    CU_ASSERT_EQUAL(px(fb, 640, 5, 0), 0x123456);
    /* Back to VGA: the text mode comes back. */
    vbe(&f, 4, 0);
    text_mode(&f);
    vga_render(f.v, &u);
    CU_ASSERT_EQUAL(u.width, 720);
    vga_destroy(f.v);
}

/* Random register and memory garbage must never render out of bounds
 * (ASan/UBSan runs make this meaningful). */
static void test_garbage_registers(void)
{
    struct fx f;
    struct vga_update u;
    fx_init(&f);
    uint32_t seed = 12345;
    for (unsigned round = 0; round < 300; round++) {
        seed = seed * 1103515245 + 12345;
        unsigned port = 0x3C0 + ((seed >> 8) % 0x20);
        outb(&f, port, (uint8_t)(seed >> 16));
        outb(&f, 0x3C2, (uint8_t)((seed >> 24) | 1));
        wb(&f, 0xA0000 + ((seed >> 3) & 0x1FFFF), (uint8_t)seed);
        vbe(&f, (seed >> 5) % 12, (uint16_t)(seed >> 13));
        if (round % 10 == 0) {
            vga_render(f.v, &u);
            CU_ASSERT(u.width > 0 && u.height > 0);
        }
    }
    vga_destroy(f.v);
}

void suite_vga_render(void)
{
    CU_pSuite s = CU_add_suite("vga_render", NULL, NULL);
    CU_add_test(s, "text glyph and attributes", test_text_glyph_and_attributes);
    CU_add_test(s, "text cursor and blink", test_text_cursor_and_blink);
    CU_add_test(s, "text dirty tracking", test_text_dirty_tracking);
    CU_add_test(s, "text dump follows start address", test_text_dump_follows_start);
    CU_add_test(s, "mode 13h", test_mode13h);
    CU_add_test(s, "planar mode 12h", test_planar_mode12h);
    CU_add_test(s, "VBE LFB render", test_vbe_lfb_render);
    CU_add_test(s, "garbage registers", test_garbage_registers);
}
