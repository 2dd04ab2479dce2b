/* System semantics: descriptor loads with their checks, far transfers,
 * interrupt/exception delivery, control registers, MSRs, CPUID. */
#include "emul_int.h"

#include <stdlib.h>

#include "../arch/cpuid.h"

void emu_seg_real(struct emu_seg *s, uint16_t sel)
{
    /* Real mode keeps the rest of the cache: that is unreal mode. */
    s->sel = sel;
    s->base = (uint32_t)sel << 4;
}

/* A virtual-8086 mode segment: base sel << 4, 64K limit, a present,
 * accessed read/write data segment of DPL 3 (CS too: in v86 mode code may
 * write through a CS override, as in real mode), 16-bit. */
void emu_seg_v86(struct emu_seg *s, uint16_t sel)
{
    *s = (struct emu_seg){ .base = (uint32_t)sel << 4, .limit = 0xFFFF, .sel = sel,
                           .type = 3, .dpl = 3, .present = true, .s = true, .valid = true };
    emu_seg_update_rights(s);
}

void emu_update_mode(struct emu_cpu *c)
{
    c->lma = (c->efer & PG_EFER_LMA) != 0;
    c->code64 = c->lma && c->seg[CS_].l;
    c->ip_mask = c->code64 ? ~0ull : c->seg[CS_].db ? 0xFFFFFFFFull : 0xFFFF;
}

void emu_seg_from_desc(struct emu_seg *s, uint16_t sel, uint32_t lo, uint32_t hi)
{
    s->sel = sel;
    s->base = (lo >> 16) | ((hi & 0xFF) << 16) | (hi & 0xFF000000u);
    s->limit = (lo & 0xFFFF) | (hi & 0xF0000);
    s->g = (hi >> 23) & 1;
    if (s->g)
        s->limit = (s->limit << 12) | 0xFFF;
    s->type = (hi >> 8) & 0xF;
    s->s = (hi >> 12) & 1;
    s->dpl = (hi >> 13) & 3;
    s->present = (hi >> 15) & 1;
    s->avl = (hi >> 20) & 1;
    s->l = (hi >> 21) & 1;
    s->db = (hi >> 22) & 1;
    s->valid = true;
    emu_seg_update_rights(s);
}

static void null_seg(struct emu_seg *s, uint16_t sel)
{
    s->sel = sel;
    s->valid = false;
    s->rd = s->wr = false;
}

/* Reads the descriptor for sel; #GP(sel) (or vector `exc`) outside the table. */
static void read_desc(struct emu_cpu *c, uint16_t sel, uint32_t *lo, uint32_t *hi, int exc)
{
    uint64_t base;
    uint32_t limit;
    if (sel & 4) {
        if (!c->ldtr.valid || !c->ldtr.present)
            emu_raise(c, exc, sel & 0xFFFC, true);
        base = c->ldtr.base;
        limit = c->ldtr.limit;
    } else {
        base = c->gdt.base;
        limit = c->gdt.limit;
    }
    if ((uint32_t)(sel | 7) > limit)
        emu_raise(c, exc, sel & 0xFFFC, true);
    *lo = (uint32_t)emu_sys_read(c, base + (sel & ~7u), 4);
    *hi = (uint32_t)emu_sys_read(c, base + (sel & ~7u) + 4, 4);
}

static void set_accessed(struct emu_cpu *c, uint16_t sel, uint32_t hi)
{
    if (hi & 0x100)
        return;
    uint64_t base = (sel & 4) ? c->ldtr.base : c->gdt.base;
    emu_sys_write(c, base + (sel & ~7u) + 5, 1, ((hi >> 8) & 0xFF) | 1);
}

/* For task.c: the same with the exception vector chosen by the caller. */
void emu_read_desc(struct emu_cpu *c, uint16_t sel, uint32_t *lo, uint32_t *hi, int exc)
{
    read_desc(c, sel, lo, hi, exc);
}

void emu_set_accessed(struct emu_cpu *c, uint16_t sel, uint32_t hi)
{
    set_accessed(c, sel, hi);
}

void emu_set_cpl(struct emu_cpu *c, uint8_t cpl)
{
    if ((cpl == 3) != (c->cpl == 3))
        tlb_flush_all(&c->tlb, false);      /* entries carry user/supervisor rights */
    c->cpl = cpl;
}

void emu_load_seg(struct emu_cpu *c, int sreg, uint16_t sel)
{
    struct emu_seg *s = &c->seg[sreg];
    if (c->eflags & F_VM) {
        emu_seg_v86(s, sel);
        return;
    }
    if (!c->pe) {
        emu_seg_real(s, sel);
        return;
    }
    unsigned rpl = sel & 3;
    if ((sel & 0xFFFC) == 0) {
        /* 64-bit mode allows a null SS at CPL 0-2 (RPL = CPL). */
        if (sreg == SS_ && !(c->code64 && c->cpl != 3 && rpl == c->cpl))
            RAISE_GP(c, 0);
        null_seg(s, sel);
        if (sreg == SS_)
            s->dpl = c->cpl;
        return;
    }
    uint32_t lo, hi;
    read_desc(c, sel, &lo, &hi, EXC_GP);
    unsigned type = (hi >> 8) & 0xF, dpl = (hi >> 13) & 3;
    bool sys = !((hi >> 12) & 1), code = type & 8;
    if (sreg == SS_) {
        if (sys || code || !(type & 2) || rpl != c->cpl || dpl != c->cpl)
            RAISE_GP(c, sel & 0xFFFC);
        if (!(hi & 0x8000))
            emu_raise(c, EXC_SS, sel & 0xFFFC, true);
    } else {
        if (sys || (code && !(type & 2)))
            RAISE_GP(c, sel & 0xFFFC);
        bool conforming = code && (type & 4);
        if (!conforming && (dpl < c->cpl || dpl < rpl))
            RAISE_GP(c, sel & 0xFFFC);
        if (!(hi & 0x8000))
            emu_raise(c, EXC_NP, sel & 0xFFFC, true);
    }
    set_accessed(c, sel, hi);
    emu_seg_from_desc(s, sel, lo, hi | 0x100);
}

/* Loads CS from a code descriptor already checked; new CPL. */
static void set_cs(struct emu_cpu *c, uint16_t sel, uint32_t lo, uint32_t hi, uint8_t cpl)
{
    set_accessed(c, sel, hi);
    emu_seg_from_desc(&c->seg[CS_], (uint16_t)((sel & ~3u) | cpl), lo, hi | 0x100);
    emu_set_cpl(c, cpl);
    emu_update_mode(c);
    c->stop_block = true;       /* the decode mode may have changed */
}

/* After a return to an outer level: data segments the new CPL may not use
 * become null. */
