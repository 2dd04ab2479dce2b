/* i8042 keyboard controller, PS/2 keyboard and mouse, driven through
 * ports 0x60/0x64 as a guest driver would. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>

#include "../../vmm/devices/i8042.h"

#define ST_OBF     0x01
#define ST_SYS     0x04
#define ST_A2      0x08
#define ST_UNLOCK  0x10
#define ST_AUX     0x20

struct rig {
    struct iobus bus;
    struct logger lg;
    struct i8042 *k;
    int level[2];           /* IRQ1, IRQ12 */
    int edges[2];
    int resets;
    int a20_calls;
    bool a20;
};

static void irq_cb(void *opaque, int n, int level)
{
    struct rig *r = opaque;
    if (level && !r->level[n])
        r->edges[n]++;
    r->level[n] = level;
}

static void reset_cb(void *opaque)
{
    ((struct rig *)opaque)->resets++;
}

static void a20_cb(void *opaque, bool on)
{
    struct rig *r = opaque;
    r->a20 = on;
    r->a20_calls++;
}

static void rig_init(struct rig *r)
{
    memset(r, 0, sizeof(*r));
    r->lg.level = LOG_ERROR;    /* the hostile tests provoke warnings */
    r->lg.fd = 2;
    iobus_init(&r->bus, "pio", &r->lg);
    struct i8042_hooks h = { reset_cb, a20_cb, r };
    struct irq i1 = { irq_cb, r, 0 }, i12 = { irq_cb, r, 1 };
    r->k = i8042_create(&r->bus, i1, i12, &h, &r->lg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r->k);
}

static void rig_fini(struct rig *r)
{
    i8042_destroy(r->k);
    CU_ASSERT_PTR_NULL(iobus_find(&r->bus, 0x60));
    CU_ASSERT_PTR_NULL(iobus_find(&r->bus, 0x64));
}

static uint8_t status(struct rig *r) { return (uint8_t)iobus_read(&r->bus, 0x64, 1); }
static uint8_t data(struct rig *r) { return (uint8_t)iobus_read(&r->bus, 0x60, 1); }
static void cmd(struct rig *r, uint8_t v) { iobus_write(&r->bus, 0x64, 1, v); }
static void put(struct rig *r, uint8_t v) { iobus_write(&r->bus, 0x60, 1, v); }

static void cmd_data(struct rig *r, uint8_t c, uint8_t v)
{
    cmd(r, c);
    put(r, v);
}

/* Reads everything available (bounded) into out; returns the count.  If
 * aux_mask is given, records which bytes came with AUX_OBF. */
static unsigned drain(struct rig *r, uint8_t *out, unsigned max, uint8_t *aux_flags)
{
    unsigned n = 0;
    for (unsigned i = 0; i < 4096 && (status(r) & ST_OBF); i++) {
        uint8_t st = status(r);
        uint8_t v = data(r);
        if (n < max) {
            out[n] = v;
            if (aux_flags)
                aux_flags[n] = (st & ST_AUX) ? 1 : 0;
        }
        n++;
    }
    return n;
}

/* Drains the output and compares; on a mismatch prints both sequences
 * with the caller's line, since CUnit only shows this helper's line. */
static void expect(struct rig *r, const uint8_t *want, unsigned n, int line)
{
    uint8_t got[64];
    unsigned m = drain(r, got, sizeof(got), NULL);
    bool ok = m == n && memcmp(got, want, n) == 0;
    CU_ASSERT(ok);
    if (!ok) {
        fprintf(stderr, "\n  line %d: got", line);
        for (unsigned i = 0; i < m && i < sizeof(got); i++)
            fprintf(stderr, " %02x", got[i]);
        fprintf(stderr, ", want");
        for (unsigned i = 0; i < n; i++)
            fprintf(stderr, " %02x", want[i]);
        fprintf(stderr, "\n");
    }
}

