/* The VGA adapter: register file at 0x3B0-0x3DF, Bochs dispi ports, the
 * legacy window, and the PCI function (LFB BAR0, MMIO BAR2, option ROM).
 * See vga.h for the overview and vga_int.h for the VRAM layout. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "vga_int.h"

#define PORT_BASE 0x3B0
#define PORT_LEN 0x30
#define VBE_PORT_BASE 0x1CE
#define VBE_PORT_LEN 4          /* 0x1CE-0x1D1: a word at 0x1D0 reaches the alias */
#define WINDOW_BASE 0xA0000
#define WINDOW_LEN 0x20000

#define MMIO_BAR 2
#define MMIO_BAR_SIZE 0x1000
#define MMIO_VGA_PORTS 0x400    /* 0x3C0-0x3DF, remapped 1:1 */
#define MMIO_DISPI 0x500        /* dispi register i at 0x500 + 2 * i */
#define MMIO_QEXT 0x600         /* QEMU extension: size, framebuffer endianness */
#define QEXT_SIZE 8
#define QEXT_LITTLE_ENDIAN 0x1e1e1e1e

/* Writable bits per register (reserved bits read back as zero). */
static const uint8_t seq_wmask[VGA_SEQ_REGS] = { 0x03, 0x3D, 0x0F, 0x3F, 0x0E };
static const uint8_t gr_wmask[VGA_GR_REGS] = { 0x0F, 0x0F, 0x0F, 0x1F, 0x03, 0x7B, 0x0F, 0x0F,
                                               0xFF };

static bool color_io(const struct vga *v)
{
    return v->misc & 0x01;
}

/* Input status 1: the guest polls it for vertical retrace.  Derived from
 * a per-read counter, so "wait for retrace, then for its end" loops
 * always terminate: 4 reads in retrace, 4 out; display enable toggles. */
static uint8_t input_status_1(struct vga *v)
{
    unsigned n = v->st1_reads++;
    bool vretrace = (n & 4) != 0;
    uint8_t st = vretrace ? 0x09 : (uint8_t)(n & 1);
    v->ar_flip = false;         /* reading it resets the attribute flip-flop */
    return st;
}

static void crtc_write(struct vga *v, uint8_t val)
{
    unsigned i = v->crtc_index & 0x1F;
    if (i > VGA_CRTC_LAST)
        return;
    /* Protect bit: CR00-CR07 are read-only, except CR07 bit 4 (line
     * compare bit 8). */
    if ((v->crtc[0x11] & 0x80) && i <= 7) {
        if (i == 7)
            v->crtc[7] = (uint8_t)((v->crtc[7] & ~0x10) | (val & 0x10));
        return;
    }
    v->crtc[i] = val;
}

static void ar_write(struct vga *v, uint8_t val)
{
    if (!v->ar_flip) {
        v->ar_index = val & 0x3F;
        v->ar_flip = true;
        return;
    }
    v->ar_flip = false;
    unsigned i = v->ar_index & 0x1F;
    if (i < 0x10)
        v->ar[i] = val & 0x3F;
    else if (i == AR_MODE)
        v->ar[i] = val & 0xEF;
    else if (i == AR_OVERSCAN)
        v->ar[i] = val;
    else if (i == AR_PLANE_ENABLE)
        v->ar[i] = val & 0x3F;
    else if (i == AR_PANNING || i == AR_COLOR_SELECT)
        v->ar[i] = val & 0x0F;
}

static void dac_data_write(struct vga *v, uint8_t val)
{
    uint8_t mask = (v->vbe[VBE_ENABLE] & VBE_8BIT_DAC) ? 0xFF : 0x3F;
    v->dac_latch[v->dac_sub % 3] = val & mask;
    if (++v->dac_sub >= 3) {
        memcpy(v->dac[v->dac_write], v->dac_latch, 3);
        v->dac_write++;         /* uint8_t: wraps 255 -> 0 like the hardware */
        v->dac_sub = 0;
    }
}

static uint8_t dac_data_read(struct vga *v)
{
    uint8_t val = v->dac[v->dac_read][v->dac_sub % 3];
    if (++v->dac_sub >= 3) {
        v->dac_read++;
        v->dac_sub = 0;
    }
    return val;
}

