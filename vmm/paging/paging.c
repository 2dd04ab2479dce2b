#include "paging.h"

#include <string.h>

#define PTE_P   (1ull << 0)
#define PTE_W   (1ull << 1)
#define PTE_U   (1ull << 2)
#define PTE_A   (1ull << 5)
#define PTE_D   (1ull << 6)
#define PTE_PS  (1ull << 7)
#define PTE_G   (1ull << 8)
#define PTE_NX  (1ull << 63)
#define PAE_ADDR 0x000FFFFFFFFFF000ull      /* 52-bit physical addresses */

static int fault(uint32_t *err, unsigned access, bool present)
{
    *err = (access & (PG_ERR_W | PG_ERR_U | PG_ERR_I)) | (present ? PG_ERR_P : 0);
    return -1;
}

/* Permission check shared by both formats: u/w are the AND of every level. */
static bool allowed(const struct pg_regs *r, unsigned access, bool u, bool w, bool nx)
{
    if ((access & PG_ERR_U) && !u)
        return false;
    if (access & PG_ERR_W) {
        /* Supervisor writes ignore R/W unless CR0.WP. */
        if (!w && ((access & PG_ERR_U) || (r->cr0 & PG_CR0_WP)))
            return false;
    }
    if ((access & PG_ERR_I) && nx)
        return false;
    return true;
}

static void set_bits(const struct pg_phys *mem, uint64_t pa, unsigned size, uint64_t old,
                     uint64_t bits)
{
    if ((old & bits) != bits)
        mem->write(mem->opaque, pa, size, old | bits);
}

static void fill(struct pg_result *res, uint64_t pa, bool u, bool w, bool g, bool nx,
                 uint32_t psize, const struct pg_regs *r, unsigned access)
{
    res->pa = pa;
    res->user = u;
    /* writable as seen by an access of this privilege */
    res->writable = w || (!(access & PG_ERR_U) && !(r->cr0 & PG_CR0_WP));
    res->global = g && (r->cr4 & PG_CR4_PGE);
    res->nx = nx;
    res->page_size = psize;
}

static int walk2(const struct pg_regs *r, const struct pg_phys *mem, uint32_t lin,
                 unsigned access, struct pg_result *res, uint32_t *err)
{
    uint64_t pde_pa = (r->cr3 & 0xFFFFF000u) + ((lin >> 22) << 2), pde;
    if (!mem->read(mem->opaque, pde_pa, 4, &pde) || !(pde & PTE_P))
        return fault(err, access, false);
    if ((pde & PTE_PS) && (r->cr4 & PG_CR4_PSE)) {
        bool u = pde & PTE_U, w = pde & PTE_W;
        if (!allowed(r, access, u, w, false))
            return fault(err, access, true);
        set_bits(mem, pde_pa, 4, pde, PTE_A | ((access & PG_ERR_W) ? PTE_D : 0));
        /* PSE-36: bits 13..20 of the PDE are physical address bits 32..39 */
        uint64_t base = (pde & 0xFFC00000u) | ((pde >> 13) & 0xFFull) << 32;
        fill(res, base + (lin & 0x3FFFFF), u, w, pde & PTE_G, false, 4u << 20, r, access);
        return 0;
    }
    uint64_t pte_pa = (pde & 0xFFFFF000u) + (((lin >> 12) & 0x3FF) << 2), pte;
    if (!mem->read(mem->opaque, pte_pa, 4, &pte) || !(pte & PTE_P))
        return fault(err, access, false);
    bool u = (pde & PTE_U) && (pte & PTE_U), w = (pde & PTE_W) && (pte & PTE_W);
    if (!allowed(r, access, u, w, false))
        return fault(err, access, true);
    set_bits(mem, pde_pa, 4, pde, PTE_A);
    set_bits(mem, pte_pa, 4, pte, PTE_A | ((access & PG_ERR_W) ? PTE_D : 0));
    fill(res, (pte & 0xFFFFF000u) + (lin & 0xFFF), u, w, pte & PTE_G, false, 4096, r, access);
    return 0;
}

/* Reserved bits of a PAE entry above MAXPHYADDR (we model 36 bits... keep
 * 52 bits but NX reserved without EFER.NXE). */
static bool pae_rsvd(const struct pg_regs *r, uint64_t e)
{
    return (e & PTE_NX) && !(r->efer & PG_EFER_NXE);
}

