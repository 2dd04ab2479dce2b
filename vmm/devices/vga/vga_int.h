/* Private state of the VGA adapter, shared by its source files
 * (vga.c: ports/PCI, vga_mem.c: the planar memory logic, vbe.c: the Bochs
 * dispi interface, render.c: conversion to the host framebuffer).
 *
 * VRAM layout (as Bochs/QEMU stdvga): the four 8-bit planes are
 * interleaved, byte 4*o + p of VRAM is offset o of plane p.  Chain-4
 * addresses therefore land linearly (address A -> VRAM[A]), so mode 13h,
 * the VBE banked window and the 8-bit LFB all see the same bytes. */
#ifndef MINUS1_VGA_INT_H
#define MINUS1_VGA_INT_H

#include "vga.h"

/* Register counts (index masks keep every access inside these arrays). */
#define VGA_SEQ_REGS 8
#define VGA_GR_REGS 16
#define VGA_CRTC_REGS 32
#define VGA_AR_REGS 32
#define VGA_AR_LAST 0x14        /* attribute registers 0x00-0x14 exist */
#define VGA_CRTC_LAST 0x18
#define VGA_GR_LAST 0x08
#define VGA_SEQ_LAST 0x04

/* Plane offsets the CRTC and the CPU window can reach: 16-bit CRTC
 * addresses, 17-bit window offsets (128 KiB map) plus VBE banks. */
#define VGA_PLANE_MASK 0xFFFFu

/* Bochs dispi. */
enum {
    VBE_ID = 0, VBE_XRES, VBE_YRES, VBE_BPP, VBE_ENABLE, VBE_BANK, VBE_VIRT_WIDTH,
    VBE_VIRT_HEIGHT, VBE_X_OFFSET, VBE_Y_OFFSET, VBE_VIDEO_MEMORY_64K, VBE_NREGS
};
#define VBE_ID0 0xB0C0
#define VBE_ID5 0xB0C5
#define VBE_ENABLED 0x01
#define VBE_GETCAPS 0x02
#define VBE_8BIT_DAC 0x20
#define VBE_LFB_ENABLED 0x40
#define VBE_NOCLEARMEM 0x80
#define VBE_MAX_XRES 8192
#define VBE_MAX_YRES 8192
#define VBE_MAX_BPP 32

/* Registers that matter to more than one file. */
#define SEQ_CLOCKING 0x01
#define SEQ_MAP_MASK 0x02
#define SEQ_CHARMAP 0x03
#define SEQ_MEMMODE 0x04
#define GR_SET_RESET 0x00
#define GR_ENABLE_SR 0x01
#define GR_COLOR_CMP 0x02
#define GR_ROTATE 0x03
#define GR_READ_MAP 0x04
#define GR_MODE 0x05
#define GR_MISC 0x06
#define GR_DONT_CARE 0x07
#define GR_BIT_MASK 0x08
#define AR_MODE 0x10
#define AR_OVERSCAN 0x11
#define AR_PLANE_ENABLE 0x12
#define AR_PANNING 0x13
#define AR_COLOR_SELECT 0x14
#define AR_PAS 0x20             /* palette address source, in the index */

#define VGA_DIRTY_WORDS (VGA_VRAM_SIZE / 4096 / 64)

struct vga_render_state {
    uint32_t *fb;               /* width * height XRGB */
    int width, height;
    size_t fb_cap;
    int *x0, *x1;               /* per-line changed spans */
    size_t x0_cap, x1_cap;
    uint8_t *shadow;            /* per line: the bytes it was drawn from */
    bool *shadow_valid;
    size_t shadow_stride, shadow_cap, valid_cap;
    uint8_t *key;               /* scratch: the current line's source bytes */
    uint32_t *line;             /* scratch: one rendered line (+ panning slack) */
    size_t key_cap, line_cap;
    /* Things whose change forces a full redraw. */
    uint8_t layout[128];
    uint32_t colors[256 + 16];
    uint8_t font[2 * 256 * 32];
    uint8_t font_now[2 * 256 * 32];
    bool invalid;
    bool pending;               /* x0/x1 hold changes not yet reported */
    bool pending_resize;
};

