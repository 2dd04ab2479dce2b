#include "memory.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#define PAM_BASE_LOW 0xC0000ull
#define PAM_SEG_LOW_SIZE (16 * KiB)
#define BIOS_LOW_WINDOW (128 * KiB)     /* 0xE0000-0xFFFFF mirrors the BIOS end */
#define FOUR_GIB (4 * GiB)

struct range {
    uint64_t gpa, size;
    uint8_t *host;
    bool readonly, dirty_log;
    enum mem_slot_kind kind;
};

static void pam_segment_range(unsigned seg, uint64_t *gpa, uint64_t *size)
{
    if (seg == 0) {
        *gpa = 0xF0000;
        *size = 64 * KiB;
    } else {
        *gpa = PAM_BASE_LOW + (seg - 1) * PAM_SEG_LOW_SIZE;
        *size = PAM_SEG_LOW_SIZE;
    }
}

/* What a PAM segment maps to: RAM (rw or ro), the BIOS ROM for the upper
 * 128 KiB when PAM is off, or nothing (falls through to the PCI bus). */
static bool pam_range(const struct guest_mem *m, unsigned seg, struct range *r)
{
    pam_segment_range(seg, &r->gpa, &r->size);
    r->dirty_log = false;
    switch (m->pam[seg]) {
    case PAM_RO:
        r->host = m->ram + r->gpa;
        r->readonly = true;
        r->kind = SLOT_RAM;
        return true;
    case PAM_WO:    /* writes to RAM, reads from ROM: like QEMU, treat as RAM */
    case PAM_RW:
        r->host = m->ram + r->gpa;
        r->readonly = false;
        r->kind = SLOT_RAM;
        return true;
    case PAM_OFF:
    default:
        if (r->gpa < 0x100000 - BIOS_LOW_WINDOW)
            return false;
        {
            uint64_t window = m->bios_size < BIOS_LOW_WINDOW ? m->bios_size : BIOS_LOW_WINDOW;
            uint64_t win_start = 0x100000 - window;
            if (r->gpa < win_start)
                return false;
            r->host = (uint8_t *)m->bios + (m->bios_size - (0x100000 - r->gpa));
            r->readonly = true;
            r->kind = SLOT_ROM;
            return true;
        }
    }
}

static unsigned add_range(struct range *out, unsigned n, const struct range *r)
{
    /* Merge with the previous range when contiguous in both spaces. */
    if (n > 0) {
        struct range *p = &out[n - 1];
        if (p->gpa + p->size == r->gpa && p->host + p->size == r->host &&
            p->readonly == r->readonly && p->kind == r->kind && p->dirty_log == r->dirty_log) {
            p->size += r->size;
            return n;
        }
    }
    out[n] = *r;
    return n + 1;
}

/* Computes the wanted layout, sorted by address. */
static unsigned build_layout(const struct guest_mem *m, struct range *out)
{
    unsigned n = 0;
    struct range r;
    uint64_t low_end = m->below_4g < 0xA0000 ? m->below_4g : 0xA0000;
    r = (struct range){ 0, low_end, m->ram, false, false, SLOT_RAM };
    n = add_range(out, n, &r);
    if (m->below_4g > 0x100000) {
        for (unsigned seg = 1; seg < PAM_SEGMENTS; seg++)
            if (pam_range(m, seg, &r))
                n = add_range(out, n, &r);
        if (pam_range(m, 0, &r))
            n = add_range(out, n, &r);
        r = (struct range){ 0x100000, m->below_4g - 0x100000, m->ram + 0x100000, false, false,
                            SLOT_RAM };
        n = add_range(out, n, &r);
    }
    for (unsigned i = 0; i < MEM_MAX_DEVICE_MAPPINGS; i++) {
        const struct device_mapping *d = &m->devmaps[i];
        if (d->active)
            out[n++] = (struct range){ d->gpa, d->size, d->host, d->readonly, d->dirty_log,
                                       SLOT_DEVICE };
    }
    r = (struct range){ FOUR_GIB - m->bios_size, m->bios_size, (uint8_t *)m->bios, true, false,
                        SLOT_ROM };
    out[n++] = r;
    if (m->above_4g) {
        r = (struct range){ FOUR_GIB, m->above_4g, m->ram + m->below_4g, false, false, SLOT_RAM };
        out[n++] = r;
    }
    /* Device mappings were appended out of order: insertion sort. */
    for (unsigned i = 1; i < n; i++) {
        struct range t = out[i];
        unsigned j = i;
        while (j > 0 && out[j - 1].gpa > t.gpa) {
            out[j] = out[j - 1];
            j--;
        }
        out[j] = t;
    }
    return n;
}