#define EXPECT(r, ...) do { \
        const uint8_t want_[] = { __VA_ARGS__ }; \
        expect((r), want_, sizeof(want_), __LINE__); \
    } while (0)

static uint8_t read_cb(struct rig *r)
{
    cmd(r, 0x20);
    CU_ASSERT(status(r) & ST_OBF);
    return data(r);
}

static void test_self_tests_and_status(void)
{
    struct rig r;
    rig_init(&r);
    uint8_t st = status(&r);
    CU_ASSERT_EQUAL(st & (ST_OBF | 0x02 | ST_AUX | 0xC0), 0);   /* empty, IBF 0, no errors */
    CU_ASSERT(st & ST_UNLOCK);
    cmd(&r, 0xAA);
    st = status(&r);
    CU_ASSERT(st & ST_OBF);
    CU_ASSERT(st & ST_SYS);
    CU_ASSERT(st & ST_A2);
    CU_ASSERT_FALSE(st & ST_AUX);
    CU_ASSERT_EQUAL(data(&r), 0x55);
    CU_ASSERT_FALSE(status(&r) & ST_OBF);
    /* An empty buffer reads the stale byte, without side effects. */
    CU_ASSERT_EQUAL(data(&r), 0x55);
    cmd(&r, 0xAB);
    EXPECT(&r, 0x00);
    cmd(&r, 0xA9);
    EXPECT(&r, 0x00);
    cmd(&r, 0xA4);
    EXPECT(&r, 0xF1);
    /* A2 follows the last port written. */
    put(&r, 0xEE);
    CU_ASSERT_FALSE(status(&r) & ST_A2);
    EXPECT(&r, 0xEE);
    rig_fini(&r);
}

static void test_command_byte_and_ram(void)
{
    struct rig r;
    rig_init(&r);
    cmd_data(&r, 0x60, 0x65);
    CU_ASSERT_EQUAL(read_cb(&r), 0x65);
    CU_ASSERT(status(&r) & ST_SYS);
    cmd_data(&r, 0x60, 0x43);
    CU_ASSERT_FALSE(status(&r) & ST_SYS);
    /* The self test leaves the command byte alone. */
    cmd(&r, 0xAA);
    EXPECT(&r, 0x55);
    CU_ASSERT_EQUAL(read_cb(&r), 0x43);
    /* AD/AE and A7/A8 flip bits 4 and 5. */
    cmd(&r, 0xAD);
    cmd(&r, 0xA7);
    CU_ASSERT_EQUAL(read_cb(&r), 0x43 | 0x30);
    cmd(&r, 0xAE);
    CU_ASSERT_EQUAL(read_cb(&r), 0x43 | 0x20);
    cmd(&r, 0xE0);              /* keyboard clock high, aux clock held low */
    EXPECT(&r, 0x01);
    cmd(&r, 0xA8);
    CU_ASSERT_EQUAL(read_cb(&r), 0x43);
    /* The other 31 RAM bytes, including the last one. */
    cmd_data(&r, 0x7F, 0x5A);
    cmd_data(&r, 0x61, 0xA5);
    cmd(&r, 0x3F);
    EXPECT(&r, 0x5A);
    cmd(&r, 0x21);
    EXPECT(&r, 0xA5);
    CU_ASSERT_EQUAL(read_cb(&r), 0x43);
    /* A new command cancels one that was waiting for its data byte: the
     * next data byte goes to the keyboard (echo) instead of RAM. */
    cmd(&r, 0x60);
    cmd(&r, 0xAB);
    EXPECT(&r, 0x00);
    put(&r, 0xEE);
    EXPECT(&r, 0xEE);
    CU_ASSERT_EQUAL(read_cb(&r), 0x43);
    /* Unknown controller commands are ignored. */
    cmd(&r, 0x01);
    cmd(&r, 0xB5);
    CU_ASSERT_FALSE(status(&r) & ST_OBF);
    CU_ASSERT_EQUAL(read_cb(&r), 0x43);
    rig_fini(&r);
}

