/* Page walker: 2-level with 4 KiB and 4 MiB pages, PAE with NX, WP,
 * accessed/dirty bits and #PF error codes; the soft TLB flush rules. */
#include <CUnit/CUnit.h>
#include <string.h>

#include "../../vmm/paging/paging.h"

static uint8_t ram[1 << 20];

static bool rd(void *o, uint64_t pa, unsigned size, uint64_t *v)
{
    (void)o;
    if (pa + size > sizeof(ram))
        return false;
    *v = 0;
    memcpy(v, ram + pa, size);
    return true;
}
static void wr(void *o, uint64_t pa, unsigned size, uint64_t v)
{
    (void)o;
    if (pa + size <= sizeof(ram))
        memcpy(ram + pa, &v, size);
}
static const struct pg_phys phys = { rd, wr, NULL };
static uint32_t get32(uint32_t pa) { uint32_t v; memcpy(&v, ram + pa, 4); return v; }
static void put32(uint32_t pa, uint32_t v) { memcpy(ram + pa, &v, 4); }
static void put64(uint32_t pa, uint64_t v) { memcpy(ram + pa, &v, 8); }

static void test_two_level(void)
{
    memset(ram, 0, sizeof(ram));
    struct pg_regs r = { PG_CR0_PG | 1, 0x1000, PG_CR4_PSE, 0 };
    put32(0x1000 + 0 * 4, 0x2000 | 7);          /* PDE 0 -> PT at 0x2000, user rw */
    put32(0x2000 + 5 * 4, 0x5000 | 5);          /* 0x5000 -> 0x5000, user ro */
    put32(0x1000 + 1 * 4, 0x00400000 | 0x83);   /* 4 MiB page, supervisor rw */
    struct pg_result res;
    uint32_t err = 0;
    CU_ASSERT_EQUAL(pg_walk(&r, &phys, 0x5123, 0, &res, &err), 0);
    CU_ASSERT_EQUAL(res.pa, 0x5123);
    CU_ASSERT(get32(0x2000 + 5 * 4) & 0x20);     /* accessed */
    CU_ASSERT(!(get32(0x2000 + 5 * 4) & 0x40));  /* not dirty */
    /* user write to a read-only page: protection fault, P|W|U */
    CU_ASSERT_EQUAL(pg_walk(&r, &phys, 0x5123, PG_ERR_W | PG_ERR_U, &res, &err), -1);
    CU_ASSERT_EQUAL(err, PG_ERR_P | PG_ERR_W | PG_ERR_U);
    /* supervisor write without WP succeeds and sets D; with WP it faults */
    CU_ASSERT_EQUAL(pg_walk(&r, &phys, 0x5000, PG_ERR_W, &res, &err), 0);
    CU_ASSERT(get32(0x2000 + 5 * 4) & 0x40);
    r.cr0 |= PG_CR0_WP;
    CU_ASSERT_EQUAL(pg_walk(&r, &phys, 0x5000, PG_ERR_W, &res, &err), -1);
    CU_ASSERT_EQUAL(err, PG_ERR_P | PG_ERR_W);
    /* not present */
    CU_ASSERT_EQUAL(pg_walk(&r, &phys, 0x6000, PG_ERR_U, &res, &err), -1);
    CU_ASSERT_EQUAL(err, PG_ERR_U);
    /* 4 MiB page */
    CU_ASSERT_EQUAL(pg_walk(&r, &phys, 0x00523456, PG_ERR_W, &res, &err), 0);
    CU_ASSERT_EQUAL(res.pa, 0x00523456);
    CU_ASSERT_EQUAL(res.page_size, 4u << 20);
    CU_ASSERT(get32(0x1000 + 4) & 0x60);
    CU_ASSERT_EQUAL(pg_walk(&r, &phys, 0x00523456, PG_ERR_U, &res, &err), -1);
    /* without CR4.PSE the PS bit is ignored: PDE is a table pointer */
    r.cr4 = 0;
    put32(0x1000 + 1 * 4, 0x3000 | 0x83);
    CU_ASSERT_EQUAL(pg_walk(&r, &phys, 0x00400000, 0, &res, &err), -1);
    CU_ASSERT_EQUAL(err, 0);
    /* a page table outside memory is a not-present fault, never an overrun */
    put32(0x1000 + 2 * 4, 0xFFFFF000u | 1);
    CU_ASSERT_EQUAL(pg_walk(&r, &phys, 0x00800000, 0, &res, &err), -1);
}

static void test_pae_nx(void)
{
    memset(ram, 0, sizeof(ram));
    struct pg_regs r = { PG_CR0_PG | 1, 0x1000, PG_CR4_PAE, PG_EFER_NXE };
    put64(0x1000, 0x2000 | 1);                          /* PDPTE 0 */
    put64(0x2000, 0x3000 | 7);                          /* PDE 0 -> PT */
    put64(0x3000 + 1 * 8, 0x7000 | 7 | (1ull << 63));  /* 0x1000: NX */
    put64(0x2000 + 1 * 8, 0x00200000 | 0x87);           /* 2 MiB page at 0x200000 */
    struct pg_result res;
    uint32_t err;
    CU_ASSERT_EQUAL(pg_walk(&r, &phys, 0x1ABC, PG_ERR_U, &res, &err), 0);
    CU_ASSERT_EQUAL(res.pa, 0x7ABC);
    CU_ASSERT(res.nx);
    CU_ASSERT_EQUAL(pg_walk(&r, &phys, 0x1ABC, PG_ERR_I, &res, &err), -1);
    CU_ASSERT_EQUAL(err, PG_ERR_P | PG_ERR_I);
    CU_ASSERT_EQUAL(pg_walk(&r, &phys, 0x234567, PG_ERR_W, &res, &err), 0);
    CU_ASSERT_EQUAL(res.pa, 0x234567);
    CU_ASSERT_EQUAL(res.page_size, 2u << 20);
    /* NX set while EFER.NXE is clear: reserved-bit fault */
    r.efer = 0;
    CU_ASSERT_EQUAL(pg_walk(&r, &phys, 0x1ABC, 0, &res, &err), -1);
    CU_ASSERT(err & PG_ERR_RSVD);
}

static void test_tlb(void)
{
    struct soft_tlb t;
    memset(&t, 0, sizeof(t));
    tlb_flush_all(&t, false);
    struct tlb_entry *e = tlb_slot(&t, 0x5000);
    e->tag_read = e->tag_write = 0x5000;
    e->phys = 0x9000;
    e->global = true;
    struct tlb_entry *g = tlb_slot(&t, 0x6000);
    g->tag_read = 0x6000;
    g->global = false;
    tlb_flush_all(&t, true);                 /* CR3 write keeps global entries */
    CU_ASSERT_EQUAL(e->tag_read, 0x5000);
    CU_ASSERT_EQUAL(g->tag_read, TLB_INVALID);
    tlb_protect_phys(&t, 0x9123);            /* code appeared in the page */
    CU_ASSERT_EQUAL(e->tag_write, TLB_INVALID);
    CU_ASSERT_EQUAL(e->tag_read, 0x5000);
    tlb_flush_page(&t, 0x5FFF);              /* INVLPG drops even global entries */
    CU_ASSERT_EQUAL(e->tag_read, TLB_INVALID);
}

void suite_paging(void)
{
    CU_pSuite s = CU_add_suite("paging", NULL, NULL);
    CU_add_test(s, "2-level walk, 4M pages, WP, A/D, error codes", test_two_level);
    CU_add_test(s, "PAE walk, 2M pages, NX", test_pae_nx);
    CU_add_test(s, "soft TLB flush rules", test_tlb);
}
