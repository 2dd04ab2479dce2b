/* REP MOVS / REP STOS in page-sized chunks (ops.c, "bulk REP MOVS /
 * STOS") against the element-by-element reference (emu_cpu.str_elementwise)
 * and against the host CPU: every element size, direction, overlap
 * distance, page crossing and address size, faults in the middle, self-
 * modifying code, MMIO and the STR_CAP bound. */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

#include "../../vmm/emul/emul_int.h"

static uint8_t bios[64 * 1024];

#define MMIO_LOG 512
struct mmio_rec { uint64_t addr, val; unsigned size; bool write; };
struct fx {
    struct guest_mem mem;
    struct emu_cpu cpu;
    unsigned nmmio;
    struct mmio_rec mmio[MMIO_LOG];
};

static void pio(void *o, uint16_t p, unsigned s, bool w, uint32_t *v)
{
    (void)o; (void)p; (void)s;
    if (!w)
        *v = 0xFF;
}

/* Records every access; reads return a value made of the address. */
static void mmio(void *o, uint64_t a, unsigned s, bool w, uint64_t *v)
{
    struct fx *f = o;
    if (!w)
        *v = (a * 0x01000193u) & size_mask(s);
    if (f->nmmio < MMIO_LOG)
        f->mmio[f->nmmio] = (struct mmio_rec){ a, *v, s, w };
    f->nmmio++;
}

static void put32(struct fx *f, uint32_t at, uint32_t v) { memcpy(f->mem.ram + at, &v, 4); }

enum mode { M_REAL, M_PM32, M_PM32_A16, M_PM32_LIM, M_LONG, M_LONG_A32, NMODES };
static const char *const mode_name[NMODES] = { "real", "pm32", "pm32-a16", "pm32-limits",
                                               "long", "long-a32" };

/* Page tables of the protected-mode fixtures (2-level, PD 0x10000):
 *   linear 0x000000-0x01FFFF -> phys 0x130000 (16-bit offsets of pm32-a16)
 *   linear 0x010000-0x3FFFFF identity, except
 *     0x120000 not present, 0x121000 read-only (CR0.WP is set),
 *     0x300000-0x30FFFF -> phys 0x100000 (a second linear view of it)
 *   linear 0xFFFFF000 -> phys 0x101000 (32-bit wrap of ESI/EDI) */
#define PD 0x10000u
#define PT0 0x11000u
#define PT1023 0x12000u
#define NOT_PRESENT 0x120000u
#define READ_ONLY 0x121000u

static void page_tables(struct fx *f)
{
    put32(f, PD, PT0 | 3);
    put32(f, PD + 4 * 1023, PT1023 | 3);
    for (uint32_t p = 0; p < 1024; p++) {
        uint32_t pa = p << 12;
        if (p < 0x20)
            pa = 0x130000 + (p << 12);
        else if (p >= 0x300 && p < 0x310)
            pa = 0x100000 + ((p - 0x300) << 12);
        uint32_t pte = pa | 3;
        if (pa == NOT_PRESENT)
            pte = 0;
        else if (pa == READ_ONLY)
            pte = pa | 1;
        put32(f, PT0 + 4 * p, pte);
    }
    put32(f, PT1023 + 4 * 1023, 0x101000 | 3);
}

/* Long mode's 4-level tables: the low 4 MiB identity-mapped by two 2 MiB
 * pages (as Linux maps its direct map), and the last canonical page of
 * the lower half, linear 0x7FFFFFFFF000, -> phys 0x102000. */
#define PML4 0x13000u
static void page_tables64(struct fx *f)
{
    put32(f, PML4, 0x14000 | 3);
    put32(f, PML4 + 8 * 255, 0x15000 | 3);
    put32(f, 0x14000, 0x16000 | 3);
    put32(f, 0x16000, 0x000000 | 0x83);
    put32(f, 0x16008, 0x200000 | 0x83);
    put32(f, 0x15000 + 8 * 511, 0x17000 | 3);
    put32(f, 0x17000 + 8 * 511, 0x18000 | 3);
    put32(f, 0x18000 + 8 * 511, 0x102000 | 3);
}

