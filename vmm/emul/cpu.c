/* The emulator core: memory slow paths, the decode cache, exceptions and
 * the block loop.  See emul.h for the design. */
#include <stdio.h>
#include <stdlib.h>

#include "emul_int.h"

#define MAX_BLOCK_INSNS 64
#define ARENA_INSNS (1u << 17)
#define MAX_BLOCKS (1u << 14)
#define HASH_BITS 14
#define MAX_INSN_LEN 15

/* A block's memory of where execution went after it: linear CS:RIP of
 * a successor and its block, valid while the TLB generation is the one
 * it was made in (no translation changed, no CPL 3 <-> 0-2 switch, no
 * cache flush: all of those bump it).  Saves the hash lookup. */
struct emu_chain {
    uint64_t lin, gen;
    struct emu_block *to;
};

struct emu_block {
    uint64_t phys;
    uint32_t phys_len;      /* bytes covered */
    struct emu_insn *insns;
    const struct emu_insn *end;     /* insns + nexec: where the loop stops */
    uint16_t n;             /* instructions */
    uint16_t nexec;         /* slots the loop runs: n - 1 when the last two are fused */
    uint8_t mode;
    bool valid;
    bool cached;            /* in the cache (not the scratch block): may be chained */
    uint8_t chain_next;     /* slot the next new successor replaces */
    int32_t hnext, pnext;   /* hash chain, page chain (RAM pages only) */
    struct emu_chain chain[2];  /* fall-through / taken, or the last two seen */
};

struct emu_cache {
    struct emu_decoder *dec;
    struct emu_insn *insns;
    uint32_t ninsns;
    struct emu_block *blocks;
    uint32_t nblocks;
    int32_t hash[1u << HASH_BITS];
    int32_t *page_head;
    uint64_t *code_mask;    /* per RAM page: 64-byte chunks that hold decoded code */
    struct emu_insn scratch_insn;
    struct emu_block scratch;
};

static struct emu_cache *cache(struct emu_cpu *c) { return c->cache; }

/* ---- exceptions ---- */

_Noreturn void emu_raise(struct emu_cpu *c, int vec, uint32_t err, bool has_err)
{
    c->exc_vec = vec;
    c->exc_err = err;
    c->exc_has_err = has_err;
    siglongjmp(c->jb, 1);
}

_Noreturn void emu_unimplemented(struct emu_cpu *c, const char *what)
{
    c->st.unimplemented++;
    snprintf(c->unimpl_msg, sizeof(c->unimpl_msg), "%s at %04x:%08llx", what, c->seg[CS_].sel,
             (unsigned long long)c->rip);
    if (c->env.log)
        c->env.log(c->env.opaque, c->unimpl_msg);
    RAISE_UD(c);
}

_Noreturn void emu_seg_fault(struct emu_cpu *c, int seg)
{
    emu_raise(c, seg == SS_ ? EXC_SS : EXC_GP, 0, true);
}

/* ---- physical memory ---- */

static uint64_t a20(const struct emu_cpu *c, uint64_t pa)
{
    return c->a20 ? pa : pa & ~(1ull << 20);
}

static bool phys_read(void *o, uint64_t pa, unsigned size, uint64_t *v)
{
    struct emu_cpu *c = o;
    pa = a20(c, pa);
    const struct mem_slot *s = mem_lookup(c->mem, pa);
    if (!s || pa + size > s->gpa + s->size)
        return false;
    *v = 0;
    memcpy(v, s->host + (pa - s->gpa), size);
    return true;
}

static void phys_write(void *o, uint64_t pa, unsigned size, uint64_t v)
{
    struct emu_cpu *c = o;
    pa = a20(c, pa);
    const struct mem_slot *s = mem_lookup(c->mem, pa);
    if (s && !s->readonly && pa + size <= s->gpa + s->size)
        memcpy(s->host + (pa - s->gpa), &v, size);
}

static int64_t ram_page(const struct emu_cpu *c, uint64_t pa)
{
    int64_t off = mem_ram_offset(c->mem, pa);
    return off < 0 ? -1 : off >> 12;
}

static bool page_has_code(const struct emu_cpu *c, uint64_t pa)
{
    int64_t p = ram_page(c, pa);
    return p >= 0 && __atomic_load_n(&c->code_page[p], __ATOMIC_RELAXED);
}

/* Linear -> physical, filling the TLB unless `sys` (supervisor accesses
 * on behalf of a CPL3 instruction must not leave user-visible entries). */