static void drop_inner_segs(struct emu_cpu *c)
{
    static const int regs[] = { ES_, DS_, FS_, GS_ };
    for (unsigned k = 0; k < 4; k++) {
        struct emu_seg *s = &c->seg[regs[k]];
        bool conforming_code = (s->type & 0xC) == 0xC;
        if (s->valid && s->s && !conforming_code && s->dpl < c->cpl)
            null_seg(s, 0);
    }
}

/* Stack for privilege level `dpl` from the TSS. */
static void tss_stack(struct emu_cpu *c, unsigned dpl, uint16_t *ss, uint32_t *esp)
{
    bool tss32 = (c->tr.type & 8) != 0;
    uint32_t off = tss32 ? 4 + dpl * 8 : 2 + dpl * 4;
    uint32_t need = tss32 ? off + 7 : off + 3;
    if (!c->tr.valid || need > c->tr.limit)
        emu_raise(c, EXC_TS, c->tr.sel & 0xFFFC, true);
    if (tss32) {
        *esp = emu_sys_read(c, c->tr.base + off, 4);
        *ss = (uint16_t)emu_sys_read(c, c->tr.base + off + 4, 2);
    } else {
        *esp = emu_sys_read(c, c->tr.base + off, 2);
        *ss = (uint16_t)emu_sys_read(c, c->tr.base + off + 2, 2);
    }
}

/* Loads SS for a stack switch to privilege `dpl` (#TS on bad selector). */
static void load_inner_ss(struct emu_cpu *c, uint16_t ss, unsigned dpl)
{
    if ((ss & 0xFFFC) == 0)
        emu_raise(c, EXC_TS, 0, true);
    uint32_t lo, hi;
    read_desc(c, ss, &lo, &hi, EXC_TS);
    unsigned type = (hi >> 8) & 0xF;
    if ((ss & 3) != dpl || ((hi >> 13) & 3) != dpl || !((hi >> 12) & 1) || (type & 8) ||
        !(type & 2))
        emu_raise(c, EXC_TS, ss & 0xFFFC, true);
    if (!(hi & 0x8000))
        emu_raise(c, EXC_SS, ss & 0xFFFC, true);
    set_accessed(c, ss, hi);
    emu_seg_from_desc(&c->seg[SS_], ss, lo, hi | 0x100);
}

static void check_code_desc(struct emu_cpu *c, uint16_t sel, uint32_t hi)
{
    if (!((hi >> 12) & 1) || !((hi >> 8) & 8))
        RAISE_GP(c, sel & 0xFFFC);
}

/* The code segment a call gate points at: a null selector is #GP(0), a
 * descriptor that is not code #GP(selector); the caller checks DPL and P. */
static void read_gate_target(struct emu_cpu *c, uint16_t csel, uint32_t *lo, uint32_t *hi)
{
    if ((csel & 0xFFFC) == 0)
        RAISE_GP(c, 0);
    read_desc(c, csel, lo, hi, EXC_GP);
    check_code_desc(c, csel, *hi);
}

/* The code segment a far RET or IRET returns to: not null, a code
 * descriptor, RPL not more privileged than CPL, DPL matching RPL (or not
 * above it when conforming), present.  Faults as the SDM says. */
static void load_return_cs(struct emu_cpu *c, uint16_t sel, uint32_t *lo, uint32_t *hi)
{
    if ((sel & 0xFFFC) == 0)
        RAISE_GP(c, 0);
    read_desc(c, sel, lo, hi, EXC_GP);
    check_code_desc(c, sel, *hi);
    unsigned rpl = sel & 3, dpl = (*hi >> 13) & 3, type = (*hi >> 8) & 0xF;
    if (rpl < c->cpl || ((type & 4) ? dpl > rpl : dpl != rpl))
        RAISE_GP(c, sel & 0xFFFC);
    if (!(*hi & 0x8000))
        emu_raise(c, EXC_NP, sel & 0xFFFC, true);
}

/* A target offset for a code descriptor: canonical for a 64-bit code
 * segment in long mode, else within the limit. */
static void check_far_target(struct emu_cpu *c, uint32_t lo, uint32_t hi, uint64_t off)
{
    if (c->lma && ((hi >> 21) & 1)) {
        if (!canonical(off))
            RAISE_GP(c, 0);
        return;
    }
    struct emu_seg t;
    emu_seg_from_desc(&t, 0, lo, hi);
    if (off > t.limit)
        RAISE_GP(c, 0);
}

static void far_gate64(struct emu_cpu *c, uint16_t sel, uint32_t lo, uint32_t hi, bool call,
                       uint64_t ret_rip);


