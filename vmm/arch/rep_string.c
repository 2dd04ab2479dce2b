/* REP MOVS / REP STOS in userspace: see rep_string.h. */
#include "rep_string.h"

#include <string.h>

#include "../paging/paging.h"

#define RFLAGS_DF (1ull << 10)
#define RFLAGS_AC (1ull << 18)
#define RFLAGS_VM (1ull << 17)
#define CR4_SMAP (1ull << 21)
#define EFER_LMA (1ull << 10)
#define PAGE 4096u

/* ---- decoding ---- */

static bool is_seg_prefix(uint8_t b, uint8_t *seg)
{
    switch (b) {
    case 0x26: *seg = X86_ES; return true;
    case 0x2E: *seg = X86_CS; return true;
    case 0x36: *seg = X86_SS; return true;
    case 0x3E: *seg = X86_DS; return true;
    case 0x64: *seg = X86_FS; return true;
    case 0x65: *seg = X86_GS; return true;
    default:   return false;
    }
}

int rep_decode(const uint8_t *b, size_t n, int code_bits, struct rep_insn *ri)
{
    bool rep = false, opsz = false, adsz = false, rex_w = false;
    uint8_t seg = X86_DS;
    size_t i = 0;
    if (n > 15)
        n = 15;     /* the architectural instruction length limit */
    for (; i < n; i++) {
        uint8_t p = b[i], s;
        if (p == 0xF3)
            rep = true;
        else if (p == 0xF2 || p == 0xF0)
            return -1;      /* REPNE: not a plain REP; LOCK: #UD, KVM's business */
        else if (p == 0x66)
            opsz = true;
        else if (p == 0x67)
            adsz = true;
        else if (is_seg_prefix(p, &s))
            seg = s;
        else
            break;
    }
    /* 64-bit mode: a REX prefix counts only right before the opcode. */
    if (code_bits == 64 && i < n && (b[i] & 0xF0) == 0x40) {
        rex_w = b[i] & 0x08;
        i++;
    }
    if (!rep || i >= n)
        return -1;
    uint8_t op = b[i];
    if (op != 0xA4 && op != 0xA5 && op != 0xAA && op != 0xAB)
        return -1;
    unsigned wide;
    if (code_bits == 64)
        wide = rex_w ? 8 : opsz ? 2 : 4;
    else if (code_bits == 32)
        wide = opsz ? 2 : 4;
    else
        wide = opsz ? 4 : 2;
    unsigned as = code_bits == 64 ? (adsz ? 4 : 8) : code_bits == 32 ? (adsz ? 2 : 4)
                                                                     : (adsz ? 4 : 2);
    *ri = (struct rep_insn){
        .kind = (op == 0xA4 || op == 0xA5) ? REP_MOVS : REP_STOS,
        .size = (uint8_t)((op & 1) ? wide : 1),
        .adsz = (uint8_t)as,
        .src_seg = seg,
        .len = (uint8_t)(i + 1),
    };
    return 0;
}

/* ---- address checks ---- */

struct rep_ctx {
    const struct rep_env *env;
    const struct x86_state *s;
    const struct rep_insn *ri;
    struct pg_regs pg;
    bool paging, mode64, pe, vm;
    unsigned cpl;
    uint64_t amask;
};

/* An element's whereabouts, checked. */
struct elem {
    uint64_t gpa;
    uint8_t *host;          /* RAM/ROM/device memory, or NULL: MMIO */
    bool readonly;
};

static bool ram_rd(void *o, uint64_t pa, unsigned size, uint64_t *v)
{
    uint8_t *p = mem_ptr(o, pa, size);
    if (!p)
        return false;
    *v = 0;
    memcpy(v, p, size);
    return true;
}

static void ram_wr(void *o, uint64_t pa, unsigned size, uint64_t v)
{
    uint8_t *p = mem_ptr(o, pa, size);
    if (p) {
        memcpy(p, &v, size);
        mem_notify_write(o, pa, size);
    }
}