static void setup(struct fx *f, enum mode md)
{
    memset(f, 0, sizeof(*f));
    CU_ASSERT_FATAL(mem_init(&f->mem, 4 * MiB, bios, sizeof(bios)) == 0);
    struct emu_env env = { .pio = pio, .mmio = mmio, .opaque = f };
    CU_ASSERT_FATAL(emu_init(&f->cpu, &f->mem, &env) == 0);
    struct x86_state s;
    x86_reset_state(&s);
    for (int k = 0; k < X86_NSREG; k++)
        s.seg[k].base = 0, s.seg[k].selector = 0;
    if (md == M_REAL) {
        s.seg[X86_DS] = (struct x86_seg){ .base = 0x90010, .selector = 0x9001, .limit = 0xFFFF,
                                          .type = 3, .present = true, .s = true };
        s.seg[X86_ES] = s.seg[X86_DS];
        s.seg[X86_ES].base = 0x90800, s.seg[X86_ES].selector = 0x9080;
    } else {
        s.cr0 |= 1;
        for (int k = 0; k < X86_NSREG; k++)
            s.seg[k] = (struct x86_seg){ .limit = 0xFFFFFFFF, .selector = 0x10, .type = 3,
                                         .present = true, .s = true, .db = true, .g = true };
        s.seg[X86_CS].type = 0xB;
        s.seg[X86_CS].selector = 0x08;
    }
    if (md == M_PM32_LIM) {
        /* ES ends at 0x10FFFF; DS is expand-down above 0x107FFF */
        s.seg[X86_ES].limit = 0x10FFFF;
        s.seg[X86_DS].limit = 0x107FFF;
        s.seg[X86_DS].type = 7;
    }
    if (md == M_PM32_A16) {
        /* bases off page boundaries: a 16-bit offset wraps inside a page */
        s.seg[X86_DS].base = 0x10;
        s.seg[X86_ES].base = 0x7F8;
    }
    if (md == M_PM32 || md == M_PM32_A16 || md == M_PM32_LIM) {
        page_tables(f);
        s.cr0 |= PG_CR0_PG | PG_CR0_WP;
        s.cr3 = PD;
    }
    if (md == M_LONG || md == M_LONG_A32) {
        page_tables64(f);
        s.cr4 |= PG_CR4_PAE;
        s.cr0 |= PG_CR0_PG | PG_CR0_WP;
        s.cr3 = PML4;
        s.efer = (1u << 8) | (1u << 10);
        s.seg[X86_CS] = (struct x86_seg){ .limit = 0xFFFFFFFF, .selector = 0x08, .type = 0xB,
                                          .present = true, .s = true, .l = true, .g = true };
        /* FS:0xFFFFFFF0 is linear 0x100000, FS:0 far away: 32-bit offsets
         * wrap in the middle of a page */
        s.seg[X86_FS].base = 0x100010 - 0x100000000ull;
    }
    s.rip = 0x1000;
    s.gpr[X86_RSP] = 0x8000;
    emu_reset(&f->cpu, &s);
    f->cpu.idt.limit = 0;       /* a fault ends in shutdown: registers stay as they were */
}

static void done(struct fx *f)
{
    emu_fini(&f->cpu);
    mem_destroy(&f->mem);
}