void emu_far_jump(struct emu_cpu *c, uint16_t sel, uint64_t off, unsigned opsz, bool call,
                  uint64_t ret_eip)
{
    if (!c->pe || (c->eflags & F_VM)) {
        if (call) {
            push(c, opsz, c->seg[CS_].sel);
            push(c, opsz, ret_eip);
        }
        emu_seg_real(&c->seg[CS_], sel);
        c->eip = opsz == 2 ? off & 0xFFFF : off;
        return;
    }
    if ((sel & 0xFFFC) == 0)
        RAISE_GP(c, 0);
    uint32_t lo, hi;
    read_desc(c, sel, &lo, &hi, EXC_GP);
    unsigned type = (hi >> 8) & 0xF, dpl = (hi >> 13) & 3, rpl = sel & 3;
    if ((hi >> 12) & 1) {
        check_code_desc(c, sel, hi);
        if (c->lma && ((hi >> 21) & 1) && ((hi >> 22) & 1))
            RAISE_GP(c, sel & 0xFFFC);  /* L and D both set: reserved in IA-32e mode */
        if (type & 4) {                 /* conforming */
            if (dpl > c->cpl)
                RAISE_GP(c, sel & 0xFFFC);
        } else if (rpl > c->cpl || dpl != c->cpl) {
            RAISE_GP(c, sel & 0xFFFC);
        }
        if (!(hi & 0x8000))
            emu_raise(c, EXC_NP, sel & 0xFFFC, true);
        check_far_target(c, lo, hi, off);
        if (call) {
            uint16_t old_cs = c->seg[CS_].sel;
            push(c, opsz, old_cs);
            push(c, opsz, ret_eip);
        }
        set_cs(c, sel, lo, hi, c->cpl);
        c->eip = off;
        return;
    }
    /* System descriptor: call gates (16- and 32-bit; 64-bit in IA-32e
     * mode), task gates and TSSs (task.c). */
    if (c->lma) {
        far_gate64(c, sel, lo, hi, call, ret_eip);
        return;
    }
    if (type == 1 || type == 3 || type == 5 || type == 9 || type == 0xB) {
        emu_task_far(c, sel, lo, hi, call, ret_eip);    /* task.c */
        return;
    }
    if (type != 4 && type != 0xC)
        RAISE_GP(c, sel & 0xFFFC);
    if (dpl < c->cpl || dpl < rpl)
        RAISE_GP(c, sel & 0xFFFC);
    if (!(hi & 0x8000))
        emu_raise(c, EXC_NP, sel & 0xFFFC, true);
    bool gate32 = type == 0xC;
    uint16_t csel = (uint16_t)(lo >> 16);
    uint32_t goff = (lo & 0xFFFF) | (gate32 ? (hi & 0xFFFF0000u) : 0);
    unsigned nparams = hi & 0x1F;
    uint32_t clo, chi;
    read_gate_target(c, csel, &clo, &chi);
    unsigned cdpl = (chi >> 13) & 3;
    if (cdpl > c->cpl)
        RAISE_GP(c, csel & 0xFFFC);
    if (!(chi & 0x8000))
        emu_raise(c, EXC_NP, csel & 0xFFFC, true);
    unsigned gsz = gate32 ? 4 : 2;
    if (!call || (chi & 0x400) || cdpl == c->cpl) {
        if (!call && !(chi & 0x400) && cdpl != c->cpl)
            RAISE_GP(c, csel & 0xFFFC);
        if (call) {
            uint16_t old_cs = c->seg[CS_].sel;
            push(c, gsz, old_cs);
            push(c, gsz, ret_eip);
        }
        set_cs(c, csel, clo, chi, c->cpl);
        c->eip = gsz == 2 ? goff & 0xFFFF : goff;
        return;
    }
    /* Call to an inner level: switch stacks, copy parameters. */
    uint16_t nss;
    uint32_t nesp;
    tss_stack(c, cdpl, &nss, &nesp);
    struct emu_seg old_ss = c->seg[SS_];
    uint64_t old_esp = c->r[ESP_];
    uint64_t params[32];
    for (unsigned k = 0; k < nparams; k++)
        params[k] = rd_mem(c, SS_, (old_esp + k * gsz) & sp_mask(c), gsz);
    uint8_t old_cpl = c->cpl;
    uint16_t old_cs = c->seg[CS_].sel;
    c->cpl = (uint8_t)cdpl;
    load_inner_ss(c, nss, cdpl);
    c->r[ESP_] = nesp;
    push(c, gsz, old_ss.sel);
    push(c, gsz, old_esp);
    for (unsigned k = nparams; k-- > 0;)
        push(c, gsz, params[k]);
    push(c, gsz, old_cs);
    push(c, gsz, ret_eip);
    c->cpl = old_cpl;
    set_cs(c, csel, clo, chi, (uint8_t)cdpl);
    c->eip = gsz == 2 ? goff & 0xFFFF : goff;
}

void emu_far_return(struct emu_cpu *c, unsigned opsz, uint16_t pop_bytes)
{
    uint64_t m = sp_mask(c), sp = c->r[ESP_] & m;
    uint64_t eip = rd_mem(c, SS_, sp, opsz);
    uint16_t sel = (uint16_t)rd_mem(c, SS_, (sp + opsz) & m, opsz);
    if (!c->pe || (c->eflags & F_VM)) {
        set_sp(c, m, sp + 2 * opsz + pop_bytes);
        emu_seg_real(&c->seg[CS_], sel);
        c->eip = eip;
        return;
    }
    unsigned rpl = sel & 3;
    uint32_t lo, hi;
    load_return_cs(c, sel, &lo, &hi);
    check_far_target(c, lo, hi, eip);
    if (rpl == c->cpl) {
        set_sp(c, m, sp + 2 * opsz + pop_bytes);
        set_cs(c, sel, lo, hi, c->cpl);
        c->eip = eip;
        return;
    }
    /* Return to an outer level: pop SS:ESP too. */
    uint64_t osp = (sp + 2 * opsz + pop_bytes) & m;
    uint64_t nesp = rd_mem(c, SS_, osp, opsz);
    uint16_t nss = (uint16_t)rd_mem(c, SS_, (osp + opsz) & m, opsz);
    set_cs(c, sel, lo, hi, (uint8_t)rpl);
    emu_load_seg(c, SS_, nss);
    set_sp(c, sp_mask(c), nesp + pop_bytes);
    c->eip = eip;
    drop_inner_segs(c);
}

static uint32_t eflags_mask_for(const struct emu_cpu *c, unsigned opsz)
{
    uint32_t m = F_ARITH | F_TF | F_DF | F_NT;
    if (opsz >= 4)
        m |= F_AC | F_ID | F_RF;
    if (c->cpl == 0 || !c->pe)
        m |= F_IOPL;
    if (!c->pe || c->cpl <= ((c->eflags & F_IOPL) >> 12))
        m |= F_IF;
    if (opsz == 2)
        m &= 0xFFFF;
    return m;
}

/* IRET in 64-bit mode: always pops SS:RSP; a null SS is fine when
 * returning to 64-bit code at CPL < 3. */
static void iret64(struct emu_cpu *c, unsigned opsz)
{
    if (c->eflags & F_NT)
        RAISE_GP(c, 0);
    uint64_t sp = c->r[ESP_];
    uint64_t rip = rd_mem(c, SS_, sp, opsz);
    uint16_t sel = (uint16_t)rd_mem(c, SS_, sp + opsz, opsz);
    uint64_t fl = rd_mem(c, SS_, sp + 2 * opsz, opsz);
    uint64_t nrsp = rd_mem(c, SS_, sp + 3 * opsz, opsz);
    uint16_t nss = (uint16_t)rd_mem(c, SS_, sp + 4 * opsz, opsz);
    if (fl & F_VM)
        RAISE_GP(c, 0);
    unsigned rpl = sel & 3;
    uint32_t lo, hi;
    load_return_cs(c, sel, &lo, &hi);
    bool to64 = (hi >> 21) & 1;
    if (!to64)
        rip = (uint32_t)rip;
    check_far_target(c, lo, hi, rip);
    uint32_t fmask = eflags_mask_for(c, opsz);
    uint8_t old_cpl = c->cpl;
    set_cs(c, sel, lo, hi, (uint8_t)rpl);
    emu_load_seg(c, SS_, nss);
    c->r[ESP_] = to64 ? nrsp : (uint32_t)nrsp;
    c->rip = rip;
    emu_write_eflags(c, (uint32_t)fl, fmask);
    if (rpl > old_cpl)
        drop_inner_segs(c);
}

/* IRET from protected mode at CPL0 to virtual-8086 mode (EFLAGS image
 * with VM): the frame goes on with ESP, SS, ES, DS, FS, GS. */