static void ctx_init(struct rep_ctx *c, const struct rep_env *env, const struct x86_state *s,
                     const struct rep_insn *ri)
{
    *c = (struct rep_ctx){ .env = env, .s = s, .ri = ri };
    c->pe = s->cr0 & X86_CR0_PE;
    c->vm = c->pe && (s->rflags & RFLAGS_VM);
    c->paging = c->pe && (s->cr0 & X86_CR0_PG);
    c->mode64 = (s->efer & EFER_LMA) && s->seg[X86_CS].l;
    c->cpl = !c->pe ? 0 : c->vm ? 3 : s->seg[X86_CS].dpl;
    c->pg = (struct pg_regs){ s->cr0, s->cr3, s->cr4, s->efer };
    c->amask = ri->adsz == 8 ? ~0ull : ri->adsz == 4 ? 0xFFFFFFFFull : 0xFFFFull;
}

static bool canonical(uint64_t a) { return (uint64_t)((int64_t)(a << 16) >> 16) == a; }

/* Segment checks and the linear address of [seg:off], size bytes. */
static bool seg_linear(const struct rep_ctx *c, unsigned seg, uint64_t off, bool write,
                       uint64_t *lin)
{
    unsigned size = c->ri->size;
    const struct x86_seg *sg = &c->s->seg[seg];
    if (c->mode64) {
        uint64_t base = (seg == X86_FS || seg == X86_GS) ? sg->base : 0;
        *lin = base + off;
        return canonical(*lin) && canonical(*lin + size - 1);
    }
    if (c->pe && !c->vm) {
        bool code = sg->type & 8;
        if (sg->unusable || !sg->present || !sg->s)
            return false;
        if (write ? (code || !(sg->type & 2)) : (code && !(sg->type & 2)))
            return false;
        if (!code && (sg->type & 4)) {          /* expand-down: (limit, top] */
            uint64_t top = sg->db ? 0xFFFFFFFFull : 0xFFFFull;
            if (off <= sg->limit || off + size - 1 > top)
                return false;
            *lin = (sg->base + off) & 0xFFFFFFFFull;
            return true;
        }
    }
    if (off + size - 1 > sg->limit)
        return false;
    *lin = (sg->base + off) & 0xFFFFFFFFull;
    return true;
}

/* Linear -> guest-physical with the CPU's permission checks (access:
 * 0, PG_ERR_W or PG_ERR_I). */
static bool translate(const struct rep_ctx *c, uint64_t lin, unsigned kind, uint64_t *gpa)
{
    if (!c->paging) {
        *gpa = lin;
        return true;
    }
    struct pg_phys phys = { ram_rd, ram_wr, c->env->mem };
    struct pg_result r;
    uint32_t err;
    unsigned access = kind | (c->cpl == 3 ? PG_ERR_U : 0);
    if (pg_walk(&c->pg, &phys, lin, access, &r, &err) < 0)
        return false;
    /* SMAP: supervisor data access to a user page faults unless AC. */
    if (kind != PG_ERR_I && r.user && c->cpl < 3 && (c->s->cr4 & CR4_SMAP) &&
        !(c->s->rflags & RFLAGS_AC))
        return false;
    *gpa = r.pa;
    return true;
}

static bool locate(const struct rep_ctx *c, unsigned seg, uint64_t off, bool write,
                   uint64_t *gpa)
{
    uint64_t lin;
    if (!seg_linear(c, seg, off, write, &lin))
        return false;
    if ((lin & (PAGE - 1)) + c->ri->size > PAGE)
        return false;           /* two pages: KVM splits it, so do we not */
    return translate(c, lin, write ? PG_ERR_W : 0, gpa);
}

/* Where the element lives.  False: leave it to KVM (a slot boundary in
 * the middle, or a write KVM must log as dirty). */
static bool classify(const struct rep_ctx *c, uint64_t gpa, bool write, struct elem *e)
{
    unsigned size = c->ri->size;
    const struct mem_slot *sl = mem_lookup(c->env->mem, gpa);
    *e = (struct elem){ .gpa = gpa };
    if (!sl)
        return !mem_lookup(c->env->mem, gpa + size - 1);
    if (gpa + size > sl->gpa + sl->size || (write && sl->dirty_log))
        return false;
    e->host = sl->host + (gpa - sl->gpa);
    e->readonly = sl->readonly;
    return true;
}

