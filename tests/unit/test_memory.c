#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

#include "../../vmm/memory.h"

static uint8_t bios[256 * 1024];

struct counts { int added, removed; };
static void on_add(void *o, const struct mem_slot *s) { (void)s; ((struct counts *)o)->added++; }
static void on_del(void *o, const struct mem_slot *s) { (void)s; ((struct counts *)o)->removed++; }

static void test_layout(void)
{
    struct guest_mem m;
    memset(bios, 0x5a, sizeof(bios));
    bios[sizeof(bios) - 16] = 0xea;         /* reset vector byte */
    CU_ASSERT_EQUAL_FATAL(mem_init(&m, 256 * MiB, bios, sizeof(bios)), 0);
    const struct mem_slot *s = mem_lookup(&m, 0x1000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(s->kind, SLOT_RAM);
    CU_ASSERT_PTR_NULL(mem_lookup(&m, 0xA0000));        /* VGA window is MMIO */
    CU_ASSERT_PTR_NULL(mem_lookup(&m, 0xC0000));        /* PAM off, no ROM there */
    s = mem_lookup(&m, 0xFFFF0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(s->kind, SLOT_ROM);
    CU_ASSERT(s->readonly);
    CU_ASSERT_EQUAL(s->host[0xFFFF0 - s->gpa], 0xea);   /* low alias of the BIOS end */
    s = mem_lookup(&m, 0xFFFFFFF0ull);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(s->host[0xFFFFFFF0ull - s->gpa], 0xea);
    CU_ASSERT_PTR_NULL(mem_lookup(&m, 256 * MiB));      /* past RAM */
    mem_destroy(&m);
}

static void test_pam(void)
{
    struct guest_mem m;
    struct counts c = { 0, 0 };
    struct mem_listener l = { on_del, on_add, &c };
    CU_ASSERT_EQUAL_FATAL(mem_init(&m, 64 * MiB, bios, sizeof(bios)), 0);
    mem_set_listener(&m, &l);
    CU_ASSERT_EQUAL(c.added, (int)m.nslots);
    mem_set_pam(&m, 0, PAM_RW);
    const struct mem_slot *s = mem_lookup(&m, 0xF0000);
    CU_ASSERT_EQUAL(s->kind, SLOT_RAM);
    CU_ASSERT_FALSE(s->readonly);
    CU_ASSERT_PTR_EQUAL(s->host + (0xF0000 - s->gpa), m.ram + 0xF0000);
    mem_set_pam(&m, 0, PAM_RO);
    s = mem_lookup(&m, 0xF0000);
    CU_ASSERT(s->readonly);
    CU_ASSERT_EQUAL(s->kind, SLOT_RAM);
    /* 0xC0000 segment: RAM when enabled, nothing when off. */
    mem_set_pam(&m, 1, PAM_RW);
    CU_ASSERT_PTR_NOT_NULL(mem_lookup(&m, 0xC0000));
    CU_ASSERT_PTR_NULL(mem_lookup(&m, 0xC4000));
    mem_set_pam(&m, 99, PAM_RW);                      /* out of range: ignored */
    mem_reset(&m);
    CU_ASSERT_PTR_NULL(mem_lookup(&m, 0xC0000));
    CU_ASSERT_EQUAL(mem_lookup(&m, 0xF0000)->kind, SLOT_ROM);
    CU_ASSERT(c.removed > 0);
    mem_destroy(&m);
}

static void test_dma_bounds(void)
{
    struct guest_mem m;
    uint8_t buf[16];
    CU_ASSERT_EQUAL_FATAL(mem_init(&m, 16 * MiB, bios, sizeof(bios)), 0);
    CU_ASSERT_EQUAL(mem_write(&m, 16 * MiB - 16, buf, 16), 0);
    CU_ASSERT_EQUAL(mem_write(&m, 16 * MiB - 15, buf, 16), -1);
    CU_ASSERT_EQUAL(mem_read(&m, 0xFFFFFFFFFFFFFFF8ull, buf, 16), -1);   /* wraps */
    CU_ASSERT_PTR_NULL(mem_ptr(&m, 0xFFFFFFF0ull, 4));                   /* BIOS is not RAM */
    mem_destroy(&m);
}

static void test_above_4g(void)
{
    struct guest_mem m;
    CU_ASSERT_EQUAL_FATAL(mem_init(&m, 5 * GiB, bios, sizeof(bios)), 0);
    CU_ASSERT_EQUAL(m.below_4g, MEM_PCI_HOLE_START);
    CU_ASSERT_EQUAL(m.above_4g, 5 * GiB - MEM_PCI_HOLE_START);
    CU_ASSERT_PTR_NULL(mem_lookup(&m, MEM_PCI_HOLE_START));
    CU_ASSERT_EQUAL(mem_ram_offset(&m, 4 * GiB), (int64_t)MEM_PCI_HOLE_START);
    CU_ASSERT_PTR_NULL(mem_ptr(&m, MEM_PCI_HOLE_START - 8, 16));         /* runs into the hole */
    mem_destroy(&m);
}

static void test_device_mapping(void)
{
    struct guest_mem m;
    static uint8_t fb[1 << 20] __attribute__((aligned(4096)));
    CU_ASSERT_EQUAL_FATAL(mem_init(&m, 64 * MiB, bios, sizeof(bios)), 0);
    int h = mem_add_device(&m, fb, sizeof(fb), false, true);
    CU_ASSERT(h >= 0);
    CU_ASSERT_EQUAL(mem_move_device(&m, h, 32 * MiB, true), -1);      /* over RAM */
    CU_ASSERT_EQUAL(mem_move_device(&m, h, 0xFFFF0000ull, true), -1); /* over BIOS */
    CU_ASSERT_EQUAL(mem_move_device(&m, h, 0xFD000000ull, true), 0);
    const struct mem_slot *s = mem_lookup(&m, 0xFD000010ull);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(s->kind, SLOT_DEVICE);
    CU_ASSERT(s->dirty_log);
    CU_ASSERT_EQUAL(mem_move_device(&m, h, 0, false), 0);
    CU_ASSERT_PTR_NULL(mem_lookup(&m, 0xFD000010ull));
    CU_ASSERT_EQUAL(mem_move_device(&m, 7, 0xFD000000ull, true), -1); /* unused handle */
    CU_ASSERT_EQUAL(mem_move_device(&m, -1, 0xFD000000ull, true), -1);
    /* Backends map by pages: unaligned host memory or sizes are refused. */
    CU_ASSERT_EQUAL(mem_add_device(&m, fb + 1, 4096, false, false), -1);
    CU_ASSERT_EQUAL(mem_add_device(&m, fb, 100, false, false), -1);
    mem_destroy(&m);
}

void suite_memory(void)
{
    CU_pSuite s = CU_add_suite("memory", NULL, NULL);
    CU_add_test(s, "PC layout and BIOS aliases", test_layout);
    CU_add_test(s, "PAM shadowing", test_pam);
    CU_add_test(s, "DMA helpers refuse non-RAM", test_dma_bounds);
    CU_add_test(s, "RAM above 4 GiB", test_above_4g);
    CU_add_test(s, "device mappings", test_device_mapping);
}
