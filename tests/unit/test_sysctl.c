/* Port 0x92, POST 0x80, debugcon 0x402 and isa-debug-exit 0xF4. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../vmm/devices/sysctl.h"

struct rig {
    struct iobus bus;
    struct logger lg;
    struct sysctl *s;
    int resets, a20_calls, exits;
    bool a20;
    int status;
};

static void reset_cb(void *o) { ((struct rig *)o)->resets++; }

static void a20_cb(void *o, bool on)
{
    struct rig *r = o;
    r->a20 = on;
    r->a20_calls++;
}

static void exit_cb(void *o, int status)
{
    struct rig *r = o;
    r->exits++;
    r->status = status;
}

static void rig_init(struct rig *r, struct chardev *con)
{
    memset(r, 0, sizeof(*r));
    r->lg.level = LOG_ERROR;
    r->lg.fd = 2;
    iobus_init(&r->bus, "pio", &r->lg);
    struct sysctl_hooks h = { reset_cb, a20_cb, exit_cb, r };
    r->s = sysctl_create(&r->bus, &h, con, &r->lg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r->s);
}

static void rig_fini(struct rig *r)
{
    sysctl_destroy(r->s);
    CU_ASSERT_EQUAL(r->bus.count, 0);
}

static void test_port92(void)
{
    struct rig r;
    rig_init(&r, NULL);
    CU_ASSERT_EQUAL(iobus_read(&r.bus, 0x92, 1), 0x00);
    CU_ASSERT_FALSE(sysctl_a20(r.s));
    iobus_write(&r.bus, 0x92, 1, 0x02);
    CU_ASSERT(r.a20);
    CU_ASSERT(sysctl_a20(r.s));
    CU_ASSERT_EQUAL(r.resets, 0);
    CU_ASSERT_EQUAL(iobus_read(&r.bus, 0x92, 1), 0x02);
    /* Fast reset: bit 0 going 0 -> 1; it reads back 0 afterwards, so the
     * usual read-modify-write resets again next time. */
    uint8_t v = (uint8_t)iobus_read(&r.bus, 0x92, 1);
    iobus_write(&r.bus, 0x92, 1, v | 1);
    CU_ASSERT_EQUAL(r.resets, 1);
    CU_ASSERT(r.a20);
    CU_ASSERT_EQUAL(iobus_read(&r.bus, 0x92, 1), 0x02);
    iobus_write(&r.bus, 0x92, 1, 0x03);
    CU_ASSERT_EQUAL(r.resets, 2);
    /* Clearing bit 1 turns A20 off; other bits read back as written. */
    iobus_write(&r.bus, 0x92, 1, 0xC0);
    CU_ASSERT_FALSE(r.a20);
    CU_ASSERT_FALSE(sysctl_a20(r.s));
    CU_ASSERT_EQUAL(iobus_read(&r.bus, 0x92, 1), 0xC0);
    CU_ASSERT_EQUAL(r.resets, 2);
    /* A 16-bit write hits 0x92 with the low byte only. */
    iobus_write(&r.bus, 0x92, 2, 0xFF02);
    CU_ASSERT(r.a20);
    CU_ASSERT_EQUAL(r.resets, 2);
    sysctl_reset(r.s);
    CU_ASSERT_EQUAL(iobus_read(&r.bus, 0x92, 1), 0x00);
    rig_fini(&r);
}

static void test_post_and_no_debugcon(void)
{
    struct rig r;
    rig_init(&r, NULL);
    iobus_write(&r.bus, 0x80, 1, 0x12);
    iobus_write(&r.bus, 0x80, 1, 0x34);
    CU_ASSERT_EQUAL(sysctl_last_post_code(r.s), 0x34);
    CU_ASSERT_EQUAL(iobus_read(&r.bus, 0x80, 1), 0x34);
    /* Without a chardev 0x402 stays unassigned: firmware must not see E9. */
    CU_ASSERT_PTR_NULL(iobus_find(&r.bus, 0x402));
    CU_ASSERT_EQUAL(iobus_read(&r.bus, 0x402, 1), 0xFF);
    iobus_write(&r.bus, 0x402, 1, 'x');
    rig_fini(&r);
}

