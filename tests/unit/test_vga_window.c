/* The legacy VGA window mapped straight onto VRAM: it appears in the guest
 * memory map exactly while chain-4 (or a VBE bank) makes the window a plain
 * byte view of VRAM, goes away as soon as a register brings the planar
 * logic back, and rendering follows what the guest writes through it --
 * by comparison, or through a dirty-page source.  Also the memory map's
 * VGA-hole rules (mem_set_device / mem_remove_device). */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../vmm/devices/vga/vga.h"
#include "../../vmm/memory.h"

static uint8_t bios[64 * 1024] __attribute__((aligned(4096)));

struct fake_log {
    int slot;                   /* the slot whose log is answered */
    uint64_t bits;              /* its pages reported dirty by the next call */
    int fail;                   /* >0: that many calls fail */
    int calls;
};

struct fx {
    struct logger log;
    struct iobus pio, mmio;
    struct vclock clock;
    struct guest_mem mem;
    struct vga *v;
    uint8_t *vram;
    struct fake_log fl;
};

static void fx_init(struct fx *f)
{
    char err[128];
    memset(f, 0, sizeof(*f));
    f->log.level = LOG_ERROR;               /* guest errors are expected here */
    f->log.fd = STDERR_FILENO;
    iobus_init(&f->pio, "pio", &f->log);
    iobus_init(&f->mmio, "mmio", &f->log);
    vclock_init(&f->clock);
    vclock_set_manual(&f->clock, 0);
    CU_ASSERT_EQUAL_FATAL(mem_init(&f->mem, 16 * MiB, bios, sizeof(bios)), 0);
    f->v = vga_create(NULL, &f->pio, &f->mmio, NULL, &f->log, err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(f->v);
    vga_set_clock(f->v, &f->clock);
    vga_set_memory(f->v, &f->mem);
    f->vram = vga_vram(f->v, NULL);
}

static void fx_fini(struct fx *f)
{
    vga_destroy(f->v);
    /* The adapter took its mapping with it. */
    CU_ASSERT_PTR_NULL(mem_lookup(&f->mem, 0xA0000));
    mem_destroy(&f->mem);
}

static void outb(struct fx *f, unsigned port, uint8_t v) { iobus_write(&f->pio, port, 1, v); }
static void seq(struct fx *f, unsigned i, uint8_t v) { outb(f, 0x3C4, i); outb(f, 0x3C5, v); }
static void gr(struct fx *f, unsigned i, uint8_t v) { outb(f, 0x3CE, i); outb(f, 0x3CF, v); }
static void crtc(struct fx *f, unsigned i, uint8_t v) { outb(f, 0x3D4, i); outb(f, 0x3D5, v); }

static void vbe(struct fx *f, unsigned i, uint16_t v)
{
    iobus_write(&f->pio, 0x1CE, 2, i);
    iobus_write(&f->pio, 0x1CF, 2, v);
}

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

/* Mode 13h as the VGA BIOS programs it. */
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
    for (unsigned i = 0; i < 16; i++)
        ar(f, i, (uint8_t)i);
    ar(f, 0x10, 0x41);
    ar(f, 0x12, 0x0F);
    (void)iobus_read(&f->pio, 0x3DA, 1);
    outb(f, 0x3C0, 0x20);
    dac(f, 0x42, 63, 0, 0);
}

static uint32_t px(const uint32_t *fb, int w, int x, int y) { return fb[y * w + x]; }

/* The window slot, checked to be a dirty-logged device view of VRAM at
 * the given VRAM offset and size; NULL when not mapped. */
static const struct mem_slot *window(struct fx *f, uint64_t gpa)
{
    return mem_lookup(&f->mem, gpa);
}

static void assert_mapped(struct fx *f, uint64_t gpa, uint64_t size, size_t vram_off)
{
    const struct mem_slot *s = window(f, gpa);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(s->gpa, gpa);
    CU_ASSERT_EQUAL(s->size, size);
    CU_ASSERT_PTR_EQUAL(s->host, f->vram + vram_off);
    CU_ASSERT_EQUAL(s->kind, SLOT_DEVICE);
    CU_ASSERT(s->dirty_log);
    CU_ASSERT(!s->readonly);
}