static uint64_t xlate(struct emu_cpu *c, uint64_t lin, unsigned acc, bool sys)
{
    struct pg_result r;
    uint32_t err;
    unsigned a = acc | ((c->cpl == 3 && !sys) ? PG_ERR_U : 0);
    struct pg_regs regs = { c->cr0, c->cr3, c->cr4, c->efer };
    struct pg_phys pm = { phys_read, phys_write, c };
    if (pg_walk(&regs, &pm, lin, a, &r, &err) < 0) {
        if (!((c->cr4 & PG_CR4_PAE) && (c->efer & PG_EFER_NXE)))
            err &= ~PG_ERR_I;
        c->cr2 = lin;
        emu_raise(c, EXC_PF, err, true);
    }
    uint64_t pa = a20(c, r.pa);
    if (sys)
        return pa;
    struct tlb_entry *e = tlb_slot(&c->tlb, lin);
    uint64_t page = lin & ~0xFFFull;
    uint64_t ppage = pa & ~0xFFFull;
    const struct mem_slot *s = mem_lookup(c->mem, ppage);
    c->tlb.fills++;
    e->phys = ppage;
    e->global = r.global;
    e->nx = r.nx;
    e->tag_read = e->tag_write = TLB_INVALID;
    if (s && ppage >= s->gpa && ppage + 4096 <= s->gpa + s->size) {
        e->addend = (uintptr_t)(s->host + (ppage - s->gpa)) - (uintptr_t)page;
        e->tag_read = page;
        if ((acc & PG_ERR_W) && !s->readonly && !page_has_code(c, ppage))
            e->tag_write = page;
    }
    return pa;
}

static uint64_t phys_load(struct emu_cpu *c, uint64_t pa, unsigned size)
{
    const struct mem_slot *s = mem_lookup(c->mem, pa);
    if (s && pa + size <= s->gpa + s->size)
        return ld_host(s->host + (pa - s->gpa), size);
    uint64_t v = 0;
    c->env.mmio(c->env.opaque, pa, size, false, &v);
    return v;
}

static void smc_invalidate(struct emu_cpu *c, uint64_t pa, unsigned len);

static void phys_store(struct emu_cpu *c, uint64_t pa, unsigned size, uint64_t v)
{
    const struct mem_slot *s = mem_lookup(c->mem, pa);
    if (s && pa + size <= s->gpa + s->size) {
        if (s->readonly)
            return;             /* ROM / read-only shadow: dropped like the chipset does */
        if (page_has_code(c, pa))
            smc_invalidate(c, pa, size);
        st_host(s->host + (pa - s->gpa), size, v);
        return;
    }
    uint64_t w = v;
    c->env.mmio(c->env.opaque, pa, size, true, &w);
}

uint64_t emu_lin_read_slow(struct emu_cpu *c, uint64_t lin, unsigned size, unsigned acc)
{
    if ((lin & 0xFFF) + size > 4096) {
        uint64_t v = 0;
        for (unsigned k = 0; k < size; k++)
            v |= emu_lin_read_slow(c, lin + k, 1, acc) << (8 * k);
        return v;
    }
    return phys_load(c, xlate(c, lin, acc, false), size);
}

void emu_lin_write_slow(struct emu_cpu *c, uint64_t lin, unsigned size, uint64_t val)
{
    if ((lin & 0xFFF) + size > 4096) {
        /* Both pages must be writable before any byte lands; a fault on
         * the second page reports its first byte in CR2, as hardware does. */
        xlate(c, lin, PG_ERR_W, false);
        xlate(c, (lin + size - 1) & ~0xFFFull, PG_ERR_W, false);
        for (unsigned k = 0; k < size; k++)
            phys_store(c, xlate(c, lin + k, PG_ERR_W, false), 1, val >> (8 * k));
        return;
    }
    phys_store(c, xlate(c, lin, PG_ERR_W, false), size, val);
}

uint64_t emu_sys_read(struct emu_cpu *c, uint64_t lin, unsigned size)
{
    uint64_t v = 0;
    for (unsigned k = 0; k < size; k++)
        v |= phys_load(c, xlate(c, lin + k, 0, true), 1) << (8 * k);
    return v;
}

void emu_sys_write(struct emu_cpu *c, uint64_t lin, unsigned size, uint64_t val)
{
    for (unsigned k = 0; k < size; k++)
        phys_store(c, xlate(c, lin + k, PG_ERR_W, true), 1, val >> (8 * k));
}

/* Bulk REP MOVS/STOS (ops.c).  lin is the first element's address and
 * [lo, lo+len) the bytes the chunk touches, all inside lin's page.  The
 * page is translated exactly as that element's access would translate
 * it (same #PF and CR2, same A/D bits, the soft TLB filled the same way),
 * so a fault here is the element path's fault.  Writes to a page with
 * decoded code invalidate the blocks [lo, lo+len) overlaps first, as the
 * element writes would one after another.  NULL when the page is not
 * host memory this access may touch directly (MMIO: devices see every
 * access; a write to ROM, which is dropped): the caller then goes
 * element by element. */
