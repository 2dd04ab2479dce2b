/* --trace-io: the bus reports the access the guest made (not the pieces
 * it splits it into for a narrow device), the file has the documented
 * layout (vmm/trace_io.h) with virtual-time gaps, and a bus without a hook
 * reports nothing. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../vmm/iobus.h"
#include "../../vmm/trace_io.h"

static uint64_t byte_read(void *o, uint64_t off, unsigned size)
{
    (void)o, (void)size;
    return 0x10 + off;
}

static void byte_write(void *o, uint64_t off, unsigned size, uint64_t v)
{
    (void)size;
    ((uint8_t *)o)[off & 3] = (uint8_t)v;
}

static const struct io_ops byte_ops = { byte_read, byte_write, 1 };

static void test_trace_io_records_guest_accesses(void)
{
    struct logger log = { .level = LOG_ERROR, .fd = STDERR_FILENO };
    struct iobus pio, mmio;
    struct io_region r, m;
    uint8_t regs[4] = { 0 };
    iobus_init(&pio, "pio", &log);
    iobus_init(&mmio, "mmio", &log);
    CU_ASSERT_EQUAL_FATAL(iobus_register(&pio, &r, 0x100, 4, &byte_ops, regs, "dev"), 0);
    CU_ASSERT_EQUAL_FATAL(iobus_register(&mmio, &m, 0xFEB00000, 4, &byte_ops, regs, "mdev"), 0);
    struct vclock clock;
    vclock_init(&clock);
    vclock_set_manual(&clock, 1000);
    char path[] = "/tmp/minus1-trace-XXXXXX";
    int fd = mkstemp(path);
    CU_ASSERT_FATAL(fd >= 0);
    close(fd);
    char err[128];
    struct trace_io *t = trace_io_open(path, &clock, err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);

    iobus_write(&pio, 0x100, 1, 0xAA);          /* not traced yet */
    iobus_set_trace(&pio, trace_io_bus_hook, t, false);
    iobus_set_trace(&mmio, trace_io_bus_hook, t, true);
    CU_ASSERT_EQUAL(iobus_read(&pio, 0x100, 4), 0x13121110u);   /* four 1-byte pieces */
    vclock_advance(&clock, 5000);
    iobus_write(&mmio, 0xFEB00001, 2, 0xBEEF);
    iobus_read(&pio, 0x3F8, 1);                 /* unassigned: still the guest's access */
    iobus_set_trace(&pio, NULL, NULL, false);
    iobus_read(&pio, 0x101, 1);                 /* off again */
    trace_io_close(t);
    CU_ASSERT_EQUAL(regs[1], 0xEF);
    CU_ASSERT_EQUAL(regs[2], 0xBE);

    FILE *f = fopen(path, "rb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    uint8_t buf[256];
    size_t n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    unlink(path);
    CU_ASSERT_EQUAL_FATAL(n, TRACE_IO_HEADER_SIZE + 3 * TRACE_IO_RECORD_SIZE);
    CU_ASSERT_EQUAL(memcmp(buf, "M1IOTRC1", 8), 0);
    CU_ASSERT_EQUAL(buf[8], 24);
    struct trace_io_rec rec[3];
    for (int i = 0; i < 3; i++)
        trace_io_decode(buf + TRACE_IO_HEADER_SIZE + i * TRACE_IO_RECORD_SIZE, &rec[i]);
    CU_ASSERT_EQUAL(rec[0].flags, 0);
    CU_ASSERT_EQUAL(rec[0].size, 4);
    CU_ASSERT_EQUAL(rec[0].addr, 0x100);
    CU_ASSERT_EQUAL(rec[0].value, 0x13121110u);
    CU_ASSERT_EQUAL(rec[0].dt_ns, 0);
    CU_ASSERT_EQUAL(rec[1].flags, TRACE_IO_WRITE | TRACE_IO_MMIO);
    CU_ASSERT_EQUAL(rec[1].size, 2);
    CU_ASSERT_EQUAL(rec[1].addr, 0xFEB00001);
    CU_ASSERT_EQUAL(rec[1].value, 0xBEEF);
    CU_ASSERT_EQUAL(rec[1].dt_ns, 5000);
    CU_ASSERT_EQUAL(rec[2].flags, 0);
    CU_ASSERT_EQUAL(rec[2].addr, 0x3F8);
    CU_ASSERT_EQUAL(rec[2].value, 0xFF);
}

void suite_trace_io(void)
{
    CU_pSuite s = CU_add_suite("trace_io", NULL, NULL);
    CU_add_test(s, "records_guest_accesses", test_trace_io_records_guest_accesses);
}