static void test_mode13_maps(void)
{
    struct fx f;
    fx_init(&f);
    /* Power-on: odd/even text-ish state, no chain-4: trapped. */
    CU_ASSERT_PTR_NULL(window(&f, 0xA0000));
    mode13(&f);
    assert_mapped(&f, 0xA0000, 0x10000, 0);
    CU_ASSERT_PTR_NULL(window(&f, 0xB0000));        /* 64 KiB map only */
    /* RAM below and the BIOS area above are untouched. */
    const struct mem_slot *ram = mem_lookup(&f.mem, 0x9FFFF);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ram);
    CU_ASSERT_EQUAL(ram->kind, SLOT_RAM);
    CU_ASSERT_PTR_NULL(mem_lookup(&f.mem, 0xC0000));        /* PAM off, no ROM there */
    fx_fini(&f);
}

/* Every register that makes the planar logic matter again unmaps the
 * window; putting it back maps it again. */
static void test_registers_unmap(void)
{
    static const struct {
        char kind;              /* 's' sequencer, 'g' graphics controller */
        uint8_t index, bad, good;
    } cases[] = {
        { 's', 2, 0x0E, 0x0F },     /* a plane masked */
        { 's', 2, 0x07, 0x0F },
        { 's', 4, 0x06, 0x0E },     /* chain-4 off */
        { 'g', 5, 0x41, 0x40 },     /* write mode 1 */
        { 'g', 5, 0x42, 0x40 },     /* write mode 2 */
        { 'g', 5, 0x43, 0x40 },     /* write mode 3 */
        { 'g', 5, 0x48, 0x40 },     /* read mode 1 (colour compare) */
        { 'g', 1, 0x01, 0x00 },     /* set/reset enabled on plane 0 */
        { 'g', 1, 0x08, 0x00 },
        { 'g', 3, 0x01, 0x00 },     /* rotate */
        { 'g', 3, 0x08, 0x00 },     /* AND */
        { 'g', 3, 0x10, 0x00 },     /* OR */
        { 'g', 3, 0x18, 0x00 },     /* XOR */
        { 'g', 8, 0x7F, 0xFF },     /* bit mask */
        { 'g', 8, 0x00, 0xFF },
    };
    struct fx f;
    fx_init(&f);
    mode13(&f);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        void (*w)(struct fx *, unsigned, uint8_t) = cases[i].kind == 's' ? seq : gr;
        w(&f, cases[i].index, cases[i].bad);
        CU_ASSERT_PTR_NULL(window(&f, 0xA0000));
        w(&f, cases[i].index, cases[i].good);
        assert_mapped(&f, 0xA0000, 0x10000, 0);
    }
    /* Registers that do not change the CPU's view leave it mapped:
     * colour don't care / compare, read map select, CRTC, DAC. */
    gr(&f, 2, 0x0F);
    gr(&f, 7, 0x00);
    gr(&f, 4, 0x03);
    crtc(&f, 0x0C, 0x12);
    dac(&f, 1, 1, 2, 3);
    assert_mapped(&f, 0xA0000, 0x10000, 0);
    /* Hostile: indexes past the register file change nothing. */
    gr(&f, 0x0F, 0xFF);
    seq(&f, 7, 0xFF);
    assert_mapped(&f, 0xA0000, 0x10000, 0);
    /* A reset brings the power-on (trapped) state back. */
    vga_reset(f.v);
    CU_ASSERT_PTR_NULL(window(&f, 0xA0000));
    fx_fini(&f);
}

/* The graphics controller's memory map select moves and sizes the window
 * as the planar path decodes it. */