static void iret_to_v86(struct emu_cpu *c, uint64_t m, uint64_t sp, uint32_t eip, uint16_t cs,
                        uint32_t fl)
{
    uint32_t v[6];
    for (unsigned k = 0; k < 6; k++)
        v[k] = (uint32_t)rd_mem(c, SS_, (sp + 12 + 4 * k) & m, 4);
    if (eip > 0xFFFF)
        RAISE_GP(c, 0);
    c->st.v86_entries++;
    emu_write_eflags(c, fl, 0xFFFFFFFFu & ~0xFFC00000u);
    static const int order[] = { ES_, DS_, FS_, GS_ };
    for (unsigned k = 0; k < 4; k++)
        emu_seg_v86(&c->seg[order[k]], (uint16_t)v[2 + k]);
    emu_seg_v86(&c->seg[SS_], (uint16_t)v[1]);
    emu_seg_v86(&c->seg[CS_], cs);
    c->r[ESP_] = v[0];
    c->eip = eip;
    emu_set_cpl(c, 3);
    emu_update_mode(c);
    c->stop_block = true;
}

/* IRET in virtual-8086 mode: real-mode style with IOPL 3, else #GP(0);
 * IOPL and VM stay as they are. */
static void iret_in_v86(struct emu_cpu *c, unsigned opsz, uint64_t m, uint64_t sp)
{
    if (((c->eflags & F_IOPL) >> 12) < 3)
        RAISE_GP(c, 0);
    uint64_t eip = rd_mem(c, SS_, sp, opsz);
    uint16_t sel = (uint16_t)rd_mem(c, SS_, (sp + opsz) & m, opsz);
    uint32_t fl = (uint32_t)rd_mem(c, SS_, (sp + 2 * opsz) & m, opsz);
    if (eip > 0xFFFF)
        RAISE_GP(c, 0);
    set_sp(c, m, sp + 3 * opsz);
    emu_seg_v86(&c->seg[CS_], sel);
    c->eip = eip;
    emu_write_eflags(c, fl, eflags_mask_for(c, opsz));
}

void emu_iret(struct emu_cpu *c, unsigned opsz, uint64_t next_eip)
{
    uint64_t m = sp_mask(c), sp = c->r[ESP_] & m;
    if (!c->pe) {
        uint64_t eip = rd_mem(c, SS_, sp, opsz);
        uint16_t sel = (uint16_t)rd_mem(c, SS_, (sp + opsz) & m, opsz);
        uint32_t fl = (uint32_t)rd_mem(c, SS_, (sp + 2 * opsz) & m, opsz);
        set_sp(c, m, sp + 3 * opsz);
        emu_seg_real(&c->seg[CS_], sel);
        c->eip = eip;
        emu_write_eflags(c, fl, eflags_mask_for(c, opsz) & ~F_VM);
        return;
    }
    if (c->code64) {
        iret64(c, opsz);
        return;
    }
    if (c->eflags & F_VM) {
        iret_in_v86(c, opsz, m, sp);
        return;
    }
    if (c->eflags & F_NT) {
        if (c->lma)
            RAISE_GP(c, 0);
        emu_task_return(c, next_eip);       /* task.c */
        return;
    }
    uint64_t eip = rd_mem(c, SS_, sp, opsz);
    uint16_t sel = (uint16_t)rd_mem(c, SS_, (sp + opsz) & m, opsz);
    uint32_t fl = (uint32_t)rd_mem(c, SS_, (sp + 2 * opsz) & m, opsz);
    if (opsz == 4 && (fl & F_VM) && c->cpl == 0) {
        iret_to_v86(c, m, sp, (uint32_t)eip, sel, fl);
        return;
    }
    unsigned rpl = sel & 3;
    uint32_t lo, hi;
    load_return_cs(c, sel, &lo, &hi);
    uint32_t fmask = eflags_mask_for(c, opsz);
    if (rpl == c->cpl) {
        set_sp(c, m, sp + 3 * opsz);
        set_cs(c, sel, lo, hi, c->cpl);
        c->eip = eip;
        emu_write_eflags(c, fl, fmask);
        return;
    }
    uint64_t nesp = rd_mem(c, SS_, (sp + 3 * opsz) & m, opsz);
    uint16_t nss = (uint16_t)rd_mem(c, SS_, (sp + 4 * opsz) & m, opsz);
    set_cs(c, sel, lo, hi, (uint8_t)rpl);
    emu_load_seg(c, SS_, nss);
    set_sp(c, sp_mask(c), nesp);
    c->eip = eip;
    emu_write_eflags(c, fl, fmask);
    drop_inner_segs(c);
}

static void real_interrupt(struct emu_cpu *c, int vec, uint64_t ret_eip)
{
    if ((uint32_t)vec * 4 + 3 > c->idt.limit)
        RAISE_GP(c, (uint32_t)vec * 8 + 2);
    uint32_t ent = (uint32_t)lin_read(c, c->idt.base + (uint32_t)vec * 4, 4);
    uint32_t fl = emu_get_eflags(c);
    push(c, 2, fl);
    push(c, 2, c->seg[CS_].sel);
    push(c, 2, ret_eip);
    c->eflags &= ~(F_IF | F_TF | F_AC | F_RF);
    emu_seg_real(&c->seg[CS_], (uint16_t)(ent >> 16));
    c->eip = ent & 0xFFFF;
}

/* Long-mode stack pointer from the 64-bit TSS: RSPn at 4 + 8n, ISTn at
 * 36 + 8(n-1). */
static uint64_t tss64_read(struct emu_cpu *c, unsigned off)
{
    if (!c->tr.valid || off + 7 > c->tr.limit)
        emu_raise(c, EXC_TS, c->tr.sel & 0xFFFC, true);
    return emu_sys_read(c, c->tr.base + off, 8);
}

/* Supervisor stack write during delivery (the new CPL's rights). */
static void push64(struct emu_cpu *c, uint64_t *rsp, uint64_t v)
{
    *rsp -= 8;
    if (!canonical(*rsp))
        emu_raise(c, EXC_SS, 0, true);
    lin_write(c, *rsp, 8, v);
}

/* Far CALL/JMP through a call gate in IA-32e mode (64-bit and
 * compatibility mode; SDM vol. 3 5.8.3.1): only the 16-byte 64-bit gate
 * (type 0xC) exists, its upper half's type field must be 0, the target
 * must be 64-bit code; pushes are 8 bytes, no parameters are copied, and
 * a call to an inner level takes RSPn from the 64-bit TSS with a null SS
 * (RPL = new CPL), like an interrupt but without the 16-byte alignment. */
