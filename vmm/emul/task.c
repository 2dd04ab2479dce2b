/* Hardware task switches (Intel SDM vol. 3, 7.3): JMP/CALL far to a TSS
 * descriptor or a task gate, INT n / exceptions / external interrupts
 * through a task gate in the IDT, and IRET with EFLAGS.NT (back to the
 * task in the previous-task link).  32-bit and 16-bit TSSs.
 *
 * Order of events, which decides in which task a fault is reported:
 *  1. checks on the gate, the new TSS descriptor and both TSS limits, and
 *     a read of the whole new TSS image: faults here belong to the old
 *     task, nothing has changed yet;
 *  2. the commit: busy bits, the old task's state saved into its TSS, the
 *     link field and NT, TR, CR0.TS, CR3, registers, EFLAGS, EIP, the
 *     segment selectors;
 *  3. the new task's LDT and segment descriptors are loaded and checked:
 *     faults here (#TS/#NP/#SS) are delivered in the context of the new
 *     task, as on hardware.
 * Not modelled: the TSS T (debug trap) bit. */
#include "emul_int.h"

/* Where the state lives in a TSS of either size. */
struct tss_layout {
    unsigned w;             /* field width: 4 (32-bit TSS) or 2 */
    unsigned ip, flags, gpr, seg, ldt, cr3;
    unsigned nseg;          /* ES CS SS DS [FS GS], in our ES_..GS_ order */
    uint32_t min_limit;
};
static const struct tss_layout tss32 = { 4, 0x20, 0x24, 0x28, 0x48, 0x60, 0x1C, 6, 0x67 };
static const struct tss_layout tss16 = { 2, 0x0E, 0x10, 0x12, 0x22, 0x2A, 0, 4, 0x2B };

static const struct tss_layout *layout_of(unsigned type)
{
    return (type & 8) ? &tss32 : &tss16;
}

struct task_image {
    uint32_t eip, eflags, cr3, gpr[8];
    uint16_t seg[6], ldt;
};

static uint32_t tss_rd(struct emu_cpu *c, uint64_t base, unsigned off, unsigned w)
{
    return (uint32_t)emu_sys_read(c, base + off, w);
}

static void read_image(struct emu_cpu *c, uint64_t base, const struct tss_layout *l,
                       struct task_image *t)
{
    *t = (struct task_image){ 0 };
    t->eip = tss_rd(c, base, l->ip, l->w);
    t->eflags = tss_rd(c, base, l->flags, l->w);
    for (unsigned r = 0; r < 8; r++)
        t->gpr[r] = tss_rd(c, base, l->gpr + r * l->w, l->w);
    for (unsigned s = 0; s < l->nseg; s++)
        t->seg[s] = (uint16_t)tss_rd(c, base, l->seg + s * l->w, 2);
    t->ldt = (uint16_t)tss_rd(c, base, l->ldt, 2);
    if (l->w == 4)
        t->cr3 = tss_rd(c, base, l->cr3, 4);
}

/* The dynamic fields of the outgoing task (CR3 and the LDT selector are
 * static: never written back). */
static void save_state(struct emu_cpu *c, const struct tss_layout *l, uint32_t eflags,
                       uint32_t eip)
{
    uint64_t base = c->tr.base;
    emu_sys_write(c, base + l->ip, l->w, eip);
    emu_sys_write(c, base + l->flags, l->w, eflags);
    for (unsigned r = 0; r < 8; r++)
        emu_sys_write(c, base + l->gpr + r * l->w, l->w, c->r[r]);
    for (unsigned s = 0; s < l->nseg; s++)
        emu_sys_write(c, base + l->seg + s * l->w, 2, c->seg[s].sel);
}

static void set_busy(struct emu_cpu *c, uint16_t sel, bool busy)
{
    uint64_t a = c->gdt.base + (sel & ~7u) + 5;
    uint8_t b = (uint8_t)emu_sys_read(c, a, 1);
    emu_sys_write(c, a, 1, busy ? (b | 2) : (b & ~2));
}

static void load_ldt(struct emu_cpu *c, uint16_t sel, uint32_t ext)
{
    if ((sel & 0xFFFC) == 0) {
        c->ldtr = (struct emu_seg){ .sel = sel };
        return;
    }
    if ((sel & 4) || (uint32_t)(sel | 7) > c->gdt.limit)
        emu_raise(c, EXC_TS, (sel & 0xFFFC) | ext, true);
    uint32_t lo = (uint32_t)emu_sys_read(c, c->gdt.base + (sel & ~7u), 4);
    uint32_t hi = (uint32_t)emu_sys_read(c, c->gdt.base + (sel & ~7u) + 4, 4);
    if (((hi >> 8) & 0x1F) != 2 || !(hi & 0x8000))
        emu_raise(c, EXC_TS, (sel & 0xFFFC) | ext, true);
    emu_seg_from_desc(&c->ldtr, sel, lo, hi);
}