static void test_translation(void)
{
    struct rig r;
    rig_init(&r);
    /* A make, a break, an extended make and break (left arrow), F7 make. */
    const uint8_t seq[] = { 0x1C, 0xF0, 0x1C, 0xE0, 0x6B, 0xE0, 0xF0, 0x6B, 0x83, 0xF0, 0x83 };
    cmd_data(&r, 0x60, 0x40 | 0x01);
    i8042_keyboard_bytes(r.k, seq, sizeof(seq));
    EXPECT(&r, 0x1E, 0x9E, 0xE0, 0x4B, 0xE0, 0xCB, 0x41, 0xC1);
    /* Without XLATE the set-2 bytes come through untouched. */
    cmd_data(&r, 0x60, 0x01);
    i8042_keyboard_bytes(r.k, seq, 3);
    EXPECT(&r, 0x1C, 0xF0, 0x1C);
    /* A break prefix arriving alone waits for its code. */
    cmd_data(&r, 0x60, 0x41);
    i8042_keyboard_bytes(r.k, seq + 1, 1);
    CU_ASSERT_FALSE(status(&r) & ST_OBF);
    i8042_keyboard_bytes(r.k, (const uint8_t[]){ 0x76 }, 1);   /* Esc */
    EXPECT(&r, 0x81);
    /* More table spot checks: Enter, space, keypad *, F11, F12. */
    i8042_keyboard_bytes(r.k, (const uint8_t[]){ 0x5A, 0x29, 0x7C, 0x78, 0x07 }, 5);
    EXPECT(&r, 0x1C, 0x39, 0x37, 0x57, 0x58);
    rig_fini(&r);
}

static void test_keyboard_commands(void)
{
    struct rig r;
    rig_init(&r);
    cmd_data(&r, 0x60, 0x00);   /* no XLATE, no IRQs */
    put(&r, 0xFF);
    EXPECT(&r, 0xFA, 0xAA);
    put(&r, 0xF2);
    EXPECT(&r, 0xFA, 0xAB, 0x83);
    /* Under translation the ID reads AB 41, as on real PCs. */
    cmd_data(&r, 0x60, 0x40);
    put(&r, 0xF2);
    EXPECT(&r, 0xFA, 0xAB, 0x41);
    cmd_data(&r, 0x60, 0x00);
    /* Scan code set get/set. */
    put(&r, 0xF0);
    EXPECT(&r, 0xFA);
    put(&r, 0x00);
    EXPECT(&r, 0xFA, 0x02);
    put(&r, 0xF0);
    put(&r, 0x07);              /* no such set */
    EXPECT(&r, 0xFA, 0xFE);
    /* LEDs and typematic take a parameter. */
    put(&r, 0xED);
    put(&r, 0x07);
    EXPECT(&r, 0xFA, 0xFA);
    put(&r, 0xF3);
    put(&r, 0x20);
    EXPECT(&r, 0xFA, 0xFA);
    /* A command byte instead of the parameter runs as a command. */
    put(&r, 0xED);
    put(&r, 0xEE);
    EXPECT(&r, 0xFA, 0xEE);
    put(&r, 0xEE);
    EXPECT(&r, 0xEE);
    put(&r, 0xFE);              /* resend the last byte */
    EXPECT(&r, 0xEE);
    put(&r, 0x12);              /* not a command */
    put(&r, 0xEF);
    EXPECT(&r, 0xFE, 0xFE);
    /* F5 stops scanning (host keys are dropped), F4 resumes. */
    put(&r, 0xF5);
    EXPECT(&r, 0xFA);
    i8042_keyboard_bytes(r.k, (const uint8_t[]){ 0x1C }, 1);
    CU_ASSERT_FALSE(status(&r) & ST_OBF);
    put(&r, 0xF4);
    EXPECT(&r, 0xFA);
    i8042_keyboard_bytes(r.k, (const uint8_t[]){ 0x1C }, 1);
    EXPECT(&r, 0x1C);
    /* A reply goes out ahead of scan codes still buffered behind an
     * inhibited interface, which then follow once it is enabled. */
    cmd(&r, 0xAD);
    i8042_keyboard_bytes(r.k, (const uint8_t[]){ 0x1C, 0xF0, 0x1C }, 3);
    CU_ASSERT_FALSE(status(&r) & ST_OBF);
    cmd(&r, 0xAE);
    put(&r, 0xEE);
    EXPECT(&r, 0x1C, 0xEE, 0xF0, 0x1C);
    /* Keyboard in set 1 itself (no controller translation). */
    put(&r, 0xF0);
    put(&r, 0x01);
    EXPECT(&r, 0xFA, 0xFA);
    i8042_keyboard_bytes(r.k, (const uint8_t[]){ 0x1C, 0xF0, 0x1C }, 3);
    EXPECT(&r, 0x1E, 0x9E);
    put(&r, 0xFF);              /* reset returns to set 2 */
    EXPECT(&r, 0xFA, 0xAA);
    put(&r, 0xF0);
    put(&r, 0x00);
    EXPECT(&r, 0xFA, 0xFA, 0x02);
    rig_fini(&r);
}