uint8_t vga_port_read(struct vga *v, unsigned port)
{
    /* CRTC and input status 1 answer only at the address misc selects. */
    if ((port >= 0x3B0 && port <= 0x3BF && color_io(v)) ||
        (port >= 0x3D0 && port <= 0x3DF && !color_io(v)))
        return 0xFF;
    switch (port) {
    case 0x3C0:
        return v->ar_index;
    case 0x3C1: {
        unsigned i = v->ar_index & 0x1F;
        return i <= VGA_AR_LAST ? v->ar[i] : 0;
    }
    case 0x3C2:
        return 0x10;            /* input status 0: switch sense (a monitor is present) */
    case 0x3C4:
        return v->seq_index;
    case 0x3C5:
        return v->seq_index <= VGA_SEQ_LAST ? v->seq[v->seq_index] : 0;
    case 0x3C6:
        return v->pel_mask;
    case 0x3C7:
        return v->dac_state;
    case 0x3C8:
        return v->dac_write;
    case 0x3C9:
        return dac_data_read(v);
    case 0x3CA:
        return v->feature;
    case 0x3CC:
        return v->misc;
    case 0x3CE:
        return v->gr_index;
    case 0x3CF:
        return v->gr_index <= VGA_GR_LAST ? v->gr[v->gr_index] : 0;
    case 0x3B4:
    case 0x3D4:
        return v->crtc_index;
    case 0x3B5:
    case 0x3D5:
        return (v->crtc_index & 0x1F) <= VGA_CRTC_LAST ? v->crtc[v->crtc_index & 0x1F] : 0;
    case 0x3BA:
    case 0x3DA:
        return input_status_1(v);
    default:
        return 0xFF;
    }
}

static void port_write(struct vga *v, unsigned port, uint8_t val)
{
    if ((port >= 0x3B0 && port <= 0x3BF && color_io(v)) ||
        (port >= 0x3D0 && port <= 0x3DF && !color_io(v)))
        return;
    switch (port) {
    case 0x3C0:
        ar_write(v, val);
        return;
    case 0x3C2:
        v->misc = val;
        return;
    case 0x3C4:
        v->seq_index = val & 0x07;
        return;
    case 0x3C5:
        if (v->seq_index <= VGA_SEQ_LAST)
            v->seq[v->seq_index] = val & seq_wmask[v->seq_index];
        return;
    case 0x3C6:
        v->pel_mask = val;
        return;
    case 0x3C7:
        v->dac_read = val;
        v->dac_sub = 0;
        v->dac_state = 3;
        return;
    case 0x3C8:
        v->dac_write = val;
        v->dac_sub = 0;
        v->dac_state = 0;
        return;
    case 0x3C9:
        dac_data_write(v, val);
        return;
    case 0x3CE:
        v->gr_index = val & 0x0F;
        return;
    case 0x3CF:
        if (v->gr_index <= VGA_GR_LAST)
            v->gr[v->gr_index] = val & gr_wmask[v->gr_index];
        return;
    case 0x3B4:
    case 0x3D4:
        v->crtc_index = val & 0x3F;
        return;
    case 0x3B5:
    case 0x3D5:
        crtc_write(v, val);
        return;
    case 0x3BA:
    case 0x3DA:
        v->feature = val & 0x03;
        return;
    default:
        return;                 /* 0x3C3 VGA enable, 0x3CD, 0x3D8 CGA mode ... */
    }
}

void vga_port_write(struct vga *v, unsigned port, uint8_t val)
{
    port_write(v, port, val);
    /* Sequencer and graphics controller writes decide whether the window
     * is plain memory; re-checking after every write is a few compares. */
    if (port == 0x3C5 || port == 0x3CF)
        vga_update_window(v);
}

static uint64_t ports_read(void *opaque, uint64_t offset, unsigned size)
{
    (void)size;
    return vga_port_read(opaque, PORT_BASE + (unsigned)offset);
}

static void ports_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    (void)size;
    vga_port_write(opaque, PORT_BASE + (unsigned)offset, (uint8_t)value);
}

static const struct io_ops ports_ops = { .read = ports_read, .write = ports_write, .max_size = 1 };

/* 0x1CE: index (16 bit); 0x1CF and its alias 0x1D0: data.  Byte accesses
 * to the index set its low byte; byte accesses to data and anything at
 * 0x1D1 are ignored (the interface is 16-bit only). */
static uint64_t vbe_ports_read(void *opaque, uint64_t offset, unsigned size)
{
    struct vga *v = opaque;
    if (offset == 0)
        return size == 1 ? (v->vbe_index & 0xFF) : v->vbe_index;
    if (size != 2 || offset > 2)
        return size == 1 ? 0xFF : 0xFFFF;
    return vbe_read(v, v->vbe_index);
}