/* Offsets of the current element. */
static uint64_t cur_src(const struct rep_ctx *c) { return c->s->gpr[X86_RSI] & c->amask; }
static uint64_t cur_dst(const struct rep_ctx *c) { return c->s->gpr[X86_RDI] & c->amask; }

/* Checks one element (offsets given); fills its source and destination. */
static bool check_elem(const struct rep_ctx *c, uint64_t src_off, uint64_t dst_off,
                       struct elem *src, struct elem *dst)
{
    uint64_t gpa;
    if (!locate(c, X86_ES, dst_off, true, &gpa) || !classify(c, gpa, true, dst))
        return false;
    if (c->ri->kind != REP_MOVS)
        return true;
    return locate(c, c->ri->src_seg, src_off, false, &gpa) && classify(c, gpa, false, src);
}

/* ---- carrying out ---- */

static uint64_t elem_read(const struct rep_ctx *c, const struct elem *e)
{
    uint64_t v = 0;
    if (e->host)
        memcpy(&v, e->host, c->ri->size);
    else
        c->env->mmio(c->env->opaque, e->gpa, c->ri->size, false, &v);
    return v;
}

static void elem_write(const struct rep_ctx *c, const struct elem *e, uint64_t v)
{
    if (!e->host) {
        c->env->mmio(c->env->opaque, e->gpa, c->ri->size, true, &v);
    } else if (!e->readonly) {      /* ROM / read-only shadow: dropped, as the chipset does */
        memcpy(e->host, &v, c->ri->size);
        mem_notify_write(c->env->mem, e->gpa, c->ri->size);
    }
}

/* reg += delta within the address size (see rep_string.h). */
static void adv(const struct rep_ctx *c, struct x86_state *s, int reg, int64_t delta)
{
    uint64_t v = s->gpr[reg] + (uint64_t)delta;
    if (c->ri->adsz == 4 && c->mode64)
        s->gpr[reg] = v & 0xFFFFFFFFull;
    else
        s->gpr[reg] = (s->gpr[reg] & ~c->amask) | (v & c->amask);
}

/* One element forward (dir 1) or back (dir -1). */
static void move_regs(const struct rep_ctx *c, struct x86_state *s, int dir)
{
    int64_t d = (s->rflags & RFLAGS_DF) ? -(int64_t)c->ri->size : (int64_t)c->ri->size;
    if (c->ri->kind == REP_MOVS)
        adv(c, s, X86_RSI, d * dir);
    adv(c, s, X86_RDI, d * dir);
    adv(c, s, X86_RCX, -dir);
}

static void step_regs(const struct rep_ctx *c, struct x86_state *s) { move_regs(c, s, 1); }
static void unstep_regs(const struct rep_ctx *c, struct x86_state *s) { move_regs(c, s, -1); }

static int64_t elem_delta(const struct x86_state *s, const struct rep_insn *ri)
{
    return (s->rflags & RFLAGS_DF) ? -(int64_t)ri->size : (int64_t)ri->size;
}

static void finish_insn(struct x86_state *s, const struct rep_insn *ri)
{
    int bits = x86_code_bits(s);
    uint64_t ipmask = bits == 64 ? ~0ull : bits == 32 ? 0xFFFFFFFFull : 0xFFFFull;
    s->rip = (s->rip + ri->len) & ipmask;
}

/* Hand-back mode (a read exit): KVM has decoded the current element,
 * element 0, with its addresses, and will finish it itself -- write the
 * value we hand back to element 0's destination and then step RCX/RSI/
 * RDI by one element from whatever values they have then.  So: element
 * 0's source is read here first, elements 1..k are carried out, and the
 * registers are left one element short of where k leaves them.  Only
 * MMIO -> RAM: element 0's write comes after ours, which is invisible
 * only when no device sees the writes and no source is RAM. */