uint8_t *emu_lin_host(struct emu_cpu *c, uint64_t lin, uint64_t lo, uint64_t len, bool write)
{
    uint64_t page = lin & ~0xFFFull;
    struct tlb_entry *e = tlb_slot(&c->tlb, lin);
    if ((write ? e->tag_write : e->tag_read) != page) {
        uint64_t pa = xlate(c, lin, write ? PG_ERR_W : 0, false);
        if (e->tag_read != page)
            return NULL;                    /* not wholly in a host-backed slot */
        if (write && e->tag_write != page) {
            /* Host-backed but writes must not go straight there: ROM, or
             * a page holding decoded code (see xlate). */
            const struct mem_slot *s = mem_lookup(c->mem, pa);
            if (!s || s->readonly || !page_has_code(c, pa))
                return NULL;
            smc_invalidate(c, (pa & ~0xFFFull) | (lo & 0xFFF), (unsigned)len);
        }
    }
    return (uint8_t *)(uintptr_t)(lo + e->addend);
}

/* ---- decode cache ---- */

static void cache_flush(struct emu_cpu *c)
{
    struct emu_cache *k = cache(c);
    k->ninsns = 0;
    k->nblocks = 0;
    c->tlb.gen++;           /* chains point into the arenas being reused */
    for (unsigned i = 0; i < (1u << HASH_BITS); i++)
        k->hash[i] = -1;
    for (uint64_t p = 0; p < c->ram_pages; p++)
        if (c->code_page[p]) {
            __atomic_store_n(&c->code_page[p], 0, __ATOMIC_SEQ_CST);
            k->page_head[p] = -1;
            k->code_mask[p] = 0;
        }
    c->st.cache_flushes++;
}

static unsigned hash_of(uint64_t pa, uint8_t mode)
{
    uint64_t h = (pa ^ ((uint64_t)mode << 40)) * 0x9E3779B97F4A7C15ull;
    return (unsigned)(h >> (64 - HASH_BITS));
}

/* The 64-byte chunks of a page that [off, off+len) touches (off < 4096). */
static uint64_t chunk_mask(uint64_t off, uint64_t len)
{
    uint64_t end = len > 4096 - off ? 4096 : off + len;
    unsigned first = (unsigned)(off >> 6), last = (unsigned)((end - 1) >> 6);
    uint64_t hi = last == 63 ? ~0ull : (2ull << last) - 1;
    return hi & ~((1ull << first) - 1);
}

/* Invalidates the blocks of RAM page p that overlap [pa, pa+len).  Pages
 * that mix code and data (stacks, variables next to code) take writes all
 * the time: the chunk mask turns the common no-overlap case into one AND
 * instead of a walk over the page's blocks. */
static void invalidate_page(struct emu_cpu *c, int64_t p, uint64_t pa, uint64_t len)
{
    struct emu_cache *k = cache(c);
    bool whole = len >= 4096 || (pa >> 12) != ((pa + len - 1) >> 12);
    if (!whole && !(k->code_mask[p] & chunk_mask(pa & 0xFFF, len)))
        return;
    bool any_left = false;
    uint64_t left = 0;
    for (int32_t b = k->page_head[p]; b >= 0; b = k->blocks[b].pnext) {
        struct emu_block *bl = &k->blocks[b];
        if (!bl->valid)
            continue;
        if (bl->phys < pa + len && pa < bl->phys + bl->phys_len) {
            bl->valid = false;
            c->st.smc_invalidations++;
            if (bl == c->cur_block)
                c->stop_block = true;
        } else {
            any_left = true;
            left |= chunk_mask(bl->phys & 0xFFF, bl->phys_len ? bl->phys_len : 1);
        }
    }
    k->code_mask[p] = left;
    if (!any_left) {
        k->page_head[p] = -1;
        __atomic_store_n(&c->code_page[p], 0, __ATOMIC_SEQ_CST);
    }
}

static void smc_invalidate(struct emu_cpu *c, uint64_t pa, unsigned len)
{
    int64_t p = ram_page(c, pa);
    if (p >= 0)
        invalidate_page(c, p, pa, len);
}

static void handle_dma(struct emu_cpu *c)
{
    atomic_store(&c->dma_pending, false);
    for (uint64_t p = 0; p < c->ram_pages; p++)
        if (atomic_exchange(&c->stale_page[p], 0) && c->code_page[p])
            invalidate_page(c, (int64_t)p, 0, UINT64_MAX);
}