static void test_output_port_a20_reset(void)
{
    struct rig r;
    rig_init(&r);
    cmd(&r, 0xD0);
    uint8_t op = data(&r);
    CU_ASSERT(op & 0x01);       /* not in reset */
    CU_ASSERT(op & 0x02);       /* A20 on at power-up */
    cmd_data(&r, 0xD1, 0xDD);   /* A20 off */
    CU_ASSERT_EQUAL(r.a20_calls, 1);
    CU_ASSERT_FALSE(r.a20);
    CU_ASSERT_EQUAL(r.resets, 0);
    cmd(&r, 0xD0);
    CU_ASSERT_EQUAL(data(&r) & 0x03, 0x01);
    cmd_data(&r, 0xD1, 0xDF);
    CU_ASSERT(r.a20);
    CU_ASSERT_EQUAL(r.resets, 0);
    cmd(&r, 0xDD);
    CU_ASSERT_FALSE(r.a20);
    cmd(&r, 0xDF);
    CU_ASSERT(r.a20);
    CU_ASSERT_EQUAL(r.a20_calls, 4);
    cmd_data(&r, 0xD1, 0xDE);   /* bit 0 low: system reset */
    CU_ASSERT_EQUAL(r.resets, 1);
    /* D0 shows OBF (bit 4) while a keyboard byte waits. */
    i8042_reset(r.k);
    i8042_keyboard_bytes(r.k, (const uint8_t[]){ 0x1C }, 1);
    cmd(&r, 0xD0);
    uint8_t got[4];
    CU_ASSERT_EQUAL(drain(&r, got, 4, NULL), 2);
    CU_ASSERT_EQUAL(got[0], 0x1C);
    CU_ASSERT_EQUAL(got[1] & 0x30, 0x10);
    rig_fini(&r);
}

static void test_pulse_reset(void)
{
    struct rig r;
    rig_init(&r);
    cmd(&r, 0xFF);              /* pulses nothing */
    cmd(&r, 0xF1);              /* bit 0 stays high */
    CU_ASSERT_EQUAL(r.resets, 0);
    cmd(&r, 0xFE);
    CU_ASSERT_EQUAL(r.resets, 1);
    cmd(&r, 0xF0);              /* all four lines, including reset */
    CU_ASSERT_EQUAL(r.resets, 2);
    CU_ASSERT_EQUAL(r.a20_calls, 0);
    rig_fini(&r);
}

