/* Guest physical memory: RAM, the BIOS ROM, host-backed device memory
 * (framebuffers, option ROMs) and the i440FX PAM shadowing of
 * 0xC0000-0xFFFFF.
 *
 * The layout is kept as a list of "slots" (guest-physical range -> host
 * memory, read-only or not).  Anything not covered by a slot is MMIO and
 * goes to the MMIO bus.  Backends subscribe with mem_set_listener(): KVM
 * turns slots into memory regions, the emulator looks addresses up.
 *
 * Device DMA uses mem_read()/mem_write()/mem_ptr(), which only ever touch
 * guest RAM and refuse (return -1/NULL) anything that is not wholly
 * inside it: a guest-programmed DMA address is never trusted. */
#ifndef MINUS1_MEMORY_H
#define MINUS1_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MEM_MAX_SLOTS 64
#define GiB (1024ull * 1024 * 1024)
#define MiB (1024ull * 1024)
#define KiB 1024ull

/* The PCI hole: RAM above this address is moved to start at 4 GiB. */
#define MEM_PCI_HOLE_START 0xE0000000ull

enum mem_slot_kind { SLOT_RAM, SLOT_ROM, SLOT_DEVICE };

struct mem_slot {
    uint64_t gpa;
    uint64_t size;
    uint8_t *host;
    bool readonly;          /* guest writes are dropped (ROM, PAM read-only) */
    bool dirty_log;         /* the owner wants to know which pages changed */
    enum mem_slot_kind kind;
    int id;                 /* stable while the slot exists (KVM slot number) */
};

/* PAM modes, as the i440FX register nibbles encode them. */
enum pam_mode { PAM_OFF = 0, PAM_RO = 1, PAM_WO = 2, PAM_RW = 3 };
#define PAM_SEGMENTS 13     /* 0xF0000 (64K) + 12 x 16K from 0xC0000 */

struct mem_listener {
    void (*slot_removed)(void *opaque, const struct mem_slot *s);
    void (*slot_added)(void *opaque, const struct mem_slot *s);
    void *opaque;
};

struct device_mapping {
    uint64_t gpa, size;
    uint8_t *host;
    bool readonly, dirty_log, active;
};

#define MEM_MAX_DEVICE_MAPPINGS 8

struct guest_mem {
    uint8_t *ram;           /* all guest RAM, one host mapping */
    uint64_t ram_size;
    uint64_t below_4g;      /* RAM at [0, below_4g) */
    uint64_t above_4g;      /* RAM at [4 GiB, 4 GiB + above_4g) */
    const uint8_t *bios;    /* BIOS image, mapped just below 4 GiB */
    uint64_t bios_size;
    enum pam_mode pam[PAM_SEGMENTS];
    struct device_mapping devmaps[MEM_MAX_DEVICE_MAPPINGS];

    struct mem_slot slots[MEM_MAX_SLOTS];   /* sorted by gpa, disjoint */
    unsigned nslots;
    uint64_t id_used;       /* bitmap of slot ids in use */
    struct mem_listener listener;
    /* Told about RAM writes made behind the vCPU's back (device DMA), so an
     * emulator can drop decoded code.  Called on the writing thread: must
     * be cheap and thread-safe.  Set once before threads start. */
    void (*ram_written)(void *opaque, uint64_t gpa, uint64_t len);
    void *ram_written_opaque;
    /* Bumped whenever a slot is added or removed: a user of dirty-page
     * logs (the VGA) knows its log may have lost pages when it moved. */
    uint64_t generation;
};

/* Allocates `ram_size` bytes of RAM (zeroed, lazily backed by the host)
 * and lays out the PC map.  The BIOS image is borrowed (caller keeps it
 * alive) and must be a multiple of 64 KiB between 64 KiB and 16 MiB.
 * Returns 0, or -1 with errno set. */
int mem_init(struct guest_mem *m, uint64_t ram_size, const uint8_t *bios, uint64_t bios_size);
void mem_destroy(struct guest_mem *m);

/* Power-on state: PAM all off (BIOS ROM at 0xE0000-0xFFFFF).  RAM keeps
 * its content across a reset, as on a PC. */
void mem_reset(struct guest_mem *m);

/* Installs the listener and replays the current slots to it as "added". */
void mem_set_listener(struct guest_mem *m, const struct mem_listener *l);

/* PAM segment i: 0 = 0xF0000-0xFFFFF, 1..12 = 0xC0000 + (i-1)*16K. */
void mem_set_pam(struct guest_mem *m, unsigned segment, enum pam_mode mode);

/* Host memory that should appear at a guest address (VGA LFB, a ROM BAR).
 * host and size must be page-aligned.  Returns a handle >= 0, or -1 if
 * they are not or the table is full.  mem_move_device() with active=false takes it out of the map. */
int mem_add_device(struct guest_mem *m, uint8_t *host, uint64_t size, bool readonly,
                   bool dirty_log);
int mem_move_device(struct guest_mem *m, int handle, uint64_t gpa, bool active);

/* The legacy VGA hole 0xA0000-0xBFFFF: not RAM, MMIO unless a device maps
 * host memory there. */
#define MEM_VGA_HOLE_START 0xA0000ull
#define MEM_VGA_HOLE_END 0xC0000ull

/* Like mem_move_device(), and also points the mapping at other host memory
 * (host and size page-aligned, as for mem_add_device()).  Unlike
 * mem_move_device() it may place the mapping wholly inside the VGA hole:
 * that is how the VGA maps its chain-4 window straight onto VRAM, while a
 * guest-programmed PCI BAR (mem_move_device) still cannot land below RAM's
 * end.  Returns 0, or -1 (bad handle/alignment, or a conflict; the mapping
 * is then left as it was). */
int mem_set_device(struct guest_mem *m, int handle, uint8_t *host, uint64_t size, uint64_t gpa,
                   bool active);
/* Takes the mapping out of the map and frees its handle. */
void mem_remove_device(struct guest_mem *m, int handle);

/* The slot that covers gpa, or NULL (MMIO or unassigned). */
const struct mem_slot *mem_lookup(const struct guest_mem *m, uint64_t gpa);

/* RAM only, bounds checked: the whole range must be guest RAM. */
void *mem_ptr(struct guest_mem *m, uint64_t gpa, uint64_t len);
int mem_read(struct guest_mem *m, uint64_t gpa, void *buf, uint64_t len);
int mem_write(struct guest_mem *m, uint64_t gpa, const void *buf, uint64_t len);

/* For callers that wrote guest RAM through mem_ptr(): report the range
 * (mem_write() does it itself). */
static inline void mem_notify_write(struct guest_mem *m, uint64_t gpa, uint64_t len)
{
    if (m->ram_written)
        m->ram_written(m->ram_written_opaque, gpa, len);
}

/* Offset of gpa inside m->ram, or -1 if gpa is not RAM. */
int64_t mem_ram_offset(const struct guest_mem *m, uint64_t gpa);

#endif
