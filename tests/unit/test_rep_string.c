/* REP MOVS/STOS in userspace (vmm/arch/rep_string.c), the engine behind
 * the KVM backend's REP-over-MMIO exits: decoding, element order and
 * values through a fake MMIO device and real guest RAM, DF, address
 * sizes and wrap-around, segment limits, paging, page-crossing elements,
 * ROM writes, early stops, and the hand-back of a read exit's element. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../vmm/arch/rep_string.h"
#include "../../vmm/paging/paging.h"

#define DEV_BASE 0xA0000ull          /* the VGA hole: MMIO in guest_mem */
#define DEV_SIZE 0x20000u
#define MAX_LOG 256

/* A memory-like MMIO device that logs every access. */
struct access {
    uint64_t gpa;
    unsigned size;
    bool w;
    uint64_t val;
};

struct fake_dev {
    uint8_t mem[DEV_SIZE];
    struct access log[MAX_LOG];
    unsigned nlog, reads, writes, stop_after_polls, polls;
};

static void dev_mmio(void *o, uint64_t gpa, unsigned size, bool w, uint64_t *val)
{
    struct fake_dev *d = o;
    CU_ASSERT_FATAL(gpa >= DEV_BASE && gpa + size <= DEV_BASE + DEV_SIZE && size <= 8);
    if (w)
        memcpy(d->mem + (gpa - DEV_BASE), val, size);
    else {
        *val = 0;
        memcpy(val, d->mem + (gpa - DEV_BASE), size);
    }
    if (d->nlog < MAX_LOG)
        d->log[d->nlog++] = (struct access){ gpa, size, w, *val };
    if (w)
        d->writes++;
    else
        d->reads++;
}

static bool dev_stop(void *o)
{
    struct fake_dev *d = o;
    return d->stop_after_polls && ++d->polls >= d->stop_after_polls;
}

static uint8_t bios[64 * 1024];
static struct guest_mem gm;
static struct fake_dev *dev;
static struct rep_env env;

static int setup(void)
{
    memset(bios, 0xEE, sizeof(bios));
    if (mem_init(&gm, 16 * MiB, bios, sizeof(bios)) < 0)
        return -1;
    dev = calloc(1, sizeof(*dev));
    env = (struct rep_env){ &gm, dev, dev_mmio, dev_stop };
    return dev ? 0 : -1;
}

static int teardown(void)
{
    mem_destroy(&gm);
    free(dev);
    return 0;
}

static void reset_dev(void)
{
    memset(dev, 0, sizeof(*dev));
    memset(gm.ram, 0, 4 * MiB);
}

/* Real mode, all segments base sel*16, limit 64 KiB. */
static void real_state(struct x86_state *s)
{
    x86_reset_state(s);
    for (int i = 0; i < X86_NSREG; i++) {
        s->seg[i].base = 0;
        s->seg[i].selector = 0;
    }
    s->seg[X86_CS].base = 0xF0000;
    s->seg[X86_CS].selector = 0xF000;
    s->rip = 0x100;
}

static void set_seg(struct x86_state *s, int i, uint64_t base)
{
    s->seg[i].base = base;
    s->seg[i].selector = (uint16_t)(base >> 4);
}

/* 32-bit flat protected mode, CPL0. */
static void pm_state(struct x86_state *s)
{
    x86_reset_state(s);
    s->cr0 = X86_CR0_PE | X86_CR0_ET;
    for (int i = 0; i < X86_NSREG; i++) {
        struct x86_seg *g = &s->seg[i];
        *g = (struct x86_seg){ .base = 0, .limit = 0xFFFFFFFF, .selector = 0x10, .type = 3,
                               .present = true, .s = true, .db = true, .g = true };
    }
    s->seg[X86_CS].type = 0xB;
    s->seg[X86_CS].selector = 0x08;
    s->rip = 0x1000;
}

static uint32_t ram32(uint64_t gpa) { uint32_t v; memcpy(&v, gm.ram + gpa, 4); return v; }
static void put32(uint64_t gpa, uint32_t v) { memcpy(gm.ram + gpa, &v, 4); }
static void put64(uint64_t gpa, uint64_t v) { memcpy(gm.ram + gpa, &v, 8); }
static uint32_t dev32(uint64_t gpa) { uint32_t v; memcpy(&v, dev->mem + (gpa - DEV_BASE), 4); return v; }