static void test_irq1(void)
{
    struct rig r;
    rig_init(&r);
    cmd_data(&r, 0x60, 0x00);   /* interrupts off */
    i8042_keyboard_bytes(r.k, (const uint8_t[]){ 0x1C, 0x32 }, 2);
    CU_ASSERT(status(&r) & ST_OBF);
    CU_ASSERT_EQUAL(r.level[0], 0);
    /* Enabling the interrupt with a byte waiting raises IRQ1 at once. */
    cmd_data(&r, 0x60, 0x01);
    CU_ASSERT_EQUAL(r.level[0], 1);
    CU_ASSERT_EQUAL(r.level[1], 0);
    CU_ASSERT_EQUAL(data(&r), 0x1C);
    /* The next byte is a new edge. */
    CU_ASSERT_EQUAL(r.level[0], 1);
    CU_ASSERT_EQUAL(r.edges[0], 2);
    CU_ASSERT_EQUAL(data(&r), 0x32);
    CU_ASSERT_EQUAL(r.level[0], 0);
    CU_ASSERT_FALSE(status(&r) & ST_OBF);
    /* Controller replies come through IRQ1 too. */
    cmd(&r, 0xAA);
    CU_ASSERT_EQUAL(r.level[0], 1);
    CU_ASSERT_EQUAL(data(&r), 0x55);
    CU_ASSERT_EQUAL(r.level[0], 0);
    CU_ASSERT_EQUAL(r.edges[1], 0);
    /* Disabling the interrupt drops the line while the byte stays. */
    put(&r, 0xEE);
    CU_ASSERT_EQUAL(r.level[0], 1);
    cmd_data(&r, 0x60, 0x00);
    /* the 0x60 command itself does not disturb the waiting byte */
    CU_ASSERT_EQUAL(r.level[0], 0);
    CU_ASSERT(status(&r) & ST_OBF);
    CU_ASSERT_EQUAL(data(&r), 0xEE);
    /* i8042_reset empties everything and lowers the lines. */
    cmd_data(&r, 0x60, 0x01);
    i8042_keyboard_bytes(r.k, (const uint8_t[]){ 0x1C }, 1);
    CU_ASSERT_EQUAL(r.level[0], 1);
    i8042_reset(r.k);
    CU_ASSERT_EQUAL(r.level[0], 0);
    CU_ASSERT_FALSE(status(&r) & ST_OBF);
    rig_fini(&r);
}

static void aux(struct rig *r, uint8_t v)
{
    cmd_data(r, 0xD4, v);
}

static void test_mouse_identify(void)
{
    struct rig r;
    rig_init(&r);
    cmd_data(&r, 0x60, 0x03);
    aux(&r, 0xFF);
    uint8_t got[16], flags[16];
    CU_ASSERT_EQUAL(drain(&r, got, 16, flags), 3);
    CU_ASSERT_EQUAL(memcmp(got, "\xFA\xAA\x00", 3), 0);
    CU_ASSERT(flags[0] && flags[1] && flags[2]);
    aux(&r, 0xF2);
    EXPECT(&r, 0xFA, 0x00);
    /* The IntelliMouse knock: rates 200, 100, 80. */
    aux(&r, 0xF3); aux(&r, 200);
    aux(&r, 0xF3); aux(&r, 100);
    EXPECT(&r, 0xFA, 0xFA, 0xFA, 0xFA);
    aux(&r, 0xF2);
    EXPECT(&r, 0xFA, 0x00);     /* not yet */
    aux(&r, 0xF3); aux(&r, 200);
    aux(&r, 0xF3); aux(&r, 100);
    aux(&r, 0xF3); aux(&r, 80);
    aux(&r, 0xF2);
    EXPECT(&r, 0xFA, 0xFA, 0xFA, 0xFA, 0xFA, 0xFA, 0xFA, 0x03);
    /* Status request: stream, disabled, 1:1, resolution 2, rate 80. */
    aux(&r, 0xE9);
    EXPECT(&r, 0xFA, 0x00, 0x02, 80);
    aux(&r, 0xE7);
    aux(&r, 0xE8); aux(&r, 3);
    aux(&r, 0xF0);              /* remote */
    aux(&r, 0xE9);
    EXPECT(&r, 0xFA, 0xFA, 0xFA, 0xFA, 0xFA, 0x50, 0x03, 80);
    /* Hostile parameters are refused. */
    aux(&r, 0xF3); aux(&r, 7);
    aux(&r, 0xE8); aux(&r, 0x99);
    aux(&r, 0x12);
    EXPECT(&r, 0xFA, 0xFE, 0xFA, 0xFE, 0xFE);
    /* Wrap mode echoes until EC. */
    aux(&r, 0xEE);
    aux(&r, 0x42);
    aux(&r, 0xF2);
    aux(&r, 0xEC);
    aux(&r, 0xF2);
    EXPECT(&r, 0xFA, 0x42, 0xF2, 0xFA, 0xFA, 0x03);
    /* Reset forgets the wheel. */
    aux(&r, 0xFF);
    aux(&r, 0xF2);
    EXPECT(&r, 0xFA, 0xAA, 0x00, 0xFA, 0x00);
    rig_fini(&r);
}