static uint64_t rnd(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

/* REP MOVS (movs) or STOS of element size sz, with the 0x67 prefix when adsz_pfx. */
static unsigned rep_bytes(uint8_t *b, enum mode md, unsigned sz, bool movs, bool adsz_pfx,
                          bool fs)
{
    unsigned n = 0;
    if (fs)
        b[n++] = 0x64;
    bool bits16 = md == M_REAL;
    if ((sz == 2 && !bits16) || (sz == 4 && bits16))
        b[n++] = 0x66;
    if (adsz_pfx)
        b[n++] = 0x67;
    b[n++] = 0xF3;
    if (sz == 8)
        b[n++] = 0x48;
    b[n++] = (uint8_t)((movs ? 0xA4 : 0xAA) + (sz > 1));
    return n;
}

/* The physical ranges a case can touch: page tables (their A/D bits),
 * the real-mode segment and the protected/long-mode window (0xE0000-
 * 0xFFFFF is ROM: writes are dropped there). */
static const struct { uint32_t at, len; } regions[] = {
    { PD, 0x9000 }, { 0x90000, 0x10000 }, { 0xC0000, 0x90000 },
};

struct rcase {
    unsigned sz;
    bool movs, down, apfx, fs;  /* apfx: the 0x67 prefix; fs: source FS: */
    uint64_t rcx, rsi, rdi, rax;
};

/* Offsets around the interesting places of each mode's address space. */
static uint64_t anchor(uint64_t *x, enum mode md)
{
    static const uint64_t pm[] = { 0x100000, 0x101000, 0x11F000, NOT_PRESENT, READ_ONLY,
                                   0x13F000, 0x300000, 0x30F000, 0xFFFFF000, 0x108000 };
    static const uint64_t w16[] = { 0x0000, 0x1000, 0x8000, 0xF000, 0xFFFF };
    static const uint64_t lng[] = { 0x100000, 0x101000, 0x11F000, 0x13E000, 0x7FFFFFFFF000,
                                    0xFFFFF000 };
    uint64_t a;
    if (md == M_REAL || md == M_PM32_A16)
        a = w16[rnd(x) % 5];
    else if (md == M_LONG || md == M_LONG_A32)
        a = lng[rnd(x) % (md == M_LONG_A32 ? 6 : 5)];
    else
        a = pm[rnd(x) % 10];
    switch (rnd(x) % 4) {
    case 0: a += rnd(x) % 24; break;                            /* page start */
    case 1: a += 4096 - 24 + rnd(x) % 48; break;                /* around the page end */
    case 2: a -= rnd(x) % 24; break;                            /* just below */
    default: a += rnd(x) % 8192; break;
    }
    if (md == M_REAL || md == M_PM32_A16)
        a &= 0xFFFF;
    return md == M_LONG || md == M_LONG_A32 ? a : (uint32_t)a;
}

static struct rcase random_case(uint64_t *x, enum mode md)
{
    static const uint64_t counts[] = { 0, 1, 2, 3, 4, 5, 7, 16, 17, 100, 511, 1000, 1025, 3000 };
    struct rcase r = { 0 };
    unsigned nsz = md == M_LONG || md == M_LONG_A32 ? 4 : 3;
    r.sz = 1u << (rnd(x) % nsz);
    r.movs = rnd(x) % 4 != 0;
    r.down = rnd(x) % 2;
    r.apfx = md == M_PM32_A16 || md == M_LONG_A32;
    r.fs = md == M_LONG_A32 && r.movs && rnd(x) % 2;
    r.rsi = anchor(x, md);
    switch (rnd(x) % 4) {
    case 0: case 1:                                             /* close overlap */
        r.rdi = r.rsi + (uint64_t)(int64_t)((int)(rnd(x) % 41) - 20);
        break;
    case 2:                                                     /* the other linear view */
        r.rdi = (r.rsi ^ 0x200000) + (uint64_t)(int64_t)((int)(rnd(x) % 17) - 8);
        break;
    default:
        r.rdi = anchor(x, md);
    }
    r.rcx = rnd(x) % 3 ? counts[rnd(x) % 14] : rnd(x) % 2500;
    r.rax = rnd(x);
    bool w16 = md == M_REAL || md == M_PM32_A16;
    if (w16) {
        r.rsi &= 0xFFFF, r.rdi &= 0xFFFF;
        /* bits above the address size must survive (16-bit) */
        r.rsi |= rnd(x) << 16, r.rdi |= rnd(x) << 16, r.rcx |= rnd(x) << 16;
        if (md == M_REAL)
            r.rsi = (uint32_t)r.rsi, r.rdi = (uint32_t)r.rdi, r.rcx = (uint32_t)r.rcx;
    } else if (md == M_LONG_A32) {
        /* 32-bit addressing in 64-bit mode: the upper halves are ignored, then cleared */
        r.rsi = (uint32_t)r.rsi | (rnd(x) << 32), r.rdi = (uint32_t)r.rdi | (rnd(x) << 32);
        r.rcx = (uint32_t)r.rcx | (rnd(x) << 32);
    }
    return r;
}

/* Runs the case from a fresh copy of the regions; returns emu_step_bytes'
 * result. */
static int run_case(struct fx *f, enum mode md, const struct rcase *r, const uint8_t *init)
{
    for (unsigned k = 0; k < sizeof(regions) / sizeof(regions[0]); k++)
        memcpy(f->mem.ram + regions[k].at, init + regions[k].at, regions[k].len);
    tlb_flush_all(&f->cpu.tlb, false);
    struct emu_cpu *c = &f->cpu;
    c->r[ECX_] = r->rcx;
    c->r[ESI_] = r->rsi;
    c->r[EDI_] = r->rdi;
    c->r[EAX_] = r->rax;
    c->eflags = (c->eflags & ~F_DF) | (r->down ? F_DF : 0);
    c->eip = 0x1000;
    c->cr2 = 0;
    c->exc_err = 0;
    c->shutdown = false;
    uint8_t b[8];
    unsigned n = rep_bytes(b, md, r->sz, r->movs, r->apfx, r->fs);
    return emu_step_bytes(c, b, n);
}

/* Bulk and element-by-element runs of many random cases per mode must
 * leave the same registers, memory (A/D bits included), CR2, error code
 * and result; and the bulk path must really have run. */
static void test_bulk_vs_elements(void)
{
    static struct fx a, b;
    uint8_t *init = malloc(4 * MiB);
    CU_ASSERT_FATAL(init != NULL);
    uint64_t x = 0x2545F4914F6CDD1Dull;
    for (size_t k = 0; k < 4 * MiB; k++)
        init[k] = (uint8_t)(rnd(&x) >> 24);
    unsigned total = 0, bad = 0, faults = 0;
    for (int md = 0; md < NMODES; md++) {
        setup(&a, md);
        setup(&b, md);
        /* the page tables over the random bytes */
        memcpy(init + PD, a.mem.ram + PD, 0x9000);
        b.cpu.str_elementwise = true;
        unsigned mbad = 0;
        for (unsigned k = 0; k < 4000; k++, total++) {
            struct rcase r = random_case(&x, md);
            int ra = run_case(&a, md, &r, init), rb = run_case(&b, md, &r, init);
            bool same = ra == rb && a.cpu.eip == b.cpu.eip && a.cpu.cr2 == b.cpu.cr2 &&
                        a.cpu.exc_err == b.cpu.exc_err &&
                        memcmp(a.cpu.r, b.cpu.r, sizeof(a.cpu.r)) == 0;
            for (unsigned g = 0; g < sizeof(regions) / sizeof(regions[0]); g++)
                same = same && memcmp(a.mem.ram + regions[g].at, b.mem.ram + regions[g].at,
                                      regions[g].len) == 0;
            faults += ra != 0;
            if (!same && mbad++ < 5) {
                fprintf(stderr, "\n  %s: %s sz %u df %d rcx %llx rsi %llx rdi %llx: "
                        "ret %d/%d rcx %llx/%llx rsi %llx/%llx rdi %llx/%llx cr2 %llx/%llx",
                        mode_name[md], r.movs ? "movs" : "stos", r.sz, r.down,
                        (unsigned long long)r.rcx, (unsigned long long)r.rsi,
                        (unsigned long long)r.rdi, ra, rb,
                        (unsigned long long)a.cpu.r[ECX_], (unsigned long long)b.cpu.r[ECX_],
                        (unsigned long long)a.cpu.r[ESI_], (unsigned long long)b.cpu.r[ESI_],
                        (unsigned long long)a.cpu.r[EDI_], (unsigned long long)b.cpu.r[EDI_],
                        (unsigned long long)a.cpu.cr2, (unsigned long long)b.cpu.cr2);
            }
        }
        bad += mbad;
        fprintf(stderr, " [%s: %llu in chunks, %llu single]", mode_name[md],
                (unsigned long long)a.cpu.st.str_bulk, (unsigned long long)a.cpu.st.str_single);
        /* the reference never chunks; the bulk side mostly does */
        CU_ASSERT_EQUAL(b.cpu.st.str_bulk, 0);
        CU_ASSERT(a.cpu.st.str_bulk > a.cpu.st.str_single);
        done(&a);
        done(&b);
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(total, 4000u * NMODES);
    CU_ASSERT(faults > 500);            /* the fault paths were compared too */
    free(init);
}

/* Every overlap distance (dst = src + k) and direction in flat 64-bit mode,
 * against the host CPU running the same REP MOVS on a copy of the bytes. */
static void host_movs(uint8_t *d, const uint8_t *s, uint64_t n, unsigned sz, bool down)
{
    if (down)
        __asm__ volatile("std" ::: "cc");
    switch (sz) {
    case 1: __asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory"); break;
    case 2: __asm__ volatile("rep movsw" : "+D"(d), "+S"(s), "+c"(n) : : "memory"); break;
    case 4: __asm__ volatile("rep movsl" : "+D"(d), "+S"(s), "+c"(n) : : "memory"); break;
    default: __asm__ volatile("rep movsq" : "+D"(d), "+S"(s), "+c"(n) : : "memory"); break;
    }
    if (down)
        __asm__ volatile("cld" ::: "cc");
}

static void test_overlap_vs_host(void)
{
    static struct fx f;
    setup(&f, M_LONG);
    enum { BASE = 0x104000, SPAN = 0x3000 };
    static uint8_t want[SPAN];
    uint64_t x = 0x9E3779B97F4A7C15ull;
    unsigned bad = 0, n = 0;
    for (unsigned sz = 1; sz <= 8; sz *= 2)
        for (int down = 0; down < 2; down++)
            for (int k = -20; k <= 20; k++)
                for (unsigned start = 0; start < 2; start++, n++) {
                    /* start 0: inside a page; 1: crossing the page at BASE + 0x1000 */
                    uint64_t src = BASE + (start ? 0xF80 + (rnd(&x) % 16) : 0x100 + rnd(&x) % 64);
                    uint64_t dst = src + (uint64_t)(int64_t)k, cnt = 300 / sz;
                    if (down)
                        src += 0x200, dst += 0x200;
                    for (unsigned j = 0; j < SPAN; j++)
                        want[j] = f.mem.ram[BASE + j] = (uint8_t)(rnd(&x) >> 20);
                    host_movs(want + (dst - BASE), want + (src - BASE), cnt, sz, down);
                    tlb_flush_all(&f.cpu.tlb, false);
                    f.cpu.r[ECX_] = cnt, f.cpu.r[ESI_] = src, f.cpu.r[EDI_] = dst;
                    f.cpu.eflags = (f.cpu.eflags & ~F_DF) | (down ? F_DF : 0);
                    f.cpu.eip = 0x1000;
                    uint8_t b[8];
                    unsigned len = rep_bytes(b, M_LONG, sz, true, false, false);
                    int64_t adv = (int64_t)(cnt * sz) * (down ? -1 : 1);
                    if (emu_step_bytes(&f.cpu, b, len) != 0 ||
                        memcmp(f.mem.ram + BASE, want, SPAN) != 0 || f.cpu.r[ECX_] != 0 ||
                        f.cpu.r[ESI_] != src + (uint64_t)adv || f.cpu.r[EDI_] != dst + (uint64_t)adv ||
                        f.cpu.eip != 0x1000 + len)
                        bad++;
                }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(n, 4 * 2 * 41 * 2);
    CU_ASSERT(f.cpu.st.str_bulk > 0);
    done(&f);
}

/* A GDT (flat code 0x08, data 0x10) and an IDT whose #PF gate leads to
 * 0x21000, on a stack at 0x28000: a delivered #PF leaves its error code
 * and the faulting EIP there. */
#define PF_HANDLER 0x21000u
static void idt_for_pf(struct fx *f)
{
    static const uint32_t gdt[6] = { 0, 0, 0x0000FFFF, 0x00CF9A00, 0x0000FFFF, 0x00CF9200 };
    memcpy(f->mem.ram + 0x20000, gdt, sizeof(gdt));
    f->cpu.gdt.base = 0x20000;
    f->cpu.gdt.limit = sizeof(gdt) - 1;
    put32(f, 0x20100 + 8 * EXC_PF, (0x08u << 16) | (PF_HANDLER & 0xFFFF));
    put32(f, 0x20100 + 8 * EXC_PF + 4, (PF_HANDLER & 0xFFFF0000u) | 0x8E00);   /* int gate */
    f->cpu.idt.base = 0x20100;
    f->cpu.idt.limit = 0x100 - 1;
}

/* Runs REP MOVSD at 0x1000 expecting a #PF delivered with error code err. */
static void expect_pf(struct fx *f, uint32_t err)
{
    static const uint8_t movsd[] = { 0xF3, 0xA5 };
    f->cpu.eip = 0x1000;
    f->cpu.r[ESP_] = 0x28000;
    CU_ASSERT_EQUAL(emu_step_bytes(&f->cpu, movsd, 2), EXC_PF + 1);
    uint32_t frame[2];
    memcpy(frame, f->mem.ram + 0x28000 - 16, sizeof(frame));
    CU_ASSERT_EQUAL(f->cpu.eip, PF_HANDLER);
    CU_ASSERT_EQUAL(f->cpu.r[ESP_], 0x28000 - 16);
    CU_ASSERT_EQUAL(frame[0], err);
    CU_ASSERT_EQUAL(frame[1], 0x1000);         /* the REP MOVS itself restarts */
}

/* REP MOVSD whose source runs into a not-present page: the #PF comes at
 * the first element of that page, with ECX/ESI/EDI counting the elements
 * done and CR2 the faulting address; the bytes before it are copied, the
 * ones after are not.  Then the same with the destination running into
 * the not-present and the read-only page (error code W). */
static void test_fault_mid_copy(void)
{
    static struct fx f;
    setup(&f, M_PM32);
    idt_for_pf(&f);
    uint8_t *ram = f.mem.ram;
    for (unsigned k = 0; k < 0x2000; k++)
        ram[NOT_PRESENT - 0x1000 + k] = (uint8_t)k, ram[0x104000 + k] = 0xEE;
    f.cpu.r[ECX_] = 0x100;
    f.cpu.r[ESI_] = NOT_PRESENT - 0x100;
    f.cpu.r[EDI_] = 0x104000;
    expect_pf(&f, 0);                               /* not present, read, supervisor */
    CU_ASSERT_EQUAL(f.cpu.cr2, NOT_PRESENT);
    CU_ASSERT_EQUAL(f.cpu.r[ECX_], 0x100 - 0x40);
    CU_ASSERT_EQUAL(f.cpu.r[ESI_], NOT_PRESENT);
    CU_ASSERT_EQUAL(f.cpu.r[EDI_], 0x104100);
    CU_ASSERT(memcmp(ram + 0x104000, ram + NOT_PRESENT - 0x100, 0x100) == 0);
    CU_ASSERT_EQUAL(ram[0x104100], 0xEE);
    CU_ASSERT(f.cpu.st.str_bulk >= 0x40);

    /* destination into the read-only page, backwards (DF=1) from above it */
    f.cpu.eflags |= F_DF;
    f.cpu.r[ECX_] = 0x80;
    f.cpu.r[ESI_] = 0x104800;
    f.cpu.r[EDI_] = READ_ONLY + 0x1000 + 0x20;      /* 9 elements above the read-only page */
    expect_pf(&f, PG_ERR_P | PG_ERR_W);             /* present, read-only (CR0.WP) */
    CU_ASSERT_EQUAL(f.cpu.cr2, READ_ONLY + 0xFFC);
    CU_ASSERT_EQUAL(f.cpu.r[ECX_], 0x80 - 9);
    CU_ASSERT_EQUAL(f.cpu.r[ESI_], 0x104800 - 9 * 4);
    CU_ASSERT_EQUAL(f.cpu.r[EDI_], READ_ONLY + 0xFFC);

    /* forward into the not-present page (IF was cleared by the gate) */
    f.cpu.eflags &= ~F_DF;
    f.cpu.r[ECX_] = 0x10;
    f.cpu.r[ESI_] = 0x104000;
    f.cpu.r[EDI_] = NOT_PRESENT - 8;
    expect_pf(&f, PG_ERR_W);
    CU_ASSERT_EQUAL(f.cpu.cr2, NOT_PRESENT);
    CU_ASSERT_EQUAL(f.cpu.r[ECX_], 0x10 - 2);
    CU_ASSERT_EQUAL(f.cpu.r[EDI_], NOT_PRESENT);
    done(&f);
}

/* Accessed and dirty bits: set on the pages the copy read (A) and wrote
 * (A and D), on no others. */
static void test_accessed_dirty(void)
{
    static struct fx f;
    setup(&f, M_PM32);
    static const uint8_t movsb[] = { 0xF3, 0xA4 };
    f.cpu.r[ECX_] = 0x1800;
    f.cpu.r[ESI_] = 0x104800;           /* reads pages 0x104, 0x105 */
    f.cpu.r[EDI_] = 0x108400;           /* writes pages 0x108, 0x109 */
    CU_ASSERT_EQUAL(emu_step_bytes(&f.cpu, movsb, 2), 0);
    uint32_t pte[12];
    memcpy(pte, f.mem.ram + PT0 + 4 * 0x103, sizeof(pte));
    CU_ASSERT_EQUAL(pte[0] & 0x60, 0);          /* 0x103 */
    CU_ASSERT_EQUAL(pte[1] & 0x60, 0x20);       /* 0x104: A */
    CU_ASSERT_EQUAL(pte[2] & 0x60, 0x20);       /* 0x105: A */
    CU_ASSERT_EQUAL(pte[3] & 0x60, 0);          /* 0x106 */
    CU_ASSERT_EQUAL(pte[5] & 0x60, 0x60);       /* 0x108: A D */
    CU_ASSERT_EQUAL(pte[6] & 0x60, 0x60);       /* 0x109: A D */
    CU_ASSERT_EQUAL(pte[7] & 0x60, 0);          /* 0x10A */
    CU_ASSERT_EQUAL(f.cpu.st.str_bulk, 0x1800);
    done(&f);
}

/* Self-modifying code: REP MOVS writing a new body over a cached block
 * (another page) and over the rest of its own block. */
static void test_smc(void)
{
    static struct fx f;
    setup(&f, M_PM32);
    static const uint8_t one[] = { 0xB8, 0x01, 0x00, 0x00, 0x00, 0xF4 };  /* mov eax,1; hlt */
    static const uint8_t two[] = { 0xB8, 0x02, 0x00, 0x00, 0x00, 0xF4 };  /* mov eax,2; hlt */
    memcpy(f.mem.ram + 0x25000, one, sizeof(one));
    memcpy(f.mem.ram + 0x26000, two, sizeof(two));
    f.cpu.eip = 0x25000;
    CU_ASSERT_EQUAL(emu_run(&f.cpu, 100), EMU_HLT);
    CU_ASSERT_EQUAL(f.cpu.r[EAX_], 1);
    /* 0x21000: rep movsb; hlt  copies 0x26000 -> 0x25000 */
    static const uint8_t copy[] = { 0xF3, 0xA4, 0xF4 };
    memcpy(f.mem.ram + 0x21000, copy, sizeof(copy));
    f.cpu.r[ESI_] = 0x26000, f.cpu.r[EDI_] = 0x25000, f.cpu.r[ECX_] = sizeof(two);
    f.cpu.eip = 0x21000;
    f.cpu.halted = false;
    uint64_t inval = f.cpu.st.smc_invalidations, bulk = f.cpu.st.str_bulk;
    CU_ASSERT_EQUAL(emu_run(&f.cpu, 100), EMU_HLT);
    CU_ASSERT(f.cpu.st.smc_invalidations > inval);
    CU_ASSERT_EQUAL(f.cpu.st.str_bulk - bulk, sizeof(two));
    f.cpu.eip = 0x25000;
    f.cpu.halted = false;
    f.cpu.r[EAX_] = 0;
    CU_ASSERT_EQUAL(emu_run(&f.cpu, 100), EMU_HLT);
    CU_ASSERT_EQUAL(f.cpu.r[EAX_], 2);

    /* its own block: 0x22000: rep movsb; mov eax,1; hlt, the copy replaces
     * "mov eax,1" with "mov eax,3" while the block runs */
    static const uint8_t self[] = { 0xF3, 0xA4, 0xB8, 0x01, 0x00, 0x00, 0x00, 0xF4 };
    static const uint8_t three[] = { 0xB8, 0x03, 0x00, 0x00, 0x00 };
    memcpy(f.mem.ram + 0x22000, self, sizeof(self));
    memcpy(f.mem.ram + 0x26100, three, sizeof(three));
    f.cpu.r[ESI_] = 0x26100, f.cpu.r[EDI_] = 0x22002, f.cpu.r[ECX_] = sizeof(three);
    f.cpu.eip = 0x22000;
    f.cpu.halted = false;
    CU_ASSERT_EQUAL(emu_run(&f.cpu, 100), EMU_HLT);
    CU_ASSERT_EQUAL(f.cpu.r[EAX_], 3);

    /* code in read-only shadow RAM (PAM, as SeaBIOS leaves 0xF0000):
     * the copy is dropped like every write there, the code stays */
    memcpy(f.mem.ram + 0xF8000, one, sizeof(one));
    mem_set_pam(&f.mem, 0, PAM_RO);
    emu_map_changed(&f.cpu);
    f.cpu.eip = 0xF8000;
    f.cpu.halted = false;
    CU_ASSERT_EQUAL(emu_run(&f.cpu, 100), EMU_HLT);
    CU_ASSERT_EQUAL(f.cpu.r[EAX_], 1);
    f.cpu.r[ESI_] = 0x26000, f.cpu.r[EDI_] = 0xF8000, f.cpu.r[ECX_] = sizeof(two);
    f.cpu.eip = 0x21000;
    f.cpu.halted = false;
    CU_ASSERT_EQUAL(emu_run(&f.cpu, 100), EMU_HLT);
    CU_ASSERT(memcmp(f.mem.ram + 0xF8000, one, sizeof(one)) == 0);
    f.cpu.eip = 0xF8000;
    f.cpu.halted = false;
    f.cpu.r[EAX_] = 0;
    CU_ASSERT_EQUAL(emu_run(&f.cpu, 100), EMU_HLT);
    CU_ASSERT_EQUAL(f.cpu.r[EAX_], 1);
    done(&f);
}

/* REP STOS into the VGA window (MMIO here): the device sees every element,
 * in order; REP MOVS from MMIO reads each one, to MMIO writes each one. */
static void test_mmio_per_element(void)
{
    static struct fx f;
    setup(&f, M_PM32);
    static const uint8_t stosw[] = { 0x66, 0xF3, 0xAB }, movsd[] = { 0xF3, 0xA5 };
    f.cpu.r[EAX_] = 0x0741;
    f.cpu.r[ECX_] = 100;
    f.cpu.r[EDI_] = 0xB8000;
    CU_ASSERT_EQUAL(emu_step_bytes(&f.cpu, stosw, 3), 0);
    CU_ASSERT_EQUAL(f.nmmio, 100);
    unsigned bad = 0;
    for (unsigned k = 0; k < 100; k++)
        bad += !(f.mmio[k].write && f.mmio[k].size == 2 && f.mmio[k].addr == 0xB8000 + 2 * k &&
                 f.mmio[k].val == 0x0741);
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(f.cpu.r[EDI_], 0xB8000 + 200);
    CU_ASSERT_EQUAL(f.cpu.st.str_bulk, 0);
    CU_ASSERT_EQUAL(f.cpu.st.str_single, 100);
    /* MMIO -> RAM */
    f.nmmio = 0;
    f.cpu.r[ECX_] = 64, f.cpu.r[ESI_] = 0xA0000, f.cpu.r[EDI_] = 0x104000;
    CU_ASSERT_EQUAL(emu_step_bytes(&f.cpu, movsd, 2), 0);
    CU_ASSERT_EQUAL(f.nmmio, 64);
    bad = 0;
    for (unsigned k = 0; k < 64; k++) {
        uint32_t v;
        memcpy(&v, f.mem.ram + 0x104000 + 4 * k, 4);
        bad += !(!f.mmio[k].write && f.mmio[k].addr == 0xA0000 + 4 * k && v == f.mmio[k].val);
    }
    CU_ASSERT_EQUAL(bad, 0);
    /* RAM -> MMIO, backwards */
    f.nmmio = 0;
    f.cpu.eflags |= F_DF;
    f.cpu.r[ECX_] = 16, f.cpu.r[ESI_] = 0x104000 + 60, f.cpu.r[EDI_] = 0xA0000 + 60;
    CU_ASSERT_EQUAL(emu_step_bytes(&f.cpu, movsd, 2), 0);
    CU_ASSERT_EQUAL(f.nmmio, 16);
    bad = 0;
    for (unsigned k = 0; k < 16; k++) {
        uint32_t v;
        memcpy(&v, f.mem.ram + 0x104000 + 60 - 4 * k, 4);
        bad += !(f.mmio[k].write && f.mmio[k].addr == 0xA0000 + 60 - 4 * k && f.mmio[k].val == v);
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(f.cpu.st.str_bulk, 0);
    done(&f);
}

/* STR_CAP bounds the elements per execution, chunks or not: the
 * instruction stops with EIP on itself after exactly STR_CAP elements
 * (so interrupts can be taken), and the next execution finishes. */
static void test_cap(void)
{
    static struct fx f;
    setup(&f, M_LONG);
    static const uint8_t stosb[] = { 0xF3, 0xAA };
    f.cpu.r[EAX_] = 0x5A;
    f.cpu.r[ECX_] = 0x100000 + 0x123;
    f.cpu.r[EDI_] = 0x100000;
    CU_ASSERT_EQUAL(emu_step_bytes(&f.cpu, stosb, 2), 0);
    CU_ASSERT_EQUAL(f.cpu.r[ECX_], 0x123);
    CU_ASSERT_EQUAL(f.cpu.r[EDI_], 0x200000);
    CU_ASSERT_EQUAL(f.cpu.eip, 0x1000);
    CU_ASSERT_EQUAL(f.mem.ram[0x1FFFFF], 0x5A);
    CU_ASSERT_EQUAL(f.mem.ram[0x200000], 0);
    CU_ASSERT_EQUAL(emu_step_bytes(&f.cpu, stosb, 2), 0);
    CU_ASSERT_EQUAL(f.cpu.r[ECX_], 0);
    CU_ASSERT_EQUAL(f.cpu.eip, 0x1002);
    CU_ASSERT_EQUAL(f.mem.ram[0x200122], 0x5A);
    CU_ASSERT_EQUAL(f.mem.ram[0x200123], 0);
    done(&f);
}

void suite_emul_rep(void)
{
    CU_pSuite s = CU_add_suite("emul_rep", NULL, NULL);
    CU_add_test(s, "bulk REP MOVS/STOS = element by element (6 modes x 4000 cases)",
                test_bulk_vs_elements);
    CU_add_test(s, "REP MOVS overlap distances -20..20 vs the host CPU", test_overlap_vs_host);
    CU_add_test(s, "#PF in the middle of REP MOVS: registers and CR2", test_fault_mid_copy);
    CU_add_test(s, "accessed/dirty bits of a bulk copy", test_accessed_dirty);
    CU_add_test(s, "REP MOVS over cached code invalidates it", test_smc);
    CU_add_test(s, "REP STOS/MOVS to and from MMIO per element", test_mmio_per_element);
    CU_add_test(s, "STR_CAP elements per execution", test_cap);
}