static void far_gate64(struct emu_cpu *c, uint16_t sel, uint32_t lo, uint32_t hi, bool call,
                       uint64_t ret_rip)
{
    unsigned type = (hi >> 8) & 0xF, dpl = (hi >> 13) & 3, rpl = sel & 3;
    uint16_t gerr = sel & 0xFFFC;
    if (type != 0xC)                    /* 16-bit gates, task gates, TSSs */
        RAISE_GP(c, gerr);
    uint64_t tbase = (sel & 4) ? c->ldtr.base : c->gdt.base;
    uint32_t tlimit = (sel & 4) ? c->ldtr.limit : c->gdt.limit;
    if ((uint32_t)(sel & ~7u) + 15 > tlimit)
        RAISE_GP(c, gerr);
    uint32_t off_hi = (uint32_t)emu_sys_read(c, tbase + (sel & ~7u) + 8, 4);
    uint32_t upper = (uint32_t)emu_sys_read(c, tbase + (sel & ~7u) + 12, 4);
    if ((upper >> 8) & 0x1F)
        RAISE_GP(c, gerr);
    if (dpl < c->cpl || dpl < rpl)
        RAISE_GP(c, gerr);
    if (!(hi & 0x8000))
        emu_raise(c, EXC_NP, gerr, true);
    uint16_t csel = (uint16_t)(lo >> 16);
    uint64_t off = (lo & 0xFFFF) | (hi & 0xFFFF0000u) | (uint64_t)off_hi << 32;
    uint32_t clo, chi;
    read_gate_target(c, csel, &clo, &chi);
    unsigned cdpl = (chi >> 13) & 3;
    bool conforming = (chi & 0x400) != 0;
    if (cdpl > c->cpl || !((chi >> 21) & 1) || ((chi >> 22) & 1))
        RAISE_GP(c, csel & 0xFFFC);
    if (!call && !conforming && cdpl != c->cpl)     /* JMP never changes the CPL */
        RAISE_GP(c, csel & 0xFFFC);
    if (!(chi & 0x8000))
        emu_raise(c, EXC_NP, csel & 0xFFFC, true);
    if (!canonical(off))
        RAISE_GP(c, 0);
    if (!call) {
        set_cs(c, csel, clo, chi, c->cpl);
        c->rip = off;
        return;
    }
    uint16_t old_cs = c->seg[CS_].sel, old_ss = c->seg[SS_].sel;
    uint64_t old_rsp = c->r[ESP_];
    if (!conforming && cdpl < c->cpl) {
        uint64_t rsp = tss64_read(c, 4 + 8 * cdpl);
        uint8_t old_cpl = c->cpl;
        c->cpl = (uint8_t)cdpl;        /* the pushes are accesses at the new CPL */
        push64(c, &rsp, old_ss);
        push64(c, &rsp, old_rsp);
        push64(c, &rsp, old_cs);
        push64(c, &rsp, ret_rip);
        c->cpl = old_cpl;
        set_cs(c, csel, clo, chi, (uint8_t)cdpl);
        c->seg[SS_].sel = (uint16_t)cdpl;
        c->seg[SS_].valid = false;
        c->seg[SS_].dpl = (uint8_t)cdpl;
        c->seg[SS_].rd = c->seg[SS_].wr = false;
        c->r[ESP_] = rsp;
    } else {
        push(c, 8, old_cs);
        push(c, 8, ret_rip);
        set_cs(c, csel, clo, chi, c->cpl);
    }
    c->rip = off;
}

/* Interrupt/exception delivery in long mode (64-bit and compatibility
 * mode alike): 16-byte gates, 64-bit target, SS:RSP always pushed, the
 * stack aligned to 16, IST stacks. */
static void long_interrupt(struct emu_cpu *c, int vec, bool soft, bool has_err, uint32_t err,
                           uint64_t ret_rip)
{
    uint32_t ext = soft ? 0 : 1;
    uint32_t gerr = (uint32_t)vec * 8 + 2 + ext;
    if ((uint32_t)vec * 16 + 15 > c->idt.limit)
        RAISE_GP(c, gerr);
    uint64_t ga = c->idt.base + (uint32_t)vec * 16;
    uint32_t lo = (uint32_t)emu_sys_read(c, ga, 4), hi = (uint32_t)emu_sys_read(c, ga + 4, 4);
    uint64_t off_hi = emu_sys_read(c, ga + 8, 4);
    unsigned type = (hi >> 8) & 0x1F, dpl = (hi >> 13) & 3, ist = hi & 7;
    if (type != 0xE && type != 0xF)
        RAISE_GP(c, gerr);
    if (soft && dpl < c->cpl)
        RAISE_GP(c, gerr);
    if (!(hi & 0x8000))
        emu_raise(c, EXC_NP, gerr, true);
    uint16_t csel = (uint16_t)(lo >> 16);
    uint64_t off = (lo & 0xFFFF) | (hi & 0xFFFF0000u) | (off_hi << 32);
    if ((csel & 0xFFFC) == 0)
        RAISE_GP(c, ext);
    uint32_t clo, chi;
    read_desc(c, csel, &clo, &chi, EXC_GP);
    if (!((chi >> 12) & 1) || !((chi >> 8) & 8) || !((chi >> 21) & 1) || ((chi >> 22) & 1))
        RAISE_GP(c, (csel & 0xFFFC) + ext);
    unsigned cdpl = (chi >> 13) & 3;
    if ((chi & 0x400) && cdpl < c->cpl)     /* conforming: stays at CPL */
        cdpl = c->cpl;
    if (cdpl > c->cpl)
        RAISE_GP(c, (csel & 0xFFFC) + ext);
    if (!(chi & 0x8000))
        emu_raise(c, EXC_NP, (csel & 0xFFFC) + ext, true);
    if (!canonical(off))
        RAISE_GP(c, ext);
    uint32_t fl = emu_get_eflags(c);
    uint64_t old_rsp = c->r[ESP_];
    uint16_t old_ss = c->seg[SS_].sel, old_cs = c->seg[CS_].sel;
    bool change = cdpl < c->cpl;
    uint64_t rsp = ist ? tss64_read(c, 36 + 8 * (ist - 1))
                 : change ? tss64_read(c, 4 + 8 * cdpl) : old_rsp;
    rsp &= ~0xFull;
    uint8_t old_cpl = c->cpl;
    c->cpl = (uint8_t)cdpl;            /* the pushes are accesses at the new CPL */
    push64(c, &rsp, old_ss);
    push64(c, &rsp, old_rsp);
    push64(c, &rsp, fl);
    push64(c, &rsp, old_cs);
    push64(c, &rsp, ret_rip);
    if (has_err)
        push64(c, &rsp, err);
    c->cpl = old_cpl;
    set_cs(c, csel, clo, chi, (uint8_t)cdpl);
    if (change) {
        /* SS becomes a null selector with RPL = new CPL */
        c->seg[SS_].sel = (uint16_t)cdpl;
        c->seg[SS_].valid = false;
        c->seg[SS_].dpl = (uint8_t)cdpl;
        c->seg[SS_].rd = c->seg[SS_].wr = false;
    }
    c->r[ESP_] = rsp;
    c->rip = off;
    c->eflags &= ~(F_TF | F_NT | F_RF | F_VM);
    if (!(type & 1))
        c->eflags &= ~F_IF;
}