static void vbe_ports_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    struct vga *v = opaque;
    if (offset == 0) {
        v->vbe_index = size == 1 ? (uint16_t)((v->vbe_index & 0xFF00) | (value & 0xFF))
                                 : (uint16_t)value;
        return;
    }
    if (size == 2 && offset <= 2)
        vbe_write(v, v->vbe_index, (uint16_t)value);
}

static const struct io_ops vbe_ops = {
    .read = vbe_ports_read, .write = vbe_ports_write, .max_size = 2,
};

/* BAR2: QEMU's stdvga MMIO layout, which Linux's bochs-drm prefers.
 * Word accesses to the VGA ports are two byte writes, index port first. */
static uint64_t bar2_read(void *opaque, uint64_t offset, unsigned size)
{
    struct vga *v = opaque;
    if (offset >= MMIO_VGA_PORTS && offset + size <= MMIO_VGA_PORTS + 0x20) {
        uint64_t val = 0;
        for (unsigned i = 0; i < size; i++)
            val |= (uint64_t)vga_port_read(v, 0x3C0 + (unsigned)(offset - MMIO_VGA_PORTS) + i)
                   << (8 * i);
        return val;
    }
    if (offset >= MMIO_DISPI && offset < MMIO_DISPI + 2 * VBE_NREGS && size == 2 &&
        !(offset & 1))
        return vbe_read(v, (unsigned)(offset - MMIO_DISPI) / 2);
    if (offset == MMIO_QEXT && size == 4)
        return QEXT_SIZE;
    if (offset == MMIO_QEXT + 4 && size == 4)
        return QEXT_LITTLE_ENDIAN;
    return 0;                   /* 0x000-0x3FF (EDID) reads as no EDID */
}

static void bar2_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    struct vga *v = opaque;
    if (offset >= MMIO_VGA_PORTS && offset + size <= MMIO_VGA_PORTS + 0x20) {
        for (unsigned i = 0; i < size; i++)
            vga_port_write(v, 0x3C0 + (unsigned)(offset - MMIO_VGA_PORTS) + i,
                           (uint8_t)(value >> (8 * i)));
        return;
    }
    if (offset >= MMIO_DISPI && offset < MMIO_DISPI + 2 * VBE_NREGS && size == 2 &&
        !(offset & 1))
        vbe_write(v, (unsigned)(offset - MMIO_DISPI) / 2, (uint16_t)value);
    /* The endianness register is fixed little-endian: writes ignored. */
}

static const struct io_ops bar2_ops = { .read = bar2_read, .write = bar2_write, .max_size = 4 };

void vga_reset(struct vga *v)
{
    v->misc = 0;
    v->feature = 0;
    v->st1_reads = 0;
    v->seq_index = v->gr_index = v->crtc_index = 0;
    memset(v->seq, 0, sizeof(v->seq));
    memset(v->gr, 0, sizeof(v->gr));
    memset(v->crtc, 0, sizeof(v->crtc));
    memset(v->ar, 0, sizeof(v->ar));
    v->gr[GR_BIT_MASK] = 0xFF;
    v->seq[SEQ_MAP_MASK] = 0x0F;
    v->ar_index = 0;
    v->ar_flip = false;
    memset(v->dac, 0, sizeof(v->dac));
    v->dac_read = v->dac_write = v->dac_sub = v->dac_state = 0;
    v->pel_mask = 0xFF;
    memset(v->latch, 0, sizeof(v->latch));
    vbe_reset(v);
    v->r.invalid = true;
    vga_update_window(v);
}

static int load_rom(struct vga *v, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "vga: cannot open VGA BIOS %s: %s", path, strerror(errno));
        return -1;
    }
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    if (len <= 0 || len > 1024 * 1024) {
        fclose(f);
        snprintf(err, errlen, "vga: VGA BIOS %s has a bad size", path);
        return -1;
    }
    /* The ROM BAR is a power of two; it is mapped straight into the guest,
     * so it is at least a page and page-aligned (KVM memory slots). */
    size_t size = 4096;
    while (size < (size_t)len)
        size <<= 1;
    v->rom = aligned_alloc(4096, size);
    if (v->rom)
        memset(v->rom, 0, size);
    size_t got = v->rom ? fread(v->rom, 1, (size_t)len, f) : 0;
    fclose(f);
    if (got != (size_t)len) {
        snprintf(err, errlen, "vga: cannot read VGA BIOS %s", path);
        return -1;
    }
    v->rom_size = size;
    return 0;
}