static bool same_slot(const struct mem_slot *s, const struct range *r)
{
    return s->gpa == r->gpa && s->size == r->size && s->host == r->host &&
           s->readonly == r->readonly && s->dirty_log == r->dirty_log && s->kind == r->kind;
}

static int alloc_id(struct guest_mem *m)
{
    for (int i = 0; i < 64; i++) {
        if (!(m->id_used & (1ull << i))) {
            m->id_used |= 1ull << i;
            return i;
        }
    }
    return -1;
}

/* Brings the slot list in line with the wanted layout, telling the
 * listener about removed slots first (so KVM never sees an overlap). */
static void commit_layout(struct guest_mem *m)
{
    struct range want[MEM_MAX_SLOTS];
    unsigned nwant = build_layout(m, want);
    bool keep_old[MEM_MAX_SLOTS] = { false };
    bool have_new[MEM_MAX_SLOTS] = { false };

    for (unsigned i = 0; i < m->nslots; i++)
        for (unsigned j = 0; j < nwant; j++)
            if (!have_new[j] && same_slot(&m->slots[i], &want[j])) {
                keep_old[i] = have_new[j] = true;
                break;
            }

    struct mem_slot next[MEM_MAX_SLOTS];
    unsigned nnext = 0;
    for (unsigned i = 0; i < m->nslots; i++) {
        if (keep_old[i]) {
            next[nnext++] = m->slots[i];
            continue;
        }
        if (m->listener.slot_removed)
            m->listener.slot_removed(m->listener.opaque, &m->slots[i]);
        m->id_used &= ~(1ull << m->slots[i].id);
        m->generation++;
    }
    for (unsigned j = 0; j < nwant; j++) {
        if (have_new[j])
            continue;
        struct mem_slot s = { want[j].gpa, want[j].size, want[j].host, want[j].readonly,
                              want[j].dirty_log, want[j].kind, alloc_id(m) };
        if (m->listener.slot_added)
            m->listener.slot_added(m->listener.opaque, &s);
        next[nnext++] = s;
        m->generation++;
    }
    for (unsigned i = 1; i < nnext; i++) {
        struct mem_slot t = next[i];
        unsigned j = i;
        while (j > 0 && next[j - 1].gpa > t.gpa) {
            next[j] = next[j - 1];
            j--;
        }
        next[j] = t;
    }
    memcpy(m->slots, next, nnext * sizeof(next[0]));
    m->nslots = nnext;
}