static struct rep_insn decode(const char *hex, int bits, int *rc)
{
    uint8_t b[16];
    size_t n = 0;
    for (const char *p = hex; p[0] && p[1] && n < sizeof(b); p += 2) {
        while (*p == ' ')
            p++;
        unsigned v;
        sscanf(p, "%2x", &v);
        b[n++] = (uint8_t)v;
    }
    struct rep_insn ri = { 0 };
    *rc = rep_decode(b, n, bits, &ri);
    return ri;
}

static void test_decode(void)
{
    int rc;
    struct rep_insn r = decode("f3ab", 16, &rc);
    CU_ASSERT(rc == 0 && r.kind == REP_STOS && r.size == 2 && r.adsz == 2 && r.len == 2);
    r = decode("66f3a5", 16, &rc);
    CU_ASSERT(rc == 0 && r.kind == REP_MOVS && r.size == 4 && r.adsz == 2 && r.len == 3);
    r = decode("f36667a5", 16, &rc);
    CU_ASSERT(rc == 0 && r.size == 4 && r.adsz == 4 && r.src_seg == X86_DS);
    r = decode("2ef3a4", 16, &rc);
    CU_ASSERT(rc == 0 && r.size == 1 && r.src_seg == X86_CS);
    r = decode("f3ab", 32, &rc);
    CU_ASSERT(rc == 0 && r.size == 4 && r.adsz == 4);
    r = decode("66f3ab", 32, &rc);
    CU_ASSERT(rc == 0 && r.size == 2);
    r = decode("f348ab", 64, &rc);
    CU_ASSERT(rc == 0 && r.size == 8 && r.adsz == 8 && r.len == 3);
    r = decode("f36748a5", 64, &rc);
    CU_ASSERT(rc == 0 && r.kind == REP_MOVS && r.size == 8 && r.adsz == 4);
    r = decode("64f3a5", 64, &rc);
    CU_ASSERT(rc == 0 && r.src_seg == X86_FS && r.size == 4);
    /* Not ours: no REP, REPNE, LOCK, other opcodes, truncated, a REX
     * that is not right before the opcode (48 in 32-bit code is DEC). */
    decode("a5", 32, &rc);
    CU_ASSERT_EQUAL(rc, -1);
    decode("f2a5", 32, &rc);
    CU_ASSERT_EQUAL(rc, -1);
    decode("f0f3ab", 32, &rc);
    CU_ASSERT_EQUAL(rc, -1);
    decode("f3a6", 32, &rc);         /* REPE CMPSB */
    CU_ASSERT_EQUAL(rc, -1);
    decode("f3", 32, &rc);
    CU_ASSERT_EQUAL(rc, -1);
    decode("f348ab", 32, &rc);
    CU_ASSERT_EQUAL(rc, -1);
    decode("48f3ab", 64, &rc);
    CU_ASSERT_EQUAL(rc, -1);
}

/* REP STOSD into the device in real mode: every element once, in order,
 * with EAX; CX 0, DI past the block, RIP past the instruction. */
static void test_stos_real(void)
{
    reset_dev();
    struct x86_state s;
    real_state(&s);
    set_seg(&s, X86_ES, DEV_BASE);
    s.gpr[X86_RDI] = 0x10;
    s.gpr[X86_RCX] = 0xDEAD0000 | 100;   /* only CX counts */
    s.gpr[X86_RAX] = 0x11223344;
    int rc;
    struct rep_insn ri = decode("66f3ab", 16, &rc);
    struct rep_result res;
    rep_run(&env, &s, &ri, 1000, false, &res);
    CU_ASSERT_EQUAL(res.done, 100);
    CU_ASSERT(res.finished && !res.handed_back);
    CU_ASSERT_EQUAL(s.gpr[X86_RCX], 0xDEAD0000);
    CU_ASSERT_EQUAL(s.gpr[X86_RDI], 0x10 + 400);
    CU_ASSERT_EQUAL(s.rip, 0x103);
    CU_ASSERT_EQUAL(dev->writes, 100);
    CU_ASSERT_EQUAL(dev->reads, 0);
    for (unsigned i = 0; i < 100; i++) {
        CU_ASSERT_EQUAL(dev->log[i].gpa, DEV_BASE + 0x10 + 4 * i);
        CU_ASSERT_EQUAL(dev->log[i].size, 4);
        CU_ASSERT_EQUAL(dev->log[i].val & 0xFFFFFFFF, 0x11223344);
    }
    /* Count 0: nothing at all. */
    rep_run(&env, &s, &ri, 1000, false, &res);
    CU_ASSERT_EQUAL(res.done, 0);
    CU_ASSERT(!res.finished);
    CU_ASSERT_EQUAL(s.rip, 0x103);
}