void emu_ram_written(struct emu_cpu *c, uint64_t gpa, uint64_t len)
{
    if (!c->code_page || len == 0)
        return;
    bool hit = false;
    for (uint64_t a = gpa & ~0xFFFull; a < gpa + len && a >= (gpa & ~0xFFFull); a += 4096) {
        int64_t p = ram_page(c, a);
        if (p >= 0 && __atomic_load_n(&c->code_page[p], __ATOMIC_SEQ_CST)) {
            atomic_store(&c->stale_page[p], 1);
            hit = true;
        }
    }
    if (hit)
        atomic_store(&c->dma_pending, true);
}

void emu_map_changed(struct emu_cpu *c)
{
    c->map_gen++;
    c->stop_block = true;
}

/* Reads instruction bytes for an uncached instruction (may cross pages or
 * come from MMIO). */
static unsigned fetch_uncached(struct emu_cpu *c, uint64_t lin, uint8_t *buf)
{
    unsigned n = 0;
    while (n < MAX_INSN_LEN) {
        uint64_t pa = xlate(c, lin + n, PG_ERR_I, false);
        unsigned chunk = 4096 - ((lin + n) & 0xFFF);
        for (unsigned k = 0; k < chunk && n < MAX_INSN_LEN; k++, n++)
            buf[n] = (uint8_t)phys_load(c, pa + k, 1);
    }
    return n;
}

/* Decoder mode of the current CS: 0 16-bit, 1 32-bit, 2 64-bit. */
static unsigned code_mode(const struct emu_cpu *c)
{
    return c->code64 ? 2 : c->seg[CS_].db;
}

/* Block-cache key bits: CS.D, CS.L and EFER.LMA. */
static uint8_t mode_key(const struct emu_cpu *c)
{
    return (uint8_t)(c->seg[CS_].db | (c->seg[CS_].l << 1) | (c->lma << 2));
}

static uint64_t cs_lin(const struct emu_cpu *c)
{
    return c->code64 ? c->rip : (uint32_t)(c->seg[CS_].base + c->rip);
}

/* Fetch limit/canonical check of RIP. */
static void check_fetch(struct emu_cpu *c)
{
    if (c->code64) {
        if (unlikely(!canonical(c->rip)))
            RAISE_GP(c, 0);
    } else if (unlikely(c->rip > c->seg[CS_].limit && c->pe)) {
        RAISE_GP(c, 0);
    }
}

static struct emu_block *uncached_block(struct emu_cpu *c, uint64_t lin)
{
    struct emu_cache *k = cache(c);
    uint8_t buf[MAX_INSN_LEN];
    unsigned n = fetch_uncached(c, lin, buf);
    if (emu_decode(k->dec, buf, n, c->eip, code_mode(c), &k->scratch_insn) == 0)
        k->scratch_insn = (struct emu_insn){ .fn = h_ud, .len = 1 };
    k->scratch = (struct emu_block){ .insns = &k->scratch_insn, .end = &k->scratch_insn + 1,
                                     .n = 1, .nexec = 1, .valid = true,
                                     .hnext = -1, .pnext = -1 };
    c->st.uncached_insns++;
    return &k->scratch;
}

static struct emu_block *decode_block(struct emu_cpu *c, uint64_t lin, uint64_t pa, uint8_t mode)
{
    struct emu_cache *k = cache(c);
    const struct mem_slot *s = mem_lookup(c->mem, pa);
    if (!s || (s->kind == SLOT_DEVICE && !s->readonly))
        return uncached_block(c, lin);
    if (k->nblocks >= MAX_BLOCKS || k->ninsns + MAX_BLOCK_INSNS > ARENA_INSNS)
        cache_flush(c);
    const uint8_t *host = s->host + (pa - s->gpa);
    uint64_t avail_total = 4096 - (pa & 0xFFF);
    if (s->gpa + s->size - pa < avail_total)
        avail_total = s->gpa + s->size - pa;
    int64_t p = ram_page(c, pa);
    bool ram = p >= 0 && host == c->mem->ram + mem_ram_offset(c->mem, pa);
    if (ram) {
        /* Before reading the bytes: a concurrent DMA then either sees the
         * flag or we see its data.  A page that already held code has no
         * writable TLB entry (fills check the flag), so the TLB scan is
         * only for a page that becomes code. */
        if (!__atomic_exchange_n(&c->code_page[p], 1, __ATOMIC_SEQ_CST))
            tlb_protect_phys(&c->tlb, pa);
    }
    struct emu_insn *dst = &k->insns[k->ninsns];
    unsigned n = 0, pos = 0;
    while (n < MAX_BLOCK_INSNS && pos < avail_total) {
        unsigned avail = (unsigned)(avail_total - pos);
        unsigned len = emu_decode(k->dec, host + pos, avail < MAX_INSN_LEN ? avail : MAX_INSN_LEN,
                                  c->eip + pos, code_mode(c), &dst[n]);
        if (len == 0) {
            if (avail < MAX_INSN_LEN) {
                if (n == 0)
                    return uncached_block(c, lin);
                break;
            }
            dst[n] = (struct emu_insn){ .fn = h_ud, .len = 1 };
            n++;
            break;
        }
        pos += len;
        n++;
        if (emu_insn_ends_block(&dst[n - 1]))
            break;
    }
    struct emu_block *b = &k->blocks[k->nblocks];
    unsigned nexec = emu_fuse_tail(dst, n);
    emu_thread_block(dst, nexec);
    *b = (struct emu_block){ .phys = pa, .phys_len = pos, .insns = dst, .end = dst + nexec,
                             .n = (uint16_t)n,
                             .nexec = (uint16_t)nexec, .mode = mode, .valid = true,
                             .cached = true, .pnext = -1 };
    unsigned h = hash_of(pa, mode);
    b->hnext = k->hash[h];
    k->hash[h] = (int32_t)k->nblocks;
    if (ram) {
        b->pnext = k->page_head[p];
        k->page_head[p] = (int32_t)k->nblocks;
        k->code_mask[p] |= chunk_mask(pa & 0xFFF, pos ? pos : 1);
    }
    k->nblocks++;
    k->ninsns += n;
    c->st.blocks_decoded++;
    c->st.insns_decoded += n;
    return b;
}