/* Loads a descriptor of the new task, #TS (with EXT) outside the table. */
static void new_desc(struct emu_cpu *c, uint16_t sel, uint32_t ext, uint32_t *lo, uint32_t *hi)
{
    if ((sel & 4) && (!c->ldtr.valid || (uint32_t)(sel | 7) > c->ldtr.limit))
        emu_raise(c, EXC_TS, (sel & 0xFFFC) | ext, true);
    emu_read_desc(c, sel, lo, hi, EXC_TS);
}

static void load_task_cs(struct emu_cpu *c, uint16_t sel, uint32_t ext)
{
    uint32_t e = (sel & 0xFFFC) | ext, lo, hi;
    if ((sel & 0xFFFC) == 0)
        emu_raise(c, EXC_TS, ext, true);
    new_desc(c, sel, ext, &lo, &hi);
    unsigned type = (hi >> 8) & 0xF, dpl = (hi >> 13) & 3, rpl = sel & 3;
    if (!((hi >> 12) & 1) || !(type & 8) || ((type & 4) ? dpl > rpl : dpl != rpl))
        emu_raise(c, EXC_TS, e, true);
    if (!(hi & 0x8000))
        emu_raise(c, EXC_NP, e, true);
    emu_set_accessed(c, sel, hi);
    emu_seg_from_desc(&c->seg[CS_], sel, lo, hi | 0x100);
}

static void load_task_ss(struct emu_cpu *c, uint16_t sel, uint32_t ext)
{
    uint32_t e = (sel & 0xFFFC) | ext, lo, hi;
    if ((sel & 0xFFFC) == 0)
        emu_raise(c, EXC_TS, e, true);
    new_desc(c, sel, ext, &lo, &hi);
    unsigned type = (hi >> 8) & 0xF, dpl = (hi >> 13) & 3;
    if (!((hi >> 12) & 1) || (type & 8) || !(type & 2) || (sel & 3) != c->cpl || dpl != c->cpl)
        emu_raise(c, EXC_TS, e, true);
    if (!(hi & 0x8000))
        emu_raise(c, EXC_SS, e, true);
    emu_set_accessed(c, sel, hi);
    emu_seg_from_desc(&c->seg[SS_], sel, lo, hi | 0x100);
}

static void load_task_data(struct emu_cpu *c, int sreg, uint16_t sel, uint32_t ext)
{
    struct emu_seg *s = &c->seg[sreg];
    if ((sel & 0xFFFC) == 0) {
        *s = (struct emu_seg){ .sel = sel };
        return;
    }
    uint32_t e = (sel & 0xFFFC) | ext, lo, hi;
    new_desc(c, sel, ext, &lo, &hi);
    unsigned type = (hi >> 8) & 0xF, dpl = (hi >> 13) & 3;
    bool code = type & 8, conforming = code && (type & 4);
    if (!((hi >> 12) & 1) || (code && !(type & 2)))
        emu_raise(c, EXC_TS, e, true);
    if (!conforming && (dpl < c->cpl || dpl < (sel & 3u)))
        emu_raise(c, EXC_TS, e, true);
    if (!(hi & 0x8000))
        emu_raise(c, EXC_NP, e, true);
    emu_set_accessed(c, sel, hi);
    emu_seg_from_desc(s, sel, lo, hi | 0x100);
}

/* Step 3: the new task's LDT and segments, CPL from CS.RPL (3 in
 * virtual-8086 mode). */
static void load_task_segs(struct emu_cpu *c, const struct task_image *t, uint32_t ext)
{
    load_ldt(c, t->ldt, ext);
    if (c->eflags & F_VM) {
        for (int s = 0; s < 6; s++)
            emu_seg_v86(&c->seg[s], t->seg[s]);
        emu_set_cpl(c, 3);
        return;
    }
    emu_set_cpl(c, t->seg[CS_] & 3);
    load_task_cs(c, t->seg[CS_], ext);
    load_task_ss(c, t->seg[SS_], ext);
    static const int data[] = { ES_, DS_, FS_, GS_ };
    for (unsigned k = 0; k < 4; k++)
        load_task_data(c, data[k], t->seg[data[k]], ext);
}

/* Checks the TSS descriptor `sel` names and returns it: a GDT selector of
 * an available (or, for IRET, busy) TSS that is present. */
static void new_tss_desc(struct emu_cpu *c, uint16_t sel, enum emu_task_src src, uint32_t ext,
                         uint32_t *lo, uint32_t *hi)
{
    int exc = src == EMU_TASK_IRET ? EXC_TS : EXC_GP;
    uint32_t e = (sel & 0xFFFC) | ext;
    if ((sel & 4) || (sel & 0xFFFC) == 0 || (uint32_t)(sel | 7) > c->gdt.limit)
        emu_raise(c, exc, e, true);
    *lo = (uint32_t)emu_sys_read(c, c->gdt.base + (sel & ~7u), 4);
    *hi = (uint32_t)emu_sys_read(c, c->gdt.base + (sel & ~7u) + 4, 4);
    unsigned type = (*hi >> 8) & 0x1F;
    bool busy = (type & ~8u) == 3, tss = (type & ~8u) == 1 || busy;
    if (!tss || busy != (src == EMU_TASK_IRET))
        emu_raise(c, exc, e, true);
    if (!(*hi & 0x8000))
        emu_raise(c, EXC_NP, e, true);
}