/* DF=1 MOVSD from RAM to the device: descending addresses, SI/DI down. */
static void test_movs_df(void)
{
    reset_dev();
    struct x86_state s;
    real_state(&s);
    set_seg(&s, X86_DS, 0x10000);
    set_seg(&s, X86_ES, DEV_BASE);
    for (unsigned i = 0; i < 8; i++)
        put32(0x10000 + 0x200 + 4 * i, 0xC0DE0000 + i);
    s.gpr[X86_RSI] = 0x200 + 28;
    s.gpr[X86_RDI] = 0x300 + 28;
    s.gpr[X86_RCX] = 8;
    s.rflags |= 1u << 10;
    int rc;
    struct rep_insn ri = decode("66f3a5", 16, &rc);
    struct rep_result res;
    rep_run(&env, &s, &ri, 1000, false, &res);
    CU_ASSERT(res.done == 8 && res.finished);
    CU_ASSERT_EQUAL(s.gpr[X86_RSI], 0x200 - 4);
    CU_ASSERT_EQUAL(s.gpr[X86_RDI], 0x300 - 4);
    for (unsigned i = 0; i < 8; i++) {
        CU_ASSERT_EQUAL(dev32(DEV_BASE + 0x300 + 4 * i), 0xC0DE0000 + i);
        CU_ASSERT_EQUAL(dev->log[i].gpa, DEV_BASE + 0x300 + 28 - 4 * i);
    }
}

/* 16-bit offsets wrap within the segment (no fault at 64 KiB when the
 * element fits); an element crossing the limit stops the engine before
 * it, registers at that element. */
static void test_wrap_and_limit(void)
{
    reset_dev();
    struct x86_state s;
    real_state(&s);
    set_seg(&s, X86_ES, DEV_BASE);
    s.gpr[X86_RDI] = 0x12340000 | 0xFFF8;
    s.gpr[X86_RCX] = 4;
    int rc;
    struct rep_insn ri = decode("66f3ab", 16, &rc);
    struct rep_result res;
    rep_run(&env, &s, &ri, 1000, false, &res);
    CU_ASSERT(res.done == 4 && res.finished);
    CU_ASSERT_EQUAL(s.gpr[X86_RDI], 0x12340008);     /* upper bits kept */
    CU_ASSERT_EQUAL(dev->log[2].gpa, DEV_BASE);      /* wrapped to offset 0 */

    reset_dev();
    real_state(&s);
    set_seg(&s, X86_ES, DEV_BASE);
    s.gpr[X86_RDI] = 0xFFF6;
    s.gpr[X86_RCX] = 3;
    rep_run(&env, &s, &ri, 1000, false, &res);
    CU_ASSERT_EQUAL(res.done, 2);                    /* FFF6, FFFA; FFFE+3 > limit */
    CU_ASSERT(!res.finished);
    CU_ASSERT_EQUAL(s.gpr[X86_RCX], 1);
    CU_ASSERT_EQUAL(s.gpr[X86_RDI], 0xFFFE);
    CU_ASSERT_EQUAL(s.rip, 0x100);                   /* KVM runs (and faults) the rest */
}

/* Protected mode: a read-only ES, an expand-down ES, a null (unusable)
 * DS for MOVS. */
static void test_pm_segments(void)
{
    reset_dev();
    struct x86_state s;
    pm_state(&s);
    s.gpr[X86_RDI] = DEV_BASE;
    s.gpr[X86_RCX] = 4;
    int rc;
    struct rep_insn ri = decode("f3ab", 32, &rc);
    struct rep_result res;
    s.seg[X86_ES].type = 1;                          /* read-only data */
    rep_run(&env, &s, &ri, 1000, false, &res);
    CU_ASSERT_EQUAL(res.done, 0);
    CU_ASSERT_EQUAL(dev->writes, 0);

    /* Expand-down, limit 0xA0007, 32-bit: offsets 0xA0008.. are valid. */
    s.seg[X86_ES].type = 7;
    s.seg[X86_ES].limit = DEV_BASE + 7;
    rep_run(&env, &s, &ri, 1000, false, &res);
    CU_ASSERT_EQUAL(res.done, 0);                    /* DEV_BASE is below the bottom */
    s.gpr[X86_RDI] = DEV_BASE + 8;
    rep_run(&env, &s, &ri, 1000, false, &res);
    CU_ASSERT(res.done == 4 && res.finished);

    pm_state(&s);
    ri = decode("f3a5", 32, &rc);
    s.seg[X86_DS].unusable = true;
    s.gpr[X86_RSI] = 0x1000;
    s.gpr[X86_RDI] = DEV_BASE;
    s.gpr[X86_RCX] = 4;
    rep_run(&env, &s, &ri, 1000, false, &res);
    CU_ASSERT_EQUAL(res.done, 0);
}