static struct emu_block *lookup_block(struct emu_cpu *c, uint64_t lin, uint8_t mode);

/* The block at CS:RIP.  `prev` (the block that just ran, or NULL) is
 * asked first: its chain slots remember where it went before.  In 64-bit
 * mode a chain hit needs no canonical check: RIP is the linear address,
 * which passed check_fetch when the chain slot was filled. */
static struct emu_block *find_block(struct emu_cpu *c, struct emu_block *prev)
{
    bool code64 = c->code64;
    uint64_t lin = code64 ? c->rip : (uint32_t)(c->seg[CS_].base + c->rip);
    uint8_t mode = mode_key(c);
    uint64_t gen = c->tlb.gen;
    if (prev) {
        for (unsigned k = 0; k < 2; k++) {
            struct emu_chain *ch = &prev->chain[k];
            if (ch->lin == lin && ch->gen == gen && ch->to->valid && ch->to->mode == mode) {
                if (!code64)
                    check_fetch(c);     /* the CS limit may differ */
                return ch->to;      /* counted as blocks_run - cache lookups */
            }
        }
    }
    check_fetch(c);
    struct emu_block *b = lookup_block(c, lin, mode);
    if (prev && b->cached) {
        struct emu_chain *ch = &prev->chain[prev->chain_next];
        prev->chain_next ^= 1;
        *ch = (struct emu_chain){ .lin = lin, .gen = c->tlb.gen, .to = b };
    }
    return b;
}

static struct emu_block *lookup_block(struct emu_cpu *c, uint64_t lin, uint8_t mode)
{
    struct tlb_entry *e = tlb_slot(&c->tlb, lin);
    uint64_t pa;
    if (likely(e->tag_read == (lin & ~0xFFFull) && !e->nx))
        pa = e->phys | (lin & 0xFFF);
    else
        pa = xlate(c, lin, PG_ERR_I, false);
    struct emu_cache *k = cache(c);
    for (int32_t i = k->hash[hash_of(pa, mode)]; i >= 0; i = k->blocks[i].hnext) {
        struct emu_block *b = &k->blocks[i];
        if (b->phys == pa && b->mode == mode && b->valid) {
            c->st.cache_hits++;
            return b;
        }
    }
    c->st.cache_misses++;
    return decode_block(c, lin, pa, mode);
}

/* ---- exception delivery ---- */

static bool contributory(int v)
{
    return v == EXC_DE || v == EXC_TS || v == EXC_NP || v == EXC_SS || v == EXC_GP;
}

/* Delivers c->exc_* with return address c->eip.  A fault during delivery
 * re-enters here through the sigsetjmp.  Returns false on triple fault. */
static bool deliver(struct emu_cpu *c)
{
    if (sigsetjmp(c->jb, 0)) {
        int first = c->delivering, second = c->exc_vec;
        if (first == EXC_DF) {
            c->shutdown = true;
            c->delivering = -1;
            return false;
        }
        if ((contributory(first) && contributory(second)) ||
            (first == EXC_PF && (contributory(second) || second == EXC_PF))) {
            c->exc_vec = EXC_DF;
            c->exc_err = 0;
            c->exc_has_err = true;
        }
    }
    c->st.exceptions++;
    c->delivering = c->exc_vec;
    c->halted = false;
    emu_do_interrupt(c, c->exc_vec, false, c->exc_has_err, c->exc_err, c->eip);
    c->delivering = -1;
    return true;
}