void emu_task_switch(struct emu_cpu *c, uint16_t sel, enum emu_task_src src, uint64_t ret_eip,
                     bool has_err, uint32_t err, uint32_t ext)
{
    uint32_t lo, hi;
    new_tss_desc(c, sel, src, ext, &lo, &hi);
    struct emu_seg nt;
    emu_seg_from_desc(&nt, sel, lo, hi);
    const struct tss_layout *nl = layout_of(nt.type), *ol = layout_of(c->tr.type);
    if (nt.limit < nl->min_limit)
        emu_raise(c, EXC_TS, (sel & 0xFFFC) | ext, true);
    if (!c->tr.valid || c->tr.limit < ol->min_limit)
        emu_raise(c, EXC_TS, (c->tr.sel & 0xFFFC) | ext, true);
    struct task_image t;
    read_image(c, nt.base, nl, &t);

    /* ---- commit ---- */
    c->st.task_switches++;
    uint32_t fl = emu_get_eflags(c);
    if (src == EMU_TASK_IRET)
        fl &= ~F_NT;
    if (src == EMU_TASK_JMP || src == EMU_TASK_IRET)
        set_busy(c, c->tr.sel, false);
    save_state(c, ol, fl, (uint32_t)ret_eip);
    bool nest = src == EMU_TASK_CALL || src == EMU_TASK_INT;
    if (nest) {
        t.eflags |= F_NT;
        emu_sys_write(c, nt.base, 2, c->tr.sel);
    }
    if (src != EMU_TASK_IRET)
        set_busy(c, sel, true);
    emu_seg_from_desc(&c->tr, sel, lo, hi | 0x200);
    c->cr0 |= 8;                                /* CR0.TS */
    c->dr[7] &= ~0x55ull;                       /* local breakpoint enables */
    if (nl->w == 4 && c->pg)
        emu_write_cr(c, 3, t.cr3);
    for (unsigned r = 0; r < 8; r++) {
        if (nl->w == 4)
            c->r[r] = t.gpr[r];
        else
            set_reg(c, r, 2, t.gpr[r]);
    }
    c->lf.op = LF_NONE;
    c->eflags = (t.eflags | 2u) & ~(0x8u | 0x20u | 0x8000u);
    c->rip = t.eip;
    c->intr_shadow = false;
    c->stop_block = true;
    /* Selectors first, descriptors after (SDM 7.3 step 12-13): until a
     * descriptor is loaded its register is unusable. */
    for (int s = 0; s < 6; s++)
        c->seg[s] = (struct emu_seg){ .sel = t.seg[s], .type = c->seg[s].type,
                                      .db = c->seg[s].db, .s = true };
    emu_update_mode(c);

    /* ---- the new task's descriptors (faults in the new task) ---- */
    load_task_segs(c, &t, ext);
    emu_update_mode(c);
    if (c->rip > c->seg[CS_].limit)
        RAISE_GP(c, ext);
    if (has_err)
        push(c, nl->w, err);
}

void emu_task_far(struct emu_cpu *c, uint16_t sel, uint32_t lo, uint32_t hi, bool call,
                  uint64_t ret_eip)
{
    unsigned type = (hi >> 8) & 0xF, dpl = (hi >> 13) & 3;
    enum emu_task_src src = call ? EMU_TASK_CALL : EMU_TASK_JMP;
    if (dpl < c->cpl || dpl < (sel & 3u))
        RAISE_GP(c, sel & 0xFFFC);
    if (type == 5) {
        if (!(hi & 0x8000))
            emu_raise(c, EXC_NP, sel & 0xFFFC, true);
        emu_task_switch(c, (uint16_t)(lo >> 16), src, ret_eip, false, 0, 0);
        return;
    }
    if (type == 3 || type == 0xB)               /* busy: no recursion */
        RAISE_GP(c, sel & 0xFFFC);
    emu_task_switch(c, sel, src, ret_eip, false, 0, 0);
}

void emu_task_return(struct emu_cpu *c, uint64_t ret_eip)
{
    if (!c->tr.valid || c->tr.limit < 1)
        emu_raise(c, EXC_TS, c->tr.sel & 0xFFFC, true);
    uint16_t link = (uint16_t)emu_sys_read(c, c->tr.base, 2);
    emu_task_switch(c, link, EMU_TASK_IRET, ret_eip, false, 0, 0);
}