static int walk_pae(const struct pg_regs *r, const struct pg_phys *mem, uint32_t lin,
                    unsigned access, struct pg_result *res, uint32_t *err)
{
    uint64_t pdpte;
    uint64_t pdpte_pa = (r->cr3 & 0xFFFFFFE0u) + ((lin >> 30) << 3);
    if (!mem->read(mem->opaque, pdpte_pa, 8, &pdpte) || !(pdpte & PTE_P))
        return fault(err, access, false);
    uint64_t pde_pa = (pdpte & PAE_ADDR) + (((lin >> 21) & 0x1FF) << 3), pde;
    if (!mem->read(mem->opaque, pde_pa, 8, &pde) || !(pde & PTE_P))
        return fault(err, access, false);
    if (pae_rsvd(r, pde)) {
        fault(err, access, true);
        *err |= PG_ERR_RSVD;
        return -1;
    }
    bool nxe = r->efer & PG_EFER_NXE;
    if (pde & PTE_PS) {
        bool u = pde & PTE_U, w = pde & PTE_W, nx = nxe && (pde & PTE_NX);
        if (!allowed(r, access, u, w, nx))
            return fault(err, access, true);
        set_bits(mem, pde_pa, 8, pde, PTE_A | ((access & PG_ERR_W) ? PTE_D : 0));
        uint64_t base = pde & PAE_ADDR & ~0x1FFFFFull;
        fill(res, base + (lin & 0x1FFFFF), u, w, pde & PTE_G, nx, 2u << 20, r, access);
        return 0;
    }
    uint64_t pte_pa = (pde & PAE_ADDR) + (((lin >> 12) & 0x1FF) << 3), pte;
    if (!mem->read(mem->opaque, pte_pa, 8, &pte) || !(pte & PTE_P))
        return fault(err, access, false);
    if (pae_rsvd(r, pte)) {
        fault(err, access, true);
        *err |= PG_ERR_RSVD;
        return -1;
    }
    bool u = (pde & PTE_U) && (pte & PTE_U), w = (pde & PTE_W) && (pte & PTE_W);
    bool nx = nxe && ((pde | pte) & PTE_NX);
    if (!allowed(r, access, u, w, nx))
        return fault(err, access, true);
    set_bits(mem, pde_pa, 8, pde, PTE_A);
    set_bits(mem, pte_pa, 8, pte, PTE_A | ((access & PG_ERR_W) ? PTE_D : 0));
    fill(res, (pte & PAE_ADDR) + (lin & 0xFFF), u, w, pte & PTE_G, nx, 4096, r, access);
    return 0;
}

static int rsvd_fault(uint32_t *err, unsigned access)
{
    fault(err, access, true);
    *err |= PG_ERR_RSVD;
    return -1;
}

/* Long mode: PML4 -> PDPT -> PD -> PT, 9 bits each.  U/W are the AND of
 * all levels, NX the OR; A is set on every level used, D on the leaf. */
static int walk4(const struct pg_regs *r, const struct pg_phys *mem, uint64_t lin,
                 unsigned access, struct pg_result *res, uint32_t *err)
{
    uint64_t table = r->cr3 & PAE_ADDR, ent[4], pa[4];
    bool nxe = r->efer & PG_EFER_NXE, u = true, w = true, nx = false;
    int level;
    for (level = 0; level < 4; level++) {
        unsigned shift = 39 - 9 * (unsigned)level;
        pa[level] = table + (((lin >> shift) & 0x1FF) << 3);
        if (!mem->read(mem->opaque, pa[level], 8, &ent[level]) || !(ent[level] & PTE_P))
            return fault(err, access, false);
        uint64_t e = ent[level];
        if (pae_rsvd(r, e) || (level == 0 && (e & PTE_PS)))
            return rsvd_fault(err, access);
        u = u && (e & PTE_U);
        w = w && (e & PTE_W);
        nx = nx || (nxe && (e & PTE_NX));
        if (level == 3 || ((level == 1 || level == 2) && (e & PTE_PS)))
            break;
        table = e & PAE_ADDR;
    }
    if (!allowed(r, access, u, w, nx))
        return fault(err, access, true);
    for (int k = 0; k < level; k++)
        set_bits(mem, pa[k], 8, ent[k], PTE_A);
    set_bits(mem, pa[level], 8, ent[level], PTE_A | ((access & PG_ERR_W) ? PTE_D : 0));
    uint64_t e = ent[level];
    uint64_t psize = level == 1 ? 1ull << 30 : level == 2 ? 2ull << 20 : 4096;
    uint64_t base = (e & PAE_ADDR) & ~(psize - 1);
    fill(res, base + (lin & (psize - 1)), u, w, e & PTE_G, nx, (uint32_t)psize, r, access);
    return 0;
}

int pg_walk(const struct pg_regs *r, const struct pg_phys *mem, uint64_t lin, unsigned access,
            struct pg_result *res, uint32_t *err)
{
    if (!(r->cr0 & PG_CR0_PG)) {
        memset(res, 0, sizeof(*res));
        res->pa = (uint32_t)lin;
        res->writable = res->user = true;
        res->page_size = 4096;
        return 0;
    }
    if (r->efer & PG_EFER_LMA)
        return walk4(r, mem, lin, access, res, err);
    if (r->cr4 & PG_CR4_PAE)
        return walk_pae(r, mem, (uint32_t)lin, access, res, err);
    return walk2(r, mem, (uint32_t)lin, access, res, err);
}

void tlb_flush_all(struct soft_tlb *t, bool keep_global)
{
    t->flushes++;
    t->gen++;
    for (unsigned i = 0; i < TLB_SIZE; i++) {
        struct tlb_entry *e = &t->e[i];
        if (keep_global && e->global && !(e->tag_read & TLB_INVALID))
            continue;
        e->tag_read = e->tag_write = TLB_INVALID;
        e->addend = 0;
        e->global = false;
    }
}

void tlb_flush_page(struct soft_tlb *t, uint64_t lin)
{
    struct tlb_entry *e = tlb_slot(t, lin);
    t->gen++;
    if (e->tag_read == (lin & ~0xFFFull) || e->tag_write == (lin & ~0xFFFull)) {
        e->tag_read = e->tag_write = TLB_INVALID;
        e->global = false;
    }
}

void tlb_protect_phys(struct soft_tlb *t, uint64_t pa)
{
    for (unsigned i = 0; i < TLB_SIZE; i++)
        if (t->e[i].phys == (pa & ~0xFFFull))
            t->e[i].tag_write = TLB_INVALID;
}