bool emu_can_take_intr(const struct emu_cpu *c)
{
    return (c->eflags & F_IF) && !c->intr_shadow;
}

bool emu_interrupt(struct emu_cpu *c, int vec)
{
    c->st.interrupts++;
    c->halted = false;
    if (sigsetjmp(c->jb, 0)) {
        /* a fault while delivering an external interrupt: handled like a
         * fault of the interrupted instruction boundary */
        c->delivering = -1;
        return deliver(c);
    }
    c->delivering = -1;
    emu_do_interrupt(c, vec & 0xFF, false, false, 0, c->eip);
    return true;
}

/* ---- the block loop ---- */

static void apply_map_change(struct emu_cpu *c)
{
    c->seen_map_gen = c->map_gen;
    tlb_flush_all(&c->tlb, false);
    cache_flush(c);
}

/* Instructions of the current block that completed before a fault at
 * c->rip (the loop counts per block, not per instruction). */
static unsigned insns_before_fault(const struct emu_cpu *c)
{
    const struct emu_block *b = c->cur_block;
    if (!b)
        return 0;
    uint64_t rip = c->blk_rip;
    for (unsigned j = 0; j < b->n; j++) {
        if (rip == c->rip)
            return j;
        rip = (rip + b->insns[j].len) & c->ip_mask;
    }
    return 0;
}

/* The one instruction after STI / MOV SS, alone so an interrupt is taken
 * right after it: a threaded slot runs its base (unthreaded) handler, and
 * if it opens a fused compare + Jcc slot it runs unfused from the scratch
 * block instead.  Returns the block it ran from. */
static struct emu_block *run_shadow(struct emu_cpu *c, struct emu_block *b)
{
    if (b->nexec == 1 && b->n == 2)
        b = uncached_block(c, cs_lin(c));
    c->intr_shadow = false;
    c->cur_block = b;
    c->blk_rip = c->rip;
    c->st.blocks_run++;
    const struct emu_insn *in = b->insns;
    emu_handler fn = in->run ? emu_unthreaded_form(in->fn) : in->fn;
    c->at = in;
    fn(c, in);
    c->stop_block = false;
    c->st.insns++;
    return b;
}

static enum emu_exit run_blocks(struct emu_cpu *c, uint64_t target)
{
    struct emu_block *prev = NULL;
    while (c->st.insns < target) {
        if (unlikely(c->map_gen != c->seen_map_gen))
            apply_map_change(c);
        if (unlikely(atomic_load_explicit(&c->dma_pending, memory_order_relaxed)))
            handle_dma(c);
        if (unlikely(atomic_load_explicit(&c->kick, memory_order_relaxed)))
            return EMU_STOP;
        if (unlikely(c->halted))
            return EMU_HLT;
        bool shadow = c->intr_shadow;
        if ((c->eflags & F_IF) && !shadow && c->env.intr_line &&
            atomic_load_explicit(c->env.intr_line, memory_order_relaxed))
            return EMU_IRQ_CHECK;
        struct emu_block *b = find_block(c, prev);
        if (unlikely(shadow)) {
            b = run_shadow(c, b);
            prev = b->cached ? b : NULL;
            continue;
        }
        c->cur_block = b;
        c->blk_rip = c->rip;
        c->st.blocks_run++;
        /* Threaded handlers (ops.c) run on to the next slot themselves, up
         * to in + in->run; one that stops early (stop_block) leaves itself
         * in c->at.  Without stop_block the slots run up to b->end
         * exactly: b->n instructions (a fused last slot is two). */
        const struct emu_insn *in = b->insns, *end = b->end;
        do {
            c->at = in + in->run;
            in->fn(c, in);
            in = c->at + 1;
        } while (in < end && !c->stop_block);
        if (unlikely(c->stop_block)) {
            c->stop_block = false;
            c->st.insns += in == end ? b->n : (uint64_t)(in - b->insns);
        } else {
            c->st.insns += b->n;
        }
        prev = b->cached ? b : NULL;
    }
    return EMU_BUDGET;
}