/* Paging (2-level): the destination runs into a page that is not
 * present: the engine stops at that element.  A dword straddling two
 * pages is left to KVM too.  Accessed/dirty bits are set as the CPU does. */
static void test_paging(void)
{
    reset_dev();
    struct x86_state s;
    pm_state(&s);
    s.cr0 |= X86_CR0_PG;
    s.cr3 = 0x100000;
    put32(0x100000, 0x101000 | 3);                   /* PDE 0 -> PT, rw */
    put32(0x101000 + 0x10 * 4, 0xA0000 | 3);         /* 0x10000 -> device page 0 */
    put32(0x101000 + 0x11 * 4, 0xA1000 | 3);         /* 0x11000 -> device page 1 */
    /* 0x12000 not present */
    s.gpr[X86_RDI] = 0x11FF0;
    s.gpr[X86_RCX] = 10;
    int rc;
    struct rep_insn ri = decode("f3ab", 32, &rc);
    struct rep_result res;
    rep_run(&env, &s, &ri, 1000, false, &res);
    CU_ASSERT_EQUAL(res.done, 4);
    CU_ASSERT_EQUAL(s.gpr[X86_RDI], 0x12000);
    CU_ASSERT_EQUAL(s.gpr[X86_RCX], 6);
    CU_ASSERT_EQUAL(dev->log[0].gpa, 0xA1FF0);
    CU_ASSERT(ram32(0x101000 + 0x11 * 4) & 0x40);    /* dirty */
    uint64_t gpa;
    CU_ASSERT_EQUAL(rep_element_gpa(&env, &s, &ri, true, 1, &gpa), 0);
    CU_ASSERT_EQUAL(gpa, 0xA1FFC);
    CU_ASSERT_EQUAL(rep_element_gpa(&env, &s, &ri, true, 0, &gpa), -1);

    s.gpr[X86_RDI] = 0x10FFE;                        /* straddles 0x10000/0x11000 */
    s.gpr[X86_RCX] = 2;
    rep_run(&env, &s, &ri, 1000, false, &res);
    CU_ASSERT_EQUAL(res.done, 0);

    /* SMAP: a CPL0 write to a user page faults unless EFLAGS.AC. */
    put32(0x100000, 0x101000 | 7);
    put32(0x101000 + 0x10 * 4, 0xA0000 | 7);
    s.cr4 |= 1u << 21;
    s.gpr[X86_RDI] = 0x10000;
    s.gpr[X86_RCX] = 2;
    rep_run(&env, &s, &ri, 1000, false, &res);
    CU_ASSERT_EQUAL(res.done, 0);
    s.rflags |= 1u << 18;
    rep_run(&env, &s, &ri, 1000, false, &res);
    CU_ASSERT_EQUAL(res.done, 2);
}

/* Writes into ROM are dropped (and do not stop the instruction). */
static void test_rom_dropped(void)
{
    reset_dev();
    struct x86_state s;
    real_state(&s);
    set_seg(&s, X86_ES, 0xF0000);
    s.gpr[X86_RDI] = 0x100;
    s.gpr[X86_RCX] = 4;
    s.gpr[X86_RAX] = 0;
    int rc;
    struct rep_insn ri = decode("f3aa", 16, &rc);
    struct rep_result res;
    rep_run(&env, &s, &ri, 1000, false, &res);
    CU_ASSERT(res.done == 4 && res.finished);
    const struct mem_slot *sl = mem_lookup(&gm, 0xF0100);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sl);
    CU_ASSERT_EQUAL(sl->host[0xF0100 - sl->gpa], 0xEE);
}