static int setup_pci(struct vga *v, struct pci_bus *bus, char *err, size_t errlen)
{
    struct pci_device *d = &v->pci;
    pci_device_init(d, "vga", 0x1234, 0x1111, 0x02, 0x030000);
    pci_device_set_subsystem(d, 0x1af4, 0x1100);
    d->opaque = v;
    /* The LFB: host memory straight into the guest (writes don't trap). */
    pci_bar_host(d, 0, v->vram_size, true, v->vram, false, true);
    pci_bar_mmio(d, MMIO_BAR, MMIO_BAR_SIZE, false, &bar2_ops, v);
    if (v->rom)
        pci_bar_host(d, PCI_ROM_SLOT, v->rom_size, false, v->rom, true, false);
    if (pci_register(bus, d, -1) < 0) {
        snprintf(err, errlen, "vga: no free PCI slot");
        return -1;
    }
    v->bus = bus;
    v->pci_on = true;
    return 0;
}

struct vga *vga_create(struct pci_bus *bus, struct iobus *pio, struct iobus *mmio,
                       const char *vgabios_path, const struct logger *log, char *err,
                       size_t errlen)
{
    struct vga *v = calloc(1, sizeof(*v));
    if (!v) {
        snprintf(err, errlen, "vga: out of memory");
        return NULL;
    }
    v->log = log;
    v->win_handle = -1;
    v->pio = pio;
    v->mmio = mmio;
    v->vram_size = VGA_VRAM_SIZE;
    /* Anonymous mapping: zeroed, backed only where the guest draws. */
    v->vram = mmap(NULL, v->vram_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                   -1, 0);
    if (v->vram == MAP_FAILED) {
        v->vram = NULL;
        snprintf(err, errlen, "vga: cannot allocate VRAM: %s", strerror(errno));
        goto fail;
    }
    if (vgabios_path && load_rom(v, vgabios_path, err, errlen) < 0)
        goto fail;
    vga_reset(v);
    v->ports_on = iobus_register(pio, &v->ports, PORT_BASE, PORT_LEN, &ports_ops, v, "vga") == 0;
    v->vbe_on = iobus_register(pio, &v->vbe_ports, VBE_PORT_BASE, VBE_PORT_LEN, &vbe_ops, v,
                               "vga-vbe") == 0;
    v->window_on = iobus_register(mmio, &v->window, WINDOW_BASE, WINDOW_LEN, &vga_window_ops,
                                  v, "vga-window") == 0;
    if (!v->ports_on || !v->vbe_on || !v->window_on) {
        snprintf(err, errlen, "vga: I/O ranges already taken");
        goto fail;
    }
    if (bus && setup_pci(v, bus, err, errlen) < 0)
        goto fail;
    if (bus && bus->mem)
        vga_set_memory(v, bus->mem);
    return v;
fail:
    vga_destroy(v);
    return NULL;
}

void vga_destroy(struct vga *v)
{
    if (!v)
        return;
    vga_set_memory(v, NULL);
    if (v->pci_on)
        pci_unregister(&v->pci);
    if (v->ports_on)
        iobus_unmap(v->pio, &v->ports);
    if (v->vbe_on)
        iobus_unmap(v->pio, &v->vbe_ports);
    if (v->window_on)
        iobus_unmap(v->mmio, &v->window);
    vga_render_free(v);
    if (v->vram)
        munmap(v->vram, v->vram_size);
    free(v->rom);
    free(v);
}

void vga_set_memory(struct vga *v, struct guest_mem *mem)
{
    if (v->mem && v->win_handle >= 0)
        mem_remove_device(v->mem, v->win_handle);
    v->win_handle = -1;
    v->win_mapped = false;
    v->mem = mem;
    v->dirty_primed = false;
    if (!mem)
        return;
    /* The handle stays for the adapter's life; vga_update_window() points
     * it at the right VRAM and address, or takes it out of the map.  Dirty
     * logged: the renderer learns what the guest drew through it. */
    v->win_handle = mem_add_device(mem, v->vram, 0x10000, false, true);
    if (v->win_handle < 0)
        log_warn(v->log, "vga: no device mapping left: the legacy window always traps");
    vga_update_window(v);
}

void vga_set_dirty_source(struct vga *v, vga_dirty_fn fn, void *opaque)
{
    v->dirty_fn = fn;
    v->dirty_opaque = opaque;
    v->dirty_primed = false;
}

void vga_set_clock(struct vga *v, const struct vclock *clock)
{
    v->clock = clock;
}

struct pci_device *vga_pci_device(struct vga *v)
{
    return v->pci_on ? &v->pci : NULL;
}

uint8_t *vga_vram(struct vga *v, size_t *size)
{
    if (size)
        *size = v->vram_size;
    return v->vram;
}