static void test_mouse_packets(void)
{
    struct rig r;
    rig_init(&r);
    cmd_data(&r, 0x60, 0x03);
    /* Nothing is reported before F4. */
    i8042_mouse_event(r.k, 5, 3, 0, 1);
    CU_ASSERT_FALSE(status(&r) & ST_OBF);
    aux(&r, 0xF4);
    EXPECT(&r, 0xFA);
    /* Right 5, down 3 (PS/2: -3), left button. */
    i8042_mouse_event(r.k, 5, 3, 0, 1);
    EXPECT(&r, 0x08 | 0x01 | 0x20, 0x05, 0xFD);
    /* Up 2, left 1, right + middle buttons. */
    i8042_mouse_event(r.k, -1, -2, 0, 6);
    EXPECT(&r, 0x08 | 0x06 | 0x10, 0xFF, 0x02);
    /* A button release alone is a packet; no change is not. */
    i8042_mouse_event(r.k, 0, 0, 0, 0);
    EXPECT(&r, 0x08, 0x00, 0x00);
    i8042_mouse_event(r.k, 0, 0, 0, 0);
    CU_ASSERT_FALSE(status(&r) & ST_OBF);
    /* Out of the 9-bit range: clamped, overflow bits set. */
    i8042_mouse_event(r.k, 1000, -1000, 0, 0);
    EXPECT(&r, 0x08 | 0x40 | 0x80, 0xFF, 0xFF);
    i8042_mouse_event(r.k, -1000, 1000, 0, 0);
    EXPECT(&r, 0x08 | 0x40 | 0x80 | 0x10 | 0x20, 0x00, 0x00);
    /* Hostile extremes do not overflow anything. */
    i8042_mouse_event(r.k, 0x7fffffff, -0x7fffffff - 1, 0x7fffffff, 0xffffffffu);
    EXPECT(&r, 0x08 | 0x07 | 0x40 | 0x80, 0xFF, 0xFF);
    /* 2:1 scaling: 3 -> 3, 4 -> 6, 10 -> 20. */
    aux(&r, 0xE7);
    EXPECT(&r, 0xFA);
    i8042_mouse_event(r.k, 4, -10, 0, 7);
    EXPECT(&r, 0x0F, 0x06, 0x14);
    aux(&r, 0xE6);
    EXPECT(&r, 0xFA);
    /* With the wheel: four bytes, Z clamped to -8..7. */
    aux(&r, 0xF3); aux(&r, 200);
    aux(&r, 0xF3); aux(&r, 100);
    aux(&r, 0xF3); aux(&r, 80);
    EXPECT(&r, 0xFA, 0xFA, 0xFA, 0xFA, 0xFA, 0xFA);
    i8042_mouse_event(r.k, 0, 0, 1, 7);
    EXPECT(&r, 0x0F, 0x00, 0x00, 0x01);
    i8042_mouse_event(r.k, 0, 0, -100, 7);
    EXPECT(&r, 0x0F, 0x00, 0x00, 0xF8);
    /* Remote mode: motion accumulates until EB. */
    aux(&r, 0xF0);
    EXPECT(&r, 0xFA);
    i8042_mouse_event(r.k, 2, 0, 0, 7);
    i8042_mouse_event(r.k, 3, -4, 0, 7);
    CU_ASSERT_FALSE(status(&r) & ST_OBF);
    aux(&r, 0xEB);
    EXPECT(&r, 0xFA, 0x0F, 0x05, 0x04, 0x00);
    aux(&r, 0xEB);
    EXPECT(&r, 0xFA, 0x0F, 0x00, 0x00, 0x00);
    rig_fini(&r);
}