/* should_stop ends it between elements, registers consistent; max too. */
static void test_stop_and_max(void)
{
    reset_dev();
    struct x86_state s;
    real_state(&s);
    set_seg(&s, X86_ES, DEV_BASE);
    s.gpr[X86_RCX] = 50;
    int rc;
    struct rep_insn ri = decode("f3aa", 16, &rc);
    struct rep_result res;
    dev->stop_after_polls = 3;
    rep_run(&env, &s, &ri, 1000, false, &res);
    CU_ASSERT_EQUAL(res.done, 3);
    CU_ASSERT_EQUAL(s.gpr[X86_RCX], 47);
    CU_ASSERT_EQUAL(s.gpr[X86_RDI], 3);
    CU_ASSERT_EQUAL(dev->writes, 3);
    dev->stop_after_polls = 0;
    rep_run(&env, &s, &ri, 7, false, &res);
    CU_ASSERT_EQUAL(res.done, 7);
    CU_ASSERT_EQUAL(s.gpr[X86_RCX], 40);
    CU_ASSERT_EQUAL(s.rip, 0x100);
}

/* Hand-back (a read exit): element 0's source is read first, elements
 * 1..k are done, registers one element short; what KVM then does
 * (element 0's write, one step) ends exactly where k would. */
static void test_hand_back(void)
{
    reset_dev();
    struct x86_state s;
    real_state(&s);
    set_seg(&s, X86_DS, DEV_BASE);
    set_seg(&s, X86_ES, 0x20000);
    for (unsigned i = 0; i < 10; i++)
        memcpy(dev->mem + 0x40 + 4 * i, &(uint32_t){ 0xFACE0000 + i }, 4);
    s.gpr[X86_RSI] = 0x40;
    s.gpr[X86_RDI] = 0x80;
    s.gpr[X86_RCX] = 10;
    int rc;
    struct rep_insn ri = decode("66f3a5", 16, &rc);
    struct rep_result res;
    rep_run(&env, &s, &ri, 1000, true, &res);
    CU_ASSERT(res.handed_back && !res.finished);
    CU_ASSERT_EQUAL(res.done, 9);
    CU_ASSERT_EQUAL(res.read_val, 0xFACE0000);
    CU_ASSERT_EQUAL(dev->reads, 10);
    for (unsigned i = 0; i < 10; i++)
        CU_ASSERT_EQUAL(dev->log[i].gpa, DEV_BASE + 0x40 + 4 * i);
    CU_ASSERT_EQUAL(ram32(0x20080), 0);              /* element 0: KVM's */
    for (unsigned i = 1; i < 10; i++)
        CU_ASSERT_EQUAL(ram32(0x20080 + 4 * i), 0xFACE0000 + i);
    CU_ASSERT_EQUAL(s.gpr[X86_RCX], 1);
    CU_ASSERT_EQUAL(s.gpr[X86_RSI], 0x40 + 36);
    CU_ASSERT_EQUAL(s.gpr[X86_RDI], 0x80 + 36);
    CU_ASSERT_EQUAL(s.rip, 0x100);

    /* A device destination (MMIO -> MMIO) or a RAM source: not here. */
    reset_dev();
    real_state(&s);
    set_seg(&s, X86_DS, DEV_BASE);
    set_seg(&s, X86_ES, DEV_BASE);
    s.gpr[X86_RCX] = 10;
    rep_run(&env, &s, &ri, 1000, true, &res);
    CU_ASSERT(!res.handed_back && res.done == 0 && dev->reads == 0);
    set_seg(&s, X86_DS, 0x20000);
    set_seg(&s, X86_ES, 0x30000);
    rep_run(&env, &s, &ri, 1000, true, &res);
    CU_ASSERT(!res.handed_back && res.done == 0);

    /* The 16-bit cap: never back onto element 0's destination. */
    reset_dev();
    real_state(&s);
    set_seg(&s, X86_DS, DEV_BASE);
    set_seg(&s, X86_ES, 0x20000);
    s.gpr[X86_RCX] = 0xFFFF;
    rep_run(&env, &s, &ri, 1u << 20, true, &res);
    CU_ASSERT(res.handed_back);
    CU_ASSERT(res.done + 1 < 0x10000 / 4);
    CU_ASSERT_EQUAL(s.gpr[X86_RCX], 0xFFFF - res.done);
}

/* 64-bit mode with 4-level paging (2 MiB identity page): STOSQ, and
 * 32-bit address size zero-extending RDI/RCX; non-canonical stops. */