static void test_debug_exit(void)
{
    struct rig r;
    rig_init(&r, NULL);
    iobus_write(&r.bus, 0xF4, 1, 0x10);
    CU_ASSERT_EQUAL(r.exits, 1);
    CU_ASSERT_EQUAL(r.status, 0x21);
    iobus_write(&r.bus, 0xF4, 1, 0x00);
    CU_ASSERT_EQUAL(r.status, 1);
    /* A byte access keeps only the byte. */
    iobus_write(&r.bus, 0xF4, 1, 0x1FF);
    CU_ASSERT_EQUAL(r.status, 0x1FF);
    /* Wider writes carry the whole value, masked to the access size. */
    iobus_write(&r.bus, 0xF4, 2, 0xAB1234);
    CU_ASSERT_EQUAL(r.status, (0x1234 << 1) | 1);
    iobus_write(&r.bus, 0xF4, 4, 0xFFFFFFFFull);
    CU_ASSERT_EQUAL(r.exits, 5);
    CU_ASSERT(r.status > 0);
    CU_ASSERT_EQUAL(r.status & 0xFF, 0xFF);
    /* Bytes above 0xF4 are not the exit register. */
    iobus_write(&r.bus, 0xF5, 1, 0x01);
    iobus_write(&r.bus, 0xF6, 2, 0x0101);
    CU_ASSERT_EQUAL(r.exits, 5);
    CU_ASSERT_EQUAL(iobus_read(&r.bus, 0xF4, 1), 0xFF);
    rig_fini(&r);
}

static void test_debugcon_file(void)
{
    char path[] = "/tmp/minus1-debugcon-XXXXXX";
    int fd = mkstemp(path);
    CU_ASSERT_FATAL(fd >= 0);
    close(fd);
    char spec[64], err[128];
    snprintf(spec, sizeof(spec), "file:%s", path);
    struct chardev con;
    struct logger lg = { LOG_ERROR, 2 };
    CU_ASSERT_EQUAL_FATAL(chardev_open(&con, spec, &lg, err, sizeof(err)), 0);

    struct rig r;
    rig_init(&r, &con);
    CU_ASSERT_EQUAL(iobus_read(&r.bus, 0x402, 1), 0xE9);
    const char *msg = "SeaBIOS\n";
    for (const char *p = msg; *p; p++)
        iobus_write(&r.bus, 0x402, 1, (uint8_t)*p);
    /* An 8-bit port: a 16-bit write puts its high byte on 0x403. */
    iobus_write(&r.bus, 0x402, 2, 'o' << 8 | 'k');
    rig_fini(&r);
    chardev_close(&con);

    char buf[64] = { 0 };
    FILE *f = fopen(path, "rb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    unlink(path);
    CU_ASSERT_EQUAL(n, 9);
    CU_ASSERT_STRING_EQUAL(buf, "SeaBIOS\nk");
}

static void test_overlap_refused(void)
{
    /* Something already inside 0xF4-0xF7: creation fails cleanly, nothing left mapped. */
    struct iobus bus;
    struct logger lg = { LOG_ERROR, 2 };
    iobus_init(&bus, "pio", &lg);
    struct io_region other;
    static const struct io_ops none = { NULL, NULL, 1 };
    CU_ASSERT_EQUAL(iobus_register(&bus, &other, 0xF6, 1, &none, NULL, "other"), 0);
    struct sysctl_hooks h = { 0 };
    CU_ASSERT_PTR_NULL(sysctl_create(&bus, &h, NULL, &lg));
    CU_ASSERT_EQUAL(bus.count, 1);
}

void suite_sysctl(void)
{
    CU_pSuite s = CU_add_suite("sysctl", NULL, NULL);
    CU_add_test(s, "port 0x92 A20 and fast reset", test_port92);
    CU_add_test(s, "POST code, no debugcon", test_post_and_no_debugcon);
    CU_add_test(s, "isa-debug-exit status", test_debug_exit);
    CU_add_test(s, "debugcon into a file chardev", test_debugcon_file);
    CU_add_test(s, "overlapping port refused", test_overlap_refused);
}
