/* VGA registers, planar memory logic and Bochs VBE, driven through the
 * port bus and the 0xA0000 window like a guest. */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../vmm/devices/pci.h"
#include "../../vmm/devices/vga/vga.h"

struct fx {
    struct logger log;
    struct iobus pio, mmio;
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
    f->v = vga_create(NULL, &f->pio, &f->mmio, NULL, &f->log, err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(f->v);
}

static void fx_fini(struct fx *f)
{
    vga_destroy(f->v);
    CU_ASSERT_PTR_NULL(iobus_find(&f->pio, 0x3C0));
    CU_ASSERT_PTR_NULL(iobus_find(&f->pio, 0x1CE));
    CU_ASSERT_PTR_NULL(iobus_find(&f->mmio, 0xA0000));
}

static void outb(struct fx *f, unsigned port, uint8_t v) { iobus_write(&f->pio, port, 1, v); }
static uint8_t inb(struct fx *f, unsigned port) { return (uint8_t)iobus_read(&f->pio, port, 1); }
static void seq(struct fx *f, unsigned i, uint8_t v) { outb(f, 0x3C4, i); outb(f, 0x3C5, v); }
static void gr(struct fx *f, unsigned i, uint8_t v) { outb(f, 0x3CE, i); outb(f, 0x3CF, v); }
static uint8_t gr_get(struct fx *f, unsigned i) { outb(f, 0x3CE, i); return inb(f, 0x3CF); }
static void crtc(struct fx *f, unsigned i, uint8_t v) { outb(f, 0x3D4, i); outb(f, 0x3D5, v); }
static uint8_t crtc_get(struct fx *f, unsigned i) { outb(f, 0x3D4, i); return inb(f, 0x3D5); }
static void wb(struct fx *f, uint32_t a, uint8_t v) { iobus_write(&f->mmio, a, 1, v); }
static uint8_t rb(struct fx *f, uint32_t a) { return (uint8_t)iobus_read(&f->mmio, a, 1); }

static void vbe_set(struct fx *f, unsigned idx, uint16_t v)
{
    iobus_write(&f->pio, 0x1CE, 2, idx);
    iobus_write(&f->pio, 0x1CF, 2, v);
}

static uint16_t vbe_get(struct fx *f, unsigned idx)
{
    iobus_write(&f->pio, 0x1CE, 2, idx);
    return (uint16_t)iobus_read(&f->pio, 0x1CF, 2);
}

/* Planar 16-colour setup (as mode 12h): sequential addressing, A0000 64K. */
static void planar(struct fx *f, unsigned write_mode)
{
    outb(f, 0x3C2, 0xE3);
    seq(f, 2, 0x0F);
    seq(f, 4, 0x06);
    gr(f, 0, 0);
    gr(f, 1, 0);
    gr(f, 3, 0);
    gr(f, 5, (uint8_t)write_mode);
    gr(f, 6, 0x05);
    gr(f, 8, 0xFF);
}

/* Plane p at offset o, through read mode 0 and the read map select. */
static uint8_t plane(struct fx *f, unsigned p, uint32_t off)
{
    uint8_t mode = gr_get(f, 5);
    gr(f, 5, mode & ~0x08);
    gr(f, 4, (uint8_t)p);
    uint8_t v = rb(f, 0xA0000 + off);
    gr(f, 5, mode);
    return v;
}

/* Fill offset o of each plane with vals[p] via the map mask. */
static void fill_planes(struct fx *f, uint32_t off, const uint8_t vals[4])
{
    for (unsigned p = 0; p < 4; p++) {
        seq(f, 2, (uint8_t)(1u << p));
        wb(f, 0xA0000 + off, vals[p]);
    }
    seq(f, 2, 0x0F);
}

static void test_write_mode0(void)
{
    struct fx f;
    fx_init(&f);
    planar(&f, 0);
    wb(&f, 0xA0000, 0xA5);
    for (unsigned p = 0; p < 4; p++)
        CU_ASSERT_EQUAL(plane(&f, p, 0), 0xA5);
    /* Set/reset on every plane: planes 0 and 2 all ones, 1 and 3 zero. */
    gr(&f, 0, 0x05);
    gr(&f, 1, 0x0F);
    wb(&f, 0xA0001, 0x12);
    CU_ASSERT_EQUAL(plane(&f, 0, 1), 0xFF);
    CU_ASSERT_EQUAL(plane(&f, 1, 1), 0x00);
    CU_ASSERT_EQUAL(plane(&f, 2, 1), 0xFF);
    CU_ASSERT_EQUAL(plane(&f, 3, 1), 0x00);
    /* Enable set/reset on plane 0 only: the others take the data. */
    gr(&f, 0, 0x00);
    gr(&f, 1, 0x01);
    wb(&f, 0xA0002, 0x3C);
    CU_ASSERT_EQUAL(plane(&f, 0, 2), 0x00);
    CU_ASSERT_EQUAL(plane(&f, 1, 2), 0x3C);
    CU_ASSERT_EQUAL(plane(&f, 3, 2), 0x3C);
    gr(&f, 1, 0);
    /* Rotate right by 2: 0x01 -> 0x40. */
    gr(&f, 3, 0x02);
    wb(&f, 0xA0003, 0x01);
    CU_ASSERT_EQUAL(plane(&f, 2, 3), 0x40);
    gr(&f, 3, 0);
    /* Map mask: only plane 1 is written. */
    seq(&f, 2, 0x02);
    wb(&f, 0xA0000, 0x77);
    seq(&f, 2, 0x0F);
    CU_ASSERT_EQUAL(plane(&f, 0, 0), 0xA5);
    CU_ASSERT_EQUAL(plane(&f, 1, 0), 0x77);
    fx_fini(&f);
}

static void test_logical_functions_and_bit_mask(void)
{
    struct fx f;
    fx_init(&f);
    planar(&f, 0);
    static const uint8_t f0[4] = { 0xF0, 0xF0, 0xF0, 0xF0 };
    static const struct { uint8_t fn; uint8_t expect; } ops[] = {
        { 0x08, 0xF0 & 0x3C }, { 0x10, 0xF0 | 0x3C }, { 0x18, 0xF0 ^ 0x3C }, { 0x00, 0x3C },
    };
    for (unsigned i = 0; i < 4; i++) {
        fill_planes(&f, 0x10, f0);
        (void)rb(&f, 0xA0010);          /* load the latches */
        gr(&f, 3, ops[i].fn);
        wb(&f, 0xA0010, 0x3C);
        gr(&f, 3, 0);
        for (unsigned p = 0; p < 4; p++)
            CU_ASSERT_EQUAL(plane(&f, p, 0x10), ops[i].expect);
    }
    /* Bit mask: masked-off bits come from the latches. */
    fill_planes(&f, 0x20, f0);
    (void)rb(&f, 0xA0020);
    gr(&f, 8, 0x0F);
    wb(&f, 0xA0020, 0x55);
    gr(&f, 8, 0xFF);
    CU_ASSERT_EQUAL(plane(&f, 0, 0x20), 0xF5);
    CU_ASSERT_EQUAL(plane(&f, 3, 0x20), 0xF5);
    fx_fini(&f);
}

static void test_write_modes_1_2_3(void)
{
    struct fx f;
    fx_init(&f);
    planar(&f, 0);
    static const uint8_t src[4] = { 0x11, 0x22, 0x44, 0x88 };
    fill_planes(&f, 0x100, src);
    /* Mode 1: the latches loaded by a read are written back elsewhere. */
    gr(&f, 5, 1);
    (void)rb(&f, 0xA0100);
    wb(&f, 0xA0200, 0x00);
    for (unsigned p = 0; p < 4; p++)
        CU_ASSERT_EQUAL(plane(&f, p, 0x200), src[p]);
    /* Mode 2: data bits 0-3 become whole planes, through the bit mask. */
    gr(&f, 5, 0);
    static const uint8_t zero[4] = { 0, 0, 0, 0 };
    fill_planes(&f, 0x300, zero);
    gr(&f, 5, 2);
    (void)rb(&f, 0xA0300);
    gr(&f, 8, 0x81);
    wb(&f, 0xA0300, 0x0A);
    gr(&f, 8, 0xFF);
    CU_ASSERT_EQUAL(plane(&f, 0, 0x300), 0x00);
    CU_ASSERT_EQUAL(plane(&f, 1, 0x300), 0x81);
    CU_ASSERT_EQUAL(plane(&f, 2, 0x300), 0x00);
    CU_ASSERT_EQUAL(plane(&f, 3, 0x300), 0x81);
    /* Mode 3: rotated data AND bit mask selects bits; colour = set/reset. */
    gr(&f, 5, 0);
    fill_planes(&f, 0x400, zero);
    gr(&f, 5, 3);
    gr(&f, 0, 0x0C);
    gr(&f, 8, 0xF0);
    (void)rb(&f, 0xA0400);
    wb(&f, 0xA0400, 0x3C);
    CU_ASSERT_EQUAL(plane(&f, 0, 0x400), 0x00);
    CU_ASSERT_EQUAL(plane(&f, 1, 0x400), 0x00);
    CU_ASSERT_EQUAL(plane(&f, 2, 0x400), 0x30);
    CU_ASSERT_EQUAL(plane(&f, 3, 0x400), 0x30);
    /* Mode 3 with rotate: 0xC0 rotated by 4 = 0x0C; mask 0xFF. */
    gr(&f, 8, 0xFF);
    gr(&f, 3, 0x04);
    (void)rb(&f, 0xA0401);              /* latches from a zeroed offset */
    wb(&f, 0xA0401, 0xC0);
    gr(&f, 3, 0);
    CU_ASSERT_EQUAL(plane(&f, 2, 0x401), 0x0C);
    CU_ASSERT_EQUAL(plane(&f, 0, 0x401), 0x00);
    fx_fini(&f);
}

static void test_read_mode1_color_compare(void)
{
    struct fx f;
    fx_init(&f);
    planar(&f, 0);
    static const uint8_t vals[4] = { 0xF0, 0xCC, 0xAA, 0x00 };
    fill_planes(&f, 0x40, vals);
    gr(&f, 5, 0x08);
    gr(&f, 2, 0x03);                    /* colour 3: planes 0,1 set, 2,3 clear */
    gr(&f, 7, 0x0F);
    CU_ASSERT_EQUAL(rb(&f, 0xA0040), 0xF0 & 0xCC & 0x55 & 0xFF);
    gr(&f, 7, 0x01);                    /* only plane 0 counts */
    CU_ASSERT_EQUAL(rb(&f, 0xA0040), 0xF0);
    gr(&f, 7, 0x00);                    /* nothing counts: all match */
    CU_ASSERT_EQUAL(rb(&f, 0xA0040), 0xFF);
    fx_fini(&f);
}

static void test_chain4_odd_even_and_maps(void)
{
    struct fx f;
    size_t size;
    fx_init(&f);
    uint8_t *vram = vga_vram(f.v, &size);
    CU_ASSERT_EQUAL(size, VGA_VRAM_SIZE);
    /* Chain-4 (mode 13h): address A is VRAM[A]. */
    planar(&f, 0);
    seq(&f, 4, 0x0E);
    gr(&f, 5, 0x40);
    wb(&f, 0xA0000 + 1234, 0x77);
    CU_ASSERT_EQUAL(vram[1234], 0x77);
    CU_ASSERT_EQUAL(rb(&f, 0xA0000 + 1234), 0x77);
    seq(&f, 2, 0x0D);                   /* plane 1 masked: address 1 is plane 1 */
    wb(&f, 0xA0001, 0x55);
    CU_ASSERT_EQUAL(vram[1], 0x00);
    seq(&f, 2, 0x0F);
    /* Odd/even (text): chars to plane 0, attributes to plane 1. */
    seq(&f, 4, 0x02);
    seq(&f, 2, 0x03);
    gr(&f, 5, 0x10);
    gr(&f, 6, 0x0E);
    wb(&f, 0xB8000, 'A');
    wb(&f, 0xB8001, 0x1F);
    wb(&f, 0xB8002, 'B');
    CU_ASSERT_EQUAL(vram[0 * 4 + 0], 'A');
    CU_ASSERT_EQUAL(vram[0 * 4 + 1], 0x1F);
    CU_ASSERT_EQUAL(vram[2 * 4 + 0], 'B');
    CU_ASSERT_EQUAL(rb(&f, 0xB8001), 0x1F);
    CU_ASSERT_EQUAL(rb(&f, 0xB8002), 'B');
    /* Map select B8000: the A0000 and B0000 ranges are not decoded. */
    CU_ASSERT_EQUAL(rb(&f, 0xA0000), 0xFF);
    wb(&f, 0xA0000, 0x99);
    wb(&f, 0xB0000, 0x99);
    CU_ASSERT_EQUAL(vram[0], 'A');
    gr(&f, 6, 0x0A);                    /* B0000 32K */
    CU_ASSERT_EQUAL(rb(&f, 0xB0000), 'A');
    CU_ASSERT_EQUAL(rb(&f, 0xB8000), 0xFF);
    fx_fini(&f);
}

static void test_crtc_protect_and_io_select(void)
{
    struct fx f;
    fx_init(&f);
    outb(&f, 0x3C2, 0x01);              /* colour: CRTC at 0x3D4 */
    crtc(&f, 0x01, 0x4F);
    crtc(&f, 0x07, 0x00);
    crtc(&f, 0x11, 0x80);               /* protect CR00-CR07 */
    crtc(&f, 0x01, 0x27);
    CU_ASSERT_EQUAL(crtc_get(&f, 0x01), 0x4F);
    crtc(&f, 0x07, 0xFF);               /* only bit 4 (line compare bit 8) gets through */
    CU_ASSERT_EQUAL(crtc_get(&f, 0x07), 0x10);
    crtc(&f, 0x0C, 0x12);               /* not protected */
    CU_ASSERT_EQUAL(crtc_get(&f, 0x0C), 0x12);
    /* Mono addressing: 0x3D4/0x3D5 stop answering, 0x3B4/0x3B5 start. */
    outb(&f, 0x3C2, 0x00);
    CU_ASSERT_EQUAL(inb(&f, 0x3D5), 0xFF);
    outb(&f, 0x3B4, 0x0C);
    CU_ASSERT_EQUAL(inb(&f, 0x3B5), 0x12);
    CU_ASSERT_EQUAL(inb(&f, 0x3CC), 0x00);
    /* Hostile indexes read as 0 and drop writes. */
    outb(&f, 0x3B4, 0x3F);
    outb(&f, 0x3B5, 0xAA);
    CU_ASSERT_EQUAL(inb(&f, 0x3B5), 0);
    outb(&f, 0x3C4, 0xFF);
    outb(&f, 0x3C5, 0xAA);
    CU_ASSERT_EQUAL(inb(&f, 0x3C5), 0);
    outb(&f, 0x3CE, 0xFF);
    outb(&f, 0x3CF, 0xAA);
    CU_ASSERT_EQUAL(inb(&f, 0x3CF), 0);
    fx_fini(&f);
}

static void test_attribute_flip_flop(void)
{
    struct fx f;
    fx_init(&f);
    outb(&f, 0x3C2, 0x01);
    (void)inb(&f, 0x3DA);               /* reset the flip-flop: next is an index */
    outb(&f, 0x3C0, 0x05);
    outb(&f, 0x3C0, 0xFF);              /* palette 5 = 0x3F (6 bits) */
    outb(&f, 0x3C0, 0x05);
    CU_ASSERT_EQUAL(inb(&f, 0x3C1), 0x3F);
    CU_ASSERT_EQUAL(inb(&f, 0x3C0), 0x05);
    /* Mid-pair reset: the data write becomes an index write. */
    outb(&f, 0x3C0, 0x13);
    (void)inb(&f, 0x3DA);
    outb(&f, 0x3C0, 0x33);              /* index 0x13 with PAS */
    outb(&f, 0x3C0, 0x07);
    CU_ASSERT_EQUAL(inb(&f, 0x3C0), 0x33);
    CU_ASSERT_EQUAL(inb(&f, 0x3C1), 0x07);
    /* Out-of-range index: reads 0, writes dropped. */
    (void)inb(&f, 0x3DA);
    outb(&f, 0x3C0, 0x1F);
    outb(&f, 0x3C0, 0x99);
    CU_ASSERT_EQUAL(inb(&f, 0x3C1), 0x00);
    fx_fini(&f);
}

static void test_dac(void)
{
    struct fx f;
    fx_init(&f);
    outb(&f, 0x3C8, 5);
    CU_ASSERT_EQUAL(inb(&f, 0x3C7) & 3, 0);         /* write mode */
    static const uint8_t in[6] = { 0x01, 0x02, 0xFF, 0x3F, 0x40, 0x20 };
    for (unsigned i = 0; i < 6; i++)
        outb(&f, 0x3C9, in[i]);
    CU_ASSERT_EQUAL(inb(&f, 0x3C8), 7);             /* advanced by two entries */
    outb(&f, 0x3C7, 5);
    CU_ASSERT_EQUAL(inb(&f, 0x3C7) & 3, 3);         /* read mode */
    for (unsigned i = 0; i < 6; i++)
        CU_ASSERT_EQUAL(inb(&f, 0x3C9), in[i] & 0x3F);
    /* Index 255 wraps to 0. */
    outb(&f, 0x3C8, 255);
    for (unsigned i = 0; i < 6; i++)
        outb(&f, 0x3C9, (uint8_t)(10 + i));
    outb(&f, 0x3C7, 0);
    CU_ASSERT_EQUAL(inb(&f, 0x3C9), 13);
    outb(&f, 0x3C6, 0x0F);
    CU_ASSERT_EQUAL(inb(&f, 0x3C6), 0x0F);
    fx_fini(&f);
}

static void test_input_status_toggles(void)
{
    struct fx f;
    fx_init(&f);
    outb(&f, 0x3C2, 0x01);
    /* A guest's "wait for retrace start, then its end" must terminate. */
    unsigned n = 0;
    while (!(inb(&f, 0x3DA) & 0x08) && n < 100)
        n++;
    CU_ASSERT(n < 100);
    n = 0;
    while ((inb(&f, 0x3DA) & 0x08) && n < 100)
        n++;
    CU_ASSERT(n < 100);
    bool de0 = false, de1 = false;
    for (unsigned i = 0; i < 16; i++) {
        uint8_t st = inb(&f, 0x3DA);
        if (st & 1)
            de1 = true;
        else
            de0 = true;
    }
    CU_ASSERT(de0 && de1);
    fx_fini(&f);
}

static void test_vbe_registers(void)
{
    struct fx f;
    fx_init(&f);
    CU_ASSERT_EQUAL(vbe_get(&f, 0), 0xB0C5);
    vbe_set(&f, 0, 0x1234);                         /* not an ID: ignored */
    CU_ASSERT_EQUAL(vbe_get(&f, 0), 0xB0C5);
    vbe_set(&f, 0, 0xB0C2);
    CU_ASSERT_EQUAL(vbe_get(&f, 0), 0xB0C2);
    CU_ASSERT_EQUAL(vbe_get(&f, 10), VGA_VRAM_SIZE >> 16);
    vbe_set(&f, 4, 0x02);                           /* GETCAPS */
    CU_ASSERT_EQUAL(vbe_get(&f, 1), 8192);
    CU_ASSERT_EQUAL(vbe_get(&f, 3), 32);
    vbe_set(&f, 4, 0);
    vbe_set(&f, 1, 640);
    vbe_set(&f, 2, 480);
    vbe_set(&f, 3, 32);
    vbe_set(&f, 4, 0x41);
    CU_ASSERT_EQUAL(vbe_get(&f, 4), 0x41);
    CU_ASSERT_EQUAL(vbe_get(&f, 1), 640);
    CU_ASSERT_EQUAL(vbe_get(&f, 6), 640);
    CU_ASSERT_EQUAL(vbe_get(&f, 7), VGA_VRAM_SIZE / (640 * 4));
    vbe_set(&f, 1, 800);                            /* geometry locked while enabled */
    CU_ASSERT_EQUAL(vbe_get(&f, 1), 640);
    /* The alias data port at 0x1D0. */
    iobus_write(&f.pio, 0x1CE, 2, 1);
    CU_ASSERT_EQUAL(iobus_read(&f.pio, 0x1D0, 2), 640);
    /* Banked window: bank 2 shows VRAM at 128 KiB. */
    size_t size;
    uint8_t *vram = vga_vram(f.v, &size);
    vbe_set(&f, 5, 2);
    wb(&f, 0xA0010, 0x5A);
    CU_ASSERT_EQUAL(vram[0x20010], 0x5A);
    CU_ASSERT_EQUAL(rb(&f, 0xA0010), 0x5A);
    fx_fini(&f);
}

static void test_vbe_bounds(void)
{
    struct fx f;
    size_t size;
    fx_init(&f);
    uint8_t *vram = vga_vram(f.v, &size);
    /* Out-of-range values are refused outright. */
    vbe_set(&f, 1, 9000);
    CU_ASSERT_EQUAL(vbe_get(&f, 1), 0);
    vbe_set(&f, 3, 7);
    CU_ASSERT_EQUAL(vbe_get(&f, 3), 8);
    /* 8192x8192x32 = 256 MiB does not fit 16 MiB: enable refused. */
    vbe_set(&f, 1, 8192);
    vbe_set(&f, 2, 8192);
    vbe_set(&f, 3, 32);
    vbe_set(&f, 4, 0x41);
    CU_ASSERT_EQUAL(vbe_get(&f, 4) & 1, 0);
    /* A mode that fits. */
    vbe_set(&f, 1, 640);
    vbe_set(&f, 2, 480);
    vbe_set(&f, 4, 0x41);
    CU_ASSERT_EQUAL(vbe_get(&f, 4) & 1, 1);
    /* Banks: 256 of 64 KiB exist; 256 and beyond are ignored. */
    vbe_set(&f, 5, 255);
    CU_ASSERT_EQUAL(vbe_get(&f, 5), 255);
    vbe_set(&f, 5, 256);
    CU_ASSERT_EQUAL(vbe_get(&f, 5), 255);
    vbe_set(&f, 5, 0xFFFF);
    CU_ASSERT_EQUAL(vbe_get(&f, 5), 255);
    wb(&f, 0xAFFFF, 0xEE);
    CU_ASSERT_EQUAL(vram[size - 1], 0xEE);
    /* Y offset: the last fitting one is accepted, one more refused. */
    unsigned ymax = (unsigned)(size / 2560) - 480;
    vbe_set(&f, 9, (uint16_t)ymax);
    CU_ASSERT_EQUAL(vbe_get(&f, 9), ymax);
    vbe_set(&f, 9, (uint16_t)(ymax + 1));
    CU_ASSERT_EQUAL(vbe_get(&f, 9), ymax);
    vbe_set(&f, 8, 400);                            /* 1600 more bytes: past the end */
    CU_ASSERT_EQUAL(vbe_get(&f, 8), 0);
    vbe_set(&f, 8, 384);                            /* exactly to the last byte */
    CU_ASSERT_EQUAL(vbe_get(&f, 8), 384);
    vbe_set(&f, 9, 0xFFFF);
    CU_ASSERT_EQUAL(vbe_get(&f, 9), ymax);
    /* Virtual width so wide that 480 lines do not fit. */
    vbe_set(&f, 6, 0xFFFF);
    CU_ASSERT_EQUAL(vbe_get(&f, 6), 640);
    vbe_set(&f, 6, 1024);
    CU_ASSERT_EQUAL(vbe_get(&f, 6), 1024);
    CU_ASSERT_EQUAL(vbe_get(&f, 7), size / 4096);
    CU_ASSERT_EQUAL(vbe_get(&f, 9), 0);             /* offsets reset with the pitch */
    /* Unknown dispi indexes. */
    vbe_set(&f, 0x55, 0x1234);
    CU_ASSERT_EQUAL(vbe_get(&f, 0x55), 0);
    /* Rendering after all that stays inside VRAM (ASan would tell). */
    int w, h;
    vga_render(f.v, NULL);
    vga_frame_size(f.v, &w, &h);
    CU_ASSERT_EQUAL(w, 640);
    CU_ASSERT_EQUAL(h, 480);
    fx_fini(&f);
}

static void test_pci_identity_and_bar2(void)
{
    struct logger log = { LOG_ERROR, STDERR_FILENO };
    struct iobus pio, mmio;
    struct pci_bus bus;
    char err[128];
    iobus_init(&pio, "pio", &log);
    iobus_init(&mmio, "mmio", &log);
    pci_bus_init(&bus, &pio, &mmio, NULL, &log);
    struct vga *v = vga_create(&bus, &pio, &mmio, VGA_DEFAULT_BIOS, &log, err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    struct pci_device *d = vga_pci_device(v);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    int devfn = d->devfn;
    CU_ASSERT_EQUAL(pci_config_read(&bus, devfn, 0, 4), 0x11111234);
    CU_ASSERT_EQUAL(pci_config_read(&bus, devfn, 8, 4) >> 8, 0x030000);
    CU_ASSERT_EQUAL(pci_config_read(&bus, devfn, 8, 1), 0x02);
    /* BAR0 sizing: 16 MiB, prefetchable memory. */
    pci_config_write(&bus, devfn, 0x10, 4, 0xFFFFFFFF);
    CU_ASSERT_EQUAL(pci_config_read(&bus, devfn, 0x10, 4), 0xFF000008);
    /* ROM BAR present (the VGA BIOS is < 64 KiB). */
    pci_config_write(&bus, devfn, 0x30, 4, 0xFFFFF800);
    uint32_t rom = pci_config_read(&bus, devfn, 0x30, 4);
    CU_ASSERT(rom != 0 && (rom & 0xFFFF0000) == 0xFFFF0000);
    /* BAR2 at 0xFEB00000: dispi ID at 0x500, VGA ports at 0x400. */
    pci_config_write(&bus, devfn, 0x18, 4, 0xFEB00000);
    pci_config_write(&bus, devfn, 0x04, 2, PCI_COMMAND_MEMORY);
    CU_ASSERT_EQUAL(pci_bar_address(d, 2), 0xFEB00000);
    CU_ASSERT_EQUAL(iobus_read(&mmio, 0xFEB00500, 2), 0xB0C5);
    CU_ASSERT_EQUAL(iobus_read(&mmio, 0xFEB00600, 4), 8);
    iobus_write(&mmio, 0xFEB00400 + 0x08, 2, 0x0A03);   /* 0x3C8 = 3, 0x3C9 = 0x0A */
    iobus_write(&mmio, 0xFEB00409, 1, 0x0B);
    iobus_write(&mmio, 0xFEB00409, 1, 0x0C);
    iobus_write(&pio, 0x3C7, 1, 3);
    CU_ASSERT_EQUAL(iobus_read(&pio, 0x3C9, 1), 0x0A);
    iobus_write(&mmio, 0xFEB00500 + 2 * 1, 2, 1024);
    iobus_write(&pio, 0x1CE, 2, 1);
    CU_ASSERT_EQUAL(iobus_read(&pio, 0x1CF, 2), 1024);
    vga_destroy(v);
    CU_ASSERT_EQUAL(pci_config_read(&bus, devfn, 0, 4), 0xFFFFFFFF);
}

void suite_vga(void)
{
    CU_pSuite s = CU_add_suite("vga", NULL, NULL);
    CU_add_test(s, "write mode 0, set/reset, rotate, map mask", test_write_mode0);
    CU_add_test(s, "logical functions and bit mask", test_logical_functions_and_bit_mask);
    CU_add_test(s, "write modes 1, 2, 3", test_write_modes_1_2_3);
    CU_add_test(s, "read mode 1 colour compare", test_read_mode1_color_compare);
    CU_add_test(s, "chain-4, odd/even, memory maps", test_chain4_odd_even_and_maps);
    CU_add_test(s, "CRTC protect, mono/colour I/O select", test_crtc_protect_and_io_select);
    CU_add_test(s, "attribute controller flip-flop", test_attribute_flip_flop);
    CU_add_test(s, "DAC indexes and 6-bit values", test_dac);
    CU_add_test(s, "input status 1 toggles", test_input_status_toggles);
    CU_add_test(s, "VBE registers and banks", test_vbe_registers);
    CU_add_test(s, "VBE bounds", test_vbe_bounds);
    CU_add_test(s, "PCI identity, BARs, MMIO BAR2", test_pci_identity_and_bar2);
}