void emu_do_interrupt(struct emu_cpu *c, int vec, bool soft, bool has_err, uint32_t err,
                      uint64_t ret_eip)
{
    if (!c->pe) {
        real_interrupt(c, vec, ret_eip);
        return;
    }
    if (c->lma) {
        long_interrupt(c, vec, soft, has_err, err, ret_eip);
        return;
    }
    bool v86 = c->eflags & F_VM;
    uint32_t ext = soft ? 0 : 1;
    uint32_t gerr = (uint32_t)vec * 8 + 2 + ext;
    if ((uint32_t)vec * 8 + 7 > c->idt.limit)
        RAISE_GP(c, gerr);
    uint32_t lo = (uint32_t)emu_sys_read(c, c->idt.base + (uint32_t)vec * 8, 4);
    uint32_t hi = (uint32_t)emu_sys_read(c, c->idt.base + (uint32_t)vec * 8 + 4, 4);
    unsigned type = (hi >> 8) & 0x1F, dpl = (hi >> 13) & 3;
    if (type != 5 && type != 6 && type != 7 && type != 0xE && type != 0xF)
        RAISE_GP(c, gerr);
    if (soft && dpl < c->cpl)
        RAISE_GP(c, gerr);
    if (!(hi & 0x8000))
        emu_raise(c, EXC_NP, gerr, true);
    if (type == 5) {
        emu_task_switch(c, (uint16_t)(lo >> 16), EMU_TASK_INT, ret_eip, has_err, err, ext);
        return;
    }
    bool gate32 = type & 8, trap = type & 1;
    uint16_t csel = (uint16_t)(lo >> 16);
    uint32_t off = (lo & 0xFFFF) | (gate32 ? (hi & 0xFFFF0000u) : 0);
    if ((csel & 0xFFFC) == 0)
        RAISE_GP(c, ext);
    uint32_t clo, chi;
    read_desc(c, csel, &clo, &chi, EXC_GP);
    if (!((chi >> 12) & 1) || !((chi >> 8) & 8))
        RAISE_GP(c, (csel & 0xFFFC) + ext);
    unsigned cdpl = (chi >> 13) & 3;
    if (cdpl > c->cpl)
        RAISE_GP(c, (csel & 0xFFFC) + ext);
    /* From virtual-8086 mode only to a non-conforming ring-0 handler. */
    if (v86 && ((chi & 0x400) || cdpl != 0))
        RAISE_GP(c, (csel & 0xFFFC) + ext);
    if (!(chi & 0x8000))
        emu_raise(c, EXC_NP, (csel & 0xFFFC) + ext, true);
    unsigned sz = gate32 ? 4 : 2;
    uint32_t fl = emu_get_eflags(c);
    uint16_t old_cs = c->seg[CS_].sel;
    if (!(chi & 0x400) && cdpl < c->cpl) {
        uint16_t nss;
        uint32_t nesp;
        tss_stack(c, cdpl, &nss, &nesp);
        uint16_t old_ss = c->seg[SS_].sel;
        uint64_t old_esp = c->r[ESP_];
        struct emu_seg save_ss = c->seg[SS_];
        uint8_t old_cpl = c->cpl;
        c->cpl = (uint8_t)cdpl;
        load_inner_ss(c, nss, cdpl);
        c->r[ESP_] = nesp;
        if (v86) {
            /* GS, FS, DS, ES go first and become null: the handler must
             * not run on real-mode segment bases. */
            static const int vsegs[] = { GS_, FS_, DS_, ES_ };
            for (unsigned k = 0; k < 4; k++)
                push(c, sz, c->seg[vsegs[k]].sel);
        }
        push(c, sz, old_ss);
        push(c, sz, old_esp);
        (void)save_ss;
        push(c, sz, fl);
        push(c, sz, old_cs);
        push(c, sz, ret_eip);
        if (has_err)
            push(c, sz, err);
        c->cpl = old_cpl;
        set_cs(c, csel, clo, chi, (uint8_t)cdpl);
        drop_inner_segs(c);
        if (v86) {
            static const int vsegs[] = { ES_, DS_, FS_, GS_ };
            for (unsigned k = 0; k < 4; k++)
                null_seg(&c->seg[vsegs[k]], 0);
        }
    } else {
        push(c, sz, fl);
        push(c, sz, old_cs);
        push(c, sz, ret_eip);
        if (has_err)
            push(c, sz, err);
        set_cs(c, csel, clo, chi, c->cpl);
    }
    c->eip = sz == 2 ? off & 0xFFFF : off;
    c->eflags &= ~(F_TF | F_NT | F_RF | F_VM);
    if (!trap)
        c->eflags &= ~F_IF;
}

#define EFER_SCE (1ull << 0)
#define EFER_LME (1ull << 8)
#define CR4_ALLOWED (0x0001u | 0x0002u | 0x0004u | 0x0008u | 0x0010u | 0x0020u | 0x0080u | \
                     0x0100u | 0x0200u | 0x0400u)  /* VME..PGE, PCE, OSFXSR, OSXMMEXCPT */

void emu_write_cr(struct emu_cpu *c, int n, uint64_t v)
{
    switch (n) {
    case 0: {
        v |= 0x10;      /* ET is hardwired */
        if (v >> 32)
            RAISE_GP(c, 0);
        if ((v & PG_CR0_PG) && !(v & 1))
            RAISE_GP(c, 0);
        if (((v >> 29) & 1) && !((v >> 30) & 1))
            RAISE_GP(c, 0);      /* NW without CD */
        uint64_t changed = c->cr0 ^ v;
        /* Long mode activates when paging turns on with EFER.LME (PAE
         * required), and deactivates when paging turns off. */
        if ((changed & PG_CR0_PG) && (v & PG_CR0_PG) && (c->efer & EFER_LME)) {
            if (!(c->cr4 & PG_CR4_PAE) || c->seg[CS_].l)
                RAISE_GP(c, 0);
            c->efer |= PG_EFER_LMA;
        } else if ((changed & PG_CR0_PG) && !(v & PG_CR0_PG)) {
            if (c->code64)
                RAISE_GP(c, 0);
            c->efer &= ~PG_EFER_LMA;
        }
        c->cr0 = v;
        c->pe = v & 1;
        c->pg = v & PG_CR0_PG;
        if (changed & (PG_CR0_PG | PG_CR0_WP | 1))
            tlb_flush_all(&c->tlb, false);
        if (changed & 1) {
            c->cpl = c->pe ? c->seg[CS_].dpl : 0;
            emu_refresh_seg_rights(c);
        }
        emu_update_mode(c);
        c->stop_block = true;
        break;
    }
    case 2:
        c->cr2 = v;
        break;
    case 3:
        if (!c->lma)
            v = (uint32_t)v;
        c->cr3 = v;
        tlb_flush_all(&c->tlb, true);
        c->stop_block = true;
        break;
    case 4:
        if (v & ~(uint64_t)(CR4_ALLOWED | (emu_has_xsave(c) ? CR4_OSXSAVE : 0)))
            RAISE_GP(c, 0);
        if (c->lma && !(v & PG_CR4_PAE))
            RAISE_GP(c, 0);
        if ((c->cr4 ^ v) & (PG_CR4_PSE | PG_CR4_PAE | PG_CR4_PGE))
            tlb_flush_all(&c->tlb, false);
        c->cr4 = v;
        c->stop_block = true;
        break;
    case 8:
        if (v & ~0xFull)
            RAISE_GP(c, 0);
        c->cr8 = v;     /* TPR: no local APIC, nothing to mask */
        break;
    default:
        RAISE_UD(c);
    }
}