static void test_long_mode(void)
{
    reset_dev();
    struct x86_state s;
    pm_state(&s);
    s.cr0 |= X86_CR0_PG;
    s.cr4 = PG_CR4_PAE;
    s.efer = PG_EFER_LMA | (1u << 8);
    s.seg[X86_CS].l = true;
    s.seg[X86_CS].db = false;
    s.cr3 = 0x100000;
    put64(0x100000, 0x101000 | 3);
    put64(0x101000, 0x102000 | 3);
    put64(0x102000, 0x000000 | 0x83);                /* 2 MiB page at 0 */
    s.gpr[X86_RDI] = DEV_BASE;
    s.gpr[X86_RCX] = 3;
    s.gpr[X86_RAX] = 0x0123456789ABCDEFull;
    s.rip = 0xFFFFFFFF00001000ull & 0x0000FFFFFFFFFFFFull;
    int rc;
    struct rep_insn ri = decode("f348ab", 64, &rc);
    struct rep_result res;
    uint64_t rip0 = s.rip;
    rep_run(&env, &s, &ri, 1000, false, &res);
    CU_ASSERT(res.done == 3 && res.finished);
    CU_ASSERT_EQUAL(dev->log[1].size, 8);
    CU_ASSERT_EQUAL(dev->log[1].val, 0x0123456789ABCDEFull);
    CU_ASSERT_EQUAL(s.rip, rip0 + 3);

    ri = decode("f36748ab", 64, &rc);
    s.gpr[X86_RDI] = 0xFFFFFFFF00000000ull | DEV_BASE;
    s.gpr[X86_RCX] = 0xFFFFFFFF00000002ull;
    rep_run(&env, &s, &ri, 1000, false, &res);
    CU_ASSERT(res.done == 2 && res.finished);
    CU_ASSERT_EQUAL(s.gpr[X86_RDI], DEV_BASE + 16);
    CU_ASSERT_EQUAL(s.gpr[X86_RCX], 0);

    ri = decode("f348ab", 64, &rc);
    s.gpr[X86_RDI] = 0x0000800000000000ull;          /* non-canonical */
    s.gpr[X86_RCX] = 2;
    rep_run(&env, &s, &ri, 1000, false, &res);
    CU_ASSERT_EQUAL(res.done, 0);
}

/* Instruction bytes across a page boundary, through paging. */
static void test_fetch(void)
{
    reset_dev();
    struct x86_state s;
    pm_state(&s);
    s.cr0 |= X86_CR0_PG;
    s.cr3 = 0x100000;
    put32(0x100000, 0x101000 | 3);
    put32(0x101000 + 4 * 4, 0x7000 | 1);             /* 0x4000 -> 0x7000 */
    put32(0x101000 + 5 * 4, 0x3000 | 1);             /* 0x5000 -> 0x3000 */
    gm.ram[0x7FFF] = 0xF3;
    gm.ram[0x3000] = 0xAB;
    s.rip = 0x4FFF;
    uint8_t b[15];
    size_t n = rep_fetch(&env, &s, b, sizeof(b));
    CU_ASSERT_EQUAL(n, 15);
    CU_ASSERT(b[0] == 0xF3 && b[1] == 0xAB);
    s.rip = 0x5FFE;                                  /* 0x6000 not present */
    CU_ASSERT_EQUAL(rep_fetch(&env, &s, b, sizeof(b)), 2);
}

void suite_rep_string(void)
{
    CU_pSuite s = CU_add_suite("rep_string", setup, teardown);
    CU_add_test(s, "decoding REP MOVS/STOS", test_decode);
    CU_add_test(s, "REP STOSD into MMIO, real mode", test_stos_real);
    CU_add_test(s, "DF=1 MOVSD RAM to MMIO", test_movs_df);
    CU_add_test(s, "16-bit wrap and segment limit stop", test_wrap_and_limit);
    CU_add_test(s, "protected-mode segment checks", test_pm_segments);
    CU_add_test(s, "paging: stop at a missing page, straddling element", test_paging);
    CU_add_test(s, "writes into ROM dropped", test_rom_dropped);
    CU_add_test(s, "early stop and max", test_stop_and_max);
    CU_add_test(s, "hand-back of a read exit's element", test_hand_back);
    CU_add_test(s, "64-bit mode, 32-bit address size, canonical", test_long_mode);
    CU_add_test(s, "instruction fetch across pages", test_fetch);
}