struct vga {
    const struct logger *log;
    struct ratelimit rl;
    const struct vclock *clock;

    struct iobus *pio, *mmio;
    struct io_region ports, vbe_ports, window;
    bool ports_on, vbe_on, window_on;

    struct pci_bus *bus;
    struct pci_device pci;
    bool pci_on;

    uint8_t *vram;
    size_t vram_size;
    uint8_t *rom;
    size_t rom_size;

    /* General registers. */
    uint8_t misc;
    uint8_t feature;
    unsigned st1_reads;         /* input status 1 is derived from this */

    uint8_t seq_index, seq[VGA_SEQ_REGS];
    uint8_t gr_index, gr[VGA_GR_REGS];
    uint8_t crtc_index, crtc[VGA_CRTC_REGS];
    uint8_t ar_index;           /* bits 0-4 register, bit 5 PAS */
    bool ar_flip;               /* false: next 0x3C0 write is an index */
    uint8_t ar[VGA_AR_REGS];

    uint8_t dac[256][3];
    uint8_t dac_read, dac_write, dac_sub, dac_state;
    uint8_t dac_latch[3];
    uint8_t pel_mask;

    uint8_t latch[4];

    /* Bochs VBE. */
    uint16_t vbe_index;
    uint16_t vbe[VBE_NREGS];
    uint32_t vbe_pitch;         /* bytes per line (per plane for 4 bpp) */
    uint32_t vbe_start;         /* byte offset of the first visible pixel */
    uint32_t vbe_bank;          /* byte offset of the 64 KiB window */

    struct vga_render_state r;

    /* The legacy window mapped straight onto VRAM (vga_mem.c). */
    struct guest_mem *mem;
    int win_handle;             /* device mapping in mem, -1 without one */
    bool win_mapped;
    uint64_t win_gpa, win_size;
    uint32_t win_off;           /* VRAM offset the mapping shows */

    /* VRAM pages written since the last frame (render.c), one bit per
     * 4 KiB page; trapped writes mark it directly, the dirty source
     * supplies what the guest wrote through mapped memory. */
    vga_dirty_fn dirty_fn;
    void *dirty_opaque;
    uint64_t dirty[VGA_DIRTY_WORDS];
    uint64_t dirty_tmp[VGA_DIRTY_WORDS];
    uint64_t dirty_gen;         /* mem->generation the logs are relative to */
    bool dirty_primed;          /* the logs were read at least once */
};

#define VGA_PAGE_SHIFT 12

static inline void vga_mark_dirty(struct vga *v, size_t off)
{
    size_t page = off >> VGA_PAGE_SHIFT;
    if (off < v->vram_size)
        v->dirty[page / 64] |= 1ull << (page % 64);
}

void vga_mark_dirty_range(struct vga *v, size_t off, size_t len);

/* vga_mem.c */
/* Maps or unmaps the window onto VRAM to match the registers; called
 * after every register write that can change it. */
void vga_update_window(struct vga *v);
uint8_t vga_mem_read(struct vga *v, uint32_t addr);
void vga_mem_write(struct vga *v, uint32_t addr, uint8_t val);
extern const struct io_ops vga_window_ops;

/* vbe.c */
void vbe_reset(struct vga *v);
uint16_t vbe_read(struct vga *v, unsigned index);
void vbe_write(struct vga *v, unsigned index, uint16_t val);
bool vbe_enabled(const struct vga *v);
unsigned vbe_bytes_per_pixel(unsigned bpp);

/* render.c */
void vga_render_free(struct vga *v);

/* vga.c: the VGA port file, offsets from 0x3B0 (shared with BAR2). */
uint8_t vga_port_read(struct vga *v, unsigned port);
void vga_port_write(struct vga *v, unsigned port, uint8_t val);

static inline uint8_t vga_plane_byte(const struct vga *v, uint32_t off, unsigned plane)
{
    return v->vram[((off & VGA_PLANE_MASK) << 2) | (plane & 3)];
}

#endif