int mem_init(struct guest_mem *m, uint64_t ram_size, const uint8_t *bios, uint64_t bios_size)
{
    memset(m, 0, sizeof(*m));
    if (bios_size < 64 * KiB || bios_size > 16 * MiB || bios_size % (64 * KiB) ||
        ram_size < 2 * MiB || ram_size % (4 * KiB)) {
        errno = EINVAL;
        return -1;
    }
    void *p = mmap(NULL, ram_size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return -1;
    /* Let the host back guest RAM with huge pages where it can. */
    madvise(p, ram_size, MADV_HUGEPAGE);
    m->ram = p;
    m->ram_size = ram_size;
    m->below_4g = ram_size < MEM_PCI_HOLE_START ? ram_size : MEM_PCI_HOLE_START;
    m->above_4g = ram_size - m->below_4g;
    m->bios = bios;
    m->bios_size = bios_size;
    commit_layout(m);
    return 0;
}

void mem_destroy(struct guest_mem *m)
{
    if (m->ram)
        munmap(m->ram, m->ram_size);
    m->ram = NULL;
}

void mem_reset(struct guest_mem *m)
{
    for (unsigned i = 0; i < PAM_SEGMENTS; i++)
        m->pam[i] = PAM_OFF;
    commit_layout(m);
}

void mem_set_listener(struct guest_mem *m, const struct mem_listener *l)
{
    m->listener = *l;
    for (unsigned i = 0; i < m->nslots; i++)
        if (l->slot_added)
            l->slot_added(l->opaque, &m->slots[i]);
}

void mem_set_pam(struct guest_mem *m, unsigned segment, enum pam_mode mode)
{
    if (segment >= PAM_SEGMENTS || m->pam[segment] == (mode & 3))
        return;
    m->pam[segment] = mode & 3;
    commit_layout(m);
}

int mem_add_device(struct guest_mem *m, uint8_t *host, uint64_t size, bool readonly,
                   bool dirty_log)
{
    /* Backends map this memory page by page (KVM slots). */
    if (((uintptr_t)host | size) & 4095 || size == 0)
        return -1;
    for (int i = 0; i < MEM_MAX_DEVICE_MAPPINGS; i++) {
        struct device_mapping *d = &m->devmaps[i];
        if (!d->host) {
            *d = (struct device_mapping){ 0, size, host, readonly, dirty_log, false };
            return i;
        }
    }
    return -1;
}

/* True if [gpa, gpa+size) touches RAM, the BIOS or another active mapping.
 * vga_hole: a range wholly inside 0xA0000-0xBFFFF is allowed (it is not RAM
 * in the layout build_layout() makes). */
static bool device_range_conflicts(const struct guest_mem *m, int self, uint64_t gpa,
                                   uint64_t size, bool vga_hole)
{
    uint64_t end = gpa + size;
    bool in_hole = vga_hole && gpa >= MEM_VGA_HOLE_START && end <= MEM_VGA_HOLE_END &&
                   end > gpa && m->below_4g >= MEM_VGA_HOLE_END;
    if (end < gpa || (gpa < m->below_4g && !in_hole))
        return true;
    if (end > FOUR_GIB - m->bios_size && gpa < FOUR_GIB)
        return true;
    if (m->above_4g && end > FOUR_GIB && gpa < FOUR_GIB + m->above_4g)
        return true;
    for (int i = 0; i < MEM_MAX_DEVICE_MAPPINGS; i++) {
        const struct device_mapping *d = &m->devmaps[i];
        if (i != self && d->active && gpa < d->gpa + d->size && d->gpa < end)
            return true;
    }
    return false;
}

int mem_move_device(struct guest_mem *m, int handle, uint64_t gpa, bool active)
{
    if (handle < 0 || handle >= MEM_MAX_DEVICE_MAPPINGS || !m->devmaps[handle].host)
        return -1;
    struct device_mapping *d = &m->devmaps[handle];
    if (active && device_range_conflicts(m, handle, gpa, d->size, false))
        return -1;
    if (d->active == active && (!active || d->gpa == gpa))
        return 0;
    d->gpa = gpa;
    d->active = active;
    commit_layout(m);
    return 0;
}

int mem_set_device(struct guest_mem *m, int handle, uint8_t *host, uint64_t size, uint64_t gpa,
                   bool active)
{
    if (handle < 0 || handle >= MEM_MAX_DEVICE_MAPPINGS || !m->devmaps[handle].host || !host ||
        ((uintptr_t)host | size) & 4095 || size == 0)
        return -1;
    struct device_mapping *d = &m->devmaps[handle];
    if (active && device_range_conflicts(m, handle, gpa, size, true))
        return -1;
    if (d->active == active && d->host == host && d->size == size && (!active || d->gpa == gpa))
        return 0;
    d->host = host;
    d->size = size;
    d->gpa = gpa;
    d->active = active;
    commit_layout(m);
    return 0;
}

void mem_remove_device(struct guest_mem *m, int handle)
{
    if (handle < 0 || handle >= MEM_MAX_DEVICE_MAPPINGS || !m->devmaps[handle].host)
        return;
    bool was_active = m->devmaps[handle].active;
    m->devmaps[handle] = (struct device_mapping){ 0 };
    if (was_active)
        commit_layout(m);
}

const struct mem_slot *mem_lookup(const struct guest_mem *m, uint64_t gpa)
{
    unsigned lo = 0, hi = m->nslots;
    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;
        const struct mem_slot *s = &m->slots[mid];
        if (gpa < s->gpa)
            hi = mid;
        else if (gpa - s->gpa >= s->size)
            lo = mid + 1;
        else
            return s;
    }
    return NULL;
}

int64_t mem_ram_offset(const struct guest_mem *m, uint64_t gpa)
{
    if (gpa < m->below_4g)
        return (int64_t)gpa;
    if (gpa >= FOUR_GIB && gpa - FOUR_GIB < m->above_4g)
        return (int64_t)(m->below_4g + (gpa - FOUR_GIB));
    return -1;
}

void *mem_ptr(struct guest_mem *m, uint64_t gpa, uint64_t len)
{
    int64_t off = mem_ram_offset(m, gpa);
    if (off < 0 || len == 0)
        return off < 0 ? NULL : m->ram + off;
    int64_t last = mem_ram_offset(m, gpa + len - 1);
    if (gpa + len - 1 < gpa || last < 0 || last - off != (int64_t)(len - 1))
        return NULL;
    return m->ram + off;
}

int mem_read(struct guest_mem *m, uint64_t gpa, void *buf, uint64_t len)
{
    void *p = mem_ptr(m, gpa, len);
    if (!p)
        return -1;
    memcpy(buf, p, len);
    return 0;
}

int mem_write(struct guest_mem *m, uint64_t gpa, const void *buf, uint64_t len)
{
    void *p = mem_ptr(m, gpa, len);
    if (!p)
        return -1;
    memcpy(p, buf, len);
    mem_notify_write(m, gpa, len);
    return 0;
}