enum emu_exit emu_run(struct emu_cpu *c, uint64_t budget)
{
    uint64_t target = c->st.insns + budget;
    /* A fault storm (a handler whose first instruction faults again, with
     * a stack that never runs out) retires no instruction: every delivery
     * counts against the budget too, or this call would never return. */
    volatile uint64_t deliveries = 0;   /* survives the siglongjmp */
    if (c->shutdown)
        return EMU_SHUTDOWN;
    for (;;) {
        if (sigsetjmp(c->jb, 0) == 0)
            return run_blocks(c, target);
        c->st.insns += insns_before_fault(c);
        c->stop_block = false;
        c->cur_block = NULL;
        c->delivering = -1;
        if (!deliver(c))
            return EMU_SHUTDOWN;
        if (++deliveries >= budget)
            return EMU_BUDGET;
    }
}

int emu_step(struct emu_cpu *c)
{
    if (c->shutdown)
        return -1;
    if (sigsetjmp(c->jb, 0)) {
        int vec = c->exc_vec;
        c->stop_block = false;
        c->cur_block = NULL;
        c->delivering = -1;
        return deliver(c) ? vec + 1 : -1;
    }
    check_fetch(c);
    /* Uncached on purpose: the caller (KVM assist) lets another engine
     * write guest RAM without telling us, so nothing decoded may stay. */
    struct emu_block *b = uncached_block(c, cs_lin(c));
    c->intr_shadow = false;
    c->cur_block = NULL;
    b->insns[0].fn(c, &b->insns[0]);
    c->st.insns++;
    c->stop_block = false;
    return 0;
}

int emu_step_bytes(struct emu_cpu *c, const uint8_t *bytes, unsigned len)
{
    struct emu_cache *k = cache(c);
    if (sigsetjmp(c->jb, 0)) {
        int vec = c->exc_vec;
        c->delivering = -1;
        deliver(c);
        return vec + 1;
    }
    if (emu_decode(k->dec, bytes, len, c->eip, code_mode(c), &k->scratch_insn) == 0)
        k->scratch_insn = (struct emu_insn){ .fn = h_ud, .len = 1 };
    c->stop_block = false;
    k->scratch_insn.fn(c, &k->scratch_insn);
    c->st.insns++;
    return 0;
}

/* ---- state ---- */

void emu_seg_update_rights(struct emu_seg *s)
{
    bool code = s->type & 8;
    if (!s->s) {
        s->rd = s->wr = false;
    } else if (code) {
        s->rd = s->type & 2;
        s->wr = false;
    } else {
        s->rd = true;
        s->wr = s->type & 2;
    }
    if (!s->valid || !s->present)
        s->rd = s->wr = false;
    if (s->s && !code && (s->type & 4)) {      /* expand-down */
        s->lo = s->limit + 1;
        s->hi = s->db ? 0xFFFFFFFFu : 0xFFFF;
        if (s->lo == 0)
            s->rd = s->wr = false;             /* limit 0xFFFFFFFF: empty */
    } else {
        s->lo = 0;
        s->hi = s->limit;
    }
}

static void seg_in(struct emu_seg *d, const struct x86_seg *s, bool pe)
{
    *d = (struct emu_seg){ .base = s->base, .limit = s->limit, .sel = s->selector,
                           .type = s->type, .dpl = s->dpl, .present = s->present, .s = s->s,
                           .db = s->db, .l = s->l, .g = s->g, .avl = s->avl,
                           .valid = !s->unusable || !pe };
    if (!pe) {
        d->valid = true;
        d->present = true;
    }
    emu_seg_update_rights(d);
    if (!pe)
        d->rd = d->wr = true;
}

/* Real mode checks segment limits but never access rights: a write through
 * CS (ISOLINUX saves SS:SP with "mov [cs:x], sp") must work although the
 * CS cache holds a code type.  Protected mode uses the cached type again.
 * Called whenever CR0.PE changes. */
void emu_refresh_seg_rights(struct emu_cpu *c)
{
    for (int i = 0; i < 6; i++) {
        emu_seg_update_rights(&c->seg[i]);
        if (!c->pe)
            c->seg[i].rd = c->seg[i].wr = true;
    }
}

static void seg_out(struct x86_seg *d, const struct emu_seg *s)
{
    *d = (struct x86_seg){ .base = s->base, .limit = s->limit, .selector = s->sel,
                           .type = s->type, .present = s->present, .s = s->s, .db = s->db,
                           .l = s->l, .g = s->g, .avl = s->avl, .unusable = !s->valid, .dpl = s->dpl };
}