#define MSR_TSC 0x10
#define MSR_APIC_BASE 0x1B
#define MSR_SYSENTER_CS 0x174
#define MSR_SYSENTER_ESP 0x175
#define MSR_SYSENTER_EIP 0x176
#define MSR_MISC_ENABLE 0x1A0
#define MSR_PAT 0x277
#define MSR_MTRR_DEF 0x2FF
#define MSR_EFER 0xC0000080u
#define MSR_STAR 0xC0000081u
#define MSR_BIOS_SIGN_ID 0x8Bu
#define MSR_LSTAR 0xC0000082u
#define MSR_CSTAR 0xC0000083u
#define MSR_SFMASK 0xC0000084u
#define MSR_FS_BASE 0xC0000100u
#define MSR_GS_BASE 0xC0000101u
#define MSR_KERNEL_GS_BASE 0xC0000102u
#define MSR_TSC_AUX 0xC0000103u

static uint64_t host_tsc(void) { return __builtin_ia32_rdtsc(); }

bool emu_rdmsr(struct emu_cpu *c, uint32_t idx, uint64_t *v)
{
    switch (idx) {
    case MSR_TSC: *v = host_tsc() + c->tsc_offset; return true;
    case MSR_APIC_BASE: *v = c->apic_base; return true;
    case MSR_SYSENTER_CS: *v = c->sysenter_cs; return true;
    case MSR_SYSENTER_ESP: *v = c->sysenter_esp; return true;
    case MSR_SYSENTER_EIP: *v = c->sysenter_eip; return true;
    case MSR_MISC_ENABLE: *v = c->misc_enable; return true;
    case MSR_PAT: *v = c->pat; return true;
    case MSR_MTRR_DEF: *v = c->mtrr_def; return true;
    case MSR_EFER: *v = c->efer; return true;
    case MSR_STAR: *v = c->star; return true;
    case MSR_LSTAR: *v = c->lstar; return true;
    case MSR_CSTAR: *v = c->cstar; return true;
    case MSR_SFMASK: *v = c->sfmask; return true;
    case MSR_FS_BASE: *v = c->seg[FS_].base; return true;
    case MSR_GS_BASE: *v = c->seg[GS_].base; return true;
    case MSR_KERNEL_GS_BASE: *v = c->kernel_gs_base; return true;
    case MSR_TSC_AUX: *v = c->tsc_aux; return true;
    case 0xFE: *v = 0; return true;             /* MTRRcap: no MTRRs */
    case MSR_BIOS_SIGN_ID: *v = 0; return true; /* microcode revision: none loaded */
    default:
        if (idx >= 0x200 && idx < 0x280) {      /* MTRR bases/masks: read as zero */
            *v = 0;
            return true;
        }
        return false;
    }
}

bool emu_wrmsr(struct emu_cpu *c, uint32_t idx, uint64_t v)
{
    switch (idx) {
    case MSR_TSC: c->tsc_offset = v - host_tsc(); return true;
    case MSR_APIC_BASE: c->apic_base = v; return true;
    case MSR_SYSENTER_CS: c->sysenter_cs = v; return true;
    case MSR_SYSENTER_ESP: c->sysenter_esp = v; return true;
    case MSR_SYSENTER_EIP: c->sysenter_eip = v; return true;
    case MSR_MISC_ENABLE: c->misc_enable = v; return true;
    case MSR_PAT: c->pat = v; return true;
    case MSR_MTRR_DEF: c->mtrr_def = v; return true;
    case MSR_EFER:
        if (v & ~(EFER_SCE | EFER_LME | PG_EFER_LMA | PG_EFER_NXE))
            return false;
        if (c->pg && ((v ^ c->efer) & EFER_LME))
            return false;       /* LME only changes with paging off */
        c->efer = (v & ~PG_EFER_LMA) | (c->efer & PG_EFER_LMA);    /* LMA is read-only */
        tlb_flush_all(&c->tlb, false);
        return true;
    case MSR_STAR: c->star = v; return true;
    case MSR_LSTAR: case MSR_CSTAR: case MSR_FS_BASE: case MSR_GS_BASE:
    case MSR_KERNEL_GS_BASE:
        if (!canonical(v))
            return false;
        if (idx == MSR_LSTAR)
            c->lstar = v;
        else if (idx == MSR_CSTAR)
            c->cstar = v;
        else if (idx == MSR_FS_BASE)
            c->seg[FS_].base = v;
        else if (idx == MSR_GS_BASE)
            c->seg[GS_].base = v;
        else
            c->kernel_gs_base = v;
        return true;
    case MSR_SFMASK: c->sfmask = (uint32_t)v; return true;
    case MSR_BIOS_SIGN_ID: return true;     /* Linux writes 0 before CPUID leaf 1 */
    case MSR_TSC_AUX: c->tsc_aux = (uint32_t)v; return true;
    default:
        if (idx >= 0x200 && idx < 0x280)
            return true;
        return false;
    }
}

/* CPUID: the shared CPU model (vmm/arch/cpuid.c) built once at creation
 * from the host's identity and the emulator's feature set -- a host
 * CPUID is a VM exit when minus1 itself runs virtualised, and Linux
 * executes CPUID as a serialising instruction in hot paths.  Only
 * CPUID.1:ECX.OSXSAVE is dynamic: it mirrors CR4.OSXSAVE. */
void emu_cpuid_init(struct emu_cpu *c)
{
    struct cpuid_table *host = calloc(1, sizeof(*host));
    if (host)
        cpuid_host_table(host);
    else
        memset(&c->cpuid, 0, sizeof(c->cpuid));
    /* Without the host table only the vendor and brand go missing. */
    static const struct cpuid_table empty;
    cpuid_build(&c->cpuid, host ? host : &empty, CPUID_BACKEND_EMU);
    free(host);
}