static void test_memory_map_select(void)
{
    struct fx f;
    fx_init(&f);
    mode13(&f);
    gr(&f, 6, 0x01);                        /* A0000, 128 KiB */
    assert_mapped(&f, 0xA0000, 0x20000, 0);
    gr(&f, 6, 0x09);                        /* B0000, 32 KiB */
    CU_ASSERT_PTR_NULL(window(&f, 0xA0000));
    assert_mapped(&f, 0xB0000, 0x8000, 0);
    CU_ASSERT_PTR_NULL(window(&f, 0xB8000));
    gr(&f, 6, 0x0D);                        /* B8000, 32 KiB */
    CU_ASSERT_PTR_NULL(window(&f, 0xB0000));
    assert_mapped(&f, 0xB8000, 0x8000, 0);
    gr(&f, 6, 0x05);
    assert_mapped(&f, 0xA0000, 0x10000, 0);
    CU_ASSERT_PTR_NULL(window(&f, 0xB8000));
    fx_fini(&f);
}

/* What the guest writes into the mapped memory is what the trapped path
 * and the renderer see (no dirty source: comparison). */
static void test_mapped_writes_render(void)
{
    struct fx f;
    struct vga_update u;
    fx_init(&f);
    mode13(&f);
    vga_render(f.v, &u);
    const struct mem_slot *s = window(&f, 0xA0000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    s->host[10 * 320 + 7] = 0x42;          /* the guest's store, no exit */
    const uint32_t *fb = vga_render(f.v, &u);
    CU_ASSERT_EQUAL(u.width, 320);
    CU_ASSERT_EQUAL(px(fb, 320, 7, 10), 0xFF0000);
    CU_ASSERT_EQUAL(u.y0, 10);
    CU_ASSERT_EQUAL(u.y1, 11);
    CU_ASSERT_EQUAL(u.x0[10], 7);
    CU_ASSERT_EQUAL(u.x1[10], 8);
    /* Unmapped again (bit mask), the trapped path reads the same byte and
     * its writes land in the same place. */
    gr(&f, 8, 0x7F);
    CU_ASSERT_PTR_NULL(window(&f, 0xA0000));
    CU_ASSERT_EQUAL(iobus_read(&f.mmio, 0xA0000 + 10 * 320 + 7, 1), 0x42);
    gr(&f, 8, 0xFF);
    s = window(&f, 0xA0000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    gr(&f, 5, 0x48);                        /* trapped again */
    iobus_write(&f.mmio, 0xA0000 + 20 * 320 + 1, 1, 0x42);
    gr(&f, 5, 0x40);
    s = window(&f, 0xA0000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(s->host[20 * 320 + 1], 0x42);
    fb = vga_render(f.v, &u);
    CU_ASSERT_EQUAL(px(fb, 320, 1, 20), 0xFF0000);
    CU_ASSERT_EQUAL(u.y0, 20);
    CU_ASSERT_EQUAL(u.y1, 21);
    fx_fini(&f);
}

/* VBE banked modes: the window shows the selected 64 KiB bank. */
static void test_vbe_bank(void)
{
    struct fx f;
    struct vga_update u;
    fx_init(&f);
    vbe(&f, 1, 640);
    vbe(&f, 2, 480);
    vbe(&f, 3, 8);
    vbe(&f, 4, 0x01);                       /* enabled, banked */
    assert_mapped(&f, 0xA0000, 0x10000, 0);
    dac(&f, 7, 0, 63, 0);
    vga_render(f.v, &u);
    CU_ASSERT_EQUAL(u.width, 640);
    vbe(&f, 5, 3);
    assert_mapped(&f, 0xA0000, 0x10000, 3 * 0x10000);
    /* Offset 3 * 64K + 5 is pixel (133, 307) of a 640-wide screen. */
    window(&f, 0xA0000)->host[5] = 7;
    const uint32_t *fb = vga_render(f.v, &u);
    CU_ASSERT_EQUAL(px(fb, 640, 133, 307), 0x00FF00);
    CU_ASSERT_EQUAL(u.y0, 307);
    CU_ASSERT_EQUAL(u.y1, 308);
    /* Hostile: a bank past VRAM is ignored, the mapping stays. */
    vbe(&f, 5, 0xFFFF);
    vbe(&f, 5, 256);
    assert_mapped(&f, 0xA0000, 0x10000, 3 * 0x10000);
    vbe(&f, 5, 255);                        /* the last bank */
    assert_mapped(&f, 0xA0000, 0x10000, 255 * 0x10000);
    /* Banked access ignores the planar registers, and so does the map. */
    gr(&f, 5, 0x03);
    assert_mapped(&f, 0xA0000, 0x10000, 255 * 0x10000);
    /* Disabled: back to what the VGA registers say (write mode 3: trap). */
    vbe(&f, 4, 0x00);
    CU_ASSERT_PTR_NULL(window(&f, 0xA0000));
    gr(&f, 5, 0x40);
    assert_mapped(&f, 0xA0000, 0x10000, 0);
    fx_fini(&f);
}

static int fake_dirty(void *opaque, int slot, uint64_t *bitmap)
{
    struct fake_log *fl = opaque;
    fl->calls++;
    if (fl->fail > 0) {
        fl->fail--;
        return -1;
    }
    bitmap[0] = slot == fl->slot ? fl->bits : 0;
    fl->bits = 0;
    return 0;
}

/* With a dirty source the renderer looks only at logged pages: a store
 * the log does not report is not even compared -- which proves the log
 * is what drives it -- while reported pages, trapped writes, a failing
 * log and a changed memory map all lead to the change being seen. */
static void test_dirty_source(void)
{
    struct fx f;
    struct vga_update u;
    fx_init(&f);
    mode13(&f);
    vga_set_dirty_source(f.v, fake_dirty, &f.fl);
    const struct mem_slot *s = window(&f, 0xA0000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    f.fl.slot = s->id;
    uint8_t *host = s->host;
    vga_render(f.v, &u);                    /* first frame: primes the log */
    CU_ASSERT(f.fl.calls >= 1);

    host[10 * 320 + 7] = 0x42;              /* page 0, not reported */
    const uint32_t *fb = vga_render(f.v, &u);
    CU_ASSERT(u.y0 >= u.y1);
    CU_ASSERT_EQUAL(px(fb, 320, 7, 10), 0);
    f.fl.bits = 1ull << 0;                  /* now reported */
    fb = vga_render(f.v, &u);
    CU_ASSERT_EQUAL(px(fb, 320, 7, 10), 0xFF0000);
    CU_ASSERT_EQUAL(u.y0, 10);
    CU_ASSERT_EQUAL(u.y1, 11);

    host[100 * 320] = 0x42;                 /* a log that fails: compare */
    f.fl.fail = 1;
    fb = vga_render(f.v, &u);
    CU_ASSERT_EQUAL(px(fb, 320, 0, 100), 0xFF0000);
    CU_ASSERT_EQUAL(u.y0, 100);

    /* The slot goes away and comes back before the next frame: its log
     * went with it, so every line is compared. */
    host[150 * 320] = 0x42;
    gr(&f, 8, 0x7F);
    gr(&f, 8, 0xFF);
    fb = vga_render(f.v, &u);
    CU_ASSERT_EQUAL(px(fb, 320, 0, 150), 0xFF0000);
    CU_ASSERT_EQUAL(u.y0, 150);

    /* Trapped writes mark their own pages. */
    gr(&f, 5, 0x48);
    vga_render(f.v, &u);                    /* map changed: re-prime */
    iobus_write(&f.mmio, 0xA0000 + 190 * 320 + 3, 1, 0x42);
    fb = vga_render(f.v, &u);
    CU_ASSERT_EQUAL(px(fb, 320, 3, 190), 0xFF0000);
    CU_ASSERT_EQUAL(u.y0, 190);
    CU_ASSERT_EQUAL(u.y1, 191);

    /* Register changes still redraw everything (not a VRAM matter). */
    dac(&f, 0x42, 0, 0, 63);
    fb = vga_render(f.v, &u);
    CU_ASSERT_EQUAL(px(fb, 320, 3, 190), 0x0000FF);
    fx_fini(&f);
}

/* VBE bank + dirty log: the slot's page i is VRAM page bank * 16 + i. */
static void test_dirty_bank_offset(void)
{
    struct fx f;
    struct vga_update u;
    fx_init(&f);
    vbe(&f, 1, 640);
    vbe(&f, 2, 480);
    vbe(&f, 3, 8);
    vbe(&f, 4, 0x01);
    vbe(&f, 5, 2);
    dac(&f, 9, 63, 63, 63);
    vga_set_dirty_source(f.v, fake_dirty, &f.fl);
    const struct mem_slot *s = window(&f, 0xA0000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    f.fl.slot = s->id;
    vga_render(f.v, &u);
    /* Slot page 3 = VRAM 2 * 64K + 12K + 1 = 224 * 640 + 1. */
    s->host[3 * 4096 + 1] = 9;
    /* Slot page 5, not reported: VRAM 2 * 64K + 20K = 236 * 640 + 512. */
    s->host[5 * 4096] = 9;
    f.fl.bits = 1ull << 3;
    const uint32_t *fb = vga_render(f.v, &u);
    CU_ASSERT_EQUAL(px(fb, 640, 1, 224), 0xFFFFFF);
    CU_ASSERT_EQUAL(px(fb, 640, 512, 236), 0);
    CU_ASSERT_EQUAL(u.y0, 224);
    CU_ASSERT_EQUAL(u.y1, 225);
    /* Without a source, everything is compared again. */
    vga_set_dirty_source(f.v, NULL, NULL);
    fb = vga_render(f.v, &u);
    CU_ASSERT_EQUAL(px(fb, 640, 512, 236), 0xFFFFFF);
    fx_fini(&f);
}

/* Detaching the memory map takes the mapping out; the window still works
 * through the trapped path. */
static void test_detach(void)
{
    struct fx f;
    fx_init(&f);
    mode13(&f);
    assert_mapped(&f, 0xA0000, 0x10000, 0);
    vga_set_memory(f.v, NULL);
    CU_ASSERT_PTR_NULL(window(&f, 0xA0000));
    iobus_write(&f.mmio, 0xA0000 + 5, 1, 0x77);
    CU_ASSERT_EQUAL(f.vram[5], 0x77);
    vga_set_memory(f.v, &f.mem);
    assert_mapped(&f, 0xA0000, 0x10000, 0);
    fx_fini(&f);
}

/* The memory map: the VGA hole takes a device mapping through
 * mem_set_device, never through mem_move_device (guest PCI BARs), never
 * across its edges, and never over another mapping. */
static void test_memory_vga_hole(void)
{
    static uint8_t a[0x20000] __attribute__((aligned(4096)));
    static uint8_t b[0x10000] __attribute__((aligned(4096)));
    struct guest_mem m;
    CU_ASSERT_EQUAL_FATAL(mem_init(&m, 16 * MiB, bios, sizeof(bios)), 0);
    int ha = mem_add_device(&m, a, 0x10000, false, true);
    int hb = mem_add_device(&m, b, 0x10000, false, false);
    CU_ASSERT_FATAL(ha >= 0 && hb >= 0);
    CU_ASSERT_EQUAL(mem_move_device(&m, ha, 0xA0000, true), -1);    /* PCI path: no */
    uint64_t gen = m.generation;
    CU_ASSERT_EQUAL(mem_set_device(&m, ha, a, 0x10000, 0xA0000, true), 0);
    CU_ASSERT(m.generation > gen);
    const struct mem_slot *s = mem_lookup(&m, 0xAFFFF);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_PTR_EQUAL(s->host, a);
    CU_ASSERT_EQUAL(mem_lookup(&m, 0x9F000)->kind, SLOT_RAM);
    CU_ASSERT_PTR_NULL(mem_lookup(&m, 0xB0000));
    /* Overlap, crossing into 0xC0000, RAM below, wrap-around: refused. */
    CU_ASSERT_EQUAL(mem_set_device(&m, hb, b, 0x10000, 0xA8000, true), -1);
    CU_ASSERT_EQUAL(mem_set_device(&m, hb, b, 0x10000, 0xB8000, true), -1);
    CU_ASSERT_EQUAL(mem_set_device(&m, hb, b, 0x10000, 0x90000, true), -1);
    CU_ASSERT_EQUAL(mem_set_device(&m, hb, b, 0x10000, 0xFFFFFFFFFFFFF000ull, true), -1);
    CU_ASSERT_PTR_NULL(mem_lookup(&m, 0xB8000));
    /* Unaligned host or size, bad handles. */
    CU_ASSERT_EQUAL(mem_set_device(&m, hb, b + 1, 0x1000, 0xB0000, true), -1);
    CU_ASSERT_EQUAL(mem_set_device(&m, hb, b, 0x800, 0xB0000, true), -1);
    CU_ASSERT_EQUAL(mem_set_device(&m, 7, b, 0x1000, 0xB0000, true), -1);
    CU_ASSERT_EQUAL(mem_set_device(&m, -3, b, 0x1000, 0xB0000, true), -1);
    CU_ASSERT_EQUAL(mem_set_device(&m, hb, b, 0x10000, 0xB0000, true), 0);
    CU_ASSERT_PTR_EQUAL(mem_lookup(&m, 0xB0000)->host, b);
    /* Retarget in place (a bank switch): same place, other memory. */
    CU_ASSERT_EQUAL(mem_set_device(&m, ha, a + 0x10000, 0x10000, 0xA0000, true), 0);
    CU_ASSERT_PTR_EQUAL(mem_lookup(&m, 0xA0000)->host, a + 0x10000);
    /* A failed request leaves the mapping as it was. */
    CU_ASSERT_EQUAL(mem_set_device(&m, ha, a, 0x20000, 0xA0000, true), -1);
    CU_ASSERT_PTR_EQUAL(mem_lookup(&m, 0xA0000)->host, a + 0x10000);
    CU_ASSERT_EQUAL(mem_lookup(&m, 0xA0000)->size, 0x10000);
    /* Removal frees the handle and the range. */
    mem_remove_device(&m, hb);
    mem_remove_device(&m, hb);              /* twice: harmless */
    mem_remove_device(&m, 99);
    CU_ASSERT_PTR_NULL(mem_lookup(&m, 0xB0000));
    CU_ASSERT_EQUAL(mem_set_device(&m, hb, b, 0x10000, 0xB0000, true), -1);
    CU_ASSERT_EQUAL(mem_add_device(&m, b, 0x10000, false, false), hb);
    /* PAM still works next to it. */
    mem_set_pam(&m, 1, PAM_RW);
    CU_ASSERT_EQUAL(mem_lookup(&m, 0xC0000)->kind, SLOT_RAM);
    CU_ASSERT_PTR_EQUAL(mem_lookup(&m, 0xA0000)->host, a + 0x10000);
    mem_destroy(&m);
}

void suite_vga_window(void)
{
    CU_pSuite s = CU_add_suite("vga_window", NULL, NULL);
    CU_add_test(s, "mode 13h maps the window", test_mode13_maps);
    CU_add_test(s, "planar registers unmap it", test_registers_unmap);
    CU_add_test(s, "memory map select", test_memory_map_select);
    CU_add_test(s, "writes into the mapping render", test_mapped_writes_render);
    CU_add_test(s, "VBE bank window", test_vbe_bank);
    CU_add_test(s, "dirty source drives rendering", test_dirty_source);
    CU_add_test(s, "dirty log at the bank offset", test_dirty_bank_offset);
    CU_add_test(s, "detach the memory map", test_detach);
    CU_add_test(s, "memory: the VGA hole", test_memory_vga_hole);
}
