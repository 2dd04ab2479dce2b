/* Guest page-table walks and the software TLB.
 *
 * The walker knows the three 32-bit-linear-address formats: no paging,
 * 2-level (4 KiB pages, 4 MiB pages with CR4.PSE) and PAE (3-level,
 * 2 MiB pages, NX with EFER.NXE), and long mode's 4-level paging (with
 * EFER.LMA: 48-bit linear addresses, 2 MiB and 1 GiB pages, NX).
 * Canonical-address checks are the caller's (they raise #GP/#SS, not
 * #PF).  It sets accessed/dirty bits the way
 * the CPU does (A on every level it uses, D on the final entry for
 * writes) and reports faults as a #PF error code.  Physical memory is
 * reached through two callbacks so the same walker serves the emulator
 * and, later, the KVM assist.
 *
 * The soft TLB is a direct-mapped cache: linear page -> (physical page,
 * host pointer if the page is plain RAM/ROM, read/write permission for
 * the privilege it was filled at).  Its fast path is one compare. */
#ifndef MINUS1_PAGING_H
#define MINUS1_PAGING_H

#include <stdbool.h>
#include <stdint.h>

/* Access kinds, also the bits of the #PF error code. */
#define PG_ERR_P     (1u << 0)
#define PG_ERR_W     (1u << 1)
#define PG_ERR_U     (1u << 2)
#define PG_ERR_RSVD  (1u << 3)
#define PG_ERR_I     (1u << 4)

#define PG_CR0_WP (1u << 16)
#define PG_CR0_PG (1u << 31)
#define PG_CR4_PSE (1u << 4)
#define PG_CR4_PAE (1u << 5)
#define PG_CR4_PGE (1u << 7)
#define PG_EFER_LMA (1ull << 10)
#define PG_EFER_NXE (1ull << 11)

struct pg_regs {
    uint64_t cr0, cr3, cr4;
    uint64_t efer;
};

/* Physical memory for page tables: 32-bit entries for 2-level, 64-bit for
 * PAE.  read returns false if the address is not backed (walk fails as
 * if the entry were not present: hardware would read all-ones or MMIO,
 * we treat it as a fault to stay safe). */
struct pg_phys {
    bool (*read)(void *opaque, uint64_t pa, unsigned size, uint64_t *val);
    void (*write)(void *opaque, uint64_t pa, unsigned size, uint64_t val);
    void *opaque;
};

struct pg_result {
    uint64_t pa;            /* physical address of the byte asked for */
    bool writable;          /* final permission for writes at this privilege */
    bool user;              /* page accessible from CPL3 */
    bool global;
    bool nx;
    uint32_t page_size;     /* 4K, 2M, 4M or 1G */
};

/* access: PG_ERR_W for writes, PG_ERR_U for user accesses, PG_ERR_I for
 * instruction fetches.  Returns 0 and fills *res, or -1 and puts the #PF
 * error code in *err.  Sets A/D bits only when the walk succeeds. */
int pg_walk(const struct pg_regs *r, const struct pg_phys *mem, uint64_t lin, unsigned access,
            struct pg_result *res, uint32_t *err);

/* ---- soft TLB ---- */
#define TLB_BITS 10      /* 1024 entries: the kernel decompressor's window misses 256 */
#define TLB_SIZE (1u << TLB_BITS)
#define TLB_INVALID 1u      /* a tag with bit 0 set never matches a page address */

struct tlb_entry {
    uint64_t tag_read;      /* linear page (low 12 bits 0) if reads may use host/phys */
    uint64_t tag_write;     /* same, for writes (writable, D set, no decoded code) */
    uintptr_t addend;       /* host address = linear + addend; 0 if not host-backed */
    uint64_t phys;          /* physical page */
    bool global;
    bool nx;                /* instruction fetches must walk (and fault) */
};

struct soft_tlb {
    struct tlb_entry e[TLB_SIZE];
    uint64_t flushes, fills;
    /* Bumped by every flush (whole or one page): whatever caches a
     * linear -> physical translation outside the TLB (the emulator's
     * block chains) is valid only within one generation. */
    uint64_t gen;
};

static inline struct tlb_entry *tlb_slot(struct soft_tlb *t, uint64_t lin)
{
    return &t->e[(lin >> 12) & (TLB_SIZE - 1)];
}

void tlb_flush_all(struct soft_tlb *t, bool keep_global);
void tlb_flush_page(struct soft_tlb *t, uint64_t lin);
/* Drops write permission of every entry that maps physical page pa. */
void tlb_protect_phys(struct soft_tlb *t, uint64_t pa);

#endif
