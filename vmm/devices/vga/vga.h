/* The standard VGA adapter (PCI 1234:1111, "stdvga") with the Bochs VBE
 * "dispi" interface, and its renderer.
 *
 * Guest side: ports 0x3B0-0x3DF, the VBE index/data ports 0x1CE/0x1CF
 * (0x1D0 is a data alias as in Bochs), the legacy window 0xA0000-0xBFFFF
 * on the MMIO bus (every access goes through the planar logic) -- except
 * while the window is a plain byte view of VRAM (chain-4 with the
 * identity write path, or a VBE bank): then that VRAM is mapped straight
 * into the guest memory map (see vga_set_memory), as QEMU's "chain4
 * alias" does, so mode 13h and banked VBE drawing run without exits; on PCI
 * BAR0 = 16 MiB VRAM as a prefetchable linear framebuffer (host memory
 * mapped straight into the guest), BAR2 = 4 KiB MMIO (VGA ports at 0x400,
 * dispi registers at 0x500, QEMU extension registers at 0x600, as the
 * Linux bochs DRM driver expects), and the expansion ROM BAR with the VGA
 * BIOS so SeaBIOS runs it as the adapter's option ROM.
 *
 * Host side: vga_render() converts whatever the adapter displays into a
 * 32-bit XRGB (0x00RRGGBB) framebuffer and reports which lines changed;
 * vga_text_dump() returns the text screen as plain text.  Both are meant
 * to run on the event loop with the machine lock held. */
#ifndef MINUS1_VGA_H
#define MINUS1_VGA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../../iobus.h"
#include "../../memory.h"
#include "../../log.h"
#include "../../vclock.h"
#include "../pci.h"

#define VGA_VRAM_SIZE (16u * 1024 * 1024)
#define VGA_DEFAULT_BIOS "/usr/share/seabios/vgabios-stdvga.bin"

struct vga;

/* bus may be NULL (no PCI function: legacy window and ports only, as in
 * unit tests); vgabios_path may be NULL (no option ROM).  Registers every
 * range it decodes on pio / mmio.  On failure writes a one-line message
 * into err and returns NULL. */
struct vga *vga_create(struct pci_bus *bus, struct iobus *pio, struct iobus *mmio,
                       const char *vgabios_path, const struct logger *log, char *err,
                       size_t errlen);
/* Power-on register state (VRAM keeps its content, as on a real card). */
void vga_reset(struct vga *v);
/* Unregisters everything and frees the adapter; NULL is fine. */
void vga_destroy(struct vga *v);

/* Text cursor and character blink follow this clock (host monotonic time
 * when none is set). */
void vga_set_clock(struct vga *v, const struct vclock *clock);

/* The guest memory map the legacy window is mapped into while it is a
 * plain view of VRAM.  vga_create() takes the PCI bus's map (bus->mem)
 * when it has a bus; without one (unit tests) nothing is mapped until this
 * is called.  NULL takes the mapping out again.  Must outlive the adapter
 * (or be detached first). */
void vga_set_memory(struct vga *v, struct guest_mem *mem);

/* Dirty-page source: fills bitmap with the 4 KiB pages of guest memory
 * slot slot_id (struct mem_slot.id) written since its previous call, one
 * bit per page (page i = bit i % 64 of word i / 64; the bitmap has room
 * for (slot size / 4096 + 63) / 64 words) and restarts the log; returns 0,
 * or -1 when it cannot tell.  The machine wires it to the backend's
 * get_dirty_log (vmm/arch/cpu.h).  With a working source the renderer
 * looks only at the VRAM pages the guest wrote (through the LFB BAR, the
 * mapped window, or trapped window accesses); without one (NULL, the
 * default, or a source that returns -1, e.g. the emulator backend) it
 * compares every visible line with what it last drew.  Code that writes
 * VRAM through vga_vram() while a source is set must call
 * vga_invalidate() afterwards. */
typedef int (*vga_dirty_fn)(void *opaque, int slot_id, uint64_t *bitmap);
void vga_set_dirty_source(struct vga *v, vga_dirty_fn fn, void *opaque);

/* The PCI function (NULL without a bus), e.g. to find where BAR0 is. */
struct pci_device *vga_pci_device(struct vga *v);

/* The VRAM the linear framebuffer BAR maps, for code that stands in for a
 * guest writing the LFB (tests). */
uint8_t *vga_vram(struct vga *v, size_t *size);

/* What changed since the previous vga_render().  x0[y] < x1[y] is the
 * changed pixel span of line y (x1 exclusive); x0[y] >= x1[y] means line
 * y did not change.  resized: width/height differ from the last frame
 * (every line is then reported changed).  y0..y1 (exclusive) bounds the
 * changed lines; y0 >= y1 when nothing changed.  The arrays belong to the
 * adapter and stay valid until the next vga_render(). */
struct vga_update {
    int width, height;
    bool resized;
    int y0, y1;
    const int *x0, *x1;
};

/* Renders the current frame.  Returns the framebuffer (width * height
 * pixels, stride = width, 0x00RRGGBB), owned by the adapter and valid
 * until the next vga_render()/vga_destroy().  upd may be NULL. */
const uint32_t *vga_render(struct vga *v, struct vga_update *upd);
/* Size of the frame the last vga_render() produced (0x0 before any). */
void vga_frame_size(struct vga *v, int *width, int *height);
/* Forces the next vga_render() to redraw (and report) every line. */
void vga_invalidate(struct vga *v);

/* The current text screen as plain text: rows joined with '\n', trailing
 * spaces trimmed, following the CRTC start address and offset; CP437
 * line-drawing characters become + - | =, other non-ASCII '?'.
 * Always NUL-terminates (if len > 0).  Returns the length the full text
 * needs (like snprintf), or -1 when the adapter is not in a text mode. */
ssize_t vga_text_dump(struct vga *v, char *buf, size_t len);

/* The current display mode, for the monitor and the VNC title. */
void vga_describe_mode(struct vga *v, char *buf, size_t len);

#endif