void emu_cpuid(struct emu_cpu *c)
{
    uint32_t leaf = (uint32_t)c->r[EAX_], sub = (uint32_t)c->r[ECX_];
    struct cpuid_regs r = cpuid_lookup(&c->cpuid, leaf, sub);
    if (leaf == 1 && (c->cr4 & CR4_OSXSAVE))
        r.ecx |= CPUID_1_ECX_OSXSAVE;
    c->r[EAX_] = r.eax;
    c->r[EBX_] = r.ebx;
    c->r[ECX_] = r.ecx;
    c->r[EDX_] = r.edx;
}

/* ---- fast system calls ---- */

/* Flat code/stack segment caches SYSCALL/SYSRET/SYSENTER/SYSEXIT load
 * without reading the GDT. */
static void flat_seg(struct emu_seg *s, uint16_t sel, bool code, bool l64, bool db, uint8_t dpl)
{
    *s = (struct emu_seg){ .base = 0, .limit = 0xFFFFFFFFu, .sel = sel,
                           .type = code ? 0xB : 0x3, .dpl = dpl, .present = true, .s = true,
                           .db = db, .l = l64, .g = true, .valid = true };
    emu_seg_update_rights(s);
}

void emu_syscall(struct emu_cpu *c, uint64_t next_rip)
{
    if (!(c->efer & EFER_SCE))
        RAISE_UD(c);
    uint16_t sel = (uint16_t)(c->star >> 32) & 0xFFFC;
    uint32_t fl = emu_get_eflags(c);
    if (c->lma) {
        c->r[ECX_] = next_rip;
        c->r[11] = fl & ~F_RF;
        flat_seg(&c->seg[CS_], sel, true, true, false, 0);
        flat_seg(&c->seg[SS_], (uint16_t)(sel + 8), false, false, true, 0);
        c->rip = c->code64 ? c->lstar : c->cstar;
        emu_write_eflags(c, fl & ~(uint32_t)c->sfmask & ~F_RF, 0xFFFFFFFFu);
    } else {
        c->r[ECX_] = (uint32_t)next_rip;
        flat_seg(&c->seg[CS_], sel, true, false, true, 0);
        flat_seg(&c->seg[SS_], (uint16_t)(sel + 8), false, false, true, 0);
        c->rip = (uint32_t)c->star;
        emu_write_eflags(c, fl & ~(F_VM | F_IF | F_RF), 0xFFFFFFFFu);
    }
    emu_set_cpl(c, 0);
    emu_update_mode(c);
    if (c->lma && !c->code64)
        c->rip = c->cstar;
}

void emu_sysret(struct emu_cpu *c, unsigned opsz)
{
    if (!(c->efer & EFER_SCE))
        RAISE_UD(c);
    if (!c->pe || c->cpl != 0)
        RAISE_GP(c, 0);
    uint16_t base = (uint16_t)(c->star >> 48);
    bool to64 = c->lma && opsz == 8;
    if (to64 && !canonical(c->r[ECX_]))
        RAISE_GP(c, 0);
    if (c->lma) {
        uint16_t cs = to64 ? (uint16_t)(base + 16) : base;
        flat_seg(&c->seg[CS_], (uint16_t)(cs | 3), true, to64, !to64, 3);
        c->rip = to64 ? c->r[ECX_] : (uint32_t)c->r[ECX_];
        emu_write_eflags(c, ((uint32_t)c->r[11] & 0x3C7FD7u) | 2u, 0xFFFFFFFFu);
    } else {
        flat_seg(&c->seg[CS_], (uint16_t)(base | 3), true, false, true, 3);
        c->rip = (uint32_t)c->r[ECX_];
        emu_write_eflags(c, emu_get_eflags(c) | F_IF, 0xFFFFFFFFu);
    }
    /* SS keeps its own selector cache semantics: flat, DPL 3. */
    flat_seg(&c->seg[SS_], (uint16_t)((base + 8) | 3), false, false, true, 3);
    emu_set_cpl(c, 3);
    emu_update_mode(c);
}

void emu_sysenter(struct emu_cpu *c)
{
    uint16_t sel = (uint16_t)c->sysenter_cs & 0xFFFC;
    if (!c->pe || sel == 0)
        RAISE_GP(c, 0);
    emu_write_eflags(c, emu_get_eflags(c) & ~(F_VM | F_IF | F_RF), 0xFFFFFFFFu);
    flat_seg(&c->seg[CS_], sel, true, c->lma, !c->lma, 0);
    flat_seg(&c->seg[SS_], (uint16_t)(sel + 8), false, false, true, 0);
    emu_set_cpl(c, 0);
    emu_update_mode(c);
    c->r[ESP_] = c->lma ? c->sysenter_esp : (uint32_t)c->sysenter_esp;
    c->rip = c->lma ? c->sysenter_eip : (uint32_t)c->sysenter_eip;
}

void emu_sysexit(struct emu_cpu *c, unsigned opsz)
{
    uint16_t sel = (uint16_t)c->sysenter_cs & 0xFFFC;
    if (!c->pe || sel == 0 || c->cpl != 0)
        RAISE_GP(c, 0);
    bool to64 = opsz == 8;
    uint16_t cs = (uint16_t)(sel + (to64 ? 32 : 16));
    flat_seg(&c->seg[CS_], (uint16_t)(cs | 3), true, to64, !to64, 3);
    flat_seg(&c->seg[SS_], (uint16_t)((cs + 8) | 3), false, false, true, 3);
    emu_set_cpl(c, 3);
    emu_update_mode(c);
    c->r[ESP_] = to64 ? c->r[ECX_] : (uint32_t)c->r[ECX_];
    c->rip = to64 ? c->r[EDX_] : (uint32_t)c->r[EDX_];
}

/* I/O permission: CPL <= IOPL, or the TSS bitmap allows every byte.
 * Virtual-8086 mode always consults the bitmap, whatever IOPL is. */
bool emu_io_allowed(struct emu_cpu *c, uint16_t port, unsigned size)
{
    if (!c->pe || (!(c->eflags & F_VM) && c->cpl <= ((c->eflags & F_IOPL) >> 12)))
        return true;
    if (!c->tr.valid || !(c->tr.type & 8) || c->tr.limit < 0x67)
        return false;
    uint32_t base = (uint32_t)emu_sys_read(c, c->tr.base + 0x66, 2);
    uint32_t at = base + port / 8;
    if (at + 1 > c->tr.limit)
        return false;
    uint32_t bits = (uint32_t)emu_sys_read(c, c->tr.base + at, 2);
    return ((bits >> (port & 7)) & ((1u << size) - 1)) == 0;
}