static void test_aux_irq12(void)
{
    struct rig r;
    rig_init(&r);
    cmd_data(&r, 0x60, 0x03);
    aux(&r, 0xF4);
    CU_ASSERT(status(&r) & ST_AUX);
    CU_ASSERT_EQUAL(r.level[1], 1);
    CU_ASSERT_EQUAL(r.level[0], 0);
    CU_ASSERT_EQUAL(data(&r), 0xFA);
    CU_ASSERT_EQUAL(r.level[1], 0);
    /* IRQ12 disabled: AUX_OBF still shows, no interrupt. */
    cmd_data(&r, 0x60, 0x01);
    i8042_mouse_event(r.k, 1, 0, 0, 0);
    CU_ASSERT_EQUAL(status(&r) & (ST_OBF | ST_AUX), ST_OBF | ST_AUX);
    CU_ASSERT_EQUAL(r.level[1], 0);
    CU_ASSERT_EQUAL(r.level[0], 0);
    EXPECT(&r, 0x08, 0x01, 0x00);
    /* D3 loopback arrives as aux data even with the aux port disabled. */
    cmd_data(&r, 0x60, 0x03 | 0x20);
    cmd_data(&r, 0xD3, 0x5A);
    CU_ASSERT_EQUAL(status(&r) & (ST_OBF | ST_AUX), ST_OBF | ST_AUX);
    CU_ASSERT_EQUAL(r.level[1], 1);
    CU_ASSERT_EQUAL(data(&r), 0x5A);
    CU_ASSERT_EQUAL(r.level[1], 0);
    /* ...whereas the mouse's own bytes wait until A8. */
    i8042_mouse_event(r.k, 1, 0, 0, 0);
    CU_ASSERT_FALSE(status(&r) & ST_OBF);
    cmd(&r, 0xA8);
    CU_ASSERT_EQUAL(r.level[1], 1);
    EXPECT(&r, 0x08, 0x01, 0x00);
    /* D2 comes back as keyboard data on IRQ1, untranslated. */
    cmd_data(&r, 0x60, 0x43);
    cmd_data(&r, 0xD2, 0x1C);
    CU_ASSERT_EQUAL(status(&r) & (ST_OBF | ST_AUX), ST_OBF);
    CU_ASSERT_EQUAL(r.level[0], 1);
    CU_ASSERT_EQUAL(data(&r), 0x1C);
    /* Keyboard and mouse bytes interleave, each flagged correctly. */
    i8042_keyboard_bytes(r.k, (const uint8_t[]){ 0x1C, 0x32 }, 2);
    i8042_mouse_event(r.k, 1, 0, 0, 0);
    uint8_t got[8], fl[8];
    CU_ASSERT_EQUAL(drain(&r, got, 8, fl), 5);
    static const uint8_t want_ms[3] = { 0x08, 0x01, 0x00 }, want_kb[2] = { 0x1E, 0x30 };
    unsigned kb = 0, ms = 0;
    for (int i = 0; i < 5; i++) {
        if (fl[i] && ms < 3) {
            CU_ASSERT_EQUAL(got[i], want_ms[ms]);
            ms++;
        } else if (!fl[i] && kb < 2) {
            CU_ASSERT_EQUAL(got[i], want_kb[kb]);
            kb++;
        }
    }
    CU_ASSERT_EQUAL(kb, 2);
    CU_ASSERT_EQUAL(ms, 3);
    rig_fini(&r);
}

