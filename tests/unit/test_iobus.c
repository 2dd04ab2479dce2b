#include <CUnit/CUnit.h>
#include <string.h>

#include "../../vmm/iobus.h"

struct fake { uint8_t regs[8]; unsigned reads, writes; };

static uint64_t fake_read(void *o, uint64_t off, unsigned size)
{
    struct fake *f = o;
    f->reads++;
    CU_ASSERT_EQUAL(size, 1);
    return f->regs[off];
}

static void fake_write(void *o, uint64_t off, unsigned size, uint64_t v)
{
    struct fake *f = o;
    f->writes++;
    CU_ASSERT_EQUAL(size, 1);
    f->regs[off] = (uint8_t)v;
}

static const struct io_ops fake_ops = { fake_read, fake_write, 1 };

static void test_split_and_unassigned(void)
{
    struct iobus bus;
    struct io_region r;
    struct fake f;
    struct logger lg = { LOG_ERROR, 2 };
    memset(&f, 0, sizeof(f));
    iobus_init(&bus, "pio", &lg);
    CU_ASSERT_EQUAL(iobus_register(&bus, &r, 0x100, 4, &fake_ops, &f, "fake"), 0);
    iobus_write(&bus, 0x100, 4, 0x44332211);
    CU_ASSERT_EQUAL(f.writes, 4);
    CU_ASSERT_EQUAL(f.regs[3], 0x44);
    CU_ASSERT_EQUAL(iobus_read(&bus, 0x101, 2), 0x3322);
    /* Straddling the end: the missing byte reads as all ones. */
    CU_ASSERT_EQUAL(iobus_read(&bus, 0x103, 2), 0xff44);
    CU_ASSERT_EQUAL(iobus_read(&bus, 0x200, 4), 0xffffffffu);
    /* Overlap refused. */
    struct io_region r2;
    CU_ASSERT_EQUAL(iobus_register(&bus, &r2, 0x102, 4, &fake_ops, &f, "dup"), -1);
    /* Moving a region. */
    CU_ASSERT_EQUAL(iobus_map(&bus, &r, 0x300), 0);
    CU_ASSERT_EQUAL(iobus_read(&bus, 0x100, 1), 0xff);
    CU_ASSERT_EQUAL(iobus_read(&bus, 0x300, 1), 0x11);
    iobus_unmap(&bus, &r);
    CU_ASSERT_PTR_NULL(iobus_find(&bus, 0x300));
}

void suite_iobus(void)
{
    CU_pSuite s = CU_add_suite("iobus", NULL, NULL);
    CU_add_test(s, "split, straddle, unassigned, remap", test_split_and_unassigned);
}