static void run_hand_back(struct rep_ctx *c, struct x86_state *s, uint64_t max,
                          struct rep_result *res)
{
    const struct rep_env *env = c->env;
    struct elem src, dst;
    if (!check_elem(c, cur_src(c), cur_dst(c), &src, &dst) || src.host || !dst.host)
        return;
    res->read_val = elem_read(c, &src);
    res->handed_back = true;
    /* Past element 0; never so many elements that a 16-bit offset could
     * wrap onto element 0's destination. */
    step_regs(c, s);
    uint64_t cap = c->ri->adsz == 2 ? 0xFFFFu / c->ri->size - 1 : max;
    if (max > cap)
        max = cap;
    while (res->done < max && (s->gpr[X86_RCX] & c->amask) != 0) {
        if (env->should_stop && env->should_stop(env->opaque))
            break;
        if (!check_elem(c, cur_src(c), cur_dst(c), &src, &dst) || src.host || !dst.host)
            break;
        elem_write(c, &dst, elem_read(c, &src));
        step_regs(c, s);
        res->done++;
    }
    unstep_regs(c, s);
}

void rep_run(const struct rep_env *env, struct x86_state *s, const struct rep_insn *ri,
             uint64_t max, bool hand_back_read, struct rep_result *res)
{
    struct rep_ctx c;
    ctx_init(&c, env, s, ri);
    *res = (struct rep_result){ 0 };
    if ((s->gpr[X86_RCX] & c.amask) == 0)
        return;
    if (hand_back_read) {
        if (ri->kind == REP_MOVS)
            run_hand_back(&c, s, max, res);
        return;
    }
    while (res->done < max && (s->gpr[X86_RCX] & c.amask) != 0) {
        if (res->done && env->should_stop && env->should_stop(env->opaque))
            break;
        struct elem src, dst;
        if (!check_elem(&c, cur_src(&c), cur_dst(&c), &src, &dst))
            break;
        uint64_t v = ri->kind == REP_MOVS ? elem_read(&c, &src) : s->gpr[X86_RAX];
        elem_write(&c, &dst, v);
        step_regs(&c, s);
        res->done++;
    }
    if (res->done && (s->gpr[X86_RCX] & c.amask) == 0) {
        finish_insn(s, ri);
        res->finished = true;
    }
}

size_t rep_fetch(const struct rep_env *env, const struct x86_state *s, uint8_t *buf, size_t n)
{
    struct rep_insn none = { .size = 1 };
    struct rep_ctx c;
    ctx_init(&c, env, s, &none);
    int bits = x86_code_bits(s);
    uint64_t lin = s->seg[X86_CS].base + s->rip;
    if (bits != 64)
        lin &= 0xFFFFFFFFull;
    size_t got = 0;
    while (got < n) {
        uint64_t gpa;
        if (!translate(&c, lin + got, PG_ERR_I, &gpa))
            break;
        size_t chunk = PAGE - ((lin + got) & (PAGE - 1));
        if (chunk > n - got)
            chunk = n - got;
        const struct mem_slot *sl = mem_lookup(env->mem, gpa);
        if (!sl || gpa + chunk > sl->gpa + sl->size)
            break;
        memcpy(buf + got, sl->host + (gpa - sl->gpa), chunk);
        got += chunk;
    }
    return got;
}

int rep_element_gpa(const struct rep_env *env, const struct x86_state *s,
                    const struct rep_insn *ri, bool dst, int64_t back, uint64_t *gpa)
{
    struct rep_ctx c;
    ctx_init(&c, env, s, ri);
    uint64_t d = (uint64_t)(-back * elem_delta(s, ri));
    if (dst)
        return locate(&c, X86_ES, (cur_dst(&c) + d) & c.amask, true, gpa) ? 0 : -1;
    if (ri->kind != REP_MOVS)
        return -1;
    return locate(&c, ri->src_seg, (cur_src(&c) + d) & c.amask, false, gpa) ? 0 : -1;
}