static void test_queue_overflow(void)
{
    struct rig r;
    rig_init(&r);
    cmd_data(&r, 0x60, 0x41);
    uint8_t flood[1000];
    for (unsigned i = 0; i < sizeof(flood); i++)
        flood[i] = 0x1C;
    i8042_keyboard_bytes(r.k, flood, sizeof(flood));
    uint8_t got[64];
    unsigned n = drain(&r, got, sizeof(got), NULL);
    CU_ASSERT(n >= 16 && n <= 64);
    /* The last byte is the overrun code (00, 0xFF once translated). */
    if (n >= 2 && n <= 64) {
        CU_ASSERT_EQUAL(got[n - 1], 0xFF);
        CU_ASSERT_EQUAL(got[0], 0x1E);
        CU_ASSERT_EQUAL(got[n - 2], 0x1E);
    }
    /* Afterwards the keyboard works normally. */
    i8042_keyboard_bytes(r.k, (const uint8_t[]){ 0x32 }, 1);
    EXPECT(&r, 0x30);
    /* A mouse flood while the guest never reads: bounded, and the motion
     * that did not fit is reported once there is room. */
    aux(&r, 0xF4);
    EXPECT(&r, 0xFA);
    for (int i = 0; i < 1000; i++)
        i8042_mouse_event(r.k, 1, 0, 0, 0);
    uint8_t m[256];
    n = drain(&r, m, sizeof(m), NULL);
    CU_ASSERT(n % 3 == 0 && n >= 6 && n <= 64);
    int total = 0;
    for (unsigned i = 0; i + 2 < n && i + 2 < sizeof(m); i += 3) {
        CU_ASSERT(m[i] & 0x08);
        total += m[i + 1] - ((m[i] & 0x10) ? 256 : 0);
    }
    CU_ASSERT(total <= 1000);
    /* Controller replies nobody reads are bounded too. */
    for (int i = 0; i < 100; i++)
        cmd(&r, 0xAA);
    n = drain(&r, got, sizeof(got), NULL);
    CU_ASSERT(n >= 1 && n <= 16);
    for (int i = 0; i < 100; i++)
        aux(&r, 0xF2);
    n = drain(&r, got, sizeof(got), NULL);
    CU_ASSERT(n >= 2 && n <= 16);
    rig_fini(&r);
}

void suite_i8042(void)
{
    CU_pSuite s = CU_add_suite("i8042", NULL, NULL);
    CU_add_test(s, "self tests, status bits, A2", test_self_tests_and_status);
    CU_add_test(s, "command byte and RAM", test_command_byte_and_ram);
    CU_add_test(s, "set 2 -> set 1 translation", test_translation);
    CU_add_test(s, "keyboard commands", test_keyboard_commands);
    CU_add_test(s, "output port: A20 and reset hooks", test_output_port_a20_reset);
    CU_add_test(s, "0xFx pulse resets", test_pulse_reset);
    CU_add_test(s, "IRQ1 follows OBF and the command byte", test_irq1);
    CU_add_test(s, "mouse reset, identify, IntelliMouse", test_mouse_identify);
    CU_add_test(s, "mouse packets", test_mouse_packets);
    CU_add_test(s, "aux data via IRQ12 with AUX_OBF", test_aux_irq12);
    CU_add_test(s, "queue overflow is bounded", test_queue_overflow);
}