void emu_set_state(struct emu_cpu *c, const struct x86_state *s)
{
    for (int i = 0; i < 16; i++)
        c->r[i] = s->gpr[i];
    c->rip = s->rip;
    c->lf.op = LF_NONE;
    c->eflags = ((uint32_t)s->rflags | 2u) & ~(0x8u | 0x20u | 0x8000u);
    c->cr0 = s->cr0;
    c->cr2 = s->cr2;
    c->cr3 = s->cr3;
    c->cr4 = s->cr4;
    c->cr8 = s->cr8;
    c->efer = s->efer;
    c->lma = (s->efer & PG_EFER_LMA) != 0;
    c->pe = c->cr0 & 1;
    c->pg = c->cr0 & PG_CR0_PG;
    for (int i = 0; i < 6; i++)
        seg_in(&c->seg[i], &s->seg[i], c->pe);
    seg_in(&c->ldtr, &s->ldt, true);
    seg_in(&c->tr, &s->tr, true);
    c->gdt.base = s->gdt.base;
    c->gdt.limit = s->gdt.limit;
    c->idt.base = s->idt.base;
    c->idt.limit = s->idt.limit;
    c->cpl = c->pe ? c->seg[CS_].dpl : 0;
    if (c->pe && (c->eflags & F_VM))
        c->cpl = 3;
    emu_update_mode(c);
    tlb_flush_all(&c->tlb, false);
}

void emu_get_state(struct emu_cpu *c, struct x86_state *s)
{
    memset(s, 0, sizeof(*s));
    for (int i = 0; i < 16; i++)
        s->gpr[i] = c->r[i];
    s->rip = c->rip;
    s->rflags = emu_get_eflags(c);
    for (int i = 0; i < 6; i++)
        seg_out(&s->seg[i], &c->seg[i]);
    seg_out(&s->ldt, &c->ldtr);
    seg_out(&s->tr, &c->tr);
    s->gdt = (struct x86_dtable){ c->gdt.base, c->gdt.limit };
    s->idt = (struct x86_dtable){ c->idt.base, c->idt.limit };
    s->cr0 = c->cr0;
    s->cr2 = c->cr2;
    s->cr3 = c->cr3;
    s->cr4 = c->cr4;
    s->cr8 = c->cr8;
    s->efer = c->efer;
}

void emu_reset(struct emu_cpu *c, const struct x86_state *s)
{
    emu_set_state(c, s);
    c->halted = c->shutdown = c->intr_shadow = false;
    c->delivering = -1;
    memset(c->dr, 0, sizeof(c->dr));
    c->dr[6] = 0xFFFF0FF0u;
    c->dr[7] = 0x400;
    fpu_reset(&c->fpu);
    c->xcr0 = 1;                /* x87 only (SDM 13.3) */
    c->star = c->lstar = c->cstar = c->sfmask = c->kernel_gs_base = c->tsc_aux = 0;
    c->apic_base = 0;
    c->pat = 0x0007040600070406ull;
    c->tsc_offset = 0;
    c->misc_enable = 1;
    c->map_gen++;
}

int emu_init(struct emu_cpu *c, struct guest_mem *mem, const struct emu_env *env)
{
    memset(c, 0, sizeof(*c));
    c->mem = mem;
    c->env = *env;
    c->a20 = true;
    c->delivering = -1;
    c->ram_pages = mem->ram_size >> 12;
    struct emu_cache *k = calloc(1, sizeof(*k));
    c->cache = k;
    c->code_page = calloc(c->ram_pages ? c->ram_pages : 1, 1);
    c->stale_page = calloc(c->ram_pages ? c->ram_pages : 1, sizeof(*c->stale_page));
    if (!k || !c->code_page || !c->stale_page)
        goto fail;
    k->insns = calloc(ARENA_INSNS, sizeof(*k->insns));
    k->blocks = calloc(MAX_BLOCKS, sizeof(*k->blocks));
    k->page_head = malloc((c->ram_pages ? c->ram_pages : 1) * sizeof(*k->page_head));
    k->code_mask = calloc(c->ram_pages ? c->ram_pages : 1, sizeof(*k->code_mask));
    k->dec = emu_decoder_new();
    if (!k->insns || !k->blocks || !k->page_head || !k->code_mask || !k->dec)
        goto fail;
    for (uint64_t p = 0; p < c->ram_pages; p++)
        k->page_head[p] = -1;
    emu_cpuid_init(c);
    cache_flush(c);
    c->st.cache_flushes = 0;
    tlb_flush_all(&c->tlb, false);
    struct x86_state s;
    x86_reset_state(&s);
    emu_reset(c, &s);
    return 0;
fail:
    emu_fini(c);
    return -1;
}

void emu_fini(struct emu_cpu *c)
{
    struct emu_cache *k = c->cache;
    if (k) {
        if (k->dec)
            emu_decoder_free(k->dec);
        free(k->insns);
        free(k->blocks);
        free(k->page_head);
        free(k->code_mask);
        free(k);
    }
    free(c->code_page);
    free((void *)c->stale_page);
    c->cache = NULL;
    c->code_page = NULL;
    c->stale_page = NULL;
}
